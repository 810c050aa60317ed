#!/usr/bin/env python
"""(nasbo's copy of ../shared/peers/run_rust_peers.py: results in benches/compare/results/peers,
merged into its merged/ folder; `--problems heldout`, `heldout2` or `all` as run_peers.py.)

Run Rust-backed BO libraries (egobox, botorch-rust) on the problems in problems.py.

Companion to run_peers.py: same problems, budgets, Tracker semantics and part-file
format, but a separate venv (egobox, botorch-rust, numpy, scipy;
no torch), so nothing here imports run_peers.py (whose adapters need torch etc.).

  opt names : egobox        egobox.Egor with its defaults (LogEI infill, LHS initial DOE of
                            max(nx+1, 5) points, COBYLA infill optimiser, 1-cluster GP);
                            seeded; max_iters = budget - n_doe.
              botorch_rust  botorch_rs (PyPI botorch-rust) with the harness's BoTorch settings:
                            5 scrambled-Sobol initial points, SingleTaskGP + Normalize(unit
                            bounds) + Standardize, fit_gpytorch_mll, LogEI(best_f=max Y),
                            optimize_acqf(q=1, num_restarts=10, raw_samples=512); arrays are
                            numpy (no torch), acqf optimisation seeded per iteration.

Usage:
  run_rust_peers.py one OPT PROBLEM SEED
  run_rust_peers.py all [--opts egobox,botorch_rust] [--seeds 0,1,2] [--problems ...]
  run_rust_peers.py merge        # parts of OUR optimizers -> results/<opt>__<problem>.csv

Never overwrites an existing part file. CSV columns are those of run_peers.py;
opt_seconds_cumulative is wall time (objective time subtracted) at each eval request.
The .json additionally records process-CPU-time totals and per-eval cumulative CPU
seconds (opt_cpu_seconds_cumulative), which are far less sensitive to other processes
competing for the cores than wall time.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import time
import warnings

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import problems as P  # noqa: E402
import harness  # noqa: E402
from harness import COLUMNS, PARTS, RESULTS, Budget, Tracker, part_path  # noqa: E402,F401
from harness import native as _native  # noqa: E402

HARNESS_OPTS = {"random", "optuna_tpe", "optuna_gp", "skopt_gp", "botorch_logei", "hebo"}


# ------------------------------------------------------------------ adapters

def egobox_n_doe(dim):
    # egobox 1.0 default when n_doe=0 (checked empirically: nx=2..4 -> 5, 5 -> 6, 6 -> 7, 8 -> 9)
    return max(dim + 1, 5)


def opt_egobox(problem, budget, seed, ev, notes):
    import egobox as egx

    # Design space: plain float -> FLOAT on native bounds; plain int -> INT;
    # log-scaled -> FLOAT on [log lo, log hi], mapped back (and rounded for ints).
    specs, maps = [], []
    for p in problem.params:
        if p.log:
            specs.append(egx.XSpec(egx.XType.FLOAT, [math.log(p.lo), math.log(p.hi)]))
            maps.append(lambda v, p=p: min(max(math.exp(v), p.lo), p.hi))
        elif p.kind == "int":
            specs.append(egx.XSpec(egx.XType.INT, [int(p.lo), int(p.hi)]))
            maps.append(lambda v: v)
        else:
            specs.append(egx.XSpec(egx.XType.FLOAT, [p.lo, p.hi]))
            maps.append(lambda v: v)
    n_doe = egobox_n_doe(problem.dim)
    max_iters = budget - n_doe
    notes.update(egobox_version=egx.__version__, n_doe_expected=n_doe, max_iters=max_iters)
    batches = []

    def fun(X):
        X = np.atleast_2d(np.asarray(X, dtype=float))
        batches.append(X.shape[0])
        out = np.empty((X.shape[0], 1))
        for i, row in enumerate(X):
            x = _native(problem, [m(float(v)) for m, v in zip(maps, row)])
            try:
                out[i, 0] = ev(x)
            except Budget:  # never seen; keep egobox going but do not record the point
                ev.extra_requests += 1
                out[i, 0] = problem(x)
        return out

    egor = egx.Egor(specs, seed=seed)
    res = egor.minimize(fun, max_iters=max_iters)
    st = res.status
    notes.update(init_doe_size=int(st.init_doe_size), total_iters=int(st.total_iters),
                 exit=str(st.exit), first_batch=batches[0] if batches else None,
                 n_batches=len(batches), extra_requests=ev.extra_requests,
                 egobox_y_opt=float(np.asarray(res.y_opt).ravel()[0]))


AX_INIT_TRIALS = 5  # same as run_peers.py


def opt_botorch_rust(problem, budget, seed, ev, notes):
    import botorch_rs
    from botorch_rs.acquisition import LogExpectedImprovement
    from botorch_rs.exceptions import ModelFittingError
    from botorch_rs.fit import fit_gpytorch_mll
    from botorch_rs.mlls import ExactMarginalLogLikelihood
    from botorch_rs.models import SingleTaskGP
    from botorch_rs.models.transforms import Normalize, Standardize
    from botorch_rs.optim import optimize_acqf
    from botorch_rs.utils.sampling import draw_sobol_samples

    botorch_rs.set_num_threads(1)
    d = problem.dim
    unit = np.stack([np.zeros(d), np.ones(d)])
    n_init = min(AX_INIT_TRIALS, budget)
    # scrambled Sobol (Burley/Owen) from botorch_rs: same role as torch SobolEngine(scramble=True,
    # seed=seed) in run_peers.py, different points for the same seed.  Extra rows serve fallbacks.
    sob = np.asarray(draw_sobol_samples(bounds=unit, n=budget + n_init, q=1, seed=seed)).reshape(-1, d)
    X, Y = [], []
    notes.update(botorch_rs_version=botorch_rs.__version__, fit_failures=0, sobol_fallbacks=0)
    k_fallback = n_init
    for i in range(budget):
        if i < n_init:
            u = sob[i]
        else:
            train_X = np.array(X)
            train_Y = np.array(Y).reshape(-1, 1)
            try:
                model = SingleTaskGP(train_X, train_Y, input_transform=Normalize(d=d, bounds=unit),
                                     outcome_transform=Standardize(m=1))
                mll = ExactMarginalLogLikelihood(model.likelihood, model)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        fit_gpytorch_mll(mll)
                    except ModelFittingError:
                        notes["fit_failures"] += 1
                    acq = LogExpectedImprovement(model, best_f=train_Y.max())
                    cand, _ = optimize_acqf(acq, bounds=unit, q=1, num_restarts=10, raw_samples=512,
                                            options={"seed": seed * 100003 + i})
                u = np.asarray(cand, dtype=float).reshape(-1)
            except Exception as e:  # pragma: no cover - recorded in notes
                notes["sobol_fallbacks"] += 1
                notes.setdefault("errors", []).append(repr(e)[:200])
                u = sob[k_fallback]
                k_fallback += 1
        x = problem.from_unit(u.tolist())
        y = ev(x)
        X.append(problem.to_unit(x))
        Y.append(-y)


ADAPTERS = {"egobox": opt_egobox, "botorch_rust": opt_botorch_rust}
assert not (set(ADAPTERS) & HARNESS_OPTS)



def do_one(opt, prob_name, seed):
    if opt not in ADAPTERS:
        raise SystemExit(f"unknown optimizer {opt}")
    os.makedirs(PARTS, exist_ok=True)
    csv_path, json_path = part_path(opt, prob_name, seed), part_path(opt, prob_name, seed)[:-4] + ".json"
    if os.path.exists(csv_path) or os.path.exists(json_path):
        print(f"exists, not overwriting: {csv_path}", file=sys.stderr)
        return 0
    problem = P.get_problem(prob_name)
    res = harness.run_one(ADAPTERS, opt, problem, problem.budget, seed)
    meta = dict(optimizer=opt, problem=prob_name, seed=seed, budget=problem.budget,
                n_evals=len(res["values"]), opt_seconds_total=res["opt_seconds_total"],
                obj_seconds_total=res["obj_seconds_total"],
                opt_cpu_seconds_total=res["opt_cpu_seconds_total"],
                obj_cpu_seconds_total=res["obj_cpu_seconds_total"],
                error=res["error"], notes=res["notes"],
                opt_cpu_seconds_cumulative=res["opt_cpu_seconds_cumulative"],
                niceness=os.nice(0))
    if res["values"]:
        i = int(np.argmin(res["values"]))
        meta["best_value"], meta["best_x"] = res["values"][i], res["xs"][i]
    with open(json_path, "w") as fh:
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
    tmp = csv_path + ".tmp"
    with open(tmp, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        w.writerows(rows)
    os.replace(tmp, csv_path)
    print(f"done {opt} {prob_name} s{seed}: best {best:.6g} opt_s {res['opt_seconds_total']:.1f} "
          f"(cpu {res['opt_cpu_seconds_total']:.1f}) obj_s {res['obj_seconds_total']:.1f}")
    return 0


def merge():
    harness.merge(ADAPTERS)


def run_all(args):
    opts = args.opts.split(",")
    probs = (P.named_set(args.problems) or args.problems.split(",") if args.problems
             else [p.name for p in P.synthetic_problems()])
    seeds = [int(s) for s in args.seeds.split(",")]
    jobs = [(o, pn, s) for s in seeds for o in opts for pn in probs if not os.path.exists(part_path(o, pn, s))]
    print(f"{len(jobs)} jobs, one at a time", flush=True)
    log_dir = os.path.join(RESULTS, "logs")
    os.makedirs(log_dir, exist_ok=True)
    for o, pn, s in jobs:
        t = time.time()
        with open(os.path.join(log_dir, f"{o}__{pn}__s{s}.log"), "w") as lf:
            try:
                rc = subprocess.run([sys.executable, "-W", "ignore", __file__, "one", o, pn, str(s)],
                                    stdout=lf, stderr=subprocess.STDOUT, timeout=args.timeout).returncode
            except subprocess.TimeoutExpired:
                rc = "timeout"
        print(f"[{time.strftime('%H:%M:%S')}] {o:14s} {pn:16s} s{s} rc={rc} {time.time() - t:7.1f}s", flush=True)
    merge()


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("one"); a.add_argument("opt"); a.add_argument("problem"); a.add_argument("seed", type=int)
    b = sub.add_parser("all")
    b.add_argument("--seeds", default="0,1,2"); b.add_argument("--opts", default=",".join(ADAPTERS))
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
