"""A person's own MedMNIST-format .npz: its split sizes are read from it, and a layout
error says how to fix the file before it offers the re-download that would replace it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nasbench.data import get_info
from nasbench.data.medmnist import load_split
from nasbench.errors import DatasetError

SIZES = {"train": 20, "val": 4, "test": 6}


def write_own(folder: Path, name: str = "breastmnist", shape=(28, 28), columns=1, **over):
    """Write a MedMNIST-format file with 20/4/6 images (not the official sizes)."""
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in SIZES.items():
        arrays[f"{split}_images"] = rng.integers(0, 256, (n, *shape), dtype=np.uint8)
        arrays[f"{split}_labels"] = (np.arange(n * columns) % 2).reshape(n, columns)
    arrays.update(over)
    np.savez(folder / f"{name}.npz", **{k: v for k, v in arrays.items() if v is not None})


def test_file_splits_counts_the_file_not_the_official_metadata(tmp_path):
    from nasbench.data.medmnist import file_splits

    info = get_info("breastmnist")
    write_own(tmp_path)
    assert file_splits(info, tmp_path, 28) == SIZES != info.splits
    assert len(load_split(info, "val", tmp_path, 28, download=False)) == 4


def test_file_splits_leaves_out_a_missing_split_and_gives_none_for_no_file(tmp_path):
    from nasbench.data.medmnist import file_splits

    info = get_info("breastmnist")
    assert file_splits(info, tmp_path, 28) is None
    (tmp_path / "breastmnist_64.npz").write_bytes(b"not a zip file")
    assert file_splits(info, tmp_path, 64) is None
    write_own(tmp_path, val_images=None, val_labels=None)
    assert file_splits(info, tmp_path, 28) == {"train": 20, "test": 6}


@pytest.mark.parametrize(
    ("name", "shape", "columns", "images", "labels"),
    [
        ("breastmnist", (28, 28), 1, "(N, 28, 28)", "(N, 1)"),
        ("bloodmnist", (28, 28, 3), 1, "(N, 28, 28, 3)", "(N, 1)"),
        ("chestmnist", (28, 28), 14, "(N, 28, 28)", "(N, 14)"),
    ],
)
def test_a_missing_split_says_how_to_add_it_before_offering_the_redownload(
    tmp_path, name, shape, columns, images, labels
):
    write_own(tmp_path, name, shape, columns, val_images=None, val_labels=None)
    with pytest.raises(DatasetError) as err:
        load_split(get_info(name), "train", tmp_path, 28, download=False)
    message = str(err.value)
    assert "\n" not in message
    add = (
        f"add them to the file (val_images: {images} uint8 images, "
        f"val_labels: {labels} integer labels)"
    )
    assert add in message
    redownload = "if the file was a download, delete it and load again to re-download it"
    assert redownload in message and message.index(add) < message.index(redownload)


def test_only_the_missing_key_is_asked_for(tmp_path):
    write_own(tmp_path, val_labels=None)
    with pytest.raises(DatasetError, match=r"lacks the keys val_labels ") as err:
        load_split(get_info("breastmnist"), "test", tmp_path, 28, download=False)
    assert "(val_labels: (N, 1) integer labels)" in str(err.value)
    assert "val_images:" not in str(err.value)


def test_labels_out_of_range_say_what_to_store_before_the_redownload(tmp_path):
    labels = (np.arange(20) % 3).reshape(20, 1)
    write_own(tmp_path, train_labels=labels)
    with pytest.raises(DatasetError) as err:
        load_split(get_info("breastmnist"), "train", tmp_path, 28, download=False)
    assert (
        "labels range from 0 to 2, expected 0 to 1 for breastmnist; store class indices "
        "into its 2 classes, or delete the file" in str(err.value)
    )
