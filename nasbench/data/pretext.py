"""Pretext tasks for searching without labels (UnNAS, Liu et al., 2020).

Each wrapper takes a labelled dataset (items ``(image, label)``), throws the label away
and makes a new target from the image alone:

- ``rotation``: the image turned by 0, 90, 180 or 270 degrees; the target is the turn
  (4 classes). Every image appears four times, once per turn.
- ``jigsaw``: the image cut into ``grid x grid`` tiles, shuffled by one permutation of a
  fixed set; the target is the permutation's index in the set.
- ``inpainting``: a square patch of the image set to 0 (mid-grey after normalisation);
  the target is the patch's original pixels, flattened (a regression).
- ``colourisation``: the grey (channel mean) image in, the colour out: the target is
  the per-channel difference from grey, averaged over a ``grid x grid`` pooling
  (a regression). Grey images (1 channel) have no colour to predict, so it needs
  3-channel data; :func:`check_pretext` says so.

Random choices (jigsaw permutations, in-painting patch places) are drawn once from the
seed when the wrapper is built, so item ``i`` is always the same: a resumed search reads
the same batches. :func:`pretext_info` gives the :class:`DatasetInfo` of the wrapped data
(its task, channels and outputs), which the search builds its network and loss from.

Example:
    >>> import torch
    >>> base = [(torch.arange(16.0).view(1, 4, 4), 1)]
    >>> rotated = RotationDataset(base)
    >>> len(rotated), rotated[1][1], rotated[1][0][0, 0].tolist()
    (4, 1, [3.0, 7.0, 11.0, 15.0])
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import numbers
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from nasbench.data.registry import DatasetInfo
from nasbench.errors import ConfigError, closest_name

PRETEXT_TASKS = ("rotation", "jigsaw", "inpainting", "colourisation")
ROTATIONS = 4


def _image_of(item: Any) -> torch.Tensor:
    return torch.as_tensor(item[0]).float()


class _PretextDataset(Dataset):
    """Shared attributes: ``base``, ``info`` (the pretext info when the base has one), ``split``."""

    pretext = ""

    def __init__(self, base: Any, **settings: Any) -> None:
        # The settings must fit the images before any label or square is drawn for them.
        size = tuple(_image_of(base[0]).shape[-2:]) if len(base) else None
        check_geometry(self.pretext, size, **settings)
        self.base = base
        base_info = getattr(base, "info", None)
        self.info = None if base_info is None else pretext_info(base_info, self.pretext, **settings)
        self.split = getattr(base, "split", None)


def is_pretext(dataset: Any) -> bool:
    """Whether ``dataset`` is a pretext task's wrapper (its labels are made, not read).

    Example:
        >>> is_pretext(RotationDataset([])), is_pretext([])
        (True, False)
    """
    return isinstance(dataset, _PretextDataset)


class RotationDataset(_PretextDataset):
    """Rotation prediction: item ``4 i + k`` is image ``i`` turned ``k`` times by 90 degrees.

    Args:
        base: items ``(image, label)``, images ``(C, H, W)`` with ``H == W``.

    Example:
        >>> ds = RotationDataset([(torch.zeros(1, 8, 8), 0)] * 3)
        >>> len(ds), ds.targets.tolist()[:5]
        (12, [0, 1, 2, 3, 0])
    """

    pretext = "rotation"

    def __init__(self, base: Any) -> None:
        super().__init__(base)
        self.targets = np.tile(np.arange(ROTATIONS, dtype=np.int64), len(base))

    def __len__(self) -> int:
        return ROTATIONS * len(self.base)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image = _image_of(self.base[index // ROTATIONS])
        turns = index % ROTATIONS
        # Counter-clockwise turns in the image plane (the last two axes).
        return torch.rot90(image, turns, dims=(-2, -1)).contiguous(), turns


def jigsaw_permutations(grid: int, count: int, seed: int = 0) -> np.ndarray:
    """A fixed set of tile permutations: the identity first, then distinct random ones.

    Args:
        grid: tiles per side; a permutation orders ``grid * grid`` tiles.
        count: permutations in the set (at most ``(grid * grid)!``).
        seed: picks the set.

    Returns:
        ``(count, grid * grid)`` int64; row ``j`` says which tile goes to position ``k``.

    Example:
        >>> jigsaw_permutations(2, 3, seed=0)[0].tolist()
        [0, 1, 2, 3]
    """
    tiles = grid * grid
    if count > math.factorial(tiles):
        raise ConfigError(
            f"jigsaw_permutations {count} exceeds the {math.factorial(tiles)} orders of "
            f"{tiles} tiles; use at most that many."
        )
    if math.factorial(tiles) <= 40_320:  # up to 8 tiles: pick from all of them
        every = np.array(list(itertools.permutations(range(tiles))), dtype=np.int64)
        rng = np.random.default_rng(seed)
        rest = rng.permutation(len(every) - 1)[: count - 1] + 1  # row 0 is the identity
        return np.concatenate([every[:1], every[np.sort(rest)]])
    rng = np.random.default_rng(seed)
    chosen = [tuple(range(tiles))]
    seen = set(chosen)
    while len(chosen) < count:
        perm = tuple(int(t) for t in rng.permutation(tiles))
        if perm not in seen:
            seen.add(perm)
            chosen.append(perm)
    return np.array(chosen, dtype=np.int64)


def shuffle_tiles(image: torch.Tensor, permutation: Any, grid: int) -> torch.Tensor:
    """Cut ``image`` into ``grid x grid`` tiles and put tile ``permutation[k]`` at position ``k``.

    Args:
        image: ``(C, H, W)`` with ``H`` and ``W`` divisible by ``grid``.
        permutation: ``grid * grid`` tile indices (row-major).
        grid: tiles per side.

    Returns:
        The shuffled image, same shape.

    Example:
        >>> x = torch.arange(4.0).view(1, 2, 2)
        >>> shuffle_tiles(x, [3, 2, 1, 0], 2).flatten().tolist()
        [3.0, 2.0, 1.0, 0.0]
    """
    c, h, w = image.shape
    order = np.asarray(permutation)
    if sorted(order.reshape(-1).tolist()) != list(range(grid * grid)) or h % grid or w % grid:
        raise ConfigError(
            f"a {grid}x{grid} jigsaw of a {h}x{w} image needs a grid dividing both edges and "
            f"a permutation of 0..{grid * grid - 1}; got {order.tolist()}."
        )
    th, tw = h // grid, w // grid
    tiles = (
        image.reshape(c, grid, th, grid, tw).permute(1, 3, 0, 2, 4).reshape(grid * grid, c, th, tw)
    )
    shuffled = tiles[torch.as_tensor(order, dtype=torch.long)]
    return shuffled.reshape(grid, grid, c, th, tw).permute(2, 0, 3, 1, 4).reshape(c, h, w)


def unshuffle_tiles(image: torch.Tensor, permutation: Any, grid: int) -> torch.Tensor:
    """Undo :func:`shuffle_tiles`: ``unshuffle_tiles(shuffle_tiles(x, p, g), p, g) == x``."""
    inverse = np.argsort(np.asarray(permutation))
    return shuffle_tiles(image, inverse, grid)


class JigsawDataset(_PretextDataset):
    """Jigsaw puzzles: item ``i`` is image ``i`` with its tiles shuffled by permutation ``y_i``.

    Args:
        base: items ``(image, label)``, images ``(C, H, W)``, ``H`` and ``W`` divisible
            by ``grid``.
        grid: tiles per side (2: four tiles).
        n_permutations: size of the fixed permutation set (the number of classes).
        seed: picks each item's permutation.
        task_seed: picks the permutation set, which gives each label its meaning: every
            split of one task must share it (``seed`` may differ between splits).

    Example:
        >>> ds = JigsawDataset([(torch.zeros(1, 8, 8), 0)] * 5, grid=2, n_permutations=6)
        >>> ds.permutations.shape, len(ds)
        ((6, 4), 5)
    """

    pretext = "jigsaw"

    def __init__(
        self,
        base: Any,
        grid: int = 2,
        n_permutations: int = 24,
        seed: int = 0,
        task_seed: int = 0,
    ) -> None:
        super().__init__(base, grid=grid, n_permutations=n_permutations)
        self.grid = int(grid)
        self.permutations = jigsaw_permutations(self.grid, int(n_permutations), task_seed)
        rng = np.random.default_rng([seed, 1])
        self.targets = rng.integers(0, len(self.permutations), size=len(base)).astype(np.int64)

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        label = int(self.targets[index])
        image = _image_of(self.base[index])
        return shuffle_tiles(image, self.permutations[label], self.grid), label


class InpaintingDataset(_PretextDataset):
    """In-painting: a ``patch x patch`` square of image ``i`` is blanked; predict its pixels.

    Args:
        base: items ``(image, label)``, images ``(C, H, W)``.
        patch: edge of the blanked square in pixels.
        seed: picks each item's square.

    Attributes:
        corners: ``(len, 2)`` top-left corner (row, column) of each item's square.

    Example:
        >>> ds = InpaintingDataset([(torch.ones(1, 8, 8), 0)], patch=2, seed=0)
        >>> x, y = ds[0]
        >>> float(x.sum()), y.shape
        (60.0, torch.Size([4]))
    """

    pretext = "inpainting"

    def __init__(self, base: Any, patch: int = 8, seed: int = 0) -> None:
        super().__init__(base, patch=patch)
        self.patch = int(patch)
        self.targets = None
        h, w = _image_of(base[0]).shape[-2:] if len(base) else (patch, patch)
        rng = np.random.default_rng([seed, 2])
        rows = rng.integers(0, h - self.patch + 1, size=len(base))
        cols = rng.integers(0, w - self.patch + 1, size=len(base))
        self.corners = np.stack([rows, cols], axis=1).astype(np.int64)

    def __len__(self) -> int:
        return len(self.base)

    def mask(self, index: int, shape: tuple[int, ...]) -> torch.Tensor:
        """The boolean ``(H, W)`` mask of item ``index``'s square (True: blanked)."""
        r, c = (int(v) for v in self.corners[index])
        out = torch.zeros(shape[-2:], dtype=torch.bool)
        out[r : r + self.patch, c : c + self.patch] = True
        return out

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = _image_of(self.base[index])
        r, c = (int(v) for v in self.corners[index])
        target = image[:, r : r + self.patch, c : c + self.patch].reshape(-1).clone()
        masked = image.clone()
        masked[:, r : r + self.patch, c : c + self.patch] = 0.0
        return masked, target


