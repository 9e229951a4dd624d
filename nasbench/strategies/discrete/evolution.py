"""Evolution: regularized (aging) evolution and a genetic algorithm with crossover.

- Regularized evolution (Real et al., 2019, AmoebaNet): a queue of ``population_size``
  models; each child is a mutation of the best of ``sample_size`` random members, and
  the oldest member dies, so good genotypes must keep being rediscovered.
- A generational genetic algorithm: tournament selection, crossover defined per space
  (DARTS cell: each node from either parent; NB201: each edge; NB101: each vertex's op and
  incoming edges; chain: one point),
  mutation with a probability, elitism, and a stop when the best has not improved for
  ``patience`` generations.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench import protocols
from nasbench.errors import ConfigError, SpaceError
from nasbench.evaluation.base import Result
from nasbench.protocols import Space
from nasbench.spaces.genotype import ChainGenotype, Genotype, NB201Genotype
from nasbench.spaces.nb101 import NB101Genotype
from nasbench.strategies import register_strategy
from nasbench.strategies.discrete.base import DiscreteConfig, DiscreteStrategy, option
from nasbench.strategies.discrete.loop import ranked_score

# At most this share of a small budget goes to the random initial population, so most
# evaluations are still children of the fittest (Real et al.: 100 of 20,000).
POPULATION_SHARE = 0.25


def fitted_population(
    config: Any, max_evaluations: int | None, given: Iterable[str], tournament: str | None
) -> dict[str, Any]:
    """A smaller default population (and tournament) for a budget the default would eat.

    Args:
        config: a config with ``population_size`` (and the ``tournament`` field).
        max_evaluations: the search's budget; None: no change.
        given: the settings the user chose, which are kept.
        tournament: the field of the members drawn per tournament, kept at most the
            population; None for a strategy whose tournament is fixed (binary).

    Returns:
        Setting name -> value, empty when nothing changes.

    Example:
        >>> fitted_population(EvolutionConfig(), 30, (), "sample_size")
        {'population_size': 7}
    """
    given = set(given)
    if max_evaluations is None or "population_size" in given:
        return {}
    size = max(2, int(max_evaluations * POPULATION_SHARE))
    if size >= config.population_size:
        return {}
    changes: dict[str, Any] = {"population_size": size}
    if tournament and tournament not in given and getattr(config, tournament) > size:
        changes[tournament] = size
    return changes


def check_population(population_size: int, max_evaluations: int | None) -> None:
    """Refuse a first (random) population larger than the budget, in one line.

    Example:
        >>> check_population(4, 12)  # fits: nothing raised
    """
    if max_evaluations is not None and population_size > max_evaluations:
        raise ConfigError(
            f"population_size {population_size} is larger than the budget of "
            f"{max_evaluations} evaluations; lower population_size or raise max_evaluations."
        )


@dataclass
class EvolutionConfig(DiscreteConfig):
    """Regularized evolution settings (defaults after Real et al. scaled to small budgets)."""

    population_size: int = option(20, "members alive at once (the aging queue)", min=2)
    sample_size: int = option(5, "members drawn per tournament; the best becomes a parent", min=1)
    mutations: int = option(1, "mutation steps applied to each child", min=1)

    def check_budget(self, max_evaluations: int | None) -> None:
        """The random initial population must fit in the budget."""
        if self.sample_size > self.population_size:
            raise ConfigError(
                f"sample_size {self.sample_size} exceeds population_size "
                f"{self.population_size}; lower sample_size."
            )
        check_population(self.population_size, max_evaluations)

    def fit_to_budget(
        self, max_evaluations: int | None, given: Iterable[str] = ()
    ) -> dict[str, Any]:
        """Unless chosen, a population of at most a quarter of ``max_evaluations``.

        Example:
            >>> EvolutionConfig().fit_to_budget(30)
            {'population_size': 7}
            >>> EvolutionConfig().fit_to_budget(30, given=["population_size"])
            {}
        """
        return fitted_population(self, max_evaluations, given, "sample_size")


@register_strategy("evolution", EvolutionConfig, kind="discrete")
class RegularizedEvolution(DiscreteStrategy):
    """Regularized (aging) evolution: tournament parent, one mutation, the oldest dies.

    Example:
        >>> cfg = EvolutionConfig(population_size=10)
        >>> s = RegularizedEvolution(cfg, space, seed=0)  # doctest: +SKIP
    """

    name = "evolution"

    def __init__(self, config: EvolutionConfig, space: Space, seed: int = 0) -> None:
        super().__init__(config, space, seed)
        config.check_budget(None)
        self.population: deque[tuple[Any, float]] = deque()

    def _propose(self) -> Any:
        cfg = self.config
        # The first population_size proposals (and any asked before they are scored) are random.
        if self.asked <= cfg.population_size or len(self.population) < cfg.sample_size:
            return self.space.sample(self.rng)
        members = list(self.population)
        picks = self.rng.choice(len(members), size=cfg.sample_size, replace=False)
        parent = max((members[int(i)] for i in picks), key=lambda m: m[1])[0]
        child = parent
        for _ in range(cfg.mutations):
            child = self.space.mutate(child, self.rng)
        return child

    def _observe(self, genotype: protocols.Genotype, result: Result) -> None:
        # NaN (a table cell left unrecorded) as -inf: max() would keep a NaN met first.
        self.population.append((genotype, ranked_score(result)))
        if len(self.population) > self.config.population_size:
            self.population.popleft()  # aging: the oldest dies, not the worst


@dataclass
class GeneticConfig(DiscreteConfig):
    """Genetic algorithm settings."""

    population_size: int = option(20, "members per generation", min=2)
    tournament_size: int = option(3, "members per selection tournament", min=1)
    crossover_rate: float = option(0.9, "probability that a child comes from crossover", 0, 1)
    mutation_rate: float = option(0.5, "probability that a child is mutated once", 0, 1)
    elitism: int = option(1, "best members copied unchanged into the next generation", min=0)
    patience: int = option(
        5, "stop after this many generations without improvement (0: never)", min=0
    )
    max_generations: int = option(0, "stop after this many generations (0: no limit)", min=0)

    def check_budget(self, max_evaluations: int | None) -> None:
        """The random initial generation must fit in the budget."""
        if self.elitism >= self.population_size:
            raise ConfigError(
                f"elitism {self.elitism} must be smaller than population_size "
                f"{self.population_size}."
            )
        if self.tournament_size > self.population_size:
            raise ConfigError(
                f"tournament_size {self.tournament_size} exceeds population_size "
                f"{self.population_size}; lower tournament_size."
            )
        check_population(self.population_size, max_evaluations)

    def check_space(self, space: Space) -> None:
        """Crossover must be defined for the space's genotypes (unless it is off)."""
        if self.crossover_rate > 0:
            check_crossover(space, "genetic", "crossover_rate")

    def fit_to_budget(
        self, max_evaluations: int | None, given: Iterable[str] = ()
    ) -> dict[str, Any]:
        """Unless chosen, a generation of at most a quarter of ``max_evaluations``."""
        return fitted_population(self, max_evaluations, given, "tournament_size")


