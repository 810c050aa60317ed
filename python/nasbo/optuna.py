"""``NasboSampler``: nasbo's ``bo`` as an Optuna sampler.

::

    import optuna
    from nasbo.optuna import NasboSampler

    study = optuna.create_study(sampler=NasboSampler(seed=0))
    study.optimize(objective, n_trials=50)

It samples the parameters every finished trial shares (Optuna's intersection search space)
jointly with nasbo's model: a Sobol initial design, then a GP with LogEI for one objective
and EHVI for several (the proposals of ``nasbo tune`` on the same trials). Trials that are
still running are accounted for as pending; pruned trials enter as ``bo`` takes them (their
last reported value). Parameters outside that space (the first trial's, those of a
define-by-run branch) come from an independent sampler, Optuna's ``RandomSampler`` unless
another is given. Optuna's pruners, storages and dashboard work as with any sampler.
Constraints (``trial.set_constraint``) are not modelled.
"""

import json
import logging
import math
import os

import optuna
from optuna.distributions import (
    CategoricalDistribution, FloatDistribution, IntDistribution,
)
from optuna.samplers import BaseSampler, RandomSampler
from optuna.search_space import IntersectionSearchSpace
from optuna.trial import TrialState

from . import _nasbo
from ._space import _scalar

_logger = logging.getLogger("nasbo.optuna")
_PARAMS_KEY = "nasbo:relative_params"
_STATE_KEY = "nasbo:state"


class _Codec:
    """Optuna's distributions as a nasbo space (parameters named ``p0``, ``p1``, ... so any
    Optuna name works), and values both ways."""

    def __init__(self, search_space):
        self.names = sorted(search_space)
        self.dists = [search_space[n] for n in self.names]
        parts = []
        for i, d in enumerate(self.dists):
            head = f'[[param]]\nname = "p{i}"\n'
            if isinstance(d, FloatDistribution) and d.step is None:
                body = (f'type = "float"\nlow = {float(d.low)!r}\nhigh = {float(d.high)!r}\n'
                        f"log = {'true' if d.log else 'false'}\n")
            elif isinstance(d, FloatDistribution):
                n = int(math.floor((d.high - d.low) / d.step + 1e-9))
                body = f'type = "int"\nlow = 0\nhigh = {n}\n'
            elif isinstance(d, IntDistribution):
                body = (f'type = "int"\nlow = {d.low}\nhigh = {d.high}\nstep = {d.step}\n'
                        f"log = {'true' if d.log else 'false'}\n")
            elif isinstance(d, CategoricalDistribution):
                choices = ", ".join(_scalar(str(k)) for k in range(len(d.choices)))
                body = f'type = "categorical"\nchoices = [{choices}]\n'
            else:
                raise ValueError(f"parameter `{self.names[i]}`: unsupported distribution {d!r}")
            parts.append(head + body)
        self.toml = "\n".join(parts)

    def encode(self, params):
        """A trial's params as nasbo's, or ``None`` when one is missing or outside the space."""
        out = {}
        for i, (name, d) in enumerate(zip(self.names, self.dists)):
            if name not in params:
                return None
            v = params[name]
            try:
                internal = d.to_internal_repr(v)
            except (ValueError, TypeError):
                return None
            if not d._contains(internal):
                return None
            if isinstance(d, FloatDistribution) and d.step is None:
                out[f"p{i}"] = float(v)
            elif isinstance(d, FloatDistribution):
                out[f"p{i}"] = int(round((float(v) - d.low) / d.step))
            elif isinstance(d, IntDistribution):
                out[f"p{i}"] = int(v)
            else:
                out[f"p{i}"] = str(int(internal))
        return out

    def decode(self, nasbo_params):
        out = {}
        for i, (name, d) in enumerate(zip(self.names, self.dists)):
            v = nasbo_params[f"p{i}"]
            if isinstance(d, FloatDistribution) and d.step is None:
                out[name] = min(max(float(v), d.low), d.high)
            elif isinstance(d, FloatDistribution):
                out[name] = min(d.low + int(v) * d.step, d.high)
            elif isinstance(d, IntDistribution):
                out[name] = int(v)
            else:
                out[name] = d.choices[int(v)]
        return out


