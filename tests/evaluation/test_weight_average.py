"""Recipe options that change what is scored: a moving average of the weights, flip TTA."""

from __future__ import annotations

import argparse
import re

import pytest
import torch
from torch import nn

from nasbench.data import load
from nasbench.errors import ConfigError
from nasbench.evaluation.final_evaluation import add_cli_arguments, check_recipe_fits
from nasbench.evaluation.train_loop import (
    TrainConfig,
    WeightAverage,
    evaluate_model,
    train_model,
)

FAST = dict(epochs=3, batch_size=16, device="cpu", seed=3)


class TinyNet(nn.Module):
    """A small CNN with BatchNorm (float buffers and an integer counter)."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(2)
        )
        self.classifier = nn.Linear(16, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


@pytest.fixture(scope="module")
def splits():
    return {s: load("synthetic", s, limit=48, seed=0) for s in ("train", "val", "test")}


def _net(seed: int = 0) -> TinyNet:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return TinyNet()


def _train(splits, model, **overrides):
    config = TrainConfig(**{**FAST, **overrides})
    return train_model(model, splits["train"], splits["val"], splits["test"], "binary", config)


def test_weight_average_follows_the_warmed_up_decay_and_copies_integer_buffers():
    net = _net()
    start = {k: v.clone() for k, v in net.state_dict().items()}
    avg = WeightAverage(net, 0.5)
    assert avg.model is not net and not any(p.requires_grad for p in avg.model.parameters())
    targets = []
    for _ in range(3):
        with torch.no_grad():
            for p in net.parameters():
                p.add_(1.0)
            net.features[1].running_mean.add_(2.0)
            net.features[1].num_batches_tracked.add_(1)
        targets.append({k: v.clone() for k, v in net.state_dict().items()})
        avg.update(net)
    # decays: min(0.5, 1/10) = 0.1, min(0.5, 2/11) = 2/11, min(0.5, 3/12) = 0.25
    expected = start["classifier.weight"]
    for decay, target in zip((0.1, 2 / 11, 0.25), targets, strict=True):
        expected = decay * expected + (1 - decay) * target["classifier.weight"]
    assert torch.allclose(avg.model.classifier.weight, expected)
    mean = start["features.1.running_mean"]
    for decay, target in zip((0.1, 2 / 11, 0.25), targets, strict=True):
        mean = decay * mean + (1 - decay) * target["features.1.running_mean"]
    assert torch.allclose(avg.model.features[1].running_mean, mean)
    assert int(avg.model.features[1].num_batches_tracked) == 3  # copied, not averaged
    assert avg.updates == 3
    # The trained model is untouched by the average.
    assert torch.allclose(net.classifier.weight, start["classifier.weight"] + 3)


def test_ema_scores_and_keeps_the_average_while_training_the_same_way(splits):
    raw_net, ema_net = _net(), _net()
    raw = _train(splits, raw_net)
    ema = _train(splits, ema_net, ema_decay=0.9)
    # The average does not change training: the same losses epoch by epoch ...
    assert [h["train_loss"] for h in ema.history] == [h["train_loss"] for h in raw.history]
    # ... but what is scored on validation and kept is different.
    assert [h["val_loss"] for h in ema.history] != [h["val_loss"] for h in raw.history]
    assert not torch.equal(ema_net.classifier.weight, raw_net.classifier.weight)
    # The model ends holding the kept average: scoring it again gives the reported test.
    again = evaluate_model(ema_net, splits["test"], "binary", TrainConfig(device="cpu"))
    assert again == pytest.approx(ema.test)
    assert ema.config["ema_decay"] == 0.9 and raw.config["ema_decay"] == 0.0


def test_ema_and_tta_are_deterministic_and_leave_the_global_rng(splits):
    before = torch.get_rng_state()
    a, b = _net(), _net()
    ra = _train(splits, a, ema_decay=0.9, tta_flip=True)
    rb = _train(splits, b, ema_decay=0.9, tta_flip=True)
    assert torch.equal(torch.get_rng_state(), before)
    assert ra.test == rb.test and ra.best_epoch == rb.best_epoch
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(x, y), name


def test_tta_flip_scores_the_mean_of_the_image_and_its_mirror(splits):
    net = _net().eval()
    plain = evaluate_model(net, splits["test"], "binary", TrainConfig(device="cpu"))
    flipped = evaluate_model(
        net, splits["test"], "binary", TrainConfig(device="cpu", tta_flip=True)
    )
    images = torch.stack([splits["test"][i][0] for i in range(len(splits["test"]))])
    labels = torch.stack([torch.as_tensor(splits["test"][i][1]) for i in range(len(images))])
    with torch.no_grad():
        logits = (net(images) + net(images.flip(-1))) / 2
    loss = nn.functional.cross_entropy(logits, labels.view(-1).long())
    assert flipped["loss"] == pytest.approx(float(loss), rel=1e-5)
    assert flipped["loss"] != pytest.approx(plain["loss"], rel=1e-5)


def test_tta_flip_changes_validation_scores_not_training(splits):
    raw = _train(splits, _net())
    tta = _train(splits, _net(), tta_flip=True)
    assert [h["train_loss"] for h in tta.history] == [h["train_loss"] for h in raw.history]
    assert [h["val_loss"] for h in tta.history] != [h["val_loss"] for h in raw.history]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ema_decay": 1.0}, "TrainConfig.ema_decay must be 0 (off) or a number in (0, 1)"),
        ({"ema_decay": -0.1}, "ema_decay must be 0 (off)"),
        ({"ema_decay": "0.99"}, "got '0.99'"),
        ({"ema_decay": True}, "got True"),
        ({"tta_flip": "yes"}, "TrainConfig.tta_flip must be True or False, got 'yes'"),
        ({"tta_flip": True, "augment": False}, "set augment=True or tta_flip=False"),
    ],
)
def test_bad_ema_or_tta_is_a_one_line_error(overrides, message):
    with pytest.raises(ConfigError, match=re.escape(message)) as err:
        TrainConfig(**overrides).validate()
    assert "\n" not in str(err.value)


def test_tta_flip_outside_2d_classification_is_refused(splits):
    seg = {s: load("synthetic-seg", s, limit=8, seed=0) for s in ("train", "val", "test")}
    with pytest.raises(ConfigError, match="tta_flip is for 2D classification") as err:
        train_model(
            nn.Conv2d(1, 3, 1), seg["train"], seg["val"], seg["test"], "segmentation",
            TrainConfig(epochs=1, device="cpu", tta_flip=True),
        )  # fmt: skip
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="tta_flip=True applies to classification runs only"):
        check_recipe_fits(TrainConfig(tta_flip=True), "segmentation", 2)
    check_recipe_fits(TrainConfig(tta_flip=True, ema_decay=0.99), "binary", 2)


def test_retrain_cli_takes_both_options_and_shows_their_defaults():
    parser = argparse.ArgumentParser()
    add_cli_arguments(parser)
    args = parser.parse_args(["runs/x", "--ema-decay", "0.99", "--tta-flip"])
    assert (args.ema_decay, args.tta_flip) == (0.99, True)
    defaults = parser.parse_args(["runs/x"])
    assert (defaults.ema_decay, defaults.tta_flip) == (0.0, False)
    text = " ".join(parser.format_help().split())
    assert "--ema-decay EMA_DECAY" in text and "(default: 0.0)" in text
    assert "--tta-flip" in text and "for every model alike" in text
