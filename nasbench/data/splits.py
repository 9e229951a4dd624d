"""Index-level splits: the two search halves of train and stratified subsampling.

All functions take labels and a seed and return sorted index arrays, so the same
seed gives the same split on every machine. :class:`DatasetView` applies such an
index array (and a transform) to a base dataset.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from torch.utils.data import Dataset

from nasbench.errors import DatasetError


def strata(targets: np.ndarray | None) -> np.ndarray | None:
    """Return one class key per sample to stratify on, or None (no labels).

    Single-label targets are their own key. For multi-label targets the key is the
    first positive label plus one, and 0 for samples with no positive label.

    Example:
        >>> strata(np.array([[0, 1], [0, 0], [1, 1]])).tolist()
        [2, 0, 1]
    """
    if targets is None:
        return None
    targets = np.asarray(targets)
    if targets.ndim == 1:
        return targets
    if targets.ndim == 2:
        positive = targets > 0
        return np.where(positive.any(axis=1), positive.argmax(axis=1) + 1, 0)
    return None


def check_seed(seed: Any) -> int:
    """Return ``seed`` as an int, or refuse it in one line.

    None would draw a fresh split on every call (numpy seeds itself from the OS), so two
    loads of "the same" split would differ; a seed is required.

    Args:
        seed: a non-negative integer (numpy integers too).

    Returns:
        ``int(seed)``.

    Raises:
        DatasetError: None, a bool, a non-integer or a negative number.

    Example:
        >>> check_seed(np.int64(3))
        3
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise DatasetError(
            f"seed must be a non-negative integer, got {seed!r}; pass one (e.g. seed=0) "
            "so that the same split comes back every time."
        )
    return int(seed)


def search_halves(
    targets: np.ndarray | None, seed: int = 0, n: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Split sample indices into two disjoint, stratified halves (search_train, search_val).

    Each class is shuffled and dealt alternately into the two halves, so every
    class (and the total) differs by at most one sample between the halves.

    Args:
        targets: labels ((N,) or (N, K)); None splits at random.
        seed: seeds the shuffle.
        n: number of samples, needed when ``targets`` is None.

    Returns:
        ``(first, second)``: sorted int64 index arrays that together cover ``range(N)``.

    Example:
        >>> a, b = search_halves(np.array([0, 0, 1, 1]), seed=0)
        >>> sorted(a.tolist() + b.tolist())
        [0, 1, 2, 3]
    """
    rng = np.random.default_rng(check_seed(seed))
    order = _shuffled_by_class(strata(targets), _length(targets, n), rng)
    return np.sort(order[0::2]), np.sort(order[1::2])


def stratified_limit(
    targets: np.ndarray | None, limit: int, seed: int = 0, n: int | None = None
) -> np.ndarray:
    """Pick ``limit`` sample indices with the class proportions of ``targets``.

    Every class keeps at least one sample when ``limit`` allows it; the rest is
    shared by largest remainder.

    Args:
        targets: labels ((N,) or (N, K)); None subsamples at random.
        limit: how many samples to keep; at least N keeps them all.
        seed: seeds the choice.
        n: number of samples, needed when ``targets`` is None.

    Returns:
        sorted int64 indices into ``targets``.

    Example:
        >>> stratified_limit(np.array([0] * 90 + [1] * 10), 10, seed=0).size
        10
    """
    n = _length(targets, n)
    if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1:
        raise DatasetError(f"limit must be a positive whole number, got {limit!r}.")
    seed = check_seed(seed)
    if limit >= n:
        return np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(seed)
    keys = strata(targets)
    if keys is None:
        return np.sort(rng.choice(n, size=limit, replace=False)).astype(np.int64)
    classes, counts = np.unique(keys, return_counts=True)
    quota = _allocate(counts, limit)
    picked = [
        rng.permutation(np.flatnonzero(keys == c))[:q]
        for c, q in zip(classes, quota, strict=True)
        if q > 0
    ]
    return np.sort(np.concatenate(picked)).astype(np.int64)


def _allocate(counts: np.ndarray, limit: int) -> np.ndarray:
    """Share ``limit`` among classes in proportion to ``counts`` (at least 1 each if possible)."""
    floor_one = limit >= len(counts)
    exact = counts * limit / counts.sum()
    quota = np.floor(exact).astype(np.int64)
    if floor_one:
        quota = np.maximum(quota, 1)
    # Too many after the minimum of one: take back from the classes furthest over their share.
    while quota.sum() > limit:
        over = np.where(quota > 1, quota - exact, -np.inf)
        quota[np.argmax(over)] -= 1
    # Too few: give the rest to the largest remainders, never beyond a class's size.
    while quota.sum() < limit:
        room = np.where(quota < counts, exact - quota, -np.inf)
        quota[np.argmax(room)] += 1
    return quota


def _shuffled_by_class(keys: np.ndarray | None, n: int, rng: np.random.Generator) -> np.ndarray:
    """Return all indices, grouped by class and shuffled within each class."""
    if keys is None:
        return rng.permutation(n)
    groups = [rng.permutation(np.flatnonzero(keys == c)) for c in np.unique(keys)]
    return np.concatenate(groups) if groups else np.arange(0)


def _length(targets: np.ndarray | None, n: int | None) -> int:
    if targets is not None:
        return len(targets)
    if n is None:
        raise DatasetError("a split without labels needs the number of samples n.")
    return int(n)


class DatasetView(Dataset):
    """A base dataset seen through an index array and a transform.

    Attributes:
        base: the dataset of the official split.
        indices: int64 indices into ``base`` (all of it when built with None).
        info: ``base.info``.
        split: the split name asked for (``"search_train"`` for a search half).
        targets: ``base.targets`` at ``indices``, or None.
        transform: ``transform(image, target) -> (image, target)``, or None.
    """

    def __init__(
        self,
        base: Any,
        indices: np.ndarray | None = None,
        transform: Callable[[Any, Any], tuple[Any, Any]] | None = None,
        split: str | None = None,
    ) -> None:
        self.base = base
        self.indices = (
            np.arange(len(base), dtype=np.int64)
            if indices is None
            else np.asarray(indices, dtype=np.int64)
        )
        self.info = base.info
        self.split = split or base.split
        targets = getattr(base, "targets", None)
        self.targets = None if targets is None else np.asarray(targets)[self.indices]
        self.transform = transform

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image, target = self.base[int(self.indices[index])]
        if self.transform is not None:
            image, target = self.transform(image, target)
        return image, target
