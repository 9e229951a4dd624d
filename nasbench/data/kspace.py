"""The MRI forward model: image -> (coil maps) -> k-space -> mask -> zero-filled image.

A reconstruction sample is stored in one tensor so that every loop, loader and
network of the project carries it unchanged; its channel count says its layout.

- Single coil (3 channels, the default): the real and imaginary parts of the
  zero-filled image and the sampling mask (one value per k-space column, repeated
  down the rows). The measured k-space is ``fft2c(zero_filled)``.
- ``C`` coils (``4C + 1`` channels): channels ``2c, 2c + 1`` are the real and imaginary
  parts of coil ``c``'s measured (masked) k-space, ``2C + 2c, 2C + 2c + 1`` those of its
  sensitivity map, and the last channel is the mask. Every coil shares the mask.
  Coil ``c`` measures ``mask * fft2c(S_c * image)`` (SENSE, Pruessmann et al., 1999).

``y`` is the fully sampled magnitude image ``(1, H, W)`` in both layouts, and
:func:`unpack` gives any network what it needs from ``x`` alone.

The centred orthonormal FFT is MONAI's convention (``fftn_centered_t``), so MONAI's
VarNet reads the same k-space. Masks come from MONAI's ``RandomKspaceMask`` and
``EquispacedKspaceMask``: Cartesian lines along the second image axis with a fully
sampled centre, as fastMRI draws them. Sensitivity maps are simulated birdcage maps
(:func:`birdcage_maps`).

Example:
    >>> image = torch.rand(64, 64)
    >>> mask = draw_mask(64, acceleration=4, seed=0)
    >>> x, y = undersample(image, mask)
    >>> tuple(x.shape), tuple(y.shape)
    ((3, 64, 64), (1, 64, 64))
    >>> x4, _ = undersample(image, mask, birdcage_maps(4, 64))
    >>> tuple(x4.shape), coils_of(x4.shape[0])
    ((17, 64, 64), 4)
"""

from __future__ import annotations

import dataclasses
import functools
import numbers
import re
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import torch

from nasbench.errors import DatasetError

if TYPE_CHECKING:
    from nasbench.data.registry import DatasetInfo

MASK_KINDS = ("random", "equispaced")
# fastMRI's pairs: 8% of the centre lines at 4x, 4% at 8x.
CENTER_FRACTIONS = {4: 0.08, 8: 0.04}
_MASK_SEEDS = 2**32  # numpy's RandomState, which MONAI's masks draw from, takes 32 bits


def fft2c(image: torch.Tensor) -> torch.Tensor:
    """Centred orthonormal 2D FFT over the last two axes (complex in, complex out).

    Example:
        >>> k = fft2c(torch.ones(4, 4, dtype=torch.complex64))
        >>> float(k.abs().max())
        4.0
    """
    shifted = torch.fft.ifftshift(image, dim=(-2, -1))
    return torch.fft.fftshift(torch.fft.fft2(shifted, norm="ortho"), dim=(-2, -1))


