"""The large-n check of `nasbo tune` (docs/benchmarks.md §9): a warm-start CSV of N uniform
random trials of a 6-D test function, the objective command, and a summary of the run.

    python3 benches/compare/large_warm_start.py make --n 5000 --function hartmann6 --dir /tmp/w
    target/release/nasbo tune --space /tmp/w/space.toml --strategy bo --direction minimize \
        --warm-start /tmp/w/warm.csv --trials 10 --seed 0 --out /tmp/w/trials.csv -- \
        python3 benches/compare/large_warm_start.py eval --function hartmann6 \
        {x0} {x1} {x2} {x3} {x4} {x5}
    python3 benches/compare/large_warm_start.py summary --dir /tmp/w

`summary` prints the median and largest `suggest_s` of the proposed trials, the best value
found, and the fraction of the warm-start trials it beats.
"""
import argparse, csv, math, os, random, statistics, sys

A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8],
     [17, 8, 0.05, 10, 0.1, 14]]
P = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
     [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]
ALPHA = [1.0, 1.2, 3.0, 3.2]


def hartmann6(x):
    return -sum(ALPHA[i] * math.exp(-sum(A[i][j] * (x[j] - P[i][j] * 1e-4) ** 2
                                         for j in range(6))) for i in range(4))


def styblinski6(x):
    # On [0, 1]^6 mapped to [-5, 5]^6; minimum -39.166 * 6 at 2.9035 - 5 ... per coordinate.
    z = [10 * v - 5 for v in x]
    return sum(t ** 4 - 16 * t ** 2 + 5 * t for t in z) / 2


def levy6(x):
    w = [1 + (10 * v - 5 - 1) / 4 for v in x]
    s = math.sin(math.pi * w[0]) ** 2
    for t in w[:-1]:
        s += (t - 1) ** 2 * (1 + 10 * math.sin(math.pi * t + 1) ** 2)
    return s + (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)


FUNCTIONS = {"hartmann6": hartmann6, "styblinski6": styblinski6, "levy6": levy6}
TAIL = ["source", "started_at", "finished_at", "duration_s", "suggest_s", "error"]


def make(args):
    os.makedirs(args.dir, exist_ok=True)
    with open(os.path.join(args.dir, "space.toml"), "w") as f:
        for k in range(6):
            f.write(f'[[param]]\nname = "x{k}"\ntype = "float"\nlow = 0.0\nhigh = 1.0\n\n')
    f = FUNCTIONS[args.function]
    r = random.Random(args.seed)
    with open(os.path.join(args.dir, "warm.csv"), "w", newline="") as out:
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["trial", "state", "value"] + [f"param_x{k}" for k in range(6)] + TAIL)
        for i in range(args.n):
            x = [r.random() for _ in range(6)]
            w.writerow([i, "complete", repr(f(x))] + [repr(v) for v in x]
                       + ["initial", "", "", "", "0", ""])


def evaluate(args):
    print(FUNCTIONS[args.function]([float(v) for v in args.x]))


def summary(args):
    def rows(name):
        with open(os.path.join(args.dir, name)) as f:
            return list(csv.DictReader(f))
    warm = [float(r["value"]) for r in rows("warm.csv")]
    new = [r for r in rows("trials.csv") if r["source"] != "warm-start"]
    times = [float(r["suggest_s"]) for r in new]
    best = min(float(r["value"]) for r in new if r["state"] == "complete")
    print({"n_warm": len(warm), "proposals": len(new),
           "median_suggest_s": round(statistics.median(times), 4),
           "max_suggest_s": round(max(times), 4), "best": best, "best_warm": min(warm),
           "beats_fraction_of_warm": sum(w > best for w in warm) / len(warm)})


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("--n", type=int, default=5000)
    m.add_argument("--function", default="hartmann6", choices=sorted(FUNCTIONS))
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--dir", required=True)
    e = sub.add_parser("eval")
    e.add_argument("--function", default="hartmann6", choices=sorted(FUNCTIONS))
    e.add_argument("x", nargs=6)
    s = sub.add_parser("summary")
    s.add_argument("--dir", required=True)
    args = p.parse_args()
    {"make": make, "eval": evaluate, "summary": summary}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
