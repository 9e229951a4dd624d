"""A space as a sequence of decisions, for controllers that emit an architecture step by step.

NAS-RL's controller (Zoph & Le, 2017) and ENAS's emit one choice at a time, each
conditioned on the ones before. :func:`decisions` turns a space into such a
sequence:

- NB201 (``"nb201"``): one op per edge, in edge order;
- DARTS cells (``"darts"``): per cell type and intermediate node, the set of inputs
  (one of the C(i + 2, k) combinations), then one op per input;
- NAS-Bench-101 (``"nb101"``): the op of each interior vertex, then one bit per edge of
  the upper triangle; a bit is masked when no completion could keep the cell within its
  edge limit and connected from input to output, so every sequence is a member;
- chains (``"chain"``): per layer, its type or a stop token (not allowed before
  ``min_depth``), then its fields (kernel height and width, stride and filters for
  convolutions; kernel and stride for pooling), up to ``max_depth`` layers.

Every decision has a key and a number of choices; ``next(prefix)`` names the next
decision (and a mask of the allowed choices) given the choices made so far.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

from nasbench import protocols
from nasbench.errors import ConfigError
from nasbench.protocols import Space
from nasbench.spaces.chain import POOL_TYPES
from nasbench.spaces.genotype import ChainGenotype, ChainLayer, Genotype, NB201Genotype
from nasbench.spaces.nb101 import NB101Genotype

Step = tuple[str, "np.ndarray | None"]


class Decisions(ABC):
    """A space's decision sequence (see the module docstring)."""

    def __init__(self, space: Space) -> None:
        self.space = space

    @abstractmethod
    def sizes(self) -> dict[str, int]:
        """Every decision the space can ask, in a fixed order, with its number of choices."""

    @abstractmethod
    def next(self, prefix: Sequence[int]) -> Step | None:
        """The next decision after ``prefix``: (key, mask of allowed choices or None), or None."""

    @abstractmethod
    def to_decisions(self, genotype: protocols.Genotype) -> list[int]:
        """The choices that produce ``genotype``."""

    @abstractmethod
    def from_decisions(self, choices: Sequence[int]) -> Any:
        """The genotype a complete choice sequence describes."""

    def trace(self, choices: Sequence[int]) -> list[Step]:
        """The decision asked before each choice of a complete sequence."""
        steps = []
        for t in range(len(choices)):
            step = self.next(choices[:t])
            if step is None:
                raise ConfigError(f"decision sequence is too long: {len(choices)} choices.")
            steps.append(step)
        if self.next(choices) is not None:
            raise ConfigError(f"decision sequence is incomplete after {len(choices)} choices.")
        return steps


class _FixedDecisions(Decisions):
    """Spaces whose decision sequence does not depend on earlier choices."""

    def __init__(self, space: Space) -> None:
        super().__init__(space)
        self._sizes = self._build()
        self._keys = list(self._sizes)

    @abstractmethod
    def _build(self) -> dict[str, int]: ...

    def sizes(self) -> dict[str, int]:
        return dict(self._sizes)

    def next(self, prefix: Sequence[int]) -> Step | None:
        t = len(prefix)
        return (self._keys[t], None) if t < len(self._keys) else None


class NB201Decisions(_FixedDecisions):
    """One op per edge of an NB201 cell."""

    def _build(self) -> dict[str, int]:
        return {f"edge {i}->{j}": len(self.space.ops) for i, j in self.space.edges}

    def to_decisions(self, genotype: protocols.Genotype) -> list[int]:
        g = self.space.validate(genotype)
        return [self.space.ops.index(g.op(j, i)) for i, j in self.space.edges]

    def from_decisions(self, choices: Sequence[int]) -> NB201Genotype:
        ops = {
            edge: self.space.ops[int(c)] for edge, c in zip(self.space.edges, choices, strict=True)
        }
        n = self.space.n_nodes
        return NB201Genotype(
            nodes=tuple(tuple((ops[(i, j)], i) for i in range(j)) for j in range(1, n))
        )


