"""The DiNTS space (He et al., 2021; MONAI's ``TopologySearch``): topology and cell ops.

A DiNTS network runs ``num_blocks`` blocks over ``depth`` resolution levels. In each
block, each of the ``3 * depth - 2`` paths (a level to itself, one up, one down) is on
or off and carries one cell op (MONAI's ``Cell.OPS3D``: skip, 3x3x3, 3x3x1, 3x1x3,
1x3x3 convs). A topology is feasible when each block reads exactly the levels the
block before it wrote (MONAI's ``transfer_mtx``), which :meth:`DintsSpace.size`,
:meth:`~DintsSpace.sample` and :meth:`~DintsSpace.validate` all respect.

It is searched by the ``dints`` strategy (kind ``"topology"``) only: MONAI's
path-probability and RAM-cost losses belong to this space.

Example:
    >>> space = DintsSpace(num_blocks=2, skeleton={"depth": 2})
    >>> space.size()  # doctest: +SKIP
    1244160
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from nasbench.errors import ConfigError, SpaceError
from nasbench.options import plain_numbers
from nasbench.spaces.base import Space, check_at_most, register_space, size_advice
from nasbench.spaces.genotype import parse_genotype
from nasbench.spaces.seg_genotypes import DintsGenotype
from nasbench.spaces.skeleton import UNetSkeleton

Pattern = tuple[int, ...]

# Blocks of the topology: the DiNTS paper searches 12 (MONAI's TopologySearch defaults to
# 6); 32 leaves room past both, while 100,000 hangs the build. At the deepest
# allowed depth (5), 32 blocks build (space, size, sample, supernet) in ~5 s on one
# CPU thread (OMP_NUM_THREADS=1).
MAX_DINTS_BLOCKS = 32
# Levels: the space lists 2 ** (3 * depth - 2) path patterns and MONAI's TopologySearch
# builds its transfer matrices over them, so time grows ~10x per level. Space, size(),
# sample() and supernet together (4 blocks, one CPU thread) took 0.1 s at depth 3
# (MONAI's default num_depths), 0.4 s at 4, 3.2 s at 5 and 40 s at 6.
MAX_DINTS_DEPTH = 5


def cell_op_names(spatial_dims: int) -> tuple[str, ...]:
    """MONAI's DiNTS cell ops (``Cell.OPS3D`` / ``Cell.OPS2D`` keys, in order).

    Example:
        >>> cell_op_names(3)
        ('skip_connect', 'conv_3x3x3', 'conv_3x3x1', 'conv_3x1x3', 'conv_1x3x3')
    """
    from monai.networks.nets.dints import Cell

    return tuple(Cell.OPS3D if spatial_dims == 3 else Cell.OPS2D)


def path_ends(num_depths: int) -> list[tuple[int, int]]:
    """``(input level, output level)`` of each path of a block, MONAI's order.

    Example:
        >>> path_ends(2)
        [(0, 0), (1, 0), (0, 1), (1, 1)]
    """
    ends = []
    for i in range(3 * num_depths - 2):
        ends.append(((i + 1) // 3 - 1 + (i + 1) % 3, (i + 1) // 3))
    return ends


def path_names(num_depths: int) -> tuple[str, ...]:
    """``"i->o"`` for each path of a block."""
    return tuple(f"{i}->{o}" for i, o in path_ends(num_depths))


@register_space("dints")
class DintsSpace(Space):
    """MONAI's DiNTS topology + cell-op space.

    Args:
        num_blocks: blocks of the topology (MONAI's default 12; small on a CPU).
        use_downsample: down-sample in the stem, so the space runs at 1/2..1/2**depth.
        skeleton: a :class:`UNetSkeleton` (``depth``: MONAI's ``num_depths``;
            ``channels``: the top width, ``32 * channel_mul``).

    Example:
        >>> DintsSpace(skeleton={"depth": 2}).n_paths
        4
    """

    task = "segmentation"
    strategies = ("dints",)

    def __init__(
        self,
        num_blocks: int = 4,
        use_downsample: bool = True,
        skeleton: UNetSkeleton | Mapping[str, Any] | None = None,
    ) -> None:
        num_blocks = plain_numbers(num_blocks)
        if isinstance(num_blocks, bool) or not isinstance(num_blocks, int) or num_blocks < 1:
            raise SpaceError(f"DintsSpace num_blocks must be an integer >= 1, got {num_blocks!r}.")
        check_at_most("DintsSpace", "num_blocks", num_blocks, MAX_DINTS_BLOCKS,
                      "each builds a cell per path; the DiNTS paper uses 12")  # fmt: skip
        if not isinstance(use_downsample, bool):
            raise SpaceError(
                f"DintsSpace use_downsample must be true or false, got {use_downsample!r}."
            )
        self.num_blocks, self.use_downsample = num_blocks, use_downsample
        self.skeleton = UNetSkeleton.coerce(skeleton, spatial_dims=3, depth=3)
        check_at_most("DintsSpace", "skeleton depth", self.skeleton.depth, MAX_DINTS_DEPTH,
                      "its path patterns grow 8x a level, so depth 6 builds for ~40 s; "
                      "MONAI's default is 3")  # fmt: skip
        self.op_names = cell_op_names(self.skeleton.spatial_dims)
        self.ends = path_ends(self.skeleton.depth)
        self.n_paths = len(self.ends)

    # -- topology ---------------------------------------------------------------------------

    def multiple(self) -> int:
        """Image sizes must be multiples of this: ``2 ** (depth + use_downsample)``."""
        return 2 ** (self.skeleton.depth + int(self.use_downsample))

    def check_input_size(self, size: int, offered: Sequence[int] | None = None) -> None:
        """Raise a one-line ConfigError unless DiNTS can run on ``size``-edged images.

        ``offered``: the sizes the dataset comes in; the advice names those that fit.
        """
        if size % self.multiple():
            depth = self.skeleton.depth
            advice = size_advice(size, self.multiple(), depth, int(self.use_downsample), offered)
            raise ConfigError(
                f"DiNTS with depth {depth} needs an image size that is a multiple "
                f"of {self.multiple()}; {size} is not, so {advice}."
            )

    def _levels(self, pattern: Pattern, end: int) -> Pattern:
        used = [0] * self.skeleton.depth
        for on, ends in zip(pattern, self.ends, strict=True):
            if on:
                used[ends[end]] = 1
        return tuple(used)

    @functools.cached_property
    def _patterns(self) -> list[tuple[Pattern, Pattern, Pattern, int]]:
        """Every non-empty path pattern: (pattern, levels read, levels written, op choices)."""
        out = []
        n_ops = len(self.op_names)
        for pattern in itertools.product((0, 1), repeat=self.n_paths):
            if any(pattern):
                ways = n_ops ** sum(pattern)
                out.append((pattern, self._levels(pattern, 0), self._levels(pattern, 1), ways))
        return out

    @functools.cached_property
    def _tails(self) -> list[dict[Pattern, int]]:
        """``_tails[b][w]``: architectures of blocks ``b..`` when block ``b - 1`` wrote ``w``."""
        levels = {out for _, _, out, _ in self._patterns}
        tails: list[dict[Pattern, int]] = [{} for _ in range(self.num_blocks + 1)]
        tails[self.num_blocks] = dict.fromkeys(levels, 1)
        for b in reversed(range(1, self.num_blocks)):
            tails[b] = {
                w: sum(n * tails[b + 1][out] for _, read, out, n in self._patterns if read == w)
                for w in levels
            }
        return tails

    def _count(self, block: int, written: Pattern | None) -> int:
        """Architectures of blocks ``block..`` given what block ``block - 1`` wrote."""
        if block == self.num_blocks:
            return 1
        if written is None:
            return sum(n * self._count(block + 1, out) for _, _, out, n in self._patterns)
        return self._tails[block][written]

    def size(self) -> int:
        """The exact number of feasible (topology, cell-op) architectures."""
        return self._count(0, None)

    # -- membership -------------------------------------------------------------------------

    def validate(self, genotype: DintsGenotype | str) -> DintsGenotype:
        """Check shapes, op names and that every block reads what the previous one wrote."""
        g = parse_genotype(genotype)
        if not isinstance(g, DintsGenotype):
            raise SpaceError(f"the 'dints' space holds DiNTS genotypes, not {g.kind!r} ones.")
        if (g.num_blocks, g.num_depths) != (self.num_blocks, self.skeleton.depth):
            raise SpaceError(
                f"genotype has {g.num_blocks} blocks over {g.num_depths} depths; this space has "
                f"{self.num_blocks} over {self.skeleton.depth}."
            )
        if tuple(g.op_names) != self.op_names:
            raise SpaceError(f"genotype ops {list(g.op_names)} are not {list(self.op_names)}.")
        if g.use_downsample != self.use_downsample:
            raise SpaceError(
                f"genotype has use_downsample={g.use_downsample}; this space {self.use_downsample}."
            )
        written = None
        for b, pattern in enumerate(g.arch_code_a):
            if not any(pattern):
                raise SpaceError(f"block {b} has no active path; every block needs one.")
            if written is not None and self._levels(pattern, 0) != written:
                raise SpaceError(
                    f"block {b} reads levels {self._levels(pattern, 0)} but block {b - 1} wrote "
                    f"{written}; a block must read exactly what the previous one wrote."
                )
            written = self._levels(pattern, 1)
        expected = self._node_a(g.arch_code_a)
        if tuple(map(tuple, g.node_a)) != expected:
            raise SpaceError("node_a does not match the active paths of arch_code_a.")
        return g

    def _node_a(self, code_a) -> tuple[Pattern, ...]:
        rows = [self._levels(tuple(code_a[0]), 0)]
        rows += [self._levels(tuple(p), 1) for p in code_a]
        return tuple(rows)

    def _make(self, patterns: list[Pattern], ops: list[list[int]]) -> DintsGenotype:
        code_c = [
            [o if on else 0 for on, o in zip(p, row, strict=True)]
            for p, row in zip(patterns, ops, strict=True)
        ]
        return DintsGenotype(
            self._node_a(patterns), patterns, code_c, self.op_names, self.use_downsample
        )

    # -- sampling and moves -----------------------------------------------------------------

    def sample(self, rng: np.random.Generator) -> DintsGenotype:
        """A uniformly random feasible architecture (each pattern weighted by its completions)."""
        patterns, ops, written = [], [], None
        for b in range(self.num_blocks):
            options = [
                (pattern, out, ways * self._count(b + 1, out))
                for pattern, read, out, ways in self._patterns
                if written is None or read == written
            ]
            # Counts of many blocks pass a float's 2**1024; drop the bits below the largest
            # count's top ~1000 (no change for smaller spaces) so the odds stay exact enough.
            shift = max(0, max(w for _, _, w in options).bit_length() - 1000)
            weights = np.array([w >> shift for _, _, w in options], dtype=float)
            pattern, written, _ = options[int(rng.choice(len(options), p=weights / weights.sum()))]
            patterns.append(pattern)
            ops.append([int(rng.integers(len(self.op_names))) if on else 0 for on in pattern])
        return self._make(patterns, ops)

    def neighbours(self, genotype: DintsGenotype | str) -> list[DintsGenotype]:
        """Every architecture that differs in the cell op of one active path (the topology
        is kept: a one-path topology change is rarely feasible)."""
        g = self.validate(genotype)
        patterns = [tuple(p) for p in g.arch_code_a]
        out = []
        for b, p, _ in g.active_paths():
            for k in range(len(self.op_names)):
                if k != g.arch_code_c[b][p]:
                    ops = [list(r) for r in g.arch_code_c]
                    ops[b][p] = k
                    out.append(self._make(patterns, ops))
        return out

    def _iter_all(self) -> Iterator[DintsGenotype]:
        def blocks(b: int, written: Pattern | None):
            if b == self.num_blocks:
                yield []
                return
            for pattern, read, out, _ in self._patterns:
                if written is None or read == written:
                    for rest in blocks(b + 1, out):
                        yield [pattern, *rest]

        for patterns in blocks(0, None):
            active = [(b, p) for b, pat in enumerate(patterns) for p, on in enumerate(pat) if on]
            for choice in itertools.product(range(len(self.op_names)), repeat=len(active)):
                ops = [[0] * self.n_paths for _ in patterns]
                for (b, p), k in zip(active, choice, strict=True):
                    ops[b][p] = k
                yield self._make(patterns, ops)

    # -- encodings --------------------------------------------------------------------------

    def encoding_length(self, encoding: str = "onehot") -> int:
        """``blocks * paths * (1 + ops)``: an on bit and a one-hot op per path."""
        self._check_encoding(encoding)
        return self.num_blocks * self.n_paths * (1 + len(self.op_names))

    def encode(self, genotype: DintsGenotype | str, encoding: str = "onehot") -> np.ndarray:
        """Per block and path: 1 if active, then the one-hot cell op (zeros when off)."""
        self._check_encoding(encoding)
        g = self.validate(genotype)
        width = 1 + len(self.op_names)
        vec = np.zeros(self.encoding_length(), dtype=np.float32)
        for b, p, _ in g.active_paths():
            at = (b * self.n_paths + p) * width
            vec[at] = 1.0
            vec[at + 1 + g.arch_code_c[b][p]] = 1.0
        return vec

    # -- networks and serialisation ---------------------------------------------------------

    def default_skeleton(self) -> UNetSkeleton:
        """The space's skeleton."""
        return self.skeleton

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :func:`space_from_dict` rebuilds an equal space."""
        return {
            "name": self.name,
            "num_blocks": self.num_blocks,
            "use_downsample": self.use_downsample,
            "skeleton": self.skeleton.to_dict(),
        }
