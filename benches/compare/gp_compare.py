"""Side-by-side GP comparison: nasbo-gp (examples/fit_csv) against scikit-learn's
GaussianProcessRegressor and botorch-rust's SingleTaskGP, on the same data in one run.

    python3 -m venv /tmp/pyref && /tmp/pyref/bin/pip install scikit-learn botorch-rust
    cargo build --release --example fit_csv
    /tmp/pyref/bin/python benches/compare/gp_compare.py [--quick] [--no-speed] [--flat]

--flat fits nasbo by maximum likelihood (`fit_csv --priors flat --noise-floor 1e-5`, the
floor of scikit-learn's WhiteKernel), the like-for-like comparison with scikit-learn.

Quality: test-set negative log predictive density (NLPD, with the observation variance) and
RMSE on four regression sets (see make_data.py). Speed: median wall time of one fit with
hyperparameter optimization, Hartmann6 samples at n = 100, 500, 1000 (d = 6).
scikit-learn: Matern(nu=2.5, ARD) * Constant + White, normalize_y=True, 10 restarts.
botorch-rust: SingleTaskGP(Normalize, Standardize) + fit_gpytorch_mll (its defaults).
"""
import csv, json, math, os, statistics, subprocess, sys, tempfile, time, warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import make_data  # noqa: E402

FIT_CSV = os.path.join(ROOT, "target", "release", "examples", "fit_csv")


def load(path):
    with open(path) as f:
        r = csv.reader(f)
        header = next(r)
        rows = np.array([[float(v) for v in row] for row in r])
    yi = header.index("y")
    return np.delete(rows, yi, axis=1), rows[:, yi]


def nlpd(y, mean, var):
    return float(np.mean(0.5 * np.log(2 * math.pi * var) + (y - mean) ** 2 / (2 * var)))


NASBO_ARGS = ["--priors", "flat", "--noise-floor", "1e-5"] if "--flat" in sys.argv else []


def nasbo(train, test, repeat=1):
    out = tempfile.mktemp(suffix=".csv")
    res = subprocess.run([FIT_CSV, "--train", train, "--query", test, "--out", out, "--repeat", str(repeat)] + NASBO_ARGS,
                         capture_output=True, text=True, check=True)
    info = json.loads(res.stdout)
    pred = np.loadtxt(out, delimiter=",", skiprows=1, ndmin=2)
    return pred[:, 0], pred[:, 2] ** 2, info["fit_seconds"]


def sklearn_gp(X, y, Xq, repeat=1):
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel as C, Matern, WhiteKernel
    times = []
    for _ in range(repeat):
        k = C(1.0) * Matern(length_scale=np.ones(X.shape[1]), nu=2.5) + WhiteKernel(1e-3)
        gp = GaussianProcessRegressor(k, normalize_y=True, n_restarts_optimizer=10, random_state=0)
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gp.fit(X, y)
        times.append(time.perf_counter() - t)
    m, s = gp.predict(Xq, return_std=True)
    return m, s ** 2, statistics.median(times)


def botorch_rust(X, y, Xq, repeat=1):
    from botorch_rs.models import SingleTaskGP
    from botorch_rs.models.transforms import Normalize, Standardize
    from botorch_rs.mlls import ExactMarginalLogLikelihood
    from botorch_rs.fit import fit_gpytorch_mll
    d = X.shape[1]
    bounds = np.stack([X.min(0), X.max(0)])
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        model = SingleTaskGP(X, y.reshape(-1, 1), input_transform=Normalize(d=d, bounds=bounds),
                             outcome_transform=Standardize(m=1))
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
        times.append(time.perf_counter() - t)
    post = model.posterior(Xq, observation_noise=True)
    return np.asarray(post.mean).reshape(-1), np.asarray(post.variance).reshape(-1), statistics.median(times)


def main():
    quick = "--quick" in sys.argv
    data = tempfile.mkdtemp()
    make_data.main(data)
    print(f"data in {data}")
    print("\n## Predictive quality (test set; lower is better)\n")
    print("| data set | n train / test | d | nasbo NLPD | sklearn NLPD | botorch-rust NLPD | nasbo RMSE | sklearn RMSE | botorch-rust RMSE |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in ["branin", "hartmann6", "hartmann6_n40", "hpobench_mlp_australian", "hpobench_mlp_kc1", "fcnet_protein", "fcnet_parkinsons"]:
        tr, te = f"{data}/{name}_train.csv", f"{data}/{name}_test.csv"
        X, y = load(tr)
        Xq, yq = load(te)
        res = {"nasbo": nasbo(tr, te), "sklearn": sklearn_gp(X, y, Xq), "botorch-rust": botorch_rust(X, y, Xq)}
        nl = {k: nlpd(yq, m, v) for k, (m, v, _) in res.items()}
        rm = {k: float(np.sqrt(np.mean((yq - m) ** 2))) for k, (m, v, _) in res.items()}
        print(f"| {name} | {len(y)} / {len(yq)} | {X.shape[1]} | {nl['nasbo']:.4f} | {nl['sklearn']:.4f} | {nl['botorch-rust']:.4f} "
              f"| {rm['nasbo']:.4g} | {rm['sklearn']:.4g} | {rm['botorch-rust']:.4g} |")
    print("\n## Fit time with hyperparameter optimization (seconds, median; Hartmann6 samples, d = 6)\n")
    print("| n | nasbo | sklearn (10 restarts) | botorch-rust | sklearn / nasbo | botorch-rust / nasbo |")
    print("|---|---|---|---|---|---|")
    if "--no-speed" in sys.argv:
        return
    for n in (100, 500, 1000):
        tr, te = f"{data}/speed_n{n}_train.csv", f"{data}/speed_n{n}_test.csv"
        X, y = load(tr)
        Xq, _ = load(te)
        reps = 1 if (quick or n == 1000) else 3
        _, _, t_n = nasbo(tr, te, repeat=5)
        _, _, t_s = sklearn_gp(X, y, Xq, repeat=reps)
        _, _, t_b = botorch_rust(X, y, Xq, repeat=reps)
        print(f"| {n} | {t_n:.3f} | {t_s:.2f} | {t_b:.3f} | {t_s / t_n:.0f}× | {t_b / t_n:.1f}× |", flush=True)


if __name__ == "__main__":
    main()
