"""The evaluation stage: retrain a searched genotype from scratch, next to a baseline.

A one-shot search scores cells with shared, half-trained weights; what a cell is
worth shows only once it is trained alone. :func:`retrain` reads a run's final
genotype and dataset, builds the discrete network, trains it with
:func:`~nasbench.evaluation.train_loop.train_model` (keeping the best epoch on the
validation split), scores it on the test split, and does the same for a
hand-designed baseline with the same recipe, so the test figures compare like with
like: ResNet-18 (28) by default, and on request a small fixed CNN
(:func:`~nasbench.evaluation.baselines.small_cnn`), and test ACC/AUC for
classification; MONAI's U-Net and test Dice/HD95 for segmentation, plus the thresholding floor
(:class:`~nasbench.evaluation.baselines.IntensityThresholds`, no training); for
reconstruction the zero-filled floor, MONAI's U-Net and VarNet at the searched
network's parameter count, and test PSNR/SSIM
(:mod:`~nasbench.evaluation.recon_baselines`); for detection (the ``alb`` space) the
same detector on a fixed ResNet-style backbone of matched size, and test AP50/FROC
(:mod:`~nasbench.evaluation.detection_baselines`). All go
into the run store (phases ``retrain``, ``baseline`` and ``threshold`` plus a
``retrain_finished`` event) for the report to show.

Default skeleton: the search's own skeleton (cells, channels, reductions, stem;
for a U-Net space its depth and channels), with the dataset's input channels and
classes and DARTS's auxiliary head (when ``auxiliary_weight > 0``). DARTS
retrains a deeper, wider network (20 cells, C=36) than it searched, a GPU-day
per run; keeping the searched depth and width means the cell is evaluated in
the network it was chosen in, and the course runs on a CPU. Pass
``skeleton=Skeleton(n_cells=20, channels=36, auxiliary=True)`` for the DARTS recipe.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import math
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from nasbench.data.fingerprint import DATA_FINGERPRINT
from nasbench.device import seeded
from nasbench.errors import ConfigError, NasbenchError, closest_name, status_reason
from nasbench.evaluation.baselines import IntensityThresholds, resnet18, small_cnn, unet
from nasbench.evaluation.detection_baselines import RESNET_DETECTOR, matched_resnet_detector
from nasbench.evaluation.metrics import CLASSIFICATION_TASKS
from nasbench.evaluation.recon_baselines import VARNET, ZERO_FILLED
from nasbench.evaluation.train_loop import (
    TrainConfig,
    TrainResult,
    evaluate_model,
    refuse_batches_of_one,
    train_model,
    validated_as_flags,
)
from nasbench.options import add_no_download_flag
from nasbench.protocols import Genotype

SEARCHED = "searched"
BASELINE = "resnet18"
SMALL_CNN = "cnn"
SEGMENTATION_BASELINE = "unet"
THRESHOLD = "threshold"
# Run-store phases of each model's metrics.
PHASES = {SEARCHED: "retrain", BASELINE: "baseline", SEGMENTATION_BASELINE: "baseline"}
PHASES[THRESHOLD] = "threshold"
PHASES[SMALL_CNN] = "cnn"
# Reconstruction (nasbench.evaluation.recon_baselines): zero-filled, U-Net and VarNet.
PHASES.update({ZERO_FILLED: "zero-filled", VARNET: "varnet"})
# Detection: the same detector on a fixed ResNet-style backbone of matched size.
PHASES[RESNET_DETECTOR] = "baseline"
# Per task: the baselines ``retrain`` can run, and those it runs by default (``True``).
AVAILABLE_BASELINES = {
    "classification": (SMALL_CNN, BASELINE),
    "segmentation": (SEGMENTATION_BASELINE, THRESHOLD),
    "reconstruction": (ZERO_FILLED, SEGMENTATION_BASELINE, VARNET),
    "detection": (RESNET_DETECTOR,),
}
DEFAULT_BASELINES = {
    "classification": (BASELINE,),
    "segmentation": (SEGMENTATION_BASELINE, THRESHOLD),
    "reconstruction": (ZERO_FILLED, SEGMENTATION_BASELINE, VARNET),
    "detection": (RESNET_DETECTOR,),
}
TABLE_COLUMNS = ("model", "params", "MACs", "test_acc", "test_auc", "wall_s")
SEGMENTATION_COLUMNS = ("model", "params", "MACs", "test_dice", "test_hd95", "wall_s")
RECONSTRUCTION_COLUMNS = ("model", "params", "MACs", "test_psnr", "test_ssim", "wall_s")
DETECTION_COLUMNS = ("model", "params", "MACs", "test_ap50", "test_map", "test_froc", "wall_s")

ProgressCallback = Callable[[dict[str, Any]], Any]


@dataclass
class RetrainReport:
    """What :func:`retrain` returns.

    Attributes:
        run_dir: the run folder.
        dataset: the dataset name.
        genotype: the genotype that was retrained.
        skeleton: the skeleton it was stacked in.
        config: the training recipe.
        results: model name (``"searched"``, ``"resnet18"``) -> its :class:`TrainResult`.
        macs: model name -> multiply-accumulates of one image.
        models: model name -> the trained network (holding its kept, best-validation
            weights), to predict with or inspect.
        given: True when ``genotype`` was given to :func:`retrain` rather than the one
            the run's search returned (the report then labels it "given genotype").
        data_fingerprint: the fingerprint of the files the retrain read
            (:mod:`nasbench.data.fingerprint`; None for generated or downloaded sets), so
            the report can tell when they are not the ones the search read.
        splits: split name -> how many images it trained, chose or was tested on.
    """

    run_dir: Path
    dataset: str
    genotype: Genotype
    skeleton: Any
    config: TrainConfig
    given: bool = False
    data_fingerprint: str | None = None
    splits: dict[str, int] = field(default_factory=dict)
    results: dict[str, TrainResult] = field(default_factory=dict)
    macs: dict[str, int] = field(default_factory=dict)
    models: dict[str, nn.Module] = field(default_factory=dict, repr=False)

    def table(self) -> pd.DataFrame:
        """One row per model: model, params, MACs, test_acc, test_auc, wall_s
        (segmentation: test_dice and test_hd95 in place of ACC and AUC).

        Returns:
            A DataFrame, the searched network first.

        Example:
            >>> retrain("runs/x", TrainConfig(epochs=1)).table()  # doctest: +SKIP
        """
        segmentation = any("dice" in r.test for r in self.results.values())
        columns = SEGMENTATION_COLUMNS if segmentation else TABLE_COLUMNS
        if any("psnr" in r.test for r in self.results.values()):
            columns = RECONSTRUCTION_COLUMNS
        if any("ap50" in r.test for r in self.results.values()):
            columns = DETECTION_COLUMNS
        rows = []
        for name, result in self.results.items():
            row = {"model": name, "params": result.params, "MACs": self.macs[name]}
            row.update({c: result.test.get(c[len("test_") :]) for c in columns[3:-1]})
            rows.append({**row, "wall_s": result.wall_s})
        return pd.DataFrame(rows, columns=list(columns))

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary (what the ``retrain_finished`` event holds)."""
        return {
            "dataset": self.dataset,
            "genotype": self.genotype.to_dict() if hasattr(self.genotype, "to_dict") else None,
            "genotype_source": "given" if self.given else "searched",
            "skeleton": self.skeleton.to_dict(),
            "train_config": self.config.to_dict(),
            DATA_FINGERPRINT: self.data_fingerprint,
            "splits": dict(self.splits),
            "models": {
                name: {
                    "params": result.params,
                    "macs": self.macs[name],
                    "test": _finite(result.test),
                    "best_epoch": result.best_epoch,
                    "best_val": _finite(result.best_val),
                    "epochs_run": result.epochs_run,
                    "stopped": result.stopped,
                    "wall_s": result.wall_s,
                    "class_weight": result.class_weight,
                    "class_weight_reason": result.class_weight_reason,
                }
                for name, result in self.results.items()
            },
        }


