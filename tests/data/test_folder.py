"""User folders: class subfolders and images/ + labels/, every format, every bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import nasbench.data
from nasbench.data import folder, folder_layout, folder_reading, image_files, registry
from nasbench.errors import DatasetError

nib = pytest.importorskip("nibabel")
pydicom = pytest.importorskip("pydicom")

folder.register()


def _png(path: Path, value: int, shape=(20, 16), rgb: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.full(shape, value, dtype=np.uint8)
    pixels[0, 0] = 0
    Image.fromarray(np.stack([pixels] * 3, -1) if rgb else pixels).save(path)


def _dicom(path: Path, pixels: np.ndarray, photometric: str = "MONOCHROME2", **fields) -> None:
    """Write ``pixels`` (rows x columns, or frames x rows x columns) as a 16-bit DICOM,
    with any header ``fields`` (such as ``PatientID``) given."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "OT"
    ds.Rows, ds.Columns = pixels.shape[-2:]
    if pixels.ndim == 3:
        ds.NumberOfFrames = pixels.shape[0]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.PixelData = pixels.astype(np.uint16).tobytes()
    for field, value in fields.items():
        setattr(ds, field, value)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


def _pattern(rows: int, high: int, dtype) -> np.ndarray:
    pixels = np.zeros((20, 16), dtype)
    pixels[:rows] = high
    return pixels


@pytest.fixture
def classes(tmp_path) -> Path:
    """Two classes of 10 images each, in PNG, JPEG, NIfTI and DICOM.

    Class 0 images are bright in their top quarter, class 1 in their top three quarters,
    so the class survives any intensity scaling.
    """
    root = tmp_path / "Xrays"
    for i in range(10):
        kind = i % 4
        for label, rows in (("normal", 5), ("pneumonia", 15)):
            target = root / label / f"img{i}"
            target.parent.mkdir(parents=True, exist_ok=True)
            if kind == 0:
                Image.fromarray(_pattern(rows, 255, np.uint8)).save(target.with_suffix(".png"))
            elif kind == 1:
                rgb = np.stack([_pattern(rows, 255, np.uint8)] * 3, -1)
                Image.fromarray(rgb).save(target.with_suffix(".jpeg"))
            elif kind == 2:
                image = nib.Nifti1Image(_pattern(rows, 900, np.float32), np.eye(4))
                nib.save(image, f"{target}.nii.gz")
            else:
                _dicom(target.with_suffix(".dcm"), _pattern(rows, 3000, np.uint16))
    (root / "normal" / ".DS_Store").write_bytes(b"junk")
    (root / "normal" / "notes.txt").write_text("skipped")
    return root


@pytest.fixture
def seg(tmp_path) -> Path:
    root = tmp_path / "seg"
    for i in range(10):
        _png(root / "images" / f"case{i}.png", 120)
        mask = np.zeros((20, 16), np.uint8)
        mask[5:10, 4:8] = 1
        mask[12:15, 4:8] = 2
        (root / "labels").mkdir(parents=True, exist_ok=True)
        Image.fromarray(mask).save(root / "labels" / f"case{i}.png")
    return root


