"""User folders: float masks round to their classes, NIfTI masks on another voxel grid than
their images are refused, and names in two Unicode forms (NFC, macOS's NFD) are one name."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import nasbench.data
from nasbench.data import folder, folder_layout, image_files
from nasbench.errors import DatasetError

nib = pytest.importorskip("nibabel")

NFC = unicodedata.normalize("NFC", "Ödem")
NFD = unicodedata.normalize("NFD", "Ödem")


def _grid(spacing=(1.0, 1, 1), origin=(-8, -8, -4), flip_x=False):
    """A scanner's grid: ``spacing`` mm voxels, RAS (x reversed: LAS), the origin off the
    corner. (An identity affine is the blank one nibabel writes when given none: such a
    file is paired voxel by voxel, so it cannot stand for a scanner's grid here.)"""
    affine = np.diag([*spacing, 1.0])
    affine[0, 0] *= -1 if flip_x else 1
    affine[:3, 3] = origin
    return affine


SCANNER = _grid()


def _volumes(root: Path, n: int = 5, mask_value=1.0, mask_affine=None, flip: bool = False):
    """images/ + labels/ of ``n`` float32 NIfTI volumes, a bright box marked in each mask."""
    for sub in ("images", "labels"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        image = np.zeros((16, 16, 8), np.float32)
        image[4:10, 2:8, 2:6] = 100 + i
        mask = np.zeros((16, 16, 8), np.float32)
        mask[4:10, 2:8, 2:6] = mask_value
        mask = mask[::-1].copy() if flip else mask
        affine = SCANNER if mask_affine is None else mask_affine
        nib.save(nib.Nifti1Image(image, SCANNER), root / "images" / f"c{i}.nii.gz")
        nib.save(nib.Nifti1Image(mask, affine), root / "labels" / f"c{i}.nii.gz")


def _png(path: Path, value: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((8, 8), value, np.uint8)).save(path)


def _skip_unless_both_forms_fit(tmp_path: Path) -> None:
    """Skip where the file system folds NFC and NFD into one name (macOS)."""
    probe = tmp_path / "probe"
    probe.mkdir()
    for name in (NFC, NFD):
        (probe / name).touch()
    if len(list(probe.iterdir())) != 2:
        pytest.skip("this file system stores NFC and NFD names as one")
    for name in list(probe.iterdir()):
        name.unlink()
    probe.rmdir()


# --------------------------------------------------------------------------- float masks


def test_float_mask_just_under_a_class_reads_as_that_class(tmp_path):
    # float32 label volumes written after resampling hold 0.99999994 for 1.
    _volumes(tmp_path, mask_value=np.float32(0.99999994))
    assert np.unique(image_files.read_mask(tmp_path / "labels" / "c0.nii.gz")).tolist() == [0, 1]
    info = folder.register_folder(tmp_path, name="float_masks")
    assert info.num_classes == 2
    image, mask = nasbench.data.load("float_masks", "train", size=28, transform=None)[0]
    assert int(mask[image > 0.5].min()) == 1  # the box is foreground, not background
    # Clearly not whole numbers are still refused.
    nib.save(
        nib.Nifti1Image(np.full((4, 4, 2), 0.999, np.float32), np.eye(4)), tmp_path / "m.nii.gz"
    )
    with pytest.raises(DatasetError, match="not class indices"):
        image_files.read_mask(tmp_path / "m.nii.gz")


def test_float_white_just_under_255_reads_as_binary(tmp_path):
    mask = np.zeros((4, 4, 2), np.float32)
    mask[1:3] = np.float32(254.99998)
    nib.save(nib.Nifti1Image(mask, np.eye(4)), tmp_path / "m.nii.gz")
    assert np.unique(image_files.read_mask(tmp_path / "m.nii.gz")).tolist() == [0, 1]


# --------------------------------------------------------------------------- voxel grids


def test_flipped_nifti_mask_is_refused_at_registration(tmp_path):
    # The same box in world space, stored with x reversed.
    _volumes(tmp_path, mask_affine=_grid(origin=(7, -8, -4), flip_x=True), flip=True)
    with pytest.raises(DatasetError) as caught:
        folder.register_folder(tmp_path, name="flipped")
    message = str(caught.value)
    assert "\n" not in message
    assert "c0.nii.gz" in message and "labels" in message and "images" in message
    assert "orientation: mask LAS, image RAS" in message
    assert "resample and reorient the mask" in message


def test_mask_at_another_spacing_is_refused(tmp_path):
    _volumes(tmp_path / "coarse", mask_affine=_grid(spacing=(2.0, 2, 2)))
    with pytest.raises(DatasetError, match=r"spacing: mask 2x2x2 mm, image 1x1x1 mm"):
        folder.register_folder(tmp_path / "coarse", name="spacing")
    # Affines rounded differently (a float32 sform beside a float64 one) are one grid.
    nearly = SCANNER.copy()
    nearly[:3, 3] += 1e-5
    _volumes(tmp_path / "nearly", mask_affine=nearly)
    assert folder.register_folder(tmp_path / "nearly", name="nearly").num_classes == 2


def test_mask_on_another_grid_is_refused_when_loaded(tmp_path):
    # Registration reads the headers of the first train pairs; every other pair is
    # checked as it is loaded.
    for split in ("train", "val", "test"):
        shifted = _grid(origin=(-3, -8, -4)) if split == "val" else SCANNER
        _volumes(tmp_path / split, n=2, mask_affine=shifted)
    folder.register_folder(tmp_path, name="late_grid")
    assert nasbench.data.load("late_grid", "train", size=28, transform=None)[0][1].sum() > 0
    with pytest.raises(DatasetError, match=r"origin: mask \(-3, -8, -4\) mm, image \(-8, -8, -4\)"):
        nasbench.data.load("late_grid", "val", size=28, transform=None)[0]


# --------------------------------------------------------------------------- Unicode names


def test_split_folders_in_two_unicode_forms_are_one_class(tmp_path):
    for split, form in (("train", NFC), ("val", NFD), ("test", NFC)):
        for name, value in ((form, 200), ("normal", 50)):
            for i in range(3):
                _png(tmp_path / split / name / f"{i}.png", value)
    info = folder.register_folder(tmp_path, name="umlaut_splits")
    assert info.class_names == ("normal", NFC)
    for split in ("train", "val", "test"):
        ds = nasbench.data.load("umlaut_splits", split, size=28, transform=None)
        bright = {int(ds[i][1]) for i in range(len(ds)) if float(ds[i][0].mean()) > 0.5}
        assert bright == {1}, split


def test_class_order_does_not_depend_on_the_form(tmp_path):
    for root, form in ((tmp_path / "nfc", NFC), (tmp_path / "nfd", NFD)):
        for name in (form, "normal"):
            for i in range(3):
                _png(root / name / f"{i}.png", 9)
    nfc = folder.register_folder(tmp_path / "nfc", name="umlaut_nfc").class_names
    nfd = folder.register_folder(tmp_path / "nfd", name="umlaut_nfd").class_names
    assert nfc == nfd == ("normal", NFC)


def test_class_folders_in_both_forms_are_refused(tmp_path):
    _skip_unless_both_forms_fit(tmp_path)
    for name in (NFC, NFD, "normal"):
        for i in range(3):
            _png(tmp_path / name / f"{i}.png", 9 * i)
    with pytest.raises(DatasetError) as caught:
        folder.register_folder(tmp_path, name="umlaut_both")
    message = str(caught.value)
    assert "\n" not in message
    assert f"'{NFC}'" in message and f"'{NFD}'" in message
    assert "two Unicode forms" in message and "NFC" in message and "NFD" in message
    assert "merge them" in message


def test_image_and_mask_named_in_two_forms_pair(tmp_path):
    for i in range(4):
        _png(tmp_path / "images" / f"{NFC}{i}.png", 100)
        mask = np.zeros((8, 8), np.uint8)
        mask[2:5, 2:5] = 1
        (tmp_path / "labels").mkdir(exist_ok=True)
        Image.fromarray(mask).save(tmp_path / "labels" / f"{NFD if i == 0 else NFC}{i}.png")
    info = folder.register_folder(tmp_path, name="umlaut_seg")
    assert sum(info.splits.values()) == 4
    pairs = folder_layout.scan_folder(tmp_path).items
    assert any(mask.name.startswith(NFD) for items in pairs.values() for _, mask in items)


def test_images_in_both_forms_are_refused(tmp_path):
    _skip_unless_both_forms_fit(tmp_path)
    for name in (NFC, NFD, "b", "c"):
        _png(tmp_path / "images" / f"{name}.png", 100)
    for name in (NFC, "b", "c"):
        _png(tmp_path / "labels" / f"{name}.png", 1)
    with pytest.raises(DatasetError, match="two Unicode forms"):
        folder.register_folder(tmp_path, name="umlaut_seg_both")
