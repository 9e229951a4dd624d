"""Genotypes of the segmentation spaces: NAS-Unet cells, V-NAS conv choices, DiNTS codes.

- :class:`NasUnetGenotype` (``"nasunet"``): a DownSC and an UpSC cell, wired like a
  DARTS cell (two inputs, intermediate nodes with ``inputs_per_node`` (op, input)
  pairs each, the output concatenating ``concat``). It reads and prints the notation
  of the NAS-Unet code, ``Genotype(down=[...], down_concat=..., up=[...], up_concat=...)``.
- :class:`VnasGenotype` (``"vnas"``): the conv (2D, 3D or pseudo-3D) of every encoder
  block and decoder cell.
- :class:`DintsGenotype` (``"dints"``): the codes MONAI's ``TopologySearch.decode``
  returns: node activations, path activations and each path's cell op.

All are frozen, hashable and have a canonical JSON form, like the classification genotypes.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from nasbench.errors import SpaceError
from nasbench.spaces.genotype import (
    Pair,
    _as_ints,
    _as_pairs,
    _canonical_json,
    _check_cell,
    _check_int,
    _check_keys,
    _check_kind,
    _check_op,
    _concat_text,
    register_genotype_kind,
)

UNET_CELL_TYPES = ("down", "up")


def edge_role(cell_type: str, inp: int) -> str:
    """What an edge of a NAS-Unet cell does: ``"down"``, ``"up"`` or ``"normal"``.

    Args:
        cell_type: ``"down"`` (DownSC) or ``"up"`` (UpSC).
        inp: the edge's input state (0, 1: the cell inputs; 2..: nodes).

    Returns:
        ``"down"`` for DownSC edges from either input, ``"up"`` for UpSC edges from
        input 1, ``"normal"`` for every other edge.

    Example:
        >>> edge_role("down", 1), edge_role("up", 0), edge_role("up", 1)
        ('down', 'normal', 'up')
    """
    if cell_type not in UNET_CELL_TYPES:
        raise SpaceError(f"cell_type must be 'down' or 'up', got {cell_type!r}.")
    if cell_type == "down":
        return "down" if inp < 2 else "normal"
    return "up" if inp == 1 else "normal"


@register_genotype_kind
@dataclass(frozen=True)
class NasUnetGenotype:
    """A NAS-Unet DownSC + UpSC cell pair.

    Input 0 of a DownSC cell is the output of the cell before the previous one, input 1
    that of the previous cell; both edges from the inputs down-sample. Input 0 of an
    UpSC cell is the encoder feature at the cell's output resolution (the horizontal
    skip), input 1 the previous cell's output, which its edges up-sample.

    Args:
        down: (op, input) pairs of the DownSC cell, ``inputs_per_node`` per node.
        down_concat: the nodes concatenated into the DownSC output.
        up: as ``down``, for the UpSC cell.
        up_concat: as ``down_concat``.
        inputs_per_node: pairs per intermediate node.

    Example:
        >>> g = NasUnetGenotype(down=[("down_conv", 0), ("max_pool", 1)], down_concat=[2],
        ...                     up=[("conv", 0), ("up_conv", 1)], up_concat=[2])
        >>> g.n_nodes, sorted(g.ops())
        (1, ['conv', 'down_conv', 'max_pool', 'up_conv'])
    """

    down: tuple[Pair, ...]
    down_concat: tuple[int, ...]
    up: tuple[Pair, ...]
    up_concat: tuple[int, ...]
    inputs_per_node: int = 2
    kind: ClassVar[str] = "nasunet"
    CELL_TYPES: ClassVar[tuple[str, ...]] = UNET_CELL_TYPES

    def __post_init__(self) -> None:
        ipn = _check_int(self.inputs_per_node, "inputs_per_node", minimum=1)
        for cell_type in self.CELL_TYPES:
            pairs = _as_pairs(getattr(self, cell_type), cell_type)
            concat = _as_ints(getattr(self, f"{cell_type}_concat"), f"{cell_type}_concat")
            _check_cell(cell_type, pairs, concat, ipn)
            object.__setattr__(self, cell_type, pairs)
            object.__setattr__(self, f"{cell_type}_concat", concat)
        if len(self.down) != len(self.up):
            raise SpaceError(
                f"the down cell has {len(self.down) // ipn} nodes and the up cell "
                f"{len(self.up) // ipn}; NAS-Unet cells have the same number of nodes."
            )

    @property
    def n_nodes(self) -> int:
        """Intermediate nodes per cell."""
        return len(self.down) // self.inputs_per_node

    def cell(self, cell_type: str) -> tuple[tuple[Pair, ...], tuple[int, ...]]:
        """The (pairs, concat) of ``"down"`` or ``"up"``."""
        if cell_type not in self.CELL_TYPES:
            raise SpaceError(f"cell_type must be 'down' or 'up', got {cell_type!r}.")
        return getattr(self, cell_type), getattr(self, f"{cell_type}_concat")

    def nodes(self, cell_type: str) -> tuple[tuple[Pair, ...], ...]:
        """One cell's pairs grouped per intermediate node."""
        pairs, _ = self.cell(cell_type)
        k = self.inputs_per_node
        return tuple(pairs[i : i + k] for i in range(0, len(pairs), k))

    def ops(self) -> frozenset[str]:
        """The op names used in either cell."""
        return frozenset(self.edge_ops())

    def edge_ops(self) -> tuple[str, ...]:
        """Every edge's op, DownSC first, repeats kept."""
        return tuple(op for op, _ in self.down + self.up)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (with ``"kind": "nasunet"``)."""
        return {
            "kind": self.kind,
            "down": [list(p) for p in self.down],
            "down_concat": list(self.down_concat),
            "up": [list(p) for p in self.up],
            "up_concat": list(self.up_concat),
            "inputs_per_node": self.inputs_per_node,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> NasUnetGenotype:
        """Build from :meth:`to_dict` output."""
        _check_kind(d, cls.kind)
        keys = ("kind", "down", "down_concat", "up", "up_concat", "inputs_per_node")
        _check_keys(d, keys, "nasunet genotype")
        missing = [k for k in keys[1:5] if k not in d]
        if missing:
            raise SpaceError(f"a nasunet genotype needs {', '.join(missing)}; it is missing.")
        return cls(
            d["down"], d["down_concat"], d["up"], d["up_concat"], d.get("inputs_per_node", 2)
        )

    def to_json(self) -> str:
        """The canonical JSON text."""
        return _canonical_json(self.to_dict())

    def to_darts_text(self) -> str:
        """The NAS-Unet code's notation; :func:`~nasbench.spaces.parse_genotype` reads it.

        Example:
            >>> from nasbench.spaces import parse_genotype
            >>> parse_genotype(g.to_darts_text()) == g  # doctest: +SKIP
            True
        """
        parts = []
        for cell_type in self.CELL_TYPES:
            pairs, concat = self.cell(cell_type)
            parts.append(f"{cell_type}=[{', '.join(repr(p) for p in pairs)}]")
            parts.append(f"{cell_type}_concat={_concat_text(concat)}")
        if self.inputs_per_node != 2:
            parts.append(f"inputs_per_node={self.inputs_per_node}")
        return f"Genotype({', '.join(parts)})"


def _ops_tuple(values: Any, where: str) -> tuple[str, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise SpaceError(f"{where} must be a list of op names, got {values!r}.")
    out = tuple(_check_op(v, f"{where}[{k}]") for k, v in enumerate(values))
    if not out:
        raise SpaceError(f"{where} needs at least one op.")
    return out


@register_genotype_kind
@dataclass(frozen=True)
class VnasGenotype:
    """The V-NAS choice of convolution for every encoder block and decoder cell.

    Args:
        encoder: one op per encoder block, top resolution first.
        decoder: one op per decoder cell, deepest first.

    Example:
        >>> g = VnasGenotype(encoder=["vnas_3d_3x3", "vnas_p3d_3x3"], decoder=["vnas_2d_3x3"])
        >>> g.edge_ops()
        ('vnas_3d_3x3', 'vnas_p3d_3x3', 'vnas_2d_3x3')
    """

    encoder: tuple[str, ...]
    decoder: tuple[str, ...]
    kind: ClassVar[str] = "vnas"
    CELL_TYPES: ClassVar[tuple[str, ...]] = ("encoder", "decoder")

    def __post_init__(self) -> None:
        object.__setattr__(self, "encoder", _ops_tuple(self.encoder, "encoder"))
        object.__setattr__(self, "decoder", _ops_tuple(self.decoder, "decoder"))

    def ops(self) -> frozenset[str]:
        """The op names used."""
        return frozenset(self.edge_ops())

    def edge_ops(self) -> tuple[str, ...]:
        """Every block's op, encoder first."""
        return self.encoder + self.decoder

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (with ``"kind": "vnas"``)."""
        return {"kind": self.kind, "encoder": list(self.encoder), "decoder": list(self.decoder)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> VnasGenotype:
        """Build from :meth:`to_dict` output."""
        _check_kind(d, cls.kind)
        _check_keys(d, ("kind", "encoder", "decoder"), "vnas genotype")
        if "encoder" not in d or "decoder" not in d:
            raise SpaceError("a vnas genotype needs 'encoder' and 'decoder' op lists.")
        return cls(d["encoder"], d["decoder"])

    def to_json(self) -> str:
        """The canonical JSON text."""
        return _canonical_json(self.to_dict())


def _int_matrix(values: Any, where: str, high: int | None = None) -> tuple[tuple[int, ...], ...]:
    def row_of(row: Any) -> tuple[int, ...]:
        if isinstance(row, (str, bytes, Mapping)) or not isinstance(row, Iterable):
            raise SpaceError(f"{where} must be a matrix (list of lists) of integers.")
        # Codes are indices: 1.9, "1" or true are typos, not 1 (numpy integers are fine).
        for v in row:
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise SpaceError(f"{where} holds {v!r}; its entries must be integers.")
        return tuple(int(v) for v in row)

    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise SpaceError(f"{where} must be a matrix (list of lists) of integers.")
    rows = tuple(row_of(row) for row in values)
    if not rows or len({len(r) for r in rows}) != 1 or not rows[0]:
        raise SpaceError(f"{where} must be a non-empty rectangular matrix.")
    if any(v < 0 or (high is not None and v >= high) for r in rows for v in r):
        bound = f"0..{high - 1}" if high is not None else ">= 0"
        raise SpaceError(f"{where} holds a value outside {bound}.")
    return rows


@register_genotype_kind
@dataclass(frozen=True)
class DintsGenotype:
    """A DiNTS architecture: MONAI's decoded ``node_a``, ``arch_code_a``, ``arch_code_c``.

    Args:
        node_a: ``(num_blocks + 1, num_depths)`` 0/1: which feature nodes are active
            (row 0: the multi-resolution inputs).
        arch_code_a: ``(num_blocks, 3 * num_depths - 2)`` 0/1: which paths are active.
        arch_code_c: ``(num_blocks, paths)``: the cell op index of each path.
        op_names: the cell op names (MONAI's ``Cell.OPS3D`` keys, in order).
        use_downsample: the stem halves the input first (MONAI's ``use_downsample``), so
            the codes' levels are 1/2 .. 1/2**depth.

    Example:
        >>> g = DintsGenotype([[1, 1], [1, 0]], [[1, 0, 0, 0]], [[1, 0, 0, 0]],
        ...                   ("skip_connect", "conv_3x3x3"))
        >>> g.num_blocks, g.num_depths, g.edge_ops()
        (1, 2, ('conv_3x3x3',))
    """

    node_a: tuple[tuple[int, ...], ...]
    arch_code_a: tuple[tuple[int, ...], ...]
    arch_code_c: tuple[tuple[int, ...], ...]
    op_names: tuple[str, ...]
    use_downsample: bool = True
    kind: ClassVar[str] = "dints"

    def __post_init__(self) -> None:
        ops = _ops_tuple(self.op_names, "op_names")
        node_a = _int_matrix(self.node_a, "node_a", 2)
        code_a = _int_matrix(self.arch_code_a, "arch_code_a", 2)
        code_c = _int_matrix(self.arch_code_c, "arch_code_c", len(ops))
        blocks, depths = len(code_a), len(node_a[0])
        if len(code_a[0]) != 3 * depths - 2:
            raise SpaceError(
                f"arch_code_a has {len(code_a[0])} paths per block; {depths} depths give "
                f"{3 * depths - 2}."
            )
        if len(node_a) != blocks + 1:
            raise SpaceError(f"node_a needs {blocks + 1} rows (blocks + 1), got {len(node_a)}.")
        if (len(code_c), len(code_c[0])) != (blocks, len(code_a[0])):
            raise SpaceError("arch_code_c must have the shape of arch_code_a.")
        if not isinstance(self.use_downsample, bool):
            raise SpaceError(f"use_downsample must be true or false, got {self.use_downsample!r}.")
        for name, value in (("op_names", ops), ("node_a", node_a)):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "arch_code_a", code_a)
        object.__setattr__(self, "arch_code_c", code_c)

    @property
    def num_blocks(self) -> int:
        """Blocks (columns of the topology)."""
        return len(self.arch_code_a)

    @property
    def num_depths(self) -> int:
        """Resolution levels."""
        return len(self.node_a[0])

    def active_paths(self) -> list[tuple[int, int, str]]:
        """``(block, path, op)`` of every active path."""
        return [
            (b, p, self.op_names[self.arch_code_c[b][p]])
            for b, row in enumerate(self.arch_code_a)
            for p, on in enumerate(row)
            if on
        ]

    def ops(self) -> frozenset[str]:
        """The cell ops used on active paths."""
        return frozenset(self.edge_ops())

    def edge_ops(self) -> tuple[str, ...]:
        """The cell op of every active path, block by block."""
        return tuple(op for _, _, op in self.active_paths())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (with ``"kind": "dints"``)."""
        return {
            "kind": self.kind,
            "node_a": [list(r) for r in self.node_a],
            "arch_code_a": [list(r) for r in self.arch_code_a],
            "arch_code_c": [list(r) for r in self.arch_code_c],
            "op_names": list(self.op_names),
            "use_downsample": self.use_downsample,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DintsGenotype:
        """Build from :meth:`to_dict` output."""
        _check_kind(d, cls.kind)
        keys = ("kind", "node_a", "arch_code_a", "arch_code_c", "op_names", "use_downsample")
        _check_keys(d, keys, "dints genotype")
        missing = [k for k in keys[1:5] if k not in d]
        if missing:
            raise SpaceError(f"a dints genotype needs {', '.join(missing)}; it is missing.")
        return cls(
            d["node_a"],
            d["arch_code_a"],
            d["arch_code_c"],
            d["op_names"],
            d.get("use_downsample", True),
        )

    def to_json(self) -> str:
        """The canonical JSON text."""
        return _canonical_json(self.to_dict())
