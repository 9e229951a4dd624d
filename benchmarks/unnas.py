"""UnNAS on MedMNIST: do pretext tasks rank architectures as the labels do, and is the
cell a label-free search finds as good as the supervised one?

Two parts, after Liu et al. (2020), CPU-sized (28 px, tiny networks, few epochs):

(a) correlation: ``--archs`` cells sampled from the DARTS space are each trained from
    scratch, briefly, on every pretext task (rotation, jigsaw, in-painting; made from
    ``--pretext-limit`` images per split) and on the labelled task (``--limit`` training
    images, class-balanced loss, cosine learning rate, the epoch with the best
    validation AUC kept); each pretext task's test score (accuracy; minus the MSE for
    in-painting) is rank-correlated (Spearman, Kendall, with p-values) with the labelled
    test AUC and ACC. A second training seed of the labelled task gives the ceiling: how
    well the labelled task agrees with itself at this budget. ``--figure`` draws one
    scatter per pretext task (HTML).
(b) comparison: per seed, an ``unnas`` search (rotation, labels unused) and a
    supervised ``darts`` search with the same budget, and a random cell; the three cells
    are retrained on the labelled task with that seed; test ACC and AUC are printed
    with their means over the seeds.

Run (sizes, times and results in benchmarks/README.md):

    OMP_NUM_THREADS=1 python benchmarks/unnas.py --root ../shared/data/medmnist \\
        --datasets breastmnist --parts a --figure unnas-breastmnist.html

``--old-budget`` restores the first, too small budget (128 images, 3 epochs, unweighted
loss, ranked by ACC); ``--quick`` shrinks everything for the tests (synthetic data).
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
from _script import count, output_file, positive_number, run_main, write_text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PRETEXTS = ("rotation", "jigsaw", "inpainting")
CELLS = ("unnas", "darts", "random")


@dataclass
class UnnasSettings:
    """Sizes of one benchmark run (the defaults are the full run; :data:`OLD_BUDGET` is
    the first, too small one, kept for comparison).

    ``limit``, ``val_limit``, ``test_limit`` cap the labelled splits (stratified; None:
    the whole split), ``pretext_limit`` the images each split's pretext tasks are made
    from (None: the labelled ones). ``epochs`` trains the labelled task (cosine learning
    rate from ``lr`` to 0), ``pretext_epochs`` the pretext tasks. ``class_weight``
    (``balanced``: inverse class frequency) and ``select`` (the validation metric that
    keeps an epoch) apply to the labelled task; ``target`` is the test metric the
    pretext scores are ranked against first (``auc`` or ``acc``; both are reported).
    """

    datasets: tuple[str, ...] = ("breastmnist", "pneumoniamnist")
    root: str | None = None
    archs: int = 20
    seeds: int = 3
    limit: int | None = None
    val_limit: int | None = None
    test_limit: int | None = None
    pretext_limit: int | None = 200
    epochs: int = 6
    pretext_epochs: int = 2
    lr: float = 0.025
    class_weight: str = "balanced"
    select: str = "auc"
    target: str = "auc"
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


# The first budget (128 labelled images, val and test 64 each, 3 epochs, unweighted
# loss, kept epoch by validation loss): 17 of 20 cells predicted the majority class.
OLD_BUDGET = dict(
    limit=128,
    val_limit=64,
    test_limit=64,
    pretext_limit=None,
    epochs=3,
    pretext_epochs=3,
    lr=0.025,
    class_weight="none",
    select="loss",
    target="acc",
)

QUICK = dict(
    datasets=("synthetic",),
    archs=4,
    seeds=1,
    limit=48,
    val_limit=24,
    test_limit=24,
    pretext_limit=24,
    epochs=1,
    pretext_epochs=1,
    n_nodes=2,
    n_cells=2,
    channels=4,
    batch_size=16,
    search_epochs=1,
    search_steps=2,
    n_permutations=4,
)

TARGETS = ("auc", "acc")


def _space(settings: UnnasSettings) -> Any:
    from nasbench.spaces import create_space

    return create_space("darts", n_nodes=settings.n_nodes)


def _train_config(settings: UnnasSettings, seed: int, labelled: bool = True) -> Any:
    """The recipe of the labelled task (``labelled``) or of a pretext task."""
    from nasbench.evaluation.train_loop import TrainConfig

    # Plain recipe: no augmentation (it would alter the pretext images), no auxiliary head.
    return TrainConfig(
        epochs=settings.epochs if labelled else settings.pretext_epochs,
        batch_size=settings.batch_size,
        lr=settings.lr,
        augment=False,
        auxiliary_weight=0.0,
        drop_path_prob=0.0,
        select=settings.select if labelled else "loss",
        class_weight=settings.class_weight if labelled else "none",
        device="cpu",
        seed=seed,
    )


def labelled_splits(
    settings: UnnasSettings, dataset: str, seed: int = 0, pretext: bool = False
) -> dict[str, Any]:
    """Stratified train/val/test subsets of ``dataset``, capped by ``settings.limit``,
    ``val_limit`` and ``test_limit`` (or all by ``pretext_limit`` when ``pretext``)."""
    from nasbench.data import load

    common = dict(root=settings.root, download=settings.root is None, seed=seed)
    sizes = {"train": settings.limit, "val": settings.val_limit, "test": settings.test_limit}
    if pretext:
        # Never more pretext images than labelled ones of the same split.
        sizes = {split: _min(settings.pretext_limit, n) for split, n in sizes.items()}
    return {split: load(dataset, split, limit=n, **common) for split, n in sizes.items()}


def _min(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def correlation_study(
    settings: UnnasSettings, dataset: str, log: Callable[[str], Any] = print
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Part (a): score ``settings.archs`` sampled cells on each pretext task and the target.

    Returns:
        ``(scores, correlations)``: one row per cell (``genotype``, one column per pretext
        task, ``target_auc`` and ``target_acc`` = test AUC and ACC of the labelled task,
        ``target_auc_seed1`` and ``target_acc_seed1`` = the same of a second training
        seed, ``majority`` = whether seed 0 predicts one class for every test image,
        ``seconds``), and one row per (target metric, pretext task), plus the ceiling row
        ``target, seed 1`` that correlates the two seeds on that metric: ``metric``,
        ``pretext``, ``spearman_rho``, ``spearman_p``, ``kendall_tau``, ``kendall_p``, ``n``.
    """
    from nasbench.evaluation.pretext import (
        pretext_correlations,
        pretext_splits,
        sample_cells,
        score_cell,
    )

    space = _space(settings)
    labelled = labelled_splits(settings, dataset)
    base = labelled_splits(settings, dataset, pretext=True)
    tasks = {
        p: pretext_splits(
            base, p, seed=0, n_permutations=settings.n_permutations, patch=settings.patch
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
                genotype,
                space,
                splits,
                _train_config(settings, 0, labelled=False),
                settings.skeleton(),
            )["score"]
        for seed, suffix in ((0, ""), (1, "_seed1")):
            out = score_cell(
                genotype, space, labelled, _train_config(settings, seed), settings.skeleton(), seed
            )
            row[f"target_auc{suffix}"] = out["test"]["auc"]
            row[f"target_acc{suffix}"] = out["test"]["acc"]
        row["majority"] = _predicts_one_class(row["target_acc"], labelled["test"])
        row["seconds"] = time.perf_counter() - started
        rows.append(row)
        scores = ", ".join(f"{p} {row[p]:.3f}" for p in settings.pretexts)
        log(
            f"  [{dataset}] cell {index + 1}/{len(cells)}: {scores}, target auc "
            f"{row['target_auc']:.3f} / {row['target_auc_seed1']:.3f}, acc "
            f"{row['target_acc']:.3f} / {row['target_acc_seed1']:.3f} ({row['seconds']:.1f} s)"
        )
    frame = pd.DataFrame(rows)
    metrics = [settings.target, *(m for m in TARGETS if m != settings.target)]
    parts = []
    for metric in metrics:
        corr = pretext_correlations(
            frame, [*settings.pretexts, f"target_{metric}_seed1"], target=f"target_{metric}"
        )
        corr["pretext"] = corr["pretext"].replace({f"target_{metric}_seed1": CEILING})
        corr.insert(0, "metric", metric)
        parts.append(corr)
    corr = pd.concat(parts, ignore_index=True)
    corr.insert(0, "dataset", dataset)
    frame.insert(0, "dataset", dataset)
    return frame, corr


CEILING = "target, seed 1 (ceiling)"


def _predicts_one_class(acc: float, test: Any) -> bool:
    """Whether a test accuracy is exactly the share of one class (a constant prediction;
    a mixed prediction can hit it by chance, so this over-counts slightly)."""
    targets = np.asarray(test.targets).reshape(-1)
    shares = np.bincount(targets.astype(int)) / len(targets)
    return bool(np.isclose(shares, acc).any())


def write_figure(
    scores: pd.DataFrame, settings: UnnasSettings, path: str | Path, metric: str | None = None
) -> list[Path]:
    """Part (a)'s figure: each pretext score (and the second seed) against the labelled
    test metric, one scatter panel per task, one HTML file per dataset (plotly.js from
    its CDN, so the file stays small).

    Args:
        scores: the ``scores`` table of :func:`run`.
        settings: gives the pretext tasks and the target metric.
        path: an ``.html`` file; with several datasets each gets ``<stem>-<dataset>.html``.
        metric: ``auc`` or ``acc`` (None: ``settings.target``).

    Returns:
        The files written.

    Example:
        >>> write_figure(tables["scores"], settings, "unnas.html")  # doctest: +SKIP
        [PosixPath('unnas.html')]
    """
    from nasbench.viz import plot_pretext_correlation

    path = Path(path)
    datasets = list(dict.fromkeys(scores.dataset))
    written = []
    for dataset in datasets:
        frame = scores[scores.dataset == dataset]
        metric = metric or settings.target
        target = f"target_{metric}"
        fig = plot_pretext_correlation(
            frame.rename(columns={f"{target}_seed1": "seed 1"}),
            [*settings.pretexts, "seed 1"],
            target=target,
            target_label=f"labelled test {metric.upper()} (seed 0)",
        )
        fig.update_layout(
            title=f"{dataset}: pretext score vs labelled test {metric.upper()}, "
            f"{len(frame)} sampled cells (last panel: a second seed, the ceiling)"
        )
        out = path if len(datasets) == 1 else path.with_name(f"{path.stem}-{dataset}.html")
        write_text(out, fig.to_html(include_plotlyjs="cdn"))
        written.append(out)
    return written


def _search(settings: UnnasSettings, dataset: str, strategy: str, seed: int, run_dir: Path):
    from nasbench import search
    from nasbench.config import SearchConfig

    # The search reads the two halves of the same labelled training subset (limit;
    # None: the whole training split).
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
    "metric",
    "pretext",
    "spearman_rho",
    "spearman_p",
    "kendall_tau",
    "kendall_p",
    "n",
]


