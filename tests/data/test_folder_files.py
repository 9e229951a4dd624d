"""A user's own files as people really save them: image modes, masks, volumes, tiny folders.

Each case is a file a person produces with everyday tools (a palette PNG, a CMYK JPEG, a phone
photo with an EXIF rotation, a colour-coded or anti-aliased mask, a multi-frame DICOM, a
four-sequence MR volume, a folder of five images per class) and checks that it is read as a
viewer shows it, or refused in one line that names the file and the fix.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nasbench.data import folder, folder_layout, image_files, medmnist
from nasbench.data.coco import read_coco
from nasbench.errors import DatasetError
from tests.data.test_folder import _dicom

nib = pytest.importorskip("nibabel")
pydicom = pytest.importorskip("pydicom")


def _one_line(excinfo) -> str:
    message = str(excinfo.value)
    assert "\n" not in message
    return message


def _unit(path: Path, channels: int) -> np.ndarray:
    """Pixels of ``path`` as a search sees them, before resizing."""
    return image_files._match_channels(
        image_files._to_unit(image_files.read_image(path)), channels, path
    )


# --------------------------------------------------------------------------- image modes


def test_grey_with_alpha_keeps_its_grey(tmp_path):
    pixels = np.stack([np.full((6, 5), 200, np.uint8), np.full((6, 5), 40, np.uint8)], -1)
    Image.fromarray(pixels, mode="LA").save(tmp_path / "la.png")
    image = image_files.read_image(tmp_path / "la.png")
    assert image.shape == (1, 6, 5)
    assert np.allclose(_unit(tmp_path / "la.png", 1), 200 / 255)


def test_palette_image_reads_as_its_colours(tmp_path):
    image = Image.new("P", (4, 3))
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.putpixel((1, 2), 1)
    image.save(tmp_path / "red.png")
    pixels = image_files.read_image(tmp_path / "red.png")
    assert pixels.shape == (3, 3, 4)
    assert pixels[:, 2, 1].tolist() == [255, 0, 0] and pixels[:, 0, 0].tolist() == [0, 0, 0]


def test_grey_palette_image_reads_as_grey(tmp_path):
    image = Image.new("P", (4, 3))
    image.putpalette([v for i in range(256) for v in (255 - i,) * 3])  # index i: grey 255 - i
    image.putpixel((0, 0), 5)
    image.save(tmp_path / "grey.png")
    pixels = image_files.read_image(tmp_path / "grey.png")
    assert pixels.shape == (1, 3, 4)
    assert pixels[0, 0, 0] == 250 and pixels[0, 1, 1] == 255


def test_cmyk_jpeg_reads_as_rgb(tmp_path):
    Image.new("CMYK", (8, 8), (0, 0, 0, 0)).save(tmp_path / "white.jpg")
    pixels = _unit(tmp_path / "white.jpg", 3)
    assert pixels.shape == (3, 8, 8) and pixels.min() > 0.95


def test_exif_rotation_is_applied(tmp_path):
    stored = np.zeros((16, 32), np.uint8)  # 16 tall as stored; orientation 6 shows it 32 tall
    stored[:, :4] = 255  # the stored left edge is the top edge once turned
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(tmp_path / "phone.jpg", exif=exif, quality=100)
    pixels = image_files.read_image(tmp_path / "phone.jpg")
    assert pixels.shape == (1, 32, 16)
    assert pixels[0, :4].mean() > 200 and pixels[0, 8:].mean() < 50


@pytest.mark.parametrize("suffix", [".tif", ".tiff", ".bmp"])
def test_tiff_and_bmp_classes_load(tmp_path, suffix):
    for label, value in (("a", 60), ("b", 200)):
        for i in range(3):
            path = tmp_path / "set" / label / f"{i}{suffix}"
            path.parent.mkdir(parents=True, exist_ok=True)
            pixels = np.full((10, 10), value, np.uint8)
            pixels[0, 0] = 0
            Image.fromarray(pixels).save(path)
    info, layout = folder.folder_info(tmp_path / "set")
    assert info.class_names == ("a", "b") and sum(info.splits.values()) == 6
    image, label = folder.FolderDataset(info, "train", layout.items["train"], 28)[0]
    assert image.shape == (1, 28, 28) and label.item() in (0, 1)


def test_sixteen_bit_png_is_scaled_by_its_own_range(tmp_path):
    # Most 16-bit X-rays hold 10-12 bits: scaled by 65535 they would be nearly black.
    pixels = np.zeros((8, 8), np.uint16)
    pixels[:4] = 4095
    Image.fromarray(pixels).save(tmp_path / "xray16.png")
    unit = _unit(tmp_path / "xray16.png", 1)
    assert unit.max() == 1.0 and unit.min() == 0.0 and unit[0, :4].mean() == 1.0


def test_huge_float_fill_values_do_not_become_nan(tmp_path):
    slab = np.zeros((12, 12), np.float32)
    slab[0, 0], slab[0, 1] = -3.4e38, 3.4e38
    nib.save(nib.Nifti1Image(slab, np.eye(4)), tmp_path / "fill.nii.gz")
    unit = _unit(tmp_path / "fill.nii.gz", 1)
    assert np.isfinite(unit).all() and unit.min() == 0.0 and unit.max() == 1.0


# --------------------------------------------------------------------------- DICOM


def test_multi_frame_dicom_reads_frames_first(tmp_path):
    frames = np.stack([np.full((12, 20), 100 * (k + 1), np.uint16) for k in range(5)])
    _dicom(tmp_path / "cine.dcm", frames)
    volume = image_files.read_image(tmp_path / "cine.dcm")
    assert volume.shape == (1, 5, 12, 20)
    assert [int(volume[0, k].min()) for k in range(5)] == [100, 200, 300, 400, 500]
    assert all(volume[0, k].min() == volume[0, k].max() for k in range(5))


def test_monochrome1_dicom_shows_white_as_the_largest_value(tmp_path):
    pixels = np.zeros((10, 10), np.uint16)
    pixels[:5] = 4000  # stored bright = shown dark under MONOCHROME1
    _dicom(tmp_path / "cr.dcm", pixels, photometric="MONOCHROME1")
    _dicom(tmp_path / "dx.dcm", pixels, photometric="MONOCHROME2")
    inverted, plain = _unit(tmp_path / "cr.dcm", 1), _unit(tmp_path / "dx.dcm", 1)
    assert np.array_equal(inverted, 1.0 - plain)
    assert inverted[0, :5].max() == 0.0 and inverted[0, 5:].min() == 1.0


# --------------------------------------------------------------------------- volumes


def _volume_class(root: Path, label: str, bright: int, channels: int, n: int = 3) -> None:
    for i in range(n):
        data = np.zeros((8, 8, 8, channels), np.float32) if channels > 1 else None
        if data is None:
            data = np.zeros((8, 8, 8), np.float32)
            data[:bright] = 1.0
        else:
            data[..., -1][:bright] = 1.0  # only the last sequence tells the classes apart
            data[..., 0] = np.linspace(0, 1, 8)[:, None, None]
        (root / label).mkdir(parents=True, exist_ok=True)
        nib.save(nib.Nifti1Image(data, np.eye(4)), root / label / f"case{i}.nii.gz")


def test_four_sequence_volumes_keep_every_sequence(tmp_path):
    _volume_class(tmp_path / "brats", "low", 2, channels=4)
    _volume_class(tmp_path / "brats", "high", 6, channels=4)
    info, layout = folder.folder_info(tmp_path / "brats")
    assert info.spatial_dims == 3 and info.in_channels == 4
    ds = folder.FolderDataset(info, "train", layout.items["train"], 8)
    means = {int(label): image[3].mean().item() for image, label in (ds[i] for i in range(len(ds)))}
    assert means[0] != means[1]  # the fourth sequence survived, and it separates the classes


def test_volumes_with_different_channels_are_refused_naming_one(tmp_path):
    _volume_class(tmp_path / "mixed", "a", 2, channels=4)
    _volume_class(tmp_path / "mixed", "b", 6, channels=1)
    with pytest.raises(DatasetError, match="same channels") as e:
        folder.folder_info(tmp_path / "mixed")
    assert "case" in _one_line(e) and ".nii.gz" in str(e.value)


def test_an_odd_image_names_itself_when_its_channels_do_not_fit(tmp_path):
    data = np.zeros((6, 6, 6, 2), np.float32)
    nib.save(nib.Nifti1Image(data, np.eye(4)), tmp_path / "two.nii.gz")
    with pytest.raises(DatasetError, match="two.nii.gz has 2 channels") as e:
        image_files._match_channels(
            image_files.read_image(tmp_path / "two.nii.gz"), 4, tmp_path / "two.nii.gz"
        )
    _one_line(e)


# --------------------------------------------------------------------------- masks


def _seg_folder(root: Path, masks: list[np.ndarray], suffix: str = ".png", mode=None) -> Path:
    for i, mask in enumerate(masks):
        (root / "images").mkdir(parents=True, exist_ok=True)
        (root / "labels").mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full(mask.shape[:2], 100, np.uint8)).save(root / "images" / f"c{i}.png")
        Image.fromarray(mask, mode=mode).save(root / "labels" / f"c{i}{suffix}")
    return root


def _disk(value: int, dtype=np.uint8) -> np.ndarray:
    yy, xx = np.mgrid[:16, :16]
    return (((yy - 8) ** 2 + (xx - 8) ** 2 < 25) * value).astype(dtype)


def test_jpeg_masks_are_refused(tmp_path):
    _seg_folder(tmp_path / "s", [_disk(255)] * 4, suffix=".jpg")
    with pytest.raises(DatasetError, match="is a JPEG") as e:
        folder.folder_info(tmp_path / "s")
    assert "c0.jpg" in _one_line(e) and "PNG" in str(e.value)


def test_colour_coded_masks_are_refused(tmp_path):
    mask = np.zeros((16, 16, 3), np.uint8)
    mask[2:6, 2:6, 0] = 255  # red: class 1
    mask[9:13, 9:13, 1] = 255  # green: class 2
    _seg_folder(tmp_path / "s", [mask] * 4)
    with pytest.raises(DatasetError, match="3 channels that differ") as e:
        folder.folder_info(tmp_path / "s")
    _one_line(e)


def test_grey_masks_saved_as_rgb_read_as_one_channel(tmp_path):
    _seg_folder(tmp_path / "s", [np.stack([_disk(2)] * 3, -1)] * 4)
    info, layout = folder.folder_info(tmp_path / "s")
    assert info.num_classes == 3
    mask = folder.FolderDataset(info, "train", layout.items["train"], 16)[0][1]
    assert mask.shape == (1, 16, 16) and set(np.unique(mask.numpy())) == {0, 2}


def test_palette_mask_indices_are_its_labels(tmp_path):
    masks = []
    for _ in range(4):
        mask = Image.fromarray(_disk(2), mode="L").convert("P")
        mask.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0] + [0] * 759)  # VOC-style colours
        masks.append(mask)
    root = tmp_path / "s"
    for i, mask in enumerate(masks):
        (root / "images").mkdir(parents=True, exist_ok=True)
        (root / "labels").mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((16, 16), 100, np.uint8)).save(root / "images" / f"c{i}.png")
        mask.save(root / "labels" / f"c{i}.png")
    info, layout = folder.folder_info(root)
    assert info.num_classes == 3
    mask = folder.FolderDataset(info, "train", layout.items["train"], 16)[0][1]
    assert set(np.unique(mask.numpy())) == {0, 2}


def test_an_all_foreground_0_255_mask_is_all_class_1(tmp_path):
    full = np.full((16, 16), 255, np.uint8)
    root = _seg_folder(tmp_path / "s", [_disk(255)] * 3 + [full])
    info, layout = folder.folder_info(root)
    assert info.num_classes == 2
    assert image_files.read_mask(root / "labels" / "c3.png").min() == 1


def test_sixteen_bit_0_65535_masks_are_binary(tmp_path):
    root = tmp_path / "s"
    _seg_folder(root, [_disk(1)] * 4)
    for i in range(4):
        Image.fromarray(_disk(65535, np.uint16)).save(root / "labels" / f"c{i}.png")
    info, _ = folder.folder_info(root)
    assert info.num_classes == 2
    assert set(np.unique(image_files.read_mask(root / "labels" / "c0.png"))) == {0, 1}


def test_anti_aliased_masks_ask_for_nearest_neighbour(tmp_path):
    smooth = _disk(255)
    smooth[3, 8] = 128  # a grey edge pixel, as a smooth brush or resize leaves
    _seg_folder(tmp_path / "s", [smooth] * 4)
    with pytest.raises(DatasetError, match="256 classes") as e:
        folder.folder_info(tmp_path / "s")
    assert "nearest-neighbour" in _one_line(e) and "num_classes=256" in str(e.value)
    info, _ = folder.folder_info(tmp_path / "s", num_classes=256)  # a person who means it
    assert info.num_classes == 256


def test_mask_past_the_classes_hints_at_anti_aliasing(tmp_path):
    clean, smooth = _disk(1), _disk(255)
    smooth[3, 8] = 128
    root = _seg_folder(tmp_path / "s", [clean] * 3 + [smooth])
    info, layout = folder.folder_info(root, num_classes=2)
    ds = folder.FolderDataset(info, "train", [(root / "images/c3.png", root / "labels/c3.png")], 16)
    with pytest.raises(DatasetError, match="label 255") as e:
        ds[0]
    assert "anti-aliased" in _one_line(e)


# --------------------------------------------------------------------------- tiny folders


def _classes(root: Path, counts: dict[str, int]) -> Path:
    for label, n in counts.items():
        (root / label).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            Image.fromarray(np.full((8, 8), 40 * i % 255, np.uint8)).save(root / label / f"{i}.png")
    return root


def test_images_in_per_patient_subfolders_belong_to_their_class(tmp_path):
    root = _classes(tmp_path / "f", {"a": 3, "b": 1})
    for patient in ("p1", "p2"):
        (root / "b" / patient).mkdir()
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(root / "b" / patient / "x.png")
    (root / "b" / ".cache").mkdir()  # hidden: skipped
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(root / "b" / ".cache" / "y.png")
    (root / "b" / "loop").symlink_to(root / "b")  # a linked folder is not followed
    layout = folder_layout.scan_folder(root)
    files = sorted(str(f.relative_to(root)) for items in layout.items.values() for f, _ in items)
    assert files == ["a/0.png", "a/1.png", "a/2.png", "b/0.png", "b/p1/x.png", "b/p2/x.png"]


def test_five_images_per_class_fill_every_split(tmp_path):
    info, layout = folder.folder_info(_classes(tmp_path / "f", {"a": 5, "b": 5}))
    assert info.splits == {"train": 6, "val": 2, "test": 2}
    for split in ("train", "val", "test"):
        assert {label for _, label in layout.items[split]} == {0, 1}


def test_larger_folders_split_70_10_20_as_before(tmp_path):
    info, _ = folder.folder_info(_classes(tmp_path / "f", {"a": 20, "b": 30}))
    assert info.splits == {"train": 35, "val": 5, "test": 10}


def test_a_class_too_small_to_split_is_named(tmp_path):
    with pytest.raises(DatasetError, match="class 'rare' in .* has 2 images") as e:
        folder.folder_info(_classes(tmp_path / "f", {"common": 9, "rare": 2}))
    assert "train/, val/ and test/" in _one_line(e)


def test_two_segmentation_pairs_are_too_few_to_split(tmp_path):
    with pytest.raises(DatasetError, match="has 2 images") as e:
        folder.folder_info(_seg_folder(tmp_path / "s", [_disk(1)] * 2))
    _one_line(e)


# --------------------------------------------------------------------------- COCO, npz


def _one_image_coco(folder: Path, categories: list[dict]) -> Path:
    """A COCO folder of one 8x8 image, no boxes, and these categories."""
    (folder / "a.png").write_bytes(b"")
    image = {"id": 1, "file_name": "a.png", "width": 8, "height": 8}
    coco = {"images": [image], "annotations": [], "categories": categories}
    (folder / "annotations.json").write_text(json.dumps(coco))
    return folder


def test_coco_categories_sharing_an_id_are_refused(tmp_path):
    _one_image_coco(tmp_path, [{"id": 1, "name": "lesion"}, {"id": 1, "name": "nodule"}])
    with pytest.raises(DatasetError, match="two categories share id 1") as e:
        read_coco(tmp_path)
    _one_line(e)


def test_a_detection_folder_without_any_box_is_refused(tmp_path):
    _one_image_coco(tmp_path, [{"id": 1, "name": "lesion"}])
    with pytest.raises(DatasetError, match="lists no annotations: no image has a box") as e:
        read_coco(tmp_path)
    _one_line(e)


def test_a_segmentation_folder_of_background_only_masks_is_refused(tmp_path):
    with pytest.raises(DatasetError, match="every mask in .* is background") as e:
        folder.folder_info(_seg_folder(tmp_path / "s", [_disk(0)] * 4))
    _one_line(e)


def test_foreground_past_the_first_probed_masks_still_counts(tmp_path):
    masks = [_disk(0)] * (folder._MASKS_PROBED + 3) + [_disk(255)]
    info, _ = folder.folder_info(_seg_folder(tmp_path / "s", masks))
    assert info.num_classes == 2


def _own_npz(root: Path, **change) -> Path:
    from tests.test_malformed_inputs import npz_bytes

    root.mkdir(parents=True, exist_ok=True)
    (root / "breastmnist.npz").write_bytes(npz_bytes(**change))
    return root


@pytest.mark.parametrize(
    ("change", "split", "expected"),
    [
        (
            {"train_labels": (np.arange(12) % 2).astype(np.uint8)},
            "train",
            r"labels.reshape\(-1, 1\)",
        ),
        ({"train_images": np.zeros((12, 28, 28), np.float32)}, "train", r"astype\(np.uint8\)"),
        ({"train_labels": np.zeros((12, 1), np.uint8)}, "train", "only class 0"),
        (
            {
                "val_images": np.zeros((0, 28, 28), np.uint8),
                "val_labels": np.zeros((0, 1), np.uint8),
            },
            "val",
            "val_images is empty",
        ),
    ],
    ids=["labels-shaped-N", "float-images", "one-class-train", "empty-val"],
)
def test_own_medmnist_file_mistakes_say_how_to_fix_them(tmp_path, change, split, expected):
    root = _own_npz(tmp_path / "data", **change)
    info = medmnist.make_info("breastmnist")
    with pytest.raises(DatasetError, match=expected) as e:
        medmnist.load_split(info, split, root, 28, download=False)
    _one_line(e)


# --------------------------------------------------------------------------- file names


def _two_dicom_classes(root: Path, names: list[str]) -> Path:
    """Classes 'a' (dark top) and 'b' (bright top) of DICOM files named ``names``."""
    for label, rows in (("a", 4), ("b", 16)):
        for name in names:
            pixels = np.zeros((20, 16), np.uint16)
            pixels[:rows] = 3000
            _dicom(root / label / name, pixels)
    return root


def test_dicom_files_named_without_dcm_are_read_as_dicom(tmp_path):
    """PACS exports name files by UID or IM0001; Siemens scanners use .IMA."""
    names = ["IM0001", "IM0002", "1.2.840.113619.2.55.3", "SCAN.IMA"]
    root = _two_dicom_classes(tmp_path / "pacs", names)
    (root / "a" / "notes.txt").write_text("exported 2026-12-01")  # not an image: skipped
    info, layout = folder.folder_info(root)
    files = sorted(path.name for items in layout.items.values() for path, _ in items)
    assert files == sorted(names * 2) and sum(info.splits.values()) == 8
    image = image_files.read_image(root / "b" / "1.2.840.113619.2.55.3")
    assert image.shape == (1, 20, 16) and image[0, 15, 0] == 3000 and image[0, 19, 0] == 0


def test_a_dicom_named_by_uid_pairs_with_its_mask_by_the_whole_name(tmp_path):
    root = tmp_path / "seg"
    (root / "labels").mkdir(parents=True)
    for i in range(4):
        _dicom(root / "images" / f"1.2.840.{i}", np.full((16, 16), 100, np.uint16))
        Image.fromarray(_disk(1)).save(root / "labels" / f"1.2.840.{i}.png")
    layout = folder_layout.scan_folder(root)
    pairs = [pair for items in layout.items.values() for pair in items]
    assert sorted((image.name, mask.name) for image, mask in pairs) == [
        (f"1.2.840.{i}", f"1.2.840.{i}.png") for i in range(4)
    ]


@pytest.mark.parametrize("suffix", [".gif", ".webp", ".nrrd", ".npy"])
def test_a_picture_in_a_format_not_read_is_refused_not_skipped(tmp_path, suffix):
    root = _classes(tmp_path / "f", {"a": 4, "b": 4})
    for name in ("scan1", "scan2"):
        (root / "b" / f"{name}{suffix}").write_bytes(b"not read here")
    with pytest.raises(DatasetError) as e:
        folder.folder_info(root)
    message = _one_line(e)
    assert f"holds 2 {suffix} files (e.g. scan1{suffix})" in message and "convert" in message


def test_the_mr_folder_reader_finds_dicom_named_without_dcm(tmp_path):
    from nasbench.data.mri import folder_slices

    for i in range(3):
        pixels = np.zeros((20, 20), np.uint16)
        pixels[4:16, 5:15] = 500 + i  # a blank slice would be left out
        _dicom(tmp_path / "mr" / "series" / f"IM{i:04d}", pixels)
    slices = folder_slices(tmp_path / "mr", size=16)
    assert sum(len(part) for part in slices.values()) == 3
    assert all(part.shape[1:] == (16, 16) for part in slices.values() if len(part))


def test_a_linked_class_folder_counts_unless_it_is_another_class(tmp_path):
    elsewhere = _classes(tmp_path / "archive", {"normal": 4, "pneumonia": 4})
    root = tmp_path / "mine"
    root.mkdir()
    for label in ("normal", "pneumonia"):  # a class folder linked from elsewhere is a class
        (root / label).symlink_to(elsewhere / label)
    info, _ = folder.folder_info(root)
    assert info.class_names == ("normal", "pneumonia") and sum(info.splits.values()) == 8
    (root / "pneumonia_copy").symlink_to(elsewhere / "pneumonia")
    with pytest.raises(DatasetError) as e:
        folder.folder_info(root)
    assert "'pneumonia' and 'pneumonia_copy'" in _one_line(e) and "same folder" in str(e.value)


@pytest.mark.parametrize(
    ("link", "target", "message"),
    [
        ("zz", ".", "class folder 'zz' in {root} links to that folder itself"),
        ("zz", "..", "class folder 'zz' in {root} links to a folder above it"),
        ("zz", "normal/p1", "class folders 'normal' and 'zz' in {root} overlap"),
    ],
)
def test_a_class_folder_linking_to_images_read_under_another_label_is_refused(
    tmp_path, link, target, message
):
    root = _classes(tmp_path / "mine", {"normal": 0, "pneumonia": 4})
    (root / "normal" / "p1").mkdir()
    for i in range(4):  # a patient's subfolder in the normal class
        Image.fromarray(np.full((8, 8), 40 * i, np.uint8)).save(root / "normal" / "p1" / f"{i}.png")
    (root / link).symlink_to(target)
    with pytest.raises(DatasetError) as e:
        folder.folder_info(root)
    assert message.format(root=root) in _one_line(e) and "remove the link" in str(e.value)


def test_a_resized_mask_stays_on_its_image(tmp_path):
    root = tmp_path / "s"
    for d in ("images", "labels"):
        (root / d).mkdir(parents=True)
    yy, xx = np.mgrid[:50, :50]
    for i in range(4):  # the image's bright structure is exactly the mask's
        mask = (((yy - 20 - i) ** 2 + (xx - 27) ** 2) < 81).astype(np.uint8)
        Image.fromarray(mask * 200).save(root / "images" / f"c{i}.png")
        Image.fromarray(mask).save(root / "labels" / f"c{i}.png")
    info, layout = folder.folder_info(root)
    image, mask = folder.FolderDataset(info, "train", layout.items["train"], 28)[0]
    bright, labelled = image[0] > 0.5 * image.max(), mask[0] == 1
    dice = 2 * (bright & labelled).sum() / (bright.sum() + labelled.sum())
    centre = [np.argwhere(m.numpy()).mean(0) for m in (bright, labelled)]
    assert float(dice) > 0.93 and np.abs(centre[0] - centre[1]).max() < 0.2
