"""A fingerprint of the files a dataset is read from, so a resumed run can tell they changed.

A run records the fingerprint of its data when it starts; ``resume`` computes it again and
warns when it differs (a folder whose images were replaced, added or removed; another
MedMNIST file under the same name), since the resumed search would then not end as an
uninterrupted one. It covers the sets read from files a person owns or may replace: MedMNIST
``.npz`` files and user folders (the files their loader reads: images and COCO boxes, not
notes kept beside them). Generated sets (synthetic, the packaged MNI template) and
MONAI's downloads are not fingerprinted (None).

The fingerprint hashes each file's path relative to the data's folder, its size and its
bytes (the whole file up to 4 MiB; beyond that the first and last MiB), so a folder copied
to another machine keeps its fingerprint while an edited image changes it.

Example:
    >>> data_fingerprint("synthetic") is None
    True
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from nasbench.data.registry import data_root, get_info

# The run environment's key of the fingerprint a search records when it starts.
DATA_FINGERPRINT = "data_fingerprint"
# Files up to this size are hashed whole; larger ones by their first and last EDGE bytes.
WHOLE_LIMIT = 4 * 1024 * 1024
EDGE = 1024 * 1024


def dataset_files(
    name: str, size: int = 28, root: str | os.PathLike | None = None, every_file: bool = False
) -> list[Path]:
    """The files a dataset is read from, for :func:`data_fingerprint`; empty when it is not
    read from files a person owns (generated or fetched by MONAI).

    Args:
        name: a registered dataset name, or ``folder:<path>``.
        size: the image size the run loads (MedMNIST keeps one file per size).
        root: the data folder (as ``DatasetConfig.root``).
        every_file: a folder's every non-hidden file, as runs recorded before 2026-12-06
            were fingerprinted (see :func:`data_change`).

    Returns:
        Paths, sorted; those of a folder are the non-hidden files below it that its
        loader reads (images, by the loader's own test, and ``annotations.json``).

    Example:
        >>> dataset_files("synthetic")
        []
    """
    from nasbench.data.medmnist import file_name

    info = get_info(name)
    if info.source == "medmnist":
        path = data_root(root) / file_name(info.name, int(size))
        return [path] if path.is_file() else []
    folder = Path(info.homepage) if info.source == "folder" and info.homepage else None
    if folder is None or not folder.is_dir():
        return []
    from nasbench.data.coco import ANNOTATIONS
    from nasbench.data.image_files import is_image_file, path_order

    # Only what the loader reads (its images and a detection folder's COCO boxes): a note
    # or a spreadsheet put next to the images is no change of the data.
    return sorted(
        (
            path
            for path in folder.rglob("*")
            if not any(part.startswith(".") for part in path.relative_to(folder).parts)
            and (
                path.is_file()
                if every_file
                else is_image_file(path) or (path.name == ANNOTATIONS and path.is_file())
            )
        ),
        key=path_order,
    )


def data_fingerprint(
    name: str, size: int = 28, root: str | os.PathLike | None = None, every_file: bool = False
) -> str | None:
    """A hex digest of the dataset's files (see the module's description); None when the
    dataset is not read from files a person owns, or they are not there.

    Args:
        name: a registered dataset name, or ``folder:<path>``.
        size: the image size the run loads.
        root: the data folder (as ``DatasetConfig.root``).
        every_file: hash a folder's every non-hidden file (the fingerprint of older runs).

    Returns:
        The digest, or None.

    Example:
        >>> data_fingerprint("synthetic-multiclass") is None
        True
    """
    try:
        return files_digest(dataset_files(name, size, root, every_file))
    except OSError:  # a file gone or unreadable meanwhile: loading will say so itself
        return None


def files_digest(files: list[Path]) -> str | None:
    """A hex digest of the files' names (relative to their common folder), sizes and bytes:
    a file up to 4 MiB is hashed whole, a larger one by its first and last MiB, so that a
    fingerprint of gigabytes stays quick to take.

    Args:
        files: the files, in the order they are hashed.

    Returns:
        The SHA-256 hex digest, or None for no files.

    Raises:
        OSError: a file is missing or unreadable.

    Example:
        >>> files_digest([]) is None
        True
    """
    if not files:
        return None
    base = files[0].parent if len(files) == 1 else Path(os.path.commonpath(files))
    digest = hashlib.sha256()
    for path in files:
        stat_size = path.stat().st_size
        digest.update(f"{path.relative_to(base).as_posix()}\0{stat_size}\0".encode())
        with open(path, "rb") as handle:
            if stat_size <= WHOLE_LIMIT:
                digest.update(handle.read())
            else:
                digest.update(handle.read(EDGE))
                handle.seek(stat_size - EDGE)
                digest.update(handle.read(EDGE))
    return digest.hexdigest()


def data_change(
    recorded: str | None, name: str, size: int = 28, root: str | os.PathLike | None = None
) -> tuple[str | None, str | None]:
    """Compare the dataset's files now with a recorded fingerprint.

    Args:
        recorded: the fingerprint a run recorded (``environment["data_fingerprint"]``);
            None when it recorded none.
        name: a registered dataset name, or ``folder:<path>``.
        size: the image size the run loads.
        root: the data folder (as ``DatasetConfig.root``).

    Returns:
        ``(now, what)``: the fingerprint now, and None when nothing was recorded or the
        files are the same, else ``"changed (files replaced, added or removed)"`` or
        ``"are gone"``.

    Example:
        >>> data_change(None, "synthetic")
        (None, None)
    """
    now = data_fingerprint(name, size, root)
    if recorded is None or now == recorded:
        return now, None
    if now is not None and data_fingerprint(name, size, root, every_file=True) == recorded:
        # Recorded before fingerprints left out the files the loader does not read (notes
        # beside the images): those files are unchanged too.
        return now, None
    return now, "are gone" if now is None else "changed (files replaced, added or removed)"
