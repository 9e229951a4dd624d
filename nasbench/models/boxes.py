"""Box operations in plain torch: IoU, GIoU loss, non-maximum suppression, focal loss.

torchvision's compiled box ops (``torchvision.ops.nms``) do not load beside this
project's CPU build of torch (the PyPI wheel of torchvision 0.28 links CUDA libraries),
so the few a one-stage detector needs are written here; each is a few lines of tensor
algebra, runs on any device and is tested against hand-computed cases.

Boxes are ``(x1, y1, x2, y2)`` rows with ``x2 > x1`` and ``y2 > y1``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

NMS_BLOCK = 64  # boxes whose IoU rows non-maximum suppression computes at once


def box_area(boxes: torch.Tensor) -> torch.Tensor:
    """Areas ``(N,)`` of boxes ``(N, 4)``."""
    return (boxes[:, 2] - boxes[:, 0]).clamp(min=0) * (boxes[:, 3] - boxes[:, 1]).clamp(min=0)


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pairwise intersection over union of boxes ``(N, 4)`` and ``(M, 4)``.

    Args:
        a: boxes ``(N, 4)``.
        b: boxes ``(M, 4)``.

    Returns:
        ``(N, M)`` IoU values in [0, 1].

    Example:
        >>> box_iou(torch.tensor([[0., 0, 2, 2]]), torch.tensor([[1., 0, 3, 2]]))
        tensor([[0.3333]])
    """
    top_left = torch.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = (bottom_right - top_left).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    return inter / union.clamp(min=1e-9)


def giou_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``1 - GIoU`` of matched box pairs ``(N, 4)`` (Rezatofighi et al. 2019), per pair.

    Example:
        >>> giou_loss(torch.tensor([[0., 0, 2, 2]]), torch.tensor([[0., 0, 2, 2]]))
        tensor([0.])
    """
    top_left = torch.maximum(pred[:, :2], target[:, :2])
    bottom_right = torch.minimum(pred[:, 2:], target[:, 2:])
    wh = (bottom_right - top_left).clamp(min=0)
    inter = wh[:, 0] * wh[:, 1]
    union = box_area(pred) + box_area(target) - inter
    iou = inter / union.clamp(min=1e-9)
    hull_wh = torch.maximum(pred[:, 2:], target[:, 2:]) - torch.minimum(pred[:, :2], target[:, :2])
    hull = (hull_wh[:, 0] * hull_wh[:, 1]).clamp(min=1e-9)
    return 1.0 - (iou - (hull - union) / hull)


def nms(
    boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float, max_kept: int | None = None
) -> torch.Tensor:
    """Greedy non-maximum suppression: indices of the kept boxes, highest score first.

    A box is dropped when its IoU with a higher-scoring kept box exceeds
    ``iou_threshold`` (``torchvision.ops.nms``'s rule).

    Args:
        boxes: ``(N, 4)``.
        scores: ``(N,)``.
        iou_threshold: suppression threshold.
        max_kept: stop once this many boxes are kept (the first ``max_kept`` of the full
            result, computed without the IoUs of the boxes after them); None: all.

    Returns:
        ``(K,)`` long indices into ``boxes``.

    Example:
        >>> b = torch.tensor([[0., 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]])
        >>> nms(b, torch.tensor([0.9, 0.8, 0.7]), 0.5)
        tensor([0, 2])
        >>> nms(b, torch.tensor([0.9, 0.8, 0.7]), 0.5, max_kept=1)
        tensor([0])
    """
    if max_kept is not None and max_kept < 0:
        raise ValueError(f"max_kept must be None or a count >= 0, got {max_kept}; pass 0 or more.")
    order = scores.argsort(descending=True)
    n = order.numel()
    limit = n if max_kept is None else min(max_kept, n)
    ordered = boxes[order]
    suppressed = np.zeros(n, dtype=bool)
    keep: list[int] = []
    # The IoUs of NMS_BLOCK boxes at a time against all: an untrained detector keeps
    # hundreds of its ~1000 boxes, and a caller that wants its best few (max_kept) then
    # pays for a few rows, not the whole N x N matrix. The greedy walk runs on numpy
    # booleans: a Python loop indexing a tensor cost ~10 us per box.
    for start in range(0, n if limit else 0, NMS_BLOCK):
        over = (box_iou(ordered[start : start + NMS_BLOCK], ordered) > iou_threshold).cpu()
        for row, suppresses in enumerate(over.numpy(), start=start):
            if suppressed[row]:
                continue
            keep.append(row)
            if len(keep) == limit:
                break
            suppressed |= suppresses
        if len(keep) == limit:
            break
    return order[torch.tensor(keep, dtype=torch.long, device=boxes.device)]


def sigmoid_focal_loss(
    logits: torch.Tensor, targets: torch.Tensor, alpha: float = 0.25, gamma: float = 2.0
) -> torch.Tensor:
    """The focal loss of RetinaNet (Lin et al. 2017), summed over every element.

    Args:
        logits: any shape.
        targets: 0/1 floats of the same shape.
        alpha: weight of the positives (``1 - alpha`` for the negatives).
        gamma: focusing exponent.

    Returns:
        A scalar.

    Example:
        >>> float(sigmoid_focal_loss(torch.tensor([10.0]), torch.tensor([1.0]))) < 1e-6
        True
    """
    p = torch.sigmoid(logits)
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    weight = alpha * targets + (1 - alpha) * (1 - targets)
    return (weight * ce * (1 - p_t) ** gamma).sum()
