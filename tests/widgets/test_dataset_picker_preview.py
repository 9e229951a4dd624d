"""The dataset picker says what is true: reconstruction previews, missing folders, failed
downloads, preview sizes and filters that match nothing."""

from __future__ import annotations

import base64
import io
import re
import urllib.error

import numpy as np

from nasbench import data
from widgets.dataset_picker import DatasetPicker, info_card, sample_grid


def _shown_images(grid_html):
    """The grid's images as (index in the dataset, PIL image), in the order shown."""
    from PIL import Image

    found = re.findall(
        r"<img src='data:image/png;base64,([^']+)'[^>]*title='[^']*#(\d+)'", grid_html
    )
    return [(int(i), Image.open(io.BytesIO(base64.b64decode(png)))) for png, i in found]


def test_a_reconstruction_preview_draws_the_target_image_and_says_so():
    grid = sample_grid("synthetic-recon", 28)
    assert ">targets (fully sampled magnitude images)</div>" in grid
    shown = _shown_images(grid)
    assert len(shown) == 6
    # The picker's own load: the same samples, with their (input, target) pairs.
    ds = data.load("synthetic-recon", "train", size=28, download=False, transform=None,
                   limit=24, seed=0)  # fmt: skip
    for index, picture in shown:
        target = ds[index][1].numpy()
        assert target.shape == (1, 28, 28)  # the magnitude image, one channel
        assert picture.mode == "L" and picture.size == (56, 56)  # grey, not 3-channel colour
        lo, hi = target.min(), target.max()
        expected = ((target[0] - lo) / (hi - lo) * 255).astype(np.uint8)
        assert np.array_equal(np.asarray(picture)[::2, ::2], expected)


def test_a_set_without_classes_shows_a_dash_not_an_empty_class_list():
    def classes_row(name):
        card = info_card(data.get_info(name), cached=True)
        return re.search(r"classes</th><td>(.*?)</td>", card).group(1)

    for name in ("synthetic-recon", "synthetic-recon-4coil", "mni152-recon"):
        assert classes_row(name) == "-"
    assert classes_row("synthetic") == "2: no lesion; lesion"


def test_a_missing_folder_is_not_offered_for_download_on_the_card(tmp_path):
    import shutil

    from tests.conftest import two_class_png_folder

    folder = two_class_png_folder(tmp_path / "scans", per_class=3)
    picker = DatasetPicker(value=f"folder:{folder}", show_samples=False)
    assert "cached</th><td>yes</td>" in picker.card.value
    shutil.rmtree(folder)
    picker.refresh()
    assert "cached</th><td>no (the folder is missing)</td>" in picker.card.value
    assert "download" not in picker.card.value.lower()
    # A set that can be downloaded still says where.
    assert "no (download it below)" in info_card(data.get_info("breastmnist"), cached=False)


def test_after_a_failed_download_the_samples_line_agrees_and_the_bar_is_hidden(tmp_path):
    def offline(url, timeout=30.0):
        raise urllib.error.URLError("network is unreachable")

    picker = DatasetPicker(root=tmp_path, value="breastmnist", opener=offline)
    picker.download(block=True)
    assert "could not be downloaded" in picker.message.value
    assert "click Download to fetch it" not in picker.samples.value
    assert "breastmnist (28px) is still not on disk: the download failed" in picker.samples.value
    assert "Fetch the file by hand as the message above says" in picker.samples.value
    assert picker.progress.layout.visibility == "hidden"
    # Another size has had no download yet: it still offers one.
    picker.size_picker.value = 64
    assert "not on disk yet: click Download to fetch it" in picker.samples.value
    picker.size_picker.value = 28
    assert "still not on disk: the download failed" in picker.samples.value
    # Another set and back: the error is gone, so is the line that points at it.
    picker.dropdown.value = "pneumoniamnist"
    picker.dropdown.value = "breastmnist"
    assert picker.message.value == ""
    assert "not on disk yet: click Download to fetch it" in picker.samples.value


def test_a_retried_download_no_longer_says_it_failed_while_it_runs(tmp_path):
    seen = []

    def offline(url, timeout=30.0):
        seen.append(picker.samples.value)  # what the page shows while the retry runs
        raise urllib.error.URLError("network is unreachable")

    picker = DatasetPicker(root=tmp_path, value="breastmnist", opener=offline)
    picker.download(block=True)
    picker.download(block=True)
    assert "the download failed" not in seen[1] and "not on disk yet" in seen[1]
    assert "still not on disk: the download failed" in picker.samples.value


def test_large_previews_are_drawn_at_their_own_size_small_ones_doubled():
    small = _shown_images(sample_grid("synthetic", 28, per_class=1))
    assert small and all(picture.size == (56, 56) for _, picture in small)
    large = _shown_images(sample_grid("synthetic", 128, per_class=1))
    assert large and all(picture.size == (128, 128) for _, picture in large)


def test_a_filter_that_matches_nothing_says_so_and_keeps_the_chosen_set():
    picker = DatasetPicker(value="synthetic-recon", show_samples=False)
    assert picker.filter_note.value == ""
    picker.task.value = "reconstruction"
    assert picker.dataset == "synthetic-recon" and picker.filter_note.value == ""
    picker.dims.value = 3
    assert picker.dropdown.options == ()
    assert "no dataset matches task reconstruction and dims 3D; change a filter" in (
        picker.filter_note.value
    )
    assert "synthetic-recon stays chosen" in picker.filter_note.value
    assert picker.dataset == "synthetic-recon" and "reconstruction" in picker.card.value
    picker.dims.value = 2  # matches again: the kept set is still the one chosen
    assert picker.filter_note.value == ""
    assert picker.dropdown.value == picker.dataset == "synthetic-recon"
