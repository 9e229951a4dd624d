"""Discrete (ask/tell) strategies and the one loop that runs them.

Importing this package registers the strategies with :mod:`nasbench.strategies`
under kind ``"discrete"``: ``random``, ``grid``, ``evolution`` (regularized
evolution), ``genetic``, ``reinforce`` (NAS-RL), ``qlearning`` (MetaQNN, chain
space) and ``bayesopt``.

Example:
    >>> from nasbench.spaces import create_space
    >>> from nasbench.strategies import create_strategy
    >>> from nasbench.strategies.discrete import Budget, run_discrete
    >>> space = create_space("nb201")
    >>> strategy = create_strategy("evolution", {"population_size": 10}, space=space, seed=0)
    >>> out = run_discrete(strategy, evaluator, Budget(max_evaluations=50))  # doctest: +SKIP
"""

from nasbench.strategies.discrete.base import DiscreteConfig, DiscreteStrategy, genotype_key
from nasbench.strategies.discrete.bayesopt import BayesOpt, BayesOptConfig, expected_improvement
from nasbench.strategies.discrete.decisions import Decisions, decisions
from nasbench.strategies.discrete.evolution import (
    EvolutionConfig,
    GeneticAlgorithm,
    GeneticConfig,
    RegularizedEvolution,
    crossover,
)
from nasbench.strategies.discrete.executors import (
    EXECUTORS,
    Executor,
    Job,
    Outcome,
    ProcessPoolExecutor,
    RayExecutor,
    SequentialExecutor,
    create_executor,
)
from nasbench.strategies.discrete.grid import GridConfig, GridSearch
from nasbench.strategies.discrete.loop import Budget, DiscreteResult, Trial, run_discrete
from nasbench.strategies.discrete.qlearning import QLearning, QLearningConfig
from nasbench.strategies.discrete.random_search import RandomConfig, RandomSearch
from nasbench.strategies.discrete.reinforce import Reinforce, ReinforceConfig

__all__ = [
    "EXECUTORS",
    "BayesOpt",
    "BayesOptConfig",
    "Budget",
    "Decisions",
    "DiscreteConfig",
    "DiscreteResult",
    "DiscreteStrategy",
    "EvolutionConfig",
    "Executor",
    "GeneticAlgorithm",
    "GeneticConfig",
    "GridConfig",
    "GridSearch",
    "Job",
    "Outcome",
    "ProcessPoolExecutor",
    "QLearning",
    "QLearningConfig",
    "RandomConfig",
    "RandomSearch",
    "RayExecutor",
    "Reinforce",
    "ReinforceConfig",
    "RegularizedEvolution",
    "SequentialExecutor",
    "Trial",
    "create_executor",
    "crossover",
    "decisions",
    "expected_improvement",
    "genotype_key",
    "run_discrete",
]
