"""Task objects: what the bilevel and training loops dispatch on."""

from __future__ import annotations

import pytest
import torch

from nasbench.errors import ConfigError
from nasbench.evaluation.baselines import IntensityThresholds
from nasbench.evaluation.reconstruction import ReconstructionTask
from nasbench.evaluation.tasks import ClassificationTask, SegmentationTask, task_for


def test_dispatch_on_the_task_name():
    assert isinstance(task_for("multi-label"), ClassificationTask)
    seg = task_for("segmentation", ("background", "organ"), spatial_dims=3)
    assert isinstance(seg, SegmentationTask) and (seg.select, seg.primary) == ("dice", "dice")
    recon = task_for("reconstruction")
    assert isinstance(recon, ReconstructionTask) and recon.select == "psnr"
    assert task_for("detection").select == "ap50"
    with pytest.raises(ConfigError, match="no training loop"):
        task_for("keypoints")


def test_reconstruction_task_scores_images():
    task = task_for("reconstruction")
    target = torch.rand(3, 1, 16, 16)
    noisy = (target + 0.1 * torch.randn_like(target)).clamp(0, 1)
    meter = task.meter(task.loss())
    meter.update(noisy, target)
    scores = meter.result()
    mse = float(((noisy - target) ** 2).mean(dim=(1, 2, 3)).log10().mean())
    assert scores["psnr"] == pytest.approx(-10 * mse, rel=1e-4)
    assert 0 < scores["ssim"] < 1 and 0 < scores["nmse"] < 1 and scores["loss"] > 0
    perfect = task.meter()
    perfect.update(target, target)
    assert perfect.result()["ssim"] == pytest.approx(1.0) and perfect.result()["nmse"] == 0
    with pytest.raises(ConfigError, match="is the network a classifier") as err:
        task.batch_metrics(torch.zeros(3, 2), target)
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="magnitude images"):
        task.loss()(torch.zeros(3, 1, 16, 16, dtype=torch.complex64), target)


def test_classification_task_scores_as_before():
    task = task_for("binary")
    logits, y = torch.tensor([[2.0, 0.0], [0.0, 2.0]]), torch.tensor([0, 1])
    meter = task.meter(task.loss())
    meter.update(logits, y)
    result = meter.result()
    assert (result["acc"], result["auc"]) == (1.0, 1.0) and result["loss"] > 0
    assert task.target(torch.tensor([[1], [0]])).shape == (2,)


def test_volumes_go_through_the_sliding_window_inferer():
    task = task_for("segmentation", ("background", "organ"), spatial_dims=3, roi_size=4)
    net = torch.nn.Conv3d(1, 2, 1)
    assert task.infer(net, torch.zeros(1, 1, 8, 8, 8)).shape == (1, 2, 8, 8, 8)


def test_threshold_baseline_cuts_between_class_means():
    x = torch.tensor([[[[0.1, 0.5, 0.9, 0.45]]]])
    y = torch.tensor([[[[0, 1, 2, 1]]]])
    model = IntensityThresholds(3).fit(x, y)
    assert model(x).argmax(1).tolist() == [[[0, 1, 2, 1]]]


def test_classification_metrics_read_medmnist_labels_of_shape_n_by_1():
    from nasbench.evaluation.metrics import classification_metrics

    logits = torch.tensor([[3.0, 0.0], [0.0, 3.0], [3.0, 0.0], [0.0, 3.0]])
    labels = torch.tensor([[0], [1], [0], [1]])  # as MedMNIST's npz stores them
    assert classification_metrics(logits, labels, "binary") == {"acc": 1.0, "auc": 1.0}
    with pytest.raises(ConfigError, match="4 class indices for a binary task, got shape"):
        classification_metrics(logits, torch.zeros(4, 2), "binary")
