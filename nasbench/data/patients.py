"""Patient groups for a user folder's automatic split, so no patient sits in two splits.

A medical image folder often holds several images of one patient: the slices of a DICOM
series, or a patient's own subfolder inside a class folder (``<class>/<patient>/<image>``).
Split per image, one patient's images land in train and in test, and the test score then
rewards recognising the patient rather than the finding. The automatic 70/10/20 split of
:mod:`nasbench.data.folder_layout` therefore splits patients, found here:

- a DICOM file belongs to its header's ``PatientID`` wherever it sits (the same ID in two
  classes is one patient): a PACS or CD export puts every patient's files in one
  ``DICOM/`` subfolder, so the header, not the folder, tells them apart;
- an image in a subfolder of its class folder belongs to that subfolder's patient (a
  folder per class: ``normal/patient01`` and ``pneumonia/patient01`` are two patients,
  as a folder numbered per class has them); so does a DICOM file without a
  ``PatientID``, and one whose ID is an anonymiser's placeholder that every file carries
  where its class folder has two or more such subfolders (a lone subfolder, as an
  export's ``DICOM/``, tells no one apart: :func:`anonymised_to_series`);
- any other DICOM file belongs to its ``SeriesInstanceUID``;
- any other image is a patient of its own.

Example:
    >>> patient_key(Path("xrays/normal/p01/a.png"), Path("xrays/normal"), is_dicom=False)
    'folder:normal/p01'
"""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path

import numpy as np

from nasbench.data.image_files import Stamp, file_key

# Header fields that name a patient, in order of preference: a series is one acquisition
# of one patient, so it is the fallback when an export blanks the patient's ID.
_PATIENT_FIELDS = ("PatientID", "SeriesInstanceUID")


def patient_key(path: Path, class_folder: Path, is_dicom: bool) -> str:
    """The patient an image file belongs to, as a string key (see the module docstring).

    Args:
        path: an image file inside ``class_folder``.
        class_folder: the folder its class (or ``images/``) is named by.
        is_dicom: whether the file is read as DICOM.

    Returns:
        ``"dicom:<id>"``, ``"folder:<subfolder>"``, ``"series:<uid>"`` or
        ``"file:<path>"``, the first that applies.

    Example:
        >>> patient_key(Path("x/a/scan.png"), Path("x/a"), is_dicom=False)
        'file:x/a/scan.png'
    """
    series = ""
    if is_dicom:
        patient, series = _dicom_patient(*file_key(path))
        if patient:
            return _DicomKey(f"dicom:{patient}", path, class_folder)
    if len(relative_parts(path, class_folder)) > 1:
        return _folder_key(path, class_folder)
    if series:
        return f"series:{series}"
    return f"file:{path}"


class _DicomKey(str):
    """A ``dicom:<id>`` key that keeps its file's class folder and its subfolder key (None
    for a file directly in it), for :func:`anonymised_to_series` to fall back on: equal
    IDs stay equal keys wherever the files sit."""

    def __new__(cls, key: str, path: Path, class_folder: Path) -> _DicomKey:
        self = super().__new__(cls, key)
        nested = len(relative_parts(path, class_folder)) > 1
        self.class_folder = class_folder
        self.subfolder = _folder_key(path, class_folder) if nested else None
        return self


def _folder_key(path: Path, class_folder: Path) -> str:
    return f"folder:{class_folder.name}/{relative_parts(path, class_folder)[0]}"


def relative_parts(path: Path, folder: Path) -> tuple[str, ...]:
    """``path.relative_to(folder).parts``, without parsing a path found inside ``folder``
    again (a folder scan asks this of every file, several times).

    Args:
        path: a path inside ``folder``.
        folder: the folder.

    Returns:
        The names below ``folder``, the file's last.

    Raises:
        ValueError: ``path`` is not inside ``folder``, as ``relative_to`` says.

    Example:
        >>> relative_parts(Path("x/a/p01/scan.png"), Path("x/a"))
        ('p01', 'scan.png')
    """
    parts, head = path.parts, folder.parts
    if head and parts[: len(head)] == head:
        return parts[len(head) :]
    return path.relative_to(folder).parts  # another spelling (case on Windows), or an error


def anonymised_to_series(keys: list[str], paths: list[Path]) -> list[str]:
    """Keys without a PatientID where every DICOM file carries the same one (an
    anonymiser's placeholder such as "ANONYMOUS"): one ID for all is no patient.

    Such a file then belongs to its patient subfolder where its class folder has two or
    more of them (a lone subfolder, as an export's ``DICOM/``, names no one), else to its
    DICOM series.

    Args:
        keys: :func:`patient_key` of each file.
        paths: the files.

    Returns:
        The keys, those of the anonymised files replaced.

    Example:
        >>> anonymised_to_series(["file:a.png"], [Path("a.png")])
        ['file:a.png']
    """
    ids = {k for k in keys if k.startswith("dicom:")}
    if len(ids) != 1 or sum(k.startswith("dicom:") for k in keys) < 2:
        return keys
    anonymised = [i for i, k in enumerate(keys) if k.startswith("dicom:")]
    subfolders: dict[Path, set[str]] = {}
    for i in anonymised:
        if getattr(keys[i], "subfolder", None):
            subfolders.setdefault(keys[i].class_folder, set()).add(keys[i].subfolder)
    out = list(keys)
    for i in anonymised:
        key = keys[i]
        if getattr(key, "subfolder", None) and len(subfolders[key.class_folder]) > 1:
            out[i] = key.subfolder
            continue
        series = _dicom_patient(*file_key(paths[i]))[1]
        out[i] = f"series:{series}" if series else f"file:{paths[i]}"
    return out


@functools.lru_cache(maxsize=65536)
def _dicom_patient(path: str, stamp: Stamp, size: int) -> tuple[str, str]:
    """A DICOM header's ``(PatientID, SeriesInstanceUID)``, '' where absent.

    Cached by change stamp and size (:func:`file_key`): a folder is scanned once per split
    loaded.
    """
    import pydicom

    try:
        header = pydicom.dcmread(
            path, stop_before_pixels=True, force=True, specific_tags=list(_PATIENT_FIELDS)
        )
    except Exception:  # an unreadable header is named when the image itself is read
        return "", ""
    patient, series = (str(header.get(field, "") or "").strip() for field in _PATIENT_FIELDS)
    return patient, series


def group_labels(labels: np.ndarray, keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each patient's index per image, and each patient's label to stratify on.

    A patient whose images carry several labels is stratified by the commonest (ties: the
    smallest), and all of that patient's images still go to one split.

    Args:
        labels: one class index per image.
        keys: one patient key per image (:func:`patient_key`).

    Returns:
        ``(group of each image, label of each group)``; groups are numbered in order of
        first appearance.

    Example:
        >>> g, l = group_labels(np.array([0, 0, 1]), ["a", "a", "b"])
        >>> g.tolist(), l.tolist()
        ([0, 0, 1], [0, 1])
    """
    index: dict[str, int] = {}
    groups = np.array([index.setdefault(k, len(index)) for k in keys], dtype=np.int64)
    votes: list[Counter] = [Counter() for _ in index]
    for group, label in zip(groups.tolist(), np.asarray(labels).tolist(), strict=True):
        votes[group][label] += 1
    group_label = [min(v, key=lambda label, v=v: (-v[label], label)) for v in votes]
    return groups, np.array(group_label, dtype=np.int64)
