"""A user folder's layout: its task, class names and the files of each split.

Layouts (files are PNG, JPEG (also ``.jfif``, ``.jpe``), TIFF, BMP, NIfTI ``.nii``/
``.nii.gz`` or DICOM, read with MONAI's readers (:mod:`nasbench.data.image_files`); a DICOM
file may be named without ``.dcm``, as PACS exports name them; a picture or volume in a
format not read here, a multi-page TIFF and a 16-bit colour picture are refused, naming
it; hidden files and other files, such as notes, are skipped)::

    classification               segmentation                              detection
    path/<class>/<image>         path/images/<case>   path/labels/<case>   path/annotations.json
    path/<class>/<patient>/...   path/images/<patient>/<case> (and labels/)
    path/train/<class>/<image>   path/train/images/... (and val/, test/)   path/<image> (or images/)

A segmentation folder's masks may sit in ``masks/`` (Kvasir-SEG) instead of ``labels/``.
Labels come from folders only: a CSV of labels is not read (a warning says so), and
subfolders named as image or mask folders (``train_images/``, ``masks/``) or masks beside
their images (``x_mask.png``) are refused rather than read as classes or as images.

Detection folders hold COCO JSON boxes (:mod:`nasbench.data.coco`, which checks them).

A class folder's images may sit in subfolders of their own (``<class>/<patient>/<image>``).
With ``train/``, ``val/`` and ``test/`` subfolders those are the splits;
otherwise the patients are split 70/10/20 with a seed (stratified by class for
classification), so no patient's images sit in two splits: a patient is a subfolder of a
class folder (or of ``images/``), or a DICOM file's ``PatientID``
(:mod:`nasbench.data.patients`); any other image is a patient of its own.

Example:
    >>> scan_folder("my_xrays").class_names  # doctest: +SKIP
    ('normal', 'pneumonia')
"""

from __future__ import annotations

import itertools
import os
import re
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nasbench.data.coco import is_coco_folder, read_coco
from nasbench.data.image_files import (
    JPEG_SUFFIXES,
    SUFFIXES,
    UNREAD_SUFFIXES,
    _format,
    _refuse_jpeg_mask,
    _stem,
    _suffix,
    is_dicom_file,
    path_order,
)
from nasbench.data.patients import (
    anonymised_to_series,
    group_labels,
    patient_key,
    relative_parts,
)
from nasbench.data.registry import BASE_SPLITS
from nasbench.errors import DatasetError

# The tasks a folder's layout can hold: class subfolders, images/ + labels/, COCO boxes.
FOLDER_TASKS = ("binary", "multi-class", "ordinal", "segmentation", "detection")
# The folder beside images/ that holds a segmentation folder's masks (Kvasir-SEG: masks/).
MASK_FOLDERS = ("labels", "masks", "mask")
# A subfolder named with one of these words holds images or masks, not a class (Kaggle's
# train_images/ with its labels in train.csv, HAM10000_images_part_1/, images/ + gt/).
_NOT_CLASS_WORDS = {"images", "imgs", "masks", "labels", "annotations"}
# A mask named after its image, beside it (BUSI: "benign (1)_mask.png", "..._mask_1.png").
_MASK_NAME = re.compile(r"(.+?)[ _-]?(?:mask|seg|segmentation|label)(?:[ _-]?\d+)?", re.I)
# Label tables beside the image folders, which are not read.
_LABEL_TABLES = (".csv", ".tsv")
SPLIT_FRACTIONS = {"train": 0.7, "val": 0.1, "test": 0.2}
# Folder names that mean a data split, other than the train/, val/, test/ read as splits.
_SPLIT_WORDS = {"train", "training", "val", "valid", "validation", "test", "testing"}


# --------------------------------------------------------------------------- layout