@register_strategy("genetic", GeneticConfig, kind="discrete")
class GeneticAlgorithm(DiscreteStrategy):
    """Genetic algorithm: tournament selection, per-space crossover, mutation, elitism.

    Generations are formed as results arrive: once ``population_size`` children are
    scored they become the next generation (keeping the ``elitism`` best of the old one in
    place of the worst children); children asked before that are bred from the current one.

    Example:
        >>> s = GeneticAlgorithm(GeneticConfig(population_size=8), space, seed=0)  # doctest: +SKIP
    """

    name = "genetic"

    def __init__(self, config: GeneticConfig, space: Space, seed: int = 0) -> None:
        super().__init__(config, space, seed)
        config.check_budget(None)
        self.population: list[tuple[Any, float]] = []
        self.children: list[tuple[Any, float]] = []
        self.generation = 0
        self.best = -np.inf
        self.stale = 0

    @property
    def finished(self) -> bool:
        """True when the best has stalled for ``patience`` generations or the limit is hit."""
        cfg = self.config
        if cfg.max_generations and self.generation >= cfg.max_generations:
            return True
        return bool(cfg.patience) and self.stale >= cfg.patience

    def _select(self) -> Any:
        picks = self.rng.choice(len(self.population), self.config.tournament_size, replace=False)
        return max((self.population[int(i)] for i in picks), key=lambda m: m[1])[0]

    def _propose(self) -> Any:
        cfg = self.config
        if not self.population:
            return self.space.sample(self.rng)
        a = self._select()
        child = a
        if self.rng.random() < cfg.crossover_rate:
            child = crossover(self.space, a, self._select(), self.rng)
        if child == a or self.rng.random() < cfg.mutation_rate:
            # A child equal to its parent would only re-measure it: mutate it instead.
            child = self.space.mutate(child, self.rng)
        return child

    def _observe(self, genotype: protocols.Genotype, result: Result) -> None:
        self.children.append((genotype, ranked_score(result)))  # NaN as -inf: it sorts last
        size = self.config.population_size
        if len(self.children) < size:
            return
        brood, self.children = self.children[:size], self.children[size:]
        if self.population:
            elite = sorted(self.population, key=lambda m: -m[1])[: self.config.elitism]
            brood = sorted(brood, key=lambda m: -m[1])[: size - len(elite)] + elite
        self.population = brood
        self.generation += 1
        best = max(m[1] for m in brood)
        if best > self.best:
            self.best, self.stale = best, 0
        else:
            self.stale += 1