def retrain(
    run_dir: str | Path,
    config: TrainConfig | None = None,
    baseline: bool | str | Sequence[str] = True,
    genotype: Genotype = None,
    skeleton: Any = None,
    on_epoch: ProgressCallback | None = None,
    download: bool | None = None,
) -> RetrainReport:
    """Retrain a run's final genotype from scratch (and a baseline) and record the results.

    Args:
        run_dir: a run folder with at least one derived genotype; no search may be
            writing it (the results are appended to its store).
        config: the recipe; ``TrainConfig()`` when None. ``config.limit`` caps the
            training and validation splits, ``config.test_limit`` the test split (None:
            all of it); the search's own ``dataset.limit`` is not inherited.
        baseline: True: the task's default baselines, trained with the same recipe
            (classification: ResNet-18 (28); segmentation: MONAI's U-Net, and the
            thresholding baseline scored; reconstruction: the zero-filled image scored,
            MONAI's U-Net and VarNet sized to the searched network's parameters); False
            or ``"none"``: none; or names, as a list or comma-separated text
            (classification ``"cnn"``, ``"resnet18"``; segmentation ``"unet"``,
            ``"threshold"``; reconstruction ``"zero-filled"``, ``"unet"``, ``"varnet"``).
        genotype: retrain this genotype (object, dict or text) instead of the one the
            run's search returned (its last, or the cell RobustDARTS's early stop went
            back to); the run records and the report label it as a given genotype.
        skeleton: a ``Skeleton`` to stack the cell in instead of the default (see the
            module docstring), or a dict of fields to change in the default, e.g.
            ``{"n_cells": 8, "channels": 16}``; the dataset always sets the input
            channels, classes and spatial dims.
        on_epoch: progress callback; gets each epoch's record plus ``model`` (the
            model name) and ``epochs``; returning ``False`` ends that model's training.
        download: fetch missing data files (None: as the search's ``dataset.download``).

    Returns:
        A :class:`RetrainReport`; ``.table()`` compares the models.

    Example:
        >>> report = retrain("runs/darts-1", TrainConfig(epochs=10))  # doctest: +SKIP
        >>> report.table()  # doctest: +SKIP
    """
    from nasbench.runs.store import announcing

    # From its first moment `nasbench runs` reads the run as retraining, not as its search
    # left it (the writer lock comes only once the data are loaded); the CLI announced it
    # already, and keeps its announcement.
    with announcing(run_dir, "retrain"):
        return _retrain(run_dir, config, baseline, genotype, skeleton, on_epoch, download)


