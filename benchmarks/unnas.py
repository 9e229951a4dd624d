"""UnNAS on MedMNIST: do pretext tasks rank architectures as the labels do, and is the
cell a label-free search finds as good as the supervised one?

Two parts, after Liu et al. (2020), CPU-sized (28 px, tiny networks, few epochs):

(a) correlation: ``--archs`` cells sampled from the DARTS space are each trained from
    scratch, briefly, on every pretext task (rotation, jigsaw, in-painting) and on the
    labelled task; each pretext task's test score (accuracy; minus the MSE for
    in-painting) is rank-correlated (Spearman, Kendall) with the labelled test accuracy.
    A second training seed of the labelled task gives the ceiling: how well the
    labelled task agrees with itself at this budget.
(b) comparison: per seed, an ``unnas`` search (rotation, labels unused) and a
    supervised ``darts`` search with the same budget, and a random cell; the three cells
    are retrained on the labelled task with that seed; test ACC and AUC are printed
    with their means over the seeds.

Run (part (a) on one dataset took about 6 CPU minutes here; benchmarks/README.md):

    OMP_NUM_THREADS=1 python benchmarks/unnas.py --root ../shared/data/medmnist

``--quick`` shrinks everything for the tests (synthetic data by default).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PRETEXTS = ("rotation", "jigsaw", "inpainting")
CELLS = ("unnas", "darts", "random")


@dataclass
class UnnasSettings:
    """Sizes of one benchmark run (the defaults are the full run)."""

    datasets: tuple[str, ...] = ("breastmnist", "pneumoniamnist")
    root: str | None = None
    archs: int = 20
    seeds: int = 3
    limit: int = 128  # labelled training images (val and test: half of it)
    epochs: int = 3  # training epochs of a sampled or found cell
    n_nodes: int = 3
    n_cells: int = 3
    channels: int = 6
    batch_size: int = 32
    search_epochs: int = 2
    search_steps: int = 6
    n_permutations: int = 12
    patch: int = 8
    pretexts: tuple[str, ...] = PRETEXTS
    sample_seed: int = 0

    def skeleton(self) -> dict[str, int]:
        return {"n_cells": self.n_cells, "channels": self.channels}

    def space_dict(self) -> dict[str, Any]:
        return {"name": "darts", "n_nodes": self.n_nodes, "skeleton": self.skeleton()}


QUICK = dict(
    datasets=("synthetic",),
    archs=4,
    seeds=1,
    limit=48,
    epochs=1,
    n_nodes=2,
    n_cells=2,
    channels=4,
    batch_size=16,
    search_epochs=1,
    search_steps=2,
    n_permutations=4,
)


def _space(settings: UnnasSettings) -> Any:
    from nasbench.spaces import create_space

    return create_space("darts", n_nodes=settings.n_nodes)


def _train_config(settings: UnnasSettings, seed: int) -> Any:
    from nasbench.evaluation.train_loop import TrainConfig

    # Plain recipe: no augmentation (it would alter the pretext images), no auxiliary head.
    return TrainConfig(
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        augment=False,
        auxiliary_weight=0.0,
        drop_path_prob=0.0,
        select="loss",
        device="cpu",
        seed=seed,
    )


def labelled_splits(settings: UnnasSettings, dataset: str, seed: int = 0) -> dict[str, Any]:
    """Stratified train/val/test subsets of ``dataset`` (val and test half the train size)."""
    from nasbench.data import load

    common = dict(root=settings.root, download=settings.root is None, seed=seed)
    sizes = {"train": settings.limit, "val": settings.limit // 2, "test": settings.limit // 2}
    return {split: load(dataset, split, limit=n, **common) for split, n in sizes.items()}


def correlation_study(
    settings: UnnasSettings, dataset: str, log: Callable[[str], Any] = print
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Part (a): score ``settings.archs`` sampled cells on each pretext task and the target.

    Returns:
        ``(scores, correlations)``: one row per cell (``genotype``, one column per pretext
        task, ``target`` = test ACC, ``target_auc``, ``target_seed1`` and
        ``target_auc_seed1`` = the same of a second training seed), and one row per
        pretext task (plus ``target, seed 1``, the ceiling) with ``spearman_rho``,
        ``kendall_tau``, their p-values, ``n`` and ``spearman_rho_auc``.
    """
    from nasbench.evaluation.pretext import (
        pretext_correlations,
        pretext_splits,
        sample_cells,
        score_cell,
    )

    space = _space(settings)
    labelled = labelled_splits(settings, dataset)
    tasks = {
        p: pretext_splits(
            labelled, p, seed=0, n_permutations=settings.n_permutations, patch=settings.patch
        )
        for p in settings.pretexts
    }
    rows = []
    cells = sample_cells(space, settings.archs, seed=settings.sample_seed)
    for index, genotype in enumerate(cells):
        started = time.perf_counter()
        row: dict[str, Any] = {"genotype": genotype.to_json()}
        for pretext, splits in tasks.items():
            row[pretext] = score_cell(
                genotype, space, splits, _train_config(settings, 0), settings.skeleton()
            )["score"]
        for seed, column in ((0, "target"), (1, "target_seed1")):
            out = score_cell(
                genotype, space, labelled, _train_config(settings, seed), settings.skeleton(), seed
            )
            row[column] = out["score"]
            row[column.replace("target", "target_auc")] = out["test"]["auc"]
        rows.append(row)
        scores = ", ".join(f"{p} {row[p]:.3f}" for p in settings.pretexts)
        log(
            f"  [{dataset}] cell {index + 1}/{len(cells)}: {scores}, target acc "
            f"{row['target']:.3f} ({time.perf_counter() - started:.1f} s)"
        )
    frame = pd.DataFrame(rows)
    corr = pretext_correlations(frame, [*settings.pretexts, "target_seed1"])
    corr["pretext"] = corr["pretext"].replace({"target_seed1": "target, seed 1 (ceiling)"})
    # Against the test AUC; the ceiling row compares the two seeds' AUCs.
    corr["spearman_rho_auc"] = pretext_correlations(
        frame, [*settings.pretexts, "target_auc_seed1"], target="target_auc"
    )["spearman_rho"]
    corr.insert(0, "dataset", dataset)
    frame.insert(0, "dataset", dataset)
    return frame, corr


