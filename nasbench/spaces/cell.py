"""The DARTS/NASNet cell space: a normal and a reduction cell stacked in a skeleton.

Each cell has two inputs (c_{k-2}, c_{k-1}) and ``n_nodes`` intermediate nodes;
intermediate node ``i`` (0-based) picks ``inputs_per_node`` distinct inputs
among the ``i + 2`` earlier nodes, with one op on each; the cell output
concatenates every intermediate node.

Counting. A derived DARTS genotype never holds ``'none'`` (DARTS drops the zero
op when it keeps the strongest edges), so the ops a genotype may use (the
space's ``choices``) are the space's ops without ``'none'``; ``'none'`` stays
in ``ops`` for the supernet. With the 8 DARTS ops that leaves 7 choices, and
one cell type has prod_i C(i + 2, 2) * 7^2 = 1 * 3 * 6 * 10 * 49^4 =
1,037,664,180 ~ 10^9 members; the normal + reduction pair has its square,
~1.08 * 10^18: the DARTS paper's figures. The order of a node's inputs does not
count as a different cell.
"""

from __future__ import annotations

import itertools
import math
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
from nasbench.spaces.genotype import CELL_TYPES, Genotype, Pair, inputs_in_order, parse_genotype
from nasbench.spaces.ops import is_parameter_free
from nasbench.spaces.skeleton import Skeleton

ZERO_OP = "none"


