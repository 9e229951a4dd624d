"""A seeded, class-skewed binary volume set written as an official MedMNIST ``.npz``.

Real 3D MedMNIST sets are skewed (NoduleMNIST3D: about 79% benign); a network trained
on them without class weighting can learn to answer the majority class. This writes
such a set without any download: ``synthetic3d``'s generator (an ellipsoidal lesion,
label 1, or none, label 0, in textured tissue) with labels drawn at a chosen positive
rate, quantised to ``uint8`` and saved with the official keys (``train_images``,
``train_labels``, ... ; images ``(N, S, S, S)``, labels ``(N, 1)``), so
``nasbench.data.load("nodulemnist3d", root=folder)`` reads it as the real file.

Used by ``benchmarks/volumes.py`` and the 3D retrain tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from nasbench.data.medmnist import file_name
from nasbench.data.synthetic import _classification
from nasbench.errors import DatasetError
from nasbench.tempfiles import write_atomically

DEFAULT_SPLITS = {"train": 400, "val": 100, "test": 200}
# Lesions larger and brighter than synthetic3d's faintest: the classes differ by a
# structure a small 3D network learns in minutes on a CPU.
RADIUS = (0.15, 0.25)
CONTRAST = (0.45, 0.6)


def skewed_volumes(
    n: int, size: int = 28, positive_fraction: float = 0.25, seed: int = 0, split_id: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Generate ``n`` binary volumes whose labels are 1 with probability ``positive_fraction``.

    Args:
        n: number of volumes.
        size: edge in voxels (>= 16).
        positive_fraction: share of label 1 (the lesion class), in (0, 1); the count is
            exact (``round(n * positive_fraction)``), the order shuffled.
        seed: seed of labels and volumes.
        split_id: keeps the splits of one seed apart.

    Returns:
        ``(images (n, S, S, S) uint8, labels (n, 1) int64)``.

    Example:
        >>> images, labels = skewed_volumes(8, size=16, positive_fraction=0.25)
        >>> images.shape, images.dtype.name, int(labels.sum())
        ((8, 16, 16, 16), 'uint8', 2)
    """
    if not 0.0 < positive_fraction < 1.0:
        raise DatasetError(f"positive_fraction must be in (0, 1), got {positive_fraction!r}.")
    if int(size) < 16:
        raise DatasetError(f"size {size} is too small for a volume; use at least 16.")
    rng = np.random.default_rng((seed, 0x5E3D, split_id))
    labels = np.zeros(n, dtype=np.int64)
    labels[: round(n * positive_fraction)] = 1
    rng.shuffle(labels)
    generate = _classification(3, 2, radius=RADIUS, contrast=CONTRAST)
    images = np.empty((n, size, size, size), dtype=np.uint8)
    for i, label in enumerate(labels):
        volume, _ = generate(np.random.default_rng((seed, 0x5E3D, split_id, i)), int(label), size)
        images[i] = np.round(volume * 255.0).astype(np.uint8)
    return images, labels.reshape(-1, 1)


def write_skewed_npz(
    root: str | Path,
    name: str = "nodulemnist3d",
    size: int = 28,
    splits: Mapping[str, int] | None = None,
    positive_fraction: float = 0.25,
    seed: int = 0,
) -> Path:
    """Write a skewed binary volume set as the official ``.npz`` of a binary 3D subset.

    Args:
        root: the data folder (created if missing).
        name: a binary MedMNIST 3D subset whose file it stands in for.
        size: edge in voxels (28 or 64 for the official layout's file name).
        splits: images per split (default ``DEFAULT_SPLITS``).
        positive_fraction: share of label 1 in every split.
        seed: seed of the whole set.

    Returns:
        The file written, ``root / file_name(name, size)``.

    Example:
        >>> sizes = {"train": 8, "val": 4, "test": 4}
        >>> path = write_skewed_npz("data", splits=sizes)  # doctest: +SKIP
        >>> path.name  # doctest: +SKIP
        'nodulemnist3d.npz'
    """
    _check_stand_in(name, size)
    splits = dict(DEFAULT_SPLITS if splits is None else splits)
    if set(splits) != {"train", "val", "test"}:
        raise DatasetError(f"splits must give train, val and test counts, got {sorted(splits)}.")
    arrays = {}
    for split_id, split in enumerate(("train", "val", "test")):
        images, labels = skewed_volumes(splits[split], size, positive_fraction, seed, split_id)
        arrays[f"{split}_images"], arrays[f"{split}_labels"] = images, labels
    path = Path(root) / file_name(name, size)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Whole or not at all: a kill mid-write must not leave a truncated file the loader
    # would take as the cached set.
    return write_atomically(path, lambda handle: np.savez_compressed(handle, **arrays))


def _check_stand_in(name: str, size: int) -> None:
    """Refuse a file the loader would read as another task or cannot find: the labels
    written are 0/1 volumes, so ``name`` must be a binary 3D subset at one of its sizes."""
    from nasbench.data.medmnist import make_info, metadata

    binary = sorted(n for n in metadata() if _is_binary_volume(make_info(n)))
    if name not in binary:
        raise DatasetError(
            f"write_skewed_npz writes binary volumes, so name must be a binary MedMNIST 3D "
            f"subset ({', '.join(binary)}), not {name!r}."
        )
    sizes = make_info(name).sizes
    if size not in sizes:
        raise DatasetError(
            f"{name} comes in sizes {', '.join(map(str, sizes))}; size {size!r} would write a "
            "file no loader opens."
        )


def _is_binary_volume(info) -> bool:
    return info.task == "binary" and info.spatial_dims == 3
