"""MedMNIST registry entries and the .npz loader: real files, synthetic files, bad files."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from nasbench.data import get_info, list_datasets
from nasbench.data.medmnist import file_name, file_source, load_split
from nasbench.errors import DatasetError, DatasetNotFoundError

NAMES_2D = (
    "pathmnist chestmnist dermamnist octmnist pneumoniamnist retinamnist breastmnist "
    "bloodmnist tissuemnist organamnist organcmnist organsmnist"
).split()
NAMES_3D = (
    "organmnist3d nodulemnist3d adrenalmnist3d fracturemnist3d vesselmnist3d synapsemnist3d"
).split()


def write_npz(folder: Path, name: str, shape: tuple[int, ...], classes: int, n: int = 6, **over):
    """Write an official-format .npz with n samples per split; ``over`` replaces arrays."""
    rng = np.random.default_rng(0)
    arrays = {}
    for split in ("train", "val", "test"):
        arrays[f"{split}_images"] = rng.integers(0, 256, (n, *shape), dtype=np.uint8)
        arrays[f"{split}_labels"] = (np.arange(n) % classes).astype(np.uint8).reshape(n, 1)
    arrays.update(over)
    arrays = {k: v for k, v in arrays.items() if v is not None}
    path = folder / f"{name}.npz"
    np.savez_compressed(path, **arrays)
    return path


def load_refused(folder: Path, split: str = "train") -> str:
    """Load breastmnist's ``split`` from ``folder``, expect a DatasetError; its one line."""
    with pytest.raises(DatasetError) as err:
        load_split(get_info("breastmnist"), split, folder, 28, download=False)
    message = str(err.value)
    assert "\n" not in message
    return message


def test_registry_holds_all_18_subsets_with_official_metadata():
    medmnist = {i.name: i for i in list_datasets() if i.source == "medmnist"}
    assert sorted(medmnist) == sorted(NAMES_2D + NAMES_3D)
    assert all(medmnist[n].spatial_dims == 2 and 224 in medmnist[n].sizes for n in NAMES_2D)
    assert all(medmnist[n].spatial_dims == 3 and medmnist[n].sizes == (28, 64) for n in NAMES_3D)
    assert get_info("chestmnist").task == "multi-label"
    assert get_info("chestmnist").num_classes == 14
    assert get_info("retinamnist").task == "ordinal"
    assert get_info("pathmnist").in_channels == 3
    assert get_info("vesselmnist3d").modality == "shape from brain MRA"
    assert get_info("dermamnist").licence == "CC BY-NC 4.0"
    info = get_info("breastmnist")
    assert info.splits == {"train": 546, "val": 78, "test": 156}
    assert info.modality == "breast ultrasound"
    assert "Scientific Data 10, 41 (2023)" in info.citation and "BreastMNIST" in info.citation


def test_file_names_and_sources_follow_the_official_release():
    assert file_name("breastmnist", 28) == "breastmnist.npz"
    assert file_name("organmnist3d", 64) == "organmnist3d_64.npz"
    url, md5 = file_source("breastmnist", 28)
    assert url.startswith("https://zenodo.org/") and "breastmnist.npz" in url
    assert md5 == "750601b1f35ba3300ea97c75c52ff8f6"


@pytest.mark.parametrize(
    ("name", "sizes"), [("breastmnist", (546, 78, 156)), ("pneumoniamnist", (4708, 524, 624))]
)
def test_real_files_have_official_split_sizes_and_layout(shared_medmnist, name, sizes):
    info = get_info(name)
    for split, expected in zip(("train", "val", "test"), sizes, strict=True):
        ds = load_split(info, split, shared_medmnist, 28, download=False)
        assert len(ds) == expected
        assert ds.images.dtype == np.uint8
        assert ds.targets.shape == (expected,) and ds.targets.dtype == np.int64
        assert set(np.unique(ds.targets)) == {0, 1}
    image, target = ds[0]
    assert image.shape == (1, 28, 28) and image.dtype == torch.float32
    assert 0.0 <= image.min() and image.max() <= 1.0
    assert target.dtype == torch.int64 and target.ndim == 0