def _search(settings: UnnasSettings, dataset: str, strategy: str, seed: int, run_dir: Path):
    from nasbench import search
    from nasbench.config import SearchConfig

    # The search reads the two halves of the same labelled training subset (limit).
    config = SearchConfig(
        dataset={
            "name": dataset,
            "root": settings.root,
            "download": settings.root is None,
            "limit": settings.limit,
            "batch_size": settings.batch_size,
        },
        space=settings.space_dict(),
        strategy=strategy,
        strategy_config={"pretext": "rotation"} if strategy == "unnas" else {},
        epochs=settings.search_epochs,
        max_steps_per_epoch=settings.search_steps,
        device="cpu",
        seed=seed,
    )
    started = time.perf_counter()
    result = search(config, run_dir / f"{dataset}-{strategy}-{seed}")
    return result.genotype, time.perf_counter() - started


def cell_comparison(
    settings: UnnasSettings, dataset: str, log: Callable[[str], Any] = print
) -> pd.DataFrame:
    """Part (b): the UnNAS cell, the supervised DARTS cell and a random cell, per seed,
    each retrained on the labelled task with that seed.

    Returns:
        One row per (seed, cell): ``dataset``, ``seed``, ``cell``, ``test_acc``,
        ``test_auc``, ``search_s``, ``genotype``.
    """
    from nasbench.evaluation.pretext import score_cell

    space = _space(settings)
    labelled = labelled_splits(settings, dataset)
    rows = []
    with tempfile.TemporaryDirectory(prefix="unnas-bench-") as tmp:
        for seed in range(settings.seeds):
            found = {name: _search(settings, dataset, name, seed, Path(tmp)) for name in CELLS[:2]}
            found["random"] = (space.sample(np.random.default_rng(1000 + seed)), 0.0)
            for name in CELLS:
                genotype, search_s = found[name]
                out = score_cell(
                    genotype,
                    space,
                    labelled,
                    _train_config(settings, seed),
                    settings.skeleton(),
                    seed,
                )
                rows.append(
                    {
                        "dataset": dataset,
                        "seed": seed,
                        "cell": name,
                        "test_acc": out["test"]["acc"],
                        "test_auc": out["test"]["auc"],
                        "search_s": search_s,
                        "genotype": genotype.to_json(),
                    }
                )
                log(
                    f"  [{dataset}] seed {seed} {name}: test acc {out['test']['acc']:.3f}, "
                    f"auc {out['test']['auc']:.3f} (search {search_s:.1f} s)"
                )
    return pd.DataFrame(rows)