def _retrain(
    run_dir: str | Path,
    config: TrainConfig | None,
    baseline: bool | str | Sequence[str],
    genotype: Genotype,
    skeleton: Any,
    on_epoch: ProgressCallback | None,
    download: bool | None,
) -> RetrainReport:
    """:func:`retrain`, once the run is announced."""
    from nasbench.config import check_task
    from nasbench.models import build
    from nasbench.models.costs import count_macs
    from nasbench.models.memory import must_fit_in_memory
    from nasbench.runs import RunStore
    from nasbench.spaces import space_from_dict

    config = (config or TrainConfig()).validate()
    run_dir = Path(run_dir)
    run_config, returned, info, environment = _recorded_search(run_dir)
    data = run_config["dataset"]
    if info.task not in (*CLASSIFICATION_TASKS, "segmentation", "detection", "reconstruction"):
        raise ConfigError(
            f"retrain needs a classification, segmentation, detection or reconstruction "
            f"dataset, but {info.name} is a {info.task} task."
        )
    space = space_from_dict(run_config.get("space") or {"name": "darts"})
    check_task(info, space)
    given = genotype is not None
    genotype = _genotype_to_train(run_dir, run_config, returned, genotype)
    skeleton = _skeleton(run_config, info, genotype, config, skeleton)
    check_recipe_fits(config, info.task, info.spatial_dims)
    wanted = _baselines(baseline, info.task)
    size = int(data.get("size", 28))
    input_shape = (1, info.in_channels, *([size] * info.spatial_dims))
    if download is not None:
        data = {**data, "download": bool(download)}

    sizes = {k: v for k, v in skeleton.to_dict().items() if k in ("n_cells", "channels", "depth")}

    def fits() -> Any:
        return must_fit_in_memory(
            "the retrained network",
            f"lower --cells/--channels (now {sizes}) or --batch-size {config.batch_size}",
        )

    with fits():  # a network too large to allocate is refused before the run records anything
        if info.task == "detection":
            probe = _seeded(config.seed, space.build, genotype, skeleton)
        else:
            probe = build(genotype, skeleton, seed=config.seed)
    # Batches of one image, refused before the run records anything (train_model checks
    # again against the split as loaded).
    refuse_batches_of_one(probe, min(config.batch_size, config.limit or config.batch_size))
    del probe

    # Before loading: a folder that gained a class may fail to load as the search's task.
    fingerprint = _data_fingerprint(run_dir, data, environment, info)
    with (
        RunStore.open(run_dir) as store,
        _retrain_events(store) as log_start,  # outside fits(): logs the error it words
        fits(),
        _replacing_curves(store, run_dir) as replaced,
    ):
        splits = _load_splits(data, config)
        if fingerprint is None and environment.get(DATA_FINGERPRINT) is not None:
            # Not there before loading: the load may have downloaded the same files.
            fingerprint = _data_fingerprint(run_dir, data, environment, info, loaded=True)
        report = RetrainReport(run_dir, info.name, genotype, skeleton, config, given=given)
        report.data_fingerprint = fingerprint
        report.splits = {name: len(ds) for name, ds in splits.items()}
        log_start(
            {
                "replaced_rows": replaced,
                "genotype": report.summary()["genotype"],
                "genotype_source": report.summary()["genotype_source"],
                "skeleton": skeleton.to_dict(),
                "train_config": config.to_dict(),
                "baseline": list(wanted),
                "splits": report.splits,
                DATA_FINGERPRINT: fingerprint,
            },
        )
        models: dict[str, Callable[[], nn.Module]] = {
            SEARCHED: lambda: build(genotype, skeleton, seed=config.seed)
        }
        if info.task == "detection":
            # The detector around the cells is the space's (alb), not the classifier's.
            models[SEARCHED] = lambda: _seeded(config.seed, space.build, genotype, skeleton)
            models.update(_detection_baselines(wanted, models[SEARCHED](), info, space, config))
        hand_designed = {
            BASELINE: resnet18,
            SMALL_CNN: small_cnn,
            SEGMENTATION_BASELINE: unet_for_size(size),
        }
        if info.task == "reconstruction":
            hand_designed = {}
            models.update(_reconstruction_baselines(wanted, models[SEARCHED](), skeleton, config))
        for name in (n for n in wanted if n in hand_designed):
            models[name] = lambda name=name: _seeded(
                config.seed,
                hand_designed[name],
                info.spatial_dims,
                info.in_channels,
                info.num_classes,
            )
        for name, make in models.items():
            model = make()
            report.macs[name] = count_macs(model, input_shape)
            result = train_model(
                model,
                splits["train"],
                splits["val"],
                splits["test"],
                info.task,
                config,
                on_epoch=_recorder(store, PHASES[name], name, on_epoch),
            )
            report.results[name] = result
            report.models[name] = model
            store.stage_metrics(
                result.epochs_run,
                result.best_epoch,
                PHASES[name],
                {
                    **{f"test_{k}": v for k, v in result.test.items()},
                    "params": result.params,
                    "macs": report.macs[name],
                    "wall_s": result.wall_s,
                    "best_epoch": result.best_epoch,
                },
            )
        if ZERO_FILLED in wanted:
            from nasbench.evaluation.recon_baselines import ZeroFilled

            test = evaluate_model(ZeroFilled(), splits["test"], info.task, config)
            report.results[ZERO_FILLED] = TrainResult([], test, 0, {}, 0, 0.0, config={})
            report.macs[ZERO_FILLED] = 0
            store.stage_metrics(
                0, 0, PHASES[ZERO_FILLED], {f"test_{k}": v for k, v in test.items()}
            )
        if THRESHOLD in wanted:
            report.results[THRESHOLD] = threshold_result(splits, info, config)
            report.macs[THRESHOLD] = 0
            store.stage_metrics(
                0,
                0,
                PHASES[THRESHOLD],
                {f"test_{k}": v for k, v in report.results[THRESHOLD].test.items()},
            )
        with store.batch():  # the new curves and the end that vouches for them, at once
            store.publish_staged(PHASES.values())
            store.log_event("retrain_finished", report.summary())
    return report


@contextlib.contextmanager
def _retrain_events(store: Any) -> Iterator[Callable[[dict[str, Any]], None]]:
    """Yield the call that logs ``retrain_started``; once it has, a retrain that ends
    without finishing (an error, Ctrl-C) logs ``retrain_failed`` with why, in one line.

    Its curves are dropped (:func:`_replacing_curves`), so without that event the report
    would show the retrain before it as the latest. A kill no handler sees (SIGKILL, the
    out-of-memory killer) logs nothing.
    """
    started = False

    def log_start(payload: dict[str, Any]) -> None:
        nonlocal started
        store.log_event("retrain_started", payload)
        started = True

    try:
        yield log_start
    except BaseException as err:
        if started:
            interrupted = isinstance(err, KeyboardInterrupt)
            reason = "interrupted (Ctrl-C)" if interrupted else status_reason(err)
            with contextlib.suppress(Exception):  # the store may be what failed: keep `err`
                store.log_event("retrain_failed", {"error": reason})
        raise


