"""The run-store writer: settings, errors, stop requests, crash safety."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from nasbench.errors import ConfigError
from nasbench.runs import RunStore, load, request_stop
from nasbench.runs import store as store_module

REPO_ROOT = Path(__file__).resolve().parents[2]
OPS = ["none", "skip_connect", "sep_conv_3x3"]
EDGES = ["(2, 0)", "(2, 1)"]


def python_env() -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")])
    return env


def new_store(tmp_path: Path, name: str = "run", **config) -> RunStore:
    return RunStore.create(tmp_path / name, {"strategy": "darts", **config}, environment={})


def one_line(err: pytest.ExceptionInfo) -> str:
    message = str(err.value)
    assert "\n" not in message
    return message


def test_create_makes_wal_database_and_checkpoint_folder(tmp_path):
    with new_store(tmp_path, seed=3) as store:
        assert store.status == "created"
        assert store.config == {"strategy": "darts", "seed": 3}
        conn = sqlite3.connect(tmp_path / "run" / "run.sqlite")
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        conn.close()
        assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert store._db.execute("PRAGMA busy_timeout").fetchone()[0] > 0
    assert (tmp_path / "run" / "checkpoints").is_dir()
    assert not list((tmp_path / "run").glob(".run.sqlite.tmp*"))


def test_create_refuses_an_existing_run_unless_resume(tmp_path):
    new_store(tmp_path).close()
    with pytest.raises(ConfigError) as err:
        new_store(tmp_path)
    assert "already holds a run" in one_line(err)
    with RunStore.create(tmp_path / "run", {"strategy": "other"}, resume=True) as store:
        assert store.config == {"strategy": "darts"}  # the stored config wins


def test_create_captures_environment_when_none_given(tmp_path):
    RunStore.create(tmp_path / "run", {"device": "cpu"}).close()
    env = load(tmp_path / "run").environment
    assert env["device"] == "cpu"
    assert env["packages"]["numpy"] == np.__version__
    assert {"python", "platform", "cuda", "threads", "git"} <= set(env)


def test_config_must_be_json(tmp_path):
    with pytest.raises(ConfigError) as err:
        RunStore.create(tmp_path / "run", {"f": object()}, environment={})
    assert "config is not JSON-serialisable" in one_line(err)
    assert not (tmp_path / "run" / "run.sqlite").exists()


@pytest.mark.parametrize("kind", ["missing", "empty"])
def test_open_non_run_folder_is_one_line_error(tmp_path, kind):
    folder = tmp_path / "nothing"
    if kind == "empty":
        folder.mkdir()
    with pytest.raises(ConfigError) as err:
        RunStore.open(folder)
    assert str(folder) in one_line(err)
    with pytest.raises(ConfigError):
        request_stop(folder)


def test_second_writer_is_refused_while_first_is_open(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "_LOCK_WAIT_S", 0.1)
    first = new_store(tmp_path)
    with pytest.raises(ConfigError) as err:
        RunStore.open(tmp_path / "run")
    assert "another live process" in one_line(err)
    first.close()
    RunStore.open(tmp_path / "run").close()  # the lock is released on close


def test_bad_writer_input_is_one_line_error(tmp_path):
    with new_store(tmp_path) as store:
        with pytest.raises(ConfigError) as err:
            store.set_status("runing")
        assert "Did you mean 'running'?" in one_line(err)
        with pytest.raises(ConfigError) as err:
            store.log_alphas(0, 0, "normal", np.zeros((3, 3)), OPS, EDGES)
        assert "(3, 3)" in one_line(err)
        with pytest.raises(ConfigError) as err:
            store.log_metrics(0, 0, "train", {"loss": "high"})
        assert "'loss'" in one_line(err)
        with pytest.raises(ConfigError):
            store.log_candidate(1.5, "{}", {}, {})
        with pytest.raises(ConfigError):
            store.log_event("x", {"bad": object()})
    run = load(tmp_path / "run")
    assert run.history.empty and run.alphas.empty and run.events.empty


def test_batch_is_one_transaction(tmp_path):
    with new_store(tmp_path) as store:
        with pytest.raises(RuntimeError), store.batch():
            store.log_metrics(1, 0, "train", {"loss": 1.0})
            store.log_alphas(1, 0, "normal", np.zeros((2, 3)), OPS, EDGES)
            raise RuntimeError("boom")
        assert load(tmp_path / "run").history.empty
        with store.batch():
            store.log_alphas(2, 0, "normal", np.zeros((2, 3)), OPS, EDGES)
            store.log_alphas(2, 0, "reduce", np.ones((2, 3)), OPS, EDGES)
        assert len(load(tmp_path / "run").alphas) == 12


def test_exception_inside_with_marks_run_failed(tmp_path):
    with pytest.raises(ValueError), new_store(tmp_path) as store:
        store.set_status("running")
        raise ValueError("loss is NaN at step 7")
    run = load(tmp_path / "run")
    assert (run.status, run.message) == ("failed", "ValueError: loss is NaN at step 7")
    with pytest.raises(ConfigError):
        store.log_metrics(1, 0, "train", {"loss": 1.0})  # closed


def test_request_stop_from_another_process(tmp_path):
    with new_store(tmp_path) as store:
        store.set_status("running")
        assert not store.stop_requested()
        code = f"from nasbench.runs import request_stop; request_stop({str(tmp_path / 'run')!r})"
        subprocess.run([sys.executable, "-c", code], check=True, env=python_env(), timeout=60)
        assert store.stop_requested()
        assert load(tmp_path / "run").stop_pending
        store.set_status("stopped")
        assert not store.stop_requested()  # honoured
        store.request_stop()
        assert store.stop_requested()
    with RunStore.open(tmp_path / "run") as store:
        assert not store.stop_requested()  # opening to resume clears old requests


WRITER = textwrap.dedent(
    """
    import sys, numpy as np
    from nasbench.runs import RunStore
    ops = [f"op{i}" for i in range(8)]
    edges = [f"e{i}" for i in range(14)]
    store = RunStore.create(sys.argv[1], {"strategy": "darts"}, environment={})
    store.set_status("running")
    rng = np.random.default_rng(0)
    step = 0
    while True:
        step += 1
        store.log_metrics(step, 0, "train", {"loss": 1.0 / step, "acc": 0.5})
        store.log_alphas(step, 0, "normal", rng.normal(size=(14, 8)), ops, edges)
        store.log_alphas(step, 0, "reduce", rng.normal(size=(14, 8)), ops, edges)
        store.set_progress(step, None, 0, None)
        print(step, flush=True)
        if step == int(sys.argv[2]):
            break
    store.set_status("finished")
    store.close()
    """
)


def test_sigkill_leaves_a_readable_store_with_every_commit(tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    run_dir = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, str(script), str(run_dir), "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=python_env(),
    )
    try:
        last_printed = 0
        while last_printed < 30:
            last_printed = int(proc.stdout.readline())
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    run = load(run_dir)
    assert run.status == "running" and run.writer_alive() is False
    steps = run.history["step"].unique()
    assert steps.max() >= last_printed
    assert list(steps) == list(range(1, steps.max() + 1))  # nothing committed was lost
    sizes = run.alphas.groupby(["step", "cell_type"], observed=True).size()
    assert (sizes == 14 * 8).all()
    # The writer can take over again (resume) after the crash.
    with RunStore.open(run_dir) as store:
        store.set_status("stopped", "killed")
    assert load(run_dir).status == "stopped"


def test_writer_round_trip_rows_are_plain_json(tmp_path):
    with new_store(tmp_path) as store:
        store.log_candidate(np.int64(4), "{}", {"acc": np.float32(0.5)}, {"params": np.int64(7)})
    conn = sqlite3.connect(tmp_path / "run" / "run.sqlite")
    cid, metrics, cost = conn.execute(
        "SELECT candidate_id, metrics, cost FROM candidates"
    ).fetchone()
    conn.close()
    assert cid == 4 and json.loads(metrics) == {"acc": 0.5} and json.loads(cost) == {"params": 7}


def listing(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()}


def test_reading_a_finished_run_leaves_its_folder_as_it_was(tmp_path):
    """A read-only open of a WAL database makes -wal/-shm files; closing it removes them."""
    with new_store(tmp_path) as store:
        store.log_metrics(1, 0, "train", {"loss": 0.5})
    before = listing(tmp_path / "run")
    assert not {"run.sqlite-wal", "run.sqlite-shm"} & set(before)
    with load(tmp_path / "run") as run:
        assert "run.sqlite-wal" in os.listdir(tmp_path / "run")  # SQLite needs them to read
        assert list(run.history["value"]) == [0.5]
    assert listing(tmp_path / "run") == before


def test_a_run_dropped_or_left_open_at_exit_leaves_its_folder_as_it_was(tmp_path):
    """A notebook seldom closes what it loads: a Run collected, or still open when Python
    exits, closes its connection and removes the sidecars its reading made."""
    import gc
    import subprocess
    import sys

    with new_store(tmp_path) as store:
        store.log_metrics(1, 0, "train", {"loss": 0.5})
    before = listing(tmp_path / "run")
    run = load(tmp_path / "run")
    assert "run.sqlite-wal" in os.listdir(tmp_path / "run")
    del run
    gc.collect()
    assert listing(tmp_path / "run") == before
    script = (
        "import sys, nasbench.runs as runs\n"
        "run = runs.load(sys.argv[1])\n"
        "assert len(run.history) == 1\n"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "run")], check=True, timeout=120)
    assert listing(tmp_path / "run") == before


def test_a_reader_closing_beside_a_writer_keeps_the_writers_wal(tmp_path):
    """The reader opened first (it made the sidecars) and closes while a writer has the
    database: SQLite's last-close rule keeps the WAL, and every commit stays readable."""
    with new_store(tmp_path) as store:
        store.log_metrics(1, 0, "train", {"loss": 0.5})
    reader = load(tmp_path / "run")
    writer = RunStore.open(tmp_path / "run")
    writer.log_metrics(2, 0, "train", {"loss": 0.25})
    reader.close()
    assert (tmp_path / "run" / "run.sqlite-wal").exists()
    writer.log_metrics(3, 0, "train", {"loss": 0.125})
    with load(tmp_path / "run") as run:
        assert list(run.history["value"]) == [0.5, 0.25, 0.125]
    writer.close()
    assert not (tmp_path / "run" / "run.sqlite-wal").exists()


