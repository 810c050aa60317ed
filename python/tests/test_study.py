"""nasbo.Study: ask/tell, optimize, pruning, storages shared with the nasbo command, errors."""

import csv
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid

import pytest

import nasbo
from conftest import storages

SPACE = {
    "lr": nasbo.Float(1e-4, 1e-1, log=True),
    "depth": nasbo.Int(1, 8),
    "connection": nasbo.Categorical(["conv", "pool", "skip"]),
}


def score(p):
    """A smooth stand-in for a validation loss: best at lr=1e-2, depth 4, pool."""
    return (math.log10(p["lr"]) + 2) ** 2 + 0.05 * (p["depth"] - 4) ** 2 + {
        "conv": 0.3, "pool": 0.0, "skip": 0.6}[p["connection"]]


def unique(prefix):
    return f"{prefix}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def test_ask_tell_loop_finds_the_optimum_and_is_reproducible():
    def run(seed):
        study = nasbo.Study(SPACE, seed=seed)
        for _ in range(25):
            trial = study.ask()
            assert set(trial.params) == set(SPACE)
            assert 1e-4 <= trial.params["lr"] <= 1e-1
            assert isinstance(trial.params["depth"], int)
            study.tell(trial, score(trial.params))
        return study

    a, b, c = run(3), run(3), run(4)
    assert [t.params for t in a.trials] == [t.params for t in b.trials]
    assert [t.params for t in a.trials] != [t.params for t in c.trials]
    # Random search over this space reaches ~0.1 in 25 trials; the model gets much closer.
    assert a.best_value < 0.05, a.best_value
    assert a.best_params["connection"] == "pool"
    assert {t.state for t in a.trials} == {"complete"}
    sources = [t.source for t in a.trials]
    assert sources[0] == "initial" and sources[-1] == "model"


def test_random_search_is_worse_than_bo_on_the_same_budget():
    # The same loop with strategy="random": a check that the gain above is the model's.
    bo = nasbo.Study(SPACE, seed=1)
    rnd = nasbo.Study(SPACE, seed=1, strategy="random")
    for s in (bo, rnd):
        s.optimize(lambda t: score(t.params), n_trials=25)
    assert bo.best_value < rnd.best_value


def test_multi_objective_study_and_its_pareto_front():
    study = nasbo.Study({"x": nasbo.Float(0, 1)}, directions=["minimize", "minimize"], seed=2)
    study.optimize(lambda t: (t.params["x"] ** 2, (t.params["x"] - 1) ** 2), n_trials=14)
    front = study.pareto_front()
    assert len(front) >= 5
    assert all(len(t.values) == 2 for t in front)
    with pytest.raises(ValueError, match="several objectives"):
        study.best_trial
    rows = study.trials_dataframe()
    cols = rows.columns if hasattr(rows, "columns") else rows[0].keys()
    assert "values_0" in cols and "values_1" in cols


def test_optimize_in_threads_on_sqlite_makes_exactly_n_trials(tmp_path):
    url = f"sqlite:{tmp_path / 'runs.db'}"
    study = nasbo.Study(SPACE, storage=url, name="threads", seed=5)

    def slow(t):
        time.sleep(0.02)
        return score(t.params)

    study.optimize(slow, n_trials=12, n_jobs=3)
    again = nasbo.Study.load(url, "threads")
    assert len(again.trials) == 12
    assert [t.number for t in again.trials] == list(range(12))
    assert all(t.state == "complete" for t in again.trials)
    assert len({json.dumps(t.params, sort_keys=True) for t in again.trials}) == 12