@contextlib.contextmanager
def _replacing_curves(store: Any, run_dir: Path) -> Iterator[int]:
    """Hold this retrain's curves apart until it finishes (yielding how many rows of the
    earlier retrain they will replace); drop them when it does not finish (Ctrl-C, an error).

    A run keeps the curves of its latest finished retrain (each one's summary stays in its
    retrain_finished event): rows of two retrains would otherwise mix under the same
    epochs, and an unfinished retrain's partial curves would stand next to the earlier
    retrain's table in the report. So every row is staged (``RunStore.stage_metrics``) and
    replaces the earlier ones only in the transaction that logs ``retrain_finished``; the
    earlier rows are never touched before, so a kill that no handler sees (SIGKILL, the
    out-of-memory killer) leaves them, and the staged rows it leaves are cleared here.
    """
    from nasbench.runs import load

    with load(run_dir) as run:
        replaced = int(run.history["phase"].isin(set(PHASES.values())).sum())
    store.clear_staged()  # a killed retrain's rows: it published none of them
    try:
        yield replaced
    except BaseException:
        # Tidiness only (no reader reads them, the next retrain clears them): a failure
        # here must not hide the error that ended the retrain.
        with contextlib.suppress(Exception):
            store.clear_staged()
        raise


def retrained_network(
    run_dir: str | Path,
    config: TrainConfig | None = None,
    genotype: Genotype = None,
    skeleton: Any = None,
) -> nn.Module:
    """The network :func:`retrain` would train for a run's cell, built but not trained.

    Use it to size a retraining before paying for it, e.g. the widest skeleton under a
    parameter budget.

    Args:
        run_dir: a run folder with at least one derived genotype.
        config: the recipe (its ``auxiliary_weight`` decides DARTS's auxiliary head and
            its ``seed`` the initial weights); ``TrainConfig()`` when None.
        genotype: this genotype instead of the run's last.
        skeleton: a ``Skeleton`` or a dict of fields to change, as :func:`retrain` takes.

    Returns:
        The untrained module (classification and segmentation spaces).

    Example:
        >>> grown = {"n_cells": 8, "channels": 14}
        >>> net = retrained_network("runs/darts-1", skeleton=grown)  # doctest: +SKIP
        >>> count_parameters(net)  # doctest: +SKIP
        281234
    """
    from nasbench.models import build

    config = (config or TrainConfig()).validate()
    run_dir = Path(run_dir)
    run_config, returned, info, _ = _recorded_search(run_dir)
    genotype = _genotype_to_train(run_dir, run_config, returned, genotype)
    skeleton = _skeleton(run_config, info, genotype, config, skeleton)
    return build(genotype, skeleton, seed=config.seed)


def widest_channels(
    run_dir: str | Path,
    config: TrainConfig | None = None,
    max_params: int = 300_000,
    n_cells: int | None = None,
    start: int = 1,
    genotype: Genotype = None,
) -> int:
    """The widest initial channel count C at which a run's cell retrains within a budget.

    The network is the one :func:`retrain` builds (auxiliary head included when the
    recipe has one, but not counted, as the report counts). Parameters grow with C, so
    the widths are searched by doubling, then bisection: a few builds, no training.

    Args:
        run_dir: a run folder with at least one derived genotype.
        config: the recipe; ``TrainConfig()`` when None.
        max_params: the parameter budget.
        n_cells: cells of the retrained network (None: as searched).
        start: the narrowest width considered; returned even when over the budget, so a
            cell too large at any width still retrains (check the report's parameters).
        genotype: size this genotype instead of the run's last.

    Returns:
        The channel count.

    Example:
        >>> widest_channels("runs/darts-1", max_params=300_000, n_cells=8)  # doctest: +SKIP
        21
    """
    from nasbench.models.costs import count_parameters

    def fits(channels: int) -> bool:
        skeleton = {"channels": channels, **({"n_cells": n_cells} if n_cells else {})}
        network = retrained_network(run_dir, config, genotype=genotype, skeleton=skeleton)
        return count_parameters(network) <= max_params

    low = max(1, int(start))
    if not fits(low + 1):
        return low
    high = low + 1
    while fits(2 * high):
        high *= 2
    low, high = high, 2 * high  # fits(low), not fits(high)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    return low


def check_recipe_fits(config: TrainConfig, task: str, spatial_dims: int) -> None:
    """Refuse a recipe setting that this task's training loss would silently ignore, or
    that training would refuse only after the run's previous retrain curves are discarded.

    ``seg_loss`` shapes the segmentation loss only; ``label_smoothing`` and a
    ``"balanced"`` ``class_weight`` the classification loss only. Asked for on another
    task they would change nothing, while the person believes they did. Label smoothing
    has no meaning for independent labels, and the test-time flip mirrors 2D images only.
    """
    if task == "multi-label" and config.label_smoothing:
        raise ConfigError(
            f"label_smoothing={config.label_smoothing!r} is for single-label tasks, but the "
            "data is multi-label; leave it (--label-smoothing) at 0."
        )
    if spatial_dims != 2 and config.tta_flip:
        raise ConfigError(
            f"tta_flip mirrors 2D images, but the data is {spatial_dims}D; leave it "
            "(--tta-flip) off."
        )
    ignored = []
    if task != "segmentation" and config.seg_loss != TrainConfig.seg_loss:
        ignored.append(("seg_loss", config.seg_loss, "segmentation"))
    if task not in CLASSIFICATION_TASKS:
        if config.label_smoothing:
            ignored.append(("label_smoothing", config.label_smoothing, "classification"))
        if config.class_weight == "balanced":
            ignored.append(("class_weight", config.class_weight, "classification"))
        if config.tta_flip:
            ignored.append(("tta_flip", config.tta_flip, "classification"))
    if ignored:
        name, value, kind = ignored[0]
        raise ConfigError(
            f"{name}={value!r} applies to {kind} runs only, but this run's data is a {task} "
            f"task; leave --{name.replace('_', '-')} at its default."
        )


