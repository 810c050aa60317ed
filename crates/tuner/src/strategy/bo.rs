//! `bo`: Bayesian optimization. A Sobol initial design, then at each trial the study's model
//! ([`crate::bo::fit_surrogate`]) and the acquisition function maximized over the space.

use std::sync::Arc;

use nasbo_acq::{propose, AcqKind, Domain, Incumbent, ProposalRequest};
use serde::{Deserialize, Serialize};

use super::{fresh_random, sobol_assignment, Context, Proposal, Strategy};
use crate::bo::encode::Encoder;
use crate::bo::{fit_data, BoConfig, FitOptions, Target, TrainingData};
use crate::space::{Assignment, Space};
use crate::trial::Source;
use crate::TunerError;

/// Bayesian optimization.
///
/// Failed trials stay in the record and steer the model away from their region: each is added
/// to the model's data with the worst value observed among complete trials, so the posterior
/// mean is low there and LogEI avoids the region (without letting a failure set the scale).
/// Pending trials enter as fantasies (Kriging believer by default).
///
/// Each fit starts its hyperparameter search from the previous fit's, which is kept with the
/// trial it proposed ([`crate::Trial::strategy_state`]): the proposal is a function of the
/// stored trials, and a study resumed from its storage proposes what the uninterrupted study
/// would have.
pub struct Bo {
    config: BoConfig,
    encoder: Arc<Encoder>,
}

/// What `bo` keeps with a trial it proposed from its model.
#[derive(Serialize, Deserialize)]
struct BoState {
    /// The fitted GP's log-parameters.
    gp: Vec<f64>,
}

/// The most recent state of type `T` kept with a trial ([`crate::Trial::strategy_state`]).
pub(super) fn latest_state<T: serde::de::DeserializeOwned>(ctx: &Context<'_>) -> Option<T> {
    ctx.trials
        .iter()
        .rev()
        .filter_map(|t| t.strategy_state.as_deref())
        .find_map(|s| serde_json::from_str::<T>(s).ok())
}

/// The acquisition optimizer's settings for trial `ctx.number`: seeded by the study and the
/// trial; duplicates allowed for a noisy objective.
pub(super) fn optimizer_for(config: &BoConfig, ctx: &Context<'_>) -> nasbo_acq::OptimizerConfig {
    let mut optimizer = config.optimizer.clone();
    optimizer.seed = optimizer.seed ^ ctx.seed ^ (ctx.number as u64).wrapping_mul(0x9E37_79B9);
    if config.noisy {
        optimizer.duplicates = nasbo_acq::Duplicates::Allow;
    }
    optimizer
}

/// The point that maximizes the acquisition function `kind` of one fitted model (its data's
/// pending points as fantasies, its evaluated points excluded).
pub(super) fn propose_one(
    kind: AcqKind,
    config: &BoConfig,
    enc: &Encoder,
    fitted: &crate::bo::StudyModel,
    ctx: &Context<'_>,
) -> Result<Vec<f64>, TunerError> {
    let model = fitted.surrogate();
    let domain: Domain = enc.domain()?;
    let optimizer = optimizer_for(config, ctx);
    let canon = |v: &mut [f64]| enc.impute(v);
    let req = ProposalRequest {
        kind,
        incumbent: if config.noisy {
            Incumbent::BestPosteriorMean
        } else {
            Incumbent::BestObserved
        },
        domain: &domain,
        config: &optimizer,
        q: 1,
        pending: &fitted.data().pending,
        evaluated: &fitted.data().xs,
        fantasy: config.fantasy,
        canonicalize: if enc.has_conditions() {
            Some(&canon)
        } else {
            None
        },
    };
    Ok(propose(&model, &req)?.remove(0).x)
}

impl Bo {
    /// The strategy for a space.
    pub fn new(space: &Space, config: BoConfig) -> Self {
        Bo {
            config,
            encoder: Arc::new(Encoder::new(space)),
        }
    }

