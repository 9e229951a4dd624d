"""Meta-learning NAS: METANAS (Elsken et al., 2020).

DARTS is the task learner inside a meta-learner (Reptile, or first-order MAML), so both
the network weights and the architecture weights (alphas) are meta-learned over few-shot
tasks and adapt to a new task in a few steps. Importing this package registers
``metanas`` (kind ``"meta"``) in :mod:`nasbench.strategies`; ``nasbench.search`` runs it
through :mod:`nasbench.engine.meta`.

- :mod:`~nasbench.strategies.meta.config`: :class:`MetaNasConfig`;
- :mod:`~nasbench.strategies.meta.adaptation`: the inner loop and the meta-update;
- :mod:`~nasbench.strategies.meta.tasks`: task samplers with disjoint classes, the supernet;
- :mod:`~nasbench.strategies.meta.relaxation`: its tempered, soft-pruned DARTS edges;
- :mod:`~nasbench.strategies.meta.loop`: meta-training, the baselines, the run store rows;
- :mod:`~nasbench.strategies.meta.results`: the rows back as tables.

Example:
    >>> from nasbench.strategies import strategy_names
    >>> strategy_names("meta")
    ('metanas',)
"""

from __future__ import annotations

from typing import Any

from nasbench.strategies import register_strategy
from nasbench.strategies.meta.adaptation import (
    Curve,
    adapt,
    meta_step,
    pooled_step,
    query_gradients,
    query_scores,
    trial,
)
from nasbench.strategies.meta.config import ALGORITHMS, MetaNasConfig
from nasbench.strategies.meta.loop import LEARNERS, MetaLoop, MetaParts, mean_ci95
from nasbench.strategies.meta.results import adaptation_curves, fewshot_summary
from nasbench.strategies.meta.tasks import check_meta_search, task_samplers, task_supernet


@register_strategy("metanas", MetaNasConfig, kind="meta")
class MetaNas:
    """METANAS: DARTS inside Reptile/FOMAML; weights and alphas meta-learned over tasks.

    Args:
        config: its :class:`MetaNasConfig`.

    Example:
        >>> from nasbench.strategies import create_strategy
        >>> create_strategy("metanas", {"k_shot": 1}).config.k_shot
        1
    """

    name = "metanas"
    # Its task learner is a DARTS cell supernet.
    spaces = ("darts",)

    def __init__(self, config: MetaNasConfig) -> None:
        self.config = config

    @staticmethod
    def check_search(search_config: Any, config: MetaNasConfig) -> None:
        """Raise a one-line ConfigError unless ``search_config`` can run METANAS."""
        check_meta_search(search_config, config)


__all__ = [
    "ALGORITHMS",
    "LEARNERS",
    "Curve",
    "MetaLoop",
    "MetaNas",
    "MetaNasConfig",
    "MetaParts",
    "adapt",
    "adaptation_curves",
    "check_meta_search",
    "fewshot_summary",
    "mean_ci95",
    "meta_step",
    "pooled_step",
    "query_gradients",
    "query_scores",
    "task_samplers",
    "task_supernet",
    "trial",
]