def test_rgb_multiclass_file_gives_channel_first_images(tmp_path):
    write_npz(tmp_path, "bloodmnist", (28, 28, 3), classes=8, n=8)
    ds = load_split(get_info("bloodmnist"), "val", tmp_path, 28, download=False)
    image, target = ds[3]
    assert image.shape == (3, 28, 28)
    raw = ds.images[3]
    assert torch.allclose(image[2], torch.from_numpy(raw[..., 2]).float() / 255)
    assert int(target) == 3 and ds.targets.tolist() == list(range(8))


def test_3d_file_gives_one_channel_volumes(tmp_path):
    write_npz(tmp_path, "organmnist3d", (28, 28, 28), classes=11, n=4)
    ds = load_split(get_info("organmnist3d"), "train", tmp_path, 28, download=False)
    image, _ = ds[0]
    assert len(ds) == 4 and image.shape == (1, 28, 28, 28) and image.dtype == torch.float32


def test_multilabel_targets_are_float_vectors(tmp_path):
    labels = np.zeros((4, 14), dtype=np.uint8)
    labels[1, [2, 5]] = 1
    write_npz(tmp_path, "chestmnist", (28, 28), classes=2, n=4, test_labels=labels)
    ds = load_split(get_info("chestmnist"), "test", tmp_path, 28, download=False)
    assert ds.targets.shape == (4, 14)
    target = ds[1][1]
    assert target.dtype == torch.float32 and target.nonzero().flatten().tolist() == [2, 5]


def test_missing_file_without_download_names_file_folder_and_url(tmp_path):
    with pytest.raises(DatasetNotFoundError) as err:
        load_split(get_info("breastmnist"), "test", tmp_path, 28, download=False)
    message = str(err.value)
    assert "\n" not in message
    assert "breastmnist.npz" in message and str(tmp_path) in message
    assert "https://zenodo.org/records/10519652/files/breastmnist.npz" in message
    assert "download=False" in message
    assert list(tmp_path.iterdir()) == []


def test_truncated_file_asks_to_delete_and_redownload(tmp_path, shared_medmnist):
    data = (shared_medmnist / "breastmnist.npz").read_bytes()
    (tmp_path / "breastmnist.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError, match=r"breastmnist\.npz.*truncated.*delete it") as err:
        load_split(get_info("breastmnist"), "train", tmp_path, 28, download=False)
    assert "\n" not in str(err.value)


def test_garbage_file_is_reported_not_crashing(tmp_path):
    (tmp_path / "breastmnist.npz").write_bytes(b"not a zip file at all")
    with pytest.raises(DatasetError, match="is not a .npz file .* starts with 'not a zip file"):
        load_split(get_info("breastmnist"), "train", tmp_path, 28, download=False)


def test_wrong_keys_are_named(tmp_path):
    write_npz(tmp_path, "breastmnist", (28, 28), classes=2, val_labels=None)
    with pytest.raises(DatasetError, match="lacks the keys val_labels") as err:
        load_split(get_info("breastmnist"), "train", tmp_path, 28, download=False)
    assert "re-download" in str(err.value)


def test_labels_out_of_range_are_reported(tmp_path):
    labels = np.array([[0], [1], [2], [0], [1], [0]], dtype=np.uint8)
    write_npz(tmp_path, "breastmnist", (28, 28), classes=2, train_labels=labels)
    with pytest.raises(DatasetError, match="labels range from 0 to 2, expected 0 to 1"):
        load_split(get_info("breastmnist"), "train", tmp_path, 28, download=False)


@pytest.mark.parametrize(
    ("name", "shape"),
    [("breastmnist", (28, 28, 3)), ("bloodmnist", (28, 28)), ("organmnist3d", (28, 28))],
)
def test_image_shape_must_match_channels_and_dims(tmp_path, name, shape):
    write_npz(tmp_path, name, shape, classes=2)
    with pytest.raises(DatasetError, match="images have shape"):
        load_split(get_info(name), "test", tmp_path, 28, download=False)


def test_image_size_must_match_the_requested_size(tmp_path):
    write_npz(tmp_path, "breastmnist_64", (28, 28), classes=2)
    with pytest.raises(DatasetError, match=r"expected \('N', 64, 64\)"):
        load_split(get_info("breastmnist"), "test", tmp_path, 64, download=False)


def test_a_header_claiming_more_than_its_member_holds_is_refused_before_reading(tmp_path):
    # A 1 KB file whose train_images header claims 73 GiB: numpy would allocate it all.
    path = write_npz(tmp_path, "breastmnist", (28, 28), classes=2)
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "|u1", "fortran_order": False, "shape": (10**8, 28, 28)}
    )
    members["train_images.npy"] = header.getvalue() + bytes(100)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    message = load_refused(tmp_path)
    assert "breastmnist.npz" in message and "train_images.npy claims shape" in message
    assert "delete it and load again" in message
    # The other splits' members are whole and still read.
    assert len(load_split(get_info("breastmnist"), "val", tmp_path, 28, download=False)) == 6


