"""What describing and loading a user folder reads: each file's header once per process,
however many splits are loaded, and again once the file changes on disk."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import nasbench.data
from nasbench.data import folder, folder_layout, image_files
from tests.data.test_folder import _dicom

nib = pytest.importorskip("nibabel")
pydicom = pytest.importorskip("pydicom")


def _pngs(root: Path, n: int = 6) -> list[Path]:
    """Two classes of ``n`` grey PNGs each, one of them stored as RGB of equal channels."""
    files = []
    for label in ("normal", "pneumonia"):
        (root / label).mkdir(parents=True)
        for i in range(n):
            pixels = np.full((12, 12), 40 * i + (label == "pneumonia"), np.uint8)
            image = Image.fromarray(np.stack([pixels] * 3, -1) if i == 0 else pixels)
            image.save(root / label / f"{i}.png")
            files.append(root / label / f"{i}.png")
    return files


def _count_picture_headers(monkeypatch) -> Counter:
    """Count the picture headers examined, per file name (every header read goes through
    ``_picture_problem``)."""
    seen: Counter = Counter()
    examine = image_files._picture_problem

    def counted(image):
        seen["/".join(Path(image.filename).parts[-2:])] += 1
        return examine(image)

    monkeypatch.setattr(image_files, "_picture_problem", counted)
    return seen


def _count_opens(monkeypatch, owner, name: str, real=None) -> Counter:
    """Count the calls of ``owner.name`` (a file opener such as ``nib.load``) per file:
    the wrapper calls ``real`` (default: ``owner.name`` itself) and counts its first
    argument's last two path parts."""
    opened: Counter = Counter()
    real = real or getattr(owner, name)

    def counted(path, *args, **kwargs):
        opened[_key(Path(path))] += 1
        return real(path, *args, **kwargs)

    monkeypatch.setattr(owner, name, counted, raising=False)
    return opened


def _key(path: Path) -> str:
    return "/".join(path.parts[-2:])


def _with(items: list) -> list:
    return [(_key(Path(a)), b) for a, b in items]


def test_loading_every_split_examines_each_picture_header_once(tmp_path, monkeypatch):
    files = _pngs(tmp_path / "xrays")
    seen = _count_picture_headers(monkeypatch)
    info = folder.register_folder(tmp_path / "xrays", name="costs_pngs")
    splits = {s: nasbench.data.load("costs_pngs", s, size=28) for s in ("train", "val", "test")}
    for _ in range(2):  # two epochs: an item's read does not examine its header again
        items = [splits["train"][i] for i in range(len(splits["train"]))]
    # One header each: registering describes the folder, every load describes it again.
    assert {seen[_key(f)] for f in files} == {1}
    assert info.in_channels == 1 and len(items) == len(splits["train"])
    # The answers are those of a first reading (a copy: other paths, nothing cached).
    shutil.copytree(tmp_path / "xrays", tmp_path / "copy" / "xrays")
    fresh = nasbench.data.load("folder", "val", path=str(tmp_path / "copy" / "xrays"), size=28)
    again = nasbench.data.load("folder", "val", path=str(tmp_path / "xrays"), size=28)
    for field in ("in_channels", "num_classes", "class_names", "splits", "spatial_dims"):
        assert getattr(fresh.info, field) == getattr(again.info, field) == getattr(info, field)
    assert _with(fresh.base._items) == _with(again.base._items) == _with(splits["val"].base._items)
    assert all(torch.equal(a, b) for a, b in zip(fresh[0], again[0], strict=True))


