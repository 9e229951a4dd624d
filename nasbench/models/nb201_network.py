"""The NAS-Bench-201 macro network (Dong & Yang, 2020), 2D or 3D.

A 3x3 convolution stem to C channels, three stages of cells at C, 2C and 4C
channels with a ResNet basic block of stride 2 between stages, a BN-ReLU, global
average pooling and a linear classifier. The benchmark's network is
``Skeleton(n_cells=17, channels=16)``: 17 positions, the reduction blocks at the
skeleton's reduction positions 17 // 3 = 5 and 2 * 17 // 3 = 11, i.e. N = 5 cells
per stage. ``stem_multiplier`` and ``drop_path_prob`` are not used by this macro;
it has no auxiliary head.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from nasbench import registry
from nasbench.models.cells import check_op_names, refuse_auxiliary
from nasbench.protocols import Genotype
from nasbench.spaces.blocks import GlobalAvgPool, ReLUConvBN, avg_pool_cls, bn_cls, conv_cls
from nasbench.spaces.ops import create_op


class ResNetBasicBlock(nn.Module):
    """The NAS-Bench-201 reduction block: two ReLU-conv-BN plus a pooled 1x1 shortcut.

    Args:
        spatial_dims: 2 or 3.
        C_in: input channels.
        C_out: output channels.
        stride: 2 halves every spatial dim.
    """

    def __init__(self, spatial_dims: int, C_in: int, C_out: int, stride: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(spatial_dims, C_in, C_out, 3, stride, 1)
        self.conv_b = ReLUConvBN(spatial_dims, C_out, C_out, 3, 1, 1)
        if stride == 2:
            # ceil_mode matches the conv's ceil(n / 2) on odd sizes; even sizes are as NB201.
            self.downsample: nn.Module | None = nn.Sequential(
                avg_pool_cls(spatial_dims)(kernel_size=2, stride=2, padding=0, ceil_mode=True),
                conv_cls(spatial_dims)(C_in, C_out, 1, bias=False),
            )
        elif C_in != C_out:
            self.downsample = ReLUConvBN(spatial_dims, C_in, C_out, 1, 1, 0)
        else:
            self.downsample = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = x if self.downsample is None else self.downsample(x)
        return residual + self.conv_b(self.conv_a(x))


class NB201Cell(nn.Module):
    """A NAS-Bench-201 cell: node ``j`` is the sum of one op on every node ``i < j``.

    Args:
        genotype: an ``NB201Genotype``.
        spatial_dims: 2 or 3.
        C: channels of every node.
    """

    def __init__(self, genotype: Genotype, spatial_dims: int, C: int) -> None:
        super().__init__()
        self.edges = [(i, j) for i, j, _ in genotype.edges()]
        self.n_nodes = genotype.n_nodes
        self.edge_ops = nn.ModuleList(
            create_op(op, spatial_dims=spatial_dims, C_in=C, C_out=C, stride=1)
            for _, _, op in genotype.edges()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x] + [0] * (self.n_nodes - 1)
        for (i, j), op in zip(self.edges, self.edge_ops, strict=True):
            # Edges come in node order, so node i is complete before it is read.
            nodes[j] = nodes[j] + op(nodes[i])
        return nodes[-1]


@registry.register("network", "nb201")
class NB201Network(nn.Module):
    """The NAS-Bench-201 network around one cell genotype (see the module docstring).

    Args:
        genotype: an ``NB201Genotype``.
        skeleton: a ``Skeleton``; uses n_cells, channels, reductions(), in_channels,
            num_classes and spatial_dims.
    """

    def __init__(self, genotype: Genotype, skeleton: Any) -> None:
        super().__init__()
        refuse_auxiliary(skeleton, "The NAS-Bench-201 network")
        check_op_names(sorted(genotype.ops()), "The NB201 genotype")
        dims, C = skeleton.spatial_dims, skeleton.channels
        reductions = set(skeleton.reductions())
        self.stem = nn.Sequential(
            conv_cls(dims)(skeleton.in_channels, C, 3, padding=1, bias=False), bn_cls(dims)(C)
        )
        layers: list[nn.Module] = []
        for i in range(skeleton.n_cells):
            if i in reductions:
                layers.append(ResNetBasicBlock(dims, C, 2 * C, 2))
                C *= 2
            else:
                layers.append(NB201Cell(genotype, dims, C))
        self.cells = nn.Sequential(*layers)
        self.lastact = nn.Sequential(bn_cls(dims)(C), nn.ReLU())
        self.global_pooling = GlobalAvgPool()
        self.classifier = nn.Linear(C, skeleton.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, num_classes)``."""
        features = self.lastact(self.cells(self.stem(x)))
        return self.classifier(self.global_pooling(features).flatten(1))
