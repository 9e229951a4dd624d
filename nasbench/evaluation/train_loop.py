"""Train a network from scratch: one reusable loop for classifiers and segmenters.

This is the optimisation of DARTS's evaluation recipe (``train.py`` of quark0/darts): SGD
with momentum 0.9 and cosine annealing, gradient clipping, an optional auxiliary head
weighted into the loss, and drop-path whose probability rises linearly over the epochs.
Its data side is lighter: flips and crops but no cutout, batches of 64 (DARTS: 96) with
the last incomplete batch dropped, and 10 epochs by default (DARTS: 600), sized for
MedMNIST on a CPU. The model with the best validation score (ties: the lower validation
loss) is kept and scored on the test split. On request (``ema_decay``, ``tta_flip``) what
is scored and kept is a moving average of the weights, and each 2D image is scored with its
mirror; both are off by default. The retraining stage
(:mod:`nasbench.evaluation.final_evaluation`) and the full/partial-training evaluators
reuse :func:`train_model` as is.

What the task decides (the loss, the metrics, how a volume is predicted) comes from
a task object (:mod:`nasbench.evaluation.tasks`): classification as MedMNIST scores
it (ACC, AUC), segmentation as MONAI does (DiceCE loss, Dice per class, HD95,
sliding-window inference for volumes).

Batches come from :class:`~nasbench.data.batches.EpochBatches` and the
augmentation (box-aware for detection) is drawn from a generator keyed by
(seed, epoch, batch), so on the CPU the same seed gives the same weights and
metrics, and the global torch RNG is left as it was.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from nasbench.config import MAX_INT
from nasbench.data.batches import EpochBatches
from nasbench.data.box_augment import augment_detection_batch
from nasbench.data.transforms import BatchAugment
from nasbench.device import autocast, resolve_device, seeded, warn_if_bf16_falls_back
from nasbench.errors import ConfigError, DivergenceError, closest_name
from nasbench.evaluation.metrics import AUTO, CLASS_WEIGHTS, resolve_class_weight, training_loss
from nasbench.evaluation.segmentation import segmentation_loss
from nasbench.evaluation.tasks import Task, task_for, task_of_info
from nasbench.models.costs import count_parameters

SELECT_METRICS = ("auc", "acc", "loss", "dice", "psnr", "ssim")
OPTIMIZERS = ("sgd", "adam")
PRECISIONS = ("fp32", "bf16")
SEG_LOSSES = ("dicece", "dicece_batch")
# Keeps the training and evaluation streams of one seed apart from the search's (0 and 1).
TRAIN_STREAM = 2
# Padding of the random crop, in pixels; DARTS pads 32x32 CIFAR by 4, 28x28 images get 2.
CROP_PADDING = 2
# Evaluation splits up to this size are held in memory as one tensor.
EVAL_CACHE_BYTES = 1 << 30

EpochCallback = Callable[[dict[str, Any]], Any]


@dataclass
class TrainConfig:
    """How a network is trained from scratch.

    Attributes:
        epochs: passes over the training split.
        batch_size: images per step (the last incomplete batch of an epoch is dropped).
        lr: initial learning rate, annealed to ``lr_min`` with a cosine schedule over
            ``epochs``.
        lr_min: final learning rate.
        momentum: SGD momentum.
        optimizer: ``sgd`` (with ``momentum``, the DARTS recipe) or ``adam`` (the usual
            segmentation recipe, as in MONAI's tutorials).
        weight_decay: L2 penalty.
        grad_clip: clip the gradient norm to this (0 disables clipping).
        auxiliary_weight: weight of the auxiliary head's loss when the model has one
            (DARTS: 0.4); 0 also tells :func:`~nasbench.evaluation.final_evaluation.retrain`
            to build the network without the head.
        drop_path_prob: the drop-path probability the schedule rises towards: epoch ``e``
            (from 0) uses ``drop_path_prob * e / epochs``, as DARTS (so the last epoch
            uses ``drop_path_prob * (epochs - 1) / epochs``, and a 1-epoch run none).
            Models without a ``drop_path_prob`` attribute ignore it.
        augment: drawn per batch from the seed, on the training split only. 2D
            classification: random horizontal flip and a random crop after padding by
            ``CROP_PADDING`` pixels. Detection: flips, quarter turns, zoom/shift and
            intensity jitter that move the boxes with the pixels
            (:func:`~nasbench.data.box_augment.augment_detection_batch`). Segmentation
            (2D and 3D): axis flips and quarter turns that move the mask too
            (:class:`~nasbench.data.transforms.BatchAugment`).
        limit: stratified cap on the images of the training and validation splits, for
            quick runs (read by the callers that load data; :func:`train_model` takes
            datasets as given).
        test_limit: stratified cap on the test split (None: the whole split, so quick
            runs are still scored on every test image).
        select: validation score that picks the kept epoch: ``auc`` (as MedMNIST),
            ``acc``, ``dice`` or ``loss``; a segmentation task keeps the best ``dice``
            unless this is ``loss``.
        roi_size: segmentation: evaluate by sliding windows of this edge (None: the
            whole image; volumes always go through MONAI's sliding-window inferer).
        eval_batch_size: images per forward pass when evaluating.
        device: ``auto`` (CUDA when present), ``cpu`` or ``cuda``.
        precision: ``fp32`` or ``bf16`` (autocast on CUDA only).
        seed: seeds batch order, augmentation and drop-path (a retrain's ``limit`` subsets
            are one draw for every seed).
        class_weight: classification: ``"balanced"`` weighs the training loss by inverse
            class frequency of the training split (skewed sets, e.g. the 3D ones),
            ``"none"``, or ``"auto"`` (the default): ``"balanced"`` for a volume set whose
            training labels are skewed, ``"none"`` otherwise
            (:func:`~nasbench.evaluation.metrics.resolve_class_weight`; the choice is in
            :attr:`TrainResult.class_weight`). Validation and test losses stay unweighted.
        label_smoothing: classification: cross-entropy label smoothing in [0, 1).
        seg_loss: segmentation training loss: ``dicece`` (MONAI's ``DiceCELoss``, Dice
            per image) or ``dicece_batch`` (Dice per class over the whole batch, kinder to
            small, rare structures). Validation and test losses stay ``dicece``.
        ema_decay: 0 (off) or the per-step decay in (0, 1) of an exponential moving
            average of the weights (parameters and BatchNorm statistics, as timm's
            ``ModelEmaV2``), with the usual warm-up ``min(decay, (1 + t) / (10 + t))`` at
            step ``t``. When on, the average is what is scored on validation each epoch,
            kept, and scored on test; the raw weights only train.
        tta_flip: 2D classification: score each image as the mean of the logits of it
            and its horizontal mirror (the training augmentation flips, so the mirror is
            in distribution); validation and test alike. Needs ``augment``.

    Example:
        >>> TrainConfig(epochs=2).validate().epochs
        2
    """

    epochs: int = 10
    batch_size: int = 64
    lr: float = 0.025
    lr_min: float = 0.0
    momentum: float = 0.9
    optimizer: str = "sgd"
    weight_decay: float = 3e-4
    grad_clip: float = 5.0
    auxiliary_weight: float = 0.4
    drop_path_prob: float = 0.2
    augment: bool = True
    limit: int | None = None
    test_limit: int | None = None
    select: str = "auc"
    roi_size: int | None = None
    eval_batch_size: int = 256
    device: str = "auto"
    precision: str = "fp32"
    seed: int = 0
    class_weight: str = AUTO
    label_smoothing: float = 0.0
    seg_loss: str = "dicece"
    ema_decay: float = 0.0
    tta_flip: bool = False

    def validate(self) -> TrainConfig:
        """Check every value; raise a one-line ConfigError on the first bad one.

        Returns:
            ``self``, so ``TrainConfig(...).validate()`` chains.
        """
        for name in ("epochs", "batch_size", "eval_batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"TrainConfig.{name} must be an integer >= 1, got {value!r}.")
        for name in ("epochs", "batch_size", "eval_batch_size", "limit", "test_limit", "seed"):
            value = getattr(self, name)
            if isinstance(value, int) and value >= MAX_INT:  # seeds are mixed into 64 bits
                raise ConfigError(
                    f"TrainConfig.{name} {value} is too large; use a number below 2**31 "
                    f"({MAX_INT})."
                )
        for name in ("limit", "test_limit", "roi_size"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 1
            ):
                raise ConfigError(f"TrainConfig.{name} must be None or >= 1, got {value!r}.")
        for name in ("lr", "lr_min", "momentum", "weight_decay", "grad_clip", "auxiliary_weight"):
            value = getattr(self, name)
            if not _is_number(value) or not math.isfinite(value) or value < 0:
                raise ConfigError(f"TrainConfig.{name} must be a number >= 0, got {value!r}.")
        if not _is_number(self.drop_path_prob) or not 0.0 <= self.drop_path_prob < 1.0:
            raise ConfigError(
                f"TrainConfig.drop_path_prob must be in [0, 1), got {self.drop_path_prob!r}."
            )
        _check_choice("select", self.select, SELECT_METRICS)
        _check_choice("class_weight", self.class_weight, (AUTO, *CLASS_WEIGHTS))
        smoothing = self.label_smoothing
        if (
            isinstance(smoothing, bool)
            or not isinstance(smoothing, (int, float))
            or not (0.0 <= smoothing < 1.0)
        ):
            raise ConfigError(
                f"TrainConfig.label_smoothing must be a number in [0, 1), got {smoothing!r}."
            )
        decay = self.ema_decay
        if not _is_number(decay) or not (decay == 0 or 0.0 < decay < 1.0):
            raise ConfigError(
                f"TrainConfig.ema_decay must be 0 (off) or a number in (0, 1), e.g. 0.99, "
                f"got {decay!r}."
            )
        if not isinstance(self.tta_flip, bool):
            raise ConfigError(f"TrainConfig.tta_flip must be True or False, got {self.tta_flip!r}.")
        if self.tta_flip and not self.augment:
            raise ConfigError(
                "TrainConfig.tta_flip scores mirrored images, which only training with "
                "augment=True (random flips) has seen; set augment=True or tta_flip=False."
            )
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_choice("seg_loss", self.seg_loss, SEG_LOSSES)
        _check_choice("precision", self.precision, PRECISIONS)
        resolve_device(self.device)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(
                f"TrainConfig.seed must be a non-negative integer, got {self.seed!r}."
            )
        return self

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Build a config from :meth:`to_dict` output, rejecting unknown keys."""
        names = [f.name for f in dataclasses.fields(cls)]
        for key in data:
            if key not in names:
                raise ConfigError(
                    f"unknown TrainConfig key {key!r}; expected one of {', '.join(names)}."
                    f"{closest_name(str(key), names)}"
                )
        return cls(**data)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass
class TrainResult:
    """What :func:`train_model` returns.

    Attributes:
        history: one dict per epoch run: ``epoch`` (0-based), ``lr``,
            ``drop_path_prob``, ``train_loss`` (the auxiliary term included),
            ``train_acc``, ``val_loss``, ``val_acc``, ``val_auc``, ``seconds``.
        test: test metrics of the kept model: ``acc``, ``auc``, ``loss`` (segmentation:
            ``dice``, ``dice_<class>``, ``hd95``, ``loss``).
        best_epoch: the epoch whose weights were kept (best ``select`` score on val).
        best_val: that epoch's validation metrics (the keys of ``test``).
        params: parameters of the model, auxiliary head excluded.
        wall_s: seconds spent, training and evaluation together.
        stopped: True when the callback stopped training before ``epochs``.
        config: the :class:`TrainConfig` used, as a dict.
        class_weight: the training loss's class weighting, ``"none"`` or ``"balanced"``
            (what ``"auto"`` chose), and ``class_weight_reason``, why.
    """

    history: list[dict[str, Any]]
    test: dict[str, float]
    best_epoch: int
    best_val: dict[str, float]
    params: int
    wall_s: float
    stopped: bool = False
    config: dict[str, Any] = field(default_factory=dict)
    class_weight: str = "none"
    class_weight_reason: str = ""

    @property
    def epochs_run(self) -> int:
        """Epochs completed."""
        return len(self.history)


def refuse_batches_of_one(model: nn.Module, batch: int) -> None:
    """Refuse training batches of one image for a network with batch normalisation: its
    statistics of one image are undefined where a feature map is 1x1 (torch raises from
    inside the network, an auxiliary head's first), and are noise elsewhere.

    Args:
        model: the network to train.
        batch: images in a training batch (the batch size, or fewer training images).

    Raises:
        ConfigError: ``batch`` is 1 and ``model`` holds a batch-norm layer.

    Example:
        >>> refuse_batches_of_one(nn.Sequential(nn.Linear(2, 2)), 1)  # no batch norm: fine
    """
    if batch >= 2 or not any(
        isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules()
    ):
        return
    raise ConfigError(
        "training batches of 1 image: the network's batch normalisation needs at least 2 a "
        "batch; use a batch size of 2 or more (and a limit that leaves 2 training images)."
    )


def train_model(
    model: nn.Module,
    train_ds: Dataset,
    val_ds: Dataset,
    test_ds: Dataset,
    task: str | Task,
    config: TrainConfig | None = None,
    on_epoch: EpochCallback | None = None,
) -> TrainResult:
    """Train ``model`` from its current weights, keep the best epoch on val, score it on test.

    The model is trained in place and ends holding the kept (best validation) weights.
    A model may return ``(logits, aux_logits)`` in training mode; the auxiliary loss
    is added with weight ``config.auxiliary_weight``.

    Args:
        model: a classifier mapping ``(N, C, *spatial)`` to ``(N, K)`` logits, or a
            segmenter mapping it to ``(N, K, *spatial)``.
        train_ds: items ``(image, target)`` to train on.
        val_ds: items used to pick the kept epoch.
        test_ds: items the kept model is scored on.
        task: the dataset's task (binary, multi-class, ordinal, multi-label,
            segmentation) or a task object; segmentation class names come from
            ``train_ds.info`` when it has one.
        config: the recipe; ``TrainConfig()`` when None.
        on_epoch: called after every epoch with that epoch's history record (plus
            ``epochs``, the planned total); returning ``False`` stops training there.

    Returns:
        A :class:`TrainResult`.

    Example:
        >>> from nasbench.data import load
        >>> ds = load("synthetic", "train", limit=32)  # doctest: +SKIP
        >>> net = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 2))
        >>> train_model(net, ds, ds, ds, "binary", TrainConfig(epochs=1)).test  # doctest: +SKIP
        {'acc': 0.5, 'auc': 0.61, 'loss': 0.69}
    """
    config = (config or TrainConfig()).validate()
    task = _task(task, train_ds, config)
    if config.tta_flip and task.kind != "classification":
        raise ConfigError(
            f"TrainConfig.tta_flip is for 2D classification, not a {task.kind} task; "
            "set tta_flip=False."
        )
    loss_fn = task.loss()
    for name, ds in (("train", train_ds), ("val", val_ds), ("test", test_ds)):
        if len(ds) == 0:
            raise ConfigError(f"the {name} split is empty; give it at least one image.")
    refuse_batches_of_one(model, min(config.batch_size, len(train_ds)))
    device = resolve_device(config.device)
    warn_if_bf16_falls_back(device, config.precision)
    weighting = _class_weight(task, train_ds, config)
    train_loss = _training_loss(task, train_ds, config, weighting[0]).to(device)
    start = time.perf_counter()
    model.to(device)
    batches = EpochBatches(train_ds, config.batch_size, config.seed, stream=TRAIN_STREAM)
    optimizer = _optimizer(model, config)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=config.epochs, eta_min=config.lr_min
    )
    val_set, test_set = _Evaluation(val_ds), _Evaluation(test_ds)
    if config.tta_flip and val_set.dataset[0][0].dim() != 3:
        raise ConfigError(
            "TrainConfig.tta_flip mirrors 2D images (C, H, W), but this dataset's images "
            f"have shape {tuple(val_set.dataset[0][0].shape)}; set tta_flip=False."
        )
    # With ema_decay, the moving average is what is scored and kept; the model only trains.
    ema = WeightAverage(model, config.ema_decay) if config.ema_decay else None
    scored = ema.model if ema is not None else model
    history: list[dict[str, Any]] = []
    best: tuple[float, int, dict[str, Any], dict[str, float]] | None = None
    stopped = False
    # Drop-path and dropout draw from the global RNG; fork it so a caller's stream is untouched.
    with seeded(config.seed):
        for epoch in range(config.epochs):
            epoch_start = time.perf_counter()
            record = {"epoch": epoch, "lr": optimizer.param_groups[0]["lr"]}
            record["drop_path_prob"] = _set_drop_path(model, config, epoch)
            record.update(
                _train_epoch(model, batches, epoch, optimizer, train_loss, task, config, ema)
            )
            scheduler.step()
            try:
                val = _evaluate(scored, val_set, loss_fn, task, config, device, full=False)
            except DivergenceError:
                # The last step's loss was finite, but it left the weights NaN or huge.
                where = f"at epoch {epoch + 1}: the validation outputs are NaN or inf"
                raise diverged(where, config) from None
            record.update({f"val_{k}": v for k, v in val.items()})
            record["seconds"] = time.perf_counter() - epoch_start
            history.append(record)
            score = _selection_key(val, config.select, task)
            # Equal scores go to the lower validation loss, then to the earlier epoch.
            if best is None or score > best[0]:
                best = (score, epoch, _state_copy(scored), val)
            if on_epoch is not None and on_epoch({**record, "epochs": config.epochs}) is False:
                stopped = epoch + 1 < config.epochs
                break
    assert best is not None  # epochs >= 1
    model.load_state_dict(best[2])
    test = _evaluate(model, test_set, loss_fn, task, config, device)
    return TrainResult(
        history=history,
        test=test,
        best_epoch=best[1],
        best_val=best[3],
        params=count_parameters(model),
        wall_s=time.perf_counter() - start,
        stopped=stopped,
        config=config.to_dict(),
        class_weight=weighting[0],
        class_weight_reason=weighting[1],
    )


def evaluate_model(
    model: nn.Module, dataset: Dataset, task: str | Task, config: TrainConfig | None = None
) -> dict[str, float]:
    """Score a model on a dataset as :func:`train_model` scores its splits.

    Args:
        model: a classifier or segmenter.
        dataset: items ``(image, target)``.
        task: the task name or object.
        config: batch size, device, precision, ``roi_size`` (defaults when None).

    Returns:
        The task's metrics plus ``loss``.

    Example:
        >>> evaluate_model(net, load("synthetic-seg", "test"), "segmentation")  # doctest: +SKIP
        {'dice': 0.71, 'dice_organ': 0.8, 'dice_lesion': 0.62, 'hd95': 3.1, 'loss': 0.4}
    """
    config = (config or TrainConfig()).validate()
    task = _task(task, dataset, config)
    device = resolve_device(config.device)
    model.to(device)
    return _evaluate(model, _Evaluation(dataset), task.loss(), task, config, device)


def diverged(where: str, config: TrainConfig) -> DivergenceError:
    """The one-line error of a training whose numbers stopped being finite.

    Args:
        where: when and what, e.g. ``"at epoch 2, batch 5: the loss is nan"``.
        config: the recipe (its ``lr`` is named).

    Returns:
        A :class:`~nasbench.errors.DivergenceError`; its ``where`` attribute holds ``where``
        so that a caller with its own learning-rate setting (the train evaluator) can name
        that one instead.

    Example:
        >>> err = diverged("at epoch 1, batch 1: the loss is nan", TrainConfig(lr=1.0))
        >>> str(err)[:54], err.where[-11:]
        ('training diverged at epoch 1, batch 1: the loss is nan', 'loss is nan')
    """
    err = DivergenceError(
        f"training diverged {where}; lower the learning rate (lr {config.lr:g}; --lr on the "
        "command line) or clip gradients (grad_clip), and train again."
    )
    err.where = where
    return err


def _optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.SGD(
        model.parameters(),
        lr=config.lr,
        momentum=config.momentum,
        weight_decay=config.weight_decay,
    )


def _task(task: str | Task, dataset: Any, config: TrainConfig) -> Task:
    if not isinstance(task, str):
        return task
    info = getattr(dataset, "info", None)
    if info is not None and info.task == task:
        return task_of_info(info, roi_size=config.roi_size)
    return task_for(task, roi_size=config.roi_size)


def validated_as_flags(config: TrainConfig) -> TrainConfig:
    """``config.validate()`` for a recipe made of command-line flags (``nasbench retrain``,
    ``nasbench bench generate``): a bad value is named by its flag, as typed.

    Args:
        config: a recipe whose every field the command's flags set, one flag per field
            (``batch_size`` is ``--batch-size``).

    Returns:
        ``config``, validated.

    Raises:
        ConfigError: the first bad value, named ``--batch-size`` rather than
            ``TrainConfig.batch_size``.

    Example:
        >>> validated_as_flags(TrainConfig(limit=0))
        Traceback (most recent call last):
        nasbench.errors.ConfigError: --limit must be >= 1 (or left out), got 0.
    """
    try:
        return config.validate()
    except ConfigError as err:
        said = str(err).replace("must be None or >= 1", "must be >= 1 (or left out)")
        said = re.sub(r"\bTrainConfig\.(\w+)", lambda m: f"--{m[1].replace('_', '-')}", said)
        raise ConfigError(said) from None


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(
            f"TrainConfig.{name} must be one of {', '.join(choices)}, got {value!r}."
            f"{closest_name(str(value), choices)}"
        )


def _set_drop_path(model: nn.Module, config: TrainConfig, epoch: int) -> float:
    """DARTS raises drop-path linearly: ``p * epoch / epochs``; models without it ignore it."""
    prob = config.drop_path_prob * epoch / config.epochs
    if hasattr(model, "drop_path_prob"):
        model.drop_path_prob = prob
        return prob
    return 0.0


def _class_weight(task: Task, train_ds: Any, config: TrainConfig) -> tuple[str, str]:
    """The weighting the training loss uses (``"auto"`` resolved) and why."""
    if task.kind != "classification":
        return "none", f"no class weighting for a {task.kind} task"
    info = getattr(train_ds, "info", None)
    return resolve_class_weight(
        config.class_weight,
        task.name,
        getattr(train_ds, "targets", None),
        spatial_dims=getattr(info, "spatial_dims", None),
        num_classes=getattr(info, "num_classes", None),
    )


def _training_loss(task: Task, train_ds: Any, config: TrainConfig, class_weight: str) -> nn.Module:
    """The task's loss, class-weighted and smoothed as the recipe asks (classification), or
    with batch Dice (segmentation, ``seg_loss="dicece_batch"``)."""
    if task.kind == "segmentation" and config.seg_loss == "dicece_batch":
        return segmentation_loss(batch=True)
    if task.kind != "classification" or (class_weight == "none" and not config.label_smoothing):
        return task.loss()
    info = getattr(train_ds, "info", None)
    return training_loss(
        task.name,
        getattr(train_ds, "targets", None),
        class_weight,
        config.label_smoothing,
        num_classes=getattr(info, "num_classes", None),
    )


def _train_epoch(
    model: nn.Module,
    batches: EpochBatches,
    epoch: int,
    optimizer: torch.optim.Optimizer,
    loss_fn: nn.Module,
    task: Task,
    config: TrainConfig,
    ema: WeightAverage | None = None,
) -> dict[str, float]:
    device = next(model.parameters()).device
    model.train()
    total_loss, seen, meter = 0.0, 0, task.meter(full=False)
    for index in range(len(batches)):
        images, targets = batches.batch(epoch, index)
        if config.augment and task.kind == "classification":
            images = augment_batch(images, _batch_generator(config.seed, epoch, index))
        elif config.augment and task.kind == "detection":
            images, targets = augment_detection_batch(
                images, targets, _batch_generator(config.seed, epoch, index)
            )
        elif config.augment and task.kind == "segmentation":
            images, targets = BatchAugment(spatial=True)(
                images, targets, _batch_generator(config.seed, epoch, index)
            )
        images, targets = images.to(device), task.target(targets).to(device)
        with autocast(device, config.precision):
            out = model(images)
            logits, aux = out if isinstance(out, tuple) else (out, None)
            loss = loss_fn(logits.float(), targets)
            if aux is not None and config.auxiliary_weight > 0:
                loss = loss + config.auxiliary_weight * loss_fn(aux.float(), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.grad_clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        if ema is not None:
            ema.update(model)
        step_loss = float(loss.detach())
        if not math.isfinite(step_loss):
            # Stopped here: NaN weights would otherwise reach the scores, which fail in
            # sklearn with a traceback that does not say what went wrong.
            raise diverged(
                f"at epoch {epoch + 1}, batch {index + 1}: the loss is {step_loss}", config
            )
        total_loss += step_loss * len(images)
        seen += len(targets)
        meter.update(logits.detach().float(), targets)
    metrics = meter.result()
    return {"train_loss": total_loss / seen, f"train_{task.primary}": metrics[task.primary]}


def augment_batch(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random horizontal flip and padded random crop per image (2D batches only).

    Args:
        images: ``(N, C, H, W)``; other shapes are returned unchanged.
        generator: a CPU generator; the same state gives the same batch.

    Returns:
        The augmented batch, same shape.

    Example:
        >>> x = torch.arange(16.0).view(1, 1, 4, 4)
        >>> augment_batch(x, torch.Generator().manual_seed(0)).shape
        torch.Size([1, 1, 4, 4])
    """
    if images.dim() != 4:
        return images
    n, _, h, w = images.shape
    flip = torch.rand(n, generator=generator) < 0.5
    images = torch.where(flip.view(n, 1, 1, 1), images.flip(-1), images)
    # Pad with the image minimum (the background of normalised medical images), not zero.
    low = images.amin(dim=(1, 2, 3), keepdim=True)
    pad = CROP_PADDING
    padded = low.expand(n, images.shape[1], h + 2 * pad, w + 2 * pad).clone()
    padded[:, :, pad : pad + h, pad : pad + w] = images
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
    rows = (
        (dy.view(n, 1) + torch.arange(h))
        .view(n, 1, h, 1)
        .expand(n, images.shape[1], h, w + 2 * pad)
    )
    cropped = padded.gather(2, rows)
    cols = (dx.view(n, 1) + torch.arange(w)).view(n, 1, 1, w).expand(n, images.shape[1], h, w)
    return cropped.gather(3, cols)


class WeightAverage:
    """An exponential moving average of a model's weights (parameters and buffers).

    Floating-point parameters and buffers (BatchNorm's running statistics) are averaged
    after every optimiser step; integer buffers (``num_batches_tracked``) are copied. The
    decay warms up as ``min(decay, (1 + t) / (10 + t))`` at update ``t``, so early
    averages are not dominated by the random initial weights (timm's ``ModelEmaV2``).

    Args:
        model: the model being trained; copied, not changed.
        decay: the per-step decay in (0, 1).

    Example:
        >>> net = nn.Linear(2, 1)
        >>> avg = WeightAverage(net, 0.9)
        >>> with torch.no_grad():
        ...     _ = net.weight.add_(1.0)
        >>> avg.update(net)  # first step: decay (1 + 0) / (10 + 0) = 0.1, 0.9 of the way
        >>> bool(torch.allclose(avg.model.weight, net.weight - 0.1))
        True
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.model = copy.deepcopy(model)
        self.model.requires_grad_(False)
        self.decay = decay
        self.updates = 0

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the average towards ``model``'s current weights by one step."""
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        self.updates += 1
        current = model.state_dict()
        for name, value in self.model.state_dict().items():
            if value.dtype.is_floating_point:
                value.lerp_(current[name].detach().to(value.dtype), 1.0 - decay)
            else:
                value.copy_(current[name])


def _batch_generator(seed: int, epoch: int, index: int) -> torch.Generator:
    return torch.Generator().manual_seed(((seed * 1_000_003 + epoch) * 100_003 + index) % 2**63)


class _Evaluation:
    """An evaluation split, stacked once when it fits in memory (val is read every epoch)."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        first = dataset[0][0]
        fits = first.numel() * first.element_size() * len(dataset) <= EVAL_CACHE_BYTES
        self._cached = _stack(dataset, range(len(dataset))) if fits else None

    def chunks(self, size: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.dataset)
        for start in range(0, n, size):
            if self._cached is not None:
                yield self._cached[0][start : start + size], self._cached[1][start : start + size]
            else:
                yield _stack(self.dataset, range(start, min(n, start + size)))


def _stack(dataset: Dataset, indices: range) -> tuple[torch.Tensor, torch.Tensor]:
    items = [dataset[i] for i in indices]
    images = torch.stack([torch.as_tensor(x) for x, _ in items])
    return images, torch.stack([torch.as_tensor(y) for _, y in items])


@torch.no_grad()
def _evaluate(
    model: nn.Module,
    split: _Evaluation,
    loss_fn: nn.Module,
    task: Task,
    config: TrainConfig,
    device: torch.device,
    full: bool = True,
) -> dict[str, float]:
    # full=False leaves out the costly scores (HD95) that model selection does not read.
    model.eval()
    meter = task.meter(loss_fn, full=full)
    for images, targets in split.chunks(config.eval_batch_size):
        with autocast(device, config.precision):
            logits = task.infer(model, images.to(device))
            if config.tta_flip:
                logits = (logits + task.infer(model, images.to(device).flip(-1))) / 2
        if torch.isnan(logits).any():
            # Caught here: the scores would fail later in sklearn ("Input contains NaN").
            raise DivergenceError(
                "the model's outputs are NaN: its weights diverged; train it again with a "
                "lower learning rate."
            )
        meter.update(logits.float().cpu(), task.target(targets))
    return meter.result()


def _selection_key(val: dict[str, float], select: str, task: Task) -> tuple[float, float]:
    """``(score, -loss)``: the higher key is the better epoch.

    The loss breaks ties: a small validation split often ranks perfectly (AUC 1.0) from
    the first epoch on, while that epoch's decision threshold still answers one class
    for every case (a skewed 3D set did: ACC = the class share); keeping the first of
    the tied epochs kept that one.
    """
    if select != "loss" and select not in val:
        select = task.select  # a segmenter has no AUC: it keeps its best Dice
    value = -val["loss"] if select == "loss" else val[select]
    loss = -val.get("loss", math.nan)
    # A NaN score (one class only in a tiny val split) never beats a real one.
    return (
        value if math.isfinite(value) else -math.inf,
        loss if math.isfinite(loss) else -math.inf,
    )


def _state_copy(model: nn.Module) -> dict[str, Any]:
    return copy.deepcopy({k: v.detach().cpu() for k, v in model.state_dict().items()})
