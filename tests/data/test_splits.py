"""Search halves, stratified limit, DatasetView and the item transforms."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nasbench.data.batches import EpochBatches
from nasbench.data.registry import DatasetInfo
from nasbench.data.splits import DatasetView, search_halves, strata, stratified_limit
from nasbench.data.transforms import BatchAugment, make_transform
from nasbench.errors import DatasetError

labels_strategy = st.lists(st.integers(0, 4), min_size=2, max_size=200).map(np.array)


@settings(max_examples=60, deadline=None)
@given(labels=labels_strategy, seed=st.integers(0, 2**16))
def test_halves_are_disjoint_cover_train_and_are_stratified(labels, seed):
    first, second = search_halves(labels, seed=seed)
    assert np.intersect1d(first, second).size == 0
    assert np.array_equal(np.sort(np.concatenate([first, second])), np.arange(len(labels)))
    assert abs(len(first) - len(second)) <= 1
    for c in np.unique(labels):
        assert abs(np.sum(labels[first] == c) - np.sum(labels[second] == c)) <= 1


def test_halves_depend_on_the_seed_only():
    labels = np.arange(100) % 3
    a, b = search_halves(labels, seed=5), search_halves(labels, seed=5)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], search_halves(labels, seed=6)[0])


def test_halves_without_labels_need_n():
    first, second = search_halves(None, seed=0, n=11)
    assert len(first) + len(second) == 11 and np.intersect1d(first, second).size == 0
    with pytest.raises(DatasetError, match="needs the number of samples"):
        search_halves(None)


def test_multilabel_strata_use_the_first_positive_label():
    targets = np.array([[0, 1, 1], [0, 0, 0], [1, 0, 1], [0, 0, 1]])
    assert strata(targets).tolist() == [2, 0, 1, 3]
    first, second = search_halves(targets, seed=0)
    assert len(first) + len(second) == 4


@settings(max_examples=60, deadline=None)
@given(labels=labels_strategy, limit=st.integers(1, 250), seed=st.integers(0, 100))
def test_limit_size_and_every_class_kept_when_possible(labels, limit, seed):
    picked = stratified_limit(labels, limit, seed=seed)
    assert len(picked) == min(limit, len(labels))
    assert len(np.unique(picked)) == len(picked) and np.all(np.diff(picked) > 0)
    classes = np.unique(labels)
    if limit >= len(classes):
        assert set(labels[picked]) == set(classes)


def test_limit_keeps_proportions_and_a_rare_class():
    labels = np.array([0] * 900 + [1] * 95 + [2] * 5)
    picked = stratified_limit(labels, 100, seed=0)
    assert np.bincount(labels[picked]).tolist() == [90, 9, 1]
    assert stratified_limit(labels, 20, seed=0).size == 20
    assert set(labels[stratified_limit(labels, 3, seed=0)]) == {0, 1, 2}


def test_limit_is_deterministic_for_a_seed():
    labels = np.arange(500) % 4
    assert np.array_equal(stratified_limit(labels, 50, 3), stratified_limit(labels, 50, 3))
    assert not np.array_equal(stratified_limit(labels, 50, 3), stratified_limit(labels, 50, 4))


def test_limit_without_labels_is_random_but_seeded():
    a = stratified_limit(None, 5, seed=1, n=100)
    assert len(a) == 5 and np.array_equal(a, stratified_limit(None, 5, seed=1, n=100))


@pytest.mark.parametrize("limit", [0, -3, 2.5, True])
def test_bad_limit(limit):
    with pytest.raises(DatasetError, match="limit must be a positive whole number"):
        stratified_limit(np.zeros(10, dtype=int), limit)


class Base(torch.utils.data.Dataset):
    info = DatasetInfo("toy", "binary", "none", 2, 1, 2, ("a", "b"))
    split = "train"
    targets = np.array([0, 1, 0, 1, 1])

    def __len__(self):
        return 5

    def __getitem__(self, i):
        return torch.full((1, 4, 4), float(i)), torch.tensor(int(self.targets[i]))


def test_view_maps_indices_targets_and_transform():
    view = DatasetView(Base(), np.array([4, 1]), lambda x, y: (x + 1, y), split="search_val")
    assert len(view) == 2 and view.split == "search_val" and view.info.name == "toy"
    assert view.targets.tolist() == [1, 1]
    assert view[0][0][0, 0, 0] == 5.0
    assert len(DatasetView(Base())) == 5


def seg_info(dims: int) -> DatasetInfo:
    return DatasetInfo("seg", "segmentation", "none", dims, 1, 2, ("bg", "fg"))


@pytest.mark.parametrize("dims", [2, 3])
def test_augment_moves_the_mask_with_the_image(dims):
    augment = make_transform("augment", seg_info(dims), seed=0)
    shape = (1,) + (6,) * dims
    image = torch.rand(shape)
    mask = (image > 0.5).long()
    changed = 0
    for _ in range(10):
        out_image, out_mask = augment(image, mask)
        assert out_image.shape == shape and out_mask.dtype == torch.int64
        assert torch.equal(out_mask, ((out_image * 0.5 + 0.5) > 0.5).long())
        changed += not torch.equal(out_mask, mask)
    assert changed > 0


def test_augment_leaves_class_targets_alone_and_skips_non_square_turns():
    info = DatasetInfo("toy", "binary", "none", 2, 1, 2, ("a", "b"))
    augment = make_transform("augment", info, seed=1)
    for _ in range(10):
        image, target = augment(torch.rand(1, 4, 6), torch.tensor(1))
        assert image.shape == (1, 4, 6) and int(target) == 1


def test_make_transform_choices():
    info = Base.info
    assert make_transform(None, info) is None
    out, _ = make_transform("default", info)(torch.ones(1, 2, 2), 0)
    assert torch.equal(out, torch.ones(1, 2, 2))
    with pytest.raises(DatasetError, match="'default', 'augment', None or a callable"):
        make_transform("strong", info)


@pytest.mark.parametrize("dims", [2, 3])
def test_batch_augment_moves_the_mask_and_skips_non_square_turns(dims):
    images = torch.rand((8, 1) + (6,) * dims)
    masks = (images[:, 0] > 0.5).long()  # (N, *spatial): no channel axis
    out, out_masks = BatchAugment(spatial=True)(images, masks, torch.Generator().manual_seed(0))
    assert out.shape == images.shape and out_masks.dtype == torch.int64
    assert torch.equal(out_masks, (out[:, 0] > 0.5).long())
    assert not torch.equal(out, images)  # 8 images: some were flipped or turned
    wide = torch.rand(8, 1, 4, 6)  # a turn would reshape it: flips only
    assert BatchAugment(spatial=False)(wide, torch.zeros(8), torch.Generator())[0].shape == (
        8, 1, 4, 6,
    )  # fmt: skip


def test_search_batches_augment_anew_each_epoch_and_the_same_after_a_resume(monkeypatch):
    from nasbench.data import batches as batches_module

    images = torch.rand(16, 1, 6, 6)
    data = [(images[i], torch.tensor(i)) for i in range(16)]
    cached = EpochBatches(data, 4, seed=3, stream=0, augment=BatchAugment(spatial=False))
    first = cached.batch(0, 1)
    assert torch.equal(first[0], cached.batch(0, 1)[0])  # a pure function of (epoch, index)
    # The same images in another epoch get other draws, not one draw frozen per image.
    seen = {int(t): x for x, t in zip(*first, strict=True)}
    later = [cached.batch(e, i) for e in range(1, 6) for i in range(len(cached))]
    redrawn = [not torch.equal(x, seen[int(t)]) for b in later for x, t in zip(*b, strict=True)
               if int(t) in seen]  # fmt: skip
    assert any(redrawn)
    # Read item by item (a large set): the very same batches, as a resumed process reads.
    monkeypatch.setattr(batches_module, "_CACHE_LIMIT_BYTES", 0)
    streamed = EpochBatches(data, 4, seed=3, stream=0, augment=BatchAugment(spatial=False))
    assert streamed.all() is None
    assert torch.equal(streamed.batch(2, 3)[0], cached.batch(2, 3)[0])


def test_augmenting_a_volume_never_turns_its_slice_axis_into_the_plane():
    volumes = torch.rand(32, 1, 4, 4, 4)  # a cube: a turn in (D, H) would keep the shape
    out, _ = BatchAugment(spatial=False)(volumes, torch.zeros(32), torch.Generator())
    slices = [sorted(v[0].sum(dim=(1, 2)).tolist()) for v in (*volumes, *out)]
    for before, after in zip(slices[:32], slices[32:], strict=True):
        assert after == pytest.approx(before)  # the same slices, maybe flipped or turned
    item = make_transform("augment", seg_info(3), seed=0)
    for _ in range(10):
        turned, _ = item(volumes[0], (volumes[0] > 0.5).long())
        assert sorted(turned[0].sum(dim=(1, 2)).tolist()) == pytest.approx(
            sorted((volumes[0][0] * 2 - 1).sum(dim=(1, 2)).tolist()), abs=1e-4
        )
