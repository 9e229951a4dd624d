"""The user's own data: class subfolders, images/ + labels/ for segmentation, or COCO boxes.

The layouts a folder may have, and how it is split into train/, val/ and test/, are in
:mod:`nasbench.data.folder_layout`; one file is read by :mod:`nasbench.data.image_files`;
what a run recorded of its folder is compared on resume by
:mod:`nasbench.data.folder_reading`. This module makes the datasets: images are scaled to
[0, 1] and resized to ``size`` per axis, and a detection item's target is the padded box
tensor of :mod:`nasbench.data.lesions`, its boxes scaled with the image.

Example:
    >>> info = register_folder("my_xrays")  # doctest: +SKIP
    >>> ds = nasbench.data.load(info.name, "train", size=64)  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from nasbench.data import registry
from nasbench.data.folder_layout import FolderLayout, scan_folder
from nasbench.data.image_files import (
    Stamp,
    _any_colour,
    _folder_channels,
    _match_channels,
    _resize,
    _suffix,
    _to_unit,
    _unreadable,
    exif_orientation,
    file_key,
    read_image,
    read_mask,
)
from nasbench.data.lesions import pack_boxes
from nasbench.data.registry import BASE_SPLITS, DatasetInfo
from nasbench.errors import DatasetError

FOLDER_SIZES = (28, 32, 64, 96, 128, 224)
# Masks probed for their largest label when num_classes is not given.
_MASKS_PROBED = 20
# Image and mask affines closer than this (mm, per entry) are one voxel grid: tools that
# write the same grid round it differently (a float32 sform, a qform beside it).
_AFFINE_TOLERANCE = 1e-3
# A probed label past this is far likelier an anti-aliased or 16-bit mask than a real class
# count, so num_classes must then be given explicitly.
_MOST_CLASSES_PROBED = 100


# --------------------------------------------------------------------------- dataset


class FolderDataset(Dataset):
    """One split of a user folder, read lazily.

    Attributes:
        info: the folder's :class:`DatasetInfo`.
        split: the base split.
        files: image paths in order.
        targets: int64 class indices (classification), boxes per image (detection) or
            None (segmentation).
        max_boxes: rows of a detection target (the most boxes any image of the folder has).
    """

    def __init__(
        self,
        info: DatasetInfo,
        split: str,
        items: list[tuple[Path, Any]],
        size: int,
        max_boxes: int = 1,
    ) -> None:
        self.info = info
        self.split = split
        self.size = int(size)
        self._items = items
        self.files = [image for image, _ in items]
        self.max_boxes = max(1, int(max_boxes))
        if info.task == "segmentation":
            self.targets = None
        elif info.task == "detection":
            self.targets = np.array([len(target[0]) for _, target in items], dtype=np.int64)
        else:
            self.targets = np.array([label for _, label in items], dtype=np.int64)

    def __len__(self) -> int:
        return len(self._items)

    def _image(self, path: Path) -> np.ndarray:
        array = read_image(path)
        if array.ndim - 1 != self.info.spatial_dims:
            raise DatasetError(
                f"{path} is {array.ndim - 1}D but {self.info.name} is "
                f"{self.info.spatial_dims}D; keep 2D and 3D images in separate folders."
            )
        return _match_channels(_to_unit(array), self.info.in_channels, path)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        path, target = self._items[int(index)]
        if self.info.task == "segmentation":
            _refuse_turned_image(path, target)
        image = self._image(path)
        if self.info.task == "detection":
            return self._detection_item(path, image, *target)
        if self.info.task != "segmentation":
            resized = _resize(image, self.size, "area")
            return torch.from_numpy(resized.astype(np.float32)), torch.tensor(target)
        _check_same_grid(path, target)  # headers only: cheap beside reading the voxels
        mask = read_mask(target)
        if mask.shape[1:] != image.shape[1:]:
            raise DatasetError(
                f"image {path.name} is {'x'.join(map(str, image.shape[1:]))} but its mask "
                f"{target.name} is {'x'.join(map(str, mask.shape[1:]))}; they must match, so "
                "make each mask the size of its image (nearest-neighbour resizing)."
            )
        if int(mask.max()) >= self.info.num_classes:
            raise DatasetError(
                f"mask {target} has label {int(mask.max())} but {self.info.name} has "
                f"{self.info.num_classes} classes; pass num_classes= when registering."
                + labels_hint(mask)
            )
        image = _resize(image, self.size, "area").astype(np.float32)
        # "nearest-exact" samples at the pixel centres the image's resize uses; torch's older
        # "nearest" samples at the corners, shifting the mask by up to a voxel on each axis.
        mask = _resize(mask.astype(np.float32), self.size, "nearest-exact")
        return torch.from_numpy(image), torch.from_numpy(mask.round().astype(np.int64))

    def _detection_item(
        self, path: Path, image: np.ndarray, boxes: tuple, labels: tuple, hw: tuple[int, int]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if tuple(image.shape[1:]) != tuple(hw):
            raise DatasetError(
                f"image {path.name} is {image.shape[2]}x{image.shape[1]} but annotations.json "
                f"says {hw[1]}x{hw[0]}; fix its width and height there."
            )
        scale = np.array([self.size / hw[1], self.size / hw[0]] * 2, dtype=np.float32)
        scaled = [tuple(np.asarray(box, dtype=np.float32) * scale) for box in boxes]
        resized = _resize(image, self.size, "area").astype(np.float32)
        return torch.from_numpy(resized), pack_boxes(scaled, labels, self.max_boxes)


def _nifti_grid(path: Path) -> dict[str, np.ndarray | None] | None:
    """A NIfTI file's affine, sform and qform (None where its code is 0), from the header
    alone; None for another format. The arrays are cached, hence read-only."""
    if _suffix(path) not in (".nii", ".nii.gz"):
        return None
    try:
        import nibabel  # noqa: F401
    except ImportError:  # then no NIfTI is read at all, and read_image says so
        return None
    try:
        return _read_nifti_grid(*file_key(path))
    except Exception as error:
        raise _unreadable(path, error) from error


# Every load of a segmentation folder checks its first pairs' grids, and every item its
# own: the header is parsed once per file (a grid is about 1 KB).
@functools.lru_cache(maxsize=1 << 14)
def _read_nifti_grid(path: str, stamp: Stamp, size: int) -> dict[str, np.ndarray | None]:
    import nibabel

    loaded = nibabel.load(path)
    header = loaded.header
    grid = {"affine": np.asarray(loaded.affine, dtype=np.float64)}
    for form, get in (("sform", header.get_sform), ("qform", header.get_qform)):
        matrix, code = get(coded=True)
        grid[form] = np.asarray(matrix, dtype=np.float64) if code else None
    for matrix in grid.values():
        if matrix is not None:
            matrix.setflags(write=False)
    return grid


def _refuse_turned_image(image: Path, mask: Path) -> None:
    """Refuse an image that an EXIF orientation turns or mirrors: it is read as a viewer
    shows it, its mask (class indices, read as stored) is not, and which of the two
    frames the mask was drawn in is not known, so neither guess is made."""
    orientation = exif_orientation(image)
    if orientation != 1:
        raise DatasetError(
            f"image {image} carries EXIF orientation {orientation}, so viewers show it "
            f"turned while its mask {mask.name} is read as stored; strip the orientation "
            "tag, or re-export the image upright together with its mask."
        )


def _check_same_grid(image: Path, mask: Path) -> None:
    """Refuse a NIfTI mask stored on another voxel grid than its NIfTI image.

    A mask is paired with its image voxel by voxel, so one stored in another orientation
    (flipped), at another spacing or with another origin labels the wrong voxels even
    when the array shapes agree. A file with no geometry (both codes 0, or the identity
    affine ``nib.Nifti1Image(mask, np.eye(4))`` writes) is paired voxel by voxel, as are
    files whose geometries are of different kinds (a registration sform on one only).
    """
    image_grid, mask_grid = _nifti_grid(image), _nifti_grid(mask)
    if image_grid is None or mask_grid is None:
        return
    for grid in (image_grid, mask_grid):
        if (grid["sform"] is None and grid["qform"] is None) or np.allclose(
            grid["affine"], np.eye(4)
        ):
            return
    # Like with like: the sforms when both have one, else the qforms.
    form = next(
        (f for f in ("sform", "qform") if image_grid[f] is not None and mask_grid[f] is not None),
        None,
    )
    if form is None:
        return
    image_affine, mask_affine = image_grid[form], mask_grid[form]
    if np.allclose(image_affine, mask_affine, rtol=0, atol=_AFFINE_TOLERANCE):
        return
    import nibabel

    aspects = {
        "orientation": lambda a: "".join(map(str, nibabel.aff2axcodes(a))),
        "spacing": lambda a: "x".join(f"{v:g}" for v in nibabel.affines.voxel_sizes(a)) + " mm",
        "origin": lambda a: "(" + ", ".join(f"{v:g}" for v in a[:3, 3]) + ") mm",
    }
    differ = [
        f"{what}: mask {show(mask_affine)}, image {show(image_affine)}"
        for what, show in aspects.items()
        if show(mask_affine) != show(image_affine)
    ]
    differ = differ or ["axis directions"]  # an oblique rotation of the same axes
    raise DatasetError(
        f"mask {mask} and its image {image} are stored on different voxel grids "
        f"({'; '.join(differ)}), so their voxels do not correspond; resample and reorient "
        "the mask onto its image (e.g. MONAI's Orientation and Spacing transforms, or "
        "SimpleITK's ResampleImageFilter with the image as reference)."
    )


def labels_hint(mask: np.ndarray) -> str:
    """Why a mask may hold a label past the class count: edges drawn or resized smoothly.

    Shared by the loader and the overlay figure, so both give the same advice.

    Args:
        mask: class indices as read (any shape).

    Returns:
        A sentence to append to an error (with a leading space), or "" when the mask
        does not look like a smoothed 0/white one.

    Example:
        >>> labels_hint(np.array([0, 128, 255])) != "", labels_hint(np.array([0, 1]))
        (True, '')
    """
    if int(mask.max()) in (255, 65535) and len(np.unique(mask)) > 2:
        return (
            " Its values between 0 and white look like anti-aliased or smoothly resized "
            "edges: redraw or resize masks with nearest-neighbour, or map white to 1."
        )
    return ""


# --------------------------------------------------------------------------- registry


# folder_info reads its probes (an image per class, the first masks) on every load of every
# split; what it keeps of each is cached by file_key, so a file changed on disk is read again.
_PROBES_CACHED = 1024


def _cached(read: Any, path: Path) -> Any:
    """``read(path)``, cached by the file's path, change stamp and size (:func:`file_key`)."""
    try:
        key = file_key(path)
    except OSError:  # gone or unreadable: the reader says so in its own words
        return read.__wrapped__(str(path))
    return read(*key)


