"""The NAS-Unet supernet: a mixed edge on every cell edge, one alpha per edge role.

The U shape is :class:`nasbench.models.unet.UShape`, with every candidate edge of a
DownSC and an UpSC cell. As in the NasUnet code, each edge role has its own candidate
ops and its own architecture matrix, shared by all cells of that type:

==============  =======================================  ==================
group           rows (edges)                              columns (ops)
==============  =======================================  ==================
``down``        DownSC edges from the two inputs          the Down set
``down_normal`` DownSC edges between nodes                the Normal set
``up``          UpSC edges from input 1 (previous cell)   the Up set
``up_normal``   UpSC edges from input 0 and between nodes the Normal set
==============  =======================================  ==================

The groups are the "cell types" a differentiable method sees (see
:mod:`nasbench.strategies.differentiable.base`), so DARTS's softmax mixture, GDAS's
Gumbel sample and ProxylessNAS's binary gates (one path in memory, as NAS-Unet
searched) work unchanged. :func:`derive_unet` turns the scores into a genotype.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from nasbench import registry
from nasbench.device import seeded
from nasbench.errors import SpaceError
from nasbench.models.cells import cell_edges
from nasbench.models.supernet import SupernetBase, make_method
from nasbench.models.unet import UnetCell, UShape
from nasbench.protocols import ZERO_OP, ArchGroup, DifferentiableMethod, Space
from nasbench.spaces.seg_genotypes import UNET_CELL_TYPES as CELL_TYPES
from nasbench.spaces.seg_genotypes import NasUnetGenotype, edge_role
from nasbench.spaces.skeleton import UNetSkeleton

GROUPS = ("down", "down_normal", "up", "up_normal")


def group_of(cell_type: str, inp: int) -> str:
    """The architecture group of an edge: its role, ``_normal`` suffixed by cell type.

    Example:
        >>> group_of("down", 0), group_of("down", 2), group_of("up", 0)
        ('down', 'down_normal', 'up_normal')
    """
    role = edge_role(cell_type, inp)
    return f"{cell_type}_normal" if role == "normal" else role


class UnetSupernet(SupernetBase):
    """NAS-Unet's weight-sharing network for a differentiable method.

    Args:
        ops: role -> candidate op names (``"down"``, ``"up"``, ``"normal"``).
        n_nodes: intermediate nodes per cell.
        inputs_per_node: edges a derived node keeps.
        skeleton: a :class:`~nasbench.spaces.skeleton.UNetSkeleton`.
        method: the differentiable method.
        seed: seeds the weights and the alphas (the global RNG is untouched).
        checkpoint_cells: recompute cells in the backward pass (None: from the method).
        channels_last: channels-last memory format (None: from the method).

    Example:
        >>> from nasbench.spaces import create_space
        >>> net = create_space("nasunet", n_nodes=2).supernet(method="proxyless", seed=0)
        >>> net(torch.zeros(2, 1, 32, 32)).shape, net.cell_types
        (torch.Size([2, 2, 32, 32]), ('down', 'down_normal', 'up', 'up_normal'))
    """

    def __init__(
        self,
        ops: Mapping[str, Sequence[str]],
        n_nodes: int,
        inputs_per_node: int,
        skeleton: Any,
        method: DifferentiableMethod,
        seed: int = 0,
        checkpoint_cells: bool | None = None,
        channels_last: bool | None = None,
    ) -> None:
        super().__init__(method, checkpoint_cells, channels_last)
        self.role_ops = {role: tuple(ops[role]) for role in ("down", "up", "normal")}
        self.n_nodes, self.inputs_per_node = int(n_nodes), int(inputs_per_node)
        self.skeleton = skeleton
        self.edges = cell_edges(self.n_nodes)
        rows: dict[str, list[tuple[int, int]]] = {g: [] for g in GROUPS}
        # Cell edge k -> (group, row): how one forward's plans reach every edge.
        self.slots: dict[str, list[tuple[str, int]]] = {ct: [] for ct in CELL_TYPES}
        for ct in CELL_TYPES:
            for node, inp in self.edges:
                group = group_of(ct, inp)
                self.slots[ct].append((group, len(rows[group])))
                rows[group].append((node, inp))
        self._groups = {
            g: ArchGroup(
                tuple(rows[g]),
                tuple(f"{inp}->{node + 2}" for node, inp in rows[g]),
                self._ops_of(g),
            )
            for g in GROUPS
            if rows[g]
        }
        for g, group in self._groups.items():
            if not group.non_zero_ops:
                raise SpaceError(f"the {g} edges need at least one op other than 'none'.")
        self.cell_types = tuple(self._groups)
        with seeded(seed):
            self.ushape = UShape(skeleton, self.n_nodes * skeleton.channels, self._make_cell)
        self._build_arch(seed)
        method.setup(self)

    def _ops_of(self, group: str) -> tuple[str, ...]:
        return self.role_ops["normal" if group.endswith("_normal") else group]

    def _make_cell(self, cell_type: str, index: int, c_pp: int, c_p: int, c: int) -> UnetCell:
        dims = self.skeleton.spatial_dims

        def factory(k: int, node: int, inp: int, role: str) -> nn.Module:
            stride = 1 if role == "normal" else 2
            return self.method.make_edge(dims, c, stride, self._ops_of(group_of(cell_type, inp)))

        concat = tuple(range(2, 2 + self.n_nodes))
        return UnetCell(dims, cell_type, c_pp, c_p, c, self.edges, factory, concat, affine=False)

    def group(self, cell_type: str) -> ArchGroup:
        """The edges and ops of architecture group ``cell_type`` (see the module table)."""
        if cell_type not in self._groups:
            raise SpaceError(
                f"this supernet has no group {cell_type!r}; it has {', '.join(self._groups)}."
            )
        return self._groups[cell_type]

    def derive(self, scores: dict[str, np.ndarray]) -> NasUnetGenotype:
        """The NAS-Unet rule (:func:`derive_unet`)."""
        return derive_unet(scores, self._groups, self.slots, self.edges, self.inputs_per_node)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, num_classes, *spatial)`` of a batch ``(N, in_channels, *spatial)``."""
        mode, plans = self._plans()
        args = {ct: [plans[g][row] for g, row in self.slots[ct]] for ct in CELL_TYPES}

        def run(cell: nn.Module, s0: torch.Tensor, s1: torch.Tensor, edge_args: Any):
            return self._run_cell(cell, mode, s0, s1, edge_args=edge_args)

        return self.ushape(self._memory_format(x), args, run)


