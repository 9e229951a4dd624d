"""MedNIST and Decathlon entries, read by MONAI from tiny folders in the official layout."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from nasbench.data import monai_sets, registry
from nasbench.errors import DatasetError, DatasetNotFoundError

nib = pytest.importorskip("nibabel")

monai_sets.register()


def _load(name: str, split: str, root: Path, size: int, download: bool = False):
    entry = registry.get_entry(name)
    return entry.loader(entry.info, split, root, size, download)


@pytest.fixture
def mednist_root(tmp_path) -> Path:
    """MedNIST/<class>/<n>.jpeg, 5 images per class, each class a distinct grey level."""
    rng = np.random.default_rng(0)
    for c, name in enumerate(monai_sets.MEDNIST_CLASSES):
        folder = tmp_path / "MedNIST" / name
        folder.mkdir(parents=True)
        for i in range(5):
            pixels = np.clip(40 * c + rng.integers(0, 20, (64, 64)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"{i:06d}.jpeg")
    return tmp_path


@pytest.fixture
def spleen_root(tmp_path) -> Path:
    """Task09_Spleen with dataset.json and 10 labelled 12x10x8 cases."""
    task = tmp_path / "Task09_Spleen"
    (task / "imagesTr").mkdir(parents=True)
    (task / "labelsTr").mkdir()
    rng = np.random.default_rng(0)
    training = []
    for i in range(10):
        image = rng.normal(0, 100, (12, 10, 8)).astype(np.float32)
        label = np.zeros((12, 10, 8), dtype=np.uint8)
        label[3:8, 2:7, 2:6] = 1
        nib.save(nib.Nifti1Image(image, np.eye(4)), task / "imagesTr" / f"spleen_{i}.nii.gz")
        nib.save(nib.Nifti1Image(label, np.eye(4)), task / "labelsTr" / f"spleen_{i}.nii.gz")
        training.append(
            {"image": f"./imagesTr/spleen_{i}.nii.gz", "label": f"./labelsTr/spleen_{i}.nii.gz"}
        )
    meta = {
        "name": "Spleen",
        "description": "Spleen Segmentation",
        "reference": "Memorial Sloan Kettering Cancer Center",
        "licence": "CC-BY-SA 4.0",
        "release": "1.0 06/08/2018",
        "tensorImageSize": "3D",
        "modality": {"0": "CT"},
        "labels": {"0": "background", "1": "spleen"},
        "numTraining": 10,
        "numTest": 0,
        "training": training,
        "test": [],
    }
    (task / "dataset.json").write_text(json.dumps(meta))
    return tmp_path


def test_registry_entries():
    info = registry.get_info("mednist")
    assert info.num_classes == 6 and info.class_names[2] == "CXR"
    assert info.splits == {"train": 47164, "val": 5895, "test": 5895}
    assert len(monai_sets.MSD_TASKS) == 10
    brain = registry.get_info("msd-braintumour")
    assert (brain.in_channels, brain.num_classes, brain.spatial_dims) == (4, 4, 3)
    assert registry.get_info("msd-prostate").in_channels == 2
    spleen = registry.get_info("msd-spleen")
    assert spleen.licence == "CC BY-SA 4.0" and "Antonelli" in spleen.citation
    assert spleen.class_names == ("background", "spleen")
    assert sum(spleen.splits.values()) == 41


def test_mednist_local_folder(mednist_root):
    sizes = {s: len(_load("mednist", s, mednist_root, 64)) for s in ("train", "val", "test")}
    assert sizes == {"train": 24, "val": 3, "test": 3}
    ds = _load("mednist", "train", mednist_root, 28)
    image, label = ds[0]
    assert tuple(image.shape) == (1, 28, 28) and image.dtype == torch.float32
    assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0
    assert label.dtype == torch.int64 and int(label) == ds.targets[0]
    # The class folders were written at grey level ~40 * class: labels follow the folders.
    for i in range(4):
        image, label = ds[i]
        assert abs(float(image.mean()) * 255 - 40 * int(label) - 10) < 6
    assert registry.is_cached("mednist", root=mednist_root)


def test_mednist_split_is_fixed_and_disjoint(mednist_root):
    first = _load("mednist", "test", mednist_root, 64).monai_dataset.data
    again = _load("mednist", "test", mednist_root, 64).monai_dataset.data
    train = _load("mednist", "train", mednist_root, 64).monai_dataset.data
    assert [d["image"] for d in first] == [d["image"] for d in again]
    assert not {d["image"] for d in first} & {d["image"] for d in train}


def test_mednist_wrong_classes(mednist_root):
    (mednist_root / "MedNIST" / "Hand").rename(mednist_root / "MedNIST" / "Foot")
    with pytest.raises(DatasetError, match="expected"):
        _load("mednist", "train", mednist_root, 64)


def test_decathlon_local_folder(spleen_root):
    sizes = {s: len(_load("msd-spleen", s, spleen_root, 16)) for s in ("train", "val", "test")}
    assert sizes == {"train": 7, "val": 1, "test": 2}
    ds = _load("msd-spleen", "train", spleen_root, 16)
    image, mask = ds[0]
    assert tuple(image.shape) == (1, 16, 16, 16) and image.dtype == torch.float32
    assert tuple(mask.shape) == (1, 16, 16, 16) and mask.dtype == torch.int64
    assert set(np.unique(mask.numpy())) == {0, 1}
    assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0
    assert ds.targets is None
    test_files = {f for f, _ in _load("msd-spleen", "test", spleen_root, 16).files}
    assert not test_files & {f for f, _ in ds.files}


def test_loads_print_no_reader_warnings(spleen_root, mednist_root, recwarn):
    _load("msd-spleen", "train", spleen_root, 16)[0]
    _load("mednist", "train", mednist_root, 28)[0]
    assert not [str(w.message) for w in recwarn if "nvImageCodec" in str(w.message)]


def test_decathlon_label_out_of_range(spleen_root):
    bad = np.full((12, 10, 8), 5, dtype=np.uint8)
    for i in range(10):
        path = spleen_root / "Task09_Spleen" / "labelsTr" / f"spleen_{i}.nii.gz"
        nib.save(nib.Nifti1Image(bad, np.eye(4)), path)
    with pytest.raises(DatasetError, match="labels outside 0..1"):
        _load("msd-spleen", "train", spleen_root, 16)[0]


def test_decathlon_nan_voxels_and_missing_labels_name_the_file(spleen_root):
    task = spleen_root / "Task09_Spleen"
    image = np.zeros((12, 10, 8), dtype=np.float32)
    image[0, 0, 0] = np.nan
    for i in range(10):
        nib.save(nib.Nifti1Image(image, np.eye(4)), task / "imagesTr" / f"spleen_{i}.nii.gz")
    with pytest.raises(DatasetError, match="spleen_.*holds NaN or infinite voxels"):
        _load("msd-spleen", "train", spleen_root, 16)[0]
    for path in (task / "labelsTr").iterdir():
        path.unlink()
    with pytest.raises(DatasetError, match=r"labelsTr/spleen_\d\.nii\.gz \(No such file") as err:
        _load("msd-spleen", "train", spleen_root, 16)[0]
    assert "applying transform" not in str(err.value)


def test_decathlon_mask_on_another_grid_is_named_before_the_resize_hides_it(spleen_root):
    labels = spleen_root / "Task09_Spleen" / "labelsTr"
    small = np.zeros((6, 5, 4), dtype=np.uint8)
    small[1:3, 1:3, 1:3] = 1
    for i in range(10):
        nib.save(nib.Nifti1Image(small, np.eye(4)), labels / f"spleen_{i}.nii.gz")
    with pytest.raises(
        DatasetError,
        match=r"spleen_\d\.nii\.gz is 12x10x8 voxels but its mask labelsTr/.* is 6x5x4",
    ) as err:
        _load("msd-spleen", "train", spleen_root, 16)[0]
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "text, said",
    [
        ('{"training": [', "is damaged"),
        ("[]", "no 'training' list"),
        ('{"training": [{"image": "./imagesTr/a.nii.gz"}]}', "no 'training' list"),
    ],
)
def test_decathlon_damaged_dataset_json_is_named_not_called_a_download(spleen_root, text, said):
    (spleen_root / "Task09_Spleen" / "dataset.json").write_text(text)
    with pytest.raises(DatasetError, match=f"dataset.json (is damaged|has {said})") as err:
        _load("msd-spleen", "train", spleen_root, 16)
    assert said in str(err.value) and "could not get" not in str(err.value)
    assert "\n" not in str(err.value)


def test_decathlon_needs_only_the_training_list_of_dataset_json(spleen_root):
    path = spleen_root / "Task09_Spleen" / "dataset.json"
    # A task's own dataset.json, written by hand, with none of MONAI's descriptive keys.
    path.write_text(json.dumps({"training": json.loads(path.read_text())["training"]}))
    sizes = {s: len(_load("msd-spleen", s, spleen_root, 16)) for s in ("train", "val", "test")}
    assert sizes == {"train": 7, "val": 1, "test": 2}
    image, mask = _load("msd-spleen", "val", spleen_root, 16)[0]
    assert tuple(image.shape) == tuple(mask.shape) == (1, 16, 16, 16)


def test_decathlon_of_too_few_cases_for_a_test_split_says_so_not_that_files_are_damaged(
    spleen_root,
):
    path = spleen_root / "Task09_Spleen" / "dataset.json"
    path.write_text(json.dumps({"training": json.loads(path.read_text())["training"][:2]}))
    from nasbench.data import load

    assert len(load("msd-spleen", "train", spleen_root, size=28, download=False)) == 2
    for split in ("val", "test"):
        with pytest.raises(DatasetError) as err:
            load("msd-spleen", split, spleen_root, size=28, download=False)
        assert str(err.value) == (
            f"msd-spleen's {split} split holds no images, its train split 2: the dataset is "
            "too small to share out into train, val and test; add images (or cases) to it."
        )


def test_decathlon_splits_as_monai_shuffles_the_cases(spleen_root):
    from monai.apps import DecathlonDataset

    from nasbench.data.image_files import quiet_reader_setup

    with quiet_reader_setup():
        monai = DecathlonDataset(
            spleen_root,
            "Task09_Spleen",
            "training",
            transform=(),
            seed=monai_sets.SPLIT_SEED,
            val_frac=0.0,
            cache_rate=0.0,
            progress=False,
        )
    ours = [
        f for s in ("test", "val", "train") for f in _load("msd-spleen", s, spleen_root, 16).files
    ]
    assert ours == [(d["image"], d["label"]) for d in monai.data]


def test_a_placed_archive_is_checked_and_extracted_without_the_network(mednist_root, monkeypatch):
    import hashlib
    import shutil
    import tarfile

    import monai.apps
    import monai.apps.utils

    archive = mednist_root / "MedNIST.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(mednist_root / "MedNIST", arcname="MedNIST")
    shutil.rmtree(mednist_root / "MedNIST")
    monkeypatch.setattr(monai.apps.MedNISTDataset, "md5",
                        hashlib.md5(archive.read_bytes()).hexdigest())  # fmt: skip

    def no_network(*args, **kwargs):
        raise AssertionError("a placed archive needs no download")

    monkeypatch.setattr(monai.apps.utils, "download_url", no_network)
    assert len(_load("mednist", "test", mednist_root, 28)) > 0
    assert (mednist_root / "MedNIST" / "CXR").is_dir()
    shutil.rmtree(mednist_root / "MedNIST")
    archive.write_bytes(archive.read_bytes()[:200])  # a download cut short
    with pytest.raises(DatasetError, match="MedNIST.tar.gz is incomplete or damaged") as err:
        _load("mednist", "test", mednist_root, 28)
    assert "delete it and download it again" in str(err.value)
    assert not (mednist_root / "MedNIST").exists()


def test_download_fetches_checks_and_extracts_the_archive(mednist_root, tmp_path, monkeypatch):
    import hashlib
    import tarfile

    import monai.apps
    import monai.apps.utils

    served = tmp_path / "served" / "MedNIST.tar.gz"
    served.parent.mkdir()
    with tarfile.open(served, "w:gz") as tar:
        tar.add(mednist_root / "MedNIST", arcname="MedNIST")
    root = tmp_path / "data"
    monkeypatch.setattr(monai_sets, "MEDNIST_URL", served.as_uri())
    monkeypatch.setattr(monai.apps.utils, "download_url", _no_monai_download)
    monkeypatch.setattr(monai.apps.MedNISTDataset, "md5", "0" * 32)
    with pytest.raises(DatasetError, match="MD5 .* expected 0{32}; the file was discarded"):
        _load("mednist", "test", root, 28, download=True)
    assert not (root / "MedNIST.tar.gz").exists() and not (root / "MedNIST").exists()
    monkeypatch.setattr(monai.apps.MedNISTDataset, "md5",
                        hashlib.md5(served.read_bytes()).hexdigest())  # fmt: skip
    ds = _load("mednist", "test", root, 28, download=True)
    assert len(ds) > 0 and (root / "MedNIST" / "CXR").is_dir()


def _no_monai_download(*args, **kwargs):
    raise AssertionError("the archive is fetched by nasbench.data.download, not MONAI")


def test_a_damaged_image_in_mednist_is_named_in_one_line(mednist_root):
    (mednist_root / "MedNIST" / "CXR" / "000003.jpeg").write_bytes(b"")
    splits = [_load("mednist", split, mednist_root, 28) for split in ("train", "val", "test")]
    with pytest.raises(DatasetError, match="cannot read CXR/000003.jpeg") as err:
        [ds[i] for ds in splits for i in range(len(ds))]
    assert "\n" not in str(err.value) and "remove that file" in str(err.value)


def _every_item(root: Path, size: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    splits = [_load("mednist", split, root, size) for split in ("train", "val", "test")]
    return [ds[i] for ds in splits for i in range(len(ds))]


@pytest.mark.parametrize("size", [28, 64])
def test_mednist_items_are_one_grey_channel_at_size_whatever_the_file(mednist_root, size):
    cxr = mednist_root / "MedNIST" / "CXR"
    Image.fromarray(np.full((64, 64, 3), (200, 40, 40), np.uint8)).save(cxr / "000001.jpeg")
    Image.fromarray(np.full((80, 50), 90, np.uint8)).save(cxr / "000002.jpeg")
    Image.new("CMYK", (64, 64), (0, 0, 0, 100)).save(cxr / "000003.jpeg")
    items = _every_item(mednist_root, size)
    assert len(items) == 30
    assert {tuple(image.shape) for image, _ in items} == {(1, size, size)}
    batch = torch.stack([image for image, _ in items])  # what a search's batches do
    assert tuple(batch.shape) == (30, 1, size, size)
    assert 0.0 <= float(batch.min()) and float(batch.max()) <= 1.0


def test_mednist_leftovers_of_archivers_and_notebooks_are_skipped(mednist_root):
    folder = mednist_root / "MedNIST"
    hand = folder / "Hand"
    (hand / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (hand / "._000000.jpeg").write_bytes(b"\0\5\26\7")
    (hand / "notes.txt").write_text("checked by hand")
    (folder / ".ipynb_checkpoints").mkdir()
    (folder / "__MACOSX" / "Hand").mkdir(parents=True)
    (folder / "__MACOSX" / "Hand" / "._000000.jpeg").write_bytes(b"\0\5\26\7")
    (folder / "README.txt").write_text("MedNIST")
    items = _every_item(mednist_root, 28)
    assert len(items) == 30  # the five images of each of the six classes, nothing else
    assert sorted(int(label) for _, label in items) == sorted(list(range(6)) * 5)


def test_mednist_splits_alike_whatever_order_the_file_system_lists_files(mednist_root, monkeypatch):
    # MONAI's MedNISTDataset takes os.listdir's order, which differs between file systems
    # (ext4 hashes names per volume): two copies of the set split differently. Not here.
    import os

    def splits() -> dict[str, list]:
        return {
            split: [(d["image"], d["label"]) for d in _load("mednist", split, mednist_root, 28)
                    .monai_dataset.data]
            for split in ("train", "val", "test")
        }  # fmt: skip

    listed = splits()
    real = os.listdir
    monkeypatch.setattr(os, "listdir", lambda path=".": list(reversed(real(path))))
    monkeypatch.setattr(os, "scandir", _reversed_scandir(os.scandir))
    assert splits() == listed
    everything = sum(listed.values(), [])
    assert len(everything) == len(set(everything))  # a partition: no image in two splits
    sizes = monai_sets._monai_split_sizes(len(everything), 0.1, 0.1)  # MONAI's split sizes
    assert {k: len(v) for k, v in listed.items()} == sizes


def _reversed_scandir(scandir):
    import contextlib

    @contextlib.contextmanager
    def reversed_entries(path="."):
        with scandir(path) as entries:
            yield iter(list(entries)[::-1])

    return reversed_entries


def test_an_empty_mednist_class_folder_is_refused_naming_it(mednist_root):
    for image in (mednist_root / "MedNIST" / "Hand").iterdir():
        image.unlink()
    (mednist_root / "MedNIST" / "Hand" / ".DS_Store").write_bytes(b"\0")
    with pytest.raises(DatasetError) as err:
        _load("mednist", "train", mednist_root, 28)
    message = str(err.value)
    assert "\n" not in message
    assert f"class folder Hand/ in {mednist_root / 'MedNIST'} holds no image" in message
    assert "stopped early" in message and "remove the partial folder" in message


def test_a_damaged_archive_logs_nothing_above_the_one_line_error(mednist_root, monkeypatch):
    import logging

    archive = _placed_archive(mednist_root, monkeypatch)
    archive.write_bytes(archive.read_bytes()[:200])
    # MONAI's own handler prints its records to stdout ("ERROR - check_hash failed ...").
    records = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append
    monai_log = logging.getLogger("monai.apps")
    monai_log.addHandler(handler)
    try:
        with pytest.raises(DatasetError, match="MedNIST.tar.gz is incomplete or damaged"):
            _load("mednist", "test", mednist_root, 28)
    finally:
        monai_log.removeHandler(handler)
    assert [r.getMessage() for r in records if r.levelno >= logging.WARNING] == []


@pytest.mark.parametrize(
    ("name", "archive"), [("mednist", "MedNIST.tar.gz"), ("msd-spleen", "Task09_Spleen.tar")]
)
def test_missing_without_download_is_one_line(tmp_path, name, archive):
    with pytest.raises(DatasetNotFoundError) as caught:
        _load(name, "train", tmp_path, 28)
    message = str(caught.value)
    assert "\n" not in message
    assert str(tmp_path) in message and archive in message and "https://" in message
    assert not registry.is_cached(name, root=tmp_path)


def test_offline_download_is_one_line_and_writes_nothing(tmp_path, monkeypatch):
    def offline(url, timeout=None):
        assert timeout is not None  # a stalling proxy must not hang the load
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    for name in ("mednist", "msd-spleen"):
        with pytest.raises(DatasetNotFoundError, match="network is unreachable") as caught:
            _load(name, "train", tmp_path, 28, download=True)
        assert "\n" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def _placed_archive(root: Path, monkeypatch) -> Path:
    """MedNIST.tar.gz of the fixture's folder, placed in ``root`` (MD5 set), folder removed."""
    import hashlib
    import shutil
    import tarfile

    import monai.apps

    archive = root / "MedNIST.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root / "MedNIST", arcname="MedNIST")
    shutil.rmtree(root / "MedNIST")
    monkeypatch.setattr(monai.apps.MedNISTDataset, "md5",
                        hashlib.md5(archive.read_bytes()).hexdigest())  # fmt: skip
    return archive


