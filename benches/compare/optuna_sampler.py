"""NasboSampler against Optuna's GPSampler and TPESampler (and RandomSampler) on the test
functions of docs/benchmarks.md §3, inside Optuna: median regret at 50 and 100 trials over
seeds, and the time per trial (everything ``study.optimize`` spends besides the objective,
which costs microseconds here).

    python benches/compare/optuna_sampler.py --seeds 10 --trials 100 --jobs 2 \
        --out benches/compare/results/optuna_sampler.csv

Needs the nasbo package (``pip install ./python``), optuna, and for GPSampler torch and scipy.
Each (problem, seed) runs in a process of its own with one thread (torch, BLAS and nasbo's),
so the times compare samplers on equal terms.
"""

import argparse
import csv
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ.setdefault(v, "1")

PI = math.pi


def branin(x):
    b, c, t = 5.1 / (4 * PI * PI), 5 / PI, 1 / (8 * PI)
    return (x[1] - b * x[0] ** 2 + c * x[0] - 6) ** 2 + 10 * (1 - t) * math.cos(x[0]) + 10


_H6A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14]]
_H6P = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]
_HAL = [1.0, 1.2, 3.0, 3.2]


def hartmann6(x):
    return -sum(
        _HAL[i] * math.exp(-sum(_H6A[i][j] * (x[j] - 1e-4 * _H6P[i][j]) ** 2 for j in range(6)))
        for i in range(4)
    )


def ackley(x):
    d = len(x)
    s1 = sum(v * v for v in x) / d
    s2 = sum(math.cos(2 * PI * v) for v in x) / d
    return -20 * math.exp(-0.2 * math.sqrt(s1)) - math.exp(s2) + 20 + math.e


def rosenbrock(x):
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (x[i] - 1) ** 2 for i in range(len(x) - 1))


# name: (function, bounds, optimum) — as crates/tuner/src/testfns.rs defines them.
PROBLEMS = {
    "branin": (branin, [(-5, 10), (0, 15)], 0.39788735772973816),
    "hartmann6": (hartmann6, [(0, 1)] * 6, -3.3223680114155147),
    "ackley5": (ackley, [(-32.768, 32.768)] * 5, 0.0),
    "shiftedackley5": (ackley, [(-20, 45.536)] * 5, 0.0),
    "rosenbrock4": (rosenbrock, [(-5, 10)] * 4, 0.0),
}


def sampler(name, seed):
    import optuna

    if name == "nasbo":
        from nasbo.optuna import NasboSampler

        return NasboSampler(seed=seed)
    if name == "gp":
        return optuna.samplers.GPSampler(seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise ValueError(name)


def run(task):
    problem, sampler_name, seed, trials = task
    import optuna

    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    import logging

    logging.getLogger("nasbo").setLevel(logging.WARNING)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    f, bounds, opt = PROBLEMS[problem]
    spent = [0.0]

    def objective(t):
        x = [t.suggest_float(f"x{i}", lo, hi) for i, (lo, hi) in enumerate(bounds)]
        t0 = time.perf_counter()
        v = f(x)
        spent[0] += time.perf_counter() - t0
        return v

    study = optuna.create_study(sampler=sampler(sampler_name, seed))
    t0 = time.perf_counter()
    study.optimize(objective, n_trials=trials)
    wall = time.perf_counter() - t0 - spent[0]
    best, curve = math.inf, []
    for t in study.trials:
        if t.value is not None:
            best = min(best, t.value)
        curve.append(best - opt)
    return problem, sampler_name, seed, curve, wall / trials


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--problems", default=",".join(PROBLEMS))
    ap.add_argument("--samplers", default="nasbo,gp,tpe,random")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default="optuna_sampler.csv")
    a = ap.parse_args()
    tasks = [
        (p, s, seed, a.trials)
        for p in a.problems.split(",")
        for seed in range(a.seeds)
        for s in a.samplers.split(",")
    ]
    rows = []
    with ProcessPoolExecutor(a.jobs) as ex:
        for i, (p, s, seed, curve, per_trial) in enumerate(ex.map(run, tasks), 1):
            rows.append((p, s, seed, curve, per_trial))
            print(f"[{i}/{len(tasks)}] {p} {s} seed {seed}: regret {curve[-1]:.3g}, "
                  f"{per_trial * 1e3:.1f} ms/trial", file=sys.stderr, flush=True)
    with open(a.out, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["problem", "sampler", "seed", "trial", "regret", "s_per_trial"])
        for p, s, seed, curve, per_trial in rows:
            for n, r in enumerate(curve, 1):
                w.writerow([p, s, seed, n, f"{r:.6g}", f"{per_trial:.6g}"])
    summarize(rows, a.trials)


def median(v):
    v = sorted(v)
    n = len(v)
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])


def summarize(rows, trials):
    points = sorted({min(50, trials), trials})
    samplers = list(dict.fromkeys(r[1] for r in rows))
    head = ["problem"] + [f"{s} @{n}" for n in points for s in samplers]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for p in dict.fromkeys(r[0] for r in rows):
        cells = [p]
        for n in points:
            for s in samplers:
                rs = [r[3][n - 1] for r in rows if r[0] == p and r[1] == s]
                cells.append(f"{median(rs):.3g}")
        print("| " + " | ".join(cells) + " |")
    print()
    print("| sampler | median ms per trial | per problem |")
    print("|---|---|---|")
    for s in samplers:
        per = {p: median([r[4] for r in rows if r[0] == p and r[1] == s]) * 1e3
               for p in dict.fromkeys(r[0] for r in rows)}
        allv = median([r[4] for r in rows if r[1] == s]) * 1e3
        print(f"| {s} | {allv:.1f} | " + ", ".join(f"{k} {v:.1f}" for k, v in per.items()) + " |")


if __name__ == "__main__":
    main()
