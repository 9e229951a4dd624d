"""MedMNIST v2/v3: 12 2D and 6 3D subsets read from the official ``.npz`` files.

The metadata (labels, split sizes, URLs, MD5s, licences) comes from
``medmnist_info.json``, copied from the official release (Zenodo record 10519652).
A file is named ``<name>.npz`` at size 28 and ``<name>_<size>.npz`` otherwise and
holds the keys ``{train,val,test}_{images,labels}``. Images stay in memory as
uint8 and are turned into float tensors one item at a time.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import zipfile
import zlib
from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from nasbench.data.download import download as fetch
from nasbench.data.registry import (
    DatasetInfo,
    data_root,
    register_dataset,
    reject_unknown_options,
)
from nasbench.errors import DatasetError, DatasetNotFoundError

HOMEPAGE = "https://medmnist.com/"
CITATION = (
    "Yang, J., Shi, R., Wei, D., Liu, Z., Zhao, L., Ke, B., Pfister, H., Ni, B. "
    "MedMNIST v2 - A large-scale lightweight benchmark for 2D and 3D biomedical image "
    "classification. Scientific Data 10, 41 (2023). "
    "Please also cite the source dataset of {title} (listed on https://medmnist.com/)."
)
TASK_NAMES = {
    "binary-class": "binary",
    "multi-class": "multi-class",
    "multi-label, binary-class": "multi-label",
    "ordinal-regression": "ordinal",
}
MODALITIES = {
    "pathmnist": "colon pathology",
    "chestmnist": "chest X-ray",
    "dermamnist": "dermatoscope",
    "octmnist": "retinal OCT",
    "pneumoniamnist": "chest X-ray",
    "retinamnist": "fundus camera",
    "breastmnist": "breast ultrasound",
    "bloodmnist": "blood cell microscope",
    "tissuemnist": "kidney cortex microscope",
    "organamnist": "abdominal CT",
    "organcmnist": "abdominal CT",
    "organsmnist": "abdominal CT",
    "organmnist3d": "abdominal CT",
    "nodulemnist3d": "chest CT",
    "adrenalmnist3d": "shape from abdominal CT",
    "fracturemnist3d": "chest CT",
    "vesselmnist3d": "shape from brain MRA",
    "synapsemnist3d": "electron microscope",
}
# Bytes of a file that is not a zip archive shown in the message, to say what it is.
FILE_HEAD_BYTES = 40
KEYS = tuple(
    f"{split}_{kind}" for split in ("train", "val", "test") for kind in ("images", "labels")
)


@cache
def metadata() -> dict[str, dict[str, Any]]:
    """Return the official metadata of every subset, keyed by name (read once)."""
    text = resources.files("nasbench.data").joinpath("medmnist_info.json").read_text("utf-8")
    return json.loads(text)["subsets"]


def file_name(name: str, size: int) -> str:
    """Return the official file name of ``name`` at ``size`` (``breastmnist_64.npz``).

    Example:
        >>> file_name("breastmnist", 28), file_name("breastmnist", 64)
        ('breastmnist.npz', 'breastmnist_64.npz')
    """
    return f"{name}.npz" if size == 28 else f"{name}_{size}.npz"


def file_source(name: str, size: int) -> tuple[str, str]:
    """Return ``(url, md5)`` of the official file of ``name`` at ``size``."""
    entry = metadata()[name]["files"][str(size)]
    return entry["url"], entry["md5"]


def make_info(name: str) -> DatasetInfo:
    """Build the :class:`DatasetInfo` of one MedMNIST subset from the official metadata."""
    meta = metadata()[name]
    return DatasetInfo(
        name=name,
        task=TASK_NAMES[meta["task"]],
        modality=MODALITIES[name],
        spatial_dims=3 if name.endswith("3d") else 2,
        in_channels=int(meta["in_channels"]),
        num_classes=len(meta["labels"]),
        class_names=tuple(meta["labels"]),
        splits={k: int(v) for k, v in meta["splits"].items()},
        sizes=tuple(sorted(int(s) for s in meta["files"])),
        licence=meta["licence"],
        citation=CITATION.format(title=meta["title"]),
        source="medmnist",
        description=meta["description"],
        homepage=HOMEPAGE,
    )


class MedMNISTDataset(Dataset):
    """One split of a MedMNIST subset, held as uint8 arrays.

    Items are ``(image, target)``: the image a float32 tensor in [0, 1], channel
    first ((C, H, W) or (1, D, H, W)); the target an int64 scalar tensor, or a
    float32 (K,) tensor of 0/1 for multi-label subsets.

    Attributes:
        info: the subset's :class:`DatasetInfo`.
        split: ``"train"``, ``"val"`` or ``"test"``.
        targets: labels, (N,) int64, or (N, K) int64 for multi-label.
        path: the file the arrays came from.
    """

    def __init__(
        self, info: DatasetInfo, split: str, images: np.ndarray, labels: np.ndarray, path: Path
    ) -> None:
        self.info = info
        self.split = split
        self.images = images
        self.path = path
        labels = labels.astype(np.int64)
        self.targets = labels if info.task == "multi-label" else labels.reshape(-1)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = torch.from_numpy(np.ascontiguousarray(self.images[index])).float().div_(255.0)
        if self.info.in_channels == 3:  # stored (H, W, 3)
            image = image.permute(2, 0, 1).contiguous()
        else:
            image = image.unsqueeze(0)
        if self.info.task == "multi-label":
            target = torch.from_numpy(self.targets[index].astype(np.float32))
        else:
            target = torch.tensor(int(self.targets[index]), dtype=torch.int64)
        return image, target


def load_split(
    info: DatasetInfo,
    split: str,
    root: Path,
    size: int,
    download: bool,
    *,
    opener: Any = None,
    progress: bool = True,
    verify: bool = False,
    **unknown: Any,
) -> MedMNISTDataset:
    """Load one official split, downloading the file first if needed.

    Args:
        info: the subset's info.
        split: ``"train"``, ``"val"`` or ``"test"``.
        root: the folder holding (or to receive) the ``.npz`` files.
        size: image edge length, one of ``info.sizes``.
        download: fetch the file when it is missing.
        opener: passed to :func:`nasbench.data.download.download` (tests serve local files).
        progress: show a download progress bar.
        verify: check the MD5 of a file already on disk.

    Returns:
        a :class:`MedMNISTDataset`.

    Example:
        >>> load_split(get_info("breastmnist"), "test", Path("data"), 28, False)  # doctest: +SKIP
    """
    reject_unknown_options(info.name, unknown, ("opener", "progress", "verify"))
    path = Path(root) / file_name(info.name, size)
    url, md5 = file_source(info.name, size)
    refuse_broken_link(path)
    if not path.exists() and not download:
        raise DatasetNotFoundError(
            f"{path.name} is not in {path.parent} and download=False (--no-download). Place "
            f"the file in that folder (fetch it from {url}), or allow downloads."
            + other_sizes_hint(info, Path(root), size)
        )
    fetch(url, path, md5, progress=progress, opener=opener, verify=verify)
    images, labels = read_npz(path, split, url, layout(info, size))
    check_arrays(info, size, images, labels, path, split)
    check_split(info, split, labels, path)
    if split == "train":
        # A search reads train only: a damaged val or test would surface when the result
        # is retrained or tested, hours later.
        check_other_splits(info, size, path, url)
    return MedMNISTDataset(info, split, images, labels, path)


class _Declared:
    """An ``.npy`` member's shape and dtype, as its header declares them (no data read),
    standing in for the array in :func:`check_arrays`."""

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.shape, self.dtype, self.ndim = tuple(shape), dtype, len(shape)

    def __len__(self) -> int:
        return self.shape[0] if self.shape else 0


def check_other_splits(info: DatasetInfo, size: int, path: Path, url: str) -> None:
    """Check the val and test splits of a MedMNIST-format file as loading them would, from
    their images' headers and their labels, reading no image.

    Args:
        info: the subset's info.
        size: image edge length.
        path: the ``.npz`` file (its train split already loaded).
        url: the official file's address, for the re-download advice.

    Raises:
        DatasetError: a split's images or labels do not fit (one line naming them).
    """
    fix = f"delete it and load again to re-download it from {url}"
    with npz_errors(path, fix), np.load(path, allow_pickle=False) as npz:
        for split in ("val", "test"):
            for kind in ("images", "labels"):
                check_member_size(npz.zip, f"{split}_{kind}.npy", path, fix)
            images = _Declared(*member_header(npz.zip, f"{split}_images.npy"))
            labels = npz[f"{split}_labels"]
            check_arrays(info, size, images, labels, path, split)
            check_split(info, split, labels, path)


def refuse_broken_link(path: Path) -> None:
    """Refuse a symbolic link whose target is missing (an unmounted shared store).

    Such a link reads as no file at all: "not in the folder" would hide the link, and a
    download would replace it with a copy of its own.

    Args:
        path: the ``.npz`` file's place.

    Returns:
        None.

    Raises:
        DatasetNotFoundError: ``path`` is a link to nothing.
    """
    if path.is_symlink() and not path.exists():
        raise DatasetNotFoundError(
            f"{path} is a symbolic link to {os.readlink(path)}, which does not exist or links "
            "back to itself; restore its target (mount the store it points to), or remove the "
            "link and load again to download the file."
        )


def other_sizes_hint(info: DatasetInfo, root: Path, size: int) -> str:
    """Name the files of ``info`` at other sizes in ``root``, for a "not found" message.

    A person who downloaded only ``breastmnist_64.npz`` and loads at the default size 28
    is better told to pass the size they have than to download another file.

    Args:
        info: the subset's info.
        root: the folder searched.
        size: the size that was asked for and is missing.

    Returns:
        A sentence with a leading space, or ``""`` when no other size is there.

    Example:
        >>> other_sizes_hint(make_info("breastmnist"), Path("empty"), 28)
        ''
    """
    found = [s for s in info.sizes if s != size and is_cached(info, root, s)]
    if not found:
        return ""
    files = ", ".join(file_name(info.name, s) for s in found)
    sizes = " or ".join(str(s) for s in found)
    return f" The folder holds {files}: set dataset.size (size= in Python) to {sizes}."


def layout(info: DatasetInfo, size: int) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """Return the shapes of one split's images and labels in a MedMNIST-format file.

    Args:
        info: the subset's info.
        size: image edge length.

    Returns:
        ``(images, labels)`` shapes, ``"N"`` standing for the split's number of images.

    Example:
        >>> layout(make_info("bloodmnist"), 28)
        (('N', 28, 28, 3), ('N', 1))
    """
    channels = (3,) if info.in_channels == 3 else ()
    columns = info.num_classes if info.task == "multi-label" else 1
    return ("N", *(size,) * info.spatial_dims, *channels), ("N", columns)


def read_npz(
    path: Path, split: str, url: str, shapes: tuple[tuple[Any, ...], tuple[Any, ...]]
) -> tuple[np.ndarray, np.ndarray]:
    """Read the images and labels of one split from a MedMNIST-format ``.npz`` file.

    Args:
        path: the file (an official download or one a person wrote).
        split: ``"train"``, ``"val"`` or ``"test"``.
        url: the official file's address, for the re-download advice.
        shapes: the images' and labels' shapes, from :func:`layout`, for the advice on
            missing keys.

    Returns:
        ``(images, labels)`` arrays.

    Raises:
        DatasetError: keys are missing, or the file is not a readable ``.npz``.
    """
    fix = f"delete it and load again to re-download it from {url}"
    with npz_errors(path, fix):
        refuse_non_zip(path, fix)
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in KEYS if k not in npz.files]
            if missing:
                # The file may be the person's own data: say how to complete it before
                # offering the re-download, which would replace it.
                images, labels = ("(" + ", ".join(map(str, shape)) + ")" for shape in shapes)
                kinds = {"images": f"{images} uint8 images", "labels": f"{labels} integer labels"}
                add = ", ".join(f"{k}: {kinds[k.split('_')[1]]}" for k in missing)
                raise DatasetError(
                    f"{path} lacks the keys {', '.join(missing)} of a MedMNIST-format file "
                    f"(it has {', '.join(npz.files) or 'none'}); add them to the file ({add}), "
                    f"or, if the file was a download, {fix}."
                )
            keys = (f"{split}_images", f"{split}_labels")
            for key in keys:
                check_member_size(npz.zip, f"{key}.npy", path, fix)
            return npz[keys[0]], npz[keys[1]]


@contextlib.contextmanager
def npz_errors(path: Path, fix: str) -> Iterator[None]:
    """Turn what reading a ``.npz`` file raises into one-line :class:`DatasetError`s: a
    permission error or a folder under the name is named as such (the file may be whole),
    anything else as a truncated or corrupt file, with ``fix`` (the re-download advice).

    Example:
        >>> with npz_errors(Path("x.npz"), "delete it"):  # doctest: +SKIP
        ...     np.load("x.npz")
    """
    try:
        yield
    except DatasetError:
        raise
    except PermissionError as exc:
        # The file may be whole (a shared folder of another user's): never advise deleting it.
        raise DatasetError(
            f"{path} cannot be opened: permission denied ({exc.strerror or exc}); fix its "
            "permissions (or ask its owner to), then load again."
        ) from exc
    except IsADirectoryError as exc:
        raise DatasetError(
            f"{path} is a folder, not a .npz file: a folder has the file's name; rename or "
            "move that folder, then load again."
        ) from exc
    except (
        OSError,
        MemoryError,  # a member that truly holds more than this machine's memory
        ValueError,
        EOFError,
        KeyError,
        RuntimeError,
        NotImplementedError,  # a flipped byte in a zip header ("zip file version 23.5")
        zipfile.BadZipFile,
        zlib.error,
    ) as exc:
        raise DatasetError(
            f"{path} cannot be read as a .npz file ({type(exc).__name__}: {exc}); it is probably "
            f"truncated or corrupt: {fix}."
        ) from exc


def refuse_non_zip(path: Path, fix: str) -> None:
    """Refuse a file that is not a zip archive at all, such as a proxy's error page saved
    under the ``.npz`` name, saying what it starts with (numpy would suggest unpickling it).

    A file that starts as a zip but is cut short passes: reading it names the truncation.

    Args:
        path: the ``.npz`` file.
        fix: what to do about a damaged file (delete and re-download).

    Returns:
        None.

    Raises:
        DatasetError: the file is empty or not a zip archive.
        OSError: the file cannot be opened (the caller names why).
    """
    with open(path, "rb") as handle:
        head = handle.read(FILE_HEAD_BYTES)
    if head.startswith(b"PK") or zipfile.is_zipfile(path):
        return
    if not head:
        raise DatasetError(f"{path} is empty (0 bytes), as a download cut short leaves it; {fix}.")
    shown = "".join(c if c.isprintable() and c.isascii() else "." for c in head.decode("latin-1"))
    page = " (a web page, such as a proxy's error or login page)" if shown.startswith("<") else ""
    raise DatasetError(
        f"{path} is not a .npz file (a zip archive): it starts with {shown!r}{page}; {fix}."
    )


def check_member_size(archive: zipfile.ZipFile, member: str, path: Path, fix: str) -> None:
    """Refuse an ``.npy`` member whose header claims more bytes than the member holds.

    numpy allocates the array its header describes before reading any of it, so a 1 KB
    file claiming shape (10**8, 28, 28) would ask for 73 GiB and die with MemoryError.

    Args:
        archive: the open ``.npz`` file.
        member: the ``.npy`` member to check, e.g. ``"train_images.npy"``.
        path: the ``.npz`` file, for the message.
        fix: what to do about a damaged file (delete and re-download).

    Returns:
        None.

    Raises:
        DatasetError: the member holds Python objects, or its header claims more data than
            the member holds.

    Example:
        >>> with zipfile.ZipFile("data/breastmnist.npz") as z:  # doctest: +SKIP
        ...     check_member_size(z, "train_images.npy", Path("data/breastmnist.npz"), "")
    """
    size = archive.getinfo(member).file_size  # uncompressed, header included
    shape, dtype = member_header(archive, member)
    if dtype.hasobject:  # pickled Python objects: their size says nothing of a truncation
        raise DatasetError(
            f"{path}: {member} holds Python objects (dtype {dtype}), not numbers; save images "
            f"as uint8 and labels as integers (np.asarray(x, dtype=np.int64)), or {fix}."
        )
    claimed = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    if claimed > size:
        raise DatasetError(
            f"{path} cannot be read as a .npz file ({member} claims shape {shape} of "
            f"{dtype}, {claimed} bytes, but holds {size}); it is probably truncated or "
            f"corrupt: {fix}."
        )


def member_header(archive: zipfile.ZipFile, member: str) -> tuple[tuple[int, ...], np.dtype]:
    """Return the shape and dtype an ``.npy`` member's header declares, reading no data."""
    with archive.open(member) as handle:
        version = np.lib.format.read_magic(handle)
        # Version 3.0 differs from 2.0 only in the text encoding of the header.
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
    return shape, dtype