def test_an_extraction_cut_short_leaves_no_partial_folder_and_the_next_load_is_whole(
    mednist_root, monkeypatch
):
    import tarfile

    _placed_archive(mednist_root, monkeypatch)
    real, members = tarfile.TarFile.extractfile, [0]

    def interrupted(self, *args, **kwargs):
        members[0] += 1
        if members[0] == 12:  # a Ctrl-C once two of the six classes are out
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)

    monkeypatch.setattr(tarfile.TarFile, "extractfile", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _load("mednist", "train", mednist_root, 28)
    assert members[0] == 12
    # Nothing under the final name (it would load as a smaller set), nothing hidden left.
    assert sorted(p.name for p in mednist_root.iterdir()) == ["MedNIST.tar.gz"]
    assert not registry.is_cached("mednist", root=mednist_root)
    monkeypatch.setattr(tarfile.TarFile, "extractfile", real)
    sizes = {s: len(_load("mednist", s, mednist_root, 28)) for s in ("train", "val", "test")}
    assert sizes == {"train": 24, "val": 3, "test": 3}  # all 30 images, MONAI's 10%/10%


def test_a_killed_extractions_leftover_is_removed_but_a_live_ones_is_not(mednist_root, monkeypatch):
    import os
    import subprocess
    import sys
    import time

    from nasbench.tempfiles import writer_tag

    _placed_archive(mednist_root, monkeypatch)

    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()  # its pid names a process that no longer runs
    host = writer_tag().partition("-")[2]
    dead = mednist_root / f".MedNIST.extracting-{ended.pid}-{host}-abcd1234"
    live = mednist_root / f".MedNIST.extracting-{os.getppid()}-{host}-efgh5678"
    # Another machine's (a root shared over NFS, another container): its pid means nothing
    # here, so it stays until a day old.
    foreign = mednist_root / f".MedNIST.extracting-{ended.pid}-00000000-ijkl9012"
    aged = mednist_root / f".MedNIST.extracting-{ended.pid}-00000000-mnop3456"
    for work in (dead, live, foreign, aged):
        (work / "MedNIST" / "CXR").mkdir(parents=True)
        (work / "MedNIST" / "CXR" / "000000.jpeg").write_bytes(b"cut short")
    day_old = time.time() - 25 * 3600
    os.utime(aged, (day_old, day_old))
    assert len(_load("mednist", "test", mednist_root, 28)) == 3
    assert not dead.exists() and live.is_dir() and foreign.is_dir() and not aged.exists()
    assert len(list((mednist_root / "MedNIST").rglob("*.jpeg"))) == 30
