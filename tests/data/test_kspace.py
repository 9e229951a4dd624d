"""The single-coil forward model: FFT round trips, MONAI masks, the sample layout, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nasbench.data.kspace import (
    birdcage_maps,
    draw_mask,
    fft2c,
    ifft2c,
    undersample,
    unpack,
    zero_filled_magnitude,
)
from nasbench.errors import DatasetError


def test_centred_fft_is_orthonormal_and_inverted():
    image = torch.randn(2, 8, 6, dtype=torch.complex64)
    kspace = fft2c(image)
    assert torch.allclose(ifft2c(kspace), image, atol=1e-5)
    assert torch.allclose(kspace.abs().pow(2).sum(), image.abs().pow(2).sum(), rtol=1e-4)
    # A constant image puts all its energy at the centre of k-space.
    centre = fft2c(torch.ones(8, 8, dtype=torch.complex64)).abs()
    assert centre[4, 4] == pytest.approx(8.0) and float(centre.sum()) == pytest.approx(8.0)


@pytest.mark.parametrize("kind", ["random", "equispaced"])
@pytest.mark.parametrize("acceleration", [4, 8])
def test_masks_keep_the_centre_and_the_rate(kind, acceleration):
    mask = draw_mask(64, acceleration, kind=kind, seed=3)
    centre = round(64 * {4: 0.08, 8: 0.04}[acceleration])
    start = (64 - centre + 1) // 2
    assert mask[start : start + centre].all()
    assert set(mask.unique().tolist()) <= {0.0, 1.0}
    assert 64 / acceleration / 2 <= float(mask.sum()) <= 64 / acceleration * 1.6
    assert torch.equal(mask, draw_mask(64, acceleration, kind=kind, seed=3))


@pytest.mark.parametrize("kind", ["random", "equispaced"])
@pytest.mark.parametrize("columns", [16, 32, 33, 64])
def test_every_acceleration_samples_the_centre_column_for_every_seed(kind, columns):
    # Up to one column in `columns`: the default centre never rounds to nothing, and the
    # centre alone may spend the whole budget (MONAI's own formulas divide by zero there).
    middle = columns // 2  # in every centre, as MONAI places it: from (columns - c + 1) // 2
    for acceleration in (2, 3, 5, 8, columns // 2, columns - 1, columns, 2 * columns):
        for seed in range(8):
            mask = draw_mask(columns, acceleration, kind=kind, seed=seed)
            assert mask[middle] == 1, (acceleration, seed)
            assert 1 <= mask.sum() <= max(1, round(columns / acceleration * 1.6) + 1)


@pytest.mark.parametrize("kind", ["random", "equispaced"])
def test_a_centre_of_every_column_is_a_fully_sampled_mask(kind):
    assert torch.equal(draw_mask(64, 4, 1.0, kind=kind), torch.ones(64))
    assert torch.equal(draw_mask(32, 8, 0.99, kind=kind), torch.ones(32))  # rounds to 32


def test_a_centre_that_spends_the_budget_is_the_whole_mask():
    for kind in ("random", "equispaced"):
        mask = draw_mask(32, 8, 0.125, kind=kind)  # 4 centre columns = 32 / 8
        assert mask.nonzero().flatten().tolist() == [14, 15, 16, 17]


def test_random_masks_differ_by_seed():
    assert not torch.equal(draw_mask(64, 4, seed=0), draw_mask(64, 4, seed=1))


def test_sample_layout_round_trips_the_measured_kspace():
    image = torch.rand(16, 16)
    mask = draw_mask(16, 4, 0.25, seed=0)
    x, y = undersample(image, mask)
    assert x.shape == (3, 16, 16) and torch.equal(y[0], image)
    zero_filled, kspace, unpacked_mask, maps = unpack(x[None])
    assert torch.equal(unpacked_mask[0, 0, 0], mask) and maps is None
    expected = fft2c(image.to(torch.complex64)) * mask
    assert kspace.shape == (1, 1, 16, 16)
    assert torch.allclose(kspace[0, 0], expected, atol=1e-5)
    assert torch.allclose(zero_filled_magnitude(x[None])[0, 0], zero_filled[0].abs())
    # Fully sampled: the zero-filled image is the image.
    full, _ = undersample(image, torch.ones(16))
    assert torch.allclose(zero_filled_magnitude(full[None])[0, 0], image, atol=1e-5)


def test_bad_input_is_a_one_line_error():
    image = torch.rand(16, 16)
    cases = [
        (lambda: draw_mask(8, 64, 0.0, seed=0), "keeps none of the 8 k-space columns"),
        (lambda: draw_mask(64, 4, 0.001), r"pass at least 0.0156 \(one column\)"),
        (lambda: draw_mask(64, 4, seed=-1), r"seed must be an integer in \[0, 2\*\*32\)"),
        (lambda: draw_mask(64, 4, seed=2**70), "seed must be an integer"),
        (lambda: draw_mask(64, 4, seed=1.5), "got 1.5"),
        (lambda: undersample(image, torch.zeros(16)), "sample at least one"),
        (lambda: undersample(torch.rand(15, 16), torch.ones(16)), "odd edge"),
        (lambda: undersample(image.to(torch.complex64), torch.ones(16)), "complex values"),
        (lambda: undersample(np.zeros((2, 8, 8)), torch.ones(8)), "one 2D slice"),
        (lambda: draw_mask(16, 4, kind="radial"), "mask kind"),
        (lambda: draw_mask(16, 0), "acceleration"),
        (lambda: unpack(torch.zeros(2, 1, 8, 8)), r"\(N, 3, H, W\)"),
        (lambda: birdcage_maps(2, -1), "image size must be a whole number of pixels >= 2"),
    ]
    for call, message in cases:
        with pytest.raises(DatasetError, match=message) as err:
            call()
        assert "\n" not in str(err.value)


def test_lists_and_numpy_batches_are_taken_as_tensors():
    mask = draw_mask(8, 2, 0.5, seed=0)
    image = torch.rand(8, 8)
    x, _ = undersample(image.tolist(), mask)
    torch.testing.assert_close(x, undersample(image, mask)[0])
    assert [tuple(t.shape) for t in unpack(x[None].numpy())[:3]] == [(1, 8, 8), (1, 1, 8, 8),
                                                                      (1, 1, 1, 8)]  # fmt: skip
