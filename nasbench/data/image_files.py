"""One file of a user folder: its format, and its pixels as nasbench reads them.

Pictures (PNG, JPEG (also ``.jfif``, ``.jpe``), TIFF, BMP) are read by PIL, NIfTI ``.nii``/
``.nii.gz`` by nibabel and DICOM by pydicom, through MONAI's readers; a DICOM file may be
named without ``.dcm``, as PACS exports name them. A picture or volume in a format not read
here, a multi-page TIFF and a 16-bit colour picture are refused, naming it. Images are
scaled to [0, 1] and given their folder's channel count here; the folder's layout is
:mod:`nasbench.data.folder_layout`.

Example:
    >>> read_image("case1.png").shape  # doctest: +SKIP
    (1, 64, 64)
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nasbench.errors import DatasetError

# .jfif and .jpe are JPEGs as Windows browsers save them.
SUFFIXES = (".png", ".jpg", ".jpeg", ".jfif", ".jpe", ".tif", ".tiff", ".bmp", ".nii", ".nii.gz",
            ".dcm")  # fmt: skip
# Read by PIL (as a person sees them: EXIF-rotated, palette and alpha resolved); the rest by
# nibabel (NIfTI) or pydicom (DICOM).
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


# --------------------------------------------------------------------------- reading


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".nii.gz" if name.endswith(".nii.gz") else path.suffix.lower()


def _stem(path: Path) -> str:
    """The name that pairs an image with its mask or annotation: the name less a known
    suffix (a DICOM file named ``1.2.840.5`` keeps its whole name)."""
    suffix = _suffix(path)
    return path.name[: len(path.name) - len(suffix)] if suffix in SUFFIXES else path.name


# Facts read from a file (a header, a preamble) are cached by path, change stamp and size,
# so a folder described once per split loaded reads each file once, and a file changed on
# disk is read again. A failed read is not cached: it is tried again.
_FILES_CACHED = 1 << 17  # a fact is a few hundred bytes with its key: tens of MB at most

# A change stamp: modification time, status-change time and file number. The modification
# time alone misses a file replaced by a same-sized copy that keeps its time (`cp -p`,
# `tar -x`, unzip); the status-change time and the file number are set by the system, and
# change when a file is written, replaced or renamed over.
Stamp = tuple[int, int, int]


def file_key(path: str | os.PathLike) -> tuple[str, Stamp, int]:
    """The key a fact read from a file is cached under: its path, change stamp and size.

    Args:
        path: an existing file.

    Returns:
        ``(path, (st_mtime_ns, st_ctime_ns, st_ino), st_size)``.

    Example:
        >>> file_key(__file__)[0] == __file__
        True
    """
    stat = os.stat(path)
    return str(path), (stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino), stat.st_size


def _has_dicom_preamble(path: Path) -> bool:
    """True when the file starts as a DICOM file does: 128 bytes, then ``DICM``."""
    try:
        return _read_preamble(*file_key(path))
    except OSError:
        return False


@functools.lru_cache(maxsize=_FILES_CACHED)
def _read_preamble(path: str, stamp: Stamp, size: int) -> bool:
    with open(path, "rb") as file:
        return file.read(132)[128:] == b"DICM"


def _format(path: Path) -> str:
    """The format a file is read as: its suffix, or ``.dcm`` for a DICOM file named
    otherwise (PACS exports name files by UID or ``IM0001``, Siemens scanners ``.IMA``)."""
    suffix = _suffix(path)
    if suffix in SUFFIXES or suffix in UNREAD_SUFFIXES:
        return suffix
    if path.name.upper() == "DICOMDIR":  # a DICOM disc's index of its files, no image
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
    # A Path is not made again: a folder scan asks this of every file.
    return _format(path if isinstance(path, Path) else Path(path)) == ".dcm"


def exif_orientation(path: str | os.PathLike) -> int:
    """The EXIF orientation tag of a picture: 1 for upright, 2-8 for the turns and
    mirrors a viewer (and :func:`read_image`) applies; 1 for a file PIL does not read
    (DICOM, NIfTI, or a fault that :func:`read_image` names in its own words).

    Args:
        path: an image file.

    Returns:
        The tag's value, 1 to 8.

    Example:
        >>> exif_orientation("scan.png")  # doctest: +SKIP
        6
    """
    if _suffix(Path(path)) not in PICTURE_SUFFIXES:
        return 1
    try:
        return _read_orientation(*file_key(path))
    except Exception:
        return 1


# A segmentation item asks for its image's orientation at every read, and PIL decodes a
# PNG to find an EXIF block stored after the pixels: the answer is kept per file.
@functools.lru_cache(maxsize=_FILES_CACHED)
def _read_orientation(path: str, stamp: Stamp, size: int) -> int:
    from PIL import Image

    with Image.open(path) as image:
        orientation = image.getexif().get(0x0112, 1)
    return orientation if orientation in range(2, 9) else 1


def as_viewer_shows(image: Any) -> Any:
    """A PIL image as a viewer shows it: grey (``L``, ``I``, ``F``) or ``RGB``.

    Applied to images, never to masks (a palette mask's indices are its labels). EXIF
    rotation is applied (a phone photo of a film is stored sideways); a palette becomes
    its colours, grey when every colour is grey; alpha is dropped; CMYK, YCbCr and LAB
    are converted, not read channel by channel.

    Args:
        image: a PIL image.

    Returns:
        The image in mode ``L``, ``I``, ``F`` or ``RGB``.

    Example:
        >>> from PIL import Image
        >>> as_viewer_shows(Image.new("CMYK", (2, 2))).mode
        'RGB'
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
    slow every read. ``as_seen`` converts pictures with :func:`as_viewer_shows` (images);
    without it a picture's stored values are kept (masks).
    """
    from monai.data import NibabelReader, PILReader, PydicomReader
    from monai.transforms import LoadImage

    # Both flags keep array rows = image rows (MONAI transposes PIL and DICOM by default).
    if suffix in PICTURE_SUFFIXES:
        reader = PILReader(reverse_indexing=False, converter=as_viewer_shows if as_seen else None)
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
    try:
        problem = _picture_header(*file_key(path))[1]
    except Exception:  # not a picture PIL opens: read_image's reader says why
        return
    if problem:
        raise DatasetError(f"{path} {problem}.")


@functools.lru_cache(maxsize=_FILES_CACHED)
def _picture_header(path: str, stamp: Stamp, size: int) -> tuple[str, str | None]:
    """A picture's PIL mode and :func:`_picture_problem`, from its header."""
    from PIL import Image

    with Image.open(path) as image:
        return image.mode, _picture_problem(image)


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
            mode, problem = _picture_header(*file_key(path))
            if problem:  # every 2D picture's header is read here, when the folder is described
                raise DatasetError(f"{path} {problem}.")
            return mode not in ("1", "L", "LA", "La", "I", "F") and not mode.startswith("I;")
        if suffix == ".dcm":
            return _dicom_samples(*file_key(path)) > 1
    except DatasetError:
        raise
    except Exception as error:
        raise _unreadable(path, error) from error
    return False


@functools.lru_cache(maxsize=_FILES_CACHED)
def _dicom_samples(path: str, stamp: Stamp, size: int) -> int:
    """A DICOM header's ``SamplesPerPixel`` (1 where absent)."""
    import pydicom

    header = pydicom.dcmread(path, stop_before_pixels=True, force=True)
    return int(header.get("SamplesPerPixel", 1) or 1)


def _channels_differ(path: Path) -> bool:
    """Whether a colour-mode image's channels differ as :func:`read_image` shows it (a
    JPEG is decoded at an eighth of its size, which keeps its colours)."""
    try:
        key = file_key(path)
    except OSError as error:
        raise _unreadable(path, error) from error
    return _decoded_channels_differ(*key)


# At most COLOUR_CHECKS images are decoded per folder: a few folders' worth.
@functools.lru_cache(maxsize=4 * COLOUR_CHECKS)
def _decoded_channels_differ(name: str, stamp: Stamp, size: int) -> bool:
    """:func:`_channels_differ` of the file ``name`` as it was at ``stamp`` and ``size``."""
    path = Path(name)
    if _format(path) in PICTURE_SUFFIXES:
        from PIL import Image

        try:
            with Image.open(path) as image:
                # At least 1 x 1: PIL's JPEG draft divides by the size asked for.
                image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
                pixels = np.asarray(as_viewer_shows(image), dtype=np.int16)
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
