"""Pretext scoring: the regression task, training a cell on pretext splits, rank correlation."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch

from nasbench.errors import ConfigError
from nasbench.evaluation.pretext import (
    pretext_correlations,
    pretext_splits,
    rank_correlation,
    sample_cells,
    score_cell,
    task_score,
)
from nasbench.evaluation.tasks import RegressionTask, task_for
from nasbench.evaluation.train_loop import TrainConfig
from nasbench.spaces import create_space


def test_rank_correlation_matches_a_hand_computed_case():
    # Ranks (1..5) against (2, 1, 4, 3, 5): d = (-1, 1, -1, 1, 0), sum d^2 = 4,
    # rho = 1 - 6 * 4 / (5 * 24) = 0.8; 10 pairs, 2 discordant: tau = (8 - 2) / 10 = 0.6.
    out = rank_correlation([10, 20, 30, 40, 50], [0.2, 0.1, 0.4, 0.3, 0.5])
    assert out["spearman_rho"] == pytest.approx(0.8) and out["kendall_tau"] == pytest.approx(0.6)
    assert out["n"] == 5 and 0 < out["spearman_p"] < 1
    reverse = rank_correlation([1, 2, 3], [3, 2, 1])
    assert reverse["spearman_rho"] == pytest.approx(-1.0)
    assert reverse["kendall_tau"] == pytest.approx(-1.0)
    tied = rank_correlation([1, 1, 1], [1, 2, 3])  # no ranking on one side
    assert math.isnan(tied["spearman_rho"]) and math.isnan(tied["kendall_tau"])
    with pytest.raises(ConfigError, match="one length >= 2"):
        rank_correlation([1, 2], [1, 2, 3])


def test_pretext_correlations_one_row_per_task():
    frame = pd.DataFrame({"rotation": [1, 2, 3, 4], "jigsaw": [4, 3, 2, 1], "target": [1, 2, 3, 4]})
    out = pretext_correlations(frame, ["rotation", "jigsaw"])
    assert out.pretext.tolist() == ["rotation", "jigsaw"]
    assert out.spearman_rho.tolist() == pytest.approx([1.0, -1.0])
    with pytest.raises(ConfigError, match="no column 'inpainting'"):
        pretext_correlations(frame, ["inpainting"])


def test_regression_task_scores_the_squared_error():
    task = task_for("regression")
    assert isinstance(task, RegressionTask) and task.select == "loss"
    out, y = torch.zeros(2, 2), torch.tensor([[1.0, 1.0], [0.0, 2.0]])
    assert float(task.loss()(out, y)) == pytest.approx(1.5)
    meter = task.meter()
    meter.update(out, y)
    meter.update(torch.zeros(1, 2), torch.zeros(1, 2))
    assert meter.result() == {"mse": pytest.approx(1.0), "loss": pytest.approx(1.0)}
    assert task_score({"mse": 0.5}) == -0.5 and task_score({"acc": 0.9, "auc": 0.5}) == 0.9
    with pytest.raises(ConfigError, match="cannot rank"):
        task_score({"dice": 0.5})


def test_sample_cells_are_distinct_and_seeded():
    space = create_space("darts", n_nodes=2)
    cells = sample_cells(space, 6, seed=4)
    assert len(set(cells)) == 6 and cells == sample_cells(space, 6, seed=4)
    # One node, one op: exactly one cell. Asking for two gives up after 1000 draws per
    # cell asked for, so a small ask keeps the failing search short (50 took ~20 s).
    with pytest.raises(ConfigError, match="fewer than 2 distinct cells"):
        sample_cells(create_space("darts", n_nodes=1, ops=["skip_connect"]), 2)


@pytest.mark.parametrize(("pretext", "metric"), [("rotation", "acc"), ("inpainting", "mse")])
def test_score_cell_trains_on_pretext_splits(pretext, metric):
    from nasbench.data import load

    labelled = {s: load("synthetic", s, limit=16, seed=0) for s in ("train", "val", "test")}
    splits = pretext_splits(labelled, pretext, seed=0, patch=4)
    assert splits["train"].info.task == ("regression" if metric == "mse" else "multi-class")
    space = create_space("darts", n_nodes=2)
    cell = sample_cells(space, 1, seed=0)[0]
    recipe = TrainConfig(epochs=1, batch_size=8, augment=False, auxiliary_weight=0.0,
                         drop_path_prob=0.0, select="loss", device="cpu")  # fmt: skip
    out = score_cell(cell, space, splits, recipe, {"n_cells": 2, "channels": 4}, seed=0)
    assert metric in out["test"] and out["params"] > 0
    assert out["score"] == (out["test"]["acc"] if metric == "acc" else -out["test"]["mse"])
    again = score_cell(cell, space, splits, recipe, {"n_cells": 2, "channels": 4}, seed=0)
    assert again["test"] == out["test"]  # same seed, same numbers
    with pytest.raises(ConfigError, match="missing \\['test'\\]"):
        score_cell(cell, space, {"train": splits["train"], "val": splits["val"]}, recipe)


def test_every_split_of_a_jigsaw_task_shares_one_permutation_set():
    from nasbench.data import load

    labelled = {s: load("synthetic", s, limit=8, seed=0) for s in ("train", "val", "test")}
    # 12 of 24 orders: a subset, which each split used to draw for itself.
    splits = pretext_splits(labelled, "jigsaw", seed=3, grid=2, n_permutations=12)
    sets = [splits[name].permutations for name in ("train", "val", "test")]
    assert all((s == sets[0]).all() for s in sets[1:])
    assert not (splits["train"].targets == splits["val"].targets[:8]).all()  # own draws


def test_score_cell_keeps_pretext_images_unaugmented():
    from nasbench.data import load
    from nasbench.evaluation.pretext import _without_augmentation

    labelled = {s: load("synthetic", s, limit=4, seed=0) for s in ("train", "val", "test")}
    splits = pretext_splits(labelled, "rotation", seed=0)
    assert _without_augmentation(splits["train"], None).augment is False
    kept = TrainConfig(epochs=1, augment=False)
    assert _without_augmentation(splits["train"], kept) is kept
    assert _without_augmentation(labelled["train"], None) is None  # labelled: as given
    space = create_space("darts", n_nodes=2)
    cell = sample_cells(space, 1, seed=0)[0]
    with pytest.raises(ConfigError, match="augment flips and crops the pretext images"):
        score_cell(cell, space, splits, TrainConfig(epochs=1, augment=True))


def test_asking_more_cells_than_the_space_holds_is_refused_before_drawing():
    # The space's size says so at once: no 1000 draws per cell asked for (50: ~20 s).
    space = create_space("darts", n_nodes=2, ops=["skip_connect"])  # 9 cells
    with pytest.raises(ConfigError, match=r"fewer than 50 distinct cells \(9\)"):
        sample_cells(space, 50)