class ColourisationDataset(_PretextDataset):
    """Colourisation: the grey image in; the pooled colour difference from grey out.

    Args:
        base: items ``(image, label)``, colour images ``(3, H, W)``, ``H`` and ``W``
            divisible by ``grid``.
        grid: the colour target is pooled to ``grid x grid`` per channel.

    Example:
        >>> x, y = ColourisationDataset([(torch.rand(3, 8, 8), 0)], grid=2)[0]
        >>> x.shape, y.shape
        (torch.Size([1, 8, 8]), torch.Size([12]))
    """

    pretext = "colourisation"

    def __init__(self, base: Any, grid: int = 4) -> None:
        super().__init__(base, grid=grid)
        self.grid = int(grid)
        self.targets = None

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = _image_of(self.base[index])
        if image.shape[0] != 3:
            raise ConfigError(
                f"colourisation needs colour (3-channel) images, got {image.shape[0]} "
                "channel(s); use rotation, jigsaw or inpainting on grey images."
            )
        grey = image.mean(dim=0, keepdim=True)
        colour = torch.nn.functional.adaptive_avg_pool2d(image - grey, self.grid)
        return grey, colour.reshape(-1)


def check_pretext(
    info: DatasetInfo,
    pretext: str,
    size: int,
    grid: int = 2,
    n_permutations: int = 24,
    patch: int = 8,
) -> None:
    """Raise a one-line ConfigError when ``pretext`` cannot be made from this data.

    Args:
        info: the labelled dataset's info.
        pretext: one of :data:`PRETEXT_TASKS`.
        size: the image edge the search loads.
        grid: jigsaw and colourisation: tiles (pooling cells) per side.
        n_permutations: jigsaw: the size of the permutation set.
        patch: in-painting: the square's edge.

    Example:
        >>> from nasbench.data import get_info
        >>> check_pretext(get_info("breastmnist"), "colourisation", 28)
        Traceback (most recent call last):
        ...
        nasbench.errors.ConfigError: pretext colourisation needs colour (3-channel) images but breastmnist has 1 channel (grey); use rotation, jigsaw or inpainting.
    """  # noqa: E501
    if pretext not in PRETEXT_TASKS:
        raise ConfigError(
            f"unknown pretext task {pretext!r}; use one of {', '.join(PRETEXT_TASKS)}."
            f"{closest_name(str(pretext), PRETEXT_TASKS)}"
        )
    if info.spatial_dims != 2 or info.task not in (
        "binary",
        "multi-class",
        "multi-label",
        "ordinal",
    ):
        raise ConfigError(
            f"pretext tasks are made from 2D classification images; {info.name} is "
            f"{info.spatial_dims}D {info.task}. Pick a 2D MedMNIST set or synthetic."
        )
    if pretext == "colourisation" and info.in_channels != 3:
        raise ConfigError(
            f"pretext colourisation needs colour (3-channel) images but {info.name} has "
            f"{info.in_channels} channel{'s' if info.in_channels != 1 else ''} (grey); "
            "use rotation, jigsaw or inpainting."
        )
    check_geometry(pretext, (size, size), grid=grid, n_permutations=n_permutations, patch=patch)


