"""The full DARTS search of ``benchmarks/gpu.sh``: write its config, then read its figures.

Two verbs, so the search itself runs as the CLI does (``python -m nasbench search``) and
can be stopped at a time limit while the figures are still read from the epochs it
finished (the run store keeps every row):

    python benchmarks/gpu_search.py config OUT DATA EPOCHS   # writes OUT/search.json
    python benchmarks/gpu_search.py report OUT EPOCHS WALL_S  # prints the figures

The search is the DARTS paper's (first order, C=16, 8 cells, batch 64) on PneumoniaMNIST.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from _script import run_main

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


class _Refused(Exception):
    """A bad argument: said in one line as ``gpu_search.py: error: ...``, status 2."""


def _epochs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise _Refused(f"EPOCHS must be a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise _Refused(f"EPOCHS must be a whole number >= 1, got {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _Refused(f"WALL_S must be seconds (a number >= 0), got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise _Refused(f"WALL_S must be seconds (a finite number >= 0), got {text}")
    return value


def _out_folder(text: str) -> Path:
    """OUT for ``config``: made when missing; refused when it cannot be."""
    out = Path(text)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise _Refused(f"cannot make the folder OUT {out} ({err.strerror})") from None
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """The two verbs (see the module's docstring); returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["-h"], ["--help"]):
        print(USAGE)
        print(__doc__)
        return 0
    sizes = {"config": 4, "report": 4}
    if len(args) < 2 or (args[0] in sizes and len(args) != sizes[args[0]]):
        print(USAGE, file=sys.stderr)
        return 1
    verb = args[0]
    try:
        if verb == "config":
            epochs = _epochs(args[3])
            print(write_config(_out_folder(args[1]), args[2], epochs))
        elif verb == "report":
            report(Path(args[1]), _epochs(args[2]), _seconds(args[3]))
        else:
            raise _Refused(f"unknown verb {verb!r}; use 'config' or 'report'.")
    except _Refused as err:
        print(f"gpu_search.py: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
