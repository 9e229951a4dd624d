"""A resume warns when the files of the run's data changed since it started."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nasbench.config import DatasetConfig
from nasbench.data.fingerprint import data_fingerprint, dataset_files
from nasbench.engine.search import resume, search
from nasbench.runs import load

from .conftest import tiny_config

MEDMNIST = "../shared/data/medmnist"


def _folder(root, seed=0):
    rng = np.random.default_rng(seed)
    for label in ("benign", "malignant"):
        (root / label).mkdir(parents=True)
        for i in range(12):
            pixels = rng.integers(0, 255, (28, 28), dtype=np.uint8)
            Image.fromarray(pixels).save(root / label / f"patient{i}.png")
    (root / ".DS_Store").write_bytes(b"not data")
    return root


def test_the_fingerprint_follows_content_not_place_or_hidden_files(tmp_path):
    first = _folder(tmp_path / "a")
    name = f"folder:{first}"
    digest = data_fingerprint(name)
    assert len(digest) == 64 and len(dataset_files(name)) == 24  # .DS_Store is no data
    copy = tmp_path / "b"
    shutil.copytree(first, copy)
    (copy / ".DS_Store").write_bytes(b"changed")
    assert data_fingerprint(f"folder:{copy}") == digest  # a copy elsewhere is the same data
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(copy / "benign" / "patient0.png")
    assert data_fingerprint(f"folder:{copy}") != digest
    assert data_fingerprint("synthetic") is None


def test_a_medmnist_file_is_fingerprinted_by_its_bytes():
    if not (Path(MEDMNIST) / "breastmnist.npz").is_file():
        pytest.skip("the shared MedMNIST files are not here")
    digest = data_fingerprint("breastmnist", 28, MEDMNIST)
    assert digest == data_fingerprint("breastmnist", 28, MEDMNIST)
    assert digest != data_fingerprint("pneumoniamnist", 28, MEDMNIST)
    assert data_fingerprint("breastmnist", 64, MEDMNIST) is None  # no such file here


def test_a_resume_on_changed_images_warns_and_on_the_same_ones_does_not(tmp_path):
    root = _folder(tmp_path / "images")
    config = tiny_config(dataset=DatasetConfig(name=f"folder:{root}", limit=24, batch_size=4),
                         epochs=1, max_steps_per_epoch=1, device="cpu")  # fmt: skip
    search(config, tmp_path / "run")
    assert load(tmp_path / "run").environment["data_fingerprint"] == data_fingerprint(
        f"folder:{root}"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same files: not a word
        resume(tmp_path / "run")
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(root / "benign" / "patient3.png")
    with pytest.warns(UserWarning, match=r"dataset folder:.* changed \(files replaced, added"):
        resume(tmp_path / "run")