def test_running_out_of_memory_while_reading_is_one_line(tmp_path, monkeypatch):
    write_npz(tmp_path, "breastmnist", (28, 28), classes=2)

    def out_of_memory(*args, **kwargs):
        raise MemoryError("Unable to allocate 73.0 GiB")

    monkeypatch.setattr(np.lib.format, "read_array", out_of_memory)
    with pytest.raises(DatasetError, match=r"breastmnist\.npz cannot be read.*MemoryError.*delete"):
        load_split(get_info("breastmnist"), "train", tmp_path, 28, download=False)


def test_corrupt_member_is_reported(tmp_path, shared_medmnist):
    # Flip bytes inside the compressed test_images member: the zip directory stays intact.
    data = bytearray((shared_medmnist / "breastmnist.npz").read_bytes())
    with zipfile.ZipFile(shared_medmnist / "breastmnist.npz") as zf:
        member = zf.getinfo("test_images.npy")
    start = member.header_offset + 100
    data[start : start + 200] = bytes(200)
    (tmp_path / "breastmnist.npz").write_bytes(bytes(data))
    with pytest.raises(DatasetError, match="breastmnist.npz"):
        load_split(get_info("breastmnist"), "test", tmp_path, 28, download=False)


def test_a_file_that_cannot_be_opened_is_not_called_corrupt(tmp_path, monkeypatch):
    # Tests may run as root, who reads a chmod-000 file: the denial is staged at open().
    import builtins

    path = write_npz(tmp_path, "breastmnist", (28, 28), classes=2)
    real_open = builtins.open

    def denied(file, *args, **kwargs):
        if Path(file) == path:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", denied)
    message = load_refused(tmp_path)
    assert "breastmnist.npz cannot be opened: permission denied" in message
    assert "fix its permissions" in message
    assert "delete" not in message and "corrupt" not in message
    assert path.is_file()


def test_a_folder_under_the_files_name_is_named(tmp_path):
    (tmp_path / "breastmnist.npz").mkdir()
    message = load_refused(tmp_path)
    assert "breastmnist.npz is a folder" in message and "a folder has the file's name" in message
    assert "delete" not in message and "corrupt" not in message


def test_a_web_page_saved_as_the_file_says_what_it_starts_with(tmp_path):
    page = b"<!DOCTYPE html>\n<html><body>Proxy authentication required</body></html>\n"
    (tmp_path / "breastmnist.npz").write_bytes(page)
    message = load_refused(tmp_path)
    assert "breastmnist.npz is not a .npz file (a zip archive)" in message
    assert "it starts with '<!DOCTYPE html>.<html><body>Proxy auth" in message
    assert "web page" in message and "delete it and load again" in message
    assert "pickle" not in message


