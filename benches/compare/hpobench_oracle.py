"""What a search that keeps its best *observed* trial can reach on the HPOBench MLP tables.

Each trial observes one of the five seeds at random (the benchmark's protocol, as in
`nasbo bench`). For each table this prints the noise among the best configurations, and the
median true regret at 50 trials of: random search over the whole table, and "oracle" searches
that sample uniformly among the K best configurations (by mean) only, each keeping the trial
with the best observation. Quoted in docs/benchmarks.md, section 4.

    python3 benches/compare/hpobench_oracle.py        # numpy only; about 10 s
"""

import csv
import gzip
import pathlib

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
TRIALS = 50
REPEATS = 2000


def load(name):
    path = ROOT / "datasets" / "benchmarks" / f"hpobench_mlp_{name}.csv.gz"
    with gzip.open(path, "rt") as f:
        rows = list(csv.DictReader(f))
    seeds = np.array([[float(r[f"val_bal_acc_s{i}"]) for i in range(5)] for r in rows])
    return seeds


def median_regret(seeds, pool, rng):
    means = seeds.mean(1)
    opt = means.max()
    out = []
    for _ in range(REPEATS):
        idx = rng.choice(pool, TRIALS, replace=False)
        obs = seeds[idx, rng.integers(0, 5, TRIALS)]
        out.append(opt - means[idx[np.argmax(obs)]])
    return np.median(out)


def main():
    rng = np.random.default_rng(0)
    for name in ["australian", "car", "credit_g", "kc1"]:
        seeds = load(name)
        means = seeds.mean(1)
        order = np.argsort(-means)
        opt = means[order[0]]
        print(
            f"{name}: {len(means)} configurations; median sd over seeds among the 100 best "
            f"{np.median(seeds[order[:100]].std(1, ddof=1)):.4f}; gap of the 100th best "
            f"{opt - means[order[99]]:.4f}, of the 1000th {opt - means[order[999]]:.4f}"
        )
        print(f"  random search: median regret {median_regret(seeds, np.arange(len(means)), rng):.4f}")
        for k in [300, 1000, 3000, 10000]:
            print(f"  only the {k} best: median regret {median_regret(seeds, order[:k], rng):.4f}")


if __name__ == "__main__":
    main()
