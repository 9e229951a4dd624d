"""Genotypes: the discrete architectures a search space describes.

A genotype is a frozen, hashable value with a canonical JSON form (sorted keys,
compact separators, a ``"kind"`` field), so it can key a dict, sit in a set, be
stored in the run store and compared across runs. Three kinds exist:

- :class:`Genotype` (``"darts"``): a DARTS/NASNet normal + reduction cell pair.
  Each intermediate node takes ``inputs_per_node`` (op, input) pairs; input 0
  is c_{k-2}, input 1 is c_{k-1} and input ``i + 2`` is intermediate node ``i``.
- :class:`NB201Genotype` (``"nb201"``): a NAS-Bench-201 cell where node ``j``
  takes every earlier node through one op.
- :class:`ChainGenotype` (``"chain"``): a plain stack of layers (NAS-RL, MetaQNN).

:func:`parse_genotype` reads canonical JSON, the DARTS ``Genotype(...)``
notation that papers and repositories print, and NAS-Bench-201 strings.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from nasbench.errors import SpaceError
from nasbench.options import plain_numbers
from nasbench.spaces.base import MAX_NODES

Pair = tuple[str, int]

CELL_TYPES = ("normal", "reduce")
LAYER_FIELDS = ("layer_type", "kernel_h", "kernel_w", "stride", "filters")

# Op names are identifiers: they become dict keys, graph labels and file names.
_OP_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def _check_op(op: Any, where: str) -> str:
    if not isinstance(op, str) or not _OP_NAME.match(op):
        raise SpaceError(
            f"{where}: op {op!r} is not an op name; use a name such as 'sep_conv_3x3'."
        )
    return op


def _check_int(value: Any, where: str, minimum: int = 0) -> int:
    # bool is an int subclass; True as an input index is always a typo.
    value = plain_numbers(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SpaceError(f"{where} must be an integer >= {minimum}, got {value!r}.")
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _as_pairs(pairs: Any, where: str) -> tuple[Pair, ...]:
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Iterable):
        raise SpaceError(f"{where} must be a list of (op, input) pairs, got {pairs!r}.")
    out = []
    for k, pair in enumerate(pairs):
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Iterable):
            raise SpaceError(f"{where}[{k}] must be an (op, input) pair, got {pair!r}.")
        pair = tuple(pair)
        if len(pair) == 3 and _is_number(pair[2]):
            # GDAS's first release prints (op, input, weight); the weight is not architecture.
            pair = pair[:2]
        if len(pair) != 2:
            raise SpaceError(f"{where}[{k}] must be an (op, input) pair, got {pair!r}.")
        op = _check_op(pair[0], f"{where}[{k}]")
        out.append((op, _check_int(pair[1], f"{where}[{k}] input index")))
    return tuple(out)


def inputs_in_order(pairs: Sequence[Pair], inputs_per_node: int) -> tuple[Pair, ...]:
    """A cell's (op, input) pairs with each node's inputs in ascending order.

    A node sums its inputs' results, so their order does not make another cell; this is
    the order a space samples and lists them in, and what its canonical key uses.

    Args:
        pairs: the cell's pairs, ``inputs_per_node`` per node, in node order.
        inputs_per_node: pairs per node.

    Returns:
        The same pairs, each node's sorted by input index.

    Example:
        >>> inputs_in_order([("sep_conv_3x3", 1), ("skip_connect", 0)], 2)
        (('skip_connect', 0), ('sep_conv_3x3', 1))
    """
    out: list[Pair] = []
    for start in range(0, len(pairs), inputs_per_node):
        out += sorted(pairs[start : start + inputs_per_node], key=lambda pair: pair[1])
    return tuple(out)


def _as_ints(values: Any, where: str) -> tuple[int, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise SpaceError(f"{where} must be a list of node indices, got {values!r}.")
    return tuple(_check_int(v, f"{where} entry") for v in values)


def _check_keys(d: Mapping[str, Any], allowed: Iterable[str], what: str) -> None:
    from nasbench.errors import closest_name

    if not isinstance(d, Mapping):
        raise SpaceError(f"a {what} must be a dict, got {type(d).__name__}.")
    allowed = tuple(allowed)
    for key in d:
        if key not in allowed:
            hint = closest_name(str(key), allowed)
            raise SpaceError(
                f"unknown key {key!r} in a {what}; expected {', '.join(allowed)}.{hint}"
            )


def _canonical_json(d: dict[str, Any]) -> str:
    return json.dumps(d, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Genotype:
    """A DARTS/NASNet cell pair: one normal cell and one reduction cell.

    Lists and ranges are accepted and stored as tuples, so a genotype printed
    by the DARTS code pastes in unchanged.

    Args:
        normal: (op, input) pairs, ``inputs_per_node`` per intermediate node, in node order.
        normal_concat: the nodes concatenated into the normal cell's output.
        reduce: as ``normal``, for the reduction cell.
        reduce_concat: as ``normal_concat``, for the reduction cell.
        inputs_per_node: how many (op, input) pairs each intermediate node has.

    Example:
        >>> g = Genotype(normal=[("sep_conv_3x3", 0), ("skip_connect", 1)], normal_concat=[2],
        ...              reduce=[("max_pool_3x3", 0), ("max_pool_3x3", 1)], reduce_concat=[2])
        >>> g.n_nodes
        1
    """

    normal: tuple[Pair, ...]
    normal_concat: tuple[int, ...]
    reduce: tuple[Pair, ...]
    reduce_concat: tuple[int, ...]
    inputs_per_node: int = 2
    kind: ClassVar[str] = "darts"

    def __post_init__(self) -> None:
        ipn = _check_int(self.inputs_per_node, "inputs_per_node", minimum=1)
        for cell_type in CELL_TYPES:
            pairs = _as_pairs(getattr(self, cell_type), f"{cell_type}")
            concat = _as_ints(getattr(self, f"{cell_type}_concat"), f"{cell_type}_concat")
            _check_cell(cell_type, pairs, concat, ipn)
            # Frozen dataclass: normalising the stored form needs object.__setattr__.
            object.__setattr__(self, cell_type, pairs)
            object.__setattr__(self, f"{cell_type}_concat", concat)

    @property
    def n_nodes(self) -> int:
        """Number of intermediate nodes of the normal cell."""
        return len(self.normal) // self.inputs_per_node

    def cell(self, cell_type: str) -> tuple[tuple[Pair, ...], tuple[int, ...]]:
        """Return the (pairs, concat) of one cell.

        Args:
            cell_type: "normal" or "reduce".

        Returns:
            The cell's (op, input) pairs and its concat indices.

        Example:
            >>> g = zoo["DARTS_V2"]
            >>> pairs, concat = g.cell("reduce")
            >>> len(pairs), concat
            (8, (2, 3, 4, 5))
        """
        if cell_type not in CELL_TYPES:
            raise SpaceError(f"cell_type must be 'normal' or 'reduce', got {cell_type!r}.")
        return getattr(self, cell_type), getattr(self, f"{cell_type}_concat")

    def nodes(self, cell_type: str) -> tuple[tuple[Pair, ...], ...]:
        """Return one cell's pairs grouped per intermediate node.

        Args:
            cell_type: "normal" or "reduce".

        Returns:
            One tuple of ``inputs_per_node`` pairs per intermediate node.

        Example:
            >>> g = zoo["DARTS_V2"]
            >>> g.nodes("normal")[0]
            (('sep_conv_3x3', 0), ('sep_conv_3x3', 1))
        """
        pairs, _ = self.cell(cell_type)
        k = self.inputs_per_node
        return tuple(pairs[i : i + k] for i in range(0, len(pairs), k))

    def ops(self) -> frozenset[str]:
        """Return the set of op names used in either cell."""
        return frozenset(op for op, _ in self.normal + self.reduce)

    def edge_ops(self) -> tuple[str, ...]:
        """Return every edge's op, normal cell first, repeats kept."""
        return tuple(op for op, _ in self.normal + self.reduce)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (with ``"kind": "darts"``)."""
        return {
            "kind": self.kind,
            "normal": [list(p) for p in self.normal],
            "normal_concat": list(self.normal_concat),
            "reduce": [list(p) for p in self.reduce],
            "reduce_concat": list(self.reduce_concat),
            "inputs_per_node": self.inputs_per_node,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Genotype:
        """Build a genotype from :meth:`to_dict` output.

        Args:
            d: a dict with normal, normal_concat, reduce, reduce_concat
                (and optionally kind, inputs_per_node).

        Returns:
            The genotype.

        Example:
            >>> g = zoo["DARTS_V2"]
            >>> Genotype.from_dict(g.to_dict()) == g
            True
        """
        _check_kind(d, cls.kind)
        _check_keys(
            d,
            ("kind", "normal", "normal_concat", "reduce", "reduce_concat", "inputs_per_node"),
            "darts genotype",
        )
        missing = [k for k in ("normal", "normal_concat", "reduce", "reduce_concat") if k not in d]
        if missing:
            raise SpaceError(f"a darts genotype needs {', '.join(missing)}; it is missing.")
        return cls(
            normal=d["normal"],
            normal_concat=d["normal_concat"],
            reduce=d["reduce"],
            reduce_concat=d["reduce_concat"],
            inputs_per_node=d.get("inputs_per_node", 2),
        )

    def to_json(self) -> str:
        """Return the canonical JSON text (sorted keys, compact)."""
        return _canonical_json(self.to_dict())

    def to_darts_text(self) -> str:
        """Return the genotype in the DARTS code's notation.

        Returns:
            ``"Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=range(2, 6), ...)"``;
            :func:`parse_genotype` reads it back to an equal genotype.

        Example:
            >>> g = zoo["DARTS_V2"]
            >>> parse_genotype(g.to_darts_text()) == g
            True
        """
        parts = []
        for cell_type in CELL_TYPES:
            pairs, concat = self.cell(cell_type)
            parts.append(f"{cell_type}=[{', '.join(repr(p) for p in pairs)}]")
            parts.append(f"{cell_type}_concat={_concat_text(concat)}")
        if self.inputs_per_node != 2:
            parts.append(f"inputs_per_node={self.inputs_per_node}")
        return f"Genotype({', '.join(parts)})"


def _concat_text(concat: tuple[int, ...]) -> str:
    lo = concat[0]
    if concat == tuple(range(lo, lo + len(concat))):
        return f"range({lo}, {lo + len(concat)})"
    return f"[{', '.join(str(c) for c in concat)}]"


def check_node_count(what: str, n_nodes: int, counted: str) -> None:
    """Raise a one-line SpaceError when a genotype has more nodes than a space may search.

    Args:
        what: the cell, for the message, e.g. ``"the normal cell"``.
        n_nodes: its nodes, counted as the space that searches it counts them.
        counted: what ``n_nodes`` counts, for the message.

    Returns:
        None.

    Example:
        >>> check_node_count("the normal cell", 4, "intermediate nodes")
    """
    if n_nodes > MAX_NODES:
        raise SpaceError(
            f"{what} has {n_nodes:,} {counted}; a genotype has at most {MAX_NODES} (no space "
            "searches more, and its edges and network grow with their square)."
        )


def _check_kind(d: Mapping[str, Any], kind: str) -> None:
    if not isinstance(d, Mapping):
        raise SpaceError(f"a {kind} genotype must be a dict, got {type(d).__name__}.")
    if d.get("kind", kind) != kind:
        raise SpaceError(f"expected a genotype of kind {kind!r}, got kind {d['kind']!r}.")


def _check_cell(cell_type: str, pairs: tuple[Pair, ...], concat: tuple[int, ...], ipn: int) -> None:
    """Check the wiring of one cell: node count, inputs, concat, no dead nodes."""
    if not pairs or len(pairs) % ipn:
        raise SpaceError(
            f"the {cell_type} cell has {len(pairs)} (op, input) pairs; each intermediate node "
            f"needs exactly {ipn}, so the count must be a positive multiple of {ipn}."
        )
    n_nodes = len(pairs) // ipn
    # A handed cell of 2000 nodes would build for a minute before any error: hold it to
    # what a space may search.
    check_node_count(f"the {cell_type} cell", n_nodes, "intermediate nodes")
    used: set[int] = set()
    for k, (op, idx) in enumerate(pairs):
        node = k // ipn + 2
        if node <= idx < n_nodes + 2:
            raise SpaceError(
                f"{cell_type} cell: node {node} takes input {idx} ({op}), which is itself or a "
                f"later node, making a cycle; a node may only take inputs 0..{node - 1}."
            )
        if idx >= n_nodes + 2:
            raise SpaceError(
                f"{cell_type} cell: node {node} takes input {idx} ({op}), but the cell only has "
                f"nodes 0..{n_nodes + 1}; use an earlier node."
            )
        used.add(idx)
    if not concat:
        raise SpaceError(f"{cell_type}_concat is empty; list the nodes that form the output.")
    if len(set(concat)) != len(concat):
        raise SpaceError(f"{cell_type}_concat {list(concat)} repeats a node; list each once.")
    for c in concat:
        if not 2 <= c < n_nodes + 2:
            raise SpaceError(
                f"{cell_type}_concat has node {c}, but the intermediate nodes are "
                f"2..{n_nodes + 1}; use only those."
            )
    dead = [n for n in range(2, n_nodes + 2) if n not in used and n not in concat]
    if dead:
        raise SpaceError(
            f"{cell_type} cell: node {dead[0]} is dangling (no later node uses it and it is not "
            f"in {cell_type}_concat); add it to {cell_type}_concat or wire it in."
        )


@dataclass(frozen=True)
class NB201Genotype:
    """A NAS-Bench-201 cell: node ``j`` sums one op applied to each node ``i < j``.

    Args:
        nodes: for node j = 1..n, the pairs ((op, 0), (op, 1), ..., (op, j - 1)).

    Example:
        >>> g = NB201Genotype.from_string(
        ...     "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|"
        ...     "+|skip_connect~0|none~1|skip_connect~2|"
        ... )
        >>> g.op(3, 0)
        'skip_connect'
    """

    nodes: tuple[tuple[Pair, ...], ...]
    kind: ClassVar[str] = "nb201"

    def __post_init__(self) -> None:
        if isinstance(self.nodes, (str, bytes)) or not isinstance(self.nodes, Iterable):
            raise SpaceError(f"nodes must be a list of per-node pair lists, got {self.nodes!r}.")
        nodes = tuple(self.nodes)
        check_node_count("the NB201 cell", len(nodes) + 1, "nodes (the input node included)")
        nodes = tuple(_as_pairs(n, f"node {j + 1}") for j, n in enumerate(nodes))
        if not nodes:
            raise SpaceError("an NB201 genotype needs at least one node after the input.")
        for j, pairs in enumerate(nodes, start=1):
            inputs = sorted(i for _, i in pairs)
            if inputs != list(range(j)):
                raise SpaceError(
                    f"NB201 node {j} has inputs {inputs}; give it one edge from every earlier "
                    f"node 0..{j - 1}, each once (a larger index would be a cycle)."
                )
        # Store edges in input order so that equal cells compare and hash equal.
        nodes = tuple(tuple(sorted(pairs, key=lambda p: p[1])) for pairs in nodes)
        object.__setattr__(self, "nodes", nodes)

    @property
    def n_nodes(self) -> int:
        """Number of nodes including the input node 0."""
        return len(self.nodes) + 1

    def op(self, j: int, i: int) -> str:
        """Return the op on edge i -> j."""
        return self.nodes[j - 1][i][0]

    def edges(self) -> tuple[tuple[int, int, str], ...]:
        """Return (i, j, op) for every edge, in node order."""
        return tuple((i, j, op) for j, ps in enumerate(self.nodes, start=1) for op, i in ps)

    def ops(self) -> frozenset[str]:
        """Return the set of op names used."""
        return frozenset(op for _, _, op in self.edges())

    def to_string(self) -> str:
        """Return the NAS-Bench-201 string ``|op~0|+|op~0|op~1|+|...|``."""
        return "+".join("|" + "|".join(f"{op}~{i}" for op, i in ps) + "|" for ps in self.nodes)

    @classmethod
    def from_string(cls, text: str) -> NB201Genotype:
        """Parse a NAS-Bench-201 string.

        Args:
            text: e.g. ``"|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|...|"``.

        Returns:
            The genotype.

        Example:
            >>> g = NB201Genotype.from_string(
            ...     "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|avg_pool_3x3~2|"
            ... )
            >>> NB201Genotype.from_string(g.to_string()) == g
            True
        """
        if not isinstance(text, str):
            raise SpaceError(
                f"an NB201 arch must be a '|op~0|+|op~0|op~1|' string, got {text!r}; give "
                "that text, or the cell as 'nodes'."
            )
        text = text.strip()
        nodes = []
        for j, part in enumerate(text.split("+"), start=1):
            if not (part.startswith("|") and part.endswith("|") and len(part) > 2):
                raise SpaceError(
                    f"NB201 text: node {j} is {part!r}; write each node as |op~input|op~input|."
                )
            pairs = []
            for item in part[1:-1].split("|"):
                op, sep, idx = item.partition("~")
                if not sep or not (idx.isascii() and idx.isdigit()):  # not "²" or "٣"
                    raise SpaceError(
                        f"NB201 text: edge {item!r} of node {j} is not 'op~input'; write each "
                        "edge as op~input, e.g. nor_conv_3x3~0."
                    )
                pairs.append((op, int(idx)))
            nodes.append(pairs)
        _check_nb201_ops(op for pairs in nodes for op, _ in pairs)
        return cls(nodes=nodes)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (with ``"kind": "nb201"``)."""
        return {"kind": self.kind, "nodes": [[list(p) for p in ps] for ps in self.nodes]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> NB201Genotype:
        """Build a genotype from :meth:`to_dict` output (or ``{"arch": "|...|"}``)."""
        _check_kind(d, cls.kind)
        _check_keys(d, ("kind", "nodes", "arch"), "nb201 genotype")
        if "arch" in d:
            return cls.from_string(d["arch"])
        if "nodes" not in d:
            raise SpaceError("an nb201 genotype needs 'nodes' (or an 'arch' string).")
        return cls(nodes=d["nodes"])

    def to_json(self) -> str:
        """Return the canonical JSON text (sorted keys, compact)."""
        return _canonical_json(self.to_dict())


@dataclass(frozen=True)
class ChainLayer:
    """One layer of a chain network.

    Args:
        layer_type: e.g. "conv", "sep_conv", "max_pool", "avg_pool".
        kernel_h: filter height.
        kernel_w: filter width.
        stride: 1 keeps the size, 2 halves it.
        filters: output channels; 0 for pooling layers (they keep the channel count).

    Example:
        >>> ChainLayer("conv", 3, 3, 1, 36)
        ChainLayer(layer_type='conv', kernel_h=3, kernel_w=3, stride=1, filters=36)
    """

    layer_type: str
    kernel_h: int
    kernel_w: int
    stride: int
    filters: int

    def __post_init__(self) -> None:
        _check_op(self.layer_type, "chain layer")
        _check_int(self.kernel_h, "kernel_h", minimum=1)
        _check_int(self.kernel_w, "kernel_w", minimum=1)
        _check_int(self.stride, "stride", minimum=1)
        _check_int(self.filters, "filters", minimum=0)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {f: getattr(self, f) for f in LAYER_FIELDS}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ChainLayer:
        """Build a layer from :meth:`to_dict` output."""
        _check_keys(d, LAYER_FIELDS, "chain layer")
        missing = [f for f in LAYER_FIELDS if f not in d]
        if missing:
            raise SpaceError(f"a chain layer needs {', '.join(missing)}; it is missing.")
        return cls(**{f: d[f] for f in LAYER_FIELDS})


@dataclass(frozen=True)
class ChainGenotype:
    """A chain network: layers applied one after another.

    Args:
        layers: the layers, input side first (at least one).

    Example:
        >>> ChainGenotype([ChainLayer("conv", 3, 3, 1, 36)]).depth
        1
    """

    layers: tuple[ChainLayer, ...] = field(default=())
    kind: ClassVar[str] = "chain"

    def __post_init__(self) -> None:
        if isinstance(self.layers, (str, bytes)) or not isinstance(self.layers, Iterable):
            raise SpaceError(f"layers must be a list of ChainLayer, got {self.layers!r}.")
        layers = tuple(self.layers)
        if not layers:
            raise SpaceError("a chain genotype needs at least one layer.")
        for k, layer in enumerate(layers):
            if not isinstance(layer, ChainLayer):
                raise SpaceError(f"layer {k} is a {type(layer).__name__}, not a ChainLayer.")
        object.__setattr__(self, "layers", layers)

    @property
    def depth(self) -> int:
        """Number of layers."""
        return len(self.layers)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (with ``"kind": "chain"``)."""
        return {"kind": self.kind, "layers": [layer.to_dict() for layer in self.layers]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ChainGenotype:
        """Build a genotype from :meth:`to_dict` output."""
        _check_kind(d, cls.kind)
        _check_keys(d, ("kind", "layers"), "chain genotype")
        layers = d.get("layers")
        if not isinstance(layers, list):
            raise SpaceError("a chain genotype needs 'layers': a list of layer dicts.")
        return cls(layers=tuple(ChainLayer.from_dict(x) for x in layers))

    def to_json(self) -> str:
        """Return the canonical JSON text (sorted keys, compact)."""
        return _canonical_json(self.to_dict())


AnyGenotype = Genotype | NB201Genotype | ChainGenotype
GENOTYPE_KINDS: dict[str, type] = {
    Genotype.kind: Genotype,
    NB201Genotype.kind: NB201Genotype,
    ChainGenotype.kind: ChainGenotype,
}


def register_genotype_kind(cls: type) -> type:
    """Class decorator: make a genotype kind readable by :func:`genotype_from_dict` and
    :func:`parse_genotype` (its ``kind`` class attribute names it).

    Example:
        >>> @register_genotype_kind  # doctest: +SKIP
        ... @dataclass(frozen=True)
        ... class MyGenotype: kind: ClassVar[str] = "mine"
    """
    kind = getattr(cls, "kind", None)
    if not isinstance(kind, str) or not kind:
        raise SpaceError(f"{cls.__name__} needs a 'kind' class attribute to be registered.")
    if kind in GENOTYPE_KINDS and GENOTYPE_KINDS[kind] is not cls:
        raise SpaceError(f"a genotype kind {kind!r} is already registered.")
    GENOTYPE_KINDS[kind] = cls
    return cls


def genotype_from_dict(d: Mapping[str, Any]) -> AnyGenotype:
    """Build any genotype from its dict form, dispatching on ``d["kind"]``.

    Args:
        d: a dict from ``to_dict()`` of any registered genotype kind, or a NAS-Bench-101
            spec ``{"matrix": [[...]], "ops": [...]}`` (no kind: read as ``"nb101"``).

    Returns:
        The genotype of that kind (:class:`Genotype`, :class:`NB201Genotype`, ...).

    Example:
        >>> g = zoo["DARTS_V2"]
        >>> genotype_from_dict(g.to_dict()) == g
        True
    """
    from nasbench.errors import closest_name

    if isinstance(d, Mapping) and "kind" not in d and set(d) == {"matrix", "ops"}:
        # The benchmark's own spec names no kind; nb101 is registered with nasbench.spaces.
        return _within_node_cap(GENOTYPE_KINDS["nb101"].from_dict(d))
    if not isinstance(d, Mapping) or "kind" not in d:
        raise SpaceError(
            f"a genotype dict needs a 'kind' key, one of {', '.join(map(repr, GENOTYPE_KINDS))} "
            "(or be a NAS-Bench-101 spec: exactly 'matrix' and 'ops')."
        )
    kind = d["kind"]
    if not isinstance(kind, str) or kind not in GENOTYPE_KINDS:  # a list is unhashable
        hint = closest_name(kind, list(GENOTYPE_KINDS)) if isinstance(kind, str) else ""
        raise SpaceError(
            f"unknown genotype kind {kind!r}; expected one of {', '.join(GENOTYPE_KINDS)}.{hint}"
        )
    return _within_node_cap(GENOTYPE_KINDS[kind].from_dict(d))


def _within_node_cap(genotype: Any) -> Any:
    """Return ``genotype`` unless a registered kind's vertex count is past :data:`MAX_NODES`.

    The cell kinds here check their nodes as they are built; a kind registered from
    elsewhere (NAS-Bench-101's ``n_vertices``) is checked once it is read.
    """
    vertices = getattr(genotype, "n_vertices", None)
    if isinstance(vertices, int):
        check_node_count(f"the {genotype.kind} cell", vertices, "vertices")
    return genotype


def _check_nb201_ops(ops: Iterable[str]) -> None:
    """NB201 text names registered ops (the benchmark's five, or those of an NB201 space
    with its own op list, which writes its cells in the same text); raise a one-line
    SpaceError naming any other, so a typo is not parsed into a cell. Whether the ops
    belong to a space is the space's ``validate``'s to say."""
    from nasbench.errors import closest_name
    from nasbench.spaces.ops import op_names

    known = op_names()
    for op in ops:
        if op not in known:
            raise SpaceError(
                f"NB201 text: op {op!r} is not a known op; use one of "
                f"{', '.join(op_names('nb201'))} (or a registered op)." + closest_name(op, known)
            )


def parse_genotype(text: str | AnyGenotype) -> AnyGenotype:
    """Read a genotype from text.

    Accepts canonical JSON, the DARTS notation (``Genotype(normal=[...],
    normal_concat=range(2, 6), reduce=[...], reduce_concat=[2, 3, 4, 5])``,
    optionally as ``NAME = Genotype(...)``; concat as ``range`` or a list; as printed
    by the GDAS code: per-node nested pairs, ``connectN=None, connects=None``, and
    (op, input, weight) triples whose weight is dropped), NAS-Bench-201 strings and
    the other registered kinds' JSON and text (a NAS-Bench-101 spec ``{"matrix": ...,
    "ops": [...]}`` needs no kind, and may be given as a dict or as Python prints one),
    and any kind as Python prints it (``NB101Genotype(matrix=(...), ops=(...))``). The
    Python text is read with :mod:`ast`, never evaluated.

    Args:
        text: the text, a genotype (returned unchanged) or a genotype's dict.

    Returns:
        The genotype.

    Example:
        >>> parse_genotype("|nor_conv_3x3~0|+|skip_connect~0|none~1|+|none~0|none~1|none~2|").kind
        'nb201'
    """
    if isinstance(text, tuple(GENOTYPE_KINDS.values())):
        return text
    if isinstance(text, Mapping):
        return genotype_from_dict(text)
    if not isinstance(text, str):
        raise SpaceError(f"parse_genotype needs text, got {type(text).__name__}.")
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            d = json.loads(stripped)
        except json.JSONDecodeError as err:
            d = _python_dict(stripped)  # a dict as Python prints it: single quotes, tuples
            if d is None:
                raise SpaceError(
                    f"genotype JSON is malformed: {err.msg} at char {err.pos}."
                ) from None
        except RecursionError:
            raise SpaceError("genotype JSON is nested too deeply to be a genotype.") from None
        return genotype_from_dict(d)
    printed = re.match(r"(?:#[^\n]*\n\s*)*(?:\w+\s*=\s*)?(\w+)\s*\(", stripped)
    by_class = {cls.__name__: kind for kind, cls in GENOTYPE_KINDS.items()}
    if printed and printed.group(1) != "Genotype" and printed.group(1) in by_class:
        return _parse_printed(stripped, by_class[printed.group(1)])
    for cls in GENOTYPE_KINDS.values():
        # A kind with its own text notation names the prefix that marks it.
        prefix = getattr(cls, "TEXT_PREFIX", "")
        if prefix and stripped.startswith(prefix):
            return _within_node_cap(cls.from_string(stripped))
    if stripped.startswith("|"):
        return NB201Genotype.from_string(stripped)
    if "Genotype(" in stripped:
        # NAS-Unet prints its cells in the same notation with down/up for normal/reduce.
        unet = GENOTYPE_KINDS.get("nasunet")
        if unet is not None and re.search(r"\bdown\s*=", stripped):
            return _parse_darts_text(stripped, unet.CELL_TYPES, unet)
        return _parse_darts_text(stripped)
    raise SpaceError(
        f"cannot read {stripped[:40]!r} as a genotype; give JSON, DARTS "
        "'Genotype(normal=[...], ...)' text or an NB201 '|op~0|+|...|' string."
    )


def _python_dict(text: str) -> dict | None:
    """``text`` read as a Python dict literal (what printing a NAS-Bench-101 spec gives),
    or None when it is not one."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return None
    # Only what JSON can hold: a set's order (or a tuple key) would differ between runs.
    return value if isinstance(value, dict) and _json_like(value) else None


