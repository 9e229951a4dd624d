"""HPSpace: categorical hyper-parameter settings that discrete strategies can search."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.errors import SpaceError
from nasbench.evaluation import Result
from nasbench.spaces.hyperparameters import HPSpace
from nasbench.strategies import create_strategy
from nasbench.strategies.discrete import Budget, run_discrete

CHOICES = {"lr": (0.01, 0.05, 0.1), "batch_size": (16, 32)}


def test_members_neighbours_and_encoding():
    space = HPSpace(CHOICES)
    assert space.size() == 6 == len(set(space.enumerate()))
    setting = space.validate({"batch_size": 32, "lr": 0.05})
    assert setting.to_json() == '{"batch_size":32,"lr":0.05}'
    assert space.encode(setting).tolist() == [0, 1, 0, 0, 1]
    assert len(space.neighbours(setting)) == 3
    assert space.mutate(setting, np.random.default_rng(0)) in space.neighbours(setting)
    with pytest.raises(SpaceError, match="lr=0.2 is not one of"):
        space.validate({"lr": 0.2, "batch_size": 16})
    with pytest.raises(SpaceError, match="needs distinct values"):
        HPSpace({"lr": (0.1, 0.1)})


def test_bayesian_optimisation_searches_settings_through_the_loop():
    space = HPSpace(CHOICES)

    class Peaked:
        def evaluate(self, setting, budget=None):
            hps = setting.as_dict()
            return Result({"score": -abs(hps["lr"] - 0.05) - hps["batch_size"] / 1000})

    strategy = create_strategy("bayesopt", {"n_initial": 2}, space=space, seed=0)
    out = run_discrete(strategy, Peaked(), Budget(max_evaluations=6))
    assert out.best_genotype.as_dict() == {"lr": 0.05, "batch_size": 16}  # all six seen


@pytest.mark.parametrize("choices", [{"lr": "0.1"}, {"lr": 0.1}, [("lr", (0.1,))]])
def test_values_that_are_not_a_list_are_refused_not_split(choices):
    with pytest.raises(SpaceError, match="needs a") as err:
        HPSpace(choices)
    assert "\n" not in str(err.value)
