"""Folders as people bring them, read wrong before: split folders named other than
train/val/test, one name in two formats, class folders apart only by case, EXIF-turned
segmentation images, links to nowhere, hidden copies in a reconstruction folder, and an
empty MONAI set. Each is refused in one line that names it, or skipped as documented."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import nasbench.data
from nasbench.data import folder, mri
from nasbench.data.batches import EpochBatches
from nasbench.data.folder_layout import scan_folder
from nasbench.errors import DatasetError


def _png(path: Path, seed: int = 0, pixels: np.ndarray | None = None, **save) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if pixels is None:
        pixels = np.random.default_rng(seed).integers(0, 256, (16, 16)).astype(np.uint8)
    Image.fromarray(pixels).save(path, **save)


def _classes(root: Path, names: tuple[str, ...], per_class: int = 4) -> None:
    for c, name in enumerate(names):
        for i in range(per_class):
            _png(root / name / f"{c}_{i}.png", seed=10 * c + i)


@pytest.mark.parametrize(
    "splits",
    [("Training", "Testing"), ("Train", "Val", "Test"), ("train ", "valid", "TEST")],
)
def test_split_folders_named_otherwise_are_not_read_as_classes(tmp_path, splits):
    for split in splits:  # Kaggle's Brain-Tumor-MRI layout: <split>/<class>/<image>
        _classes(tmp_path / split, ("glioma", "notumor"))
    with pytest.raises(DatasetError) as err:
        scan_folder(tmp_path)
    message = str(err.value)
    assert all(f"{split}/" in message for split in splits)
    assert "named as data splits" in message and "train/, val/ and test/" in message
    assert "\n" not in message


def test_a_class_that_only_sounds_like_a_split_is_still_a_class(tmp_path):
    _classes(tmp_path, ("trainee_scans", "control"))
    assert scan_folder(tmp_path).class_names == ("control", "trainee_scans")


@pytest.mark.parametrize("other", ["jpg", "PNG", "tif"])
def test_one_image_saved_in_two_formats_is_refused_not_split_apart(tmp_path, other):
    _classes(tmp_path, ("a", "b"), per_class=5)
    _png(tmp_path / "a" / f"0_3.{other}", seed=3)  # a second export of a/0_3.png
    if not (tmp_path / "a" / "0_3.png").exists() or len(list((tmp_path / "a").iterdir())) < 6:
        pytest.skip("this file system folds names that differ in case")
    with pytest.raises(DatasetError, match=r"images 0_3\.\w+ and 0_3\.\w+ in .*/a have one name "
                                           "in two formats; keep one") as err:  # fmt: skip
        scan_folder(tmp_path)
    assert "0_3.png" in str(err.value) and f"0_3.{other}" in str(err.value)
    assert "\n" not in str(err.value)


def test_a_mask_saved_in_two_formats_is_refused_not_picked_at_random(tmp_path):
    for i in range(4):
        _png(tmp_path / "images" / f"x{i}.png", seed=i)
        mask = np.zeros((16, 16), np.uint8)
        mask[2:8, 2:8] = 1
        _png(tmp_path / "labels" / f"x{i}.png", pixels=mask)
    _png(tmp_path / "labels" / "x2.bmp", pixels=np.full((16, 16), 2, np.uint8))
    with pytest.raises(DatasetError, match=r"files x2\.bmp and x2\.png in .*labels have one name"):
        scan_folder(tmp_path)


def test_one_volume_as_nii_and_nii_gz_is_refused(tmp_path):
    nib = pytest.importorskip("nibabel")
    for i in range(4):
        for sub in ("images", "labels"):
            (tmp_path / sub).mkdir(exist_ok=True)
            volume = np.zeros((8, 8, 4), np.float32)
            nib.save(nib.Nifti1Image(volume, np.eye(4)), tmp_path / sub / f"case{i}.nii.gz")
    nib.save(nib.Nifti1Image(np.zeros((8, 8, 4), np.float32), np.eye(4)),
             tmp_path / "images" / "case1.nii")  # fmt: skip
    with pytest.raises(DatasetError, match=r"case1\.nii(\.gz)? and case1\.nii(\.gz)? in "):
        scan_folder(tmp_path)


@pytest.mark.parametrize("twin", ["Normal", "NORMAL", "normal "])
def test_class_folders_apart_only_by_case_or_spaces_are_refused(tmp_path, twin):
    _classes(tmp_path, ("normal", "pneumonia"))
    if (tmp_path / twin).exists():
        pytest.skip("this file system folds names that differ in case")
    _classes(tmp_path, (twin,))
    with pytest.raises(DatasetError, match="differ only in letter case or spaces") as err:
        scan_folder(tmp_path)
    assert "'normal'" in str(err.value) and f"'{twin}'" in str(err.value)


def _turned_segmentation(root: Path, orientation: int) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    band = np.zeros((16, 16), np.uint8)
    band[:4] = 255  # a bright band along the top, marked in its mask
    for i in range(4):
        _png(root / "images" / f"x{i}.png", pixels=band, exif=exif.tobytes())
        _png(root / "labels" / f"x{i}.png", pixels=(band > 0).astype(np.uint8))


def test_an_exif_turned_segmentation_image_is_refused_when_read(tmp_path):
    _turned_segmentation(tmp_path, orientation=6)
    info = folder.register_folder(tmp_path, name="turned-seg")
    dataset = nasbench.data.load(info.name, "train", size=32, transform=None)
    with pytest.raises(DatasetError, match=r"x\d\.png carries EXIF orientation 6, so viewers "
                                           r"show it turned while its mask x\d\.png is read as "
                                           "stored; strip the orientation tag"):  # fmt: skip
        dataset[0]


def test_an_upright_exif_tag_is_read_as_before(tmp_path):
    _turned_segmentation(tmp_path, orientation=1)
    info = folder.register_folder(tmp_path, name="upright-seg")
    image, mask = nasbench.data.load(info.name, "train", size=32, transform=None)[0]
    # The band and its mask still overlap: rows 0-7 of 32 in both.
    assert mask[0, :8].eq(1).all() and mask[0, 8:].eq(0).all()
    assert image[0, :8].min() > image[0, 8:].max()


@pytest.mark.skipif(os.name == "nt", reason="symbolic links need privileges on Windows")
@pytest.mark.parametrize("kind", ["dangling", "loop"])
def test_a_link_to_nowhere_in_a_class_folder_is_named(tmp_path, kind):
    _classes(tmp_path, ("a", "b"))
    link = tmp_path / "a" / "scan.png"
    if kind == "dangling":  # a link farm whose store is not mounted
        link.symlink_to(tmp_path / "store" / "scan.png")
    else:
        link.symlink_to(tmp_path / "a" / "other.png")
        (tmp_path / "a" / "other.png").symlink_to(link)
    said = r"(scan|other)\.png is a symbolic link to .*, which does not exist or links back"
    with pytest.raises(DatasetError, match=said):
        scan_folder(tmp_path)


def test_a_reconstruction_folder_skips_copies_in_hidden_folders(tmp_path):
    for i in range(4):
        _png(tmp_path / f"s{i}.png", seed=i)
    # Jupyter's checkpoint copy of a slice: read, it would be one more subject.
    _png(tmp_path / ".ipynb_checkpoints" / "s0-checkpoint.png", seed=0)
    slices = mri.folder_slices(tmp_path, size=16, seed=0)
    assert sum(len(part) for part in slices.values()) == 4


def test_a_mednist_folder_of_empty_class_folders_is_refused_at_load(tmp_path):
    from nasbench.data import monai_sets

    pytest.importorskip("monai")
    for name in monai_sets.MEDNIST_CLASSES:  # an unpacking stopped before its first file
        (tmp_path / "MedNIST" / name).mkdir(parents=True)
    with pytest.raises(DatasetError, match=r"mednist: class folder AbdomenCT/ in .* holds "
                                           r"no image, as an extraction or copy that stopped "
                                           "early"):  # fmt: skip
        nasbench.data.load("mednist", "train", root=tmp_path, download=False, size=64)


def test_batches_of_an_empty_split_are_refused_in_one_line():
    with pytest.raises(DatasetError, match="a split to draw batches from holds no images"):
        EpochBatches([], batch_size=4, seed=0, stream=0)
    batches = EpochBatches([(torch.zeros(1, 2, 2), torch.tensor(0))], batch_size=4, seed=0,
                           stream=0)  # fmt: skip
    assert len(batches) == 1  # one image still makes one batch


def _dicomdir(path: Path) -> None:
    """A DICOM disc's index file: a DICOM file (preamble and all) that holds no image."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.1.3.10"  # Media Storage Directory Storage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    index = Dataset()
    index.file_meta = meta
    index.FileSetID = "DISC"
    index.DirectoryRecordSequence = []
    index.save_as(path, enforce_file_format=True)


def test_a_dicom_disc_index_is_skipped_not_read_as_an_image(tmp_path):
    pytest.importorskip("pydicom")
    from tests.data.test_folder import _dicom

    for label in ("normal", "pneumonia"):
        for i in range(4):
            _dicom(tmp_path / label / f"IM{i:04d}", np.full((8, 8), 10 * i + (label > "o")))
    _dicomdir(tmp_path / "normal" / "DICOMDIR")
    _dicomdir(tmp_path / "DICOMDIR")
    layout = scan_folder(tmp_path, seed=0)
    names = [path.name for items in layout.items.values() for path, _ in items]
    assert sorted(names) == sorted([f"IM{i:04d}" for i in range(4)] * 2)
    assert folder.folder_info(tmp_path)[0].class_names == ("normal", "pneumonia")
