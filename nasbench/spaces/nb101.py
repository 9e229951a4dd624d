"""The NAS-Bench-101 cell space (Ying et al., 2019): a 7-vertex DAG with three vertex ops.

A cell is an upper-triangular adjacency matrix over ``n_vertices`` vertices (vertex 0 the
input, the last the output) and one op per interior vertex: ``conv3x3_bn_relu``,
``conv1x1_bn_relu`` or ``maxpool3x3`` (the benchmark's ``conv3x3-bn-relu``,
``conv1x1-bn-relu``, ``maxpool3x3``). The matrix has at most ``max_edges`` (9) edges, and a
path from the input to the output.

- Pruning, as NAS-Bench-101's ``ModelSpec`` does: a vertex that is not on some
  input-to-output path computes nothing that reaches the output; :meth:`NB101Genotype.pruned`
  drops it (with its edges and op), and the network is built from what is left.
- De-duplication: :func:`cell_hash` labels every vertex with (out-degree, in-degree, op) and
  refines the labels ``n`` times with the sorted labels of its in- and out-neighbours (the
  idea of the benchmark's ``hash_module``, an iterative Weisfeiler-Lehman colour refinement),
  then hashes the sorted multiset. Isomorphic cells (vertices renumbered) and cells that
  differ only in pruned parts share a hash; :meth:`NB101Space.canonical` returns it, so the
  search loop evaluates one of them only.
- Count: the benchmark reports **423,624** unique cells for 7 vertices, 3 ops and at most 9
  edges (Ying et al., 2019, Sec. 2.1, found by enumerating every graph and de-duplicating
  with its hash). Enumerating them here takes too long for a test; the hash is checked on
  small spaces against a brute-force isomorphism test (``tests/spaces/test_nb101.py``).
  :meth:`NB101Space.size` counts genotypes (matrices and ops, pruned parts included).

Text forms: canonical JSON, and ``nb101|0110000,0001000,...|conv3x3_bn_relu,...`` (matrix
rows, then the interior ops); a dict may also be the benchmark's own spec, ``{"matrix":
[[...]], "ops": ["input", "conv3x3-bn-relu", ..., "output"]}``.

Example:
    >>> space = NB101Space()
    >>> g = space.sample(np.random.default_rng(0))
    >>> space.contains(g), g.n_edges <= 9, len(space.canonical(g))
    (True, True, 32)
"""

from __future__ import annotations

import functools
import hashlib
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from nasbench.errors import SpaceError
from nasbench.options import plain_numbers
from nasbench.spaces.base import (
    MAX_NODES,
    Space,
    check_at_most,
    check_op_dims,
    op_outside_error,
    register_space,
    resolve_ops,
)
from nasbench.spaces.genotype import (
    _canonical_json,
    _check_keys,
    _check_kind,
    _check_op,
    parse_genotype,
    register_genotype_kind,
)
from nasbench.spaces.skeleton import Skeleton

Matrix = tuple[tuple[int, ...], ...]
INPUT, OUTPUT = "input", "output"
TEXT_PREFIX = "nb101|"
UNIQUE_CELLS_NB101 = 423_624
"""Unique cells of the benchmark's space (7 vertices, 3 ops, <= 9 edges; Ying et al., 2019)."""
INCEPTION_LIKE_CELL: dict[str, Any] = {
    "matrix": [
        [0, 1, 1, 1, 0, 1, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 1, 0, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 0],
    ],
    "ops": ["input", "conv1x1-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu",
            "maxpool3x3", "output"],
}  # fmt: skip
"""The benchmark README's example cell, in its API's spec form (1x1, 3x3, two stacked 3x3
standing for a 5x5, and a max pool, as an Inception module); ``NB101Space().validate`` reads it."""


