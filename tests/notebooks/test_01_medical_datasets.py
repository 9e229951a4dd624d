"""Lesson 01: the registry, MedMNIST files and the offline errors, a user folder, synthetic data."""

from __future__ import annotations

import numpy as np
import pytest

from tests.notebooks.conftest import (
    PLOTLY_MIME,
    WIDGET_MIME,
    checked_text,
    count_mime,
    outputs,
)

STEM = "01_medical_datasets"
HTML_MIME = "text/html"


def _stand_in_breastmnist(folder) -> None:
    """A tiny file in the official layout, so the lesson's "file on disk" branch runs offline."""
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", 24), ("val", 4), ("test", 8)):
        arrays[f"{split}_images"] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        arrays[f"{split}_labels"] = (np.arange(n) % 2).reshape(n, 1).astype(np.int64)
    folder.mkdir(parents=True)
    np.savez(folder / "breastmnist.npz", **arrays)


def _left_by_an_earlier_run(folder) -> None:
    """PNGs an earlier run with more images per class left in the lesson's folder: the
    lesson writes it afresh, so its split check counts this run's images only."""
    from PIL import Image

    for name in ("lesion", "no_lesion"):
        (folder / name).mkdir(parents=True)
        for index in range(9000, 9020):
            Image.new("L", (28, 28), 128).save(folder / name / f"scan_{index}.png")


@pytest.mark.slow
def test_datasets_lesson_runs_offline_and_registers_a_folder(run_lesson, tmp_path):
    from nasbench import data

    medmnist_root = tmp_path / "medmnist"
    _stand_in_breastmnist(medmnist_root)
    _left_by_an_earlier_run(tmp_path / "runs" / STEM / "my_scans")
    nb = run_lesson(STEM, MEDMNIST_ROOT=str(medmnist_root))
    text = checked_text(nb, STEM)
    # The offline messages name the file, the folder and where to fetch it.
    assert "breastmnist.npz is not in" in text and "download=False" in text
    assert "could not be downloaded" in text and "zenodo.org/records/10519652" in text
    assert "Task02_Heart" in text
    assert f"files are read from MEDMNIST_ROOT, {medmnist_root}" in text  # not the cache's
    # The user folder was written and registered (in the kernel; here the PNGs remain).
    pngs = list((tmp_path / "runs" / STEM / "my_scans").rglob("*.png"))
    assert len(pngs) == 60
    # The stand-in file was read: its class balance and a MedMNIST sample grid appear.
    html = [o["data"][HTML_MIME] for o in outputs(nb) if HTML_MIME in o.get("data", {})]
    assert any("nasbench-sample-grid" in h and "malignant" in h for h in html)
    assert count_mime(nb, PLOTLY_MIME) >= 2  # the 3D slices and the class balance
    assert count_mime(nb, WIDGET_MIME) >= 1  # the dataset picker
    assert data.is_cached("breastmnist", medmnist_root)


@pytest.mark.slow
def test_a_medmnist_root_that_does_not_exist_is_named_as_the_problem(run_lesson, tmp_path):
    """A typo in MEDMNIST_ROOT: the lesson says that folder does not exist, not to set it."""
    folder = tmp_path / "medmnst"
    text = checked_text(run_lesson(STEM, MEDMNIST_ROOT=str(folder)), STEM)
    assert f"files are read from MEDMNIST_ROOT, {folder}" in text
    assert (
        f"BreastMNIST is not on disk in {folder}: that folder (MEDMNIST_ROOT) does not exist; "
        "check the path in the parameters cell."
    ) in text
    assert "(or MEDMNIST_ROOT)" not in text
