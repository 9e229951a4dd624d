"""Tiny search configurations for the engine tests (seconds per run on 2 cores)."""

from __future__ import annotations

import pytest

from nasbench.config import DatasetConfig, SearchConfig


def tiny_config(strategy: str = "darts", **overrides) -> SearchConfig:
    """Three cells of two nodes, four channels, 32 images per half, batch 8 (a discrete
    strategy keeps the supernet settings it never reads at their defaults)."""
    from nasbench.strategies import get_strategy

    supernet = get_strategy(strategy).kind != "discrete"
    config = SearchConfig(
        dataset=DatasetConfig(name="synthetic", limit=64, batch_size=8 if supernet else 16),
        space={"name": "darts", "n_nodes": 2, "skeleton": {"n_cells": 3, "channels": 4}},
        strategy=strategy,
        seed=3,
    )
    if supernet:
        config.epochs, config.max_steps_per_epoch = 2, 2
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


@pytest.fixture
def tiny():
    return tiny_config