def _as_matrix(matrix: Any) -> Matrix:
    """A square 0/1 upper-triangular matrix as nested tuples, or a one-line SpaceError."""
    if isinstance(matrix, (str, bytes)) or not isinstance(matrix, Iterable):
        raise SpaceError(f"an NB101 matrix must be a list of 0/1 rows, got {matrix!r}.")
    rows = [list(r) if isinstance(r, Iterable) and not isinstance(r, str) else r for r in matrix]
    n = len(rows)
    if n < 2 or any(not isinstance(r, list) or len(r) != n for r in rows):
        lengths = [len(r) if isinstance(r, list) else r for r in rows]
        raise SpaceError(
            "an NB101 matrix must be square, n rows of n 0/1 entries with n >= 2 (input and "
            f"output); got row lengths {lengths}."
        )
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if isinstance(v, bool) or v not in (0, 1):
                raise SpaceError(f"NB101 matrix entry [{i}][{j}] is {v!r}; use 0 or 1.")
            if v and j <= i:
                raise SpaceError(
                    f"NB101 matrix entry [{i}][{j}] is 1 on or below the diagonal; an edge "
                    "goes from a vertex to a later one (upper-triangular)."
                )
    return tuple(tuple(int(v) for v in row) for row in rows)


def _reach(matrix: Matrix, start: int, forward: bool) -> set[int]:
    """Vertices reachable from ``start`` along edges (``forward``) or against them."""
    n = len(matrix)
    seen, frontier = {start}, [start]
    while frontier:
        v = frontier.pop()
        for w in range(n):
            edge = matrix[v][w] if forward else matrix[w][v]
            if edge and w not in seen:
                seen.add(w)
                frontier.append(w)
    return seen


def live_vertices(matrix: Matrix) -> tuple[int, ...]:
    """The vertices on some input-to-output path (empty when the output is unreachable).

    Example:
        >>> live_vertices(((0, 1, 0, 0), (0, 0, 0, 1), (0, 0, 0, 0), (0, 0, 0, 0)))
        (0, 1, 3)
    """
    n = len(matrix)
    both = _reach(matrix, 0, True) & _reach(matrix, n - 1, False)
    return tuple(sorted(both)) if n - 1 in both else ()


def cell_hash(matrix: Matrix, labels: Sequence[str]) -> str:
    """An isomorphism-invariant hash of a labelled DAG (iterated neighbourhood hashing).

    Every vertex starts from a hash of (out-degree, in-degree, label); each of ``n`` rounds
    replaces it with a hash of its in-neighbours' hashes (sorted), its out-neighbours'
    (sorted) and its own. The cell's hash is that of the sorted final hashes, so
    renumbering vertices changes nothing; after ``n`` rounds every vertex has seen the whole
    graph. (Weisfeiler-Lehman refinement can in principle merge two non-isomorphic graphs;
    on NAS-Bench-101's cells the benchmark found none.)

    Args:
        matrix: a square upper-triangular 0/1 matrix (call it on a pruned cell).
        labels: one label per vertex (``"input"``, op names, ``"output"``).

    Returns:
        32 hex digits.

    Example:
        >>> a = ((0, 1, 1, 0), (0, 0, 0, 1), (0, 0, 0, 1), (0, 0, 0, 0))
        >>> x_first, y_first = ["input", "x", "y", "output"], ["input", "y", "x", "output"]
        >>> cell_hash(a, x_first) == cell_hash(a, y_first)
        True
    """

    def digest(text: str) -> str:
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()

    n = len(matrix)
    preds = [[u for u in range(n) if matrix[u][v]] for v in range(n)]
    succs = [[w for w in range(n) if matrix[v][w]] for v in range(n)]
    hashes = [digest(f"{len(succs[v])}/{len(preds[v])}/{labels[v]}") for v in range(n)]
    for _ in range(n):
        hashes = [
            digest(
                ".".join(sorted(hashes[u] for u in preds[v]))
                + "<"
                + ".".join(sorted(hashes[w] for w in succs[v]))
                + ">"
                + hashes[v]
            )
            for v in range(n)
        ]
    return digest(",".join(sorted(hashes)))