class CellDecisions(_FixedDecisions):
    """Per cell type and node: the input combination, then one op per input."""

    def _build(self) -> dict[str, int]:
        s = self.space
        self._combos = [
            list(itertools.combinations(range(i + 2), s.inputs_per_node)) for i in range(s.n_nodes)
        ]
        sizes = {}
        for cell_type in ("normal", "reduce"):
            for i in range(s.n_nodes):
                sizes[f"{cell_type} node {i + 2} inputs"] = len(self._combos[i])
                for k in range(s.inputs_per_node):
                    sizes[f"{cell_type} node {i + 2} op {k}"] = len(s.choices)
        return sizes

    def to_decisions(self, genotype: protocols.Genotype) -> list[int]:
        s = self.space
        g = s.validate(genotype)
        out: list[int] = []
        for cell_type in ("normal", "reduce"):
            for i, pairs in enumerate(g.nodes(cell_type)):
                pairs = sorted(pairs, key=lambda p: p[1])  # input order does not matter
                out.append(self._combos[i].index(tuple(idx for _, idx in pairs)))
                out += [s.choices.index(op) for op, _ in pairs]
        return out

    def from_decisions(self, choices: Sequence[int]) -> Genotype:
        s = self.space
        it = iter(int(c) for c in choices)
        cells = {}
        for cell_type in ("normal", "reduce"):
            pairs = []
            for i in range(s.n_nodes):
                inputs = self._combos[i][next(it)]
                pairs += [(s.choices[next(it)], idx) for idx in inputs]
            cells[cell_type] = pairs
        return s._make(cells["normal"], cells["reduce"])


class ChainDecisions(Decisions):
    """Per layer: type or stop, then the layer's fields; at most ``max_depth`` layers."""

    CONV_FIELDS = ("kernel_h", "kernel_w", "stride", "filters")
    POOL_FIELDS = ("pool_kernel", "stride")

    def __init__(self, space: Space) -> None:
        super().__init__(space)
        s = space
        self.types = tuple(s.layer_types) + ("stop",)
        self.values = {
            "kernel_h": s.kernels,
            "kernel_w": s.kernels,
            "pool_kernel": s.pool_kernels,
            "stride": s.strides,
            "filters": s.filters,
        }

    def sizes(self) -> dict[str, int]:
        out = {}
        for p in range(self.space.max_depth):
            out[f"layer {p} type"] = len(self.types)
            for name, values in self.values.items():
                out[f"layer {p} {name}"] = len(values)
        return out

    def _fields(self, type_index: int) -> tuple[str, ...]:
        pool = self.types[type_index] in POOL_TYPES
        return self.POOL_FIELDS if pool else self.CONV_FIELDS

    def next(self, prefix: Sequence[int]) -> Step | None:
        t, stop = 0, len(self.types) - 1
        for p in range(self.space.max_depth):
            if t == len(prefix):
                mask = np.ones(len(self.types), dtype=bool)
                mask[stop] = p >= self.space.min_depth
                return f"layer {p} type", mask
            kind = int(prefix[t])
            t += 1
            if kind == stop:
                break
            for name in self._fields(kind):
                if t == len(prefix):
                    return f"layer {p} {name}", None
                t += 1
        if t != len(prefix):
            raise ConfigError(f"chain decision sequence has {len(prefix) - t} extra choices.")
        return None

    def to_decisions(self, genotype: protocols.Genotype) -> list[int]:
        g = self.space.validate(genotype)
        out: list[int] = []
        for layer in g.layers:
            kind = self.types.index(layer.layer_type)
            out.append(kind)
            for name in self._fields(kind):
                value = layer.kernel_h if name == "pool_kernel" else getattr(layer, name)
                out.append(self.values[name].index(value))
        if g.depth < self.space.max_depth:
            out.append(len(self.types) - 1)
        return out

    def from_decisions(self, choices: Sequence[int]) -> ChainGenotype:
        layers, t = [], 0
        while t < len(choices) and int(choices[t]) != len(self.types) - 1:
            kind = int(choices[t])
            t += 1
            fields = {}
            for name in self._fields(kind):
                fields[name] = self.values[name][int(choices[t])]
                t += 1
            layer_type = self.types[kind]
            if layer_type in POOL_TYPES:
                k = fields["pool_kernel"]
                layers.append(ChainLayer(layer_type, k, k, fields["stride"], 0))
            else:
                layers.append(
                    ChainLayer(
                        layer_type,
                        fields["kernel_h"],
                        fields["kernel_w"],
                        fields["stride"],
                        fields["filters"],
                    )
                )
        return ChainGenotype(tuple(layers))


