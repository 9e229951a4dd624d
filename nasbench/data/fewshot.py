"""Few-shot episodes (N-way K-shot with a query set) over one or several datasets.

An episode draws ``n_way`` classes from the pooled classes of the datasets,
then ``k_shot`` support and ``n_query`` query samples of each, disjoint. Labels
inside an episode are re-numbered ``0..n_way-1`` in the order the classes were
drawn. Episode ``i`` is drawn from ``np.random.default_rng((seed, i))``, so an
episode can be regenerated alone and the same seed gives the same episodes.

Example:
    >>> sampler = EpisodeSampler("synthetic-multiclass", 3, 2, 4)  # doctest: +SKIP
    >>> episode = next(iter(sampler))  # doctest: +SKIP
    >>> episode.support_images.shape  # doctest: +SKIP
    torch.Size([6, 1, 28, 28])
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from nasbench.errors import DatasetError


@dataclass(frozen=True)
class Episode:
    """One few-shot task.

    Attributes:
        support_images: ``(n_way * k_shot, C, ...)`` float tensor, grouped by class.
        support_labels: ``(n_way * k_shot,)`` int64 in ``0..n_way-1``.
        query_images: ``(n_way * n_query, C, ...)`` float tensor, grouped by class.
        query_labels: ``(n_way * n_query,)`` int64 in ``0..n_way-1``.
        classes: per episode label, ``(dataset name, class name)``.
        support_index: per support sample, ``(dataset position, sample index)``.
        query_index: per query sample, ``(dataset position, sample index)``.
    """

    support_images: torch.Tensor
    support_labels: torch.Tensor
    query_images: torch.Tensor
    query_labels: torch.Tensor
    classes: tuple[tuple[str, str], ...]
    support_index: tuple[tuple[int, int], ...]
    query_index: tuple[tuple[int, int], ...]


class EpisodeSampler:
    """Yield N-way K-shot episodes over the classes of one or several datasets.

    Args:
        datasets_or_names: datasets with ``.targets`` (single-label) or registry
            names (loaded with ``nasbench.data.load(name, split, ...)``); one or a list.
        n_way: classes per episode.
        k_shot: support samples per class.
        n_query: query samples per class.
        seed: seeds every episode.
        episodes: how many episodes one iteration yields.
        split: split loaded for names.
        size: image size loaded for names (all datasets must give the same image shape).
        root: data folder for names.
        **load_options: passed to ``nasbench.data.load`` for names (e.g. ``download=False``).

    Example:
        >>> sampler = EpisodeSampler("synthetic-multiclass", 2, 1, 3, seed=0)  # doctest: +SKIP
        >>> sampler.episode(0).query_labels.tolist()  # doctest: +SKIP
        [0, 0, 0, 1, 1, 1]
    """

    def __init__(
        self,
        datasets_or_names: Any,
        n_way: int = 5,
        k_shot: int = 1,
        n_query: int = 15,
        seed: int = 0,
        episodes: int = 100,
        split: str = "train",
        size: int = 28,
        root: str | os.PathLike | None = None,
        **load_options: Any,
    ) -> None:
        if not _is_int(n_way) or n_way < 2:
            # One class is one answer: every query is right whatever the network learned.
            raise DatasetError(f"n_way must be at least 2 (an integer), got {n_way!r}.")
        for label, value in (("k_shot", k_shot), ("episodes", episodes)):
            if not _is_int(value) or value < 1:
                raise DatasetError(f"{label} must be at least 1 (an integer), got {value!r}.")
        if not _is_int(n_query) or n_query < 0:
            raise DatasetError(f"n_query must be 0 or more (an integer), got {n_query!r}.")
        if not _is_int(seed) or seed < 0:
            raise DatasetError(f"seed must be a non-negative integer, got {seed!r}.")
        self.n_way, self.k_shot, self.n_query = int(n_way), int(k_shot), int(n_query)
        self.seed, self.episodes = int(seed), int(episodes)
        given = _as_list(datasets_or_names)
        _refuse_listed_twice(given)
        self.datasets = [_as_dataset(d, split, size, root, load_options) for d in given]
        self.names = [_name(d, i) for i, d in enumerate(self.datasets)]
        all_targets = [_targets(d, name) for d, name in zip(self.datasets, self.names, strict=True)]
        self._check_shapes()
        # The pool: (dataset position, class value, member indices) per class.
        self._pool: list[tuple[int, int, np.ndarray]] = []
        need = self.k_shot + self.n_query
        for position, (dataset, targets) in enumerate(zip(self.datasets, all_targets, strict=True)):
            for value in np.unique(targets):
                members = np.flatnonzero(targets == value)
                if len(members) < need:
                    raise DatasetError(
                        f"{self.names[position]}: class {_class_name(dataset, int(value))!r} "
                        f"has {len(members)} samples but k_shot + n_query = {need}; lower "
                        "them or use a larger split."
                    )
                self._pool.append((position, int(value), members))
        if self.n_way > len(self._pool):
            raise DatasetError(
                f"n_way={self.n_way} but {', '.join(self.names)} offer only "
                f"{len(self._pool)} classes; lower n_way or add datasets."
            )

    def _check_shapes(self) -> None:
        shapes = {tuple(d[0][0].shape) for d in self.datasets if len(d)}
        if len(shapes) > 1:
            raise DatasetError(
                f"datasets {', '.join(self.names)} give images of shapes {sorted(shapes)}; "
                "load them at one size and channel count."
            )

    def __len__(self) -> int:
        return self.episodes

    def __iter__(self) -> Iterator[Episode]:
        for index in range(self.episodes):
            yield self.episode(index)

    def episode(self, index: int) -> Episode:
        """Return episode ``index`` (the same for the same seed and index).

        Args:
            index: episode number, 0 or more.

        Returns:
            An :class:`Episode`.
        """
        if isinstance(index, bool) or not isinstance(index, numbers.Integral) or index < 0:
            raise DatasetError(f"episode index must be a whole number >= 0, got {index!r}.")
        rng = np.random.default_rng((self.seed, int(index)))
        chosen = rng.choice(len(self._pool), size=self.n_way, replace=False)
        support: list[tuple[int, int]] = []
        query: list[tuple[int, int]] = []
        classes = []
        for position, value, members in (self._pool[c] for c in chosen):
            picked = rng.choice(members, size=self.k_shot + self.n_query, replace=False)
            support += [(position, int(i)) for i in picked[: self.k_shot]]
            query += [(position, int(i)) for i in picked[self.k_shot :]]
            classes.append((self.names[position], _class_name(self.datasets[position], value)))
        return Episode(
            support_images=self._images(support),
            support_labels=torch.arange(self.n_way).repeat_interleave(self.k_shot),
            query_images=self._images(query),
            query_labels=torch.arange(self.n_way).repeat_interleave(self.n_query),
            classes=tuple(classes),
            support_index=tuple(support),
            query_index=tuple(query),
        )

    def _images(self, where: list[tuple[int, int]]) -> torch.Tensor:
        if not where:
            shape = tuple(self.datasets[0][0][0].shape)
            return torch.empty((0, *shape))
        return torch.stack([torch.as_tensor(self.datasets[p][i][0]) for p, i in where])


class ClassSubset:
    """The samples of some classes of a single-label dataset (for disjoint meta-train and
    meta-test classes).

    Labels keep their values, so class names still resolve through ``info``.

    Args:
        dataset: a dataset with ``.targets``.
        classes: the class values to keep.

    Example:
        >>> import types
        >>> data = types.SimpleNamespace(targets=[0, 1, 2, 1])
        >>> ClassSubset(data, [1]).targets.tolist()
        [1, 1]
    """

    def __init__(self, dataset: Any, classes: Sequence[int]) -> None:
        self.dataset = dataset
        self.info = getattr(dataset, "info", None)
        name = _name(dataset, 0)
        targets = _targets(dataset, name)
        if isinstance(classes, str) or not isinstance(classes, Sequence | np.ndarray):
            raise DatasetError(f"classes must be a list of class values, got {classes!r}.")
        bad = [c for c in classes if not _is_int(c)]
        if bad or len(classes) == 0:
            raise DatasetError(
                f"classes must be a non-empty list of integer class values, got {classes!r}; "
                "pass e.g. [0, 1]."
            )
        present = sorted(set(np.unique(targets).tolist()))
        missing = sorted({int(c) for c in classes} - set(present))
        if missing:
            raise DatasetError(
                f"{name} has no class {missing}; choose among its classes {present}."
            )
        self.classes = tuple(int(c) for c in classes)
        self.indices = np.flatnonzero(np.isin(targets, self.classes))
        self.targets = targets[self.indices]

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[index])]


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, str | os.PathLike) or not isinstance(value, Sequence):
        return [value]
    if not value:
        raise DatasetError("no datasets given; pass a dataset, a name, or a list of them.")
    return list(value)


def _refuse_listed_twice(given: list[Any]) -> None:
    """Refuse a dataset (or name) listed twice: its classes would be pooled twice, under two
    labels, and one episode could draw the same images as support of one and query of the
    other."""
    for i, value in enumerate(given):
        for j, earlier in enumerate(given[:i]):
            if value is earlier or (isinstance(value, str) and value == earlier):
                shown = repr(value) if isinstance(value, str) else _name(value, i)
                raise DatasetError(
                    f"{shown} is listed twice (positions {j} and {i}); list each dataset once."
                )


def _as_dataset(value: Any, split: str, size: int, root: Any, options: dict) -> Any:
    if isinstance(value, str):
        from nasbench.data import load  # late: nasbench.data imports this module

        return load(value, split, root=root, size=size, **options)
    return value


def _name(dataset: Any, position: int) -> str:
    info = getattr(dataset, "info", None)
    return getattr(info, "name", None) or f"dataset {position}"


def _targets(dataset: Any, name: str) -> np.ndarray:
    targets = getattr(dataset, "targets", None)
    if targets is None:
        raise DatasetError(f"{name} has no class labels (.targets); few-shot needs classes.")
    targets = np.asarray(targets)
    if targets.ndim == 2 and targets.shape[1] == 1:
        targets = targets[:, 0]
    if targets.ndim != 1:
        raise DatasetError(f"{name} is multi-label; few-shot episodes need one label per image.")
    return targets


def _class_name(dataset: Any, value: int) -> str:
    names = getattr(getattr(dataset, "info", None), "class_names", ()) or ()
    return str(names[value]) if 0 <= value < len(names) else str(value)
