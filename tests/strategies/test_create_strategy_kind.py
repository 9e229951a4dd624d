"""create_strategy names a strategy's kind when given a keyword only other kinds take."""

from __future__ import annotations

import pytest

from nasbench.errors import ConfigError
from nasbench.spaces import NB201Space
from nasbench.strategies import create_strategy


def test_a_differentiable_strategy_given_a_space_says_it_is_differentiable():
    """Lesson 03 with "darts" among its discrete STRATEGIES: one_search passes space=."""
    with pytest.raises(ConfigError) as err:
        create_strategy("darts", None, space=NB201Space(), seed=0)
    assert str(err.value) == (
        "'darts' is a differentiable strategy; it takes no 'space' keyword (discrete "
        "strategies do); its keywords: seed."
    )


def test_a_meta_strategy_given_a_seed_names_every_kind_that_takes_one():
    with pytest.raises(ConfigError, match=r"^'metanas' is a meta strategy; .* it takes none\.$"):
        create_strategy("metanas", None, seed=0)


def test_a_misspelt_keyword_keeps_the_closest_name_hint():
    """No kind takes 'spac': the registry's own message, with its suggestion, stands."""
    with pytest.raises(ConfigError, match=r"'random' takes no keyword 'spac'.*'space'\?"):
        create_strategy("random", None, spac=NB201Space())


def test_a_discrete_strategy_still_takes_its_space():
    strategy = create_strategy("random", None, space=NB201Space(), seed=0)
    assert strategy.ask() is not None
