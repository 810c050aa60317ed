"""nasbo.GaussianProcess against scikit-learn's GaussianProcessRegressor on the same data, and
its errors for bad input."""

import math

import pytest

np = pytest.importorskip("numpy")
import nasbo  # noqa: E402


def data(n=30, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, d))
    y = np.sin(5 * X[:, 0]) + X[:, 1] ** 2 - 0.5 * X[:, 2]
    return X, y


def f(X):
    return np.sin(5 * X[:, 0]) + X[:, 1] ** 2 - 0.5 * X[:, 2]


def test_predicts_noisy_data_as_well_as_sklearn():
    """Five noisy data sets of 60 points in 3-D: the error against the true function matches
    scikit-learn's GaussianProcessRegressor (Matern 5/2 ARD + white noise, 5 restarts)."""
    gp_mod = pytest.importorskip("sklearn.gaussian_process")
    kernels = pytest.importorskip("sklearn.gaussian_process.kernels")
    ratios = []
    Xt, _ = data(300, seed=99)
    yt = f(Xt)
    for s in range(5):
        X, y = data(60, seed=10 + s)
        y = y + np.random.default_rng(s).normal(0.0, 0.1, len(y))
        ours = nasbo.GaussianProcess(seed=0).fit(X, y)
        mean, std = ours.predict(Xt, return_std=True)
        assert mean.shape == (300,) and std.shape == (300,) and np.all(std >= 0)
        k = kernels.ConstantKernel() * kernels.Matern(length_scale=[1.0] * 3, nu=2.5)
        ref = gp_mod.GaussianProcessRegressor(
            k + kernels.WhiteKernel(1e-2), normalize_y=True, n_restarts_optimizer=5, random_state=0
        ).fit(X, y)
        rmse = math.sqrt(np.mean((mean - yt) ** 2))
        rmse_ref = math.sqrt(np.mean((ref.predict(Xt) - yt) ** 2))
        ratios.append(rmse / rmse_ref)
    assert np.median(ratios) <= 1.15, ratios
    assert max(ratios) <= 1.3, ratios


def test_interpolates_a_deterministic_function():
    X, y = data()
    ours = nasbo.GaussianProcess(seed=0, noise_floor=1e-6).fit(X, y)
    m0, s0 = ours.predict(X, return_std=True)
    assert np.max(np.abs(m0 - y)) < 0.02
    assert np.max(s0) < 0.05
    _, s_far = ours.predict(np.full((1, 3), 3.0), return_std=True)
    assert s_far[0] > 10 * np.max(s0)  # far from the data the model is unsure


def test_same_seed_same_model_and_draws_have_sklearn_shape():
    X, y = data()
    a = nasbo.GaussianProcess(seed=3).fit(X, y)
    b = nasbo.GaussianProcess(seed=3).fit(X, y)
    assert np.array_equal(a.predict(X[:5]), b.predict(X[:5]))
    draws = a.sample_y(X[:4], n_samples=7, random_state=1)
    assert draws.shape == (4, 7)
    assert np.array_equal(draws, a.sample_y(X[:4], n_samples=7, random_state=1))
    assert a.get_params() == {"kernel": "matern52", "seed": 3, "noise_floor": None}
    assert len(a.lengthscales_) == 3 and a.noise_ > 0


def test_bad_input_raises_value_errors_that_say_what_is_wrong():
    X, y = data()
    with pytest.raises(ValueError, match="30 rows but y has 5"):
        nasbo.GaussianProcess().fit(X, y[:5])
    bad = X.copy()
    bad[2, 1] = float("nan")
    with pytest.raises(ValueError, match="row 2"):
        nasbo.GaussianProcess().fit(bad, y)
    with pytest.raises(ValueError, match="kernel `cubic`"):
        nasbo.GaussianProcess(kernel="cubic").fit(X, y)
    with pytest.raises(ValueError):
        nasbo.GaussianProcess().fit(np.zeros((0, 3)), np.zeros(0))
    gp = nasbo.GaussianProcess().fit(X, y)
    with pytest.raises(ValueError):
        gp.predict(np.zeros((2, 5)))  # 5 columns, fitted on 3
    with pytest.raises(RuntimeError, match="not fitted"):
        nasbo.GaussianProcess().predict(X)
    with pytest.raises(ValueError, match="no parameter `depth`"):
        nasbo.GaussianProcess().set_params(depth=3)
