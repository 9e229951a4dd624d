"""The C2FNAS space (Yu et al., CVPR 2020): a U-shaped topology of cells, then each cell's conv.

C2FNAS searches a 3D segmentation network coarse to fine, in two stages:

1. **macro (topology)**: the network is a chain of ``num_cells`` cells; each cell runs
   at a resolution level (0 = the stem's, level ``l`` at ``1/2**l`` of it, ``channels *
   2**l`` wide). A topology is the list of the cells' levels. It is *U-shaped*: it starts
   and ends at level 0, moves at most one level from one cell to the next, goes down
   (deeper) and then only up, reaches at least level 1 and never passes the skeleton's
   ``depth``. On the way up a cell adds the last map the way down left at its level (the
   U-Net skip). The ``c2fnas`` search samples ``candidates`` topologies, trains each
   shortly with one fixed conv in every cell (``proxy_op``) and keeps the one with the
   lowest validation loss (:mod:`nasbench.strategies.topology.c2fnas`).
2. **micro (cells)**: on the chosen topology each cell picks a conv from the ``vnas`` op
   set (``vnas_2d_3x3``, ``vnas_3d_3x3``, ``vnas_p3d_3x3``, V-NAS's ops), searched by
   DARTS, GDAS or ProxylessNAS through the usual supernet (group ``cells``).

A space without ``topology`` holds every (topology, ops) pair; with one it holds the
ops of that topology only (stage 2's space). The genotype is a
:class:`C2fnasGenotype` (levels and ops). Stage 1 is recorded as a ``c2fnas_topologies``
event, stage 2 as the alphas of group ``cells``; a resumed search runs stage 1 again
(same seed, same choice) before it loads stage 2's checkpoint.

BiX-NAS (which multi-scale skips a recurrent bi-directional U-Net keeps at each
iteration, searched by progressive evolutionary shrinking) is not implemented: the
project has no recurrent BiO-Net, its supernets choose ops on edges rather than sets
of feature maps across iterations, and its discrete strategies do not shrink one shared
supernet phase by phase. For which connections between scales a network needs, it
offers this space's topology stage and ``dints`` (README, Segmentation).

Example:
    >>> space = C2fnasSpace(num_cells=4, skeleton={"depth": 1})
    >>> space.topologies()
    ((0, 0, 1, 0), (0, 1, 0, 0), (0, 1, 1, 0))
    >>> space.size() == 3 * 3 ** 4
    True
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from nasbench.errors import ConfigError, SpaceError
from nasbench.options import plain_numbers
from nasbench.spaces.base import (
    Space,
    check_at_most,
    op_outside_error,
    register_space,
    resolve_ops,
    size_advice,
)
from nasbench.spaces.genotype import parse_genotype, register_genotype_kind
from nasbench.spaces.seg_genotypes import _canonical_json, _check_keys, _check_kind, _ops_tuple
from nasbench.spaces.skeleton import UNetSkeleton

Topology = tuple[int, ...]


def topology_error(levels: Sequence[int], depth: int) -> str | None:
    """Why ``levels`` is not a U-shaped topology of a depth-``depth`` skeleton (None: it is).

    Example:
        >>> topology_error((0, 1, 0), 2) is None
        True
        >>> topology_error((0, 1, 0, 1, 0), 2)
        'it goes up at cell 2 and down again at cell 3; a U goes down, then only up.'
    """
    if len(levels) < 3:
        return f"it has {len(levels)} cells; a U needs at least 3 (down, bottom, up)."
    if levels[0] != 0 or levels[-1] != 0:
        return "it must start and end at level 0 (the stem's resolution)."
    if max(levels) < 1:
        return "it never leaves level 0; a U reaches level 1 at least."
    if max(levels) > depth or min(levels) < 0:
        return f"its levels must lie in 0..{depth} (the skeleton's depth)."
    rising = None
    for k in range(1, len(levels)):
        step = levels[k] - levels[k - 1]
        if abs(step) > 1:
            return f"it jumps {step:+d} levels at cell {k}; a cell moves one level at most."
        if step < 0 and rising is None:
            rising = k
        if step > 0 and rising is not None:
            return (
                f"it goes up at cell {rising} and down again at cell {k}; "
                "a U goes down, then only up."
            )
    return None


def all_topologies(num_cells: int, depth: int) -> tuple[Topology, ...]:
    """Every U-shaped topology of ``num_cells`` cells, in lexicographic order.

    Example:
        >>> all_topologies(3, 2)
        ((0, 1, 0),)
    """
    out: list[Topology] = []

    def grow(levels: list[int], rising: bool) -> None:
        # Only moves that can still return to level 0 in the cells left are tried.
        if len(levels) == num_cells:
            if levels[-1] == 0 and max(levels) >= 1:
                out.append(tuple(levels))
            return
        here, left = levels[-1], num_cells - len(levels)
        for step in (-1, 0, 1):
            level = here + step
            if 0 <= level <= depth and level <= left - 1 and not (rising and step > 0):
                grow([*levels, level], rising or step < 0)

    if num_cells >= 1:
        grow([0], False)
    return tuple(sorted(out))


@register_genotype_kind
@dataclass(frozen=True)
class C2fnasGenotype:
    """A C2FNAS network: the level (topology) and the conv of every cell.

    Args:
        levels: the resolution level of each cell (0: the stem's).
        ops: the conv of each cell.

    Example:
        >>> g = C2fnasGenotype((0, 1, 0), ("vnas_3d_3x3", "vnas_2d_3x3", "vnas_p3d_3x3"))
        >>> g.edge_ops()[1]
        'vnas_2d_3x3'
    """

    levels: tuple[int, ...]
    ops: tuple[str, ...]
    kind: ClassVar[str] = "c2fnas"

    def __post_init__(self) -> None:
        levels = _levels(self.levels)
        if levels is None:
            raise SpaceError(f"c2fnas levels must be integers, got {self.levels!r}.")
        object.__setattr__(self, "levels", levels)
        object.__setattr__(self, "ops", _ops_tuple(self.ops, "ops"))
        if len(self.levels) != len(self.ops):
            raise SpaceError(
                f"a c2fnas genotype has {len(self.levels)} levels but {len(self.ops)} ops; "
                "give one of each per cell."
            )

    def edge_ops(self) -> tuple[str, ...]:
        """Every cell's conv, first cell first."""
        return self.ops

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (with ``"kind": "c2fnas"``)."""
        return {"kind": self.kind, "levels": list(self.levels), "ops": list(self.ops)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> C2fnasGenotype:
        """Build from :meth:`to_dict` output."""
        _check_kind(d, cls.kind)
        _check_keys(d, ("kind", "levels", "ops"), "c2fnas genotype")
        if "levels" not in d or "ops" not in d:
            raise SpaceError("a c2fnas genotype needs 'levels' and 'ops' lists.")
        return cls(d["levels"], d["ops"])

    def to_json(self) -> str:
        """The canonical JSON text."""
        return _canonical_json(self.to_dict())


# Cells of a C2FNAS chain: the space lists every U-shaped topology, whose number grows
# about fourfold per cell (0.2 s at 32 cells, 9 s at 60).
MAX_C2FNAS_CELLS = 32
# Stage 1 trains every candidate from scratch, so candidates x proxy_steps steps run before
# stage 2 starts. A proxy is a short training: 10,000 steps is a whole training of these
# small networks (and the workbench's widget stops there); 1,000 candidates of it are 10**7 steps.
MAX_PROXY_STEPS = 10_000
# Candidates past the number of U-shaped topologies are clamped to it, but with many cells
# and levels there are millions of those; 1,000 proxy trainings are already a long stage 1.
MAX_CANDIDATES = 1_000


def _levels(values: Any) -> tuple[int, ...] | None:
    """``values`` as a tuple of ints, or None when any is not a whole number (a bool, a
    float or a digit string would otherwise be truncated into some other topology)."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        return None
    values = list(values)
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        return None
    return tuple(int(v) for v in values)


def _positive_int(value: Any, name: str, low: int = 1) -> int:
    value = plain_numbers(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise SpaceError(f"C2fnasSpace {name} must be an integer >= {low}, got {value!r}.")
    return value


@register_space("c2fnas")
class C2fnasSpace(Space):
    """C2FNAS: a U-shaped topology of cells (stage 1), then each cell's conv (stage 2).

    Args:
        num_cells: cells in the chain (C2FNAS: 12; a CPU: 4-6).
        ops: an op-set name (default ``"vnas"``) or a list of 3D op names.
        topology: the cells' levels; None: stage 1 searches it.
        candidates: topologies stage 1 samples and scores.
        proxy_steps: training steps of each stage-1 candidate.
        proxy_op: the conv of every cell while stage 1 scores topologies.
        proxy_lr: the Adam learning rate of those proxy trainings.
        skeleton: a 3D :class:`UNetSkeleton` (``depth``: the deepest level).

    Example:
        >>> C2fnasSpace(num_cells=5, topology=[0, 1, 2, 1, 0]).size()
        243
    """

    task = "segmentation"
    strategies = ("darts", "gdas", "proxyless")

    def __init__(
        self,
        num_cells: int = 6,
        ops: str | Sequence[str] = "vnas",
        topology: Sequence[int] | None = None,
        candidates: int = 4,
        proxy_steps: int = 4,
        proxy_op: str = "vnas_3d_3x3",
        proxy_lr: float = 0.01,
        skeleton: UNetSkeleton | Mapping[str, Any] | None = None,
    ) -> None:
        self.num_cells = _positive_int(num_cells, "num_cells", 3)
        check_at_most("C2fnasSpace", "num_cells", num_cells, MAX_C2FNAS_CELLS,
                      "its U-shaped topologies are all listed; C2FNAS used 12")  # fmt: skip
        self.candidates = _positive_int(candidates, "candidates")
        check_at_most("C2fnasSpace", "candidates", self.candidates, MAX_CANDIDATES,
                      "stage 1 trains each one from scratch before stage 2 starts")  # fmt: skip
        self.proxy_steps = _positive_int(proxy_steps, "proxy_steps")  # 0 would rank untrained nets
        check_at_most("C2fnasSpace", "proxy_steps", self.proxy_steps, MAX_PROXY_STEPS,
                      "every candidate trains this many steps; a proxy is short")  # fmt: skip
        proxy_lr = plain_numbers(proxy_lr)
        if (
            isinstance(proxy_lr, bool)
            or not isinstance(proxy_lr, (int, float))
            or not 0 < proxy_lr < math.inf  # NaN fails too: the proxy trainings would diverge
        ):
            raise SpaceError(
                f"C2fnasSpace proxy_lr must be a number > 0 and finite, got {proxy_lr!r}."
            )
        self.proxy_lr = float(proxy_lr)
        self.op_set, self.ops = resolve_ops(ops, "vnas")
        self.choices = tuple(op for op in self.ops if op != "none")
        if not self.choices:
            raise SpaceError("C2fnasSpace needs at least one op other than 'none'.")
        if proxy_op not in self.choices:
            raise op_outside_error(proxy_op, "proxy_op", self.choices, self.op_set)
        self.proxy_op = proxy_op
        self.skeleton = UNetSkeleton.coerce(skeleton, spatial_dims=3)
        if self.skeleton.spatial_dims != 3:
            raise SpaceError(
                "C2FNAS chooses between 2D, 3D and pseudo-3D convs of volumes, so it needs "
                "3D data: pick a 3D dataset (skeleton spatial_dims = 3)."
            )
        if not all_topologies(self.num_cells, self.skeleton.depth):
            raise SpaceError(
                f"no U-shaped topology has {self.num_cells} cells; use num_cells >= 3."
            )
        self.topology: Topology | None = None
        if topology is not None:
            self.topology = self.check_topology(topology)

    # -- topology ---------------------------------------------------------------------------

    def check_topology(self, levels: Any) -> Topology:
        """``levels`` as a tuple, or a one-line SpaceError saying why it is not a U."""
        out = _levels(levels)
        if out is None:
            raise SpaceError(f"a C2FNAS topology is a list of whole-number levels, got {levels!r}.")
        if len(out) != self.num_cells:
            raise SpaceError(
                f"topology {list(out)} has {len(out)} cells; this space has {self.num_cells}."
            )
        why = topology_error(out, self.skeleton.depth)
        if why is not None:
            raise SpaceError(f"topology {list(out)} is not U-shaped: {why}")
        return out

    def topologies(self) -> tuple[Topology, ...]:
        """The topologies of this space: all U-shaped ones, or the fixed one."""
        if self.topology is not None:
            return (self.topology,)
        return all_topologies(self.num_cells, self.skeleton.depth)

    def sample_topologies(self, seed: int) -> tuple[Topology, ...]:
        """Stage 1's candidates: ``candidates`` distinct topologies drawn uniformly by ``seed``
        (all of them when there are fewer)."""
        every = self.topologies()
        rng = np.random.default_rng(seed)
        picks = rng.choice(len(every), size=min(self.candidates, len(every)), replace=False)
        return tuple(every[int(i)] for i in picks)

    def largest_topology(self) -> Topology:
        """The topology with the most activation memory: 3D maps shrink 8x and widen 2x a
        level down, so the one with the most cells near level 0 (memory is estimated on it
        before stage 1 has chosen)."""
        return max(self.topologies(), key=lambda t: (sum(4.0**-lv for lv in t), t))

    def with_topology(self, levels: Sequence[int]) -> C2fnasSpace:
        """This space with its topology fixed (stage 2's space)."""
        return C2fnasSpace(**{**self._kwargs(), "topology": list(levels)})

    def multiple(self) -> int:
        """Volume edges must be multiples of this: ``2 ** (depth + 1)`` (a strided stem)."""
        return 2 ** (self.skeleton.depth + 1)

    def check_input_size(self, size: int, offered: Sequence[int] | None = None) -> None:
        """Raise a one-line ConfigError unless C2FNAS can run on ``size``-edged volumes.

        ``offered``: the sizes the dataset comes in; the advice names those that fit.
        """
        if size % self.multiple():
            raise ConfigError(
                f"C2FNAS with depth {self.skeleton.depth} needs a volume edge that is a multiple "
                f"of {self.multiple()}; {size} is not, so "
                f"{size_advice(size, self.multiple(), self.skeleton.depth, 1, offered)}."
            )

    # -- membership -------------------------------------------------------------------------

    def size(self) -> int:
        """``topologies * len(choices) ** num_cells``."""
        return len(self.topologies()) * len(self.choices) ** self.num_cells

    def validate(self, genotype: C2fnasGenotype | str) -> C2fnasGenotype:
        """Check the topology is a U of this space and every op a choice."""
        g = parse_genotype(genotype)
        if not isinstance(g, C2fnasGenotype):
            raise SpaceError(f"the 'c2fnas' space holds C2FNAS genotypes, not {g.kind!r} ones.")
        levels = self.check_topology(g.levels)
        if self.topology is not None and levels != self.topology:
            raise SpaceError(
                f"genotype topology {list(levels)} is not this space's {list(self.topology)}."
            )
        for k, op in enumerate(g.ops):
            if op not in self.choices:
                raise op_outside_error(op, f"cell {k}", self.choices, self.op_set)
        return g

    def sample(self, rng: np.random.Generator) -> C2fnasGenotype:
        """A uniformly random topology and a uniformly random conv per cell."""
        every = self.topologies()
        levels = every[int(rng.integers(len(every)))]
        picks = rng.integers(len(self.choices), size=self.num_cells)
        return C2fnasGenotype(levels, tuple(self.choices[int(i)] for i in picks))

    def neighbours(self, genotype: C2fnasGenotype | str) -> list[C2fnasGenotype]:
        """Every genotype that differs in one cell's conv or in one cell's level."""
        g = self.validate(genotype)
        out = []
        for k, op in enumerate(g.ops):
            for other in self.choices:
                if other != op:
                    out.append(C2fnasGenotype(g.levels, g.ops[:k] + (other,) + g.ops[k + 1 :]))
        for levels in self.topologies():
            if sum(a != b for a, b in zip(levels, g.levels, strict=True)) == 1:
                out.append(C2fnasGenotype(levels, g.ops))
        return out

    def _iter_all(self) -> Iterator[C2fnasGenotype]:
        for levels in self.topologies():
            for ops in itertools.product(self.choices, repeat=self.num_cells):
                yield C2fnasGenotype(levels, ops)

    def encoding_length(self, encoding: str = "onehot") -> int:
        """``cells * (depth + 1 + len(choices))``: a one-hot level and a one-hot conv per cell."""
        self._check_encoding(encoding)
        return self.num_cells * (self.skeleton.depth + 1 + len(self.choices))

    def encode(self, genotype: C2fnasGenotype | str, encoding: str = "onehot") -> np.ndarray:
        """Per cell: its one-hot level, then its one-hot conv."""
        self._check_encoding(encoding)
        g = self.validate(genotype)
        width = self.skeleton.depth + 1 + len(self.choices)
        vec = np.zeros(self.encoding_length(), dtype=np.float32)
        for k, (level, op) in enumerate(zip(g.levels, g.ops, strict=True)):
            vec[k * width + level] = 1.0
            vec[k * width + self.skeleton.depth + 1 + self.choices.index(op)] = 1.0
        return vec

    # -- networks and serialisation ---------------------------------------------------------

    def default_skeleton(self) -> UNetSkeleton:
        """The space's 3D skeleton."""
        return self.skeleton

    def _kwargs(self) -> dict[str, Any]:
        return {
            "num_cells": self.num_cells,
            "ops": self.op_set if self.op_set is not None else list(self.ops),
            "topology": None if self.topology is None else list(self.topology),
            "candidates": self.candidates,
            "proxy_steps": self.proxy_steps,
            "proxy_op": self.proxy_op,
            "proxy_lr": self.proxy_lr,
            "skeleton": self.skeleton.to_dict(),
        }

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :func:`space_from_dict` rebuilds an equal space."""
        return {"name": self.name, **self._kwargs()}
