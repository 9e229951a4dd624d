"""The MedMNIST protocol: search + retrain over seeds, next to MedMNIST v2's published rows.

For each seed: a search (any strategy, bounded by a wall-time budget) on a MedMNIST set,
then ``retrain`` of its derived cell from scratch beside the small CNN and ResNet-18 (28)
and a random cell of the same space (the control a search has to beat), trained in the
same run with the same recipe, all scored on the official test split with
MedMNIST's metrics (``nasbench.evaluation.metrics``: AUC one-vs-rest, ACC of the arg-max;
multi-label averaged over labels at 0.5, ordinal as multi-class, as the official evaluator
does). The table gives mean ± standard deviation over the seeds, with parameters and wall
time (search + retrain for the searched cell), then the published rows for the same set.

Published rows: J. Yang et al., "MedMNIST v2 - A large-scale lightweight benchmark for 2D
and 3D biomedical image classification", Scientific Data 10, 41 (2023), the 2D benchmark
table (test AUC / ACC; ResNets trained 100 epochs, AutoML tools with their own budgets).

Usage:
    python benchmarks/medmnist.py --dataset breastmnist --root ../shared/data/medmnist
    python benchmarks/medmnist.py --dataset pneumoniamnist --root ../shared/data/medmnist \\
        --search-seconds 900 --retrain-epochs 30 --seeds 0 1 2
    python benchmarks/medmnist.py --quick   # seconds: tiny budgets, a check of the plumbing
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import pandas as pd
from _script import count, positive_number, run_main

from nasbench.evaluation.published import METHODS, published  # noqa: F401 (tests read both)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "medmnist"

# The architecture loss's weight on the cell's expected parameter share (the strategies'
# ``cost_weight``): the protocol retrains at the widest width under a parameter budget, so
# cheap ops buy width (see benchmarks/README.md, "A search that knows the budget").
COST_WEIGHT = 1.0

# Parametric ops the derived normal cell keeps at least (``min_parametric_ops``): a longer
# search under the cost term collapses to skips, P-DARTS's failure (see benchmarks/README.md,
# "A floor under the cell").
MIN_PARAMETRIC = 2

# The protocol's settings of the differentiable strategies, by option and command-line flag.
PROTOCOL_OPTIONS = {"cost_weight": "cost_weight", "min_parametric_ops": "min_parametric"}

# A discrete search's candidates are trained at DARTS's width before the winner's width
# is fitted to the parameter budget (every candidate fitted first would cost a build each).
CANDIDATE_WIDTH = 16

# The flags --quick sets itself (one given beside it is refused, not silently replaced).
QUICK_SETS = ("search_seconds", "search_epochs", "max_steps", "search_steps", "retrain_epochs",
              "nodes", "cells", "channels", "retrain_cells", "retrain_channels", "batch_size",
              "limit", "test_limit")  # fmt: skip

MODELS = {
    "searched": "searched cell",
    "random": "random cell, same space",
    "random-matched": "random cell, same op mix",
    "cnn": "small CNN",
    "resnet18": "ResNet-18 (28), same run",
}


def run_seed(args: argparse.Namespace, seed: int, runs: Path) -> list[dict]:
    """Search then retrain with one seed; one row per model (searched, cnn, resnet18)."""
    from nasbench import search
    from nasbench.config import DatasetConfig, SearchConfig
    from nasbench.evaluation.final_evaluation import retrain
    from nasbench.evaluation.train_loop import TrainConfig
    from nasbench.strategies import get_strategy

    discrete = get_strategy(args.strategy).kind == "discrete"
    # A discrete search trains candidates in the evaluator's batches (evaluator_config below)
    # and refuses the supernet's batch size, epochs and steps.
    dataset = DatasetConfig(name=args.dataset, root=args.root, download=False,
                            batch_size=DatasetConfig.batch_size if discrete else args.batch_size,
                            augment=True, limit=args.limit)  # fmt: skip
    config = SearchConfig(
        dataset=dataset,
        space={
            "name": "darts",
            "n_nodes": args.nodes,
            "skeleton": {"n_cells": args.cells, "channels": args.channels},
        },  # fmt: skip
        strategy=args.strategy,
        strategy_config=strategy_settings(args),
        max_seconds=args.search_seconds,
        device="cpu",
        seed=seed,
    )
    if not discrete:
        config.epochs, config.max_steps_per_epoch = args.search_epochs, args.max_steps
    if discrete:
        # Candidates are trained briefly in the network they will be retrained in, and
        # ranked by validation AUC, as MedMNIST ranks.
        width = {-1: CANDIDATE_WIDTH, 0: args.channels}.get(args.retrain_channels)
        grown = {"n_cells": args.retrain_cells or args.cells,
                 "channels": width or args.retrain_channels}  # fmt: skip
        config.evaluator = "train"
        config.evaluator_config = {
            "epochs": 5, "batch_size": args.batch_size, "augment": True, "metric": "val_auc",
            "skeleton": grown, "device": "cpu", "limit": args.limit, **args.evaluator_config,
        }  # fmt: skip
        config.max_evaluations = args.max_evaluations
    if args.search_steps and not discrete:
        config.epochs, config.max_steps_per_epoch = search_schedule(
            search_batches(config), args.search_steps
        )
    started = time.monotonic()
    run_dir = runs / f"{args.strategy}-{args.dataset}-seed{seed}"
    search(config, run_dir)
    search_s = time.monotonic() - started
    recipe = TrainConfig(epochs=args.retrain_epochs, limit=args.limit, seed=seed,
                         device="cpu", test_limit=args.test_limit,
                         class_weight=args.class_weight,
                         label_smoothing=args.label_smoothing,
                         ema_decay=args.ema_decay, tta_flip=args.tta_flip)  # fmt: skip
    # Searched small, retrained larger, as DARTS does (5 cells C=8 -> 8 cells at the widest
    # width under --max-params; at the searched size the cell lost to the small CNN).
    channels = args.retrain_channels
    if channels == -1:
        channels = fit_channels(run_dir, recipe, args.retrain_cells, args.max_params,
                                start=args.channels)  # fmt: skip
    grown = {"n_cells": args.retrain_cells, "channels": channels}
    skeleton = {k: v for k, v in grown.items() if v} or None
    # The control first: a run keeps the curves of its latest retrain, and its report
    # should draw the searched cell's (it lists each retrain's results either way).
    control = random_cell_row(args, config, seed, run_dir, recipe) if args.random_cell else None
    report = retrain(run_dir, recipe, baseline=args.baselines, skeleton=skeleton, download=False)
    rows = []
    for row in report.table().to_dict("records"):
        extra = search_s if row["model"] == "searched" else 0.0
        rows.append({**row, "seed": seed, "wall_s": row["wall_s"] + extra,
                     "search_s": extra, "channels": channels or args.channels})  # fmt: skip
    if control is not None:
        rows.append(control)
    return rows


def strategy_settings(args: argparse.Namespace) -> dict:
    """The search strategy's settings: ``--cost-weight`` and ``--min-parametric`` for a
    strategy that has the options (DARTS, PC-DARTS, GDAS), under whatever
    ``--strategy-config`` gives.

    Example:
        >>> strategy_settings(argparse.Namespace(strategy="darts", cost_weight=None,
        ...     min_parametric=None, strategy_config={"arch_lr": 0.003}))
        {'cost_weight': 1.0, 'min_parametric_ops': 2, 'arch_lr': 0.003}
    """
    from nasbench.strategies import get_strategy

    defaults = {"cost_weight": COST_WEIGHT, "min_parametric_ops": MIN_PARAMETRIC}
    config_cls = get_strategy(args.strategy).config_cls
    settings = {}
    for option, flag in PROTOCOL_OPTIONS.items():
        if hasattr(config_cls, option):
            given = getattr(args, flag)
            settings[option] = defaults[option] if given is None else given
    return {**settings, **args.strategy_config}


def search_batches(config) -> int:
    """Batches in one pass over the search's training half (the last partial one dropped)."""
    from nasbench.data import load
    from nasbench.engine.bilevel import search_half_limit

    data, half = config.dataset, search_half_limit(config.dataset)
    train = load(data.name, "search_train", root=data.root, size=data.size,
                 download=data.download, limit=half, seed=config.seed)  # fmt: skip
    return max(1, len(train) // data.batch_size)


def search_schedule(batches: int, steps: int) -> tuple[int, int]:
    """Epochs and steps per epoch for about ``steps`` search steps, whatever the set's size.

    A fixed number of steps, not of epochs or seconds, makes the search the same on a
    small set and a large one, and on a busy machine and an idle one (a time budget
    derives another cell at another load).

    Args:
        batches: batches in one pass over the search's training half.
        steps: the steps wanted.

    Returns:
        ``(epochs, max_steps_per_epoch)``, whose product is ``steps`` or at most one
        epoch's worth of rounding above it.

    Example:
        >>> search_schedule(8, 240), search_schedule(73, 240), search_schedule(500, 240)
        ((30, 8), (4, 60), (1, 240))
    """
    epochs = -(-steps // batches)
    return epochs, -(-steps // epochs)


def random_cell(config, seed: int, like=None):
    """A cell drawn at random from the searched space, seeded apart from the search.

    Args:
        config: the search's ``SearchConfig`` (its space, fitted to the dataset).
        seed: the protocol's seed.
        like: the searched genotype, to draw with as many parametric ops per cell
            (``CellSpace.sample_matched``); None: uniform over the space.

    Returns:
        A genotype of the space (the same draw for the same seed, space and ``like``).

    Example:
        >>> random_cell(config, 0)  # doctest: +SKIP
        Genotype(normal=[('sep_conv_3x3', 0), ...], ...)
    """
    import numpy as np

    from nasbench.engine.bilevel import search_space

    space, rng = search_space(config), np.random.default_rng([seed, 2024])
    return space.sample(rng) if like is None else space.sample_matched(rng, like)


def random_cell_row(args: argparse.Namespace, config, seed: int, run_dir: Path, recipe) -> dict:
    """The random-cell control: a seeded random cell of the same space (with
    ``--random-match``, as many parametric ops per cell as the searched one), sized to
    the same parameter budget and retrained with the same recipe, no search time (random
    search is the baseline a search has to beat, not only hand-made networks)."""
    from nasbench.evaluation.final_evaluation import retrain
    from nasbench.runs import load
    from nasbench.runs.returned import returned_genotype_row

    searched = None
    if args.random_match:
        with load(run_dir) as run:
            searched = returned_genotype_row(run.genotypes, run.events)["genotype"]
    drawn = random_cell(config, seed, like=searched)
    channels = args.retrain_channels
    if channels == -1:
        channels = fit_channels(run_dir, recipe, args.retrain_cells, args.max_params,
                                start=args.channels, genotype=drawn)  # fmt: skip
    grown = {"n_cells": args.retrain_cells, "channels": channels}
    skeleton = {k: v for k, v in grown.items() if v} or None
    report = retrain(run_dir, recipe, baseline="none", genotype=drawn, skeleton=skeleton,
                     download=False)  # fmt: skip
    row = report.table().to_dict("records")[0]
    model = "random" if searched is None else "random-matched"
    return {**row, "model": model, "seed": seed, "search_s": 0.0,
            "channels": channels or args.channels, "genotype": str(drawn)}  # fmt: skip


def fit_channels(
    run_dir: Path, recipe, n_cells: int, max_params: int, start: int = 1, genotype=None
) -> int:
    """The widest retrained network for the run's cell with at most ``max_params``
    (:func:`nasbench.evaluation.final_evaluation.widest_channels`; ``n_cells`` 0: as
    searched; ``start``, the searched width, is kept even when over the budget)."""
    from nasbench.evaluation.final_evaluation import widest_channels

    return widest_channels(run_dir, recipe, max_params, n_cells=n_cells or None, start=start,
                           genotype=genotype)  # fmt: skip


def retrained_width(args: argparse.Namespace, rows: list[dict]) -> str:
    """The retrained width for the header: fixed, or fitted per seed under the budget."""
    if args.retrain_channels != -1:
        return str(args.retrain_channels or args.channels)
    widths = [row["channels"] for row in rows if row["model"] == "searched"]
    return f"{'/'.join(map(str, widths))} (widest under {args.max_params:,} parameters)"


def summarise(rows: list[dict]) -> pd.DataFrame:
    """Mean ± std over seeds per model: AUC, ACC, params and wall time.

    Args:
        rows: what :func:`run_seed` returned, over seeds.

    Returns:
        One row per model with ``test_auc``, ``test_acc`` as ``"0.912 ± 0.004"`` text
        (``"0.912 (n=1)"`` for one seed: one run has no spread), ``auc_mean``/``acc_mean``
        as numbers, ``params`` (one figure, or ``min-max`` when the width was fitted per
        seed) and mean ``wall_s``.

    Example:
        >>> rows = [{"model": "cnn", "seed": s, "test_auc": a, "test_acc": 0.8, "params": 9,
        ...          "wall_s": 1.0} for s, a in enumerate((0.9, 0.8))]
        >>> summarise(rows).loc[0, "test_auc"]
        '0.850 ± 0.071'
    """
    frame = pd.DataFrame(rows)
    out = []
    for model, group in frame.groupby("model", sort=False):
        shown = {m: _mean_spread(group[m]) for m in ("test_auc", "test_acc")}
        low, high = int(group["params"].min()), int(group["params"].max())
        out.append({
            "model": MODELS.get(model, model),
            "test_auc": shown["test_auc"],
            "test_acc": shown["test_acc"],
            "auc_mean": group["test_auc"].mean(),
            "acc_mean": group["test_acc"].mean(),
            "params": low if low == high else f"{low}-{high}",
            "wall_s": round(float(group["wall_s"].mean()), 1),
            "seeds": len(group),
        })  # fmt: skip
    return pd.DataFrame(out)


def _mean_spread(values: pd.Series) -> str:
    if len(values) < 2:
        return f"{values.mean():.3f} (n=1)"
    return f"{values.mean():.3f} ± {values.std(ddof=1):.3f}"


def verdict(ours: pd.DataFrame, paper: pd.DataFrame, rows: list[dict] | None = None) -> list[str]:
    """Lines comparing the searched cell with the same-run baselines and the paper.

    A baseline counts as beaten only when the searched cell is ahead on AUC and ACC and a
    paired t-test over the seeds both were trained with finds each difference significant
    (p < 0.05); with fewer than three seeds no test is made and the line says so. The
    paper's figures are means of three runs with another recipe (100 epochs, the full
    training set): they are set beside the searched cell's, never tested against it.

    Args:
        ours: :func:`summarise`'s table.
        paper: :func:`published`'s rows (may be empty).
        rows: :func:`run_seed`'s rows (per model and seed), for the paired tests; None:
            means only, no verdict.

    Returns:
        Human-readable lines, one per comparison.
    """
    table = ours.set_index("model")
    searched = table.loc[MODELS["searched"]]
    per_seed = pd.DataFrame(rows) if rows else None
    lines = []
    for key in ("random-matched", "random", "cnn", "resnet18"):
        name = MODELS[key]
        if name not in table.index:
            continue
        other = table.loc[name]
        said = _paired_verdict(per_seed, key) if per_seed is not None else "means only"
        lines.append(f"searched vs {name}: AUC {searched['auc_mean']:.3f} vs "
                     f"{other['auc_mean']:.3f}, ACC {searched['acc_mean']:.3f} vs "
                     f"{other['acc_mean']:.3f}: {said}")  # fmt: skip
    if len(paper):
        # One published row (the best by AUC, with its own ACC): the best of each column
        # would pair figures of different methods.
        best = paper.sort_values("test_auc", ascending=False).iloc[0]
        lines.append(f"best published ({best['model']}): AUC {best['test_auc']:.3f} / ACC "
                     f"{best['test_acc']:.3f}; searched cell {searched['auc_mean']:.3f} / "
                     f"{searched['acc_mean']:.3f} (the paper's recipe differs: set beside, "
                     "not tested)")  # fmt: skip
    return lines


def _paired_verdict(per_seed: pd.DataFrame, baseline: str) -> str:
    """``beats``, ``does not beat`` or ``no significant difference``, from paired t-tests
    of the searched cell against ``baseline`` over the seeds both have."""
    from scipy import stats

    pairs = (
        per_seed[per_seed["model"].isin(("searched", baseline))]
        .pivot_table(index="seed", columns="model", values=["test_auc", "test_acc"])
        .dropna()
    )
    n = len(pairs)
    diff = {m: pairs[(m, "searched")] - pairs[(m, baseline)] for m in ("test_auc", "test_acc")}
    if n < 3:
        return f"{n} paired seed(s): too few for a test (run 3 or more with --seeds)"
    p = {m: float(stats.ttest_rel(pairs[(m, "searched")], pairs[(m, baseline)]).pvalue)
         for m in diff}  # fmt: skip
    p = {m: 1.0 if v != v else v for m, v in p.items()}  # identical columns: no difference
    tested = f"paired t-test over {n} seeds: p = {p['test_auc']:.2f} (AUC), " \
             f"{p['test_acc']:.2f} (ACC)"  # fmt: skip
    ahead = all(d.mean() > 0 for d in diff.values())
    if all(v < 0.05 for v in p.values()):
        return f"{'beats' if ahead else 'does not beat'} ({tested})"
    return f"no significant difference ({tested})"


def _subsets(args: argparse.Namespace) -> str:
    """The images each split used, for the header (a subsample is not the benchmark's)."""
    train = "all train/val images" if args.limit is None else f"{args.limit} train/val images"
    test = "the whole test set" if args.test_limit is None else f"{args.test_limit} test images"
    return f"{train}, {test}"


def refuse_unsupported_dataset(parser: argparse.ArgumentParser, name: str) -> None:
    """Stop with a one-line usage error unless ``name`` is a 2D MedMNIST set: the protocol
    builds 2D cells on 28 px images and compares with MedMNIST v2's 2D table only.

    Args:
        parser: the script's parser, whose ``error`` exits with status 2.
        name: the ``--dataset`` value.

    Example:
        >>> refuse_unsupported_dataset(argparse.ArgumentParser(), "breastmnist")  # passes
    """
    from nasbench.data import get_info, list_datasets
    from nasbench.errors import NasbenchError

    names = [i.name for i in list_datasets(spatial_dims=2) if i.source == "medmnist"]
    sets = ", ".join(names)
    try:
        info = get_info(name)
    except NasbenchError:
        info = None
    if info is not None and info.source == "medmnist" and info.spatial_dims == 3:
        parser.error(f"--dataset {name} is a 3D MedMNIST set; this script runs the 2D sets "
                     f"at 28 px only ({sets})")  # fmt: skip
    if info is None or info.source != "medmnist":
        # "pathmnist_64" names a file of another size, not a set.
        base = name.rpartition("_")[0]
        hint = f" (a set is named without its size: {base})" if base in names else ""
        parser.error(f"--dataset {name} is not a 2D MedMNIST set{hint}; this script runs "
                     f"these at 28 px only: {sets}")  # fmt: skip


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--dataset", default="breastmnist", help="a MedMNIST 2D set")
    parser.add_argument("--root", default=str(SHARED), help="folder holding <dataset>.npz")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--strategy", default="darts",
                        help="differentiable, or discrete with the train evaluator")  # fmt: skip
    parser.add_argument("--strategy-config", type=json.loads, default={},
                        help="the strategy's settings as JSON, e.g. "
                             "'{\"arch_lr\": 3e-3, \"arch_warmup\": 0.25}'")  # fmt: skip
    parser.add_argument("--cost-weight", type=float, default=None,
                        help="DARTS, PC-DARTS, GDAS: weight of the cell's expected parameter "
                             f"share in the architecture loss (default {COST_WEIGHT}; 0: "
                             "off, the papers' search)")  # fmt: skip
    parser.add_argument("--min-parametric", type=int, default=None,
                        help="DARTS, PC-DARTS, GDAS: parametric ops the derived normal cell "
                             f"keeps at least (default {MIN_PARAMETRIC}; 0: the plain DARTS "
                             "rule)")  # fmt: skip
    parser.add_argument("--evaluator-config", type=json.loads, default={},
                        help="a discrete strategy's train evaluator settings as JSON "
                             "(default: 5 epochs in the retrained network, ranked by "
                             "validation AUC)")  # fmt: skip
    parser.add_argument("--max-evaluations", type=count(1), default=12,
                        help="a discrete strategy's candidates")  # fmt: skip
    parser.add_argument(
        "--search-seconds", type=positive_number, default=600.0, help="search budget"
    )
    parser.add_argument("--search-epochs", type=count(1), default=10, help="the most epochs")
    parser.add_argument("--search-steps", type=count(0), default=0,
                        help="search steps, spread over epochs to suit the set's size (sets "
                             "--search-epochs and --max-steps; 0: use those)")  # fmt: skip
    parser.add_argument("--max-steps", type=count(1), default=None, help="steps per epoch cap")
    parser.add_argument("--retrain-epochs", type=count(1), default=30)
    parser.add_argument("--class-weight", default="none", choices=("none", "balanced"))
    parser.add_argument("--label-smoothing", type=float, default=0.0)
    parser.add_argument("--ema-decay", type=float, default=0.99,
                        help="retrain: score and keep a moving average of the weights with "
                             "this per-step decay, every model alike (0: off)")  # fmt: skip
    parser.add_argument("--tta-flip", action=argparse.BooleanOptionalAction, default=True,
                        help="retrain: score images with their mirror too, every model "
                             "alike")  # fmt: skip
    parser.add_argument("--nodes", type=count(1), default=4)
    parser.add_argument("--cells", type=count(1), default=5)
    parser.add_argument("--channels", type=count(1), default=8)
    parser.add_argument("--retrain-cells", type=count(0), default=8,
                        help="cells of the retrained network (0: as searched)")  # fmt: skip
    parser.add_argument("--retrain-channels", type=int, default=-1,
                        help="channels of the retrained network (0: as searched; -1: the "
                             "widest with at most --max-params parameters)")  # fmt: skip
    parser.add_argument("--max-params", type=int, default=300_000,
                        help="parameter budget of --retrain-channels -1 (0.3M)")  # fmt: skip
    parser.add_argument("--baselines", default="cnn,resnet18",
                        help="baselines trained with the same recipe")  # fmt: skip
    parser.add_argument("--random-cell", action=argparse.BooleanOptionalAction, default=True,
                        help="also retrain a seeded random cell of the same space at the same "
                             "parameter budget (the control a search has to beat)")  # fmt: skip
    parser.add_argument("--random-match", action=argparse.BooleanOptionalAction,
                        default=True,
                        help="draw the random cell with as many parametric ops per cell as "
                             "the searched one, so it differs in where and which ops only "
                             "(--no-random-match: uniform over the space)")  # fmt: skip
    parser.add_argument("--batch-size", type=count(1), default=32)
    parser.add_argument("--limit", type=count(1), default=None, help="train/val images (all)")
    parser.add_argument("--test-limit", type=count(1), default=None, help="test images (all)")
    parser.add_argument("--runs", default=None, help="keep run folders here (default: temp)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny budgets on a tiny set: checks the plumbing")  # fmt: skip
    args = parser.parse_args(argv)
    if args.quick:
        # --quick sets these itself: one given too would be silently replaced.
        given = [flag for flag in QUICK_SETS
                 if getattr(args, flag) != parser.get_default(flag)]  # fmt: skip
        if given:
            parser.error(f"--quick sets --{given[0].replace('_', '-')} itself; drop one")
        args.seeds = args.seeds[:2] if len(args.seeds) > 1 else args.seeds
        args.search_seconds, args.search_epochs, args.max_steps = None, 1, 2
        args.search_steps = 0
        args.retrain_epochs, args.nodes, args.cells, args.channels = 1, 2, 3, 4
        args.retrain_cells, args.retrain_channels = 0, 0
        args.batch_size, args.limit, args.test_limit = 8, 32, 32
    for flag in ("strategy_config", "evaluator_config"):
        if not isinstance(getattr(args, flag), dict):
            parser.error(f"--{flag.replace('_', '-')} takes a JSON object ({{...}}), "
                         f"got {getattr(args, flag)!r}")  # fmt: skip
    from nasbench.errors import NasbenchError
    from nasbench.evaluation.final_evaluation import _baselines
    from nasbench.strategies import get_strategy, make_config

    try:
        get_strategy(args.strategy)
    except NasbenchError as err:
        parser.error(f"--strategy: {' '.join(str(err).split())}")
    for option, flag in PROTOCOL_OPTIONS.items():
        if getattr(args, flag) is None:
            continue
        name = "--" + flag.replace("_", "-")
        if not hasattr(get_strategy(args.strategy).config_cls, option):
            parser.error(f"{name} applies to darts, pcdarts and gdas, not "
                         f"{args.strategy}; leave it out")  # fmt: skip
        if getattr(args, flag) < 0:
            parser.error(f"{name} takes 0 (off) or more, got {getattr(args, flag)}")
    if not 0 <= args.label_smoothing < 1:
        parser.error(f"--label-smoothing takes a number in [0, 1), got {args.label_smoothing}")
    runs = Path(args.runs).expanduser() if args.runs is not None else None
    if runs is not None and (not str(args.runs).strip() or (runs.exists() and not runs.is_dir())):
        parser.error(f"--runs {args.runs!r} is not a folder; give a folder for the runs")
    try:
        _baselines(args.baselines, "classification")
    except NasbenchError as err:
        parser.error(f"--baselines: {' '.join(str(err).split())}")
    if not (args.ema_decay == 0 or 0 < args.ema_decay < 1):
        parser.error(f"--ema-decay takes 0 (off) or a number in (0, 1), got {args.ema_decay}")
    if args.retrain_channels < -1 or args.max_params < 1:
        parser.error("--retrain-channels takes -1 (fit), 0 (as searched) or a width; "
                     "--max-params a positive count")  # fmt: skip
    try:
        make_config(args.strategy, strategy_settings(args))
    except NasbenchError as err:
        parser.error(f"--strategy-config: {' '.join(str(err).split())}")
    refuse_unsupported_dataset(parser, args.dataset)
    root = Path(args.root)
    if not (root / f"{args.dataset}.npz").is_file():
        parser.error(f"no {args.dataset}.npz in {root}; pass --root <folder holding it>")
    return args


def main(argv: list[str] | None = None) -> pd.DataFrame:
    """Run the protocol; print and return the summary table."""
    args = parse_args(argv)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(args.runs or tmp)
        rows = [row for seed in args.seeds for row in run_seed(args, seed, runs)]
    ours = summarise(rows)
    paper = published(args.dataset)
    print(f"{args.dataset}: {args.strategy} search ({args.search_seconds} s budget, "
          f"{args.cells} cells, C={args.channels}) + retrain {args.retrain_epochs} epochs "
          f"({args.retrain_cells or args.cells} cells, "
          f"C={retrained_width(args, rows)}), "
          f"seeds {args.seeds}, {_subsets(args)}, EMA decay {args.ema_decay:g}, flip TTA "
          f"{'on' if args.tta_flip else 'off'}, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(ours.drop(columns=["auc_mean", "acc_mean"]).to_string(index=False))
    if len(paper):
        print(
            "\nMedMNIST v2 (Yang et al., Scientific Data 2023), the whole test set, "
            "mean of 3 runs, 100 epochs:"
        )
        print(paper.to_string(index=False))
    for line in verdict(ours, paper, rows):
        print(line)
    print(f"benchmark took {time.monotonic() - started:.0f} s")
    return ours


if __name__ == "__main__":
    raise SystemExit(run_main(lambda: 0 if main() is not None else 1))
