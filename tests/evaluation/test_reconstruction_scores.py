"""Reconstruction scores refuse batches MONAI would fail on deep inside, in one line."""

from __future__ import annotations

import pytest
import torch

from nasbench.errors import ConfigError
from nasbench.evaluation.reconstruction import ReconstructionLoss, per_image_scores


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((2, 16, 16, 1), r"\(N, 1, H, W\) .* got \(2, 16, 16, 1\) .*\(channels last"),
        ((0, 1, 16, 16), "at least one image; the batch is empty"),
        ((2, 1, 5, 16), r"\(5, 16\) pixels are smaller than the SSIM window \(7\)"),
    ],
)
def test_a_batch_monai_would_fail_on_is_one_line(shape, message):
    images = torch.rand(shape)
    for score in (per_image_scores, ReconstructionLoss()):
        with pytest.raises(ConfigError, match=message) as err:
            score(images, images.clone())
        assert "\n" not in str(err.value)


def test_the_smallest_window_sized_batch_scores():
    images = torch.rand(1, 1, 7, 7)
    assert per_image_scores(images, images)["psnr"].tolist() == [100.0]