def derive_unet(
    scores: Mapping[str, np.ndarray],
    groups: Mapping[str, ArchGroup],
    slots: Mapping[str, Sequence[tuple[str, int]]],
    edges: Sequence[tuple[int, int]],
    inputs_per_node: int = 2,
) -> NasUnetGenotype:
    """The NAS-Unet genotype that per-group scores point to (NasUnet's ``GenoParser``).

    Each node keeps the ``inputs_per_node`` incoming edges whose strongest op (never
    'none') is strongest, with the best op on each. Groups with fewer ops have larger
    softmax weights, so an edge's strength is its best weight times its group's op
    count (its weight relative to a uniform choice), which orders edges as NasUnet's
    rescaling does.

    Args:
        scores: group -> ``(n_rows, n_ops)`` weights.
        groups: group -> its :class:`ArchGroup`.
        slots: cell type -> ``(group, row)`` per cell edge.
        edges: ``(node, input)`` per cell edge.
        inputs_per_node: edges kept per node.

    Returns:
        A :class:`NasUnetGenotype`; within a node the stronger edge comes first.
    """
    cells: dict[str, list[tuple[str, int]]] = {}
    n_nodes = 1 + max(n for n, _ in edges)
    for ct in CELL_TYPES:
        pairs: list[tuple[str, int]] = []
        for node in range(n_nodes):
            candidates = []
            for k, (n, inp) in enumerate(edges):
                if n != node:
                    continue
                g, row = slots[ct][k]
                names = groups[g].op_names
                w = np.asarray(scores[g], dtype=np.float64)[row]
                usable = [j for j, op in enumerate(names) if op != ZERO_OP]
                best = usable[int(np.argmax(w[usable]))]
                candidates.append((w[best] * len(names), inp, names[best]))
            if len(candidates) < inputs_per_node:
                raise SpaceError(f"node {node} has {len(candidates)} inputs; it needs more.")
            order = sorted(range(len(candidates)), key=lambda i: -candidates[i][0])
            pairs += [(candidates[i][2], candidates[i][1]) for i in order[:inputs_per_node]]
        cells[ct] = pairs
    concat = tuple(range(2, 2 + n_nodes))
    return NasUnetGenotype(cells["down"], concat, cells["up"], concat, inputs_per_node)


@registry.register("supernet", "nasunet")
def build_unet_supernet(
    space: Space,
    method: str | DifferentiableMethod = "darts",
    method_config: Any = None,
    seed: int = 0,
    skeleton: Any = None,
    checkpoint_cells: bool | None = None,
    channels_last: bool | None = None,
) -> UnetSupernet:
    """The NAS-Unet supernet of a ``NasUnetSpace`` (``space.supernet(...)`` calls this).

    Args:
        space: the NAS-Unet space.
        method: ``"darts"``, ``"gdas"``, ``"proxyless"`` or a method instance.
        method_config: its settings.
        seed: seeds weights, alphas and the method's sampling.
        skeleton: overrides the space's skeleton.
        checkpoint_cells: recompute cells in the backward pass.
        channels_last: channels-last memory format.
    """
    space.check_strategy(method)
    return UnetSupernet(
        space.role_ops,
        space.n_nodes,
        space.inputs_per_node,
        UNetSkeleton.coerce(skeleton) if skeleton is not None else space.skeleton,
        make_method(method, method_config, seed),
        seed=seed,
        checkpoint_cells=checkpoint_cells,
        channels_last=channels_last,
    )