def test_labels_with_another_row_count_than_the_images_are_named_as_such(tmp_path):
    write_npz(tmp_path, "breastmnist", (28, 28), classes=2,
              val_labels=np.zeros((10, 1), dtype=np.uint8))  # fmt: skip
    message = load_refused(tmp_path, "val")
    assert "val_labels has 10 rows but val_images has 6" in message
    assert "damaged or its arrays are mismatched" in message and "reshape" not in message
    # One label per image in one dimension is a shape to fix, and the advice says how.
    write_npz(tmp_path, "breastmnist", (28, 28), classes=2,
              val_labels=np.zeros(6, dtype=np.uint8))  # fmt: skip
    with pytest.raises(DatasetError, match=r"reshape them \(labels.reshape\(-1, 1\)\)"):
        load_split(get_info("breastmnist"), "val", tmp_path, 28, download=False)


def test_labels_of_python_objects_are_named_by_their_dtype(tmp_path):
    labels = np.empty((6, 1), dtype=object)
    labels[:, 0] = [0, 1, "x", 0, 1, 0]
    path = tmp_path / "breastmnist.npz"
    arrays = {f"{s}_images": np.zeros((6, 28, 28), np.uint8) for s in ("train", "val", "test")}
    arrays |= {f"{s}_labels": labels for s in ("train", "val", "test")}
    np.savez(path, **arrays)
    message = load_refused(tmp_path)
    assert "train_labels.npy holds Python objects (dtype object), not numbers" in message
    assert "truncated" not in message


def test_a_broken_link_under_the_files_name_is_named_and_kept(tmp_path):
    link = tmp_path / "breastmnist.npz"
    link.symlink_to(tmp_path / "unmounted" / "breastmnist.npz")

    def no_network(url, timeout):
        raise AssertionError("a download would replace the link")

    for download in (False, True):
        with pytest.raises(DatasetNotFoundError) as err:
            load_split(get_info("breastmnist"), "train", tmp_path, 28, download=download,
                       opener=no_network)  # fmt: skip
        message = str(err.value)
        assert f"{link} is a symbolic link to {tmp_path / 'unmounted'}" in message
        assert "restore its target" in message and "is not in" not in message
    assert link.is_symlink()


def test_a_missing_size_names_the_sizes_the_folder_holds(tmp_path):
    write_npz(tmp_path, "breastmnist_64", (64, 64), classes=2)
    with pytest.raises(DatasetNotFoundError) as err:
        load_split(get_info("breastmnist"), "train", tmp_path, 28, download=False)
    message = str(err.value)
    assert "breastmnist.npz is not in" in message and "\n" not in message
    assert "The folder holds breastmnist_64.npz: set dataset.size" in message
    assert message.endswith("to 64.")
    assert len(load_split(get_info("breastmnist"), "train", tmp_path, 64, download=False)) == 6


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ({"val_labels": np.zeros((2, 1), np.uint8)},
         "val_labels has 2 rows but val_images has 6"),
        ({"test_labels": np.full((6, 1), 5, np.uint8)},
         "test_labels range from 5 to 5, expected 0 to 1"),
        ({"test_images": np.zeros((6, 32, 32), np.uint8)},
         "test_images have shape (6, 32, 32), expected ('N', 28, 28)"),
        ({"val_images": np.zeros((0, 28, 28), np.uint8), "val_labels": np.zeros((0, 1), np.uint8)},
         "val_images is empty"),
    ],
)  # fmt: skip
def test_loading_train_checks_val_and_test_too(tmp_path, damage, message):
    # A search reads train only: a damaged val or test surfaced at the retrain, hours later.
    write_npz(tmp_path, "breastmnist", (28, 28), classes=2, **damage)
    with pytest.raises(DatasetError) as err:
        load_split(get_info("breastmnist"), "train", tmp_path, 28, download=False)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_the_other_splits_are_checked_without_reading_their_images(tmp_path, monkeypatch):
    from nasbench.data import medmnist

    write_npz(tmp_path, "breastmnist", (28, 28), classes=2)
    read = []
    real = np.lib.npyio.NpzFile.__getitem__
    monkeypatch.setattr(
        np.lib.npyio.NpzFile, "__getitem__", lambda self, key: read.append(key) or real(self, key)
    )
    assert len(medmnist.load_split(get_info("breastmnist"), "train", tmp_path, 28, False)) == 6
    assert read == ["train_images", "train_labels", "val_labels", "test_labels"]