class _InterruptedAfter:
    """A connection that raises KeyboardInterrupt just after running ``statement``."""

    def __init__(self, conn, statement: str) -> None:
        self.conn, self.statement = conn, statement

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    def execute(self, sql, *args):
        result = self.conn.execute(sql, *args)
        if sql == self.statement:
            raise KeyboardInterrupt
        return result


@pytest.mark.parametrize("statement", ["COMMIT", "PRAGMA user_version = 1"])
def test_an_interrupt_while_creating_the_schema_is_not_hidden_by_a_failed_rollback(statement):
    import sqlite3

    from nasbench.runs.schema import apply_schema, schema_version

    conn = sqlite3.connect(":memory:", isolation_level=None)
    with pytest.raises(KeyboardInterrupt):
        apply_schema(_InterruptedAfter(conn, statement))
    # Interrupted after COMMIT: the schema is in; before it: rolled back, nothing half-made.
    assert schema_version(conn) == (1 if statement == "COMMIT" else 0)
    assert not conn.in_transaction


def test_a_full_disk_while_creating_leaves_no_database_and_no_stray_files(tmp_path, monkeypatch):
    from nasbench.errors import RunStoreError
    from nasbench.runs import schema

    real_apply = schema.apply_schema

    def small_disk(conn):
        conn.execute("PRAGMA page_size = 1024")
        conn.execute("PRAGMA max_page_count = 12")  # room for the tables, not the config
        real_apply(conn)

    monkeypatch.setattr(store_module, "apply_schema", small_disk)
    config = {"dataset": "synthetic", "notes": "x" * 50_000}
    with pytest.raises(RunStoreError, match="full") as err:
        RunStore.create(tmp_path / "run", config, environment={})
    assert "\n" not in str(err.value)
    assert not (tmp_path / "run").exists()