def check_geometry(
    pretext: str,
    image_size: tuple[int, int] | None,
    grid: int = 2,
    n_permutations: int = 24,
    patch: int = 8,
) -> None:
    """Raise a one-line ConfigError unless the pretext's settings fit images of this size.

    Args:
        pretext: one of :data:`PRETEXT_TASKS`.
        image_size: ``(H, W)`` of the images; None checks the settings alone.
        grid, n_permutations, patch: as :func:`check_pretext`.

    Example:
        >>> check_geometry("jigsaw", (28, 28), grid=3)
        Traceback (most recent call last):
        ...
        nasbench.errors.ConfigError: grid 3 does not divide the image size 28x28; pick a divisor of both edges.
    """  # noqa: E501
    h, w = image_size if image_size is not None else (None, None)
    if pretext in ("jigsaw", "colourisation"):
        if isinstance(grid, bool) or not isinstance(grid, numbers.Integral) or grid < 1:
            raise ConfigError(f"grid must be a whole number of tiles per side, got {grid!r}.")
        if h is not None and (h % grid or w % grid):
            raise ConfigError(
                f"grid {grid} does not divide the image size {h}x{w}; pick a divisor of both edges."
            )
    if pretext == "jigsaw":
        if grid < 2:
            raise ConfigError(f"jigsaw needs grid >= 2 (tiles per side), got {grid}.")
        most = math.factorial(grid * grid)
        if (
            isinstance(n_permutations, bool)
            or not isinstance(n_permutations, numbers.Integral)
            or not (2 <= n_permutations <= most)
        ):
            raise ConfigError(
                f"n_permutations must be between 2 and {most} for a {grid}x{grid} jigsaw, "
                f"got {n_permutations!r}."
            )
    if pretext == "inpainting":
        smallest = None if h is None else min(h, w)
        if (
            isinstance(patch, bool)
            or not isinstance(patch, numbers.Integral)
            or patch < 1
            or (smallest is not None and patch >= smallest)
        ):
            limit = "" if smallest is None else f" and smaller than the image edge {smallest}"
            raise ConfigError(f"inpainting patch {patch!r} must be at least 1{limit}.")


