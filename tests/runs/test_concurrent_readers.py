"""Readers beside a writer that ends, and Stop beside a resume that starts, in every order.

Each test plays the interleaving by hand (no timing): the writer finishes between a
reader's two reads, or a stop request lands between a resume's two opens.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from nasbench.config import SearchConfig
from nasbench.errors import ConfigError
from nasbench.runs import RunStore, load, request_stop
from nasbench.runs.store import _release_lock


def _running(run_dir: Path) -> RunStore:
    """A search's writer, mid-run: status running, one step logged, the lock held."""
    store = RunStore.create(run_dir, {"dataset": {"name": "synthetic"}, "strategy": "darts"}, {})
    store.set_status("running")
    store.log_metrics(1, 0, "train", {"loss": 0.7})
    store.log_metrics(1, 0, "val", {"acc": 0.6})
    store.set_progress(1, 2, 0, 1)
    return store


def _finish(store: RunStore) -> None:
    """What a search does as it ends: its last status, then it lets go of the run."""
    store.set_progress(2, 2, 0, 1)
    store.set_status("finished")
    store.close()


def test_a_monitor_sees_a_search_that_ends_between_its_reads_finish(tmp_path):
    from widgets.monitor import RunMonitor

    run_dir = tmp_path / "run"
    store = _running(run_dir)
    monitor = RunMonitor(run_dir)  # opened from the Runs tab: no process handed
    assert monitor.status == "running"
    refresh = monitor.run.refresh

    def refresh_then_finish():  # the search ends just after the rows were read
        new = refresh()
        if store._conn is not None:
            _finish(store)
        return new

    monitor.run.refresh = refresh_then_finish
    polls = 0
    while monitor._poll_and_continue() and polls < 5:  # what the poller runs each second
        polls += 1
    assert monitor.status == "finished" and monitor.error.value == ""
    assert monitor.progress.bar_style == "success"
    monitor.close()


def test_a_monitor_clears_killed_once_another_process_resumes_the_run(tmp_path):
    from widgets.monitor import RunMonitor

    run_dir = tmp_path / "run"
    store = _running(run_dir)
    _release_lock(store._lock_file)  # the process is killed: its lock goes, its status stays
    store._lock_file = None
    monitor = RunMonitor(run_dir)
    assert monitor.status == "killed" and "process is gone" in monitor.error.value
    store.close()
    with RunStore.open(run_dir) as resumed:  # a resume from elsewhere takes the run over
        resumed.set_status("running")
        assert monitor.poll_once() == "running"
        assert monitor.error.value == "" and monitor.progress.bar_style == ""
        resumed.set_status("finished")
    assert monitor.poll_once() == "finished" and monitor.error.value == ""
    monitor.close()


def test_run_summaries_never_call_a_search_that_ends_between_reads_killed(tmp_path, monkeypatch):
    from nasbench.runs import summary

    store = _running(tmp_path / "runs" / "run")
    best_metric = summary._best_metric

    def best_then_finish(conn, config):  # the search ends between the summary's reads
        if store._conn is not None:
            _finish(store)
        return best_metric(conn, config)

    monkeypatch.setattr(summary, "_best_metric", best_then_finish)
    first = summary.run_summaries(tmp_path / "runs")[0]
    assert first["status"] == "running" and first["best_metric"] == 0.6  # a consistent cut
    assert summary.run_summaries(tmp_path / "runs")[0]["status"] == "finished"


def test_a_report_of_a_run_that_ended_after_it_was_read_says_finished(tmp_path):
    from nasbench.viz.report import report_html

    store = _running(tmp_path / "run")
    run = load(tmp_path / "run")  # read while the search runs
    _finish(store)
    text = report_html(run)
    run.close()
    assert 'class="status-finished"' in text and "no process writes this run" not in text


def test_a_stopped_run_a_process_writes_again_reads_resuming(tmp_path):
    from nasbench.runs.summary import run_summaries
    from widgets.monitor import RunMonitor

    run_dir = tmp_path / "runs" / "run"
    with _running(run_dir) as store:
        store.set_status("stopped")
    with RunStore.open(run_dir) as resuming:  # a resume before its first step
        assert run_summaries(tmp_path / "runs")[0]["status"] == "resuming"
        monitor = RunMonitor(run_dir)  # opened from the Runs tab meanwhile
        assert monitor.status == "resuming" and monitor._poll_and_continue()
        assert not monitor.stop_button.disabled and monitor.error.value == ""
        resuming.set_status("running")
        assert monitor.poll_once() == "running"
        resuming.set_status("stopped")
    assert monitor.poll_once() == "stopped" and not monitor._poll_and_continue()
    monitor.close()
    assert run_summaries(tmp_path / "runs")[0]["status"] == "stopped"


