"""A user folder of images + COCO annotations.json, through the folder loader."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from nasbench.data import load
from nasbench.data.lesions import unpack_boxes
from nasbench.errors import DatasetError


def _write_folder(root, boxes_of, size=(40, 20), categories=({"id": 7, "name": "nodule"},)):
    """Images h x w = size with a bright rectangle per box; annotations.json in COCO."""
    h, w = size
    images, annotations = [], []
    for i, boxes in enumerate(boxes_of):
        array = np.zeros((h, w), np.uint8)
        for x, y, bw, bh in boxes:
            array[int(y) : int(y + bh), int(x) : int(x + bw)] = 255
        Image.fromarray(array).save(root / f"case{i}.png")
        images.append({"id": i, "file_name": f"case{i}.png", "width": w, "height": h})
        for box in boxes:
            annotations.append(
                {"id": len(annotations), "image_id": i, "category_id": 7, "bbox": list(box)}
            )
    data = {"images": images, "annotations": annotations, "categories": list(categories)}
    (root / "annotations.json").write_text(json.dumps(data))
    return data


def test_coco_folder_loads_as_detection_with_scaled_boxes(tmp_path):
    _write_folder(tmp_path, [[(2, 4, 6, 8)], [(0, 0, 10, 10), (12, 20, 4, 4)]] * 5)
    ds = load("folder", "train", path=str(tmp_path), size=32, transform=None)
    assert ds.info.task == "detection" and ds.info.class_names == ("nodule",)
    image, target = ds[0]
    assert image.shape == (1, 32, 32) and target.shape == (2, 5)
    boxes, labels = unpack_boxes(target)
    assert labels.tolist() == [0] * len(boxes)
    # Width 20 -> 32 (x1.6), height 40 -> 32 (x0.8); the box still covers the bright pixels.
    x1, y1, x2, y2 = (int(round(v)) for v in boxes[0].tolist())
    inside = image[0, y1:y2, x1:x2]
    assert float(inside.mean()) > 0.5 and float(image.mean()) < float(inside.mean())
    stacked = torch.stack([ds[i][1] for i in range(len(ds))])
    assert stacked.shape[1:] == (2, 5)


@pytest.mark.parametrize(
    "bbox, message",
    [
        ([15, 4, 10, 8], "outside its 20x40 pixels"),
        ([2, 4, 0, 8], "width or height <= 0"),
        ([2, 4, 6], "a COCO bbox is"),
    ],
)
def test_a_bad_box_is_a_one_line_error_naming_the_file_and_the_box(tmp_path, bbox, message):
    data = _write_folder(tmp_path, [[(2, 4, 6, 8)]] * 4)
    data["annotations"][2]["bbox"] = bbox
    (tmp_path / "annotations.json").write_text(json.dumps(data))
    with pytest.raises(DatasetError, match=message) as error:
        load("folder", "train", path=str(tmp_path), size=32)
    text = str(error.value)
    assert "\n" not in text and "case2.png" in text and str(bbox) in text


def test_unknown_category_and_missing_image_are_named(tmp_path):
    data = _write_folder(tmp_path, [[(2, 4, 6, 8)]] * 4)
    data["annotations"][0]["category_id"] = 3
    (tmp_path / "annotations.json").write_text(json.dumps(data))
    with pytest.raises(DatasetError, match="category_id 3"):
        load("folder", "train", path=str(tmp_path), size=32)
    data["annotations"][0]["category_id"] = 7
    data["images"][1]["file_name"] = "gone.png"
    (tmp_path / "annotations.json").write_text(json.dumps(data))
    with pytest.raises(DatasetError, match="'gone.png'"):
        load("folder", "train", path=str(tmp_path), size=32)


@pytest.mark.parametrize("width", [20.7, "20", None])
def test_an_image_size_that_is_no_whole_pixel_count_is_named(tmp_path, width):
    # 20.7 was truncated to 20 and boxes checked against that; "20" (text) is a count too.
    data = _write_folder(tmp_path, [[(2, 4, 6, 8)]] * 4)
    data["images"][1]["width"] = width
    (tmp_path / "annotations.json").write_text(json.dumps(data))
    if width == "20":
        assert len(load("folder", "train", path=str(tmp_path), size=32)) > 0
        return
    with pytest.raises(DatasetError, match="case1.png' needs its width and height in pixels"):
        load("folder", "train", path=str(tmp_path), size=32)
