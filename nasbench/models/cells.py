"""The DARTS/NASNet cell wiring, shared by discrete networks and supernets.

A cell has two inputs, ``c_{k-2}`` and ``c_{k-1}`` (state indices 0 and 1), and
``n_nodes`` intermediate nodes (state indices 2, 3, ...). An edge ``(node, input)``
carries state ``input`` into intermediate node ``node`` (0-based, so its state
index is ``node + 2``); a node is the sum of its incoming edges and the cell output
is the channel concatenation of the ``concat`` states. What sits on an edge is up
to the caller: one operation in a discrete network, a mixed operation in a
supernet. Both go through :class:`Cell`, so they cannot drift apart.

Follows ``model.py`` of the DARTS code (Liu et al., 2019), with ``spatial_dims``
so the same cell runs on 2D and 3D images.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from nasbench.errors import ConfigError, SpaceError, closest_name
from nasbench.spaces.blocks import FactorizedReduce, Identity, ReLUConvBN, runs_rectified
from nasbench.spaces.ops import op_names

N_INPUTS = 2  # a DARTS/NASNet cell reads the outputs of the two previous cells

EdgeFactory = Callable[[int, int, int], nn.Module]


def cell_edges(n_nodes: int, n_inputs: int = N_INPUTS) -> list[tuple[int, int]]:
    """Every candidate edge of a cell, in DARTS order.

    Intermediate node ``i`` (0-based) may read any earlier state: the ``n_inputs``
    cell inputs and the nodes before it, i.e. states ``0 .. i + n_inputs - 1``. The
    order matches the rows of DARTS's alpha matrix.

    Args:
        n_nodes: number of intermediate nodes (DARTS: 4).
        n_inputs: number of cell inputs (DARTS: 2).

    Returns:
        A list of ``(node, input)`` pairs, ``n_nodes * n_inputs + n_nodes * (n_nodes - 1) / 2``
        of them.

    Example:
        >>> cell_edges(2)
        [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2)]
        >>> len(cell_edges(4))
        14
    """
    if any(isinstance(n, bool) or not isinstance(n, int | np.integer) for n in (n_nodes, n_inputs)):
        raise SpaceError(
            f"n_nodes and n_inputs must be integers, got n_nodes={n_nodes!r}, "
            f"n_inputs={n_inputs!r}."
        )
    if n_nodes < 1 or n_inputs < 1:
        raise SpaceError(
            f"A cell needs at least one node and one input, got n_nodes={n_nodes}, "
            f"n_inputs={n_inputs}."
        )
    return [(node, inp) for node in range(n_nodes) for inp in range(node + n_inputs)]


def drop_path(
    x: torch.Tensor, drop_prob: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Zero whole samples of an edge output with probability ``drop_prob`` (DARTS/NASNet).

    Kept samples are scaled by ``1 / (1 - drop_prob)`` so the expectation is unchanged.
    Call it in training only. Randomness comes from ``generator`` when given (it may
    live on another device than ``x``), otherwise from the global torch RNG, which
    the training loop seeds.

    Args:
        x: a batch, shape ``(N, C, *spatial)``.
        drop_prob: probability of dropping a sample, in ``[0, 1)``.
        generator: optional source of randomness.

    Returns:
        A tensor of the shape of ``x``.

    Example:
        >>> y = drop_path(torch.ones(4, 2, 3, 3), 0.5, torch.Generator().manual_seed(0))
        >>> sorted({float(v) for v in y.unique()}) in ([0.0, 2.0], [2.0], [0.0])
        True
    """
    if drop_prob <= 0.0:
        return x
    if not drop_prob < 1.0:  # NaN too, which bernoulli_ would report from deep in torch
        raise ConfigError(f"drop_path_prob must be in [0, 1), got {drop_prob}.")
    keep = 1.0 - drop_prob
    shape = (x.shape[0],) + (1,) * (x.dim() - 1)
    device = generator.device if generator is not None else x.device
    mask = torch.empty(shape, dtype=x.dtype, device=device).bernoulli_(keep, generator=generator)
    return x * mask.to(x.device) / keep


def check_op_names(names: Sequence[str], where: str) -> None:
    """Raise a one-line SpaceError if an op name is not in the operation registry.

    Args:
        names: op names a genotype uses.
        where: what uses them, for the message (e.g. "The genotype").

    Example:
        >>> check_op_names(["sep_conv_3x3", "skip_connect"], "The genotype")
    """
    known = op_names()
    for name in names:
        if name not in known:
            raise SpaceError(
                f"{where} uses op {name!r}, which is not in the operation registry."
                f"{closest_name(name, known)}"
            )


