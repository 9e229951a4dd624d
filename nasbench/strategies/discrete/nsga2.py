"""NSGA-II (Deb et al., 2002), a multi-objective discrete ask/tell strategy (``"nsga2"``).

Generations of ``population_size`` children by binary tournament, crossover and
mutation, then environmental selection of parents + children by non-dominated
rank and crowding distance, with Deb's constrained domination (every feasible
result beats every infeasible one; infeasible ones rank by violation). The
objectives, constraints, sorting and crowding distance it uses live in
:mod:`nasbench.evaluation.objectives`. A failed candidate (its evaluation diverged, so
it has no costs) is the worst on every objective and infinitely infeasible: every
other result dominates it, and it is never on the front.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench.errors import ConfigError
from nasbench.evaluation.base import Result
from nasbench.evaluation.objectives import (
    Constraints,
    crowding_distance,
    is_feasible,
    non_dominated_sort,
    objective_matrix,
    parse_objectives,
)
from nasbench.protocols import Genotype, Space
from nasbench.strategies import register_strategy
from nasbench.strategies.discrete.base import (
    DiscreteConfig,
    DiscreteStrategy,
    genotype_key,
    option,
)
from nasbench.strategies.discrete.evolution import (
    check_crossover,
    check_population,
    crossover,
    fitted_population,
)
from nasbench.strategies.discrete.executors import failure

__all__ = ["NSGA2", "NSGA2Config"]


@dataclass
class NSGA2Config(DiscreteConfig):
    """NSGA-II settings (Deb et al., 2002), scaled to small budgets."""

    population_size: int = option(
        20, "parents kept per generation (and children per generation)", min=2
    )
    objectives: tuple = option(
        ("score", "params"), "objectives, e.g. score, params, latency_ms:min"
    )
    crossover_prob: float = option(
        0.9, "probability that a child is a crossover of two parents", min=0.0, max=1.0
    )
    mutation_prob: float = option(1.0, "probability that a child is mutated", min=0.0, max=1.0)
    max_params: float = option(
        0.0, "parameter limit (0: none); over it a result is infeasible", min=0.0
    )

    def check_space(self, space: Any) -> None:
        """Crossover must be defined for the space's genotypes (unless it is off)."""
        if self.crossover_prob > 0:
            check_crossover(space, "nsga2", "crossover_prob")

    def validate(self) -> None:
        """Range checks, then the objective specs."""
        super().validate()
        if isinstance(self.objectives, str):
            self.objectives = (self.objectives,)
        if not isinstance(self.objectives, (list, tuple)) or not self.objectives:
            raise ConfigError(
                f"objectives must be a list of objectives such as "
                f'["score", "params"], got {self.objectives!r}.'
            )
        self.objectives = tuple(self.objectives)
        parse_objectives(self.objectives)

    def check_budget(self, max_evaluations: int | None) -> None:
        """The first (random) population must fit in the budget."""
        check_population(self.population_size, max_evaluations)

    def fit_to_budget(
        self, max_evaluations: int | None, given: Iterable[str] = ()
    ) -> dict[str, Any]:
        """Unless chosen, a population of at most a quarter of ``max_evaluations``, as
        evolution's: the rest of the budget goes to generations of children.

        Example:
            >>> NSGA2Config().fit_to_budget(12)
            {'population_size': 3}
        """
        return fitted_population(self, max_evaluations, given, None)


@dataclass
class _Member:
    genotype: Genotype
    values: np.ndarray  # minimised objective values
    violation: float


