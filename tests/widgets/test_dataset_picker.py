"""The dataset picker: grouping, info card, samples, download with progress, offline message."""

from __future__ import annotations

import urllib.error

from nasbench import data
from widgets.dataset_picker import DatasetPicker, dataset_options


def test_options_are_grouped_by_task_then_dims():
    options = dataset_options()
    tasks = [label.split(" · ")[0] for label, _ in options]
    order = [data.TASKS.index(t) for t in tasks]
    assert order == sorted(order) and len(options) == len(data.list_datasets())
    assert all(" · 3D · " in label for label, _ in dataset_options(dims=3))
    picker = DatasetPicker(show_samples=False)
    picker.task.value = "segmentation"
    assert all(v in {i.name for i in data.list_datasets(task="segmentation")}
               for _, v in picker.dropdown.options)  # fmt: skip
    assert picker.dataset == picker.dropdown.value


def test_synthetic_card_and_one_sample_row_per_class():
    picker = DatasetPicker()
    assert picker.dataset == "synthetic" and picker.download_button.disabled
    assert "cached</th><td>yes" in picker.card.value
    info = data.get_info("synthetic")
    for name in info.class_names:
        assert f">{name}</div>" in picker.samples.value
    assert picker.samples.value.count("<img") == 6 * len(info.class_names)


def test_offline_download_shows_the_not_found_message(tmp_path):
    def offline(url, timeout=30.0):
        raise urllib.error.URLError("network is unreachable")

    picker = DatasetPicker(root=tmp_path, value="breastmnist", opener=offline)
    assert "cached</th><td>no" in picker.card.value
    assert "not on disk yet" in picker.samples.value and "<img" not in picker.samples.value
    picker.download_button.click()
    picker.wait(60)
    assert "could not be downloaded" in picker.message.value
    assert "network is unreachable" in picker.message.value
    assert not picker.is_cached() and not picker.download_button.disabled


def test_download_feeds_the_progress_bar(tmp_path, shared_medmnist):
    source = shared_medmnist / "breastmnist.npz"

    class Response:
        headers = {"Content-Length": str(source.stat().st_size)}

        def __init__(self):
            self._file = open(source, "rb")

        def read(self, n=-1):
            return self._file.read(n)

        def close(self):
            self._file.close()

    picker = DatasetPicker(
        root=tmp_path, value="breastmnist", opener=lambda url, timeout: Response()
    )
    picker.download(block=True)
    assert picker.is_cached() and picker.progress.value == 100
    assert "MB" in picker.progress.description
    assert "malignant" in picker.samples.value and "<img" in picker.samples.value
    assert picker.dataset_config() == {"name": "breastmnist", "size": 28, "root": str(tmp_path)}


def test_switching_sets_during_a_download_keeps_its_outcome_and_says_why_a_second_waits(
    tmp_path, shared_medmnist
):
    import threading

    source = shared_medmnist / "breastmnist.npz"
    release = threading.Event()

    class SlowResponse:
        headers = {"Content-Length": str(source.stat().st_size)}

        def __init__(self):
            self._file = open(source, "rb")

        def read(self, n=-1):
            release.wait(30)  # held until the test has switched sets
            return self._file.read(n)

        def close(self):
            self._file.close()

    picker = DatasetPicker(
        root=tmp_path, value="breastmnist", opener=lambda url, timeout: SlowResponse()
    )
    picker.download()
    picker.dropdown.value = "pneumoniamnist"  # a person picks another set meanwhile
    picker.download()  # a second download while the first runs
    assert "breastmnist is still downloading" in picker.message.value
    release.set()
    picker.wait(60)
    assert (tmp_path / "breastmnist.npz").is_file()
    assert picker.progress.bar_style == ""  # the download succeeded: not red


def test_an_unknown_start_value_is_a_one_line_error_not_another_dataset(tmp_path):
    import pytest

    from nasbench.errors import DatasetError

    with pytest.raises(DatasetError) as err:
        DatasetPicker(value="breastmnst", show_samples=False)
    message = str(err.value)
    assert "\n" not in message
    assert "'breastmnst'" in message and "nasbench datasets" in message
    with pytest.raises(DatasetError, match="does not exist"):
        DatasetPicker(value=f"folder:{tmp_path / 'missing'}", show_samples=False)


def test_a_folder_start_value_is_registered_and_shown(tmp_path):
    import numpy as np
    from PIL import Image

    for label in ("benign", "malignant"):
        (tmp_path / label).mkdir()
        for k in range(3):
            Image.fromarray(np.full((16, 16), 40 * k, np.uint8)).save(tmp_path / label / f"{k}.png")
    name = f"folder:{tmp_path}"
    picker = DatasetPicker(value=name, show_samples=False)
    assert picker.dataset == name and picker.dropdown.value == name
    assert "benign; malignant" in picker.card.value


def test_the_card_lists_every_class_name_up_to_twenty_then_counts_the_rest():
    import dataclasses

    from widgets.dataset_picker import info_card

    chest = data.get_info("chestmnist")
    assert len(chest.class_names) == 14
    card = info_card(chest, cached=False)
    assert "; pleural; hernia</td>" in card and "…" not in card
    many = dataclasses.replace(chest, class_names=tuple(f"c{k}" for k in range(25)))
    card = info_card(many, cached=False)
    assert "; c19 … and 5 more</td>" in card and "c20" not in card