def list_image_files(folder: Path, recursive: bool = False) -> list[Path]:
    """The image files in ``folder`` (and, when ``recursive``, its non-hidden subfolders:
    a class folder of per-patient folders, as torchvision's ``ImageFolder`` reads them).

    Hidden files and files of other kinds (notes) are skipped; a broken link, or a picture
    in a format not read here, is refused, naming it.

    Args:
        folder: the folder to list.
        recursive: also list its non-hidden subfolders.

    Returns:
        The files, in a stable order (:func:`path_order`).

    Example:
        >>> list_image_files(Path("my_xrays/normal"))  # doctest: +SKIP
        [PosixPath('my_xrays/normal/0001.png'), ...]
    """
    # One directory read tells files from folders, where Path.is_file would stat every file
    # (a round trip each on a network share).
    with os.scandir(folder) as entries:
        kinds = {entry.name: entry for entry in entries}
    found = []
    for p in sorted(folder.iterdir(), key=path_order):
        entry = kinds.get(p.name)
        if p.name.startswith(".") or entry is None:  # None: made since the directory read
            continue
        if _is_broken_link(entry):
            raise DatasetError(
                f"{p} is a symbolic link to {os.readlink(p)}, which does not exist or links "
                "back to itself; restore its target, or remove the link."
            )
        if entry.is_file():
            kind = _format(p)
            if kind in UNREAD_SUFFIXES:
                _refuse_unread_format(p, kind)
            if kind in SUFFIXES:
                found.append(p)
        elif recursive and entry.is_dir() and not entry.is_symlink():  # a linked folder may loop
            found += list_image_files(p, recursive=True)
    return found


def _is_broken_link(entry: os.DirEntry) -> bool:
    """A symbolic link whose target is missing (an unmounted store) or loops: read as
    neither file nor folder, its image would go missing without a word."""
    if not entry.is_symlink():
        return False
    try:
        os.stat(entry.path)
    except OSError:
        return True
    return False


def _refuse_one_name_twice(root: Path, files: list[Path], what: str) -> None:
    """Refuse two files of one folder under one name in two formats (``x0.png`` beside
    ``x0.tif``, ``case.nii`` beside ``case.nii.gz``): for a mask, which one pairs with its
    image is a guess; for an image, the same picture exported twice lands in two splits."""
    seen: dict[tuple[Path, str], Path] = {}
    for f in files:
        other = seen.setdefault((f.parent, _nfc(_stem(f))), f)
        if other != f:
            raise DatasetError(
                f"{what} {other.relative_to(root)} and {f.relative_to(root)} in {root} have "
                "one name in two formats; keep one of them (move the other out of the folder)."
            )


def _refuse_names_apart_by_case(folder: Path, names: list[str], what: str) -> None:
    """Refuse two names that differ only in letter case or spaces at their ends
    (``normal/`` and ``Normal/`` after merging two sources): read apart they would be two
    classes that mean one."""
    seen: dict[str, str] = {}
    for name in names:
        other = seen.setdefault(_nfc(name).strip().casefold(), name)
        if other != name:
            raise DatasetError(
                f"{what} '{other}' and '{name}' in {folder} differ only in letter case or "
                "spaces, so they would be two classes; merge them into one folder (or rename "
                "one, if they are different classes)."
            )


def _refuse_split_folders_as_classes(path: Path) -> None:
    """Refuse split folders named other than ``train/``, ``val/``, ``test/`` (Kaggle's
    ``Training/`` + ``Testing/``, ``Train/``): read as classes, the network would learn to
    tell the splits apart, its real classes taken for patients."""
    named = [d.name for d in _subfolders(path) if d.name.strip().casefold() in _SPLIT_WORDS]
    if named:
        listed = ", ".join(f"{name}/" for name in named)
        raise DatasetError(
            f"{path} has {listed}, named as data splits, which would be read as classes; "
            "name the split folders train/, val/ and test/ (all three, each with the same "
            "class subfolders), or move their class folders up into one folder to split "
            "70/10/20 automatically."
        )


def _refuse_unread_format(path: Path, suffix: str) -> None:
    others = [p for p in path.parent.iterdir() if _suffix(p) == suffix]
    count = f"{len(others)} {suffix} files" if len(others) > 1 else f"a {suffix} file"
    raise DatasetError(
        f"{path.parent} holds {count} (e.g. {path.name}), a format not read here; convert "
        "them to PNG, TIFF, NIfTI or DICOM, or move them out of the folder."
    )


def _nfc(name: str) -> str:
    """A name in Unicode NFC, the form names are compared, sorted and shown in: macOS
    writes file names decomposed (NFD), so a folder 'Ödem' copied from a Mac and one typed
    elsewhere are the same name in other bytes."""
    return unicodedata.normalize("NFC", name)