@register_strategy("nsga2", NSGA2Config, kind="discrete")
class NSGA2(DiscreteStrategy):
    """NSGA-II: multi-objective evolution by non-dominated rank and crowding distance.

    Example:
        >>> s = NSGA2(NSGA2Config(population_size=10), NB201Space(), seed=0)  # doctest: +SKIP
        >>> g = s.ask(); s.tell(g, evaluator.evaluate(g))  # doctest: +SKIP
    """

    name = "nsga2"

    def __init__(self, config: NSGA2Config, space: Space, seed: int = 0) -> None:
        super().__init__(config, space, seed)
        config.validate()
        self.objectives = parse_objectives(config.objectives)
        self.constraints = Constraints(max_params=config.max_params or None)
        self.parents: list[_Member] = []
        self.children: list[_Member] = []
        self.queue: deque[Any] = deque()
        self.seen: set[str] = set()
        self.generation = 0

    # ---- proposals ------------------------------------------------------------------------
    def _propose(self) -> Any:
        if not self.queue:
            if not self.parents:
                return self._fresh(lambda: self.space.sample(self.rng))
            self.queue.extend(self._offspring(self.config.population_size))
        return self.queue.popleft()

    def _fresh(self, make) -> Any:
        # Prefer genotypes not evaluated yet; give up after a few tries (small spaces).
        g = make()
        for _ in range(10):
            if genotype_key(self.space, g) not in self.seen:
                break
            g = make()
        self.seen.add(genotype_key(self.space, g))
        return g

    def _ranks(self, members: list[_Member]) -> tuple[np.ndarray, np.ndarray]:
        """Rank (constrained domination) and crowding distance of every member."""
        n = len(members)
        rank, crowd = np.zeros(n, dtype=int), np.zeros(n)
        feasible = [i for i, m in enumerate(members) if m.violation == 0]
        infeasible = sorted(
            (i for i, m in enumerate(members) if m.violation > 0),
            key=lambda i: members[i].violation,
        )
        level = 0
        if feasible:
            F = np.array([members[i].values for i in feasible])
            for front in non_dominated_sort(F):
                idx = [feasible[j] for j in front]
                rank[idx] = level
                crowd[idx] = crowding_distance(F[front])
                level += 1
        # Infeasible members rank by their violation; equal violations dominate neither
        # (Deb et al.'s constrained domination), so they share a level.
        previous = None
        for i in infeasible:
            if previous is not None and members[i].violation > previous:
                level += 1
            rank[i], crowd[i] = level, 0.0
            previous = members[i].violation
        return rank, crowd

    def _offspring(self, count: int) -> list[Any]:
        rank, crowd = self._ranks(self.parents)

        def tournament() -> Any:
            a, b = self.rng.integers(len(self.parents), size=2)
            better = a if (rank[a], -crowd[a]) <= (rank[b], -crowd[b]) else b
            return self.parents[int(better)].genotype

        def child() -> Any:
            g = tournament()
            if self.rng.random() < self.config.crossover_prob:
                g = crossover(self.space, g, tournament(), self.rng)
            if self.rng.random() < self.config.mutation_prob:
                g = self.space.mutate(g, self.rng)
            return g

        return [self._fresh(child) for _ in range(count)]

    # ---- learning -------------------------------------------------------------------------
    def _observe(self, genotype: Genotype, result: Result) -> None:
        if failure(result) is not None:  # no objective measured: below every infeasible one
            worst = np.full(len(self.objectives), np.inf)
            self.children.append(_Member(genotype, worst, np.inf))
        else:
            self.children.append(self._member(genotype, result))
        if len(self.children) >= self.config.population_size:
            self._select()

    def _member(self, genotype: Genotype, result: Result) -> _Member:
        values = objective_matrix([result], self.objectives)[0]
        if not np.isfinite(values).all():
            values = np.where(np.isfinite(values), values, np.inf)
        violation = self.constraints.violation(result) if self.constraints.limits() else 0.0
        if not is_feasible(result):
            violation = max(violation, 1e-9)
        return _Member(genotype, values, violation)

    def _select(self) -> None:
        """Environmental selection: keep the best ``population_size`` of parents + children."""
        pool = self.parents + self.children
        rank, crowd = self._ranks(pool)
        order = sorted(range(len(pool)), key=lambda i: (rank[i], -crowd[i], i))
        self.parents = [pool[i] for i in order[: self.config.population_size]]
        self.children = []
        self.generation += 1

    def pareto(self) -> list[tuple[Any, np.ndarray]]:
        """Feasible first front of the parents: ``(genotype, values)``, senses restored."""
        sign = np.array([-1.0 if o.sense == "max" else 1.0 for o in self.objectives])
        rank, _ = self._ranks(self.parents)
        return [
            (m.genotype, m.values * sign)
            for m, r in zip(self.parents, rank, strict=True)
            if r == 0 and m.violation == 0
        ]

    def state_dict(self) -> dict[str, Any]:
        def pack(members: list[_Member]) -> list[dict[str, Any]]:
            return [
                {
                    "genotype": m.genotype.to_json(),
                    "values": m.values.tolist(),
                    "violation": m.violation,
                }
                for m in members
            ]

        return {
            **super().state_dict(),
            "parents": pack(self.parents),
            "children": pack(self.children),
            "queue": [g.to_json() for g in self.queue],
            "seen": sorted(self.seen),
            "generation": self.generation,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        from nasbench.spaces.genotype import parse_genotype

        super().load_state_dict(state)

        def unpack(rows: list[dict[str, Any]]) -> list[_Member]:
            return [
                _Member(
                    parse_genotype(r["genotype"]),
                    np.array(r["values"], float),
                    float(r["violation"]),
                )
                for r in rows
            ]

        self.parents, self.children = unpack(state["parents"]), unpack(state["children"])
        self.queue = deque(parse_genotype(t) for t in state["queue"])
        self.seen = set(state["seen"])
        self.generation = int(state["generation"])