@register_space("darts")
class CellSpace(Space):
    """The DARTS/NASNet cell space.

    Args:
        ops: an op-set name (default "darts") or a list of op names; ``'none'``
            is kept for the supernet but never chosen in a genotype.
        n_nodes: intermediate nodes per cell (DARTS: 4).
        inputs_per_node: distinct inputs per intermediate node (DARTS: 2).
        skeleton: the macro network (a Skeleton or its dict); None gives ``Skeleton()``.

    Example:
        >>> space = CellSpace()
        >>> space.cell_size(), space.size() == space.cell_size() ** 2
        (1037664180, True)
    """

    def __init__(
        self,
        ops: str | Sequence[str] = "darts",
        n_nodes: int = 4,
        inputs_per_node: int = 2,
        skeleton: Skeleton | Mapping[str, Any] | None = None,
    ) -> None:
        n_nodes, inputs_per_node = plain_numbers(n_nodes), plain_numbers(inputs_per_node)
        for label, value in (("n_nodes", n_nodes), ("inputs_per_node", inputs_per_node)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SpaceError(f"CellSpace {label} must be an integer >= 1, got {value!r}.")
        check_n_nodes("CellSpace", n_nodes)
        if inputs_per_node > 2:
            # Node 0 only has the two cell inputs to choose from.
            raise SpaceError(
                f"CellSpace inputs_per_node={inputs_per_node} exceeds the 2 inputs that the "
                "first node can pick; use 1 or 2."
            )
        self.op_set, self.ops = resolve_ops(ops, "darts")
        self.choices = tuple(op for op in self.ops if op != ZERO_OP)
        if not self.choices:
            raise SpaceError("CellSpace needs at least one op other than 'none'.")
        self.n_nodes = n_nodes
        self.inputs_per_node = inputs_per_node
        if isinstance(skeleton, Mapping):
            skeleton = Skeleton.from_dict(skeleton)
        if skeleton is not None and not isinstance(skeleton, Skeleton):
            raise SpaceError(f"skeleton must be a Skeleton or a dict, got {skeleton!r}.")
        self.skeleton = skeleton or Skeleton()
        check_op_dims(self.ops, self.skeleton.spatial_dims, type(self).__name__)
        self.concat = tuple(range(2, n_nodes + 2))

    # -- counting ---------------------------------------------------------------------------

    def cell_size(self) -> int:
        """Return the number of distinct cells of one type (normal or reduction)."""
        k, c = self.inputs_per_node, len(self.choices)
        return math.prod(math.comb(i + 2, k) * c**k for i in range(self.n_nodes))

    def size(self) -> int:
        """Return the number of (normal, reduction) cell pairs: ``cell_size() ** 2``."""
        return self.cell_size() ** 2

    # -- membership -------------------------------------------------------------------------

    def validate(self, genotype: Genotype | str) -> Genotype:
        """Check that ``genotype`` belongs to this space.

        Args:
            genotype: a :class:`Genotype` or its text (JSON or DARTS notation).

        Returns:
            The genotype.

        Example:
            >>> CellSpace().validate(zoo["DARTS_V2"]) == zoo["DARTS_V2"]
            True
        """
        g = parse_genotype(genotype)
        if not isinstance(g, Genotype):
            raise SpaceError(f"the 'darts' space holds DARTS cell genotypes, not {g.kind!r} ones.")
        if g.inputs_per_node != self.inputs_per_node:
            raise SpaceError(
                f"genotype has {g.inputs_per_node} inputs per node; this space uses "
                f"{self.inputs_per_node}."
            )
        for cell_type in CELL_TYPES:
            nodes = g.nodes(cell_type)
            _, concat = g.cell(cell_type)
            if len(nodes) != self.n_nodes:
                raise SpaceError(
                    f"the {cell_type} cell has {len(nodes)} intermediate nodes; this space "
                    f"uses {self.n_nodes}."
                )
            if tuple(sorted(concat)) != self.concat:
                raise SpaceError(
                    f"{cell_type}_concat is {list(concat)}; this space concatenates every "
                    f"intermediate node {list(self.concat)}."
                )
            for i, pairs in enumerate(nodes):
                inputs = [idx for _, idx in pairs]
                if len(set(inputs)) != len(inputs):
                    raise SpaceError(
                        f"{cell_type} cell: node {i + 2} takes input {inputs[0]} twice; "
                        "this space needs distinct inputs per node."
                    )
                for op, _ in pairs:
                    if op not in self.choices:
                        raise op_outside_error(op, f"{cell_type} cell", self.choices, self.op_set)
        return g

    # -- sampling and moves -----------------------------------------------------------------

    def _node_options(self, i: int) -> list[tuple[Pair, ...]]:
        """Every way node ``i`` can be wired: input combinations x op choices."""
        out = []
        for inputs in itertools.combinations(range(i + 2), self.inputs_per_node):
            for ops in itertools.product(self.choices, repeat=self.inputs_per_node):
                out.append(tuple(zip(ops, inputs, strict=True)))
        return out

    def _make(self, normal: Sequence[Pair], reduce: Sequence[Pair]) -> Genotype:
        # Each node's inputs in ascending order: every cell the space makes is in the
        # form enumerate() lists, so a neighbour or mutant equals its listed twin.
        ipn = self.inputs_per_node
        return Genotype(
            normal=inputs_in_order(normal, ipn),
            normal_concat=self.concat,
            reduce=inputs_in_order(reduce, ipn),
            reduce_concat=self.concat,
            inputs_per_node=self.inputs_per_node,
        )

    def canonical(self, genotype: Genotype | str) -> str:
        """A key equal for cells that differ only in the order of a node's inputs (a node
        sums them): the JSON of the genotype with each node's inputs in ascending order.
        A discrete search's cache uses it, so such twins are evaluated once.

        Args:
            genotype: a member of the space.

        Returns:
            The key text.

        Example:
            >>> a = zoo["DARTS_V2"]
            >>> swapped = Genotype(a.normal[1::-1] + a.normal[2:], a.normal_concat,
            ...                    a.reduce, a.reduce_concat)
            >>> CellSpace().canonical(swapped) == CellSpace().canonical(a)
            True
        """
        g = self.validate(genotype)
        return self._make(g.normal, g.reduce).to_json()

    def _sample_cell(self, rng: np.random.Generator) -> list[Pair]:
        pairs: list[Pair] = []
        for i in range(self.n_nodes):
            inputs = sorted(rng.choice(i + 2, size=self.inputs_per_node, replace=False).tolist())
            for idx in inputs:
                pairs.append((self.choices[int(rng.integers(len(self.choices)))], int(idx)))
        return pairs

    def sample(self, rng: np.random.Generator) -> Genotype:
        """Return a uniformly random cell pair.

        Args:
            rng: the random generator (same state, same genotype).

        Returns:
            A genotype of this space; each node's inputs are in ascending order.

        Example:
            >>> g = CellSpace().sample(np.random.default_rng(0))
        """
        normal = self._sample_cell(rng)
        return self._make(normal, self._sample_cell(rng))

    def sample_matched(self, rng: np.random.Generator, like: Genotype | str) -> Genotype:
        """A random cell pair with as many parametric ops per cell as ``like`` has.

        The control a cost-aware search must beat: a uniform draw favours parametric
        ops (four of the seven DARTS choices) and so a narrower network under a
        parameter budget. Here the inputs are uniform, the edges that carry a
        parametric op are a uniform subset of the count ``like`` has, and each op is
        uniform among the space's parametric (or parameter-free) choices.

        Args:
            rng: the random generator (same state, same genotype).
            like: a member of this space, e.g. a searched cell.

        Returns:
            A genotype of this space whose normal and reduction cells hold as many
            parametric ops as ``like``'s.

        Example:
            >>> g = CellSpace().sample_matched(np.random.default_rng(0), zoo["DARTS_V2"])
        """
        like = self.validate(like)
        parametric = [op for op in self.choices if not is_parameter_free(op)]
        free = [op for op in self.choices if is_parameter_free(op)]
        cells = []
        for pairs in (like.normal, like.reduce):
            count = sum(not is_parameter_free(op) for op, _ in pairs)
            drawn = self._sample_cell(rng)
            chosen = set(rng.choice(len(drawn), size=count, replace=False).tolist())
            pools = [parametric if k in chosen else free for k in range(len(drawn))]
            cells.append(
                [
                    (pool[int(rng.integers(len(pool)))], idx)
                    for pool, (_, idx) in zip(pools, drawn, strict=True)
                ]
            )
        return self._make(*cells)

    def neighbours(self, genotype: Genotype | str) -> list[Genotype]:
        """Return every genotype that differs by one op or one input of one edge.

        Args:
            genotype: a member of the space.

        Returns:
            The neighbours in a fixed order (normal cell first, then reduction).

        Example:
            >>> len(CellSpace().neighbours(zoo["DARTS_V2"]))
            120
        """
        g = self.validate(genotype)
        out = []
        for cell_type in CELL_TYPES:
            pairs = list(g.cell(cell_type)[0])
            for k, (op, idx) in enumerate(pairs):
                node = k // self.inputs_per_node
                start = node * self.inputs_per_node
                taken = {j for _, j in pairs[start : start + self.inputs_per_node]}
                changes = [(o, idx) for o in self.choices if o != op]
                changes += [(op, j) for j in range(node + 2) if j not in taken]
                for change in changes:
                    new = pairs.copy()
                    new[k] = change
                    other = g.cell("reduce" if cell_type == "normal" else "normal")[0]
                    out.append(
                        self._make(new, other) if cell_type == "normal" else self._make(other, new)
                    )
        return out

    def _iter_all(self) -> Iterator[Genotype]:
        per_node = [self._node_options(i) for i in range(self.n_nodes)]
        cells = [
            [pair for node in combo for pair in node] for combo in itertools.product(*per_node)
        ]
        for normal in cells:
            for reduce in cells:
                yield self._make(normal, reduce)

    # -- encodings --------------------------------------------------------------------------

    def _n_paths(self) -> int:
        c = len(self.choices)
        return 2 * sum(c**length for length in range(1, self.n_nodes + 1))

    def encoding_length(self, encoding: str = "onehot") -> int:
        """Return the vector length of ``encode(g, encoding)``.

        Args:
            encoding: "onehot" (node, input, op) or "path" (counts of input-to-output op paths).

        Returns:
            The length, the same for every genotype of the space.

        Example:
            >>> CellSpace().encoding_length("onehot")
            196
        """
        self._check_encoding(encoding)
        if encoding == "onehot":
            per_cell = sum(i + 2 for i in range(self.n_nodes)) * len(self.choices)
        else:
            per_cell = self._n_paths()
        return 2 * per_cell

    def encode(self, genotype: Genotype | str, encoding: str = "onehot") -> np.ndarray:
        """Encode a genotype as a fixed-length float32 vector.

        ``"onehot"``: for each cell, node, candidate input and op, 1 when the
        node takes that input through that op (sums to 2 * n_nodes * inputs_per_node).
        ``"path"``: for each cell, how many times each path (cell input, op
        sequence) runs from a cell input to the output, as in BANANAS.

        Args:
            genotype: a member of the space.
            encoding: "onehot" or "path".

        Returns:
            A float32 vector of length ``encoding_length(encoding)``.

        Example:
            >>> float(CellSpace().encode(zoo["DARTS_V2"]).sum())
            16.0
        """
        self._check_encoding(encoding)
        g = self.validate(genotype)
        parts = [
            self._onehot(g, cell_type) if encoding == "onehot" else self._paths(g, cell_type)
            for cell_type in CELL_TYPES
        ]
        return np.concatenate(parts).astype(np.float32)

    def _onehot(self, g: Genotype, cell_type: str) -> np.ndarray:
        c = len(self.choices)
        vec = np.zeros(sum(i + 2 for i in range(self.n_nodes)) * c, dtype=np.float32)
        offset = 0
        for i, pairs in enumerate(g.nodes(cell_type)):
            for op, idx in pairs:
                vec[offset + idx * c + self.choices.index(op)] = 1.0
            offset += (i + 2) * c
        return vec

    def _paths(self, g: Genotype, cell_type: str) -> np.ndarray:
        c = len(self.choices)
        per_input = self._n_paths() // 2
        vec = np.zeros(2 * per_input, dtype=np.float32)
        nodes = g.nodes(cell_type)
        # paths[n]: (cell input, op sequence) for every route from a cell input into node n.
        paths: dict[int, list[tuple[int, tuple[str, ...]]]] = {}
        for i, pairs in enumerate(nodes):
            routes = []
            for op, idx in pairs:
                if idx < 2:
                    routes.append((idx, (op,)))
                else:
                    routes.extend((src, seq + (op,)) for src, seq in paths[idx])
            paths[i + 2] = routes
        for node in g.cell(cell_type)[1]:
            for src, seq in paths[node]:
                # Shorter paths come first; within a length, the op sequence in base c.
                offset = sum(c**m for m in range(1, len(seq)))
                digits = 0
                for op in seq:
                    digits = digits * c + self.choices.index(op)
                vec[src * per_input + offset + digits] += 1.0
        return vec

    # -- serialisation ----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict; :func:`space_from_dict` rebuilds an equal space."""
        return {
            "name": self.name,
            "ops": self.op_set if self.op_set is not None else list(self.ops),
            "n_nodes": self.n_nodes,
            "inputs_per_node": self.inputs_per_node,
            "skeleton": self.skeleton.to_dict(),
        }
