"""Evaluation: task metrics, the evaluator registry, evaluators and objectives.

- :mod:`~nasbench.evaluation.base`: :class:`Result` and the :class:`Evaluator` protocol.
- :mod:`~nasbench.evaluation.registry`: :func:`register_evaluator`,
  :func:`create_evaluator`, :func:`evaluator_names` (``"train"``, ``"table"``,
  ``"weight_sharing"``, ``"proxy"``).
- :mod:`~nasbench.evaluation.train_evaluator`: full/partial training.
- :mod:`~nasbench.evaluation.objectives`: objectives, constraints, Pareto fronts.

The evaluator and objective modules import torch and the strategies package, so
they load on first attribute access, not with this package.

Example:
    >>> from nasbench.evaluation import create_evaluator
    >>> ev = create_evaluator("table", seed=0)  # the SYNTHETIC NB201 table
"""

from __future__ import annotations

import importlib
from typing import Any

from nasbench.evaluation.base import Evaluator, Result
from nasbench.evaluation.metrics import classification_metrics, loss_for_task
from nasbench.evaluation.registry import (
    create_evaluator,
    evaluator_names,
    get_evaluator,
    make_evaluator_config,
    register_evaluator,
)

_LAZY = {
    "TrainEvaluator": "nasbench.evaluation.train_evaluator",
    "TableEvaluator": "nasbench.evaluation.table_lookup",
    "WeightSharingEvaluator": "nasbench.evaluation.weight_sharing",
    "ProxyEvaluator": "nasbench.evaluation.proxies",
    "compute_proxy": "nasbench.evaluation.proxies",
    "PROXIES": "nasbench.evaluation.proxies",
    "Constraints": "nasbench.evaluation.objectives",
    "ConstrainedEvaluator": "nasbench.evaluation.objectives",
    "Objective": "nasbench.evaluation.objectives",
    "ParetoArchive": "nasbench.evaluation.objectives",
    "pareto_front": "nasbench.evaluation.objectives",
    "hypervolume_2d": "nasbench.evaluation.objectives",
    "non_dominated_sort": "nasbench.evaluation.objectives",
    "crowding_distance": "nasbench.evaluation.objectives",
}


def __getattr__(name: str) -> Any:
    # Lazy so that nasbench.strategies.discrete.base (which imports evaluation.base)
    # and these modules (which import strategies) do not import each other in a cycle.
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'nasbench.evaluation' has no attribute {name!r}")


__all__ = [
    "Evaluator",
    "Result",
    "classification_metrics",
    "create_evaluator",
    "evaluator_names",
    "get_evaluator",
    "loss_for_task",
    "make_evaluator_config",
    "register_evaluator",
    *sorted(_LAZY),
]