def refuse_auxiliary(skeleton: Any, network: str) -> None:
    """Raise a one-line SpaceError when ``skeleton`` asks for an auxiliary head that the
    macro network ``network`` (e.g. "The NAS-Bench-201 network") does not have.

    Example:
        >>> from nasbench.spaces.skeleton import Skeleton
        >>> refuse_auxiliary(Skeleton(auxiliary=False), "A chain network")
    """
    if skeleton.auxiliary:
        raise SpaceError(f"{network} has no auxiliary head; use a skeleton with auxiliary=False.")


def is_identity(module: nn.Module) -> bool:
    """True for an identity edge, which DARTS exempts from drop-path."""
    return isinstance(module, (nn.Identity, Identity))


class Cell(nn.Module):
    """One DARTS/NASNet cell: preprocess two inputs, run the edges, concatenate.

    ``edge_factory(node, input, stride)`` builds the module on each edge; it is called
    once per edge, in the order of ``edges``, with ``stride`` 2 on the edges that read
    a cell input of a reduction cell and 1 elsewhere. A supernet plugs its mixed ops
    in through the factory and hands them per-edge arguments (architecture weights)
    through ``forward(edge_args=...)``; a subclass may override :meth:`run_edge`.

    Args:
        spatial_dims: 2 or 3.
        C_prev_prev: channels of ``c_{k-2}``.
        C_prev: channels of ``c_{k-1}``.
        C: channels of every node inside the cell.
        reduction: halve the spatial size (stride 2 on edges from the inputs).
        reduction_prev: the previous cell reduced, so ``c_{k-2}`` is twice as large
            and goes through a factorized reduce.
        edges: ``(node, input)`` pairs, several per node, in any order.
        edge_factory: builds the module for an edge from ``(node, input, stride)``.
        concat: state indices concatenated into the output (DARTS: 2..5).
        affine: learnable BatchNorm in the preprocessing (DARTS search: False).

    Example:
        >>> from nasbench.spaces.ops import create_op
        >>> cell = Cell(2, 8, 8, 4, reduction=False, reduction_prev=False,
        ...             edges=cell_edges(2),
        ...             edge_factory=lambda n, i, s: create_op("skip_connect", 2, 4, 4, s),
        ...             concat=(2, 3))
        >>> cell(torch.zeros(1, 8, 6, 6), torch.zeros(1, 8, 6, 6)).shape
        torch.Size([1, 8, 6, 6])
    """

    def __init__(
        self,
        spatial_dims: int,
        C_prev_prev: int,
        C_prev: int,
        C: int,
        *,
        reduction: bool,
        reduction_prev: bool,
        edges: Sequence[tuple[int, int]],
        edge_factory: EdgeFactory,
        concat: Sequence[int],
        affine: bool = True,
    ) -> None:
        super().__init__()
        self.edges = _check_edges(edges)
        self.n_nodes = 1 + max(node for node, _ in self.edges)
        self.concat = _check_concat(concat, self.n_nodes)
        self.reduction = reduction
        self.multiplier = len(self.concat)  # output channels = multiplier * C
        if reduction_prev:
            self.preprocess0 = FactorizedReduce(spatial_dims, C_prev_prev, C, affine=affine)
        else:
            self.preprocess0 = ReLUConvBN(spatial_dims, C_prev_prev, C, 1, 1, 0, affine=affine)
        self.preprocess1 = ReLUConvBN(spatial_dims, C_prev, C, 1, 1, 0, affine=affine)
        self.edge_ops = nn.ModuleList(
            edge_factory(node, inp, 2 if reduction and inp < N_INPUTS else 1)
            for node, inp in self.edges
        )
        self._droppable = [not is_identity(op) for op in self.edge_ops]
        self._node_edges = [
            [k for k, (n, _) in enumerate(self.edges) if n == node] for node in range(self.n_nodes)
        ]

    @property
    def takes_rectified_inputs(self) -> bool:
        """True when both preprocessors begin with a ReLU that may run outside the cell,
        so that ``forward(ReLU(s0), ReLU(s1), rectified=True)`` is the same cell: a
        network then computes each cell output's ReLU once for the two cells that read it
        (DARTS computes it in both)."""
        return runs_rectified(self.preprocess0) and runs_rectified(self.preprocess1)

    def run_edge(self, k: int, x: torch.Tensor, arg: Any = None) -> torch.Tensor:
        """Output of edge ``k`` on input ``x``; ``arg`` is this edge's item of ``edge_args``."""
        op = self.edge_ops[k]
        return op(x) if arg is None else op(x, arg)

    def forward(
        self,
        s0: torch.Tensor,
        s1: torch.Tensor,
        drop_prob: float = 0.0,
        edge_args: Sequence[Any] | None = None,
        generator: torch.Generator | None = None,
        rectified: bool = False,
    ) -> torch.Tensor:
        """Run the cell.

        Args:
            s0: output of cell ``k-2`` (its ReLU with ``rectified``).
            s1: output of cell ``k-1`` (its ReLU with ``rectified``).
            drop_prob: drop-path probability, applied in training on non-identity edges.
            edge_args: optional per-edge arguments (one per edge, in ``self.edges`` order)
                handed to :meth:`run_edge`, e.g. a supernet's op weights.
            generator: randomness for drop-path (global torch RNG when ``None``).
            rectified: ``s0`` and ``s1`` have been through ``ReLU`` already, and the
                preprocessors skip theirs (only where :attr:`takes_rectified_inputs`).

        Returns:
            The concatenation of the ``concat`` states, ``multiplier * C`` channels.
        """
        if rectified:
            p0, p1 = self.preprocess0.forward_rectified, self.preprocess1.forward_rectified
        else:
            p0, p1 = self.preprocess0, self.preprocess1
        states = [p0(s0), p1(s1)]
        for node_edges in self._node_edges:
            total = None
            for k in node_edges:
                h = self.run_edge(
                    k, states[self.edges[k][1]], None if edge_args is None else edge_args[k]
                )
                if self.training and drop_prob > 0.0 and self._droppable[k]:
                    h = drop_path(h, drop_prob, generator)
                # The first term starts the sum: ``0 + h`` would copy a whole tensor.
                total = h if total is None else total + h
            states.append(total)
        return torch.cat([states[i] for i in self.concat], dim=1)


