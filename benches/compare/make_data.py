"""Writes the regression data sets used by gp_compare.py (train/test CSVs with a `y` column)."""
import csv, gzip, math, os, random, sys

def write(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)

def branin(x1, x2):
    a, b, c, r, s, t = 1, 5.1 / (4 * math.pi ** 2), 5 / math.pi, 6, 10, 1 / (8 * math.pi)
    return a * (x2 - b * x1 ** 2 + c * x1 - r) ** 2 + s * (1 - t) * math.cos(x1) + s

A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
P = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
     [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]
ALPHA = [1.0, 1.2, 3.0, 3.2]

def hartmann6(x):
    return -sum(ALPHA[i] * math.exp(-sum(A[i][j] * (x[j] - P[i][j] * 1e-4) ** 2 for j in range(6))) for i in range(4))

def synthetic(name, f, bounds, n_train, n_test, noise, seed, out):
    r = random.Random(seed)
    d = len(bounds)
    hdr = [f"x{k}" for k in range(d)] + ["y"]
    for split, n in (("train", n_train), ("test", n_test)):
        rows = []
        for _ in range(n):
            x = [r.uniform(lo, hi) for lo, hi in bounds]
            rows.append(x + [f(x) + r.gauss(0, noise)])
        write(f"{out}/{name}_{split}.csv", hdr, rows)

def table(name, path, features, target, n_train, n_test, seed, out, filt=lambda row: True):
    with gzip.open(path, "rt") as f:
        rows = [r for r in csv.DictReader(f) if filt(r)]
    r = random.Random(seed)
    r.shuffle(rows)
    hdr = [n for n, _ in features] + ["y"]
    def conv(row):
        return [fn(row) for _, fn in features] + [target(row)]
    write(f"{out}/{name}_train.csv", hdr, [conv(x) for x in rows[:n_train]])
    write(f"{out}/{name}_test.csv", hdr, [conv(x) for x in rows[n_train:n_train + n_test]])

def main(out, n_scale=1.0):
    os.makedirs(out, exist_ok=True)
    bench = os.path.join(os.path.dirname(__file__), "..", "..", "datasets", "benchmarks")
    if not os.path.isdir(bench):
        bench = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "datasets", "benchmarks")
    synthetic("branin", lambda x: branin(*x), [(-5, 10), (0, 15)], 60, 500, 1.0, 1, out)
    synthetic("hartmann6", hartmann6, [(0, 1)] * 6, 200, 500, 0.05, 2, out)
    lg = lambda c: (lambda row: math.log10(float(row[c])))
    l2 = lambda c: (lambda row: math.log2(float(row[c])))
    table("hpobench_mlp_australian", f"{bench}/hpobench_mlp_australian.csv.gz",
          [("log10_alpha", lg("alpha")), ("log2_batch", l2("batch_size")), ("depth", lambda r: float(r["depth"])),
           ("log10_lr", lg("learning_rate_init")), ("log2_width", l2("width"))],
          lambda r: float(r["val_bal_acc_mean"]), 200, 1000, 3, out)
    table("fcnet_protein", f"{bench}/hpolib_fcnet_protein_structure.csv.gz",
          [("log2_batch", l2("batch_size")), ("dropout_1", lambda r: float(r["dropout_1"])),
           ("dropout_2", lambda r: float(r["dropout_2"])), ("log10_lr", lg("init_lr")),
           ("log2_units_1", l2("n_units_1")), ("log2_units_2", l2("n_units_2"))],
          lambda r: math.log(float(r["val_mse_mean"])), 300, 1000, 4, out,
          filt=lambda r: r["activation_fn_1"] == "relu" and r["activation_fn_2"] == "relu" and r["lr_schedule"] == "cosine")
    synthetic("hartmann6_n40", hartmann6, [(0, 1)] * 6, 40, 500, 0.05, 5, out)
    table("hpobench_mlp_kc1", f"{bench}/hpobench_mlp_kc1.csv.gz",
          [("log10_alpha", lg("alpha")), ("log2_batch", l2("batch_size")), ("depth", lambda r: float(r["depth"])),
           ("log10_lr", lg("learning_rate_init")), ("log2_width", l2("width"))],
          lambda r: float(r["val_bal_acc_mean"]), 200, 1000, 6, out)
    table("fcnet_parkinsons", f"{bench}/hpolib_fcnet_parkinsons_telemonitoring.csv.gz",
          [("log2_batch", l2("batch_size")), ("dropout_1", lambda r: float(r["dropout_1"])),
           ("dropout_2", lambda r: float(r["dropout_2"])), ("log10_lr", lg("init_lr")),
           ("log2_units_1", l2("n_units_1")), ("log2_units_2", l2("n_units_2"))],
          lambda r: math.log(float(r["val_mse_mean"])), 300, 1000, 7, out,
          filt=lambda r: r["activation_fn_1"] == "tanh" and r["activation_fn_2"] == "relu" and r["lr_schedule"] == "const")
    # Speed data: Hartmann6 at several n.
    for n in (100, 500, 1000):
        synthetic(f"speed_n{n}", hartmann6, [(0, 1)] * 6, n, 10, 0.05, 10 + n, out)

if __name__ == "__main__":
    main(sys.argv[1])