@pytest.mark.parametrize("which", ["sqlite", "postgres"])
def test_a_study_written_from_python_is_read_by_nasbo_export_and_the_reverse(
        tmp_path, nasbo_bin, which):
    urls = dict(zip(["sqlite", "postgres"], storages(tmp_path)))
    if which not in urls:
        pytest.skip("PostgreSQL test skipped: NASBO_TEST_POSTGRES is not set (.ci/run sets it)")
    url, name = urls[which], unique("py")
    study = nasbo.Study(SPACE, storage=url, name=name, direction="minimize", seed=0)
    study.optimize(lambda t: score(t.params), n_trials=6)
    out = tmp_path / "export.csv"
    subprocess.run([nasbo_bin, "export", "--storage", url, "--study", name, "--out", str(out)],
                   check=True, capture_output=True)
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6
    ours = {t.number: t for t in study.trials}
    for r in rows:
        t = ours[int(r["trial"])]
        assert r["state"] == "complete"
        assert float(r["value"]) == pytest.approx(t.value, rel=1e-12)
        assert float(r["param_lr"]) == pytest.approx(t.params["lr"], rel=1e-9)
        assert r["param_connection"] == t.params["connection"]
    # The reverse: the shell's ask/tell on the same study, then Python sees it.
    asked = subprocess.run([nasbo_bin, "ask", "--storage", url, "--study", name],
                           check=True, capture_output=True, text=True)
    line = json.loads(asked.stdout)
    subprocess.run([nasbo_bin, "tell", "--storage", url, "--study", name, "--trial",
                    str(line["trial"]), "--lease", str(line["lease"]), "--value", "-0.5"],
                   check=True, capture_output=True)
    loaded = nasbo.Study.load(url, name)
    assert len(loaded.trials) == 7
    assert loaded.best_value == -0.5
    assert loaded.best_params == line["params"]
    # And `nasbo report` draws it.
    rep = tmp_path / "report"
    subprocess.run([nasbo_bin, "report", "--storage", url, "--study", name, "--out", str(rep)],
                   check=True, capture_output=True)
    assert (rep / "index.html").exists()


def test_a_study_made_by_nasbo_tune_is_loaded_and_continued(tmp_path, nasbo_bin):
    space = tmp_path / "space.toml"
    space.write_text(nasbo._space.space_toml({"x": nasbo.Float(-2, 2)}))
    url = f"sqlite:{tmp_path / 'tune.db'}"
    script = tmp_path / "f.py"
    script.write_text("import sys; print((float(sys.argv[1]) - 0.5) ** 2)\n")
    subprocess.run([nasbo_bin, "tune", "--space", str(space), "--trials", "5", "--storage", url,
                    "--study", "cli", "--out", str(tmp_path / "t.csv"), "--",
                    sys.executable, str(script), "{x}"], check=True, capture_output=True)
    study = nasbo.Study.load(url, "cli")
    assert len(study.trials) == 5
    study.optimize(lambda t: (t.params["x"] - 0.5) ** 2, n_trials=5)
    assert len(study.trials) == 10
    assert study.best_value < 0.05


def test_pruning_by_report_and_should_prune():
    pruner = nasbo.MedianPruner(max_step=5, startup_trials=2)
    study = nasbo.Study({"x": nasbo.Float(0, 1)}, pruner=pruner, seed=0)

    def objective(trial):
        x = trial.params["x"]
        for step in range(1, 6):
            trial.report(step, x + 1.0 / step)
            if trial.should_prune():
                raise nasbo.TrialPruned()
        return x

    study.optimize(objective, n_trials=12)
    states = [t.state for t in study.trials]
    assert "pruned" in states and states.count("complete") >= 2
    for t in study.trials:
        assert t.intermediate and t.intermediate[0][0] == 1
        if t.state == "pruned":
            # A pruned trial keeps its last report as its value.
            assert t.values == [t.intermediate[-1][1]]
            assert len(t.intermediate) < 5


def test_failures_are_recorded_and_raised_unless_caught():
    study = nasbo.Study({"x": nasbo.Float(0, 1)}, seed=0)

    def boom(t):
        raise RuntimeError("out of memory")

    with pytest.raises(RuntimeError, match="out of memory"):
        study.optimize(boom, n_trials=3)
    assert [t.state for t in study.trials] == ["failed"]
    assert "RuntimeError: out of memory" in study.trials[0].error
    study.optimize(boom, n_trials=2, catch=(RuntimeError,))
    assert [t.state for t in study.trials] == ["failed"] * 3
    # A non-finite or non-numeric result is a failed trial, not an error of optimize.
    study.optimize(lambda t: float("nan"), n_trials=1)
    study.optimize(lambda t: "abc", n_trials=1)
    assert [t.state for t in study.trials][-2:] == ["failed", "failed"]
    assert "not a finite number" in study.trials[-1].error


