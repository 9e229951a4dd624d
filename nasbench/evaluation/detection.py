"""Lesion detection scores: COCO mAP and AP50 (pycocotools), FROC sensitivities, the task.

- :func:`coco_map`: mAP@[.5:.95] and AP50 by pycocotools' ``COCOeval`` (the reference
  implementation behind torchmetrics' ``MeanAveragePrecision``, which itself needs
  torchvision, whose compiled ops do not load beside this CPU torch), scoring every
  detection given rather than COCO's best 100 per image.
- :func:`froc`: the free-response ROC of lesion detection (LUNA16, DeepLesion): the
  sensitivity reached at 0.5, 1, 2 and 4 false positives per image, a detection being a
  hit when its IoU with a not-yet-found lesion reaches ``iou_threshold``.
- :class:`DetectionTask`: what the search and training loops call (loss, step metrics,
  inference, split meter); see :mod:`nasbench.evaluation.tasks`.

Example:
    >>> det = [{"boxes": torch.tensor([[0., 0, 4, 4]]), "scores": torch.tensor([0.9]),
    ...         "labels": torch.tensor([0])}]
    >>> gt = [{"boxes": torch.tensor([[0., 0, 4, 4]]), "labels": torch.tensor([0])}]
    >>> froc(det, gt)["froc_1"]
    1.0
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from nasbench.errors import NasbenchError
from nasbench.models.boxes import box_iou
from nasbench.models.detector import FcosLoss, decode_detections

FP_RATES = (0.5, 1.0, 2.0, 4.0)
COCO_MAX_DETECTIONS = 100  # COCOeval's default cap per image, raised to the most given
# Detections kept per image when a split is scored: the decoder's default, or as many as the
# split's targets have rows (its most lesions in one image), so that none goes unfound
# for want of room.
KEPT_DETECTIONS = 20

Detections = list[dict[str, torch.Tensor]]


def check_detections(
    detections: Detections, truths: Detections, labels_required: bool = True
) -> tuple[Detections, Detections]:
    """Check per-image lists of ``boxes`` ``(N, 4)`` (x1, y1, x2, y2: finite, x2 >= x1,
    y2 >= y1) with one ``labels`` entry (and for detections one finite ``scores`` entry)
    per box, as many detection lists as truth lists; raise a one-line NasbenchError on the
    first that is not.

    Args:
        detections: per image ``boxes``, ``scores``, ``labels``.
        truths: per image ``boxes``, ``labels``.
        labels_required: False lets an entry leave out ``labels`` (one class: all 0), as
            a figure that draws no classes takes them.

    Returns:
        Both lists as tensors (lists and arrays are accepted): boxes ``(N, 4)`` float,
        scores float, labels long.

    Example:
        >>> check_detections([], [])  # no images: nothing to check
        ([], [])
    """
    if len(detections) != len(truths):
        raise NasbenchError(
            f"{len(detections)} detection lists for {len(truths)} images; pass one per image, "
            "in the same order."
        )
    checked: dict[str, Detections] = {}
    for what, items, keys in (
        ("detections", detections, ("boxes", "scores", "labels")),
        ("truths", truths, ("boxes", "labels")),
    ):
        checked[what] = []
        required = keys if labels_required else keys[:-1]
        for i, item in enumerate(items):
            if not isinstance(item, Mapping) or any(key not in item for key in required):
                raise NasbenchError(
                    f"{what}[{i}] must be a dict of tensors {', '.join(keys)}, got "
                    f"{sorted(item) if isinstance(item, Mapping) else type(item).__name__}."
                )
            boxes = torch.as_tensor(item["boxes"]).float()
            if boxes.numel() and (boxes.dim() != 2 or boxes.shape[1] != 4):
                raise NasbenchError(
                    f"{what}[{i}] boxes must be (N, 4) rows x1, y1, x2, y2, got shape "
                    f"{tuple(boxes.shape)}."
                )
            boxes = boxes.reshape(-1, 4)
            if not torch.isfinite(boxes).all():
                raise NasbenchError(f"{what}[{i}] has NaN or infinite boxes; pass finite ones.")
            flipped = (boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1])
            if flipped.any():
                box = [round(float(v), 3) for v in boxes[int(flipped.nonzero()[0, 0])]]
                raise NasbenchError(
                    f"{what}[{i}] has box {box} with x2 < x1 or y2 < y1; boxes are corners "
                    "(x1, y1, x2, y2), not (x, y, width, height) or swapped."
                )
            if what == "truths":
                flat = (boxes[:, 2] == boxes[:, 0]) | (boxes[:, 3] == boxes[:, 1])
                if flat.any():
                    box = [round(float(v), 3) for v in boxes[int(flat.nonzero()[0, 0])]]
                    raise NasbenchError(
                        f"truths[{i}] has box {box} of zero width or height, which no "
                        "detection can overlap (IoU 0); drop it or give it its lesion's extent."
                    )
            out = {"boxes": boxes}
            for key in keys[1:]:
                if key not in item:  # labels, when not required: the one class 0
                    out[key] = torch.zeros(len(boxes), dtype=torch.long, device=boxes.device)
                    continue
                values = torch.as_tensor(item[key]).reshape(-1)
                if len(values) != len(boxes):
                    raise NasbenchError(
                        f"{what}[{i}] has {len(boxes)} boxes but {len(values)} {key}; give "
                        "one per box."
                    )
                if key == "scores" and not torch.isfinite(values.float()).all():
                    raise NasbenchError(
                        f"{what}[{i}] has NaN or infinite scores; pass finite scores."
                    )
                out[key] = values.float() if key == "scores" else values.long()
            checked[what].append(out)
    return checked["detections"], checked["truths"]


def froc_curve(
    detections: Detections, truths: Detections, iou_threshold: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Free-response ROC points: false positives per image and sensitivity, per threshold.

    Detections of every image are pooled and sorted by score; walking down the list, a
    detection is a true positive when it matches (IoU >= ``iou_threshold``, same label)
    a lesion of its image that no higher-scoring detection matched, else a false positive.

    Args:
        detections: per image ``boxes``, ``scores``, ``labels``.
        truths: per image ``boxes``, ``labels``.
        iou_threshold: the IoU a hit needs.

    Returns:
        ``(fps_per_image, sensitivity)``, one entry per distinct score (a threshold), from
        the highest: detections of equal score are kept or dropped together, so the curve
        does not depend on the order of the images. With no lesion in ``truths`` at all
        the sensitivity is undefined: every entry is NaN.

    Example:
        >>> det = [{"boxes": torch.tensor([[0.0, 0, 4, 4]]), "scores": torch.tensor([0.9]),
        ...         "labels": torch.tensor([0])}]
        >>> gt = [{"boxes": torch.tensor([[0.0, 0, 4, 4]]), "labels": torch.tensor([0])}]
        >>> froc_curve(det, gt)
        (array([0.]), array([1.]))
        >>> froc_curve(det, [{"boxes": torch.zeros(0, 4), "labels": torch.zeros(0)}])
        (array([1.]), array([nan]))
    """
    return _froc_points(detections, truths, iou_threshold)[:2]


