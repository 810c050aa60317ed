"""``Study``: ask/tell, pruning and ``optimize`` on nasbo's storages, from Python."""

import logging
import math
import threading
import time

from . import _nasbo
from ._space import space_toml

_log = logging.getLogger("nasbo")

LeaseLost = _nasbo.LeaseLost


class TrialPruned(Exception):
    """Raise it from an objective to stop the trial (``optimize`` records it as pruned)."""


class MedianPruner:
    """Stops a trial whose latest value is worse than the median of the other trials' at the
    same step (after ``startup_trials`` complete trials, from ``min_step`` on)."""

    kind = "median"

    def __init__(self, max_step, *, min_step=1, startup_trials=5):
        self.max_step, self.min_step, self.startup_trials = max_step, min_step, startup_trials
        self.reduction_factor = 3


class AshaPruner:
    """Asynchronous successive halving: at each rung ``min_step * reduction_factor**k`` only
    the best ``1/reduction_factor`` of the trials go on."""

    kind = "asha"

    def __init__(self, max_step, *, min_step=1, reduction_factor=3):
        self.max_step, self.min_step, self.reduction_factor = max_step, min_step, reduction_factor
        self.startup_trials = 5


class HyperbandPruner(AshaPruner):
    """Hyperband: several ASHA brackets with different first rungs."""

    kind = "hyperband"


class TrialRecord:
    """A stored trial: ``number``, ``state`` (``complete``, ``failed``, ``pruned``,
    ``running``, ``queued``), ``values`` (``value`` for one objective), ``params``,
    ``metrics``, ``intermediate`` (``(step, value)`` pairs), ``source``, ``error`` and times
    (seconds since the epoch)."""

    __slots__ = (
        "number", "state", "values", "params", "metrics", "intermediate", "source", "error",
        "started_at", "finished_at", "duration_s", "suggest_s",
    )

    def __init__(self, d):
        for k in self.__slots__:
            setattr(self, k, d[k])
        self.intermediate = [tuple(p) for p in self.intermediate]

    @property
    def value(self):
        """The first objective's value (``None`` when there is none)."""
        return self.values[0] if self.values else None

    def as_dict(self):
        return {k: getattr(self, k) for k in self.__slots__}

    def __repr__(self):
        return f"TrialRecord(number={self.number}, state={self.state!r}, values={self.values}, params={self.params})"


class Trial:
    """A trial asked of a study: its ``number`` and ``params`` (the active parameters, by
    name). Report intermediate values with ``report`` and ask ``should_prune``."""

    def __init__(self, study, number, params, lease):
        self.study, self.number, self.params, self.lease = study, number, params, lease

    def report(self, step, value):
        """Records ``value`` at ``step`` (e.g. the validation accuracy after an epoch)."""
        self.study._core.report(self.number, int(step), float(value))

    def should_prune(self):
        """Whether the study's pruner would stop this trial now (``False`` without one)."""
        return self.study._core.should_prune(self.number)

    def __repr__(self):
        return f"Trial(number={self.number}, params={self.params})"


def _directions(direction, directions):
    if direction is not None and directions is not None:
        raise ValueError("give direction or directions, not both")
    if direction is not None:
        return [direction]
    if directions is not None:
        if isinstance(directions, str):
            raise ValueError("directions: a list, e.g. ['minimize', 'maximize']")
        return list(directions)
    return None