@functools.lru_cache(maxsize=_PROBES_CACHED)
def _image_shape(path: str, *_key: Any) -> tuple[int, ...]:
    return read_image(path).shape


@functools.lru_cache(maxsize=_PROBES_CACHED)
def _largest_label(path: str, *_key: Any) -> int:
    return int(read_mask(path).max())


def clear_file_caches() -> None:
    """Forget every fact read from a folder's files (headers, grids, probes, DICOM patients).

    Each is cached by path, change stamp and size (:func:`~nasbench.data.image_files.file_key`),
    so a file written or replaced since is read again anyway; this makes the next description
    of a folder read every file, as its first did.

    Example:
        >>> clear_file_caches()
    """
    from nasbench.data import image_files, patients

    for cached in (
        image_files._read_preamble,
        image_files._picture_header,
        image_files._read_orientation,
        image_files._dicom_samples,
        image_files._decoded_channels_differ,
        patients._dicom_patient,
        _read_nifti_grid,
        _image_shape,
        _largest_label,
    ):
        cached.cache_clear()


def _probed_class_count(masks: list[Path]) -> int:
    """Classes (background included) from the largest label of the first masks."""
    largest, where = 0, masks[0]
    for path in masks[:_MASKS_PROBED]:
        label = _cached(_largest_label, path)
        if label > largest:
            largest, where = label, path
    if largest == 0:  # background so far: one foreground mask anywhere is enough
        where = next((m for m in masks[_MASKS_PROBED:] if _cached(_largest_label, m) > 0), None)
        if where is None:
            raise DatasetError(
                f"every mask in {masks[0].parent} is background (all 0), so there is nothing "
                "to segment; mark the structures with class indices 1, 2, ... (a mask saved "
                "as 0/255 is read as 0/1)."
            )
        largest = _cached(_largest_label, where)
    if largest >= _MOST_CLASSES_PROBED:
        raise DatasetError(
            f"mask {where} has label {largest}, which would make {largest + 1} classes; masks "
            "hold class indices 0, 1, 2, ... If that many classes is right, pass "
            f"num_classes={largest + 1}; otherwise fix the masks."
            + (labels_hint(read_mask(where)) or " Map each class to its index.")
        )
    return max(2, largest + 1)