def _froc_points(
    detections: Detections, truths: Detections, iou_threshold: float
) -> tuple[np.ndarray, np.ndarray, int]:
    """:func:`froc_curve`'s points, and the number of lesions they were counted against."""
    detections, truths = check_detections(detections, truths)
    if not 0.0 < iou_threshold <= 1.0:
        raise NasbenchError(f"iou_threshold must be in (0, 1], got {iou_threshold!r}.")
    n_lesions = sum(len(t["boxes"]) for t in truths)
    rows = []  # (score, image, detection index)
    for i, det in enumerate(detections):
        rows += [(float(s), i, j) for j, s in enumerate(det["scores"])]
    rows.sort(key=lambda r: -r[0])
    # On the boxes' device: the IoUs they are masked with live there.
    found = [
        torch.zeros(len(t["boxes"]), dtype=torch.bool, device=t["boxes"].device) for t in truths
    ]
    ious = [
        box_iou(d["boxes"].float(), t["boxes"].float()) if len(t["boxes"]) else None
        for d, t in zip(detections, truths, strict=True)
    ]
    tp = fp = 0
    fps, sens = [], []
    for k, (score, i, j) in enumerate(rows):
        hit = False
        if ious[i] is not None:
            same = truths[i]["labels"] == detections[i]["labels"][j]
            candidates = (ious[i][j] >= iou_threshold) & same & ~found[i]
            if candidates.any():
                best = torch.where(candidates, ious[i][j], torch.tensor(-1.0)).argmax()
                found[i][best] = True
                hit = True
        tp, fp = tp + hit, fp + (not hit)
        if k + 1 < len(rows) and rows[k + 1][0] == score:
            continue  # a threshold cannot split a tie: the point comes after the last of them
        fps.append(fp / len(truths))
        # No lesion to find: a sensitivity of 0 would read as a detector that missed them.
        sens.append(tp / n_lesions if n_lesions else np.nan)
    return np.asarray(fps, dtype=float), np.asarray(sens, dtype=float), n_lesions


