"""The Auto-DeepLab / MS-NAS trellis supernet and the network of a decoded path.

:class:`TrellisSupernet` holds every node of the trellis (:mod:`nasbench.spaces.trellis`):
the stem writes scale 0; node ``(l, s)`` sums its incoming transitions (``down``: a
stride-2 ReLU-conv-BN from scale ``s - 1``; ``same``: the identity; ``up``: an
up-sampling and a 1x1 ReLU-conv-BN from scale ``s + 1``), each weighted by its
normalised scale weight ``beta`` (a softmax over the node's incoming transitions), then
runs the searched cell at that scale and projects it back to the scale's width. The
cell's mixed edges come from the differentiable method (PC-DARTS's partial-channel edge,
as MS-NAS searched), with one alpha matrix (group ``"cell"``) shared by every node, as
Auto-DeepLab shares its cell. The head of every last-layer scale is up-sampled to the
input and summed (Auto-DeepLab sums its per-scale heads).

Fusing before the cell (one cell per node, not one per transition as Auto-DeepLab)
keeps the supernet at a third of the cells; the derived network runs one cell per
layer either way. Both cell inputs are the fused node input.

The scale weights are the architecture tensor ``beta_trellis`` ``(layers, scales, 3)``,
stepped by the method's architecture optimizer with the alphas; the method records them
as the ``"trellis"`` ``"beta"`` matrix (one row per node, one column per transition)
and the genotype's path is their Viterbi decoding (:func:`viterbi_path`).
:class:`TrellisNetwork` builds the derived (discrete) network for retraining.

Example:
    >>> from nasbench.spaces import create_space
    >>> space = create_space("trellis", num_layers=2, ops=["skip_connect", "sep_conv_3x3"],
    ...                      n_nodes=1, skeleton={"depth": 1, "channels": 4})
    >>> net = space.supernet(method="pcdarts", seed=0)
    >>> net(torch.zeros(1, 1, 16, 16)).shape
    torch.Size([1, 2, 16, 16])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nasbench import registry
from nasbench.device import seeded
from nasbench.errors import SpaceError
from nasbench.models.cells import Cell, SharedInputRelu, cell_edges
from nasbench.models.derive import derive_cell
from nasbench.models.supernet import ALPHA_INIT_SCALE, SupernetBase, make_method
from nasbench.protocols import ArchGroup, DifferentiableMethod, Genotype, Space
from nasbench.spaces.blocks import ReLUConvBN, bn_cls, conv_cls
from nasbench.spaces.ops import create_op
from nasbench.spaces.skeleton import UNetSkeleton
from nasbench.spaces.trellis import (
    TRANSITIONS,
    TrellisGenotype,
    normalise_betas,
    trellis_mask,
    viterbi_path,
)

CELL_GROUP = "cell"


def _stem(dims: int, c_in: int, c_out: int) -> nn.Module:
    return nn.Sequential(
        conv_cls(dims)(c_in, c_out, 3, padding=1, bias=False), bn_cls(dims)(c_out), nn.ReLU()
    )


def _transition(dims: int, kind: str, c_in: int, c_out: int, affine: bool) -> nn.Module:
    """The module of a ``down``, ``same`` or ``up`` transition (scale ``s'`` to ``s``)."""
    if kind == "down":
        return ReLUConvBN(dims, c_in, c_out, 3, 2, 1, affine=affine)
    if kind == "same":
        return nn.Identity()
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="bilinear" if dims == 2 else "trilinear"),
        ReLUConvBN(dims, c_in, c_out, 1, 1, 0, affine=affine),
    )


