"""What opening a run costs as its alpha snapshots grow, next to reading their rows.

``nasbench.runs.load`` turns every alpha snapshot into the tidy ``run.alphas`` frame (one
row per edge and op). A search with ``alpha_every=1`` keeps one snapshot per cell type and
step: a 20,000-step search of the DARTS space stores 40,000 snapshots, 4.5 M values. The
script writes runs of ``--steps`` steps (normal and reduce cells, 14 edges x 8 ops, as
DARTS logs them), then opens each in a fresh process and reports:

- ``fetch s``: the baseline, reading the snapshot rows from the run database alone (what
  no reader can skip), measured in the same process just before the load;
- ``load s`` and ``ratio``: ``load(run_dir)`` (every frame; the alphas dominate) over the
  fetch;
- ``frame MB``: the alphas frame's own memory; ``peak MB``: how far the process's peak
  resident memory rose while loading; ``peak / frame``: the overhead of building it.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/run_loading.py
    OMP_NUM_THREADS=1 python benchmarks/run_loading.py --steps 1000 25000 --folder /tmp/runs
"""

from __future__ import annotations

import os

# Before numpy starts OpenMP: spinning worker threads make every process on a shared
# CPU several times slower.
os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from _script import count, run_main  # noqa: E402

OPS = ("none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5",
       "dil_conv_3x3", "dil_conv_5x5")  # fmt: skip
EDGES = tuple(f"({node}, {source})" for node in range(2, 6) for source in range(node))
CELLS = ("normal", "reduce")


def write_run(run_dir: Path, steps: int, seed: int = 0) -> None:
    """A finished run holding ``steps`` DARTS alpha snapshots per cell type.

    Args:
        run_dir: a new run folder.
        steps: snapshots per cell type (one per step).
        seed: draws the alphas.

    Example:
        >>> write_run(Path(tempfile.mkdtemp()) / "run", steps=2)  # doctest: +SKIP
    """
    from nasbench.runs import RunStore

    rng = np.random.default_rng(seed)
    store = RunStore.create(run_dir, {"strategy": "darts", "seed": seed})
    store.set_status("running")
    with store.batch():
        for step in range(steps):
            for cell in CELLS:
                raw = rng.normal(scale=1e-3, size=(len(EDGES), len(OPS)))
                store.log_alphas(step, step // 1000, cell, raw, list(OPS), list(EDGES))
    store.set_status("finished")
    store.close()


def measure(run_dir: str) -> dict:
    """Open a run once, in this process, and report the costs the module docstring lists.

    Args:
        run_dir: a run folder.

    Returns:
        ``snapshots``, ``values``, ``fetch_s``, ``load_s``, ``frame_mb`` and ``peak_mb``.
    """
    from nasbench.runs import load
    from nasbench.runs.schema import DB_NAME

    # The rows are read one at a time and dropped, so the baseline raises no memory peak
    # that would hide the load's (and the file is in the page cache for both).
    with sqlite3.connect(Path(run_dir) / DB_NAME) as db:
        started = time.perf_counter()
        snapshots = sum(
            1
            for _ in db.execute(
                "SELECT id, step, epoch, cell_type, kind, edges, ops, raw, weight "
                "FROM alpha_snapshots ORDER BY id"
            )
        )
        fetch = time.perf_counter() - started
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    started = time.perf_counter()
    run = load(run_dir)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "snapshots": snapshots,
        "values": len(run.alphas),
        "fetch_s": fetch,
        "load_s": seconds,
        "frame_mb": float(run.alphas.memory_usage(deep=True).sum()) / 2**20,
        "peak_mb": max(peak - before, 0) / 1024,
    }


def measured_in_a_fresh_process(run_dir: Path) -> dict:
    """:func:`measure` in a new interpreter, so its peak memory is this load's alone."""
    out = subprocess.run(
        [sys.executable, __file__, "--measure", str(run_dir)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def runs_folder(text: str) -> Path:
    """An argparse ``type`` for ``--folder``: a folder, or one that can be made, and
    written (refused at parse time, before any run is written).

    Example:
        >>> runs_folder("/tmp/nasbench-runs").name
        'nasbench-runs'
    """
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty; give a folder")
    path = Path(text).expanduser()
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing is None or not existing.is_dir():
        where = f"{existing} is a file, not a folder" if existing is not None else "no such folder"
        raise argparse.ArgumentTypeError(f"cannot write runs in {path} ({where})")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(
            f"cannot write runs in {path} ({existing} is not writable)"
        )
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=count(1), nargs="+", default=[1000, 5000, 25000],
                        help="steps (snapshots per cell type) of each run written")  # fmt: skip
    parser.add_argument(
        "--folder", type=runs_folder, help="where to write the runs (default: a temporary one)"
    )
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # the child process's job
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    if args.folder is not None:  # made now, not after the first run is measured
        try:
            args.folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            parser.error(f"argument --folder: cannot make {args.folder} ({err.strerror})")
    print(f"load average {os.getloadavg()[0]:.2f}, one process per load")
    print(f"{'snapshots':>10} {'values':>11} {'fetch s':>8} {'load s':>7} {'ratio':>6} "
          f"{'frame MB':>9} {'peak MB':>8} {'peak / frame':>13}")  # fmt: skip
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.folder or scratch)
        for steps in args.steps:
            run_dir = folder / f"alphas-{steps}"
            if not (run_dir / "run.sqlite").exists():
                write_run(run_dir, steps)
            row = measured_in_a_fresh_process(run_dir)
            print(f"{row['snapshots']:>10,} {row['values']:>11,} {row['fetch_s']:>8.2f} "
                  f"{row['load_s']:>7.2f} {row['load_s'] / row['fetch_s']:>5.1f}x "
                  f"{row['frame_mb']:>9.1f} {row['peak_mb']:>8.1f} "
                  f"{row['peak_mb'] / row['frame_mb']:>12.1f}x")  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(run_main(main))