def test_bad_input_gets_clear_errors_and_loses_nothing(tmp_path):
    with pytest.raises(ValueError, match="parameter `lr`"):
        nasbo.Study({"lr": nasbo.Float(1.0, 0.1)})
    with pytest.raises(ValueError, match="parameter `lr`"):
        nasbo.Study({"lr": nasbo.Float(0.0, 1.0, log=True)})
    with pytest.raises(ValueError, match="not a nasbo.Float"):
        nasbo.Study({"lr": (0, 1)})
    with pytest.raises(ValueError, match="direction `up`"):
        nasbo.Study(SPACE, direction="up")
    with pytest.raises(ValueError, match="strategy `grid`"):
        nasbo.Study(SPACE, strategy="grid")
    with pytest.raises(ValueError, match="needs max_step"):
        nasbo.Study(SPACE, pruner=nasbo.AshaPruner(max_step=None))
    with pytest.raises(ValueError, match="heartbeat"):
        nasbo.Study(SPACE, heartbeat=0)
    with pytest.raises(ValueError, match="budget = 0"):
        nasbo.Study(SPACE, budget=0)
    with pytest.raises(OSError, match="unknown kind of storage"):
        nasbo.Study(SPACE, storage="mysql://x")
    url = f"sqlite:{tmp_path / 'e.db'}"
    with pytest.raises(OSError, match="no such file"):
        nasbo.Study.load(url, "s")
    study = nasbo.Study(SPACE, storage=url, name="s")
    with pytest.raises(KeyError, match="no study `missing`"):
        nasbo.Study.load(url, "missing")
    with pytest.raises(ValueError, match="minimize"):
        nasbo.Study(SPACE, storage=url, name="s", direction="maximize")
    t = study.ask()
    with pytest.raises(ValueError, match="not finite"):
        study.tell(t, float("inf"))
    with pytest.raises(ValueError, match="2 values told for a study of 1 objective"):
        study.tell(t, values=[1.0, 2.0])
    with pytest.raises(ValueError, match="not finite"):
        t.report(1, float("nan"))
    study.tell(t, 0.25)
    with pytest.raises(ValueError, match=f"trial {t.number}"):
        study.tell(t, 0.5)
    with pytest.raises(ValueError, match="trial 99"):
        study.tell(99, 0.5)
    with pytest.raises(ValueError, match="not running"):
        t.should_prune()
    # The refused tells changed nothing: the one good result stands.
    stored = nasbo.Study.load(url, "s").trials
    assert [(x.state, x.values) for x in stored] == [("complete", [0.25])]


WORKER = textwrap.dedent("""
    import sys, time, nasbo
    study = nasbo.Study.load(sys.argv[1], "hb", heartbeat=0.2)
    t = study.ask()
    print(t.number, flush=True)
    time.sleep(60)
""")


def test_a_killed_worker_s_trial_goes_to_the_next_worker_and_a_live_one_s_does_not(tmp_path):
    url = f"sqlite:{tmp_path / 'hb.db'}"
    nasbo.Study({"x": nasbo.Float(0, 1)}, storage=url, name="hb")
    live = subprocess.Popen([sys.executable, "-c", WORKER, url], stdout=subprocess.PIPE, text=True)
    doomed = subprocess.Popen([sys.executable, "-c", WORKER, url], stdout=subprocess.PIPE,
                              text=True)
    try:
        live_n, doomed_n = int(live.stdout.readline()), int(doomed.stdout.readline())
        assert {live_n, doomed_n} == {0, 1}
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait()
        time.sleep(1.5)  # past four 0.2 s heartbeats
        me = nasbo.Study.load(url, "hb", heartbeat=0.2)
        t = me.ask()
        # The trial taken over is the killed worker's; the live worker's stays its own.
        assert t.number == doomed_n
        by_number = {x.number: x for x in me.trials}
        assert by_number[live_n].state == "running"
        assert "lost" in (by_number[doomed_n].error or "")
        me.tell(t, 0.5)
        assert len(me.trials) == 2
    finally:
        for p in (live, doomed):
            if p.poll() is None:
                p.kill()
                p.wait()


def test_a_budget_sizes_bo_s_initial_design():
    # Six continuous parameters: max(5, d + 1) = 7 initial points without a budget, 2d = 12
    # with a budget of 100 (at most a fifth of it), 8 with a budget of 40.
    space = {f"x{k}": nasbo.Float(0.0, 1.0) for k in range(6)}

    def initial(budget):
        study = nasbo.Study(space, seed=2, budget=budget)
        study.optimize(lambda t: sum((v - 0.3) ** 2 for v in t.params.values()), n_trials=14)
        return sum(t.source == "initial" for t in study.trials)

    assert initial(None) == 7
    assert initial(100) == 12
    assert initial(40) == 8
