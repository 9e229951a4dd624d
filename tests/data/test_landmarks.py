"""synthetic-landmarks3d and landmark folders (NIfTI + JSON): determinism, geometry, errors."""

from __future__ import annotations

import json

import nibabel
import numpy as np
import pytest
import torch

from nasbench import data
from nasbench.data.landmarks import (
    LandmarkDataset,
    folder_splits,
    plane_through,
    read_landmark_folder,
    register_landmark_folder,
)
from nasbench.errors import DatasetError


def test_registered_as_a_3d_localisation_set():
    info = data.get_info("synthetic-landmarks3d")
    assert (info.task, info.spatial_dims, info.num_classes) == ("localisation", 3, 3)
    assert "localisation" in data.TASKS and "CC0" in info.licence


def test_same_seed_same_volumes_other_seed_other_volumes():
    a = LandmarkDataset("train", size=16, length=3, seed=4)
    b = LandmarkDataset("train", size=16, length=3, seed=4)
    c = LandmarkDataset("train", size=16, length=3, seed=5)
    for i in range(3):
        assert torch.equal(a[i][0], b[i][0]) and torch.equal(a[i][1], b[i][1])
    assert not torch.equal(a[0][1], c[0][1])
    assert not torch.equal(a[0][1], LandmarkDataset("test", size=16, length=1, seed=4)[0][1])


def test_landmarks_lie_inside_and_on_bright_structures():
    ds = data.load("synthetic-landmarks3d", "val", size=32, transform=None, length=6)
    for i in range(len(ds)):
        volume, points = ds[i]
        assert volume.shape == (1, 32, 32, 32) and points.shape == (3, 3)
        assert float(volume.min()) >= 0.0 and float(volume.max()) <= 1.0
        assert bool((points >= 0).all() and (points <= 31).all())
        at = [float(volume[0][tuple(p)]) for p in points.round().long().tolist()]
        assert min(at) > float(volume.mean())  # each landmark marks a structure


def test_n_landmarks_option_and_its_range():
    ds = LandmarkDataset("train", size=16, length=1, n_landmarks=5)
    assert ds[0][1].shape == (5, 3) and len(ds.landmark_names) == 5
    with pytest.raises(DatasetError, match="n_landmarks must be 1 to 6"):
        LandmarkDataset("train", size=16, length=1, n_landmarks=7)


def test_plane_through_three_landmarks():
    ds = LandmarkDataset("train", size=16, length=1)
    normal, offset = ds.plane(0)
    points = ds.landmarks[0]
    assert np.linalg.norm(normal) == pytest.approx(1.0)
    assert np.allclose(points @ normal, offset)
    with pytest.raises(DatasetError, match="collinear"):
        plane_through(np.array([[0, 0, 0], [1, 1, 1], [2, 2, 2.0]]))


def _write_case(folder, stem, shape=(20, 20, 20), marks=None, zooms=(2.0, 1.0, 1.0)):
    rng = np.random.default_rng(len(stem))
    image = nibabel.Nifti1Image(rng.random(shape).astype(np.float32), np.diag([*zooms, 1.0]))
    image.header.set_zooms(zooms)
    nibabel.save(image, str(folder / f"{stem}.nii.gz"))
    if marks is not None:
        (folder / f"{stem}.json").write_text(json.dumps({"landmarks": marks}))


def _folder(tmp_path, n=5):
    for i in range(n):
        _write_case(tmp_path, f"case{i}", marks={"apex": [19, 0, 9.5], "base": [0, 19, 19]})
    return tmp_path


def test_folder_volumes_are_resampled_with_their_landmarks_and_spacing(tmp_path):
    cases = read_landmark_folder(_folder(tmp_path), size=16)
    name, volume, points, spacing, names = cases[0]
    assert name == "case0" and names == ("apex", "base") and volume.shape == (16, 16, 16)
    assert np.allclose(points, [[15, 0, 7.5], [0, 15, 15]])  # index 19 of 20 -> 15 of 16
    assert spacing == pytest.approx((2.0 * 19 / 15, 19 / 15, 19 / 15))
    assert float(volume.min()) == 0.0 and float(volume.max()) == pytest.approx(1.0)


