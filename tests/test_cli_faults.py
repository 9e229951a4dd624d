"""The command line when things go wrong around a run: interrupts, kills, pipes, locks,
empty shell variables, swapped or missing checkpoints, a report path that is no report.

Each case is something a person does at a terminal; each must end in one line that says
what happened and what to do, and must leave the run intact.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nasbench.cli import main
from tests.test_malformed_inputs import BASE as TINY  # the smallest search that runs

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()  # drop what earlier commands (a tiny search's progress bar) printed
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("nasbench: ") and "Traceback" not in err
    return lines[0]


def tiny_run(tmp_path: Path, name: str = "run", **change) -> Path:
    config = tmp_path / f"{name}.json"
    config.write_text(json.dumps({**TINY, **change}))
    assert main(["search", "--config", str(config), "--run-dir", str(tmp_path / name)]) == 0
    return tmp_path / name


def last_status(run_dir: Path) -> tuple[str, str]:
    conn = sqlite3.connect(run_dir / "run.sqlite")
    try:
        return conn.execute(
            "SELECT status, message FROM status ORDER BY id DESC LIMIT 1"
        ).fetchone()
    finally:
        conn.close()


# ---- signals --------------------------------------------------------------------------


def _search_until_it_steps(tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    # 24 steps: the first checkpoint (step 1) leaves 23 steps and 5 validations in
    # flight, seconds of runway for the signal to land mid-search, and the resume that
    # follows runs only those (not the 196 steps a 50-epoch run left it).
    config = tmp_path / "long.json"
    config.write_text(json.dumps({**TINY, "epochs": 6, "max_steps_per_epoch": 4,
                                  "checkpoint_every": 1}))  # fmt: skip
    run_dir = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-m", "nasbench", "search", "--config", str(config),
         "--run-dir", str(run_dir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if (run_dir / "checkpoints" / "last.pt").exists():
            return process, run_dir
        time.sleep(0.1)
    process.kill()
    pytest.fail("the search wrote no checkpoint within 120 s")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_an_interrupted_search_says_so_in_one_line_and_resumes(tmp_path, sig, capsys):
    process, run_dir = _search_until_it_steps(tmp_path)
    process.send_signal(sig)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, f"the search was not interrupted mid-run: {err[-500:]}"
    # tqdm's bar shares stderr; the last line is ours.
    assert err.strip().splitlines()[-1] == (
        f"nasbench: interrupted; continue it with `nasbench resume {run_dir}`"
    )
    assert "Traceback" not in err
    assert last_status(run_dir) == ("stopped", "interrupted")
    code, out, _ = run(capsys, "resume", str(run_dir))
    assert code == 0 and out.startswith("finished after ")


@pytest.mark.slow
def test_stop_on_a_killed_search_says_nothing_runs_there(tmp_path, capsys):
    process, run_dir = _search_until_it_steps(tmp_path)
    process.kill()  # SIGKILL, as the out-of-memory killer does: no handler runs
    process.communicate(timeout=60)
    assert last_status(run_dir)[0] == "running"
    code, _, err = run(capsys, "stop", str(run_dir))
    assert code == 2 and "no process is writing it" in one_line(err)
    assert "nasbench resume" in err
    conn = sqlite3.connect(run_dir / "run.sqlite")
    assert conn.execute("SELECT COUNT(*) FROM stop_requests").fetchone() == (0,)
    conn.close()
    code, out, _ = run(capsys, "runs", str(tmp_path))
    assert code == 0 and "killed" in out and f"resume {run_dir}" in out


# ---- the terminal ---------------------------------------------------------------------


def test_a_reader_that_leaves_early_is_no_error(tmp_path):
    for i in range(3):
        tiny_run(tmp_path, f"r{i}")
    # `nasbench runs | true`: the reader is gone before a line is written.
    done = subprocess.run(
        f"{sys.executable} -m nasbench runs {tmp_path} | true",
        shell=True, capture_output=True, text=True, env=ENV, check=False,
    )  # fmt: skip
    assert done.stderr == ""


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        (["search", "--run-dir", ""], "--run-dir"),
        (["search", "--config", " ", "--run-dir", "x"], "--config"),
        (["report", ""], "run_dir"),
        (["runs", ""], "folder"),
    ],
    ids=["run-dir", "config", "report-run", "runs-folder"],
)
def test_an_empty_argument_is_refused_not_defaulted(tmp_path, capsys, monkeypatch, argv, name):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, *argv)
    assert code == 2 and f"{name} is empty" in one_line(err)
    assert list(tmp_path.iterdir()) == []  # nothing written in the current folder


def test_config_path_that_is_a_folder_says_so(tmp_path, capsys):
    code, _, err = run(capsys, "search", "--config", str(tmp_path), "--run-dir", "x")
    assert code == 2 and "is a folder" in one_line(err)


# ---- the run store ----------------------------------------------------------------------


def test_a_locked_database_is_not_called_damaged(tmp_path, capsys, monkeypatch):
    import nasbench.runs.store as store

    run_dir = tiny_run(tmp_path)
    monkeypatch.setattr(store, "BUSY_TIMEOUT_MS", 100)
    holder = sqlite3.connect(run_dir / "run.sqlite", isolation_level=None, timeout=1)
    holder.execute("BEGIN IMMEDIATE")  # a database browser holding a write transaction
    try:
        code, _, err = run(capsys, "resume", str(run_dir))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    line = one_line(err)
    assert code == 2 and "is locked by another program" in line and "damaged" not in line
    assert last_status(run_dir) == ("finished", "")


def test_a_checkpoint_from_another_run_is_refused(tmp_path, capsys):
    first = tiny_run(tmp_path, "first", checkpoint_every=1)
    second = tiny_run(tmp_path, "second", checkpoint_every=1)
    last = first / "checkpoints" / "last.pt"
    last.write_bytes((second / "checkpoints" / "last.pt").read_bytes())
    code, _, err = run(capsys, "resume", str(first))
    assert code == 2 and "belongs to another run" in one_line(err)


def test_a_checkpoint_of_another_network_is_one_line(tmp_path, capsys):
    import torch

    run_dir = tiny_run(tmp_path)
    path = run_dir / "checkpoints" / "last.pt"
    state = torch.load(path, weights_only=True)
    state["supernet"] = {"not.a.weight": torch.zeros(1)}
    torch.save(state, path)
    code, _, err = run(capsys, "resume", str(run_dir))
    assert code == 2 and "does not fit this run's networks" in one_line(err)
    status, message = last_status(run_dir)
    assert status == "failed" and len(message) <= 600 and "\n" not in message


def test_resume_never_replaces_a_finished_runs_results(tmp_path, capsys):
    run_dir = tiny_run(tmp_path)
    rows = (
        sqlite3.connect(run_dir / "run.sqlite").execute("SELECT COUNT(*) FROM metrics").fetchone()
    )
    for path in (run_dir / "checkpoints").glob("*.pt"):
        path.unlink()  # deleted to save space
    code, _, err = run(capsys, "resume", str(run_dir))
    assert code == 2 and "replace its results" in one_line(err)
    conn = sqlite3.connect(run_dir / "run.sqlite")
    assert conn.execute("SELECT COUNT(*) FROM metrics").fetchone() == rows
    assert conn.execute("SELECT COUNT(*) FROM discards").fetchone() == (0,)
    conn.close()


def _row_counts(run_dir: Path) -> tuple:
    conn = sqlite3.connect(run_dir / "run.sqlite")
    try:
        return tuple(
            conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("metrics", "status", "discards")
        )
    finally:
        conn.close()


def test_a_finished_run_whose_checkpoints_are_damaged_stays_finished(tmp_path, capsys):
    # The loader's own advice (remove the checkpoints) would lead to a restart from step 0
    # over complete results; the refusal comes before anything is written.
    run_dir = tiny_run(tmp_path, checkpoint_every=1)
    before = _row_counts(run_dir)
    for name in ("last.pt", "prev.pt"):
        (run_dir / "checkpoints" / name).write_bytes(b"PK\x03\x04 not a checkpoint")
    code, _, err = run(capsys, "resume", str(run_dir))
    line = one_line(err)
    assert code == 2 and "finished, but its checkpoint does not load" in line
    assert "results are complete" in line and "remove" not in line
    assert last_status(run_dir) == ("finished", "") and _row_counts(run_dir) == before


def test_a_finished_run_marked_failed_by_an_earlier_resume_is_not_restarted(tmp_path, capsys):
    # What an older version left: a resume that failed at the checkpoint wrote "failed"
    # after "finished"; with the checkpoints then removed, a resume would start over.
    run_dir = tiny_run(tmp_path)
    conn = sqlite3.connect(run_dir / "run.sqlite")
    conn.execute(
        "INSERT INTO status (time, status, message, pid) VALUES (?, 'running', '', 1), "
        "(?, 'failed', 'checkpoint damaged', 1)",
        (time.time(), time.time()),
    )
    conn.commit()
    conn.close()
    for path in (run_dir / "checkpoints").glob("*.pt"):
        path.unlink()
    before = _row_counts(run_dir)
    code, _, err = run(capsys, "resume", str(run_dir))
    assert code == 2 and "replace its results" in one_line(err)
    assert _row_counts(run_dir) == before


def test_a_run_folder_that_is_a_link_to_nothing_is_named(tmp_path, capsys):
    (tmp_path / "runs").symlink_to(tmp_path / "gone")
    config = tmp_path / "c.json"
    config.write_text(json.dumps(TINY))
    for run_dir in (tmp_path / "runs", tmp_path / "runs" / "x"):
        code, _, err = run(capsys, "search", "--config", str(config), "--run-dir", str(run_dir))
        line = one_line(err)
        assert code == 2 and f"'{tmp_path / 'runs'}' is a link to" in line, line
        assert "does not exist" in line and "free some space" not in line
    assert not (tmp_path / "gone").exists()


def test_a_checkpoints_file_is_named_before_a_search_or_resume(tmp_path, capsys):
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "checkpoints").write_text("notes")
    config = tmp_path / "c.json"
    config.write_text(json.dumps(TINY))
    code, _, err = run(
        capsys, "search", "--config", str(config), "--run-dir", str(tmp_path / "new")
    )
    assert code == 2 and "is a file where a search keeps its checkpoints" in one_line(err)
    assert not (tmp_path / "new" / "run.sqlite").exists()

    run_dir = tiny_run(tmp_path, checkpoint_every=1)
    before = _row_counts(run_dir)
    (run_dir / "checkpoints" / "last.pt").unlink()
    (run_dir / "checkpoints" / "last.pt").mkdir()
    code, _, err = run(capsys, "resume", str(run_dir))
    assert code == 2 and "last.pt' is a folder, where the run keeps a checkpoint" in one_line(err)
    for path in (run_dir / "checkpoints").iterdir():
        path.rmdir() if path.is_dir() else path.unlink()
    (run_dir / "checkpoints").rmdir()
    (run_dir / "checkpoints").write_text("x")
    code, _, err = run(capsys, "resume", str(run_dir))
    assert code == 2 and "checkpoints' is a file, where the run keeps its" in one_line(err)
    assert last_status(run_dir) == ("finished", "") and _row_counts(run_dir) == before


def test_search_will_not_overwrite_a_foreign_checkpoints_folder(tmp_path, capsys):
    (tmp_path / "proj" / "checkpoints").mkdir(parents=True)
    mine = tmp_path / "proj" / "checkpoints" / "last.pt"
    mine.write_text("another tool's model")
    config = tmp_path / "c.json"
    config.write_text(json.dumps(TINY))
    code, _, err = run(
        capsys, "search", "--config", str(config), "--run-dir", str(tmp_path / "proj")
    )
    assert code == 2 and "already holds files (last.pt)" in one_line(err)
    assert mine.read_text() == "another tool's model"
    assert not (tmp_path / "proj" / "run.sqlite").exists()


def test_runs_lists_the_good_runs_beside_a_hand_edited_one(tmp_path, capsys):
    good = tiny_run(tmp_path, "good")
    odd = tiny_run(tmp_path, "odd")
    conn = sqlite3.connect(odd / "run.sqlite")
    conn.execute("UPDATE meta SET value = '[1, 2]' WHERE key = 'config'")
    conn.execute("UPDATE meta SET value = 'soon' WHERE key = 'created'")
    conn.commit()
    conn.close()
    code, out, _ = run(capsys, "runs", str(tmp_path))
    assert code == 0 and "finished" in out and str(good) in out
    assert f"{odd}: ValueError: its stored config is a list" in out
    code, _, err = run(capsys, "resume", str(odd))
    assert code == 2 and "its config is list, not a JSON object" in one_line(err)


@pytest.mark.parametrize("target", ["run.sqlite", "checkpoints/last.pt", "notes.txt"])
def test_report_will_not_write_over_what_is_no_report(tmp_path, capsys, target):
    run_dir = tiny_run(tmp_path)
    out = run_dir / target if target != "notes.txt" else tmp_path / target
    out.write_text("keep me") if target == "notes.txt" else None
    before = out.read_bytes()
    code, _, err = run(capsys, "report", str(run_dir), "--out", str(out))
    assert code == 2 and "report path" in one_line(err)
    assert out.read_bytes() == before


def test_report_writes_an_html_file_in_the_run_folder(tmp_path, capsys):
    run_dir = tiny_run(tmp_path)
    code, out, _ = run(capsys, "report", str(run_dir), "--out", str(run_dir / "summary.html"))
    assert code == 0 and (run_dir / "summary.html").read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("status", "next_step"),
    [("finished", "nasbench report"), ("failed", "shows why it failed"),
     ("stopped", "nasbench resume")],
)  # fmt: skip
def test_stop_on_an_ended_run_says_what_to_do_next_for_its_status(
    tmp_path, capsys, status, next_step
):
    from nasbench.runs import RunStore

    with RunStore.create(tmp_path / "runs" / "r", {"strategy": "darts"}, environment={}) as s:
        s.set_status("running")
        s.set_status(status, "DivergenceError: the loss is NaN" if status == "failed" else "")
    code, _, err = run(capsys, "stop", str(tmp_path / "runs" / "r"))
    line = one_line(err)
    assert code == 2 and f"is {status}; no search is running there" in line and next_step in line
    assert ("nasbench resume" in line) == (status == "stopped")


def test_runs_on_a_run_folder_points_at_its_parent(tmp_path, capsys):
    from nasbench.runs import RunStore

    RunStore.create(tmp_path / "runs" / "r", {"strategy": "darts"}, environment={}).close()
    code, _, err = run(capsys, "runs", str(tmp_path / "runs" / "r"))
    assert code == 2 and "is a run folder, not a folder of runs" in one_line(err)
    assert f"nasbench runs {(tmp_path / 'runs').resolve()}" in err


def test_a_search_stopped_before_validation_says_so_and_how_to_go_on(tmp_path, capsys):
    from types import SimpleNamespace

    from nasbench.engine.commands import _print_result
    from nasbench.spaces.zoo import zoo

    stopped = SimpleNamespace(status="stopped", steps=2, metrics={}, genotype=zoo["DARTS_V2"],
                              run_dir=tmp_path / "r")  # fmt: skip
    _print_result(stopped)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "stopped after 2 steps; not validated yet"
    assert out[-1] == f"continue it with `nasbench resume {tmp_path / 'r'}`"
    _print_result(SimpleNamespace(**{**vars(stopped), "status": "finished",
                                     "metrics": {"val_acc": 0.5}}))  # fmt: skip
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "finished after 2 steps; val_acc 0.500" and "resume" not in out[-1]
