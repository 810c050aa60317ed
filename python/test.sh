#!/usr/bin/env bash
# Builds the Python package into a throw-away virtual environment (python/target/venv) and
# runs its tests with pytest. Needs Python 3.8+ with venv and pip, and PyPI for maturin,
# numpy, scikit-learn, optuna, scipy, torch and greenlet (GPSampler's, and the PyTorch example's), pytest.
# Tests that need the nasbo binary use the workspace's release build (cargo build --release).
set -euo pipefail
cd "$(dirname "$0")"
venv=target/venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check "maturin>=1.5,<2" numpy scikit-learn pytest optuna scipy torch greenlet
# `maturin develop` installs into the active virtual environment.
VIRTUAL_ENV="$PWD/$venv" PATH="$PWD/$venv/bin:$PATH" "$venv/bin/maturin" develop --release --locked -q
"$venv/bin/python" -m pytest -q tests "$@"
