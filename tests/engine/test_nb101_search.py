"""NAS-Bench-101 cells searched end to end through nasbench.search."""

from __future__ import annotations

import pytest

from nasbench.config import DatasetConfig, SearchConfig
from nasbench.engine.search import search
from nasbench.errors import NasbenchError
from nasbench.evaluation import create_evaluator
from nasbench.models import build, count_parameters
from nasbench.runs import load
from nasbench.spaces import NB101Space, Skeleton, parse_genotype
from nasbench.spaces.nb101 import INCEPTION_LIKE_CELL
from nasbench.viz import draw_genotype

SPACE = {"name": "nb101", "skeleton": {"n_cells": 3, "channels": 8}}


def nb101_config(**overrides) -> SearchConfig:
    config = SearchConfig(
        dataset=DatasetConfig(name="synthetic", limit=32),
        space=SPACE,
        strategy="evolution",
        strategy_config={"population_size": 2, "sample_size": 2},
        evaluator="proxy",
        max_evaluations=4,
        device="cpu",
        seed=1,
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


def test_evolution_with_the_proxy_evaluator_searches_nb101_cells(tmp_path):
    result = search(nb101_config(), tmp_path / "run")
    assert result.status == "finished"
    run = load(tmp_path / "run")
    space = NB101Space(skeleton=SPACE["skeleton"])
    cells = [parse_genotype(text) for text in run.candidates["genotype"]]
    assert len(cells) == 4 and all(space.contains(g) for g in cells)
    assert space.contains(result.genotype)
    assert "output" in draw_genotype(result.genotype).source


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"strategy": "darts", "strategy_config": {}, "evaluator": "train"}, "has no supernet"),
        ({"evaluator": "weight_sharing", "space": {"name": "chain"}}, "weight sharing supports"),
    ],
)
def test_what_cannot_search_a_space_is_refused_before_the_run_exists(tmp_path, overrides, match):
    with pytest.raises(NasbenchError, match=match) as info:
        search(nb101_config(**overrides), tmp_path / "run")
    assert "\n" not in str(info.value) and not (tmp_path / "run").exists()


def test_the_train_evaluator_trains_the_nb101_network_of_a_cell():
    space = NB101Space()
    config = {
        "epochs": 1,
        "batch_size": 16,
        "limit": 32,
        "device": "cpu",
        "skeleton": SPACE["skeleton"],
    }
    evaluator = create_evaluator("train", config, space=space, dataset="synthetic", seed=0)
    result = evaluator.evaluate(INCEPTION_LIKE_CELL)
    network = build(space.validate(INCEPTION_LIKE_CELL), Skeleton(**SPACE["skeleton"]), seed=0)
    assert result.cost["params"] == count_parameters(network)
    assert len(result.info["history"]) == 1 and 0 <= result.metrics["val_acc"] <= 1
