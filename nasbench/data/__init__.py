"""Medical datasets behind one call: ``nasbench.data.load(name, split)``.

Importing this package registers every source: the 18 MedMNIST subsets, the
offline synthetic default, the MONAI sets, user folders and few-shot tasks.

Example:
    >>> from nasbench import data
    >>> ds = data.load("breastmnist", split="test", root="data")  # doctest: +SKIP
    >>> len(ds), ds[0][0].shape  # doctest: +SKIP
    (156, torch.Size([1, 28, 28]))
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from nasbench.data import medmnist, synthetic
from nasbench.data.registry import (
    BASE_SPLITS,
    SEARCH_SPLITS,
    SPLITS,
    TASKS,
    DatasetInfo,
    check_size,
    data_root,
    get_entry,
    get_info,
    is_cached,
    list_datasets,
    register_dataset,
)
from nasbench.data.splits import DatasetView, check_seed, search_halves, stratified_limit
from nasbench.data.transforms import make_transform
from nasbench.errors import DatasetError, closest_name

__all__ = [
    "BASE_SPLITS",
    "SEARCH_SPLITS",
    "SPLITS",
    "TASKS",
    "DatasetInfo",
    "DatasetView",
    "data_root",
    "get_info",
    "is_cached",
    "list_datasets",
    "load",
    "register_dataset",
]


def load(
    name: str,
    split: str = "train",
    root: str | os.PathLike | None = None,
    size: int = 28,
    download: bool = True,
    limit: int | None = None,
    seed: int = 0,
    transform: str | Callable[[Any], Any] | None = "default",
    **options: Any,
) -> DatasetView:
    """Load one split of a registered dataset as a torch Dataset.

    Args:
        name: a registry name (``nasbench datasets`` lists them).
        split: ``"train"``, ``"val"``, ``"test"``, or a stratified half of train:
            ``"search_train"`` / ``"search_val"`` (for bilevel search).
        root: the data folder; default ``$NASBENCH_DATA`` or ``~/.cache/nasbench``.
        size: image edge length, one of ``get_info(name).sizes``.
        download: fetch missing files (MedMNIST); with False a missing file is an error.
        limit: keep at most this many samples, stratified by class.
        seed: a non-negative integer; seeds the search halves, the ``limit`` choice and
            the augmentation.
        transform: ``"default"`` (normalise to [-1, 1]), ``"augment"`` (light
            augmentation, then normalise), None (raw [0, 1]) or an image-only callable.
        **options: passed to the source's loader (e.g. ``opener=``, ``verify=True``).

    Returns:
        a :class:`DatasetView` with ``.info``, ``.split``, ``.targets`` and items
        ``(image, target)``.

    Example:
        >>> ds = load("breastmnist", split="search_val", limit=100, seed=1)  # doctest: +SKIP
        >>> len(ds), ds.info.task  # doctest: +SKIP
        (100, 'binary')
    """
    entry = get_entry(name)
    info = entry.info
    seed = check_seed(seed)
    if split not in SPLITS:
        raise DatasetError(
            f"unknown split {split!r} for {info.name}.{closest_name(str(split), SPLITS)} "
            f"Choose one of {', '.join(SPLITS)}."
        )
    check_size(info, size)
    item_transform = make_transform(transform, info, seed)
    base_split = "train" if split in SEARCH_SPLITS else split
    base = entry.loader(info, base_split, data_root(root), size, download, **options)
    if len(base) == 0:
        # An interrupted unpacking (class folders with no image), a dataset.json that
        # lists too few cases: caught here, not as an IndexError at the first batch.
        raise DatasetError(_empty_split_message(entry, base_split, root, size, options))
    targets = getattr(base, "targets", None)
    targets = None if targets is None else np.asarray(targets)
    indices = None
    if split in SEARCH_SPLITS:
        halves = search_halves(targets, seed=seed, n=len(base))
        indices = halves[SEARCH_SPLITS.index(split)]
    if limit is not None:
        n = len(base) if indices is None else len(indices)
        if targets is not None and indices is not None:
            targets = targets[indices]
        chosen = stratified_limit(targets, limit, seed, n=n)
        indices = chosen if indices is None else indices[chosen]
    return DatasetView(base, indices, item_transform, split=split)


def _empty_split_message(
    entry: Any, split: str, root: str | os.PathLike | None, size: int, options: dict
) -> str:
    """Why ``split`` holds no images: a set whose train split has some is too small to
    share its images out (2 Decathlon cases make no val or test case), not damaged."""
    if split != "train":
        try:
            in_train = len(
                entry.loader(entry.info, "train", data_root(root), size, False, **options)
            )
        except DatasetError:
            in_train = 0
        if in_train:
            return (
                f"{entry.info.name}'s {split} split holds no images, its train split "
                f"{in_train}: the dataset is too small to share out into train, val and "
                "test; add images (or cases) to it."
            )
    return (
        f"{entry.info.name}'s {split} split holds no images: its files (under "
        f"{data_root(root)} unless the dataset names its own folder) are incomplete; "
        "delete them and fetch them again, or add images to that split."
    )


def _register_sources() -> None:
    from nasbench.data import folder, landmarks, lesions, monai_sets, mri

    for source in (medmnist, synthetic, lesions, monai_sets, folder, mri, landmarks):
        source.register()


# Last, so that a source module may import names defined above (load, DatasetView).
_register_sources()
