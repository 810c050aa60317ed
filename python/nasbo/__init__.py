"""nasbo from Python.

``nasbo.GaussianProcess`` is nasbo's GP (MAP hyperparameters with BoTorch's priors, inputs
scaled to the unit cube and outputs standardized inside) with scikit-learn's estimator
conventions::

    import numpy as np
    from nasbo import GaussianProcess
    X = np.random.default_rng(0).uniform(size=(20, 2))
    y = np.sin(6 * X[:, 0]) + X[:, 1]
    gp = GaussianProcess(seed=1).fit(X, y)
    mean, std = gp.predict(X[:3], return_std=True)
"""

from ._gp import GaussianProcess

__all__ = ["GaussianProcess"]
__version__ = "0.1.0"
