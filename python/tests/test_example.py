"""examples/python/cnn_mnist.py runs: a short study of real PyTorch training with pruning."""

import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_the_pytorch_example_tunes_a_cnn_with_pruning(tmp_path):
    pytest.importorskip("torch", reason="torch is not installed: the example would skip itself")
    db = f"sqlite:{tmp_path / 'cnn.db'}"
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples/python/cnn_mnist.py"), "--trials", "8",
         "--epochs", "3", "--examples", "1200", "--storage", db],
        check=True, capture_output=True, text=True, timeout=600,
    )
    m = re.search(r"(\d+) trials in \d+ s: (\d+) complete, (\d+) pruned", out.stdout)
    assert m, out.stdout + out.stderr
    assert int(m.group(1)) == 8
    acc = float(re.search(r"best validation accuracy ([0-9.]+)", out.stdout).group(1))
    # Ten classes: chance is 0.1. Three epochs on 960 images of a small CNN with global
    # average pooling reach about 0.5 (the full default run: see the example's docstring).
    assert acc > 0.3, out.stdout
    import nasbo

    study = nasbo.Study.load(db, "cnn")
    assert len(study.trials) == 8
    assert all(t.intermediate for t in study.trials)