def _baselines(baseline: bool | str | Sequence[str] | None, task: str) -> tuple[str, ...]:
    """The baselines ``retrain`` runs for a task: the defaults, none, or those named."""
    family = task if task in ("segmentation", "detection", "reconstruction") else "classification"
    available = AVAILABLE_BASELINES[family]
    if baseline is True:
        return DEFAULT_BASELINES[family]
    if baseline is False or baseline is None:
        return ()
    names = baseline.split(",") if isinstance(baseline, str) else list(baseline)
    # Names are lower case: "NONE" or "ResNet18" mean none and resnet18.
    names = [str(name).strip().lower() for name in names if str(name).strip()]
    if names == ["none"]:
        return ()
    if "none" in names:
        raise ConfigError(
            f"baselines {baseline!r} name none next to others; give none alone for no "
            f"baseline, or only names from {', '.join(available)}."
        )
    if not names and isinstance(baseline, str):  # "" or "," (an empty list means none)
        raise ConfigError(
            f"no baseline named in {baseline!r}; name some from {', '.join(available)}, or "
            "none for no baseline."
        )
    for name in names:
        if name not in available:
            raise ConfigError(
                f"baseline {name!r} does not fit a {task} run; name some from "
                f"{', '.join(available)}, or none.{closest_name(name, available)}"
            )
    return tuple(dict.fromkeys(names))


def _detection_baselines(
    wanted: tuple[str, ...], searched: nn.Module, info: Any, space: Any, config: TrainConfig
) -> dict[str, Callable[[], nn.Module]]:
    """The fixed-backbone detector, sized to the searched detector's parameter count."""
    from nasbench.models.costs import count_parameters

    target = count_parameters(searched)
    if RESNET_DETECTOR not in wanted:
        return {}
    return {
        RESNET_DETECTOR: lambda: _seeded(
            config.seed,
            matched_resnet_detector,
            target,
            info.in_channels,
            info.num_classes,
            space.head_width,
        )
    }


def _reconstruction_baselines(
    wanted: tuple[str, ...], searched: nn.Module, skeleton: Any, config: TrainConfig
) -> dict[str, Callable[[], nn.Module]]:
    """U-Net and VarNet factories sized to the searched network's parameter count."""
    from nasbench.evaluation.recon_baselines import TRAINED_BASELINES, matched_baseline
    from nasbench.models.costs import count_parameters

    target = count_parameters(searched)
    return {
        name: lambda name=name: matched_baseline(name, target, skeleton.cascades, config.seed)
        for name in wanted
        if name in TRAINED_BASELINES
    }


def threshold_result(splits: Mapping[str, Any], info: Any, config: TrainConfig) -> TrainResult:
    """Fit :class:`IntensityThresholds` on the training split, score it on val and test.

    Args:
        splits: ``train``, ``val`` and ``test`` datasets of a segmentation set.
        info: the dataset's info.
        config: the recipe (its ``limit`` already applied, its ``roi_size`` for volumes).

    Returns:
        A :class:`TrainResult` with no history and no parameters.
    """
    import time

    from nasbench.evaluation.tasks import task_of_info

    start = time.perf_counter()
    images, masks = _stack_all(splits["train"])
    model = IntensityThresholds(info.num_classes).fit(images, masks)
    task = task_of_info(info, config.roi_size)
    val = evaluate_model(model, splits["val"], task, config)
    test = evaluate_model(model, splits["test"], task, config)
    return TrainResult([], test, 0, val, 0, time.perf_counter() - start, config=config.to_dict())


def _stack_all(dataset: Any) -> tuple[torch.Tensor, torch.Tensor]:
    items = [dataset[i] for i in range(len(dataset))]
    return torch.stack([x for x, _ in items]), torch.stack([y for _, y in items])


def _recorded_search(
    run_dir: Path,
) -> tuple[dict[str, Any], pd.Series | None, Any, dict[str, Any]]:
    """The run's config, the genotype row its search returned (None when it derived none
    yet), its dataset's info and its recorded environment; one line if no search."""
    from nasbench.data import get_info
    from nasbench.data.folder_reading import warn_if_split_changed
    from nasbench.runs import load
    from nasbench.runs.returned import returned_genotype_row

    with load(run_dir) as run:
        run_config, environment = run.config, run.environment
        returned = returned_genotype_row(run.genotypes, run.events)
    data = run_config.get("dataset") or {}
    if "name" not in data:
        raise ConfigError(f"run '{run_dir}' records no dataset; it was not written by a search.")
    warn_if_split_changed(data["name"], environment, run_dir)
    return run_config, returned, get_info(data["name"]), environment


def _data_fingerprint(
    run_dir: Path,
    data: Mapping[str, Any],
    environment: Mapping[str, Any],
    info: Any,
    loaded: bool = False,
) -> str | None:
    """The fingerprint of the files the retrain reads; warns in one line when they are not
    the files the search recorded, as a resume does: the test figures are then the cell's
    on other data, not the searched cell's on the searched data. Files that are not there
    before loading (``loaded`` False) are not warned about: the load may download the
    very same ones, so the caller asks again once it has loaded."""
    from nasbench.data.fingerprint import data_change

    size = int(data.get("size", 28))
    recorded = environment.get(DATA_FINGERPRINT)
    now, what = data_change(recorded, data["name"], size, data.get("root"))
    if now is not None and recorded is not None and what is None:
        # The search's files: recorded as the search recorded them (an older run's
        # fingerprint also hashed notes beside the images), so the report sees one.
        return recorded
    if what is not None and (now is not None or loaded):
        names = f": {', '.join(map(repr, info.class_names))}" if info.class_names else ""
        warnings.warn(
            f"the files of run '{run_dir}''s dataset {data['name']} {what} since its search "
            f"ran (it has {info.num_classes} classes now{names}), so this retrain trains and "
            "tests the cell on other data than it was searched on; the report says so next to "
            "its figures. Restore the data to retrain the searched cell, or search again.",
            UserWarning,
            stacklevel=3,
        )
    return now


