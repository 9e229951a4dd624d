"""A single-path weight-sharing supernet of the NAS-Bench-101 space.

Every cell position holds, for each interior vertex, the three ops at the cell's full
output width, a 1x1 projection from the cell input, and the output projection. A forward
runs one cell genotype (the same in every position, as the discrete network): the pruned
graph and its vertex channels are those of :class:`~nasbench.models.nb101_network.NB101Cell`,
and a vertex of ``c`` channels uses the first ``c`` filters of its op's shared weights and
batch norm (channel slicing, as in Slimmable networks and NAS-Bench-1Shot1's shared
weights), so one set of weights serves every cell. Stem, downsampling and classifier are
those of the discrete network. The weight-sharing evaluator trains it with one uniformly
sampled cell per step, then scores candidates with the weights they inherit.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from nasbench.device import seeded
from nasbench.models.nb101_network import vertex_channels
from nasbench.protocols import Genotype
from nasbench.spaces.blocks import GlobalAvgPool, bn_cls, conv_cls, max_pool_cls
from nasbench.spaces.ops import create_op


class SlicedConvBNReLU(nn.Module):
    """Conv-BN-ReLU at full width whose forward uses the first ``c_out`` filters.

    Args:
        spatial_dims: 2 or 3.
        C_in: the most input channels.
        C_out: the most output channels.
        kernel: kernel size (padding keeps the size).

    Example:
        >>> op = SlicedConvBNReLU(2, 8, 8, 3)
        >>> op(torch.zeros(2, 5, 6, 6), 3).shape
        torch.Size([2, 3, 6, 6])
    """

    def __init__(self, spatial_dims: int, C_in: int, C_out: int, kernel: int) -> None:
        super().__init__()
        self.conv = conv_cls(spatial_dims)(C_in, C_out, kernel, padding=kernel // 2, bias=False)
        self.bn = bn_cls(spatial_dims)(C_out)
        self.conv_fn = F.conv2d if spatial_dims == 2 else F.conv3d

    def forward(self, x: torch.Tensor, c_out: int) -> torch.Tensor:
        weight = self.conv.weight[:c_out, : x.shape[1]]
        y = self.conv_fn(x, weight, padding=self.conv.padding)
        bn = self.bn
        momentum = bn.momentum
        if bn.training:
            bn.num_batches_tracked += 1
            if momentum is None:  # a cumulative average (the evaluator's BN recalibration)
                momentum = 1.0 / float(bn.num_batches_tracked)
        # The running statistics are sliced views, so batch_norm updates the shared buffers.
        y = F.batch_norm(
            y,
            bn.running_mean[:c_out],
            bn.running_var[:c_out],
            bn.weight[:c_out],
            bn.bias[:c_out],
            bn.training,
            momentum or 0.0,
            bn.eps,
        )
        return F.relu(y)


class NB101SharedCell(nn.Module):
    """One cell position with every op of every interior vertex (see the module docstring).

    Args:
        ops: the space's op names.
        n_vertices: vertices per cell, input and output included.
        spatial_dims: 2 or 3.
        C_in: input channels.
        C_out: output channels.
    """

    def __init__(
        self, ops: tuple[str, ...], n_vertices: int, spatial_dims: int, C_in: int, C_out: int
    ) -> None:
        super().__init__()
        self.ops = ops
        self.C_in, self.C_out = C_in, C_out
        interior = range(n_vertices - 2)
        self.projections = nn.ModuleList(
            SlicedConvBNReLU(spatial_dims, C_in, C_out, 1) for _ in interior
        )
        self.output_projection = SlicedConvBNReLU(spatial_dims, C_in, C_out, 1)
        self.vertex_ops = nn.ModuleList(
            nn.ModuleDict({op: self._make_op(op, spatial_dims, C_out) for op in ops})
            for _ in interior
        )

    @staticmethod
    def _make_op(op: str, spatial_dims: int, C: int) -> nn.Module:
        if op == "conv3x3_bn_relu":
            return SlicedConvBNReLU(spatial_dims, C, C, 3)
        if op == "conv1x1_bn_relu":
            return SlicedConvBNReLU(spatial_dims, C, C, 1)
        # A pool has no weights to share: the one module serves every width.
        return create_op(op, spatial_dims=spatial_dims, C_in=C, C_out=C, stride=1)

    def forward(self, x: torch.Tensor, genotype: Genotype) -> torch.Tensor:
        """The cell ``genotype`` (an ``NB101Genotype`` of this space) on ``x``."""
        live = _live(genotype)
        g = genotype.pruned()
        n = g.n_vertices
        channels = vertex_channels(g.matrix, self.C_in, self.C_out)
        states: list[torch.Tensor] = [x]
        for v in range(1, n - 1):
            c, slot = channels[v], live[v] - 1  # slot: the vertex's place in the full cell
            inputs = [states[u][:, :c] for u in range(1, v) if g.matrix[u][v]]
            if g.matrix[0][v]:
                inputs.append(self.projections[slot](x, c))
            op = self.vertex_ops[slot][g.ops[v - 1]]
            h = sum(inputs)
            states.append(op(h, c) if isinstance(op, SlicedConvBNReLU) else op(h))
        feeding = [states[v] for v in range(1, n - 1) if g.matrix[v][n - 1]]
        out = torch.cat(feeding, dim=1) if feeding else None
        if g.matrix[0][n - 1]:
            skip = self.output_projection(x, self.C_out)
            out = skip if out is None else out + skip
        return out


def _live(genotype: Genotype) -> tuple[int, ...]:
    from nasbench.spaces.nb101 import live_vertices

    return live_vertices(genotype.matrix)


class NB101Supernet(nn.Module):
    """The NAS-Bench-101 network with shared weights for every cell of a space.

    Args:
        ops: the space's op names.
        n_vertices: vertices per cell.
        skeleton: the macro ``Skeleton`` (cells, channels, reductions, classes, dims).
        seed: seeds the weight initialisation (global RNG untouched).

    Example:
        >>> from nasbench.spaces import NB101Space, Skeleton
        >>> space = NB101Space()
        >>> net = NB101Supernet(space.ops, 7, Skeleton(n_cells=3, channels=8))
        >>> g = space.validate("nb101|011,001,000|maxpool3x3")
        >>> net(torch.zeros(2, 1, 8, 8), g).shape
        torch.Size([2, 2])
    """

    def __init__(self, ops: tuple[str, ...], n_vertices: int, skeleton: Any, seed: int = 0) -> None:
        super().__init__()
        dims, C = skeleton.spatial_dims, skeleton.channels
        reductions = set(skeleton.reductions())
        with seeded(seed):
            self.stem = create_op(
                "conv3x3_bn_relu", spatial_dims=dims, C_in=skeleton.in_channels, C_out=C, stride=1
            )
            self.layers = nn.ModuleList()
            for i in range(skeleton.n_cells):
                C_in = C
                if i in reductions:
                    self.layers.append(max_pool_cls(dims)(kernel_size=2, stride=2, ceil_mode=True))
                    C *= 2
                self.layers.append(NB101SharedCell(tuple(ops), n_vertices, dims, C_in, C))
            self.pool = GlobalAvgPool()
            self.classifier = nn.Linear(C, skeleton.num_classes)

    def forward(self, x: torch.Tensor, genotype: Genotype) -> torch.Tensor:
        """Logits of the network whose every cell is ``genotype``."""
        x = self.stem(x)
        for layer in self.layers:
            x = layer(x, genotype) if isinstance(layer, NB101SharedCell) else layer(x)
        return self.classifier(self.pool(x).flatten(1))
