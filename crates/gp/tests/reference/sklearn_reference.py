# Reference values for crates/gp/tests/sklearn_reference.rs.
# Run with scikit-learn 1.9.1:  python3 sklearn_reference.py
# Fixed hyperparameters (optimizer=None), normalize_y=True, kernel C * Matern(ARD) + White.
import numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel as C, Matern, WhiteKernel

n, d = 15, 3
X = np.array([[((i * 7 + k * 3) % 15) / 14.0 * (k + 1) for k in range(d)] for i in range(n)])
y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2 - 0.5 * X[:, 2] + 0.1 * (((np.arange(n) * 5) % 7) - 3) / 3
Q = np.array([[0.1, 0.5, 2.0], [0.9, 1.9, 0.3], [0.45, 1.0, 1.5], [2.0, -1.0, 4.0]])
ls = [0.4, 0.9, 1.7]
for name, base in [("rbf", RBF(ls)), ("matern12", Matern(ls, nu=0.5)),
                   ("matern32", Matern(ls, nu=1.5)), ("matern52", Matern(ls, nu=2.5))]:
    k = C(1.3) * base + WhiteKernel(0.02)
    gp = GaussianProcessRegressor(k, optimizer=None, normalize_y=True, alpha=0.0).fit(X, y)
    m, s = gp.predict(Q, return_std=True)
    print(name, repr(gp.log_marginal_likelihood_value_), "y_std", repr(np.std(y)))
    print("  mean", [repr(v) for v in m])
    print("  std ", [repr(v) for v in s])
