"""The user's own data: class subfolders, images/ + labels/ for segmentation, or COCO boxes.

Layouts (files are PNG, JPEG (also ``.jfif``, ``.jpe``), TIFF, BMP, NIfTI ``.nii``/
``.nii.gz`` or DICOM, read with MONAI's readers; a DICOM file may be named without
``.dcm``, as PACS exports name them; a picture or volume in a format not read here, a
multi-page TIFF and a 16-bit colour picture are refused, naming it; hidden files and
other files, such as notes, are skipped)::

    classification               segmentation                              detection
    path/<class>/<image>         path/images/<case>   path/labels/<case>   path/annotations.json
    path/<class>/<patient>/...   path/images/<patient>/<case> (and labels/)
    path/train/<class>/<image>   path/train/images/... (and val/, test/)   path/<image> (or images/)

A segmentation folder's masks may sit in ``masks/`` (Kvasir-SEG) instead of ``labels/``.
Labels come from folders only: a CSV of labels is not read (a warning says so), and
subfolders named as image or mask folders (``train_images/``, ``masks/``) or masks beside
their images (``x_mask.png``) are refused rather than read as classes or as images.

Detection folders hold COCO JSON boxes (:mod:`nasbench.data.coco`, which checks them);
an item's target is the padded box tensor of :mod:`nasbench.data.lesions`, its boxes
scaled with the image.

A class folder's images may sit in subfolders of their own (``<class>/<patient>/<image>``).
With ``train/``, ``val/`` and ``test/`` subfolders those are the splits;
otherwise the patients are split 70/10/20 with a seed (stratified by class for
classification), so no patient's images sit in two splits: a patient is a subfolder of a
class folder (or of ``images/``), or a DICOM file's ``PatientID``
(:mod:`nasbench.data.patients`); any other image is a patient of its own. Images are
scaled to [0, 1] and resized to ``size`` per axis.

Example:
    >>> info = register_folder("my_xrays")  # doctest: +SKIP
    >>> ds = nasbench.data.load(info.name, "train", size=64)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import unicodedata
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from nasbench.data import registry
from nasbench.data.coco import is_coco_folder, read_coco
from nasbench.data.lesions import pack_boxes
from nasbench.data.patients import anonymised_to_series, group_labels, patient_key
from nasbench.data.registry import BASE_SPLITS, DatasetInfo
from nasbench.errors import ConfigError, DatasetError

# .jfif and .jpe are JPEGs as Windows browsers save them.
SUFFIXES = (".png", ".jpg", ".jpeg", ".jfif", ".jpe", ".tif", ".tiff", ".bmp", ".nii", ".nii.gz",
            ".dcm")  # fmt: skip
# Read by PIL (as a person sees them: EXIF-rotated, palette and alpha resolved); the rest by
# nibabel (NIfTI) or pydicom (DICOM).
# The tasks a folder's layout can hold: class subfolders, images/ + labels/, COCO boxes.
FOLDER_TASKS = ("binary", "multi-class", "ordinal", "segmentation", "detection")
# Channels of a colour-mode picture closer than this (of 255) count as grey.
GREY_TOLERANCE = 8
# The most colour-mode images a folder's channel count decodes (see _any_colour).
COLOUR_CHECKS = 256
PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".jfif", ".jpe", ".tif", ".tiff", ".bmp")
JPEG_SUFFIXES = (".jpg", ".jpeg", ".jfif", ".jpe")
# Pictures and volumes in formats not read here: such a file is refused rather than
# skipped, so no image of a class goes missing without a word.
UNREAD_SUFFIXES = (".gif", ".webp", ".jp2", ".j2k", ".heic", ".svg", ".pgm", ".ppm", ".pnm",
                   ".nrrd", ".mha", ".mhd", ".npy", ".npz")  # fmt: skip
FOLDER_SIZES = (28, 32, 64, 96, 128, 224)
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
# Masks probed for their largest label when num_classes is not given.
_MASKS_PROBED = 20
# Image and mask affines closer than this (mm, per entry) are one voxel grid: tools that
# write the same grid round it differently (a float32 sform, a qform beside it).
_AFFINE_TOLERANCE = 1e-3
# A probed label past this is far likelier an anti-aliased or 16-bit mask than a real class
# count, so num_classes must then be given explicitly.
_MOST_CLASSES_PROBED = 100


# --------------------------------------------------------------------------- reading


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".nii.gz" if name.endswith(".nii.gz") else path.suffix.lower()


def _stem(path: Path) -> str:
    """The name that pairs an image with its mask or annotation: the name less a known
    suffix (a DICOM file named ``1.2.840.5`` keeps its whole name)."""
    suffix = _suffix(path)
    return path.name[: len(path.name) - len(suffix)] if suffix in SUFFIXES else path.name


def _has_dicom_preamble(path: Path) -> bool:
    """True when the file starts as a DICOM file does: 128 bytes, then ``DICM``."""
    try:
        with open(path, "rb") as file:
            return file.read(132)[128:] == b"DICM"
    except OSError:
        return False


def _format(path: Path) -> str:
    """The format a file is read as: its suffix, or ``.dcm`` for a DICOM file named
    otherwise (PACS exports name files by UID or ``IM0001``, Siemens scanners ``.IMA``)."""
    suffix = _suffix(path)
    if suffix in SUFFIXES or suffix in UNREAD_SUFFIXES:
        return suffix
    return ".dcm" if _has_dicom_preamble(path) else suffix


def is_image_file(path: str | os.PathLike) -> bool:
    """Tell whether :func:`read_image` reads this file (by suffix, or DICOM by content).

    Example:
        >>> is_image_file("notes.txt")
        False
    """
    path = Path(path)
    return path.is_file() and _format(path) in SUFFIXES


def is_dicom_file(path: str | os.PathLike) -> bool:
    """Tell whether :func:`read_image` reads this file as DICOM (by suffix or content).

    Example:
        >>> is_dicom_file("scan.png")
        False
    """
    return _format(Path(path)) == ".dcm"


def _as_seen(image: Any) -> Any:
    """A PIL image as a viewer shows it: grey (``L``, ``I``, ``F``) or ``RGB``.

    Applied to images, never to masks (a palette mask's indices are its labels). EXIF
    rotation is applied (a phone photo of a film is stored sideways); a palette becomes
    its colours, grey when every colour is grey; alpha is dropped; CMYK, YCbCr and LAB
    are converted, not read channel by channel.
    """
    from PIL import ImageOps

    if image.getexif().get(0x0112, 1) != 1:  # the EXIF orientation tag
        image = ImageOps.exif_transpose(image)
    mode = image.mode
    if mode in ("L", "I", "F") or mode.startswith("I;"):
        return image
    if mode in ("1", "LA", "La"):
        return image.convert("L")
    if mode in ("P", "PA"):
        palette = image.getpalette() or []
        grey = all(
            palette[i] == palette[i + 1] == palette[i + 2] for i in range(0, len(palette), 3)
        )
        return image.convert("L" if grey else "RGB")
    return image.convert("RGB")


@functools.cache
def _loader(suffix: str, as_seen: bool = True) -> Any:
    """MONAI's ``LoadImage`` for one file suffix, built once per process.

    Building a ``LoadImage`` constructs every reader MONAI knows (one of them logs a
    warning when nvImageCodec is missing), so one per image would spam the log and
    slow every read. ``as_seen`` converts pictures with :func:`_as_seen` (images);
    without it a picture's stored values are kept (masks).
    """
    from monai.data import NibabelReader, PILReader, PydicomReader
    from monai.transforms import LoadImage

    # Both flags keep array rows = image rows (MONAI transposes PIL and DICOM by default).
    if suffix in PICTURE_SUFFIXES:
        reader = PILReader(reverse_indexing=False, converter=_as_seen if as_seen else None)
    elif suffix == ".dcm":
        reader = PydicomReader(swap_ij=False)
    else:
        reader = NibabelReader()
    with quiet_reader_setup():
        return LoadImage(reader=reader, image_only=True, ensure_channel_first=True, dtype=None)


@contextlib.contextmanager
def quiet_reader_setup() -> Iterator[None]:
    """Build MONAI image loaders without the optional GPU DICOM decoder's noise.

    Every ``LoadImage`` (and ``LoadImaged``) builds that decoder, which logs and warns
    when nvImageCodec is absent: two lines on stderr that bury a CLI's one-line error.

    Example:
        >>> with quiet_reader_setup():
        ...     pass
    """
    plugin_log = logging.getLogger("monai.data.nvimgcodec_pydicom_plugin")
    level = plugin_log.level
    plugin_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*nvImageCodec", category=UserWarning)
            yield
    finally:
        plugin_log.setLevel(level)


def _is_inverted_dicom(path: Path) -> bool:
    """Tell whether a DICOM file stores black as its largest value (MONOCHROME1)."""
    import pydicom

    header = pydicom.dcmread(path, stop_before_pixels=True, force=True)
    return str(header.get("PhotometricInterpretation", "")).strip() == "MONOCHROME1"


def _picture_problem(image: Any) -> str | None:
    """Why PIL would read an open picture wrongly, or None.

    A multi-page TIFF reads as its first page only, and a 16-bit colour or grey + alpha
    PNG or TIFF as its high bytes (PIL keeps 16 bits of grey only), which the 8-bit
    scaling by 255 then shows nearly black.
    """
    if image.format == "TIFF" and getattr(image, "n_frames", 1) > 1:
        return (
            f"is a multi-page TIFF ({image.n_frames} pages), which would read as its first "
            "page only; export the pages as a NIfTI volume or as separate images"
        )
    rawmode = str(image.tile[0][3] if image.tile else "")
    grey = image.mode in ("I", "F") or image.mode.startswith("I;")
    if image.format in ("PNG", "TIFF") and ";16" in rawmode and not grey:
        return (
            "is a 16-bit colour (or grey + alpha) picture, which would read as 8 bits per "
            "channel; save it as 16-bit greyscale (no alpha), or as 8-bit colour"
        )
    return None


def _check_picture(path: Path) -> None:
    """Refuse a picture PIL would read wrongly (see :func:`_picture_problem`)."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            problem = _picture_problem(image)
    except Exception:  # not a picture PIL opens: read_image's reader says why
        return
    if problem:
        raise DatasetError(f"{path} {problem}.")


def read_image(path: str | os.PathLike, as_seen: bool = True) -> np.ndarray:
    """Read one image file channel-first with MONAI's reader for its format.

    Singleton trailing spatial axes are dropped, so a 2D slice stored as a 3D
    NIfTI or DICOM reads as 2D.

    Args:
        path: a PNG, JPEG, TIFF, BMP, NIfTI or DICOM file.
        as_seen: show pictures as a viewer does (EXIF rotation, palette colours, no
            alpha, RGB from CMYK) and DICOM MONOCHROME1 with white as the largest value;
            False keeps the stored values, as a mask needs.

    Returns:
        An array ``(C, H, W)`` or, for a volume, ``(C, D, H, W)`` (slice axis first, as
        every nasbench volume: MONAI reads NIfTI as ``(C, H, W, D)``, a multi-frame DICOM
        as ``(C, frames, H, W)``), in the file's dtype.

    Example:
        >>> read_image("case1.png").shape  # doctest: +SKIP
        (1, 64, 64)
    """
    path = Path(path)
    suffix = _format(path)
    if suffix in PICTURE_SUFFIXES:
        _check_picture(path)
    try:
        load = _loader(suffix, as_seen)
        with warnings.catch_warnings():
            # PIL's array is read-only (nothing here writes to it); a DICOM without
            # orientation tags has no affine, which nothing here uses.
            warnings.filterwarnings("ignore", message=".*NumPy array is not writable")
            warnings.filterwarnings("ignore", message=".*affine matrix cannot be derived")
            loaded = load(str(path))
        array = np.asarray(loaded.as_tensor() if hasattr(loaded, "as_tensor") else loaded)
        inverted = as_seen and suffix == ".dcm" and _is_inverted_dicom(path)
    except Exception as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        reason = reason.replace(str(path), path.name)
        raise DatasetError(f"cannot read {path} ({reason}); fix or remove that file.") from error
    while array.ndim > 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (3, 4):
        raise DatasetError(f"{path} has shape {array.shape}; expected a 2D or 3D image.")
    if array.dtype.kind in "fc" and not np.isfinite(array).all():
        raise DatasetError(
            f"{path} holds NaN or infinite values; fix the image (e.g. set them to 0)."
        )
    if inverted:  # same dtype and range, white now the largest value
        array = (array.max() - array) + array.min()
    if array.ndim == 4 and suffix != ".dcm":
        return array.transpose(0, 3, 1, 2)
    return array


def _refuse_jpeg_mask(path: Path) -> None:
    raise DatasetError(
        f"mask {path} is a JPEG, whose lossy compression changes labels along every edge; "
        "save masks as PNG or NIfTI holding class indices 0, 1, 2, ..."
    )


def read_mask(path: str | os.PathLike) -> np.ndarray:
    """Read one segmentation mask as ``(1, H, W)`` or ``(1, D, H, W)`` class indices.

    Args:
        path: a PNG, TIFF, BMP, NIfTI or DICOM file whose pixels are class indices
            (0: background); a palette PNG's indices are its labels.

    Returns:
        An int64 array; a binary mask stored as 0/255 (or 0/65535) reads as 0/1, and a
        float mask's near-whole values (0.99999994) are rounded to their classes.

    Raises:
        DatasetError: a JPEG mask (its compression alters labels at every edge), a
            colour mask whose channels differ, or values that are not class indices.

    Example:
        >>> read_mask("labels/case1.png").shape  # doctest: +SKIP
        (1, 64, 64)
    """
    path = Path(path)
    if _suffix(path) in JPEG_SUFFIXES:
        _refuse_jpeg_mask(path)
    array = read_image(path, as_seen=False)
    if array.shape[0] in (2, 4):  # grey + alpha, RGB + alpha: alpha is no label
        array = array[: array.shape[0] - 1]
    if array.shape[0] > 1:
        if (array != array[:1]).any():
            raise DatasetError(
                f"mask {path} has {array.shape[0]} channels that differ (a colour-coded mask); "
                "write a single-channel mask whose pixels are class indices 0, 1, 2, ..."
            )
        array = array[:1]
    return _mask_values(array, path)


def _to_unit(array: np.ndarray) -> np.ndarray:
    """Scale to [0, 1]: 8-bit files by 255, everything else by the image's own range.

    16-bit pictures are scaled by their range, not by 65535, because most hold 10 to 12
    bits (an X-ray scaled by 65535 would be nearly black); CT, MR and float files have no
    fixed range at all. The arithmetic is float64, so a fill value such as -3.4e38 does
    not overflow into NaN.
    """
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    array = array.astype(np.float64)
    low, high = float(array.min()), float(array.max())
    if not high > low:
        return np.zeros(array.shape, dtype=np.float32)
    return ((array - low) / (high - low)).astype(np.float32)


def _match_channels(array: np.ndarray, channels: int, path: Path) -> np.ndarray:
    """Give an image the folder's channel count.

    A 2D image is grey or colour (alpha dropped; grey repeated into RGB, RGB averaged into
    grey). A volume's channels are separate sequences or modalities, so they must match.
    """
    if array.shape[0] == channels:
        return array
    if array.ndim == 3:  # 2D: (C, H, W)
        if array.shape[0] == 4:
            array = array[:3]
        if array.shape[0] == channels:
            return array
        if channels == 1 and array.shape[0] == 3:
            return array.mean(axis=0, keepdims=True)
        if channels == 3 and array.shape[0] == 1:
            return np.repeat(array, channels, axis=0)
    raise DatasetError(
        f"{path} has {array.shape[0]} channels but the folder's first images have {channels}; "
        "give every image of the folder the same channels (the same sequences, in order)."
    )


def _any_colour(images: list[Path]) -> bool:
    """Whether any 2D image of a folder is colour as :func:`read_image` shows it.

    Every header is read (grey modes are grey). Pictures stored in a colour mode are
    decoded to see whether their channels differ, since X-rays are often saved as RGB
    JPEGs of three equal channels: all of them when there are up to
    ``COLOUR_CHECKS``, else that many spread evenly over the sorted paths (decoding
    tens of thousands would take minutes). The answer depends on the files only, not
    on their split.
    """
    coloured = sorted((path for path in images if _colour_mode(path)), key=path_order)
    if len(coloured) > COLOUR_CHECKS:
        picks = np.linspace(0, len(coloured) - 1, COLOUR_CHECKS).round().astype(int)
        coloured = [coloured[i] for i in dict.fromkeys(picks.tolist())]
    return any(map(_channels_differ, coloured))


def _colour_mode(path: Path) -> bool:
    """Whether a 2D image is stored in a colour form (its header only)."""
    suffix = _format(path)
    try:
        if suffix in PICTURE_SUFFIXES:
            from PIL import Image

            with Image.open(path) as image:
                mode, problem = image.mode, _picture_problem(image)
            if problem:  # every 2D picture's header is read here, when the folder is described
                raise DatasetError(f"{path} {problem}.")
            return mode not in ("1", "L", "LA", "La", "I", "F") and not mode.startswith("I;")
        if suffix == ".dcm":
            import pydicom

            header = pydicom.dcmread(path, stop_before_pixels=True, force=True)
            return int(header.get("SamplesPerPixel", 1) or 1) > 1
    except DatasetError:
        raise
    except Exception as error:
        raise _unreadable(path, error) from error
    return False


def _channels_differ(path: Path) -> bool:
    """Whether a colour-mode image's channels differ as :func:`read_image` shows it (a
    JPEG is decoded at an eighth of its size, which keeps its colours)."""
    if _format(path) in PICTURE_SUFFIXES:
        from PIL import Image

        try:
            with Image.open(path) as image:
                # At least 1 x 1: PIL's JPEG draft divides by the size asked for.
                image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
                pixels = np.asarray(_as_seen(image), dtype=np.int16)
        except Exception as error:
            raise _unreadable(path, error) from error
    else:
        pixels = np.moveaxis(read_image(path).astype(np.float64), 0, -1)
        pixels = (pixels - pixels.min()) * (255 / max(float(np.ptp(pixels)), 1e-12))
    # JPEG's chroma rounding moves a grey pixel's channels by a level or two.
    return pixels.ndim == 3 and float(np.ptp(pixels, axis=2).max()) > GREY_TOLERANCE


def _unreadable(path: Path, error: Exception) -> DatasetError:
    reason = str(error).splitlines()[0] if str(error) else type(error).__name__
    return DatasetError(f"cannot read {path} ({reason.replace(str(path), path.name)}); fix or "
                        "remove that file.")  # fmt: skip


def _folder_channels(shapes: list[tuple[int, ...]], files: list[Path]) -> int:
    """The channel count of a folder from its probed images' shapes.

    2D: 1, or 3 when a probe that :func:`_any_colour` cannot judge (a NIfTI slice) has 3
    or 4 channels; pictures and DICOM are judged there, by content over the whole folder,
    since which images are probed depends on the split's seed, and an RGB file of three
    equal channels is grey. Volumes: their channel count (e.g. four MR sequences), which
    every probe must share.
    """
    if len(shapes[0]) == 3:
        judged = PICTURE_SUFFIXES + (".dcm",)
        odd = (
            s[0] in (3, 4) and _format(f) not in judged for s, f in zip(shapes, files, strict=True)
        )
        return 3 if any(odd) else 1
    counts = {s[0] for s in shapes}
    if len(counts) > 1:
        first, other = shapes[0][0], next(s[0] for s in shapes if s[0] != shapes[0][0])
        odd = files[next(i for i, s in enumerate(shapes) if s[0] == other)]
        raise DatasetError(
            f"{odd} has {other} channels but {files[0]} has {first}; give every volume of "
            "the folder the same channels (the same sequences, in order)."
        )
    return shapes[0][0]


def _resize(array: np.ndarray, size: int, mode: str) -> np.ndarray:
    from monai.transforms import Resize

    spatial = (size,) * (array.ndim - 1)
    if array.shape[1:] == spatial:
        return array
    out = Resize(spatial_size=spatial, mode=mode)(torch.as_tensor(array))
    return np.asarray(out.as_tensor() if hasattr(out, "as_tensor") else out)


# --------------------------------------------------------------------------- layout


def path_order(path: Path) -> str:
    """The key that sorts paths alike on every system: their text, case-sensitive.

    Paths compare case-insensitively on Windows and case-sensitively elsewhere, so
    ``sorted(paths)`` would give class folders other indices, and a seeded split other
    images, there.

    Example:
        >>> sorted([Path("b.png"), Path("B.png"), Path("a.png")], key=path_order)
        [PosixPath('B.png'), PosixPath('a.png'), PosixPath('b.png')]
    """
    return path.as_posix()


def _image_files(folder: Path, recursive: bool = False) -> list[Path]:
    """The image files in ``folder`` (and, when ``recursive``, its non-hidden subfolders:
    a class folder of per-patient folders, as torchvision's ``ImageFolder`` reads them)."""
    found = []
    for p in sorted(folder.iterdir(), key=path_order):
        if p.name.startswith("."):
            continue
        if p.is_file():
            kind = _format(p)
            if kind in UNREAD_SUFFIXES:
                _refuse_unread_format(p, kind)
            if kind in SUFFIXES:
                found.append(p)
        elif recursive and p.is_dir() and not p.is_symlink():  # a linked folder may loop
            found += _image_files(p, recursive=True)
    return found


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
    stems = {(f.parent, _nfc(_stem(f)).lower()) for f in files}
    for f in files:
        named = _MASK_NAME.fullmatch(_stem(f))
        in_masks = set(MASK_FOLDERS) & {part.lower() for part in f.relative_to(sub).parts[:-1]}
        if in_masks or (named and (f.parent, _nfc(named.group(1)).lower()) in stems):
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


def _classification_items(folder: Path, class_names: tuple[str, ...] | None) -> tuple:
    classes = _subfolders(folder)
    if not classes:
        volumes = _image_files(folder)
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
    # Ordered by the NFC name, so class indices do not depend on the form on disk.
    classes = sorted(classes, key=lambda c: _nfc(c.name))
    names = tuple(_nfc(c.name) for c in classes)
    seen: dict[Path, str] = {}
    for sub in classes:  # a link to another class folder would count its images twice
        other = seen.setdefault(sub.resolve(), sub.name)
        if other != sub.name:
            raise DatasetError(
                f"class folders {other!r} and {sub.name!r} in {folder} are the same folder "
                "(one links to the other); remove the link, or point it at its own images."
            )
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
        files = _image_files(sub, recursive=True)
        if not files:
            raise DatasetError(
                f"class folder {sub} has no images ({', '.join(SUFFIXES)}); add some or remove it."
            )
        _refuse_masks_among_images(sub, files)
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
        files = _image_files(root)
        for name in sorted(shared):
            files += _image_files(subfolders[root][name], recursive=True)
        _refuse_two_forms(root, sorted({_raw_pairing_name(p, root) for p in files}), "files")
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


def _class_folder(root: Path, image: Path) -> Path:
    """The class folder below ``root`` holding ``image``, as named on disk (class names
    are NFC, a folder may be NFD)."""
    return root / image.relative_to(root).parts[0]


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
    path = Path(path).expanduser()
    if not path.is_dir():
        raise DatasetError(f"folder {path} does not exist; give the path of your image folder.")
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
                                                      [_class_folder(splits[s], f)
                                                       for f, _ in items[s]])
                                     for s in items})  # fmt: skip
    else:
        class_names, everything = _classification_items(path, None)
        labels = np.array([label for _, label in everything])
        counts = np.bincount(labels, minlength=len(class_names))
        if counts.min() < len(BASE_SPLITS):
            smallest = int(counts.argmin())
            raise _too_few_to_split(path, f"class '{class_names[smallest]}'", int(counts.min()))
        keys = _patient_keys([f for f, _ in everything],
                             [_class_folder(path, f) for f, _ in everything])  # fmt: skip
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
                + _labels_hint(mask)
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