@register_genotype_kind
@dataclass(frozen=True)
class NB101Genotype:
    """A NAS-Bench-101 cell: an adjacency matrix and the ops of the interior vertices.

    Args:
        matrix: ``n x n`` 0/1 rows, upper-triangular; vertex 0 is the input, ``n - 1`` the
            output, and the output must be reachable from the input.
        ops: the op of each interior vertex 1..n-2 (``n - 2`` names).

    Example:
        >>> g = NB101Genotype([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["conv3x3_bn_relu"])
        >>> g.n_vertices, g.n_edges, NB101Genotype.from_string(g.to_string()) == g
        (3, 2, True)
    """

    matrix: Matrix
    ops: tuple[str, ...]
    kind: ClassVar[str] = "nb101"
    TEXT_PREFIX: ClassVar[str] = TEXT_PREFIX

    def __post_init__(self) -> None:
        matrix = _as_matrix(self.matrix)
        if isinstance(self.ops, (str, bytes)) or not isinstance(self.ops, Iterable):
            raise SpaceError(f"NB101 ops must be a list of op names, got {self.ops!r}.")
        ops = tuple(_check_op(op, f"NB101 vertex {v}") for v, op in enumerate(self.ops, 1))
        if len(ops) != len(matrix) - 2:
            raise SpaceError(
                f"an NB101 cell of {len(matrix)} vertices needs {len(matrix) - 2} interior ops, "
                f"got {len(ops)}."
            )
        if not live_vertices(matrix):
            raise SpaceError(
                "the NB101 cell's output is not reachable from its input; add edges that "
                "connect them."
            )
        object.__setattr__(self, "matrix", matrix)
        object.__setattr__(self, "ops", ops)

    @property
    def n_vertices(self) -> int:
        """Vertices, input and output included."""
        return len(self.matrix)

    @property
    def n_edges(self) -> int:
        """Edges of the matrix (pruned parts included)."""
        return sum(map(sum, self.matrix))

    def labels(self) -> tuple[str, ...]:
        """``("input", *ops, "output")``: one label per vertex."""
        return (INPUT, *self.ops, OUTPUT)

    def pruned(self) -> NB101Genotype:
        """The cell without the vertices that are not on an input-to-output path.

        Example:
            >>> g = NB101Genotype([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]],
            ...                   ["conv1x1_bn_relu", "maxpool3x3"])
            >>> g.pruned().ops, g.pruned().n_edges
            (('conv1x1_bn_relu',), 2)
        """
        keep = live_vertices(self.matrix)
        if len(keep) == self.n_vertices:
            return self
        matrix = tuple(tuple(self.matrix[i][j] for j in keep) for i in keep)
        labels = self.labels()
        return NB101Genotype(matrix, tuple(labels[v] for v in keep[1:-1]))

    def hash(self) -> str:
        """The cell's isomorphism-invariant hash, computed on the pruned cell."""
        p = self.pruned()
        return cell_hash(p.matrix, p.labels())

    def ops_used(self) -> frozenset[str]:
        """The ops of the live interior vertices."""
        return frozenset(self.pruned().ops)

    def to_string(self) -> str:
        """``nb101|<matrix rows>|<ops>``: rows as 0/1 digits, comma-separated."""
        rows = ",".join("".join(map(str, row)) for row in self.matrix)
        return f"{TEXT_PREFIX}{rows}|{','.join(self.ops)}"

    @classmethod
    def from_string(cls, text: str) -> NB101Genotype:
        """Read :meth:`to_string` text.

        Example:
            >>> NB101Genotype.from_string("nb101|011,001,000|maxpool3x3").ops
            ('maxpool3x3',)
        """
        body = text.strip()
        if not body.startswith(TEXT_PREFIX) or body.count("|") != 2:
            raise SpaceError(
                f"NB101 text {body[:40]!r} is not 'nb101|<rows>|<ops>', e.g. "
                "'nb101|011,001,000|conv3x3_bn_relu'."
            )
        rows_text, ops_text = body[len(TEXT_PREFIX) :].split("|")
        rows = rows_text.split(",")
        if not all(r and set(r) <= {"0", "1"} for r in rows):
            raise SpaceError(f"NB101 text: the rows {rows_text!r} must be 0/1 digits.")
        ops = [op for op in ops_text.split(",") if op]
        return cls([[int(c) for c in r] for r in rows], ops)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (with ``"kind": "nb101"``)."""
        return {"kind": self.kind, "matrix": [list(r) for r in self.matrix], "ops": list(self.ops)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> NB101Genotype:
        """Build from :meth:`to_dict` output or the benchmark's spec (``"input"``/``"output"``
        around the ops, hyphenated op names such as ``"conv3x3-bn-relu"``)."""
        _check_kind(d, cls.kind)
        _check_keys(d, ("kind", "matrix", "ops"), "nb101 genotype")
        for key in ("matrix", "ops"):
            if key not in d:
                raise SpaceError(f"an nb101 genotype needs {key!r}.")
        ops = d["ops"]
        if isinstance(ops, (list, tuple)):
            ops = [op.replace("-", "_") if isinstance(op, str) else op for op in ops]
            if ops[:1] == [INPUT] and ops[-1:] == [OUTPUT]:
                ops = ops[1:-1]
        return cls(d["matrix"], ops)

    def to_json(self) -> str:
        """The canonical JSON text (sorted keys, compact)."""
        return _canonical_json(self.to_dict())


# Below this share of members among all matrices, sample() draws an edge count first.
_DIRECT_DRAW_BELOW = 1e-3


@functools.cache
def _connected_edge_counts(n: int, max_edges: int) -> list[int]:
    """How many ``n``-vertex upper-triangular matrices with exactly e edges join 0 to n-1.

    Dynamic programming over the vertices in order; the state is how many earlier vertices
    the input reaches (only the count matters: later edges treat them alike), the value a
    polynomial in the edge count. A vertex with ``r`` reached and ``v - r`` other
    predecessors is reached when one of its ``r`` edges from reached ones is present.
    """

    def binom_poly(k: int) -> list[int]:
        return [int(c) for c in (np.poly1d([1, 1]) ** k).coeffs[::-1]] if k else [1]

    def mul(a: list[int], b: list[int]) -> list[int]:
        out = [0] * min(len(a) + len(b) - 1, max_edges + 1)
        for i, x in enumerate(a):
            for j, y in enumerate(b):
                if i + j <= max_edges:
                    out[i + j] += x * y
        return out

    states = {1: [1]}  # vertex 0 reaches itself
    for v in range(1, n):
        new: dict[int, list[int]] = {}
        for r, poly in states.items():
            free = binom_poly(v - r)
            reached = binom_poly(r)
            reached[0] -= 1  # at least one edge from a reached vertex
            for key, factor in ((r + 1, mul(reached, free)), (r, free)):
                if v == n - 1 and key == r:
                    continue  # the output must be reached
                term = mul(poly, factor)
                acc = new.setdefault(key, [0] * (max_edges + 1))
                for e, c in enumerate(term):
                    acc[e] += c
        states = new
    total = [0] * (max_edges + 1)
    for poly in states.values():
        for e, c in enumerate(poly):
            total[e] += c
    return total


@register_space("nb101")
class NB101Space(Space):
    """The NAS-Bench-101 cell space (see the module docstring).

    Args:
        ops: an op-set name (default ``"nb101"``) or a list of op names.
        n_vertices: vertices including input and output (the benchmark: 7).
        max_edges: the most edges a matrix may have (the benchmark: 9).
        skeleton: the macro network; None gives the benchmark's: a stem to 128 channels,
            3 stacks of 3 cells, a 2x2 max pool and doubled channels between stacks
            (``Skeleton(n_cells=9, channels=128)``, downsampling before cells 3 and 6).
            A search or retrain given no ``space.skeleton`` stacks 8 cells at C=16 instead,
            as the DARTS search network does, at about 1/18 of the CPU time per step.

    Example:
        >>> NB101Space(n_vertices=4, max_edges=5).size()
        414
    """

    def __init__(
        self,
        ops: str | Sequence[str] = "nb101",
        n_vertices: int = 7,
        max_edges: int = 9,
        skeleton: Skeleton | Mapping[str, Any] | None = None,
    ) -> None:
        n_vertices, max_edges = plain_numbers(n_vertices), plain_numbers(max_edges)
        for name, value, low in (("n_vertices", n_vertices, 2), ("max_edges", max_edges, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise SpaceError(f"NB101Space {name} must be an integer >= {low}, got {value!r}.")
        check_at_most("NB101Space", "n_vertices", n_vertices, MAX_NODES,
                      "the edges grow with its square")  # fmt: skip
        self.op_set, self.ops = resolve_ops(ops, "nb101")
        self.n_vertices, self.max_edges = n_vertices, max_edges
        if isinstance(skeleton, Mapping):
            skeleton = Skeleton.from_dict(skeleton)
        if skeleton is not None and not isinstance(skeleton, Skeleton):
            raise SpaceError(f"skeleton must be a Skeleton or a dict, got {skeleton!r}.")
        self.skeleton = skeleton or Skeleton(n_cells=9, channels=128)
        check_op_dims(self.ops, self.skeleton.spatial_dims, "NB101Space")
        self.edges = tuple((i, j) for i in range(n_vertices) for j in range(i + 1, n_vertices))

    # ---- membership --------------------------------------------------------------------
    def size(self) -> int:
        """Genotypes: connected matrices of at most ``max_edges`` edges, times the ops."""
        matrices = sum(_connected_edge_counts(self.n_vertices, self.max_edges))
        return matrices * len(self.ops) ** (self.n_vertices - 2)

    def validate(self, genotype: NB101Genotype | str | Mapping[str, Any]) -> NB101Genotype:
        """Return the cell (parsed if text or a dict) or raise a one-line SpaceError.

        A cell of fewer vertices (a pruned one, as the benchmark stores them) is padded
        with unconnected vertices before the output; it computes the same function. A cell
        over ``max_edges`` whose dangling edges prune away to within it (the benchmark
        counts edges after pruning) is taken in its pruned form, the same function.

        Example:
            >>> NB101Space().validate("nb101|011,001,000|maxpool3x3").n_vertices
            7
        """
        g = NB101Genotype.from_dict(genotype) if isinstance(genotype, Mapping) else genotype
        g = parse_genotype(g)
        if not isinstance(g, NB101Genotype):
            raise SpaceError(f"the 'nb101' space holds NB101 genotypes, not {g.kind!r} ones.")
        if g.n_vertices > self.n_vertices:
            raise SpaceError(
                f"the cell has {g.n_vertices} vertices; this space allows {self.n_vertices}."
            )
        if g.n_edges > self.max_edges and g.pruned().n_edges <= self.max_edges:
            g = g.pruned()
        if g.n_edges > self.max_edges:
            raise SpaceError(
                f"the cell has {g.n_edges} edges; this space allows at most {self.max_edges}."
            )
        for v, op in enumerate(g.ops, start=1):
            if op not in self.ops:
                raise op_outside_error(op, f"vertex {v}", self.ops, self.op_set)
        return self._pad(g)

    def _pad(self, g: NB101Genotype) -> NB101Genotype:
        extra = self.n_vertices - g.n_vertices
        if not extra:
            return g
        n, m = g.n_vertices, self.n_vertices
        # Interior vertices keep their numbers; the new ones sit before the output, unwired.
        old = [*range(n - 1), m - 1]
        matrix = [[0] * m for _ in range(m)]
        for i in range(n):
            for j in range(n):
                matrix[old[i]][old[j]] = g.matrix[i][j]
        return NB101Genotype(matrix, g.ops + (self.ops[0],) * extra)

    def _make(self, bits: Sequence[int], ops: Sequence[str]) -> NB101Genotype | None:
        """The cell with these edge bits and ops, or None when it is not a member."""
        if sum(bits) > self.max_edges:
            return None
        n = self.n_vertices
        matrix = [[0] * n for _ in range(n)]
        for (i, j), b in zip(self.edges, bits, strict=True):
            matrix[i][j] = int(b)
        if not live_vertices(tuple(map(tuple, matrix))):
            return None
        return NB101Genotype(matrix, ops)

    def _bits(self, g: NB101Genotype) -> list[int]:
        return [g.matrix[i][j] for i, j in self.edges]

    def sample(self, rng: np.random.Generator) -> NB101Genotype:
        """A uniformly random member: random matrix and ops, redrawn until it is one.

        Members have at most ``max_edges`` edges as drawn; the benchmark's example sampler
        counts edges after pruning instead, so it also keeps larger matrices whose extra
        edges dangle, and draws larger cells more often. Both reach the same set of
        distinct cells (each has a member within ``max_edges``); this draw is uniform over
        the members this space counts in :meth:`size`.

        When members are rare among all matrices (many vertices, few edges allowed: 9
        vertices and 4 edges leave 1 matrix in 6 million), an edge count is drawn first,
        weighted by how many members have it, then a matrix of that many edges: the same
        uniform draw, in a few tries instead of millions.
        """
        counts = _connected_edge_counts(self.n_vertices, self.max_edges)
        if sum(counts) / 2 ** len(self.edges) >= _DIRECT_DRAW_BELOW:
            while True:
                bits = rng.integers(2, size=len(self.edges))
                g = self._make(bits, self._random_ops(rng))
                if g is not None:
                    return g
        weights = np.array(counts, dtype=np.float64) / sum(counts)
        n_edges = int(rng.choice(len(counts), p=weights))
        while True:  # each try succeeds with probability >= 1 / len(edges) (the direct edge)
            bits = np.zeros(len(self.edges), dtype=np.int64)
            bits[rng.choice(len(self.edges), size=n_edges, replace=False)] = 1
            g = self._make(bits, self._random_ops(rng))
            if g is not None:
                return g

    def _random_ops(self, rng: np.random.Generator) -> list[str]:
        return [self.ops[int(k)] for k in rng.integers(len(self.ops), size=self.n_vertices - 2)]

    def mutate(self, genotype: NB101Genotype | str, rng: np.random.Generator) -> NB101Genotype:
        """The NAS-Bench-101 paper's evolution mutation: flip each edge with probability
        1 / n_vertices and resample each op with probability 1 / (n_vertices - 2); redraw
        until the child is a member and differs from the parent.

        Example:
            >>> space = NB101Space()
            >>> parent = space.sample(np.random.default_rng(0))
            >>> child = space.mutate(parent, np.random.default_rng(1))
            >>> child != parent and space.contains(child)
            True
        """
        g = self.validate(genotype)
        bits, n_ops = self._bits(g), self.n_vertices - 2
        if self.size() < 2:
            raise SpaceError(
                f"this NAS-Bench-101 space has one member ({self.n_vertices} vertices), so "
                "nothing differs from it; allow more vertices or edges."
            )
        while True:
            flips = rng.random(len(bits)) < 1.0 / self.n_vertices
            new_bits = [b ^ int(f) for b, f in zip(bits, flips, strict=True)]
            ops = list(g.ops)
            for v in np.flatnonzero(rng.random(n_ops) < 1.0 / max(n_ops, 1)):
                others = [op for op in self.ops if op != ops[v]]
                if others:
                    ops[v] = others[int(rng.integers(len(others)))]
            child = self._make(new_bits, ops)
            if child is not None and child != g:
                return child

    def neighbours(self, genotype: NB101Genotype | str) -> list[NB101Genotype]:
        """Every member one edge flip or one op change away, edges first.

        Example:
            >>> g = NB101Space().validate("nb101|011,001,000|maxpool3x3")
            >>> len(NB101Space().neighbours(g)) <= 21 + 5 * 2
            True
        """
        g = self.validate(genotype)
        bits, out = self._bits(g), []
        for e in range(len(bits)):
            child = self._make(bits[:e] + [1 - bits[e]] + bits[e + 1 :], g.ops)
            if child is not None:
                out.append(child)
        for v, op in enumerate(g.ops):
            for other in self.ops:
                if other != op:
                    out.append(NB101Genotype(g.matrix, g.ops[:v] + (other,) + g.ops[v + 1 :]))
        return out

    def _iter_all(self) -> Iterator[NB101Genotype]:
        op_lists = list(itertools.product(self.ops, repeat=self.n_vertices - 2))
        for bits in itertools.product((0, 1), repeat=len(self.edges)):
            if sum(bits) <= self.max_edges and self._make(bits, op_lists[0]) is not None:
                for ops in op_lists:
                    yield self._make(bits, ops)

    def canonical(self, genotype: NB101Genotype | str) -> str:
        """The cell's hash: equal for cells that compute the same function (isomorphic
        after pruning), the key the search loop de-duplicates on."""
        return self.validate(genotype).hash()

    # ---- encodings ---------------------------------------------------------------------
    def encoding_length(self, encoding: str = "onehot") -> int:
        """``"onehot"``: edge bits plus an op one-hot per interior vertex (21 + 15 = 36);
        ``"path"``: one count per op sequence of an input-to-output path (364)."""
        self._check_encoding(encoding)
        if encoding == "onehot":
            return len(self.edges) + (self.n_vertices - 2) * len(self.ops)
        return sum(len(self.ops) ** k for k in range(self.n_vertices - 1))

    def encode(self, genotype: NB101Genotype | str, encoding: str = "onehot") -> np.ndarray:
        """A fixed-length float32 vector of the live cell.

        ``"onehot"``: the adjacency bits and op one-hots of the cell with its dead parts
        zeroed (so cells that differ only in pruned parts encode alike); ``"path"``: for
        every op sequence, how many input-to-output paths carry it (BANANAS's encoding).

        Example:
            >>> float(NB101Space().encode("nb101|011,001,000|maxpool3x3").sum())
            4.0
        """
        self._check_encoding(encoding)
        g = self.validate(genotype)
        live = set(live_vertices(g.matrix))
        vec = np.zeros(self.encoding_length(encoding), dtype=np.float32)
        if encoding == "onehot":
            for e, (i, j) in enumerate(self.edges):
                vec[e] = float(g.matrix[i][j] and i in live and j in live)
            base = len(self.edges)
            for v, op in enumerate(g.ops, start=1):
                if v in live:
                    vec[base + (v - 1) * len(self.ops) + self.ops.index(op)] = 1.0
            return vec
        for seq in self._paths(g):
            offset = sum(len(self.ops) ** k for k in range(len(seq)))
            digits = 0
            for op in seq:
                digits = digits * len(self.ops) + self.ops.index(op)
            vec[offset + digits] += 1.0
        return vec

    def _paths(self, g: NB101Genotype) -> list[tuple[str, ...]]:
        """The op sequence of every input-to-output path."""
        labels = g.labels()
        routes: dict[int, list[tuple[str, ...]]] = {0: [()]}
        for j in range(1, g.n_vertices):
            step = () if j == g.n_vertices - 1 else (labels[j],)
            routes[j] = [r + step for i in range(j) if g.matrix[i][j] for r in routes[i]]
        return routes[g.n_vertices - 1]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :func:`space_from_dict` rebuilds an equal space."""
        return {
            "name": self.name,
            "ops": self.op_set if self.op_set is not None else list(self.ops),
            "n_vertices": self.n_vertices,
            "max_edges": self.max_edges,
            "skeleton": self.skeleton.to_dict(),
        }
