"""PC-DARTS (Xu et al., 2020): partial channel connections and edge normalisation.

On each edge only ``C / K`` channels go through the mixed op; the other channels
bypass it (max-pooled on a reduction edge), and a channel shuffle mixes the two
groups. Each edge's output is scaled by ``beta``, the softmax of a learnable score
over the node's incoming edges, which makes the edge choice stable against the
channel sampling. Edges are chosen by ``softmax(alpha) * beta``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from nasbench.device import memory_format_of
from nasbench.errors import ConfigError
from nasbench.protocols import Supernet
from nasbench.strategies import register_strategy
from nasbench.strategies.differentiable.base import (
    AlphaRecord,
    EdgePlan,
    MixedEdge,
    option,
)
from nasbench.strategies.differentiable.darts import Darts, DartsConfig


@dataclass
class PcDartsConfig(DartsConfig):
    """PC-DARTS hyperparameters: the paper's K and architecture learning rate. Its
    15-of-50-epoch warm-up is the ``arch_warmup`` option, off by default."""

    k: int = option(4, "1/K of the channels go through the mixed op", min=1, max=64)
    arch_lr: float = option(6e-4, "Adam learning rate of the architecture weights", above=0.0)

    def check_space(self, space: Any) -> None:
        """Every cell's channels (C, doubled at each reduction) must split into k parts."""
        channels = getattr(getattr(space, "skeleton", None), "channels", None)
        if isinstance(channels, int) and channels % self.k:
            raise ConfigError(
                f"PC-DARTS sends 1/k of the channels through each mixed op, so the skeleton's "
                f"channels ({channels}) must be divisible by k ({self.k}); change either."
            )


class PartialChannelEdge(MixedEdge):
    """A mixed edge over the first ``C // k`` channels; the rest bypass, then shuffle.

    Args:
        spatial_dims: 2 or 3.
        C: channels in and out.
        stride: 1, or 2 (the bypass channels are max-pooled).
        op_names: candidate op names.
        k: the partial-channel divisor K.

    Example:
        >>> edge = PartialChannelEdge(2, 8, 2, ("skip_connect", "max_pool_3x3"), k=4)
        >>> edge(torch.zeros(2, 8, 8, 8), EdgePlan(torch.tensor([.5, .5]), (0, 1))).shape
        torch.Size([2, 8, 4, 4])
    """

    def __init__(
        self, spatial_dims: int, C: int, stride: int, op_names: Sequence[str], k: int
    ) -> None:
        if C % k:
            raise ConfigError(f"PC-DARTS needs channels divisible by k, got C={C}, k={k}.")
        super().__init__(spatial_dims, C // k, stride, op_names)
        self.k = k
        pool = nn.MaxPool2d if spatial_dims == 2 else nn.MaxPool3d
        # ceil_mode: a stride-2 op maps n to ceil(n / 2), odd sizes included.
        self.bypass = pool(2, 2, ceil_mode=True) if stride == 2 else nn.Identity()

    def forward(self, x: torch.Tensor, plan: EdgePlan) -> torch.Tensor:
        if self.k == 1:
            return self.mix(x, plan) if plan.scale is None else plan.scale * self.mix(x, plan)
        part = x.shape[1] // self.k
        # Each part dense in x's memory format: a channel slice of a channels-last tensor
        # is not, and the ops on it would return (and the backward carry on with)
        # channels-first tensors, where the CPU's pools run 8x slower.
        fmt = memory_format_of(x)
        through, bypass = x.split([part, x.shape[1] - part], 1)
        through = through.contiguous(memory_format=fmt)
        if not isinstance(self.bypass, nn.Identity):
            bypass = self.bypass(bypass.contiguous(memory_format=fmt))
        out = channel_shuffle(torch.cat([self.mix(through, plan), bypass], dim=1), self.k)
        return out if plan.scale is None else plan.scale * out


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """Interleave ``groups`` channel groups (ShuffleNet), for 2D and 3D tensors, in
    ``x``'s memory format: PyTorch's ``channel_shuffle``, whose CPU kernel is 1.5-3.5x
    faster on channels-last tensors than a reshape and a transpose (b16, C=16-64).

    Example:
        >>> channel_shuffle(torch.arange(4.).view(1, 4, 1, 1), 2).flatten().tolist()
        [0.0, 2.0, 1.0, 3.0]
    """
    return x if groups == 1 else torch.channel_shuffle(x, groups)


@register_strategy("pcdarts", PcDartsConfig, kind="differentiable")
class PcDarts(Darts):
    """PC-DARTS: partial channels (1/K through the ops) and edge normalisation beta.

    Example:
        >>> from nasbench.strategies import create_strategy
        >>> method = create_strategy("pcdarts", {"k": 4})
    """

    name = "pcdarts"

    def make_edge(
        self, spatial_dims: int, C: int, stride: int, op_names: Sequence[str]
    ) -> nn.Module:
        return PartialChannelEdge(spatial_dims, C, stride, op_names, self.config.k)

    def extra_arch_shapes(self, n_edges: int, n_ops: int) -> dict[str, tuple[int, ...]]:
        return {"beta": (n_edges,)}

    def edge_plans(self, supernet: Supernet, cell_type: str, mode: str) -> list[EdgePlan]:
        plans = super().edge_plans(supernet, cell_type, mode)
        edges = supernet.group(cell_type).edges
        scale = edge_normalisation(supernet.arch_tensor("beta", cell_type), edges)
        for plan, s in zip(plans, scale, strict=True):
            plan.scale = s
        return plans

    def beta_weights(self, supernet: Supernet, cell_type: str) -> torch.Tensor:
        """Per-edge weights: softmax of beta over each node's incoming edges, ``(n_edges,)``."""
        beta = supernet.arch_tensor("beta", cell_type).detach().float().cpu()
        return edge_normalisation(beta, supernet.group(cell_type).edges)

    def edge_scores(self, supernet: Supernet, cell_type: str) -> torch.Tensor:
        return (
            self.op_weights(supernet, cell_type) * self.beta_weights(supernet, cell_type)[:, None]
        )

    def alpha_records(self, supernet: Supernet) -> list[AlphaRecord]:
        records = super().alpha_records(supernet)
        for ct in supernet.cell_types:
            raw = supernet.arch_tensor("beta", ct).detach().float().cpu()
            records.append(
                AlphaRecord(
                    cell_type=ct,
                    kind="beta",
                    raw=raw.numpy()[:, None].copy(),
                    weights=self.beta_weights(supernet, ct).numpy()[:, None],
                    edge_names=supernet.group(ct).edge_names,
                    op_names=("beta",),
                )
            )
        return records


def edge_normalisation(beta: torch.Tensor, edges: Sequence[tuple[int, int]]) -> torch.Tensor:
    """Softmax of ``beta`` over the incoming edges of each node.

    Args:
        beta: one score per edge, ``(n_edges,)``.
        edges: ``(node, input)`` per edge, the same order.

    Returns:
        A tensor like ``beta`` whose entries sum to 1 per node.

    Example:
        >>> edge_normalisation(torch.zeros(5), [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2)])
        tensor([0.5000, 0.5000, 0.3333, 0.3333, 0.3333])
    """
    out = torch.empty_like(beta)
    for node in sorted({n for n, _ in edges}):
        idx = [k for k, (n, _) in enumerate(edges) if n == node]
        out[idx] = torch.softmax(beta[idx], dim=0)
    return out
