"""GDAS (Dong & Yang, 2019): one Gumbel-softmax hard sample per edge, tau annealed.

In training each edge runs only its sampled op, weighted by the straight-through
hard weight ``one_hot - p.detach() + p`` with ``p = softmax((log_softmax(alpha) + g) / tau)``,
so the output equals the op's output and the gradient reaches every alpha of the
edge through ``p``. One sample per forward and cell type is shared by all cells of
that type, as in the GDAS code. Tau falls linearly from ``tau_max`` to ``tau_min``
over the epochs. Gumbel noise comes from the method's own generator (on the CPU,
so results do not depend on the device). In evaluation mode each edge runs its
argmax op with weight 1.

The straight-through product is the plain estimator, as the GDAS code uses it for the
DARTS space; its NAS-Bench-201 variant also adds the (zero-valued) hard weights of the
unsampled ops to the edge output, which leaves the output as it is but changes the
alpha gradients, and is left out here.

A step trains the weights first, then the alphas, as the GDAS code does. The genotype is
derived with DARTS's rule (each node's two strongest distinct inputs, each with its
strongest op but 'none'), so the cell is a member of the space; the GDAS code's own
NASNet-space rule keeps the two strongest (op, input) pairs, which may share an input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from nasbench.protocols import Supernet
from nasbench.strategies import register_strategy
from nasbench.strategies.differentiable.base import (
    AlphaRecord,
    DifferentiableMethod,
    EdgePlan,
    MethodConfig,
    arch_warmup_option,
    cost_weight_option,
    min_parametric_option,
    option,
)


@dataclass
class GdasConfig(MethodConfig):
    """GDAS hyperparameters (the paper's tau and architecture optimiser; no warm-up)."""

    tau_max: float = option(10.0, "Gumbel-softmax temperature at the first epoch", min=1e-3)
    tau_min: float = option(0.1, "temperature at the last epoch", min=1e-3, at_most="tau_max")
    arch_lr: float = option(3e-4, "Adam learning rate of the architecture weights", above=0.0)
    arch_beta1: float = option(0.5, "Adam beta1 of the architecture optimizer", min=0.0, below=1.0)
    arch_weight_decay: float = option(
        1e-3, "weight decay of the architecture weights", min=0.0, max=1.0
    )
    arch_warmup: float = arch_warmup_option()
    cost_weight: float = cost_weight_option()
    min_parametric_ops: int = min_parametric_option()


@register_strategy("gdas", GdasConfig, kind="differentiable")
class Gdas(DifferentiableMethod):
    """GDAS: Gumbel-softmax hard sampling, one op per edge, annealed temperature.

    Example:
        >>> from nasbench.strategies import create_strategy
        >>> method = create_strategy("gdas", {"tau_max": 10.0, "tau_min": 0.1})
        >>> method.on_epoch_start(0, 10); method.tau
        10.0
    """

    name = "gdas"
    arch_step_first = False  # weights, then alphas, as AutoDL's GDAS.py steps

    def __init__(self, config: GdasConfig, seed: int = 0) -> None:
        super().__init__(config, seed)
        self.tau = float(config.tau_max)

    def on_epoch_start(self, epoch: int, total_epochs: int) -> None:
        super().on_epoch_start(epoch, total_epochs)
        cfg = self.config
        frac = epoch / (total_epochs - 1) if total_epochs > 1 else 1.0
        self.tau = cfg.tau_max - (cfg.tau_max - cfg.tau_min) * min(max(frac, 0.0), 1.0)

    def edge_plans(self, supernet: Supernet, cell_type: str, mode: str) -> list[EdgePlan]:
        alpha = supernet.alpha(cell_type)
        if mode == "relaxed":
            active = supernet.group(cell_type).non_zero_ops
            return [EdgePlan(w, active) for w in torch.softmax(alpha, dim=-1)]
        if mode == "eval":
            best = alpha.detach().argmax(dim=-1).tolist()
            ones = torch.ones_like(alpha)
            return [EdgePlan(ones[e], (k,)) for e, k in enumerate(best)]
        # Sample on the CPU generator, then move: the same noise on every device.
        uniform = torch.rand(alpha.shape, generator=self.generator, dtype=torch.float32)
        gumbel = -torch.log(-torch.log(uniform.clamp(1e-10, 1.0 - 1e-7)))
        logits = (torch.log_softmax(alpha, dim=-1) + gumbel.to(alpha)) / self.tau
        probs = torch.softmax(logits, dim=-1)
        index = probs.detach().argmax(dim=-1)
        hard = torch.zeros_like(probs).scatter_(-1, index.unsqueeze(-1), 1.0)
        weights = hard - probs.detach() + probs
        # Each edge's sampled weight, all gathered in one op (not one index per edge).
        chosen = weights.gather(-1, index.unsqueeze(-1)).squeeze(-1).unbind(0)
        return [
            EdgePlan(row, (k,), active_weights=(w,))
            for row, k, w in zip(weights, index.tolist(), chosen, strict=True)
        ]

    def alpha_records(self, supernet: Supernet) -> list[AlphaRecord]:
        tau = np.array([[self.tau]], dtype=np.float32)
        record = AlphaRecord("global", "tau", tau, tau.copy(), ("tau",), ("tau",))
        return super().alpha_records(supernet) + [record]

    def state_dict(self) -> dict:
        return {**super().state_dict(), "tau": self.tau}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.tau = float(state.get("tau", self.tau))
