"""The widgets when a student does the awkward thing: open a run twice, open a damaged or
killed run, stop and resume at once, pick the detection set, run into an unwritable folder,
close the workbench. Each ends in a one-line message or the expected view, never a silent
no-op or a traceback in the kernel log."""

from __future__ import annotations

import shutil

import pytest

from widgets import Workbench
from widgets.alpha_explorer import AlphaExplorer
from widgets.dataset_picker import DatasetPicker
from widgets.launcher import SearchLauncher
from widgets.monitor import RunMonitor


class _Running:
    pid, returncode = 1, None

    def poll(self):
        return None


def _workbench(tmp_path) -> Workbench:
    return Workbench(runs_folder=tmp_path / "runs", live_costs=False)


def _open(bench: Workbench, run_dir) -> None:
    bench.browser.folder = run_dir.parent
    bench.browser.refresh()
    bench.browser.select.value = (str(run_dir),)
    bench.browser.open_button.click()


def _unstarted_run(tmp_path):
    """A run store whose search was killed before its first step (no alphas, no rows)."""
    from nasbench.runs import RunStore

    run_dir = tmp_path / "runs" / "random-1"
    store = RunStore.create(run_dir, {"dataset": {"name": "synthetic"}, "strategy": "random"}, {})
    store.set_status("finished")
    store.close()
    return run_dir


def test_opening_the_run_opened_last_shows_it_again(tmp_path, monkeypatch, fake_run):
    from widgets import launcher as launcher_module

    bench = _workbench(tmp_path)
    _open(bench, fake_run)
    assert bench.monitor.run_dir == str(fake_run)
    monkeypatch.setattr(launcher_module, "start_process", lambda args, run_dir: _Running())
    bench.launcher.run_button.click()  # the monitor now follows the new search
    assert bench.monitor.run_dir != str(fake_run)
    bench.selected_index = 6
    bench.browser.open_button.click()  # the same selection as before
    assert bench.monitor.run_dir == str(fake_run) and bench.selected_index == 3


@pytest.mark.parametrize("damage", ["truncated", "empty", "missing"])
def test_a_damaged_run_says_why_instead_of_starting_forever(tmp_path, fake_run, damage):
    database = fake_run / "run.sqlite"
    if damage == "truncated":
        database.write_bytes(database.read_bytes()[:2048])
    elif damage == "empty":
        database.write_bytes(b"")
    else:
        shutil.rmtree(fake_run)
    monitor = RunMonitor()
    monitor.watch(fake_run)
    assert monitor.status == "failed"
    assert "starting" not in monitor.status_text.value
    said = "does not exist" if damage == "missing" else "run store"
    assert "run.sqlite" in monitor.error.value or said in monitor.error.value


def test_resume_acts_on_the_killed_run_opened_from_the_runs_tab(tmp_path, fake_run, started):
    from nasbench.runs import RunStore

    with RunStore.open(fake_run) as store:
        store.set_status("running")  # and then the process was killed: no writer holds it
    bench = _workbench(tmp_path)
    _open(bench, fake_run)
    assert bench.launcher.run_dir == str(fake_run)
    assert not bench.launcher.resume_button.disabled
    assert bench.launcher.resume()
    assert started[-1] == (["resume", str(fake_run)], fake_run)


def test_resume_of_a_run_another_process_writes_starts_nothing(tmp_path, fake_run, started):
    from nasbench.runs import RunStore

    with RunStore.open(fake_run) as store:  # a live writer: a CLI search, another kernel
        store.set_status("running")
        bench = _workbench(tmp_path)
        _open(bench, fake_run)
        assert not bench.launcher.resume()
        assert "being written by another live process" in bench.launcher.message.value
        assert started == [] and bench.monitor.status == "running"


def test_resume_says_why_when_its_log_files_cannot_be_written(tmp_path, fake_run, monkeypatch):
    from widgets import launcher as launcher_module

    def refuse(args, run_dir):
        raise PermissionError(13, "Permission denied", str(run_dir / "stdout.log"))

    monkeypatch.setattr(launcher_module, "start_process", refuse)
    launcher = SearchLauncher(runs_folder=tmp_path / "runs")
    assert not launcher.resume(fake_run)
    assert "cannot resume" in launcher.message.value
    assert "Permission denied" in launcher.message.value and "stdout.log" in launcher.message.value
    assert launcher.process is None


