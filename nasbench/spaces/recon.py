"""The unrolled reconstruction space: T cascades of (searched cell, data consistency).

An MRI reconstruction network in the style of Schlemper et al.'s cascade and NAS
for reconstruction (Yan et al., 2020; EMR-NAS): the zero-filled image goes through
``cascades`` blocks; each maps the complex image (2 channels) through a stem
convolution, ``cells`` DARTS-style cells and a 1x1 head back to 2 channels, adds it
to its input (a residual denoiser), and puts the measured k-space back (data
consistency: hard replacement, or a learned weighted average). The output is the
magnitude image. One cell genotype is shared by every cascade, as DARTS shares its
normal cell; each cascade has its own weights.

- :class:`ReconGenotype` (``"recon"``): the cell (pairs and concat, the DARTS
  notation of a normal cell).
- :class:`ReconSkeleton`: cascades, cells per cascade, width, the data-consistency kind.
- :class:`ReconSpace` (``"unrolled"``): the space, counted, sampled and encoded as one
  DARTS cell; its default op set ``recon`` holds convolutions, residual and dilated
  ones and the efficient depthwise-separable ones (no pools: they blur detail).

Example:
    >>> space = ReconSpace(n_nodes=2)
    >>> g = space.sample(np.random.default_rng(0))
    >>> g.kind, space.contains(g), space.size()
    ('recon', True, 7203)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

import numpy as np

from nasbench.errors import SpaceError, closest_name
from nasbench.spaces.base import Space, register_space
from nasbench.spaces.cell import CellSpace
from nasbench.spaces.genotype import (
    Genotype,
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
from nasbench.spaces.skeleton import MAX_CELLS, store_plain_numbers

DATA_CONSISTENCY = ("hard", "learned")
# Cascades of an unrolled network: published ones use 5 to 15 (Schlemper et al.'s cascade
# 5, MoDL 10, VarNet 12); 32 leaves room past them, where 1,000,000 hangs the build.
MAX_CASCADES = 32
CELL_TYPES = ("normal",)


@register_genotype_kind
@dataclass(frozen=True)
class ReconGenotype:
    """The cell shared by every cascade of an unrolled reconstruction network.

    Args:
        normal: (op, input) pairs, ``inputs_per_node`` per intermediate node; input 0 is
            the cascade's stem output, input 1 the previous cell's (the stem for the first).
        normal_concat: the states concatenated into the cell output.
        inputs_per_node: pairs per node.

    Example:
        >>> g = ReconGenotype([("conv_3x3", 0), ("res_conv_3x3", 1)], [2])
        >>> g.n_nodes, sorted(g.ops())
        (1, ['conv_3x3', 'res_conv_3x3'])
    """

    normal: tuple[Pair, ...]
    normal_concat: tuple[int, ...]
    inputs_per_node: int = 2
    kind: ClassVar[str] = "recon"
    CELL_TYPES: ClassVar[tuple[str, ...]] = CELL_TYPES

    def __post_init__(self) -> None:
        ipn = _check_int(self.inputs_per_node, "inputs_per_node", minimum=1)
        pairs = _as_pairs(self.normal, "normal")
        concat = _as_ints(self.normal_concat, "normal_concat")
        _check_cell("normal", pairs, concat, ipn)
        object.__setattr__(self, "normal", pairs)
        object.__setattr__(self, "normal_concat", concat)

    @property
    def n_nodes(self) -> int:
        """Intermediate nodes of the cell."""
        return len(self.normal) // self.inputs_per_node

    def cell(self, cell_type: str = "normal") -> tuple[tuple[Pair, ...], tuple[int, ...]]:
        """The (pairs, concat) of the cell (its only cell type is ``"normal"``)."""
        if cell_type != "normal":
            raise SpaceError(f"a recon genotype has one cell, 'normal', not {cell_type!r}.")
        return self.normal, self.normal_concat

    def nodes(self, cell_type: str = "normal") -> tuple[tuple[Pair, ...], ...]:
        """The cell's pairs grouped per intermediate node."""
        pairs, _ = self.cell(cell_type)
        k = self.inputs_per_node
        return tuple(pairs[i : i + k] for i in range(0, len(pairs), k))

    def ops(self) -> frozenset[str]:
        """The op names the cell uses."""
        return frozenset(self.edge_ops())

    def edge_ops(self) -> tuple[str, ...]:
        """Every edge's op, repeats kept."""
        return tuple(op for op, _ in self.normal)

    def to_darts(self) -> Genotype:
        """The DARTS genotype with this cell as both its normal and its reduction cell."""
        return Genotype(
            self.normal, self.normal_concat, self.normal, self.normal_concat, self.inputs_per_node
        )

    @classmethod
    def from_darts(cls, genotype: Genotype) -> ReconGenotype:
        """The normal cell of a DARTS genotype (e.g. one derived by the DARTS rule)."""
        return cls(genotype.normal, genotype.normal_concat, genotype.inputs_per_node)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (with ``"kind": "recon"``)."""
        return {
            "kind": self.kind,
            "normal": [list(p) for p in self.normal],
            "normal_concat": list(self.normal_concat),
            "inputs_per_node": self.inputs_per_node,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ReconGenotype:
        """Build from :meth:`to_dict` output."""
        _check_kind(d, cls.kind)
        _check_keys(d, ("kind", "normal", "normal_concat", "inputs_per_node"), "recon genotype")
        for key in ("normal", "normal_concat"):
            if key not in d:
                raise SpaceError(f"a recon genotype needs {key!r}.")
        return cls(d["normal"], d["normal_concat"], d.get("inputs_per_node", 2))

    def to_json(self) -> str:
        """The canonical JSON form (sorted keys, compact)."""
        return _canonical_json(self.to_dict())


@dataclass(frozen=True)
class ReconSkeleton:
    """The macro frame of an unrolled reconstruction network.

    Args:
        cascades: (cell, data consistency) blocks, T (3-5 in the literature).
        cells: searched cells per cascade.
        channels: cell width C (the stem maps the 2-channel image to C).
        data_consistency: ``"hard"`` (measured k-space replaces the prediction's) or
            ``"learned"`` (a learned per-cascade weighted average of the two).
        in_channels: sample channels (3 for one coil, 4C + 1 for C coils); set by the data.
        num_classes: unused (0); kept so the search loop fits it like any skeleton.
        spatial_dims: 2.

    Example:
        >>> ReconSkeleton(cascades=4, cells=2).n_cells
        8
    """

    cascades: int = 3
    cells: int = 1
    channels: int = 16
    data_consistency: str = "hard"
    in_channels: int = 3
    num_classes: int = 0
    spatial_dims: int = 2

    def __post_init__(self) -> None:
        store_plain_numbers(self)
        for name in ("cascades", "cells", "channels"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SpaceError(f"ReconSkeleton.{name} must be an integer >= 1, got {value!r}.")
        if self.cascades > MAX_CASCADES:  # would build for minutes before any memory error
            raise SpaceError(
                f"ReconSkeleton.cascades {self.cascades} is past {MAX_CASCADES}; unrolled "
                "reconstruction networks use 5 to 15 cascades, so give a count up to that order."
            )
        if self.n_cells > MAX_CELLS:  # the cap of any cell stack (Skeleton.n_cells)
            raise SpaceError(
                f"ReconSkeleton.cells {self.cells} per cascade makes {self.n_cells} cells over "
                f"{self.cascades} cascades, past {MAX_CELLS}; give cells * cascades <= {MAX_CELLS}."
            )
        if self.data_consistency not in DATA_CONSISTENCY:
            raise SpaceError(
                f"ReconSkeleton.data_consistency must be one of {', '.join(DATA_CONSISTENCY)}, "
                f"got {self.data_consistency!r}."
            )
        # nasbench.data.kspace's layouts: 3 channels for one coil, 4C + 1 for C coils.
        if self.in_channels != 3 and (self.in_channels < 5 or (self.in_channels - 1) % 4):
            raise SpaceError(
                f"an unrolled network reads reconstruction samples of 3 channels (one coil: "
                f"zero-filled real, imaginary, mask) or 4C+1 (C coils), not {self.in_channels}; "
                "use a reconstruction dataset such as mni152-recon."
            )
        if self.spatial_dims != 2:
            raise SpaceError(
                f"ReconSkeleton is 2D; got spatial_dims={self.spatial_dims!r}, so set it to 2."
            )

    @property
    def n_cells(self) -> int:
        """Cells in the whole network (``cascades * cells``)."""
        return self.cascades * self.cells

    def reductions(self) -> tuple[int, ...]:
        """No cell changes the resolution: a reconstruction stays on the image grid."""
        return ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ReconSkeleton:
        """Build from :meth:`to_dict` output (missing keys take defaults).

        Example:
            >>> ReconSkeleton.from_dict({"cascades": 5}).cascades
            5
        """
        if not isinstance(d, Mapping):
            raise SpaceError(f"a skeleton must be a dict, got {type(d).__name__}.")
        names = [f.name for f in fields(cls)]
        for key in d:
            if key not in names:
                raise SpaceError(
                    f"unknown recon skeleton key {key!r}; expected {', '.join(names)}."
                    f"{closest_name(str(key), names)}"
                )
        return cls(**dict(d))

    @classmethod
    def coerce(cls, skeleton: Any) -> ReconSkeleton:
        """A skeleton from None (the defaults), a dict or a skeleton."""
        if skeleton is None:
            return cls()
        if isinstance(skeleton, Mapping):
            return cls.from_dict(skeleton)
        if not isinstance(skeleton, cls):
            raise SpaceError(f"skeleton must be a ReconSkeleton or a dict, got {skeleton!r}.")
        return skeleton


@register_space("unrolled")
class ReconSpace(Space):
    """One DARTS-style cell, unrolled with data consistency (module docstring).

    Args:
        ops: an op-set name (default ``"recon"``) or a list of op names (``'none'`` is
            kept for the supernet, never chosen).
        n_nodes: intermediate nodes of the cell.
        inputs_per_node: inputs per node (1 or 2).
        skeleton: a :class:`ReconSkeleton` or its dict.

    Example:
        >>> ReconSpace(n_nodes=2).encoding_length()
        35
    """

    task = "reconstruction"

    def __init__(
        self,
        ops: str | Sequence[str] = "recon",
        n_nodes: int = 2,
        inputs_per_node: int = 2,
        skeleton: ReconSkeleton | Mapping[str, Any] | None = None,
    ) -> None:
        # The cell is a DARTS cell: its counting, sampling and encodings are CellSpace's,
        # read off the normal half of a DARTS genotype whose two cells are the same.
        self._cells = CellSpace(ops, n_nodes, inputs_per_node)
        self.op_set = self._cells.op_set
        self.ops, self.choices = self._cells.ops, self._cells.choices
        self.n_nodes, self.inputs_per_node = n_nodes, inputs_per_node
        self.skeleton = ReconSkeleton.coerce(skeleton)
        self.concat = self._cells.concat

    def size(self) -> int:
        """Distinct cells."""
        return self._cells.cell_size()

    def validate(self, genotype: ReconGenotype | str) -> ReconGenotype:
        """Return the genotype (parsed if text) or raise a one-line SpaceError."""
        g = parse_genotype(genotype)
        if not isinstance(g, ReconGenotype):
            raise SpaceError(f"the 'unrolled' space holds recon genotypes, not {g.kind!r} ones.")
        self._cells.validate(g.to_darts())
        return g

    def _make(self, pairs: Iterable[Pair]) -> ReconGenotype:
        return ReconGenotype(tuple(pairs), self.concat, self.inputs_per_node)

    def sample(self, rng: np.random.Generator) -> ReconGenotype:
        """A uniformly random cell."""
        return self._make(self._cells._sample_cell(rng))

    def neighbours(self, genotype: ReconGenotype | str) -> list[ReconGenotype]:
        """Every cell one op or one input of one edge away."""
        darts = self.validate(genotype).to_darts()
        # CellSpace moves one cell at a time; the moves that keep the reduction cell are
        # exactly the moves of the normal cell.
        return [
            ReconGenotype.from_darts(n)
            for n in self._cells.neighbours(darts)
            if n.reduce == darts.reduce
        ]

    def _iter_all(self) -> Iterator[ReconGenotype]:
        per_node = [self._cells._node_options(i) for i in range(self.n_nodes)]
        for combo in itertools.product(*per_node):
            yield self._make(pair for node in combo for pair in node)

    def encoding_length(self, encoding: str = "onehot") -> int:
        """Length of :meth:`encode` vectors (``"onehot"`` or ``"path"``)."""
        return self._cells.encoding_length(encoding) // 2

    def encode(self, genotype: ReconGenotype | str, encoding: str = "onehot") -> np.ndarray:
        """The cell's DARTS encoding (``"onehot"`` or ``"path"``)."""
        full = self._cells.encode(self.validate(genotype).to_darts(), encoding)
        return full[: len(full) // 2]

    def default_skeleton(self) -> ReconSkeleton:
        """The space's skeleton."""
        return self.skeleton

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :func:`space_from_dict` rebuilds an equal space."""
        # The cell's settings are CellSpace's; the name and the skeleton are this space's.
        return {**self._cells.to_dict(), "name": self.name, "skeleton": self.skeleton.to_dict()}
