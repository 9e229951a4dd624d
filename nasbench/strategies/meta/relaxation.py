"""METANAS's relaxation of the task learner's cell: DARTS's softmax over the alphas with a
temperature that is annealed during meta-training, and soft pruning of the ops whose
weight fell below a threshold (Elsken et al., 2020, as in their code: softmax
temperature 1 -> 0.05, ops under 0.01 dropped).

As the temperature falls, ``softmax(alpha / T)`` concentrates on each edge's strongest op
and the pruned ops stop being computed, so the network that meta-training ends with, and
that is adapted to the meta-test tasks, is (close to) the derived discrete cell rather
than a mixture of every op. The fixed-architecture baseline, whose alphas are all zero,
is untouched by either: every op keeps the weight ``1 / n_ops`` at any temperature.
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


def annealed_temperature(step: int, total_steps: int, t_min: float, t_max: float = 1.0) -> float:
    """The linear schedule: ``t_max`` at meta-step 0, ``t_min`` after the last one.

    Example:
        >>> annealed_temperature(0, 10, 0.05), annealed_temperature(10, 10, 0.05)
        (1.0, 0.05)
    """
    fraction = min(max(step / max(total_steps, 1), 0.0), 1.0)
    return t_max * (1.0 - fraction) + t_min * fraction
