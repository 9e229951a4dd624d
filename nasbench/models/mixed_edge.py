"""The mixed edge of a supernet: every candidate op, run as the method's plan says.

After DARTS's ``MixedOp`` (``model_search.py``). A differentiable method decides,
once per forward and cell type, an :class:`EdgePlan` per edge (op weights, which ops
run, an optional edge scale); every :class:`MixedEdge` follows its plan. The method
creates the edges (``method.make_edge``), so a method may also bring its own edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from nasbench.spaces.blocks import bn_cls
from nasbench.spaces.ops import create_op

__all__ = ["EdgePlan", "MixedEdge"]


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
    """

    weights: torch.Tensor
    active: tuple[int, ...]
    detached: tuple[int, ...] = ()
    scale: torch.Tensor | None = None


class MixedEdge(nn.Module):
    """A supernet edge holding every candidate op; it runs what its plan says.

    Pooling ops get a non-affine BatchNorm after them, as in DARTS's ``MixedOp``.

    Args:
        spatial_dims: 2 or 3.
        C: channels in and out.
        stride: 1, or 2 on the input edges of a reduction cell.
        op_names: candidate op names (from ``nasbench.spaces.ops``).

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

    def mix(self, x: torch.Tensor, plan: EdgePlan) -> torch.Tensor:
        """The weighted sum of the planned ops on ``x`` (no edge scale)."""
        out = None
        for k in plan.active:
            term = plan.weights[k] * self.ops[k](x)
            out = term if out is None else out + term
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

    def forward(self, x: torch.Tensor, plan: EdgePlan) -> torch.Tensor:
        out = self.mix(x, plan)
        return out if plan.scale is None else plan.scale * out


def _search_op(name: str, spatial_dims: int, C: int, stride: int) -> nn.Module:
    # DARTS search: non-affine BN everywhere in the supernet, and a BN after pools so
    # that their output scale is comparable with the convolutions'.
    op = create_op(name, spatial_dims=spatial_dims, C_in=C, C_out=C, stride=stride, affine=False)
    if "pool" in name:
        op = nn.Sequential(op, bn_cls(spatial_dims)(C, affine=False))
    return op
