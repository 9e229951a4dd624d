"""`nasbench runs` and `nasbench stop` on a Launcher's run folder whose search has not
created its run store: listed as the Runs tab lists it (starting, or failed and why), and
a stop that says what to do instead of "not a run folder"."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nasbench.cli import main
from nasbench.runs import RunStore
from nasbench.runs.launched import CONFIG_NAME, STDERR_NAME, record_process

CONFIG = {"dataset": {"name": "synthetic"}, "strategy": "darts"}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def launcher_folder(path: Path) -> Path:
    """A run folder as the Launcher leaves it before its search has a store."""
    path.mkdir(parents=True)
    (path / CONFIG_NAME).write_text(json.dumps(CONFIG))
    (path / STDERR_NAME).write_text("\r  0%|          | 0/32 [00:00<?, ?step/s]")
    return path


def listed(out: str) -> dict[str, list[str]]:
    """`nasbench runs`' table rows by run folder: the lines before the first "FOLDER: why"
    (the table is right-aligned), less its header."""
    rows = []
    for line in out.splitlines()[1:]:
        if ": " in line:
            break
        rows.append(line.split())
    return {row[0]: row[1:] for row in rows}


@pytest.fixture
def folders(tmp_path):
    """A finished run, a launched search whose process died before its store, and one
    whose process still runs."""
    runs = tmp_path / "runs"
    finished = runs / "a-finished"
    with RunStore.create(finished, CONFIG, environment={}) as store:
        store.set_status("finished")
    dead, starting = launcher_folder(runs / "b-dead"), launcher_folder(runs / "c-starting")
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    record_process(process, dead)
    process.kill()
    process.wait()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    record_process(live, starting)
    yield runs, finished, (dead, process.pid), (starting, live.pid)
    live.kill()
    live.wait()


def test_runs_lists_launched_folders_as_failed_or_starting_with_why(capsys, folders):
    runs, finished, (dead, dead_pid), (starting, _) = folders
    code, out, err = run(capsys, "runs", str(runs))
    assert code == 0 and err == ""
    table = listed(out)
    assert table[str(finished)] == ["finished", "synthetic", "darts", "None", "NaN"]
    assert table[str(dead)] == ["failed", "synthetic", "darts", "None", "NaN"]
    assert table[str(starting)] == ["starting", "synthetic", "darts", "None", "NaN"]
    reason = (
        f"its process (pid {dead_pid}) ended with no error logged (killed? out of memory?); "
        f"see stderr.log in {dead}."
    )
    lines = out.splitlines()
    assert f"{dead}: failed: {reason}" in lines
    assert f"{starting}: starting: no run store yet (see stderr.log if it does not start)" in lines
    assert not [line for line in lines if line.startswith(f"{finished}:")]


def test_runs_says_the_searchs_own_error_for_one_that_failed_its_checks(capsys, tmp_path):
    failed = launcher_folder(tmp_path / "runs" / "darts-1")
    (failed / STDERR_NAME).write_text("loading\nnasbench: error: no dataset x; pick another.\n")
    code, out, _ = run(capsys, "runs", str(tmp_path / "runs"))
    assert code == 0 and listed(out)[str(failed)][0] == "failed"
    assert f"{failed}: failed: no dataset x; pick another." in out.splitlines()
    # Given the launcher's folder itself, it says it is one run, not a folder of runs.
    code, _, err = run(capsys, "runs", str(failed))
    assert code == 2 and "is a run folder, not a folder of runs" in err


def test_stop_on_a_starting_launched_search_says_what_to_do(capsys, folders):
    runs, _, _, (starting, pid) = folders
    code, out, err = run(capsys, "stop", str(starting))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "not a run folder" not in err
    assert (
        f"run '{starting}' is starting: its search has not created its run store yet, so "
        f"there is nowhere to send a stop request; run `nasbench stop {starting}` again once "
        f"`nasbench runs {runs}` lists it as running, or end it now with `kill {pid}`."
    ) in err
    assert not (starting / "run.sqlite").exists()  # nothing was created to hold a request


def test_stop_on_a_launched_search_that_failed_says_why(capsys, folders):
    _, _, (dead, dead_pid), _ = folders
    code, out, err = run(capsys, "stop", str(dead))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert (
        f"run '{dead}' failed before its search created a run store, so there is nothing to "
        f"stop: its process (pid {dead_pid}) ended"
    ) in err


def test_the_runs_tab_and_the_cli_say_the_same_of_each_folder(capsys, folders):
    from nasbench.runs.summary import folder_summaries
    from widgets.monitor import RunMonitor
    from widgets.run_browser import RunBrowser, unstarted_runs

    runs, finished, (dead, _), (starting, _) = folders
    code, out, _ = run(capsys, "runs", str(runs))
    assert code == 0
    said = {line.split(": ", 2)[0]: line.split(": ", 2)[1:] for line in out.splitlines()
            if line.startswith(str(runs)) and ": " in line}  # fmt: skip
    browser = RunBrowser(runs)
    try:
        tab = {r["run_dir"]: (r["status"], r["message"]) for _, r in browser.frame.iterrows()}
    finally:
        browser.close()
    assert tab[str(finished)][0] == listed(out)[str(finished)][0] == "finished"
    for folder in (dead, starting):
        assert tab[str(folder)] == tuple(said[str(folder)])
        assert listed(out)[str(folder)][0] == tab[str(folder)][0]
    unstarted = unstarted_runs(runs)[["run_dir", "status", "message"]].to_numpy().tolist()
    cli_rows = [
        [r["run_dir"], r["status"], r["message"]]
        for r in folder_summaries(runs)
        if r["status"] in ("failed", "starting")
    ]
    assert unstarted == cli_rows
    monitor = RunMonitor(dead)  # the Monitor opened on it from the Runs tab
    try:
        assert monitor.status == "failed" and tab[str(dead)][1] in monitor.error.value
        monitor.watch(starting)
        assert monitor.status == "starting" and monitor.error.value == ""
    finally:
        monitor.close()


def test_stop_from_inside_a_starting_folder_names_the_folder_that_lists_it(
    capsys, folders, monkeypatch
):
    runs, _, _, (starting, _) = folders
    monkeypatch.chdir(starting)
    code, _, err = run(capsys, "stop", ".")
    assert code == 2 and f"once `nasbench runs {runs.resolve()}` lists it as running" in err
    code, out, _ = run(capsys, "runs", str(runs.resolve()))  # the advice works
    assert code == 0 and str(starting.resolve()) in out


def test_an_unreadable_log_hides_no_other_run(capsys, folders, monkeypatch):
    from nasbench.runs import launched

    runs, finished, (dead, dead_pid), (starting, _) = folders

    def refused(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(launched, "open", refused, raising=False)  # every stderr.log
    code, out, _ = run(capsys, "runs", str(runs))
    rows = listed(out)
    assert code == 0 and rows[str(finished)][0] == "finished"
    assert rows[str(dead)][0] == "failed" and f"its process (pid {dead_pid}) ended" in out
    assert rows[str(starting)][0] == "starting"


def test_a_damaged_config_keeps_the_time_it_was_written(tmp_path):
    import os

    from nasbench.runs.summary import folder_summaries

    folder = launcher_folder(tmp_path / "runs" / "damaged")
    (folder / CONFIG_NAME).write_text("{")
    os.utime(folder / CONFIG_NAME, (1_700_000_000, 1_700_000_000))
    (row,) = folder_summaries(tmp_path / "runs")
    assert (row["name"], row["status"], row["created"]) == ("damaged", "starting", 1.7e9)