def pretext_info(info: DatasetInfo, pretext: str, **settings: Any) -> DatasetInfo:
    """The info of ``info``'s images turned into a pretext task.

    Args:
        info: the labelled dataset's info.
        pretext: one of :data:`PRETEXT_TASKS`.
        **settings: ``grid``, ``n_permutations``, ``patch`` as the wrapper takes them.

    Returns:
        A :class:`DatasetInfo` named ``<name>:<pretext>``: multi-class for rotation (4
        classes) and jigsaw (``n_permutations``); ``regression`` with one output per
        target value for in-painting (``C * patch**2``) and colourisation (``3 * grid**2``,
        1 input channel).

    Example:
        >>> from nasbench.data import get_info
        >>> pretext_info(get_info("breastmnist"), "rotation").num_classes
        4
    """
    name = f"{info.name}:{pretext}"
    if pretext == "rotation":
        names = tuple(f"{90 * k} degrees" for k in range(ROTATIONS))
        return dataclasses.replace(
            info, name=name, task="multi-class", num_classes=ROTATIONS, class_names=names
        )
    if pretext == "jigsaw":
        n = int(settings.get("n_permutations", 24))
        names = tuple(f"permutation {k}" for k in range(n))
        return dataclasses.replace(
            info, name=name, task="multi-class", num_classes=n, class_names=names
        )
    if pretext == "inpainting":
        outputs = info.in_channels * int(settings.get("patch", 8)) ** 2
        return dataclasses.replace(
            info, name=name, task="regression", num_classes=outputs, class_names=()
        )
    if pretext == "colourisation":
        outputs = 3 * int(settings.get("grid", 4)) ** 2
        return dataclasses.replace(
            info, name=name, task="regression", in_channels=1, num_classes=outputs, class_names=()
        )
    raise ConfigError(
        f"unknown pretext task {pretext!r}; use one of {', '.join(PRETEXT_TASKS)}."
        f"{closest_name(str(pretext), PRETEXT_TASKS)}"
    )


