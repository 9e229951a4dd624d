"""``checkpoint_every`` in a real search: which steps get a checkpoint, and that a kill
under ``"auto"`` (checkpoints far apart) still resumes to the uninterrupted run."""

from __future__ import annotations

import os
import signal
import sqlite3
from pathlib import Path

import pytest
import torch

from nasbench.engine import bilevel
from nasbench.engine.search import resume, search
from nasbench.runs import checkpoint_schedule, load_checkpoint
from nasbench.runs.faults import ENV

from .conftest import tiny_config

EPOCHS, STEPS = 2, 3
TIMING = ("images_per_s", "peak_memory_mb")


def config(**overrides):
    return tiny_config(epochs=EPOCHS, max_steps_per_epoch=STEPS, device="cpu", **overrides)


@pytest.fixture
def written_steps(monkeypatch):
    """The steps of every checkpoint the search loop writes, in order."""
    steps: list[int] = []
    save = bilevel.save_checkpoint

    def recording_save(run_dir, state, step, **kwargs):
        steps.append(step)
        return save(run_dir, state, step, **kwargs)

    monkeypatch.setattr(bilevel, "save_checkpoint", recording_save)
    return steps


def test_the_default_is_auto():
    assert config().checkpoint_every == "auto"


@pytest.mark.parametrize(
    ("every", "ratio", "expected"),
    [
        # Epoch ends (steps 3 and 6) always write; the epoch's last step has no write of its own.
        (1, None, [1, 2, 3, 4, 5, 6]),
        (2, None, [2, 3, 4, 6]),
        (0, None, [3, 6]),
        # "auto" on a disk 'infinitely' slow against the steps: the first step measures a
        # write, then only the epoch ends; on one infinitely fast: every step.
        ("auto", 1e12, [1, 3, 6]),
        ("auto", 0.0, [1, 2, 3, 4, 5, 6]),
    ],
)
def test_which_steps_are_checkpointed(tmp_path, monkeypatch, written_steps, every, ratio, expected):
    if ratio is not None:
        monkeypatch.setattr(checkpoint_schedule, "AUTO_RATIO", ratio)
    result = search(config(checkpoint_every=every), tmp_path / "run")
    assert result.status == "finished" and result.steps == EPOCHS * STEPS
    assert written_steps == expected


def _rows(run_dir: Path) -> list[tuple]:
    conn = sqlite3.connect(run_dir / "run.sqlite")
    try:
        return [
            row
            for row in conn.execute(
                "SELECT step, epoch, phase, name, value FROM metrics ORDER BY id"
            )
            if row[3] not in TIMING
        ]
    finally:
        conn.close()


def test_a_kill_under_auto_resumes_from_an_older_checkpoint_to_the_same_rows(tmp_path, monkeypatch):
    # Checkpoints far apart: the kill at step 5 finds the one of step 3 (an epoch end).
    monkeypatch.setattr(checkpoint_schedule, "AUTO_RATIO", 1e12)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a forked child must not wait on the parent's OpenMP team
    try:
        reference = search(config(), tmp_path / "reference")
        killed = tmp_path / "killed"
        pid = os.fork()
        if pid == 0:  # the child SIGKILLs itself when step 5's rows are committed
            try:
                os.environ[ENV] = "step:5"
                search(config(), killed)
            finally:
                os._exit(1)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        assert load_checkpoint(killed)["step"] == 3
        resumed = resume(killed)
    finally:
        torch.set_num_threads(threads)
    assert resumed.status == "finished" and resumed.steps == EPOCHS * STEPS
    assert resumed.genotype == reference.genotype
    assert resumed.metrics == reference.metrics
    assert _rows(killed) == _rows(tmp_path / "reference")
