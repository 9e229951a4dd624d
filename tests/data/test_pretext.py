"""Pretext-task wrappers: rotation, jigsaw, in-painting, colourisation, and their checks."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from nasbench.data import get_info
from nasbench.data.pretext import (
    ColourisationDataset,
    InpaintingDataset,
    JigsawDataset,
    RotationDataset,
    check_pretext,
    jigsaw_permutations,
    pretext_dataset,
    pretext_info,
    shuffle_tiles,
    unshuffle_tiles,
)
from nasbench.errors import ConfigError


def _images(n=3, channels=1, size=8, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [(torch.randn(channels, size, size, generator=gen), i % 2) for i in range(n)]


def test_rotation_items_are_the_four_exact_turns_labelled_by_quarter_turns():
    base = _images(3)
    ds = RotationDataset(base)
    assert len(ds) == 12 and ds.targets.tolist() == [0, 1, 2, 3] * 3
    for index in range(12):
        image, label = ds[index]
        original = base[index // 4][0]
        assert label == index % 4 == ds.targets[index]
        # k counter-clockwise quarter turns, written out by hand for each k.
        expected = [
            original,
            original.transpose(-2, -1).flip(-2),
            original.flip(-2).flip(-1),
            original.transpose(-2, -1).flip(-1),
        ][label]
        assert torch.equal(image, expected)
    # A known pixel: turning once counter-clockwise moves the top-right corner to top-left.
    x = torch.arange(16.0).view(1, 4, 4)
    assert RotationDataset([(x, 0)])[1][0][0, 0, 0] == x[0, 0, 3]


def test_jigsaw_permutation_set_is_fixed_distinct_and_starts_with_the_identity():
    perms = jigsaw_permutations(2, 10, seed=3)
    assert perms.shape == (10, 4) and perms[0].tolist() == [0, 1, 2, 3]
    assert len({tuple(p) for p in perms}) == 10
    assert all(sorted(p.tolist()) == [0, 1, 2, 3] for p in perms)
    np.testing.assert_array_equal(perms, jigsaw_permutations(2, 10, seed=3))
    assert not np.array_equal(perms, jigsaw_permutations(2, 10, seed=4))
    big = jigsaw_permutations(3, 50, seed=0)  # 9! orders: drawn, not enumerated
    assert big.shape == (50, 9) and len({tuple(p) for p in big}) == 50
    with pytest.raises(ConfigError, match="exceeds the 24 orders"):
        jigsaw_permutations(2, 25)


@pytest.mark.parametrize("grid", [2, 4])
def test_shuffled_tiles_sit_where_the_permutation_says_and_unshuffle_inverts(grid):
    image = torch.randn(2, 8, 8, generator=torch.Generator().manual_seed(1))
    tile = 8 // grid
    for perm in itertools.islice(itertools.permutations(range(grid * grid)), 0, 50, 7):
        shuffled = shuffle_tiles(image, perm, grid)
        for position, source in enumerate(perm):
            r, c = divmod(position, grid)
            sr, sc = divmod(source, grid)
            assert torch.equal(
                shuffled[:, r * tile : (r + 1) * tile, c * tile : (c + 1) * tile],
                image[:, sr * tile : (sr + 1) * tile, sc * tile : (sc + 1) * tile],
            )
        assert torch.equal(unshuffle_tiles(shuffled, perm, grid), image)


def test_jigsaw_items_carry_the_index_of_their_permutation():
    base = _images(20, channels=1, size=8)
    ds = JigsawDataset(base, grid=2, n_permutations=6, seed=5)
    assert len(ds) == 20 and set(ds.targets.tolist()) <= set(range(6))
    assert len(set(ds.targets.tolist())) > 1  # labels vary over items
    for index in range(20):
        image, label = ds[index]
        assert label == ds.targets[index]
        restored = unshuffle_tiles(image, ds.permutations[label], 2)
        assert torch.equal(restored, base[index][0])
    again = JigsawDataset(base, grid=2, n_permutations=6, seed=5)
    np.testing.assert_array_equal(again.targets, ds.targets)  # fixed by the seed


def test_inpainting_blanks_exactly_the_patch_and_targets_its_original_pixels():
    base = _images(10, channels=2, size=8)
    ds = InpaintingDataset(base, patch=3, seed=2)
    assert len(ds) == 10
    for index in range(10):
        masked, target = ds[index]
        original = base[index][0]
        mask = ds.mask(index, masked.shape)
        assert int(mask.sum()) == 9
        assert torch.equal(masked[:, mask], torch.zeros(2, 9))
        assert torch.equal(masked[:, ~mask], original[:, ~mask])  # the rest untouched
        r, c = ds.corners[index]
        assert torch.equal(target, original[:, r : r + 3, c : c + 3].reshape(-1))
        assert target.shape == (2 * 9,)
    assert len({tuple(c) for c in ds.corners}) > 1
    assert (ds.corners >= 0).all() and (ds.corners <= 5).all()


def test_colourisation_maps_grey_to_the_pooled_colour_difference():
    image = torch.zeros(3, 4, 4)
    image[0] = 1.0  # red everywhere: grey 1/3, differences (2/3, -1/3, -1/3)
    grey, target = ColourisationDataset([(image, 0)], grid=2)[0]
    assert torch.allclose(grey, torch.full((1, 4, 4), 1 / 3))
    expected = torch.tensor([2 / 3] * 4 + [-1 / 3] * 8)
    assert torch.allclose(target, expected)
    with pytest.raises(ConfigError, match="colourisation needs colour"):
        ColourisationDataset(_images(1, channels=1), grid=2)[0]


def test_pretext_info_sets_task_outputs_and_channels():
    info = get_info("breastmnist")
    rotation = pretext_info(info, "rotation")
    assert (rotation.task, rotation.num_classes, rotation.name) == (
        "multi-class",
        4,
        "breastmnist:rotation",
    )
    assert pretext_info(info, "jigsaw", n_permutations=9).num_classes == 9
    inpainting = pretext_info(info, "inpainting", patch=5)
    assert (inpainting.task, inpainting.num_classes) == ("regression", 25)
    colour = pretext_info(get_info("dermamnist"), "colourisation", grid=4)
    assert (colour.in_channels, colour.num_classes) == (1, 48)


def test_wrappers_keep_the_base_info_turned_into_the_pretext_info():
    from nasbench.data import load

    base = load("synthetic", "val", limit=8)
    ds = pretext_dataset(base, "jigsaw", n_permutations=5, seed=0)
    assert ds.info.num_classes == 5 and ds.split == "val"


@pytest.mark.parametrize(
    ("dataset", "pretext", "kwargs", "message"),
    [
        ("breastmnist", "rotate", {}, "unknown pretext task 'rotate'.*Did you mean 'rotation'"),
        (
            "breastmnist",
            "colourisation",
            {},
            "needs colour .* breastmnist has 1 channel \\(grey\\)",
        ),
        ("breastmnist", "jigsaw", {"grid": 3}, "grid 3 does not divide the image size 28"),
        ("breastmnist", "jigsaw", {"n_permutations": 30}, "between 2 and 24"),
        ("breastmnist", "inpainting", {"patch": 28}, "smaller than the image edge 28"),
        ("synthetic-seg", "rotation", {}, "2D classification images"),
    ],
)
def test_check_pretext_errors_are_one_line(dataset, pretext, kwargs, message):
    with pytest.raises(ConfigError, match=message) as err:
        check_pretext(get_info(dataset), pretext, 28, **kwargs)
    assert "\n" not in str(err.value)


def test_check_pretext_accepts_colourisation_of_colour_images():
    check_pretext(get_info("dermamnist"), "colourisation", 28, grid=4)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda base: JigsawDataset(base, grid=3), "grid 3 does not divide the image size 28x28"),
        (lambda base: InpaintingDataset(base, patch=40), "patch 40 must be at least 1 and smaller"),
        (lambda base: InpaintingDataset(base, patch=0), "patch 0 must be at least 1"),
        (lambda base: JigsawDataset(base, n_permutations=1), "between 2 and 24 for a 2x2"),
    ],
)
def test_the_wrappers_check_their_settings_against_the_images(make, message):
    # Lesson 11 builds these directly: a bad grid escaped as a reshape error, a large patch
    # as numpy's "high <= 0", and patch 0 gave empty targets.
    base = [(torch.zeros(1, 28, 28), 0)] * 3
    with pytest.raises(ConfigError, match=message) as err:
        make(base)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("permutation", [[0, 1, 2], [0, 0, 1, 2], [1, 2, 3, 4]])
def test_a_tile_order_that_is_no_permutation_is_one_line(permutation):
    with pytest.raises(ConfigError, match="needs a grid dividing both edges and a permutation"):
        shuffle_tiles(torch.zeros(1, 4, 4), permutation, 2)