def pretext_dataset(
    base: Any,
    pretext: str,
    grid: int = 2,
    n_permutations: int = 24,
    patch: int = 8,
    seed: int = 0,
    task_seed: int = 0,
) -> Dataset:
    """Wrap a labelled dataset as one pretext task.

    Args:
        base: items ``(image, label)`` (e.g. from :func:`nasbench.data.load`).
        pretext: one of :data:`PRETEXT_TASKS`.
        grid: jigsaw tiles / colourisation pooling cells per side.
        n_permutations: jigsaw permutation set size.
        patch: in-painting square edge.
        seed: seeds the wrapper's fixed random choices of items (each split its own).
        task_seed: seeds the choices that define the task (the jigsaw permutation set,
            i.e. what each label means); every split of one task must share it.

    Returns:
        The wrapped dataset; ``.info`` is :func:`pretext_info` of the base's info.

    Example:
        >>> ds = pretext_dataset([(torch.zeros(1, 8, 8), 0)], "rotation")
        >>> len(ds)
        4
    """
    if pretext == "rotation":
        return RotationDataset(base)
    if pretext == "jigsaw":
        return JigsawDataset(
            base, grid=grid, n_permutations=n_permutations, seed=seed, task_seed=task_seed
        )
    if pretext == "inpainting":
        return InpaintingDataset(base, patch=patch, seed=seed)
    if pretext == "colourisation":
        return ColourisationDataset(base, grid=grid)
    raise ConfigError(
        f"unknown pretext task {pretext!r}; use one of {', '.join(PRETEXT_TASKS)}."
        f"{closest_name(str(pretext), PRETEXT_TASKS)}"
    )
