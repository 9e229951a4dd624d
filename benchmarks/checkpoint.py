"""What checkpoints between steps cost, next to the steps themselves.

``checkpoint_every=1`` writes after every step, so a kill loses at most the step in
flight; ``"auto"`` (the default) writes once the time since the last write is
``AUTO_RATIO`` times that write's duration (:mod:`nasbench.runs.checkpoint_schedule`).
This script builds a search (``--size quickstart``: ``nasbench quickstart``'s DARTS, 5
cells of 4 nodes, C=8, batch 16, 28x28; ``--size tiny``: 2 cells of 2 nodes, C=4,
batch 8, where a step is about as short as a write, as on a GPU) and, in one process:

1. times ``--steps`` search steps (architecture step, weight step, the step's rows
   committed to the run store) and as many writes of the loop's whole state
   (``torch.save`` to a temporary file, fsync, rotation to ``prev.pt``, rename), each
   after ``--warmup`` untimed ones;
2. runs ``--steps`` steps more under each schedule (``1`` and ``auto``) as the loop does
   (a step, then a write when the schedule says so) and reports how many writes it
   made and what share of that run's time they took.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/checkpoint.py --steps 10
    OMP_NUM_THREADS=1 python benchmarks/checkpoint.py --size tiny --steps 40
"""

from __future__ import annotations

import os

# Before torch starts OpenMP: spinning worker threads make every process on a shared
# CPU several times slower.
os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

import argparse  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402
from _script import count, run_main  # noqa: E402

from nasbench.config import DatasetConfig, SearchConfig  # noqa: E402
from nasbench.engine.bilevel import _build, _Loop  # noqa: E402
from nasbench.engine.commands import quickstart_config  # noqa: E402
from nasbench.runs import RunStore  # noqa: E402
from nasbench.runs.checkpoint_schedule import AUTO, AUTO_RATIO, CheckpointSchedule  # noqa: E402

SIZES = ("quickstart", "tiny")


def search_config(size: str) -> SearchConfig:
    """The benchmarked search: the quickstart's, or a tiny one whose steps are short."""
    config = quickstart_config()
    if size == "tiny":
        config.dataset = DatasetConfig(name="synthetic", limit=256, batch_size=8)
        config.space = {"name": "darts", "n_nodes": 2, "skeleton": {"n_cells": 2, "channels": 4}}
    config.device = "cpu"
    return config


def median_seconds(action: Callable[[], object], repeats: int, warmup: int) -> float:
    """The median wall time of ``action`` over ``repeats`` calls after ``warmup`` ones."""
    for _ in range(warmup):
        action()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def scheduled_run(loop: _Loop, every: int | str, steps: int) -> tuple[int, float, float]:
    """``steps`` steps with a write whenever a schedule of ``every`` says so, as the loop
    does. Returns ``(writes, seconds writing, seconds in all)``."""
    schedule = CheckpointSchedule(every)
    loop.checkpoints = schedule  # so the loop's own _checkpoint times the writes
    writes, writing_s, started = 0, 0.0, time.perf_counter()
    for _ in range(steps):
        loop._step()
        if schedule.due(loop.step):
            loop._checkpoint()
            writes += 1
            writing_s += schedule.last_write_s
    return writes, writing_s, time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="quickstart", help="the search")
    parser.add_argument("--steps", type=count(1), default=10, help="timed steps and checkpoints")
    parser.add_argument("--warmup", type=count(0), default=2, help="untimed ones before")
    args = parser.parse_args(argv)
    config = search_config(args.size)
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        parts = _build(config)
        with RunStore.create(run_dir, config.to_dict(), environment={}) as store:
            loop = _Loop(config, store, run_dir, parts=parts)
            step_s = median_seconds(loop._step, args.steps, args.warmup)
            checkpoint_s = median_seconds(loop._checkpoint, args.steps, args.warmup)
            runs = {every: scheduled_run(loop, every, args.steps) for every in (1, AUTO)}
        size_mb = (run_dir / "checkpoints" / "last.pt").stat().st_size / 2**20
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
          f"load average {os.getloadavg()[0]:.2f}, search: {args.size}")  # fmt: skip
    print(f"search step:      {step_s * 1000:.1f} ms (median of {args.steps})")
    print(f"checkpoint write: {checkpoint_s * 1000:.1f} ms, {size_mb:.2f} MiB")
    print(f"one write per step costs {checkpoint_s / step_s:.1%} of a step")
    for every, (writes, writing_s, total_s) in runs.items():
        name = f"checkpoint_every={every!r}"
        print(f"{name:<24} {writes:>3} writes in {args.steps} steps, "
              f"{writing_s / total_s:.1%} of the run's {total_s:.2f} s")  # fmt: skip
    print(f"(auto writes once {AUTO_RATIO:g}x the last write's time has passed since it)")


if __name__ == "__main__":
    raise SystemExit(run_main(main))
