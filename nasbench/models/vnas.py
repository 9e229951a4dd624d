"""V-NAS (Zhu et al., 2019): an encoder-decoder whose every block picks a 2D, 3D or P3D conv.

The network, shared by the discrete network and the supernet:

- a 3x3x3 stem at stride 2 (V-NAS's encoder, a 3D ResNet, starts with a strided conv);
- encoder level 0 and, after a strided 3x3x3 conv that halves the size and doubles the
  width, levels 1..depth, each with ``blocks_per_level`` residual blocks
  ``x + op(x)``, where ``op`` is the searched conv: ``vnas_2d_3x3`` (in-plane
  1x3x3), ``vnas_3d_3x3`` (3x3x3) or ``vnas_p3d_3x3`` (1x3x3 then 3x1x1);
- decoder cells from level depth-1 up to 0: trilinear up-sampling and a 1x1x1 conv of
  the deeper map, concatenated with the encoder's map of that level, fused by a 1x1x1
  conv, then one residual block with its own searched conv;
- a 1x1x1 conv to class logits, up-sampled (trilinear) to the input size.

The supernet puts a mixed edge where a block's conv goes, with two architecture
groups, ``encoder`` (one row per encoder block) and ``decoder`` (one per decoder
cell), searched by DARTS, GDAS or ProxylessNAS as any other group.

Example:
    >>> from nasbench.spaces.seg_genotypes import VnasGenotype
    >>> from nasbench.spaces.skeleton import UNetSkeleton
    >>> g = VnasGenotype(["vnas_3d_3x3", "vnas_2d_3x3"], ["vnas_p3d_3x3"])
    >>> net = VnasNetwork(g, UNetSkeleton(depth=1, channels=4, spatial_dims=3), seed=0)
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
from nasbench.protocols import ZERO_OP, ArchGroup, DifferentiableMethod, Genotype, Space
from nasbench.spaces.blocks import ReLUConvBN, bn_cls, conv_cls
from nasbench.spaces.ops import create_op
from nasbench.spaces.skeleton import UNetSkeleton
from nasbench.spaces.vnas import row_names

GROUPS = ("encoder", "decoder")

# make_op(group, row, channels) -> the conv of one block.
OpFactory = Callable[[str, int, int], nn.Module]


class ResidualBlock(nn.Module):
    """``x + op(x)``; ``arg`` (a supernet's edge plan) goes to the op when given."""

    def __init__(self, op: nn.Module) -> None:
        super().__init__()
        self.op = op

    def forward(self, x: torch.Tensor, arg: Any = None) -> torch.Tensor:
        return x + (self.op(x) if arg is None else self.op(x, arg))


class VnasBackbone(nn.Module):
    """The V-NAS encoder-decoder around searched convs (module docstring).

    Args:
        skeleton: a :class:`~nasbench.spaces.skeleton.UNetSkeleton` (3D).
        blocks_per_level: residual blocks per encoder level.
        make_op: ``(group, row, channels) -> module``.
        affine: learnable BatchNorm in the fixed layers.
    """

    def __init__(
        self, skeleton: Any, blocks_per_level: int, make_op: OpFactory, affine: bool = True
    ) -> None:
        super().__init__()
        dims, widths = skeleton.spatial_dims, skeleton.widths()
        conv, bn = conv_cls(dims), bn_cls(dims)
        self.blocks_per_level = blocks_per_level
        # A stride-2 stem, as V-NAS's ResNet encoder (and DiNTS) have: the blocks run at
        # 1/2 .. 1/2**(depth + 1) and the logits are up-sampled to the input size.
        self.stem = nn.Sequential(
            conv(skeleton.in_channels, widths[0], 3, stride=2, padding=1, bias=False),
            bn(widths[0], affine=affine),
        )
        self.downs = nn.ModuleList(
            ReLUConvBN(dims, widths[lv - 1], widths[lv], 3, 2, 1, affine)
            for lv in range(1, len(widths))
        )
        row = iter(range(len(widths) * blocks_per_level))
        self.encoder = nn.ModuleList(
            nn.ModuleList(
                ResidualBlock(make_op("encoder", next(row), widths[lv]))
                for _ in range(blocks_per_level)
            )
            for lv in range(len(widths))
        )
        levels = list(reversed(range(skeleton.depth)))
        self.reduce = nn.ModuleList(
            ReLUConvBN(dims, widths[lv + 1], widths[lv], 1, 1, 0, affine) for lv in levels
        )
        self.fuse = nn.ModuleList(
            ReLUConvBN(dims, 2 * widths[lv], widths[lv], 1, 1, 0, affine) for lv in levels
        )
        self.decoder = nn.ModuleList(
            ResidualBlock(make_op("decoder", i, widths[lv])) for i, lv in enumerate(levels)
        )
        self.head = conv(widths[0], skeleton.num_classes, 1)
        self._mode = "trilinear" if dims == 3 else "bilinear"

    def forward(self, x: torch.Tensor, edge_args: dict[str, Sequence[Any]] | None = None):
        """Logits ``(N, num_classes, *spatial)``; ``edge_args[group][row]`` to each block."""
        args = edge_args or {}
        enc, dec = args.get("encoder"), args.get("decoder")
        h = self.stem(x)
        skips, k = [], 0
        for level, blocks in enumerate(self.encoder):
            if level:
                h = self.downs[level - 1](h)
            for block in blocks:
                h = block(h, None if enc is None else enc[k])
                k += 1
            skips.append(h)
        for i, level in enumerate(reversed(range(len(self.encoder) - 1))):
            skip = skips[level]
            up = F.interpolate(h, size=skip.shape[2:], mode=self._mode, align_corners=False)
            h = self.fuse[i](torch.cat([self.reduce[i](up), skip], dim=1))
            h = self.decoder[i](h, None if dec is None else dec[i])
        logits = self.head(h)
        return F.interpolate(logits, size=x.shape[2:], mode=self._mode, align_corners=False)


@registry.register("network", "vnas")
class VnasNetwork(nn.Module):
    """The discrete V-NAS network of a :class:`~nasbench.spaces.seg_genotypes.VnasGenotype`.

    Args:
        genotype: the conv of every block.
        skeleton: a 3D ``UNetSkeleton``; its depth must fit the genotype.
        seed: seeds the weights (None: the global RNG).
    """

    def __init__(self, genotype: Genotype, skeleton: Any, seed: int | None = None) -> None:
        super().__init__()
        from nasbench.spaces.skeleton import UNetSkeleton

        skeleton = UNetSkeleton.coerce(skeleton)
        if getattr(genotype, "kind", None) != "vnas":
            raise SpaceError(f"VnasNetwork builds vnas genotypes, not {genotype!r}.")
        if len(genotype.decoder) != skeleton.depth:
            raise SpaceError(
                f"the genotype has {len(genotype.decoder)} decoder cells; a depth-"
                f"{skeleton.depth} skeleton has {skeleton.depth}."
            )
        levels = skeleton.depth + 1
        if len(genotype.encoder) % levels:
            raise SpaceError(
                f"{len(genotype.encoder)} encoder blocks do not split over {levels} levels."
            )
        self.genotype, self.skeleton = genotype, skeleton
        ops = {"encoder": genotype.encoder, "decoder": genotype.decoder}

        def make_op(group: str, row: int, channels: int) -> nn.Module:
            return create_op(ops[group][row], skeleton.spatial_dims, channels, channels, 1)

        with seeded(seed):
            self.net = VnasBackbone(skeleton, len(genotype.encoder) // levels, make_op)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, num_classes, *spatial)``."""
        return self.net(x)


class VnasSupernet(SupernetBase):
    """The V-NAS supernet: a mixed 2D/3D/P3D edge in every block.

    Args:
        op_names: candidate convs (the ``vnas`` op set).
        blocks_per_level: residual blocks per encoder level.
        skeleton: a 3D ``UNetSkeleton``.
        method: the differentiable method.
        seed: seeds the weights and the alphas.
        checkpoint_cells: unused (V-NAS blocks are small); kept for the common signature.
        channels_last: channels-last memory format (None: from the method).
    """

    def __init__(
        self,
        op_names: Sequence[str],
        blocks_per_level: int,
        skeleton: Any,
        method: DifferentiableMethod,
        seed: int = 0,
        checkpoint_cells: bool | None = None,
        channels_last: bool | None = None,
    ) -> None:
        super().__init__(method, False, channels_last)
        self.op_names = tuple(op_names)
        self.skeleton = skeleton
        names = row_names(skeleton.depth, blocks_per_level)
        self._groups = {
            g: ArchGroup(tuple((k, 0) for k in range(len(names[g]))), names[g], self.op_names)
            for g in GROUPS
            if names[g]
        }
        self.cell_types = tuple(self._groups)
        dims = skeleton.spatial_dims

        def make_op(group: str, row: int, channels: int) -> nn.Module:
            return method.make_edge(dims, channels, 1, self.op_names)

        with seeded(seed):
            self.net = VnasBackbone(skeleton, blocks_per_level, make_op, affine=False)
        self._build_arch(seed)
        method.setup(self)

    def group(self, cell_type: str) -> ArchGroup:
        """``encoder`` or ``decoder``: one row per block, one column per conv."""
        if cell_type not in self._groups:
            raise SpaceError(
                f"this supernet has groups {', '.join(self._groups)}, not {cell_type!r}."
            )
        return self._groups[cell_type]

    def derive(self, scores: dict[str, np.ndarray]):
        """The strongest conv of every block (never 'none')."""
        from nasbench.spaces.seg_genotypes import VnasGenotype

        usable = [k for k, op in enumerate(self.op_names) if op != ZERO_OP]
        choice = {
            g: tuple(self.op_names[usable[int(np.argmax(row[usable]))]] for row in scores[g])
            for g in self._groups
        }
        return VnasGenotype(choice["encoder"], choice["decoder"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, num_classes, *spatial)``."""
        _, plans = self._plans()
        return self.net(self._memory_format(x), plans)


@registry.register("supernet", "vnas")
def build_vnas_supernet(
    space: Space,
    method: str | DifferentiableMethod = "darts",
    method_config: Any = None,
    seed: int = 0,
    skeleton: Any = None,
    checkpoint_cells: bool | None = None,
    channels_last: bool | None = None,
) -> VnasSupernet:
    """The V-NAS supernet of a ``VnasSpace`` (``space.supernet(...)`` calls this).

    Args:
        space: the V-NAS space.
        method: ``"darts"``, ``"gdas"``, ``"proxyless"`` or a method instance.
        method_config: its settings.
        seed: seeds weights, alphas and the method's sampling.
        skeleton: overrides the space's skeleton.
        checkpoint_cells: accepted for a uniform call; V-NAS does not recompute cells.
        channels_last: channels-last memory format.
    """
    space.check_strategy(method)
    return VnasSupernet(
        space.ops,
        space.blocks_per_level,
        UNetSkeleton.coerce(skeleton) if skeleton is not None else space.skeleton,
        make_method(method, method_config, seed),
        seed=seed,
        channels_last=channels_last,
    )