def test_registered_folder_loads_by_name_with_splits(tmp_path):
    info = register_landmark_folder(_folder(tmp_path), "My-Landmarks", size=16)
    assert info.name == "my-landmarks" and info.splits == {"train": 3, "val": 1, "test": 1}
    test = data.load("my-landmarks", "test", size=16, transform=None)
    assert len(test) == 1 and test[0][1].shape == (2, 3)
    assert {k: len(v) for k, v in folder_splits(3).items()} == {"train": 1, "val": 1, "test": 1}


def test_each_folder_case_keeps_its_own_spacing(tmp_path):
    """A folder mixing resolutions: mm distances must use each volume's own spacing."""
    marks = {"apex": [1, 1, 1], "base": [5, 5, 5]}
    for i in range(3):
        _write_case(tmp_path, f"a{i}", shape=(20, 20, 20), marks=marks, zooms=(1.0, 1.0, 1.0))
    for i in range(2):
        _write_case(tmp_path, f"b{i}", shape=(40, 40, 40), marks=marks, zooms=(2.0, 2.0, 2.0))
    register_landmark_folder(tmp_path, "mixed-spacing", size=16)
    train = data.load("mixed-spacing", "train", size=16, transform=None).base
    test = data.load("mixed-spacing", "test", size=16, transform=None).base
    assert train.spacings[0] == pytest.approx([19 / 15] * 3)
    assert test.spacings[0] == pytest.approx([2.0 * 39 / 15] * 3)  # b1: 40 voxels of 2 mm
    assert test.spacing == pytest.approx((2.0 * 39 / 15,) * 3)  # one case: uniform
    both = data.load("mixed-spacing", "val", size=16, transform=None).base
    assert both.spacings.shape == (1, 3)
    from nasbench.data.landmarks import LandmarkDataset

    mixed = LandmarkDataset("test", cases=([np.zeros((2, 2, 2))] * 2, [np.zeros((1, 3))] * 2,
                                           [(1.0, 1.0, 1.0), (2.0, 2.0, 2.0)], ("a",)))  # fmt: skip
    assert mixed.spacing is None and mixed.spacings.tolist() == [[1.0] * 3, [2.0] * 3]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"points": []}', 'needs a non-empty object "landmarks"'),
        ('{"landmarks": {"apex": [1, 2]}}', "landmark 'apex' must be three numbers"),
        ('{"landmarks": {"apex": [1, "a", 2]}}', "landmark 'apex' must be three numbers"),
        ('{"landmarks": {"apex": [1, 2, 25]}}', "lies outside the volume of shape"),
    ],
)
def test_malformed_annotation_is_a_one_line_error_naming_the_file(tmp_path, content, message):
    _write_case(tmp_path, "bad")
    (tmp_path / "bad.json").write_text(content)
    with pytest.raises(DatasetError, match=message) as err:
        read_landmark_folder(tmp_path, size=16)
    assert "bad.json" in str(err.value) and "\n" not in str(err.value)


def test_missing_annotation_and_inconsistent_names_name_the_file(tmp_path):
    _write_case(tmp_path, "a", marks={"apex": [1, 1, 1]})
    _write_case(tmp_path, "b")
    with pytest.raises(DatasetError, match=r"b\.json: missing"):
        read_landmark_folder(tmp_path)
    _write_case(tmp_path, "b", marks={"base": [1, 1, 1]})
    with pytest.raises(DatasetError, match=r"b\.json: lists landmarks \['base'\]"):
        read_landmark_folder(tmp_path)


def test_empty_or_small_folder_errors(tmp_path):
    with pytest.raises(DatasetError, match="holds no .nii"):
        read_landmark_folder(tmp_path)
    with pytest.raises(DatasetError, match="at least 3 cases"):
        register_landmark_folder(_folder(tmp_path, n=2), "tiny")
