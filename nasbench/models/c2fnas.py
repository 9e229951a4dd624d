"""C2FNAS (Yu et al., 2020): a chain of residual cells along a U-shaped topology of levels.

The network, shared by the discrete network and the supernet:

- a 3x3x3 stem at stride 2 (C2FNAS's stem down-samples too), ``channels`` wide;
- the cells in order; cell ``k`` runs at level ``levels[k]`` (``1/2**level`` of the stem's
  resolution, ``channels * 2**level`` wide). Before it, a transition from the previous
  level: none on the same level, a strided 3x3x3 conv one level down, or a trilinear
  up-sampling with a 1x1x1 conv one level up, after which the last map the way down
  left at that level is added (the U-Net skip). The cell itself is a residual block
  ``x + op(x)`` with the searched conv (V-NAS's ops, :mod:`nasbench.models.vnas`);
- a 1x1x1 conv to class logits, up-sampled (trilinear) to the input size.

The supernet puts a mixed edge where every cell's conv goes: one architecture group,
``cells``, one row per cell (``c<k>@L<level>``), searched by DARTS, GDAS or ProxylessNAS.

Example:
    >>> from nasbench.spaces.c2fnas import C2fnasGenotype
    >>> from nasbench.spaces.skeleton import UNetSkeleton
    >>> g = C2fnasGenotype((0, 1, 0), ("vnas_3d_3x3", "vnas_2d_3x3", "vnas_p3d_3x3"))
    >>> net = C2fnasNetwork(g, UNetSkeleton(depth=1, channels=4, spatial_dims=3), seed=0)
    >>> net(torch.zeros(1, 1, 16, 16, 16)).shape
    torch.Size([1, 2, 16, 16, 16])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nasbench import registry
from nasbench.device import seeded
from nasbench.errors import SpaceError
from nasbench.models.supernet import SupernetBase, make_method
from nasbench.models.vnas import ResidualBlock
from nasbench.protocols import ZERO_OP, ArchGroup, DifferentiableMethod, Genotype, Space
from nasbench.spaces.blocks import ReLUConvBN, bn_cls, conv_cls
from nasbench.spaces.ops import create_op
from nasbench.spaces.skeleton import UNetSkeleton

# make_op(cell, channels) -> the conv of one cell.
OpFactory = Callable[[int, int], nn.Module]


def cell_names(levels: Sequence[int]) -> tuple[str, ...]:
    """Row names of the ``cells`` group: ``c<k>@L<level>``.

    Example:
        >>> cell_names((0, 1, 0))
        ('c0@L0', 'c1@L1', 'c2@L0')
    """
    return tuple(f"c{k}@L{lv}" for k, lv in enumerate(levels))


class C2fnasBackbone(nn.Module):
    """The C2FNAS chain of cells along ``levels`` (module docstring).

    Args:
        skeleton: a 3D :class:`~nasbench.spaces.skeleton.UNetSkeleton`.
        levels: a U-shaped topology (checked by the space).
        make_op: ``(cell, channels) -> module``.
        affine: learnable BatchNorm in the fixed layers.
    """

    def __init__(
        self, skeleton: Any, levels: Sequence[int], make_op: OpFactory, affine: bool = True
    ) -> None:
        super().__init__()
        dims = skeleton.spatial_dims
        conv, bn = conv_cls(dims), bn_cls(dims)
        width = [skeleton.channels * 2**lv for lv in range(max(levels) + 1)]
        self.levels = tuple(int(v) for v in levels)
        self.stem = nn.Sequential(
            conv(skeleton.in_channels, width[0], 3, stride=2, padding=1, bias=False),
            bn(width[0], affine=affine),
        )
        moves = nn.ModuleList()
        before = 0
        for level in self.levels:
            if level > before:
                moves.append(ReLUConvBN(dims, width[before], width[level], 3, 2, 1, affine))
            elif level < before:
                moves.append(ReLUConvBN(dims, width[before], width[level], 1, 1, 0, affine))
            else:
                moves.append(nn.Identity())
            before = level
        self.moves = moves
        self.cells = nn.ModuleList(
            ResidualBlock(make_op(k, width[lv])) for k, lv in enumerate(self.levels)
        )
        self.head = conv(width[0], skeleton.num_classes, 1)
        self._mode = "trilinear" if dims == 3 else "bilinear"

    def forward(self, x: torch.Tensor, edge_args: Sequence[Any] | None = None) -> torch.Tensor:
        """Logits ``(N, num_classes, *spatial)``; ``edge_args[k]`` goes to cell ``k``'s op."""
        h = self.stem(x)
        # The last map the way down left at each level: the skip an up-move adds.
        down: dict[int, torch.Tensor] = {0: h}
        before, descending = 0, True
        for k, level in enumerate(self.levels):
            if level < before:
                descending = False
                skip = down[level]
                h = F.interpolate(h, size=skip.shape[2:], mode=self._mode, align_corners=False)
                h = self.moves[k](h) + skip
            else:
                h = self.moves[k](h)
            h = self.cells[k](h, None if edge_args is None else edge_args[k])
            if descending:
                down[level] = h
            before = level
        logits = self.head(h)
        return F.interpolate(logits, size=x.shape[2:], mode=self._mode, align_corners=False)


