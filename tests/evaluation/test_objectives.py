"""Objectives, constraints, Pareto fronts and hypervolume."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.errors import ConfigError
from nasbench.evaluation import Result
from nasbench.evaluation.objectives import (
    ConstrainedEvaluator,
    Constraints,
    Objective,
    ParetoArchive,
    crowding_distance,
    hypervolume_2d,
    non_dominated_sort,
    pareto_front,
)
from nasbench.spaces import NB201Space
from nasbench.spaces.skeleton import Skeleton

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
    assert not archive.add("f", Result({"score": float("nan")}, {"params": 1.0}))  # unrankable
    assert [item for item, _ in archive.front()] == ["b", "d"]
    assert archive.front()[1][1] == {"score": 0.85, "params": 400.0}
