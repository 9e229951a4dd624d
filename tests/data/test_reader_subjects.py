"""Who a file belongs to when a folder reader splits it (DICOM PatientID, series,
subfolder), and which files a reader skips."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from nasbench.data import folder, folder_layout, mri
from nasbench.data.landmarks import read_landmark_folder
from tests.data.test_folder import _dicom as write_dicom

nibabel = pytest.importorskip("nibabel")
pytest.importorskip("pydicom")


def _dicom(path: Path, spot: int, **fields) -> None:
    """A 32x32 16-bit DICOM slice, a box with a brighter pixel that ``spot`` (0 to 319)
    places, so each slice is found in its split by its bytes; header ``fields``."""
    pixels = np.zeros((32, 32), np.uint16)
    pixels[6:26, 8:24] = 500
    pixels[6 + spot % 20, 8 + spot // 20] = 1000
    write_dicom(path, pixels, **{"Modality": "MR", **fields})


def _split_of_each_group(root: Path, slices: dict, group_of) -> dict[str, set[str]]:
    """The splits each group's slice files landed in (a slice is found by its bytes)."""
    from nasbench.data.image_files import read_image

    held = {s: {part.tobytes() for part in parts} for s, parts in slices.items()}
    where: dict[str, set[str]] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        square = mri._file_slices(path, read_image, 32)[0].tobytes()
        where.setdefault(group_of(path), set()).update(s for s in held if square in held[s])
    return where


def _recon_split(root: Path) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "split one by one" warning: subjects were found
        return mri.folder_slices(root, size=32, seed=0)


def test_an_anonymised_recon_folder_is_split_by_series_not_file_by_file(tmp_path):
    # An anonymiser writes "ANONYMOUS" into every file: the series still tell subjects apart.
    for series in range(5):
        for k in range(4):
            _dicom(tmp_path / f"IM_{series}_{k}", 4 * series + k,
                   PatientID="ANONYMOUS", SeriesInstanceUID=f"1.2.3.{series}")  # fmt: skip
    slices = _recon_split(tmp_path)
    assert [len(slices[s]) for s in ("train", "val", "test")] == [12, 4, 4]
    where = _split_of_each_group(tmp_path, slices, lambda p: p.name.split("_")[1])
    assert len(where) == 5 and all(len(splits) == 1 for splits in where.values())


def test_a_recon_export_in_one_dicom_subfolder_is_split_by_patient_id(tmp_path):
    # A PACS or CD export: every patient's files in DICOM/, told apart by their headers.
    for patient in range(5):
        for k in range(4):
            _dicom(tmp_path / "DICOM" / f"IM{patient}{k:03d}", 4 * patient + k,
                   PatientID=f"PAT{patient}", SeriesInstanceUID=f"1.2.3.{patient}")  # fmt: skip
    slices = _recon_split(tmp_path)
    assert [len(slices[s]) for s in ("train", "val", "test")] == [12, 4, 4]
    where = _split_of_each_group(tmp_path, slices, lambda p: p.name[2])
    assert len(where) == 5 and all(len(splits) == 1 for splits in where.values())


def test_anonymised_dicom_subfolders_name_subjects_only_when_there_are_several(tmp_path):
    # One DICOM/ subfolder tells no one apart: the series do. Several patient subfolders
    # do, and keep a patient's two series together.
    export, patients = tmp_path / "export", tmp_path / "patients"
    for subject in range(5):
        for series in range(2):
            for k in range(2):
                spot = 4 * subject + 2 * series + k
                header = {"PatientID": "ANONYMOUS", "SeriesInstanceUID": f"1.2.{subject}.{series}"}
                _dicom(export / "DICOM" / f"IM{subject}{series}{k}", spot, **header)
                _dicom(patients / f"p{subject}" / f"IM{series}{k}", spot, **header)
    slices = _recon_split(export)
    where = _split_of_each_group(export, slices, lambda p: p.name[2:4])
    assert len(where) == 10 and all(len(splits) == 1 for splits in where.values())
    slices = _recon_split(patients)
    assert [len(slices[s]) for s in ("train", "val", "test")] == [12, 4, 4]
    where = _split_of_each_group(patients, slices, lambda p: p.parent.name)
    assert len(where) == 5 and all(len(splits) == 1 for splits in where.values())
    # The same in class folders of an image folder: <class>/<patient>/<series slices>.
    classes = tmp_path / "classes"
    for label in ("normal", "abnormal"):
        for image in patients.rglob("IM*"):
            target = classes / label / image.relative_to(patients)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(image.read_bytes())
    where = {}
    for split, items in folder_layout.scan_folder(classes, seed=0).items.items():
        for image, _ in items:
            where.setdefault(image.parent.relative_to(classes).as_posix(), set()).add(split)
    assert len(where) == 10 and all(len(splits) == 1 for splits in where.values())


def test_a_class_folder_of_dicom_exports_is_split_by_patient_id(tmp_path):
    # <class>/DICOM/IM...: the class folder's one subfolder is no patient; the headers are.
    for label, base in (("normal", 0), ("abnormal", 100)):
        for patient in range(5):
            for k in range(3):
                _dicom(tmp_path / label / "DICOM" / f"IM{patient}{k}", base + 3 * patient + k,
                       PatientID=f"{label}-{patient}")  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        info = folder.register_folder(tmp_path, name="dicom-exports")
    assert info.splits == {"train": 18, "val": 6, "test": 6}
    layout = folder_layout.scan_folder(tmp_path, seed=0)
    where: dict[str, set[str]] = {}
    for split, items in layout.items.items():
        for image, _ in items:
            where.setdefault(f"{image.parts[-3]}{image.name[2]}", set()).add(split)
    assert len(where) == 10 and all(len(splits) == 1 for splits in where.values())


def test_a_landmark_folder_skips_hidden_files(tmp_path):
    # macOS writes "._case0.nii.gz" beside each volume copied to a foreign disk.
    for i in range(3):
        image = nibabel.Nifti1Image(np.random.default_rng(i).random((8, 8, 8)), np.eye(4))
        nibabel.save(image, str(tmp_path / f"case{i}.nii.gz"))
        (tmp_path / f"case{i}.json").write_text(json.dumps({"landmarks": {"apex": [1, 2, 3]}}))
        (tmp_path / f"._case{i}.nii.gz").write_bytes(b"\0\5\26\7" + b"\0" * 100)
    cases = read_landmark_folder(tmp_path, size=8)
    assert [case[0] for case in cases] == ["case0", "case1", "case2"]
