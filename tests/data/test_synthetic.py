"""The synthetic default: deterministic, lazy, right shapes and label sets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nasbench.data import registry, synthetic
from nasbench.data.kspace import zero_filled_magnitude
from nasbench.errors import DatasetError

synthetic.register()

NAMES = [info.name for info in synthetic.INFOS]


def _load(name: str, split: str = "train", size: int | None = None, **options):
    entry = registry.get_entry(name)
    size = size or entry.info.sizes[0]
    return entry.loader(entry.info, split, None, size, False, **options)


def test_entries_are_registered_with_licence_and_citation():
    for name in NAMES:
        info = registry.get_info(name)
        assert info.source == "synthetic"
        assert info.licence == "CC0 (generated)"
        assert info.citation == "nasbench synthetic default"
        assert 28 in info.sizes
        assert set(info.splits) == {"train", "val", "test"}
        assert all(n > 0 for n in info.splits.values())
        assert len(_load(name, "val")) == info.splits["val"]


def test_same_seed_same_tensors_and_different_seed_different():
    a, b = _load("synthetic"), _load("synthetic")
    c = _load("synthetic", data_seed=1)
    for i in (0, 7):
        assert torch.equal(a[i][0], b[i][0])
        assert torch.equal(a[i][1], b[i][1])
    assert not torch.equal(a[0][0], c[0][0])
    assert not np.array_equal(a.targets, c.targets)
    # Order of access does not matter: each item has its own generator.
    assert torch.equal(_load("synthetic")[7][0], a[7][0])


def test_splits_differ():
    train, test = _load("synthetic", "train"), _load("synthetic", "test")
    assert not torch.equal(train[0][0], test[0][0])


@pytest.mark.parametrize(
    ("name", "size", "image_shape", "target_shape", "target_dtype"),
    [
        ("synthetic", 28, (1, 28, 28), (), torch.int64),
        ("synthetic", 64, (1, 64, 64), (), torch.int64),
        ("synthetic-multiclass", 28, (1, 28, 28), (), torch.int64),
        ("synthetic3d", 28, (1, 28, 28, 28), (), torch.int64),
        ("synthetic-seg", 28, (1, 28, 28), (1, 28, 28), torch.int64),
        ("synthetic-seg3d", 32, (1, 32, 32, 32), (1, 32, 32, 32), torch.int64),
    ],
)
def test_shapes_dtypes_and_range(name, size, image_shape, target_shape, target_dtype):
    image, target = _load(name, size=size)[3]
    assert image.dtype == torch.float32
    assert tuple(image.shape) == image_shape
    assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0
    assert float(image.std()) > 0.01
    assert target.dtype == target_dtype
    assert tuple(target.shape) == target_shape


def test_targets_match_items_and_are_balanced():
    for name in ("synthetic", "synthetic-multiclass", "synthetic3d"):
        ds = _load(name, "val")
        k = ds.info.num_classes
        assert ds.targets.shape == (len(ds),) and ds.targets.dtype == np.int64
        counts = np.bincount(ds.targets, minlength=k)
        assert counts.min() > 0.6 * len(ds) / k, counts
        for i in range(5):
            assert int(ds[i][1]) == ds.targets[i]


def test_lesion_images_differ_from_normal_ones():
    # Lesions are local contrast changes: normal and lesion images differ on average in
    # how far their most extreme smoothed patch strays from the median.
    ds = _load("synthetic", "train", length=200)
    score = []
    for i in range(len(ds)):
        x = torch.nn.functional.avg_pool2d(ds[i][0][None], 3, 1)[0, 0]
        score.append(float((x - x.median()).abs().max()))
    score = np.array(score)
    assert score[ds.targets == 1].mean() > score[ds.targets == 0].mean()


def test_segmentation_masks_take_declared_classes():
    for name in ("synthetic-seg", "synthetic-seg3d"):
        ds = _load(name, "train", size=28, length=12)
        seen = set()
        for i in range(len(ds)):
            seen |= set(np.unique(ds[i][1].numpy()).tolist())
        assert seen == {0, 1, 2}
        assert ds.targets is None


def test_reconstruction_input_is_degraded_target():
    ds = _load("synthetic-recon", size=64)
    x, target = ds[0]
    assert tuple(x.shape) == (3, 64, 64) and tuple(target.shape) == (1, 64, 64)
    assert 0.0 <= float(target.min()) and float(target.max()) <= 1.0
    image = zero_filled_magnitude(x[None])[0]
    error = float((image - target).abs().mean())
    assert 0.0 < error < float(target.mean())
    # The mask channel holds whole k-space columns, about a quarter of them at 4x.
    assert torch.equal(x[2], x[2, :1].expand(64, 64)) and 10 <= int(x[2, 0].sum()) <= 20
    # Fully sampled k-space gives the target back: the degradation is the undersampling.
    full = zero_filled_magnitude(_load("synthetic-recon", size=64, acceleration=1)[0][0][None])
    assert float((full[0] - target).abs().max()) < 1e-4
    assert "zero-filled" in ds.info.description


def test_cartesian_mask_keeps_centre_and_rate():
    keep = synthetic._cartesian_mask(np.random.default_rng(0), 64, 4, 0.08)
    assert keep.sum() == 16
    assert keep[30:34].all()


def test_bad_arguments_are_one_line_errors():
    with pytest.raises(DatasetError, match="split"):
        _load("synthetic", "search_train")
    with pytest.raises(DatasetError, match="too small"):
        _load("synthetic", size=8)
    with pytest.raises(IndexError):
        _load("synthetic", "val")[400]


def test_through_nasbench_data_load():
    data = pytest.importorskip("nasbench.data")
    ds = data.load("synthetic", "search_val", limit=20, transform=None)
    assert len(ds) == 20
    image, label = ds[0]
    assert tuple(image.shape) == (1, 28, 28) and label.dtype == torch.int64
