"""The NAS-Bench-101 network (Ying et al., 2019), 2D or 3D.

Macro skeleton, as the benchmark's ``model_builder``: a 3x3 Conv-BN-ReLU stem to C
channels, then ``n_cells`` cells in stacks; before the first cell of every later stack
(the skeleton's reduction positions) a 2x2 max pool halves the resolution and the cell
doubles the channels. Global average pooling and a linear classifier close it. The
benchmark's network is ``Skeleton(n_cells=9, channels=128)``: 3 stacks of 3 cells.

Inside a cell (its ``build_module``), on the pruned graph:

- channels: the output's ``C_out`` channels are split between the vertices that feed
  the output (the remainder going one each to the first of them); every other interior
  vertex takes the largest count among the interior vertices it feeds
  (:func:`vertex_channels`);
- a vertex sums its inputs: the cell input through a 1x1 Conv-BN-ReLU projection to the
  vertex's channels, earlier vertices truncated to its channels (their first channels);
  then applies its op;
- the output concatenates the vertices that feed it, plus a projection of the cell
  input when the input feeds the output directly.

``stem_multiplier`` and ``drop_path_prob`` are not used; there is no auxiliary head.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from nasbench import registry
from nasbench.errors import SpaceError
from nasbench.models.cells import check_op_names, refuse_auxiliary
from nasbench.protocols import Genotype
from nasbench.spaces.blocks import GlobalAvgPool, max_pool_cls
from nasbench.spaces.ops import create_op


def vertex_channels(matrix: Any, C_in: int, C_out: int) -> list[int]:
    """Channels of every vertex of a pruned cell, as the benchmark assigns them.

    Args:
        matrix: the pruned cell's adjacency rows.
        C_in: channels of the cell input.
        C_out: channels of the cell output.

    Returns:
        One count per vertex: ``C_in`` for the input, ``C_out`` for the output.

    Example:
        >>> m = [[0, 1, 1, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 1, 1], [0, 0, 0, 0, 1], [0] * 5]
        >>> vertex_channels(m, 8, 16)
        [8, 6, 5, 5, 16]
    """
    n = len(matrix)
    channels = [C_in] + [0] * (n - 2) + [C_out]
    feeding = [v for v in range(1, n - 1) if matrix[v][n - 1]]
    if not feeding:
        return channels
    if C_out < len(feeding):
        raise SpaceError(
            f"a cell with {len(feeding)} vertices feeding its output needs at least "
            f"{len(feeding)} output channels, got {C_out}; widen the skeleton's channels."
        )
    share, extra = divmod(C_out, len(feeding))
    for k, v in enumerate(feeding):
        channels[v] = share + (1 if k < extra else 0)
    # Backwards, so every successor is sized before the vertex that feeds it.
    for v in range(n - 2, 0, -1):
        if not matrix[v][n - 1]:
            channels[v] = max(channels[w] for w in range(v + 1, n - 1) if matrix[v][w])
    return channels


def _projection(spatial_dims: int, C_in: int, C_out: int) -> nn.Module:
    """The benchmark's 1x1 Conv-BN-ReLU projection of the cell input."""
    return create_op("conv1x1_bn_relu", spatial_dims=spatial_dims, C_in=C_in, C_out=C_out, stride=1)


class NB101Cell(nn.Module):
    """One NAS-Bench-101 cell ("module"): the pruned DAG of a genotype.

    Args:
        genotype: an ``NB101Genotype`` (pruned here).
        spatial_dims: 2 or 3.
        C_in: input channels.
        C_out: output channels.

    Example:
        >>> from nasbench.spaces.nb101 import NB101Genotype
        >>> g = NB101Genotype([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["maxpool3x3"])
        >>> NB101Cell(g, 2, 4, 8)(torch.zeros(1, 4, 6, 6)).shape
        torch.Size([1, 8, 6, 6])
    """

    def __init__(self, genotype: Genotype, spatial_dims: int, C_in: int, C_out: int) -> None:
        super().__init__()
        g = genotype.pruned()
        self.matrix, n = g.matrix, g.n_vertices
        self.channels = vertex_channels(g.matrix, C_in, C_out)
        interior = range(1, n - 1)
        self.projections = nn.ModuleDict(
            {
                str(v): _projection(spatial_dims, C_in, self.channels[v])
                for v in interior
                if g.matrix[0][v]
            }
        )
        self.vertex_ops = nn.ModuleList(
            create_op(
                op,
                spatial_dims=spatial_dims,
                C_in=self.channels[v],
                C_out=self.channels[v],
                stride=1,
            )
            for v, op in zip(interior, g.ops, strict=True)
        )
        self.output_projection = (
            _projection(spatial_dims, C_in, C_out) if g.matrix[0][n - 1] else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = len(self.matrix)
        states: list[torch.Tensor] = [x]
        for v in range(1, n - 1):
            c = self.channels[v]
            inputs = [states[u][:, :c] for u in range(1, v) if self.matrix[u][v]]
            if self.matrix[0][v]:
                inputs.append(self.projections[str(v)](x))
            states.append(self.vertex_ops[v - 1](sum(inputs)))
        feeding = [states[v] for v in range(1, n - 1) if self.matrix[v][n - 1]]
        out = torch.cat(feeding, dim=1) if feeding else None
        if self.output_projection is not None:
            skip = self.output_projection(x)
            out = skip if out is None else out + skip
        return out


@registry.register("network", "nb101")
class NB101Network(nn.Module):
    """The NAS-Bench-101 network around one cell genotype (see the module docstring).

    Args:
        genotype: an ``NB101Genotype``.
        skeleton: a ``Skeleton``; uses n_cells, channels, reductions(), in_channels,
            num_classes and spatial_dims.

    Example:
        >>> from nasbench.spaces import NB101Space, Skeleton
        >>> g = NB101Space().validate("nb101|0110,0001,0001,0000|conv3x3_bn_relu,maxpool3x3")
        >>> net = NB101Network(g, Skeleton(n_cells=3, channels=8))
        >>> net(torch.zeros(2, 1, 16, 16)).shape
        torch.Size([2, 2])
    """

    def __init__(self, genotype: Genotype, skeleton: Any) -> None:
        super().__init__()
        refuse_auxiliary(skeleton, "The NAS-Bench-101 network")
        check_op_names(sorted(genotype.ops_used()), "The NB101 genotype")
        dims, C = skeleton.spatial_dims, skeleton.channels
        reductions = set(skeleton.reductions())
        self.stem = create_op(
            "conv3x3_bn_relu", spatial_dims=dims, C_in=skeleton.in_channels, C_out=C, stride=1
        )
        layers: list[nn.Module] = []
        for i in range(skeleton.n_cells):
            C_in = C
            if i in reductions:
                # TF's 'same' 2x2 pooling: odd sizes round up.
                layers.append(max_pool_cls(dims)(kernel_size=2, stride=2, ceil_mode=True))
                C *= 2
            layers.append(NB101Cell(genotype, dims, C_in, C))
        self.cells = nn.Sequential(*layers)
        self.global_pooling = GlobalAvgPool()
        self.classifier = nn.Linear(C, skeleton.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, num_classes)``."""
        features = self.cells(self.stem(x))
        return self.classifier(self.global_pooling(features).flatten(1))
