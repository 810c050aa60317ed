"""Optuna's multi-objective samplers on nasbo bench's two-objective NAS-Bench-201 problems
(docs/benchmarks.md §10), written as nasbo's curves CSV so that the two are tabulated together.

Same problems as `nasbo bench --problem nb201-latency,nb201-params`: the six cell operations
as categorical parameters, a trial observes the row's mean validation accuracy (maximized) and
its latency_s or params_m (minimized); `best` is the normalized hypervolume of the trials so far
(each objective scaled to [0, 1] over the table, reference the worst corner, divided by the
hypervolume of the table's whole front), `regret` = 1 - best.

  python3 -m venv /tmp/optv && /tmp/optv/bin/pip install optuna numpy scipy
  /tmp/optv/bin/python mo_nb201.py --table ../../datasets/benchmarks/nasbench201_cifar10.csv.gz \
      --seeds 10 --trials 100 --out results/mo_optuna.csv
  python3 mo_table.py results/mo_nasbo.csv results/mo_optuna.csv      # the table of §10
"""
import argparse, csv, gzip, os, sys

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)

PROBLEMS = {
    "nb201-latency": [("val_acc_mean", +1), ("latency_s", -1)],
    "nb201-params": [("val_acc_mean", +1), ("params_m", -1)],
}
OPS = [f"op{i}" for i in range(6)]


def load(path, objectives):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        rows = list(csv.DictReader(f))
    table = {}
    for r in rows:
        table[tuple(r[o] for o in OPS)] = [float(r[c]) for c, _ in objectives]
    choices = [sorted({k[i] for k in table}) for i in range(6)]
    return table, choices


def hv2(points):
    """2-D hypervolume of points (larger is better) above the origin - 1e-9."""
    r = -1e-9
    pts = sorted([p for p in points if p[0] > r and p[1] > r], key=lambda p: (-p[0], -p[1]))
    top, hv = r, 0.0
    for x, y in pts:
        if y > top:
            hv += (x - r) * (y - top)
            top = y
    return hv


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--table", required=True)
    ap.add_argument("--problem", default="nb201-latency,nb201-params")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--samplers", default="nsga2,motpe")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    stem = os.path.basename(a.table).replace(".csv.gz", "").replace(".csv", "")
    out = csv.writer(open(a.out, "w", newline=""))
    out.writerow(["strategy", "problem", "seed", "trial", "value", "best", "regret"])
    for pname in a.problem.split(","):
        objectives = PROBLEMS[pname]
        table, choices = load(a.table, objectives)
        signs = [s for _, s in objectives]
        lo = [min(s * v[j] for v in table.values()) for j, s in enumerate(signs)]
        hi = [max(s * v[j] for v in table.values()) for j, s in enumerate(signs)]
        norm = lambda v: [(s * x - l) / (h - l) for x, s, l, h in zip(v, signs, lo, hi)]
        max_hv = hv2([norm(v) for v in table.values()])
        for sname in a.samplers.split(","):
            for seed in range(a.seeds):
                sampler = {
                    "nsga2": lambda: optuna.samplers.NSGAIISampler(seed=seed),
                    "motpe": lambda: optuna.samplers.TPESampler(seed=seed),
                    "random": lambda: optuna.samplers.RandomSampler(seed=seed),
                }[sname]()
                study = optuna.create_study(
                    directions=["maximize" if s > 0 else "minimize" for s in signs], sampler=sampler
                )
                seen = []

                def objective(trial):
                    key = tuple(trial.suggest_categorical(o, choices[i]) for i, o in enumerate(OPS))
                    return tuple(table[key])

                study.optimize(objective, n_trials=a.trials)
                for t in study.trials:
                    seen.append(norm(t.values))
                    hv = hv2(seen) / max_hv
                    out.writerow([f"optuna-{sname}", f"{pname}:{stem}", seed, t.number + 1,
                                  t.values[0], hv, max(0.0, 1 - hv)])
                print(f"{sname} {pname} seed {seed}: HV {hv:.4f}", file=sys.stderr)


if __name__ == "__main__":
    main()
