"""Every general discrete strategy searches the NAS-Bench-101 space."""

from __future__ import annotations

import zlib

import pytest

from nasbench.errors import NasbenchError
from nasbench.evaluation import Result
from nasbench.spaces import NB101Space
from nasbench.strategies import create_strategy
from nasbench.strategies.discrete import Budget, run_discrete


class HashScore:
    """Score = a fixed number per unique cell (its hash), so equal cells score alike."""

    def __init__(self, space):
        self.space = space
        self.seen = []

    def evaluate(self, genotype, budget=None):
        self.seen.append(genotype)
        key = self.space.canonical(genotype)
        return Result({"score": zlib.crc32(key.encode()) / 2**32}, {"epochs": float(budget or 1)})


@pytest.mark.parametrize(
    ("name", "config"),
    [
        ("random", {}),
        ("evolution", {"population_size": 4, "sample_size": 2}),
        ("genetic", {"population_size": 4}),
        ("reinforce", {}),
        ("bayesopt", {"n_initial": 4, "pool_size": 20, "encoding": "path"}),
        ("hill_climbing", {}),
        ("nsga2", {"population_size": 4, "objectives": ["score"]}),
    ],
)
def test_strategy_searches_nb101_members_and_reports_the_best(name, config):
    space = NB101Space()
    strategy = create_strategy(name, config, space=space, seed=0)
    evaluator = HashScore(space)
    out = run_discrete(strategy, evaluator, Budget(max_evaluations=12))
    assert out.evaluations >= 1 and all(space.contains(g) for g in evaluator.seen)
    # The loop keys its cache on the graph hash: an isomorphic cell is never evaluated twice.
    assert len({space.canonical(g) for g in evaluator.seen}) == len(evaluator.seen)
    assert out.best_result.score == max(
        zlib.crc32(space.canonical(g).encode()) / 2**32 for g in evaluator.seen
    )


def test_grid_search_refuses_a_space_too_large_to_list():
    with pytest.raises(NasbenchError, match="grid search needs a space of at most") as info:
        create_strategy("grid", {}, space=NB101Space(), seed=0)
    assert "\n" not in str(info.value)
