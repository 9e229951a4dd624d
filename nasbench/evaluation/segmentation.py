"""Segmentation with MONAI: DiceCE loss, Dice and 95% Hausdorff metrics, sliding windows.

Networks output logits ``(N, K, *spatial)``; masks are class indices ``(N, 1, *spatial)``
(0 is the background). The Dice and Hausdorff scores are MONAI's ``compute_dice`` and
``compute_hausdorff_distance`` on the arg-max prediction, foreground classes only: a
class absent from an image's mask is left out of that image's mean (MONAI's
``ignore_empty``), and a class absent from every mask of a split is NaN. The Hausdorff
distance of a class present in the mask but not predicted, or predicted but absent, is
the image's diagonal (the largest distance it can have), not left out: a network that
misses a structure must not score as well as one that finds it. Volumes are
predicted with ``monai.inferers.sliding_window_inference``, so a network trained on
patches segments a larger volume window by window.

Example:
    >>> logits = torch.zeros(1, 3, 8, 8); logits[:, 1] = 1.0
    >>> mask = torch.ones(1, 1, 8, 8, dtype=torch.long)
    >>> dice_scores(logits, mask)["dice"]
    1.0
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from nasbench.errors import ConfigError

SW_BATCH_SIZE = 4
SW_OVERLAP = 0.25
HAUSDORFF_PERCENTILE = 95


class SegmentationLoss(nn.Module):
    """MONAI's ``DiceCELoss(to_onehot_y=True, softmax=True, batch=batch)``, after a one-line
    check that the logits fit the masks (shape, labels within the classes)."""

    def __init__(self, batch: bool = False) -> None:
        super().__init__()
        from monai.losses import DiceCELoss

        self.dice_ce = DiceCELoss(to_onehot_y=True, softmax=True, batch=batch)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        check_logits(logits, target)
        return self.dice_ce(logits, target)


def check_logits(logits: torch.Tensor, target: torch.Tensor) -> None:
    """Raise a one-line ConfigError unless ``logits (N, K, *S)`` fit index masks ``(N, 1, *S)``.

    Example:
        >>> check_logits(torch.zeros(2, 3, 4, 4), torch.zeros(2, 1, 4, 4))  # fits: no error
    """
    if logits.dim() != target.dim() or logits.shape[2:] != target.shape[2:]:
        raise ConfigError(
            f"segmentation needs logits (N, K, *spatial) the size of the masks; got logits "
            f"{tuple(logits.shape)} for masks {tuple(target.shape)} (is the network a classifier?)."
        )
    k = int(logits.shape[1])
    low, high = int(target.min()), int(target.max())
    if low < 0 or high >= k:
        raise ConfigError(
            f"a mask holds label {high if high >= k else low} but the network predicts {k} "
            f"classes (0..{k - 1}); set num_classes to the dataset's classes."
        )


def segmentation_loss(batch: bool = False) -> nn.Module:
    """MONAI's Dice + cross-entropy loss on logits and index masks.

    Args:
        batch: compute each class's Dice over the whole batch (MONAI's ``batch=True``)
            instead of per image and then averaged: an image without a small structure
            (a lesion) then no longer scores that class's Dice near 0 or 1 on its own,
            so rare, small classes get a steadier gradient.

    Returns:
        A :class:`SegmentationLoss`: ``DiceCELoss(to_onehot_y=True, softmax=True)`` (softmax
        over the class channel, the mask one-hot encoded, the Dice and CE terms summed, each at
        weight 1) behind a shape and label check.

    Example:
        >>> loss = segmentation_loss()
        >>> float(loss(torch.zeros(2, 3, 8, 8), torch.zeros(2, 1, 8, 8))) > 0
        True
    """
    return SegmentationLoss(batch=batch)


def as_mask(target: torch.Tensor) -> torch.Tensor:
    """Index masks ``(N, 1, *spatial)`` (int64); a mask without the channel axis gains it."""
    target = torch.as_tensor(target).long()
    return target if target.dim() > 2 and target.shape[1] == 1 else target[:, None]


def class_slug(name: str) -> str:
    """A metric-name-safe form of a class name: ``"left atrium"`` -> ``"left_atrium"``.

    Example:
        >>> class_slug("Left atrium (LA)")
        'left_atrium_la'
    """
    return re.sub(r"[^0-9a-z]+", "_", str(name).lower()).strip("_") or "class"


def foreground_names(num_classes: int, class_names: Sequence[str] = ()) -> list[str]:
    """Slugs of the foreground classes 1..K-1 (``class_k`` where no name is known)."""
    names = list(class_names)
    out = []
    for k in range(1, num_classes):
        out.append(class_slug(names[k]) if k < len(names) else f"class_{k}")
    return out


def _one_hot(index: torch.Tensor, num_classes: int) -> torch.Tensor:
    from monai.networks.utils import one_hot

    return one_hot(index, num_classes, dim=1)


class SegmentationMeter:
    """Accumulates Dice (and optionally HD95) over the batches of a split.

    Args:
        class_names: class names (index 0 the background) for the per-class metric names.
        hausdorff: also compute the 95th-percentile Hausdorff distance (in pixels/voxels).
        loss_fn: when given, ``result()`` also holds ``loss``, the batch-size weighted mean.

    Example:
        >>> meter = SegmentationMeter(("background", "organ"))
        >>> meter.update(torch.tensor([[[[0.0]], [[1.0]]]]), torch.ones(1, 1, 1, 1))
        >>> meter.result()["dice_organ"]
        1.0
    """

    def __init__(
        self,
        class_names: Sequence[str] = (),
        hausdorff: bool = False,
        loss_fn: nn.Module | None = None,
    ) -> None:
        self.class_names = tuple(class_names)
        self.hausdorff = hausdorff
        self.loss_fn = loss_fn
        self._dice: list[np.ndarray] = []
        self._hd: list[np.ndarray] = []
        self._loss = 0.0
        self._seen = 0
        self._num_classes: int | None = None

    def update(self, logits: torch.Tensor, target: torch.Tensor) -> None:
        """Add a batch: logits ``(N, K, *spatial)`` and index masks."""
        from monai.metrics import compute_dice, compute_hausdorff_distance

        logits = logits.detach().float()
        mask = as_mask(target).to(logits.device)
        check_logits(logits, mask)
        k = self._num_classes = int(logits.shape[1])
        if self.loss_fn is not None:
            self._loss += float(self.loss_fn(logits, mask)) * len(mask)
        self._seen += len(mask)
        pred = _one_hot(logits.argmax(dim=1, keepdim=True), k)
        truth = _one_hot(mask, k)
        with warnings.catch_warnings():
            # MONAI warns for every empty class and about its own deprecated argument.
            warnings.simplefilter("ignore")
            self._dice.append(compute_dice(pred, truth, include_background=False).cpu().numpy())
            if self.hausdorff:
                hd = compute_hausdorff_distance(
                    pred, truth, include_background=False, percentile=HAUSDORFF_PERCENTILE
                )
                self._hd.append(_penalise_missed(hd.cpu().numpy(), pred, truth))

    def result(self) -> dict[str, float]:
        """``dice`` (mean over foreground classes), ``dice_<class>``, ``hd95``, ``loss``."""
        if self._num_classes is None:
            raise ConfigError("no batch was added to the segmentation meter; the split is empty.")
        names = foreground_names(self._num_classes, self.class_names)
        per_class = _nanmean_rows(np.concatenate(self._dice))
        out = {"dice": _nanmean(per_class)}
        out.update({f"dice_{n}": float(v) for n, v in zip(names, per_class, strict=True)})
        if self.hausdorff:
            hd = np.concatenate(self._hd)
            hd[~np.isfinite(hd)] = np.nan
            out["hd95"] = _nanmean(_nanmean_rows(hd))
        if self.loss_fn is not None:
            out["loss"] = self._loss / max(self._seen, 1)
        return out


def _penalise_missed(hd: np.ndarray, pred: torch.Tensor, truth: torch.Tensor) -> np.ndarray:
    """Hausdorff distances ``(N, K-1)`` with a class found on one side only (missed, or
    predicted where there is none) set to the image diagonal, the largest distance two
    points of the image can have; a class absent from both stays NaN (nothing to find)."""
    spatial = pred.shape[2:]
    diagonal = math.sqrt(sum((n - 1) ** 2 for n in spatial))
    dims = tuple(range(2, pred.ndim))
    in_pred = (pred[:, 1:].sum(dim=dims) > 0).cpu().numpy()
    in_truth = (truth[:, 1:].sum(dim=dims) > 0).cpu().numpy()
    return np.where(in_pred != in_truth, diagonal, np.where(in_pred & in_truth, hd, np.nan))


def _nanmean_rows(values: np.ndarray) -> np.ndarray:
    """Per-column mean over rows, ignoring NaN; NaN where a column has no value."""
    counts = np.isfinite(values).sum(axis=0)
    sums = np.where(np.isfinite(values), values, 0.0).sum(axis=0)
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _nanmean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else math.nan


def dice_scores(
    logits: torch.Tensor, target: torch.Tensor, class_names: Sequence[str] = ()
) -> dict[str, float]:
    """Dice of one batch: ``dice`` (foreground mean) and ``dice_<class>``.

    Args:
        logits: ``(N, K, *spatial)``.
        target: index masks ``(N, 1, *spatial)``.
        class_names: names of the K classes (background first).

    Returns:
        The scores; a class absent from every mask of the batch is NaN.

    Example:
        >>> dice_scores(torch.zeros(1, 2, 4, 4), torch.zeros(1, 1, 4, 4))["dice"]
        nan
    """
    meter = SegmentationMeter(class_names)
    meter.update(logits, target)
    return meter.result()


def sliding_window_segment(
    model: nn.Module,
    images: torch.Tensor,
    roi_size: int | Sequence[int] | None = None,
    sw_batch_size: int = SW_BATCH_SIZE,
    overlap: float = SW_OVERLAP,
) -> torch.Tensor:
    """Logits of a batch by MONAI's sliding-window inference.

    Args:
        model: maps ``(N, C, *roi)`` to ``(N, K, *roi)``.
        images: ``(N, C, *spatial)``.
        roi_size: the window edge (an int for a cube/square, or one per axis); None:
            the whole image, a single window.
        sw_batch_size: windows per forward pass.
        overlap: fraction by which neighbouring windows overlap (Gaussian-free mean blend).

    Returns:
        Logits ``(N, K, *spatial)``.

    Example:
        >>> net = torch.nn.Conv3d(1, 2, 1)
        >>> sliding_window_segment(net, torch.zeros(1, 1, 8, 8, 8), roi_size=4).shape
        torch.Size([1, 2, 8, 8, 8])
    """
    from monai.inferers import sliding_window_inference

    spatial = tuple(images.shape[2:])
    if roi_size is None:
        roi = spatial
    elif isinstance(roi_size, int):
        roi = (roi_size,) * len(spatial)
    else:
        roi = tuple(roi_size)
    if len(roi) != len(spatial) or any(int(r) < 1 for r in roi):
        raise ConfigError(f"roi_size {roi_size!r} does not fit images of size {spatial}.")
    out = sliding_window_inference(
        images, roi_size=roi, sw_batch_size=sw_batch_size, predictor=model, overlap=overlap
    )
    return out.as_tensor() if hasattr(out, "as_tensor") else out