def _json_like(value: Any) -> bool:
    """Whether ``value`` holds only what JSON can (tuples read as lists)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_like(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_json_like(item) for item in value)
    return value is None or isinstance(value, (str, int, float, bool))


def _parse_printed(text: str, kind: str) -> Any:
    """A genotype of ``kind`` as Python prints it (``NB101Genotype(matrix=((0, 1), ...),
    ops=(...))``): its fields read as literals with :mod:`ast`, never evaluated, then built
    as its dict would be (:func:`genotype_from_dict` checks them)."""
    name = GENOTYPE_KINDS[kind].__name__
    try:
        tree = ast.parse(text, mode="exec")
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        raise SpaceError(
            f"{name}(...) text is not valid Python syntax (cut short?); paste all of it, or "
            "the genotype's JSON (genotype.to_json())."
        ) from None
    # One expression, or "NAME = ..." as pasted from a module (comments are no statements).
    stmt = tree.body[0] if len(tree.body) == 1 else None
    call = stmt.value if isinstance(stmt, (ast.Expr, ast.Assign)) else None
    names = [kw.arg for kw in getattr(call, "keywords", ())]
    if (
        not isinstance(call, ast.Call)
        or call.args
        or None in names
        or len(set(names)) != len(names)  # a field given twice: which one was meant?
    ):
        raise SpaceError(
            f"{name}(...) text must be one call of field=value arguments, as Python prints "
            "a genotype; or paste the genotype's JSON (genotype.to_json())."
        )
    try:
        fields = {kw.arg: _printed_value(kw.value) for kw in call.keywords}
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        raise SpaceError(
            f"{name}(...) text holds a value that is not a plain literal; paste the "
            "genotype's JSON (genotype.to_json()) instead."
        ) from None
    return genotype_from_dict({**fields, "kind": kind})


# Parts a genotype prints as calls of their own (a chain's layers): read as their dicts.
_PRINTED_PARTS = ("ChainLayer",)


def _printed_value(node: ast.expr) -> Any:
    """A field's value as Python printed it: a literal, or tuples of them holding printed
    parts (``ChainLayer(layer_type='conv', ...)``), those read as dicts of their fields."""
    if isinstance(node, ast.Call):
        name = getattr(node.func, "id", None)
        if name not in _PRINTED_PARTS or node.args or any(k.arg is None for k in node.keywords):
            raise ValueError(f"not a printed part: {name}")
        return {kw.arg: _printed_value(kw.value) for kw in node.keywords}
    if isinstance(node, (ast.Tuple, ast.List)):
        return [_printed_value(item) for item in node.elts]
    if isinstance(node, (ast.Set, ast.Dict)):  # no genotype prints one; its order is hashing's
        raise ValueError("a set or dict in a printed genotype")
    return ast.literal_eval(node)


_DARTS_FIELDS = ("normal", "normal_concat", "reduce", "reduce_concat")
# The GDAS code's Genotype (D-X-Y/AutoDL-Projects) has two more fields that would wire a
# cell explicitly; every cell it prints sets them to None, which is read as absent.
_NONE_FIELDS = ("connectN", "connects")


def _parse_darts_text(text: str, cell_types: tuple[str, ...] = CELL_TYPES, cls: type = None) -> Any:
    """Read ``Genotype(<cell>=[...], <cell>_concat=..., ...)`` for the given cell names."""
    cls = cls or Genotype
    fields = tuple(f for ct in cell_types for f in (ct, f"{ct}_concat"))
    try:
        tree = ast.parse(text, mode="exec")
    except SyntaxError as err:
        raise SpaceError(
            f"DARTS genotype text is not valid Python syntax: {err.msg}; paste the whole "
            "Genotype(normal=[...], normal_concat=..., reduce=[...], reduce_concat=...) text."
        ) from None
    except (RecursionError, MemoryError, ValueError):  # nested too deeply; a NUL byte
        raise SpaceError(
            "DARTS genotype text is nested too deeply (or holds a NUL byte) to be a genotype."
        ) from None
    if len(tree.body) != 1:
        raise SpaceError("DARTS genotype text must hold exactly one Genotype(...) expression.")
    stmt = tree.body[0]
    if isinstance(stmt, ast.Assign):  # "DARTS_V2 = Genotype(...)" as pasted from a repo
        call = stmt.value
    elif isinstance(stmt, ast.Expr):
        call = stmt.value
    else:
        raise SpaceError("DARTS genotype text must be 'Genotype(...)' or 'NAME = Genotype(...)'.")
    func = getattr(call, "func", None)
    name = getattr(func, "id", None) or getattr(func, "attr", None)
    if not isinstance(call, ast.Call) or name != "Genotype":
        raise SpaceError("DARTS genotype text must be a call to Genotype(...).")
    names = (*fields, *_NONE_FIELDS)
    if len(call.args) > len(names):
        raise SpaceError(f"Genotype(...) takes at most {len(fields)} positional fields.")
    values: dict[str, Any] = dict(
        zip(names[: len(call.args)], map(_literal, call.args), strict=True)
    )
    for kw in call.keywords:
        if kw.arg not in (*names, "inputs_per_node"):
            raise SpaceError(
                f"Genotype(...) has unknown field {kw.arg!r}; expected "
                f"{', '.join(fields)} (and optionally inputs_per_node)."
            )
        values[kw.arg] = _literal(kw.value)
    for extra in _NONE_FIELDS:
        if values.pop(extra, None) is not None:
            raise SpaceError(
                f"Genotype(...) sets {extra}; a cell here is wired by its (op, input) pairs "
                f"alone, so {extra} must be None (as the GDAS code prints it)."
            )
    missing = [f for f in fields if f not in values]
    if missing:
        raise SpaceError(f"Genotype(...) is missing {', '.join(missing)}.")
    ipn = values.get("inputs_per_node")
    for cell_type in cell_types:
        pairs, group = _flatten_nodes(values[cell_type], cell_type)
        values[cell_type] = pairs
        if group is not None:
            if ipn is not None and ipn != group:
                raise SpaceError(f"{cell_type} groups {group} pairs per node, not {ipn}.")
            ipn = group
    if ipn is not None:
        values["inputs_per_node"] = ipn
    return cls(**values)


def _flatten_nodes(pairs: Any, cell_type: str) -> tuple[Any, int | None]:
    """Flatten per-node groups ``((('op', 0), ('op', 1)), ...)`` as the GDAS code prints them."""
    if not isinstance(pairs, (list, tuple)) or not pairs:
        return pairs, None
    if all(isinstance(p, (list, tuple)) and p and isinstance(p[0], (list, tuple)) for p in pairs):
        sizes = {len(p) for p in pairs}
        if len(sizes) != 1:
            raise SpaceError(
                f"{cell_type} nodes have different numbers of inputs: {sorted(sizes)}."
            )
        return [pair for node in pairs for pair in node], sizes.pop()
    return pairs, None


# The longest range(...) a genotype's text may hold: a concat lists a cell's nodes.
MAX_LITERAL_RANGE = 1_000


def _literal(node: ast.AST) -> Any:
    """Evaluate a literal, allowing ``range(a, b)`` with integer constants (no eval)."""
    if isinstance(node, ast.Call):
        if (
            isinstance(node.func, ast.Name)
            and node.func.id == "range"
            and not node.keywords
            and 1 <= len(node.args) <= 3
            and all(isinstance(a, ast.Constant) and type(a.value) is int for a in node.args)
        ):
            bounds = [a.value for a in node.args]
            if len(bounds) == 3 and bounds[2] == 0:
                raise SpaceError("DARTS genotype text: range(...) has a step of 0.")
            if len(range(*bounds)) > MAX_LITERAL_RANGE:  # a typo such as range(2, 10**12)
                raise SpaceError(
                    f"DARTS genotype text: {ast.unparse(node)} has {len(range(*bounds)):,} "
                    f"members; a cell's concat has at most {MAX_LITERAL_RANGE:,}."
                )
            return list(range(*bounds))
        raise SpaceError("DARTS genotype text may only call range(...) with integer constants.")
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise SpaceError(
            "DARTS genotype text holds something that is not a literal list, tuple, "
            "string or integer."
        ) from None
