"""The offline default: synthetic medical-like datasets generated on the fly.

No files, no downloads. Every sample is drawn from its own generator,
``np.random.default_rng((seed, dataset_code, split_id, index))``, so a dataset is
lazy (nothing is generated until it is indexed), deterministic (same seed and
index, same tensors) and holds no global cache.

A scene is described in relative units (fractions of the field of view) and its
parameters are drawn before any pixel-level noise, so the same seed and index
give the same anatomy at every image size; only the speckle differs.

Entries:
    ``synthetic``            2D binary: lesion vs no lesion.
    ``synthetic-multiclass`` 2D, 4 classes: normal, round lesion, elongated lesion, nodules.
    ``synthetic3d``          3D binary: lesion vs no lesion.
    ``synthetic-seg``        2D segmentation: background, organ, lesion.
    ``synthetic-seg3d``      3D segmentation: background, organ, lesion.
    ``synthetic-recon``      2D reconstruction: zero-filled undersampled MRI -> phantom.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy import ndimage
from torch.utils.data import Dataset

from nasbench.data import registry
from nasbench.data.kspace import info_for_coils
from nasbench.data.registry import BASE_SPLITS, DatasetInfo
from nasbench.errors import DatasetError

LICENCE = "CC0 (generated)"
CITATION = "nasbench synthetic default"
_SPLIT_IDS = {"train": 0, "val": 1, "test": 2}
# Coarse grid the smooth textures are drawn on; fixed so a scene is size-independent.
_TEXTURE_CELLS = 10
# Points along a vessel path; dense enough to be sub-pixel at 128 px.
_VESSEL_STEPS = 400
MIN_SIZE = 16

Array = np.ndarray


# --------------------------------------------------------------------------- scene parts


def _grid(size: int, dims: int) -> Array:
    """Pixel-centre coordinates in [0, 1], shape ``(dims, size, ..., size)``."""
    axis = (np.arange(size, dtype=np.float32) + 0.5) / size
    return np.stack(np.meshgrid(*([axis] * dims), indexing="ij"))


def _upsample(coarse: Array, size: int) -> Array:
    """Smooth a coarse random grid up to ``size`` per axis; unit variance.

    Separable Gaussian-kernel interpolation (one small matrix per axis) is much
    cheaper than spline zooming in 3D and gives the same look.
    """
    cells = coarse.shape[0]
    pixels = (np.arange(size) + 0.5) / size
    centres = (np.arange(cells) + 0.5) / cells
    weights = np.exp(-0.5 * ((pixels[:, None] - centres[None, :]) * cells / 0.8) ** 2)
    weights = (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)
    field = coarse.astype(np.float32)
    for axis in range(coarse.ndim):
        field = np.moveaxis(np.tensordot(weights, field, axes=([1], [axis])), 0, axis)
    return (field - field.mean()) / (field.std() + 1e-6)


def _rotation(rng: np.random.Generator, dims: int) -> Array:
    """A random rotation matrix (uniform over orientations)."""
    q, r = np.linalg.qr(rng.standard_normal((dims, dims)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q.astype(np.float32)


def _blob(
    grid: Array,
    centre: Array,
    radii: Array,
    rotation: Array,
    size: int,
    wobble: Array | None = None,
) -> Array:
    """Soft ellipsoid in [0, 1]: 1 inside, a ~1 px sigmoid edge, 0 outside.

    ``wobble`` (a smooth field) perturbs the boundary to make it irregular.
    """
    offset = grid - centre.reshape(-1, *([1] * (grid.ndim - 1)))
    local = np.tensordot(rotation.T, offset, axes=1)
    radius = np.sqrt(sum((local[i] / radii[i]) ** 2 for i in range(len(radii))))
    if wobble is not None:
        radius = radius + wobble
    # Distance outside the boundary in pixels, so the edge is ~1 px at every size.
    outside = (radius - 1.0) * float(radii.min()) * size
    return (1.0 / (1.0 + np.exp(np.clip(outside / 0.6, -30, 30)))).astype(np.float32)


def _vessel_paths(rng: np.random.Generator, dims: int, count: int) -> list[Array]:
    """Random smooth curves (relative coordinates), each ``(_VESSEL_STEPS, dims)``."""
    paths = []
    for _ in range(count):
        start = rng.uniform(0.0, 1.0, dims)
        direction = rng.standard_normal(dims)
        # A direction that random-walks slowly gives gently curving, vessel-like paths.
        turns = np.cumsum(rng.normal(0.0, 0.12, (_VESSEL_STEPS, dims)), axis=0)
        steps = direction / np.linalg.norm(direction) + turns
        steps /= np.linalg.norm(steps, axis=1, keepdims=True)
        paths.append(start + np.cumsum(steps * (1.3 / _VESSEL_STEPS), axis=0))
    return paths


def _render_vessels(paths: list[Array], widths: Array, size: int, dims: int) -> Array:
    """Draw paths as tubes: splat points on the grid, blur, scale the peak to 1."""
    out = np.zeros((size,) * dims, dtype=np.float32)
    for path, width in zip(paths, widths, strict=True):
        hits = np.zeros((size,) * dims, dtype=np.float32)
        idx = np.floor(path * size).astype(int)
        idx = idx[np.all((idx >= 0) & (idx < size), axis=1)]
        if len(idx) == 0:
            continue
        hits[tuple(idx.T)] = 1.0
        tube = ndimage.gaussian_filter(hits, sigma=max(0.5, width * size), mode="constant")
        out = np.maximum(out, tube / (tube.max() + 1e-6))
    return out


class _Scene:
    """Background tissue for one sample; parameters drawn up front, pixels on demand."""

    def __init__(self, rng: np.random.Generator, dims: int) -> None:
        self.dims = dims
        self.level = rng.uniform(0.35, 0.55)
        self.texture_amp = rng.uniform(0.03, 0.06)
        self.texture = rng.standard_normal((_TEXTURE_CELLS,) * dims)
        self.fine = rng.standard_normal((2 * _TEXTURE_CELLS,) * dims)
        n_vessels = int(rng.integers(1, 4))
        self.vessels = _vessel_paths(rng, dims, n_vessels)
        self.vessel_widths = rng.uniform(0.008, 0.02, n_vessels)
        self.vessel_contrast = rng.uniform(0.08, 0.2)
        self.bias_linear = rng.normal(0.0, 0.35, dims)
        self.bias_quadratic = rng.normal(0.0, 0.5, dims)
        self.speckle_shape = rng.uniform(30.0, 80.0)

    def tissue(self, size: int) -> Array:
        """Smooth textured background plus vessels, before bias and speckle."""
        tex = 0.75 * _upsample(self.texture, size) + 0.25 * _upsample(self.fine, size)
        img = self.level + self.texture_amp * tex
        vessels = _render_vessels(self.vessels, self.vessel_widths, size, self.dims)
        return (img + self.vessel_contrast * vessels).astype(np.float32)

    def finish(self, img: Array, grid: Array, rng: np.random.Generator) -> Array:
        """Apply the bias field and speckle (the only pixel-level randomness), clip to [0, 1]."""
        centred = grid - 0.5
        exponent = sum(
            self.bias_linear[i] * centred[i] + self.bias_quadratic[i] * centred[i] ** 2
            for i in range(self.dims)
        )
        img = img * np.exp(exponent)
        speckle = rng.gamma(self.speckle_shape, 1.0 / self.speckle_shape, img.shape)
        return np.clip(img * speckle, 0.0, 1.0).astype(np.float32)


class _Lesion:
    """One ellipsoidal lesion in relative units; rendered as a soft mask."""

    def __init__(
        self,
        rng: np.random.Generator,
        dims: int,
        radius: tuple[float, float],
        elongation: tuple[float, float],
        irregularity: float = 0.0,
        centre: Array | None = None,
        region: tuple[float, float] = (0.2, 0.8),
    ) -> None:
        self.dims = dims
        self.centre = rng.uniform(*region, dims) if centre is None else np.asarray(centre)
        major = rng.uniform(*radius)
        ratio = rng.uniform(*elongation)
        self.radii = np.full(dims, major / ratio)
        self.radii[0] = major
        self.rotation = _rotation(rng, dims)
        # Irregular boundaries: a smooth random field added to the normalised radius.
        self.irregularity = irregularity
        self.wobble = rng.standard_normal((6,) * dims) if irregularity > 0 else None

    def mask(self, grid: Array, size: int) -> Array:
        wobble = None
        if self.wobble is not None:
            wobble = self.irregularity * _upsample(self.wobble, size)
        return _blob(grid, self.centre.astype(np.float32), self.radii, self.rotation, size, wobble)


def _contrast(rng: np.random.Generator, low: float, high: float) -> float:
    """A lesion contrast of random sign: bright (hyper-) or dark (hypo-intense)."""
    return float(rng.uniform(low, high) * rng.choice([-1.0, 1.0]))


# --------------------------------------------------------------------------- generators
# A generator turns (item rng, label, size) into (image array without channel, target).


def _lesion_kind(rng: np.random.Generator, dims: int, kind: int) -> list[_Lesion]:
    """Lesions of one class: 0 none, 1 round, 2 elongated/irregular, 3 several small nodules."""
    if kind == 0:
        return []
    if kind == 1:
        return [_Lesion(rng, dims, (0.06, 0.13), (1.0, 1.25))]
    if kind == 2:
        return [_Lesion(rng, dims, (0.12, 0.2), (2.2, 3.5), irregularity=0.25)]
    count = int(rng.integers(3, 6))
    return [_Lesion(rng, dims, (0.04, 0.06), (1.0, 1.2)) for _ in range(count)]


def _classification(
    dims: int,
    num_classes: int,
    radius: tuple[float, float] = (0.06, 0.15),
    contrast: tuple[float, float] = (0.18, 0.45),
) -> Callable[..., tuple[Array, int]]:
    def generate(rng: np.random.Generator, label: int, size: int) -> tuple[Array, int]:
        scene = _Scene(rng, dims)
        if num_classes == 2:
            # Binary: round or irregular, from barely visible to obvious.
            irregular = bool(rng.integers(2))
            lesions = (
                [_Lesion(rng, dims, radius, (1.0, 2.5), irregularity=0.2 * irregular)]
                if label
                else []
            )
        else:
            lesions = _lesion_kind(rng, dims, label)
        lesion_contrast = _contrast(rng, *contrast)
        grid = _grid(size, dims)
        img = scene.tissue(size)
        for lesion in lesions:
            img = img + lesion_contrast * lesion.mask(grid, size)
        return scene.finish(img, grid, rng), label

    return generate


def _segmentation(dims: int) -> Callable[..., tuple[Array, Array]]:
    def generate(rng: np.random.Generator, label: int, size: int) -> tuple[Array, Array]:
        scene = _Scene(rng, dims)
        organ = _Lesion(rng, dims, (0.25, 0.35), (1.1, 1.6), irregularity=0.12, region=(0.4, 0.6))
        organ_contrast = _contrast(rng, 0.1, 0.22)
        n_lesions = int(rng.choice([0, 1, 1, 2, 3]))
        lesions = []
        for _ in range(n_lesions):
            # Place lesions inside the organ: within half its minor radius of the centre.
            shift = rng.uniform(-0.5, 0.5, dims) * organ.radii.min()
            lesions.append(
                _Lesion(rng, dims, (0.04, 0.09), (1.0, 1.6), centre=organ.centre + shift)
            )
        lesion_contrast = _contrast(rng, 0.08, 0.2)
        grid = _grid(size, dims)
        img = scene.tissue(size)
        organ_mask = organ.mask(grid, size)
        img = img + organ_contrast * organ_mask
        mask = (organ_mask > 0.5).astype(np.int64)
        for lesion in lesions:
            m = lesion.mask(grid, size) * organ_mask
            img = img + lesion_contrast * m
            mask[m > 0.5] = 2
        return scene.finish(img, grid, rng), mask

    return generate


def _phantom(rng: np.random.Generator, size: int) -> Array:
    """A random Shepp-Logan-like head phantom in [0, 1]."""
    grid = _grid(size, 2)
    centre = 0.5 + rng.normal(0.0, 0.01, 2)
    outer = np.array([rng.uniform(0.42, 0.46), rng.uniform(0.32, 0.36)])
    angle = rng.normal(0.0, 0.1)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], np.float32)
    skull = _blob(grid, centre, outer, rot, size)
    brain = _blob(grid, centre, outer * rng.uniform(0.88, 0.92), rot, size)
    img = 1.0 * skull - 0.75 * brain
    texture = _upsample(rng.standard_normal((_TEXTURE_CELLS, _TEXTURE_CELLS)), size)
    img = img + brain * 0.02 * texture
    for _ in range(int(rng.integers(4, 9))):
        radii = np.array([rng.uniform(0.03, 0.2), rng.uniform(0.03, 0.12)]) * outer.min() / 0.34
        where = centre + rng.uniform(-0.5, 0.5, 2) * (outer * 0.9 - radii.max())
        img = img + rng.uniform(0.1, 0.35) * rng.choice([-1, 1]) * 0.5 * brain * _blob(
            grid, where, radii, _rotation(rng, 2), size
        )
    return np.clip(img, 0.0, 1.0).astype(np.float32)


def _cartesian_mask(
    rng: np.random.Generator, size: int, acceleration: int, center_fraction: float
) -> Array:
    """Phase-encode lines to keep: a fully sampled centre plus random outer lines."""
    keep = np.zeros(size, dtype=bool)
    n_centre = max(1, round(size * center_fraction))
    start = (size - n_centre) // 2
    keep[start : start + n_centre] = True
    n_total = max(n_centre, round(size / acceleration))
    outer = np.flatnonzero(~keep)
    keep[rng.choice(outer, size=n_total - n_centre, replace=False)] = True
    return keep


def _reconstruction(
    acceleration: int = 4, center_fraction: float = 0.08, coils: int = 1
) -> Callable[..., tuple[Array, Array]]:
    from nasbench.data.kspace import birdcage_maps, check_coils, undersample

    check_coils(coils)
    if isinstance(acceleration, bool) or not isinstance(acceleration, int) or acceleration < 1:
        raise DatasetError(f"acceleration must be an integer >= 1, got {acceleration!r}.")
    number = isinstance(center_fraction, (int, float)) and not isinstance(center_fraction, bool)
    if not number or not 0.0 < center_fraction <= 1.0:
        raise DatasetError(f"center_fraction must be in (0, 1], got {center_fraction!r}.")

    def generate(rng: np.random.Generator, label: int, size: int) -> tuple[Array, Array]:
        target = _phantom(rng, size)
        lines = _cartesian_mask(rng, size, acceleration, center_fraction)
        maps = birdcage_maps(coils, size) if coils > 1 else None
        x, y = undersample(
            torch.from_numpy(target), torch.from_numpy(lines.astype(np.float32)), maps
        )
        return x.numpy(), y.numpy()

    return generate


# --------------------------------------------------------------------------- dataset


class SyntheticDataset(Dataset):
    """A lazily generated synthetic dataset for one split.

    Args:
        info: the registry entry (its name selects the generator).
        split: one of ``BASE_SPLITS``.
        size: edge length in pixels or voxels (any value >= 16; see ``info.sizes``).
        seed: data seed; same seed and index give the same sample.
        length: number of samples; defaults to ``info.splits[split]``.
        **options: generator options (``acceleration``, ``center_fraction`` and ``coils``
            for ``synthetic-recon``).

    Example:
        >>> ds = SyntheticDataset(registry.get_info("synthetic"), "train", size=28)
        >>> image, label = ds[0]
        >>> tuple(image.shape), label.dtype
        ((1, 28, 28), torch.int64)
    """

    def __init__(
        self,
        info: DatasetInfo,
        split: str,
        size: int = 28,
        seed: int = 0,
        length: int | None = None,
        **options: Any,
    ) -> None:
        if split not in BASE_SPLITS:
            raise DatasetError(
                f"{info.name}: split {split!r} is not one of {', '.join(BASE_SPLITS)}."
            )
        if int(size) < MIN_SIZE:
            raise DatasetError(f"{info.name}: size {size} is too small; use at least {MIN_SIZE}.")
        if int(seed) < 0:
            raise DatasetError(f"{info.name}: seed must be a non-negative integer, got {seed}.")
        if info.name not in _GENERATORS:
            raise DatasetError(f"{info.name}: no synthetic generator of that name.")
        self.info = info
        self.split = split
        self.size = int(size)
        self.seed = int(seed)
        self._length = int(info.splits[split] if length is None else length)
        self._code = zlib.crc32(info.name.encode())
        factory = _GENERATORS[info.name]
        known = tuple(inspect.signature(factory).parameters)
        registry.reject_unknown_options(info.name, options, ("length", *known))
        self._generate = factory(**options)
        if info.task == "reconstruction" and "coils" in options:
            self.info = info_for_coils(info, options["coils"])
        self.targets: Array | None = None
        if info.task in ("binary", "multi-class"):
            self.targets = np.array([self._label(i) for i in range(self._length)], dtype=np.int64)

    def _rng(self, index: int, stream: int) -> np.random.Generator:
        return np.random.default_rng((self.seed, self._code, _SPLIT_IDS[self.split], index, stream))

    def _label(self, index: int) -> int:
        # Its own stream, so labels are known without generating images.
        return int(self._rng(index, 0).integers(self.info.num_classes))

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        index = int(index)
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError(f"{self.info.name}: index {index} out of range 0..{self._length - 1}")
        label = int(self.targets[index]) if self.targets is not None else 0
        image, target = self._generate(self._rng(index, 1), label, self.size)
        if self.info.task == "reconstruction":
            # Already (3, H, W) and (1, H, W): nasbench.data.kspace's sample layout.
            return torch.from_numpy(image), torch.from_numpy(target)
        image_t = torch.from_numpy(np.ascontiguousarray(image)[None])
        if self.info.task == "segmentation":
            return image_t, torch.from_numpy(np.ascontiguousarray(target)[None])
        return image_t, torch.tensor(target, dtype=torch.int64)


def load_synthetic(
    info: DatasetInfo,
    split: str,
    root: Path | None,
    size: int,
    download: bool,
    data_seed: int = 0,
    **options: Any,
) -> SyntheticDataset:
    """Registry loader: build the synthetic dataset of one base split (nothing is read or written).

    Args:
        info: the registry entry.
        split: one of ``BASE_SPLITS``.
        root: ignored.
        size: edge length.
        download: ignored.
        data_seed: seed of the generated data (``load``'s own ``seed`` picks search
            halves, limits and augmentation, not the data).
        **options: ``length`` (number of samples) and generator options.

    Returns:
        A :class:`SyntheticDataset`.

    Example:
        >>> ds = load_synthetic(registry.get_info("synthetic3d"), "val", None, 32, False)
        >>> tuple(ds[0][0].shape)
        (1, 32, 32, 32)
    """
    return SyntheticDataset(info, split, size=size, seed=data_seed, **options)


_GENERATORS: dict[str, Callable[..., Callable[..., tuple[Array, Any]]]] = {
    "synthetic": lambda: _classification(2, 2),
    "synthetic-multiclass": lambda: _classification(2, 4),
    # 3D: noise over many more voxels competes with the lesion, so lesions are larger.
    "synthetic3d": lambda: _classification(3, 2, radius=(0.08, 0.17), contrast=(0.2, 0.45)),
    "synthetic-seg": lambda: _segmentation(2),
    "synthetic-seg3d": lambda: _segmentation(3),
    "synthetic-recon": _reconstruction,
    "synthetic-recon-4coil": functools.partial(_reconstruction, coils=4),
}

_TEXTURE = (
    "on a textured background (smooth noise, vessel-like curves, an intensity bias field "
    "and multiplicative speckle)"
)
_COMMON = {"licence": LICENCE, "citation": CITATION, "source": "synthetic", "homepage": ""}

INFOS = (
    DatasetInfo(
        name="synthetic",
        task="binary",
        modality="synthetic (ultrasound/MRI-like)",
        spatial_dims=2,
        in_channels=1,
        num_classes=2,
        class_names=("no lesion", "lesion"),
        splits={"train": 2000, "val": 400, "test": 400},
        sizes=(28, 64, 128),
        description=(
            "The offline default. Label 1: one bright or dark lesion of random size, shape and "
            f"contrast {_TEXTURE}; label 0: background only. Generated on the fly from a seed."
        ),
        **_COMMON,
    ),
    DatasetInfo(
        name="synthetic-multiclass",
        task="multi-class",
        modality="synthetic (ultrasound/MRI-like)",
        spatial_dims=2,
        in_channels=1,
        num_classes=4,
        class_names=("normal", "round lesion", "elongated lesion", "multiple nodules"),
        splits={"train": 2000, "val": 400, "test": 400},
        sizes=(28, 64, 128),
        description=(
            "Four classes: normal tissue, one round lesion, one elongated irregular lesion, "
            f"or 3-5 small nodules, bright or dark, {_TEXTURE}."
        ),
        **_COMMON,
    ),
    DatasetInfo(
        name="synthetic3d",
        task="binary",
        modality="synthetic (CT/MRI-like volume)",
        spatial_dims=3,
        in_channels=1,
        num_classes=2,
        class_names=("no lesion", "lesion"),
        splits={"train": 1000, "val": 200, "test": 200},
        sizes=(28, 32, 64),
        description=(
            "3D version of `synthetic`: an ellipsoidal lesion of random size and contrast "
            f"(label 1) or none (label 0) in a volume {_TEXTURE}."
        ),
        **_COMMON,
    ),
    DatasetInfo(
        name="synthetic-seg",
        task="segmentation",
        modality="synthetic (CT/MRI-like)",
        spatial_dims=2,
        in_channels=1,
        num_classes=3,
        class_names=("background", "organ", "lesion"),
        splits={"train": 1000, "val": 200, "test": 200},
        sizes=(28, 64, 128),
        description=(
            "An irregular organ with 0-3 lesions inside it "
            f"{_TEXTURE}; the mask holds 0 background, 1 organ, 2 lesion."
        ),
        **_COMMON,
    ),
    DatasetInfo(
        name="synthetic-seg3d",
        task="segmentation",
        modality="synthetic (CT/MRI-like volume)",
        spatial_dims=3,
        in_channels=1,
        num_classes=3,
        class_names=("background", "organ", "lesion"),
        splits={"train": 300, "val": 50, "test": 100},
        sizes=(28, 32, 64),
        description=(
            "3D version of `synthetic-seg`: mask 0 background, 1 organ, 2 lesion, "
            f"in a volume {_TEXTURE}."
        ),
        **_COMMON,
    ),
    DatasetInfo(
        name="synthetic-recon",
        task="reconstruction",
        modality="synthetic MRI (single-coil k-space)",
        spatial_dims=2,
        in_channels=3,
        num_classes=0,
        class_names=(),
        splits={"train": 1000, "val": 200, "test": 200},
        sizes=(28, 64, 128),
        description=(
            "Target: a random Shepp-Logan-like head phantom in [0, 1] (1 channel). Input "
            "(3 channels, nasbench.data.kspace's layout): the zero-filled image (real, "
            "imaginary) of its k-space undersampled by a seeded Cartesian mask along the "
            "second axis (4x acceleration, central 8% of lines fully sampled; a new mask per "
            "sample) and the mask. "
            "Options acceleration= and center_fraction= change the mask; coils= simulates "
            "a multi-coil acquisition (synthetic-recon-4coil)."
        ),
        **_COMMON,
    ),
)

INFOS += (
    dataclasses.replace(
        info_for_coils(next(info for info in INFOS if info.name == "synthetic-recon"), 4),
        name="synthetic-recon-4coil",
        description=(
            "synthetic-recon acquired with 4 simulated birdcage coils. Input (17 channels, "
            "nasbench.data.kspace's multi-coil layout): each coil's k-space (real, imaginary) "
            "undersampled by the sample's one Cartesian mask, the coils' sensitivity maps and "
            "the mask; target: the phantom. Options acceleration=, center_fraction= and "
            "coils= change the acquisition."
        ),
    ),
)


def register() -> None:
    """Add the synthetic entries to the dataset registry.

    Example:
        >>> register()
        >>> registry.get_info("synthetic").task
        'binary'
    """
    for info in INFOS:
        registry.register_dataset(info, load_synthetic)