def _refuse_two_forms(folder: Path, names: list[str], what: str) -> None:
    """Refuse two names in ``folder`` that differ only in Unicode form: read apart they
    would be two classes (or an image without its mask) that look the same."""
    seen: dict[str, str] = {}
    for name in names:
        other = seen.setdefault(_nfc(name), name)
        if other != name:
            forms = [
                next((f for f in ("NFC", "NFD") if unicodedata.is_normalized(f, n)), "mixed")
                for n in (other, name)
            ]
            raise DatasetError(
                f"{what} '{other}' and '{name}' in {folder} are the same name in two Unicode "
                f"forms ({ascii(other)} is {forms[0]}, {ascii(name)} is {forms[1]}; macOS "
                "writes names in NFD); merge them into one."
            )


def _subfolders(folder: Path) -> list[Path]:
    subfolders = (p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    return sorted(subfolders, key=path_order)


@dataclass(frozen=True)
class FolderLayout:
    """What a folder holds: task, class names and the files of each split.

    ``items[split]`` is a list of ``(image path, class index)`` for classification,
    ``(image path, mask path)`` for segmentation, or ``(image path, (boxes, class
    indices, (height, width)))`` for detection.
    """

    path: Path
    task: str
    class_names: tuple[str, ...]
    items: dict[str, list[tuple[Path, Any]]]


def _split_dirs(path: Path) -> dict[str, Path] | None:
    present = {s: path / s for s in BASE_SPLITS if (path / s).is_dir()}
    if not present:
        return None
    if len(present) < len(BASE_SPLITS):
        missing = sorted(set(BASE_SPLITS) - set(present))
        raise DatasetError(
            f"{path} has {'/, '.join(sorted(present))}/ but no {'/, '.join(missing)}/; add "
            "them, or remove the split folders to split 70/10/20 automatically."
        )
    return present


def _mask_folder(folder: Path) -> Path | None:
    """The masks' folder beside ``images/`` (one of ``MASK_FOLDERS``), or None."""
    if not (folder / "images").is_dir():
        return None
    found = [folder / name for name in MASK_FOLDERS if (folder / name).is_dir()]
    if len(found) > 1:
        raise DatasetError(
            f"{folder} has {' and '.join(f'{p.name}/' for p in found)} beside images/; keep "
            "the masks in one of them."
        )
    return found[0] if found else None


def _is_segmentation(folder: Path) -> bool:
    return _mask_folder(folder) is not None


def _refuse_image_folders(folder: Path, classes: list[Path]) -> None:
    """Refuse subfolders named as folders of images or masks rather than classes: read as
    classes, Kaggle's train_images/ and test_images/ would be two classes, its labels
    in train.csv ignored."""
    for sub in classes:
        if _NOT_CLASS_WORDS & set(re.split(r"[\W_]+", sub.name.lower())):
            tables = _label_tables(folder)
            named = f" ({tables[0].name})" if tables else ""
            raise DatasetError(
                f"{folder} has {sub.name}/, named as a folder of images or masks, not a class; "
                "labels come from class subfolders (path/<class>/<image>) and CSV label files"
                f"{named} are not read: sort the images into one subfolder per class (or rename "
                f"{sub.name}/ if it is a class), or arrange images/ + masks/ with the same file "
                "names for segmentation."
            )


def _refuse_masks_among_images(sub: Path, files: list[Path]) -> None:
    """Refuse a class folder that holds masks beside its images (BUSI's
    ``x_mask.png`` beside ``x.png``, or a ``masks/`` subfolder): read as images of
    the class, a classifier would learn from the masks."""
    # Each file's stem once, its folder as the names below sub (siblings share them): this
    # runs over every image of the folder.
    found = [(f, relative_parts(f, sub)[:-1], _stem(f)) for f in files]
    stems = {(folder, _nfc(stem).lower()) for _, folder, stem in found}
    for f, folder, stem in found:
        named = _MASK_NAME.fullmatch(stem)
        in_masks = any(part.lower() in MASK_FOLDERS for part in folder)
        if in_masks or (named and (folder, _nfc(named.group(1)).lower()) in stems):
            raise DatasetError(
                f"class folder {sub} mixes images and their masks (e.g. {f.relative_to(sub)}); "
                "move the masks out to classify the images, or arrange images/ + masks/ (the "
                "same file names) for segmentation."
            )


def _label_tables(folder: Path) -> list[Path]:
    """The CSV and TSV files in ``folder`` (not in its subfolders)."""
    found = (p for p in folder.iterdir() if p.is_file() and _suffix(p) in _LABEL_TABLES)
    return sorted(found, key=path_order)


def _warn_label_tables(path: Path, class_names: tuple[str, ...]) -> None:
    """Warn that a CSV beside the class folders is not read: it may hold the labels."""
    tables = _label_tables(path)
    if tables:
        warnings.warn(
            f"{path}: {tables[0].name} is not read; labels come from the class subfolders "
            f"({', '.join(class_names)}), so if that file holds the labels, sort the images "
            "into one subfolder per class.",
            UserWarning,
            stacklevel=4,
        )


def _refuse_class_folders_that_overlap(folder: Path, classes: list[Path]) -> None:
    """Refuse class folders (links) that are, hold or lie in another class folder or the
    dataset's own folder: their images would be read twice, under two labels."""
    real = {sub.name: sub.resolve() for sub in classes}
    home = folder.resolve()
    for name, path in real.items():
        if path == home or path in home.parents:
            raise DatasetError(
                f"class folder {name!r} in {folder} links to "
                f"{'that folder itself' if path == home else 'a folder above it'}, so every "
                "image would be read twice under two labels; remove the link, or point it "
                "at its own images."
            )
    for (first, a), (second, b) in itertools.combinations(sorted(real.items()), 2):
        if a == b or a in b.parents or b in a.parents:
            relation = "are the same folder" if a == b else "overlap (one lies in the other)"
            raise DatasetError(
                f"class folders {first!r} and {second!r} in {folder} {relation}: a link "
                "makes images count twice; remove the link, or point it at its own images."
            )


def _classification_items(folder: Path, class_names: tuple[str, ...] | None) -> tuple:
    classes = _subfolders(folder)
    if not classes:
        volumes = list_image_files(folder)
        if any(p.with_name(_stem(p) + ".json").is_file() for p in volumes):
            raise DatasetError(
                f"{folder} holds volumes with landmark JSON files: a landmark folder, which "
                "folder: does not read; register it in Python with nasbench.data.landmarks."
                "register_landmark_folder(path, name), then call nasbench.search there."
            )
        if volumes:
            raise DatasetError(
                f"{folder} holds images but no class subfolders; put each class's images "
                "in its own subfolder (path/<class>/<image>)."
            )
        raise DatasetError(f"{folder} is empty; add class subfolders of {', '.join(SUFFIXES)}.")
    _refuse_image_folders(folder, classes)
    _refuse_two_forms(folder, [c.name for c in classes], "class folders")
    _refuse_names_apart_by_case(folder, [c.name for c in classes], "class folders")
    # Ordered by the NFC name, so class indices do not depend on the form on disk.
    classes = sorted(classes, key=lambda c: _nfc(c.name))
    names = tuple(_nfc(c.name) for c in classes)
    _refuse_class_folders_that_overlap(folder, classes)
    if len(names) < 2:
        # One class gives nothing to tell apart: every loss is 0 and AUC is undefined.
        raise DatasetError(
            f"{folder} has one class subfolder ({names[0]}); a classifier needs at least two, "
            "so add a subfolder per class."
        )
    if class_names is not None and names != class_names:
        raise DatasetError(
            f"{folder} has classes {list(names)} but train/ has {list(class_names)}; "
            "every split needs the same class subfolders."
        )
    items = []
    for label, sub in enumerate(classes):
        files = list_image_files(sub, recursive=True)
        if not files:
            raise DatasetError(
                f"class folder {sub} has no images ({', '.join(SUFFIXES)}); add some or remove it."
            )
        _refuse_masks_among_images(sub, files)
        _refuse_one_name_twice(sub, files, "images")
        items += [(f, label) for f in files]
    return names, items


def _pairing_name(path: Path, root: Path) -> str:
    """The name that pairs an image with its mask: the path below ``images/`` (or
    ``labels/``, ``masks/``) less its suffix, so ``images/p01/3.png`` pairs with
    ``labels/p01/3.nii``; in NFC, so a name written by macOS pairs with the same name
    written elsewhere."""
    return _nfc(_raw_pairing_name(path, root))


def _raw_pairing_name(path: Path, root: Path) -> str:
    return (path.parent.relative_to(root) / _stem(path)).as_posix()


def _segmentation_items(folder: Path) -> list[tuple[Path, Path]]:
    # Per-patient subfolders (images/<patient>/<slice>, with labels/<patient>/) are read
    # too: they keep a patient's slices together in the automatic split. A subfolder on
    # one side only (previews, notes) is skipped, as before such folders were read.
    images_root, labels_root = folder / "images", _mask_folder(folder)
    if labels_root is None:
        raise _no_mask_folder(folder)
    subfolders = {}
    for root in (images_root, labels_root):
        _refuse_two_forms(root, [d.name for d in _subfolders(root)], "subfolders")
        subfolders[root] = {_nfc(d.name): d for d in _subfolders(root)}
    shared = subfolders[images_root].keys() & subfolders[labels_root].keys()
    images, labels = {}, {}
    for root, found in ((images_root, images), (labels_root, labels)):
        files = list_image_files(root)
        for name in sorted(shared):
            files += list_image_files(subfolders[root][name], recursive=True)
        _refuse_two_forms(root, sorted({_raw_pairing_name(p, root) for p in files}), "files")
        _refuse_one_name_twice(root, files, "files")
        found.update({_pairing_name(p, root): p for p in files})
    if not images:
        raise DatasetError(f"{folder / 'images'} is empty; add images ({', '.join(SUFFIXES)}).")
    if images.keys() != labels.keys():
        no_mask = sorted(images.keys() - labels.keys())[:3]
        no_image = sorted(labels.keys() - images.keys())[:3]
        raise DatasetError(
            f"images/ and {labels_root.name}/ in {folder} do not match: images without a mask "
            f"{no_mask}, masks without an image {no_image}; give each pair the same file name "
            "(in the same subfolder)."
        )
    pairs = [(images[k], labels[k]) for k in sorted(images)]
    jpeg = next((mask for _, mask in pairs if _suffix(mask) in JPEG_SUFFIXES), None)
    if jpeg is not None:
        _refuse_jpeg_mask(jpeg)
    return pairs


def _no_mask_folder(folder: Path) -> DatasetError:
    return DatasetError(
        f"{folder} needs images/ and labels/ (or masks/) subfolders for segmentation, the "
        "masks named as their images."
    )


def _seeded_split(labels: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """Indices of a 70/10/20 split, stratified by ``labels``.

    A group of three or more gives each split at least one member (5 images: 3/1/1, where
    rounding alone would leave val empty); a smaller group goes to train.
    """
    rng = np.random.default_rng(seed)
    out: dict[str, list[int]] = {s: [] for s in BASE_SPLITS}
    for value in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == value))
        least = 1 if len(members) >= len(BASE_SPLITS) else 0
        n_test = max(least, round(len(members) * SPLIT_FRACTIONS["test"]))
        n_val = max(least, round(len(members) * SPLIT_FRACTIONS["val"]))
        out["test"] += members[:n_test].tolist()
        out["val"] += members[n_test : n_test + n_val].tolist()
        out["train"] += members[n_test + n_val :].tolist()
    return {s: np.array(sorted(v), dtype=np.int64) for s, v in out.items()}


