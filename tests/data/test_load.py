"""nasbench.data.load(): the public entry point, end to end on real and synthetic files."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch

from nasbench import data
from nasbench.errors import DatasetError, DatasetNotFoundError

LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({})).open
BREAST_URL = "https://zenodo.org/records/10519652/files/breastmnist.npz?download=1"


def write_npz(path: Path, shape: tuple[int, ...], classes: int, n: int = 6) -> Path:
    """Write an official-format .npz with n samples per split."""
    rng = np.random.default_rng(0)
    arrays = {}
    for split in ("train", "val", "test"):
        arrays[f"{split}_images"] = rng.integers(0, 256, (n, *shape), dtype=np.uint8)
        arrays[f"{split}_labels"] = (np.arange(n) % classes).astype(np.uint8).reshape(n, 1)
    np.savez_compressed(path, **arrays)
    return path


def serve(local_file: Path):
    """An opener that answers any URL with ``local_file`` (a stand-in for Zenodo)."""

    def opener(url, timeout):
        opener.urls.append(url)
        return LOCAL(local_file.as_uri(), timeout=timeout)

    opener.urls = []
    return opener


def offline(url, timeout):
    raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")


def test_breastmnist_test_split_through_root(shared_medmnist):
    ds = data.load("breastmnist", split="test", root=shared_medmnist)
    assert len(ds) == 156 and ds.split == "test"
    assert ds.info.name == "breastmnist" and ds.info.task == "binary"
    image, target = ds[0]
    assert image.shape == (1, 28, 28) and image.dtype == torch.float32
    assert type(image) is torch.Tensor  # no MONAI MetaTensor leaks out
    assert -1.0 <= image.min() and image.max() <= 1.0  # default transform: [0, 1] -> [-1, 1]
    assert target.dtype == torch.int64
    assert ds.targets.shape == (156,) and ds.targets.dtype == np.int64


@pytest.mark.parametrize(
    ("name", "sizes"), [("breastmnist", (546, 78, 156)), ("pneumoniamnist", (4708, 524, 624))]
)
def test_official_split_sizes(shared_medmnist, name, sizes):
    lengths = tuple(len(data.load(name, s, root=shared_medmnist)) for s in ("train", "val", "test"))
    assert lengths == sizes


def test_transform_none_gives_raw_unit_range(shared_medmnist):
    raw = data.load("breastmnist", "val", root=shared_medmnist, transform=None)
    norm = data.load("breastmnist", "val", root=shared_medmnist)
    x_raw, x_norm = raw[5][0], norm[5][0]
    assert 0.0 <= x_raw.min() and x_raw.max() <= 1.0
    assert torch.allclose(x_norm, (x_raw - 0.5) / 0.5)


def test_augment_is_seeded_and_keeps_shape(shared_medmnist):
    def first_items(seed):
        ds = data.load("breastmnist", "val", root=shared_medmnist, transform="augment", seed=seed)
        return torch.stack([ds[i][0] for i in range(8)])

    plain = data.load("breastmnist", "val", root=shared_medmnist)
    base = torch.stack([plain[i][0] for i in range(8)])
    a, b = first_items(3), first_items(3)
    assert a.shape == (8, 1, 28, 28) and torch.equal(a, b)
    assert not torch.equal(a, base)  # some images were flipped or turned
    # flips and quarter turns only move pixels: each image keeps its intensities
    assert torch.allclose(a.flatten(1).sort().values, base.flatten(1).sort().values)


def test_callable_transform_is_applied_to_images(shared_medmnist):
    ds = data.load("breastmnist", "test", root=shared_medmnist, transform=lambda x: x * 0)
    assert ds[0][0].abs().sum() == 0


def test_rgb_and_3d_files_in_the_official_format(tmp_path):
    write_npz(tmp_path / "bloodmnist.npz", (28, 28, 3), classes=8, n=16)
    write_npz(tmp_path / "organmnist3d.npz", (28, 28, 28), classes=11, n=3)
    blood = data.load("bloodmnist", "train", root=tmp_path, download=False)
    organ = data.load("organmnist3d", "test", root=tmp_path, download=False)
    assert blood[0][0].shape == (3, 28, 28) and len(blood) == 16
    assert organ[0][0].shape == (1, 28, 28, 28) and len(organ) == 3
    assert organ.info.spatial_dims == 3
    batch = next(iter(torch.utils.data.DataLoader(blood, batch_size=4)))
    assert batch[0].shape == (4, 3, 28, 28) and batch[1].tolist() == [0, 1, 2, 3]


def test_search_halves_split_train(shared_medmnist):
    first = data.load("breastmnist", "search_train", root=shared_medmnist, seed=7)
    second = data.load("breastmnist", "search_val", root=shared_medmnist, seed=7)
    assert first.split == "search_train" and len(first) + len(second) == 546
    assert set(first.indices).isdisjoint(second.indices)
    assert abs(len(first) - len(second)) <= 1
    counts = np.bincount(first.targets) - np.bincount(second.targets)
    assert np.abs(counts).max() <= 1  # stratified


def test_limit_is_stratified_and_seeded(shared_medmnist):
    train = data.load("pneumoniamnist", "train", root=shared_medmnist)
    ds = data.load("pneumoniamnist", "train", root=shared_medmnist, limit=200, seed=1)
    again = data.load("pneumoniamnist", "train", root=shared_medmnist, limit=200, seed=1)
    other = data.load("pneumoniamnist", "train", root=shared_medmnist, limit=200, seed=2)
    assert len(ds) == 200 and np.array_equal(ds.indices, again.indices)
    assert not np.array_equal(ds.indices, other.indices)
    share = np.bincount(train.targets) / len(train)
    assert np.allclose(np.bincount(ds.targets) / 200, share, atol=0.01)
    assert np.array_equal(ds.targets, train.targets[ds.indices])


def test_limit_within_a_search_half(shared_medmnist):
    half = data.load("breastmnist", "search_val", root=shared_medmnist, seed=0)
    small = data.load("breastmnist", "search_val", root=shared_medmnist, seed=0, limit=40)
    assert len(small) == 40 and set(small.indices) <= set(half.indices)


def test_download_on_demand_into_the_cache(shared_medmnist, private_data_cache):
    opener = serve(shared_medmnist / "breastmnist.npz")
    assert not data.is_cached("breastmnist")
    ds = data.load("breastmnist", "test", opener=opener, progress=False)
    assert len(ds) == 156 and opener.urls == [BREAST_URL]
    assert sorted(p.name for p in private_data_cache.iterdir()) == ["breastmnist.npz"]
    assert data.is_cached("breastmnist")
    data.load("breastmnist", "val", opener=offline)  # cached now: no network needed


def test_download_with_wrong_md5_leaves_the_cache_empty(tmp_path, private_data_cache):
    fake = write_npz(tmp_path / "fake.npz", (28, 28), classes=2)
    with pytest.raises(DatasetError, match="has MD5 .* expected 750601b1f35ba3300ea97c75c52ff8f6"):
        data.load("breastmnist", "test", opener=serve(fake), progress=False)
    assert list(private_data_cache.iterdir()) == []


def test_offline_and_missing_gives_one_line_naming_file_folder_url(private_data_cache):
    with pytest.raises(DatasetNotFoundError) as err:
        data.load("breastmnist", "test", opener=offline)
    message = str(err.value)
    assert "\n" not in message
    assert "breastmnist.npz" in message and str(private_data_cache) in message
    assert BREAST_URL in message
    assert list(private_data_cache.iterdir()) == []


def test_missing_with_download_false(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"pneumoniamnist_64\.npz is not in .*False"):
        data.load("pneumoniamnist", root=tmp_path, size=64, download=False)


def test_unknown_name_suggests_the_closest():
    with pytest.raises(DatasetError, match="Did you mean 'breastmnist'"):
        data.load("breastmnst")


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"split": "training"}, r"unknown split 'training'.*train, val, test, search_train"),
        ({"size": 32}, r"breastmnist has no size 32; choose one of 28, 64, 128, 224"),
        ({"transform": "fancy"}, r"unknown transform 'fancy'"),
        ({"limit": 0}, r"limit must be a positive whole number"),
        ({"colour": True}, r"breastmnist has no option 'colour'; its options: opener, progress"),
    ],
)
def test_bad_arguments_are_one_line_errors(shared_medmnist, kwargs, pattern):
    with pytest.raises(DatasetError, match=pattern) as err:
        data.load("breastmnist", root=shared_medmnist, **kwargs)
    assert "\n" not in str(err.value)


def test_3d_subsets_have_no_size_128():
    with pytest.raises(DatasetError, match="choose one of 28, 64"):
        data.load("organmnist3d", size=128)


def test_public_api():
    for name in (
        "load",
        "get_info",
        "list_datasets",
        "is_cached",
        "data_root",
        "DatasetInfo",
        "register_dataset",
        "TASKS",
    ):
        assert hasattr(data, name), name
    assert data.data_root().name.startswith("nasbench-cache")  # NASBENCH_DATA from conftest


@pytest.fixture
def user_datasets():
    """Forget the datasets a test registers, so no other test sees them."""
    from nasbench import registry

    data.list_datasets()  # the built-ins, loaded before the snapshot
    saved = dict(registry._REGISTRIES["dataset"].entries)
    yield
    registry._REGISTRIES["dataset"].entries.clear()
    registry._REGISTRIES["dataset"].entries.update(saved)


@pytest.mark.parametrize("source", ["", "medmnist", "folder"])
def test_a_dataset_under_a_built_in_name_is_refused_whatever_its_source(user_datasets, source):
    import dataclasses

    from nasbench.data.registry import get_entry

    builtin = get_entry("breastmnist")
    info = dataclasses.replace(builtin.info, source=source)
    what = "folder" if source == "folder" else "dataset"
    with pytest.raises(DatasetError) as err:
        data.register_dataset(info, lambda info, split, root, size, download, **_: None)
    assert str(err.value) == (
        f"'breastmnist' is the name of a built-in dataset; register your {what} under another name."
    )
    assert get_entry("breastmnist") is builtin  # a search still reads the real one


def test_a_users_own_dataset_registered_again_takes_the_new_loader(user_datasets):
    import dataclasses

    info = dataclasses.replace(data.get_info("synthetic"), name="mine-test", source="")
    data.register_dataset(info, lambda info, split, root, size, download, **_: "first")
    data.register_dataset(info, lambda info, split, root, size, download, **_: "second")
    from nasbench.data.registry import get_entry

    assert get_entry("mine-test").loader(info, "train", None, 28, False) == "second"
