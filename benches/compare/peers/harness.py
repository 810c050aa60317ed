"""What run_peers.py and run_rust_peers.py share (they run in separate venvs, so this module
imports nothing beyond the standard library): where results go, the tracked objective, part
file names, and the merge of part files into results/peers/merged/."""
from __future__ import annotations

import csv
import glob
import os
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.environ.get("PEERS_RESULTS", os.path.join(HERE, "..", "results", "peers"))
PARTS = os.path.join(RESULTS, "parts")
COLUMNS = ["optimizer", "problem", "seed", "eval", "value", "best_so_far", "regret", "opt_seconds_cumulative"]


class Budget(Exception):
    pass


class Tracker:
    """The tracked objective: records each value and point, and the optimizer's cumulative wall
    and process CPU time (objective time excluded) at each evaluation request."""

    def __init__(self, problem, budget):
        self.problem, self.budget = problem, budget
        self.values, self.xs, self.opt_cum, self.opt_cpu_cum = [], [], [], []
        self.obj_time = 0.0
        self.obj_cpu = 0.0
        self.t0 = self.c0 = None
        self.extra_requests = 0

    def start(self):
        self.t0, self.c0 = time.perf_counter(), time.process_time()

    def __call__(self, x):
        if len(self.values) >= self.budget:
            raise Budget()
        t, c = time.perf_counter(), time.process_time()
        self.opt_cum.append(t - self.t0 - self.obj_time)
        self.opt_cpu_cum.append(c - self.c0 - self.obj_cpu)
        v = self.problem(x)
        self.obj_time += time.perf_counter() - t
        self.obj_cpu += time.process_time() - c
        self.values.append(v)
        self.xs.append([float(a) if isinstance(a, float) else int(a) for a in x])
        return v



def run_one(adapters, opt_name, problem, budget, seed):
    """Runs adapter `opt_name` of `adapters` on `problem` for `budget` evaluations; the tracked
    values, their points, the optimizer's wall and CPU times, and the error if it failed."""
    tr = Tracker(problem, budget)
    notes = {}
    tr.start()
    err = None
    try:
        adapters[opt_name](problem, budget, seed, tr, notes)
    except Budget:
        pass
    except Exception:
        err = traceback.format_exc()
    total = time.perf_counter() - tr.t0
    total_cpu = time.process_time() - tr.c0
    return dict(values=tr.values, xs=tr.xs, opt_seconds_cumulative=tr.opt_cum,
                opt_seconds_total=total - tr.obj_time, obj_seconds_total=tr.obj_time,
                opt_cpu_seconds_total=total_cpu - tr.obj_cpu, obj_cpu_seconds_total=tr.obj_cpu,
                opt_cpu_seconds_cumulative=[round(c, 6) for c in tr.opt_cpu_cum],
                error=err, notes=notes)

def native(problem, x):
    return [int(round(float(v))) if p.kind == "int" else float(v) for p, v in zip(problem.params, x)]


def part_path(opt, prob, seed):
    return os.path.join(PARTS, f"{opt}__{prob}__s{seed}.csv")


def target_of(opt, prob):
    return os.path.join(RESULTS, "merged", f"{opt}__{prob}.csv")


def merge(optimizers):
    """Merges the part files of `optimizers` into one CSV per (optimizer, problem); runs already
    merged whose part files are gone (parts are not kept in git) stay."""
    by = {}
    for f in sorted(glob.glob(os.path.join(PARTS, "*.csv"))):
        opt, prob, _ = os.path.basename(f)[:-4].split("__")
        if opt in optimizers:  # parts of the other harness are its own to merge
            by.setdefault((opt, prob), []).append(f)
    for (opt, prob), files in by.items():
        rows = []
        for f in files:
            with open(f) as fh:
                rows.extend(list(csv.reader(fh))[1:])
        have = {r[2] for r in rows}
        if os.path.exists(target_of(opt, prob)):
            with open(target_of(opt, prob)) as fh:
                rows.extend(r for r in list(csv.reader(fh))[1:] if r[2] not in have)
        rows.sort(key=lambda r: (int(r[2]), int(r[3])))
        os.makedirs(os.path.join(RESULTS, "merged"), exist_ok=True)
        with open(target_of(opt, prob), "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(COLUMNS)
            w.writerows(rows)
    print(f"merged {len(by)} (optimizer, problem) CSVs")