def _to_size(x: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    if tuple(x.shape[2:]) == tuple(size):
        return x
    mode = "bilinear" if x.dim() == 4 else "trilinear"
    return F.interpolate(x, size=tuple(size), mode=mode, align_corners=False)


class TrellisSupernet(SupernetBase):
    """Every node and transition of the trellis, with the scale weights and the cell's alphas.

    Args:
        op_names: candidate ops of the cell edges.
        n_nodes: intermediate nodes of the cell.
        inputs_per_node: edges a derived node keeps.
        num_layers: layers of the trellis.
        skeleton: a :class:`UNetSkeleton` (``depth + 1`` scales, ``channels`` at scale 0).
        method: the differentiable method (``pcdarts`` or ``darts``).
        seed: seeds weights, alphas and betas (the global RNG is untouched).
        checkpoint_cells: recompute cells in the backward pass (None: from the method).
        channels_last: channels-last memory format (None: from the method).

    Attributes:
        share_relu: one ReLU of a cell's input for its two preprocessors (both read the
            same tensor; :class:`~nasbench.models.cells.SharedInputRelu`); False runs two.
    """

    def __init__(
        self,
        op_names: Sequence[str],
        n_nodes: int,
        inputs_per_node: int,
        num_layers: int,
        skeleton: UNetSkeleton,
        method: DifferentiableMethod,
        seed: int = 0,
        checkpoint_cells: bool | None = None,
        channels_last: bool | None = None,
    ) -> None:
        super().__init__(method, checkpoint_cells, channels_last)
        self.share_relu = True
        self.op_names = tuple(op_names)
        self.n_nodes, self.inputs_per_node = int(n_nodes), int(inputs_per_node)
        self.num_layers, self.skeleton = int(num_layers), skeleton
        self.num_scales = skeleton.depth + 1
        self.edges = cell_edges(self.n_nodes)
        self._group = ArchGroup(
            tuple(self.edges), tuple(f"{i}->{n + 2}" for n, i in self.edges), self.op_names
        )
        if not self._group.non_zero_ops:
            raise SpaceError("the trellis cell needs at least one op other than 'none'.")
        self.cell_types = (CELL_GROUP,)
        self.mask = trellis_mask(self.num_layers, self.num_scales)
        with seeded(seed):
            self._build_network()
        self._build_arch(seed)
        # The scale weights draw from their own stream so the alphas match other supernets'.
        gen = torch.Generator().manual_seed(seed + 7919)
        shape = (self.num_layers, self.num_scales, len(TRANSITIONS))
        self.arch["beta_trellis"] = nn.Parameter(
            ALPHA_INIT_SCALE * torch.randn(shape, generator=gen)
        )
        method.setup(self)

    def _build_network(self) -> None:
        dims, widths = self.skeleton.spatial_dims, self.skeleton.widths()
        self.stem = _stem(dims, self.skeleton.in_channels, widths[0])
        self.transitions = nn.ModuleDict()
        self.cells = nn.ModuleDict()
        self.projections = nn.ModuleDict()
        for layer in range(self.num_layers):
            for s in range(self.num_scales):
                if not self.mask[layer, s].any():
                    continue
                for t, kind in enumerate(TRANSITIONS):
                    if self.mask[layer, s, t]:
                        src = widths[s - 1 + t]
                        self.transitions[f"{layer}_{s}_{kind}"] = _transition(
                            dims, kind, src, widths[s], affine=False
                        )
                c = widths[s]
                self.cells[f"{layer}_{s}"] = Cell(
                    dims, c, c, c, reduction=False, reduction_prev=False, edges=self.edges,
                    edge_factory=self._edge_factory(dims, c),
                    concat=tuple(range(2, 2 + self.n_nodes)), affine=False,
                )  # fmt: skip
                self.projections[f"{layer}_{s}"] = ReLUConvBN(
                    dims, self.n_nodes * c, c, 1, 1, 0, affine=False
                )
        self.heads = nn.ModuleDict(
            {
                str(s): conv_cls(dims)(widths[s], self.skeleton.num_classes, 1)
                for s in range(self.num_scales)
                if self.mask[-1, s].any()
            }
        )

    def _edge_factory(self, dims: int, c: int):
        def factory(node: int, inp: int, stride: int) -> nn.Module:
            return self.method.make_edge(dims, c, stride, self.op_names)

        return factory

    # ---- architecture -------------------------------------------------------------------------
    def group(self, cell_type: str) -> ArchGroup:
        """The cell's edges and ops (the only alpha group, ``"cell"``)."""
        if cell_type != CELL_GROUP:
            raise SpaceError(f"the trellis supernet has the group 'cell', not {cell_type!r}.")
        return self._group

    def scale_weights(self) -> torch.Tensor:
        """Normalised betas ``(layers, scales, 3)``: a softmax over each node's transitions."""
        return normalise_betas(self.arch["beta_trellis"], self.mask)

    def decode_path(self) -> tuple[int, ...]:
        """The Viterbi path over the current scale weights."""
        return viterbi_path(self.scale_weights().detach().float().cpu(), self.mask)

    def node_names(self) -> tuple[str, ...]:
        """``"L<layer> s<scale>"`` for every node (layer 1-based), row order of the records."""
        return tuple(
            f"L{layer + 1} s{s}"
            for layer in range(self.num_layers)
            for s in range(self.num_scales)
            if self.mask[layer, s].any()
        )

    def extra_arch_records(self) -> list[tuple[Any, ...]]:
        """The scale weights as an ``AlphaRecord``'s fields: ``("trellis", "beta", raw,
        weights, node names, transitions)``, one row per node, NaN where no transition."""
        raw = self.arch["beta_trellis"].detach().float().cpu().numpy()
        weights = self.scale_weights().detach().float().cpu().numpy()
        rows = self.mask.any(axis=-1)
        nan_raw = np.where(self.mask, raw, np.nan)[rows]
        nan_weights = np.where(self.mask, weights, np.nan)[rows]
        return [("trellis", "beta", nan_raw, nan_weights, self.node_names(), TRANSITIONS)]

    def derive(self, scores: dict[str, Any]) -> TrellisGenotype:
        """The cell by the DARTS rule on the ``"cell"`` scores; the path by Viterbi."""
        pairs = derive_cell(
            np.asarray(scores[CELL_GROUP]), self.edges, self.op_names, self.inputs_per_node
        )
        return TrellisGenotype(
            self.decode_path(),
            pairs,
            tuple(range(2, 2 + self.n_nodes)),
            self.num_scales,
            self.inputs_per_node,
        )

    # ---- forward ------------------------------------------------------------------------------
    def scale_outputs(self, x: torch.Tensor) -> dict[int, torch.Tensor]:
        """The last layer's feature map at every scale it has (for shape checks and heads)."""
        mode, plans = self._plans()
        weights = self.scale_weights()
        states = {0: self.stem(self._memory_format(x))}
        for layer in range(self.num_layers):
            new = {}
            for s in range(self.num_scales):
                if not self.mask[layer, s].any():
                    continue
                fused = 0
                for t, kind in enumerate(TRANSITIONS):
                    if self.mask[layer, s, t]:
                        h = self.transitions[f"{layer}_{s}_{kind}"](states[s - 1 + t])
                        fused = fused + weights[layer, s, t] * h
                key = f"{layer}_{s}"
                # Both cell inputs are ``fused``: one ReLU for the two preprocessors.
                *inputs, rectified = SharedInputRelu(self.share_relu).inputs(
                    self.cells[key], fused, fused
                )
                out = self._run_cell(
                    self.cells[key], mode, *inputs, edge_args=plans["cell"], rectified=rectified
                )
                new[s] = self.projections[key](out)
            states = new
        return states

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, num_classes, *spatial)``: every last-layer scale's head, summed."""
        size = x.shape[2:]
        states = self.scale_outputs(x)
        return sum(_to_size(self.heads[str(s)](h), size) for s, h in states.items())