def _format(frame: pd.DataFrame) -> str:
    return frame.to_string(index=False, float_format=lambda v: f"{v:.3f}")


def run(
    settings: UnnasSettings,
    log: Callable[[str], Any] = print,
    parts: str = "ab",
) -> dict[str, pd.DataFrame]:
    """The parts named in ``parts`` (``a``: correlation, ``b``: comparison) on every
    dataset; returns ``scores``, ``correlations`` (part a), ``comparison``, ``summary``
    (part b) frames, empty where a part did not run."""
    if not parts or set(parts) - {"a", "b"}:
        raise ValueError(f"parts must be made of 'a' and 'b', got {parts!r}.")
    scores, corrs, comps = [], [], []
    for dataset in settings.datasets:
        if "a" in parts:
            log(f"(a) {dataset}: {settings.archs} sampled cells on {', '.join(settings.pretexts)}")
            frame, corr = correlation_study(settings, dataset, log)
            scores.append(frame)
            corrs.append(corr)
            log(_format(corr[CORRELATION_COLUMNS]))
            log(f"  majority-class cells: {int(frame.majority.sum())} of {len(frame)}")
        if "b" in parts:
            log(f"(b) {dataset}: unnas vs darts vs random cell, {settings.seeds} seed(s)")
            comps.append(cell_comparison(settings, dataset, log))
            log(_format(summarise(comps[-1])))
    comparison = pd.concat(comps, ignore_index=True) if comps else pd.DataFrame()
    return {
        "scores": pd.concat(scores, ignore_index=True) if scores else pd.DataFrame(),
        "correlations": pd.concat(corrs, ignore_index=True) if corrs else pd.DataFrame(),
        "comparison": comparison,
        "summary": summarise(comparison) if comps else pd.DataFrame(),
    }


