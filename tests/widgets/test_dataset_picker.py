"""The dataset picker: grouping, info card, samples, download with progress, offline message."""

from __future__ import annotations

import urllib.error

import pytest

from nasbench import data
from widgets.dataset_picker import DatasetPicker, dataset_options


def test_options_are_grouped_by_task_then_dims():
    options = dataset_options()
    tasks = [label.split(" · ")[0] for label, _ in options]
    order = [data.TASKS.index(t) for t in tasks]
    # Every dataset but the "folder" entry, which needs a path the picker cannot take.
    assert order == sorted(order) and len(options) == len(data.list_datasets()) - 1
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
    (tmp_path / "scan.png").write_bytes(b"")
    with pytest.raises(DatasetError, match="scan.png is a file, not a folder"):
        DatasetPicker(value=f"folder:{tmp_path / 'scan.png'}", show_samples=False)


def test_a_folder_deleted_while_shown_is_gone_not_downloadable(tmp_path):
    import shutil

    from tests.conftest import two_class_png_folder

    folder = two_class_png_folder(tmp_path / "scans", per_class=3)
    picker = DatasetPicker(value=f"folder:{folder}")
    assert picker.download_button.disabled and "<img" in picker.samples.value
    shutil.rmtree(folder)
    picker.refresh()
    assert picker.download_button.disabled and picker.download_button.description == "Missing"
    assert f"the folder {folder} is gone (moved or deleted)" in picker.samples.value
    assert "Download" not in picker.samples.value


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


def _write_own_breastmnist(folder, file_name="breastmnist.npz", sizes=(20, 4, 6), size=28):
    """A MedMNIST-format file a person wrote, with other split sizes than the official."""
    import numpy as np

    arrays = {}
    for split, n in zip(("train", "val", "test"), sizes, strict=True):
        arrays[f"{split}_images"] = np.zeros((n, size, size), np.uint8)
        arrays[f"{split}_labels"] = (np.arange(n) % 2).reshape(n, 1)
    np.savez(folder / file_name, **arrays)


def test_card_shows_the_split_sizes_of_a_persons_own_medmnist_file(tmp_path):
    _write_own_breastmnist(tmp_path)
    _write_own_breastmnist(tmp_path, "breastmnist_64.npz", (8, 2, 3), size=64)
    picker = DatasetPicker(root=tmp_path, value="breastmnist", show_samples=False)
    assert "splits</th><td>train 20, val 4, test 6 in breastmnist.npz</td>" in picker.card.value
    assert "546" not in picker.card.value  # the official train size
    picker.size_picker.value = 64
    assert "train 8, val 2, test 3 in breastmnist_64.npz" in picker.card.value
    picker.size_picker.value = 128  # not on disk
    assert "unknown until loaded (the official download holds train 546" in picker.card.value


def test_card_names_the_split_a_persons_file_lacks(tmp_path):
    import numpy as np

    _write_own_breastmnist(tmp_path)
    with np.load(tmp_path / "breastmnist.npz") as npz:
        arrays = {k: npz[k] for k in npz.files if not k.startswith("val_")}
    np.savez(tmp_path / "breastmnist.npz", **arrays)
    picker = DatasetPicker(root=tmp_path, value="breastmnist", show_samples=False)
    assert "train 20, test 6 in breastmnist.npz, which lacks val</td>" in picker.card.value
    (tmp_path / "breastmnist.npz").write_bytes(b"garbage")
    picker.refresh()
    assert "unknown until loaded (breastmnist.npz cannot be read)" in picker.card.value


def test_close_closes_every_widget_and_a_download_ending_later_shows_nothing(
    tmp_path, shared_medmnist, widget_registry
):
    import threading

    source = shared_medmnist / "breastmnist.npz"
    release = threading.Event()

    class SlowResponse:
        headers = {"Content-Length": str(source.stat().st_size)}

        def __init__(self):
            self._file = open(source, "rb")

        def read(self, n=-1):
            release.wait(30)  # held until the view is closed
            return self._file.read(n)

        def close(self):
            self._file.close()

    before = set(widget_registry())
    picker = DatasetPicker(
        root=tmp_path, value="breastmnist", opener=lambda url, timeout: SlowResponse()
    )
    picker.download()
    picker.close()
    picker.close()  # idempotent
    assert set(widget_registry()) - before == set()
    shown = (picker.message.value, picker.progress.value, picker.progress.description,
             picker.progress.bar_style, picker.card.value, picker.samples.value)  # fmt: skip
    release.set()
    picker.wait(60)
    assert (tmp_path / "breastmnist.npz").is_file()  # the download itself finished...
    assert (picker.message.value, picker.progress.value, picker.progress.description,
            picker.progress.bar_style, picker.card.value,
            picker.samples.value) == shown  # ...and touched no closed widget  # fmt: skip


def test_a_ctrl_c_during_a_blocking_download_shows_it_ended_and_goes_on_up(tmp_path):
    def interrupted(url, timeout=30.0):
        raise KeyboardInterrupt  # the kernel's interrupt while download(block=True) waits

    picker = DatasetPicker(root=tmp_path, value="breastmnist", opener=interrupted)
    with pytest.raises(KeyboardInterrupt):
        picker.download(block=True)
    assert picker.progress.bar_style == "danger"
    assert "breastmnist was interrupted" in picker.message.value
    assert not picker.download_button.disabled and not picker.is_cached()


def test_the_folder_entry_without_a_path_is_not_offered_nor_taken_as_a_start_value(tmp_path):
    import pytest

    from nasbench.errors import DatasetError
    from tests.conftest import two_class_png_folder

    picker = DatasetPicker(show_samples=False)
    assert "folder" not in [name for _, name in picker.dropdown.options]
    with pytest.raises(DatasetError) as err:
        DatasetPicker(value="folder", show_samples=False)
    assert "\n" not in str(err.value) and "value='folder:your/folder'" in str(err.value)
    folder = two_class_png_folder(tmp_path / "scans", per_class=3)
    named = DatasetPicker(value=f"folder:{folder}", show_samples=False)
    assert named.dataset == f"folder:{folder}" and named.info.num_classes == 2