def _patient_key(image: Path, class_folder: Path) -> str:
    return patient_key(image, class_folder, is_dicom=is_dicom_file(image))


def _patient_keys(images: list[Path], class_folders: list[Path]) -> list[str]:
    # NFC: a patient folder named in train/ on a Mac and in val/ elsewhere is one patient.
    keys = [_nfc(_patient_key(f, c)) for f, c in zip(images, class_folders, strict=True)]
    return anonymised_to_series(keys, images)


def _class_folders(root: Path, images: list[Path]) -> list[Path]:
    """The class folder below ``root`` holding each image, as named on disk (class names
    are NFC, a folder may be NFD); one path per class folder, made once."""
    made: dict[str, Path] = {}
    for image in images:
        name = relative_parts(image, root)[0]
        if name not in made:
            made[name] = root / name
    return [made[relative_parts(image, root)[0]] for image in images]


def _patient_split(
    path: Path,
    labels: np.ndarray,
    keys: list[str],
    class_names: tuple[str, ...] | None,
    seed: int,
) -> dict[str, np.ndarray]:
    """The 70/10/20 split of :func:`_seeded_split`, made of whole patients.

    Every image its own patient gives the per-image split unchanged. When a class has
    images of fewer than three patients, no patient split gives each split that class,
    so the images are split one by one, with a warning that says so.
    """
    if len(set(keys)) == len(keys):
        return _seeded_split(labels, seed)
    groups, group_label = group_labels(labels, keys)
    per_class = np.bincount(group_label, minlength=len(class_names or ("images",)))
    if per_class.min() < len(BASE_SPLITS):
        fewest = int(per_class.argmin())
        count = int(per_class[fewest])
        who = f"class '{class_names[fewest]}'" if class_names else "images/"
        have = (
            f"has images of {count} patient{'s' * (count != 1)}"
            if count
            else "shares every patient with other classes"
        )
        warnings.warn(
            f"{path}: {who} {have} (patient subfolders or DICOM PatientID), too few to "
            "split 70/10/20 by patient, so its images are split one by one and a patient "
            "may sit in two splits; make train/, val/ and test/ folders to split by patient "
            "yourself.",
            UserWarning,
            stacklevel=3,
        )
        return _seeded_split(labels, seed)
    chosen = _seeded_split(group_label, seed)
    return {s: np.flatnonzero(np.isin(groups, idx)) for s, idx in chosen.items()}


