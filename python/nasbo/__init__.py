"""nasbo from Python.

``nasbo.Study`` runs nasbo's Bayesian optimization in your own code, on the same storages as
the ``nasbo`` command (``sqlite:PATH``, ``postgres://...``)::

    import nasbo

    space = {"lr": nasbo.Float(1e-4, 1e-1, log=True), "depth": nasbo.Int(1, 8),
             "connection": nasbo.Categorical(["conv", "pool", "skip"])}
    study = nasbo.Study(space, storage="sqlite:runs.db", name="cnn", direction="maximize")

    def objective(trial):
        p = trial.params
        return train_and_validate(p["lr"], p["depth"], p["connection"])

    study.optimize(objective, n_trials=30)
    print(study.best_params)

``nasbo.optuna.NasboSampler`` is an Optuna sampler that proposes with the same ``bo``, and
``nasbo.GaussianProcess`` is nasbo's GP with scikit-learn's estimator conventions.
"""

import logging as _logging

from ._gp import GaussianProcess
from ._space import Categorical, Float, Int
from ._study import (
    AshaPruner, HyperbandPruner, LeaseLost, MedianPruner, Study, Trial, TrialPruned,
    TrialRecord,
)

# One plain line per trial on standard error, as `nasbo tune` prints them, unless the
# application configures logging itself.
_logger = _logging.getLogger("nasbo")
if not _logger.handlers:
    _h = _logging.StreamHandler()
    _h.setFormatter(_logging.Formatter("[nasbo] %(message)s"))
    _logger.addHandler(_h)
    _logger.setLevel(_logging.INFO)
    _logger.propagate = False

__all__ = [
    "AshaPruner", "Categorical", "Float", "GaussianProcess", "HyperbandPruner", "Int",
    "LeaseLost", "MedianPruner", "Study", "Trial", "TrialPruned", "TrialRecord",
]
__version__ = "0.1.0"
