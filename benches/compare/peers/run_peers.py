#!/usr/bin/env python
"""Run peer Bayesian-optimisation libraries on the problems in problems.py (nasbo's copy of
../shared/peers/run_peers.py; its results go to benches/compare/results/peers unless
PEERS_RESULTS says otherwise; `--problems heldout` is issue 24's held-out list, `heldout2` the second).

Adapter interface: adapter(problem, budget, seed, ev) where ev(x) is the
tracked objective (native parameter values).  harness.run_one() wraps an adapter and
returns the observed values in evaluation order plus the cumulative wall time
spent inside the optimizer (total elapsed minus objective time), measured at
the moment each evaluation is requested.

Usage:
  run_peers.py one OPT PROBLEM SEED        # one run -> results/parts/*.csv
  run_peers.py all [--seeds 0,1,2] [--ml-seeds 0,1,2] [--jobs 2] [--opts ..] [--problems ..]
  run_peers.py merge                       # parts -> results/<opt>__<problem>.csv
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import subprocess
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import problems as P  # noqa: E402
import harness  # noqa: E402
from harness import COLUMNS, PARTS, RESULTS, Budget, Tracker, part_path  # noqa: E402,F401
from harness import native as _native  # noqa: E402



# ------------------------------------------------------------------ adapters

def opt_random(problem, budget, seed, ev, notes):
    rng = np.random.default_rng(seed)
    for _ in range(budget):
        ev(problem.from_unit(rng.random(problem.dim)))


def _optuna(problem, budget, ev, sampler):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=sampler)

    def obj(trial):
        x = []
        for p in problem.params:
            if p.kind == "int":
                x.append(trial.suggest_int(p.name, int(p.lo), int(p.hi), log=p.log))
            else:
                x.append(trial.suggest_float(p.name, p.lo, p.hi, log=p.log))
        return ev(x)

    study.optimize(obj, n_trials=budget)


def opt_optuna_tpe(problem, budget, seed, ev, notes):
    import optuna
    _optuna(problem, budget, ev, optuna.samplers.TPESampler(seed=seed))


def opt_optuna_gp(problem, budget, seed, ev, notes):
    import optuna
    import torch
    torch.set_num_threads(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.GPSampler(seed=seed)
    _optuna(problem, budget, ev, sampler)


def opt_skopt_gp(problem, budget, seed, ev, notes):
    from skopt import gp_minimize
    from skopt.space import Integer, Real
    dims = []
    for p in problem.params:
        prior = "log-uniform" if p.log else "uniform"
        if p.kind == "int":
            dims.append(Integer(int(p.lo), int(p.hi), prior=prior, name=p.name))
        else:
            dims.append(Real(p.lo, p.hi, prior=prior, name=p.name))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn GP convergence chatter
        gp_minimize(lambda x: ev(_native(problem, x)), dims, n_calls=budget, random_state=seed)


AX_INIT_TRIALS = 5  # Ax 1.3.1 Client default initialization_budget (see report)


def opt_botorch(problem, budget, seed, ev, notes):
    import torch
    from botorch.acquisition import LogExpectedImprovement
    from botorch.exceptions import ModelFittingError
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.models.transforms import Normalize, Standardize
    from botorch.optim import optimize_acqf
    from gpytorch.mlls import ExactMarginalLogLikelihood
    from torch.quasirandom import SobolEngine

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    dt = torch.float64
    d = problem.dim
    unit = torch.stack([torch.zeros(d, dtype=dt), torch.ones(d, dtype=dt)])
    n_init = min(AX_INIT_TRIALS, budget)
    sobol = SobolEngine(d, scramble=True, seed=seed)
    init = sobol.draw(n_init).to(dt)
    X, Y = [], []
    notes.setdefault("fit_failures", 0)
    notes.setdefault("sobol_fallbacks", 0)
    for i in range(budget):
        if i < n_init:
            u = init[i]
        else:
            train_X = torch.tensor(np.array(X), dtype=dt)
            train_Y = torch.tensor(np.array(Y), dtype=dt).unsqueeze(-1)
            try:
                model = SingleTaskGP(train_X, train_Y, input_transform=Normalize(d=d, bounds=unit),
                                     outcome_transform=Standardize(m=1))
                mll = ExactMarginalLogLikelihood(model.likelihood, model)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        fit_gpytorch_mll(mll)
                    except ModelFittingError:
                        notes["fit_failures"] += 1  # keep the (prior-initialised) model
                    acq = LogExpectedImprovement(model, best_f=train_Y.max())
                    cand, _ = optimize_acqf(acq, bounds=unit, q=1, num_restarts=10, raw_samples=512)
                u = cand[0]
            except Exception as e:  # pragma: no cover - recorded in notes
                notes["sobol_fallbacks"] += 1
                notes.setdefault("errors", []).append(repr(e)[:200])
                u = sobol.draw(1).to(dt)[0]
        x = problem.from_unit(u.tolist())
        y = ev(x)
        X.append(problem.to_unit(x))  # rounded ints mapped back: GP sees what was evaluated
        Y.append(-y)  # BoTorch maximises


def opt_hebo(problem, budget, seed, ev, notes):
    import pandas as pd
    import torch
    from hebo.design_space.design_space import DesignSpace
    from hebo.optimizers.hebo import HEBO
    torch.set_num_threads(1)
    np.random.seed(seed); random.seed(seed); torch.manual_seed(seed)
    spec = []
    for p in problem.params:
        if p.kind == "int":
            t = "pow_int" if p.log else "int"
        else:
            t = "pow" if p.log else "num"
        spec.append({"name": p.name, "type": t, "lb": p.lo, "ub": p.hi})
    space = DesignSpace().parse(spec)
    opt = HEBO(space, scramble_seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(budget):
            rec = opt.suggest(n_suggestions=1)
            x = _native(problem, [rec[p.name].iloc[0] for p in problem.params])
            y = ev(x)
            opt.observe(rec, np.array([[y]]))


ADAPTERS = {
    "random": opt_random,
    "optuna_tpe": opt_optuna_tpe,
    "optuna_gp": opt_optuna_gp,
    "skopt_gp": opt_skopt_gp,
    "botorch_logei": opt_botorch,
    "hebo": opt_hebo,
}



def do_one(opt, prob_name, seed):
    os.makedirs(PARTS, exist_ok=True)
    problem = P.get_problem(prob_name)
    res = harness.run_one(ADAPTERS, opt, problem, problem.budget, seed)
    meta = dict(optimizer=opt, problem=prob_name, seed=seed, budget=problem.budget,
                n_evals=len(res["values"]), opt_seconds_total=res["opt_seconds_total"],
                obj_seconds_total=res["obj_seconds_total"],
                opt_cpu_seconds_total=res["opt_cpu_seconds_total"],
                obj_cpu_seconds_total=res["obj_cpu_seconds_total"],
                error=res["error"], notes=res["notes"],
                opt_cpu_seconds_cumulative=res["opt_cpu_seconds_cumulative"],
                load_avg_at_end=os.getloadavg())
    if res["values"]:
        i = int(np.argmin(res["values"]))
        meta["best_value"], meta["best_x"] = res["values"][i], res["xs"][i]
    with open(part_path(opt, prob_name, seed)[:-4] + ".json", "w") as fh:
        json.dump(meta, fh, indent=1)
    if res["error"] or len(res["values"]) < problem.budget:
        print(f"FAILED {opt} {prob_name} s{seed}: {len(res['values'])}/{problem.budget} evals\n{res['error']}",
              file=sys.stderr)
        return 1
    rows, best = [], math.inf
    for k, (v, tc) in enumerate(zip(res["values"], res["opt_seconds_cumulative"]), start=1):
        best = min(best, v)
        regret = "" if problem.f_opt is None else repr(best - problem.f_opt)
        rows.append([opt, prob_name, seed, k, repr(v), repr(best), regret, f"{tc:.6f}"])
    tmp = part_path(opt, prob_name, seed) + ".tmp"
    with open(tmp, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        w.writerows(rows)
    os.replace(tmp, part_path(opt, prob_name, seed))
    print(f"done {opt} {prob_name} s{seed}: best {best:.6g} opt_s {res['opt_seconds_total']:.1f} "
          f"obj_s {res['obj_seconds_total']:.1f}")
    return 0


def merge():
    harness.merge(ADAPTERS)


# rough relative cost used only to order jobs (expensive first within a seed)
COST = {"hebo": 6, "botorch_logei": 5, "skopt_gp": 3, "optuna_gp": 3, "optuna_tpe": 1, "random": 0.1}


def run_all(args):
    opts = args.opts.split(",")
    probs = P.named_set(args.problems or "all") or args.problems.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    ml_seeds = [int(s) for s in args.ml_seeds.split(",")]
    jobs = []
    for s in sorted(set(seeds) | set(ml_seeds)):
        batch = []
        for pn in probs:
            if s not in seeds:
                continue
            pb = P.get_problem(pn)
            for o in opts:
                if not os.path.exists(part_path(o, pn, s)):
                    extra = 0
                    batch.append((COST[o] * pb.budget + extra * pb.budget, o, pn, s))
        jobs += [j[1:] for j in sorted(batch, reverse=True)]
    print(f"{len(jobs)} jobs, {args.jobs} at a time", flush=True)
    log_dir = os.path.join(RESULTS, "logs")
    os.makedirs(log_dir, exist_ok=True)

    def launch(job):
        o, pn, s = job
        t = time.time()
        with open(os.path.join(log_dir, f"{o}__{pn}__s{s}.log"), "w") as lf:
            try:
                rc = subprocess.run([sys.executable, "-W", "ignore", __file__, "one", o, pn, str(s)],
                                    stdout=lf, stderr=subprocess.STDOUT, timeout=args.timeout).returncode
            except subprocess.TimeoutExpired:
                rc = "timeout"
        print(f"[{time.strftime('%H:%M:%S')}] {o:14s} {pn:16s} s{s} rc={rc} {time.time() - t:7.1f}s", flush=True)
        return rc

    with ThreadPoolExecutor(args.jobs) as ex:
        list(ex.map(launch, jobs))
    merge()


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("one"); a.add_argument("opt"); a.add_argument("problem"); a.add_argument("seed", type=int)
    b = sub.add_parser("all")
    b.add_argument("--seeds", default="0,1,2,3,4"); b.add_argument("--ml-seeds", default="0,1,2")
    b.add_argument("--jobs", type=int, default=2); b.add_argument("--opts", default=",".join(ADAPTERS))
    b.add_argument("--problems", default=""); b.add_argument("--timeout", type=int, default=3600)
    sub.add_parser("merge")
    args = ap.parse_args()
    if args.cmd == "one":
        sys.exit(do_one(args.opt, args.problem, args.seed))
    elif args.cmd == "all":
        run_all(args)
    else:
        merge()


if __name__ == "__main__":
    main()
