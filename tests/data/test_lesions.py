"""The synthetic-lesions detection set: seeded, boxes inside the image, 1-5 per slice."""

import pytest
import torch

from nasbench.data import get_info, load
from nasbench.data.lesions import MAX_BOXES, SyntheticLesions, mask_box, pack_boxes, unpack_boxes
from nasbench.errors import DatasetError


def test_registered_as_a_detection_set():
    info = get_info("synthetic-lesions")
    assert info.task == "detection" and info.num_classes == 1 and "CC0" in info.licence


def test_same_seed_same_slices_and_boxes_other_seed_other_ones():
    a, b = SyntheticLesions("val", size=32, length=3), SyntheticLesions("val", size=32, length=3)
    c = SyntheticLesions("val", size=32, seed=1, length=3)
    assert torch.equal(a[2][0], b[2][0]) and torch.equal(a[2][1], b[2][1])
    assert not torch.equal(a[2][0], c[2][0])


@pytest.mark.parametrize("size", [32, 64])
def test_boxes_lie_inside_the_image_with_positive_size(size):
    ds = SyntheticLesions("train", size=size, length=12)
    counts = []
    for i in range(len(ds)):
        image, target = ds[i]
        assert image.shape == (1, size, size) and 0.0 <= float(image.min())
        assert target.shape == (MAX_BOXES, 5)
        boxes, labels = unpack_boxes(target)
        assert (boxes[:, :2] >= 0).all() and (boxes[:, 2:] <= size).all()
        assert (boxes[:, 2:] > boxes[:, :2]).all() and (labels == 0).all()
        counts.append(len(boxes))
        # The drawn count bounds the boxes (a lesion without room is dropped).
        assert 1 <= len(boxes) <= int(ds.targets[i])
    assert len(set(counts)) > 1


def test_a_lesion_is_brighter_or_darker_than_its_surroundings():
    image, target = SyntheticLesions("test", size=64, length=1)[0]
    x1, y1, x2, y2 = (int(v) for v in unpack_boxes(target)[0][0])
    inside = image[0, y1:y2, x1:x2].mean()
    assert abs(float(inside - image.mean())) > 0.02


def test_search_halves_stratify_on_lesion_count_and_batch_stack():
    half = load("synthetic-lesions", "search_train", size=32, limit=20, seed=0)
    assert len(half) == 20
    images = torch.stack([half[i][0] for i in range(4)])
    targets = torch.stack([half[i][1] for i in range(4)])
    assert images.shape == (4, 1, 32, 32) and targets.shape == (4, MAX_BOXES, 5)


def test_mask_box_and_pack_round_trip():
    assert mask_box(torch.zeros(4, 4).numpy()) is None
    target = pack_boxes([(1, 2, 3, 4), (0, 0, 5, 5)], [0, 0])
    boxes, labels = unpack_boxes(target)
    assert boxes.tolist() == [[1, 2, 3, 4], [0, 0, 5, 5]] and labels.tolist() == [0, 0]
    with pytest.raises(DatasetError, match="do not fit"):
        pack_boxes([(0, 0, 1, 1)] * 6, [0] * 6)


def test_unknown_option_is_one_line_error():
    with pytest.raises(DatasetError, match="has no option 'contrast'; it takes none; remove it"):
        load("synthetic-lesions", "val", size=32, contrast=3)