def summarise(comparison: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation of test ACC and AUC per dataset and cell, with the
    difference of each mean from the random cell's (the baseline of the same run)."""
    grouped = comparison.groupby(["dataset", "cell"], sort=False)
    out = grouped[["test_acc", "test_auc"]].agg(["mean", "std"])
    out.columns = [f"{a}_{b}" for a, b in out.columns]
    out = out.reset_index()
    base = out[out.cell == "random"].set_index("dataset")
    out["acc_vs_random"] = out.test_acc_mean - out.dataset.map(base.test_acc_mean)
    out["auc_vs_random"] = out.test_auc_mean - out.dataset.map(base.test_auc_mean)
    return out


CORRELATION_COLUMNS = [
    "dataset",
    "pretext",
    "spearman_rho",
    "spearman_p",
    "kendall_tau",
    "n",
    "spearman_rho_auc",
]


def _format(frame: pd.DataFrame) -> str:
    return frame.to_string(index=False, float_format=lambda v: f"{v:.3f}")


def run(settings: UnnasSettings, log: Callable[[str], Any] = print) -> dict[str, pd.DataFrame]:
    """Both parts on every dataset; returns ``scores``, ``correlations``, ``comparison``,
    ``summary`` frames."""
    scores, corrs, comps = [], [], []
    for dataset in settings.datasets:
        log(f"(a) {dataset}: {settings.archs} sampled cells on {', '.join(settings.pretexts)}")
        frame, corr = correlation_study(settings, dataset, log)
        scores.append(frame)
        corrs.append(corr)
        log(_format(corr[CORRELATION_COLUMNS]))
        log(f"(b) {dataset}: unnas vs darts vs random cell, {settings.seeds} seed(s)")
        comps.append(cell_comparison(settings, dataset, log))
        log(_format(summarise(comps[-1])))
    comparison = pd.concat(comps, ignore_index=True)
    return {
        "scores": pd.concat(scores, ignore_index=True),
        "correlations": pd.concat(corrs, ignore_index=True),
        "comparison": comparison,
        "summary": summarise(comparison),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=None, help="comma-separated dataset names")
    parser.add_argument("--root", default=None, help="folder of the MedMNIST .npz files")
    parser.add_argument("--archs", type=int, default=None, help="sampled cells in part (a)")
    parser.add_argument("--seeds", type=int, default=None, help="seeds in part (b)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (tests)")
    parser.add_argument("--csv", default=None, help="write the four tables to <prefix>_*.csv")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    settings = UnnasSettings(**(QUICK if args.quick else {}))
    changes: dict[str, Any] = {"root": args.root}
    if args.datasets:
        changes["datasets"] = tuple(d.strip() for d in args.datasets.split(",") if d.strip())
    if args.archs is not None:
        changes["archs"] = args.archs
    if args.seeds is not None:
        changes["seeds"] = args.seeds
    settings = dataclasses.replace(settings, **changes)
    import torch

    print(f"torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.2f}")
    started = time.perf_counter()
    tables = run(settings)
    pd.set_option("display.width", 160)
    print("\n(a) rank correlation with the labelled test accuracy over sampled cells")
    print(_format(tables["correlations"][CORRELATION_COLUMNS]))
    print("\n(b) retrained on the labelled task: mean (std) over seeds")
    print(_format(tables["summary"]))
    total = time.perf_counter() - started
    print(f"\ntotal {total:.0f} s")
    if args.csv:
        for name, frame in tables.items():
            frame.to_csv(f"{args.csv}_{name}.csv", index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
