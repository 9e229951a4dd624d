"""METANAS's relaxation of the task learner's cell: DARTS's softmax over the alphas with a
temperature annealed within each task's adaptation, and soft pruning of the ops whose
weight fell below a threshold (Elsken et al., 2020; their code anneals the temperature
1 -> 0.05 linearly over a task's alpha-adapting steps, restarting at 1 for every task,
meta-training and meta-test alike, and drops ops under 0.01).

As the temperature falls, ``softmax(alpha / T)`` concentrates on each edge's strongest op
and the pruned ops stop being computed, so the network each task's adaptation ends with,
and that its query set scores, is (close to) the derived discrete cell rather than a
mixture of every op. Steps whose alphas stay (the alpha warm-up, a meta-test with
``test_arch_lr_scale`` 0) run at temperature 1, as in that code.

The fixed-architecture baseline is a plain DARTS mixture: neither the temperature nor the
pruning touches it.
"""

from __future__ import annotations

import torch

from nasbench.strategies.differentiable.base import EdgePlan
from nasbench.strategies.differentiable.darts import Darts, DartsConfig


class TemperedDarts(Darts):
    """DARTS edges with ``softmax(alpha / temperature)`` weights and ops below
    ``prune_below`` left out (each edge keeps at least its strongest op).

    Args:
        seed: seeds the method (DARTS samples nothing; kept for the interface).
        temperature: the starting temperature (set :attr:`temperature` to anneal it).
        prune_below: drop ops whose tempered weight is below this (0: keep all).

    Example:
        >>> method = TemperedDarts(temperature=0.5, prune_below=0.01)
        >>> method.temperature, method.prune_below
        (0.5, 0.01)
    """

    def __init__(self, seed: int = 0, temperature: float = 1.0, prune_below: float = 0.0) -> None:
        super().__init__(DartsConfig(), seed=seed)
        self.temperature = float(temperature)
        self.prune_below = float(prune_below)

    def edge_plans(self, supernet, cell_type: str, mode: str) -> list[EdgePlan]:
        weights = torch.softmax(supernet.alpha(cell_type) / self.temperature, dim=-1)
        active = supernet.group(cell_type).non_zero_ops
        if self.prune_below <= 0.0 or mode == "relaxed":
            return [EdgePlan(w, active) for w in weights]
        keep = (weights.detach() >= self.prune_below).cpu()
        best = weights.detach()[:, list(active)].argmax(dim=1).cpu()
        plans = []
        for e, w in enumerate(weights):
            ops = tuple(k for k in active if keep[e, k]) or (active[int(best[e])],)
            plans.append(EdgePlan(w, ops))
        return plans


def task_temperature(step: int, adapt_steps: int, t_min: float, t_max: float = 1.0) -> float:
    """METANAS's schedule within one task: ``t_max`` at adaptation step 0, falling linearly
    to ``t_min`` at the last of ``adapt_steps`` (one step: ``t_max``).

    Args:
        step: the adaptation step, from 0.
        adapt_steps: the task's steps that adapt the alphas.
        t_min: the temperature of the last step (``temperature_min``).
        t_max: the temperature of the first step.

    Returns:
        The softmax temperature of that step.

    Example:
        >>> [round(task_temperature(s, 3, 0.05), 3) for s in range(3)]
        [1.0, 0.525, 0.05]
    """
    fraction = min(max(step / max(adapt_steps - 1, 1), 0.0), 1.0)
    return t_max * (1.0 - fraction) + t_min * fraction


def set_temperature(net: torch.nn.Module, temperature: float) -> None:
    """Set the softmax temperature of ``net``'s edges when it has one (a METANAS task
    learner); any other network is left as it is."""
    method = getattr(net, "method", None)
    if isinstance(method, TemperedDarts):
        method.temperature = float(temperature)
