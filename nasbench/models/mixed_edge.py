"""The mixed edge of a supernet: every candidate op, run as the method's plan says.

After DARTS's ``MixedOp`` (``model_search.py``). A differentiable method decides,
once per forward and cell type, an :class:`EdgePlan` per edge (op weights, which ops
run, an optional edge scale); every :class:`MixedEdge` follows its plan. The method
creates the edges (``method.make_edge``), so a method may also bring its own edge.

A plan may ask for the **recomputing** mixed op (``EdgePlan.recompute``, DARTS's
``memory="recompute-edge"``): the forward runs every op without a graph and keeps only
the edge input; the backward runs each op again, one at a time, and accumulates
``dL/dweight_k = <dL/dout, op_k(x)>`` and the op's input and parameter gradients. Same
numbers as the stored graph, with the activations of one op alive at a time instead of
those of every op of every edge. With ``EdgePlan.keep_parameter_free`` (DARTS's
``memory="recompute-convs"``) the leading parameter-free ops (pools and skip) keep their
stored graph and only the convolutions are recomputed: their activations are most of an
edge's memory, while the pools' cost as much to recompute as they take to store.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from nasbench.models.fused_edge import fusable, fused_outputs, same_norm_settings
from nasbench.spaces.blocks import DilConv, ReLUConvBN, SepConv, bn_cls
from nasbench.spaces.ops import create_op

__all__ = ["EdgePlan", "MixedEdge", "frozen_running_stats"]


@dataclass
class EdgePlan:
    """How one mixed edge computes its output in one forward pass.

    Output = ``scale * (sum_{k in active} weights[k] * op_k(x)
    + sum_{k in detached} weights[k] * op_k(x).detach())``; ops in neither list are
    not run at all (that is where the savings of 'none', GDAS and ProxylessNAS are).

    Attributes:
        weights: op weights, shape ``(n_ops,)``; may carry gradient to the alphas.
        active: op indices that are run with gradient.
        detached: op indices run without gradient to the op weights' inputs
            (ProxylessNAS's inactive path).
        scale: optional scalar multiplying the edge output (PC-DARTS edge weight beta).
        recompute: keep only the edge input and recompute the active ops in the
            backward pass (no effect without gradient, or with detached ops).
        keep_parameter_free: with ``recompute``, the leading run of parameter-free
            active ops (DARTS's pools and skip) keeps its stored graph; the ops after
            it are recomputed.
        fused: run the active separable and dilated convolutions together in a few
            larger calls (:mod:`nasbench.models.fused_edge`; same numbers up to rounding).
        active_weights: optional ``weights[k]`` for each ``k`` in ``active``, in that
            order, as the method computed them (e.g. GDAS gathers every edge's at once):
            spares the edge one indexing op, and its backward, per active op.
    """

    weights: torch.Tensor
    active: tuple[int, ...]
    detached: tuple[int, ...] = ()
    scale: torch.Tensor | None = None
    recompute: bool = False
    fused: bool = False
    keep_parameter_free: bool = False
    active_weights: tuple[torch.Tensor, ...] | None = None

    def weights_of(self, ops: Sequence[int]) -> Sequence[torch.Tensor]:
        """``[weights[k] for k in ops]`` in few ops: from :attr:`active_weights` when
        ``ops`` leads :attr:`active`, else one ``unbind`` for all of them (one graph node
        where indexing makes one per op; same values and gradients)."""
        if self.active_weights is not None and tuple(ops) == self.active[: len(ops)]:
            return self.active_weights[: len(ops)]
        if len(ops) == 1:
            return (self.weights[ops[0]],)
        every = self.weights.unbind(0)
        return [every[k] for k in ops]


class MixedEdge(nn.Module):
    """A supernet edge holding every candidate op; it runs what its plan says.

    Pooling ops get a non-affine BatchNorm after them, as in DARTS's ``MixedOp``.
    The ops that begin with a plain ``ReLU`` (DARTS's separable and dilated convolutions)
    share one ``ReLU(x)``: the same outputs, and one ReLU's forward and backward instead
    of four.

    Args:
        spatial_dims: 2 or 3.
        C: channels in and out.
        stride: 1, or 2 on the input edges of a reduction cell.
        op_names: candidate op names (from ``nasbench.spaces.ops``).

    Attributes:
        share_relu: share the leading ``ReLU(x)`` (True); False runs each op whole, as
            DARTS's ``MixedOp`` does (the benchmark's textbook baseline).

    Example:
        >>> edge = MixedEdge(2, 4, 1, ("none", "skip_connect", "avg_pool_3x3"))
        >>> plan = EdgePlan(torch.tensor([0.2, 0.5, 0.3]), active=(1, 2))
        >>> edge(torch.zeros(2, 4, 8, 8), plan).shape
        torch.Size([2, 4, 8, 8])
    """

    def __init__(self, spatial_dims: int, C: int, stride: int, op_names: Sequence[str]) -> None:
        super().__init__()
        self.op_names = tuple(op_names)
        self.stride = stride
        self.ops = nn.ModuleList(_search_op(name, spatial_dims, C, stride) for name in op_names)
        self.fusable_ops = frozenset(k for k, op in enumerate(self.ops) if fusable(op))
        self.share_relu = True
        self.parameter_free_ops = frozenset(
            k for k, op in enumerate(self.ops) if next(op.parameters(), None) is None
        )

    def outputs(self, x: torch.Tensor, ops: Sequence[int], fused: bool = False) -> list:
        """``[self.ops[k](x) for k in ops]``; with ``fused``, the separable and dilated
        convolutions among them run together (:func:`fused_outputs`); without, the ops
        that begin with a plain ``ReLU`` share one (``share_relu``)."""
        group = [k for k in ops if k in self.fusable_ops] if fused else []
        if len(group) < 2 or not same_norm_settings([self.ops[k] for k in group]):
            return self._shared_relu_outputs(x, ops)
        found = dict(zip(group, fused_outputs([self.ops[k] for k in group], x), strict=True))
        return [found[k] if k in found else self.ops[k](x) for k in ops]

    def _shared_relu_outputs(self, x: torch.Tensor, ops: Sequence[int]) -> list:
        if not self.share_relu:
            return [self.ops[k](x) for k in ops]
        tails = {k: tail for k in ops if (tail := _after_leading_relu(self.ops[k])) is not None}
        if len(tails) < 2:
            return [self.ops[k](x) for k in ops]
        relu_x = torch.relu(x)
        return [_run(tails[k], relu_x) if k in tails else self.ops[k](x) for k in ops]

    def mix(self, x: torch.Tensor, plan: EdgePlan) -> torch.Tensor:
        """The weighted sum of the planned ops on ``x`` (no edge scale)."""
        if plan.recompute and not plan.detached and plan.active and torch.is_grad_enabled():
            stored, recomputed = self._split_for_recompute(plan)
            partial = self._weighted_sum(x, plan, stored) if stored else None
            if not recomputed:
                return partial
            params = [p for k in recomputed for p in self.ops[k].parameters()]
            return _RecomputedMix.apply(
                x, plan.weights, self, recomputed, plan.fused, partial, *params
            )
        out = self._weighted_sum(x, plan, plan.active)
        for k in plan.detached:
            # The inactive ProxylessNAS path: its output only feeds the gate gradient,
            # so no graph is kept through the op (the memory of one path).
            with torch.no_grad():
                y = self.ops[k](x)
            term = plan.weights[k] * y
            out = term if out is None else out + term
        if out is None:
            raise ValueError("An EdgePlan must run at least one op.")
        return out

    def _weighted_sum(
        self, x: torch.Tensor, plan: EdgePlan, ops: Sequence[int]
    ) -> torch.Tensor | None:
        out = None
        for w, y in zip(plan.weights_of(ops), self.outputs(x, ops, plan.fused), strict=True):
            term = w * y
            out = term if out is None else out + term
        return out

    def _split_for_recompute(self, plan: EdgePlan) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(ops that keep their graph, ops to recompute): a leading run only, so that the
        sum is taken in the stored path's order and the output stays bit-identical."""
        n = 0
        if plan.keep_parameter_free:
            while n < len(plan.active) and plan.active[n] in self.parameter_free_ops:
                n += 1
        return tuple(plan.active[:n]), tuple(plan.active[n:])

    def forward(self, x: torch.Tensor, plan: EdgePlan) -> torch.Tensor:
        out = self.mix(x, plan)
        return out if plan.scale is None else plan.scale * out


class _RecomputedMix(torch.autograd.Function):
    """``partial + sum_k weights[k] * op_k(x)`` over ``active``, storing ``x`` and
    ``weights`` only.

    Inputs: ``x, weights, edge, active, fused, partial, *params``: ``partial`` is the sum
    of the ops before ``active`` (None if there are none), ``params`` the active ops'
    parameters in ``edge.ops[k].parameters()`` order: their gradients return through
    autograd, so ``backward()`` accumulates them and ``torch.autograd.grad`` leaves them
    alone, as for any other tensor.
    """

    @staticmethod
    def forward(ctx: Any, x, weights, edge, active, fused, partial, *params):  # noqa: ANN001
        # The parameters are leaves: holding them on ctx makes no reference cycle.
        ctx.edge, ctx.active, ctx.fused, ctx.params = edge, active, fused, params
        device = x.device.type
        ctx.autocast = (torch.is_autocast_enabled(device), torch.get_autocast_dtype(device))
        ctx.save_for_backward(x, weights)
        out = partial
        for k, y in zip(active, edge.outputs(x, active, fused), strict=True):
            # The stored path's expression, so that the output is bit-identical (the
            # first sum is out of place: ``partial`` belongs to the caller's graph).
            term = weights[k] * y
            if out is None:
                out = term
            elif out is partial:
                out = out + term
            else:
                out.add_(term)
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor):
        x, weights = ctx.saved_tensors
        want_x, want_w = ctx.needs_input_grad[:2]
        param_needs = ctx.needs_input_grad[6:]
        # Only what this backward is asked for: the first-order architecture step
        # freezes the weights, so their gradients are not computed at all.
        wanted = [p for p, need in zip(ctx.params, param_needs, strict=True) if need]
        enabled, dtype = ctx.autocast
        x_in = x.detach().requires_grad_(want_x)
        # All ops of the edge at once, one engine call: the graph of one edge lives for
        # the length of this call (per-op calls cost more in overhead than they save).
        with (
            torch.enable_grad(),
            torch.autocast(x.device.type, dtype=dtype) if enabled else contextlib.nullcontext(),
            frozen_running_stats(ctx.edge),
        ):
            ys = ctx.edge.outputs(x_in, ctx.active, ctx.fused)
        grad_w = None
        if want_w:
            grad_w = torch.zeros_like(weights)
            for k, y in zip(ctx.active, ys, strict=True):
                grad_w[k] = (grad_out * y.detach()).sum()
        inputs = ([x_in] if want_x else []) + wanted
        outputs = [(y, weights[k] * grad_out) for k, y in zip(ctx.active, ys, strict=True)]
        outputs = [(y, g) for y, g in outputs if y.requires_grad]
        grads = [None] * len(inputs)
        if inputs and outputs:
            outs, seeds = zip(*outputs, strict=True)
            grads = list(torch.autograd.grad(outs, inputs, seeds, allow_unused=True))
        grad_x = grads.pop(0) if want_x else None
        found = iter(grads)
        grad_params = [next(found) if need else None for need in param_needs]
        grad_partial = grad_out if ctx.needs_input_grad[5] else None
        return (grad_x, grad_w, None, None, None, grad_partial, *grad_params)


@contextlib.contextmanager
def frozen_running_stats(module: nn.Module) -> Iterator[None]:
    """Run ``module`` again without moving its BatchNorm running statistics a second time.

    Inside the block every tracking BatchNorm of ``module`` has momentum 0 (its
    running mean and variance stay as they are) and its batch counter is put back
    afterwards; the batch statistics used for the output are unchanged, and so are the
    tensors BatchNorm saves for its backward (``torch.utils.checkpoint`` checks that).

    Example:
        >>> bn = nn.BatchNorm2d(2)
        >>> with frozen_running_stats(bn):
        ...     _ = bn(torch.randn(4, 2, 3, 3))
        >>> float(bn.running_mean.abs().sum()), int(bn.num_batches_tracked)
        (0.0, 0)
    """
    norms = [m for m in _norms(module) if m.track_running_stats]
    saved = [(m.momentum, m.num_batches_tracked.clone()) for m in norms]
    for m in norms:
        m.momentum = 0.0
    try:
        yield
    finally:
        for m, (momentum, count) in zip(norms, saved, strict=True):
            m.momentum = momentum
            m.num_batches_tracked.copy_(count)


# The BatchNorms under a module, found once: a backward pass freezes every edge's.
_NORMS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _norms(module: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    if module not in _NORMS:
        _NORMS[module] = [
            m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
        ]
    return _NORMS[module]


def _after_leading_relu(op: nn.Module) -> list[nn.Module] | None:
    """The layers of ``op`` after its first one, where ``op`` is one of DARTS's blocks
    (forward = ``self.op(x)``, a ``Sequential``) that begins with an out-of-place ``ReLU``
    and nothing on the way carries a hook (a hook, e.g. the NASWOT proxy's, must see every
    call); else None."""
    if type(op) not in _RELU_LED or _hooked(op):
        return None
    layers = op.op
    first = layers[0]
    if type(first) is not nn.ReLU or first.inplace or _hooked(first) or _hooked(layers):
        return None
    return list(layers)[1:]


_RELU_LED = (SepConv, DilConv, ReLUConvBN)


def _hooked(module: nn.Module) -> bool:
    return bool(module._forward_pre_hooks or module._forward_hooks)


def _run(layers: Sequence[nn.Module], x: torch.Tensor) -> torch.Tensor:
    for layer in layers:
        x = layer(x)
    return x


def _search_op(name: str, spatial_dims: int, C: int, stride: int) -> nn.Module:
    # DARTS search: non-affine BN everywhere in the supernet, and a BN after pools so
    # that their output scale is comparable with the convolutions'.
    op = create_op(name, spatial_dims=spatial_dims, C_in=C, C_out=C, stride=stride, affine=False)
    if "pool" in name:
        op = nn.Sequential(op, bn_cls(spatial_dims)(C, affine=False))
    return op