def check_arrays(
    info: DatasetInfo, size: int, images: np.ndarray, labels: np.ndarray, path: Path, split: str
) -> None:
    """Raise a one-line :class:`DatasetError` unless the arrays fit ``info`` and ``size``.

    The file may be an official download or one a person wrote in MedMNIST's layout, so
    each message says what the layout needs before offering the re-download.

    Args:
        info: the subset's info.
        size: image edge length.
        images: the split's images.
        labels: the split's labels.
        path: the file they came from.
        split: ``"train"``, ``"val"`` or ``"test"``, naming the arrays in messages.

    Returns:
        None.
    """
    expected, (_, columns) = layout(info, size)
    fix = "delete the file and load again to re-download it"
    if images.ndim != len(expected) or tuple(images.shape[1:]) != expected[1:]:
        raise DatasetError(
            f"{path}: {split}_images have shape {images.shape}, expected {expected} for "
            f"{info.name} at size {size}; write them in that shape, or {fix}."
        )
    if images.dtype != np.uint8:
        raise DatasetError(
            f"{path}: {split}_images are {images.dtype}, expected uint8 (0-255); convert them, "
            f"e.g. (x * 255).round().astype(np.uint8) for floats in [0, 1], or {fix}."
        )
    if labels.ndim and len(labels) != len(images):
        raise DatasetError(
            f"{path}: {split}_labels has {len(labels)} rows but {split}_images has "
            f"{len(images)}; the file is damaged or its arrays are mismatched: write one "
            f"label row per image, or {fix}."
        )
    if labels.shape != (len(images), columns):
        reshape = (
            " (labels.reshape(-1, 1))" if columns == 1 and labels.shape == (len(images),) else ""
        )
        raise DatasetError(
            f"{path}: {split}_labels have shape {labels.shape}, expected "
            f"({len(images)}, {columns}); reshape them{reshape}, or {fix}."
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise DatasetError(
            f"{path}: {split}_labels are {labels.dtype}, expected integers; store class indices "
            f"with labels.astype(np.int64), or {fix}."
        )
    high = 1 if info.task == "multi-label" else info.num_classes - 1
    what = (
        "store each label column as 0 or 1"
        if info.task == "multi-label"
        else f"store class indices into its {info.num_classes} classes"
    )
    if labels.size and (labels.min() < 0 or labels.max() > high):
        raise DatasetError(
            f"{path}: {split}_labels range from {labels.min()} to {labels.max()}, expected 0 to "
            f"{high} for {info.name}; {what}, or {fix}."
        )


def check_split(info: DatasetInfo, split: str, labels: np.ndarray, path: Path) -> None:
    """Raise a one-line :class:`DatasetError` for a split no search can use.

    Every split needs an image; a training split needs two classes (with one, every
    loss is zero and no metric is defined).
    """
    if len(labels) == 0:
        raise DatasetError(
            f"{path}: {split}_images is empty; every split (train, val, test) needs at least "
            "one image, so move some images into it."
        )
    if split == "train" and info.task != "multi-label" and len(np.unique(labels)) < 2:
        raise DatasetError(
            f"{path}: train_labels hold only class {int(labels.flat[0])}; a classifier needs "
            "at least two classes in train, so add images of the others."
        )


def is_cached(info: DatasetInfo, root: Path, size: int) -> bool:
    """Tell whether the file of ``info`` at ``size`` is in ``root``."""
    return (Path(root) / file_name(info.name, size)).is_file()


def file_splits(info: DatasetInfo, root: Path, size: int) -> dict[str, int] | None:
    """Count the images of each split in the file on disk, from the labels' headers only.

    A person's own MedMNIST-format file need not hold the official split sizes
    (``info.splits``), so whoever shows sizes for a file on disk reads them here.

    Args:
        info: the subset's info.
        root: the folder holding the ``.npz`` file.
        size: image edge length.

    Returns:
        ``{split: count}`` for each ``<split>_labels`` the file holds (a split it lacks is
        left out), or None when the file is missing or cannot be read.

    Example:
        >>> file_splits(make_info("breastmnist"), Path("data"), 28)  # doctest: +SKIP
        {'train': 546, 'val': 78, 'test': 156}
    """
    path = Path(root) / file_name(info.name, size)
    counts = {}
    try:
        with zipfile.ZipFile(path) as archive:
            members = set(archive.namelist())
            for split in ("train", "val", "test"):
                if f"{split}_labels.npy" in members:
                    shape, _ = member_header(archive, f"{split}_labels.npy")
                    counts[split] = int(shape[0]) if shape else 0
    except (OSError, ValueError, EOFError, KeyError, RuntimeError, NotImplementedError,
            zipfile.BadZipFile, zlib.error):  # fmt: skip
        return None
    return counts


def split_sizes(
    info: DatasetInfo, cached: bool, root: str | os.PathLike | None = None, size: int | None = None
) -> str:
    """Return the card's split sizes: those a load would give, never another file's.

    A MedMNIST name may stand for a person's own file in the official layout, holding
    other split sizes than the official ones in ``info.splits``; so a file on disk is
    counted (from its label headers, without reading the images), and a missing one
    shows the official download's sizes as just that.

    Args:
        info: the registry entry.
        cached: whether its files are on disk.
        root: data folder (default ``NASBENCH_DATA``).
        size: image size whose file is counted (default the smallest).

    Returns:
        Text such as ``"train 20, val 4, test 6 in breastmnist.npz"``.

    Example:
        >>> from nasbench.data import get_info
        >>> split_sizes(get_info("synthetic"), cached=True)
        'train 2,000, val 400, test 400'
    """
    official = ", ".join(f"{k} {v:,}" for k, v in info.splits.items()) or "-"
    if info.source != "medmnist":  # generated, or counted from the files when registered
        return official
    if not cached:
        return f"unknown until loaded (the official download holds {official})"
    size = min(info.sizes) if size is None else size
    file = file_name(info.name, size)
    counts = file_splits(info, data_root(root), size)
    if counts is None:
        return f"unknown until loaded ({file} cannot be read)"
    lacking = [s for s in ("train", "val", "test") if s not in counts]
    return (
        (", ".join(f"{k} {v:,}" for k, v in counts.items()) or "no split")
        + f" in {file}"
        + (f", which lacks {', '.join(lacking)}" if lacking else "")
    )


def register() -> None:
    """Register all 18 MedMNIST subsets in the dataset registry."""
    for name in metadata():
        register_dataset(make_info(name), load_split, is_cached)