def froc(
    detections: Detections,
    truths: Detections,
    rates: Sequence[float] = FP_RATES,
    iou_threshold: float = 0.5,
) -> dict[str, float]:
    """Sensitivity at given false-positive rates per image, and their mean (``froc``).

    The sensitivity at a rate is the highest reached while the false positives per image
    stay at or below it (0 when even the first detection is a false positive beyond it).

    Args:
        detections: per image ``boxes``, ``scores``, ``labels``.
        truths: per image ``boxes``, ``labels``.
        rates: false positives per image.
        iou_threshold: the IoU a hit needs.

    Returns:
        ``froc_<rate>`` per rate (``froc_0.5``, ``froc_1``, ...) and ``froc`` (their mean);
        all NaN when ``truths`` hold no lesion at all (the sensitivity is undefined; a run
        store keeps NaN as a missing value).

    Example:
        >>> det = [{"boxes": torch.tensor([[0.0, 0, 4, 4]]), "scores": torch.tensor([0.9]),
        ...         "labels": torch.tensor([0])}]
        >>> gt = [{"boxes": torch.tensor([[0.0, 0, 4, 4]]), "labels": torch.tensor([0])}]
        >>> froc(det, gt)["froc_1"], froc(det, [{"boxes": [], "labels": []}])["froc_1"]
        (1.0, nan)
    """
    rates = list(rates)
    if not rates or any(not 0 <= rate < float("inf") for rate in rates):
        raise NasbenchError(
            f"rates must be one or more false positives per image >= 0, got {rates}."
        )
    fps, sens, n_lesions = _froc_points(detections, truths, iou_threshold)
    if not n_lesions:
        return {**{f"froc_{rate:g}": math.nan for rate in rates}, "froc": math.nan}
    out = {}
    for rate in rates:
        within = sens[fps <= rate + 1e-12]
        out[f"froc_{rate:g}"] = float(within.max()) if len(within) else 0.0
    out["froc"] = float(np.mean([out[f"froc_{r:g}"] for r in rates]))
    return out


