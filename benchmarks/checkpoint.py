"""What a checkpoint after every step costs, next to the step itself.

A kill loses at most the step in flight only if every step ends with a checkpoint
(``checkpoint_every=1``, the default). This script builds the quickstart search
(``nasbench quickstart``: DARTS, 5 cells of 4 nodes, C=8, batch 16, 28x28) and, in
the same process, times ``--steps`` search steps (architecture step, weight step,
the step's rows committed to the run store) and as many checkpoint writes
(``torch.save`` to a temporary file, fsync, rotation to ``prev.pt``, rename) of
the loop's full state, after ``--warmup`` untimed ones of each.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/checkpoint.py --steps 10
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

from nasbench.engine.bilevel import _build, _Loop  # noqa: E402
from nasbench.engine.commands import quickstart_config  # noqa: E402
from nasbench.runs import RunStore  # noqa: E402


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10, help="timed steps and checkpoints")
    parser.add_argument("--warmup", type=int, default=2, help="untimed ones before")
    args = parser.parse_args()
    config = quickstart_config()
    config.device = "cpu"
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        parts = _build(config)
        with RunStore.create(run_dir, config.to_dict(), environment={}) as store:
            loop = _Loop(config, store, run_dir, parts=parts)
            step_s = median_seconds(loop._step, args.steps, args.warmup)
            checkpoint_s = median_seconds(loop._checkpoint, args.steps, args.warmup)
        size_mb = (run_dir / "checkpoints" / "last.pt").stat().st_size / 2**20
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
          f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    print(f"quickstart search step: {step_s * 1000:.1f} ms (median of {args.steps})")
    print(f"checkpoint write:       {checkpoint_s * 1000:.1f} ms, {size_mb:.2f} MiB")
    print(f"checkpoint_every=1 costs {checkpoint_s / step_s:.1%} of a step")


if __name__ == "__main__":
    main()