def _mask_values(mask: np.ndarray, path: Path) -> np.ndarray:
    """Class indices of a mask; a binary mask stored as 0/255 or 0/65535 becomes 0/1.

    The binary convention is judged per file from values alone, so an all-foreground
    0/255 mask (only 255) still reads as all 1, like its neighbours.
    """
    values = np.unique(mask)
    # Rounded before the checks, not truncated: a float label volume (resampled, or saved
    # as float32) holds 0.99999994 for 1 and -6e-8 for 0, noise either side of an index.
    rounded = np.round(values)
    if not np.allclose(values, rounded, atol=1e-6) or rounded.min() < 0:
        raise DatasetError(
            f"mask {path} has values that are not class indices 0, 1, 2, ...; write each "
            "pixel as the index of its class (0: background)."
        )
    mask = np.round(mask) if mask.dtype.kind == "f" else mask
    present = set(rounded.tolist())
    for white in (255, 65535):  # 8- and 16-bit white
        if white in present and present <= {0, white}:
            return (mask > 0).astype(np.int64)
    return mask.astype(np.int64)


def _nifti_grid(path: Path) -> dict[str, np.ndarray | None] | None:
    """A NIfTI file's affine, sform and qform (None where its code is 0), from the header
    alone; None for another format."""
    if _suffix(path) not in (".nii", ".nii.gz"):
        return None
    try:
        import nibabel
    except ImportError:  # then no NIfTI is read at all, and read_image says so
        return None
    try:
        loaded = nibabel.load(path)
        header = loaded.header
        grid = {"affine": np.asarray(loaded.affine, dtype=np.float64)}
        for form, get in (("sform", header.get_sform), ("qform", header.get_qform)):
            matrix, code = get(coded=True)
            grid[form] = np.asarray(matrix, dtype=np.float64) if code else None
    except Exception as error:
        raise _unreadable(path, error) from error
    return grid


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