def _warn_shared_patients(path: Path, keys: dict[str, list[str]]) -> None:
    """Warn when the user's own train/, val/ and test/ folders share a patient (a patient
    subfolder name or a DICOM PatientID): a score on such a split rewards recognising the
    patient, not the finding."""
    per_split = {s: set(keys.get(s, ())) for s in BASE_SPLITS}
    shared = {}
    for key in sorted(set().union(*per_split.values())):
        if key.startswith("file:"):
            continue  # an image of its own is no patient shared
        held = [s for s in BASE_SPLITS if key in per_split[s]]
        if len(held) > 1:
            shared[key.split(":", 1)[1]] = held
    if shared:
        first, held = next(iter(shared.items()))
        more = f" (and {len(shared) - 1} more)" if len(shared) > 1 else ""
        warnings.warn(
            f"{path}: patient '{first}'{more} has images in {' and '.join(f'{s}/' for s in held)}, "
            "so its test score rewards recognising the patient; move each patient's images "
            "into one split.",
            UserWarning,
            stacklevel=3,
        )


def _too_few_to_split(path: Path, what: str, count: int) -> DatasetError:
    return DatasetError(
        f"{what} in {path} has {count} image{'s' * (count != 1)}; the automatic 70/10/20 split "
        f"needs at least {len(BASE_SPLITS)} (one per split), so add images or make "
        "train/, val/ and test/ folders yourself."
    )


