"""COCO folders the box targets cannot represent: crowd regions and EXIF-turned images."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from nasbench.data import load
from nasbench.data.coco import read_coco
from nasbench.errors import DatasetError


def _write(root, size=(40, 40), orientation=None, crowd=False):
    """Six images h x w = size, bright inside their box [5, 10, 20, 10]; JPEG with an EXIF
    orientation when one is given."""
    h, w = size
    images, annotations = [], []
    for i in range(6):
        array = np.zeros((h, w), np.uint8)
        array[10:20, 5:25] = 200
        if orientation is None:
            name = f"i{i}.png"
            Image.fromarray(array).save(root / name)
        else:
            name = f"i{i}.jpg"
            exif = Image.Exif()
            exif[0x0112] = orientation
            Image.fromarray(array).save(root / name, exif=exif)
        images.append({"id": i + 1, "file_name": name, "width": w, "height": h})
        annotations.append(
            {"id": i + 1, "image_id": i + 1, "category_id": 1, "bbox": [5, 10, 20, 10],
             "area": 200, "iscrowd": 0}
        )  # fmt: skip
    if crowd:
        annotations.append(
            {"id": 99, "image_id": 1, "category_id": 1, "bbox": [0, 0, w, h], "iscrowd": 1}
        )
    data = {"images": images, "annotations": annotations,
            "categories": [{"id": 1, "name": "lesion"}]}  # fmt: skip
    (root / "annotations.json").write_text(json.dumps(data))


def test_a_crowd_annotation_is_refused_not_learnt_as_a_lesion(tmp_path):
    _write(tmp_path, crowd=True)
    with pytest.raises(DatasetError, match=r"annotation 99 of image 'i0.png' is a crowd region"):
        read_coco(tmp_path)
    data = json.loads((tmp_path / "annotations.json").read_text())
    data["annotations"][-1]["iscrowd"] = 0  # the same box as a lesion loads
    (tmp_path / "annotations.json").write_text(json.dumps(data))
    assert len(read_coco(tmp_path)[1][0][1]) == 2


@pytest.mark.parametrize("size", [(40, 40), (30, 40)])
def test_an_exif_turned_image_is_refused_naming_it(tmp_path, size):
    # Orientation 6: viewers (and read_image) turn it by 90 degrees, its boxes are not.
    _write(tmp_path, size=size, orientation=6)
    with pytest.raises(DatasetError, match=r"image 'i0.jpg' carries EXIF orientation 6"):
        load("folder", "train", path=str(tmp_path), size=28, transform=None)
    _write(tmp_path, size=size, orientation=1)  # upright: loads, its boxes on the object
    ds = load("folder", "train", path=str(tmp_path), size=28, transform=None)
    image, target = ds[0]
    x1, y1, x2, y2 = (int(v) for v in target[0, :4].tolist())
    assert float(image[0, y1:y2, x1:x2].mean()) > 0.5