def _final_genotype(
    run_dir: Path, returned: pd.Series | None, run_config: Mapping[str, Any]
) -> Any:
    if returned is None:
        raise ConfigError(f"{_no_genotype_yet(run_dir, run_config)}, or give one (genotype= "
                          "in Python, --genotype on the command line).")  # fmt: skip
    if returned["genotype"] is not None:
        return returned["genotype"]
    return _parse(returned["genotype_json"])


def _genotype_to_train(
    run_dir: Path, run_config: Mapping[str, Any], returned: pd.Series | None, given: Any
) -> Any:
    """The genotype the run's search returned, or ``given``: a cell of another size than searched
    is fine (DARTS_V2 on a small run), one of another kind cannot build, and the run's
    space says why in one line."""
    from nasbench.spaces import space_from_dict

    if given is None:
        return _final_genotype(run_dir, returned, run_config)
    genotype = _parse(given)
    space = space_from_dict(run_config.get("space") or {"name": "darts"})
    searched_kind = getattr(space.sample(np.random.default_rng(0)), "kind", None)
    if getattr(genotype, "kind", None) != searched_kind:
        space.validate(genotype)
    return genotype


def _parse(genotype: Genotype) -> Any:
    from nasbench.spaces import parse_genotype
    from nasbench.spaces.genotype import genotype_from_dict

    if isinstance(genotype, str):
        return parse_genotype(genotype)
    if isinstance(genotype, Mapping):
        return genotype_from_dict(dict(genotype))
    return genotype


def _skeleton(
    run_config: Mapping[str, Any], info: Any, genotype: Genotype, config: TrainConfig, override: Any
) -> Any:
    """The skeleton to stack the cell in; the dataset always sets what goes in and out.

    A ``Skeleton`` replaces the default; a dict changes some of the default's fields.
    """
    from nasbench.spaces import space_from_dict
    from nasbench.spaces.recon import ReconSkeleton
    from nasbench.spaces.skeleton import Skeleton, UNetSkeleton

    io = {
        "in_channels": info.in_channels,
        "num_classes": info.num_classes,
        "spatial_dims": info.spatial_dims,
    }
    if isinstance(override, (Skeleton, UNetSkeleton, ReconSkeleton)):
        return dataclasses.replace(override, **io)
    if override is not None and not isinstance(override, Mapping):
        raise ConfigError(
            f"skeleton must be a Skeleton or a dict of its fields, got {type(override).__name__}."
        )
    space = dict(run_config.get("space") or {"name": "darts"})
    space["skeleton"] = {**(space.get("skeleton") or {}), **io}
    default = space_from_dict(space).default_skeleton()
    if isinstance(default, (UNetSkeleton, ReconSkeleton)) and "n_cells" in dict(override or {}):
        # A U-Net's depth is its resolution levels and an unrolled network's its cascades:
        # neither is a count of stacked cells, so --cells is not guessed into either.
        keys = "depth, channels" if isinstance(default, UNetSkeleton) else "cascades, cells"
        raise ConfigError(
            f"--cells (n_cells) counts the cells of a stacked-cell network, but this run's "
            f"{type(default).__name__} has none; leave it out, or give skeleton={{...}} with "
            f"{keys} in Python (nasbench.evaluation.final_evaluation.retrain)."
        )
    if isinstance(default, UNetSkeleton):
        return UNetSkeleton.from_dict({**default.to_dict(), **dict(override or {}), **io})
    if isinstance(default, ReconSkeleton):
        return ReconSkeleton.from_dict({**default.to_dict(), **dict(override or {}), **io})
    # DARTS's evaluation adds the auxiliary head; NB-201 and chain networks have none.
    auxiliary = getattr(genotype, "kind", None) == "darts" and config.auxiliary_weight > 0
    auxiliary = auxiliary and getattr(space_from_dict(space), "task", "") != "detection"
    changes: dict[str, Any] = {"auxiliary": auxiliary, "drop_path_prob": 0.0}
    if override:
        # Default reduction positions follow a new depth, not the searched one.
        if "n_cells" in override and "reduction_at" not in override:
            changes["reduction_at"] = None
        changes.update(override)
    return Skeleton.from_dict({**default.to_dict(), **changes, **io})


# Seeds the stratified --limit / --test-limit subsets of a retrain, whatever its seed.
LIMIT_SEED = 0


def _load_splits(data: Mapping[str, Any], config: TrainConfig) -> dict[str, Any]:
    from nasbench.data import load

    common = {
        "root": data.get("root"),
        "size": int(data.get("size", 28)),
        "download": bool(data.get("download", True)),
        # One draw of the --limit subsets for every training seed: a spread over seeds is
        # then the training's alone, not also a change of images.
        "seed": LIMIT_SEED,
    }
    # A quick retrain subsamples training and validation; its test figures still come
    # from the whole test split unless test_limit says otherwise.
    limits = {"train": config.limit, "val": config.limit, "test": config.test_limit}
    # Augmentation happens per batch in train_model (seeded by epoch), so every split
    # is loaded with the plain normalisation.
    return {
        split: load(data["name"], split, limit=limit, **common) for split, limit in limits.items()
    }


def unet_for_size(
    size: int, widths: tuple[int, ...] = (16, 32, 64, 128)
) -> Callable[..., nn.Module]:
    """MONAI's U-Net baseline with as many stride-2 levels (at most ``len(widths) - 1``)
    as ``size`` halves evenly, so a 28-px image (28 = 4 x 7) gets two levels, not three.

    Args:
        size: the images' edge length.
        widths: channels per level, top first.

    Returns:
        A ``unet(spatial_dims, in_channels, num_classes)`` factory.

    Example:
        >>> unet_for_size(28)(2, 1, 2)(torch.zeros(1, 1, 28, 28)).shape
        torch.Size([1, 2, 28, 28])
    """
    levels = 0
    while levels < len(widths) - 1 and size % 2 ** (levels + 1) == 0:
        levels += 1
    if levels == 0:
        raise ConfigError(
            f"the U-Net baseline halves the image at least once, but the run's size {size} "
            "is odd; retrain with baseline 'threshold' or search at an even size."
        )
    return functools.partial(unet, channels=widths[: levels + 1])


