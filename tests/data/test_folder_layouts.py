"""User folders laid out as public datasets are (Kvasir-SEG, BUSI, Kaggle CSV), and
pictures PIL would read wrongly: never silently read as another task or other values."""

from __future__ import annotations

import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nasbench.data import folder, image_files
from nasbench.errors import DatasetError


def _save(path: Path, pixels: np.ndarray, **options) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, **options)
    return path


def _grey(value: int, shape=(20, 16)) -> np.ndarray:
    pixels = np.full(shape, value, dtype=np.uint8)
    pixels[0, 0] = 0
    return pixels


def _disk(shape=(20, 16)) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    mask[5:12, 4:10] = 255
    return mask


def _png16(path: Path, pixels: np.ndarray) -> Path:
    """Write a 16-bit PNG of 1 to 4 channels (H x W x C uint16); PIL cannot write one."""
    height, width, channels = pixels.shape
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    rows = b"".join(b"\0" + row.astype(">u2").tobytes() for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )  # fmt: skip
    return path


# --------------------------------------------------------------------------- layouts


@pytest.mark.parametrize("masks", ["masks", "mask"])
def test_images_and_masks_folders_read_as_segmentation(tmp_path, masks):
    # Kvasir-SEG: images/ + masks/, the same file names.
    for i in range(6):
        _save(tmp_path / "images" / f"cju{i}.png", _grey(120))
        _save(tmp_path / masks / f"cju{i}.png", _disk())
    info, layout = folder.folder_info(tmp_path)
    assert info.task == "segmentation"
    assert info.num_classes == 2
    image, mask = layout.items["train"][0]
    assert (image.parent.name, mask.parent.name, mask.name) == ("images", masks, image.name)
    x, y = folder.FolderDataset(info, "train", layout.items["train"], 16)[0]
    assert tuple(x.shape) == (1, 16, 16)
    assert set(np.unique(y.numpy())) == {0, 1}


def test_masks_that_do_not_match_name_their_folder(tmp_path):
    for i in range(4):
        _save(tmp_path / "images" / f"c{i}.png", _grey(120))
        _save(tmp_path / "masks" / f"c{i}{'_m' * (i == 3)}.png", _disk())
    with pytest.raises(DatasetError, match=r"images/ and masks/ .* do not match.*'c3_m'"):
        folder.folder_info(tmp_path)


def test_labels_and_masks_both_beside_images_are_refused(tmp_path):
    for sub in ("images", "labels", "masks"):
        for i in range(4):
            _save(tmp_path / sub / f"c{i}.png", _disk())
    with pytest.raises(DatasetError, match=r"has labels/ and masks/ beside images/"):
        folder.folder_info(tmp_path)


@pytest.mark.parametrize("mask_name", ["{} ({})_mask.png", "{} ({})_mask_1.png"])
def test_masks_beside_their_images_in_a_class_folder_are_refused(tmp_path, mask_name):
    # BUSI: benign/benign (1).png beside benign (1)_mask.png (a second mask: _mask_1).
    for label in ("benign", "malignant"):
        for i in range(1, 5):
            _save(tmp_path / label / f"{label} ({i}).png", _grey(100))
            _save(tmp_path / label / mask_name.format(label, i), _disk())
    mask = mask_name.format("benign", 1)
    with pytest.raises(DatasetError, match=r"mixes images and their masks") as error:
        folder.folder_info(tmp_path)
    message = str(error.value)
    assert mask in message and "move the masks out" in message and "images/ + masks/" in message


def test_a_masks_subfolder_of_a_class_is_refused(tmp_path):
    # The COVID-19 Radiography Database: COVID/images/ and COVID/masks/.
    for label in ("COVID", "Normal"):
        for i in range(4):
            _save(tmp_path / label / "images" / f"{label}-{i}.png", _grey(100))
            _save(tmp_path / label / "masks" / f"{label}-{i}.png", _disk())
    with pytest.raises(DatasetError, match=r"COVID mixes images and their masks.*masks/COVID-0"):
        folder.folder_info(tmp_path)


def test_an_image_named_mask_without_its_image_is_read(tmp_path):
    for label in ("a", "b"):
        for i in range(3):
            _save(tmp_path / label / f"case{i}_mask.png", _grey(100))  # no case{i}.png
    info, _ = folder.folder_info(tmp_path)
    assert info.class_names == ("a", "b")
    assert sum(info.splits.values()) == 6


