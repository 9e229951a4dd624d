"""Bad arguments to the data API are one-line DatasetErrors, never an empty answer."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench import data
from nasbench.errors import DatasetError


def test_load_refuses_a_seed_that_is_no_non_negative_integer():
    for seed in (None, -1, 1.5, True):
        with pytest.raises(DatasetError, match=rf"seed must be a non-negative integer, got "
                           rf"{seed!r}; pass one \(e\.g\. seed=0\)"):  # fmt: skip
            data.load("synthetic", "search_train", limit=8, seed=seed)
    a = data.load("synthetic", "search_train", limit=8, seed=np.int64(2))
    b = data.load("synthetic", "search_train", limit=8, seed=2)
    assert a.indices.tolist() == b.indices.tolist()


def test_list_datasets_refuses_an_unknown_task_and_takes_any_case():
    with pytest.raises(DatasetError, match=r"unknown task 'classfication'; choose one of binary, "
                       r"multi-class.* Classification is binary, multi-class, multi-label or "
                       r"ordinal\."):  # fmt: skip
        data.list_datasets(task="classfication")
    with pytest.raises(
        DatasetError, match=r"unknown task 'segmentaton'.*Did you mean 'segmentation'"
    ):
        data.list_datasets(task="segmentaton")
    binary = data.list_datasets(task="binary")
    assert binary and data.list_datasets(task="BINARY") == binary


def test_list_datasets_refuses_spatial_dims_other_than_2_or_3():
    for dims in (4, "2", True):
        with pytest.raises(DatasetError, match=rf"spatial_dims must be 2 or 3, got {dims!r}\."):
            data.list_datasets(spatial_dims=dims)
    assert data.list_datasets(spatial_dims=np.int64(3)) == data.list_datasets(spatial_dims=3)


def test_is_cached_refuses_a_size_the_dataset_does_not_come_in():
    for size in ("28", 27, 0):
        with pytest.raises(
            DatasetError, match=rf"synthetic has no size {size!r}; choose one of 28"
        ):
            data.is_cached("synthetic", size=size)
    assert data.is_cached("synthetic", size=28) is True
    # No size: each set's smallest, so a loop over every set (lesson 01) needs none.
    assert 28 not in data.get_info("synthetic-lesions").sizes
    assert all(isinstance(data.is_cached(i.name), bool) for i in data.list_datasets())


def test_register_dataset_and_data_root_refuse_wrong_types_in_one_line():
    with pytest.raises(
        DatasetError, match="register_dataset needs a DatasetInfo as info, got NoneType"
    ):
        data.register_dataset(None, None)
    with pytest.raises(
        DatasetError, match="register_dataset's loader must be a function, got NoneType"
    ):
        data.register_dataset(data.get_info("synthetic"), None)
    with pytest.raises(
        DatasetError, match=r"root must be a folder path \(a str or a Path\), got int 5"
    ):
        data.data_root(5)