def _seeded(seed: int, factory: Callable[..., nn.Module], *args: Any) -> nn.Module:
    """Build a model with seeded initial weights, leaving the global RNG as it was."""
    with seeded(seed):
        return factory(*args)


def _recorder(
    store: Any, phase: str, name: str, on_epoch: ProgressCallback | None
) -> ProgressCallback:
    """Stage each epoch in the store (step = epochs done), then pass it on."""

    def record(epoch_record: dict[str, Any]) -> Any:
        epoch = int(epoch_record["epoch"])
        metrics = {
            k: v
            for k, v in epoch_record.items()
            if k not in ("epoch", "epochs") and isinstance(v, (int, float))
        }
        store.stage_metrics(epoch + 1, epoch, phase, metrics)
        if on_epoch is not None:
            return on_epoch({**epoch_record, "model": name})
        return None

    return record


def _finite(metrics: Mapping[str, float]) -> dict[str, float | None]:
    # JSON has no NaN; an undefined AUC (one class only) is stored as null.
    return {k: (float(v) if math.isfinite(v) else None) for k, v in metrics.items()}


# ------------------------------------------------------------------------------ CLI


def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``nasbench retrain`` arguments to ``parser``; its help shows every default.

    Args:
        parser: the subcommand's parser.

    Returns:
        None.

    Example:
        >>> p = argparse.ArgumentParser(); add_cli_arguments(p)
        >>> p.parse_args(["runs/x", "--epochs", "3"]).epochs
        3
    """
    default = TrainConfig()
    parser.formatter_class = argparse.ArgumentDefaultsHelpFormatter
    parser.description = (
        "Train a run's derived genotype from scratch, next to hand-designed baselines "
        "trained with the same recipe, and print their test figures. Baselines: "
        "classification cnn (a 3-block CNN, ~94K parameters) and resnet18 (ResNet-18 (28), "
        "11M parameters, most of the CPU time), default resnet18; segmentation unet and "
        "threshold, default both; reconstruction zero-filled, unet and varnet, default all; "
        "detection resnet-detector (the same detector on a ResNet-style backbone of the "
        "searched one's size), default it."
    )
    parser.epilog = (
        f"Fixed parts of the recipe: momentum {default.momentum}, weight decay "
        f"{default.weight_decay:g}, cosine schedule to {default.lr_min:g}, gradient clip "
        f"{default.grad_clip:g}, drop-path {default.drop_path_prob:g}, auxiliary head weight "
        f"{default.auxiliary_weight:g} (DARTS cells); the epoch with the best validation "
        f"{default.select.upper()} is kept (its weight average with --ema-decay) and scored "
        "on the test split. Unlike DARTS's recipe there is no cutout, and the last "
        "incomplete batch of an epoch is dropped."
    )
    parser.add_argument("run_dir", metavar="RUN", help="run folder written by a search")
    parser.add_argument("--epochs", type=int, default=default.epochs, help="training epochs")
    parser.add_argument(
        "--batch-size", type=int, default=default.batch_size, help="images per step"
    )
    parser.add_argument(
        "--lr", type=float, default=default.lr, help="initial learning rate (cosine schedule)"
    )
    parser.add_argument(
        "--optimizer", default=default.optimizer, help="sgd, or adam (reconstruction's usual)"
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help="at most N training and N validation images (quick runs); the test split stays whole",
    )
    parser.add_argument(
        "--test-limit", type=int, default=None, help="at most N test images; None: all"
    )
    parser.add_argument(
        "--cells",
        type=int,
        default=None,
        help="cells in the network (stacked-cell networks only); None: as searched",
    )
    parser.add_argument(
        "--channels", type=int, default=None, help="initial channels C; None: as searched"
    )
    parser.add_argument(
        "--max-params",
        type=int,
        default=None,
        help="retrain at the widest C whose network has at most N parameters (instead of "
        "--channels; pairs with a search's cost_weight); None: off",
    )
    parser.add_argument(
        "--genotype",
        default=None,
        help="retrain this genotype (JSON or DARTS text); None: the run's last",
    )
    parser.add_argument(
        "--baselines",
        default="default",
        help="comma-separated baselines to train next to the searched network "
        "(e.g. cnn,resnet18), 'none', or 'default' (the task's, listed above)",
    )
    parser.add_argument("--no-baseline", action="store_true", help="same as --baselines none")
    parser.add_argument(
        "--no-augment",
        action="store_true",
        help="no training augmentation (flip/crop; box-aware for detection)",
    )
    parser.add_argument(
        "--class-weight",
        default=default.class_weight,
        choices=("auto", "none", "balanced"),
        help="'balanced' weighs the training loss by inverse class frequency (skewed sets); "
        "'auto' does so for a volume set with skewed training labels and prints its choice "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--label-smoothing",
        type=float,
        default=default.label_smoothing,
        help="cross-entropy label smoothing in [0, 1) (default: %(default)s)",
    )
    parser.add_argument(
        "--seg-loss",
        default=default.seg_loss,
        choices=("dicece", "dicece_batch"),
        help="segmentation training loss; 'dicece_batch' takes each class's Dice over the "
        "batch (small, rare classes) (default: %(default)s)",
    )
    parser.add_argument(
        "--ema-decay",
        type=float,
        default=default.ema_decay,
        help="0: off; else the per-step decay of a moving average of the weights that is "
        "scored and kept instead of the raw weights, for every model alike "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--tta-flip",
        action="store_true",
        help="2D classification: score each image with its horizontal mirror, logits "
        "averaged, for every model alike",
    )
    add_no_download_flag(parser)
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--precision", default="fp32", help="fp32 or bf16 (CUDA)")
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seeds weights, batch order, augmentation (the --limit subsets are the same "
        "for every seed)",
    )


def cli_main(args: argparse.Namespace) -> int:
    """Run ``nasbench retrain`` from parsed arguments; print progress and the table.

    Args:
        args: what :func:`add_cli_arguments`'s parser returned.

    Returns:
        0 on success (bad input raises a NasbenchError, which the CLI prints).

    Example:
        >>> p = argparse.ArgumentParser(); add_cli_arguments(p)  # doctest: +SKIP
        >>> cli_main(p.parse_args(["runs/x", "--epochs", "1"]))  # doctest: +SKIP
        0
    """
    config = validated_as_flags(
        TrainConfig(
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            optimizer=args.optimizer,
            limit=args.limit,
            test_limit=args.test_limit,
            augment=not args.no_augment,
            device=args.device,
            precision=args.precision,
            seed=args.seed,
            class_weight=args.class_weight,
            label_smoothing=args.label_smoothing,
            seg_loss=args.seg_loss,
            ema_decay=args.ema_decay,
            tta_flip=args.tta_flip,
        )
    )
    channels = args.channels
    if args.max_params is not None:
        channels = _channels_within(args, config)
    changes = {"n_cells": args.cells, "channels": channels}
    skeleton = {k: v for k, v in changes.items() if v is not None} or None
    if args.no_baseline and args.baselines not in ("default", "none"):  # "none" agrees
        raise ConfigError(
            f"--no-baseline and --baselines {args.baselines} contradict each other; give one."
        )
    baselines = True if args.baselines == "default" else args.baselines
    if args.genotype is None:
        _note_unfinished(args.run_dir)
    report = retrain(
        args.run_dir,
        config,
        baseline=False if args.no_baseline else baselines,
        genotype=args.genotype,
        skeleton=skeleton,
        on_epoch=_print_progress,
        download=False if args.no_download else None,
    )
    reasons = {r.class_weight_reason for r in report.results.values() if r.class_weight_reason}
    for reason in sorted(reasons):
        print(f"training loss: {reason}")
    print(report.table().to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    return 0


def _search_state(run_dir: str | Path) -> str:
    """The run's status as a retrain sees it: ``killed`` for a search whose process is
    gone without a last word."""
    from nasbench.runs.store import run_status, writer_alive

    status = run_status(run_dir)
    if status in ("created", "running", "stopping") and writer_alive(run_dir) is False:
        return "killed"
    return status


def _discrete(run_config: Mapping[str, Any]) -> bool:
    """True for a run of a discrete search (its cell is its best candidate, not one
    derived at the end of an epoch)."""
    from nasbench import registry

    try:
        return registry.get("strategy", str(run_config.get("strategy", "darts"))).kind == "discrete"
    except NasbenchError:  # a strategy its module registers, not imported here
        return False


def _no_genotype_yet(run_dir: str | Path, run_config: Mapping[str, Any]) -> str:
    """Why a run has no cell to retrain, and how it could get one (the start of the
    one-line error): a search still running can derive one, a stopped one once resumed;
    a failed or killed one that derived none never will."""
    unit = "evaluate a candidate" if _discrete(run_config) else "finish an epoch"
    status = _search_state(run_dir)
    if status == "stopped":
        how = f"resume it (nasbench resume {run_dir}) to let it {unit}"
    elif status in ("failed", "killed"):
        how = f"its search ended before it could {unit}; start a new search"
    else:
        how = f"let the search {unit}"
    return f"run '{run_dir}' is {status} and has no derived genotype yet; {how}"


def _note_unfinished(run_dir: str) -> None:
    """Say so when the cell to retrain comes from a search that did not finish (and
    derived one: without, the retrain's own one-line error says what to do)."""
    from nasbench.runs import load
    from nasbench.runs.returned import returned_genotype_row

    status = _search_state(run_dir)
    if status not in ("stopped", "failed", "killed"):
        return
    with load(run_dir) as run:
        if returned_genotype_row(run.genotypes, run.events) is None:
            return
        which = (
            "the best candidate its search evaluated"
            if _discrete(run.config)
            else "the last cell its search derived (at the end of an epoch)"
        )
    print(f"note: run '{run_dir}' is {status}, not finished; retraining {which}.")


def _channels_within(args: argparse.Namespace, config: TrainConfig) -> int:
    """``--max-params``: the widest width within the budget, or a one-line error."""
    from nasbench.models.costs import count_parameters

    if args.channels is not None:
        raise ConfigError("Give --channels or --max-params, not both.")
    if args.max_params < 1:
        raise ConfigError(f"--max-params must be a positive count, got {args.max_params}.")
    channels = widest_channels(args.run_dir, config, args.max_params, n_cells=args.cells,
                               genotype=args.genotype)  # fmt: skip
    skeleton = {"channels": channels, **({"n_cells": args.cells} if args.cells else {})}
    network = retrained_network(args.run_dir, config, genotype=args.genotype, skeleton=skeleton)
    if count_parameters(network) > args.max_params:
        raise ConfigError(
            f"No width fits --max-params {args.max_params}: at C=1 the network has "
            f"{count_parameters(network)} parameters; raise it or pass fewer --cells."
        )
    print(f"retraining at C={channels}: the widest within {args.max_params} parameters")
    return channels


# The validation scores a retrain prints each epoch, as the task records them.
PROGRESS_SCORES = ("val_acc", "val_auc", "val_dice", "val_psnr", "val_ssim", "val_ap50", "val_froc")


def _print_progress(record: dict[str, Any]) -> None:
    scores = "  ".join(f"{name} {record[name]:.4f}" for name in PROGRESS_SCORES if name in record)
    print(
        f"{record['model']:<9} epoch {record['epoch'] + 1}/{record['epochs']}  "
        f"train_loss {record['train_loss']:.4f}  {scores}  {record['seconds']:.1f}s",
        flush=True,
    )
