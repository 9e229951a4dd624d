"""The full DARTS search of ``benchmarks/gpu.sh``: write its config, then read its figures.

Two verbs, so the search itself runs as the CLI does (``python -m nasbench search``) and
can be stopped at a time limit while the figures are still read from the epochs it
finished (the run store keeps every row):

    python benchmarks/gpu_search.py config OUT DATA EPOCHS   # writes OUT/search.json
    python benchmarks/gpu_search.py report OUT EPOCHS WALL_S  # prints the figures

The search is the DARTS paper's (first order, C=16, 8 cells, batch 64) on PneumoniaMNIST.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from nasbench.config import DatasetConfig, SearchConfig
from nasbench.runs import load

BATCH = 64


def write_config(out: Path, data: str, epochs: int) -> Path:
    """Write the search's config to ``out/search.json`` and return that path."""
    config = SearchConfig(
        dataset=DatasetConfig(
            name="pneumoniamnist", root=os.path.abspath(data), download=False, batch_size=BATCH
        ),
        space={"name": "darts", "n_nodes": 4, "skeleton": {"n_cells": 8, "channels": 16}},
        strategy="darts",
        strategy_config={"order": 1},
        epochs=epochs,
        device="cuda",
        precision="auto",
        checkpoint_every=50,
        seed=0,
    )
    path = out / "search.json"
    config.save(path)
    return path


def report(out: Path, epochs: int, wall_s: float) -> None:
    """Print status, genotype, step time, peak memory and wall time of ``out/search``."""
    run = load(out / "search")
    val = run.history[run.history.phase == "val"].pivot_table(
        index="epoch", columns="name", values="value"
    )
    done = len(val)
    last = run.genotypes.genotype.iloc[-1] if len(run.genotypes) else None
    print(f"status {run.status}, epochs done {done} of {epochs}, last genotype {last}")
    if not done:
        print("no epoch finished: no figures")
        return
    print(f"final validation: {val.iloc[-1].round(4).to_dict()}")
    # Up to the end of the last finished epoch, from the run's creation: the epoch the
    # time limit cut short would otherwise count against the finished ones.
    finished_s = float(run.history[run.history.phase == "val"].time.max()) - run.created
    per_epoch = finished_s / done
    print(
        f"step time: {BATCH / val.images_per_s.median() * 1000:.1f} ms (median over epochs, "
        f"batch {BATCH}, validation excluded)"
    )
    print(f"peak memory: {val.peak_memory_mb.max():.0f} MiB (CUDA max allocated, worst epoch)")
    print(
        f"wall time: {wall_s / 60:.1f} min in all; {done} epochs finished "
        f"{finished_s / 60:.1f} min after the run was created = {per_epoch:.1f} s/epoch "
        f"(start-up included); {epochs} epochs: {per_epoch * epochs / 60:.1f} min "
        "(target: 50 epochs in <= 15 min)"
    )


USAGE = (
    "usage: gpu_search.py config OUT DATA EPOCHS | report OUT EPOCHS WALL_S "
    "(benchmarks/gpu.sh calls it)"
)

if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] in ("-h", "--help"):
        raise SystemExit(USAGE)
    verb, out = sys.argv[1], Path(sys.argv[2])
    if verb == "config":
        print(write_config(out, sys.argv[3], int(sys.argv[4])))
    elif verb == "report":
        report(out, int(sys.argv[3]), float(sys.argv[4]))
    else:
        raise SystemExit(f"gpu_search.py: unknown verb {verb!r}; use 'config' or 'report'.")
