"""The NAS-Bench-201 cell space: 4 nodes, every node takes every earlier node.

Six edges with five ops each give 5^6 = 15,625 cells. Many compute the same
function: :meth:`NB201Space.canonical` maps a cell to a key that is equal for
such cells, and gives exactly the 6,466 unique classes that the NAS-Bench-201
paper reports.

The canonical rule (the benchmark's own, ``CellStructure.to_unique_str(
consider_zero=True)`` in the NAS-Bench-201 API): write each node as the sorted
'+' sum of its incoming terms, where a term is

- ``'#'`` (zero) when the op is ``none`` or the source node is exactly ``'#'``;
- the source node's expression unchanged when the op is ``skip_connect``;
- ``'(source)@op'`` otherwise;

the output node's expression is the key. A node whose terms are all zero is
written ``'#+#'``, not ``'#'``, so a zero propagates one edge only; that is what
makes the count 6,466. ``canonical(g, strict=True)`` drops zero terms fully
(a node with no live term is zero), a stricter merge that gives 5,390 classes.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from nasbench.errors import SpaceError
from nasbench.options import plain_numbers
from nasbench.spaces.base import (
    Space,
    check_n_nodes,
    check_op_dims,
    op_outside_error,
    register_space,
    resolve_ops,
)
from nasbench.spaces.genotype import NB201Genotype, parse_genotype
from nasbench.spaces.skeleton import Skeleton

ZERO_OP = "none"
SKIP_OP = "skip_connect"


@register_space("nb201")
class NB201Space(Space):
    """The NAS-Bench-201 space.

    Args:
        ops: an op-set name (default "nb201") or a list of op names.
        n_nodes: nodes including the input node (NAS-Bench-201: 4).
        skeleton: the macro network; None gives the benchmark's
            ``Skeleton(n_cells=17, channels=16)`` (5 cells per stage, reductions at 5 and 11).
            A search or retrain given no ``space.skeleton`` stacks 8 cells at C=16 instead,
            as the DARTS search network does, at half the CPU time per step.

    Example:
        >>> space = NB201Space()
        >>> space.size(), len({space.canonical(g) for g in space.enumerate()})
        (15625, 6466)
    """

    def __init__(
        self,
        ops: str | Sequence[str] = "nb201",
        n_nodes: int = 4,
        skeleton: Skeleton | Mapping[str, Any] | None = None,
    ) -> None:
        n_nodes = plain_numbers(n_nodes)
        if isinstance(n_nodes, bool) or not isinstance(n_nodes, int) or n_nodes < 2:
            raise SpaceError(f"NB201Space n_nodes must be an integer >= 2, got {n_nodes!r}.")
        check_n_nodes("NB201Space", n_nodes)
        self.op_set, self.ops = resolve_ops(ops, "nb201")
        if all(op == ZERO_OP for op in self.ops):
            raise SpaceError(
                "NB201Space needs at least one op other than 'none' (with 'none' alone every "
                "cell outputs zeros)."
            )
        self.n_nodes = n_nodes
        if isinstance(skeleton, Mapping):
            skeleton = Skeleton.from_dict(skeleton)
        if skeleton is not None and not isinstance(skeleton, Skeleton):
            raise SpaceError(f"skeleton must be a Skeleton or a dict, got {skeleton!r}.")
        self.skeleton = skeleton or Skeleton(n_cells=17, channels=16)
        check_op_dims(self.ops, self.skeleton.spatial_dims, "NB201Space")
        self.edges = tuple((i, j) for j in range(1, n_nodes) for i in range(j))

    def size(self) -> int:
        """Return ``len(ops) ** n_edges`` (15,625 for the benchmark)."""
        return len(self.ops) ** len(self.edges)

    def validate(self, genotype: NB201Genotype | str) -> NB201Genotype:
        """Check that ``genotype`` belongs to this space.

        Args:
            genotype: an :class:`NB201Genotype` or its text (NB201 string or JSON).

        Returns:
            The genotype.

        Example:
            >>> g = NB201Space().validate("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|")
        """
        g = parse_genotype(genotype)
        if not isinstance(g, NB201Genotype):
            raise SpaceError(f"the 'nb201' space holds NB201 genotypes, not {g.kind!r} ones.")
        if g.n_nodes != self.n_nodes:
            raise SpaceError(f"genotype has {g.n_nodes} nodes; this space uses {self.n_nodes}.")
        for i, j, op in g.edges():
            if op not in self.ops:
                raise op_outside_error(op, f"edge {i}->{j}", self.ops, self.op_set)
        return g

    def _make(self, ops: Sequence[str]) -> NB201Genotype:
        it = iter(ops)
        return NB201Genotype(
            nodes=tuple(tuple((next(it), i) for i in range(j)) for j in range(1, self.n_nodes))
        )

    def _ops_of(self, g: NB201Genotype) -> list[str]:
        return [op for _, _, op in g.edges()]

    def sample(self, rng: np.random.Generator) -> NB201Genotype:
        """Return a uniformly random cell (same rng state, same cell)."""
        return self._make(
            [self.ops[int(k)] for k in rng.integers(len(self.ops), size=len(self.edges))]
        )

    def neighbours(self, genotype: NB201Genotype | str) -> list[NB201Genotype]:
        """Return every cell that differs in the op of exactly one edge.

        Args:
            genotype: a member of the space.

        Returns:
            ``n_edges * (len(ops) - 1)`` cells (24 for the benchmark), in edge order.

        Example:
            >>> len(NB201Space().neighbours(NB201Space().sample(np.random.default_rng(0))))
            24
        """
        ops = self._ops_of(self.validate(genotype))
        out = []
        for e, op in enumerate(ops):
            for other in self.ops:
                if other != op:
                    out.append(self._make(ops[:e] + [other] + ops[e + 1 :]))
        return out

    def _iter_all(self) -> Iterator[NB201Genotype]:
        for ops in itertools.product(self.ops, repeat=len(self.edges)):
            yield self._make(ops)

    def canonical(self, genotype: NB201Genotype | str, strict: bool = False) -> str:
        """Return a key shared by cells that compute the same function.

        Args:
            genotype: a member of the space.
            strict: False follows the NAS-Bench-201 API (6,466 classes); True also
                treats a node whose inputs are all zero as zero (5,390 classes).

        Returns:
            The key: the output node's expression, e.g. ``'(0)@nor_conv_3x3+0'``; ``'#'`` is zero.

        Example:
            >>> cell = "|skip_connect~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|"
            >>> NB201Space().canonical(cell)
            '#+#+0'
        """
        g = self.validate(genotype)
        exprs = {0: "0"}
        for j, pairs in enumerate(g.nodes, start=1):
            terms = []
            for op, i in pairs:
                if op == ZERO_OP or exprs[i] == "#":
                    if not strict:
                        terms.append("#")
                elif op == SKIP_OP:
                    terms.append(exprs[i])
                else:
                    terms.append(f"({exprs[i]})@{op}")
            exprs[j] = "+".join(sorted(terms)) if terms else "#"
        return exprs[self.n_nodes - 1]

    def encoding_length(self, encoding: str = "onehot") -> int:
        """Return the vector length of ``encode(g, encoding)``.

        Args:
            encoding: "onehot" (edge x op) or "path" (op sequences from input to output).

        Returns:
            30 ("onehot") or 4 + 16 + 64 = 84 ("path") for the benchmark.

        Example:
            >>> NB201Space().encoding_length("path")
            84
        """
        self._check_encoding(encoding)
        if encoding == "onehot":
            return len(self.edges) * len(self.ops)
        c = len(self._live_ops())
        return sum(c**length for length in range(1, self.n_nodes))

    def _live_ops(self) -> tuple[str, ...]:
        return tuple(op for op in self.ops if op != ZERO_OP)

    def encode(self, genotype: NB201Genotype | str, encoding: str = "onehot") -> np.ndarray:
        """Encode a cell as a fixed-length float32 vector.

        ``"onehot"``: one block of ``len(ops)`` per edge, 1 at the edge's op (sums to 6).
        ``"path"``: for every op sequence along a route 0 -> ... -> output that has no
        ``none``, how many routes carry it (BANANAS-style path encoding).

        Args:
            genotype: a member of the space.
            encoding: "onehot" or "path".

        Returns:
            A float32 vector of length ``encoding_length(encoding)``.

        Example:
            >>> g = NB201Space().sample(np.random.default_rng(0))
            >>> NB201Space().encode(g).shape
            (30,)
        """
        self._check_encoding(encoding)
        g = self.validate(genotype)
        vec = np.zeros(self.encoding_length(encoding), dtype=np.float32)
        if encoding == "onehot":
            for e, (_, _, op) in enumerate(g.edges()):
                vec[e * len(self.ops) + self.ops.index(op)] = 1.0
            return vec
        live = self._live_ops()
        routes: dict[int, list[tuple[str, ...]]] = {0: [()]}
        for j, pairs in enumerate(g.nodes, start=1):
            routes[j] = [seq + (op,) for op, i in pairs if op != ZERO_OP for seq in routes[i]]
        for seq in routes[self.n_nodes - 1]:
            offset = sum(len(live) ** m for m in range(1, len(seq)))
            digits = 0
            for op in seq:
                digits = digits * len(live) + live.index(op)
            vec[offset + digits] += 1.0
        return vec

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict; :func:`space_from_dict` rebuilds an equal space."""
        return {
            "name": self.name,
            "ops": self.op_set if self.op_set is not None else list(self.ops),
            "n_nodes": self.n_nodes,
            "skeleton": self.skeleton.to_dict(),
        }
