"""The data fingerprint covers the files a folder's loader reads, and only those."""

from __future__ import annotations

import hashlib

import numpy as np
from PIL import Image

from nasbench.data.fingerprint import data_fingerprint, dataset_files
from tests.conftest import two_class_png_folder


def _folder(root):
    return two_class_png_folder(root, 5)


def _digest_as_before(root):
    """The fingerprint as runs recorded it before: every non-hidden file, path order."""
    files = sorted(p for p in root.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for path in files:
        size = path.stat().st_size
        digest.update(f"{path.relative_to(root).as_posix()}\0{size}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def test_notes_beside_the_images_do_not_change_the_fingerprint(tmp_path):
    root = _folder(tmp_path / "xr")
    name = f"folder:{root}"
    recorded = data_fingerprint(name)
    assert recorded == _digest_as_before(root)  # an older run's record of images alone holds
    (root / "NOTES.txt").write_text("scanned on the old machine")
    (root / "benign" / "report.csv").write_text("slice,finding\n0,none\n")
    assert len(dataset_files(name)) == 10
    assert data_fingerprint(name) == recorded
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(root / "benign" / "patient0.png")
    assert data_fingerprint(name) != recorded  # an image, though, is the data


def test_an_older_runs_record_of_notes_beside_the_images_still_matches(tmp_path):
    from nasbench.data.fingerprint import data_change

    root = _folder(tmp_path / "xr")
    (root / "NOTES.txt").write_text("scanned on the old machine")
    name = f"folder:{root}"
    recorded_before = _digest_as_before(root)  # the notes were hashed then
    assert data_change(recorded_before, name) == (data_fingerprint(name), None)
    # A retrain of that run records the search's fingerprint: the report sees the same data.
    from nasbench.data.registry import get_info
    from nasbench.evaluation.final_evaluation import _data_fingerprint

    data, environment = {"name": name, "size": 28}, {"data_fingerprint": recorded_before}
    retrained = _data_fingerprint(tmp_path / "run", data, environment, get_info(name))
    assert retrained == recorded_before
    (root / "benign" / "patient0.png").write_bytes(b"not the same image")
    assert data_change(recorded_before, name)[1] == "changed (files replaced, added or removed)"
