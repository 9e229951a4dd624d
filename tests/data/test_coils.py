"""Multi-coil acquisitions: birdcage maps, SENSE operators, the 4C+1 layout, the coils option."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import nasbench.data
from nasbench.data.kspace import (
    birdcage_maps,
    coils_of,
    draw_mask,
    fft2c,
    ifft2c,
    sample_channels,
    sense_expand,
    sense_reduce,
    undersample,
    unpack,
    zero_filled_magnitude,
)
from nasbench.errors import DatasetError


def _inner(a: torch.Tensor, b: torch.Tensor) -> complex:
    return complex((a.conj() * b).sum().to(torch.complex128))


def _random_complex(*shape: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.complex(torch.randn(*shape, generator=g), torch.randn(*shape, generator=g))


def test_birdcage_maps_are_normalised_and_follow_sigpys_model():
    maps = birdcage_maps(4, 32)
    assert maps.shape == (4, 32, 32) and maps.dtype == torch.complex64
    assert torch.allclose(maps.abs().pow(2).sum(0), torch.ones(32, 32), atol=1e-5)
    # Coil 0 sits on the +x side (angle 0): it sees the right edge more than the left.
    assert maps[0, 16, -1].abs() > 2 * maps[0, 16, 0].abs()
    # By hand at the centre of a 4x4 grid with two coils at (+-1.5, 0): equal distance,
    # phase atan2(-+1.5, 0) - angle = -pi/2 for both, so S = -i / sqrt(2).
    centre = birdcage_maps(2, 4)[:, 2, 2]
    assert torch.allclose(centre, torch.full((2,), -1j / 2**0.5, dtype=torch.complex64))
    maps[0] = 0  # a copy: the cache is not touched
    assert birdcage_maps(4, 32)[0].abs().sum() > 0


def test_sense_operators_are_adjoint():
    maps = _random_complex(2, 3, 8, 8, seed=0)  # any maps, not only normalised ones
    image, kspace = _random_complex(2, 8, 8, seed=1), _random_complex(2, 3, 8, 8, seed=2)
    mask = draw_mask(8, 2, 0.25, seed=0).reshape(1, 1, 1, 8)
    for coil_maps, k in ((maps, kspace), (None, kspace[:, :1])):
        left = _inner(mask * sense_expand(image, coil_maps), k)
        right = _inner(image, sense_reduce(mask * k, coil_maps))
        assert left == pytest.approx(right, rel=1e-5)


def test_sense_matches_monais_sensitivity_map_expand_and_reduce():
    from monai.apps.reconstruction.networks.nets.utils import (
        sensitivity_map_expand,
        sensitivity_map_reduce,
    )

    maps = birdcage_maps(3, 8)[None]
    image, kspace = _random_complex(1, 8, 8, seed=3), _random_complex(1, 3, 8, 8, seed=4)
    real = torch.view_as_real
    expanded = sensitivity_map_expand(real(image)[:, None], real(maps), spatial_dims=2)
    assert torch.allclose(real(sense_expand(image, maps)), expanded, atol=1e-5)
    reduced = sensitivity_map_reduce(real(kspace), real(maps), spatial_dims=2)
    assert torch.allclose(real(sense_reduce(kspace, maps)), reduced[:, 0], atol=1e-5)


def test_multi_coil_layout_round_trips():
    image, mask, maps = torch.rand(16, 16), draw_mask(16, 4, 0.25, seed=0), birdcage_maps(3, 16)
    x, y = undersample(image, mask, maps)
    assert x.shape == (sample_channels(3), 16, 16) == (13, 16, 16) and coils_of(13) == 3
    assert torch.equal(y[0], image)
    acquired = unpack(x[None])
    assert torch.equal(acquired.maps[0], maps) and torch.equal(acquired.mask[0, 0, 0], mask)
    coil_images = maps * image.to(torch.complex64)
    expected = fft2c(coil_images) * mask
    assert torch.allclose(acquired.kspace[0], expected, atol=1e-5)
    # Channels 2c, 2c + 1 are coil c's k-space, real then imaginary.
    assert torch.equal(x[2], expected[1].real) and torch.equal(x[3], expected[1].imag)
    # Zero-filled = the SENSE combination of the coils' inverse FFTs.
    combined = (maps.conj() * ifft2c(expected)).sum(0)
    assert torch.allclose(acquired.zero_filled[0], combined, atol=1e-5)
    assert torch.allclose(zero_filled_magnitude(x[None])[0, 0], combined.abs(), atol=1e-5)
    # Fully sampled, the combination is the image (the maps' squares sum to 1).
    full, _ = undersample(image, torch.ones(16), maps)
    assert torch.allclose(zero_filled_magnitude(full[None])[0, 0], image, atol=1e-5)


def test_one_coil_is_the_single_coil_path_bit_for_bit():
    # The pre-multi-coil formulas, written out: the default must not move a bit.
    ds = nasbench.data.load("synthetic-recon", "val", size=28)
    one = nasbench.data.load("synthetic-recon", "val", size=28, coils=1)
    assert ds.info.in_channels == one.info.in_channels == 3
    for i in range(3):
        (x, y), (x1, y1) = ds[i], one[i]
        assert torch.equal(x, x1) and torch.equal(y, y1)
        mask = x[2, 0]
        zero_filled = ifft2c(fft2c(y[0].to(torch.complex64)) * mask)
        assert torch.equal(x, torch.stack([zero_filled.real, zero_filled.imag, x[2]]))
        acquired = unpack(x[None])
        assert torch.equal(acquired.kspace[0, 0], fft2c(torch.complex(x[0], x[1])))


def test_coils_option_on_the_synthetic_sets():
    four = nasbench.data.load("synthetic-recon-4coil", "train", size=28, limit=2)
    assert four.info.in_channels == 17 and "4-coil" in four.info.modality
    x, y = four[0]
    assert x.shape == (17, 28, 28) and y.shape == (1, 28, 28)
    two = nasbench.data.load("synthetic-recon", "train", size=28, coils=2)
    assert two[0][0].shape == (9, 28, 28) and two.info.in_channels == 9
    assert two.info.modality == "synthetic MRI (2-coil k-space)"
    # Same phantom and mask as the single-coil set: only the acquisition differs.
    single_x, single_y = nasbench.data.load("synthetic-recon", "train", size=28)[0]
    assert torch.equal(single_y, two[0][1]) and torch.equal(single_x[2], two[0][0][-1])


def test_coils_option_on_the_mni_sets():
    from nasbench.data import mri

    try:
        mri.template_path()
    except DatasetError as err:
        pytest.skip(str(err))
    single = nasbench.data.load("mni152-recon", "val", size=32)
    one = nasbench.data.load("mni152-recon", "val", size=32, coils=1)
    assert torch.equal(single[1][0], one[1][0])
    four = nasbench.data.load("mni152-recon-4coil", "val", size=32)
    (x, y), (x1, y1) = four[1], single[1]
    assert x.shape == (17, 32, 32) and torch.equal(y, y1) and torch.equal(x[-1], x1[2])
    # The 4-coil SENSE zero-filled image is no further from the truth than the
    # single-coil one: the same lines, measured through maps that sum to one.
    error = (zero_filled_magnitude(x[None]) - y).abs().mean()
    assert 0 < error <= (zero_filled_magnitude(x1[None]) - y).abs().mean() + 1e-4


def test_inconsistent_multi_coil_input_is_a_one_line_error():
    image, mask = torch.rand(16, 16), torch.ones(16)
    cases = [
        (lambda: undersample(image, mask, birdcage_maps(2, 8)), r"\(C, 16, 16\)"),
        (lambda: undersample(image, mask, torch.ones(16, 16)), r"\(C, 16, 16\)"),
        (lambda: unpack(torch.zeros(2, 8, 8, 8)), r"\(N, 4C\+1, H, W\).*got 8 channels"),
        (lambda: unpack(torch.zeros(8, 8, 8)), r"\(N, channels, H, W\)"),
        (lambda: birdcage_maps(0, 16), "coils must be an integer"),
        (lambda: birdcage_maps(4, 16, relative_radius=1.0), "inside the image"),
        (lambda: nasbench.data.load("synthetic-recon", "train", size=28, coils=0), "coils"),
        (lambda: nasbench.data.load("synthetic-recon", size=28, coils=2.5), "coils"),
    ]
    for call, message in cases:
        with pytest.raises(DatasetError, match=message) as err:
            call()
        assert "\n" not in str(err.value)


def test_coils_option_on_a_recon_folder(tmp_path):
    nib = pytest.importorskip("nibabel")
    from nasbench.data import mri

    for i in range(3):
        volume = np.zeros((24, 24, 4), np.float32)
        volume[4:20, 6:18] = 100 + i
        nib.save(nib.Nifti1Image(volume, np.eye(4)), tmp_path / f"s{i}.nii.gz")
    info = mri.register_recon_folder(tmp_path, name="two-coil-brains", coils=2)
    assert info.in_channels == 9 and "2-coil" in info.modality
    x, y = nasbench.data.load("two-coil-brains", "train", size=32)[0]
    assert x.shape == (9, 32, 32) and y.shape == (1, 32, 32)
    assert torch.equal(unpack(x[None]).maps[0], birdcage_maps(2, 32))
    with pytest.raises(DatasetError, match="coils must be"):
        mri.register_recon_folder(tmp_path, coils=0)
