"""The segmentation training loss choice: DiceCE per image or with Dice over the batch."""

from __future__ import annotations

import pytest
import torch

from nasbench.errors import ConfigError
from nasbench.evaluation.segmentation import segmentation_loss
from nasbench.evaluation.tasks import SegmentationTask
from nasbench.evaluation.train_loop import TrainConfig, _training_loss


def _lesion_batch() -> tuple[torch.Tensor, torch.Tensor]:
    """Two images, a lesion (class 1) in the first only; the logits find it exactly."""
    target = torch.zeros(2, 1, 8, 8, dtype=torch.long)
    target[0, 0, 2:4, 2:4] = 1
    logits = torch.where(target == 1, 1.0, -1.0).repeat(1, 2, 1, 1)
    logits[:, 0] = -logits[:, 1]
    return logits, target


def test_batch_dice_does_not_score_a_lesion_free_image_on_its_own():
    logits, target = _lesion_batch()
    per_image = float(segmentation_loss()(logits, target))
    batch = float(segmentation_loss(batch=True)(logits, target))
    # Per image, the lesion-free image's lesion Dice is ~0 (empty mask, soft predictions):
    # the loss is higher than when Dice is taken over the batch, where the lesion is found.
    assert batch < per_image
    assert per_image - batch > 0.03


def test_train_config_picks_the_training_loss_and_names_bad_choices():
    task = SegmentationTask(("organ", "lesion"))
    logits, target = _lesion_batch()
    plain = _training_loss(task, None, TrainConfig(), "none")
    batch = _training_loss(task, None, TrainConfig(seg_loss="dicece_batch").validate(), "none")
    assert float(plain(logits, target)) == pytest.approx(float(segmentation_loss()(logits, target)))
    expected = float(segmentation_loss(batch=True)(logits, target))
    assert float(batch(logits, target)) == pytest.approx(expected)
    with pytest.raises(ConfigError, match="seg_loss must be one of dicece, dicece_batch"):
        TrainConfig(seg_loss="dice").validate()


def test_retrain_cli_takes_the_segmentation_loss():
    import argparse

    from nasbench.evaluation.final_evaluation import add_cli_arguments

    parser = argparse.ArgumentParser()
    add_cli_arguments(parser)
    assert parser.parse_args(["run"]).seg_loss == "dicece"
    assert parser.parse_args(["run", "--seg-loss", "dicece_batch"]).seg_loss == "dicece_batch"
    with pytest.raises(SystemExit):
        parser.parse_args(["run", "--seg-loss", "dice"])
