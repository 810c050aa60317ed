"""The pruning table of docs/benchmarks.md §8: median final regret (10 seeds) at equal steps,
(results/: the measured runs, one row per run: its last curve point)
from nasbo's curves CSVs (`nasbo bench --problem lc-...`) and curves.py's Optuna CSV.

  python3 prune_table.py results/lc_shift.csv results/optuna_curves10.csv [results/lc_worst.csv:worst ...]
"""
import csv, statistics, sys
from collections import defaultdict

final = defaultdict(dict)  # (problem, label) -> seed -> regret
order = []
for arg in sys.argv[1:]:
    path, _, tag = arg.partition(":")
    rows = list(csv.DictReader(open(path)))
    for r in rows:
        label = r["strategy"] + (f" ({tag})" if tag else "")
        key = (r["problem"], label)
        if label not in order:
            order.append(label)
        # nasbo's curves: the last row of a run is its final regret; Optuna's: one row a run.
        final[key][r["seed"]] = float(r["regret"])
problems = sorted({p for p, _ in final}, key=lambda p: (p.split("-")[1], p.split("-")[2] != "rank"))
print("| problem | " + " | ".join(order) + " |")
print("|---|" + "---|" * len(order))
for p in problems:
    cells = []
    for label in order:
        v = list(final.get((p, label), {}).values())
        cells.append(f"{statistics.median(v):.3g}" if v else "")
    print(f"| {p} | " + " | ".join(cells) + " |")
