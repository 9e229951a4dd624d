"""Kill-anywhere: SIGKILL a tiny search at every step and inside every checkpoint write,
resume it, and find the run store holding exactly what the uninterrupted run holds.

Each killed search runs in a forked child (torch already imported, so a kill costs a
fraction of a second) that SIGKILLs itself at a fault point (:mod:`nasbench.runs.faults`);
the resume runs here. Timing values (``images_per_s``, ``peak_memory_mb``, the ``time``
columns) are the only things allowed to differ.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
from pathlib import Path

import pytest
import torch

from nasbench.config import DatasetConfig
from nasbench.engine.search import resume, search
from nasbench.runs.faults import ENV

from .conftest import tiny_config

pytestmark = pytest.mark.slow

EPOCHS, STEPS = 2, 2
# How often each fault point is reached in the uninterrupted run: a step's rows are
# committed 4 times, an epoch's 2 times, a checkpoint written after steps 1, 2 (epoch
# end), 3, 4 (epoch end), and 3 of those writes rotate an older last.pt to prev.pt.
REACHED = {"step": 4, "epoch_end": 2, "checkpoint_write": 4, "checkpoint_rotate": 3}
TIMING = {"images_per_s", "peak_memory_mb"}


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """A forked child must not enter an OpenMP parallel region: the parent's thread team
    does not survive fork, and the child would wait on it for ever. With one thread torch
    runs every loop inline, in the parent (the uninterrupted run) and in the children."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def config(strategy: str = "darts", **strategy_config):
    """Two cells of two nodes, two channels, 8 images per half, batch 4: 4 steps."""
    return tiny_config(
        strategy,
        strategy_config=strategy_config,
        dataset=DatasetConfig(name="synthetic", limit=16, batch_size=4),
        space={"name": "darts", "n_nodes": 2, "skeleton": {"n_cells": 2, "channels": 2}},
        max_steps_per_epoch=STEPS,
        epochs=EPOCHS,
        checkpoint_every=1,
        alpha_every=1,
        device="cpu",
    )


def tables(run_dir: Path) -> dict[str, list[tuple]]:
    """Every row a viewer reads, in id order, without ids and timing values."""
    conn = sqlite3.connect(run_dir / "run.sqlite")
    try:
        metrics = [
            row
            for row in conn.execute(
                "SELECT step, epoch, phase, name, value FROM metrics ORDER BY id"
            )
            if row[3] not in TIMING
        ]
        alphas = list(
            conn.execute(
                "SELECT step, epoch, cell_type, kind, edges, ops, raw, weight "
                "FROM alpha_snapshots ORDER BY id"
            )
        )
        genotypes = [
            (step, epoch, genotype, {k: v for k, v in json.loads(m).items() if k not in TIMING})
            for step, epoch, genotype, m in conn.execute(
                "SELECT step, epoch, genotype, metrics FROM genotypes ORDER BY id"
            )
        ]
        events = list(conn.execute("SELECT step, epoch, kind, payload FROM events ORDER BY id"))
    finally:
        conn.close()
    return {"metrics": metrics, "alphas": alphas, "genotypes": genotypes, "events": events}


def killed_at(point: str, count: int, run_dir: Path, search_config=None) -> None:
    """Run the search in a forked child that SIGKILLs itself at the count-th ``point``."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            os.environ[ENV] = f"{point}:{count}"
            search(search_config or config(), run_dir)
            code = 0  # the fault point was never reached
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (
        f"the search was not killed at {point} #{count} (status {status})"
    )


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("whole") / "run"
    result = search(config(), run_dir)
    assert result.status == "finished" and result.steps == EPOCHS * STEPS
    return tables(run_dir), result


@pytest.mark.parametrize(
    ("point", "count"),
    [(point, count) for point, reached in REACHED.items() for count in range(1, reached + 1)],
)
def test_kill_anywhere_then_resume_equals_the_uninterrupted_run(
    uninterrupted, tmp_path, point, count
):
    expected, whole = uninterrupted
    run_dir = tmp_path / "run"
    killed_at(point, count, run_dir)
    result = resume(run_dir)
    assert result.status == "finished" and result.steps == whole.steps
    assert result.genotype == whole.genotype
    got = tables(run_dir)
    for table in expected:
        assert got[table] == expected[table], f"{table} differs after a kill at {point} #{count}"
    leftovers = [p.name for p in run_dir.rglob("*") if ".tmp" in p.name]
    assert leftovers == []
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["last.pt", "prev.pt"]


def test_proxyless_gates_between_architecture_steps_survive_a_kill(tmp_path):
    # With arch_every=3 the alphas step after the third weight step only; the gates
    # recorded at step 4 are that step's two-path sample, so a resume from step 3's
    # checkpoint must record them too (not zeros).
    proxyless = config("proxyless", arch_every=3)
    search(proxyless, tmp_path / "whole")
    expected = tables(tmp_path / "whole")
    sampled = {row[0] for row in expected["alphas"] if row[3] == "gate" and any(row[7])}
    assert sampled == {3, 4}
    for count in (3, 4):
        run_dir = tmp_path / f"killed-{count}"
        killed_at("step", count, run_dir, proxyless)
        resume(run_dir)
        assert tables(run_dir)["alphas"] == expected["alphas"], f"killed at step #{count}"


def test_a_fault_point_past_the_end_is_never_reached(tmp_path):
    """The counts above are the exact numbers of passes: one more is never reached."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.environ[ENV] = f"checkpoint_write:{REACHED['checkpoint_write'] + 1}"
            search(config(), tmp_path / "run")
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