def _params(trial):
    """A trial's params, with the relative ones a running trial has not suggested yet."""
    if trial.state.is_finished():
        return trial.params
    stored = trial.system_attrs.get(_PARAMS_KEY)
    if stored is None:
        return trial.params
    p = json.loads(stored)
    p.update(trial.params)
    return p


class NasboSampler(BaseSampler):
    """nasbo's Bayesian optimization (``bo``) for Optuna.

    Args:
        seed: fixes every proposal (``None``: a random seed).
        noisy: the objective is noisy (``nasbo tune --noisy``): the GP learns the noise and
            ranks by its posterior mean.
        independent_sampler: samples what the joint model does not cover (default: Optuna's
            ``RandomSampler`` with the same seed).
        warn_independent_sampling: log a warning when a parameter past the first trial is
            sampled independently.
    """

    def __init__(self, *, seed=None, noisy=False, independent_sampler=None,
                 warn_independent_sampling=True):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise ValueError(f"seed = {seed!r}: a non-negative integer or None")
        self._seed = seed if seed is not None else int.from_bytes(os.urandom(8), "little") >> 1
        self._noisy = bool(noisy)
        self._independent = independent_sampler or RandomSampler(seed=seed)
        self._search_space = IntersectionSearchSpace()
        self._warn = warn_independent_sampling
        self._warned = set()
        self._proposers = {}

    def reseed_rng(self):
        self._seed = int.from_bytes(os.urandom(8), "little") >> 1
        self._proposers.clear()
        self._independent.reseed_rng()

    def infer_relative_search_space(self, study, trial):
        return {
            n: d for n, d in self._search_space.calculate(study).items() if not d.single()
        }

    def _proposer(self, codec, directions):
        key = (codec.toml, tuple(directions))
        p = self._proposers.get(key)
        if p is None:
            p = _nasbo.Proposer(codec.toml, list(directions), self._seed, self._noisy)
            self._proposers = {key: p}  # the space changes rarely: keep the latest only
        return p

    def sample_relative(self, study, trial, search_space):
        if not search_space:
            return {}
        codec = _Codec(search_space)
        directions = [
            "minimize" if d == optuna.study.StudyDirection.MINIMIZE else "maximize"
            for d in study.directions
        ]
        states = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)
        rows, state, state_at = [], None, -1
        for t in study.get_trials(deepcopy=False, states=states):
            kept = t.system_attrs.get(_STATE_KEY)
            if kept is not None and t.number > state_at and t.number != trial.number:
                state, state_at = kept, t.number
            if t.number == trial.number:
                continue
            enc = codec.encode(_params(t))
            if enc is None:
                continue
            if t.state == TrialState.COMPLETE:
                if t.values is None or not all(math.isfinite(v) for v in t.values):
                    continue
                rows.append(("complete", enc, list(t.values)))
            elif t.state == TrialState.PRUNED:
                last = None
                if len(directions) == 1 and t.intermediate_values:
                    last = t.intermediate_values[max(t.intermediate_values)]
                ok = last is not None and math.isfinite(last)
                rows.append(("pruned", enc, [last] if ok else []))
            else:
                rows.append(("running", enc, []))
        proposed, _source, new_state = self._proposer(codec, directions).suggest(
            rows, trial.number, state)
        params = codec.decode(proposed)
        # Other processes see this trial's parameters before it suggests them (pending), and
        # the next proposal starts its fit from this one's hyperparameters.
        storage = study._storage
        storage.set_trial_system_attr(trial._trial_id, _PARAMS_KEY, json.dumps(params))
        if new_state is not None:
            storage.set_trial_system_attr(trial._trial_id, _STATE_KEY, new_state)
        return params

    def sample_independent(self, study, trial, param_name, param_distribution):
        if self._warn and trial.number > 0 and param_name not in self._warned:
            self._warned.add(param_name)
            _logger.warning(
                "trial %d: `%s` is sampled by %s, not by nasbo's model (it is not in every "
                "finished trial with the same distribution)", trial.number, param_name,
                type(self._independent).__name__,
            )
        return self._independent.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study, trial):
        self._independent.before_trial(study, trial)

    def after_trial(self, study, trial, state, values):
        self._independent.after_trial(study, trial, state, values)