def folder_info(
    path: str | os.PathLike,
    name: str | None = None,
    task: str | None = None,
    num_classes: int | None = None,
    seed: int = 0,
    modality: str = "unknown",
    licence: str = "",
    citation: str = "",
) -> tuple[DatasetInfo, FolderLayout]:
    """Describe a user folder; reads one image (and a few masks) to learn its shape.

    Args:
        path: the folder.
        name: registry name; default the folder's name, lower case.
        task: as in :func:`scan_folder`.
        num_classes: segmentation classes including background; default probed from masks.
        seed: seeds the 70/10/20 split.
        modality, licence, citation: recorded in the info.

    Returns:
        ``(info, layout)``.

    Example:
        >>> info, layout = folder_info("my_xrays")  # doctest: +SKIP
    """
    layout = scan_folder(path, task, seed)
    # One image per class (the first train image for segmentation) is read whole, for
    # the shape; the channels: colour anywhere means 3 (grey images are repeated to
    # match), judged from every 2D image's header and colour-mode pixels, not from the
    # probes, since which images the probe reads depends on the split's seed.
    probes = {label: image for image, label in reversed(layout.items["train"])}
    if layout.task in ("segmentation", "detection"):
        probes = {0: layout.items["train"][0][0]}
    shapes = [_cached(_image_shape, p) for p in probes.values()]
    if len({len(s) for s in shapes}) > 1:
        raise DatasetError(f"{layout.path} mixes 2D and 3D images; keep them in separate folders.")
    channels = _folder_channels(shapes, list(probes.values()))
    spatial_dims = len(shapes[0]) - 1
    if spatial_dims == 2 and channels == 1:
        images = [image for items in layout.items.values() for image, _ in items]
        channels = 3 if _any_colour(images) else 1
    if layout.task == "segmentation":
        for image, mask in layout.items["train"][:_MASKS_PROBED]:
            _check_same_grid(image, mask)  # the rest are checked as they are loaded
        if num_classes is None:
            num_classes = _probed_class_count([pair[1] for pair in layout.items["train"]])
        class_names = ("background",) + tuple(f"class {i}" for i in range(1, num_classes))
    elif layout.task == "detection":
        class_names, num_classes = layout.class_names, len(layout.class_names)
    else:
        class_names = layout.class_names
        num_classes = len(class_names)
    info = DatasetInfo(
        # A folder:<path> name keeps its case: paths are case-sensitive.
        name=name if name and name.startswith("folder:") else (name or layout.path.name).lower(),
        task=layout.task,
        modality=modality,
        spatial_dims=spatial_dims,
        in_channels=channels,
        num_classes=num_classes,
        class_names=class_names,
        splits={s: len(v) for s, v in layout.items.items()},
        sizes=FOLDER_SIZES,
        licence=licence,
        citation=citation,
        source="folder",
        description=f"Images from {layout.path}.",
        homepage=str(layout.path),
    )
    return info, layout


