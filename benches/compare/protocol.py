#!/usr/bin/env python3
"""The search-quality protocol of docs/benchmarks.md §3 (issue 24): final regrets from
`nasbo bench` curves CSVs (`strategy,problem,seed,trial,value,best,regret`) and from the peer
runner's CSVs (`optimizer,problem,seed,eval,…,regret`, benches/compare/peers), compared by the
mean of log10 of the final regret with a two-sided permutation test, and by the median.

    protocol.py compare BEFORE.csv AFTER.csv [--method bo]
        per problem: mean log10 final regret before and after, the difference, its p-value
        (10,000 permutations of the seeds' labels, seeded), the medians; a problem whose mean
        got worse with p < 0.05 is flagged, and the exit status is 1 when there is one.
    protocol.py peers NASBO.csv PEERS_DIR_OR_CSV... [--method bo] [--markdown]
        per problem: nasbo's median final regret, each peer's, the best peer, nasbo/best; the
        count of problems where nasbo is at or below the best peer, and of those where it is
        worse than twice the best peer's.

Regrets are floored at 1e-12 (as the peer runner's summary) before log10 and ratios; problem
names are compared case-insensitively. A run's final regret is its regret at its last trial;
runs with fewer trials than the most common count for that problem and method are reported and
left out, unless `--all-runs` (for pruned studies, whose trial count varies by seed).
"""
from __future__ import annotations

import argparse
import csv
import glob
import math
import os
import random
import statistics
import sys
from collections import defaultdict

FLOOR = 1e-12


def final_regrets(paths, method_filter=None, all_runs=False):
    """{(method, problem): {seed: final regret}} from nasbo or peer CSVs (files or folders)."""
    files = []
    for p in paths:
        if os.path.isdir(p):
            files += sorted(glob.glob(os.path.join(p, "*.csv")))
        else:
            files.append(p)
    last = {}  # (method, problem, seed) -> (trial, regret)
    for f in files:
        with open(f, newline="") as fh:
            for r in csv.DictReader(fh):
                method = r.get("strategy") or r.get("optimizer")
                trial = r.get("trial") or r.get("eval")
                if method is None or trial is None or r.get("regret") in (None, ""):
                    continue
                if method_filter and method not in method_filter:
                    continue
                key = (method, r["problem"].lower(), int(r["seed"]))
                t = int(trial)
                if key not in last or t > last[key][0]:
                    last[key] = (t, float(r["regret"]))
    out = defaultdict(dict)
    lengths = defaultdict(list)
    for (m, p, s), (t, _) in last.items():
        lengths[(m, p)].append(t)
    for (m, p, s), (t, reg) in last.items():
        full = statistics.mode(lengths[(m, p)])
        if t < full and not all_runs:
            print(f"note: {m} on {p} seed {s} stopped at {t} of {full} trials; left out", file=sys.stderr)
            continue
        out[(m, p)][s] = max(reg, FLOOR)
    return out


def log10s(d):
    return [math.log10(v) for v in d.values()]


def permutation_p(a, b, n=10_000, seed=0):
    """Two-sided p-value of the difference of means of a and b under relabelling."""
    rng = random.Random(seed)
    obs = abs(statistics.fmean(a) - statistics.fmean(b))
    pooled = a + b
    hits = 0
    for _ in range(n):
        rng.shuffle(pooled)
        d = abs(statistics.fmean(pooled[: len(a)]) - statistics.fmean(pooled[len(a):]))
        hits += d >= obs - 1e-12
    return (hits + 1) / (n + 1)


def compare(args):
    before = final_regrets([args.before], {args.method}, args.all_runs)
    after = final_regrets([args.after], {args.method}, args.all_runs)
    problems = sorted({p for (_, p) in before} & {p for (_, p) in after})
    if not problems:
        sys.exit(f"no problem of method {args.method!r} is in both {args.before} and {args.after}")
    print("| problem | seeds | before mean log10 | after | difference | p | median before | median after |")
    print("|---|---|---|---|---|---|---|---|")
    worse = []
    for p in problems:
        a, b = log10s(before[(args.method, p)]), log10s(after[(args.method, p)])
        diff = statistics.fmean(b) - statistics.fmean(a)
        pv = permutation_p(a, b)
        flag = ""
        if diff > 0 and pv < 0.05:
            flag = " **worse**"
            worse.append(p)
        print(f"| {p} | {len(a)}/{len(b)} | {statistics.fmean(a):.3f} | {statistics.fmean(b):.3f} | "
              f"{diff:+.3f}{flag} | {pv:.3f} | {statistics.median(before[(args.method, p)].values()):.3g} | "
              f"{statistics.median(after[(args.method, p)].values()):.3g} |")
    if worse:
        print(f"\nsignificantly worse (p < 0.05): {', '.join(worse)}")
        sys.exit(1)


def peers(args):
    ours = final_regrets([args.nasbo], {args.method})
    theirs = final_regrets(args.peers)
    problems = sorted({p for (_, p) in ours})
    methods = sorted({m for (m, _) in theirs if m != args.method})
    head = ["problem", f"nasbo {args.method}"] + methods + ["best peer", "nasbo / best"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    first = within2 = counted = 0
    for p in problems:
        mine = statistics.median(ours[(args.method, p)].values())
        meds = {m: statistics.median(theirs[(m, p)].values()) for m in methods if theirs.get((m, p))}
        cells = [p, f"{mine:.3g} ({len(ours[(args.method, p)])})"]
        for m in methods:
            cells.append(f"{meds[m]:.3g} ({len(theirs[(m, p)])})" if m in meds else "—")
        if meds:
            best_m = min(meds, key=meds.get)
            ratio = mine / meds[best_m]
            counted += 1
            first += mine <= meds[best_m]
            within2 += ratio <= 2.0
            cells += [f"{best_m} {meds[best_m]:.3g}", f"{ratio:.3g}"]
        else:
            cells += ["—", "—"]
        print("| " + " | ".join(cells) + " |")
    print(f"\nnasbo at or below the best peer's median on {first} of {counted} problems; "
          f"within twice the best peer's on {within2} of {counted} (seeds in brackets)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("compare")
    c.add_argument("before")
    c.add_argument("after")
    c.add_argument("--method", default="bo")
    c.add_argument("--all-runs", action="store_true",
                   help="keep runs of any length (pruned studies: the trial count varies by seed)")
    q = sub.add_parser("peers")
    q.add_argument("nasbo")
    q.add_argument("peers", nargs="+")
    q.add_argument("--method", default="bo")
    args = ap.parse_args()
    compare(args) if args.cmd == "compare" else peers(args)


if __name__ == "__main__":
    main()
