"""Box-aware augmentation of detection batches: flips, 90-degree turns, affine and intensity jitter.

Each spatial op moves the image and its boxes together, so a lesion's box still bounds
the lesion after the op. Boxes follow :mod:`nasbench.data.lesions`: rows
``(x1, y1, x2, y2, label)`` in pixels, ``x`` along the width (the last axis), ``x2`` and
``y2`` exclusive edges, padded with ``label == -1`` rows. Pixel ``(row r, col c)``
covers ``[c, c + 1) x [r, r + 1)``, which is also how ``grid_sample`` with
``align_corners=False`` places pixels, so boxes and resampled images agree.

After the affine jitter a box is clipped to the image and dropped when less than
``min_visible`` of its area stays inside or when it is thinner than ``min_size`` pixels;
the surviving rows move to the top of the padded target, labels with them.

Plain torch, not MONAI's ``monai.apps.detection.transforms.box_ops``: MONAI puts a box's
first coordinate along the array's first spatial axis (the rows), the opposite of this
project's ``x``-along-the-width boxes, and importing it costs seconds per process, where
these ops are a few lines each and run on a whole batch on the training device.

Every draw comes from the ``torch.Generator`` passed in (no global random state): the
same generator state gives the same batch.

Example:
    >>> images = torch.zeros(2, 1, 32, 32)
    >>> targets = torch.tensor([[[4.0, 4, 12, 10, 0]], [[20.0, 8, 30, 16, 0]]])
    >>> out, boxes = augment_detection_batch(images, targets, torch.Generator().manual_seed(0))
    >>> tuple(out.shape), tuple(boxes.shape)
    ((2, 1, 32, 32), (2, 1, 5))
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from nasbench.errors import ConfigError

PAD_LABEL = -1


@dataclass(frozen=True)
class BoxAugment:
    """How strongly :func:`augment_detection_batch` jitters a batch.

    Args:
        flip: random horizontal and vertical flips, each with probability 0.5.
        rotate: a random number (0-3) of 90-degree turns (square images only).
        scale: zoom factor drawn from ``[1 - scale, 1 + scale]`` about the centre.
        translate: shift drawn from ``[-translate, translate]`` of the edge, per axis.
        intensity: gain from ``[1 - intensity, 1 + intensity]`` and offset from
            ``[-intensity, intensity]`` on the (normalised) intensities.
        min_visible: a box keeps when at least this fraction of it stays in the image.
        min_size: a kept box is at least this many pixels wide and high.
    """

    flip: bool = True
    rotate: bool = True
    scale: float = 0.1
    translate: float = 0.1
    intensity: float = 0.1
    min_visible: float = 0.5
    min_size: float = 1.0

    def __post_init__(self) -> None:
        for name in ("scale", "translate", "intensity"):
            value = getattr(self, name)
            if not 0 <= value < 1:
                raise ConfigError(f"BoxAugment.{name} is {value}; use a value in [0, 1).")
        if not 0 <= self.min_visible <= 1:
            raise ConfigError(
                f"BoxAugment.min_visible is {self.min_visible}; use a fraction in [0, 1]."
            )


def flip_boxes(boxes: torch.Tensor, size: int, axis: str) -> torch.Tensor:
    """Boxes ``(N, 4)`` after flipping an image of edge ``size`` along ``axis``.

    Args:
        boxes: ``(x1, y1, x2, y2)`` rows.
        size: the image's width for ``axis="x"``, its height for ``"y"``.
        axis: ``"x"`` (left-right, ``image.flip(-1)``) or ``"y"`` (up-down, ``flip(-2)``).

    Returns:
        The flipped boxes, still with ``x1 < x2`` and ``y1 < y2``.

    Example:
        >>> flip_boxes(torch.tensor([[2.0, 1, 5, 3]]), 10, "x")
        tensor([[5., 1., 8., 3.]])
    """
    if axis not in ("x", "y"):
        raise ConfigError(f"flip axis {axis!r} is unknown; use 'x' or 'y'.")
    lo, hi = (0, 2) if axis == "x" else (1, 3)
    out = boxes.clone()
    out[:, lo], out[:, hi] = size - boxes[:, hi], size - boxes[:, lo]
    return out


def rot90_boxes(boxes: torch.Tensor, height: int, width: int, k: int) -> torch.Tensor:
    """Boxes ``(N, 4)`` after ``torch.rot90(image, k, dims=(-2, -1))``.

    One turn sends pixel ``(row r, col c)`` of an ``H x W`` image to ``(W - 1 - c, r)``,
    so a box ``(x1, y1, x2, y2)`` becomes ``(y1, W - x2, y2, W - x1)``.

    Args:
        boxes: ``(x1, y1, x2, y2)`` rows.
        height: the image's height before the turn.
        width: its width before the turn.
        k: quarter turns (any integer; taken mod 4).

    Returns:
        The turned boxes.

    Example:
        >>> rot90_boxes(torch.tensor([[2.0, 1, 5, 3]]), 10, 10, 1)
        tensor([[1., 5., 3., 8.]])
    """
    out = boxes.clone()
    for _ in range(k % 4):
        x1, y1, x2, y2 = out.unbind(-1)
        out = torch.stack([y1, width - x2, y2, width - x1], dim=-1)
        height, width = width, height
    return out


def affine_boxes(
    boxes: torch.Tensor, height: int, width: int, scale: float, shift: tuple[float, float]
) -> torch.Tensor:
    """Boxes ``(N, 4)`` after zooming by ``scale`` about the centre and shifting by ``shift``.

    A point ``p`` goes to ``scale * (p - centre) + centre + shift``: what
    :func:`affine_image` does to the pixels.

    Args:
        boxes: ``(x1, y1, x2, y2)`` rows.
        height: the image's height.
        width: its width.
        scale: the zoom factor (> 0).
        shift: ``(dx, dy)`` in pixels.

    Returns:
        The moved boxes (not clipped; see :func:`clip_boxes`).

    Example:
        >>> affine_boxes(torch.tensor([[2.0, 2, 6, 6]]), 8, 8, 2.0, (1.0, 0.0))
        tensor([[1., 0., 9., 8.]])
    """
    centre = boxes.new_tensor([width / 2, height / 2, width / 2, height / 2])
    offset = boxes.new_tensor([shift[0], shift[1], shift[0], shift[1]])
    return scale * (boxes - centre) + centre + offset


def affine_image(
    image: torch.Tensor, scale: float, shift: tuple[float, float], fill: float
) -> torch.Tensor:
    """Zoom an image ``(C, H, W)`` by ``scale`` about its centre and shift it by ``shift`` pixels.

    Bilinear resampling; the area that comes in from outside is ``fill``.

    Args:
        image: ``(C, H, W)``.
        scale: the zoom factor (> 0).
        shift: ``(dx, dy)`` in pixels.
        fill: the value outside the source image (its background).

    Returns:
        The resampled image, same shape.

    Example:
        >>> affine_image(torch.ones(1, 4, 4), 1.0, (0.0, 0.0), 0.0).sum()
        tensor(16.)
    """
    _, h, w = image.shape
    # grid_sample maps each output point back into the input, in [-1, 1] units.
    tx, ty = 2 * shift[0] / w, 2 * shift[1] / h
    theta = image.new_tensor([[1 / scale, 0, -tx / scale], [0, 1 / scale, -ty / scale]])
    grid = F.affine_grid(theta[None], [1, *image.shape], align_corners=False)
    # Sample image - fill with zero padding, then add fill back: the outside reads as fill.
    out = F.grid_sample(
        (image - fill)[None], grid, mode="bilinear", padding_mode="zeros", align_corners=False
    )
    return out[0] + fill


def clip_boxes(
    boxes: torch.Tensor,
    height: int,
    width: int,
    min_visible: float = 0.5,
    min_size: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Clip boxes ``(N, 4)`` to an image and tell which to keep.

    Args:
        boxes: ``(x1, y1, x2, y2)`` rows.
        height: the image's height.
        width: its width.
        min_visible: keep a box when at least this fraction of its area is inside.
        min_size: keep a box only when its clipped width and height reach this (pixels).

    Returns:
        ``(clipped boxes, keep mask (N,))``.

    Example:
        >>> clip_boxes(torch.tensor([[-6.0, 0, 2, 4], [-1.0, 0, 3, 4]]), 8, 8)
        (tensor([[0., 0., 2., 4.],
                [0., 0., 3., 4.]]), tensor([False,  True]))
    """
    limit = boxes.new_tensor([width, height, width, height])
    clipped = torch.minimum(boxes.clamp(min=0), limit)
    wh = (boxes[:, 2:] - boxes[:, :2]).clamp(min=0)
    cwh = (clipped[:, 2:] - clipped[:, :2]).clamp(min=0)
    area, inside = wh.prod(-1), cwh.prod(-1)
    keep = (cwh >= min_size).all(-1) & (inside >= min_visible * area) & (area > 0)
    return clipped, keep


