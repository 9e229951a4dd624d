"""Non-maximum suppression that stops at the boxes a caller keeps, and the decoder that
uses it: the same boxes as suppressing all of them, for a few IoU rows."""

from __future__ import annotations

import pytest
import torch

import nasbench.models.boxes as boxes_module
from nasbench.models.boxes import NMS_BLOCK, box_iou, nms
from nasbench.models.detector import DetectionHead, decode_detections


def _greedy(boxes: torch.Tensor, scores: torch.Tensor, threshold: float) -> list[int]:
    """The textbook rule on the full IoU matrix, one box at a time."""
    order = scores.argsort(descending=True)
    iou = box_iou(boxes[order], boxes[order])
    kept: list[int] = []
    for i in range(len(order)):
        if all(float(iou[j, i]) <= threshold for j in kept):
            kept.append(i)
    return order[kept].tolist()


def _random_boxes(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    corner = torch.rand(n, 2, generator=gen) * 60
    boxes = torch.cat([corner, corner + 2 + torch.rand(n, 2, generator=gen) * 8], dim=1)
    return boxes, torch.rand(n, generator=gen)


@pytest.mark.parametrize("n", [1, NMS_BLOCK, 3 * NMS_BLOCK + 5])
def test_nms_over_several_blocks_equals_the_greedy_rule_and_max_kept_is_its_prefix(n):
    boxes, scores = _random_boxes(n, seed=n)
    full = nms(boxes, scores, 0.3)
    assert full.tolist() == _greedy(boxes, scores, 0.3)
    for max_kept in (0, 1, 7, len(full), len(full) + 3):
        assert nms(boxes, scores, 0.3, max_kept=max_kept).tolist() == full.tolist()[:max_kept]


def test_a_negative_max_kept_is_a_one_line_error():
    boxes, scores = _random_boxes(4, seed=0)
    with pytest.raises(ValueError, match="max_kept must be None or a count >= 0, got -1"):
        nms(boxes, scores, 0.5, max_kept=-1)


def _detector_output(seed: int, ties: bool = False) -> torch.Tensor:
    torch.manual_seed(seed)
    head = DetectionHead(4, 1, 4)
    features = torch.randn(2, 4, 32, 32, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        out = head(features, stride=2)
    if ties:  # class logits on a coarse grid: many boxes share a score
        out[..., 0] = (out[..., 0] * 2).round() / 2
    return out


def _same_as_full_suppression(out: torch.Tensor, max_detections: int) -> bool:
    found = decode_detections(out, max_detections=max_detections)
    everything = decode_detections(out, max_detections=None)  # every kept box, best first
    return all(
        torch.equal(got[key], whole[key][:max_detections])
        for got, whole in zip(found, everything, strict=True)
        for key in ("boxes", "scores", "labels")
    )


def test_decoding_an_untrained_detector_computes_a_few_iou_rows_for_the_same_boxes(
    monkeypatch,
):
    out = _detector_output(seed=2)  # 1024 locations per image, all above the threshold
    rows = []

    def counting_iou(a, b):
        rows.append(a.shape[0])
        return box_iou(a, b)

    monkeypatch.setattr(boxes_module, "box_iou", counting_iou)
    found = decode_detections(out)
    assert [len(f["boxes"]) for f in found] == [20, 20]
    # One block per image (the 21 best kept boxes lie in the first 64), not 1024 rows.
    assert sum(rows) <= 2 * NMS_BLOCK
    monkeypatch.undo()
    for max_detections in (0, 1, 20):
        assert _same_as_full_suppression(out, max_detections)
        # Tied scores (class logits on a coarse grid): the cut falls back to the full walk.
        assert _same_as_full_suppression(_detector_output(seed=1, ties=True), max_detections)
