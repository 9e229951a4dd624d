"""MRI reconstruction sets: real anatomy undersampled retrospectively, offline.

- ``mni152-recon`` / ``mni152-recon-8x`` / ``mni152-recon-4coil``: 2D slices of the
  MNI152 2009 T1 template (ICBM 2009a nonlinear symmetric, an average of 152 adults'
  brains at 1 mm), which nilearn's wheel ships, cut axially, coronally and sagittally.
  Only that one file is read (with nibabel); nilearn's fetchers, which download, are never called.
- ``recon_folder(path)``: the user's own NIfTI/DICOM/PNG images, read with the
  folder loader's reader; 3D volumes are cut into slices.

Every sample is simulated on the fly by :mod:`nasbench.data.kspace`: a seeded mask
per sample (MONAI's random or equispaced Cartesian lines at 4x or 8x, fully sampled
centre), the zero-filled image as the input, the magnitude image as the target. The
``coils`` option (``mni152-recon-4coil``: 4) simulates a multi-coil acquisition
instead: birdcage sensitivity maps (the same for every slice), every coil's k-space
undersampled by the sample's one mask, packed with the maps as
:mod:`nasbench.data.kspace` describes.

The template is symmetric, so only one hemisphere's sagittal slices are used (the
other's are the same images). Splits are subject-free in the only way a single
template allows: by slab. Along
each axis the brain's slices are cut into slabs of ``SLAB`` neighbours, dealt to
train, train, train, val, test in turn, and the first slice of every slab is
dropped, so no two neighbouring (nearly identical) slices sit in different splits.
A user folder is split by subject (a subfolder, a DICOM series' PatientID, or else one
file each), never by slice.

Example:
    >>> ds = load_mni_recon(get_info("mni152-recon"), "val", None, 64, False)  # doctest: +SKIP
    >>> x, y = ds[0]; tuple(x.shape), tuple(y.shape)  # doctest: +SKIP
    ((3, 64, 64), (1, 64, 64))
"""

from __future__ import annotations

import functools
import importlib.util
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from nasbench.data import registry
from nasbench.data.kspace import (
    CENTER_FRACTIONS,
    birdcage_maps,
    check_magnitude_image,
    check_real,
    coils_of,
    draw_mask,
    info_for_coils,
    sample_channels,
    undersample,
)
from nasbench.data.registry import BASE_SPLITS, DatasetInfo
from nasbench.errors import DatasetError

TEMPLATE = "datasets/data/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz"
ORIENTATIONS = ("sagittal", "coronal", "axial")  # the template's axes 0, 1, 2
SLAB = 8
SLAB_SPLITS = ("train", "train", "train", "val", "test")
# A slice joins the set when the brain covers at least this fraction of its frame.
MIN_BRAIN_FRACTION = 0.15
RECON_SIZES = (32, 64, 128)
_SPLIT_IDS = {"train": 0, "val": 1, "test": 2}

# The template's notice: Copyright (C) 1993-2009 Louis Collins, McConnell Brain Imaging
# Centre, Montreal Neurological Institute, McGill University; permission to use, copy,
# modify and distribute for any purpose without fee, provided the notice is kept.
MNI_LICENCE = "free use with the MNI/McGill copyright notice (nilearn's copy: BSD-3-Clause)"
MNI_CITATION = (
    "Fonov V, Evans AC, Botteron K, Almli CR, McKinstry RC, Collins DL. Unbiased average "
    "age-appropriate atlases for pediatric studies. NeuroImage 54(1), 2011. Fonov V, Evans "
    "A, McKinstry R, Almli C, Collins D. Unbiased nonlinear average age-appropriate brain "
    "templates from birth to adulthood. NeuroImage 47, S102, 2009."
)


