"""``GaussianProcess``: the Python face of the ``nasbo-gp`` crate."""

from . import _nasbo

try:  # numpy is optional: plain lists work too, and results are lists without it.
    import numpy as _np
except ImportError:  # pragma: no cover - exercised only where numpy is missing
    _np = None

_KERNELS = ("matern52", "matern32", "matern12", "rbf")


def _rows(X, what):
    """``X`` as a list of rows of floats (a 2-D array, or a 1-D one of scalars per row)."""
    if _np is not None:
        a = _np.asarray(X, dtype=float)
        if a.ndim == 1:
            a = a.reshape(-1, 1)
        if a.ndim != 2:
            raise ValueError(f"{what}: expected a 2-D array, got {a.ndim} dimensions")
        return a.tolist()
    rows = [list(r) if hasattr(r, "__iter__") else [r] for r in X]
    return [[float(v) for v in r] for r in rows]


def _values(y):
    if _np is not None:
        a = _np.asarray(y, dtype=float)
        if a.ndim != 1:
            raise ValueError(f"y: expected a 1-D array, got {a.ndim} dimensions")
        return a.tolist()
    return [float(v) for v in y]


def _out(v):
    return _np.asarray(v) if _np is not None else v


class GaussianProcess:
    """A Gaussian-process regressor.

    Parameters
    ----------
    kernel : {"matern52", "matern32", "matern12", "rbf"}
        The stationary kernel, with one lengthscale per input (ARD).
    seed : int
        Seeds the hyperparameter fit's random starts: the same data and seed give the same model.
    noise_floor : float or None
        The smallest noise variance (relative to the standardized outputs); None keeps
        nasbo-gp's default (1e-4, BoTorch's).
    """

    def __init__(self, kernel="matern52", seed=0, noise_floor=None):
        self.kernel = kernel
        self.seed = seed
        self.noise_floor = noise_floor

    def get_params(self, deep=True):
        return {"kernel": self.kernel, "seed": self.seed, "noise_floor": self.noise_floor}

    def set_params(self, **params):
        for k, v in params.items():
            if k not in ("kernel", "seed", "noise_floor"):
                raise ValueError(f"GaussianProcess has no parameter `{k}`")
            setattr(self, k, v)
        return self

    def fit(self, X, y):
        if self.kernel not in _KERNELS:
            raise ValueError(f"kernel `{self.kernel}`: use one of {', '.join(_KERNELS)}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed {self.seed!r}: must be a non-negative integer")
        rows, values = _rows(X, "X"), _values(y)
        if len(rows) != len(values):
            raise ValueError(f"X has {len(rows)} rows but y has {len(values)} values")
        self._fitted = _nasbo.fit(rows, values, self.kernel, self.seed, self.noise_floor)
        self.n_features_in_ = len(rows[0]) if rows else 0
        return self

    def _model(self):
        fitted = getattr(self, "_fitted", None)
        if fitted is None:
            raise RuntimeError("this GaussianProcess is not fitted yet: call fit(X, y) first")
        return fitted

    def predict(self, X, return_std=False, noisy=False):
        """The posterior mean at ``X`` (and its standard deviation with ``return_std``: of the
        latent function, or of a new observation with ``noisy=True``)."""
        mean, std = self._model().predict(_rows(X, "X"), bool(noisy))
        return (_out(mean), _out(std)) if return_std else _out(mean)

    def sample_y(self, X, n_samples=1, random_state=0):
        """Joint posterior draws of the latent function at ``X``: shape (len(X), n_samples),
        as scikit-learn's ``sample_y``."""
        draws = self._model().sample(_rows(X, "X"), int(n_samples), int(random_state))
        if _np is not None:
            return _np.asarray(draws).T
        return [list(col) for col in zip(*draws)]

    sample = sample_y

    @property
    def lengthscales_(self):
        return _out(self._model().lengthscales())

    @property
    def noise_(self):
        return self._model().noise()

    def log_marginal_likelihood(self):
        return self._model().log_marginal_likelihood()

    def __repr__(self):
        return (
            f"GaussianProcess(kernel={self.kernel!r}, seed={self.seed!r}, "
            f"noise_floor={self.noise_floor!r})"
        )
