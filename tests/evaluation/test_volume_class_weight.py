"""Skewed volume sets: ``class_weight="auto"`` weighs the loss, and a 3D retrain learns
both classes instead of answering the majority class for every case."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset

from nasbench.errors import ConfigError, DatasetError
from nasbench.evaluation.metrics import class_skew, resolve_class_weight
from nasbench.evaluation.train_loop import TrainConfig, train_model

SKEWED = np.array([0] * 12 + [1] * 4)  # 75/25
EVEN = np.array([0, 1] * 8)


def test_auto_weighs_skewed_volume_labels_only():
    assert TrainConfig().class_weight == "auto"
    assert class_skew(SKEWED) == 3.0
    assert class_skew(EVEN) == 1.0
    assert class_skew(np.array([0, 0]), num_classes=2) == float("inf")
    choice, reason = resolve_class_weight("auto", "binary", SKEWED, spatial_dims=3)
    assert choice == "balanced"
    assert "skewed" in reason and "3.00" in reason
    assert resolve_class_weight("auto", "binary", EVEN, spatial_dims=3)[0] == "none"
    # 2D sets, multi-label sets and unknown labels keep the unweighted recipe.
    assert resolve_class_weight("auto", "binary", SKEWED, spatial_dims=2)[0] == "none"
    assert resolve_class_weight("auto", "multi-label", SKEWED, spatial_dims=3)[0] == "none"
    assert resolve_class_weight("auto", "binary", None, spatial_dims=3)[0] == "none"
    # An explicit choice is kept, whatever the labels.
    assert resolve_class_weight("none", "binary", SKEWED, spatial_dims=3)[0] == "none"
    assert resolve_class_weight("balanced", "binary", EVEN, spatial_dims=2)[0] == "balanced"
    with pytest.raises(ConfigError, match="class_weight must be one of auto, none, balanced"):
        TrainConfig(class_weight="inverse").validate()


class _Volumes(Dataset):
    """Clearly separable skewed volumes: label 1 holds a bright cube, label 0 none."""

    def __init__(self, labels: np.ndarray, seed: int, size: int = 12) -> None:
        rng = np.random.default_rng(seed)
        images = rng.normal(0.0, 0.3, (len(labels), 1, size, size, size)).astype(np.float32)
        for i in np.flatnonzero(labels):
            z, y, x = rng.integers(0, size - 4, 3)
            images[i, 0, z : z + 4, y : y + 4, x : x + 4] += 2.0
        self.images, self.targets = torch.from_numpy(images), labels.astype(np.int64)
        self.info = SimpleNamespace(task="binary", spatial_dims=3, num_classes=2,
                                    class_names=("no", "cube"))  # fmt: skip

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int):
        return self.images[index], torch.tensor(int(self.targets[index]))


def _net() -> torch.nn.Module:
    from nasbench.evaluation.baselines import small_cnn

    torch.manual_seed(0)
    return small_cnn(3, widths=(4, 8))


def test_a_tiny_skewed_3d_retrain_predicts_both_classes():
    labels = np.array(([0] * 3 + [1]) * 12)  # 48 volumes, 75/25
    train, test = _Volumes(labels, seed=0), _Volumes(labels[:24], seed=1)
    config = TrainConfig(epochs=4, batch_size=8, device="cpu", seed=0)
    net = _net()
    result = train_model(net, train, test, test, "binary", config)
    assert result.class_weight == "balanced"
    assert "skewed" in result.class_weight_reason
    net.eval()
    with torch.no_grad():
        predicted = net(test.images).argmax(1).numpy()
    assert set(predicted.tolist()) == {0, 1}
    assert result.test["acc"] > 0.75  # beats always answering the majority class
    assert result.test["auc"] > 0.9
    assert result.test["acc"] > 0.75  # beats always answering the majority class


def test_write_skewed_npz_reads_back_as_the_official_3d_file(tmp_path):
    from nasbench.data import load
    from nasbench.data.skewed_npz import skewed_volumes, write_skewed_npz

    path = write_skewed_npz(tmp_path, splits={"train": 8, "val": 4, "test": 4}, seed=3)
    assert path.name == "nodulemnist3d.npz"
    with np.load(path) as npz:
        assert npz["train_images"].shape == (8, 28, 28, 28)
        assert npz["train_images"].dtype == np.uint8
        assert npz["train_labels"].shape == (8, 1)
        assert npz["train_labels"].sum() == 2  # 25% of 8
        again = skewed_volumes(8, 28, 0.25, seed=3, split_id=0)[0]
        assert np.array_equal(npz["train_images"], again)  # seeded
    ds = load("nodulemnist3d", "train", root=tmp_path, download=False)
    image, label = ds[0]
    assert tuple(image.shape) == (1, 28, 28, 28)
    assert ds.info.spatial_dims == 3
    assert resolve_class_weight("auto", ds.info.task, ds.targets, ds.info.spatial_dims)[0] == (
        "balanced"
    )
    with pytest.raises(DatasetError, match="positive_fraction must be in"):
        skewed_volumes(4, 16, 1.0)


@pytest.mark.slow
def test_a_3d_gdas_search_and_retrain_reports_its_weighting(tmp_path):
    from nasbench import search
    from nasbench.config import DatasetConfig, SearchConfig
    from nasbench.evaluation.final_evaluation import retrain
    from nasbench.runs import load

    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", 32), ("val", 16), ("test", 16)):
        labels = np.array(([0] * 3 + [1]) * (n // 4))
        images = rng.integers(0, 60, (n, 28, 28, 28)).astype(np.uint8)
        for i in np.flatnonzero(labels):
            z, y, x = rng.integers(2, 18, 3)
            images[i, z : z + 8, y : y + 8, x : x + 8] = 255
        arrays[f"{split}_images"], arrays[f"{split}_labels"] = images, labels.reshape(-1, 1)
    np.savez_compressed(tmp_path / "nodulemnist3d.npz", **arrays)
    dataset = DatasetConfig(name="nodulemnist3d", root=str(tmp_path), download=False,
                            batch_size=8)  # fmt: skip
    skeleton = {"n_cells": 1, "channels": 4, "spatial_dims": 3, "reduction_at": [0]}
    config = SearchConfig(dataset=dataset, strategy="gdas", epochs=1, max_steps_per_epoch=1,
                          space={"name": "darts", "n_nodes": 1, "skeleton": skeleton},
                          device="cpu", seed=0)  # fmt: skip
    run_dir = tmp_path / "run"
    search(config, run_dir)
    recipe = TrainConfig(epochs=8, batch_size=8, device="cpu", lr=0.1)
    report = retrain(run_dir, recipe, baseline=False, download=False)
    result = report.results["searched"]
    assert result.class_weight == "balanced"
    with load(run_dir) as run:
        events = run.events
    finished = events[events["kind"] == "retrain_finished"].iloc[-1]["payload"]
    assert finished["models"]["searched"]["class_weight"] == "balanced"
    net = report.models["searched"].eval()
    test = arrays["test_images"][:, None].astype(np.float32) / 255.0 * 2.0 - 1.0
    with torch.no_grad():
        predicted = net(torch.from_numpy(test)).argmax(1).numpy()
    assert set(predicted.tolist()) == {0, 1}
    assert result.test["acc"] > 0.75  # beats always answering the majority class


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"name": "organmnist3d"}, "must be a binary MedMNIST 3D subset .adrenalmnist3d, "),
        ({"name": "breastmnist"}, "not 'breastmnist'"),
        ({"size": 16}, "nodulemnist3d comes in sizes 28, 64; size 16 would write a file"),
    ],
)
def test_a_stand_in_file_no_loader_reads_as_written_is_refused(tmp_path, options, message):
    from nasbench.data.skewed_npz import write_skewed_npz

    with pytest.raises(DatasetError, match=message):
        write_skewed_npz(tmp_path, splits={"train": 4, "val": 2, "test": 2}, **options)
    assert not list(tmp_path.iterdir())  # nothing half-written
