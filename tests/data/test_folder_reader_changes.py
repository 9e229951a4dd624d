"""What a folder reads as is recorded when a run starts, and compared on resume or retrain;
NIfTI masks without geometry and float-noise masks read as before."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nasbench.data import folder, folder_reading, image_files, registry
from nasbench.errors import ConfigError
from nasbench.runs.environment import capture_environment


def _folder(root: Path) -> str:
    rng = np.random.default_rng(0)
    for label in ("normal", "pneumonia"):
        (root / label).mkdir(parents=True)
        for i in range(10):
            grey = rng.integers(0, 255, (12, 12), dtype=np.uint8)
            Image.fromarray(grey).save(root / label / f"{i}.png")
    return registry.dataset_key(f"folder:{root}")


def _environment(dataset: str, recorded: bool) -> dict:
    """As a search records it now (``recorded``), or as the code before this change did."""
    environment = capture_environment("cpu")
    if recorded:
        environment[folder_reading.FOLDER_READING] = folder_reading.folder_reading(dataset)
    else:
        environment.pop("folder_reader", None)
    return environment


def test_a_new_run_records_the_reading_and_an_unchanged_folder_is_quiet(tmp_path):
    from nasbench.config import SearchConfig
    from nasbench.engine.run_setup import run_environment

    dataset = _folder(tmp_path / "xrays")
    reading = folder_reading.folder_reading(dataset)
    assert reading["classes"] == ["normal", "pneumonia"]
    assert reading["in_channels"] == 1
    assert sum(n for n, _ in reading["splits"].values()) == 20
    assert all(len(digest) == 16 for _, digest in reading["splits"].values())
    environment = run_environment(SearchConfig(dataset={"name": dataset}), "cpu")
    assert environment[folder_reading.FOLDER_READING] == reading
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        folder_reading.warn_if_split_changed(dataset, environment, "runs/new")


def test_renumbered_classes_warn_in_one_line(tmp_path, monkeypatch):
    dataset = _folder(tmp_path / "xrays")
    environment = _environment(dataset, recorded=True)
    monkeypatch.setattr(
        folder_reading,
        "folder_reading",
        lambda d, real=folder_reading.folder_reading: {
            **real(d),
            "classes": ["pneumonia", "normal"],
        },  # fmt: skip
    )
    with pytest.warns(UserWarning, match="classes are renumbered") as caught:
        folder_reading.warn_if_split_changed(dataset, environment, "runs/x")
    assert "\n" not in str(caught[0].message)
    assert "an image its search trained on" in str(caught[0].message)


def test_files_moved_between_splits_warn(tmp_path):
    dataset = _folder(tmp_path / "xrays")
    environment = _environment(dataset, recorded=True)
    splits = environment[folder_reading.FOLDER_READING]["splits"]
    splits["train"] = [splits["train"][0], "0" * 16]  # as if other files were in train
    with pytest.warns(UserWarning, match="its splits hold other files \\(train"):
        folder_reading.warn_if_split_changed(dataset, environment, "runs/x")


def test_changed_channels_are_refused_before_any_network(tmp_path, monkeypatch):
    dataset = _folder(tmp_path / "xrays")
    environment = _environment(dataset, recorded=True)
    environment[folder_reading.FOLDER_READING]["in_channels"] = 3  # read as RGB when it began
    with pytest.raises(ConfigError, match="now reads as 1 channel.*networks take 3; start a new"):
        folder_reading.warn_if_split_changed(dataset, environment, "runs/x")


def test_a_run_from_the_earlier_reader_is_told_once(tmp_path):
    dataset = _folder(tmp_path / "xrays")
    with pytest.warns(UserWarning) as caught:
        folder_reading.warn_if_split_changed(
            dataset, _environment(dataset, recorded=False), "runs/old"
        )
    told = [str(w.message) for w in caught if "earlier folder reader" in str(w.message)]
    assert len(told) == 1 and "\n" not in told[0]
    for case in ("named on a Mac", "DICOM studies in patient subfolders", "saved as RGB"):
        assert case in told[0]


def test_resume_compares_the_reading(tmp_path, monkeypatch):
    from nasbench.config import SearchConfig
    from nasbench.engine.run_setup import open_or_create_run

    dataset = _folder(tmp_path / "xrays")
    run_dir = tmp_path / "run"
    config = SearchConfig(dataset={"name": dataset})
    _, store, _ = open_or_create_run(config, run_dir, False, lambda c: None, "cpu")
    store.close()
    real = folder_reading.folder_reading
    monkeypatch.setattr(folder_reading, "folder_reading", lambda d: {**real(d), "in_channels": 3})
    with pytest.raises(ConfigError, match="now reads as 3 channel"):
        open_or_create_run(config, run_dir, True, lambda c: None, "cpu")


def _nifti(path: Path, array: np.ndarray, affine: np.ndarray, codes=None) -> None:
    import nibabel

    image = nibabel.Nifti1Image(array, affine)
    if codes is not None:
        image.set_sform(affine, code=codes[0])
        image.set_qform(affine if codes[1] else None, code=codes[1])
    path.parent.mkdir(parents=True, exist_ok=True)
    nibabel.save(image, path)


_SCANNER = np.array([[0.9, 0, 0, -100], [0, 0.9, 0, -120], [0, 0, 3, 40], [0, 0, 0, 1.0]])


@pytest.mark.parametrize("blank", ["eye", "no codes"])
def test_a_nifti_mask_without_geometry_pairs_voxel_by_voxel(tmp_path, blank):
    pytest.importorskip("nibabel")
    image = tmp_path / "c1.nii.gz"
    mask = tmp_path / "c1_mask.nii.gz"
    _nifti(image, np.zeros((6, 6, 6), np.float32), _SCANNER)
    labels = np.zeros((6, 6, 6), np.uint8)
    if blank == "eye":
        _nifti(mask, labels, np.eye(4))
    else:
        _nifti(mask, labels, _SCANNER * 2, codes=(0, 0))
    folder._check_same_grid(image, mask)  # no DatasetError


def test_a_registration_sform_on_one_file_only_compares_qforms(tmp_path):
    pytest.importorskip("nibabel")
    import nibabel

    image, mask = tmp_path / "c1.nii.gz", tmp_path / "c1_mask.nii.gz"
    registered = nibabel.Nifti1Image(np.zeros((6, 6, 6), np.float32), None)
    registered.set_qform(_SCANNER, code=1)
    moved = _SCANNER.copy()
    moved[:3, 3] += 7  # registered to an atlas: another world
    registered.set_sform(moved, code=2)
    nibabel.save(registered, image)
    _nifti(mask, np.zeros((6, 6, 6), np.uint8), _SCANNER, codes=(0, 1))
    folder._check_same_grid(image, mask)  # same scanner qform: no DatasetError
    flipped = _SCANNER @ np.diag([-1, 1, 1, 1.0])
    _nifti(mask, np.zeros((6, 6, 6), np.uint8), flipped, codes=(0, 1))
    with pytest.raises(Exception, match="different voxel grids"):
        folder._check_same_grid(image, mask)


def test_float_noise_either_side_of_an_index_reads_as_it():
    mask = np.array([[0.99999994, -6e-8], [1.0, 0.0]], np.float32)
    assert image_files._mask_values(mask, Path("m.nii.gz")).tolist() == [[1, 0], [1, 0]]
    with pytest.raises(Exception, match="not class indices"):
        image_files._mask_values(np.array([[-1.0, 0.4]], np.float32), Path("m.nii.gz"))


def _patient_folder(root: Path, patients: int = 4) -> str:
    rng = np.random.default_rng(0)
    for label in ("normal", "pneumonia"):
        for patient in range(patients):
            (root / label / f"p{patient}").mkdir(parents=True)
            for i in range(3):
                grey = rng.integers(0, 255, (12, 12), dtype=np.uint8)
                Image.fromarray(grey).save(root / label / f"p{patient}" / f"{i}.png")
    return registry.dataset_key(f"folder:{root}")


def test_a_run_split_image_by_image_is_warned_only_where_patients_share_images(tmp_path):
    def told(dataset: str) -> list[str]:
        environment = _environment(dataset, recorded=True)
        environment.pop("folder_split")  # as a run of the reader that split image by image
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            folder_reading.warn_if_split_changed(dataset, environment, "runs/old")
        return [str(w.message) for w in caught if "split image by image" in str(w.message)]

    # Every image its own patient: both readers give the same split, so nothing is said.
    assert told(_folder(tmp_path / "flat")) == []
    [message] = told(_patient_folder(tmp_path / "patients"))
    assert "its images share patients (subfolders" in message and "start a new run" in message
    # Two patients a class are too few to split by: this reader splits image by image too.
    assert told(_patient_folder(tmp_path / "few", patients=2)) == []
