"""ProxylessNAS (Cai et al., 2019): binary gates, two-path sampling, one path in memory.

Weight step: every edge samples one op from ``p = softmax(alpha)`` and runs only that
op (the memory of one path). Architecture step ("two" mode of the ProxylessNAS code):
every edge samples two ops from ``p`` without replacement and picks one of them as
active by the softmax of their two alphas; the edge output is
``g_a * op_a(x) + g_b * op_b(x).detach()`` with binary gates ``g_a = 1, g_b = 0``. The
gate gradients ``dL/dg`` (BinaryConnect) give the alpha gradient on the two sampled
ops, ``dL/dalpha_i = sum_j dL/dg_j * p_j (delta_ij - p_i)`` over the pair, and after the
optimizer step the pair's alphas are shifted so that their total probability mass is
unchanged (the other ops' probabilities stay as they were). An edge whose active op is
'none' gets no alpha gradient, as in the ProxylessNAS code.

Gates are shared by all cells of a cell type (alphas are shared), so their gradients
sum over those cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from nasbench.errors import SpaceError
from nasbench.protocols import Supernet
from nasbench.strategies import register_strategy
from nasbench.strategies.differentiable.base import (
    AlphaRecord,
    Batch,
    DifferentiableMethod,
    EdgePlan,
    LossFn,
    MethodConfig,
    arch_every_option,
    arch_warmup_option,
    option,
)


@dataclass
class ProxylessConfig(MethodConfig):
    """ProxylessNAS hyperparameters. ``arch_lr`` 6e-3 with Adam beta1 0; the released
    code defaults to 1e-3 and its 'full_v2' estimator. That code updates the alphas
    every 5 weight steps (``arch_every=5``) after 40 of 200 warm-up epochs
    (``arch_warmup=0.2``); the defaults here step the alphas after every weight step
    from the start, so that a short search moves its alphas at all."""

    arch_lr: float = option(6e-3, "Adam learning rate of the architecture weights", above=0.0)
    arch_beta1: float = option(
        0.0, "Adam beta1 (0 keeps unsampled alphas still between steps)", min=0.0, below=1.0
    )
    arch_weight_decay: float = option(
        0.0, "weight decay of the architecture weights", min=0.0, max=1.0
    )
    arch_warmup: float = arch_warmup_option()
    arch_every: int = arch_every_option()


@dataclass
class _TwoPathSample:
    gates: torch.Tensor  # (n_edges, n_ops) leaf, 1 at the active op
    pairs: torch.Tensor  # (n_edges, 2) long: [active, inactive]


@register_strategy("proxyless", ProxylessConfig, kind="differentiable")
class Proxyless(DifferentiableMethod):
    """ProxylessNAS: binary gates with two-path sampling; one op per edge in the weight step.

    Example:
        >>> from nasbench.strategies import create_strategy
        >>> method = create_strategy("proxyless", seed=0)
    """

    name = "proxyless"
    arch_step_first = False  # weights, then alphas, as the ProxylessNAS code steps

    def __init__(self, config: ProxylessConfig, seed: int = 0) -> None:
        super().__init__(config, seed)
        self._samples: dict[str, _TwoPathSample] = {}

    def setup(self, supernet: Supernet) -> None:
        if any(len(supernet.group(ct).op_names) < 2 for ct in supernet.cell_types):
            raise SpaceError("ProxylessNAS needs at least two candidate ops per edge.")
        super().setup(supernet)

    def edge_plans(self, supernet: Supernet, cell_type: str, mode: str) -> list[EdgePlan]:
        alpha = supernet.alpha(cell_type)
        if mode == "relaxed":
            active = supernet.group(cell_type).non_zero_ops
            return [EdgePlan(w, active) for w in torch.softmax(alpha, dim=-1)]
        ones = torch.ones_like(alpha)
        if mode == "eval":
            best = alpha.detach().argmax(dim=-1).tolist()
            return [EdgePlan(ones[e], (k,)) for e, k in enumerate(best)]
        probs = torch.softmax(alpha.detach().float().cpu(), dim=-1)
        if mode == "train":
            index = torch.multinomial(probs, 1, generator=self.generator)[:, 0]
            return [EdgePlan(ones[e], (k,)) for e, k in enumerate(index.tolist())]
        # mode "arch": two paths per edge, one of them active.
        pairs = torch.multinomial(probs, 2, replacement=False, generator=self.generator)
        pair_alpha = alpha.detach().float().cpu().gather(1, pairs)
        first = torch.multinomial(torch.softmax(pair_alpha, dim=-1), 1, generator=self.generator)
        pairs = torch.where(first == 0, pairs, pairs.flip(1))  # column 0 = active
        gates = torch.zeros_like(alpha)
        gates.scatter_(1, pairs[:, :1].to(alpha.device), 1.0)
        gates.requires_grad_(True)
        self._samples[cell_type] = _TwoPathSample(gates, pairs)
        return [EdgePlan(gates[e], (int(a),), detached=(int(b),)) for e, (a, b) in enumerate(pairs)]

    def arch_step(
        self,
        supernet: Supernet,
        train_batch: Batch,
        val_batch: Batch,
        loss_fn: LossFn,
        w_lr: float,
        w_optimizer: torch.optim.Optimizer,
    ) -> dict[str, float]:
        x, y = val_batch
        self._samples.clear()
        with supernet.forward_mode("arch"):
            loss = loss_fn(supernet(x), y)
        cell_types = list(supernet.cell_types)
        gate_grads = torch.autograd.grad(
            loss, [self._samples[ct].gates for ct in cell_types], allow_unused=True
        )
        params, grads, old = [], [], []
        for ct, gg in zip(cell_types, gate_grads, strict=True):
            alpha = supernet.alpha(ct)
            sample = self._samples[ct]
            pairs = sample.pairs.to(alpha.device)
            gg = torch.zeros_like(alpha) if gg is None else gg
            zero_op = supernet.group(ct).zero_op
            grads.append(_pair_alpha_grad(alpha.detach(), gg, pairs, zero_op))
            params.append(alpha)
            old.append(alpha.detach().gather(1, pairs).clone())
        metrics = self._apply(params, grads, float(loss.detach()))
        with torch.no_grad():
            for alpha, before, ct in zip(params, old, cell_types, strict=True):
                pairs = self._samples[ct].pairs.to(alpha.device)
                after = alpha.gather(1, pairs)
                # Keep the pair's total probability: only mass within the pair moves.
                offset = torch.logsumexp(after, 1, keepdim=True) - torch.logsumexp(before, 1, True)
                alpha.scatter_(1, pairs, after - offset)
        return metrics

    def arch_parameters(self, supernet: Supernet) -> list[nn.Parameter]:
        return [supernet.alpha(ct) for ct in supernet.cell_types]

    def state_dict(self) -> dict[str, Any]:
        """The base state and the last two-path sample, whose gates are recorded until the
        next architecture step (with ``arch_every`` > 1, several snapshots later)."""
        state = super().state_dict()
        state["samples"] = {
            ct: {"gates": s.gates.detach().cpu(), "pairs": s.pairs.cpu()}
            for ct, s in self._samples.items()
        }
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output (call after ``setup``)."""
        super().load_state_dict(state)
        # Pairs live on the CPU (they index the CPU copy of the alphas in alpha_records); a
        # checkpoint loaded onto the GPU brings them there too.
        self._samples = {
            ct: _TwoPathSample(s["gates"], s["pairs"].cpu())
            for ct, s in state.get("samples", {}).items()
        }

    def alpha_records(self, supernet: Supernet) -> list[AlphaRecord]:
        records = super().alpha_records(supernet)
        for ct in supernet.cell_types:
            group = supernet.group(ct)
            n_edges, n_ops = len(group.edges), len(group.op_names)
            gates = np.zeros((n_edges, n_ops), dtype=np.float32)
            probs = np.zeros((n_edges, n_ops), dtype=np.float32)
            sample = self._samples.get(ct)
            if sample is not None:
                gates = sample.gates.detach().float().cpu().numpy().copy()
                pairs = sample.pairs
                alpha = supernet.alpha(ct).detach().float().cpu()
                pair_p = torch.softmax(alpha.gather(1, pairs), dim=-1)
                probs = torch.zeros_like(alpha).scatter_(1, pairs, pair_p).numpy()
            records.append(AlphaRecord(ct, "gate", gates, probs, group.edge_names, group.op_names))
        return records


def _pair_alpha_grad(
    alpha: torch.Tensor, gate_grad: torch.Tensor, pairs: torch.Tensor, zero_op: int | None
) -> torch.Tensor:
    """BinaryConnect gradient of the gates mapped to the two sampled alphas of each edge."""
    p = torch.softmax(alpha.gather(1, pairs), dim=-1)  # (E, 2)
    g = gate_grad.gather(1, pairs)  # (E, 2)
    # dL/dalpha_i = sum_j g_j p_j (delta_ij - p_i) = p_i (g_i - sum_j g_j p_j)
    pair_grad = p * (g - (g * p).sum(dim=1, keepdim=True))
    if zero_op is not None:
        pair_grad = pair_grad * (pairs[:, :1] != zero_op).to(pair_grad)
    return torch.zeros_like(alpha).scatter_(1, pairs, pair_grad)