def test_a_changed_picture_is_examined_again(tmp_path, monkeypatch):
    files = _pngs(tmp_path / "xrays")
    seen = _count_picture_headers(monkeypatch)
    assert folder.folder_info(tmp_path / "xrays")[0].in_channels == 1
    assert folder.folder_info(tmp_path / "xrays")[0].in_channels == 1
    assert seen[_key(files[1])] == 1
    # A colour image saved over a grey one: the folder is colour now.
    colour = np.zeros((12, 12, 3), np.uint8)
    colour[..., 0] = 200
    Image.fromarray(colour).save(files[1])
    stat = files[1].stat()
    os.utime(files[1], ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert folder.folder_info(tmp_path / "xrays")[0].in_channels == 3
    assert seen[_key(files[1])] == 2
    # Only its modification time changed: read again all the same.
    os.utime(files[2], ns=(stat.st_atime_ns, stat.st_mtime_ns + 2 * 10**9))
    folder.folder_info(tmp_path / "xrays")
    assert seen[_key(files[2])] == 2 and seen[_key(files[3])] == 1


def test_a_file_replaced_by_a_copy_that_keeps_its_time_and_size_is_read_again(tmp_path):
    # Masks fixed elsewhere and copied back with `cp -p` (or unpacked from an archive):
    # same names, sizes and modification times, new labels.
    root = tmp_path / "seg"
    for sub in ("images", "labels", "fixed"):
        (root / sub).mkdir(parents=True)
    for i in range(6):
        Image.fromarray(np.full((16, 16), 100, np.uint8)).save(root / "images" / f"c{i}.bmp")
        for sub, label in (("labels", 1), ("fixed", 2)):
            mask = np.zeros((16, 16), np.uint8)
            mask[4:8, 4:8] = label
            Image.fromarray(mask).save(root / sub / f"c{i}.bmp")
    fixed = tmp_path / "fixed"
    (root / "fixed").rename(fixed)
    assert folder.folder_info(root)[0].num_classes == 2
    for mask in sorted((root / "labels").iterdir()):
        old = mask.stat()
        shutil.copy2(fixed / mask.name, mask)
        os.utime(mask, ns=(old.st_atime_ns, old.st_mtime_ns))
        assert (mask.stat().st_size, mask.stat().st_mtime_ns) == (old.st_size, old.st_mtime_ns)
    assert folder.folder_info(root)[0].num_classes == 3


def _volumes(root: Path, n: int = 8) -> None:
    affine = np.diag([-1.0, 1, 1, 1])
    affine[:3, 3] = (-8, -8, -4)
    for sub in ("images", "labels"):
        (root / sub).mkdir(parents=True)
    for i in range(n):
        image = np.zeros((16, 16, 8), np.float32)
        image[4:10, 2:8, 2:6] = 100 + i
        nib.save(nib.Nifti1Image(image, affine), root / "images" / f"c{i}.nii.gz")
        mask = (image > 0).astype(np.float32)
        nib.save(nib.Nifti1Image(mask, affine), root / "labels" / f"c{i}.nii.gz")


def test_a_nifti_header_is_parsed_once_beside_each_read_of_its_voxels(tmp_path, monkeypatch):
    _volumes(tmp_path / "seg")
    folder.register_folder(tmp_path / "seg", name="costs_nifti")
    parsed = _count_opens(monkeypatch, nib, "load")
    splits = {s: nasbench.data.load("costs_nifti", s, size=28) for s in ("train", "val", "test")}
    # Registering read the grids of the train pairs; loading the splits reads no header.
    assert sum(parsed.values()) == 0
    train = splits["train"]
    for _ in range(2):
        masks = [train[i][1] for i in range(len(train))]
    # Two epochs: each image and mask read twice, its grid checked from the first reading.
    expected = {f"{d}/{Path(p).name}" for p in train.base.files for d in ("images", "labels")}
    assert set(parsed) == expected and set(parsed.values()) == {2}
    assert all(int(m.max()) == 1 for m in masks)


def test_suffixless_dicom_preambles_are_read_once_per_file(tmp_path, monkeypatch):
    for label in ("a", "b"):
        for i in range(3):
            _dicom(tmp_path / label / f"IM{i:04d}", np.full((4, 4), i))
    opened = _count_opens(monkeypatch, image_files, "open", real=open)  # the builtin
    first = folder_layout.scan_folder(tmp_path)
    again = folder_layout.scan_folder(tmp_path)
    assert sorted(opened.items()) == [(f"{c}/IM{i:04d}", 1) for c in "ab" for i in range(3)]
    assert _with(first.items["train"]) == _with(again.items["train"])
    assert sum(len(v) for v in first.items.values()) == 6


def test_a_segmentation_image_orientation_is_read_once_across_epochs(tmp_path, monkeypatch):
    # Each item read checks the image's EXIF orientation (a turned image would not match its
    # mask); PIL decodes a whole PNG to find it, so it is kept per file.
    root = tmp_path / "seg"
    for sub in ("images", "labels"):
        (root / sub).mkdir(parents=True)
    for i in range(6):
        Image.fromarray(np.full((16, 16), 30 * i, np.uint8)).save(root / "images" / f"c{i}.png")
        Image.fromarray(np.eye(16, dtype=np.uint8)).save(root / "labels" / f"c{i}.png")
    shutil.copy(root / "images" / "c0.png", tmp_path / "alone.png")
    open_picture = Image.open
    opened = _count_opens(monkeypatch, Image, "open")
    folder.register_folder(root, name="costs_seg_pngs")
    train = nasbench.data.load("costs_seg_pngs", "train", size=32, transform=None)
    image_files.read_image(tmp_path / "alone.png")  # its header is read and cached here
    opened.clear()
    image_files.read_image(tmp_path / "alone.png")
    per_read = opened[_key(tmp_path / "alone.png")]
    opened.clear()
    for _ in range(3):
        masks = [train[i][1] for i in range(len(train))]
    images = [f"images/{Path(p).name}" for p in train.base.files]
    # Three reads of each image, and one look at its orientation.
    assert len(images) >= 3 and per_read >= 1
    assert {opened[name] for name in images} == {3 * per_read + 1}
    assert all(int(mask.max()) == 1 for mask in masks)
    # An image saved over with an orientation tag is looked at again, and refused.
    turned = root / "images" / Path(train.base.files[0]).name
    exif = Image.Exif()
    exif[0x0112] = 6
    open_picture(turned).copy().save(turned, exif=exif.tobytes())
    stat = turned.stat()
    os.utime(turned, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    with pytest.raises(nasbench.data.DatasetError, match="carries EXIF orientation 6"):
        train[0]