def ifft2c(kspace: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`fft2c`.

    Example:
        >>> image = torch.randn(4, 4, dtype=torch.complex64)
        >>> bool(torch.allclose(ifft2c(fft2c(image)), image, atol=1e-6))
        True"""
    shifted = torch.fft.ifftshift(kspace, dim=(-2, -1))
    return torch.fft.fftshift(torch.fft.ifft2(shifted, norm="ortho"), dim=(-2, -1))


def check_real(image: np.ndarray | torch.Tensor, where: str = "image") -> None:
    """Raise a one-line DatasetError when ``image`` holds complex values.

    Example:
        >>> check_real(np.zeros((2, 2)))  # real: no error
    """
    if torch.is_tensor(image) and image.is_complex() or np.iscomplexobj(image):
        raise DatasetError(
            f"{where} holds complex values; reconstruction targets are magnitude images, so "
            "pass abs(image) (or the real part)."
        )


def check_magnitude_image(image: np.ndarray | torch.Tensor, where: str = "image") -> None:
    """Raise a one-line DatasetError unless ``image`` is a real 2D image of even size.

    Args:
        image: an ``(H, W)`` array.
        where: what it is, for the message (a file name).
    """
    check_real(image, where)
    if image.ndim != 2:
        raise DatasetError(f"{where} has shape {tuple(image.shape)}; expected one 2D slice (H, W).")
    odd = [n for n in image.shape if n % 2]
    if odd:
        raise DatasetError(
            f"{where} has an odd edge ({tuple(image.shape)}); the centred FFT needs even "
            "edge lengths, so crop or pad it by one pixel."
        )


def draw_mask(
    columns: int,
    acceleration: int = 4,
    center_fraction: float | None = None,
    kind: str = "random",
    seed: int = 0,
) -> torch.Tensor:
    """A Cartesian undersampling mask: which k-space columns are measured.

    Args:
        columns: k-space columns (the image width).
        acceleration: keep about ``1 / acceleration`` of the columns (4 or 8 as fastMRI).
        center_fraction: the fully sampled centre, a fraction of the columns
            (default: 0.08 at 4x, 0.04 at 8x, else ``0.32 / acceleration``; at least
            one column). It must keep at least one centre column; one that keeps all
            of them gives a fully sampled mask.
        kind: ``"random"`` (MONAI ``RandomKspaceMask``) or ``"equispaced"``
            (``EquispacedKspaceMask``).
        seed: seeds the mask (same seed, same mask), an integer in ``[0, 2**32)``.

    Returns:
        A float tensor ``(columns,)`` of 0 and 1.

    Example:
        >>> m = draw_mask(64, 4, seed=1)
        >>> int(m.sum()) >= 64 // 4 - 4, bool(m[30:34].all())
        (True, True)
    """
    from monai.apps.reconstruction.transforms.array import EquispacedKspaceMask, RandomKspaceMask

    if kind not in MASK_KINDS:
        raise DatasetError(f"mask kind {kind!r} is not one of {', '.join(MASK_KINDS)}.")
    if isinstance(columns, bool) or not isinstance(columns, numbers.Integral) or columns < 1:
        raise DatasetError(f"a mask needs at least one k-space column, got {columns!r}.")
    if (
        isinstance(acceleration, bool)
        or not isinstance(acceleration, numbers.Integral)
        or acceleration < 1
    ):
        raise DatasetError(f"acceleration must be an integer >= 1, got {acceleration!r}.")
    columns, acceleration = int(columns), int(acceleration)  # numpy integers too
    if (
        isinstance(seed, bool)
        or not isinstance(seed, numbers.Integral)
        or not 0 <= seed < _MASK_SEEDS
    ):
        raise DatasetError(f"a mask's seed must be an integer in [0, 2**32), got {seed!r}.")
    if center_fraction is None:
        center_fraction = CENTER_FRACTIONS.get(acceleration, min(1.0, 0.32 / acceleration))
        # At a high acceleration of a narrow image the default would round to no centre
        # column: keep one, the k-space centre that carries the image's contrast.
        center_fraction = max(center_fraction, 1.0 / columns)
    number = isinstance(center_fraction, numbers.Real) and not isinstance(center_fraction, bool)
    if not number or not 0.0 <= center_fraction <= 1.0:
        raise DatasetError(f"center_fraction must be in [0, 1], got {center_fraction!r}.")
    centre = round(columns * center_fraction)  # as MONAI's masks count their centre
    if centre == 0:
        # Without its centre a random mask may sample no column at all for some seeds,
        # and every mask loses the contrast a reconstruction is judged by.
        raise DatasetError(
            f"center_fraction {center_fraction:g} keeps none of the {columns} k-space "
            f"columns fully sampled; pass at least {1 / columns:.3g} (one column), or "
            "leave it to the default."
        )
    if acceleration == 1 or centre >= columns:  # every column measured
        return torch.ones(columns)
    if centre * acceleration >= columns:
        # The centre alone spends the 1/acceleration budget. MONAI's formulas for the
        # columns outside it divide by zero here (equispaced) or ask a negative share of
        # them (random): the mask is its centre, placed as MONAI places it.
        mask = torch.zeros(columns)
        start = (columns - centre + 1) // 2
        mask[start : start + centre] = 1.0
        return mask
    cls = RandomKspaceMask if kind == "random" else EquispacedKspaceMask
    transform = cls(center_fractions=[center_fraction], accelerations=[acceleration])
    transform.set_random_state(int(seed))
    transform(torch.zeros(1, 2, columns, 2))  # draws transform.mask for this shape
    return torch.as_tensor(transform.mask).reshape(-1).float()  # its centre: never empty


def sample_channels(coils: int) -> int:
    """Channels of a sample acquired with ``coils`` coils: 3 for one, ``4C + 1`` for more.

    Example:
        >>> sample_channels(1), sample_channels(4)
        (3, 17)
    """
    check_coils(coils)
    return 3 if coils == 1 else 4 * coils + 1


def coils_of(channels: int) -> int:
    """The coil count of a sample of ``channels`` channels (:func:`sample_channels` inverted).

    Example:
        >>> coils_of(3), coils_of(9)
        (1, 2)
    """
    if channels == 3:
        return 1
    if channels < 5 or (channels - 1) % 4:
        raise DatasetError(
            "a reconstruction batch is (N, 3, H, W) (one coil: zero-filled real, imaginary, "
            f"mask) or (N, 4C+1, H, W) (C coils: k-space, maps, mask); got {channels} channels, "
            "so pass a batch of a reconstruction dataset."
        )
    return (channels - 1) // 4


def check_coils(coils: int) -> None:
    """Raise a one-line DatasetError unless ``coils`` is an integer >= 1.

    Example:
        >>> check_coils(8)  # fine: no error
    """
    if isinstance(coils, bool) or not isinstance(coils, numbers.Integral) or coils < 1:
        raise DatasetError(f"coils must be an integer >= 1 (1: single coil), got {coils!r}.")


def birdcage_maps(coils: int, size: int, relative_radius: float = 1.5) -> torch.Tensor:
    """Simulated sensitivity maps of ``coils`` coils on a birdcage round the image.

    SigPy's model (``sigpy.mri.birdcage_maps``; Ong and Lustig, SigPy, ISMRM 2019),
    written out here so as not to pull numba in: coil ``c`` sits at angle
    ``2 pi c / C`` on a circle of ``relative_radius`` half-widths round the image
    centre; its sensitivity falls off as ``1 / r`` with the distance ``r`` to the
    coil and turns in phase with the angle round it. The maps are then divided by
    their root sum of squares, so ``sum_c |S_c|^2 = 1`` at every pixel (object and
    background alike), which makes the SENSE combination of fully sampled coil
    images the image itself.

    Args:
        coils: how many coils (>= 1).
        size: the image edge (square images).
        relative_radius: the birdcage's radius in half-widths; above sqrt(2) every
            coil lies outside the image, so ``r`` is never 0 (SigPy's default, 1.5).

    Returns:
        complex64 ``(coils, size, size)``.

    Example:
        >>> maps = birdcage_maps(4, 32)
        >>> bool(torch.allclose(maps.abs().pow(2).sum(0), torch.ones(32, 32)))
        True
    """
    return _birdcage_maps(coils, size, relative_radius).clone()


@functools.lru_cache(maxsize=16)
def _birdcage_maps(coils: int, size: int, relative_radius: float) -> torch.Tensor:
    check_coils(coils)
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 2:
        raise DatasetError(f"the image size must be a whole number of pixels >= 2, got {size!r}.")
    if not relative_radius > 2**0.5:
        raise DatasetError(
            f"relative_radius {relative_radius!r} can put a coil inside the image; use more "
            "than sqrt(2) (1.5 is SigPy's default)."
        )
    c, y, x = np.mgrid[:coils, :size, :size].astype(np.float64)
    angle = 2 * np.pi * c / coils
    x_to_coil = (x - size / 2) / (size / 2) - relative_radius * np.cos(angle)
    y_to_coil = (y - size / 2) / (size / 2) - relative_radius * np.sin(angle)
    phase = np.arctan2(x_to_coil, -y_to_coil) - angle
    maps = np.exp(1j * phase) / np.hypot(x_to_coil, y_to_coil)
    maps /= np.sqrt((np.abs(maps) ** 2).sum(axis=0))
    return torch.from_numpy(maps.astype(np.complex64))


def sense_expand(image: torch.Tensor, maps: torch.Tensor | None) -> torch.Tensor:
    """Coil k-spaces of an image: ``fft2c(S_c * image)`` for every coil (the SENSE forward
    operator without its mask).

    Args:
        image: complex ``(N, H, W)``.
        maps: complex ``(N, C, H, W)``, or None for one coil of sensitivity 1.

    Returns:
        Complex ``(N, C, H, W)`` (``C = 1`` without maps).

    Example:
        >>> sense_expand(torch.ones(2, 4, 4, dtype=torch.complex64), None).shape
        torch.Size([2, 1, 4, 4])
    """
    if maps is None:
        return fft2c(image)[:, None]
    return fft2c(maps * image[:, None])


def sense_reduce(kspace: torch.Tensor, maps: torch.Tensor | None) -> torch.Tensor:
    """One image from coil k-spaces: ``sum_c conj(S_c) * ifft2c(k_c)``, the adjoint of
    :func:`sense_expand` (with maps whose squares sum to 1, also its left inverse).

    Args:
        kspace: complex ``(N, C, H, W)``.
        maps: complex ``(N, C, H, W)``, or None for one coil of sensitivity 1.

    Returns:
        Complex ``(N, H, W)``.

    Example:
        >>> image = torch.randn(1, 8, 8, dtype=torch.complex64)
        >>> maps = birdcage_maps(3, 8)[None]
        >>> bool(torch.allclose(sense_reduce(sense_expand(image, maps), maps), image, atol=1e-5))
        True
    """
    if maps is None:
        return ifft2c(kspace[:, 0])
    return (maps.conj() * ifft2c(kspace)).sum(dim=1)


def undersample(
    image: torch.Tensor, mask: torch.Tensor, maps: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Simulate an acquisition of a magnitude image: the sample ``(x, y)``.

    Args:
        image: the fully sampled magnitude image ``(H, W)``, real, even edges.
        mask: ``(W,)`` 0/1 columns (:func:`draw_mask`), at least one sampled.
        maps: complex sensitivity maps ``(C, H, W)`` (:func:`birdcage_maps`), or None
            for a single coil.

    Returns:
        ``x``: single coil ``(3, H, W)``, the zero-filled real and imaginary parts and
        the mask; with maps ``(4C + 1, H, W)``, the coils' masked k-spaces, the maps and
        the mask (module docstring). ``y`` ``(1, H, W)``: the image.

    Example:
        >>> x, y = undersample(torch.rand(8, 8), torch.tensor([0, 0, 1, 1, 1, 1, 0, 1.0]))
        >>> x[2, 0].tolist()
        [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0]
    """
    if not torch.is_tensor(image):
        image = np.asarray(image)  # a nested list is an image too
    check_magnitude_image(image)
    image = torch.as_tensor(image, dtype=torch.float32)
    mask = torch.as_tensor(mask, dtype=torch.float32).reshape(-1)
    if mask.shape[0] != image.shape[-1] or float(mask.sum()) == 0:
        raise DatasetError(
            f"the mask must have one 0/1 value per k-space column ({image.shape[-1]}) and "
            f"sample at least one; got {mask.shape[0]} values summing to {float(mask.sum())}."
        )
    rows = mask.expand(image.shape)
    if maps is None:
        kspace = fft2c(image.to(torch.complex64)) * mask
        zero_filled = ifft2c(kspace)
        x = torch.stack([zero_filled.real, zero_filled.imag, rows])
        return x.contiguous(), image[None].contiguous()
    maps = torch.as_tensor(maps).to(torch.complex64)
    if maps.ndim != 3 or maps.shape[1:] != image.shape:
        raise DatasetError(
            f"sensitivity maps must be (coils, H, W) = (C, {image.shape[0]}, {image.shape[1]}) "
            f"for this image; got {tuple(maps.shape)}."
        )
    coil_kspace = sense_expand(image.to(torch.complex64)[None], maps[None])[0] * mask
    x = torch.cat([complex_to_channels(coil_kspace), complex_to_channels(maps), rows[None]])
    return x.contiguous(), image[None].contiguous()


def complex_to_channels(z: torch.Tensor) -> torch.Tensor:
    """``(..., C, H, W)`` complex to ``(..., 2C, H, W)`` real: real and imaginary per coil.

    Example:
        >>> complex_to_channels(torch.tensor([[[1 + 2j]]])).flatten().tolist()
        [1.0, 2.0]
    """
    return torch.view_as_real(z).movedim(-1, -3).flatten(-4, -3)


def channels_to_complex(x: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`complex_to_channels`: ``(..., 2C, H, W)`` to ``(..., C, H, W)``."""
    pairs = x.unflatten(-3, (x.shape[-3] // 2, 2))
    return torch.complex(pairs[..., 0, :, :], pairs[..., 1, :, :])


class Acquisition(NamedTuple):
    """What a batch of samples holds, as :func:`unpack` splits it.

    Attributes:
        zero_filled: complex ``(N, H, W)``: the inverse FFT of the measured k-space,
            combined over coils by SENSE (``sense_reduce``).
        kspace: complex ``(N, C, H, W)``: every coil's measured k-space (``C = 1`` for a
            single coil).
        mask: real ``(N, 1, 1, W)``: the sampled columns, shared by the coils.
        maps: complex ``(N, C, H, W)`` sensitivity maps, or None for one coil of
            sensitivity 1.
    """

    zero_filled: torch.Tensor
    kspace: torch.Tensor
    mask: torch.Tensor
    maps: torch.Tensor | None


def unpack(x: torch.Tensor) -> Acquisition:
    """Split a batch of samples (either layout) into images, k-space, mask and maps.

    Args:
        x: ``(N, 3, H, W)`` or ``(N, 4C + 1, H, W)`` as :func:`undersample` makes them.

    Returns:
        An :class:`Acquisition`.

    Example:
        >>> x, _ = undersample(torch.rand(8, 8), draw_mask(8, 2, 0.5, seed=0))
        >>> [tuple(t.shape) for t in unpack(x[None])[:3]]
        [(1, 8, 8), (1, 1, 8, 8), (1, 1, 1, 8)]
    """
    x = torch.as_tensor(x)  # a numpy batch too
    if x.ndim != 4:
        raise DatasetError(f"a reconstruction batch is (N, channels, H, W); got {tuple(x.shape)}.")
    coils = coils_of(x.shape[1])
    x = x.float()
    if x.shape[1] == 3:
        zero_filled = torch.complex(x[:, 0], x[:, 1])
        return Acquisition(zero_filled, fft2c(zero_filled)[:, None], x[:, 2, None, :1], None)
    kspace = channels_to_complex(x[:, : 2 * coils])
    maps = channels_to_complex(x[:, 2 * coils : 4 * coils])
    return Acquisition(sense_reduce(kspace, maps), kspace, x[:, -1, None, :1], maps)


def zero_filled_magnitude(x: torch.Tensor) -> torch.Tensor:
    """``|zero-filled image|`` ``(N, 1, H, W)`` of a batch of samples (either layout).

    With several coils this is the magnitude of the SENSE combination
    ``sum_c conj(S_c) ifft2c(k_c)``, not the root sum of squares of the coil images:
    the maps are known here, and with ``sum_c |S_c|^2 = 1`` the SENSE image is the
    image itself when nothing is missing (the root sum of squares is too, in
    magnitude), it keeps the phase, and it is the image the unrolled network starts
    from, so the zero-filled floor and the networks' first step agree.

    Example:
        >>> x, y = undersample(torch.rand(8, 8), torch.ones(8))
        >>> bool(torch.allclose(zero_filled_magnitude(x[None])[0], y, atol=1e-5))
        True"""
    return unpack(x).zero_filled.abs()[:, None]


def info_for_coils(info: DatasetInfo, coils: int) -> DatasetInfo:
    """A reconstruction set's info with the input channels of ``coils`` coils.

    Example:
        >>> from nasbench.data import get_info
        >>> info_for_coils(get_info("synthetic-recon"), 4).in_channels
        17
    """
    channels = sample_channels(coils)
    if channels == info.in_channels:
        return info
    words = "single-coil" if coils == 1 else f"{coils}-coil"
    modality = re.sub(r"(single|\d+)-coil", words, info.modality)
    return dataclasses.replace(info, in_channels=channels, modality=modality)