def load_folder(
    info: DatasetInfo,
    split: str,
    root: Path | None,
    size: int,
    download: bool,
    path: str | os.PathLike | None = None,
    task: str | None = None,
    num_classes: int | None = None,
    seed: int = 0,
    **options: Any,
) -> FolderDataset:
    """Registry loader for a user folder (``root`` and ``download`` are unused).

    Args:
        info: the registry entry (the generic ``folder`` entry, or one made by
            :func:`register_folder`).
        split: ``"train"``, ``"val"`` or ``"test"``.
        root: ignored.
        size: edge length images are resized to.
        download: ignored.
        path: the folder; required for the generic ``folder`` entry.
        task, num_classes, seed: as in :func:`folder_info`.
        **options: none other are known; a name here is an error.

    Returns:
        A :class:`FolderDataset` whose ``info`` describes the folder.

    Example:
        >>> ds = nasbench.data.load("folder", "train", path="my_xrays")  # doctest: +SKIP
    """
    registry.reject_unknown_options(info.name, options, ("path", "task", "num_classes", "seed"))
    if split not in BASE_SPLITS:
        raise DatasetError(f"{info.name}: split {split!r} is not one of {', '.join(BASE_SPLITS)}.")
    if path is None:
        raise DatasetError(
            f"{info.name}: no folder given; pass path='your/folder' or use register_folder()."
        )
    name = None if info.name == "folder" else info.name
    folder, layout = folder_info(path, name, task, num_classes, seed, info.modality)
    if info.name != "folder":
        folder = info
    max_boxes = 1
    if layout.task == "detection":
        max_boxes = max(len(t[0]) for items in layout.items.values() for _, t in items)
    return FolderDataset(folder, split, layout.items[split], size, max_boxes)