def test_a_created_database_is_published_whole_and_read_in_wal_mode(tmp_path):
    import sqlite3

    with RunStore.create(tmp_path / "run", {"dataset": "synthetic"}, environment={}):
        pass
    names = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert not [n for n in names if n.startswith(".run.sqlite.tmp")]
    conn = sqlite3.connect(tmp_path / "run" / "run.sqlite")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_the_run_list_reads_validation_rows_by_index_not_every_step(tmp_path):
    # A long run holds ~100,000 per-step rows beside ~50 validation rows; `nasbench runs`
    # over hundreds of runs must not scan them all.
    RunStore.create(tmp_path / "run", {}, {}).close()
    conn = sqlite3.connect(tmp_path / "run" / "run.sqlite")
    plan = " ".join(
        str(row[-1])
        for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT name, value FROM metrics WHERE (phase IN ('val', "
            "'search') OR name = ?) AND value IS NOT NULL",
            ("val_reward",),
        )
    )
    conn.close()
    assert "metrics_phase" in plan and "metrics_name" in plan and "SCAN metrics" not in plan


def _phase_rows(run_dir: Path, phase: str) -> list[tuple[int, str, float]]:
    history = load(run_dir).history
    rows = history[history["phase"] == phase]
    return sorted(zip(rows["step"], rows["name"], rows["value"], strict=True))


def test_a_resume_discards_the_search_steps_past_its_checkpoint_but_no_retrain_rows(tmp_path):
    # A run stopped after step 10 and retrained for 10 epochs (its rows' steps are epochs),
    # then resumed from its checkpoint at step 3.
    with new_store(tmp_path) as store:
        for step in range(1, 11):
            store.log_metrics(step, 0, "train", {"loss": 1.0 / step})
            store.log_metrics(step, step - 1, "retrain", {"val_loss": 2.0 / step})
            store.log_metrics(step, step - 1, "baseline", {"val_loss": 3.0 / step})
        store.log_metrics(10, 9, "retrain", {"test_acc": 0.75})
        store.discard_after(3)
    assert [step for step, _, _ in _phase_rows(tmp_path / "run", "train")] == [1, 2, 3]
    retrain = _phase_rows(tmp_path / "run", "retrain")
    assert len(retrain) == 11 and (10, "test_acc", 0.75) in retrain
    assert len(_phase_rows(tmp_path / "run", "baseline")) == 10


def test_staged_metrics_are_read_by_no_reader_until_published_in_one_transaction(tmp_path):
    run_dir = tmp_path / "run"
    with new_store(tmp_path) as store:
        store.log_metrics(1, 0, "retrain", {"val_loss": 0.9})  # an earlier, finished retrain
        store.stage_metrics(1, 0, "retrain", {"val_loss": 0.5})
        store.stage_metrics(2, 1, "retrain", {"val_loss": 0.4})
        store.stage_metrics(1, 0, "cnn", {"val_loss": 0.6})
        assert _phase_rows(run_dir, "retrain") == [(1, "val_loss", 0.9)]
        assert _phase_rows(run_dir, "cnn") == []
        with store.batch():
            assert store.publish_staged(["retrain", "cnn", "baseline"]) == 1
            store.log_event("retrain_finished", {})
        assert _phase_rows(run_dir, "retrain") == [(1, "val_loss", 0.5), (2, "val_loss", 0.4)]
        assert _phase_rows(run_dir, "cnn") == [(1, "val_loss", 0.6)]
        store.stage_metrics(1, 0, "retrain", {"val_loss": 0.1})  # a retrain that was killed
        store.clear_staged()
        with store.batch():
            store.publish_staged(["retrain", "cnn"])  # the next one, with nothing staged
    assert _phase_rows(run_dir, "retrain") == []
    with sqlite3.connect(run_dir / "run.sqlite") as conn:
        assert conn.execute("SELECT COUNT(*) FROM staged_metrics").fetchone() == (0,)


def test_a_run_made_before_the_staging_table_stages_and_publishes(tmp_path):
    run_dir = tmp_path / "run"
    new_store(tmp_path).close()
    with sqlite3.connect(run_dir / "run.sqlite") as conn:  # as an earlier version made it
        conn.execute("DROP TABLE staged_metrics")
    with RunStore.open(run_dir) as store:
        store.clear_staged()
        store.stage_metrics(1, 0, "retrain", {"val_loss": 0.5})
        with store.batch():
            store.publish_staged(["retrain"])
    assert _phase_rows(run_dir, "retrain") == [(1, "val_loss", 0.5)]


def test_a_creation_removes_what_killed_creations_left_but_not_a_live_ones(tmp_path):
    """SIGKILL mid-creation leaves the temporary database; the next run made in that
    folder removes a gone writer's (and any that is old), never a live writer's."""
    import os
    import subprocess
    import sys
    import time

    from nasbench.tempfiles import writer_tag

    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    host = writer_tag().partition("-")[2]
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    killed = [run_dir / f".run.sqlite.tmp-{ended.stdout.strip()}-{host}{suffix}"
              for suffix in ("", "-journal")]  # fmt: skip
    live = run_dir / f".run.sqlite.tmp-{os.getppid()}-{host}"  # a running process (pytest's parent)
    old_untagged, new_untagged = run_dir / ".run.sqlite.tmp-1", run_dir / ".run.sqlite.tmp-2"
    for path in (*killed, live, old_untagged, new_untagged):
        path.write_bytes(b"torn")
    an_hour_ago = time.time() - 3600
    os.utime(old_untagged, (an_hour_ago, an_hour_ago))
    with RunStore.create(run_dir, {"strategy": "darts"}, environment={}):
        pass
    left = sorted(p.name for p in run_dir.glob(".run.sqlite.tmp-*"))
    assert left == sorted([live.name, new_untagged.name])
