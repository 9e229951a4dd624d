"""What a loop needs to know about a task: its loss, step metrics, inference and split scores.

The bilevel search loop (``nasbench.engine.bilevel``) and the training loop
(``nasbench.evaluation.train_loop``) are written once; what differs between a classifier,
a segmenter and a reconstruction network sits behind five small calls of a task object:

- ``task.loss()``: the training loss module;
- ``task.target(y)``: targets in the form the loss takes;
- ``task.batch_metrics(out, y)``: cheap numbers for one training step;
- ``task.infer(model, x)``: the evaluation forward (sliding windows for 3D segmentation);
- ``task.meter(loss_fn)``: accumulates a split and returns its scores.

Example:
    >>> task = task_for("binary")
    >>> task.select, task.primary
    ('auc', 'acc')
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from nasbench.errors import ConfigError
from nasbench.evaluation.detection import DetectionTask
from nasbench.evaluation.metrics import (
    CLASSIFICATION_TASKS,
    classes_without_auc,
    classification_metrics,
    loss_for_task,
)
from nasbench.evaluation.reconstruction import ReconstructionTask
from nasbench.evaluation.segmentation import (
    SegmentationMeter,
    as_mask,
    dice_scores,
    segmentation_loss,
    sliding_window_segment,
)

TASK_KINDS = (
    *CLASSIFICATION_TASKS, "segmentation", "detection", "reconstruction", "regression"
)  # fmt: skip


class ClassificationMeter:
    """Collects logits and targets; scores them at the end as MedMNIST does (ACC, AUC).

    Args:
        task: a classification task name.
        loss_fn: when given, ``result()`` also holds ``loss`` over the whole split.
    """

    def __init__(
        self, task: str, loss_fn: nn.Module | None = None, warned: set[str] | None = None
    ) -> None:
        self.task = task
        self.loss_fn = loss_fn
        # Warnings already given by this task's meters (a split is scored every epoch).
        self._warned = set() if warned is None else warned
        self._logits: list[torch.Tensor] = []
        self._targets: list[torch.Tensor] = []

    def update(self, logits: torch.Tensor, target: torch.Tensor) -> None:
        """Add a batch of logits ``(N, K)`` and targets."""
        self._logits.append(logits.detach().float().cpu())
        self._targets.append(target.detach().cpu())

    def result(self) -> dict[str, float]:
        """``acc`` and ``auc`` (and ``loss`` with a loss function); warns when the split
        has classes without an AUC, which its mean then leaves out."""
        logits, targets = torch.cat(self._logits), torch.cat(self._targets)
        out = classification_metrics(logits, targets, self.task)
        unscored = classes_without_auc(targets, logits.shape[1], self.task)
        total = logits.shape[1]
        if unscored and len(unscored) < total:
            names = _first_few(unscored)
            plural = "es" if len(unscored) > 1 else ""
            missing = (
                f"label{'s' if plural else ''} {names} (of {total}) positive in all or none "
                "of its images"
                if self.task == "multi-label"
                else f"no image of class{plural} {names} (of {total})"
            )
            text = (
                f"a split scored has {missing}: its AUC is the mean over the other "
                f"{total - len(unscored)}, not comparable with an AUC over all {total}."
            )
            # Once per run and split: Python's own once-only registry is reset whenever
            # a warnings filter changes, which image reading does for every file.
            if text not in self._warned:
                self._warned.add(text)
                warnings.warn(text, UserWarning, stacklevel=2)
        if self.loss_fn is not None:
            out["loss"] = float(self.loss_fn(logits, targets))
        return out


def _first_few(classes: list[int], shown: int = 8) -> str:
    """``classes`` joined with commas, cut to the first ``shown`` with a count of the rest
    (a 200-class set with a small ``limit`` leaves most classes out of a split)."""
    head = ", ".join(map(str, classes[:shown]))
    rest = len(classes) - shown
    return head if rest <= 0 else f"{head} and {rest} more"


class ClassificationTask:
    """Binary, multi-class, ordinal or multi-label classification (MedMNIST's metrics).

    Args:
        task: the dataset's task.
    """

    kind = "classification"
    select = "auc"
    primary = "acc"

    def __init__(self, task: str) -> None:
        if task not in CLASSIFICATION_TASKS:
            raise ConfigError(f"task {task!r} is not one of {', '.join(CLASSIFICATION_TASKS)}.")
        self.name = task
        self._warned: set[str] = set()

    def loss(self) -> nn.Module:
        """Cross-entropy (BCE with logits for multi-label)."""
        return loss_for_task(self.name)

    def target(self, y: torch.Tensor) -> torch.Tensor:
        """Float 0/1 labels for multi-label, class indices ``(N,)`` otherwise."""
        return y.float() if self.name == "multi-label" else y.long().view(-1)

    def batch_metrics(self, logits: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
        """``acc`` and ``auc`` of the batch."""
        return classification_metrics(logits, y, self.name)

    def infer(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """A plain forward pass."""
        return model(x)

    def meter(self, loss_fn: nn.Module | None = None, full: bool = True) -> ClassificationMeter:
        """A split accumulator (``full`` is for the segmentation meter's HD95); the
        meters of one task warn of a split's unscored classes once."""
        return ClassificationMeter(self.name, loss_fn, self._warned)


class SegmentationTask:
    """Semantic segmentation scored with MONAI (DiceCE loss, Dice, HD95).

    Args:
        class_names: class names, the background first (names the per-class metrics).
        spatial_dims: 2 or 3; volumes are evaluated with sliding-window inference.
        roi_size: the sliding-window edge (None: one window, the whole image).
        hausdorff: also report the 95% Hausdorff distance of a split.

    Example:
        >>> task = SegmentationTask(("background", "organ"), spatial_dims=3, roi_size=16)
        >>> task.meter().result  # doctest: +ELLIPSIS
        <bound method SegmentationMeter.result of ...>
    """

    kind = "segmentation"
    select = "dice"
    primary = "dice"
    name = "segmentation"

    def __init__(
        self,
        class_names: Sequence[str] = (),
        spatial_dims: int = 2,
        roi_size: int | None = None,
        hausdorff: bool = True,
    ) -> None:
        self.class_names = tuple(class_names)
        self.spatial_dims = int(spatial_dims)
        self.roi_size = roi_size
        self.hausdorff = hausdorff

    def loss(self) -> nn.Module:
        """``DiceCELoss(to_onehot_y=True, softmax=True)``."""
        return segmentation_loss()

    def target(self, y: torch.Tensor) -> torch.Tensor:
        """Index masks ``(N, 1, *spatial)``."""
        return as_mask(y)

    def batch_metrics(self, logits: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
        """``dice``: the batch's mean foreground Dice."""
        return {"dice": dice_scores(logits, y, self.class_names)["dice"]}

    def infer(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """Volumes (and 2D images with a ``roi_size``) by sliding windows; else a forward."""
        if self.spatial_dims == 3 or self.roi_size is not None:
            return sliding_window_segment(model, x, self.roi_size)
        return model(x)

    def meter(self, loss_fn: nn.Module | None = None, full: bool = True) -> SegmentationMeter:
        """A split accumulator: Dice per class, and HD95 when ``full`` (validation, test)."""
        hausdorff = self.hausdorff and full
        return SegmentationMeter(self.class_names, hausdorff=hausdorff, loss_fn=loss_fn)


class RegressionMeter:
    """Accumulates the squared error of vector predictions over a split.

    Args:
        loss_fn: accepted for a uniform call; the loss is the mean squared error itself.

    Example:
        >>> meter = RegressionMeter()
        >>> meter.update(torch.zeros(2, 3), torch.ones(2, 3))
        >>> meter.result()
        {'mse': 1.0, 'loss': 1.0}
    """

    def __init__(self, loss_fn: nn.Module | None = None) -> None:
        self._squared, self._count = 0.0, 0

    def update(self, output: torch.Tensor, target: torch.Tensor) -> None:
        """Add a batch of predictions ``(N, D)`` and targets of the same shape."""
        diff = output.detach().float().cpu() - target.detach().float().cpu().view_as(output)
        self._squared += float((diff**2).sum())
        self._count += diff.numel()

    def result(self) -> dict[str, float]:
        """``mse`` (and ``loss``, the same number) over every value seen."""
        mse = self._squared / max(self._count, 1)
        return {"mse": mse, "loss": mse}


class RegressionTask:
    """Vector regression with the mean squared error: the pixel-predicting pretext tasks
    (in-painting, colourisation) of :mod:`nasbench.data.pretext`.

    The network is the usual classifier with one output per target value. Lower is
    better, so a training loop keeps the epoch with the lowest loss.

    Example:
        >>> task = task_for("regression")
        >>> task.batch_metrics(torch.zeros(1, 2), torch.zeros(1, 2))
        {'mse': 0.0}
    """

    kind = "regression"
    select = "loss"
    primary = "mse"
    name = "regression"

    def loss(self) -> nn.Module:
        """``MSELoss``."""
        return nn.MSELoss()

    def target(self, y: torch.Tensor) -> torch.Tensor:
        """Float targets ``(N, D)``."""
        return y.float().view(y.shape[0], -1)

    def batch_metrics(self, output: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
        """``mse`` of the batch."""
        return {"mse": float(nn.functional.mse_loss(output.detach().float(), y.float()))}

    def infer(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """A plain forward pass."""
        return model(x)

    def meter(self, loss_fn: nn.Module | None = None, full: bool = True) -> RegressionMeter:
        """A split accumulator."""
        return RegressionMeter(loss_fn)


Task = ClassificationTask | SegmentationTask | DetectionTask | ReconstructionTask | RegressionTask


def task_for(
    task: str,
    class_names: Sequence[str] = (),
    spatial_dims: int = 2,
    roi_size: int | None = None,
) -> Task:
    """The task object of a dataset task name.

    Args:
        task: ``DatasetInfo.task`` (binary, multi-class, ordinal, multi-label, segmentation,
            detection, reconstruction).
        class_names: the dataset's class names (segmentation metric names).
        spatial_dims: 2 or 3.
        roi_size: segmentation only: the sliding-window edge.

    Returns:
        A :class:`ClassificationTask`, :class:`SegmentationTask`,
        :class:`~nasbench.evaluation.detection.DetectionTask` or
        :class:`~nasbench.evaluation.reconstruction.ReconstructionTask`.

    Example:
        >>> task_for("segmentation", ("background", "organ")).select
        'dice'
    """
    if task == "segmentation":
        return SegmentationTask(class_names, spatial_dims, roi_size)
    if task == "reconstruction":
        return ReconstructionTask()
    if task == "detection":
        return DetectionTask()
    if task == "regression":
        return RegressionTask()
    if task in CLASSIFICATION_TASKS:
        return ClassificationTask(task)
    raise ConfigError(
        f"task {task!r} has no training loop here; use one of {', '.join(TASK_KINDS)}."
    )


def task_of_info(info: Any, roi_size: int | None = None) -> Task:
    """:func:`task_for` from a :class:`~nasbench.data.DatasetInfo`."""
    return task_for(info.task, info.class_names, info.spatial_dims, roi_size)
