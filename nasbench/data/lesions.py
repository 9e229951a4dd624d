"""Lesion detection data: the ``synthetic-lesions`` set and the box target layout.

A detection target is one float tensor per image, ``(MAX_BOXES, 5)``: a row per lesion
``(x1, y1, x2, y2, label)`` in pixel units of the returned image (``x`` along the width,
the last axis; ``x2``/``y2`` exclusive edges), padded with rows whose label is ``-1``.
A fixed shape lets detection batches stack like any other target, so the one search
loop (:mod:`nasbench.engine.bilevel`) and its deterministic batches need no change.

``synthetic-lesions`` draws 1-5 lesions per 2D slice on the textured background of the
synthetic sets (:mod:`nasbench.data.synthetic`): round or irregular, 2-14 % of the field
of view in radius, bright or dark, with one of three textures (uniform, a bright rim
around a darker core, speckled). Every sample comes from its own generator, so the set is
lazy and the same seed gives the same slices and boxes. The box of a lesion is the
extent of the pixels its mask covers by more than half.

Example:
    >>> from nasbench.data import load
    >>> image, boxes = load("synthetic-lesions", "val", size=64)[0]
    >>> tuple(image.shape), tuple(boxes.shape)
    ((1, 64, 64), (5, 5))
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from nasbench.data import registry
from nasbench.data.registry import BASE_SPLITS, DatasetInfo
from nasbench.data.synthetic import CITATION, LICENCE, MIN_SIZE, _contrast, _grid, _Lesion, _Scene
from nasbench.errors import DatasetError

MAX_BOXES = 5
PAD_LABEL = -1
_SPLIT_IDS = {"train": 0, "val": 1, "test": 2}
TEXTURES = ("uniform", "rim", "speckled")

INFO = DatasetInfo(
    name="synthetic-lesions",
    task="detection",
    modality="synthetic (CT/MRI-like slice)",
    spatial_dims=2,
    in_channels=1,
    num_classes=1,
    class_names=("lesion",),
    splits={"train": 600, "val": 120, "test": 120},
    sizes=(32, 64, 96),
    licence=LICENCE,
    citation=CITATION,
    source="synthetic",
    description=(
        "2D slices with 1-5 lesions each (round or irregular, 2-14 % of the field of view in "
        "radius, bright or dark, uniform, rim-enhancing or speckled) on a textured background; "
        "the target holds one box (x1, y1, x2, y2, label 0) per lesion, padded to 5 rows with "
        "label -1. Generated on the fly from a seed."
    ),
)


def empty_target(max_boxes: int = MAX_BOXES) -> torch.Tensor:
    """A padded target with no boxes: ``(max_boxes, 5)`` zeros with label ``-1``."""
    target = torch.zeros(max_boxes, 5)
    target[:, 4] = PAD_LABEL
    return target


def pack_boxes(
    boxes: Sequence[Sequence[float]], labels: Sequence[int], max_boxes: int = MAX_BOXES
) -> torch.Tensor:
    """Pack boxes and labels into the padded ``(max_boxes, 5)`` target.

    Args:
        boxes: ``(x1, y1, x2, y2)`` per object, pixel units.
        labels: class index per object.
        max_boxes: rows of the target.

    Returns:
        The target tensor.

    Example:
        >>> pack_boxes([(1, 2, 5, 6)], [0], max_boxes=2).tolist()
        [[1.0, 2.0, 5.0, 6.0, 0.0], [0.0, 0.0, 0.0, 0.0, -1.0]]
    """
    if len(boxes) > max_boxes:
        raise DatasetError(
            f"{len(boxes)} boxes do not fit a target of {max_boxes}; raise max_boxes."
        )
    target = empty_target(max_boxes)
    for row, (box, label) in enumerate(zip(boxes, labels, strict=True)):
        target[row, :4] = torch.as_tensor(box, dtype=torch.float32)
        target[row, 4] = float(label)
    return target


def unpack_boxes(target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The real boxes ``(M, 4)`` and integer labels ``(M,)`` of one padded target."""
    keep = target[:, 4] >= 0
    return target[keep, :4], target[keep, 4].long()


def mask_box(mask: np.ndarray) -> tuple[float, float, float, float] | None:
    """The box ``(x1, y1, x2, y2)`` of the pixels where a soft mask exceeds 0.5 (None if none).

    Example:
        >>> m = np.zeros((8, 8)); m[2:4, 3:7] = 1.0
        >>> mask_box(m)
        (3.0, 2.0, 7.0, 4.0)
    """
    rows, cols = np.nonzero(mask > 0.5)
    if len(rows) == 0:
        return None
    return float(cols.min()), float(rows.min()), float(cols.max() + 1), float(rows.max() + 1)