class NB101Decisions(Decisions):
    """The op of every interior vertex, then one bit per edge (masked to stay a member)."""

    def __init__(self, space: Space) -> None:
        super().__init__(space)
        self._n_ops = space.n_vertices - 2

    def sizes(self) -> dict[str, int]:
        out = {f"vertex {v} op": len(self.space.ops) for v in range(1, self._n_ops + 1)}
        out.update({f"edge {i}->{j}": 2 for i, j in self.space.edges})
        return out

    def _completable(self, bits: Sequence[int]) -> bool:
        """Whether the edges decided so far (``bits``, a prefix in edge order) can still
        end as a member: at most ``max_edges`` edges, with an input-to-output path."""
        s = self.space
        budget = s.max_edges - sum(bits)
        if budget < 0:
            return False
        # Cheapest path 0 -> n-1: a chosen edge costs 0, an undecided one 1 (it must be added).
        cost: dict[tuple[int, int], int | None] = {}
        for e, edge in enumerate(s.edges):
            cost[edge] = (0 if bits[e] else None) if e < len(bits) else 1
        dist = [0] + [s.max_edges + 1] * (s.n_vertices - 1)
        for j in range(1, s.n_vertices):
            for i in range(j):
                c = cost[(i, j)]
                if c is not None:
                    dist[j] = min(dist[j], dist[i] + c)
        return dist[-1] <= budget

    def next(self, prefix: Sequence[int]) -> Step | None:
        t = len(prefix)
        if t < self._n_ops:
            return f"vertex {t + 1} op", None
        e = t - self._n_ops
        if e >= len(self.space.edges):
            return None
        bits = [int(b) for b in prefix[self._n_ops :]]
        mask = np.array([self._completable(bits + [b]) for b in (0, 1)])
        i, j = self.space.edges[e]
        return f"edge {i}->{j}", mask

    def to_decisions(self, genotype: protocols.Genotype) -> list[int]:
        g = self.space.validate(genotype)
        return [self.space.ops.index(op) for op in g.ops] + [
            g.matrix[i][j] for i, j in self.space.edges
        ]

    def from_decisions(self, choices: Sequence[int]) -> Any:
        ops = [self.space.ops[int(c)] for c in choices[: self._n_ops]]
        n = self.space.n_vertices
        matrix = [[0] * n for _ in range(n)]
        for (i, j), b in zip(self.space.edges, choices[self._n_ops :], strict=True):
            matrix[i][j] = int(b)
        return self.space.validate(NB101Genotype(matrix, ops))


def decisions(space: Space) -> Decisions:
    """Return the decision sequence of ``space``.

    Args:
        space: an NB201, NB101, DARTS-cell or chain space.

    Returns:
        A :class:`Decisions` with ``sizes()``, ``next(prefix)``, ``to_decisions(g)`` and
        ``from_decisions(choices)``.

    Example:
        >>> d = decisions(NB201Space())
        >>> len(d.sizes()), d.from_decisions(d.to_decisions(g)) == g  # doctest: +SKIP
        (6, True)
    """
    from nasbench.spaces import CellSpace, ChainSpace, NB101Space, NB201Space

    if isinstance(space, NB201Space):
        return NB201Decisions(space)
    if isinstance(space, NB101Space):
        return NB101Decisions(space)
    if isinstance(space, CellSpace):
        return CellDecisions(space)
    if isinstance(space, ChainSpace):
        return ChainDecisions(space)
    raise ConfigError(
        f"no decision sequence is defined for the {getattr(space, 'name', space)!r} space; "
        "use an nb201, nb101, darts or chain space."
    )