    /// The initial design's size unless configured: `max(5, d + 1)` Sobol points for `d`
    /// parameters, and with a known budget `max(5, d + 1, min(2c, budget / 5))` for `c`
    /// continuous ones. On a continuous space with a budget of at least `10d` that is Ax's
    /// `max(5, 2d)`; a discrete space keeps `max(5, d + 1)` (`docs/benchmarks.md` §3, fourth
    /// round: twice as many points on continuous spaces improved the Levy, Ackley and Schwefel
    /// problems in 5–10 dimensions, while on the discrete tables of §4, and with a budget of
    /// 20 trials on §8's learning curves, the larger design only cost trials).
    fn n_initial(&self) -> usize {
        self.config.n_initial.unwrap_or_else(|| {
            let base = (self.encoder.dim() + 1).max(5);
            match self.config.budget {
                Some(b) => base.max((2 * self.encoder.n_continuous()).min(b / 5)),
                None => base,
            }
        })
    }

    /// The model's proposal, the state to keep with it, and (never, for one objective) why the
    /// proposal is not the configured rule's.
    fn model_step(&self, ctx: &Context<'_>) -> Result<Step, TunerError> {
        let enc = self.encoder.clone();
        let data = TrainingData::from_trials(
            &enc,
            ctx.trials,
            &Target::objective(ctx.direction),
            self.config.pruned,
        );
        let cold = self.config.cold_fit(ctx.number);
        let options = FitOptions {
            seed: ctx.seed ^ ctx.number as u64,
            warm_start: latest_state::<BoState>(ctx).map(|s| s.gp).filter(|_| !cold),
            local_starts: if cold {
                self.config.cold_fit_starts
            } else {
                None
            },
        };
        let fitted = fit_data(enc.clone(), data, ctx.direction, &self.config, &options)?;
        // No greedy step once trials were pruned: their values in the model are estimates of
        // where their curves would have ended, and the posterior mean rests on them (measured
        // on the learning-curve problems, docs/benchmarks.md §8, greedy steps made
        // shifted-Ackley-cross with ASHA significantly worse).
        let greedy = self.config.exploits(ctx.number)
            && !ctx
                .trials
                .iter()
                .any(|t| t.state == crate::trial::TrialState::Pruned);
        let kind = if greedy {
            // The greedy step: the posterior mean (UCB without its variance term).
            AcqKind::Ucb { beta: 0.0 }
        } else {
            self.config.acquisition
        };
        let x = propose_one(kind, &self.config, &enc, &fitted, ctx)?;
        let a = enc.decode(&x);
        let state = BoState {
            gp: fitted.warm_start_params(),
        };
        Ok((a, serde_json::to_string(&state).unwrap_or_default(), None))
    }
}

/// A model step's proposal, its state, and why it is not the configured rule's (if so).
type Step = (Assignment, String, Option<String>);

impl Strategy for Bo {
    fn name(&self) -> &'static str {
        "bo"
    }
    fn suggest(&mut self, ctx: &Context<'_>) -> Result<Proposal, TunerError> {
        let n_complete = ctx.complete().len();
        if ctx.number < self.n_initial() || n_complete < 2 {
            let a = sobol_assignment(ctx.space, ctx.number, ctx.seed);
            let params = if ctx.seen(&a) {
                fresh_random(ctx, &mut ctx.rng(3))
            } else {
                a
            };
            return Ok(Proposal {
                params,
                source: Source::Initial,
                state: None,
            });
        }
        let step = if ctx.directions.len() > 1 {
            super::mobo::step(&self.config, &self.encoder, ctx)
        } else {
            self.model_step(ctx)
        };
        let (reason, state) = match step {
            Ok((a, state, note)) if !ctx.seen(&a) || self.config.noisy => {
                return Ok(Proposal {
                    params: a,
                    source: match note {
                        Some(reason) => Source::Fallback { reason },
                        None => Source::Model,
                    },
                    state: Some(state),
                })
            }
            Ok((_, state, _)) => (
                "the acquisition's best point was already evaluated; a random point instead"
                    .to_string(),
                Some(state),
            ),
            Err(e) => (format!("{e}; a random point instead"), None),
        };
        // Rather than stopping the study, a random point, with the reason recorded.
        Ok(Proposal {
            params: fresh_random(ctx, &mut ctx.rng(4)),
            source: Source::Fallback { reason },
            state,
        })
    }
}