def test_classification_folder_all_formats(classes):
    info = folder.register_folder(classes)
    assert info.name == "xrays" and info.task == "binary"
    assert info.class_names == ("normal", "pneumonia")
    assert info.splits == {"train": 14, "val": 2, "test": 4}
    entry = registry.get_entry("xrays")
    seen = set()
    for split in ("train", "val", "test"):
        ds = entry.loader(entry.info, split, None, 28, False)
        assert np.bincount(ds.targets).tolist() == [info.splits[split] // 2] * 2
        for i in range(len(ds)):
            image, label = ds[i]
            assert tuple(image.shape) == (1, 28, 28) and image.dtype == torch.float32
            assert label.dtype == torch.int64
            # Mean 0.25 for class 0 and 0.75 for class 1, whatever the file format.
            assert abs(float(image.mean()) - (0.25 + 0.5 * int(label))) < 0.05
            seen.add(image_files._suffix(ds.files[i]))
    assert seen == {".png", ".jpeg", ".nii.gz", ".dcm"}


def test_split_is_seeded_and_disjoint(classes):
    a = folder_layout.scan_folder(classes, seed=0).items
    b = folder_layout.scan_folder(classes, seed=0).items
    c = folder_layout.scan_folder(classes, seed=1).items
    assert a == b and a["test"] != c["test"]
    files = [{p for p, _ in a[s]} for s in ("train", "val", "test")]
    assert not (files[0] & files[1] or files[0] & files[2] or files[1] & files[2])


def _patient_of(path: Path) -> str:
    return path.parent.name


def _split_of_each_patient(items: dict, patient_of) -> dict[str, set[str]]:
    where: dict[str, set[str]] = {}
    for split, pairs in items.items():
        for image, _ in pairs:
            where.setdefault(patient_of(image), set()).add(split)
    return where


def _patients_split_whole(root: Path, patients: int, views: int, name, seed: int) -> dict:
    """Write ``patients`` patient folders of ``views`` images per class (folder names
    from ``name(label, patient)``), split them, and check each patient sits in one split
    and each split has both classes; return the layout."""
    for label, value in (("normal", 60), ("pneumonia", 200)):
        for patient in range(patients):
            for view in range(views):
                _png(root / label / name(label, patient) / f"{view}.png", value)
    layout = folder_layout.scan_folder(root, seed=seed)
    where = _split_of_each_patient(layout.items, lambda p: p.parent.relative_to(root).as_posix())
    assert len(where) == 2 * patients and all(len(splits) == 1 for splits in where.values())
    for split in ("train", "val", "test"):
        assert {label for _, label in layout.items[split]} == {0, 1}
    return layout


def test_auto_split_keeps_each_patient_folder_in_one_split(tmp_path):
    # Six patients per class, three images each: a per-image split would put most
    # patients in two or three splits.
    layout = _patients_split_whole(tmp_path, 6, 3, lambda label, p: f"{label}{p}", seed=3)
    assert sum(len(v) for v in layout.items.values()) == 36


def test_patient_folders_numbered_per_class_are_patients_of_their_own_class(tmp_path):
    # normal/patient00 and pneumonia/patient00 are two people: merging them would label
    # every merged patient with one class and leave the other class without patients.
    _patients_split_whole(tmp_path, 5, 2, lambda label, p: f"patient{p:02d}", seed=0)


def _dicom_patients_split_whole(root: Path, patients: int, slices: int, fields) -> dict:
    """Write ``slices`` DICOM slices per patient and class, header fields from
    ``fields(label, patient)``, split them, and check each patient sits in one split."""
    pixels = _pattern(10, 3000, np.uint16)
    for label in ("normal", "abnormal"):
        for patient in range(patients):
            for slice_ in range(slices):
                _dicom(root / label / f"{label}_{patient}_{slice_}.dcm", pixels,
                       **fields(label, patient))  # fmt: skip
    layout = folder_layout.scan_folder(root, seed=0)
    where = _split_of_each_patient(layout.items, lambda p: p.name.rsplit("_", 1)[0])
    assert len(where) == 2 * patients and all(len(splits) == 1 for splits in where.values())
    return layout


def test_an_anonymised_patient_id_shared_by_every_file_falls_back_to_the_series(tmp_path):
    _dicom_patients_split_whole(tmp_path, 4, 2, lambda label, p: {
        "PatientID": "ANONYMOUS", "SeriesInstanceUID": f"1.2.{len(label)}.{p}"})  # fmt: skip


def test_a_stray_subfolder_of_images_is_skipped_as_before(seg):
    _png(seg / "images" / "previews" / "thumb.png", 10)
    layout = folder_layout.scan_folder(seg)
    assert sum(len(v) for v in layout.items.values()) == 10


def test_auto_split_groups_dicom_slices_by_patient_id_or_series(tmp_path):
    def fields(label, patient):
        if patient % 2:  # an export that blanks the ID keeps the series
            return {"PatientID": "", "SeriesInstanceUID": f"1.2.3.{len(label)}.{patient}"}
        return {"PatientID": f"{label}-{patient}"}

    layout = _dicom_patients_split_whole(tmp_path, 5, 4, fields)
    assert [len(layout.items[s]) for s in ("train", "val", "test")] == [24, 8, 8]


def test_auto_split_groups_dicom_segmentation_cases_by_patient(tmp_path):
    for patient in range(5):
        for slice_ in range(3):
            stem = f"p{patient}_s{slice_}"
            _dicom(tmp_path / "images" / f"{stem}.dcm", _pattern(10, 3000, np.uint16),
                   PatientID=f"P{patient}")  # fmt: skip
            _png(tmp_path / "labels" / f"{stem}.png", 1)
    layout = folder_layout.scan_folder(tmp_path, seed=1)
    assert layout.task == "segmentation"
    where = _split_of_each_patient(layout.items, lambda p: p.name.split("_")[0])
    assert len(where) == 5 and all(len(splits) == 1 for splits in where.values())


def test_segmentation_patient_subfolders_pair_by_path_and_split_by_patient(tmp_path):
    for patient in range(6):
        for slice_ in range(3):
            _png(tmp_path / "images" / f"p{patient}" / f"{slice_}.png", 120)
            mask = np.zeros((20, 16), np.uint8)
            mask[2 + slice_ : 8, 4:8] = 1
            (tmp_path / "labels" / f"p{patient}").mkdir(parents=True, exist_ok=True)
            Image.fromarray(mask).save(tmp_path / "labels" / f"p{patient}" / f"{slice_}.png")
    layout = folder_layout.scan_folder(tmp_path, seed=0)
    assert layout.task == "segmentation" and sum(len(v) for v in layout.items.values()) == 18
    for pairs in layout.items.values():
        for image, mask in pairs:
            assert image.relative_to(tmp_path / "images") == mask.relative_to(tmp_path / "labels")
    where = _split_of_each_patient(layout.items, _patient_of)
    assert len(where) == 6 and all(len(splits) == 1 for splits in where.values())
    (tmp_path / "labels" / "p0" / "2.png").rename(tmp_path / "labels" / "p1" / "9.png")
    with pytest.raises(DatasetError, match=r"without a mask \['p0/2'\].*\['p1/9'\]"):
        folder_layout.scan_folder(tmp_path)


def test_own_split_folders_that_share_a_patient_are_warned_of(tmp_path, recwarn):
    for split in ("train", "val", "test"):
        for label in ("a", "b"):
            _png(tmp_path / split / label / f"{split}-{label}" / "0.png", 100)
    folder_layout.scan_folder(tmp_path)
    assert not [w for w in recwarn if "patient" in str(w.message)]  # disjoint patients
    _png(tmp_path / "test" / "a" / "train-a" / "later.png", 100)  # seen again in test/
    _dicom(tmp_path / "train" / "a" / "x.dcm", _pattern(5, 3000, np.uint16), PatientID="P7")
    _dicom(tmp_path / "val" / "b" / "y.dcm", _pattern(5, 3000, np.uint16), PatientID="P7")
    with pytest.warns(
        UserWarning, match=r"patient 'P7' \(and 1 more\) has images in train/ and val/"
    ):
        folder_layout.scan_folder(tmp_path)


def test_too_few_patients_split_per_image_with_a_warning(tmp_path):
    for label in ("a", "b"):
        for patient in range(2):
            for view in range(4):
                _png(tmp_path / label / f"{label}{patient}" / f"{view}.png", 100)
    with pytest.warns(UserWarning, match=r"class 'a' has images of 2 patients.*train/, val/"):
        layout = folder_layout.scan_folder(tmp_path, seed=0)
    labels = np.array(
        [label for _, label in folder_layout._classification_items(tmp_path, None)[1]]
    )
    expected = folder_layout._seeded_split(labels, 0)
    assert {s: len(v) for s, v in layout.items.items()} == {s: len(v) for s, v in expected.items()}


def test_split_folders_are_used(tmp_path):
    for split, n in (("train", 3), ("val", 1), ("test", 2)):
        for label in ("a", "b", "c"):
            for i in range(n):
                _png(tmp_path / split / label / f"{i}.png", 100)
    info, layout = folder.folder_info(tmp_path, name="abc")
    assert info.task == "multi-class" and info.num_classes == 3
    assert info.splits == {"train": 9, "val": 3, "test": 6}
    assert all(p.parts[-3] == "val" for p, _ in layout.items["val"])


def test_generic_entry_with_path_option(classes):
    entry = registry.get_entry("folder")
    ds = entry.loader(entry.info, "test", None, 32, False, path=classes)
    assert ds.info.name == "xrays" and len(ds) == 4
    assert tuple(ds[0][0].shape) == (1, 32, 32)
    with pytest.raises(DatasetError, match="path="):
        entry.loader(entry.info, "test", None, 32, False)


def test_colour_in_any_class_gives_three_channels(tmp_path):
    for label in ("a", "b"):
        for i in range(5):
            _png(tmp_path / label / f"{i}.png", 90)
    for i in range(5):  # class b in colour: channels that differ, not grey saved as RGB
        pixels = np.full((20, 16), 90, np.uint8)
        Image.fromarray(np.stack([pixels, pixels, pixels // 2], -1)).save(
            tmp_path / "b" / f"{i}.png"
        )
    info, layout = folder.folder_info(tmp_path)
    assert info.in_channels == 3
    ds = folder.FolderDataset(info, "train", layout.items["train"], 28)
    assert {tuple(ds[i][0].shape) for i in range(len(ds))} == {(3, 28, 28)}


@pytest.mark.parametrize("grey_name", ["0_first.png", "z_last.png"])
def test_one_grey_image_first_in_its_class_does_not_turn_a_colour_folder_grey(tmp_path, grey_name):
    # Colour pictures that differ only in hue; one grey image per class sorts first or last.
    for label, colour in (("red", (200, 0, 0)), ("green", (0, 200, 0))):
        for i in range(1, 6):
            path = tmp_path / label / f"{i}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.full((20, 16, 3), colour, np.uint8)).save(path)
        _png(tmp_path / label / grey_name, 90)
    for seed in range(4):  # whichever images the split puts first in train
        info, layout = folder.folder_info(tmp_path, seed=seed)
        assert info.in_channels == 3
    ds = folder.FolderDataset(info, "train", layout.items["train"], 28)
    colours = {tuple(ds[i][0][:, 0, 0].tolist()) for i in range(len(ds))}
    assert len(colours) >= 2  # red and green stay apart (grey would map both to one value)


def test_a_grey_palette_image_stays_grey(tmp_path):
    for label in ("a", "b"):
        for i in range(3):
            path = tmp_path / label / f"{i}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(np.full((20, 16), 40 * i, np.uint8)).convert("P").save(path)
    assert folder.folder_info(tmp_path)[0].in_channels == 1


def test_segmentation_folder(seg):
    info = folder.register_folder(seg, name="my-seg")
    assert info.task == "segmentation" and info.num_classes == 3
    entry = registry.get_entry("my-seg")
    ds = entry.loader(entry.info, "train", None, 32, False)
    assert len(ds) == 7 and ds.targets is None
    image, mask = ds[0]
    assert tuple(image.shape) == (1, 32, 32) and image.dtype == torch.float32
    assert tuple(mask.shape) == (1, 32, 32) and mask.dtype == torch.int64
    assert set(np.unique(mask.numpy())) == {0, 1, 2}


def test_segmentation_3d_nifti(tmp_path):
    for i in range(4):
        (tmp_path / "images").mkdir(exist_ok=True)
        (tmp_path / "labels").mkdir(exist_ok=True)
        image = np.random.default_rng(i).normal(size=(12, 10, 8)).astype(np.float32)
        mask = (image > 1).astype(np.uint8)
        nib.save(nib.Nifti1Image(image, np.eye(4)), tmp_path / "images" / f"c{i}.nii.gz")
        nib.save(nib.Nifti1Image(mask, np.eye(4)), tmp_path / "labels" / f"c{i}.nii.gz")
    info, layout = folder.folder_info(tmp_path)
    assert info.spatial_dims == 3 and info.num_classes == 2
    image, mask = folder.FolderDataset(info, "train", layout.items["train"], 16)[0]
    assert tuple(image.shape) == (1, 16, 16, 16) and tuple(mask.shape) == (1, 16, 16, 16)


def test_volumes_read_slice_axis_first(tmp_path):
    # A NIfTI volume stored (H, W, D) = (12, 10, 4) with slice k holding the value k.
    volume = np.broadcast_to(np.arange(4, dtype=np.float32), (12, 10, 4)).copy()
    nib.save(nib.Nifti1Image(volume, np.eye(4)), tmp_path / "vol.nii.gz")
    array = image_files.read_image(tmp_path / "vol.nii.gz")
    assert array.shape == (1, 4, 12, 10)  # (C, D, H, W), like Decathlon and MedMNIST3D
    assert [float(array[0, k].mean()) for k in range(4)] == [0.0, 1.0, 2.0, 3.0]


def test_binary_255_masks_become_0_1(seg):
    for i in range(10):
        mask = np.zeros((20, 16), np.uint8)
        mask[5:10, 4:8] = 255
        Image.fromarray(mask).save(seg / "labels" / f"case{i}.png")
    info, layout = folder.folder_info(seg)
    assert info.num_classes == 2
    mask = folder.FolderDataset(info, "train", layout.items["train"], 20)[0][1]
    assert set(np.unique(mask.numpy())) == {0, 1}


# --------------------------------------------------------------------------- bad input


def _one_line(excinfo) -> str:
    message = str(excinfo.value)
    assert "\n" not in message
    return message


def test_missing_and_empty_folder(tmp_path):
    with pytest.raises(DatasetError, match="does not exist") as e:
        folder.register_folder(tmp_path / "nope")
    _one_line(e)
    with pytest.raises(DatasetError, match="is empty") as e:
        folder.register_folder(tmp_path)
    _one_line(e)


def test_no_class_subfolders(tmp_path):
    _png(tmp_path / "a.png", 10)
    with pytest.raises(DatasetError, match="no class subfolders") as e:
        folder.register_folder(tmp_path)
    _one_line(e)


def test_class_folder_without_images(tmp_path):
    _png(tmp_path / "a" / "1.png", 10)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "readme.txt").write_text("no images")
    with pytest.raises(DatasetError, match=r"class folder .*b has no images"):
        folder.register_folder(tmp_path)


def test_unreadable_file_is_named(classes):
    bad = classes / "pneumonia" / "broken.png"
    bad.write_bytes(b"not a png at all")
    with pytest.raises(DatasetError, match="cannot read .*broken.png") as e:
        info, layout = folder.folder_info(classes)
        ds = folder.FolderDataset(info, "train", sum(layout.items.values(), []), 28)
        for i in range(len(ds)):
            ds[i]
    _one_line(e)


def test_image_and_mask_shapes_differ(seg):
    Image.fromarray(np.zeros((18, 16), np.uint8)).save(seg / "labels" / "case3.png")
    info, layout = folder.folder_info(seg)
    ds = folder.FolderDataset(info, "train", sum(layout.items.values(), []), 28)
    with pytest.raises(DatasetError, match="case3.png is 20x16 but its mask case3.png is 18x16"):
        for i in range(len(ds)):
            ds[i]


def test_mismatched_names(seg):
    (seg / "labels" / "case4.png").rename(seg / "labels" / "case4_mask.png")
    with pytest.raises(DatasetError, match=r"do not match.*'case4'.*'case4_mask'") as e:
        folder.register_folder(seg)
    _one_line(e)


def test_incomplete_split_folders(tmp_path):
    _png(tmp_path / "train" / "a" / "1.png", 10)
    _png(tmp_path / "test" / "a" / "1.png", 10)
    with pytest.raises(DatasetError, match="no val/"):
        folder.register_folder(tmp_path)


def test_mask_label_above_num_classes(seg):
    info, layout = folder.folder_info(seg, num_classes=2)
    with pytest.raises(DatasetError, match="pass num_classes="):
        folder.FolderDataset(info, "train", layout.items["train"], 20)[0]


def test_each_format_builds_its_monai_loader_once(classes, monkeypatch):
    import monai.transforms

    built = []
    original = monai.transforms.LoadImage

    def counting(*args, **kwargs):
        built.append(kwargs.get("reader"))
        return original(*args, **kwargs)

    monkeypatch.setattr(monai.transforms, "LoadImage", counting)
    image_files._loader.cache_clear()
    info = folder.register_folder(classes, name="xrays_once")
    ds = registry.get_entry(info.name).loader(info, "train", None, 28, False)
    for i in range(len(ds)):
        ds[i]
    for i in range(len(ds)):
        ds[i]
    # One loader per suffix seen, however many images were read.
    assert len(built) == len({image_files._suffix(f) for f in ds.files}) <= 4
    image_files._loader.cache_clear()


def test_a_folder_path_name_works_in_any_process(classes, tmp_path):
    import subprocess
    import sys

    from nasbench.config import DatasetConfig, SearchConfig

    name = f"folder:{classes}"  # the folder is .../Xrays: the name keeps its case
    ds = nasbench.data.load(name, "train", size=28)
    assert ds.info.name == name and ds.info.class_names == ("normal", "pneumonia")
    SearchConfig(dataset=DatasetConfig(name=name)).validate()
    # A new process (a search subprocess, a resume) needs no register_folder call.
    code = f"import nasbench.data as d; print(len(d.load({name!r}, 'train', size=28)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)  # fmt: skip
    assert int(out.stdout) == len(ds)
    with pytest.raises(DatasetError, match="folder"):
        nasbench.data.load(f"folder:{tmp_path / 'missing'}", "train")
    with pytest.raises(DatasetError, match="give the folder's path"):
        nasbench.data.load("folder:", "train")


def test_a_folder_run_begun_under_the_per_image_split_is_warned_of_on_resume():
    import warnings

    from nasbench.runs.environment import capture_environment

    with pytest.warns(UserWarning, match="split image by image; they are now split by patient"):
        folder_reading.warn_if_split_changed("folder:/data/xrays", {"device": "cpu"}, "runs/old")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        folder_reading.warn_if_split_changed(
            "folder:/data/xrays", capture_environment("cpu"), "runs/new"
        )
        folder_reading.warn_if_split_changed("breastmnist", {}, "runs/medmnist")


def test_anonymised_dicom_in_own_split_folders_shares_no_patient(tmp_path, recwarn):
    # Every file says PatientID "ANONYMOUS": no patient, so no shared one across splits.
    for split in ("train", "val", "test"):
        for label in ("a", "b"):
            for k in range(2):
                uid = f"1.2.{len(split) + ord(split[1])}.{ord(label)}.{k}"
                _dicom(tmp_path / split / label / f"{k}.dcm", _pattern(5, 3000, np.uint16),
                       PatientID="ANONYMOUS", SeriesInstanceUID=uid)  # fmt: skip
    folder_layout.scan_folder(tmp_path)
    assert not [w for w in recwarn if "patient" in str(w.message)]


@pytest.mark.parametrize("task", ["multi-label", "reconstruction", "regression", "Binary"])
def test_a_task_class_folders_cannot_hold_is_refused_at_registration(classes, task):
    with pytest.raises(DatasetError, match=f"not '{task}': class subfolders give one class"):
        folder.register_folder(classes, name="refused", task=task)
    assert "refused" not in registry.dataset_names()


def test_binary_needs_two_class_folders(tmp_path):
    for label in ("a", "b", "c"):
        for i in range(3):
            _png(tmp_path / label / f"{i}.png", 90)
    with pytest.raises(DatasetError, match="has 3 class folders .a, b, c.; a binary task needs"):
        folder_layout.scan_folder(tmp_path, task="binary")


def test_classes_and_split_do_not_depend_on_how_the_system_compares_paths(tmp_path, monkeypatch):
    import pathlib

    for label in ("Malignant", "benign"):
        for i in range(6):
            _png(tmp_path / label / f"{'AbCd'[i % 4]}{i}.png", 30 + 20 * i)
    here = folder_layout.scan_folder(tmp_path, seed=1)
    # Windows compares paths case-insensitively: the same folder must read the same there.
    monkeypatch.setattr(pathlib.PurePath, "__lt__", lambda a, b: str(a).lower() < str(b).lower())
    there = folder_layout.scan_folder(tmp_path, seed=1)
    assert here.class_names == there.class_names == ("Malignant", "benign")
    assert here.items == there.items


def test_a_colour_image_under_eight_pixels_counts_as_colour(tmp_path):
    for label in ("a", "b"):
        for i in range(4):
            _png(tmp_path / label / f"{i}.png", 60, shape=(6, 6))
    colour = np.zeros((6, 6, 3), np.uint8)
    colour[..., 0] = 220  # red: a JPEG's draft at an eighth of 6 px would be 0 px
    Image.fromarray(colour).save(tmp_path / "a" / "z_colour.jpg")
    assert folder.folder_info(tmp_path)[0].in_channels == 3
