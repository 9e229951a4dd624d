"""Box-aware detection augmentation: exact box maps, drops, image-box agreement, seeding."""

from __future__ import annotations

import pytest
import torch

from nasbench.data.box_augment import (
    BoxAugment,
    affine_boxes,
    affine_image,
    augment_detection_batch,
    clip_boxes,
    flip_boxes,
    rot90_boxes,
)
from nasbench.errors import ConfigError

BOX = torch.tensor([[2.0, 1.0, 5.0, 3.0]])  # cols 2-4, rows 1-2 of a 10 x 8 (H x W) image


def draw(h: int, w: int, boxes: torch.Tensor) -> torch.Tensor:
    """A (1, H, W) image, 1 inside each integer box, 0 elsewhere."""
    image = torch.zeros(1, h, w)
    for x1, y1, x2, y2 in boxes.round().long().tolist():
        image[0, y1:y2, x1:x2] = 1
    return image


def mask_box(image: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """The (x1, y1, x2, y2) extent of the pixels above ``threshold``."""
    rows, cols = torch.nonzero(image[0] > threshold, as_tuple=True)
    return torch.tensor([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]).float()


def test_flip_boxes_by_hand():
    assert flip_boxes(BOX, 8, "x").tolist() == [[3.0, 1.0, 6.0, 3.0]]
    assert flip_boxes(BOX, 10, "y").tolist() == [[2.0, 7.0, 5.0, 9.0]]
    with pytest.raises(ConfigError, match="'z'"):
        flip_boxes(BOX, 8, "z")


def test_rot90_boxes_by_hand_and_round_trip():
    # One turn on a 10 x 8 image: (x1, y1, x2, y2) -> (y1, W - x2, y2, W - x1).
    assert rot90_boxes(BOX, 10, 8, 1).tolist() == [[1.0, 3.0, 3.0, 6.0]]
    # Two turns = both flips.
    assert rot90_boxes(BOX, 10, 8, 2).tolist() == [[3.0, 7.0, 6.0, 9.0]]
    assert torch.equal(rot90_boxes(BOX, 10, 8, 4), BOX)
    assert torch.equal(rot90_boxes(rot90_boxes(BOX, 10, 8, 1), 8, 10, 3), BOX)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_rot90_matches_torch_rot90_on_pixels(k):
    image = draw(10, 8, BOX)
    turned = torch.rot90(image, k, dims=(-2, -1))
    assert torch.equal(mask_box(turned), rot90_boxes(BOX, 10, 8, k)[0])


@pytest.mark.parametrize("axis,dim,size", [("x", -1, 8), ("y", -2, 10)])
def test_flip_matches_image_flip_on_pixels(axis, dim, size):
    image = draw(10, 8, BOX)
    assert torch.equal(mask_box(image.flip(dim)), flip_boxes(BOX, size, axis)[0])


def test_affine_boxes_by_hand():
    # Zoom x2 about the centre (4, 4) of an 8 x 8 image, then 1 px right.
    out = affine_boxes(torch.tensor([[2.0, 2, 6, 6]]), 8, 8, 2.0, (1.0, 0.0))
    assert out.tolist() == [[1.0, 0.0, 9.0, 8.0]]
    # Pure shift by whole pixels moves the pixels exactly.
    image = draw(16, 16, torch.tensor([[4.0, 5, 9, 8]]))
    shifted = affine_image(image, 1.0, (3.0, -2.0), fill=0.0)
    assert torch.allclose(shifted[0, 3:6, 7:12], torch.ones(3, 5))
    assert float(shifted.sum()) == pytest.approx(15.0)


@pytest.mark.parametrize("scale,shift", [(1.2, (2.5, -1.5)), (0.85, (-3.0, 2.0)), (1.0, (0.4, 0))])
def test_affine_image_and_boxes_agree_within_a_pixel(scale, shift):
    box = torch.tensor([[6.0, 9.0, 17.0, 15.0]])
    image = affine_image(draw(32, 32, box), scale, shift, fill=0.0)
    expected = affine_boxes(box, 32, 32, scale, shift)[0]
    assert (mask_box(image) - expected).abs().max() <= 1.0


def test_clip_drops_mostly_outside_and_degenerate_boxes():
    boxes = torch.tensor(
        [
            [-6.0, 0, 2, 4],  # a quarter inside: dropped
            [-1.0, 0, 3, 4],  # three quarters inside: kept, clipped
            [3.0, 3, 3.5, 6],  # half a pixel wide: dropped
            [10.0, 2, 12, 4],  # wholly outside: dropped
            [1.0, 1, 1, 1],  # empty: dropped
        ]
    )
    clipped, keep = clip_boxes(boxes, 8, 8)
    assert keep.tolist() == [False, True, False, False, False]
    assert clipped[1].tolist() == [0.0, 0.0, 3.0, 4.0]
    assert ((clipped >= 0) & (clipped <= 8)).all()


def test_batch_drops_boxes_pushed_out_and_keeps_labels_aligned():
    # A shift of 0.45 of the edge is drawn: the box on the far side leaves the image.
    config = BoxAugment(
        flip=False, rotate=False, scale=0.0, translate=0.45, intensity=0.0, min_visible=0.5
    )
    targets = torch.tensor([[[1.0, 1, 5, 5, 2], [26.0, 26, 31, 31, 1], [0, 0, 0, 0, -1]]])
    images = draw(32, 32, targets[0, :2, :4])[None]
    kept = None
    for seed in range(40):
        out, t = augment_detection_batch(
            images, targets, torch.Generator().manual_seed(seed), config
        )
        n = int((t[0, :, 4] >= 0).sum())
        assert (t[0, n:, 4] == -1).all() and (t[0, n:, :4] == 0).all()  # padding after the kept
        if n == 1:
            kept = (out, t)
            break
    assert kept is not None, "no seed pushed one box out"
    out, t = kept
    # The surviving row carries its own label and bounds its own lesion's pixels.
    label = int(t[0, 0, 4])
    assert label in (1, 2)
    original = targets[0, 0 if label == 2 else 1, :4]
    region = out[0, 0].clone()
    x1, y1, x2, y2 = t[0, 0, :4].tolist()
    assert float(region[int(y1) : int(y2) + 1, int(x1) : int(x2) + 1].sum()) > 0
    size, original_size = t[0, 0, 2:4] - t[0, 0, :2], original[2:] - original[:2]
    # A pure shift keeps the box's size, less what the clip takes (at most half).
    assert (size <= original_size).all() and (size >= original_size / 2).all()


def test_batch_mask_extent_equals_boxes_for_every_op():
    """Draw boxes, augment with all ops, and compare each lesion's mask with its box."""
    boxes = torch.tensor([[4.0, 6, 12, 11], [18.0, 16, 27, 26]])
    targets = torch.cat([boxes, torch.tensor([[0.0], [0.0]])], dim=1)
    targets = torch.cat([targets, torch.tensor([[0.0, 0, 0, 0, -1]])])[None]
    # One image per lesion so each mask holds one lesion.
    images = torch.stack([draw(32, 32, boxes[:1]), draw(32, 32, boxes[1:])])
    tgts = torch.stack([targets[0, [0, 2, 2]], targets[0, [1, 2, 2]]])
    tgts[:, 1:, 4] = -1
    config = BoxAugment(intensity=0.0, translate=0.05)
    for seed in range(12):
        out, t = augment_detection_batch(images, tgts, torch.Generator().manual_seed(seed), config)
        for i in range(2):
            if t[i, 0, 4] < 0:
                continue  # dropped: nothing to compare
            assert (mask_box(out[i]) - t[i, 0, :4]).abs().max() <= 1.0, (seed, i)


def test_same_seed_same_batch_and_other_seed_differs():
    gen = torch.Generator().manual_seed(3)
    images = torch.rand(4, 1, 32, 32, generator=gen)
    targets = torch.tensor([[[4.0, 4, 14, 12, 0], [0, 0, 0, 0, -1]]]).repeat(4, 1, 1)
    a = augment_detection_batch(images, targets, torch.Generator().manual_seed(7))
    b = augment_detection_batch(images, targets, torch.Generator().manual_seed(7))
    c = augment_detection_batch(images, targets, torch.Generator().manual_seed(8))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])
    state = torch.get_rng_state()
    augment_detection_batch(images, targets, torch.Generator().manual_seed(7))
    assert torch.equal(torch.get_rng_state(), state)  # the global RNG is untouched


def test_intensity_jitter_only_changes_intensities():
    config = BoxAugment(flip=False, rotate=False, scale=0.0, translate=0.0, intensity=0.2)
    images = torch.ones(1, 1, 8, 8)
    targets = torch.tensor([[[1.0, 1, 5, 5, 0]]])
    out, t = augment_detection_batch(images, targets, torch.Generator().manual_seed(0), config)
    assert torch.equal(t, targets)
    assert out.std() == 0 and 0.6 <= float(out[0, 0, 0, 0]) <= 1.4 and float(out[0, 0, 0, 0]) != 1


def test_bad_input_and_config_raise_one_line_errors():
    with pytest.raises(ConfigError, match="targets \\(N, B, 5\\)"):
        augment_detection_batch(torch.zeros(1, 1, 8, 8), torch.zeros(1, 4), torch.Generator())
    with pytest.raises(ConfigError, match="BoxAugment.scale"):
        BoxAugment(scale=1.5)