def test_resume_of_a_folder_without_a_readable_run_starts_nothing(tmp_path, started):
    launcher = SearchLauncher(runs_folder=tmp_path / "runs")
    never = tmp_path / "never-existed"
    assert not launcher.resume(never)
    assert "cannot resume: run folder" in launcher.message.value and "does not exist" in (
        launcher.message.value
    )
    assert not never.exists() and started == []  # no stray folder with log files
    (tmp_path / "a-file").write_text("x")
    assert not launcher.resume(tmp_path / "a-file")
    assert "is a file, not a folder" in launcher.message.value
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "run.sqlite").write_bytes(b"SQLite format 3\x00" + b"\x00" * 40)
    assert not launcher.resume(damaged) and started == []
    assert "cannot resume" in launcher.message.value


def test_resume_while_the_search_is_still_stopping_says_so(tmp_path, monkeypatch):
    from widgets import launcher as launcher_module

    launcher = SearchLauncher(runs_folder=tmp_path / "runs")
    monkeypatch.setattr(launcher_module, "start_process", lambda args, run_dir: _Running())
    launcher.run_button.click()
    assert launcher.resume_button.disabled
    assert not launcher.resume()
    assert "still running" in launcher.message.value


def test_a_run_without_alphas_clears_the_explorer(tmp_path, fake_run):
    explorer = AlphaExplorer()
    explorer.set_run(fake_run)
    assert explorer.heatmap_plot.layout.display is None
    explorer.set_run(_unstarted_run(tmp_path))
    assert explorer.heatmap_plot.layout.display == "none"
    assert "no alpha snapshots" in explorer.message.value
    assert "random-1" in explorer.title.value


def test_the_workbench_does_not_keep_the_last_runs_alphas(tmp_path, fake_run):
    bench = _workbench(tmp_path)
    bench.show_run(fake_run)
    assert list(bench.explorer.steps) == [0, 1, 2]
    bench.show_run(_unstarted_run(tmp_path))
    assert "random-1" in bench.explorer.title.value
    assert bench.explorer.heatmap_plot.layout.display == "none"


def test_the_genotypes_tab_does_not_keep_the_last_runs_cell(tmp_path, fake_run):
    bench = _workbench(tmp_path)
    bench.show_run(fake_run)
    assert bench.viewer.source_a.run.value == str(fake_run) and bench.viewer.drawing_a.value
    unstarted = _unstarted_run(tmp_path)  # no genotype: killed before its first epoch
    bench.show_run(unstarted)
    assert bench.viewer.source_a.run.value == str(unstarted)
    assert "pick a run with derived genotypes" in bench.viewer.source_a.message.value
    bench.viewer.update_soon.flush()
    assert not bench.viewer.drawing_a.value


def test_refresh_in_the_runs_tab_lists_new_and_deleted_runs_in_the_genotypes_tab(
    tmp_path, fake_run
):
    bench = _workbench(tmp_path)
    bench.show_run(fake_run)
    copy = fake_run.parent / "fake-2"
    shutil.copytree(fake_run, copy)  # a run made elsewhere: the CLI, another notebook
    bench.browser.refresh_button.click()
    assert str(copy) in bench.viewer.source_a.run.options
    assert str(copy) in bench.viewer.source_b.run.options
    shutil.rmtree(copy)
    bench.browser.refresh_button.click()
    assert str(copy) not in bench.viewer.source_a.run.options


def test_the_detection_set_shows_samples(tmp_path):
    picker = DatasetPicker(root=tmp_path)
    picker.dropdown.value = "synthetic-lesions"
    assert "<img" in picker.samples.value
    assert "has no size" not in picker.samples.value  # no refresh with the old set's size


def test_an_unwritable_runs_folder_is_a_message(tmp_path, started):
    (tmp_path / "runs").write_text("a file where the runs folder should be")
    launcher = SearchLauncher(runs_folder=tmp_path / "runs")
    assert launcher.run() is None
    assert "cannot start a run" in launcher.message.value and not started
    assert not launcher.run_button.disabled


def test_report_and_stop_on_a_removed_run_are_messages(tmp_path, fake_run):
    monitor = RunMonitor()
    monitor.watch(fake_run)
    assert monitor.status == "finished"
    shutil.rmtree(fake_run)
    assert monitor.write_report() is None
    assert "run" in monitor.report_message.value and "Traceback" not in monitor.report_message.value
    monitor.request_stop()
    assert monitor.error.value


def test_a_data_folder_that_cannot_be_made_ends_the_download_with_a_message(tmp_path):
    (tmp_path / "data").write_text("a file where the data folder should be")
    picker = DatasetPicker(root=tmp_path / "data")
    picker.dropdown.value = "mednist"
    picker.download(block=True)
    assert "downloading" not in picker.message.value
    assert "data folder" in picker.message.value or "error" in picker.message.value


