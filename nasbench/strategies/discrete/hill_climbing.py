"""Hill climbing over a space's neighbourhood, with random restarts.

First-improvement local search: from the current genotype, try its neighbours
(``space.neighbours(g)``, one change away) in a random order and move to the first
one that scores better; when every neighbour has been tried without improvement the
current genotype is a local optimum and the climb restarts from a random sample.
Neighbours whose key (the space's canonical form, e.g. NB201 cells that compute the
same function) was already proposed are skipped, so a climb never pays twice for
one architecture. It needs only ask/tell and works with any evaluator, a table
lookup included; NASH (:mod:`.nash`) is its network-morphism variant that carries
weights from parent to child.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nasbench.evaluation.base import Result
from nasbench.protocols import Genotype, Space
from nasbench.strategies import register_strategy
from nasbench.strategies.discrete.base import DiscreteConfig, DiscreteStrategy, genotype_key, option
from nasbench.strategies.discrete.loop import ranked_score


@dataclass
class HillClimbingConfig(DiscreteConfig):
    """Hill-climbing settings."""

    restarts: bool = option(True, "restart from a random genotype at a local optimum")
    max_restart_draws: int = option(
        100, "random draws tried to find an unvisited restart point", min=1
    )


@register_strategy("hill_climbing", HillClimbingConfig, kind="discrete")
class HillClimbing(DiscreteStrategy):
    """Hill climbing: first-improvement moves over the space's neighbours, random restarts.

    Example:
        >>> s = HillClimbing(HillClimbingConfig(), create_space("nb201"), seed=0)  # doctest: +SKIP
        >>> g = s.ask(); s.tell(g, evaluator.evaluate(g))  # doctest: +SKIP
    """

    name = "hill_climbing"

    def __init__(self, config: HillClimbingConfig, space: Space, seed: int = 0) -> None:
        super().__init__(config, space, seed)
        self.current: tuple[Any, float] | None = None
        self.untried: list[Any] = []
        self.visited: set[str] = set()
        self.climbs = 0  # climbs started (1 + restarts)
        self.local_optima: list[tuple[Any, float]] = []
        self._done = False

    @property
    def finished(self) -> bool:
        """True at a local optimum when restarts are off, or when no unvisited start is found."""
        return self._done

    def _key(self, genotype: Genotype) -> str:
        return genotype_key(self.space, genotype)

    def _restart_point(self) -> Any:
        for _ in range(self.config.max_restart_draws):
            g = self.space.sample(self.rng)
            if self._key(g) not in self.visited:
                return g
        return None

    def _propose(self) -> Any:
        while self.current is not None and self.untried:
            g = self.untried.pop()
            if self._key(g) not in self.visited:
                self.visited.add(self._key(g))
                return g
        if self.current is not None:
            # Every neighbour tried, none better: a local optimum.
            self.local_optima.append(self.current)
            self.current = None
            if not self.config.restarts:
                self._done = True
        g = self._restart_point() if not self._done else None
        if g is None:
            # The space is (nearly) exhausted; hand back a sample and stop after it.
            self._done = True
            g = self.space.sample(self.rng)
        self.climbs += 1
        self.visited.add(self._key(g))
        return g

    def _move_to(self, genotype: Genotype, score: float) -> None:
        self.current = (genotype, score)
        options = self.space.neighbours(genotype)
        order = self.rng.permutation(len(options))
        # pop() takes from the end, so the list holds the shuffled order reversed.
        self.untried = [options[int(i)] for i in order[::-1]]

    def _observe(self, genotype: Genotype, result: Result) -> None:
        # With batched asks a result may come from an older neighbourhood; any better
        # genotype is still a valid uphill move. A score that is not a finite number ranks
        # as -inf: a NaN kept as the current score would never be beaten.
        score = ranked_score(result)
        if self.current is None or score > self.current[1]:
            self._move_to(genotype, score)

    def state_dict(self) -> dict[str, Any]:
        """Base state plus the climb (genotypes as JSON)."""
        state = super().state_dict()
        state["current"] = (
            None if self.current is None else [self.current[0].to_json(), self.current[1]]
        )
        state["untried"] = [g.to_json() for g in self.untried]
        state["visited"] = sorted(self.visited)
        state["climbs"] = self.climbs
        state["done"] = self._done
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output."""
        super().load_state_dict(state)
        current = state.get("current")
        self.current = (
            None if current is None else (self.space.validate(current[0]), float(current[1]))
        )
        self.untried = [self.space.validate(t) for t in state.get("untried", [])]
        self.visited = set(state.get("visited", []))
        self.climbs = int(state.get("climbs", 0))
        self._done = bool(state.get("done", False))
