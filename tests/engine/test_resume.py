"""Killing, stopping and resuming a search; reading a run while it is written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from nasbench.engine.search import resume, search
from nasbench.runs import load, request_stop


def _launch(config, run_dir: Path, tmp_path: Path) -> subprocess.Popen:
    config_path = tmp_path / "config.json"
    config.save(config_path)
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nasbench",
            "search",
            "--config",
            str(config_path),
            "--run-dir",
            str(run_dir),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_for_step(run_dir: Path, step: int, process: subprocess.Popen, timeout=180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode()
        if (run_dir / "run.sqlite").exists() and load(run_dir).progress.get("step", 0) >= step:
            return
        time.sleep(0.2)
    pytest.fail(f"the search did not reach step {step} in {timeout} s")


def _final_alphas(run_dir: Path) -> np.ndarray:
    alphas = load(run_dir).alphas
    last = alphas[alphas.step == alphas.step.max()]
    return last.sort_values(["kind", "cell_type", "edge", "op"]).raw.to_numpy()


def _history(run_dir: Path):
    history = load(run_dir).history
    return history.sort_values(["step", "phase", "name"])[["step", "phase", "name", "value"]]


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["darts", "gdas"])
def test_sigkill_then_resume_matches_an_uninterrupted_run(tiny, tmp_path, strategy):
    # Nine steps, killed after the second: a fast step (GDAS on a tiny net) must not let
    # the search finish between the poll that sees step 2 and the kill.
    config = tiny(strategy, epochs=3, max_steps_per_epoch=3, checkpoint_every=1)
    # The killed search runs on one thread (see _launch); so does the reference, and
    # resume must pick that count up from the run store whatever this process uses.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        reference = search(config, tmp_path / "reference")
    finally:
        torch.set_num_threads(threads)
    torch.set_num_threads(2)

    killed = tmp_path / "killed"
    process = _launch(config, killed, tmp_path)
    _wait_for_step(killed, 2, process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert load(killed).status == "running"  # nobody told the store: it was killed
    assert load(killed).writer_alive() is False

    try:
        resumed = resume(killed)
    finally:
        torch.set_num_threads(threads)
    assert torch.get_num_threads() == threads
    assert resumed.status == "finished"
    assert resumed.genotype == reference.genotype
    assert resumed.metrics == reference.metrics
    np.testing.assert_array_equal(_final_alphas(killed), _final_alphas(tmp_path / "reference"))
    # Rows written after the last checkpoint were discarded, so the history has no
    # duplicate steps and matches the uninterrupted run value for value (time aside).
    resumed_history = _history(killed)
    reference_history = _history(tmp_path / "reference")
    ignored = {"images_per_s", "peak_memory_mb"}
    keep = ~resumed_history.name.isin(ignored)
    np.testing.assert_array_equal(
        resumed_history[keep].to_numpy(),
        reference_history[~reference_history.name.isin(ignored)].to_numpy(),
    )


@pytest.mark.slow
def test_stop_request_checkpoints_and_resume_finishes(tiny, tmp_path):
    # 32 GDAS steps on a tiny net, each with its checkpoint: long enough that the request,
    # made once step 2 is seen, finds the search still running.
    config = tiny("gdas", epochs=8, max_steps_per_epoch=4, checkpoint_every=1)
    run_dir = tmp_path / "run"
    process = _launch(config, run_dir, tmp_path)
    _wait_for_step(run_dir, 2, process)
    request_stop(run_dir)
    assert process.wait(timeout=120) == 0, process.stderr.read().decode()
    stopped = load(run_dir)
    assert stopped.status == "stopped"
    assert stopped.progress["step"] < 32

    result = resume(run_dir)
    assert result.status == "finished" and result.steps == 32
    assert load(run_dir).status == "finished"


@pytest.mark.slow
def test_reader_follows_a_search_in_another_process(tiny, tmp_path):
    # Long enough that the reader, which starts after step 1, sees steps go by: 32 GDAS
    # steps on a tiny net, each with its checkpoint (checkpoint_every="auto" would skip
    # most of them and finish within one poll).
    config = tiny("gdas", epochs=8, max_steps_per_epoch=4, alpha_every=1, checkpoint_every=1)
    run_dir = tmp_path / "run"
    process = _launch(config, run_dir, tmp_path)
    _wait_for_step(run_dir, 1, process)
    run = load(run_dir)
    seen_steps = []
    while process.poll() is None:
        run.refresh()
        alphas = run.alphas[run.alphas.kind == "alpha"]
        # Every snapshot the reader sees is complete: all edges x ops of both cell types.
        sizes = alphas.groupby("step", observed=True).size()
        assert sizes.nunique() <= 1
        seen_steps.append(int(run.progress.get("step", 0)))
        time.sleep(0.1)
    assert process.returncode == 0, process.stderr.read().decode()
    assert seen_steps == sorted(seen_steps)
    assert len(set(seen_steps)) > 1, "the reader should see the search progress"
    run.refresh()
    assert run.status == "finished"


def test_a_retrain_of_the_stopped_search_keeps_all_its_rows_through_the_resume(
    tiny, tmp_path, monkeypatch
):
    from nasbench.runs import RunStore

    # Stopped at its checkpoint after step 2 of 4 (stop asked for as step 2 is logged).
    config = tiny("darts", checkpoint_every=1, device="cpu")
    log_metrics = RunStore.log_metrics

    def stop_at_two(self, step, epoch, phase, metrics):
        log_metrics(self, step, epoch, phase, metrics)
        if step == 2 and phase == "train":
            self.request_stop()

    with monkeypatch.context() as patch:
        patch.setattr(RunStore, "log_metrics", stop_at_two)
        assert search(config, tmp_path / "run").status == "stopped"
    # What `nasbench retrain` records on the stopped run: its steps are its 10 epochs.
    with RunStore.open(tmp_path / "run") as store:
        for epoch in range(10):
            store.log_metrics(epoch + 1, epoch, "retrain", {"val_acc": 0.1 * epoch})
        store.log_metrics(10, 9, "retrain", {"test_acc": 0.5})
        store.log_event("retrain_finished", {})
    live = load(tmp_path / "run")  # a notebook's Run, open across the resume
    assert resume(tmp_path / "run").status == "finished"
    live.refresh()
    for history in (load(tmp_path / "run").history, live.history):
        curve = history[history["phase"] == "retrain"]
        assert list(curve["step"]) == [*range(1, 11), 10]
        assert curve["name"].iloc[-1] == "test_acc"
        assert not history[history["phase"] == "train"].duplicated(["step", "name"]).any()
