"""The NAS-Unet wiring, shared by the discrete network and the supernet (2D and 3D).

NAS-Unet (Weng et al., 2019; the NasUnet code's ``SearchULikeCNN``) stacks ``depth``
DownSC cells and ``depth + 1`` UpSC cells in a U shape:

- two stems read the image: ``stem0`` a 1x1 conv at full resolution (the skeleton's
  ``stem_kernel``: 3 makes it a 3x3 conv that sees each pixel's neighbourhood), ``stem1``
  a 3x3 conv at stride 2, each followed by BatchNorm (``stem_convs`` > 1 adds ReLU, 3x3
  conv, BatchNorm per extra conv);
- DownSC cell ``i`` reads the outputs of the two cells (or stems) before it; its edges
  from the two inputs down-sample (the "down" ops: pools, strided convs), the edges
  between its nodes keep the size ("normal" ops), and its width doubles;
- UpSC cell ``i`` reads the previous cell's output (input 1, through up-sampling "up"
  ops: transposed convs) and the encoder feature at its output resolution (input 0,
  the horizontal skip, through normal ops); its width halves;
- a 1x1 conv maps the full-resolution output to class logits.

A cell is a DARTS-style DAG: inputs preprocessed by 1x1 ReLU-conv-BN (stride 2 for a
DownSC input 0, which is twice the size of input 1), each node the sum of its edges,
the output the concatenation of the ``concat`` nodes. Which module sits on an edge is
the caller's: one op in a discrete network, a mixed edge in the supernet. Odd sizes
are allowed; an up-sampled map is cropped to its skip's size.

Example:
    >>> from nasbench.spaces.seg_genotypes import NasUnetGenotype
    >>> from nasbench.spaces.skeleton import UNetSkeleton
    >>> g = NasUnetGenotype(down=[("down_conv", 0), ("max_pool", 1)], down_concat=[2],
    ...                     up=[("conv", 0), ("up_conv", 1)], up_concat=[2])
    >>> net = UnetNetwork(g, UNetSkeleton(depth=2, channels=4, num_classes=3), seed=0)
    >>> net(torch.zeros(1, 1, 28, 28)).shape
    torch.Size([1, 3, 28, 28])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from nasbench import registry
from nasbench.device import seeded
from nasbench.errors import SpaceError
from nasbench.models.cells import check_op_names
from nasbench.protocols import Genotype
from nasbench.spaces.blocks import ReLUConvBN, bn_cls, conv_cls
from nasbench.spaces.ops import create_op
from nasbench.spaces.seg_genotypes import edge_role

# edge_factory(k, node, input, role) -> module on edge k of a cell.
EdgeFactory = Callable[[int, int, int, str], nn.Module]
# run(cell, s0, s1, edge_args) -> the cell's output (the supernet recomputes cells there).
CellRunner = Callable[[nn.Module, torch.Tensor, torch.Tensor, Any], torch.Tensor]


def fit_to(x: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """Crop (or zero-pad) the spatial dims of ``x`` at their far end to ``size``.

    Example:
        >>> fit_to(torch.zeros(1, 1, 8, 8), (7, 9)).shape
        torch.Size([1, 1, 7, 9])
    """
    size = tuple(int(n) for n in size)
    if tuple(x.shape[2:]) == size:
        return x
    crop = tuple(slice(0, min(n, m)) for n, m in zip(x.shape[2:], size, strict=True))
    x = x[(slice(None), slice(None), *crop)]
    pad: list[int] = []
    for n, m in zip(reversed(x.shape[2:]), reversed(size), strict=True):
        pad += [0, m - n]
    return F.pad(x, pad) if any(pad) else x


class UnetCell(nn.Module):
    """One DownSC or UpSC cell.

    Args:
        spatial_dims: 2 or 3.
        cell_type: ``"down"`` or ``"up"``.
        C_prev_prev: channels of input 0.
        C_prev: channels of input 1.
        C: channels of every node.
        edges: ``(node, input)`` per edge.
        edge_factory: ``(k, node, input, role) -> module`` for edge ``k``.
        concat: the node states concatenated into the output.
        affine: learnable BatchNorm in the preprocessing.
    """

    def __init__(
        self,
        spatial_dims: int,
        cell_type: str,
        C_prev_prev: int,
        C_prev: int,
        C: int,
        edges: Sequence[tuple[int, int]],
        edge_factory: EdgeFactory,
        concat: Sequence[int],
        affine: bool = True,
    ) -> None:
        super().__init__()
        self.cell_type = cell_type
        self.edges = [(int(n), int(i)) for n, i in edges]
        self.n_nodes = 1 + max(n for n, _ in self.edges)
        self.concat = tuple(int(c) for c in concat)
        self.multiplier = len(self.concat)
        stride0 = 2 if cell_type == "down" else 1
        self.preprocess0 = ReLUConvBN(spatial_dims, C_prev_prev, C, 1, stride0, 0, affine)
        self.preprocess1 = ReLUConvBN(spatial_dims, C_prev, C, 1, 1, 0, affine)
        self.edge_ops = nn.ModuleList(
            edge_factory(k, node, inp, edge_role(cell_type, inp))
            for k, (node, inp) in enumerate(self.edges)
        )
        self._node_edges = [
            [k for k, (n, _) in enumerate(self.edges) if n == node] for node in range(self.n_nodes)
        ]

    def forward(
        self, s0: torch.Tensor, s1: torch.Tensor, edge_args: Sequence[Any] | None = None
    ) -> torch.Tensor:
        """Run the cell; ``edge_args[k]`` goes to edge ``k`` (a supernet's edge plan)."""
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        if self.cell_type == "up":
            size = tuple(states[0].shape[2:])
        else:
            size = tuple((n + 1) // 2 for n in states[1].shape[2:])
        for node_edges in self._node_edges:
            total = None
            for k in node_edges:
                op, x = self.edge_ops[k], states[self.edges[k][1]]
                h = fit_to(op(x) if edge_args is None else op(x, edge_args[k]), size)
                # The first term starts the sum: ``0 + h`` would copy a whole tensor.
                total = h if total is None else total + h
            states.append(total)
        return torch.cat([states[i] for i in self.concat], dim=1)


def _stem(first: nn.Module, bn: Callable, width: int, extra: int) -> nn.Sequential:
    """``first`` and BatchNorm, then ``extra`` times ReLU, 3x3 conv, BatchNorm (same size).

    Modules 0 and 1 are NAS-Unet's conv and BatchNorm whatever ``extra`` is, so a
    one-conv stem keeps its state-dict keys.
    """
    layers = [first, bn(width)]
    conv = type(first)
    for _ in range(extra):
        layers += [nn.ReLU(inplace=False), conv(width, width, 3, 1, 1, bias=False), bn(width)]
    return nn.Sequential(*layers)


class UShape(nn.Module):
    """The stems, DownSC cells, UpSC cells and head of NAS-Unet.

    Args:
        skeleton: a :class:`~nasbench.spaces.skeleton.UNetSkeleton`.
        stem_channels: width of both stems (NAS-Unet: nodes x channels).
        make_cell: ``(cell_type, index, C_prev_prev, C_prev, C) -> UnetCell``.
    """

    def __init__(
        self,
        skeleton: Any,
        stem_channels: int,
        make_cell: Callable[[str, int, int, int, int], UnetCell],
    ) -> None:
        super().__init__()
        dims, C, depth = skeleton.spatial_dims, skeleton.channels, skeleton.depth
        conv, bn = conv_cls(dims), bn_cls(dims)
        c_in, c_stem = skeleton.in_channels, stem_channels
        k0 = getattr(skeleton, "stem_kernel", 1)
        extra = getattr(skeleton, "stem_convs", 1) - 1
        self.stem0 = _stem(conv(c_in, c_stem, k0, 1, k0 // 2, bias=False), bn, c_stem, extra)
        self.stem1 = _stem(conv(c_in, c_stem, 3, 2, 1, bias=False), bn, c_stem, extra)
        widths = [c_stem, c_stem]  # channels of every feature the decoder may read
        c_pp, c_p, c = c_stem, c_stem, C
        self.down_cells = nn.ModuleList()
        for i in range(depth):
            c *= 2
            cell = make_cell("down", i, c_pp, c_p, c)
            self.down_cells.append(cell)
            c_pp, c_p = c_p, cell.multiplier * c
            widths.append(c_p)
        self.up_cells = nn.ModuleList()
        for i in range(depth + 1):
            cell = make_cell("up", i, widths[-(i + 2)], c_p, c)
            self.up_cells.append(cell)
            c_p = cell.multiplier * c
            c //= 2
        self.head = conv(c_p, skeleton.num_classes, 1)

    def forward(
        self, x: torch.Tensor, edge_args: dict[str, Any] | None = None, run: CellRunner = None
    ) -> torch.Tensor:
        """Logits ``(N, num_classes, *spatial)`` at the input's size."""
        args = edge_args or {}
        run = run or (lambda cell, a, b, e: cell(a, b, edge_args=e))
        s0, s1 = self.stem0(x), self.stem1(x)
        features = [s0, s1]
        for cell in self.down_cells:
            s0, s1 = s1, run(cell, s0, s1, args.get("down"))
            features.append(s1)
        for i, cell in enumerate(self.up_cells):
            s1 = run(cell, features[-(i + 2)], s1, args.get("up"))
        return self.head(fit_to(s1, x.shape[2:]))


@registry.register("network", "nasunet")
class UnetNetwork(nn.Module):
    """The discrete NAS-Unet network of a :class:`NasUnetGenotype`.

    Args:
        genotype: a ``NasUnetGenotype`` (or its text/dict form).
        skeleton: a ``UNetSkeleton``.
        seed: seeds the weights without touching the global RNG (None: the global RNG).
    """

    def __init__(self, genotype: Genotype, skeleton: Any, seed: int | None = None) -> None:
        super().__init__()
        from nasbench.spaces.genotype import parse_genotype
        from nasbench.spaces.skeleton import UNetSkeleton

        genotype = parse_genotype(genotype) if isinstance(genotype, str) else genotype
        if getattr(genotype, "kind", None) != "nasunet":
            raise SpaceError(f"UnetNetwork builds nasunet genotypes, not {genotype!r}.")
        check_op_names(sorted(genotype.ops()), "The genotype")
        self.genotype = genotype
        self.skeleton = UNetSkeleton.coerce(skeleton)
        if seed is None:
            self.net = self._build()
        else:
            with seeded(seed):
                self.net = self._build()

    def _build(self) -> UShape:
        g, dims = self.genotype, self.skeleton.spatial_dims

        def make_cell(cell_type: str, index: int, c_pp: int, c_p: int, c: int) -> UnetCell:
            pairs, concat = g.cell(cell_type)
            edges = [(k // g.inputs_per_node, inp) for k, (_, inp) in enumerate(pairs)]

            def factory(k: int, node: int, inp: int, role: str) -> nn.Module:
                stride = 1 if role == "normal" else 2
                return create_op(pairs[k][0], dims, c, c, stride)

            return UnetCell(dims, cell_type, c_pp, c_p, c, edges, factory, concat)

        stem = g.n_nodes * self.skeleton.channels
        return UShape(self.skeleton, stem, make_cell)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, num_classes, *spatial)``."""
        return self.net(x)
