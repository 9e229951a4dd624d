"""train_model: finite metrics, determinism per seed, auxiliary heads, drop-path, stopping."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from nasbench.data import load
from nasbench.errors import ConfigError, NasbenchError
from nasbench.evaluation.train_loop import TrainConfig, augment_batch, train_model

FAST = dict(epochs=2, batch_size=16, device="cpu", seed=3)


class TinyNet(nn.Module):
    """A small CNN; with ``aux=True`` it returns (logits, aux_logits) in training mode."""

    def __init__(self, aux: bool = False) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(2)
        )
        self.classifier = nn.Linear(16, 2)
        self.auxiliary_head = nn.Linear(16, 2) if aux else None
        self.drop_path_prob = 0.0
        self.seen_drop_path: list[float] = []
        self.aux_calls = 0

    def forward(self, x: torch.Tensor):
        h = self.features(x).flatten(1)
        if self.training:
            self.seen_drop_path.append(self.drop_path_prob)
        if self.training and self.auxiliary_head is not None:
            self.aux_calls += 1
            return self.classifier(h), self.auxiliary_head(h)
        return self.classifier(h)


@pytest.fixture(scope="module")
def splits():
    return {s: load("synthetic", s, limit=48, seed=0) for s in ("train", "val", "test")}


def _net(seed: int = 0, aux: bool = False) -> TinyNet:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return TinyNet(aux)


def _train(splits, model, **overrides):
    config = TrainConfig(**{**FAST, **overrides})
    return train_model(model, splits["train"], splits["val"], splits["test"], "binary", config)


def test_metrics_are_finite_and_history_complete(splits):
    result = _train(splits, _net())
    assert set(result.test) == {"acc", "auc", "loss"}
    assert all(math.isfinite(v) for v in result.test.values())
    assert 0.0 <= result.test["acc"] <= 1.0 and 0.0 <= result.test["auc"] <= 1.0
    assert [h["epoch"] for h in result.history] == [0, 1]
    assert result.history[0]["lr"] == pytest.approx(0.025)
    assert result.history[1]["lr"] < result.history[0]["lr"]  # cosine schedule
    assert result.best_epoch in (0, 1) and result.params == sum(
        p.numel() for n, p in _net().named_parameters()
    )
    assert result.wall_s > 0 and not result.stopped


def test_same_seed_same_weights_and_metrics_and_global_rng_untouched(splits):
    rng_before = torch.get_rng_state()
    a, b = _net(), _net()
    ra, rb = _train(splits, a), _train(splits, b)
    assert torch.equal(torch.get_rng_state(), rng_before)
    assert ra.test == rb.test and ra.history[-1]["train_loss"] == rb.history[-1]["train_loss"]
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(x, y), name
    c = _net()
    _train(splits, c, seed=4)
    assert not torch.equal(c.classifier.weight, a.classifier.weight)


def test_auxiliary_head_and_drop_path_schedule(splits):
    net = _net(aux=True)
    result = _train(splits, net, drop_path_prob=0.2, auxiliary_weight=0.4)
    assert net.aux_calls == 2 * (48 // 16)  # every training step saw the tuple output
    assert math.isfinite(result.test["loss"])
    assert sorted(set(net.seen_drop_path)) == pytest.approx([0.0, 0.1])  # 0.2 * epoch / 2
    assert [h["drop_path_prob"] for h in result.history] == pytest.approx([0.0, 0.1])


def test_callback_stops_training(splits):
    seen = []
    config = TrainConfig(**{**FAST, "epochs": 3})

    def stop_after_first(record):
        seen.append(record)
        return False

    result = train_model(
        _net(), splits["train"], splits["val"], splits["test"], "binary", config, stop_after_first
    )
    assert result.stopped and len(result.history) == 1 and seen[0]["epochs"] == 3
    assert {"train_loss", "val_acc", "val_auc", "val_loss", "seconds"} <= set(seen[0])


def test_augment_batch_is_seeded_and_keeps_values():
    x = torch.randn(8, 1, 6, 6)
    a = augment_batch(x, torch.Generator().manual_seed(1))
    b = augment_batch(x, torch.Generator().manual_seed(1))
    assert a.shape == x.shape and torch.equal(a, b)
    assert not torch.equal(a, x)
    for img, out in zip(x, a, strict=True):
        allowed = set(img.flatten().tolist()) | {img.min().item()}
        assert set(out.flatten().tolist()) <= allowed
    volume = torch.zeros(2, 1, 4, 4, 4)
    assert augment_batch(volume, torch.Generator()) is volume


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"epochs": 0}, "epochs"),
        ({"lr": -1.0}, "lr"),
        ({"drop_path_prob": 1.0}, "drop_path_prob"),
        ({"select": "aucc"}, "Did you mean 'auc'"),
        ({"device": "tpu"}, "device"),
    ],
)
def test_bad_config_is_one_line_error(overrides, words):
    with pytest.raises(ConfigError, match=words) as err:
        TrainConfig(**overrides).validate()
    assert "\n" not in str(err.value)


def test_classifier_on_a_segmentation_task_is_a_one_line_error(splits):
    with pytest.raises(NasbenchError, match="is the network a classifier") as err:
        train_model(_net(), splits["train"], splits["val"], splits["test"], "segmentation")
    assert "\n" not in str(err.value)
    with pytest.raises(NasbenchError, match="is the network a classifier"):
        train_model(_net(), splits["train"], splits["val"], splits["test"], "reconstruction")


def test_config_round_trip_and_unknown_key():
    config = TrainConfig(epochs=3, limit=10)
    assert TrainConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ConfigError, match="Did you mean 'epochs'"):
        TrainConfig.from_dict({"epoch": 3})


class _Skewed(torch.utils.data.Dataset):
    """Nine of ten images are class 0; ``targets`` as the project's datasets give them."""

    def __init__(self, n: int = 40) -> None:
        generator = torch.Generator().manual_seed(0)
        self.images = torch.randn(n, 1, 8, 8, generator=generator)
        self.targets = torch.tensor([1 if i % 10 == 0 else 0 for i in range(n)]).numpy()

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        return self.images[index], int(self.targets[index])


