"""MONAI's datasets behind the registry: MedNIST and the Medical Segmentation Decathlon.

Archives are downloaded by :mod:`nasbench.data.download` (a timeout on every read, the
MD5 of MONAI's release checked before the file takes its name) into ``data_root(root)``
and extracted here. This module lists each split's files itself and partitions them as
MONAI's ``MedNISTDataset`` and ``DecathlonDataset`` do, with their seed and split sizes
(MONAI's own listing takes a note or a hidden folder for an image or a class, follows the
file system's directory order, which differs between machines, and demands descriptive
keys of ``dataset.json`` that nothing reads); MedNIST's files are sorted by name first, so
its split is the same on every machine. Items are read lazily through MONAI's readers and
transforms, without caching, and converted into the ``(image, target)`` pair every
nasbench dataset yields.

Layout expected under the data folder (what MONAI's archives extract to):
    ``MedNIST/<class>/<image>.jpeg`` for MedNIST;
    ``Task09_Spleen/dataset.json`` plus ``imagesTr/`` and ``labelsTr/`` for a
    Decathlon task.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from nasbench.data import registry
from nasbench.data.folder_layout import list_image_files
from nasbench.data.image_files import as_viewer_shows, quiet_reader_setup
from nasbench.data.registry import BASE_SPLITS, DatasetInfo
from nasbench.errors import DatasetError, DatasetNotFoundError
from nasbench.tempfiles import WRITER_TAG, writer_gone, writer_tag

# MONAI splits MedNIST (and we split Decathlon cases) with this seed; changing it
# would change every published split size and member.
SPLIT_SEED = 0

# Sorted as MONAI sorts the class folders: a class's label is its index here.
MEDNIST_CLASSES = ("AbdomenCT", "BreastMRI", "CXR", "ChestCT", "Hand", "HeadCT")
# MONAI's MedNISTDataset defaults.
MEDNIST_TEST_FRACTION = 0.1
MEDNIST_VAL_FRACTION = 0.1
# Folders that archivers and notebook servers leave beside the class folders (macOS's
# resource forks, Jupyter's checkpoints); never classes. Dot-names are skipped as well.
LEFTOVER_FOLDERS = ("__MACOSX",)
MEDNIST_URL = (
    "https://github.com/Project-MONAI/MONAI-extra-test-data/releases/download/0.8.1/MedNIST.tar.gz"
)

MSD_LICENCE = "CC BY-SA 4.0"
MSD_CITATION = (
    "Antonelli M. et al., The Medical Segmentation Decathlon, Nature Communications 13, 4128 "
    "(2022); Simpson A. L. et al., A large annotated medical image dataset for the development "
    "and evaluation of segmentation algorithms, arXiv:1902.09063 (2019)"
)
MSD_URL = "https://msd-for-monai.s3-us-west-2.amazonaws.com/{task}.tar"
# Decathlon cases with public labels are split test/val/train by these fractions.
MSD_TEST_FRACTION = 0.2
MSD_VAL_FRACTION = 0.1

# task folder -> (registry name, modality, channel names, label names, numTraining),
# as in each task's dataset.json.
MSD_TASKS: dict[str, tuple[str, str, tuple[str, ...], tuple[str, ...], int]] = {
    "Task01_BrainTumour": (
        "msd-braintumour",
        "MRI",
        ("FLAIR", "T1w", "t1gd", "T2w"),
        ("background", "edema", "non-enhancing tumor", "enhancing tumour"),
        484,
    ),
    "Task02_Heart": ("msd-heart", "MRI", ("MRI",), ("background", "left atrium"), 20),
    "Task03_Liver": ("msd-liver", "CT", ("CT",), ("background", "liver", "cancer"), 131),
    "Task04_Hippocampus": (
        "msd-hippocampus",
        "MRI",
        ("MRI",),
        ("background", "Anterior", "Posterior"),
        260,
    ),
    "Task05_Prostate": (
        "msd-prostate",
        "MRI",
        ("T2", "ADC"),
        ("background", "PZ", "TZ"),
        32,
    ),
    "Task06_Lung": ("msd-lung", "CT", ("CT",), ("background", "cancer"), 63),
    "Task07_Pancreas": ("msd-pancreas", "CT", ("CT",), ("background", "pancreas", "cancer"), 281),
    "Task08_HepaticVessel": (
        "msd-hepaticvessel",
        "CT",
        ("CT",),
        ("background", "Vessel", "Tumour"),
        303,
    ),
    "Task09_Spleen": ("msd-spleen", "CT", ("CT",), ("background", "spleen"), 41),
    "Task10_Colon": ("msd-colon", "CT", ("CT",), ("background", "colon cancer primaries"), 126),
}


def _monai_split_sizes(n: int, test_fraction: float, val_fraction: float) -> dict[str, int]:
    """Split sizes as MONAI computes them: ``int(n * fraction)`` for test and val."""
    test, val = int(n * test_fraction), int(n * val_fraction)
    return {"train": n - test - val, "val": val, "test": test}


def _monai_shuffled(items: list[dict]) -> list[dict]:
    """``items`` in the order MONAI's datasets shuffle them with seed ``SPLIT_SEED``
    (``np.random.RandomState(seed).shuffle`` of their indices)."""
    indices = np.arange(len(items))
    np.random.RandomState(SPLIT_SEED).shuffle(indices)
    return [items[i] for i in indices]


def _monai_cut(
    shuffled: list[dict], split: str, test_fraction: float, val_fraction: float
) -> list[dict]:
    """Cut a shuffled list into test, val, train (in that order, as MONAI cuts MedNIST)."""
    sizes = _monai_split_sizes(len(shuffled), test_fraction, val_fraction)
    bounds = {
        "test": (0, sizes["test"]),
        "val": (sizes["test"], sizes["test"] + sizes["val"]),
        "train": (sizes["test"] + sizes["val"], len(shuffled)),
    }
    start, stop = bounds[split]
    return shuffled[start:stop]


def _check_split(info: DatasetInfo, split: str) -> None:
    if split not in BASE_SPLITS:
        raise DatasetError(f"{info.name}: split {split!r} is not one of {', '.join(BASE_SPLITS)}.")


def _as_tensor(x: Any, dtype: torch.dtype) -> torch.Tensor:
    """A plain tensor (MONAI returns MetaTensors, which carry metadata we do not need)."""
    if hasattr(x, "as_tensor"):
        x = x.as_tensor()
    return torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x).to(dtype)


def _build(info: DatasetInfo, folder: Path, url: str, make: Any) -> Any:
    """Call ``make``, which lists an extracted folder's files (and builds a MONAI dataset
    over them); one-line errors otherwise."""
    try:
        with quiet_reader_setup():  # MONAI's datasets build image loaders of their own
            return make()
    except DatasetError:
        raise
    except Exception as error:  # MONAI raises RuntimeError, KeyError, OSError...
        raise DatasetError(
            f"{info.name}: could not read {folder.name}/ in {folder.parent} "
            f"({_root_reason(error)}); remove it and download again (or fetch {url} by hand "
            "and extract it there)."
        ) from error


def _extract_placed(info: DatasetInfo, folder: Path, archive: Path, md5: str) -> None:
    """Extract an archive placed by hand (or just downloaded), here and without the network.

    Its MD5 is checked first, so a partial download is named, not half-extracted. The
    archive is extracted into a hidden sibling folder that takes ``folder``'s name only
    once every file is out: an extraction cut short (Ctrl-C, a full disk, a kill) never
    leaves a folder that would load with fewer images. What such a cut on this machine left
    is removed on the next attempt (another machine's, or where processes cannot be probed,
    such as Windows, once a day old).
    """
    if archive.is_file():
        _remove_stale_extractions(folder)
    if folder.is_dir() or not archive.is_file():
        return
    from monai.apps.utils import extractall

    if _md5_of(info, archive) != md5.lower():
        raise DatasetError(
            f"{info.name}: {archive} is incomplete or damaged (its MD5 is not {md5}); delete "
            "it and download it again."
        )
    try:
        work = Path(tempfile.mkdtemp(prefix=_extracting_prefix(folder), dir=folder.parent))
    except OSError as error:
        raise DatasetError(
            f"{info.name}: cannot extract {archive} into {folder.parent} ({_root_reason(error)}); "
            "free space or fix the folder's permissions, then try again."
        ) from error
    _EXTRACTING.add(work)
    try:
        extractall(archive, work, hash_val=None)  # checked above; a second read of GBs
        if not (work / folder.name).is_dir():
            raise DatasetError(
                f"{info.name}: {archive} does not hold a {folder.name}/ folder; delete it and "
                "download it again."
            )
        try:
            os.replace(work / folder.name, folder)
        except OSError:
            if not folder.is_dir():  # else another process finished the same extraction
                raise
    except DatasetError:
        raise
    except Exception as error:  # a tar that passes the hash but cannot be written out
        raise DatasetError(
            f"{info.name}: cannot extract {archive} into {folder.parent} ({_root_reason(error)}); "
            "free space or fix the folder's permissions, then try again."
        ) from error
    finally:
        shutil.rmtree(work, ignore_errors=True)
        _EXTRACTING.discard(work)


def _md5_of(info: DatasetInfo, archive: Path) -> str:
    """The archive's MD5, read by nasbench (MONAI's check logs its own error line above the
    one-line message)."""
    from nasbench.data.download import file_md5

    try:
        return file_md5(archive)
    except OSError as error:
        raise DatasetError(
            f"{info.name}: cannot read {archive} ({error.strerror or error}); fix its "
            "permissions, then try again."
        ) from error


# Extraction folders this process is writing now (another thread's are not stale).
_EXTRACTING: set[Path] = set()


# An extraction whose writer cannot be probed, older than this, was cut short: a large
# archive takes minutes to extract, never a day.
STALE_EXTRACTION_SECONDS = 24 * 3600


def _extracting_prefix(folder: Path) -> str:
    return f".{folder.name}.extracting-{writer_tag()}-"


def _remove_stale_extractions(folder: Path) -> None:
    """Remove the hidden folders of extractions of ``folder`` whose process has ended
    (SIGKILL, a crash) or, in this process, that no thread is still writing; one whose
    process cannot be probed (another machine's, Windows) once a day old."""
    pattern = re.escape(f".{folder.name}.extracting-") + rf"({WRITER_TAG})-[a-z0-9_]+"
    for work in folder.parent.glob(f".{folder.name}.extracting-*"):
        found = re.fullmatch(pattern, work.name)
        if found is None or work in _EXTRACTING:
            continue
        tag = found.group(1)
        gone = True if tag == writer_tag() else writer_gone(tag)
        if gone is None:
            with contextlib.suppress(OSError):
                gone = time.time() - work.stat().st_mtime > STALE_EXTRACTION_SECONDS
        if gone:
            shutil.rmtree(work, ignore_errors=True)


def _download_archive(info: DatasetInfo, folder: Path, archive: Path, url: str, md5: str) -> None:
    """Fetch a set's archive with :func:`nasbench.data.download.download` and extract it.

    That downloader waits at most its timeout for each read (MONAI's waits forever behind a
    stalling proxy), checks the MD5 before the file takes its name, and leaves nothing
    behind when it fails; MONAI then finds the extracted folder and downloads nothing.
    """
    from nasbench.data.download import download

    download(url, archive, md5)
    _extract_placed(info, folder, archive, md5)


def _missing(info: DatasetInfo, folder: Path, archive: Path, url: str) -> DatasetNotFoundError:
    return DatasetNotFoundError(
        f"{info.name}: folder {folder.name}/ not found in {folder.parent} and download=False; "
        f"pass download=True, or fetch {url} by hand and extract it there "
        f"(or place {archive.name} there)."
    )


# --------------------------------------------------------------------------- MedNIST


class MonaiClassification(Dataset):
    """A MONAI classification dataset seen as ``(image, label)`` pairs.

    Attributes:
        info: the registry entry.
        split: the base split.
        targets: int64 labels, read from MONAI's data list (no image is loaded).
        monai_dataset: the underlying MONAI dataset.
    """

    def __init__(self, info: DatasetInfo, split: str, monai_dataset: Any) -> None:
        self.info = info
        self.split = split
        self.monai_dataset = monai_dataset
        self.targets = np.array([int(d["label"]) for d in monai_dataset.data], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.monai_dataset)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        try:
            item = self.monai_dataset[int(index)]
        except Exception as error:  # MONAI wraps a reader's error in its own
            path = Path(self.monai_dataset.data[int(index)]["image"])
            raise DatasetError(
                f"{self.info.name}: cannot read {path.parent.name}/{path.name} "
                f"({_root_reason(error)}); remove that file or download the set again."
            ) from error
        image = _as_tensor(item["image"], torch.float32)
        return image, torch.tensor(int(item["label"]), dtype=torch.int64)


def _innermost(error: BaseException) -> BaseException:
    """The innermost cause: MONAI's transforms wrap a reader's error ("applying
    transform <LoadImaged ...>"), which says nothing about the file."""
    while error.__cause__ is not None:
        error = error.__cause__
    return error


def _root_reason(error: BaseException) -> str:
    """The first line of the innermost cause (:func:`_innermost`)."""
    error = _innermost(error)
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _as_grey(image: Any) -> Any:
    """A PIL image as one grey channel, as a viewer shows it (palette, alpha and CMYK
    resolved by :func:`~nasbench.data.image_files.as_viewer_shows`): a colour JPEG among MedNIST's
    grey ones would otherwise give a 3-channel item that no batch can stack."""
    return as_viewer_shows(image).convert("L")


def _mednist_transform(size: int) -> Any:
    from monai.data import PILReader
    from monai.transforms import Compose, LoadImaged, Resized, ScaleIntensityRanged

    return Compose(
        [
            # reverse_indexing=False keeps rows as rows (MONAI's default transposes PIL images).
            LoadImaged(
                "image",
                reader=PILReader(reverse_indexing=False, converter=_as_grey),
                ensure_channel_first=True,
            ),
            ScaleIntensityRanged("image", a_min=0.0, a_max=255.0, b_min=0.0, b_max=1.0, clip=True),
            # Also at the native 64: an image of another size (one replaced by hand) must
            # still stack with the others.
            Resized("image", spatial_size=(size, size), mode="area"),
        ]
    )


def _mednist_class_folders(info: DatasetInfo, folder: Path) -> list[Path]:
    """The six class folders of ``MedNIST/``, sorted (a class's label is its index); hidden
    and archiver folders are skipped, any other folder is refused."""
    found = sorted(
        p
        for p in folder.iterdir()
        if p.is_dir() and not p.name.startswith(".") and p.name not in LEFTOVER_FOLDERS
    )
    if [p.name for p in found] != sorted(MEDNIST_CLASSES):
        raise DatasetError(
            f"{info.name}: {folder} holds class folders {[p.name for p in found]}; expected "
            f"{sorted(MEDNIST_CLASSES)}. Remove it and download again."
        )
    return found


def _mednist_images(info: DatasetInfo, class_folder: Path) -> list[str]:
    """A class folder's images as the own-folder reader picks them (hidden files and files
    of other kinds, such as notes, skipped), sorted by name. MONAI's ``MedNISTDataset``
    takes the directory's own order, which differs between file systems (ext4 hashes
    names per volume), so its seeded split differed between two copies of the set; sorted,
    the same files give the same split on every machine."""
    found = sorted(str(class_folder / p.name) for p in list_image_files(class_folder))
    if not found:
        raise DatasetError(
            f"{info.name}: class folder {class_folder.name}/ in {class_folder.parent} holds no "
            "image, as an extraction or copy that stopped early leaves it; remove the partial "
            f"folder {class_folder.parent} and load again to extract or download MedNIST afresh."
        )
    return found


def _mednist_split(info: DatasetInfo, folder: Path, split: str) -> list[dict]:
    """MedNIST's items of ``split``: shuffled with ``SPLIT_SEED`` and cut as MONAI's
    ``MedNISTDataset`` cuts them (its split sizes), from the files sorted by name."""
    items = [
        {"image": image, "label": label, "class_name": class_folder.name}
        for label, class_folder in enumerate(_mednist_class_folders(info, folder))
        for image in _mednist_images(info, class_folder)
    ]
    return _monai_cut(_monai_shuffled(items), split, MEDNIST_TEST_FRACTION, MEDNIST_VAL_FRACTION)


def load_mednist(
    info: DatasetInfo, split: str, root: Path, size: int, download: bool, **options: Any
) -> MonaiClassification:
    """Registry loader for MedNIST (six classes of 64x64 grey images).

    MONAI's ``MedNISTDataset`` shuffles the whole set with ``SPLIT_SEED`` and
    takes 10% for test and 10% for validation; we keep that partition. Hidden files and
    files that are not images (notes, ``.DS_Store``) are skipped; every item is one grey
    channel at ``size`` x ``size``, whatever the file's colour mode and size.

    Args:
        info: the registry entry.
        split: ``"train"``, ``"val"`` or ``"test"``.
        root: data folder; ``root/MedNIST/<class>/*.jpeg``.
        size: edge length (64 is native; 28 is resized with area averaging).
        download: fetch (with a timeout, MD5-checked) and extract MedNIST.tar.gz when the
            folder is missing.
        **options: none are known; a name here is an error.

    Returns:
        A :class:`MonaiClassification`.

    Example:
        >>> from nasbench.data import load
        >>> ds = load("mednist", "test", root="data", size=64)  # doctest: +SKIP
    """
    registry.reject_unknown_options(info.name, options, ())
    from monai.apps import MedNISTDataset
    from monai.data import Dataset as MonaiDataset

    _check_split(info, split)
    root = Path(root)
    folder, archive = root / "MedNIST", root / "MedNIST.tar.gz"
    _extract_placed(info, folder, archive, MedNISTDataset.md5)
    if not folder.is_dir():
        if not download:
            raise _missing(info, folder, archive, MEDNIST_URL)
        _download_archive(info, folder, archive, MEDNIST_URL, MedNISTDataset.md5)

    def make() -> Any:
        # The file list is ours (MONAI's lists every file and hidden folder as an image or
        # a class); the items are read lazily by MONAI's Dataset, without caching.
        return MonaiDataset(_mednist_split(info, folder, split), _mednist_transform(size))

    return MonaiClassification(info, split, _build(info, folder, MEDNIST_URL, make))


# --------------------------------------------------------------------------- Decathlon


class MonaiSegmentation(Dataset):
    """Decathlon cases as ``(image (C,D,H,W), mask (1,D,H,W))`` pairs.

    MONAI reads NIfTI volumes as ``(C, H, W, D)``; they are returned slice axis first,
    ``(C, D, H, W)``, the layout of every nasbench volume (MedMNIST3D, the synthetic sets),
    so in-plane ops (V-NAS's 2D 1x3x3 conv) work in the acquisition plane.

    Attributes:
        info: the registry entry.
        split: the base split.
        targets: None (segmentation).
        files: ``(image path, label path)`` per case, in order.
    """

    def __init__(self, info: DatasetInfo, split: str, data: list[dict], transform: Any) -> None:
        self.info = info
        self.split = split
        self.targets = None
        self._data = data
        self._transform = transform
        self.files = [(d["image"], d["label"]) for d in data]

    def __len__(self) -> int:
        return len(self._data)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        case = self._data[int(index)]
        try:
            item = self._transform(dict(case))
        except Exception as error:
            image_path, label_path = Path(case["image"]), Path(case["label"])
            mismatch = _innermost(error)
            if isinstance(mismatch, _GridMismatch):
                raise DatasetError(
                    f"{self.info.name}: {image_path.name} is {mismatch.image} voxels but its "
                    f"mask {label_path.parent.name}/{label_path.name} is {mismatch.label}; "
                    "they must match (fix or remove this case)."
                ) from error
            raise DatasetError(
                f"{self.info.name}: cannot read {image_path.parent.name}/{image_path.name} or "
                f"{label_path.parent.name}/{label_path.name} ({_root_reason(error)}); check or "
                "re-download the file."
            ) from error
        image = _as_tensor(item["image"], torch.float32)
        if not torch.isfinite(image).all():
            raise DatasetError(
                f"{self.info.name}: {Path(case['image']).name} holds NaN or infinite voxels; "
                "fix that volume or remove its case."
            )
        mask = _as_tensor(item["label"], torch.float32).round().to(torch.int64)
        if image.shape[0] != self.info.in_channels:
            raise DatasetError(
                f"{self.info.name}: {Path(case['image']).name} has {image.shape[0]} channels; "
                f"expected {self.info.in_channels}."
            )
        if int(mask.min()) < 0 or int(mask.max()) >= self.info.num_classes:
            raise DatasetError(
                f"{self.info.name}: {Path(case['label']).name} has labels outside "
                f"0..{self.info.num_classes - 1}."
            )
        return image.permute(0, 3, 1, 2).contiguous(), mask.permute(0, 3, 1, 2).contiguous()


def _check_task_json(info: DatasetInfo, path: Path) -> None:
    """Name a missing or damaged ``dataset.json`` (MONAI's own error would read as a
    failed download)."""
    if not path.is_file():
        raise DatasetError(
            f"{info.name}: {path.parent} has no dataset.json; remove the folder and download again."
        )
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:  # UnicodeDecodeError and JSONDecodeError alike
        raise DatasetError(
            f"{info.name}: {path} is damaged ({str(error).splitlines()[0]}); restore it, or "
            f"remove {path.parent.name}/ and download again."
        ) from None
    cases = meta.get("training") if isinstance(meta, dict) else None
    if not isinstance(cases, list) or not all(
        isinstance(c, dict) and {"image", "label"} <= c.keys() for c in cases
    ):
        raise DatasetError(
            f"{info.name}: {path} has no 'training' list of {{'image', 'label'}} cases; "
            f"restore it, or remove {path.parent.name}/ and download again."
        )


class _GridMismatch(ValueError):
    """A case whose mask is not on its image's voxel grid (shapes as ``AxBxC``)."""

    def __init__(self, image: str, label: str) -> None:
        super().__init__(f"image {image} but mask {label}")
        self.image, self.label = image, label


def _check_same_grid(item: dict) -> dict:
    """Refuse a mask whose voxel grid is not its image's, read before both are resized to
    one size (which would hide the mismatch and pair the mask with the wrong voxels)."""
    image, label = tuple(item["image"].shape[1:]), tuple(item["label"].shape[1:])
    if image != label:
        raise _GridMismatch("x".join(map(str, image)), "x".join(map(str, label)))
    return item


def _decathlon_transform(size: int) -> Any:
    from monai.transforms import (
        Compose,
        LoadImaged,
        Resized,
        ScaleIntensityRangePercentilesd,
    )

    spatial = (size, size, size)
    return Compose(
        [
            LoadImaged(["image", "label"], image_only=True, ensure_channel_first=True),
            _check_same_grid,
            # Percentiles per channel put CT and MRI alike into [0, 1] without a fixed window.
            ScaleIntensityRangePercentilesd(
                "image", lower=0.5, upper=99.5, b_min=0.0, b_max=1.0, clip=True, channel_wise=True
            ),
            Resized("image", spatial_size=spatial, mode="trilinear"),
            # Sampled at the voxel centres the image's resize uses ("nearest" would shift the
            # mask by up to a voxel along each axis against its image).
            Resized("label", spatial_size=spatial, mode="nearest-exact"),
        ]
    )


def _decathlon_split(folder: Path, split: str) -> list[dict]:
    """The labelled cases of ``split``: MONAI's data list of ``dataset.json``'s
    ``training`` section (paths made absolute), in the order ``DecathlonDataset`` shuffles
    it (seed ``SPLIT_SEED``), cut into test, val, train (in that order).

    Only ``training`` is read: ``DecathlonDataset`` also demands the descriptive keys
    (``description``, ``reference``, ``licence``...), which a task's own ``dataset.json``
    written by hand may leave out and nothing here uses (labels and modalities come from
    :data:`MSD_TASKS`).
    """
    from monai.data import load_decathlon_datalist

    cases = load_decathlon_datalist(folder / "dataset.json", True, "training")
    return _monai_cut(_monai_shuffled(cases), split, MSD_TEST_FRACTION, MSD_VAL_FRACTION)


def load_decathlon(
    info: DatasetInfo, split: str, root: Path, size: int, download: bool, **options: Any
) -> MonaiSegmentation:
    """Registry loader for one Medical Segmentation Decathlon task.

    The official test cases have no public labels, so the labelled training cases
    are shuffled as MONAI's ``DecathlonDataset`` shuffles them (seed ``SPLIT_SEED``) and
    cut into test (20%), val (10%) and train (the rest). Of ``dataset.json`` only the
    ``training`` list is needed.

    Args:
        info: the registry entry (``info.homepage`` holds the archive URL).
        split: ``"train"``, ``"val"`` or ``"test"``.
        root: data folder; ``root/TaskXX_Name/dataset.json`` and its NIfTI files.
        size: edge length of the resized cube.
        download: fetch (with a timeout, MD5-checked) and extract the task's tar when the
            folder is missing.
        **options: none are known; a name here is an error.

    Returns:
        A :class:`MonaiSegmentation`.

    Example:
        >>> from nasbench.data import load
        >>> ds = load("msd-spleen", "val", root="data", size=64)  # doctest: +SKIP
    """
    registry.reject_unknown_options(info.name, options, ())
    from monai.apps import DecathlonDataset

    _check_split(info, split)
    task = _TASK_OF[info.name]
    url = MSD_URL.format(task=task)
    root = Path(root)
    folder, archive = root / task, root / f"{task}.tar"
    _extract_placed(info, folder, archive, DecathlonDataset.md5[task])
    fetch = not folder.is_dir() and download
    if not folder.is_dir() and not fetch:
        raise _missing(info, folder, archive, url)
    if folder.is_dir():
        _check_task_json(info, folder / "dataset.json")
    if fetch:
        _download_archive(info, folder, archive, url, DecathlonDataset.md5[task])
        _check_task_json(info, folder / "dataset.json")

    data = _build(info, folder, url, lambda: _decathlon_split(folder, split))
    with quiet_reader_setup():
        transform = _decathlon_transform(size)
    return MonaiSegmentation(info, split, data, transform)


# --------------------------------------------------------------------------- registry

_TASK_OF = {spec[0]: task for task, spec in MSD_TASKS.items()}

MEDNIST_INFO = DatasetInfo(
    name="mednist",
    task="multi-class",
    modality="CT, MRI, X-ray",
    spatial_dims=2,
    in_channels=1,
    num_classes=6,
    class_names=MEDNIST_CLASSES,
    splits=_monai_split_sizes(58954, MEDNIST_TEST_FRACTION, MEDNIST_VAL_FRACTION),
    sizes=(28, 64),
    licence="CC BY-SA 4.0",
    citation=(
        "MedNIST, gathered from TCIA, the RSNA Bone Age Challenge and the NIH Chest X-ray "
        "dataset, made available by B. J. Erickson (Mayo Clinic); distributed by Project MONAI"
    ),
    source="monai",
    description=(
        "58,954 64x64 grey images in six classes (abdomen CT, breast MRI, chest X-ray, chest CT, "
        "hand X-ray, head CT). Split as monai.apps.MedNISTDataset does with seed 0: 10% test, "
        "10% validation, the rest train."
    ),
    homepage=MEDNIST_URL,
)


def _decathlon_info(task: str) -> DatasetInfo:
    name, modality, channels, labels, n_training = MSD_TASKS[task]
    return DatasetInfo(
        name=name,
        task="segmentation",
        modality=modality,
        spatial_dims=3,
        in_channels=len(channels),
        num_classes=len(labels),
        class_names=labels,
        splits=_monai_split_sizes(n_training, MSD_TEST_FRACTION, MSD_VAL_FRACTION),
        sizes=(28, 32, 64, 96, 128),
        licence=MSD_LICENCE,
        citation=MSD_CITATION,
        source="monai",
        description=(
            f"Medical Segmentation Decathlon {task}: {modality} volumes "
            f"(channels: {', '.join(channels)}) with masks of {', '.join(labels)}. "
            f"The {n_training} labelled cases are split 70/10/20 (train/val/test) after "
            "MONAI's seed-0 shuffle; volumes are resized to a size^3 cube."
        ),
        homepage=MSD_URL.format(task=task),
    )


def _mednist_cached(info: DatasetInfo, root: Path, size: int) -> bool:
    return (Path(root) / "MedNIST").is_dir()


def _decathlon_cached(info: DatasetInfo, root: Path, size: int) -> bool:
    return (Path(root) / _TASK_OF[info.name] / "dataset.json").is_file()


def register() -> None:
    """Add MedNIST and the ten Decathlon tasks to the dataset registry.

    Example:
        >>> register()
        >>> registry.get_info("msd-spleen").num_classes
        2
    """
    registry.register_dataset(MEDNIST_INFO, load_mednist, _mednist_cached)
    for task in MSD_TASKS:
        registry.register_dataset(_decathlon_info(task), load_decathlon, _decathlon_cached)