def coco_map(
    detections: Detections, truths: Detections, image_size: tuple[int, int]
) -> dict[str, float]:
    """mAP@[.5:.95] (``map``) and AP50 (``ap50``) by pycocotools' ``COCOeval``.

    Args:
        detections: per image ``boxes`` ``(x1, y1, x2, y2)``, ``scores``, ``labels``.
        truths: per image ``boxes``, ``labels``.
        image_size: ``(H, W)`` of the images.

    Returns:
        ``map`` and ``ap50`` in [0, 1] (0 when there are no detections at all).
    """
    try:
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    except ImportError:
        raise NasbenchError(
            "detection mAP needs pycocotools; install it with `pip install pycocotools`."
        ) from None
    detections, truths = check_detections(detections, truths)
    if (
        not isinstance(image_size, (tuple, list))
        or len(image_size) != 2
        or any(not isinstance(v, (int, np.integer)) or v < 1 for v in image_size)
    ):
        raise NasbenchError(f"image_size must be (height, width) in pixels, got {image_size!r}.")
    h, w = (int(v) for v in image_size)
    labels = sorted({int(c) for t in truths for c in t["labels"]} | {0})
    gt = {"images": [], "annotations": [], "categories": [{"id": c + 1} for c in labels]}
    results = []
    for i, (det, truth) in enumerate(zip(detections, truths, strict=True)):
        gt["images"].append({"id": i + 1, "height": h, "width": w})
        for box, label in zip(truth["boxes"].tolist(), truth["labels"].tolist(), strict=True):
            bw, bh = box[2] - box[0], box[3] - box[1]
            gt["annotations"].append(
                {
                    "id": len(gt["annotations"]) + 1,
                    "image_id": i + 1,
                    "category_id": int(label) + 1,
                    "bbox": [box[0], box[1], bw, bh],
                    "area": bw * bh,
                    # Every truth is a lesion: read_coco refuses crowd (ignore) regions.
                    "iscrowd": 0,
                }
            )
        for box, score, label in zip(
            det["boxes"].tolist(), det["scores"].tolist(), det["labels"].tolist(), strict=True
        ):
            results.append(
                {
                    "image_id": i + 1,
                    "category_id": int(label) + 1,
                    "bbox": [box[0], box[1], box[2] - box[0], box[3] - box[1]],
                    "score": float(score),
                }
            )
    if not results or not gt["annotations"]:
        return {"map": 0.0, "ap50": 0.0}
    # pycocotools prints its progress; a split's scores are all we want from it.
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = gt
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(results)
        evaluator = COCOeval(coco_gt, coco_dt, "bbox")
        # COCO scores the best 100 detections of an image: a slide or scan with more lesions
        # than that would have the rest counted as missed. Every detection is scored here.
        most = max(len(det["boxes"]) for det in detections)
        evaluator.params.maxDets = [1, 10, max(COCO_MAX_DETECTIONS, most)]
        evaluator.evaluate()
        evaluator.accumulate()
    # As COCOeval.summarize averages them (its first two stats), at the raised cap, which
    # summarize's first stat would not look up: IoU x recall x class, all areas.
    precision = evaluator.eval["precision"][:, :, :, 0, -1]
    at_half = precision[np.isclose(evaluator.params.iouThrs, 0.5)]
    return {"map": _mean_precision(precision), "ap50": _mean_precision(at_half)}


def _mean_precision(precision: np.ndarray) -> float:
    """The mean of COCOeval's precisions that exist (-1 marks a class with no truth), or 0."""
    present = precision[precision > -1]
    return float(present.mean()) if present.size else 0.0


def truths_of(target: torch.Tensor) -> Detections:
    """Ground truth per image from a batch of padded targets ``(N, MAX_BOXES, 5)``.

    Example:
        >>> target = torch.tensor([[[1.0, 1.0, 5.0, 5.0, 0.0], [-1, -1, -1, -1, -1]]])
        >>> [len(t["boxes"]) for t in truths_of(target)]
        [1]
    """
    target = torch.as_tensor(target)
    if target.dim() != 3 or target.shape[-1] != 5:
        raise NasbenchError(
            f"detection targets are a batch (N, boxes, 5) of x1, y1, x2, y2, label rows "
            f"(label -1 pads); got shape {tuple(target.shape)}."
        )
    out = []
    for t in target:
        keep = t[:, 4] >= 0
        out.append({"boxes": t[keep, :4].float(), "labels": t[keep, 4].long()})
    return out


def kept_detections(target: torch.Tensor) -> int:
    """Detections to keep per image of a batch of padded targets ``(N, boxes, 5)``: at
    least :data:`KEPT_DETECTIONS`, and one per target row.

    Example:
        >>> kept_detections(torch.zeros(2, 64, 5))
        64
    """
    return max(KEPT_DETECTIONS, int(torch.as_tensor(target).shape[1]))


def image_size_of(out: torch.Tensor) -> tuple[int, int]:
    """``(H, W)`` of the images a detector output ``(N, L, K + 8)`` was computed on.

    The last location is the bottom-right cell of the grid that tiles the image, so its
    centre plus half a stride is the image's width (x) and height (y).

    Example:
        >>> out = torch.zeros(1, 4, 9)
        >>> out[0, -1, -3:] = torch.tensor([12.0, 4.0, 8.0])  # x, y, stride
        >>> image_size_of(out)
        (8, 16)
    """
    x, y, stride = (float(v) for v in out[0, -1, -3:])
    return round(y + stride / 2), round(x + stride / 2)


