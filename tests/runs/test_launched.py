"""A Launcher's run folder before its search creates the run store: starting or failed,
and why, read without widgets, pandas or torch (nasbench.runs.launched)."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from nasbench.runs import RunStore
from nasbench.runs.launched import (
    CONFIG_NAME,
    PROCESS_NAME,
    STARTING_MESSAGE,
    STDERR_NAME,
    dead_search_process,
    launched_summaries,
    launched_summary,
    process_start,
    record_process,
    recorded_process,
    unstarted_reason,
)
from nasbench.runs.summary import folder_summaries, run_summaries

CONFIG = {"dataset": {"name": "synthetic"}, "strategy": "darts"}


def launcher_folder(path: Path) -> Path:
    """A run folder as the Launcher leaves it before its search has a store."""
    path.mkdir(parents=True)
    (path / CONFIG_NAME).write_text(json.dumps(CONFIG))
    (path / STDERR_NAME).write_text("\r  0%|          | 0/32 [00:00<?, ?step/s]")
    return path


@pytest.fixture
def sleeper():
    """A live process to record (it stands for a search still loading)."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process
    process.kill()
    process.wait()


def ended_process() -> subprocess.Popen:
    """A recorded process that has ended with no word, as SIGKILL would leave it."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process


def test_a_folder_whose_recorded_process_ended_reads_failed_with_the_reason(tmp_path):
    run_dir = launcher_folder(tmp_path / "darts-1")
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        record_process(process, run_dir)
    finally:
        process.kill()
        process.wait()
    assert dead_search_process(run_dir) == process.pid
    reason = (
        f"its process (pid {process.pid}) ended with no error logged (killed? out of "
        f"memory?); see stderr.log in {run_dir}."
    )
    assert unstarted_reason(run_dir) == reason
    row = launched_summary(run_dir)
    assert row == {
        "run_dir": str(run_dir),
        "name": "darts-1",
        "status": "failed",
        "message": reason,
        "dataset": "synthetic",
        "strategy": "darts",
        "created": (run_dir / CONFIG_NAME).stat().st_mtime,
        "best_metric_name": None,
        "best_metric": row["best_metric"],
        "writer_alive": False,
    }
    assert math.isnan(row["best_metric"])


def test_a_folder_whose_recorded_process_runs_reads_starting(tmp_path, sleeper):
    run_dir = launcher_folder(tmp_path / "darts-1")
    record_process(sleeper, run_dir)
    assert recorded_process(run_dir) == (sleeper.pid, process_start(sleeper.pid))
    assert dead_search_process(run_dir) is None and unstarted_reason(run_dir) == ""
    row = launched_summary(run_dir)
    assert (row["status"], row["message"]) == ("starting", STARTING_MESSAGE)
    assert STARTING_MESSAGE == "no run store yet (see stderr.log if it does not start)"


def test_the_searchs_logged_error_is_the_reason_whatever_its_process(tmp_path, sleeper):
    run_dir = launcher_folder(tmp_path / "darts-1")
    record_process(sleeper, run_dir)  # still running: the error line decides
    (run_dir / STDERR_NAME).write_text("loading\nnasbench: error: no dataset x; pick another.\n")
    row = launched_summary(run_dir)
    assert (row["status"], row["message"]) == ("failed", "no dataset x; pick another.")


def test_only_a_launcher_folder_without_a_store_is_one(tmp_path):
    plain = tmp_path / "plain"  # no search config: not the Launcher's
    plain.mkdir()
    (tmp_path / "notes.txt").write_text("x")
    assert launched_summary(plain) is None and launched_summary(tmp_path / "notes.txt") is None
    run_dir = launcher_folder(tmp_path / "darts-1")
    assert launched_summary(run_dir)["status"] == "starting"  # no record: an older version's
    with RunStore.create(run_dir, CONFIG, environment={}) as store:
        store.set_status("running")
    assert launched_summary(run_dir) is None and launched_summaries(tmp_path) == []


def test_a_record_from_another_machine_or_hand_edited_tells_nothing(tmp_path):
    run_dir = launcher_folder(tmp_path / "darts-1")
    dead = ended_process().pid
    for record in (
        {"pid": dead, "started": "linux:1", "host": "elsewhere"},
        {"pid": True, "started": None, "host": socket.gethostname()},
        {"pid": -3, "host": socket.gethostname()},
        ["not", "a", "record"],
    ):
        (run_dir / PROCESS_NAME).write_text(json.dumps(record))
        assert recorded_process(run_dir) is None and unstarted_reason(run_dir) == ""
    (run_dir / PROCESS_NAME).write_text("{not json")
    assert launched_summary(run_dir)["status"] == "starting"


def test_a_reused_pid_reads_ended_and_a_mark_of_another_kind_counts_liveness_only(tmp_path):
    run_dir = launcher_folder(tmp_path / "darts-1")
    record = {"pid": os.getpid(), "started": "linux:12345", "host": socket.gethostname()}
    (run_dir / PROCESS_NAME).write_text(json.dumps(record))
    assert dead_search_process(run_dir, lambda pid: "linux:99999") == os.getpid()
    assert dead_search_process(run_dir, lambda pid: "psutil:1700000000.0") is None
    assert dead_search_process(run_dir, lambda pid: None) == os.getpid()
    assert unstarted_reason(run_dir, lambda folder: None) == ""
    assert "(pid 7) ended" in unstarted_reason(run_dir, lambda folder: 7)


def test_without_proc_the_start_falls_back_to_whether_the_pid_runs(tmp_path):
    dead = ended_process().pid
    assert process_start(dead, proc=tmp_path / "no-proc") is None
    assert process_start(os.getpid(), proc=tmp_path / "no-proc") is not None


def test_folder_summaries_list_runs_and_launcher_folders_once_each(tmp_path, sleeper):
    runs = tmp_path / "runs"
    with RunStore.create(runs / "a-run", CONFIG, environment={}) as store:
        store.set_status("finished")
    failed = launcher_folder(runs / "b-failed")
    (failed / STDERR_NAME).write_text("nasbench: error: no dataset x; pick another.\n")
    starting = launcher_folder(runs / "c-starting")
    record_process(sleeper, starting)
    (runs / "d-empty").mkdir()
    rows = folder_summaries(runs)
    assert [(r["name"], r["status"]) for r in rows] == [
        ("a-run", "finished"),
        ("b-failed", "failed"),
        ("c-starting", "starting"),
    ]
    assert rows[0] == run_summaries(runs)[0]  # a run is summarised as before
    assert set(rows[1]) == set(rows[0])  # in the same keys
    assert rows[1:] == launched_summaries(runs)
