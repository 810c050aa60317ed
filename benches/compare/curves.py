"""Learning-curve problems of `nasbo bench --problem lc-<base>-<regime>`, written as nasbo's
src/cli/learning.rs computes them (same formulas, same constants), and Optuna's TPE with its
pruners run on them at a budget in steps.

  python3 curves.py spearman                 # rank correlation of early and final values
  python3 curves.py optuna --seeds 5 --out optuna_curves.csv

Curve of a configuration u in [0,1]^6 (minimized), steps t = 1..T (T = 27):
  y(u, t) = f(u) + A(u) * (t^-r(u) - T^-r(u)) / (1 - T^-r(u)),  so y(u, T) = f(u)
  r(u) = 0.7 + 0.4 sin(2 pi (w1 . u))          (how fast it converges)
  A(u) = K * (0.2 + 0.5 (1 + cos(2 pi (w2 . u) + 0.3)))
f is the base test function on its box (rosenbrock6: log(1 + Rosenbrock)); K, per base and
regime, sets how much early values mislead.
"""
import argparse, csv, math, sys

T = 27
W1 = [0.9, -0.4, 0.7, 0.3, -0.8, 0.5]
W2 = [-0.6, 0.8, 0.2, -0.9, 0.4, 0.7]
REGIMES = ["rank", "cross"]
# Amplitude scale per (base, regime), calibrated (python3 curves.py spearman) so that the rank
# correlation of the value at step 3 (a tenth of the budget) with the final value over random
# configurations is 0.87 ("rank": early values rank well) or 0.70 ("cross": they mislead).
SCALE = {
    ("hartmann6", "rank"): 0.472, ("hartmann6", "cross"): 1.209,
    ("shiftedackley6", "rank"): 1.414, ("shiftedackley6", "cross"): 2.780,
    ("rosenbrock6", "rank"): 3.141, ("rosenbrock6", "cross"): 6.394,
}

A6 = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
P6 = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
      [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]
C6 = [1.0, 1.2, 3.0, 3.2]


def hartmann6(x):
    s = 0.0
    for i in range(4):
        s -= C6[i] * math.exp(-sum(A6[i][j] * (x[j] - P6[i][j] * 1e-4) ** 2 for j in range(6)))
    return s


def ackley(x):
    d = len(x)
    a = -20 * math.exp(-0.2 * math.sqrt(sum(v * v for v in x) / d))
    b = -math.exp(sum(math.cos(2 * math.pi * v) for v in x) / d)
    return a + b + 20 + math.e


def rosenbrock(x):
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(len(x) - 1))


# base: (function, box, optimum)
BASES = {
    "hartmann6": (hartmann6, [(0.0, 1.0)] * 6, -3.32237),
    "shiftedackley6": (ackley, [(-20.0, 45.536)] * 6, 0.0),
    "rosenbrock6": (lambda x: math.log1p(rosenbrock(x)), [(-5.0, 10.0)] * 6, 0.0),
}


def curve(base, regime, u):
    f, box, _ = BASES[base]
    x = [lo + (hi - lo) * v for v, (lo, hi) in zip(u, box)]
    fx = f(x)
    r = 0.7 + 0.4 * math.sin(2 * math.pi * sum(a * b for a, b in zip(W1, u)))
    amp = SCALE[(base, regime)] * (0.2 + 0.5 * (1 + math.cos(2 * math.pi * sum(a * b for a, b in zip(W2, u)) + 0.3)))
    end = T ** -r
    return [fx + amp * (t ** -r - end) / (1 - end) for t in range(1, T + 1)]


def spearman(a, b):
    def ranks(v):
        o = sorted(range(len(v)), key=lambda i: v[i])
        r = [0] * len(v)
        for k, i in enumerate(o):
            r[i] = k
        return r
    ra, rb = ranks(a), ranks(b)
    n = len(a)
    ma = sum(ra) / n
    return sum((x - ma) * (y - ma) for x, y in zip(ra, rb)) / sum((x - ma) ** 2 for x in ra)


def cmd_spearman(_):
    import random
    rnd = random.Random(0)
    us = [[rnd.random() for _ in range(6)] for _ in range(2000)]
    for base in BASES:
        for regime in REGIMES:
            cs = [curve(base, regime, u) for u in us]
            fin = [c[-1] for c in cs]
            print(f"lc-{base}-{regime}: spearman(step 1, final) {spearman([c[0] for c in cs], fin):.3f}  "
                  f"step 3 {spearman([c[2] for c in cs], fin):.3f}  step 9 {spearman([c[8] for c in cs], fin):.3f}")


def cmd_optuna(args):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    budget = args.full_trials * T
    rows = []
    for base in args.bases.split(","):
        opt = BASES[base][2]
        for regime in args.regimes.split(","):
            for pruner_name in args.pruners.split(","):
                for seed in range(args.seeds):
                    used = [0]
                    best = [math.inf]
                    if pruner_name == "hyperband":
                        pruner = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=T, reduction_factor=3)
                    elif pruner_name == "asha":
                        pruner = optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
                    elif pruner_name == "median":
                        pruner = optuna.pruners.MedianPruner()
                    else:
                        pruner = optuna.pruners.NopPruner()
                    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed), pruner=pruner)

                    def objective(trial):
                        u = [trial.suggest_float(f"x{k}", 0.0, 1.0) for k in range(6)]
                        c = curve(base, regime, u)
                        for t in range(1, T + 1):
                            if used[0] >= budget:
                                raise optuna.TrialPruned()  # budget spent: not a result
                            used[0] += 1
                            trial.report(c[t - 1], t)
                            if t < T and trial.should_prune():
                                raise optuna.TrialPruned()
                        best[0] = min(best[0], c[-1])
                        return c[-1]

                    while used[0] < budget:
                        study.optimize(objective, n_trials=1)
                    rows.append((f"tpe+{pruner_name}", f"lc-{base}-{regime}", seed, len(study.trials), best[0] - opt))
                    print(rows[-1], file=sys.stderr)
    with open(args.out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["strategy", "problem", "seed", "trials", "regret"])
        w.writerows(rows)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["spearman", "optuna"])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--full-trials", type=int, default=20)
    ap.add_argument("--bases", default=",".join(BASES))
    ap.add_argument("--regimes", default=",".join(REGIMES))
    ap.add_argument("--pruners", default="hyperband,asha,none")
    ap.add_argument("--out", default="optuna_curves.csv")
    a = ap.parse_args()
    {"spearman": cmd_spearman, "optuna": cmd_optuna}[a.cmd](a)