def _optional_int(text: str) -> int | None:
    """``none``/``all`` for no cap, else a positive integer (argparse type)."""
    if text.strip().lower() in ("none", "all"):
        return None
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'all', got {text!r}")
    return value


# CLI flag -> (settings field, argparse type)
SIZE_FLAGS = {
    "archs": count(1),
    "seeds": count(1),
    "limit": _optional_int,
    "val_limit": _optional_int,
    "test_limit": _optional_int,
    "pretext_limit": _optional_int,
    "epochs": count(1),
    "pretext_epochs": count(1),
    "lr": positive_number,
    "channels": count(1),
    "n_cells": count(1),
    "batch_size": count(1),
    "search_epochs": count(1),
    "search_steps": count(1),
}


def parse_settings(argv: list[str] | None = None) -> tuple[UnnasSettings, argparse.Namespace]:
    """The settings and the other options of a command line (see ``--help``).

    ``--old-budget`` starts from :data:`OLD_BUDGET`, ``--quick`` from :data:`QUICK`;
    every size flag then overrides one field.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=None, help="comma-separated dataset names")
    parser.add_argument("--root", default=None, help="folder of the MedMNIST .npz files")
    parser.add_argument("--parts", default="ab", help="a (correlation), b (comparison) or ab")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (tests)")
    parser.add_argument(
        "--old-budget",
        action="store_true",
        help="the first budget: 128 images, val/test 64, 3 epochs, unweighted loss, ACC",
    )
    defaults = UnnasSettings()
    for name, kind in SIZE_FLAGS.items():
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            type=kind,
            default=argparse.SUPPRESS,
            help=f"(default {getattr(defaults, name)})",
        )
    parser.add_argument("--class-weight", choices=("balanced", "none"), default=argparse.SUPPRESS)
    parser.add_argument("--select", choices=("auc", "acc", "loss"), default=argparse.SUPPRESS)
    parser.add_argument("--target", choices=TARGETS, default=argparse.SUPPRESS)
    parser.add_argument("--csv", default=None, help="write the tables to <prefix>_*.csv")
    parser.add_argument(
        "--figure",
        type=output_file,
        default=None,
        help="write part (a)'s scatter plots to this .html file",
    )
    args = parser.parse_args(argv)
    if args.figure and not args.figure.name.lower().endswith(".html"):
        parser.error(
            f"--figure {args.figure}: the figure is written as HTML (plotly); "
            "end the name with .html"
        )
    if set(args.parts) - {"a", "b"} or not args.parts:
        parser.error(f"--parts {args.parts}: use a, b or ab")
    if args.csv is not None:
        try:  # every table is <prefix>_<name>.csv: one of them stands for all
            output_file(f"{args.csv}_scores.csv")
        except argparse.ArgumentTypeError as err:
            parser.error(f"argument --csv: {err}")
    base: dict[str, Any] = {}
    if args.old_budget:
        base.update(OLD_BUDGET)
    if args.quick:
        base.update(QUICK)
    changes: dict[str, Any] = {"root": args.root}
    if args.datasets:
        changes["datasets"] = tuple(d.strip() for d in args.datasets.split(",") if d.strip())
    for name in (*SIZE_FLAGS, "class_weight", "select", "target"):
        if hasattr(args, name):
            changes[name] = getattr(args, name)
    settings = dataclasses.replace(UnnasSettings(**base), **changes)
    refuse_bad_data(parser, settings)
    return settings, args


def refuse_bad_data(parser: argparse.ArgumentParser, settings: UnnasSettings) -> None:
    """A one-line usage error for no dataset, an unknown one, or (under ``--root``) a
    MedMNIST set whose file is not there, before anything is trained."""
    from nasbench.data import get_info
    from nasbench.errors import NasbenchError

    if not settings.datasets:
        parser.error("--datasets names no dataset; give comma-separated names")
    for name in settings.datasets:
        try:
            info = get_info(name)
        except NasbenchError as err:
            parser.error(f"--datasets {name}: {' '.join(str(err).split())}")
        root = settings.root
        if root is not None and info.source == "medmnist":
            if not (Path(root).expanduser() / f"{name}.npz").is_file():
                parser.error(f"--datasets {name}: no {name}.npz in {root}; pass --root "
                             "<folder holding it>")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    settings, args = parse_settings(argv)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    print(f"torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.2f}")
    print(f"settings: {dataclasses.asdict(settings)}")
    started, cpu = time.perf_counter(), time.process_time()
    tables = run(settings, parts=args.parts)
    pd.set_option("display.width", 160)
    if "a" in args.parts:
        print("\n(a) rank correlation with the labelled test metric over sampled cells")
        print(_format(tables["correlations"][CORRELATION_COLUMNS]))
        majority = tables["scores"].groupby("dataset", sort=False).majority.sum()
        print(f"majority-class cells (seed 0): {majority.to_dict()}")
    if "b" in args.parts:
        print("\n(b) retrained on the labelled task: mean (std) over seeds")
        print(_format(tables["summary"]))
    total = time.perf_counter() - started
    print(
        f"\ntotal {total:.0f} s wall, {time.process_time() - cpu:.0f} s CPU, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    if args.csv:
        for name, frame in tables.items():
            if len(frame):
                write_text(f"{args.csv}_{name}.csv", frame.to_csv(index=False))
    if args.figure and "a" in args.parts:
        # The target metric at the given path, the other one beside it (<stem>-<metric>).
        for metric in (settings.target, *(m for m in TARGETS if m != settings.target)):
            path = Path(args.figure)
            if metric != settings.target:
                path = path.with_name(f"{path.stem}-{metric}.html")
            for written in write_figure(tables["scores"], settings, path, metric):
                print(f"figure: {written}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
