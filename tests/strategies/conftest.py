"""Shared pieces of the meta-learning strategy tests: a tiny METANAS setup and one torch thread."""

from __future__ import annotations

import pytest
import torch

from nasbench.config import SearchConfig

# Three ops, one node, two cells of two channels: a METANAS run in about a second.
TINY_METANAS_SPACE = {
    "name": "darts",
    "ops": ["skip_connect", "conv_3x3", "avg_pool_3x3"],
    "n_nodes": 1,
    "skeleton": {"n_cells": 2, "channels": 2},
}


@pytest.fixture(scope="module")
def one_torch_thread():
    """A forked child must not enter an OpenMP region its parent's threads owned."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def metanas_config(meta: dict, epochs: int, **strategy_config) -> SearchConfig:
    """A ``metanas`` search on the synthetic multi-class set in the tiny space.

    Args:
        meta: the file's base strategy config.
        epochs: meta-epochs.
        **strategy_config: options changed from ``meta``.

    Returns:
        The validated ``SearchConfig``.
    """
    return SearchConfig(
        dataset={"name": "synthetic-multiclass", "limit": 200},
        space=TINY_METANAS_SPACE,
        strategy="metanas",
        strategy_config={**meta, **strategy_config},
        epochs=epochs,
        device="cpu",
    )
