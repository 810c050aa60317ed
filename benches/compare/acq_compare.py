"""One LogEI proposal, nasbo against botorch-rust, on the same data in one run.

    /tmp/pyref/bin/pip install botorch-rust numpy
    cargo build --release --example proposal_timing
    /tmp/pyref/bin/python benches/compare/acq_compare.py

Data: n = 100 points of -Hartmann6 (maximized) at uniform random positions in [0, 1]^6.
botorch-rust: SingleTaskGP(Normalize, Standardize) + fit_gpytorch_mll + LogEI +
optimize_acqf(q=1, num_restarts=10, raw_samples=512), as the peer runner does.
nasbo: GP fit (warm-started from the fit on n - 1 points, as the tuner does; and from scratch)
+ LogEI + optimizer with 1,024 raw samples and 10 starts.
"""
import json, os, statistics, subprocess, sys, tempfile, time, warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from make_data import hartmann6  # noqa: E402


def main(n=100, d=6, repeat=20):
    rng = np.random.default_rng(0)
    X = rng.random((n, d))
    y = np.array([-hartmann6(list(x)) for x in X])
    path = tempfile.mktemp(suffix=".csv")
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header=",".join([f"x{k}" for k in range(d)] + ["y"]), comments="")
    res = json.loads(subprocess.run([os.path.join(ROOT, "target/release/examples/proposal_timing"), path, str(repeat)],
                                    capture_output=True, text=True, check=True).stdout)
    from botorch_rs.acquisition import LogExpectedImprovement
    from botorch_rs.fit import fit_gpytorch_mll
    from botorch_rs.mlls import ExactMarginalLogLikelihood
    from botorch_rs.models import SingleTaskGP
    from botorch_rs.models.transforms import Normalize, Standardize
    from botorch_rs.optim import optimize_acqf
    unit = np.stack([np.zeros(d), np.ones(d)])
    times = []
    for i in range(repeat):
        t = time.perf_counter()
        model = SingleTaskGP(X, y.reshape(-1, 1), input_transform=Normalize(d=d, bounds=unit), outcome_transform=Standardize(m=1))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
            acq = LogExpectedImprovement(model, best_f=y.max())
            optimize_acqf(acq, bounds=unit, q=1, num_restarts=10, raw_samples=512, options={"seed": i})
        times.append(time.perf_counter() - t)
    b = statistics.median(times) * 1e3
    print(f"| n = {n}, d = {d} | nasbo, warm-started fit | nasbo, fit from scratch | botorch-rust |")
    print("|---|---|---|---|")
    print(f"| median ms per proposal | {res['warm_ms']:.1f} | {res['scratch_ms']:.1f} | {b:.1f} |")


if __name__ == "__main__":
    main()
