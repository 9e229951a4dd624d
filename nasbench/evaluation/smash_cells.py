"""SMASH on the DARTS cell space: a hypernetwork generates the kernels of every op slot of a
stack of DARTS normal and reduction cells (see :mod:`nasbench.evaluation.smash`).

The memory banks are a cell's states: its two preprocessed inputs and its intermediate
nodes. An op slot is one (cell, node, input) that a genotype may wire; the slots a
genotype wires run its op with weights generated from ``[code, slot embedding]``, where
``code`` is the space's encoding of the whole genotype (both cell types). What the
generator emits per op, for a cell of width ``C``:

- ``sep_conv_kxk``: the DARTS stack ReLU, depthwise kxk (stride), pointwise, BN, ReLU,
  depthwise kxk, pointwise, BN: two depthwise and two pointwise kernels;
- ``dil_conv_kxk``: ReLU, depthwise kxk with dilation 2 (stride), pointwise, BN;
- ``skip_connect`` on a reduction cell's input: DARTS's FactorizedReduce, two 1x1 kernels;
- pooling and a stride-1 skip have no weights.

The stem, every cell's two preprocessing convolutions and the classifier are ordinary
learned weights (SMASH's fixed transitions); every batch norm uses the batch's own
statistics, as in the NB201 version.

Example:
    >>> space = CellSpace(n_nodes=2)
    >>> net = SmashCellNetwork(space, space.encoding_length(), Skeleton(n_cells=3, channels=4))
    >>> g = space.sample(np.random.default_rng(0))
    >>> net(torch.zeros(2, 1, 8, 8), torch.from_numpy(space.encode(g)), net.route(g)).shape
    torch.Size([2, 2])
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from nasbench.device import seeded
from nasbench.evaluation.smash import (
    SlotHypernetwork,
    batch_norm,
    pool_op,
    split_kernels,
    weight_head,
)

# op name -> (kind, kernel size, dilation); the kinds with kernels get generated weights.
SMASH_CELL_OPS: dict[str, tuple[str, int, int]] = {
    "skip_connect": ("skip", 0, 1),
    "max_pool_3x3": ("max", 3, 1),
    "avg_pool_3x3": ("avg", 3, 1),
    "sep_conv_3x3": ("sep", 3, 1),
    "sep_conv_5x5": ("sep", 5, 1),
    "sep_conv_7x7": ("sep", 7, 1),
    "dil_conv_3x3": ("dil", 3, 2),
    "dil_conv_5x5": ("dil", 5, 2),
}
CELL_TYPES = ("normal", "reduce")


def cell_kernel_shapes(op: str, width: int, dims: int) -> list[tuple[int, ...]]:
    """The kernels SMASH generates for ``op`` in a cell of ``width`` channels.

    Args:
        op: a name in :data:`SMASH_CELL_OPS`.
        width: the cell's channels ``C``.
        dims: 2 or 3.

    Returns:
        The shapes, in the order the op uses them (empty for a weightless op); for
        ``skip_connect`` the two halves of a FactorizedReduce.

    Example:
        >>> cell_kernel_shapes("dil_conv_3x3", 4, 2)
        [(4, 1, 3, 3), (4, 4, 1, 1)]
    """
    kind, k, _ = SMASH_CELL_OPS[op]
    depthwise, pointwise = (width, 1, *(k,) * dims), (width, width, *(1,) * dims)
    if kind == "sep":
        return [depthwise, pointwise, depthwise, pointwise]
    if kind == "dil":
        return [depthwise, pointwise]
    if kind == "skip":
        half = width // 2
        return [(half, width, *(1,) * dims), (width - half, width, *(1,) * dims)]
    return []


def factorized_reduce(x: torch.Tensor, kernels: list[torch.Tensor], dims: int) -> torch.Tensor:
    """DARTS's FactorizedReduce with the given two 1x1 kernels: halve every spatial dim.

    The shifted input is zero-padded at the end, as ``nasbench.spaces.blocks.FactorizedReduce``
    does, so odd sizes give ``ceil(n / 2)``.
    """
    conv = F.conv2d if dims == 2 else F.conv3d
    x = F.relu(x)
    shifted = F.pad(x, (0, 1) * dims)[(..., *[slice(1, None)] * dims)]
    first, second = kernels
    return batch_norm(torch.cat([conv(x, first, stride=2), conv(shifted, second, stride=2)], 1))


class _Preprocess(nn.Module):
    """A cell input brought to the cell's width: ReLU-conv1x1-BN, or FactorizedReduce when
    the previous cell halved the size (fixed learned weights)."""

    def __init__(self, dims: int, C_in: int, C_out: int, reduce: bool) -> None:
        super().__init__()
        self.dims, self.reduce = dims, reduce
        halves = [C_out // 2, C_out - C_out // 2] if reduce else [C_out]
        self.kernels = nn.ParameterList(
            nn.Parameter(torch.randn(c, C_in, *(1,) * dims) * (2.0 / C_in) ** 0.5) for c in halves
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.reduce:
            return factorized_reduce(x, list(self.kernels), self.dims)
        conv = F.conv2d if self.dims == 2 else F.conv3d
        return batch_norm(conv(F.relu(x), self.kernels[0]))


class SmashCellNetwork(SlotHypernetwork):
    """The DARTS macro network whose cell-op weights a hypernetwork generates.

    Args:
        space: a ``CellSpace`` whose choices are in :data:`SMASH_CELL_OPS`.
        code_length: length of the architecture code (the space's encoder).
        skeleton: the macro ``Skeleton`` (cells, channels, reductions, stem multiplier,
            classes, dims).
        hidden: width of the hypernetwork's MLP.
        embedding: size of the learned embedding of each op slot.
        seed: seeds the initial weights (global RNG untouched).
    """

    def __init__(
        self,
        space: Any,
        code_length: int,
        skeleton: Any,
        hidden: int = 64,
        embedding: int = 16,
        seed: int = 0,
    ) -> None:
        super().__init__()
        from nasbench.spaces.blocks import conv_cls

        self.dims = dims = skeleton.spatial_dims
        self.concat = tuple(space.concat)
        # The slots of one cell: node i may read any of its i + 2 earlier states.
        self.slot_of = {
            (node, inp): n
            for n, (node, inp) in enumerate(
                (node, inp) for node in range(space.n_nodes) for inp in range(node + 2)
            )
        }
        reductions = set(skeleton.reductions())
        with seeded(seed):
            C_stem = skeleton.stem_multiplier * skeleton.channels
            self.stem = conv_cls(dims)(skeleton.in_channels, C_stem, 3, padding=1, bias=False)
            self.layout: list[tuple[str, int]] = []  # (cell type, width) of every cell
            self.preprocess = nn.ModuleList()
            C_pp, C_p, C, reduction_prev = C_stem, C_stem, skeleton.channels, False
            for i in range(skeleton.n_cells):
                reduction = i in reductions
                C = 2 * C if reduction else C
                self.layout.append((CELL_TYPES[reduction], C))
                inputs = [_Preprocess(dims, C_pp, C, reduction_prev)]
                inputs.append(_Preprocess(dims, C_p, C, False))
                self.preprocess.append(nn.ModuleList(inputs))
                C_pp, C_p, reduction_prev = C_p, len(self.concat) * C, reduction
            slots = len(self.layout) * len(self.slot_of)
            self.init_generator(code_length, slots, hidden, embedding)
            for op in space.choices:
                # A stride-1 skip is the identity: its kernels exist for reduction widths only.
                widths = {w for t, w in self.layout if op != "skip_connect" or t == "reduce"}
                for width in sorted(widths):
                    shapes = cell_kernel_shapes(op, width, dims)
                    if shapes:
                        self.heads[f"{op}_{width}"] = weight_head(hidden, shapes)
            self.classifier = nn.Linear(C_p, skeleton.num_classes)

    @staticmethod
    def route(genotype: Any) -> dict[str, tuple]:
        """What :meth:`forward` runs: each cell type's (op, input) pairs per node."""
        return {cell_type: genotype.nodes(cell_type) for cell_type in CELL_TYPES}

    def forward(self, x: torch.Tensor, code: torch.Tensor, route: dict[str, tuple]) -> torch.Tensor:
        """Logits when each cell runs ``route`` (see :meth:`route`) with generated weights."""
        features = self.generate(code)
        s0 = s1 = batch_norm(self.stem(x))
        for c, ((cell_type, width), (pre0, pre1)) in enumerate(
            zip(self.layout, self.preprocess, strict=True)
        ):
            states = [pre0(s0), pre1(s1)]
            for node, pairs in enumerate(route[cell_type]):
                total = 0
                for op, inp in pairs:
                    stride = 2 if cell_type == "reduce" and inp < 2 else 1
                    slot = c * len(self.slot_of) + self.slot_of[node, inp]
                    total = total + self._run_op(op, states[inp], features[slot], width, stride)
                states.append(total)
            s0, s1 = s1, torch.cat([states[i] for i in self.concat], dim=1)
        return self.classifier(s1.flatten(2).mean(dim=2))

    def _run_op(
        self, op: str, x: torch.Tensor, feature: torch.Tensor, width: int, stride: int
    ) -> torch.Tensor:
        kind, k, dilation = SMASH_CELL_OPS[op]
        if kind in ("max", "avg"):
            return pool_op(kind, x, k, stride, self.dims)
        if kind == "skip" and stride == 1:
            return x
        shapes = cell_kernel_shapes(op, width, self.dims)
        kernels = split_kernels(self.heads[f"{op}_{width}"](feature), shapes)
        if kind == "skip":
            return factorized_reduce(x, kernels, self.dims)
        conv = F.conv2d if self.dims == 2 else F.conv3d
        pad = dilation * (k - 1) // 2
        strides = [stride, 1] if kind == "sep" else [stride]
        for n, step in enumerate(strides):
            depthwise, pointwise = kernels[2 * n], kernels[2 * n + 1]
            x = conv(F.relu(x), depthwise, None, step, pad, dilation, groups=width)
            x = batch_norm(conv(x, pointwise))
        return x
