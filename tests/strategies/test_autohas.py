"""AutoHAS: one policy over cells and hyper-parameters, shared weights stepped with the
sampled hyper-parameters, the HP policy recorded in the run store and drawn."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nasbench.config import DatasetConfig, SearchConfig
from nasbench.errors import ConfigError, SpaceError
from nasbench.evaluation import Result
from nasbench.runs import load
from nasbench.spaces import CellSpace, NB201Space
from nasbench.strategies import create_strategy
from nasbench.strategies.discrete.autohas import augment_batch
from nasbench.viz import hp_distribution, plot_hp_distribution

CELL = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|"


def _autohas(seed=0, **config):
    return create_strategy("autohas", config, space=NB201Space(), seed=seed)


def test_rewarding_one_learning_rate_makes_the_policy_prefer_it():
    strategy = _autohas(lr=[0.01, 0.1], policy_lr=0.2)
    for _ in range(30):
        g = strategy.ask()
        reward = 1.0 if strategy.pending_hps(g)["lr"] == 0.1 else 0.0
        strategy.tell(g, Result({"score": reward}))
    probs = strategy.hp_probabilities()
    assert probs["lr"]["0.1"] > 0.8 and sum(probs["lr"].values()) == pytest.approx(1.0)
    assert strategy.best_hps()["lr"] == 0.1 and not strategy.pending


def test_a_fixed_architecture_searches_hyper_parameters_only():
    strategy = _autohas(architecture=CELL, batch_size=[32])
    asked = {strategy.ask().to_string() for _ in range(5)}
    assert asked == {CELL} and strategy.best_genotype().to_string() == CELL
    assert strategy.hp_probabilities()["batch_size"] == {"32": 1.0}


@pytest.mark.parametrize(
    "config, message",
    [
        ({"lr": []}, "lr must be a non-empty list"),
        ({"lr": [0.1, 0.1]}, "lr lists a value twice"),
        ({"augment": [0.5, 2.0]}, "augment choices must be in range"),
        ({"batch_size": [16.5]}, "batch_size choices must be integers"),
        ({"lr": [0.0, 0.1]}, r"lr choices must be above 0, got \[0.0, 0.1\]"),
        ({"reward": "auc"}, "reward must be one of"),
    ],
)
def test_bad_choices_are_refused_in_one_line(config, message):
    with pytest.raises(ConfigError, match=message):
        _autohas(**config)


def test_autohas_needs_the_nb201_space_and_a_cell_of_it():
    with pytest.raises(SpaceError, match="use 'nb201'"):
        create_strategy("autohas", {}, space=CellSpace(), seed=0)
    with pytest.raises(SpaceError):
        _autohas(architecture="|nor_conv_3x3~0|")


def test_augmentation_is_reproducible_and_keeps_the_images():
    x = torch.arange(2 * 16, dtype=torch.float32).view(2, 1, 4, 4)
    a = augment_batch(x, 1.0, torch.Generator().manual_seed(0))
    b = augment_batch(x, 1.0, torch.Generator().manual_seed(0))
    assert torch.equal(a, b) and a.shape == x.shape
    assert sorted(a[0].flatten().tolist()) == sorted(x[0].flatten().tolist())  # moved, not changed


def _search(tmp_path, name, seed=0, evaluations=6, **changes):
    from nasbench import search

    cfg = SearchConfig(
        dataset=DatasetConfig(name="synthetic", limit=32),
        strategy="autohas",
        strategy_config={
            "n_cells": 2,
            "channels": 4,
            "batch_size": [8, 16],
            "val_batch_size": 8,
            **changes,
        },
        space={"name": "nb201"},
        max_evaluations=evaluations,
        device="cpu",
        seed=seed,
    )
    return search(cfg, tmp_path / name), load(tmp_path / name)


def test_a_joint_search_records_the_hp_policy_and_the_figure_draws_it(tmp_path):
    result, run = _search(tmp_path, "a")
    assert result.status == "finished" and (run.candidates["status"] == "done").sum() == 6
    frame = hp_distribution(run)
    assert set(frame["hp"]) == {"lr", "weight_decay", "augment", "batch_size"}
    sums = frame.groupby(["candidate_id", "hp"])["probability"].sum()
    assert np.allclose(sums, 1.0) and frame["candidate_id"].nunique() == 6
    assert all(set(info["hp"]) == set(frame["hp"]) for info in run.candidates["info"])
    fig = plot_hp_distribution(run)
    assert {t.name for t in fig.data} >= {"lr=0.01", "lr=0.05", "lr=0.1", "batch_size=16"}
    _, again = _search(tmp_path, "b")
    assert list(again.candidates["metrics.score"]) == list(run.candidates["metrics.score"])
    with pytest.raises(ConfigError, match="no hyper-parameter policy"):
        plot_hp_distribution(run.candidates.assign(info=[{}] * 6))


def test_a_relaxed_learning_rate_is_a_mixture_that_follows_its_hypergradient():
    strategy = _autohas(lr=[0.1, 0.3], relax=["lr"])
    g = strategy.ask()
    hps = strategy.pending_hps(g)
    assert hps["lr"] == pytest.approx(0.2)  # the policy's mean, not a sampled choice
    assert hps["batch_size"] in (16, 32, 64)  # the others are still sampled
    for _ in range(20):  # a larger lr raises the validation loss: the policy moves to 0.1
        strategy.step_relaxed({"lr": 1.0})
    assert strategy.hp_probabilities()["lr"]["0.1"] > 0.8
    lr_logits, size_logits = (strategy.hp_logits[n].clone() for n in ("lr", "batch_size"))
    strategy.tell(g, Result({"score": 1.0}))
    strategy.tell(strategy.ask(), Result({"score": 0.0}))
    assert torch.equal(strategy.hp_logits["lr"], lr_logits)  # REINFORCE leaves it alone
    assert not torch.equal(strategy.hp_logits["batch_size"], size_logits)
    with pytest.raises(ConfigError, match="relax can name lr and weight_decay"):
        _autohas(relax=["batch_size"])


def test_the_hypergradient_matches_finite_differences_of_the_validation_loss():
    from nasbench.data import load as load_data

    strategy = _autohas(relax=["lr", "weight_decay"], n_cells=1, channels=4, batch_size=[8])
    train, val = load_data("synthetic", "train", limit=16), load_data("synthetic", "val", limit=8)
    ev = strategy.bind(train, val, train.info.task, device="cpu")
    g = strategy.ask()
    path, hps = [op for _, _, op in g.edges()], strategy.pending_hps(g)
    x = torch.stack([torch.as_tensor(val[i][0]) for i in range(len(val))])
    y = ev._target(torch.stack([torch.as_tensor(val[i][1]) for i in range(len(val))]))
    weights = {k: v.clone() for k, v in ev.supernet.state_dict().items()}
    batches = ev.generator.get_state()

    def val_loss_after_step(**change):
        ev.supernet.load_state_dict(weights)
        ev.generator.set_state(batches)
        ev.shared_step(path, {**hps, **change})
        return ev.loss_fn(ev.supernet(x, path), y)

    analytic = ev.sensitivities(val_loss_after_step(), hps["lr"])
    for name, eps in (("lr", 1e-2), ("weight_decay", 1e-1)):
        up = val_loss_after_step(**{name: hps[name] + eps}).item()
        down = val_loss_after_step(**{name: hps[name] - eps}).item()
        assert analytic[name] == pytest.approx((up - down) / (2 * eps), rel=0.1, abs=1e-4)
    before = strategy.hp_probabilities()["lr"]
    ev.evaluate(g)  # the reward's loss steps the relaxed logits: gradient reaches the policy
    assert strategy.hp_probabilities()["lr"] != before


def test_a_search_with_a_relaxed_learning_rate_records_mixtures_and_a_moving_policy(tmp_path):
    result, run = _search(tmp_path, "relaxed", evaluations=3, relax=["lr"])
    assert result.status == "finished"
    steps = [info["hp"]["lr"] for info in run.candidates["info"]]
    assert steps[0] == pytest.approx(0.16 / 3)  # the uniform mixture of 0.01, 0.05, 0.1
    assert all(0.01 < lr < 0.1 and lr not in (0.01, 0.05, 0.1) for lr in steps)
    policies = [info["hp_probs"]["lr"]["0.1"] for info in run.candidates["info"]]
    assert len(set(policies)) == 3 and policies[0] != pytest.approx(1 / 3)
