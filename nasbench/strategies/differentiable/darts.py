"""DARTS (Liu et al., 2019): softmax-weighted mixed ops, first- or second-order alpha step.

The mixed edge is the textbook one, ``sum_k softmax(alpha)_k * op_k(x)``, except that
'none' is not computed (its term is exactly zero and so is its gradient). The
second-order step is the unrolled one of DARTS's ``architect.py``::

    w' = w - eta * (momentum * buf + dL_train/dw + wd * w)
    g  = dL_val(w', alpha)/dalpha - eta * H v,   v = dL_val(w', alpha)/dw'
    H v ~ (dL_train(w+, alpha)/dalpha - dL_train(w-, alpha)/dalpha) / (2 eps),
    w+- = w +- eps * v,  eps = r / ||v||  (r = 0.01)

That is four forward-backward passes (w, w', w+, w-). ``unrolled_difference="forward"``
takes the one-sided difference ``(dL_train(w+)/dalpha - dL_train(w)/dalpha) / eps``
instead, the second term read off the first pass (which runs at w anyway): three
passes, with an error of order eps instead of eps^2 in the Hessian-vector product.

Weights are moved in place and restored from a copy, so no second model is built.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from nasbench.protocols import Supernet
from nasbench.strategies import register_strategy
from nasbench.strategies.differentiable.base import (
    Batch,
    DifferentiableMethod,
    EdgePlan,
    LossFn,
    MethodConfig,
    _zeros_for_none,
    arch_warmup_option,
    cost_weight_option,
    min_parametric_option,
    option,
)

MEMORY_MODES = ("store", "recompute-edge", "recompute-convs")
DIFFERENCES = ("central", "forward")


@dataclass
class DartsConfig(MethodConfig):
    """DARTS hyperparameters (paper defaults)."""

    order: int = option(
        1, "1: first-order alpha gradient; 2: unrolled second-order step", min=1, max=2
    )
    arch_lr: float = option(3e-4, "Adam learning rate of the architecture weights", above=0.0)
    arch_beta1: float = option(0.5, "Adam beta1 of the architecture optimizer", min=0.0, below=1.0)
    arch_weight_decay: float = option(
        1e-3, "weight decay of the architecture weights", min=0.0, max=1.0
    )
    arch_warmup: float = arch_warmup_option()
    cost_weight: float = cost_weight_option()
    min_parametric_ops: int = min_parametric_option()
    unrolled_r: float = option(
        1e-2, "finite-difference step r of the second-order step (eps = r / ||v||)", min=1e-8
    )
    unrolled_difference: str = option(
        "central",
        "second-order step's Hessian-vector product: central (DARTS: weights moved to w+ "
        "and w-, four passes a step) or forward (w+ and the first pass at w: three passes, "
        "error of order eps instead of eps^2)",
        choices=DIFFERENCES,
    )
    skip_below: float = option(
        0.0,
        "skip ops whose softmax weight is below this (0 = exact DARTS; speeds up late search)",
        min=0.0,
        max=1.0,
    )
    checkpoint_cells: bool = option(
        False, "recompute each cell in the backward pass: far less memory, some speed"
    )
    channels_last: bool = option(
        False, "channels-last memory format: same result, faster convolutions on CPU and GPU"
    )
    memory: str = option(
        "store",
        "store: keep every op's activations for the backward pass; recompute-edge: keep "
        "only each edge's input and recompute its ops in the backward pass (same numbers, "
        "a fraction of the memory); recompute-convs: recompute only the convolutions and "
        "keep the pools' and skip's activations (faster, about 3x recompute-edge's memory)",
        choices=MEMORY_MODES,
    )
    fuse_ops: bool = option(
        False,
        "run each edge's separable and dilated convolutions together in a few larger calls "
        "(same numbers up to float rounding; faster on small tensors)",
    )


@register_strategy("darts", DartsConfig, kind="differentiable")
class Darts(DifferentiableMethod):
    """DARTS: softmax mixture of all ops; first- or second-order architecture step.

    Example:
        >>> from nasbench.strategies import create_strategy
        >>> method = create_strategy("darts", {"order": 2})
    """

    name = "darts"

    def edge_plans(self, supernet: Supernet, cell_type: str, mode: str) -> list[EdgePlan]:
        weights = torch.softmax(supernet.alpha(cell_type), dim=-1)
        active = supernet.group(cell_type).non_zero_ops
        # Not in "relaxed" mode: the Hessian differentiates twice through the forward.
        recompute = self.config.memory != "store" and mode != "relaxed"
        options = dict(
            recompute=recompute,
            fused=self.config.fuse_ops,
            keep_parameter_free=self.config.memory == "recompute-convs",
        )
        threshold = self.config.skip_below
        if threshold <= 0.0 or mode == "relaxed":
            return [EdgePlan(w, active, **options) for w in weights]
        keep = (weights.detach() >= threshold).cpu()
        best = weights.detach()[:, list(active)].argmax(dim=1).cpu()
        plans = []
        for e, w in enumerate(weights):
            ops = tuple(k for k in active if keep[e, k]) or (active[int(best[e])],)
            plans.append(EdgePlan(w, ops, **options))
        return plans

    def arch_step(
        self,
        supernet: Supernet,
        train_batch: Batch,
        val_batch: Batch,
        loss_fn: LossFn,
        w_lr: float,
        w_optimizer: torch.optim.Optimizer,
    ) -> dict[str, float]:
        if self.config.order == 1:
            return super().arch_step(supernet, train_batch, val_batch, loss_fn, w_lr, w_optimizer)
        params = self.arch_parameters(supernet)
        loss, grads = self.hypergradient(
            supernet, train_batch, val_batch, loss_fn, w_lr, w_optimizer
        )
        return self._apply(params, grads, loss, supernet)

    def hypergradient(
        self,
        supernet: Supernet,
        train_batch: Batch,
        val_batch: Batch,
        loss_fn: LossFn,
        w_lr: float,
        w_optimizer: torch.optim.Optimizer,
    ) -> tuple[float, list[torch.Tensor]]:
        """The second-order DARTS gradient w.r.t. the architecture parameters (no step).

        Returns:
            ``(validation loss at the unrolled weights, gradients per arch parameter)``.
        """
        xt, yt = train_batch
        xv, yv = val_batch
        return unrolled_hypergradient(
            train_loss=lambda: loss_fn(supernet(xt), yt),
            val_loss=lambda: loss_fn(supernet(xv), yv),
            weights=[p for p in supernet.weight_parameters() if p.requires_grad],
            arch=self.arch_parameters(supernet),
            w_lr=w_lr,
            w_optimizer=w_optimizer,
            r=self.config.unrolled_r,
            difference=self.config.unrolled_difference,
        )


def unrolled_hypergradient(
    train_loss: Callable[[], torch.Tensor],
    val_loss: Callable[[], torch.Tensor],
    weights: Sequence[torch.Tensor],
    arch: Sequence[torch.Tensor],
    w_lr: float,
    w_optimizer: torch.optim.Optimizer | None = None,
    r: float = 1e-2,
    difference: str = "central",
) -> tuple[float, list[torch.Tensor]]:
    """DARTS's second-order architecture gradient with the finite-difference Hessian-vector product.

    The weights are changed in place during the call and restored exactly at the end.

    Args:
        train_loss: closure computing the training loss at the current tensors.
        val_loss: closure computing the validation loss at the current tensors.
        weights: the weight tensors ``w`` (leaves, requires_grad).
        arch: the architecture tensors ``alpha``.
        w_lr: the weight learning rate ``eta`` of the virtual step.
        w_optimizer: an SGD-like optimizer over (a superset of) ``weights``: its momentum
            buffers, ``momentum`` and ``weight_decay`` enter the virtual step as in DARTS.
            None: plain gradient step.
        r: finite-difference scale; ``eps = r / ||v||``.
        difference: ``"central"`` (DARTS: ``H v`` from the arch gradients at ``w + eps v``
            and ``w - eps v``) or ``"forward"`` (from ``w + eps v`` and ``w``, the latter
            taken in the first pass, which runs at ``w`` anyway: one pass fewer).

    Returns:
        ``(validation loss at w', [dL_val/dalpha - eta * H v per arch tensor])``.

    Example:
        >>> w = torch.randn(3, requires_grad=True); a = torch.randn(3, requires_grad=True)
        >>> loss, (g,) = unrolled_hypergradient(lambda: ((w - a) ** 2).sum(),
        ...                                     lambda: (w * a).sum(), [w], [a], 0.1)
    """
    if difference not in DIFFERENCES:
        raise ValueError(f"difference must be one of {DIFFERENCES}, not {difference!r}.")
    weights, arch = list(weights), list(arch)
    momentum, decay, state = _sgd_terms(w_optimizer)
    saved = [w.detach().clone() for w in weights]
    # The forward difference's second point is w itself: its arch gradient comes from
    # the pass that computes dL_train/dw, for the price of a few more inner products.
    at_w = weights + arch if difference == "forward" else weights
    try:
        first = _zeros_for_none(torch.autograd.grad(train_loss(), at_w, allow_unused=True), at_w)
        dw, dalpha_at_w = first[: len(weights)], [g.detach() for g in first[len(weights) :]]
        with torch.no_grad():
            for w, g, w0 in zip(weights, dw, saved, strict=True):
                step = g + decay * w0
                buf = state.get(w, {}).get("momentum_buffer") if momentum else None
                if buf is not None:
                    step = step + momentum * buf
                w.sub_(w_lr * step)
        loss = val_loss()
        grads = _zeros_for_none(
            torch.autograd.grad(loss, arch + weights, allow_unused=True), arch + weights
        )
        dalpha, v = grads[: len(arch)], grads[len(arch) :]
        norm = torch.sqrt(sum((g.detach() ** 2).sum() for g in v))
        if float(norm) == 0.0:
            return float(loss.detach()), [g.detach() for g in dalpha]
        eps = r / norm
        plus = _arch_grad_at(train_loss, weights, saved, v, eps, arch)
        if difference == "forward":
            hv = [(p - m) / eps for p, m in zip(plus, dalpha_at_w, strict=True)]
        else:
            minus = _arch_grad_at(train_loss, weights, saved, v, -eps, arch)
            hv = [(p - m) / (2 * eps) for p, m in zip(plus, minus, strict=True)]
        out = [(da - w_lr * h).detach() for da, h in zip(dalpha, hv, strict=True)]
        return float(loss.detach()), out
    finally:
        with torch.no_grad():
            for w, w0 in zip(weights, saved, strict=True):
                w.copy_(w0)


def _arch_grad_at(train_loss, weights, saved, v, eps, arch) -> list[torch.Tensor]:
    with torch.no_grad():
        for w, w0, d in zip(weights, saved, v, strict=True):
            w.copy_(w0 + eps * d)
    grads = torch.autograd.grad(train_loss(), arch, allow_unused=True)
    return [g.detach() for g in _zeros_for_none(grads, arch)]


def _sgd_terms(optimizer: torch.optim.Optimizer | None) -> tuple[float, float, dict]:
    if optimizer is None:
        return 0.0, 0.0, {}
    group = optimizer.param_groups[0]
    return float(group.get("momentum", 0.0)), float(group.get("weight_decay", 0.0)), optimizer.state
