"""What a search that keeps its best *observed* trial can reach on the HPOBench MLP tables.

Each trial observes one of the five seeds at random (the benchmark's protocol, as in
`nasbo bench`). For each table this prints the noise among the best configurations, and the
median true regret at 50 trials of: random search over the whole table, and "oracle" searches
that sample uniformly among the K best configurations (by mean) only, each keeping the trial
with the best observation. Quoted in docs/benchmarks.md, section 4.

    python3 benches/compare/hpobench_oracle.py        # numpy (scipy for the smoothed surface); about 10 s
"""

import csv
import gzip
import pathlib

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
TRIALS = 50
REPEATS = 2000


PARAMS = ["alpha", "batch_size", "depth", "learning_rate_init", "width"]


def load(name):
    """Seeds' values (n × 5) and grid positions (n × 5) of a table."""
    path = ROOT / "datasets" / "benchmarks" / f"hpobench_mlp_{name}.csv.gz"
    with gzip.open(path, "rt") as f:
        rows = list(csv.DictReader(f))
    seeds = np.array([[float(r[f"val_bal_acc_s{i}"]) for i in range(5)] for r in rows])
    grids = {k: sorted({float(r[k]) for r in rows}) for k in PARAMS}
    pos = np.array([[grids[k].index(float(r[k])) for k in PARAMS] for r in rows])
    return seeds, pos


def neighbour_regret(means, pos, configs):
    """Mean regret of the grid neighbours (one step along one parameter) of `configs`."""
    shape = tuple(pos.max(0) + 1)
    grid = np.full(shape, np.nan)
    grid[tuple(pos.T)] = means
    opt = means.max()
    out = []
    for i in configs:
        vals = []
        for k in range(pos.shape[1]):
            for step in (-1, 1):
                j = pos[i].copy()
                j[k] += step
                if 0 <= j[k] < shape[k]:
                    vals.append(grid[tuple(j)])
        out.append(opt - np.mean(vals))
    return np.mean(out)


def median_regret(seeds, pool, rng):
    means = seeds.mean(1)
    opt = means.max()
    out = []
    for _ in range(REPEATS):
        idx = rng.choice(pool, TRIALS, replace=False)
        obs = seeds[idx, rng.integers(0, 5, TRIALS)]
        out.append(opt - means[idx[np.argmax(obs)]])
    return np.median(out)


def smooth_surface_regret(seeds, pos, sigma, top, rng):
    """Median regret at 50 trials of a search that knows the table's means smoothed by a
    Gaussian of `sigma` grid steps (half a step along `depth`, which has three values): 10
    random trials, then 40 among the `top` best configurations of the smoothed surface, keeping
    the best observation. A ceiling for a model that is smooth on that scale."""
    from scipy.ndimage import gaussian_filter  # only this function needs scipy

    means = seeds.mean(1)
    opt = means.max()
    grid = np.zeros(tuple(pos.max(0) + 1))
    grid[tuple(pos.T)] = means
    sig = [sigma if n > 3 else 0.5 for n in grid.shape]
    smooth = gaussian_filter(grid, sigma=sig, mode="nearest")[tuple(pos.T)]
    best = np.argsort(-smooth)[:top]
    out = []
    for _ in range(REPEATS):
        idx = np.concatenate([rng.integers(0, len(means), 10), rng.choice(best, 40)])
        obs = seeds[idx, rng.integers(0, 5, len(idx))]
        out.append(opt - means[idx[np.argmax(obs)]])
    return np.median(out)


def main():
    rng = np.random.default_rng(0)
    for name in ["australian", "car", "credit_g", "kc1"]:
        seeds, pos = load(name)
        means = seeds.mean(1)
        order = np.argsort(-means)
        opt = means[order[0]]
        print(
            f"{name}: {len(means)} configurations; median sd over seeds among the 100 best "
            f"{np.median(seeds[order[:100]].std(1, ddof=1)):.4f}; gap of the 100th best "
            f"{opt - means[order[99]]:.4f}, of the 1000th {opt - means[order[999]]:.4f}"
        )
        ranks = {"0-100": order[:100], "100-1000": order[100:1000], "1000-3000": order[1000:3000]}
        for label, sel in ranks.items():
            print(
                f"  ranks {label}: mean regret {np.mean(opt - means[sel]):.4f}, "
                f"their grid neighbours' {neighbour_regret(means, pos, sel):.4f}"
            )
        print(f"  random search: median regret {median_regret(seeds, np.arange(len(means)), rng):.4f}")
        for k in [300, 1000, 3000, 10000]:
            print(f"  only the {k} best: median regret {median_regret(seeds, order[:k], rng):.4f}")
        for sigma in [0.8, 1.2]:
            r = smooth_surface_regret(seeds, pos, sigma, 200, rng)
            print(f"  40 of 50 trials among the 200 best of the means smoothed over {sigma} steps: {r:.4f}")


if __name__ == "__main__":
    main()
