"""Shared pieces of the meta-learning strategy tests: a tiny METANAS setup and one torch thread."""

from __future__ import annotations

import importlib
import sys

import pytest
import torch

from nasbench.config import SearchConfig
from nasbench.evaluation import create_evaluator
from nasbench.spaces import NB201Space

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


# The failed-candidate tests' evaluator, importable by spawned process-pool workers (written
# to a folder on sys.path); it also passes on the inner evaluator's epoch budget (races).
FLAKY = '''
import zlib

from nasbench.errors import DivergenceError


def diverges(genotype, every):
    return zlib.crc32(genotype.to_json().encode()) % every == 0


class Flaky:
    """Diverges on every ``every``-th genotype (by a hash of its JSON), else asks ``inner``."""

    def __init__(self, inner, every=3, at_budget=None):
        self.inner, self.every, self.at_budget = inner, every, at_budget
        self.max_budget = getattr(inner, "max_budget", None)

    def evaluate(self, genotype, budget=None):
        at = self.at_budget is None or budget == self.at_budget
        if at and diverges(genotype, self.every):
            raise DivergenceError(
                f"training candidate {genotype.to_json()} diverged at epoch 1: the loss is "
                "nan; lower the train evaluator's lr and search again."
            )
        return self.inner.evaluate(genotype, budget)
'''


@pytest.fixture
def flaky(tmp_path, monkeypatch):
    """The module holding ``Flaky`` and ``diverges``, fresh from this test's folder."""
    (tmp_path / "flaky_evaluator.py").write_text(FLAKY)
    monkeypatch.syspath_prepend(str(tmp_path))  # spawned workers get this sys.path too
    monkeypatch.delitem(sys.modules, "flaky_evaluator", raising=False)
    return importlib.import_module("flaky_evaluator")


@pytest.fixture(scope="module")
def table():
    """The synthetic NB-201 table evaluator."""
    return create_evaluator("table", seed=0, space=NB201Space())
