"""The record of what the folder reader made of a ``folder:<path>`` set (class names,
input channels, split files), which a run keeps, and its comparison on resume or retrain.

A resume or retrain warns when the classes or split files changed, and refuses a folder
that now reads with other input channels, since no checkpoint of the run fits it.

Example:
    >>> folder_reading("breastmnist") is None
    True
"""

from __future__ import annotations

import os
import unicodedata
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from nasbench.data import registry
from nasbench.data.folder_layout import (
    _classification_items,
    _seeded_split,
    _segmentation_items,
    scan_folder,
)
from nasbench.errors import ConfigError, DatasetError

# The environment key a search records what the folder reader made of a folder:: set under.
FOLDER_READING = "folder_reading"


def folder_reading(dataset: str) -> dict[str, Any] | None:
    """What this folder reader makes of a ``folder:<path>`` set: its class names in order,
    input channels, and per split the file count and a digest of the sorted relative paths
    (small: a run records it, and a resume or retrain compares it).

    Args:
        dataset: the dataset name.

    Returns:
        The record, or None for a set that is not a ``folder:`` one.

    Example:
        >>> folder_reading("breastmnist") is None
        True
    """
    if not str(dataset).startswith(registry.FOLDER_PREFIX):
        return None
    import hashlib

    info = registry.get_info(dataset)  # registers it as a search would (seed 0)
    layout = scan_folder(dataset[len(registry.FOLDER_PREFIX) :])
    splits = {}
    for split, items in layout.items.items():
        # NFC: a folder copied between macOS and Linux keeps its digest.
        paths = sorted(
            unicodedata.normalize("NFC", Path(os.path.relpath(image, layout.path)).as_posix())
            for image, _ in items
        )
        digest = hashlib.sha256("\n".join(paths).encode()).hexdigest()[:16]
        splits[split] = [len(paths), digest]
    return {"classes": list(info.class_names), "in_channels": info.in_channels, "splits": splits}


def warn_if_split_changed(dataset: str, environment: Mapping[str, Any], run_dir: Any) -> None:
    """Warn when a run on a user folder began under a reader that read it otherwise: split
    image by image, other classes or split files than this reader gives, or no record of
    them (a run made before they were recorded); refuse one whose input channels changed.

    Args:
        dataset: the run's dataset name.
        environment: the run's recorded environment.
        run_dir: the run folder, for the message.

    Raises:
        ConfigError: the folder now reads with other input channels than the run's networks
            take, so no checkpoint of it fits.

    Example:
        >>> warn_if_split_changed("breastmnist", {}, "runs/x")
    """
    if not str(dataset).startswith("folder:"):
        return
    # Said only where it is true: with every image its own patient both split alike.
    shared = False if environment.get("folder_split") else _shares_patients(dataset)
    if shared is not False:
        patients = "share patients (subfolders of a class folder or DICOM PatientIDs)"
        why = f"its images {patients}, so" if shared else f"so if its images {patients},"
        warnings.warn(
            f"run '{run_dir}' began when user folders were split image by image; they are now "
            f"split by patient, {why} resuming or retraining it reads other train/val/test "
            "images (a test image may be one its search trained on); start a new run to keep "
            "the splits apart.",
            UserWarning,
            stacklevel=3,
        )
    recorded = environment.get(FOLDER_READING)
    if not environment.get("folder_reader"):
        warnings.warn(
            f"run '{run_dir}' began under an earlier folder reader, which reads three kinds "
            "of folder differently from this one: class folders named on a Mac (renumbered "
            "classes), DICOM studies in patient subfolders (other splits) and grey images "
            "saved as RGB (1 channel, not 3); if its folder is one of these, a resume or "
            "retrain sees other data, so start a new run.",
            UserWarning,
            stacklevel=3,
        )
    if not isinstance(recorded, Mapping):
        return
    try:
        now = folder_reading(dataset)
    except DatasetError:  # a folder that no longer reads: loading it says why
        return
    _compare_reading(recorded, now, run_dir)


def _shares_patients(dataset: str) -> bool | None:
    """Whether this reader splits the folder otherwise than the earlier one, which split
    image by image: only an automatic split (no train/, val/, test/ folders) of classes or
    images/ whose images share patients (subfolders, DICOM PatientIDs) differs, and only
    where each class has patients enough to split by (else this reader splits image by
    image too). None: a folder that does not read now, so it cannot be told."""
    path = Path(dataset[len(registry.FOLDER_PREFIX) :]).expanduser()
    if any((path / split).is_dir() for split in registry.BASE_SPLITS):
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the search's own load says them
            layout = scan_folder(path)
    except DatasetError:  # a folder that no longer reads: loading it says why
        return None
    if layout.task == "detection":  # split by box count, never by patient
        return False
    # The earlier reader's split: the same items, 70/10/20 image by image with the seed.
    if layout.task == "segmentation":
        items = _segmentation_items(path)
        labels = np.zeros(len(items), dtype=int)
    else:
        items = _classification_items(path, None)[1]
        labels = np.array([label for _, label in items])
    by_image = _seeded_split(labels, 0)
    return any(
        {str(items[i][0]) for i in by_image[split]}
        != {str(image) for image, _ in layout.items[split]}
        for split in registry.BASE_SPLITS
    )


def _compare_reading(recorded: Mapping[str, Any], now: dict[str, Any], run_dir: Any) -> None:
    """Refuse changed input channels, warn in one line of changed classes or split files."""
    then_channels = recorded.get("in_channels")
    if then_channels is not None and then_channels != now["in_channels"]:
        raise ConfigError(
            f"the folder of run '{run_dir}' now reads as {now['in_channels']} channel(s) "
            f"(grey images saved as RGB count as grey), the run's networks take "
            f"{then_channels}; start a new run."
        )
    differ = []
    classes = recorded.get("classes")
    if classes is not None and list(classes) != now["classes"]:
        how = "renumbered" if sorted(classes) == sorted(now["classes"]) else "changed"
        differ.append(
            f"its classes are {how} (then {', '.join(classes)}; now {', '.join(now['classes'])})"
        )
    splits = recorded.get("splits") or {}
    moved = [
        f"{split} {splits[split][0]}->{now['splits'].get(split, [0])[0]} files"
        for split in splits
        if list(splits[split]) != list(now["splits"].get(split, []))
    ]
    if moved:
        differ.append(f"its splits hold other files ({', '.join(moved)})")
    if differ:
        warnings.warn(
            f"run '{run_dir}' reads its folder differently now: {'; '.join(differ)}, so "
            "resuming or retraining it may test on an image its search trained on; start a "
            "new run to keep them apart.",
            UserWarning,
            stacklevel=4,
        )
