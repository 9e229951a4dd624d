"""Box annotations of a user folder in COCO JSON: read, check, turn into items.

A detection folder holds its images and one ``annotations.json`` in the COCO layout
(``images`` with ``id``, ``file_name``, ``width``, ``height``; ``annotations`` with
``image_id``, ``category_id`` and ``bbox = [x, y, width, height]`` in pixels;
``categories`` with ``id`` and ``name``). ``file_name`` is relative to the folder (or to
its ``images/`` subfolder). Every box is checked: four numbers, positive width and
height, inside its image; a bad one stops the load with a one-line error naming the
file and the box. Images without annotations are kept (slices without a lesion). Two
things are refused, as the box targets cannot hold them: crowd annotations (``iscrowd``
1, which COCO scores as ignore regions) and images an EXIF orientation turns (their
boxes may count the stored or the turned pixels).

Example:
    >>> names, items = read_coco("my_lesions")  # doctest: +SKIP
    >>> items[0]  # doctest: +SKIP
    (PosixPath('my_lesions/a.png'), ((3.0, 4.0, 12.0, 10.0),), (0,), (64, 64))
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from nasbench.errors import DatasetError

ANNOTATIONS = "annotations.json"

# (image path, boxes (x1, y1, x2, y2), class indices, (height, width))
CocoItem = tuple[Path, tuple[tuple[float, ...], ...], tuple[int, ...], tuple[int, int]]


def is_coco_folder(folder: Path) -> bool:
    """True when ``folder`` holds an ``annotations.json``."""
    return (Path(folder) / ANNOTATIONS).is_file()


def _image_path(folder: Path, file_name: str, where: str) -> Path:
    for candidate in (folder / file_name, folder / "images" / file_name):
        if candidate.is_file():
            return candidate
    raise DatasetError(
        f"{where}: image {file_name!r} is neither in {folder} nor in {folder / 'images'}; "
        "fix its file_name or add the file."
    )


def _image_size(image: dict, where: str) -> tuple[int, int]:
    """``(height, width)`` of a COCO image entry, or a one-line error."""
    try:
        sizes = (float(image["height"]), float(image["width"]))
    except (KeyError, TypeError, ValueError):
        sizes = (0.0, 0.0)
    # 32.7 is no pixel count: int() would truncate it and check boxes against 32.
    whole = all(s.is_integer() for s in sizes) if all(map(math.isfinite, sizes)) else False
    height, width = (int(s) for s in sizes) if whole else (0, 0)
    if height < 1 or width < 1:
        raise DatasetError(
            f"{where}: image {image.get('file_name')!r} needs its width and height in pixels "
            f"(positive integers), got {image.get('width')!r} x {image.get('height')!r}."
        )
    return height, width


def _check_box(bbox: Any, image: dict, width: int, height: int, where: str) -> tuple[float, ...]:
    """``(x1, y1, x2, y2)`` of a COCO ``[x, y, w, h]`` box, or a one-line error."""
    name = image.get("file_name", image.get("id"))
    if (
        not isinstance(bbox, list)
        or len(bbox) != 4
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in bbox)
        or not all(math.isfinite(v) for v in bbox)
    ):
        raise DatasetError(
            f"{where}: image {name!r} has box {bbox!r}; a COCO bbox is four finite numbers "
            "[x, y, width, height] in pixels, so fix that annotation."
        )
    x, y, w, h = (float(v) for v in bbox)
    if w <= 0 or h <= 0:
        raise DatasetError(
            f"{where}: image {name!r} has box {bbox} with a width or height <= 0; "
            "fix or drop that annotation."
        )
    if x < 0 or y < 0 or x + w > width or y + h > height:
        raise DatasetError(
            f"{where}: image {name!r} has box {bbox} outside its {width}x{height} pixels; "
            "fix or drop that annotation."
        )
    return (x, y, x + w, y + h)


def _check_upright(path: Path, file_name: str, where: str) -> None:
    """Refuse an image whose EXIF orientation turns or mirrors it in a viewer.

    :func:`~nasbench.data.image_files.read_image` shows it turned, as a viewer does, while
    COCO boxes count the stored pixels: which of the two frames its boxes follow is
    not known, so neither guess is made.
    """
    from nasbench.data.image_files import exif_orientation

    orientation = exif_orientation(path)
    if orientation != 1:
        raise DatasetError(
            f"{where}: image {file_name!r} carries EXIF orientation {orientation}, so viewers "
            "show it turned while its boxes count its stored pixels; strip the orientation "
            "tag, or re-export the image upright together with its boxes."
        )


def read_coco(
    folder: str | Path, class_names: tuple[str, ...] | None = None
) -> tuple[tuple[str, ...], list[CocoItem]]:
    """Read and check the ``annotations.json`` of a folder.

    Args:
        folder: the folder (holding ``annotations.json`` and the images).
        class_names: the classes another split of the same set has; this one must match.

    Returns:
        ``(class names in category-id order, items)``, an item per image in id order.
    """
    folder = Path(folder)
    where = str(folder / ANNOTATIONS)
    try:
        data = json.loads((folder / ANNOTATIONS).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:  # ValueError: bad JSON or not UTF-8 text
        raise DatasetError(f"cannot read {where} ({error}); write it as COCO JSON.") from None
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k), list) for k in ("images", "annotations", "categories")
    ):
        raise DatasetError(f"{where} needs the lists images, annotations and categories.")
    try:
        categories = sorted(data["categories"], key=lambda c: c["id"])
        names = tuple(str(c.get("name", c["id"])) for c in categories)
        category_index = {c["id"]: i for i, c in enumerate(categories)}
        images = {im["id"]: im for im in data["images"]}
    except (KeyError, TypeError):
        raise DatasetError(f"{where}: every image and category needs an id.") from None
    if len(images) != len(data["images"]):
        raise DatasetError(f"{where}: two images share an id; give every image its own id.")
    if len(category_index) != len(categories):
        shared = next(c["id"] for i, c in enumerate(categories) if category_index[c["id"]] != i)
        raise DatasetError(
            f"{where}: two categories share id {shared!r}; give every category its own id."
        )
    if not all(isinstance(ann, dict) for ann in data["annotations"]):
        raise DatasetError(
            f"{where}: every annotation must be an object with image_id, category_id and bbox."
        )
    if not names:
        raise DatasetError(f"{where} lists no categories; add one per lesion class.")
    if class_names is None and not data["annotations"]:  # the training (or only) folder
        raise DatasetError(
            f"{where} lists no annotations: no image has a box, so there is nothing to learn "
            "to detect; add the boxes (annotations with image_id, category_id and bbox)."
        )
    if class_names is not None and names != class_names:
        raise DatasetError(
            f"{where} has categories {list(names)} but train/ has {list(class_names)}; "
            "every split needs the same categories."
        )
    boxes: dict[Any, list] = {i: [] for i in images}
    for ann in data["annotations"]:
        image_id = ann.get("image_id")
        image = images.get(image_id) if isinstance(image_id, (int, str)) else None
        if image is None:
            raise DatasetError(
                f"{where}: annotation {ann.get('id')} names image_id {ann.get('image_id')!r}, "
                "which is not in images; fix it or add that image."
            )
        category = ann.get("category_id")
        if (
            not isinstance(category, (int, str))
            or isinstance(category, bool)
            or (category not in category_index)
        ):
            raise DatasetError(
                f"{where}: annotation {ann.get('id')} has category_id {category!r}, which is "
                f"not in categories ({', '.join(map(repr, category_index))}); fix it or add "
                "that category."
            )
        if ann.get("iscrowd") == 1:
            # COCO scores a crowd region as an ignore region (no target, a detection on it
            # neither hit nor miss); a box target here has no such row, so it would be
            # learnt and scored as a lesion.
            raise DatasetError(
                f"{where}: annotation {ann.get('id')} of image "
                f"{image.get('file_name', image_id)!r} is a crowd region (iscrowd 1), which "
                "nasbench cannot ignore; drop it, or box each lesion in it with iscrowd 0."
            )
        height, width = _image_size(image, where)
        box = _check_box(ann.get("bbox"), image, width, height, where)
        boxes[image["id"]].append((box, category_index[ann["category_id"]]))
    items = []
    for image_id in sorted(images, key=str):
        image = images[image_id]
        file_name = str(image.get("file_name", ""))
        path = _image_path(folder, file_name, where)
        _check_upright(path, file_name, where)
        pairs = boxes[image_id]
        size = _image_size(image, where)
        items.append((path, tuple(b for b, _ in pairs), tuple(c for _, c in pairs), size))
    if not items:
        raise DatasetError(f"{where} lists no images; add them.")
    return names, items
