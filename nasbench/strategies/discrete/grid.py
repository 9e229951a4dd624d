"""Grid search: every member of a finite space, each once, in a fixed (or seeded) order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nasbench.errors import ConfigError
from nasbench.protocols import Space
from nasbench.spaces.base import ENUMERATE_LIMIT
from nasbench.strategies import register_strategy
from nasbench.strategies.discrete.base import DiscreteConfig, DiscreteStrategy, option


@dataclass
class GridConfig(DiscreteConfig):
    """Grid search settings."""

    shuffle: bool = option(False, "visit the grid in a seeded random order instead of in order")


@register_strategy("grid", GridConfig, kind="discrete")
class GridSearch(DiscreteStrategy):
    """Grid search: enumerate a finite space, each member once; then it is finished.

    The space must be small enough to enumerate (at most 1,000,000 members); shrink a
    bigger one (fewer ops, nodes or layers) to get a grid. With ``shuffle`` the order is a
    seeded permutation, so a partial grid is an unbiased sample.

    Example:
        >>> s = GridSearch(GridConfig(), NB201Space(ops=["none", "skip_connect"]), seed=0)
        >>> s.finished  # doctest: +SKIP
        False
    """

    name = "grid"

    def __init__(self, config: GridConfig, space: Space, seed: int = 0) -> None:
        super().__init__(config, space, seed)
        n = space.size()
        if n > ENUMERATE_LIMIT:
            raise ConfigError(
                f"grid search needs a space of at most {ENUMERATE_LIMIT:,} members; the "
                f"{space.name!r} space has {n:.3e}. Shrink it or use random search."
            )
        self._members = list(space.enumerate())
        self._order = self.rng.permutation(len(self._members)) if config.shuffle else range(n)
        self._cursor = 0

    @property
    def finished(self) -> bool:
        """True once every member has been proposed."""
        return self._cursor >= len(self._members)

    def _propose(self) -> Any:
        if self.finished:
            raise ConfigError(
                f"grid search has proposed all {len(self._members)} members of the space; "
                "stop asking."
            )
        g = self._members[int(self._order[self._cursor])]
        self._cursor += 1
        return g

    def state_dict(self) -> dict[str, Any]:
        """Base state plus the grid cursor."""
        return {**super().state_dict(), "cursor": self._cursor}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output."""
        super().load_state_dict(state)
        self._cursor = int(state["cursor"])
