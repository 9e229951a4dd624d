"""MRI reconstruction sets: MNI152 slices split by slab, user folders split by file."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import nasbench.data
from nasbench.data import mri
from nasbench.data.kspace import zero_filled_magnitude
from nasbench.errors import DatasetError

nib = pytest.importorskip("nibabel")


def test_slab_split_keeps_neighbours_in_one_split():
    keep = np.zeros(60, dtype=bool)
    keep[5:55] = True
    splits = mri.slab_split(60, keep)
    owner = {i: name for name, indices in splits.items() for i in indices}
    assert set(owner) <= set(range(5, 55))
    for i in owner:
        # The next slice is in the same split or dropped: never in another split.
        assert owner.get(i + 1, owner[i]) == owner[i]
    assert len(splits["train"]) > len(splits["val"]) > 0 and len(splits["test"]) > 0


def test_square_slice_crops_pads_and_scales():
    image = np.zeros((40, 30), np.float32)
    image[10:20, 5:25] = 3.0
    out = mri.square_slice(image, 16)
    assert out.shape == (16, 16) and out.max() == pytest.approx(1.0)
    assert out[0].max() == 0  # background margin kept


@pytest.fixture(scope="module")
def mni_available():
    try:
        mri.template_path()
    except DatasetError as err:
        pytest.skip(str(err))


def test_mni_splits_are_disjoint_and_samples_deterministic(mni_available):
    slices = mri.mni_slices(32)
    flat = {name: {a.tobytes() for a in slices[name]} for name in ("train", "val", "test")}
    assert not (flat["train"] & flat["val"]) and not (flat["train"] & flat["test"])
    assert nasbench.data.get_info("mni152-recon").splits == {k: len(v) for k, v in slices.items()}
    ds = nasbench.data.load("mni152-recon", "val", size=32)
    (x, y), (x2, _) = ds[2], ds[2]
    assert x.shape == (3, 32, 32) and y.shape == (1, 32, 32)
    assert torch.equal(x, x2) and float(y.max()) == pytest.approx(1.0)
    assert not torch.equal(ds[2][0][2], ds[3][0][2])  # a new mask per sample
    assert "Fonov" in ds.info.citation and "copyright notice" in ds.info.licence
    eight = nasbench.data.load("mni152-recon-8x", "val", size=32)[2][0]
    assert float(eight[2, 0].sum()) < float(x[2, 0].sum())
    zero_filled = zero_filled_magnitude(x[None])[0]
    assert 0 < float((zero_filled - y).abs().mean()) < float(y.mean())


def _volume(path, seed):
    rng = np.random.default_rng(seed)
    volume = np.zeros((24, 24, 8), np.float32)
    volume[4:20, 6:18] = 100 + 10 * rng.random((16, 12, 8))
    nib.save(nib.Nifti1Image(volume, np.eye(4)), path)


def test_recon_folder_splits_by_file(tmp_path):
    for i in range(5):
        _volume(tmp_path / f"subject{i}.nii.gz", i)
    info = mri.register_recon_folder(tmp_path, name="my-brains", acceleration=8)
    assert info.task == "reconstruction" and info.in_channels == 3
    assert sum(info.splits.values()) == 5 * 4  # middle half of 8 slices per file
    assert info.splits["val"] == 4 and info.splits["test"] == 4
    x, y = nasbench.data.load("my-brains", "train", size=32)[0]
    assert x.shape == (3, 32, 32) and float(y.max()) == pytest.approx(1.0)


def _slice_png(path, seed):
    from PIL import Image

    rng = np.random.default_rng(seed)
    pixels = np.zeros((24, 24), np.uint8)
    pixels[4:20, 6:18] = 100 + rng.integers(0, 50, (16, 12))
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


def test_recon_folder_keeps_each_subjects_slice_files_in_one_split(tmp_path):
    # One file per slice (as DICOM and PNG exports are): split per file, neighbouring
    # slices of one subject would sit in train and test.
    for subject in range(6):
        for k in range(4):
            _slice_png(tmp_path / f"subject{subject}" / f"slice{k}.png", 10 * subject + k)
    slices = mri.folder_slices(tmp_path, size=16, seed=2)
    assert [len(slices[s]) for s in ("train", "val", "test")] == [16, 4, 4]
    everything = {s: {part.tobytes() for part in slices[s]} for s in slices}
    for subject in range(6):
        held = {
            s
            for s, parts in everything.items()
            for k in range(4)
            if _square_of(tmp_path / f"subject{subject}" / f"slice{k}.png") in parts
        }
        assert len(held) == 1, (subject, held)


def _square_of(path):
    from nasbench.data.image_files import read_image
    from nasbench.data.mri import _file_slices

    return _file_slices(path, read_image, 16)[0].tobytes()


def test_recon_folder_of_too_few_subjects_splits_by_file_with_a_warning(tmp_path):
    for k in range(4):
        _slice_png(tmp_path / "only" / f"slice{k}.png", k)
    with pytest.warns(UserWarning, match="1 subject .*split one by one"):
        slices = mri.folder_slices(tmp_path, size=16)
    assert [len(slices[s]) for s in ("train", "val", "test")] == [2, 1, 1]


def test_recon_folder_bad_input(tmp_path):
    with pytest.raises(DatasetError, match="holds no images"):
        mri.register_recon_folder(tmp_path)
    complex_volume = (np.ones((8, 8, 4)) + 1j).astype(np.complex64)
    for i in range(3):
        nib.save(nib.Nifti1Image(complex_volume, np.eye(4)), tmp_path / f"c{i}.nii.gz")
    with pytest.raises(DatasetError, match="complex values") as err:
        mri.register_recon_folder(tmp_path)
    assert "\n" not in str(err.value)


def test_a_recon_folder_of_fewer_than_three_files_is_refused(tmp_path):
    for i in range(2):
        _volume(tmp_path / f"subject{i}.nii.gz", i)
    with pytest.raises(DatasetError, match="holds 2 image file.*at least 3") as err:
        mri.register_recon_folder(tmp_path)
    assert "\n" not in str(err.value)


def test_blank_slices_are_left_out_and_signed_images_stay_in_unit_range(tmp_path):
    for i in range(3):
        volume = np.zeros((24, 24, 8), np.float32)
        volume[4:20, 6:18, 2:6] = np.linspace(-50, 100, 16 * 12 * 4).reshape(16, 12, 4)
        nib.save(nib.Nifti1Image(volume, np.eye(4)), tmp_path / f"s{i}.nii.gz")
    slices = mri.folder_slices(tmp_path, size=16)
    every = np.concatenate(list(slices.values()))
    assert len(every) == 3 * 4  # slices 2..5 of 8: the middle half, none blank
    assert float(every.min()) >= 0.0 and float(every.max()) == pytest.approx(1.0)
    assert all(float(s.max()) > 0 for s in every)
    blank = np.zeros((24, 24, 8), np.float32)
    blank[4:20, 6:18, 3] = 100  # one slice of content in the middle half; three blank
    for i in range(3):
        nib.save(nib.Nifti1Image(blank, np.eye(4)), tmp_path / f"s{i}.nii.gz")
    assert sum(len(part) for part in mri.folder_slices(tmp_path, size=16).values()) == 3


def test_an_acceleration_given_as_a_numpy_integer_is_accepted():
    from nasbench.data.kspace import draw_mask

    assert draw_mask(32, np.int64(4), seed=0).shape == draw_mask(32, 4, seed=0).shape


@pytest.mark.parametrize(
    ("slices", "message"),
    [
        (np.full((2, 32, 32), 200.0), r"slice values span \[200, 200\], but reconstruction"),
        (np.full((2, 32, 32), np.nan), "NaN or infinite values"),
        (np.zeros((2, 1, 32, 32)), r"shape \(1, 32, 32\); expected one 2D slice"),
    ],
)
def test_slices_a_psnr_would_misread_are_refused(slices, message):
    # PSNR and SSIM are scored with a data range of 1: 0-255 targets would read as wrong scores.
    info = nasbench.data.get_info("synthetic-recon")
    with pytest.raises(DatasetError, match=message) as err:
        mri.SliceReconDataset(info, "train", slices)
    assert "\n" not in str(err.value)


def test_a_list_of_unit_range_slices_is_a_stack():
    info = nasbench.data.get_info("synthetic-recon")
    dataset = mri.SliceReconDataset(info, "train", [np.zeros((32, 32)), np.full((32, 32), 0.5)])
    x, y = dataset[1]
    assert len(dataset) == 2 and tuple(y.shape) == (1, 32, 32) and float(y.max()) == 0.5