class DetectionMeter:
    """Collects a split's detections and boxes; scores them at the end.

    Args:
        loss_fn: when given, ``result()`` also holds ``loss`` (mean over batches).
    """

    def __init__(self, loss_fn: nn.Module | None = None) -> None:
        self.loss_fn = loss_fn
        self.detections: Detections = []
        self.truths: Detections = []
        self.image_size: tuple[int, int] | None = None
        self._losses: list[float] = []

    def update(self, out: torch.Tensor, target: torch.Tensor) -> None:
        """Add a batch of detector outputs ``(N, L, K + 8)`` and padded targets."""
        out, target = out.detach().float().cpu(), target.detach().cpu()
        self.image_size = image_size_of(out)
        self.detections += decode_detections(
            out, image_size=self.image_size, max_detections=kept_detections(target)
        )
        self.truths += truths_of(target)
        if self.loss_fn is not None:
            self._losses.append(float(self.loss_fn(out, target)))

    def result(self) -> dict[str, float]:
        """``map``, ``ap50``, ``froc`` and ``froc_<rate>`` (and ``loss``); the FROC ones
        NaN when the split holds no lesion (the run store keeps them as missing)."""
        out = coco_map(self.detections, self.truths, self.image_size or (1, 1))
        out.update(froc(self.detections, self.truths))
        if self.loss_fn is not None:
            out["loss"] = float(np.mean(self._losses))
        return out


class DetectionTask:
    """Lesion detection: FCOS losses, AP50 to select on, mAP and FROC per split.

    Example:
        >>> task = DetectionTask()
        >>> task.select, task.primary
        ('ap50', 'ap50')
    """

    kind = "detection"
    select = "ap50"
    primary = "ap50"
    name = "detection"

    def loss(self) -> nn.Module:
        """:class:`~nasbench.models.detector.FcosLoss`."""
        return FcosLoss()

    def target(self, y: torch.Tensor) -> torch.Tensor:
        """Padded box targets ``(N, MAX_BOXES, 5)`` as floats."""
        return y.float()

    def batch_metrics(self, out: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
        """``froc``: the batch's mean FROC sensitivity (cheap; no COCO evaluation); NaN
        for a batch without lesions, which the run store logs as missing."""
        # Scored on the CPU, as DetectionMeter.update does: the search step hands over its
        # output and targets on the search device, and this walk is per detection anyway.
        out, y = out.detach().float().cpu(), y.detach().cpu()
        # Clipped to the image: a diverging box regression (exp of a large output) then
        # scores as a wrong box, not as a non-finite one the checks refuse.
        found = decode_detections(
            out, image_size=image_size_of(out), max_detections=kept_detections(y)
        )
        return {"froc": froc(found, truths_of(y))["froc"]}

    def infer(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """A plain forward pass (the per-location predictions)."""
        return model(x)

    def meter(self, loss_fn: nn.Module | None = None, full: bool = True) -> DetectionMeter:
        """A split accumulator."""
        return DetectionMeter(loss_fn)


def predict_split(
    model: nn.Module, dataset: Any, limit: int | None = None, batch_size: int = 32
) -> tuple[torch.Tensor, Detections, Detections]:
    """Run a detector over (the first ``limit`` items of) a detection split.

    Args:
        model: a detector (its output ``(N, L, K + 8)``); put in eval mode here.
        dataset: items ``(image, padded target)``.
        limit: items to take (None: all).
        batch_size: images per forward.

    Returns:
        ``(images, detections, truths)``: the images ``(N, C, H, W)``, and per image the
        decoded detections and the ground truth.

    Example:
        >>> test = load("synthetic-lesions", "test")  # doctest: +SKIP
        >>> images, found, truths = predict_split(net, test, limit=8)  # doctest: +SKIP
    """
    n = len(dataset) if limit is None else min(int(limit), len(dataset))
    items = [dataset[i] for i in range(n)]
    images = torch.stack([torch.as_tensor(x) for x, _ in items])
    targets = torch.stack([torch.as_tensor(y) for _, y in items])
    model.eval()
    size = tuple(images.shape[-2:])
    detections: Detections = []
    with torch.no_grad():
        for start in range(0, n, batch_size):
            out = model(images[start : start + batch_size])
            detections += decode_detections(
                out, image_size=size, max_detections=kept_detections(targets)
            )
    return images, detections, truths_of(targets)
