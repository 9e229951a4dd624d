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
        (lambda: draw_mask(8, 64, 0.0, seed=0), "samples none"),
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
