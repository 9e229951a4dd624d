"""write_skewed_npz: the official file name appears only once the file is whole."""

from __future__ import annotations

import os

import numpy as np
import pytest

from nasbench.data import registry, skewed_npz

SPLITS = {"train": 4, "val": 2, "test": 2}


def test_a_write_cut_short_leaves_no_file_under_the_official_name(tmp_path, monkeypatch):
    real = np.savez_compressed

    def killed(file, **arrays):
        real(file, **{"train_images": arrays["train_images"]})  # half the set is out
        raise KeyboardInterrupt

    monkeypatch.setattr(skewed_npz.np, "savez_compressed", killed)
    with pytest.raises(KeyboardInterrupt):
        skewed_npz.write_skewed_npz(tmp_path, splits=SPLITS, size=28)
    assert list(tmp_path.iterdir()) == []  # neither a truncated npz nor a temp file
    assert not registry.is_cached("nodulemnist3d", root=tmp_path, size=28)
    monkeypatch.setattr(skewed_npz.np, "savez_compressed", real)
    path = skewed_npz.write_skewed_npz(tmp_path, splits=SPLITS, size=28)
    assert [p.name for p in tmp_path.iterdir()] == [path.name] == ["nodulemnist3d.npz"]
    with np.load(path) as npz:
        assert {k: len(npz[k]) for k in npz.files if k.endswith("_labels")} == {
            "train_labels": 4, "val_labels": 2, "test_labels": 2}  # fmt: skip
    umask = os.umask(0o022)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # readable as a plain file
