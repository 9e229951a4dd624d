"""The single-coil MRI forward model: image -> k-space -> mask -> zero-filled image.

A reconstruction sample is stored in one tensor so that every loop, loader and
network of the project carries it unchanged: ``x`` has three channels, the real and
imaginary parts of the zero-filled image and the sampling mask (one value per
k-space column, repeated down the rows); ``y`` is the fully sampled magnitude image.
The measured k-space is ``fft2c(zero_filled)``, so a network recovers it, and the
mask, from ``x`` alone (:func:`unpack`).

The centred orthonormal FFT is MONAI's convention (``fftn_centered_t``), so MONAI's
VarNet reads the same k-space. Masks come from MONAI's ``RandomKspaceMask`` and
``EquispacedKspaceMask``: Cartesian lines along the second image axis with a fully
sampled centre, as fastMRI draws them.

Example:
    >>> image = torch.rand(64, 64)
    >>> mask = draw_mask(64, acceleration=4, seed=0)
    >>> x, y = undersample(image, mask)
    >>> tuple(x.shape), tuple(y.shape)
    ((3, 64, 64), (1, 64, 64))
"""

from __future__ import annotations

import numpy as np
import torch

from nasbench.errors import DatasetError

MASK_KINDS = ("random", "equispaced")
# fastMRI's pairs: 8% of the centre lines at 4x, 4% at 8x.
CENTER_FRACTIONS = {4: 0.08, 8: 0.04}


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
            (default: 0.08 at 4x, 0.04 at 8x, else ``0.32 / acceleration``).
        kind: ``"random"`` (MONAI ``RandomKspaceMask``) or ``"equispaced"``
            (``EquispacedKspaceMask``).
        seed: seeds the mask (same seed, same mask).

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
    if isinstance(acceleration, bool) or not isinstance(acceleration, int) or acceleration < 1:
        raise DatasetError(f"acceleration must be an integer >= 1, got {acceleration!r}.")
    if center_fraction is None:
        center_fraction = CENTER_FRACTIONS.get(acceleration, min(1.0, 0.32 / acceleration))
    if not 0.0 <= center_fraction <= 1.0:
        raise DatasetError(f"center_fraction must be in [0, 1], got {center_fraction!r}.")
    if acceleration == 1:
        return torch.ones(columns)
    cls = RandomKspaceMask if kind == "random" else EquispacedKspaceMask
    transform = cls(center_fractions=[center_fraction], accelerations=[acceleration])
    transform.set_random_state(seed)
    transform(torch.zeros(1, 2, columns, 2))  # draws transform.mask for this shape
    mask = torch.as_tensor(transform.mask).reshape(-1).float()
    if mask.sum() == 0:
        raise DatasetError(
            f"the {kind} mask at {acceleration}x with center_fraction {center_fraction} "
            f"samples none of the {columns} k-space columns; raise center_fraction or lower "
            "the acceleration."
        )
    return mask


def undersample(image: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Simulate a single-coil acquisition of a magnitude image: the sample ``(x, y)``.

    Args:
        image: the fully sampled magnitude image ``(H, W)``, real, even edges.
        mask: ``(W,)`` 0/1 columns (:func:`draw_mask`), at least one sampled.

    Returns:
        ``x`` ``(3, H, W)``: zero-filled real and imaginary parts and the mask;
        ``y`` ``(1, H, W)``: the image.

    Example:
        >>> x, y = undersample(torch.rand(8, 8), torch.tensor([0, 0, 1, 1, 1, 1, 0, 1.0]))
        >>> x[2, 0].tolist()
        [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0]
    """
    check_magnitude_image(image)
    image = torch.as_tensor(image, dtype=torch.float32)
    mask = torch.as_tensor(mask, dtype=torch.float32).reshape(-1)
    if mask.shape[0] != image.shape[-1] or float(mask.sum()) == 0:
        raise DatasetError(
            f"the mask must have one 0/1 value per k-space column ({image.shape[-1]}) and "
            f"sample at least one; got {mask.shape[0]} values summing to {float(mask.sum())}."
        )
    kspace = fft2c(image.to(torch.complex64)) * mask
    zero_filled = ifft2c(kspace)
    rows = mask.expand(image.shape)
    x = torch.stack([zero_filled.real, zero_filled.imag, rows])
    return x.contiguous(), image[None].contiguous()


def unpack(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Split a batch of samples into the zero-filled image, its k-space and the mask.

    Args:
        x: ``(N, 3, H, W)`` as :func:`undersample` makes them.

    Returns:
        ``(zero_filled, kspace, mask)``: complex ``(N, H, W)``, complex ``(N, H, W)`` and
        real ``(N, 1, W)``.

    Example:
        >>> x, _ = undersample(torch.rand(8, 8), draw_mask(8, 2, 0.5, seed=0))
        >>> [tuple(t.shape) for t in unpack(x[None])]
        [(1, 8, 8), (1, 8, 8), (1, 1, 8)]
    """
    if x.ndim != 4 or x.shape[1] != 3:
        raise DatasetError(
            f"a reconstruction batch is (N, 3, H, W) (zero-filled real, imaginary, mask); "
            f"got {tuple(x.shape)}."
        )
    x = x.float()
    zero_filled = torch.complex(x[:, 0], x[:, 1])
    return zero_filled, fft2c(zero_filled), x[:, 2, :1]


def zero_filled_magnitude(x: torch.Tensor) -> torch.Tensor:
    """``|zero-filled image|`` ``(N, 1, H, W)`` of a batch ``(N, 3, H, W)``.

    Example:
        >>> x, y = undersample(torch.rand(8, 8), torch.ones(8))
        >>> bool(torch.allclose(zero_filled_magnitude(x[None])[0], y, atol=1e-5))
        True"""
    return unpack(x)[0].abs()[:, None]
