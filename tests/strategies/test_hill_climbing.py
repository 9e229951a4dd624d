"""Hill climbing: valid proposals, no repeats, and it beats random search on a small table."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.bench.synthetic import synthetic_nb201_table
from nasbench.evaluation.base import Result
from nasbench.evaluation.table_lookup import TableEvaluator
from nasbench.spaces import NB201Space
from nasbench.strategies.discrete.base import genotype_key
from nasbench.strategies.discrete.hill_climbing import HillClimbing, HillClimbingConfig
from nasbench.strategies.discrete.loop import Budget, run_discrete
from nasbench.strategies.discrete.random_search import RandomConfig, RandomSearch

BUDGET = 300
SEEDS = range(8)


@pytest.fixture(scope="module")
def small():
    space = NB201Space(ops=["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3"])
    table = synthetic_nb201_table(seed=0, epochs=2, space=space)
    return space, table, TableEvaluator(table=table, space=space)


def _queries_to_optimum(strategy, evaluator, best: float) -> int:
    out = run_discrete(
        strategy,
        evaluator,
        Budget(max_evaluations=BUDGET),
        on_result=lambda trial: trial.result.score >= best,
    )
    reached = out.evaluations_to_reach(best)
    return reached if reached is not None else BUDGET + 1


def test_hill_climbing_reaches_optimum_faster_than_random(small):
    space, table, evaluator = small
    best = table.best("val_acc")["val_acc"]
    climb = [
        _queries_to_optimum(HillClimbing(HillClimbingConfig(), space, seed=s), evaluator, best)
        for s in SEEDS
    ]
    rand = [
        _queries_to_optimum(RandomSearch(RandomConfig(), space, seed=s), evaluator, best)
        for s in SEEDS
    ]
    assert np.mean(climb) < 0.6 * np.mean(rand), (climb, rand)


def test_moves_uphill_and_never_repeats_a_key(small):
    space, _, evaluator = small
    strategy = HillClimbing(HillClimbingConfig(), space, seed=1)
    keys, scores = [], []
    for _ in range(60):
        g = strategy.ask()
        assert space.contains(g)
        result = evaluator.evaluate(g)
        before = strategy.current
        strategy.tell(g, result)
        if before is not None and strategy.current[0] is g:
            assert result.score > before[1]  # moves only uphill within a climb
        keys.append(genotype_key(space, g))
        scores.append(result.score)
    assert len(set(keys)) == len(keys)


def test_no_restarts_stops_at_local_optimum():
    space = NB201Space(ops=["none", "nor_conv_3x3"], n_nodes=3)
    strategy = HillClimbing(HillClimbingConfig(restarts=False), space, seed=0)
    # A landscape with its only optimum at "all conv": every climb must end there.
    asked = 0
    while not strategy.finished and asked < 50:
        g = strategy.ask()
        asked += 1
        score = sum(op == "nor_conv_3x3" for _, _, op in g.edges())
        strategy.tell(g, Result({"score": float(score)}))
    assert strategy.finished
    assert strategy.local_optima[-1][1] == 3.0


def test_state_round_trip(small):
    space, _, evaluator = small
    a = HillClimbing(HillClimbingConfig(), space, seed=3)
    for _ in range(10):
        g = a.ask()
        a.tell(g, evaluator.evaluate(g))
    b = HillClimbing(HillClimbingConfig(), space, seed=99)
    b.load_state_dict(a.state_dict())
    assert [a.ask() for _ in range(5)] == [b.ask() for _ in range(5)]