def _texture(rng: np.random.Generator, kind: str, mask: np.ndarray, size: int) -> np.ndarray:
    """A lesion's intensity pattern inside its mask (1 = the full contrast)."""
    if kind == "rim":
        # Rim enhancement: full contrast on the edge band, a third of it in the core.
        core = np.clip((mask - 0.5) * 2.0, 0.0, 1.0) ** 3
        return mask * (1.0 - 0.66 * core)
    if kind == "speckled":
        grains = rng.uniform(0.4, 1.4, (size, size)).astype(np.float32)
        return mask * grains
    return mask


def _generate(rng: np.random.Generator, size: int, count: int) -> tuple[np.ndarray, list, list]:
    scene = _Scene(rng, 2)
    grid = _grid(size, 2)
    img = scene.tissue(size)
    boxes: list[tuple[float, float, float, float]] = []
    centres: list[tuple[np.ndarray, float]] = []
    for _ in range(count):
        # A few tries for a place that does not overlap an earlier lesion much.
        for _attempt in range(10):
            irregular = bool(rng.integers(2))
            lesion = _Lesion(
                rng,
                2,
                (0.02, 0.14),
                (1.0, 1.8),
                irregularity=0.2 * irregular,
                region=(0.12, 0.88),
            )
            radius = float(lesion.radii.max())
            if all(np.linalg.norm(lesion.centre - c) > 0.9 * (r + radius) for c, r in centres):
                break
        else:
            continue
        mask = lesion.mask(grid, size)
        box = mask_box(mask)
        if box is None:
            continue
        kind = TEXTURES[int(rng.integers(len(TEXTURES)))]
        img = img + _contrast(rng, 0.15, 0.45) * _texture(rng, kind, mask, size)
        boxes.append(box)
        centres.append((lesion.centre, radius))
    return scene.finish(img, grid, rng), boxes, [0] * len(boxes)


class SyntheticLesions(Dataset):
    """The lazily generated ``synthetic-lesions`` split.

    Args:
        split: one of ``BASE_SPLITS``.
        size: edge length in pixels (>= 16).
        seed: data seed; same seed and index, same slice and boxes.
        length: number of samples; defaults to the split's size.

    Attributes:
        targets: lesions drawn per image (what the search halves and limits stratify on;
            a lesion with no room left beside the others is dropped, so a few images hold
            fewer boxes).

    Example:
        >>> ds = SyntheticLesions("train", size=32, length=4)
        >>> image, target = ds[0]
        >>> bool((unpack_boxes(target)[0][:, 2:] <= 32).all())
        True
    """

    def __init__(
        self, split: str, size: int = 64, seed: int = 0, length: int | None = None
    ) -> None:
        if split not in BASE_SPLITS:
            raise DatasetError(
                f"{INFO.name}: split {split!r} is not one of {', '.join(BASE_SPLITS)}."
            )
        if int(size) < MIN_SIZE:
            raise DatasetError(f"{INFO.name}: size {size} is too small; use at least {MIN_SIZE}.")
        self.info, self.split, self.size, self.seed = INFO, split, int(size), int(seed)
        self._length = int(INFO.splits[split] if length is None else length)
        self._code = zlib.crc32(INFO.name.encode())
        # The lesion count is the first draw of a sample's generator: known without pixels.
        self.targets = np.array(
            [int(self._rng(i).integers(1, MAX_BOXES + 1)) for i in range(self._length)]
        )

    def _rng(self, index: int) -> np.random.Generator:
        return np.random.default_rng((self.seed, self._code, _SPLIT_IDS[self.split], index))

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        index = int(index)
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError(f"{INFO.name}: index {index} out of range 0..{self._length - 1}")
        rng = self._rng(index)
        count = int(rng.integers(1, MAX_BOXES + 1))
        image, boxes, labels = _generate(rng, self.size, count)
        return torch.from_numpy(np.ascontiguousarray(image)[None]), pack_boxes(boxes, labels)


def load_lesions(
    info: DatasetInfo,
    split: str,
    root: Path | None,
    size: int,
    download: bool,
    data_seed: int = 0,
    **options: Any,
) -> SyntheticLesions:
    """Registry loader of ``synthetic-lesions`` (nothing is read or written).

    Args:
        info: the registry entry.
        split: one of ``BASE_SPLITS``.
        root: unused (generated data).
        size: edge length in pixels.
        download: unused.
        data_seed: the data seed.
        **options: none are known; a name here is an error.

    Returns:
        A :class:`SyntheticLesions`.
    """
    registry.reject_unknown_options(info.name, options, ())
    return SyntheticLesions(split, size=size, seed=data_seed)


def register() -> None:
    """Add ``synthetic-lesions`` to the dataset registry."""
    registry.register_dataset(INFO, load_lesions)