@pytest.mark.parametrize(
    "subfolders",
    [
        ("train_images", "test_images"),  # Kaggle, labels in train.csv
        ("HAM10000_images_part_1", "HAM10000_images_part_2"),  # labels in a metadata CSV
        ("images", "ground_truth"),  # masks under a name not read as masks
    ],
)
def test_folders_of_images_are_not_read_as_classes(tmp_path, subfolders):
    (tmp_path / "train.csv").write_text("id_code,diagnosis\nid0,1\n")
    for sub in subfolders:
        for i in range(4):
            _save(tmp_path / sub / f"id{i}.png", _grey(100))
    with pytest.raises(DatasetError, match=r"not a class") as error:
        folder.folder_info(tmp_path)
    message = str(error.value)
    assert "CSV label files (train.csv) are not read" in message
    assert "one subfolder per class" in message


def test_a_csv_beside_class_folders_is_named_in_a_warning(tmp_path):
    (tmp_path / "labels.csv").write_text("file,label\n")
    for label in ("normal", "pneumonia"):
        for i in range(3):
            _save(tmp_path / label / f"{i}.png", _grey(100))
    with pytest.warns(UserWarning, match=r"labels.csv is not read; labels come from the class"):
        info, _ = folder.folder_info(tmp_path)
    assert info.class_names == ("normal", "pneumonia")


def test_class_folders_without_a_csv_give_no_warning(tmp_path):
    (tmp_path / "notes.txt").write_text("scanned 2024\n")
    for label in ("normal", "pneumonia"):
        for i in range(3):
            _save(tmp_path / label / f"{i}.png", _grey(100))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        folder.folder_info(tmp_path)


# --------------------------------------------------------------------------- files


def test_jfif_and_jpe_files_are_read_as_jpeg(tmp_path):
    for label, suffix in (("a", ".jfif"), ("b", ".jpe")):
        for i in range(3):
            _save(tmp_path / label / f"{i}{suffix}", _grey(200), format="JPEG")
    info, layout = folder.folder_info(tmp_path)
    assert sum(info.splits.values()) == 6
    image = image_files.read_image(tmp_path / "a" / "0.jfif")
    assert image.shape == (1, 20, 16) and abs(int(image[0, 10, 8]) - 200) <= 3


def test_a_jfif_mask_is_refused_as_a_jpeg(tmp_path):
    path = _save(tmp_path / "m.jfif", _disk(), format="JPEG")
    with pytest.raises(DatasetError, match=r"is a JPEG"):
        image_files.read_mask(path)


def test_a_multi_page_tiff_is_refused(tmp_path):
    for label in ("a", "b"):
        for i in range(3):
            pages = [Image.fromarray(_grey(50 * (k + 1))) for k in range(3)]
            path = tmp_path / label / f"{i}.tif"
            path.parent.mkdir(parents=True, exist_ok=True)
            pages[0].save(path, save_all=True, append_images=pages[1:])
    expected = r"multi-page TIFF \(3 pages\).*export the pages as a NIfTI volume"
    with pytest.raises(DatasetError, match=expected):
        folder.folder_info(tmp_path)
    with pytest.raises(DatasetError, match=expected):
        image_files.read_image(tmp_path / "a" / "0.tif")


@pytest.mark.parametrize("channels", [2, 3, 4])
def test_a_16_bit_colour_or_alpha_png_is_refused(tmp_path, channels):
    pixels = np.zeros((20, 16, channels), np.uint16)
    pixels[..., 0] = np.linspace(0, 4095, 320).reshape(20, 16).astype(np.uint16)
    pixels[..., -1] = 65535  # opaque alpha (or a blue channel)
    for label in ("a", "b"):
        for i in range(3):
            _png16(tmp_path / label / f"{i}.png", pixels)
    expected = r"16-bit colour \(or grey \+ alpha\).*save it as 16-bit greyscale"
    with pytest.raises(DatasetError, match=expected):
        folder.folder_info(tmp_path)
    with pytest.raises(DatasetError, match=expected):
        image_files.read_image(tmp_path / "a" / "0.png")


def test_a_16_bit_grey_png_keeps_its_values(tmp_path):
    pixels = np.linspace(0, 4095, 320).reshape(20, 16, 1).astype(np.uint16)
    image = image_files.read_image(_png16(tmp_path / "x.png", pixels))
    assert image.shape == (1, 20, 16)
    assert int(image.max()) == 4095


def test_the_channel_count_does_not_depend_on_the_seed(tmp_path):
    # Grey images, half of them stored as RGB of three equal channels: the probes (the
    # first train image of each class) change with the seed, the answer must not.
    rng = np.random.default_rng(2)
    for label in ("normal", "pneumonia"):
        for i in range(6):
            grey = (rng.random((32, 32)) * 255).astype(np.uint8)
            _save(tmp_path / label / f"img{i}.png", np.stack([grey] * 3, -1) if i % 2 else grey)
    counts = [folder.folder_info(tmp_path, seed=seed)[0].in_channels for seed in range(6)]
    assert counts == [1] * 6