def _repad(boxes: torch.Tensor, labels: torch.Tensor, rows: int) -> torch.Tensor:
    """Kept boxes first, then ``label == -1`` padding rows up to ``rows``."""
    out = boxes.new_zeros(rows, 5)
    out[:, 4] = PAD_LABEL
    out[: len(boxes), :4] = boxes
    out[: len(boxes), 4] = labels
    return out


def augment_detection_batch(
    images: torch.Tensor,
    targets: torch.Tensor,
    generator: torch.Generator,
    config: BoxAugment | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Augment a detection batch image by image, boxes and labels moving with the pixels.

    Per image, in order: a horizontal flip and a vertical flip (each with probability
    0.5), 0-3 quarter turns (square images), a zoom and shift (then boxes clipped and
    the mostly-outside or degenerate ones dropped), a gain and offset on the intensities.

    Args:
        images: ``(N, C, H, W)``.
        targets: ``(N, B, 5)`` padded box rows ``(x1, y1, x2, y2, label)``; ``label < 0`` pads.
        generator: a CPU generator; every draw comes from it, in a fixed order.
        config: the strengths (:class:`BoxAugment` defaults when None).

    Returns:
        ``(images, targets)`` of the same shapes and dtypes.

    Example:
        >>> x, y = torch.zeros(1, 1, 8, 8), torch.tensor([[[1.0, 1, 3, 3, 0]]])
        >>> augment_detection_batch(x, y, torch.Generator().manual_seed(1))[1].shape
        torch.Size([1, 1, 5])
    """
    config = config or BoxAugment()
    if images.dim() != 4 or targets.dim() != 3 or targets.shape[-1] != 5:
        raise ConfigError(
            f"detection augmentation needs images (N, C, H, W) and targets (N, B, 5); "
            f"got {tuple(images.shape)} and {tuple(targets.shape)}."
        )
    n, _, h, w = images.shape
    out_images, out_targets = [], []
    for i in range(n):
        image = images[i]
        valid = targets[i, :, 4] >= 0
        boxes, labels = targets[i, valid, :4].float(), targets[i, valid, 4]
        u = torch.rand(8, generator=generator)  # one fixed block of draws per image
        if config.flip and u[0] < 0.5:
            image, boxes = image.flip(-1), flip_boxes(boxes, w, "x")
        if config.flip and u[1] < 0.5:
            image, boxes = image.flip(-2), flip_boxes(boxes, h, "y")
        k = int(u[2] * 4) % 4 if config.rotate and h == w else 0
        if k:
            image, boxes = torch.rot90(image, k, dims=(-2, -1)), rot90_boxes(boxes, h, w, k)
        if config.scale or config.translate:
            scale = 1 + config.scale * (2 * float(u[3]) - 1)
            shift = (
                config.translate * w * (2 * float(u[4]) - 1),
                config.translate * h * (2 * float(u[5]) - 1),
            )
            image = affine_image(image, scale, shift, fill=float(image.min()))
            boxes, keep = clip_boxes(
                affine_boxes(boxes, h, w, scale, shift), h, w, config.min_visible, config.min_size
            )
            boxes, labels = boxes[keep], labels[keep]
        if config.intensity:
            gain = 1 + config.intensity * (2 * float(u[6]) - 1)
            image = image * gain + config.intensity * (2 * float(u[7]) - 1)
        out_images.append(image)
        out_targets.append(_repad(boxes, labels, targets.shape[1]))
    return (
        torch.stack(out_images).to(images.dtype).contiguous(),
        torch.stack(out_targets).to(targets.dtype),
    )
