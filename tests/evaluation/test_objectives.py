"""Objectives, constraints, Pareto fronts, hypervolume and the NSGA-II strategy."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.bench import synthetic_nb201_table
from nasbench.errors import ConfigError
from nasbench.evaluation import Result
from nasbench.evaluation.objectives import (
    NSGA2,
    ConstrainedEvaluator,
    Constraints,
    NSGA2Config,
    Objective,
    ParetoArchive,
    crowding_distance,
    hypervolume_2d,
    non_dominated_sort,
    pareto_front,
)
from nasbench.evaluation.table_lookup import TableEvaluator
from nasbench.spaces import NB201Space
from nasbench.spaces.skeleton import Skeleton
from nasbench.strategies import create_strategy, strategy_names

SENSES = ["max", "min"]  # accuracy up, parameters down


def test_pareto_front_on_hand_made_points():
    points = [
        [0.90, 500],  # 0 front
        [0.80, 200],  # 1 front
        [0.85, 600],  # 2 dominated by 0
        [0.80, 200],  # 3 equal to 1: both stay
        [0.95, 900],  # 4 front
        [0.70, 250],  # 5 dominated by 1
    ]
    assert pareto_front(points, SENSES).tolist() == [0, 1, 3, 4]
    assert pareto_front(points, ["min", "max"]).tolist() == [2, 4, 5]
    fronts = non_dominated_sort(np.array([[1, 2], [2, 1], [2, 2], [3, 3]]))
    assert [f.tolist() for f in fronts] == [[0, 1], [2], [3]]
    assert crowding_distance(np.array([[0.0, 4.0], [1.0, 2.0], [4.0, 0.0]])).tolist() == [
        np.inf,
        1.0 + 1.0,
        np.inf,
    ]


def test_hypervolume_by_hand():
    pts = [[0.9, 2.0], [0.7, 1.0]]
    # reference (0.5, 3): rectangles (0.9-0.5)*(3-2) + (0.7-0.5)*(2-1) = 0.4 + 0.2
    assert hypervolume_2d(pts, SENSES, [0.5, 3.0]) == pytest.approx(0.6)
    assert hypervolume_2d(pts + [[0.6, 2.5]], SENSES, [0.5, 3.0]) == pytest.approx(0.6)
    assert hypervolume_2d([[0.4, 1.0]], SENSES, [0.5, 3.0]) == 0.0


def test_bad_points_give_one_line_errors():
    with pytest.raises(ConfigError, match="2 senses for 3 objectives"):
        pareto_front([[1, 2, 3]], SENSES)
    with pytest.raises(ConfigError, match="'max' or 'min'"):
        pareto_front([[1, 2]], ["max", "down"])
    with pytest.raises(ConfigError, match="NaN"):
        pareto_front([[1, np.nan]], SENSES)
    with pytest.raises(ConfigError, match="Did you mean 'params'"):
        Objective.parse("parms")
    assert Objective.parse("val_loss:min") == Objective("val_loss", "min")


def test_constraints_flag_infeasible_results():
    c = Constraints(max_params=1e6)
    big = c.apply(Result({"score": 0.9}, {"params": 2e6}))
    small = c.apply(Result({"score": 0.8}, {"params": 5e5}))
    assert big.info["feasible"] is False and big.metrics["feasible"] == 0.0
    assert big.info["violations"] == ["params 2,000,000 > 1,000,000"]
    assert small.info["feasible"] is True and small.info["violations"] == []
    assert c.violation(Result({}, {"params": 1.5e6})) == pytest.approx(0.5)
    with pytest.raises(ConfigError, match="positive number"):
        Constraints(max_params=-1)
    with pytest.raises(ConfigError, match="needs result.cost"):
        c.apply(Result({"score": 1.0}, {}))


def test_constrained_evaluator_measures_missing_costs():
    space = NB201Space(ops=["none", "nor_conv_3x3"], skeleton=Skeleton(5, 4))

    class ScoreOnly:
        def evaluate(self, g, budget=None):
            return Result({"score": 0.5}, {"wall_s": 1.0})

    g = space.sample(np.random.default_rng(0))
    from nasbench.models.costs import network_costs

    exact = network_costs(g, space.skeleton, 28, repeats=0)["params"]
    loose = ConstrainedEvaluator(
        ScoreOnly(), Constraints(max_params=exact), space, latency_repeats=0
    )
    tight = ConstrainedEvaluator(
        ScoreOnly(), Constraints(max_params=exact - 1), space, latency_repeats=0
    )
    r = loose.evaluate(g)
    assert r.cost["params"] == exact and r.cost["macs"] > 0 and r.info["feasible"]
    assert not tight.evaluate(g).info["feasible"]
    timed = ConstrainedEvaluator(ScoreOnly(), None, space, latency_repeats=2).evaluate(g)
    assert timed.cost["latency_ms"] > 0


def test_pareto_archive_tracks_the_front():
    archive = ParetoArchive(["score", "params"])
    assert archive.add("a", Result({"score": 0.8}, {"params": 500.0}))
    assert archive.add("b", Result({"score": 0.9}, {"params": 900.0}))
    assert not archive.add("c", Result({"score": 0.7}, {"params": 600.0}))
    assert archive.add("d", Result({"score": 0.85}, {"params": 400.0}))  # a leaves
    flagged = Result({"score": 1.0}, {"params": 1.0}, {"feasible": False})
    assert not archive.add("e", flagged)
    assert [item for item, _ in archive.front()] == ["b", "d"]
    assert archive.front()[1][1] == {"score": 0.85, "params": 400.0}


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