def check_folder_path(path: str | os.PathLike) -> Path:
    """``path`` (``~`` expanded) when it names a folder; a one-line error when it names a
    file or nothing, before any image is read.

    Args:
        path: the image folder.

    Returns:
        The folder's path.

    Raises:
        DatasetError: ``path`` is a file, or does not exist.

    Example:
        >>> try:
        ...     check_folder_path("no/such/folder")
        ... except DatasetError as err:
        ...     print(err)
        folder no/such/folder does not exist; give the path of your image folder.
    """
    path = Path(path).expanduser()
    if path.is_file():
        raise DatasetError(
            f"{path} is a file, not a folder; give the path of the folder that holds it."
        )
    if not path.is_dir():
        raise DatasetError(f"folder {path} does not exist; give the path of your image folder.")
    return path


def scan_folder(path: str | os.PathLike, task: str | None = None, seed: int = 0) -> FolderLayout:
    """Find the task, classes and split files of a user folder (no image is read).

    Args:
        path: the folder.
        task: one of ``FOLDER_TASKS``: ``"segmentation"``, ``"detection"`` or a
            one-class-per-image task (``"binary"``, ``"multi-class"``, ``"ordinal"``);
            None detects it (images/ + labels/ or masks/ means segmentation, an
            annotations.json detection).
        seed: seeds the 70/10/20 split when there are no split folders.

    Returns:
        A :class:`FolderLayout`.

    Example:
        >>> scan_folder("my_xrays").class_names  # doctest: +SKIP
        ('normal', 'pneumonia')
    """
    if task is not None and task not in FOLDER_TASKS:
        raise DatasetError(
            f"a folder of images holds a {', '.join(FOLDER_TASKS)} task, not {task!r}: class "
            "subfolders give one class per image (multi-label and reconstruction sets need "
            "a loader of their own: ARCHITECTURE.md, '… a dataset')."
        )
    path = check_folder_path(path)
    if not any(p for p in path.iterdir() if not p.name.startswith(".")):
        raise DatasetError(f"{path} is empty; add class subfolders or images/ + labels/.")
    splits = _split_dirs(path)
    first = splits["train"] if splits else path
    if task == "detection" or (task is None and is_coco_folder(first)):
        return _detection_layout(path, splits, seed)
    segmentation = _is_segmentation(first) if task is None else task == "segmentation"
    if segmentation and not _is_segmentation(first):
        raise _no_mask_folder(first)
    items: dict[str, list] = {}
    if segmentation:
        class_names: tuple[str, ...] = ()
        if splits:
            items = {s: _segmentation_items(d) for s, d in splits.items()}
            _warn_shared_patients(path, {s: _patient_keys([image for image, _ in items[s]],
                                                          [splits[s] / "images"] * len(items[s]))
                                         for s in items})  # fmt: skip
        else:
            pairs = _segmentation_items(path)
            if len(pairs) < len(BASE_SPLITS):
                raise _too_few_to_split(path, "images/", len(pairs))
            keys = _patient_keys([image for image, _ in pairs], [path / "images"] * len(pairs))
            chosen = _patient_split(path, np.zeros(len(pairs), dtype=int), keys, None, seed)
            items = {s: [pairs[i] for i in idx] for s, idx in chosen.items()}
        return FolderLayout(path, "segmentation", class_names, items)
    if splits:
        class_names, items["train"] = _classification_items(splits["train"], None)
        for s in ("val", "test"):
            items[s] = _classification_items(splits[s], class_names)[1]
        _warn_shared_patients(path, {s: _patient_keys([f for f, _ in items[s]],
                                                      _class_folders(splits[s],
                                                                     [f for f, _ in items[s]]))
                                     for s in items})  # fmt: skip
    else:
        _refuse_split_folders_as_classes(path)
        class_names, everything = _classification_items(path, None)
        labels = np.array([label for _, label in everything])
        counts = np.bincount(labels, minlength=len(class_names))
        if counts.min() < len(BASE_SPLITS):
            smallest = int(counts.argmin())
            raise _too_few_to_split(path, f"class '{class_names[smallest]}'", int(counts.min()))
        images = [f for f, _ in everything]
        keys = _patient_keys(images, _class_folders(path, images))
        chosen = _patient_split(path, labels, keys, class_names, seed)
        items = {s: [everything[i] for i in idx] for s, idx in chosen.items()}
    _warn_label_tables(path, class_names)
    resolved = task or ("binary" if len(class_names) == 2 else "multi-class")
    if resolved == "binary" and len(class_names) != 2:
        raise DatasetError(
            f"{path} has {len(class_names)} class folders ({', '.join(class_names)}); a "
            "binary task needs exactly 2: use task='multi-class', or merge the folders."
        )
    return FolderLayout(path, resolved, class_names, items)


def _detection_layout(path: Path, splits: dict[str, Path] | None, seed: int) -> FolderLayout:
    """The layout of a COCO folder: per split, or one annotations.json split 70/10/20."""

    def items_of(coco_items: list) -> list:
        return [(image, (boxes, labels, hw)) for image, boxes, labels, hw in coco_items]

    if splits:
        class_names, train = read_coco(splits["train"])
        items = {"train": items_of(train)}
        for s in ("val", "test"):
            items[s] = items_of(read_coco(splits[s], class_names)[1])
    else:
        class_names, everything = read_coco(path)
        # Stratified by box count, so every split sees crowded and empty slices alike.
        if len(everything) < len(BASE_SPLITS):
            raise _too_few_to_split(path, "annotations.json", len(everything))
        counts = np.array([min(len(boxes), 5) for _, boxes, _, _ in everything])
        chosen = _seeded_split(counts, seed)
        if any(len(chosen[s]) == 0 for s in BASE_SPLITS):
            # Box-count groups too small to give every split one: split them unstratified.
            chosen = _seeded_split(np.zeros(len(everything), dtype=int), seed)
        items = {s: items_of([everything[i] for i in idx]) for s, idx in chosen.items()}
    return FolderLayout(path, "detection", class_names, items)
