"""3D landmark localisation data: the ``synthetic-landmarks3d`` set and user folders.

An item is ``(volume, landmarks)``: a ``(1, S, S, S)`` float volume in [0, 1] and a
``(K, 3)`` float tensor of voxel coordinates in array order ``(d, h, w)``. Each dataset
also has ``spacings`` (one row per case: mm per voxel along ``d, h, w``; ``spacing`` is
that row when every case shares it, else None), ``landmark_names`` and
``plane(i)``: the plane through the first three landmarks of item ``i`` as a unit
normal and an offset (``n . x = offset`` in voxel coordinates), for plane-localisation
ground truth.

``synthetic-landmarks3d`` (CC0, generated): an ellipsoidal organ with smooth texture
and speckle, rotated and scaled at random; landmark ``k`` sits at a fixed place in the
organ's own frame (ends of its axes, a point on its wall), marked by a small structure
of its own brightness and size, as anatomical landmarks are tied to the anatomy around
them. Each volume is drawn from ``np.random.default_rng((seed, 0x1A4D, split, index))``,
so the set is lazy and deterministic.

A user folder holds NIfTI volumes (``*.nii`` / ``*.nii.gz``) and, next to each, a JSON
file of the same stem: ``{"landmarks": {"name": [d, h, w], ...}}`` in voxel indices of
the stored array. Every file must list the same names. Volumes are resampled to
``size`` cubed (landmarks and spacing follow); the sorted cases are split into
test (last fifth), val (the fifth before) and train.

Example:
    >>> ds = LandmarkDataset("train", size=16, length=2, n_landmarks=3)
    >>> volume, points = ds[0]
    >>> tuple(volume.shape), tuple(points.shape)
    ((1, 16, 16, 16), (3, 3))
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy import ndimage
from torch.utils.data import Dataset

from nasbench.data import registry
from nasbench.data.registry import BASE_SPLITS, DatasetInfo
from nasbench.errors import DatasetError

NAME = "synthetic-landmarks3d"
_CODE = 0x1A4D
_SPLIT_IDS = {"train": 0, "val": 1, "test": 2}
_LENGTHS = {"train": 48, "val": 12, "test": 12}
SPACING = (1.2, 0.8, 0.8)  # mm per voxel (d, h, w): anisotropic, as 3D ultrasound often is
# Landmark places in the organ's own frame (units of its semi-axes): axis ends and wall points.
_ANCHORS = np.array(
    [
        [0.0, 0.0, 0.85],
        [0.0, 0.0, -0.85],
        [0.0, 0.85, 0.0],
        [0.85, 0.0, 0.0],
        [0.0, -0.6, 0.6],
        [-0.6, 0.6, 0.0],
    ]
)
MAX_LANDMARKS = len(_ANCHORS)
SIZES = (16, 24, 32, 48)

Array = np.ndarray


def _rotation(rng: np.random.Generator) -> Array:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def synthetic_case(seed: int, split: str, index: int, size: int, n_landmarks: int) -> tuple:
    """One generated volume and its landmarks.

    Args:
        seed: the data seed.
        split: ``train``, ``val`` or ``test``.
        index: the item index.
        size: volume edge in voxels.
        n_landmarks: landmarks per volume (1 to ``MAX_LANDMARKS``).

    Returns:
        ``(volume (S, S, S) float32 in [0, 1], landmarks (K, 3) float64 voxel coords)``.

    Example:
        >>> v, p = synthetic_case(0, "train", 0, 16, 2)
        >>> v.shape, p.shape
        ((16, 16, 16), (2, 3))
    """
    rng = np.random.default_rng((seed, _CODE, _SPLIT_IDS[split], index))
    rotation = _rotation(rng)
    semi = rng.uniform(0.22, 0.32, size=3)  # semi-axes, fractions of the field of view
    centre = 0.5 + rng.uniform(-0.06, 0.06, size=3)
    points = centre + (_ANCHORS[:n_landmarks] * semi) @ rotation.T
    grid = (np.indices((size,) * 3).reshape(3, -1).T + 0.5) / size  # voxel centres
    local = ((grid - centre) @ rotation) / semi
    radius = np.sqrt((local**2).sum(axis=1))
    coarse = ndimage.zoom(rng.normal(size=(6, 6, 6)), size / 6, order=1)[:size, :size, :size]
    body = 1.0 / (1.0 + np.exp((radius - 1.0) * 12.0))  # soft organ, bright wall below
    wall = np.exp(-(((radius - 1.0) / 0.08) ** 2))
    volume = 0.15 + 0.05 * coarse.reshape(-1) + 0.25 * body + 0.25 * wall
    for k, point in enumerate(points):
        # Each landmark's own structure: brightness and size set by its index.
        width = (0.035 + 0.01 * (k % 3)) * (1.0 + 0.1 * rng.normal())
        bump = np.exp(-((grid - point) ** 2).sum(axis=1) / (2 * width**2))
        volume = volume + (0.5 - 0.08 * k) * bump
    volume = volume.reshape((size,) * 3) * rng.gamma(8.0, 1.0 / 8.0, size=(size,) * 3)
    volume = np.clip(volume, 0.0, 1.0).astype(np.float32)
    return volume, points * size - 0.5


def plane_through(points: Array) -> tuple[Array, float]:
    """The plane through three points: a unit normal and its offset (``n . x = offset``).

    Args:
        points: ``(3, 3)`` (or more rows; the first three are used).

    Returns:
        ``(normal (3,), offset)``; the normal's first non-zero entry is positive.

    Example:
        >>> n, d = plane_through(np.array([[0, 0, 1.0], [1, 0, 1], [0, 1, 1]]))
        >>> n.tolist(), d
        ([0.0, 0.0, 1.0], 1.0)
    """
    p = np.asarray(points, dtype=np.float64)[:3]
    if p.shape != (3, 3):
        raise DatasetError(f"a plane needs three 3D landmarks, got shape {p.shape}.")
    normal = np.cross(p[1] - p[0], p[2] - p[0])
    norm = np.linalg.norm(normal)
    if norm < 1e-9:
        raise DatasetError(
            "the three landmarks are collinear, so they define no plane; put the plane's "
            "landmarks first, three that are not on one line."
        )
    normal = normal / norm
    first = normal[np.flatnonzero(np.abs(normal) > 1e-12)[0]]
    normal = normal * np.sign(first)
    return normal, float(normal @ p[0])


class LandmarkDataset(Dataset):
    """Volumes and landmarks held in memory (generated or read from a folder).

    Args:
        split: ``train``, ``val`` or ``test``.
        size: volume edge.
        length: items (generated sets; default 48/12/12).
        n_landmarks: landmarks per volume (generated sets).
        seed: data seed (generated sets).
        cases: ``(volumes, landmarks, spacings, names)`` read from a folder instead
            (``spacings``: one ``(d, h, w)`` mm per voxel per case, or one for all).
        info: the registry entry (default: ``synthetic-landmarks3d``'s).
    """

    def __init__(
        self,
        split: str,
        size: int = 32,
        length: int | None = None,
        n_landmarks: int = 3,
        seed: int = 0,
        cases: tuple | None = None,
        info: DatasetInfo | None = None,
    ) -> None:
        if split not in BASE_SPLITS:
            raise DatasetError(f"split must be one of {', '.join(BASE_SPLITS)}, got {split!r}.")
        self.split, self.size = split, int(size)
        self.info = INFO if info is None else info
        if cases is None:
            if not _is_int(n_landmarks) or not 1 <= n_landmarks <= MAX_LANDMARKS:
                raise DatasetError(
                    f"n_landmarks must be 1 to {MAX_LANDMARKS} (an integer), got {n_landmarks!r}."
                )
            if length is not None and (not _is_int(length) or length < 1):
                raise DatasetError(f"length must be an integer >= 1 (or None), got {length!r}.")
            n = _LENGTHS[split] if length is None else int(length)
            made = [synthetic_case(seed, split, i, self.size, n_landmarks) for i in range(n)]
            self.volumes = [v for v, _ in made]
            self.landmarks = [p for _, p in made]
            spacings = [SPACING] * n
            self.landmark_names = tuple(f"landmark{k}" for k in range(n_landmarks))
        else:
            self.volumes, self.landmarks, spacings, self.landmark_names = cases
            if np.ndim(spacings) == 1:  # one spacing for every case
                spacings = [tuple(spacings)] * len(self.volumes)
        # Each case's own mm per voxel (folders mix scanners and resolutions), so distances
        # in mm are each volume's own; ``spacing`` is the common one, None when they differ.
        self.spacings = np.asarray(spacings, dtype=np.float64).reshape(len(self.volumes), 3)
        uniform = len(self.spacings) and np.allclose(self.spacings, self.spacings[0])
        self.spacing = tuple(float(x) for x in self.spacings[0]) if uniform else None
        self.targets = None

    def __len__(self) -> int:
        return len(self.volumes)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        volume = torch.from_numpy(np.ascontiguousarray(self.volumes[i]))[None]
        return volume, torch.as_tensor(self.landmarks[i], dtype=torch.float32)

    def plane(self, i: int) -> tuple[Array, float]:
        """Plane through the first three landmarks of item ``i`` (:func:`plane_through`)."""
        return plane_through(self.landmarks[i])


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


OPTIONS = ("length", "n_landmarks")


def load_landmarks(
    info: DatasetInfo,
    split: str,
    root: Path | None,
    size: int,
    download: bool,
    data_seed: int = 0,
    **options: Any,
) -> LandmarkDataset:
    """Registry loader of ``synthetic-landmarks3d`` (nothing is read or written).

    Args:
        info: the registry entry.
        split: one of ``BASE_SPLITS``.
        root, download: ignored.
        size: volume edge.
        data_seed: seed of the generated volumes.
        **options: ``length`` and ``n_landmarks``.

    Returns:
        A :class:`LandmarkDataset`.
    """
    registry.reject_unknown_options(info.name, options, OPTIONS)
    return LandmarkDataset(split, size=size, seed=data_seed, info=info, **options)


# ---- user folders ---------------------------------------------------------------------------


def _stem(path: Path) -> str:
    name = path.name
    return name[: -len(".nii.gz")] if name.endswith(".nii.gz") else name[: -len(".nii")]


def _read_annotation(path: Path, shape: tuple[int, ...]) -> dict[str, list[float]]:
    if not path.is_file():
        raise DatasetError(f'{path}: missing; write {{"landmarks": {{name: [d, h, w]}}}} there.')
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: not UTF-8 text; write it as UTF-8 JSON.") from None
    except json.JSONDecodeError as err:
        raise DatasetError(
            f"{path}: not valid JSON ({err.msg} at line {err.lineno}); fix the file."
        ) from None
    marks = data.get("landmarks") if isinstance(data, dict) else None
    if not isinstance(marks, dict) or not marks:
        raise DatasetError(f'{path}: needs a non-empty object "landmarks": {{name: [d, h, w]}}.')
    for name, point in marks.items():
        ok = isinstance(point, list) and len(point) == 3
        ok = ok and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in point)
        if not ok or not all(math.isfinite(c) for c in point):
            raise DatasetError(f"{path}: landmark {name!r} must be three numbers, got {point!r}.")
        if any(c < 0 or c > n - 1 for c, n in zip(point, shape, strict=True)):
            raise DatasetError(
                f"{path}: landmark {name!r} at {point} lies outside the volume of shape {shape}; "
                "give voxel indices (d, h, w) of the stored array, from 0 to the shape minus 1."
            )
    return marks


def read_landmark_folder(folder: str | Path, size: int = 32) -> list[tuple]:
    """Read a folder of NIfTI volumes and landmark JSON files, resampled to ``size`` cubed.

    Args:
        folder: the folder (see the module docstring for the layout).
        size: output volume edge.

    Returns:
        Sorted cases ``(name, volume (S,S,S) float32 in [0,1], landmarks (K,3), spacing,
        landmark names)``.

    Raises:
        DatasetError: a one-line message naming the file that is missing or malformed.

    Example:
        >>> cases = read_landmark_folder("my_volumes", size=32)  # doctest: +SKIP
    """
    import nibabel

    if not _is_int(size) or size < 2:
        raise DatasetError(f"size must be an integer >= 2 (the volume edge), got {size!r}.")
    root = Path(folder)
    if not root.is_dir():
        raise DatasetError(f"{root}: no such folder of landmark volumes; give an existing folder.")
    from nasbench.data.image_files import path_order

    # Hidden names are skipped as the image folders skip them: macOS writes a "._case.nii.gz"
    # resource fork beside each volume copied to a foreign disk, and it is no NIfTI.
    files = sorted(
        (p for p in [*root.glob("*.nii"), *root.glob("*.nii.gz")] if not p.name.startswith(".")),
        key=path_order,
    )
    if not files:
        raise DatasetError(f"{root}: holds no .nii or .nii.gz volume; put the volumes there.")
    cases, names = [], None
    for path in files:
        try:
            image = nibabel.load(str(path))
            array = np.asarray(image.dataobj, dtype=np.float32)
        except Exception as err:  # nibabel raises several types for broken files
            raise DatasetError(
                f"{path}: cannot be read as NIfTI ({err}); fix or remove that file."
            ) from None
        if array.ndim != 3 or min(array.shape) < 1:
            raise DatasetError(f"{path}: needs a 3D volume, got shape {array.shape}.")
        if not np.isfinite(array).all():
            raise DatasetError(
                f"{path}: holds NaN or infinite voxels; fix the volume (e.g. set them to 0)."
            )
        annotation = path.with_name(_stem(path) + ".json")
        marks = _read_annotation(annotation, array.shape)
        if names is None:
            names = tuple(marks)
        elif tuple(marks) != names:
            raise DatasetError(
                f"{annotation}: lists landmarks {list(marks)}, the first case {list(names)}; "
                "every file must name the same landmarks in the same order."
            )
        factors = np.array([(size - 1) / max(n - 1, 1) for n in array.shape])
        zoom = np.array([size / n for n in array.shape])
        volume = ndimage.zoom(array, zoom, order=1)[:size, :size, :size]
        low, high = float(volume.min()), float(volume.max())
        volume = ((volume - low) / (high - low if high > low else 1.0)).astype(np.float32)
        zooms = np.array(image.header.get_zooms()[:3], dtype=np.float64)
        spacing = tuple(float(z) for z in zooms / factors)
        points = np.array([marks[n] for n in names], dtype=np.float64) * factors
        cases.append((_stem(path), volume, points, spacing, names))
    return cases


def folder_splits(n: int) -> dict[str, range]:
    """Index ranges of the train/val/test cases of a folder of ``n`` sorted cases.

    Example:
        >>> {k: len(v) for k, v in folder_splits(10).items()}
        {'train': 6, 'val': 2, 'test': 2}
    """
    if n < 3:
        raise DatasetError(f"a landmark folder needs at least 3 cases (train, val, test), has {n}.")
    fifth = max(1, math.ceil(n / 5))
    return {
        "train": range(0, n - 2 * fifth),
        "val": range(n - 2 * fifth, n - fifth),
        "test": range(n - fifth, n),
    }


def register_landmark_folder(folder: str | Path, name: str, size: int = 32) -> DatasetInfo:
    """Register a folder of NIfTI volumes + landmark JSON files as dataset ``name``.

    Args:
        folder: the folder (module docstring).
        name: the registry name to use (lower case).
        size: the volume edge the cases are resampled to.

    Returns:
        The new entry's :class:`DatasetInfo`.

    Example:
        >>> register_landmark_folder("my_volumes", "my-landmarks")  # doctest: +SKIP
    """
    cases = read_landmark_folder(folder, size)
    ranges = folder_splits(len(cases))
    names = cases[0][4]
    info = DatasetInfo(
        name=name.lower(),
        task="localisation",
        modality="user volumes (NIfTI)",
        spatial_dims=3,
        in_channels=1,
        num_classes=len(names),
        class_names=names,
        splits={k: len(r) for k, r in ranges.items()},
        sizes=(size,),
        source="folder",
        description=f"Landmark volumes read from {folder}.",
    )

    def loader(info: DatasetInfo, split: str, root: Any, size: int, download: bool, **options):
        registry.reject_unknown_options(info.name, options, ())
        chosen = [cases[i] for i in ranges[split]]
        held = ([c[1] for c in chosen], [c[2] for c in chosen], [c[3] for c in chosen], names)
        return LandmarkDataset(split, size=size, cases=held, info=info)

    registry.register_dataset(info, loader)
    return info


INFO = DatasetInfo(
    name=NAME,
    task="localisation",
    modality="synthetic (3D ultrasound-like)",
    spatial_dims=3,
    in_channels=1,
    num_classes=3,
    class_names=("landmark0", "landmark1", "landmark2"),
    splits=dict(_LENGTHS),
    sizes=SIZES,
    licence="CC0 (generated)",
    citation="nasbench synthetic default",
    source="synthetic",
    description=(
        "3D landmark localisation: a rotated, scaled ellipsoidal organ with textured wall and "
        "speckle; K landmarks (default 3, option n_landmarks= up to 6) at fixed places of the "
        "organ's own frame, each marked by a small structure of its own brightness. Targets: "
        "(K, 3) voxel coordinates; spacing 1.2 x 0.8 x 0.8 mm; plane(i) gives the plane "
        "through the first three landmarks."
    ),
)


def register() -> None:
    """Add ``synthetic-landmarks3d`` to the dataset registry.

    Example:
        >>> register()
        >>> registry.get_info("synthetic-landmarks3d").task
        'localisation'
    """
    registry.register_dataset(INFO, load_landmarks)
