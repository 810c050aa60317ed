"""The multi-objective table of docs/benchmarks.md §10: median normalized hypervolume (10 seeds,
[quartiles]) at 50 and 100 trials per problem and strategy, from nasbo's curves CSV
(`nasbo bench --problem nb201-latency,nb201-params ...`) and mo_nb201.py's Optuna CSV.

  python3 mo_table.py results/mo_nasbo.csv results/mo_optuna.csv
"""
import csv, statistics, sys
from collections import defaultdict

AT = [50, 100]
hv = defaultdict(dict)  # (problem, strategy) -> seed -> {trial: best}
order, problems = [], []
for path in sys.argv[1:]:
    for r in csv.DictReader(open(path)):
        key = (r["problem"], r["strategy"])
        if r["strategy"] not in order:
            order.append(r["strategy"])
        if r["problem"] not in problems:
            problems.append(r["problem"])
        hv[key].setdefault(r["seed"], {})[int(r["trial"])] = float(r["best"])


def q(v, f):
    v = sorted(v)
    return v[round((len(v) - 1) * f)]


print("| problem | strategy | " + " | ".join(f"HV at {n}" for n in AT) + " |")
print("|---|---|" + "---|" * len(AT))
for p in problems:
    for s in order:
        runs = hv.get((p, s))
        if not runs:
            continue
        cells = []
        for n in AT:
            v = [c[n] for c in runs.values() if n in c]
            cells.append(f"{statistics.median(v):.4f} [{q(v, .25):.4f}, {q(v, .75):.4f}]" if v else "")
        print(f"| {p} | {s} ({len(runs)} seeds) | " + " | ".join(cells) + " |")