def test_a_run_a_retrain_writes_reads_retraining_not_resuming(tmp_path):
    from nasbench.runs.summary import run_summaries
    from nasbench.viz.report import write_report
    from widgets.monitor import RunMonitor

    run_dir = tmp_path / "runs" / "run"
    with _running(run_dir) as store:
        store.set_status("stopped")
    with RunStore.open(run_dir) as retrain:  # as `nasbench retrain` holds it
        retrain.log_event("retrain_started", {})
        assert run_summaries(tmp_path / "runs")[0]["status"] == "retraining"
        monitor = RunMonitor(run_dir)
        assert monitor.status == "retraining" and monitor._poll_and_continue()
        assert monitor.stop_button.disabled  # a retrain reads no stop request
        assert 'class="status-retraining">retraining<' in write_report(run_dir).read_text()
        retrain.log_event("retrain_finished", {})
        assert run_summaries(tmp_path / "runs")[0]["status"] == "resuming"
    assert monitor.poll_once() == "stopped" and not monitor._poll_and_continue()
    monitor.close()
    # An interrupted retrain logs no end: a later search's status ends its retraining.
    with RunStore.open(run_dir) as retrain:
        retrain.log_event("retrain_started", {})
    with RunStore.open(run_dir) as search:
        search.set_status("running")
        assert run_summaries(tmp_path / "runs")[0]["status"] == "running"
        search.set_status("stopped")
        assert run_summaries(tmp_path / "runs")[0]["status"] == "resuming"
    assert run_summaries(tmp_path / "runs")[0]["status"] == "stopped"


def test_a_second_writer_is_told_a_search_or_retrain_writes_the_run(tmp_path, monkeypatch):
    from nasbench.runs import store as store_module

    monkeypatch.setattr(store_module, "_LOCK_WAIT_S", 0.1)
    with _running(tmp_path / "run"), pytest.raises(ConfigError) as refused:
        RunStore.open(tmp_path / "run")  # e.g. a second `nasbench retrain`
    said = str(refused.value)
    assert "another search or retrain is writing it); wait for it to end" in said
    assert "`nasbench stop`" in said and "stop that search first" not in said


# ---------------------------------------------------------------- stop during a resume
def _table_search() -> SearchConfig:
    return SearchConfig(
        strategy="random", evaluator="table", space={"name": "nb201"}, max_evaluations=12, seed=3
    )


@pytest.fixture
def stopped_run(tmp_path, monkeypatch) -> Path:
    """A discrete search stopped on request after its 4th candidate."""
    from nasbench import search

    log_candidate = RunStore.log_candidate

    def log_then_stop(self, candidate_id, *args, **kwargs):
        log_candidate(self, candidate_id, *args, **kwargs)
        if candidate_id == 3:
            self.request_stop()

    run_dir = tmp_path / "run"
    with monkeypatch.context() as patch:
        patch.setattr(RunStore, "log_candidate", log_then_stop)
        assert search(_table_search(), run_dir).status == "stopped"
    assert len(load(run_dir).candidates) == 4
    return run_dir


def test_a_stop_between_a_resumes_two_opens_stops_it_at_its_first_step(stopped_run, monkeypatch):
    from nasbench import resume
    from nasbench.engine import discrete

    open_for_resume = discrete.open_for_resume

    def stop_then_open(run_dir, *args, **kwargs):  # Stop pressed while the resume starts
        request_stop(run_dir)
        return open_for_resume(run_dir, *args, **kwargs)

    monkeypatch.setattr(discrete, "open_for_resume", stop_then_open)
    assert resume(stopped_run).status == "stopped"
    assert len(load(stopped_run).candidates) == 4  # stopped before evaluating another
    assert not load(stopped_run).stop_pending


def test_a_stop_written_after_the_resume_began_stops_it(stopped_run):
    from nasbench import resume

    started = time.time()  # the process started; it has not opened the run yet
    request_stop(stopped_run)
    assert resume(stopped_run, started=started).status == "stopped"
    assert len(load(stopped_run).candidates) == 4


def test_a_stop_pending_before_the_resume_is_still_dropped(stopped_run):
    from nasbench import resume

    request_stop(stopped_run)  # sent to no search: meant for an earlier one
    time.sleep(0.01)
    assert resume(stopped_run).status == "finished"
    assert len(load(stopped_run).candidates) == 12


def test_the_bilevel_loop_keeps_a_stop_written_between_the_opens(tmp_path, monkeypatch):
    from nasbench import resume, search
    from nasbench.config import DatasetConfig
    from nasbench.engine import run_setup

    config = SearchConfig(
        dataset=DatasetConfig(name="synthetic", limit=32, batch_size=8),
        space={"name": "darts", "n_nodes": 2, "skeleton": {"n_cells": 2, "channels": 4}},
        epochs=2,
        max_steps_per_epoch=2,
        checkpoint_every=1,
    )
    log_metrics = RunStore.log_metrics

    def log_then_stop(self, step, epoch, phase, metrics):
        log_metrics(self, step, epoch, phase, metrics)
        if phase == "train" and step == 1:
            self.request_stop()

    run_dir = tmp_path / "run"
    with monkeypatch.context() as patch:
        patch.setattr(RunStore, "log_metrics", log_then_stop)
        assert search(config, run_dir).status == "stopped"
    stopped_at = load(run_dir).progress["step"]
    open_for_resume = run_setup.open_for_resume
    calls = []

    def stop_then_open(run_dir, *args, **kwargs):
        calls.append(kwargs)
        if len(calls) == 2:  # the loop's own open: Stop was pressed since the first
            request_stop(run_dir)
        return open_for_resume(run_dir, *args, **kwargs)

    monkeypatch.setattr(run_setup, "open_for_resume", stop_then_open)
    assert resume(run_dir).status == "stopped" and len(calls) == 2
    assert load(run_dir).progress["step"] == stopped_at < 4  # not run to its end