def test_balanced_class_weights_weigh_the_training_loss_only():
    from nasbench.evaluation.metrics import training_loss

    data = _Skewed()

    def run(**recipe):
        torch.manual_seed(0)
        net = nn.Sequential(nn.Flatten(), nn.Linear(64, 2))
        config = TrainConfig(epochs=1, batch_size=40, lr=0.0, augment=False, device="cpu",
                             drop_path_prob=0.0, **recipe)  # fmt: skip
        return net, train_model(net, data, data, data, "binary", config).history[0]

    net, plain = run()
    _, balanced = run(class_weight="balanced")
    with torch.no_grad():
        logits = net(data.images)
    targets = torch.as_tensor(data.targets)
    weighted = training_loss("binary", data.targets, "balanced")(logits, targets)
    assert balanced["train_loss"] == pytest.approx(float(weighted), rel=1e-5)
    assert plain["train_loss"] == pytest.approx(float(nn.CrossEntropyLoss()(logits, targets)),
                                                rel=1e-5)  # fmt: skip
    assert balanced["train_loss"] != pytest.approx(plain["train_loss"])
    assert balanced["val_loss"] == pytest.approx(plain["val_loss"])  # scoring is unweighted


def test_training_loss_weights_and_errors():
    import numpy as np

    from nasbench.evaluation.metrics import training_loss

    loss = training_loss("multi-class", np.array([0, 0, 1, 2, 2, 2]), "balanced", num_classes=4)
    # N / (K * count): 6 / (4 * 2), 6 / (4 * 1), 6 / (4 * 3); the absent class weighs 0
    assert loss.weight.tolist() == pytest.approx([0.75, 1.5, 0.5, 0.0])
    multi = training_loss("multi-label", np.array([[1, 0], [0, 0], [0, 1], [0, 1]]), "balanced")
    assert multi.pos_weight.tolist() == [3.0, 1.0]
    assert training_loss("binary", label_smoothing=0.1).label_smoothing == 0.1
    with pytest.raises(ConfigError, match="needs the training labels"):
        training_loss("binary", None, "balanced")
    with pytest.raises(ConfigError, match="single-label"):
        training_loss("multi-label", None, label_smoothing=0.1)
    with pytest.raises(ConfigError, match="class_weight must be one of none, balanced"):
        training_loss("binary", None, "inverse")
    with pytest.raises(ConfigError, match=r"label_smoothing must be a number in \[0, 1\)"):
        TrainConfig(label_smoothing=1.0).validate()


def test_a_diverging_training_stops_with_one_line_naming_the_learning_rate(splits):
    from nasbench.errors import DivergenceError

    with pytest.raises(DivergenceError, match=r"training diverged at epoch 1, batch \d+: the "
                       r"loss is nan; lower the learning rate \(lr 1e\+12") as err:  # fmt: skip
        _train(splits, _net(), lr=1e12)
    assert "\n" not in str(err.value)


def test_a_split_without_some_class_warns_that_its_auc_leaves_it_out():
    from nasbench.evaluation.tasks import ClassificationMeter

    meter = ClassificationMeter("multi-class")
    logits = torch.tensor([[2.0, 0.0, 0.0, 1.0], [0.0, 2.0, 0.0, 0.0], [0.0, 0.0, 0.0, 2.0]])
    meter.update(logits, torch.tensor([0, 1, 3]))
    with pytest.warns(UserWarning, match=r"no image of class 2 \(of 4\): its AUC is the mean "
                      r"over the other 3"):  # fmt: skip
        assert meter.result()["auc"] == 1.0
    many = ClassificationMeter("multi-class")  # 200 classes, 3 in the split
    many.update(torch.zeros(3, 200), torch.tensor([0, 1, 3]))
    with pytest.warns(UserWarning, match=r"no image of classes 2, 4, 5, 6, 7, 8, 9, 10 and 189 "
                      r"more \(of 200\): its AUC is the mean over the other 3"):  # fmt: skip
        many.result()
    labels = ClassificationMeter("multi-label")
    labels.update(torch.zeros(2, 3), torch.tensor([[1, 1, 0], [0, 1, 1]]))
    with pytest.warns(UserWarning, match=r"label 1 \(of 3\) positive in all or none"):
        labels.result()


def test_the_unscored_class_warning_comes_once_per_task_whatever_resets_pythons_registry():
    import warnings

    from nasbench.evaluation.tasks import task_for

    task = task_for("multi-class")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        for _ in range(3):  # one split scored at three epochs
            with warnings.catch_warnings():  # what reading an image file does: a reset
                warnings.simplefilter("ignore", DeprecationWarning)
            meter = task.meter()
            meter.update(torch.eye(4)[[0, 1, 3]], torch.tensor([0, 1, 3]))
            meter.result()
    assert [str(w.message)[:40] for w in caught] == ["a split scored has no image of class 2 ("]
