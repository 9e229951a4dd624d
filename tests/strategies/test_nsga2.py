"""NSGA-II: better fronts than random search, constraints, checkpoints, bad configs."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.bench import synthetic_nb201_table
from nasbench.errors import ConfigError
from nasbench.evaluation.objectives import hypervolume_2d
from nasbench.evaluation.table_lookup import TableEvaluator
from nasbench.spaces import NB201Space
from nasbench.strategies import create_strategy, strategy_names
from nasbench.strategies.discrete.nsga2 import NSGA2, NSGA2Config

SENSES = ["max", "min"]  # accuracy up, parameters down


@pytest.fixture(scope="module")
def table():
    return synthetic_nb201_table(seed=0, epochs=1)


def _hypervolume(points):
    return hypervolume_2d(points, SENSES, [0.5, 1.6e6])


def test_nsga2_improves_hypervolume_over_random_search(table):
    assert "nsga2" in strategy_names("discrete")
    space, ev, budget = NB201Space(), TableEvaluator(table=table), 120
    nsga, rand = [], []
    for seed in range(3):
        strategy = create_strategy("nsga2", {"population_size": 16}, space=space, seed=seed)
        points = []
        for _ in range(budget):
            g = strategy.ask()
            r = ev.evaluate(g)
            strategy.tell(g, r)
            points.append([r.score, r.cost["params"]])
        nsga.append(_hypervolume(points))
        rng = np.random.default_rng(seed)
        rand.append(
            _hypervolume(
                [
                    [r.score, r.cost["params"]]
                    for r in (ev.evaluate(space.sample(rng)) for _ in range(budget))
                ]
            )
        )
        assert strategy.generation >= 5 and strategy.pareto()
    assert np.mean(nsga) > np.mean(rand) * 1.01


def test_nsga2_respects_constraints_and_checkpoints(table):
    space, ev = NB201Space(), TableEvaluator(table=table)
    cfg = NSGA2Config(population_size=8, max_params=4e5)
    s = NSGA2(cfg, space, seed=0)
    for _ in range(40):
        g = s.ask()
        s.tell(g, ev.evaluate(g))
    assert all(values[1] <= 4e5 for _, values in s.pareto())
    twin = NSGA2(NSGA2Config(population_size=8, max_params=4e5), space, seed=0)
    twin.load_state_dict(s.state_dict())
    assert [twin.ask() for _ in range(5)] == [s.ask() for _ in range(5)]


def test_nsga2_bad_config():
    with pytest.raises(ConfigError, match="larger than the budget"):
        NSGA2Config(population_size=30).check_budget(10)
    with pytest.raises(ConfigError, match="unknown objective"):
        NSGA2(NSGA2Config(objectives=("score", "flops")), NB201Space())


def test_infeasible_members_of_equal_violation_share_a_rank():
    from nasbench.strategies.discrete.nsga2 import _Member

    strategy = create_strategy("nsga2", {"population_size": 4}, space=NB201Space())
    values = np.zeros(2)
    members = [
        _Member(None, np.array([-0.9, 1.0]), 0.0),
        _Member(None, values, 0.5),
        _Member(None, values, 0.5),
        _Member(None, values, 0.2),
        _Member(None, values, 0.5),
        _Member(None, values, 1.5),
    ]
    rank, crowd = strategy._ranks(members)
    assert rank.tolist() == [0, 2, 2, 1, 2, 3]
    assert crowd[1:].tolist() == [0.0] * 5