@registry.register("network", "trellis")
class TrellisNetwork(nn.Module):
    """The derived network of a trellis genotype: one cell per layer along the decoded path.

    Args:
        genotype: a :class:`~nasbench.spaces.trellis.TrellisGenotype`.
        skeleton: the ``UNetSkeleton`` it was searched in (``depth + 1`` must equal the
            genotype's scales).
        seed: seeds the weights (None: the global RNG).

    Attributes:
        share_relu: one ReLU of a cell's input for its two preprocessors (True); False
            runs two.

    Example:
        >>> g = TrellisGenotype((1, 0), [("sep_conv_3x3", 0), ("skip_connect", 1)], [2], 2)
        >>> net = TrellisNetwork(g, UNetSkeleton(depth=1, channels=4), seed=0)
        >>> net(torch.zeros(1, 1, 16, 16)).shape
        torch.Size([1, 2, 16, 16])
    """

    def __init__(self, genotype: Genotype, skeleton: Any, seed: int | None = None) -> None:
        super().__init__()
        skeleton = UNetSkeleton.coerce(skeleton)
        if getattr(genotype, "kind", None) != "trellis":
            raise SpaceError(f"TrellisNetwork builds trellis genotypes, not {genotype!r}.")
        if genotype.num_scales != skeleton.depth + 1:
            raise SpaceError(
                f"the genotype has {genotype.num_scales} scales; a skeleton of depth "
                f"{skeleton.depth} has {skeleton.depth + 1}."
            )
        self.genotype, self.skeleton = genotype, skeleton
        self.share_relu = True
        with seeded(seed):
            self._build()

    def _build(self) -> None:
        g, sk = self.genotype, self.skeleton
        dims, widths = sk.spatial_dims, sk.widths()
        self.stem = _stem(dims, sk.in_channels, widths[0])
        edges = [(k // g.inputs_per_node, inp) for k, (_, inp) in enumerate(g.cell)]
        names = [op for op, _ in g.cell]
        self.transitions, self.cells, self.projections = (nn.ModuleList() for _ in range(3))
        previous = 0
        for s, kind in zip(g.path, g.transitions(), strict=True):
            c = widths[s]
            self.transitions.append(_transition(dims, kind, widths[previous], c, affine=True))
            ops = iter(names)
            self.cells.append(
                Cell(
                    dims, c, c, c, reduction=False, reduction_prev=False, edges=edges,
                    edge_factory=lambda n, i, stride, c=c, ops=ops: create_op(
                        next(ops), spatial_dims=dims, C_in=c, C_out=c, stride=stride
                    ),
                    concat=g.concat,
                )
            )  # fmt: skip
            self.projections.append(ReLUConvBN(dims, len(g.concat) * c, c, 1, 1, 0))
            previous = s
        self.head = conv_cls(dims)(widths[g.path[-1]], sk.num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, num_classes, *spatial)``."""
        h = self.stem(x)
        for transition, cell, projection in zip(
            self.transitions, self.cells, self.projections, strict=True
        ):
            h = transition(h)
            *inputs, rectified = SharedInputRelu(self.share_relu).inputs(cell, h, h)
            h = projection(cell(*inputs, rectified=rectified))
        return _to_size(self.head(h), x.shape[2:])


@registry.register("supernet", "trellis")
def build_trellis_supernet(
    space: Space,
    method: str | DifferentiableMethod = "pcdarts",
    method_config: Any = None,
    seed: int = 0,
    skeleton: Any = None,
    checkpoint_cells: bool | None = None,
    channels_last: bool | None = None,
) -> TrellisSupernet:
    """The trellis supernet of a ``TrellisSpace`` (``space.supernet(...)`` calls this).

    Args:
        space: the trellis space.
        method: ``"pcdarts"`` (MS-NAS's search), ``"darts"`` or a method instance.
        method_config: its settings.
        seed: seeds weights, alphas, betas and the method's sampling.
        skeleton: overrides the space's skeleton.
        checkpoint_cells: recompute cells in the backward pass.
        channels_last: channels-last memory format.
    """
    space.check_strategy(method)
    return TrellisSupernet(
        space.ops,
        space.n_nodes,
        space.inputs_per_node,
        space.num_layers,
        UNetSkeleton.coerce(skeleton) if skeleton is not None else space.skeleton,
        make_method(method, method_config, seed),
        seed=seed,
        checkpoint_cells=checkpoint_cells,
        channels_last=channels_last,
    )