class Study:
    """A nasbo study: in memory, or in a storage shared by workers (``sqlite:PATH``,
    ``postgres://user:password@host:port/db``) that ``nasbo report``, ``nasbo export`` and
    ``nasbo tune`` read and write too.

    ``space`` is a dict name -> ``nasbo.Float``/``nasbo.Int``/``nasbo.Categorical``, a TOML
    space file or its text; it is needed to create a study, and checked against a stored one.
    ``strategy`` is one of ``bo`` (the default), ``random``, ``sobol``, ``evolution``,
    ``reinforce``; ``noisy=True`` tells ``bo`` the objective is noisy, and ``budget`` (the
    number of trials the study will run, as ``nasbo tune --trials``) lets ``bo`` size its
    initial design to it: two points per continuous parameter, at most a fifth of the budget
    (without it, ``max(5, d + 1)`` points for ``d`` parameters). ``pruner`` is a
    ``MedianPruner``, ``AshaPruner`` or ``HyperbandPruner``. With ``heartbeat`` (seconds), a
    thread keeps this process's running trials alive, and other workers take over the
    trials of a process that stopped beating (after four intervals).

    >>> import nasbo
    >>> study = nasbo.Study({"x": nasbo.Float(-2, 2)}, seed=1)
    >>> study.optimize(lambda t: (t.params["x"] - 0.5) ** 2, n_trials=12)
    >>> abs(study.best_params["x"] - 0.5) < 0.3
    True
    """

    def __init__(self, space=None, *, storage=None, name="study", direction=None,
                 directions=None, seed=0, strategy="bo", noisy=False, pruner=None,
                 heartbeat=None, budget=None):
        p = pruner
        if p is not None and not hasattr(p, "kind"):
            raise ValueError(f"pruner {p!r}: use nasbo.MedianPruner, AshaPruner or HyperbandPruner")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed = {seed!r}: a non-negative integer")
        if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int)
                                   or budget < 1):
            raise ValueError(f"budget = {budget!r}: a positive integer, or None")
        self._core = _nasbo.StudyCore(
            storage, name, space_toml(space), _directions(direction, directions), seed,
            strategy, bool(noisy), None if heartbeat is None else float(heartbeat),
            "none" if p is None else p.kind,
            None if p is None else p.max_step,
            1 if p is None else p.min_step,
            3 if p is None else p.reduction_factor,
            5 if p is None else p.startup_trials,
            budget,
        )
        self.storage, self.name = storage, name
        self.pruner = pruner

    @classmethod
    def load(cls, storage, name, **kwargs):
        """The stored study ``name`` (its space and directions as stored)."""
        return cls(None, storage=storage, name=name, **kwargs)

    @property
    def directions(self):
        return self._core.directions()

    @property
    def param_names(self):
        return self._core.param_names()

    def ask(self):
        """The next trial to evaluate (a queued one first, else a new proposal)."""
        number, params, lease = self._core.ask(None)
        return Trial(self, number, params, lease)

    def _ask_within(self, limit):
        got = self._core.ask(limit)
        return None if got is None else Trial(self, *got)

    def tell(self, trial, value=None, *, values=None, state=None, metrics=None, reason=None):
        """Records a trial's result: ``value`` (one objective) or ``values`` (one per
        objective), or ``state="failed"`` with a ``reason``, ``state="pruned"`` (its last
        reported value is kept), ``state="queued"`` to put it back. ``metrics`` is a dict of
        extra numbers written beside the value."""
        number = trial.number if isinstance(trial, Trial) else trial
        if isinstance(number, bool) or not isinstance(number, int):
            raise ValueError(f"trial {trial!r}: a Trial or a trial number")
        if value is not None and values is not None:
            raise ValueError(f"trial {number}: give value or values, not both")
        if value is not None:
            values = [value]
        if state is None:
            state = "complete"
        vals = [] if values is None else [float(v) for v in values]
        if state == "complete" and values is None:
            raise ValueError(f"trial {number}: a complete trial needs value or values")
        if state == "pruned" and not vals:
            last = self._last_reported(number)
            vals = [] if last is None else [last]
        ms = [] if metrics is None else [(str(k), float(v)) for k, v in dict(metrics).items()]
        self._core.tell(number, state, vals, ms, reason)

    def _last_reported(self, number):
        for t in self._core.trials():
            if t["number"] == number and t["intermediate"]:
                return t["intermediate"][-1][1]
        return None

    @property
    def trials(self):
        """Every trial, read from the storage (other workers' included)."""
        return [TrialRecord(d) for d in self._core.trials()]

    def _best(self):
        if len(self.directions) != 1:
            raise ValueError("best_trial: the study has several objectives; see pareto_front()")
        sign = 1.0 if self.directions[0] == "minimize" else -1.0
        done = [t for t in self.trials if t.state == "complete" and t.values]
        if not done:
            raise ValueError("best_trial: no complete trial yet")
        return min(done, key=lambda t: sign * t.values[0])

    @property
    def best_trial(self):
        return self._best()

    @property
    def best_value(self):
        return self._best().values[0]

    @property
    def best_params(self):
        return self._best().params

    def pareto_front(self):
        """The complete trials no other complete trial dominates (all objectives)."""
        signs = [1.0 if d == "minimize" else -1.0 for d in self.directions]
        done = [t for t in self.trials if t.state == "complete" and t.values]
        key = [[s * v for s, v in zip(signs, t.values)] for t in done]

        def dominated(i):
            return any(
                all(a <= b for a, b in zip(key[j], key[i])) and key[j] != key[i]
                for j in range(len(done))
            )

        return [t for i, t in enumerate(done) if not dominated(i)]

    def trials_dataframe(self):
        """One row per trial (``number``, ``state``, ``value`` or ``values_0``..,
        ``params_<name>``, ``metrics_<name>``, ``source``, ``duration_s``, ``error``): a
        pandas DataFrame when pandas is installed, else a list of dicts."""
        rows = []
        k = len(self.directions)
        for t in self.trials:
            r = {"number": t.number, "state": t.state}
            if k == 1:
                r["value"] = t.value
            else:
                for i in range(k):
                    r[f"values_{i}"] = t.values[i] if i < len(t.values) else None
            for n in self.param_names:
                r[f"params_{n}"] = t.params.get(n)
            for m, v in t.metrics.items():
                r[f"metrics_{m}"] = v
            r.update(source=t.source, duration_s=t.duration_s, error=t.error)
            rows.append(r)
        try:
            import pandas as pd
        except ImportError:
            return rows
        return pd.DataFrame(rows)

    def export_csv(self, path):
        """Writes the CSV of ``nasbo tune --out`` / ``nasbo export`` (atomically)."""
        self._core.export_csv(str(path))

    def optimize(self, func, n_trials, *, n_jobs=1, timeout=None, catch=()):
        """Runs ``func(trial)`` on ``n_trials`` new trials (``n_jobs`` at a time, in threads):
        it returns the value (or one per objective); raising ``nasbo.TrialPruned`` (or
        Optuna's) prunes the trial; any other exception is recorded as a failure and raised
        again once running trials end, unless it is one of ``catch``. ``timeout`` (seconds)
        stops starting trials after it. Ctrl-C puts the running trials back in the queue."""
        if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 0:
            raise ValueError(f"n_trials = {n_trials!r}: a non-negative integer")
        if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
            raise ValueError(f"n_jobs = {n_jobs!r}: a positive integer")
        catch = tuple(catch) if isinstance(catch, (list, tuple)) else (catch,)
        start = time.monotonic()
        lock = threading.Lock()
        state = {"started": 0, "error": None}

        def next_trial():
            with lock:
                if state["error"] is not None or state["started"] >= n_trials:
                    return None
                if timeout is not None and time.monotonic() - start > timeout:
                    return None
                state["started"] += 1
            return self.ask()

        def worker():
            while True:
                trial = next_trial()
                if trial is None:
                    return
                err = self._run_one(func, trial, catch)
                if err is not None:
                    with lock:
                        if state["error"] is None:
                            state["error"] = err

        if n_jobs == 1:
            worker()
        else:
            threads = [threading.Thread(target=worker, daemon=True) for _ in range(n_jobs)]
            for t in threads:
                t.start()
            try:
                for t in threads:
                    while t.is_alive():
                        t.join(0.1)
            except KeyboardInterrupt:
                # No new trials; those running finish in their threads (a trial of a
                # process that exits before is taken over by workers that beat, or stays
                # running without heartbeats).
                with lock:
                    state["error"] = KeyboardInterrupt()
                raise
        if state["error"] is not None:
            raise state["error"]

    def _run_one(self, func, trial, catch):
        """Evaluates one trial and tells its outcome; returns an exception to raise, if any."""
        started = time.monotonic()
        try:
            result = func(trial)
        except KeyboardInterrupt:
            self.tell(trial, state="queued", reason="Ctrl-C in optimize")
            raise
        except Exception as e:  # noqa: BLE001 - every objective error is recorded
            if isinstance(e, TrialPruned) or type(e).__name__ == "TrialPruned":
                self.tell(trial, state="pruned")
                _log.info("trial %d pruned", trial.number)
                return None
            self.tell(trial, state="failed", reason=f"{type(e).__name__}: {e}")
            _log.warning("trial %d failed: %s: %s", trial.number, type(e).__name__, e)
            return None if isinstance(e, catch) else e
        values = _as_values(result)
        if values is None:
            reason = f"the objective returned {result!r}, not a finite number per objective"
            self.tell(trial, state="failed", reason=reason)
            _log.warning("trial %d failed: %s", trial.number, reason)
            return None
        try:
            self.tell(trial, values=values)
        except ValueError as e:
            self.tell(trial, state="failed", reason=str(e))
            _log.warning("trial %d failed: %s", trial.number, e)
            return None
        _log.info(
            "trial %d: %s with %s (%.2f s)", trial.number,
            values[0] if len(values) == 1 else values, trial.params, time.monotonic() - started,
        )
        return None


def _as_values(result):
    try:
        vals = [float(result)]
    except (TypeError, ValueError):
        try:
            vals = [float(v) for v in result]
        except (TypeError, ValueError):
            return None
    if not vals or not all(math.isfinite(v) for v in vals):
        return None
    return vals