# The genotype kinds :func:`crossover` combines; others (a reconstruction cascade, a
# U-Net's cells) have no crossover, so a search that would need one is refused up front.
CROSSOVER_KINDS = (NB201Genotype, Genotype, NB101Genotype, ChainGenotype)


def check_crossover(space: Space, strategy: str, setting: str) -> None:
    """Refuse, before the run exists, a crossover search of a space whose genotypes have
    no crossover (it would fail at its first child, after training a generation).

    Args:
        space: the space searched.
        strategy: the strategy's name, for the message.
        setting: the strategy_config key that turns crossover off, for the message.

    Raises:
        ConfigError: the space's genotypes have no crossover.

    Example:
        >>> check_crossover(NB201Space(), "genetic", "crossover_rate")  # doctest: +SKIP
    """
    member = space.sample(np.random.default_rng(0))
    if not isinstance(member, CROSSOVER_KINDS):
        raise ConfigError(
            f"strategy {strategy!r} crosses parents over, and no crossover is defined for "
            f"the {getattr(space, 'name', type(space).__name__)!r} space's "
            f"{type(member).__name__} genotypes; use regularized evolution ('evolution'), "
            f"or set strategy_config {setting} to 0."
        )


def crossover(space: Space, a: Any, b: Any, rng: np.random.Generator) -> Any:
    """Combine two parents into a child of the same space.

    DARTS cells take each intermediate node (its inputs and ops) from either parent;
    NB201 cells take each edge's op from either parent; NB101 cells take each vertex's op
    and incoming edges from either parent (redrawn up to 20 times while the child is not a
    member, then the first parent); chains join a prefix of one parent to a suffix of the
    other (one point), kept inside the space's depth range.

    Args:
        space: the space both parents belong to.
        a: first parent.
        b: second parent.
        rng: the random generator.

    Returns:
        A member of ``space``.

    Example:
        >>> child = crossover(NB201Space(), a, b, np.random.default_rng(0))  # doctest: +SKIP
    """
    if isinstance(a, NB201Genotype) and isinstance(b, NB201Genotype):
        nodes = tuple(
            tuple(pa if rng.random() < 0.5 else pb for pa, pb in zip(na, nb, strict=True))
            for na, nb in zip(a.nodes, b.nodes, strict=True)
        )
        return NB201Genotype(nodes=nodes)
    if isinstance(a, Genotype) and isinstance(b, Genotype):
        k = a.inputs_per_node
        cells = {}
        for cell_type in ("normal", "reduce"):
            pa, pb = a.cell(cell_type)[0], b.cell(cell_type)[0]
            pairs: list[Any] = []
            for start in range(0, len(pa), k):
                pairs += (pa if rng.random() < 0.5 else pb)[start : start + k]
            cells[cell_type] = tuple(pairs)
        return Genotype(
            normal=cells["normal"],
            normal_concat=a.normal_concat,
            reduce=cells["reduce"],
            reduce_concat=a.reduce_concat,
            inputs_per_node=k,
        )
    if isinstance(a, NB101Genotype) and isinstance(b, NB101Genotype):
        return _nb101_crossover(space, space.validate(a), space.validate(b), rng)
    if isinstance(a, ChainGenotype) and isinstance(b, ChainGenotype):
        lo, hi = getattr(space, "min_depth", 1), getattr(space, "max_depth", 10**9)
        for _ in range(20):
            i = int(rng.integers(a.depth + 1))
            j = int(rng.integers(b.depth + 1))
            layers = a.layers[:i] + b.layers[j:]
            if lo <= len(layers) <= hi:
                return ChainGenotype(layers)
        return a
    raise ConfigError(
        f"no crossover is defined for {type(a).__name__} genotypes; use regularized "
        "evolution ('evolution') for this space."
    )


def _nb101_crossover(space: Space, a: Any, b: Any, rng: np.random.Generator) -> Any:
    """Each vertex (its op and its column of incoming edges) from either parent."""
    n = a.n_vertices
    for _ in range(20):
        pick = [a if rng.random() < 0.5 else b for _ in range(n)]
        matrix = [[pick[j].matrix[i][j] for j in range(n)] for i in range(n)]
        ops = [pick[v].ops[v - 1] for v in range(1, n - 1)]
        if sum(map(sum, matrix)) <= space.max_edges and any(matrix[i][n - 1] for i in range(n)):
            try:
                return space.validate(NB101Genotype(matrix, ops))
            except SpaceError:
                continue  # the output is not reachable from the input: draw again
    return a