def register_folder(
    path: str | os.PathLike,
    name: str | None = None,
    task: str | None = None,
    num_classes: int | None = None,
    seed: int = 0,
    modality: str = "unknown",
    licence: str = "",
    citation: str = "",
) -> DatasetInfo:
    """Register a user folder as a dataset so ``nasbench.data.load(name, ...)`` finds it.

    Args:
        path: the folder (layouts in :mod:`nasbench.data.folder_layout`).
        name: registry name; default the folder's name, lower case.
        task: ``"segmentation"``, ``"detection"``, ``"binary"``, ``"multi-class"`` or
            ``"ordinal"``; None detects it (``annotations.json`` means detection).
        num_classes: segmentation classes including background; default probed.
        seed: seeds the 70/10/20 split when there are no split folders.
        modality, licence, citation: recorded in the info.

    Returns:
        The registered :class:`DatasetInfo`.

    A name is known to this process only. For a search run in another process (the
    workbench's Run button, ``nasbench search``, resume), name the folder
    ``"folder:<path>"`` instead: any process registers it on first use.

    Example:
        >>> info = register_folder("data/my_xrays", name="xrays")  # doctest: +SKIP
        >>> info.class_names  # doctest: +SKIP
        ('normal', 'pneumonia')
    """
    info, _ = folder_info(path, name, task, num_classes, seed, modality, licence, citation)
    loader = functools.partial(
        load_folder, path=str(path), task=info.task, num_classes=info.num_classes, seed=seed
    )
    registry.register_dataset(info, loader, lambda info, root, size: Path(path).is_dir())
    return info


GENERIC_INFO = DatasetInfo(
    name="folder",
    task="multi-class",
    modality="any",
    spatial_dims=2,
    in_channels=1,
    num_classes=0,
    class_names=(),
    sizes=FOLDER_SIZES,
    source="folder",
    description=(
        "Your own images: load('folder', split, path='your/folder') reads class subfolders "
        "(or images/ + labels/ for segmentation) of PNG, JPEG, NIfTI or DICOM files; "
        "register_folder() gives the folder its own name."
    ),
)


def register() -> None:
    """Add the generic ``folder`` entry (``load("folder", path=...)``) to the registry.

    Example:
        >>> register()
        >>> registry.get_info("folder").source
        'folder'
    """
    registry.register_dataset(GENERIC_INFO, load_folder, lambda info, root, size: True)
