//! `random` (uniform on each parameter's scale) and `sobol` (a scrambled Sobol sequence).

use super::{random_assignment, sobol_assignment, Context, Proposal, Strategy};
use crate::TunerError;

/// Uniform random search.
pub(crate) struct RandomSearch;

impl Strategy for RandomSearch {
    fn name(&self) -> &'static str {
        "random"
    }
    fn suggest(&mut self, ctx: &Context<'_>) -> Result<Proposal, TunerError> {
        Ok(Proposal::model(random_assignment(
            ctx.space,
            &mut ctx.rng(1),
        )))
    }
}

/// Point `number` of the study's Sobol sequence.
pub(crate) struct SobolSearch;

impl Strategy for SobolSearch {
    fn name(&self) -> &'static str {
        "sobol"
    }
    fn suggest(&mut self, ctx: &Context<'_>) -> Result<Proposal, TunerError> {
        Ok(Proposal::model(sobol_assignment(
            ctx.space, ctx.number, ctx.seed,
        )))
    }
}
