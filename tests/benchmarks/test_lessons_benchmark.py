"""benchmarks/lessons.py: cell timings read from nbclient's metadata, the report line, and a
run over tiny stand-in lessons that reports a lesson over the promise and fails on one that
does not execute."""

from __future__ import annotations

import re

import nbformat
import pytest


@pytest.fixture(scope="module")
def bench(load_benchmark):
    return load_benchmark("lessons")


def _stamp(seconds: float) -> str:
    return f"2026-01-01T00:00:{seconds:09.6f}Z"  # nbclient's "%Y-%m-%dT%H:%M:%S.%fZ"


def _timed(source: str, start: float, end: float, tags: tuple = ()) -> dict:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["execution"] = {
        "iopub.status.busy": _stamp(start),
        "iopub.execute_input": _stamp(start + 0.01),
        "shell.execute_reply": _stamp(end),
        "iopub.status.idle": _stamp(end + 0.01),
    }
    cell.metadata["tags"] = list(tags)
    return cell


def _executed_lesson() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A lesson"),
        _timed("QUICK = True", 0.0, 0.1, tags=("parameters",)),
        _timed("# injected by tests/notebooks\nQUICK = True", 0.2, 30.0, ("injected-parameters",)),
        _timed("\n\nresult = search(config)  # the long one\nprint(result)", 1.0, 13.5),
        _timed("print('done')", 14.0, 14.25),
    ]
    return nb


def test_cell_seconds_reads_the_recorded_execution_timing(bench):
    nb = _executed_lesson()
    assert bench.cell_seconds(nb.cells[3]) == pytest.approx(12.49)
    # Without execute_input / execute_reply, the busy and idle stamps count.
    del nb.cells[4].metadata.execution["iopub.execute_input"]
    assert bench.cell_seconds(nb.cells[4]) == pytest.approx(0.26)
    assert bench.cell_seconds(nb.cells[0]) is None  # markdown: never timed


def test_the_slowest_cell_is_indexed_as_in_the_lesson_file(bench):
    # The injected cell ran longest but is the harness's; the lesson's cell 2 (its third,
    # the injected one not counted) is the slowest, named by its first non-blank line.
    slowest = bench.slowest_cell(_executed_lesson())
    assert slowest == bench.SlowCell(
        2, "result = search(config)  # the long one", pytest.approx(12.49)
    )
    assert bench.slowest_cell(nbformat.v4.new_notebook()) is None


def test_the_report_line_says_pass_over_or_failed(bench):
    cell = bench.SlowCell(2, "x" * 80, 12.5)
    line = bench.report_line(bench.LessonResult("13_localisation", 262.0, cell), 0.5, 180)
    assert re.match(r"13_localisation +262\.0 s  OVER +524x  cell 2: 12\.5 s  x{49}…$", line)
    passed = bench.report_line(bench.LessonResult("02_spaces", 90.0, None), 0.5, 180)
    assert passed.split() == ["02_spaces", "90.0", "s", "pass", "180x"]
    failed = bench.LessonResult("04_darts", 3.0, None, "ValueError: bad")
    assert bench.report_line(failed, 0.5).endswith("FAILED  ValueError: bad")


def test_lesson_choice_by_number_and_a_clear_error_for_an_unknown_one(bench):
    assert [p.stem for p in bench.choose_lessons(["04", "13"])] == ["04_darts", "13_localisation"]
    assert len(bench.choose_lessons(None)) == len(list(bench.NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")))
    with pytest.raises(ValueError, match=r"no lesson 99 in .*; choose from 00 01 .* 13\."):
        bench.choose_lessons(["99"])


def _lesson(folder, name: str, body: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    parameters = nbformat.v4.new_code_cell("QUICK = False\nRUN_ROOT = 'runs'")
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# tiny"),
        parameters,
        nbformat.v4.new_code_cell(body),
    ]
    nbformat.write(nb, folder / f"{name}.ipynb")


def test_a_run_reports_a_lesson_over_the_promise_and_fails_on_one_that_raises(
    bench, tmp_path, capsys
):
    _lesson(tmp_path, "00_sleeps", "import time\nassert QUICK\ntime.sleep(0.3)")
    argv = ["--notebooks", str(tmp_path), "--promise", "0.01", "--baseline-repeats", "1"]
    assert bench.main(argv) == 0  # over the promise: reported, not failed
    out = capsys.readouterr().out
    assert re.search(
        r"^00_sleeps +[\d.]+ s  OVER +\d+x  cell 2: 0\.[3-9]\d* s  import time$", out, re.M
    )
    assert "thread(s)" in out and "load average" in out and "baseline at the end" in out
    assert "1 lesson(s) in" in out and "1 over the promise (00_sleeps), 0 failed" in out

    _lesson(tmp_path, "01_raises", "raise ValueError('the data folder is empty')")
    assert (
        bench.main(["--notebooks", str(tmp_path), "--lessons", "01", "--baseline-repeats", "1"])
        == 1
    )
    out = capsys.readouterr().out
    assert re.search(
        r"^01_raises +[\d.]+ s  FAILED  ValueError: the data folder is empty$", out, re.M
    )
    assert "1 failed to execute (01_raises)" in out and "00_sleeps" not in out


def test_bad_arguments_exit_with_a_one_line_message(bench, tmp_path, capsys):
    with pytest.raises(SystemExit):
        bench.main(["--notebooks", str(tmp_path)])
    assert f"no lessons (NN_*.ipynb) in {tmp_path}" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench.main(["--baseline-repeats", "0"])
    assert "--baseline-repeats must be at least 1, not 0" in capsys.readouterr().err


@pytest.mark.parametrize("signum", ["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_run_at_once_and_fails_no_lesson(
    bench, tmp_path, capsys, monkeypatch, signum
):
    """Ctrl-C or SIGTERM in a lesson: nbclient turns the KeyboardInterrupt into an empty
    AssertionError; the run stops there (exit 130), the lesson is not FAILED, no next one."""
    import os
    import signal

    _lesson(tmp_path, "00_first", "x = 1")
    _lesson(tmp_path, "01_second", "x = 2")
    ran = []

    def execute(path, folder, answers=None):
        ran.append(path.stem)
        try:
            os.kill(os.getpid(), getattr(signal, signum))
        except KeyboardInterrupt:
            raise AssertionError() from None  # as nbclient does

    monkeypatch.setattr(bench, "execute_lesson", execute)
    monkeypatch.setattr(bench, "baseline_seconds", lambda repeats: 0.1)
    before = signal.getsignal(signal.SIGTERM)
    argv = ["--notebooks", str(tmp_path), "--baseline-repeats", "1"]
    assert bench.run_main(lambda: bench.main(argv)) == 130
    captured = capsys.readouterr()
    assert ran == ["00_first"]
    assert "FAILED" not in captured.out and "ran 00_first" not in captured.out
    assert captured.err.strip().endswith("interrupted")
    assert signal.getsignal(signal.SIGTERM) is before  # the handlers are given back


def test_an_empty_lesson_list_is_refused(bench, tmp_path, capsys):
    _lesson(tmp_path, "00_first", "x = 1")
    for lessons in ([""], ["00", " "]):
        with pytest.raises(SystemExit) as stop:
            bench.main(["--notebooks", str(tmp_path), "--lessons", *lessons])
        assert stop.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert err.endswith("--lessons names an empty lesson number; give numbers such as 04 13")