class SharedInputRelu:
    """Each cell output's ReLU, computed once for the two cells that read it.

    In a stack of cells, state ``k`` is ``s1`` of cell ``k + 1`` and ``s0`` of cell
    ``k + 2`` (the stem is both inputs of the first cell), and both preprocessors begin
    with ``ReLU``. DARTS computes it in each; a network that asks this object for each
    cell's inputs computes it once (same numbers, one ReLU's time and memory less per
    cell). A cell that cannot take rectified inputs (a hooked preprocessor ReLU, e.g.
    the NASWOT proxy's) gets its raw inputs.

    Args:
        enabled: False hands every cell its raw inputs.

    Example:
        >>> from nasbench.spaces.ops import create_op
        >>> cells = [Cell(2, 4, 4, 4, reduction=False, reduction_prev=False,
        ...               edges=cell_edges(1),
        ...               edge_factory=lambda n, i, s: create_op("skip_connect", 2, 4, 4, s),
        ...               concat=(2,)) for _ in range(3)]
        >>> s0 = s1 = torch.randn(1, 4, 3, 3)
        >>> relu = SharedInputRelu()
        >>> for cell in cells:
        ...     *inputs, rectified = relu.inputs(cell, s0, s1)
        ...     s0, s1 = s1, cell(*inputs, rectified=rectified)
        >>> rectified, s1.shape
        (True, torch.Size([1, 4, 3, 3]))
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._relu_s0: torch.Tensor | None = None

    def inputs(
        self, cell: Cell, s0: torch.Tensor, s1: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, bool]:
        """``(s0, s1, False)``, or ``(ReLU(s0), ReLU(s1), True)`` where ``cell`` takes
        rectified inputs; call it once per cell, in order."""
        relu_s0, self._relu_s0 = self._relu_s0, None
        if not (self.enabled and cell.takes_rectified_inputs):
            return s0, s1, False
        relu_s1 = torch.relu(s1)
        if relu_s0 is None:
            relu_s0 = relu_s1 if s0 is s1 else torch.relu(s0)
        self._relu_s0 = relu_s1  # the next cell's s0 is this cell's s1
        return relu_s0, relu_s1, True


def _check_edges(edges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    pairs = [(int(node), int(inp)) for node, inp in edges]
    if not pairs:
        raise SpaceError("A cell needs at least one edge; pass edges=cell_edges(n_nodes).")
    nodes = {node for node, _ in pairs}
    for node, inp in pairs:
        if node < 0 or not 0 <= inp < node + N_INPUTS:
            raise SpaceError(
                f"Edge (node={node}, input={inp}) is invalid: node {node} may only read "
                f"states 0..{node + N_INPUTS - 1} (the two cell inputs and earlier nodes)."
            )
    missing = sorted(set(range(max(nodes) + 1)) - nodes)
    if missing:
        raise SpaceError(f"Intermediate node(s) {missing} have no incoming edge; give each one.")
    return pairs


def _check_concat(concat: Sequence[int], n_nodes: int) -> tuple[int, ...]:
    out = tuple(int(i) for i in concat)
    n_states = n_nodes + N_INPUTS
    if not out or any(not 0 <= i < n_states for i in out):
        raise SpaceError(
            f"Cell concat {list(out)} must name states in 0..{n_states - 1} "
            f"({n_nodes} nodes after the two inputs)."
        )
    return out
