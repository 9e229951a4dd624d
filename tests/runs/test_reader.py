"""The run-store reader: DataFrame round trips, incremental reads, concurrency."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from nasbench.errors import ConfigError, NasbenchError
from nasbench.runs import Run, RunStore, list_runs, load

REPO_ROOT = Path(__file__).resolve().parents[2]
OPS = ["none", "skip_connect", "sep_conv_3x3"]
EDGES = ["(2, 0)", "(2, 1)"]


def python_env() -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")])
    return env


@pytest.fixture
def store(tmp_path):
    config = {"dataset": "breastmnist", "strategy": {"name": "darts", "lr": 3e-4}}
    with RunStore.create(tmp_path / "run", config, environment={"device": "cpu"}) as store:
        yield store


def one_line(err: pytest.ExceptionInfo) -> str:
    message = str(err.value)
    assert "\n" not in message
    return message


def test_meta_status_and_progress(store):
    run = load(store.run_dir)
    assert run.config == {"dataset": "breastmnist", "strategy": {"name": "darts", "lr": 3e-4}}
    assert run.environment == {"device": "cpu"}
    assert run.status == "created" and run.message == ""
    assert run.progress["fraction"] is None and run.progress["step"] == 0
    store.set_status("running")
    store.set_progress(0, 100, 0, 10)
    store._progress_start = (store._progress_start[0] - 10.0, 0)  # pretend 10 s have passed
    store.set_progress(20, 100, 2, 10)
    store.set_status("failed", "CUDA out of memory")
    run.refresh()
    assert (run.status, run.message) == ("failed", "CUDA out of memory")
    assert list(run.status_history["status"]) == ["created", "running", "failed"]
    progress = run.progress
    assert progress["step"] == 20 and progress["epoch"] == 2 and progress["total_epochs"] == 10
    assert progress["fraction"] == pytest.approx(0.2)
    assert progress["eta_s"] == pytest.approx(40.0, rel=0.05)  # 80 steps at 2 steps/s


def test_history_round_trip(store):
    store.log_metrics(5, 0, "train", {"loss": 0.7, "acc": 0.5})
    store.log_metrics(5, 0, "val", {"loss": 0.8, "acc": np.float32(0.25), "auc": float("nan")})
    store.log_metrics(10, 1, "train", {"loss": torch.tensor(0.5), "acc": 1})
    history = load(store.run_dir).history
    assert list(history.columns) == ["step", "epoch", "phase", "name", "value", "time", "elapsed"]
    assert history["step"].dtype == np.int64 and history["epoch"].dtype == np.int64
    assert history["value"].dtype == np.float64 and history["time"].dtype == np.float64
    assert pd.api.types.is_string_dtype(history["name"])
    assert list(history["name"]) == ["loss", "acc", "loss", "acc", "auc", "loss", "acc"]
    assert list(history["phase"]) == ["train"] * 2 + ["val"] * 3 + ["train"] * 2
    np.testing.assert_allclose(history["value"], [0.7, 0.5, 0.8, 0.25, np.nan, 0.5, 1.0])
    assert (history["elapsed"] >= 0).all() and (history["elapsed"] < 60).all()


def test_metrics_wide(store):
    store.log_metrics(5, 0, "train", {"loss": 0.7})
    store.log_metrics(5, 0, "val", {"loss": 0.8, "auc": float("nan")})
    store.log_metrics(10, 1, "train", {"loss": 0.5})
    run = load(store.run_dir)
    wide = run.metrics_wide()
    assert list(wide.columns) == ["step", "epoch", "train/loss", "val/loss", "val/auc"]
    assert list(wide["step"]) == [5, 10]
    np.testing.assert_allclose(wide["val/loss"], [0.8, np.nan])
    val = run.metrics_wide("val")
    assert list(val.columns) == ["step", "epoch", "loss", "auc"] and len(val) == 1
    assert list(run.metrics_wide("test").columns) == ["step", "epoch"]


def test_alphas_round_trip_with_default_softmax(store):
    raw = np.array([[0.0, 1.0, 2.0], [3.0, 3.0, 3.0]])
    store.log_alphas(7, 1, "normal", raw, OPS, EDGES)
    store.log_alphas(7, 1, "reduce", torch.tensor(raw, requires_grad=True), OPS, EDGES)
    alphas = load(store.run_dir).alphas
    assert list(alphas.columns) == [
        "step", "epoch", "cell_type", "edge", "op", "weight", "raw", "kind",
    ]  # fmt: skip
    assert alphas["step"].dtype == np.int64 and alphas["weight"].dtype == np.float64
    assert all(alphas[c].dtype == "category" for c in ("cell_type", "edge", "op", "kind"))
    assert len(alphas) == 12 and set(alphas["kind"]) == {"alpha"}
    normal = alphas[alphas["cell_type"] == "normal"]
    assert list(normal["edge"]) == ["(2, 0)"] * 3 + ["(2, 1)"] * 3
    assert list(normal["op"]) == OPS * 2
    np.testing.assert_allclose(normal["raw"], raw.ravel())
    expected = np.exp(raw) / np.exp(raw).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(normal["weight"], expected.ravel())
    reduce = alphas[alphas["cell_type"] == "reduce"]
    np.testing.assert_allclose(reduce["weight"], expected.ravel(), rtol=1e-6)


def test_alphas_other_kinds_explicit_weights_and_ragged(store):
    betas = np.array([[0.1, 0.2, np.nan], [1.0, 2.0, 3.0]])  # node 2 has two inputs, node 3 three
    store.log_alphas(3, 0, "normal", betas, ["i0", "i1", "i2"], ["n2", "n3"], kind="beta")
    store.log_alphas(3, 0, "network", np.array([5.0]), ["tau"], ["tau"], np.array([5.0]), "tau")
    gates = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    store.log_alphas(3, 0, "normal", np.zeros((2, 3)), OPS, EDGES, weights=gates, kind="gate")
    run = load(store.run_dir)
    beta = run.alphas[run.alphas["kind"] == "beta"]
    assert len(beta) == 5  # NaN entries are not stored
    np.testing.assert_allclose(beta["weight"].iloc[:2].sum(), 1.0)
    np.testing.assert_allclose(beta["weight"].iloc[2:].sum(), 1.0)
    tau = run.alphas[run.alphas["kind"] == "tau"]
    assert tau[["edge", "op", "weight", "raw"]].values.tolist() == [["tau", "tau", 5.0, 5.0]]
    gate = run.alpha_matrix(kind="gate")
    assert list(gate.index) == EDGES and list(gate.columns) == OPS
    np.testing.assert_array_equal(gate.to_numpy(), gates)


def test_alphas_of_interleaved_layouts_come_in_logging_order(store):
    # Two cell shapes logged in turn (a network of several cells), one ragged: the frame
    # follows the order they were logged in, each matrix's values in their own order.
    for step in (1, 2):
        store.log_alphas(step, 0, "normal", np.full((2, 3), float(step)), OPS, EDGES)
        ragged = np.array([[step, np.nan], [step + 0.5, step + 0.25]])
        store.log_alphas(step, 0, "down", ragged, ["a", "b"], ["e0", "e1"], kind="beta")
    alphas = load(store.run_dir).alphas
    assert alphas["cell_type"].tolist() == (["normal"] * 6 + ["down"] * 3) * 2
    assert alphas["raw"].tolist() == [1.0] * 6 + [1.0, 1.5, 1.25] + [2.0] * 6 + [2.0, 2.5, 2.25]
    assert alphas["op"].tolist() == (OPS * 2 + ["a", "a", "b"]) * 2
    assert alphas["step"].tolist() == [1] * 9 + [2] * 9


def test_a_ragged_matrix_of_one_layout_keeps_its_values_in_order(store):
    for step in (1, 2):
        betas = np.array([[float(step), np.nan, 0.5], [1.0, 2.0, 3.0]])
        store.log_alphas(step, 0, "normal", betas, OPS, EDGES, kind="beta")
    alphas = load(store.run_dir).alphas
    assert alphas["raw"].tolist() == [1.0, 0.5, 1.0, 2.0, 3.0, 2.0, 0.5, 1.0, 2.0, 3.0]
    assert alphas["op"].tolist() == [OPS[0], OPS[2], *OPS] * 2
    assert (
        alphas["edge"].tolist() == [EDGES[0]] * 2 + [EDGES[1]] * 3 + [EDGES[0]] * 2 + [EDGES[1]] * 3
    )


def test_alpha_matrix_picks_the_latest_snapshot_at_or_before_a_step(store):
    for step in (10, 20, 30):
        store.log_alphas(step, 0, "normal", np.full((2, 3), float(step)), OPS, EDGES)
    run = load(store.run_dir)
    assert run.alpha_matrix(step=25, value="raw").to_numpy().max() == 20.0
    assert run.alpha_matrix(value="raw").to_numpy().max() == 30.0
    with pytest.raises(ConfigError) as err:
        run.alpha_matrix(step=5)
    assert "before step 5" in one_line(err)


def test_genotypes_round_trip(store, monkeypatch):
    store.log_genotype(0, 100, '{"kind": "darts", "n": 1}', {"val_acc": 0.7})
    store.log_genotype(1, 200, '{"kind": "darts", "n": 2}')
    monkeypatch.setattr(Run, "_genotype_parser", lambda self: json.loads)
    genotypes = load(store.run_dir).genotypes
    assert list(genotypes.columns[:6]) == [
        "epoch", "step", "genotype_json", "genotype", "metrics", "time",
    ]  # fmt: skip
    assert list(genotypes["epoch"]) == [0, 1] and list(genotypes["step"]) == [100, 200]
    assert genotypes["genotype"].tolist() == [{"kind": "darts", "n": 1}, {"kind": "darts", "n": 2}]
    assert genotypes["metrics"].tolist() == [{"val_acc": 0.7}, {}]
    np.testing.assert_allclose(genotypes["metrics.val_acc"], [0.7, np.nan])


def test_genotype_parse_failure_gives_none(store, monkeypatch):
    store.log_genotype(0, 1, "not a genotype")

    def parser(text):
        raise ValueError(text)

    monkeypatch.setattr(Run, "_genotype_parser", lambda self: parser)
    assert load(store.run_dir).genotypes["genotype"].tolist() == [None]


def test_candidates_round_trip(store):
    store.log_candidate(0, '{"g": 0}', {"acc": 0.8}, {"params": 1000}, worker="w1")
    store.log_candidate("b", '{"g": 1}', {"acc": 0.9, "auc": 0.7}, {"params": 2000})
    store.log_candidate(2, '{"g": 2}', {}, {"seconds": 1.0}, status="failed")
    candidates = load(store.run_dir).candidates
    assert list(candidates["index"]) == [0, 1, 2]
    assert list(candidates["candidate_id"]) == [0, "b", 2]
    assert list(candidates["status"]) == ["done", "done", "failed"]
    assert candidates["worker"].tolist()[0] == "w1" and candidates["worker"].isna().tolist()[1:]
    np.testing.assert_allclose(candidates["metrics.acc"], [0.8, 0.9, np.nan])
    np.testing.assert_allclose(candidates["cost.params"], [1000, 2000, np.nan])
    assert candidates["cost"].tolist()[2] == {"seconds": 1.0}
    assert list(candidates["genotype_json"]) == ['{"g": 0}', '{"g": 1}', '{"g": 2}']


def test_events_round_trip(store):
    store.log_event("eigenvalue", {"value": 0.31, "epoch": 4}, epoch=4)
    store.log_event("collapse_warning", {"ratio": 1.4}, step=50, epoch=5)
    events = load(store.run_dir).events
    assert list(events.columns) == ["step", "epoch", "kind", "payload", "time"]
    assert events["step"].isna().tolist() == [True, False] and events["step"].iloc[1] == 50
    assert list(events["kind"]) == ["eigenvalue", "collapse_warning"]
    assert events["payload"].tolist() == [{"value": 0.31, "epoch": 4}, {"ratio": 1.4}]


def test_event_details_are_always_a_dict(store):
    with pytest.raises(ConfigError, match="payload of event 'early_stop' must be a dict") as err:
        store.log_event("early_stop", None)
    one_line(err)
    store.log_event("early_stop", {"epoch": 1})
    # A store edited by hand: a list and a null where the details go.
    with sqlite3.connect(store.run_dir / "run.sqlite") as db:
        db.execute("UPDATE events SET payload = '[1, 2]'")
        db.execute("UPDATE events SET payload = 'null' WHERE kind = 'search_started'")
    assert load(store.run_dir).events["payload"].tolist() == [{}]


def test_a_damaged_row_is_left_out_and_the_rest_of_the_run_reads(store):
    for step in (1, 2):
        store.log_metrics(step, 0, "train", {"loss": 1.0 / step})
        store.log_alphas(step, 0, "normal", np.full((2, 3), float(step)), OPS, EDGES)
        store.log_event("eigenvalue", {"value": 0.1}, step=step)
        store.log_genotype(0, step, '{"kind": "x"}', {"val_acc": 0.5})
    with sqlite3.connect(store.run_dir / "run.sqlite") as db:
        db.execute("UPDATE metrics SET value = 'oops' WHERE step = 1")
        db.execute("UPDATE alpha_snapshots SET raw = X'0102' WHERE step = 1")
        db.execute("UPDATE events SET payload = '{broken' WHERE step = 1")
        db.execute("UPDATE genotypes SET metrics = '{broken' WHERE step = 1")
    run = load(store.run_dir)
    assert run.history.query("step == 1")["value"].isna().all()
    assert run.history.query("step == 2")["value"].tolist() == [0.5]
    assert sorted(set(run.alphas["step"])) == [2] and (run.alphas["raw"] == 2.0).all()
    eigen = run.events.query("kind == 'eigenvalue'")
    assert eigen["payload"].tolist() == [{}, {"value": 0.1}]
    assert run.genotypes["metrics"].tolist() == [{}, {"val_acc": 0.5}]
    with sqlite3.connect(store.run_dir / "run.sqlite") as db:
        db.execute("UPDATE alpha_snapshots SET edges = 'not json'")
    assert load(store.run_dir).alphas.empty


def test_refresh_returns_only_new_rows_and_since_filters_by_step(store):
    store.log_metrics(1, 0, "train", {"loss": 1.0})
    store.log_alphas(1, 0, "normal", np.zeros((2, 3)), OPS, EDGES)
    run = load(store.run_dir)
    new = run.refresh()
    assert all(frame.empty for frame in new.values())
    store.log_metrics(2, 0, "train", {"loss": 0.5})
    store.log_alphas(2, 0, "normal", np.ones((2, 3)), OPS, EDGES)
    store.log_candidate(0, "{}", {"acc": 0.5}, {})
    store.log_event("eigenvalue", {"value": 1.0}, step=2)
    new = run.refresh()
    assert list(new["history"]["step"]) == [2] and set(new["alphas"]["step"]) == {2}
    assert len(new["alphas"]) == 6 and len(new["candidates"]) == 1 and len(new["events"]) == 1
    assert list(run.history["step"]) == [1, 2] and len(run.alphas) == 12
    store.log_candidate(1, "{}", {"acc": 0.6}, {})
    assert list(run.refresh()["candidates"]["index"]) == [1]
    since = run.since(1)
    assert list(since["history"]["step"]) == [2] and set(since["alphas"]["step"]) == {2}
    assert list(since["events"]["step"]) == [2]
    assert len(run.history) == 2  # since() does not touch the cached frames


def test_discard_after_drops_rows_past_the_checkpoint_for_live_readers(store):
    for step in (1, 2, 3):
        store.log_metrics(step, 0, "train", {"loss": 1.0 / step})
        store.log_alphas(step, 0, "normal", np.full((2, 3), step), OPS, EDGES)
        store.log_event("tick", {}, step=step)
    store.log_genotype(0, 3, "{}")
    store.log_event("search_started", {})
    run = load(store.run_dir)
    store.discard_after(1)  # resume from a checkpoint at step 1
    store.log_metrics(2, 0, "train", {"loss": 0.25})
    new = run.refresh()
    assert run.generation == 1
    assert list(new["history"]["value"]) == [0.25]
    assert list(run.history["step"]) == [1, 2] and list(run.history["value"]) == [1.0, 0.25]
    assert set(run.alphas["step"]) == {1} and run.genotypes.empty
    assert list(run.events["kind"]) == ["tick", "search_started"]
    fresh = load(store.run_dir)
    assert fresh.generation == 0
    pd.testing.assert_frame_equal(fresh.history, run.history)
    pd.testing.assert_frame_equal(fresh.alphas, run.alphas)


def test_run_version_changes_exactly_when_rows_are_written_or_discarded(store, tmp_path):
    from nasbench.runs.reader import run_version

    store.log_metrics(1, 0, "train", {"loss": 1.0})
    first = run_version(store.run_dir)
    assert run_version(store.run_dir) == first  # nothing written: the same stamp
    stamps = [first]
    for write in (
        lambda: store.log_metrics(2, 0, "train", {"loss": 0.5}),
        lambda: store.log_candidate(0, "{}", {"acc": 0.5}, {}),
        lambda: store.log_alphas(2, 0, "normal", np.zeros((2, 3)), OPS, EDGES),
        lambda: store.discard_after(1),  # a resume drops rows: the frames change too
    ):
        write()
        stamps.append(run_version(store.run_dir))
    assert len(set(stamps)) == len(stamps)
    with pytest.raises(ConfigError) as err:
        run_version(tmp_path / "nothing")
    assert "does not exist" in one_line(err)


def test_reader_never_writes(store):
    run = load(store.run_dir)
    with pytest.raises(sqlite3.OperationalError):
        run._db.execute("INSERT INTO events (kind, payload, time) VALUES ('x', '{}', 0)")
    run.close()
    with pytest.raises(ConfigError):
        run.refresh()


@pytest.mark.parametrize(
    "case", ["missing", "empty", "foreign", "zero-bytes", "garbage", "other-sqlite", "torn"]
)
def test_load_bad_folder_is_one_line_error(tmp_path, store, case):
    folder = tmp_path / "x"
    if case != "missing":
        folder.mkdir()
    db = folder / "run.sqlite"
    if case == "foreign":
        sqlite3.connect(db).close()
    elif case == "zero-bytes":
        db.write_bytes(b"")
    elif case == "garbage":
        db.write_bytes(b"this is not a database, just text\n" * 200)
    elif case == "other-sqlite":
        conn = sqlite3.connect(db)
        conn.execute("CREATE TABLE t (x)")
        conn.execute("PRAGMA user_version = 1")
        conn.commit()
        conn.close()
    elif case == "torn":
        store.log_metrics(1, 0, "train", {"loss": 1.0})
        store.close()
        good = (store.run_dir / "run.sqlite").read_bytes()
        db.write_bytes(good[:100] + b"\xff" * 3000 + good[3100:])
    with pytest.raises(NasbenchError) as err:
        load(folder)
    message = one_line(err)
    assert str(folder) in message
    if case not in ("missing", "empty"):
        assert "new run folder" in message


@pytest.mark.parametrize(
    "statements",
    [
        # A handed run whose metrics are a view (here a harmless one; an endless recursive
        # CTE would hang every reader).
        [
            "ALTER TABLE metrics RENAME TO metrics_real",
            "CREATE VIEW metrics AS SELECT * FROM metrics_real",
        ],
        [
            "CREATE TRIGGER t AFTER INSERT ON stop_requests BEGIN DELETE FROM events; END",
        ],
        ["CREATE VIRTUAL TABLE boxes USING rtree(id, a, b)"],
        # The schema's text edited afterwards: SQLite still loads it, spacing and all.
        [
            "CREATE VIRTUAL TABLE boxes USING rtree(id, a, b)",
            "PRAGMA writable_schema=ON",
            "UPDATE sqlite_master SET sql = replace(sql, 'CREATE VIRTUAL', 'create  Virtual')",
        ],
    ],
    ids=["view", "trigger", "virtual-table", "virtual-table-spaced"],
)
def test_a_run_database_with_views_triggers_or_virtual_tables_is_refused(store, statements):
    store.log_metrics(1, 0, "val", {"acc": 0.5})
    store.close()
    conn = sqlite3.connect(store.run_dir / "run.sqlite")
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()
    with pytest.raises(NasbenchError) as err:
        load(store.run_dir)
    message = one_line(err)
    assert "is damaged or not a run database" in message
    created = next(s for s in statements if s.startswith("CREATE"))
    assert created.split()[1].lower().replace("virtual", "virtual table") in message
    [listed] = list_runs(store.run_dir.parent).to_dict("records")
    assert listed["status"] == "unreadable"


def test_list_runs(tmp_path):
    with RunStore.create(tmp_path / "a", {"dataset": "breastmnist", "strategy": "darts"}, {}) as s:
        s.set_status("running")
        s.log_metrics(1, 0, "val", {"acc": 0.6, "loss": 0.5})
        s.log_metrics(2, 0, "val", {"acc": 0.7, "loss": 0.4})
        s.log_metrics(2, 0, "test", {"acc": 0.99})  # test scores never count as "best"
    with RunStore.create(
        tmp_path / "b",
        {"dataset": {"name": "synthetic"}, "strategy": "random", "metric": "loss"},
        {},
    ) as s:
        s.log_candidate(0, "{}", {"loss": 0.3, "acc": 0.5}, {})
        s.log_candidate(1, "{}", {"loss": 0.2}, {})
        s.log_candidate(2, "{}", {"loss": 0.1}, {}, status="failed")
        s.set_status("finished")
    (tmp_path / "not-a-run").mkdir()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "run.sqlite").write_bytes(b"garbage" * 100)
    runs = list_runs(tmp_path).set_index("name")
    assert set(runs.index) == {"a", "b", "broken"}
    assert list(runs.columns) == [
        "run_dir", "status", "message", "dataset", "strategy", "created",
        "best_metric_name", "best_metric",
    ]  # fmt: skip
    # "a" was closed while its status said running: no process writes it, it was killed.
    assert runs.loc["a", ["status", "dataset", "strategy"]].tolist() == [
        "killed", "breastmnist", "darts",
    ]  # fmt: skip
    assert runs.loc["a", "best_metric_name"] == "acc" and runs.loc["a", "best_metric"] == 0.7
    assert runs.loc["b", ["status", "dataset", "strategy"]].tolist() == [
        "finished", "synthetic", "random",
    ]  # fmt: skip
    assert runs.loc["b", "best_metric_name"] == "loss" and runs.loc["b", "best_metric"] == 0.2
    assert runs.loc["broken", "status"] == "unreadable"
    assert isinstance(runs.loc["a", "created"], pd.Timestamp)
    assert list_runs(tmp_path / "not-a-run").empty
    with pytest.raises(ConfigError) as err:
        list_runs(tmp_path / "nope")
    assert "nope" in one_line(err)
    with pytest.raises(ConfigError, match="is a run folder, not a folder of runs") as err:
        list_runs(str(tmp_path / "b"))  # a run's own folder: its parent lists it
    assert f"pass '{tmp_path}' (its parent folder)" in one_line(err)


CONTINUOUS_WRITER = textwrap.dedent(
    """
    import sys, time, numpy as np
    from nasbench.runs import RunStore
    ops = [f"op{i}" for i in range(8)]
    edges = [f"e{i}" for i in range(14)]
    store = RunStore.create(sys.argv[1], {"strategy": "darts"}, environment={})
    store.set_status("running")
    rng = np.random.default_rng(0)
    print("ready", flush=True)
    step = 0
    while True:
        step += 1
        store.log_metrics(step, 0, "train", {"loss": 1.0, "acc": 0.5, "lr": 0.1})
        store.log_alphas(step, 0, "normal", rng.normal(size=(14, 8)), ops, edges)
        with store.batch():  # both cells of this step appear together
            store.log_alphas(step, 0, "reduce", rng.normal(size=(14, 8)), ops, edges)
            beta = rng.normal(size=(2, 8))
            store.log_alphas(step, 0, "reduce", beta, ops, edges[:2], kind="beta")
        store.set_progress(step, None, 0, None)
        time.sleep(0.01)  # a fast search step; keeps the run small enough to reload often
    """
)


def check_complete(history: pd.DataFrame, alphas: pd.DataFrame) -> None:
    if len(history):
        assert (history.groupby("step").size() == 3).all()
    if len(alphas):
        sizes = alphas.groupby(["step", "cell_type", "kind"], observed=True).size()
        assert sizes.xs("alpha", level="kind").eq(14 * 8).all()
        assert sizes.xs("beta", level="kind").eq(2 * 8).all()
        reduce = alphas[alphas["cell_type"] == "reduce"].groupby("step")["kind"].nunique()
        assert reduce.eq(2).all()
        alpha = alphas[alphas["kind"] == "alpha"]
        sums = alpha.groupby(["step", "cell_type", "edge"], observed=True)["weight"]
        np.testing.assert_allclose(sums.sum(), 1.0)


def test_reader_sees_only_complete_rows_while_another_process_writes(tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(CONTINUOUS_WRITER)
    run_dir = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, str(script), str(run_dir)],
        stdout=subprocess.PIPE,
        text=True,
        env=python_env(),
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        live = load(run_dir)
        loads = refreshes = 0
        # Read for at least 2 s and until enough has been seen (a loaded machine is slow).
        started = time.monotonic()
        while time.monotonic() < started + 2.0 or (
            time.monotonic() < started + 60.0
            and (loads <= 3 or live.history["step"].nunique() <= 5)
        ):
            with load(run_dir) as fresh:  # a fresh reader each time, as a browser would
                check_complete(fresh.history, fresh.alphas)
                assert fresh.status == "running"
            loads += 1
            new = live.refresh()
            check_complete(new["history"], new["alphas"])
            refreshes += 1
        assert proc.poll() is None, "the writer must not fail while readers read"
        check_complete(live.history, live.alphas)
        assert live.history["step"].is_monotonic_increasing
        assert live.progress["step"] >= live.history["step"].max() - 1
        assert live.writer_alive() is True
        assert live.history["step"].nunique() > 5 and loads > 3 and refreshes > 3
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()


def test_each_kind_of_run_lists_its_own_best_metric(tmp_path):
    from nasbench.runs import RunStore, list_runs

    def run(name, config, rows=(), candidates=()):
        with RunStore.create(tmp_path / name, config, {}) as s:
            for phase, metrics in rows:
                s.log_metrics(1, 0, phase, metrics)
            for i, metrics in enumerate(candidates):
                s.log_candidate(i, "{}", metrics, {})
            s.set_status("finished")

    run("detection", {"strategy": "darts"}, [("val", {"val_ap50": 0.3, "val_loss": 2.0})])
    run("meta", {"strategy": "metanas"}, [("val", {"metanas_val_acc": 0.6}),
                                          ("test_summary", {"metanas_acc_mean": 0.9})])  # fmt: skip
    run("landmarks", {"strategy": "marl-gdas"}, [
        ("test", {"searched_val_dist_vox": 4.0, "searched_dist_mm": 9.0}),
    ])  # fmt: skip
    run("inpainting", {"strategy": "unnas"}, [("val", {"val_mse": 0.2}), ("val", {"val_mse": 0.1})])
    # A discrete search ranks by the evaluator's score (val_auc here), not by val_acc.
    run("discrete", {"strategy": "random", "evaluator_config": {}},
        candidates=[{"score": 0.52, "val_auc": 0.52, "val_acc": 0.5},
                    {"score": 0.45, "val_auc": 0.45, "val_acc": 0.6}])  # fmt: skip
    runs = list_runs(tmp_path).set_index("name")
    best = {n: (runs.loc[n, "best_metric_name"], runs.loc[n, "best_metric"]) for n in runs.index}
    assert best == {
        "detection": ("val_ap50", 0.3),
        "meta": ("metanas_val_acc", 0.6),
        "landmarks": ("searched_val_dist_vox", 4.0),  # smaller is better
        "inpainting": ("val_mse", 0.1),
        "discrete": ("score", 0.52),
    }


def test_a_run_scored_by_a_test_metric_never_lists_a_test_number_as_its_best(tmp_path):
    from nasbench.runs.summary import run_summaries

    # Stored before a test metric was refused as the score: "score" is test_acc too.
    config = {"strategy": "random", "evaluator_config": {"metric": "test_acc"}}
    with RunStore.create(tmp_path / "testacc", config, {}) as s:
        s.log_candidate(0, "{}", {"score": 0.9, "test_acc": 0.9, "val_acc": 0.6}, {})
        s.log_candidate(1, "{}", {"score": 0.8, "test_acc": 0.8, "val_acc": 0.7}, {})
        s.set_status("finished")
    (summary,) = run_summaries(tmp_path)
    assert (summary["best_metric_name"], summary["best_metric"]) == ("val_acc", 0.7)


@pytest.mark.parametrize("stop", ["stopped", None])  # None: killed, no stop recorded
def test_elapsed_leaves_out_the_pause_between_a_stop_and_the_resume(tmp_path, monkeypatch, stop):
    from nasbench.engine.discrete import _elapsed

    clock = [1000.0]
    monkeypatch.setattr(time, "time", lambda: clock[0])

    def at(when, write, *args):
        clock[0] = when
        write(*args)

    store = RunStore.create(tmp_path / "run", {"strategy": "random"}, {})
    at(1000.0, store.set_status, "running")
    for k, when in enumerate((1001.0, 1002.0, 1003.0)):
        at(when, store.log_candidate, k, "{}", {"score": 0.5}, {})
    if stop:
        at(1004.0, store.set_status, stop)
    live = load(store.run_dir)  # a monitor open across the resume, 30 s later
    at(1034.0, store.set_status, "running")
    for k, when in enumerate((1035.0, 1036.0), start=3):
        at(when, store.log_candidate, k, "{}", {"score": 0.5}, {})
    at(1036.5, store.log_metrics, 1, 0, "val", {"acc": 0.5})
    at(1037.0, store.set_status, "finished")
    store.close()
    paused = 1034.0 - (1004.0 if stop else 1003.0)
    expected = [1.0, 2.0, 3.0, 35.0 - paused, 36.0 - paused]
    run = load(store.run_dir)
    np.testing.assert_allclose(run.candidates["elapsed"], expected)
    np.testing.assert_allclose(run.history["elapsed"], [36.5 - paused])
    live.refresh()
    np.testing.assert_allclose(live.candidates["elapsed"], expected)
    # A wall-time budget resumed from here counts search time, not the pause.
    assert _elapsed(run) == pytest.approx(36.0 - paused)


def test_a_killed_run_has_one_pause_for_a_monitor_across_the_resume_and_a_later_reader(
    tmp_path, monkeypatch
):
    clock = [1000.0]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    store = RunStore.create(tmp_path / "run", {"strategy": "darts"}, {})
    store.set_status("running")
    for step in range(1, 11):  # written up to 1100; the checkpoint holds step 5 (1050)
        clock[0] += 10
        store.log_metrics(step, 0, "train", {"loss": 1.0})
    live = load(store.run_dir)
    store.close()  # killed: no status, the lock let go
    clock[0] += 1000
    store = RunStore.open(tmp_path / "run")
    store.set_status("running")  # a resume says running first ...
    live.refresh()  # ... a monitor polls here ...
    clock[0] += 5
    store.discard_after(5)  # ... then the checkpoint's restore drops steps 6-10
    for step in range(6, 11):
        clock[0] += 10
        store.log_metrics(step, 0, "train", {"loss": 1.0})
    store.set_status("finished")
    store.close()
    live.refresh()
    later = load(tmp_path / "run")
    # The pause runs from the last row the checkpoint kept (1050) to the resume (2100).
    expected = [10.0, 20.0, 30.0, 40.0, 50.0, 65.0, 75.0, 85.0, 95.0, 105.0]
    np.testing.assert_allclose(later.history["elapsed"], expected)
    np.testing.assert_allclose(live.history["elapsed"], expected)


def test_a_retrain_while_stopped_does_not_shorten_the_pause(tmp_path, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    store = RunStore.create(tmp_path / "run", {"strategy": "darts"}, {})
    store.set_status("running")
    for step in (1, 2, 3):
        clock[0] += 10
        store.log_metrics(step, 0, "train", {"loss": 1.0})
    clock[0] += 1
    store.set_status("stopped")  # at 1031
    clock[0] = 90_000.0  # a day later, retrained while stopped
    store.log_metrics(1, 0, "retrain", {"train_loss": 0.5})
    store.log_event("retrain_finished", {"models": {}})
    clock[0] = 91_000.0
    store.set_status("running")
    clock[0] += 10
    store.log_metrics(4, 0, "train", {"loss": 1.0})
    store.close()
    history = load(tmp_path / "run").history
    train = history[history["phase"] == "train"]["elapsed"].tolist()
    assert train == [10.0, 20.0, 30.0, 41.0]  # 31 s to the stop, 10 s after the resume


def test_run_version_tells_a_run_started_again_under_its_name(tmp_path):
    # The usual re-launch: the run deleted, and the same config started again with another
    # seed; as many rows, other values, so the row ids alone would match.
    import shutil
    import time

    from nasbench.runs.reader import run_version

    stamps = []
    for value in (0.5, 0.9):
        with RunStore.create(tmp_path / "run", {"seed": value}, environment={}) as store:
            store.log_metrics(1, 0, "train", {"loss": value})
        stamps.append(run_version(tmp_path / "run"))
        shutil.rmtree(tmp_path / "run")
        time.sleep(0.01)  # creation times a clock tick apart
    assert stamps[0][:-1] == stamps[1][:-1] and stamps[0] != stamps[1]