@registry.register("network", "c2fnas")
class C2fnasNetwork(nn.Module):
    """The discrete C2FNAS network of a :class:`~nasbench.spaces.c2fnas.C2fnasGenotype`.

    Args:
        genotype: the level and conv of every cell.
        skeleton: a 3D ``UNetSkeleton`` at least as deep as the topology.
        seed: seeds the weights (None: the global RNG).
    """

    def __init__(self, genotype: Genotype, skeleton: Any, seed: int | None = None) -> None:
        super().__init__()
        skeleton = UNetSkeleton.coerce(skeleton)
        if getattr(genotype, "kind", None) != "c2fnas":
            raise SpaceError(f"C2fnasNetwork builds c2fnas genotypes, not {genotype!r}.")
        if max(genotype.levels) > skeleton.depth:
            raise SpaceError(
                f"the genotype reaches level {max(genotype.levels)}; the skeleton's depth is "
                f"{skeleton.depth}. Use a deeper skeleton."
            )
        self.genotype, self.skeleton = genotype, skeleton

        def make_op(cell: int, channels: int) -> nn.Module:
            return create_op(genotype.ops[cell], skeleton.spatial_dims, channels, channels, 1)

        with seeded(seed):
            self.net = C2fnasBackbone(skeleton, genotype.levels, make_op)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, num_classes, *spatial)``."""
        return self.net(x)


class C2fnasSupernet(SupernetBase):
    """Stage 2 of C2FNAS: a mixed 2D/3D/P3D edge in every cell of a fixed topology.

    Args:
        op_names: candidate convs (the ``vnas`` op set).
        levels: the topology stage 1 chose.
        skeleton: a 3D ``UNetSkeleton``.
        method: the differentiable method.
        seed: seeds the weights and the alphas.
        channels_last: channels-last memory format (None: from the method).
    """

    def __init__(
        self,
        op_names: Sequence[str],
        levels: Sequence[int],
        skeleton: Any,
        method: DifferentiableMethod,
        seed: int = 0,
        channels_last: bool | None = None,
    ) -> None:
        super().__init__(method, False, channels_last)
        self.op_names = tuple(op_names)
        self.levels = tuple(int(v) for v in levels)
        self.skeleton = skeleton
        names = cell_names(self.levels)
        self._group = ArchGroup(tuple((k, 0) for k in range(len(names))), names, self.op_names)
        self.cell_types = ("cells",)
        dims = skeleton.spatial_dims

        def make_op(cell: int, channels: int) -> nn.Module:
            return method.make_edge(dims, channels, 1, self.op_names)

        with seeded(seed):
            self.net = C2fnasBackbone(skeleton, self.levels, make_op, affine=False)
        self._build_arch(seed)
        method.setup(self)

    def group(self, cell_type: str) -> ArchGroup:
        """``cells``: one row per cell, one column per conv."""
        if cell_type != "cells":
            raise SpaceError(f"this supernet has one group, cells, not {cell_type!r}.")
        return self._group

    def derive(self, scores: dict[str, np.ndarray]):
        """The topology and the strongest conv of every cell (never 'none')."""
        from nasbench.spaces.c2fnas import C2fnasGenotype

        usable = [k for k, op in enumerate(self.op_names) if op != ZERO_OP]
        ops = tuple(self.op_names[usable[int(np.argmax(row[usable]))]] for row in scores["cells"])
        return C2fnasGenotype(self.levels, ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, num_classes, *spatial)``."""
        _, plans = self._plans()
        return self.net(self._memory_format(x), plans["cells"] if plans else None)


@registry.register("supernet", "c2fnas")
def build_c2fnas_supernet(
    space: Space,
    method: str | DifferentiableMethod = "darts",
    method_config: Any = None,
    seed: int = 0,
    skeleton: Any = None,
    checkpoint_cells: bool | None = None,
    channels_last: bool | None = None,
) -> C2fnasSupernet:
    """Stage 2's supernet of a ``C2fnasSpace`` (``space.supernet(...)`` calls this).

    A space whose topology stage 1 has not fixed yet gets the supernet of its
    :meth:`~nasbench.spaces.c2fnas.C2fnasSpace.largest_topology`: what the memory estimate
    before launch measures, an upper bound of every candidate's activations.

    Args:
        space: the C2FNAS space.
        method: ``"darts"``, ``"gdas"``, ``"proxyless"`` or a method instance.
        method_config: its settings.
        seed: seeds weights, alphas and the method's sampling.
        skeleton: overrides the space's skeleton.
        checkpoint_cells: accepted for a uniform call; C2FNAS does not recompute cells.
        channels_last: channels-last memory format.
    """
    space.check_strategy(method)
    levels = space.topology if space.topology is not None else space.largest_topology()
    return C2fnasSupernet(
        space.ops,
        levels,
        UNetSkeleton.coerce(skeleton) if skeleton is not None else space.skeleton,
        make_method(method, method_config, seed),
        seed=seed,
        channels_last=channels_last,
    )
