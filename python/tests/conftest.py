import os
import shutil
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def nasbo_bin():
    """The `nasbo` command (NASBO_BIN, or the workspace's release build), or a skip that says
    how to get one."""
    cand = os.environ.get("NASBO_BIN") or str(ROOT / "target" / "release" / "nasbo")
    if not os.access(cand, os.X_OK):
        cand = shutil.which("nasbo")
    if not cand:
        pytest.skip("the nasbo binary is not built: cargo build --release (or set NASBO_BIN)")
    return cand


def storages(tmp_path):
    """sqlite always; the CI PostgreSQL server when NASBO_TEST_POSTGRES names it."""
    out = [f"sqlite:{tmp_path / 'study.db'}"]
    pg = os.environ.get("NASBO_TEST_POSTGRES")
    if pg:
        out.append(pg)
    return out
