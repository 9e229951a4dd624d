"""Lesson 09: BreastMNIST from disk, the estimate, a budgeted search, retraining beside the
small CNN, the published rows, and the honest comparison."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.notebooks.conftest import checked_text

STEM = "09_your_own_data"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "medmnist"


@pytest.mark.slow
def test_own_data_lesson_on_a_stand_in_runs_offline(run_lesson, tmp_path):
    import nasbench

    nb = run_lesson(STEM)  # MEDMNIST_ROOT None, and the cache (NASBENCH_DATA) holds nothing
    text = checked_text(nb, STEM)
    assert "STAND-IN" in text  # offline and no file: it says the images are generated
    assert "s per step" in text and "MiB per step" in text

    (run_dir,) = sorted((tmp_path / "runs" / "09_your_own_data").glob("darts-*"))
    with nasbench.runs.load(run_dir) as run:
        assert run.status == "finished" and run.config["dataset"]["name"] == "breastmnist"
        assert {"retrain", "cnn"} <= set(run.history["phase"])
        assert run.config["max_seconds"] == 20


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "breastmnist.npz").is_file(), reason="no real BreastMNIST")
def test_own_data_lesson_reads_the_real_file(run_lesson):
    nb = run_lesson(STEM, MEDMNIST_ROOT=str(SHARED))
    text = checked_text(nb, STEM)
    assert "STAND-IN" not in text and f"reading breastmnist from {SHARED}" in text
    assert "Google AutoML Vision (published)" in text


@pytest.mark.slow
@pytest.mark.parametrize("made", [False, True], ids=["no such folder", "a folder without it"])
def test_a_medmnist_root_without_the_file_stops_rather_than_run_on_a_stand_in(
    run_lesson, tmp_path, made
):
    """A typo in MEDMNIST_ROOT used to fall back to generated images without a word."""
    from nbclient.exceptions import CellExecutionError

    folder = tmp_path / "medmnst"
    if made:
        folder.mkdir()
    with pytest.raises(CellExecutionError) as err:
        run_lesson(STEM, MEDMNIST_ROOT=str(folder))
    missing = "" if made else " (the folder does not exist)"
    assert (err.value.ename, err.value.evalue) == (
        "ConfigError",
        f"MEDMNIST_ROOT = {str(folder)!r} holds no breastmnist.npz{missing}; put the file there, "
        "or set MEDMNIST_ROOT = None to use the workbench's cache folder.",
    )
    assert not (tmp_path / "runs" / STEM / "stand-in").exists()
