"""Patient groups for a user folder's automatic split, so no patient sits in two splits.

A medical image folder often holds several images of one patient: the slices of a DICOM
series, or a patient's own subfolder inside a class folder (``<class>/<patient>/<image>``).
Split per image, one patient's images land in train and in test, and the test score then
rewards recognising the patient rather than the finding. The automatic 70/10/20 split of
:mod:`nasbench.data.folder` therefore splits patients, found here:

- an image in a subfolder of its class folder belongs to that subfolder's patient (the
  same subfolder name under two class folders is the same patient);
- a DICOM file directly in a class folder (or in ``images/``) belongs to its header's
  ``PatientID``, or, when that is empty, to its ``SeriesInstanceUID``;
- any other image is a patient of its own.

Example:
    >>> patient_key(Path("xrays/normal/p01/a.png"), Path("xrays/normal"), is_dicom=False)
    'folder:p01'
"""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path

import numpy as np

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
        ``"folder:<subfolder>"``, ``"dicom:<id>"`` or ``"file:<path>"``.

    Example:
        >>> patient_key(Path("x/a/scan.png"), Path("x/a"), is_dicom=False)
        'file:x/a/scan.png'
    """
    parts = path.relative_to(class_folder).parts
    if len(parts) > 1:
        return f"folder:{parts[0]}"
    if is_dicom:
        stat = path.stat()
        found = _dicom_patient(str(path), stat.st_mtime_ns, stat.st_size)
        if found:
            return f"dicom:{found}"
    return f"file:{path}"


@functools.lru_cache(maxsize=65536)
def _dicom_patient(path: str, mtime_ns: int, size: int) -> str:
    """The first non-empty patient field of a DICOM header, or ''.

    Cached by modification time and size: a folder is scanned once per split loaded.
    """
    import pydicom

    try:
        header = pydicom.dcmread(
            path, stop_before_pixels=True, force=True, specific_tags=list(_PATIENT_FIELDS)
        )
    except Exception:  # an unreadable header is named when the image itself is read
        return ""
    for field in _PATIENT_FIELDS:
        value = str(header.get(field, "") or "").strip()
        if value:
            return value
    return ""


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
