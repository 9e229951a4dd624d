"""The Auto-DeepLab / MS-NAS trellis space: a network path over scales and one searched cell.

A trellis network has ``num_layers`` layers over ``depth + 1`` scales (scale ``s`` runs at
``1 / 2**s`` of the input with ``channels * 2**s`` channels). The stem writes scale 0;
node ``(l, s)`` of layer ``l`` (1-based) exists when ``s <= min(l, depth)``, and reads
the previous layer through at most three transitions (Auto-DeepLab, Liu et al., 2019;
MS-NAS, Yan et al., 2020):

- ``down`` (contracting): from scale ``s - 1``, a stride-2 convolution;
- ``same`` (non-scaling): from scale ``s``;
- ``up`` (expanding): from scale ``s + 1``, an up-sampling and a 1x1 convolution.

The searched architecture is a *path* (the scale after each layer, moving at most one
scale per layer) and one DARTS-style *cell* (``n_nodes`` nodes, ``inputs_per_node``
edges each) run at every layer. In the supernet, each node fuses its transitions with
the *scale weights* ``beta`` (a softmax over the node's incoming transitions), and the
network path is decoded by Viterbi over the betas (:func:`viterbi_path`), as
Auto-DeepLab decodes it.

Example:
    >>> space = TrellisSpace(num_layers=3, ops=["skip_connect", "sep_conv_3x3"], n_nodes=1,
    ...                      inputs_per_node=1, skeleton={"depth": 1})
    >>> space.n_paths(), space.size()
    (8, 32)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from nasbench.errors import ConfigError, SpaceError
from nasbench.options import plain_numbers
from nasbench.spaces.base import (
    MAX_LAYERS,
    Space,
    check_at_most,
    check_n_nodes,
    check_op_dims,
    register_space,
    resolve_ops,
    size_advice,
)
from nasbench.spaces.genotype import (
    Pair,
    _as_ints,
    _as_pairs,
    _canonical_json,
    _check_cell,
    _check_int,
    _check_keys,
    _check_kind,
    parse_genotype,
    register_genotype_kind,
)
from nasbench.spaces.skeleton import UNetSkeleton

TRANSITIONS = ("down", "same", "up")
"""Incoming transitions of a node, by the scale they come from: ``s - 1``, ``s``, ``s + 1``."""
ZERO_OP = "none"


def trellis_mask(num_layers: int, num_scales: int) -> np.ndarray:
    """Which transitions exist: ``mask[l, s, t]`` for layer ``l + 1``, scale ``s``, transition t.

    Args:
        num_layers: layers of the trellis.
        num_scales: scales (``depth + 1``).

    Returns:
        A boolean ``(num_layers, num_scales, 3)`` array; a node exists when any of its
        transitions does.

    Example:
        >>> trellis_mask(2, 2)[:, :, :].sum(axis=-1).tolist()
        [[1, 1], [2, 2]]
    """
    mask = np.zeros((num_layers, num_scales, 3), dtype=bool)
    for layer in range(num_layers):
        before = min(layer, num_scales - 1)  # scales present after layer ``layer`` (0: stem)
        for s in range(min(layer + 1, num_scales - 1) + 1):
            for t, src in enumerate((s - 1, s, s + 1)):
                mask[layer, s, t] = 0 <= src <= before
    return mask


def normalise_betas(beta: torch.Tensor, mask: np.ndarray) -> torch.Tensor:
    """Softmax of ``beta`` over each node's incoming transitions; 0 where none exists.

    Args:
        beta: raw scale weights ``(num_layers, num_scales, 3)``.
        mask: :func:`trellis_mask` of the same shape.

    Returns:
        A tensor like ``beta`` whose entries sum to 1 over the last axis at every node.

    Example:
        >>> w = normalise_betas(torch.zeros(2, 2, 3), trellis_mask(2, 2))
        >>> w[1].tolist()
        [[0.0, 0.5, 0.5], [0.5, 0.5, 0.0]]
    """
    keep = torch.as_tensor(mask, device=beta.device)
    masked = beta.masked_fill(~keep, float("-inf"))
    nodes = keep.any(dim=-1, keepdim=True)
    # A missing node has no transition: its all -inf row would be NaN, so it is zeroed.
    weights = torch.softmax(masked.masked_fill(~nodes, 0.0), dim=-1)
    return weights.masked_fill(~keep, 0.0)


def viterbi_path(weights: Any, mask: np.ndarray | None = None) -> tuple[int, ...]:
    """The path (scale after each layer) whose product of transition weights is largest.

    Auto-DeepLab's decoding: a dynamic programme over layers, starting from the stem at
    scale 0 and moving at most one scale per layer. Ties go to the finer scale.

    Args:
        weights: normalised scale weights ``(num_layers, num_scales, 3)``
            (:func:`normalise_betas`), numpy or torch.
        mask: the transitions that exist (default: those of the shape).

    Returns:
        ``num_layers`` scales.

    Example:
        >>> w = np.zeros((2, 2, 3)); w[0, 1, 0] = 1.0; w[1, 0, 2] = 1.0
        >>> viterbi_path(w)
        (1, 0)
    """
    w = np.asarray(
        weights.detach().cpu().numpy() if isinstance(weights, torch.Tensor) else weights,
        dtype=np.float64,
    )
    if w.ndim != 3 or w.shape[2] != 3:
        raise SpaceError(f"scale weights must have shape (layers, scales, 3), got {w.shape}.")
    n_layers, n_scales, _ = w.shape
    mask = trellis_mask(n_layers, n_scales) if mask is None else mask
    with np.errstate(divide="ignore"):
        logw = np.where(mask, np.log(np.clip(w, 0.0, None)), -np.inf)
    score = np.full(n_scales, -np.inf)
    score[0] = 0.0
    back = np.zeros((n_layers, n_scales), dtype=int)
    for layer in range(n_layers):
        new = np.full(n_scales, -np.inf)
        for s in range(n_scales):
            best = None
            for t, src in enumerate((s - 1, s, s + 1)):
                # Strictly greater: on a tie the finer source (listed first) stays.
                if mask[layer, s, t] and (best is None or score[src] + logw[layer, s, t] > best):
                    best, back[layer, s] = score[src] + logw[layer, s, t], src
            if best is not None:
                new[s] = best
        score = new
    reachable = [s for s in range(n_scales) if mask[-1, s].any()]
    end = max(reachable, key=lambda s: (score[s], -s))
    path = [end]
    for layer in range(n_layers - 1, 0, -1):
        path.append(int(back[layer, path[-1]]))
    return tuple(int(s) for s in reversed(path))


def path_transitions(path: Sequence[int]) -> tuple[str, ...]:
    """The transition taken at each layer of ``path`` (from scale 0 at the stem).

    Example:
        >>> path_transitions((1, 1, 0))
        ('down', 'same', 'up')
    """
    out, previous = [], 0
    for s in path:
        out.append(TRANSITIONS[previous - s + 1])
        previous = s
    return tuple(out)


@register_genotype_kind
@dataclass(frozen=True)
class TrellisGenotype:
    """A trellis architecture: the network path over scales and the cell run at every layer.

    Args:
        path: the scale after each layer (the stem is scale 0; a step moves at most one).
        cell: (op, input) pairs, ``inputs_per_node`` per node; inputs 0 and 1 are the
            fused layer input (both), 2.. the cell's nodes.
        concat: the nodes concatenated into the cell output.
        num_scales: scales of the trellis (``depth + 1``).
        inputs_per_node: pairs per node.

    Example:
        >>> g = TrellisGenotype((1, 0), [("sep_conv_3x3", 0), ("skip_connect", 1)], [2], 2)
        >>> g.num_layers, g.transitions(), sorted(g.ops())
        (2, ('down', 'up'), ['sep_conv_3x3', 'skip_connect'])
    """

    path: tuple[int, ...]
    cell: tuple[Pair, ...]
    concat: tuple[int, ...]
    num_scales: int
    inputs_per_node: int = 2
    kind: ClassVar[str] = "trellis"

    def __post_init__(self) -> None:
        ipn = _check_int(self.inputs_per_node, "inputs_per_node", minimum=1)
        scales = _check_int(self.num_scales, "num_scales", minimum=2)
        if isinstance(self.path, (str, bytes)) or not isinstance(self.path, Iterable):
            raise SpaceError(f"path must be a list of scales, got {self.path!r}.")
        path = tuple(_check_int(s, "path entry") for s in self.path)
        if not path:
            raise SpaceError("a trellis path needs at least one layer.")
        previous = 0
        for layer, s in enumerate(path, start=1):
            if s >= scales or abs(s - previous) > 1:
                raise SpaceError(
                    f"path {list(path)} moves from scale {previous} to {s} at layer {layer}; a "
                    f"step moves at most one scale, within 0..{scales - 1}."
                )
            previous = s
        pairs = _as_pairs(self.cell, "cell")
        concat = _as_ints(self.concat, "concat")
        _check_cell("trellis", pairs, concat, ipn)
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "cell", pairs)
        object.__setattr__(self, "concat", concat)

    @property
    def num_layers(self) -> int:
        """Layers of the network (length of the path)."""
        return len(self.path)

    @property
    def n_nodes(self) -> int:
        """Intermediate nodes of the cell."""
        return len(self.cell) // self.inputs_per_node

    def transitions(self) -> tuple[str, ...]:
        """``down``/``same``/``up`` per layer."""
        return path_transitions(self.path)

    def edge_ops(self) -> tuple[str, ...]:
        """The op of every cell edge, in node order."""
        return tuple(op for op, _ in self.cell)

    def ops(self) -> frozenset[str]:
        """The cell ops used."""
        return frozenset(self.edge_ops())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (with ``"kind": "trellis"``)."""
        return {
            "kind": self.kind,
            "path": list(self.path),
            "cell": [list(p) for p in self.cell],
            "concat": list(self.concat),
            "num_scales": self.num_scales,
            "inputs_per_node": self.inputs_per_node,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrellisGenotype:
        """Build from :meth:`to_dict` output."""
        _check_kind(d, cls.kind)
        keys = ("kind", "path", "cell", "concat", "num_scales", "inputs_per_node")
        _check_keys(d, keys, "trellis genotype")
        missing = [k for k in keys[1:5] if k not in d]
        if missing:
            raise SpaceError(f"a trellis genotype needs {', '.join(missing)}; it is missing.")
        return cls(d["path"], d["cell"], d["concat"], d["num_scales"], d.get("inputs_per_node", 2))

    def to_json(self) -> str:
        """The canonical JSON text."""
        return _canonical_json(self.to_dict())


@register_space("trellis")
class TrellisSpace(Space):
    """Auto-DeepLab / MS-NAS's trellis: a path over scales and one cell, for segmentation.

    Args:
        num_layers: layers of the trellis (Auto-DeepLab: 12; small on a CPU).
        ops: op-set name or op list of the cell edges (default the DARTS set).
        n_nodes: intermediate nodes of the cell.
        inputs_per_node: edges a node keeps (1 or 2).
        skeleton: a :class:`UNetSkeleton` (``depth``: scales below the input; ``channels``:
            the width at scale 0, doubled per scale).

    Example:
        >>> TrellisSpace(num_layers=2, skeleton={"depth": 1}).n_paths()
        4
    """

    task = "segmentation"
    strategies = ("pcdarts", "darts")

    def __init__(
        self,
        num_layers: int = 4,
        ops: str | Sequence[str] = "darts",
        n_nodes: int = 2,
        inputs_per_node: int = 2,
        skeleton: UNetSkeleton | Mapping[str, Any] | None = None,
    ) -> None:
        num_layers, n_nodes = plain_numbers(num_layers), plain_numbers(n_nodes)
        inputs_per_node = plain_numbers(inputs_per_node)
        for label, value in (
            ("num_layers", num_layers),
            ("n_nodes", n_nodes),
            ("inputs_per_node", inputs_per_node),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SpaceError(f"TrellisSpace {label} must be an integer >= 1, got {value!r}.")
        check_n_nodes("TrellisSpace", n_nodes)
        check_at_most("TrellisSpace", "num_layers", num_layers, MAX_LAYERS, "a cell per scale each")
        if inputs_per_node > 2:
            raise SpaceError(
                f"TrellisSpace inputs_per_node={inputs_per_node} exceeds the 2 inputs the first "
                "node can pick; use 1 or 2."
            )
        self.op_set, self.ops = resolve_ops(ops, "darts")
        self.choices = tuple(o for o in self.ops if o != ZERO_OP)
        if not self.choices:
            raise SpaceError("TrellisSpace ops need at least one op other than 'none'.")
        self.num_layers, self.n_nodes, self.inputs_per_node = num_layers, n_nodes, inputs_per_node
        self.skeleton = UNetSkeleton.coerce(skeleton)
        check_op_dims(self.ops, self.skeleton.spatial_dims, "TrellisSpace")
        self.num_scales = self.skeleton.depth + 1
        self.concat = tuple(range(2, 2 + n_nodes))
        self.mask = trellis_mask(num_layers, self.num_scales)

    # -- sizes --------------------------------------------------------------------------------

    def check_input_size(self, size: int, offered: Sequence[int] | None = None) -> None:
        """Raise a one-line ConfigError unless every scale divides ``size``-edged images.

        ``offered``: the sizes the dataset comes in; the advice names those that fit.
        """
        multiple = 2**self.skeleton.depth
        if size % multiple:
            raise ConfigError(
                f"the trellis with depth {self.skeleton.depth} needs an image size that is a "
                f"multiple of {multiple}; {size} is not, so "
                f"{size_advice(size, multiple, self.skeleton.depth, offered=offered)}."
            )

    def _path_counts(self) -> list[list[int]]:
        """``counts[l][s]``: completions of a path that is at scale ``s`` after layer ``l``."""
        counts = [[0] * self.num_scales for _ in range(self.num_layers + 1)]
        counts[self.num_layers] = [1] * self.num_scales
        for layer in reversed(range(self.num_layers)):
            for s in range(self.num_scales):
                counts[layer][s] = sum(
                    counts[layer + 1][s2] for s2 in (s - 1, s, s + 1) if 0 <= s2 < self.num_scales
                )
        return counts

    def n_paths(self) -> int:
        """Network paths from the stem (scale 0) through every layer."""
        return self._path_counts()[0][0]

    def _node_options(self, i: int) -> list[tuple[Pair, ...]]:
        out = []
        for inputs in itertools.combinations(range(i + 2), self.inputs_per_node):
            for ops in itertools.product(self.choices, repeat=self.inputs_per_node):
                out.append(tuple(zip(ops, inputs, strict=True)))
        return out

    def cell_size(self) -> int:
        """Distinct cells."""
        per_node = len(self.choices) ** self.inputs_per_node
        return math.prod(
            math.comb(i + 2, self.inputs_per_node) * per_node for i in range(self.n_nodes)
        )

    def size(self) -> int:
        """Distinct (path, cell) architectures."""
        return self.n_paths() * self.cell_size()

    # -- membership ---------------------------------------------------------------------------

    def validate(self, genotype: TrellisGenotype | str) -> TrellisGenotype:
        """Check layers, scales, node count and ops against this space."""
        g = parse_genotype(genotype)
        if not isinstance(g, TrellisGenotype):
            raise SpaceError(f"the 'trellis' space holds trellis genotypes, not {g.kind!r} ones.")
        if (g.num_layers, g.num_scales) != (self.num_layers, self.num_scales):
            raise SpaceError(
                f"genotype has {g.num_layers} layers over {g.num_scales} scales; this space has "
                f"{self.num_layers} over {self.num_scales}."
            )
        if (g.n_nodes, g.inputs_per_node) != (self.n_nodes, self.inputs_per_node):
            raise SpaceError(
                f"genotype cell has {g.n_nodes} nodes x {g.inputs_per_node} inputs; this space "
                f"{self.n_nodes} x {self.inputs_per_node}."
            )
        outside = sorted(set(g.edge_ops()) - set(self.choices))
        if outside:
            raise SpaceError(f"ops {outside} are not in this space's {list(self.choices)}.")
        return g

    def _make(self, path: Sequence[int], cell: Sequence[Pair]) -> TrellisGenotype:
        return TrellisGenotype(
            tuple(path), cell, self.concat, self.num_scales, self.inputs_per_node
        )

    # -- sampling and moves -------------------------------------------------------------------

    def sample(self, rng: np.random.Generator) -> TrellisGenotype:
        """A uniformly random path (weighted by completions) and a uniformly random cell."""
        counts = self._path_counts()
        path, s = [], 0
        for layer in range(self.num_layers):
            nxt = [s2 for s2 in (s - 1, s, s + 1) if 0 <= s2 < self.num_scales]
            w = np.array([counts[layer + 1][s2] for s2 in nxt], dtype=float)
            s = nxt[int(rng.choice(len(nxt), p=w / w.sum()))]
            path.append(s)
        cell: list[Pair] = []
        for i in range(self.n_nodes):
            options = self._node_options(i)
            cell += options[int(rng.integers(len(options)))]
        return self._make(tuple(path), cell)

    def neighbours(self, genotype: TrellisGenotype | str) -> list[TrellisGenotype]:
        """Every architecture one move away: one cell edge's op, or one scale of the path."""
        g = self.validate(genotype)
        out = []
        for k, (op, inp) in enumerate(g.cell):
            for other in self.choices:
                if other != op:
                    cell = list(g.cell)
                    cell[k] = (other, inp)
                    out.append(self._make(g.path, cell))
        for layer in range(g.num_layers):
            for s in range(self.num_scales):
                if s == g.path[layer]:
                    continue
                path = (*g.path[:layer], s, *g.path[layer + 1 :])
                if _feasible(path, self.num_scales):
                    out.append(self._make(path, g.cell))
        return out

    def _iter_all(self) -> Iterator[TrellisGenotype]:
        paths = [
            p
            for p in itertools.product(range(self.num_scales), repeat=self.num_layers)
            if _feasible(p, self.num_scales)
        ]
        cells = itertools.product(*(self._node_options(i) for i in range(self.n_nodes)))
        for cell in list(cells):
            pairs = [pair for node in cell for pair in node]
            for path in paths:
                yield self._make(path, pairs)

    # -- encodings ----------------------------------------------------------------------------

    def encoding_length(self, encoding: str = "onehot") -> int:
        """``layers * scales`` (one-hot scale per layer) plus ``edges * ops`` of the cell."""
        self._check_encoding(encoding)
        n_edges = sum(i + 2 for i in range(self.n_nodes))
        return self.num_layers * self.num_scales + n_edges * len(self.choices)

    def encode(self, genotype: TrellisGenotype | str, encoding: str = "onehot") -> np.ndarray:
        """One-hot scale per layer, then a one-hot op on every chosen cell edge."""
        self._check_encoding(encoding)
        g = self.validate(genotype)
        vec = np.zeros(self.encoding_length(), dtype=np.float32)
        for layer, s in enumerate(g.path):
            vec[layer * self.num_scales + s] = 1.0
        base = self.num_layers * self.num_scales
        ipn = g.inputs_per_node
        for k, (op, inp) in enumerate(g.cell):
            node = k // ipn
            edge = sum(i + 2 for i in range(node)) + inp
            vec[base + edge * len(self.choices) + self.choices.index(op)] = 1.0
        return vec

    # -- networks and serialisation -----------------------------------------------------------

    def default_skeleton(self) -> UNetSkeleton:
        """The space's skeleton."""
        return self.skeleton

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :func:`space_from_dict` rebuilds an equal space."""
        return {
            "name": self.name,
            "num_layers": self.num_layers,
            "ops": self.op_set or list(self.ops),
            "n_nodes": self.n_nodes,
            "inputs_per_node": self.inputs_per_node,
            "skeleton": self.skeleton.to_dict(),
        }


def _feasible(path: Sequence[int], num_scales: int) -> bool:
    previous = 0
    for s in path:
        if not 0 <= s < num_scales or abs(s - previous) > 1:
            return False
        previous = s
    return True