def test_closing_the_workbench_stops_its_polls(tmp_path, fake_run):
    bench = _workbench(tmp_path)
    bench.show_run(fake_run)
    stopped = []
    bench.monitor._poller.stop = lambda: stopped.append("monitor")
    bench.launcher._process_watch.stop = lambda: stopped.append("launcher")
    bench.close()
    assert stopped == ["monitor", "launcher"]


def test_nsga2_objectives_that_are_no_list_are_one_line():
    from nasbench.errors import ConfigError
    from nasbench.strategies import make_config

    for value in (None, 5, []):
        with pytest.raises(ConfigError, match="objectives must be a list"):
            make_config("nsga2", {"objectives": value})


def test_a_damaged_run_as_a_genotype_source_says_why(fake_run):
    from widgets.genotype_viewer import GenotypeSource

    (fake_run / "run.sqlite").write_bytes(b"")
    source = GenotypeSource()
    source.run.options = [str(fake_run)]
    source.kind.value = "run"
    source.run.value = str(fake_run)
    assert "run.sqlite" in source.message.value
    assert "pick a run with derived genotypes" not in source.message.value


def test_an_error_after_an_unended_progress_bar_reads_on_its_own_line(tmp_path):
    from widgets.monitor import stderr_tail

    (tmp_path / "stderr.log").write_text(
        "step 1\r 40%|####  | 2/5 [00:01<00:02]"  # killed mid-redraw: no newline
        "nasbench: error: checkpoint damaged; delete it.\n"
    )
    assert (
        stderr_tail(tmp_path).splitlines()[-1] == "nasbench: error: checkpoint damaged; delete it."
    )


class _Exiting:
    """A search process that runs until ``code`` is set."""

    pid, code = 2, None

    def poll(self):
        return self.code


def test_resume_after_the_launched_search_ends_acts_on_the_killed_run_opened_meanwhile(
    tmp_path, fake_run, monkeypatch
):
    from nasbench.runs import RunStore
    from widgets import launcher as launcher_module

    with RunStore.open(fake_run) as store:
        store.set_status("running")  # and then the process was killed: no writer holds it
    calls = []
    monkeypatch.setattr(
        launcher_module, "start_process", lambda args, run_dir: calls.append(args) or _Exiting()
    )
    bench = _workbench(tmp_path)
    bench.launcher.run_button.click()  # run A
    launched, process = bench.launcher.run_dir, bench.launcher.process
    _open(bench, fake_run)  # while A runs: the launcher keeps A
    assert bench.monitor.run_dir == str(fake_run) and bench.launcher.run_dir == launched
    process.code = 0  # A ends
    bench.launcher.check_process()
    assert bench.launcher.run_dir == str(fake_run)
    assert not bench.launcher.resume_button.disabled
    bench.launcher.resume_button.click()
    assert calls[-1] == ["resume", str(fake_run)]  # the run the Monitor shows, not A
    assert f"resumed {fake_run}" in bench.launcher.message.value


def test_the_launched_search_keeps_resume_when_the_monitor_shows_it_again(
    tmp_path, fake_run, monkeypatch
):
    from widgets import launcher as launcher_module

    process = _Exiting()
    monkeypatch.setattr(launcher_module, "start_process", lambda args, run_dir: process)
    bench = _workbench(tmp_path)
    bench.launcher.run_button.click()
    launched = bench.launcher.run_dir
    _open(bench, fake_run)
    bench.monitor.watch(launched)  # back on the launched run before it ends
    process.code = 0
    bench.launcher.check_process()
    assert bench.launcher.run_dir == launched


def test_a_deleted_run_stays_chosen_in_the_genotypes_tab_and_says_it_is_gone(tmp_path, fake_run):
    bench = _workbench(tmp_path)
    other = fake_run.parent / "fake-2"
    shutil.copytree(fake_run, other)
    bench.show_run(fake_run)
    shutil.rmtree(fake_run)
    bench.browser.refresh_button.click()
    source = bench.viewer.source_a
    assert source.run.value == str(fake_run)  # not the other run's genotype in its place
    assert "is gone (moved or deleted)" in source.message.value
    bench.viewer.update_soon.flush()
    assert not bench.viewer.drawing_a.value
    source.run.value = str(other)  # the person picks another: the gone one is dropped next
    bench.viewer.set_runs(bench.browser.run_dirs())
    assert list(source.run.options) == [str(other)]
