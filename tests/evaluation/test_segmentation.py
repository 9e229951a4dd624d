"""MONAI's segmentation loss and metrics, the sliding-window inferer, one-line errors."""

from __future__ import annotations

import math

import pytest
import torch

from nasbench.errors import ConfigError
from nasbench.evaluation.segmentation import (
    SegmentationMeter,
    class_slug,
    segmentation_loss,
    sliding_window_segment,
)

NAMES = ("background", "organ", "lesion")


def _perfect(mask: torch.Tensor, k: int = 3) -> torch.Tensor:
    return torch.nn.functional.one_hot(mask[:, 0], k).movedim(-1, 1).float() * 10


def test_dice_per_class_hd95_and_absent_classes():
    mask = torch.zeros(2, 1, 16, 16, dtype=torch.long)
    mask[:, :, 4:10, 4:10] = 1
    meter = SegmentationMeter(NAMES, hausdorff=True, loss_fn=segmentation_loss())
    meter.update(_perfect(mask), mask)
    scores = meter.result()
    assert scores["dice_organ"] == pytest.approx(1.0) and scores["hd95"] == 0.0
    assert math.isnan(scores["dice_lesion"])  # no lesion anywhere: undefined, not 0
    assert scores["dice"] == pytest.approx(1.0) and scores["loss"] < 0.5
    assert class_slug("Left atrium") == "left_atrium"


def test_a_missed_or_imagined_structure_costs_the_image_diagonal_in_hd95():
    mask = torch.zeros(2, 1, 16, 16, dtype=torch.long)
    mask[:, :, 4:10, 4:10] = 1
    found = _perfect(mask)
    missed = found.clone()
    missed[1, 1] = -10  # image 1: the organ is not predicted at all
    both = SegmentationMeter(NAMES, hausdorff=True)
    both.update(found, mask)
    one = SegmentationMeter(NAMES, hausdorff=True)
    one.update(missed, mask)
    diagonal = math.sqrt(15**2 + 15**2)
    assert both.result()["hd95"] == 0.0
    assert one.result()["hd95"] == pytest.approx(diagonal / 2)  # (0 + diagonal) / 2 images
    empty = torch.zeros(1, 1, 16, 16, dtype=torch.long)
    imagined = SegmentationMeter(NAMES, hausdorff=True)
    imagined.update(_perfect(mask[:1]), empty)  # an organ predicted where there is none
    assert imagined.result()["hd95"] == pytest.approx(diagonal)
    nothing = SegmentationMeter(NAMES, hausdorff=True)
    nothing.update(_perfect(empty), empty)  # nothing to find, nothing found: undefined
    assert math.isnan(nothing.result()["hd95"])


def test_masks_that_do_not_fit_the_logits_are_one_line_errors():
    loss = segmentation_loss()
    with pytest.raises(ConfigError, match="holds label 3 but the network predicts 3") as err:
        loss(torch.zeros(1, 3, 8, 8), torch.full((1, 1, 8, 8), 3))
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="the size of the masks"):
        loss(torch.zeros(1, 3, 8, 8), torch.zeros(1, 1, 8, 6))


def test_sliding_window_covers_a_larger_volume():
    net = torch.nn.Conv3d(1, 2, 3, padding=1)
    x = torch.randn(1, 1, 12, 12, 12)
    with torch.no_grad():
        assert torch.allclose(sliding_window_segment(net, x), net(x), atol=1e-6)
        assert sliding_window_segment(net, x, roi_size=8).shape == (1, 2, 12, 12, 12)
    with pytest.raises(ConfigError, match="roi_size"):
        sliding_window_segment(net, x, roi_size=(8, 8))