def _labels_hint(mask: np.ndarray) -> str:
    """Why a mask may hold a label past the class count: edges drawn or resized smoothly."""
    if int(mask.max()) in (255, 65535) and len(np.unique(mask)) > 2:
        return (
            " Its values between 0 and white look like anti-aliased or smoothly resized "
            "edges: redraw or resize masks with nearest-neighbour, or map white to 1."
        )
    return ""


# --------------------------------------------------------------------------- registry


def _probed_class_count(masks: list[Path]) -> int:
    """Classes (background included) from the largest label of the first masks."""
    largest, where = 0, masks[0]
    for path in masks[:_MASKS_PROBED]:
        mask = read_mask(path)
        if int(mask.max()) > largest:
            largest, where = int(mask.max()), path
    if largest == 0:  # background so far: one foreground mask anywhere is enough
        where = next((m for m in masks[_MASKS_PROBED:] if int(read_mask(m).max()) > 0), None)
        if where is None:
            raise DatasetError(
                f"every mask in {masks[0].parent} is background (all 0), so there is nothing "
                "to segment; mark the structures with class indices 1, 2, ... (a mask saved "
                "as 0/255 is read as 0/1)."
            )
        largest = int(read_mask(where).max())
    if largest >= _MOST_CLASSES_PROBED:
        raise DatasetError(
            f"mask {where} has label {largest}, which would make {largest + 1} classes; masks "
            "hold class indices 0, 1, 2, ... If that many classes is right, pass "
            f"num_classes={largest + 1}; otherwise fix the masks."
            + (_labels_hint(read_mask(where)) or " Map each class to its index.")
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
    shapes = [read_image(p).shape for p in probes.values()]
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
        path: the folder (layouts in this module's docstring).
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
    if not environment.get("folder_split"):
        warnings.warn(
            f"run '{run_dir}' began when user folders were split image by image; they are now "
            "split by patient, so resuming or retraining it reads other train/val/test images "
            "(a test image may be one its search trained on); start a new run to keep the "
            "splits apart.",
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


def register() -> None:
    """Add the generic ``folder`` entry (``load("folder", path=...)``) to the registry.

    Example:
        >>> register()
        >>> registry.get_info("folder").source
        'folder'
    """
    registry.register_dataset(GENERIC_INFO, load_folder, lambda info, root, size: True)