def template_path() -> Path:
    """Where nilearn's wheel keeps the MNI152 2009 T1 template (nilearn is not imported).

    Raises:
        DatasetError: nilearn is not installed, or its wheel lacks the file.
    """
    spec = importlib.util.find_spec("nilearn")
    if spec is None or not spec.submodule_search_locations:
        raise DatasetError(
            "mni152-recon reads the MNI152 template that nilearn ships; `pip install nilearn`."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / TEMPLATE
    if not path.is_file():
        raise DatasetError(f"nilearn is installed but {path} is missing; reinstall nilearn.")
    return path


def square_slice(image: np.ndarray, size: int) -> np.ndarray:
    """Crop a slice to its content's bounding square (zero-padded), resize, scale to [0, 1].

    Args:
        image: a real 2D slice, background 0.
        size: output edge (even).

    Returns:
        ``(size, size)`` float32 with maximum 1 (an empty slice stays 0).

    Example:
        >>> square_slice(np.pad(np.ones((4, 6)), 5), 16).shape
        (16, 16)
    """
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    if rows.size:
        image = image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    edge = max(image.shape) + 2  # one pixel of background all round
    canvas = np.zeros((edge, edge), dtype=np.float32)
    top, left = (edge - image.shape[0]) // 2, (edge - image.shape[1]) // 2
    canvas[top : top + image.shape[0], left : left + image.shape[1]] = image
    resized = torch.nn.functional.interpolate(
        torch.from_numpy(canvas)[None, None], size=(size, size), mode="area"
    )[0, 0].numpy()
    peak = float(resized.max())
    return resized / peak if peak > 0 else resized


def slab_split(n: int, keep: np.ndarray) -> dict[str, list[int]]:
    """Deal the kept slice indices ``0..n-1`` to splits slab by slab (module docstring).

    Example:
        >>> s = slab_split(40, np.ones(40, bool)); [len(s[k]) for k in ("train", "val", "test")]
        [21, 7, 7]
    """
    kept = [i for i in range(n) if keep[i]]
    out: dict[str, list[int]] = {split: [] for split in BASE_SPLITS}
    for slab, start in enumerate(range(0, len(kept), SLAB)):
        split = SLAB_SPLITS[slab % len(SLAB_SPLITS)]
        out[split].extend(kept[start + 1 : start + SLAB])
    return out


@functools.lru_cache(maxsize=4)
def mni_slices(size: int, orientations: tuple[str, ...] = ORIENTATIONS) -> dict[str, np.ndarray]:
    """The template's brain slices per split, ``(n, size, size)`` in [0, 1], read-only.

    Args:
        size: slice edge.
        orientations: any of ``ORIENTATIONS``.

    Returns:
        split -> stacked slices (axis by axis, in slice order).

    Example:
        >>> mni_slices(32)["val"].shape  # doctest: +SKIP
        (49, 32, 32)
    """
    import nibabel as nib

    unknown = [o for o in orientations if o not in ORIENTATIONS]
    if unknown or not orientations:
        raise DatasetError(
            f"orientations {list(orientations)} must be a non-empty subset of "
            f"{', '.join(ORIENTATIONS)}."
        )
    volume = np.asarray(nib.load(str(template_path())).dataobj, dtype=np.float32)
    out: dict[str, list[np.ndarray]] = {split: [] for split in BASE_SPLITS}
    for orientation in orientations:
        axis = ORIENTATIONS.index(orientation)
        stack = np.moveaxis(volume, axis, 0)
        keep = (stack > 0.1 * volume.max()).mean(axis=(1, 2)) >= MIN_BRAIN_FRACTION
        if orientation == "sagittal":
            # The template is symmetric: the sagittal slices of the right hemisphere are
            # those of the left, which would put copies of one image in two splits.
            keep &= np.arange(len(stack)) <= len(stack) // 2
        for split, indices in slab_split(len(stack), keep).items():
            # Rotate so the head's top is up, as radiologists view the slice.
            out[split] += [square_slice(np.rot90(stack[i]), size) for i in indices]
    stacked = {split: np.stack(images) for split, images in out.items()}
    for array in stacked.values():
        array.setflags(write=False)
    return stacked


def _check_unit_range(slices: np.ndarray, name: str) -> None:
    """PSNR and SSIM are scored with a data range of 1, so targets must lie in [0, 1]."""
    values = np.asarray(slices)  # the stack as it is: no float64 copy of a large set
    if values.ndim != 3:
        raise DatasetError(f"{name}: slices have shape {values.shape}; expected a stack (n, H, W).")
    if not np.isfinite(values).all():
        raise DatasetError(f"{name}: the slices hold NaN or infinite values; pass finite ones.")
    low, high = float(values.min()), float(values.max())
    if low < -1e-6 or high > 1 + 1e-6:
        raise DatasetError(
            f"{name}: slice values span [{low:g}, {high:g}], but reconstruction targets are "
            "magnitudes in [0, 1] (PSNR and SSIM use a data range of 1); divide by the maximum "
            "first."
        )


class SliceReconDataset(Dataset):
    """Undersampled single- or multi-coil acquisitions of a stack of magnitude slices.

    Args:
        info: the registry entry.
        split: one of ``BASE_SPLITS`` (picks the mask stream).
        slices: ``(n, size, size)`` magnitude images in [0, 1].
        acceleration: 4 or 8 (any integer >= 1).
        mask: ``"random"`` or ``"equispaced"``.
        center_fraction: the fully sampled centre (default: fastMRI's for the acceleration).
        seed: seeds the masks; a sample's mask depends on (seed, split, index) only.
        coils: 1 (the 3-channel single-coil layout) or more (birdcage maps, the
            ``4C + 1``-channel layout); ``info.in_channels`` follows.

    Example:
        >>> ds = SliceReconDataset(info, "train", np.zeros((2, 32, 32)))  # doctest: +SKIP
    """

    def __init__(
        self,
        info: DatasetInfo,
        split: str,
        slices: np.ndarray,
        acceleration: int = 4,
        mask: str = "random",
        center_fraction: float | None = None,
        seed: int = 0,
        coils: int = 1,
    ) -> None:
        if split not in BASE_SPLITS:
            raise DatasetError(
                f"{info.name}: split {split!r} is not one of {', '.join(BASE_SPLITS)}."
            )
        if isinstance(slices, (list, tuple)):
            slices = np.stack([np.asarray(s) for s in slices]) if slices else np.zeros((0, 2, 2))
        if len(slices):
            check_magnitude_image(slices[0], f"{info.name} slice 0")
            _check_unit_range(slices, info.name)
        self.info, self.split, self.slices = info_for_coils(info, coils), split, slices
        self.acceleration, self.mask_kind = acceleration, mask
        self.center_fraction, self.seed = center_fraction, int(seed)
        columns = slices.shape[-1] if len(slices) else 32
        draw_mask(columns, acceleration, center_fraction, mask)
        self.maps = birdcage_maps(coils, columns) if coils > 1 else None
        self.targets = None

    def __len__(self) -> int:
        return len(self.slices)

    def mask(self, index: int) -> torch.Tensor:
        """The k-space columns sample ``index`` measures."""
        # Distinct streams per split: validation masks never repeat training masks.
        stream = np.random.SeedSequence((self.seed, _SPLIT_IDS[self.split], index))
        seed = int(stream.generate_state(1)[0])
        columns = self.slices.shape[-1]
        return draw_mask(columns, self.acceleration, self.center_fraction, self.mask_kind, seed)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        index = int(index)
        if not -len(self) <= index < len(self):
            raise IndexError(f"{self.info.name}: index {index} out of range 0..{len(self) - 1}")
        index %= len(self)
        image = torch.from_numpy(np.array(self.slices[index]))
        return undersample(image, self.mask(index), self.maps)


def load_mni_recon(
    info: DatasetInfo,
    split: str,
    root: Path | None,
    size: int,
    download: bool,
    acceleration: int | None = None,
    mask: str = "random",
    center_fraction: float | None = None,
    orientations: tuple[str, ...] = ORIENTATIONS,
    data_seed: int = 0,
    coils: int | None = None,
    **options: Any,
) -> SliceReconDataset:
    """Registry loader of the MNI152 sets (``root`` and ``download`` are unused).

    Args:
        info: the registry entry (its name sets the default acceleration).
        split: ``"train"``, ``"val"`` or ``"test"``.
        root: ignored.
        size: slice edge (32, 64 or 128).
        download: ignored; nothing is downloaded.
        acceleration: overrides the entry's (4 or 8).
        mask: ``"random"`` or ``"equispaced"``.
        center_fraction: the fully sampled centre.
        orientations: which of sagittal, coronal, axial to cut.
        data_seed: seeds the masks.
        coils: overrides the entry's coil count (1 for the single-coil sets).
        **options: none are known; a mistyped option is an error, not silently ignored.

    Returns:
        A :class:`SliceReconDataset`.
    """
    known = ("acceleration", "mask", "center_fraction", "orientations", "coils")
    registry.reject_unknown_options(info.name, options, known)
    slices = mni_slices(int(size), tuple(orientations))[split]
    acceleration = _acceleration_of(info) if acceleration is None else acceleration
    coils = coils_of(info.in_channels) if coils is None else coils
    return SliceReconDataset(
        info, split, slices, acceleration, mask, center_fraction, data_seed, coils
    )


def _acceleration_of(info: DatasetInfo) -> int:
    return 8 if info.name.endswith("-8x") else 4


def folder_slices(path: str | os.PathLike, size: int, seed: int = 0) -> dict[str, np.ndarray]:
    """A user folder's images as magnitude slices per split, split by subject.

    2D images are used whole (colour is averaged to grey); a 3D volume gives the
    slices of the middle half of its slice axis. Subjects (a subfolder, a DICOM
    PatientID, or else one file each) are dealt 70/10/20 with a seed (every split gets
    at least one).

    Args:
        path: a folder of NIfTI, DICOM, PNG or JPEG files (subfolders are searched).
        size: slice edge.
        seed: seeds the split.

    Returns:
        split -> ``(n, size, size)`` slices in [0, 1].
    """
    from nasbench.data.image_files import SUFFIXES, is_image_file, path_order, read_image

    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise DatasetError(f"{folder} is not a folder; give a folder of MR images.")
    # Hidden files and whatever hidden folders hold (.ipynb_checkpoints/ keeps copies of
    # slices) are skipped, as the class and segmentation folders skip them: a copy of a
    # test slice would otherwise train.
    files = sorted(
        (
            p
            for p in folder.rglob("*")
            if not any(part.startswith(".") for part in p.relative_to(folder).parts)
            and is_image_file(p)
        ),
        key=path_order,
    )
    if not files:
        raise DatasetError(f"{folder} holds no images ({', '.join(SUFFIXES)}); add some.")
    if len(files) < 3:  # split by file: train, val and test need one each
        raise DatasetError(
            f"{folder} holds {len(files)} image file(s); a reconstruction folder needs at "
            "least 3 (train, val and test are split by file), so add more."
        )
    subjects = _subjects(folder, files)
    n_subjects = int(subjects.max()) + 1
    order = np.random.default_rng(seed).permutation(n_subjects)
    n_val = max(1, round(0.1 * n_subjects))
    n_test = max(1, round(0.2 * n_subjects))
    dealt = {"train": order[n_val + n_test :], "val": order[:n_val]}
    dealt["test"] = order[n_val : n_val + n_test]
    bounds = {split: np.flatnonzero(np.isin(subjects, chosen)) for split, chosen in dealt.items()}
    out = {}
    for split, chosen in bounds.items():
        slices = [s for i in sorted(chosen) for s in _file_slices(files[i], read_image, size)]
        if not slices:
            raise DatasetError(
                f"the {split} files of {folder} ({', '.join(files[i].name for i in chosen)}) "
                "hold only blank slices; add images with content."
            )
        out[split] = np.stack(slices)
    return out


def _subjects(folder: Path, files: list[Path]) -> np.ndarray:
    """Each file's subject, numbered from 0 in file order (:mod:`nasbench.data.patients`:
    a DICOM PatientID, a subfolder of ``folder``, a DICOM series where the PatientID is an
    anonymiser's placeholder, or the file itself), so one subject's slice files never sit
    in two splits. Fewer than three subjects split file by file, with a warning."""
    from nasbench.data.image_files import is_dicom_file
    from nasbench.data.patients import anonymised_to_series, group_labels, patient_key

    keys = [patient_key(f, folder, is_dicom=is_dicom_file(f)) for f in files]
    # As the image folders do: one placeholder PatientID on every file names no subject.
    keys = anonymised_to_series(keys, files)
    subjects, _ = group_labels(np.zeros(len(files), dtype=np.int64), keys)
    count = int(subjects.max()) + 1
    if count < len(BASE_SPLITS):
        warnings.warn(
            f"{folder} holds images of {count} subject{'s' * (count != 1)} (DICOM PatientID, "
            "subfolders or DICOM series), too few to split 70/10/20 by subject, so its files "
            "are split one by one and a subject may sit in two splits; add subjects.",
            UserWarning,
            stacklevel=3,
        )
        return np.arange(len(files))
    return subjects


def _file_slices(path: Path, read_image: Any, size: int) -> list[np.ndarray]:
    """A file's slices, without blank ones (a blank target has no error to normalise
    by: its NMSE would be ~1e10 and swamp the mean). Values are shifted to start at 0,
    so a signed image (e.g. a real part) stays in [0, 1] as PSNR and SSIM assume."""
    array = np.asarray(read_image(path))  # channels first
    check_real(array, str(path))
    array = array.astype(np.float32).mean(axis=0)  # colour (or coil magnitudes) to grey
    low = float(array.min())
    if low < 0:
        array = array - low
    if array.ndim == 2:
        planes = [array]
    else:
        depth = array.shape[0]  # read_image puts a volume's slice axis first
        planes = [array[k] for k in range(depth // 4, depth - depth // 4)]
    return [square_slice(plane, size) for plane in planes if float(np.ptp(plane)) > 0]


def register_recon_folder(
    path: str | os.PathLike,
    name: str | None = None,
    acceleration: int = 4,
    mask: str = "random",
    seed: int = 0,
    licence: str = "",
    coils: int = 1,
) -> DatasetInfo:
    """Register a folder of the user's MR images as a reconstruction set.

    Args:
        path: the folder (:func:`folder_slices`).
        name: registry name; default ``<folder name>-recon``.
        acceleration: 4 or 8.
        mask: ``"random"`` or ``"equispaced"``.
        seed: seeds the split and the masks.
        licence: the data's licence, recorded in the info.
        coils: simulated coils (1: single coil; more: birdcage maps).

    Returns:
        The registered :class:`DatasetInfo`.

    Example:
        >>> info = register_recon_folder("my_brains", acceleration=8)  # doctest: +SKIP
        >>> nasbench.data.load(info.name, "train", size=64)[0][0].shape  # doctest: +SKIP
        torch.Size([3, 64, 64])
    """
    folder = Path(path).expanduser()
    draw_mask(32, acceleration, None, mask)  # a bad acceleration, kind or coil count fails now
    channels = sample_channels(coils)
    counts = {k: len(v) for k, v in folder_slices(folder, RECON_SIZES[0], seed).items()}
    info = DatasetInfo(
        name=(name or f"{folder.name}-recon").lower(),
        task="reconstruction",
        modality=f"MRI (your images, {_coil_words(coils)} simulation)",
        spatial_dims=2,
        in_channels=channels,
        num_classes=0,
        class_names=(),
        splits=counts,
        sizes=RECON_SIZES,
        licence=licence,
        source="folder",
        description=f"Slices of {folder}, undersampled {acceleration}x ({mask} mask).",
        homepage=str(folder),
    )

    def loader(info: DatasetInfo, split: str, root: Any, size: int, download: bool, **options):
        registry.reject_unknown_options(info.name, options, ())
        slices = folder_slices(folder, size, seed)[split]
        return SliceReconDataset(info, split, slices, acceleration, mask, None, seed, coils)

    registry.register_dataset(info, loader, lambda info, root, size: folder.is_dir())
    return info


def _coil_words(coils: int) -> str:
    return "single-coil" if coils == 1 else f"{coils}-coil"


def _mni_info(name: str, acceleration: int, coils: int = 1) -> DatasetInfo:
    if coils == 1:
        inputs = (
            "Input (3 channels): the zero-filled image (real, imaginary) of its k-space "
            f"undersampled {acceleration}x"
        )
    else:
        inputs = (
            f"Input ({sample_channels(coils)} channels, nasbench.data.kspace's {coils}-coil "
            f"layout): the k-space of each of {coils} simulated birdcage coils (real, "
            f"imaginary), their sensitivity maps, undersampled {acceleration}x"
        )
    return DatasetInfo(
        name=name,
        task="reconstruction",
        modality=f"MRI (T1, {_coil_words(coils)} simulation)",
        spatial_dims=2,
        in_channels=sample_channels(coils),
        num_classes=0,
        class_names=(),
        # Brain slices at 64 px (the counts do not depend on the size).
        splits={"train": 185, "val": 49, "test": 42},
        sizes=RECON_SIZES,
        licence=MNI_LICENCE,
        citation=MNI_CITATION,
        source="nilearn",
        description=(
            "Sagittal, coronal and axial slices of the MNI152 2009 T1 brain template "
            f"(nilearn's copy), cropped to the head, scaled to [0, 1]. {inputs} by a new "
            "MONAI random Cartesian mask per sample (fully sampled "
            f"centre: {int(100 * CENTER_FRACTIONS[acceleration])}% of the lines) and "
            "the mask; target: the magnitude image. Split by slab, so neighbouring slices "
            "never sit in different splits."
        ),
        homepage="https://nist.mni.mcgill.ca/icbm-152-nonlinear-atlases-2009/",
    )


INFOS = (
    _mni_info("mni152-recon", 4),
    _mni_info("mni152-recon-8x", 8),
    _mni_info("mni152-recon-4coil", 4, coils=4),
)


def register() -> None:
    """Add the MNI152 reconstruction sets to the dataset registry.

    Example:
        >>> register()
        >>> registry.get_info("mni152-recon").task
        'reconstruction'
    """
    for info in INFOS:
        registry.register_dataset(
            info,
            load_mni_recon,
            lambda info, root, size: importlib.util.find_spec("nilearn") is not None,
        )
