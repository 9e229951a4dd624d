"""What every discrete (ask/tell) strategy shares.

A discrete strategy proposes genotypes (``ask``) and learns from their scores
(``tell``); it never trains anything. The loop in :mod:`.loop` runs every
strategy the same way (Optuna's ask/tell), so a strategy is only the algorithm.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from nasbench.errors import ConfigError
from nasbench.evaluation.base import Result
from nasbench.options import MethodConfig, option, plain_numbers
from nasbench.protocols import Genotype, Space

__all__ = ["DiscreteConfig", "DiscreteStrategy", "MethodConfig", "genotype_key", "option"]


@dataclass
class DiscreteConfig(MethodConfig):
    """Base of the discrete strategies' configs (range checks, dict round trip)."""

    def check_budget(self, max_evaluations: int | None) -> None:
        """Raise a one-line ConfigError when the strategy cannot run in ``max_evaluations``.

        Args:
            max_evaluations: the evaluation budget, or None for a wall-time budget only.
        """

    def fit_to_budget(
        self, max_evaluations: int | None, given: Iterable[str] = ()
    ) -> dict[str, Any]:
        """Settings to change so that defaults suit a small evaluation budget (none here;
        population-based strategies shrink their population).

        Args:
            max_evaluations: the evaluation budget, or None for a wall-time budget only.
            given: names of the settings the user chose; those are never changed.

        Returns:
            Setting name -> new value; empty when the config fits as it is.
        """
        return {}


class DiscreteStrategy:
    """Base of the ask/tell strategies.

    Args:
        config: the strategy's config dataclass (validated by the registry).
        space: the search space (see :mod:`nasbench.spaces`).
        seed: seeds the strategy's own ``np.random.Generator``; same seed, same proposals.

    Example:
        >>> strategy = RandomSearch(RandomConfig(), space, seed=0)  # doctest: +SKIP
        >>> g = strategy.ask(); strategy.tell(g, evaluator.evaluate(g))  # doctest: +SKIP
    """

    name: ClassVar[str] = "base"

    def __init__(self, config: DiscreteConfig, space: Space, seed: int = 0) -> None:
        if space is None or not hasattr(space, "sample"):
            raise ConfigError(
                f"strategy '{self.name}' needs a search space (nasbench.spaces.create_space), "
                f"got {type(space).__name__}."
            )
        if space.size() < 1:
            raise ConfigError(f"the {space.name!r} search space is empty; widen it.")
        seed = plain_numbers(seed)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ConfigError(f"seed must be a non-negative integer, got {seed!r}.")
        self.config = config
        self.space = space
        self.seed = seed
        self.rng = np.random.default_rng(self.seed)
        self.asked = 0
        self.told = 0

    @property
    def finished(self) -> bool:
        """True when the strategy has nothing left to propose (grid exhausted, GA converged)."""
        return False

    def check_budget(self, max_evaluations: int | None) -> None:
        """Raise a one-line ConfigError when the budget is too small for this strategy."""
        self.config.check_budget(max_evaluations)

    def ask(self) -> Any:
        """Return the next genotype to evaluate."""
        self.asked += 1
        return self._propose()

    def tell(self, genotype: Genotype, result: Result) -> None:
        """Learn from the result of evaluating ``genotype`` (results may arrive in batches)."""
        self.told += 1
        self._observe(genotype, result)

    def _propose(self) -> Any:
        raise NotImplementedError

    def _observe(self, genotype: Genotype, result: Result) -> None:
        """Default: nothing to learn (random and grid search)."""

    def state_dict(self) -> dict[str, Any]:
        """What a checkpoint needs: the generator state and the counters."""
        return {
            "rng": self.rng.bit_generator.state,
            "asked": self.asked,
            "told": self.told,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output."""
        self.rng.bit_generator.state = state["rng"]
        self.asked, self.told = int(state["asked"]), int(state["told"])


def genotype_key(space: Space, genotype: Genotype, mode: str = "canonical") -> str:
    """A key equal for genotypes that must share one evaluation.

    Args:
        space: the search space.
        genotype: a member of it.
        mode: "canonical" uses ``space.canonical(g)`` when the space has one (NB201 cells
            that compute the same function share a key), else the canonical JSON;
            "genotype" always uses the canonical JSON.

    Returns:
        The key text.

    Example:
        >>> genotype_key(NB201Space(), g) == NB201Space().canonical(g)  # doctest: +SKIP
        True
    """
    canonical = getattr(space, "canonical", None)
    if mode == "canonical" and callable(canonical):
        return str(canonical(genotype))
    return genotype.to_json()
