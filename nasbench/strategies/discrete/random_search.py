"""Random search: the baseline every other strategy must beat (Li & Talwalkar, 2019)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nasbench.strategies import register_strategy
from nasbench.strategies.discrete.base import DiscreteConfig, DiscreteStrategy


@dataclass
class RandomConfig(DiscreteConfig):
    """Random search has no hyperparameters: it samples the space uniformly."""


@register_strategy("random", RandomConfig, kind="discrete")
class RandomSearch(DiscreteStrategy):
    """Random search: uniform samples from the space.

    Example:
        >>> s = RandomSearch(RandomConfig(), create_space("nb201"), seed=0)  # doctest: +SKIP
        >>> s.ask()  # doctest: +SKIP
    """

    name = "random"

    def _propose(self) -> Any:
        return self.space.sample(self.rng)
