"""A run stored by an earlier version resumes with the settings that version read: the
defaults it stored for settings a discrete search never reads, and an evaluator_config
limit or size that the dataset's overruled, are dropped, not refused."""

from __future__ import annotations

import json

import pytest

from nasbench.config import SearchConfig
from nasbench.errors import ConfigError
from nasbench.runs.checkpoint_schedule import AUTO

# As the first version (fca70e3) stored a successive-halving run (trimmed of nothing: every
# key it wrote): its then-default checkpoint_every 1, and an evaluator limit of 48 that its
# evaluator never read (the dataset's limit 64 won, as data_spec still does).
OLD_HALVING = json.loads(
    '{"alpha_every": 0, "checkpoint_every": 1, "dataset": {"augment": false, "batch_size": 16,'
    ' "download": true, "limit": 64, "name": "synthetic", "root": null, "size": 28},'
    ' "deterministic": true, "device": "cpu", "early_stop": false, "early_stop_factor": 1.3,'
    ' "early_stop_start": 10, "early_stop_window": 5, "eigen_every": 0, "epochs": 2,'
    ' "evaluator": "train", "evaluator_config": {"batch_size": 16, "device": "cpu",'
    ' "epochs": 2, "limit": 48}, "executor": "sequential", "executor_config": {},'
    ' "grad_clip": 5.0, "max_alpha_snapshots": 2000, "max_evaluations": 10, "max_seconds":'
    ' null, "max_steps_per_epoch": null, "precision": "auto", "roi_size": null, "seed": 0,'
    ' "space": {"n_nodes": 4, "name": "darts", "skeleton": {"channels": 8, "n_cells": 5}},'
    ' "strategy": "successive_halving", "strategy_config": {"eta": 2, "max_budget": 2,'
    ' "min_budget": 1, "n_candidates": 4}, "w_lr": 0.025, "w_lr_min": 0.001, "w_momentum":'
    ' 0.9, "w_weight_decay": 0.0003}'
)


def test_an_old_discrete_run_resumes_on_the_data_its_evaluator_read():
    config = SearchConfig.from_stored(OLD_HALVING, "runs/old").validate()
    assert config.checkpoint_every == AUTO
    assert "limit" not in config.evaluator_config
    settings = config.evaluator_settings()
    assert settings["limit"] == 64 and settings["epochs"] == 2 and settings["batch_size"] == 16
    assert config.strategy_config == OLD_HALVING["strategy_config"]


def test_an_evaluator_limit_the_dataset_did_not_overrule_is_kept():
    stored = json.loads(json.dumps(OLD_HALVING))
    stored["dataset"]["limit"] = None  # the evaluator's own limit was the one read
    config = SearchConfig.from_stored(stored, "runs/old").validate()
    assert config.evaluator_settings()["limit"] == 48


def test_an_old_darts_run_keeps_its_checkpoint_every():
    darts = {"strategy": "darts", "strategy_config": {}, "evaluator_config": {}}
    stored = {**OLD_HALVING, **darts, "max_evaluations": SearchConfig().max_evaluations}
    assert SearchConfig.from_stored(stored, "runs/old").validate().checkpoint_every == 1


def test_a_new_discrete_config_setting_them_is_still_refused():
    with pytest.raises(ConfigError, match="checkpoint_every 1 would be ignored.*remove it"):
        SearchConfig(strategy="random", checkpoint_every=1).validate()
    with pytest.raises(ConfigError, match="evaluator_config limit 48 differs"):
        SearchConfig(
            strategy="random", dataset={"limit": 64}, evaluator_config={"limit": 48}
        ).validate()
