"""The V-NAS space (Zhu et al., 2019): a 2D, 3D or pseudo-3D conv for every block of a 3D U-Net.

Each encoder block and each decoder cell of :mod:`nasbench.models.vnas` picks one
conv from the ``vnas`` op set: ``vnas_2d_3x3`` (1x3x3, in-plane), ``vnas_3d_3x3``
(3x3x3) or ``vnas_p3d_3x3`` (1x3x3 then 3x1x1). A genotype is the list of choices;
the space has ``len(ops) ** blocks`` members. Volumes only: in 2D the three convs are
one and the same.

Example:
    >>> space = VnasSpace(skeleton={"depth": 2})
    >>> space.size() == 3 ** (3 + 2)
    True
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from nasbench.errors import SpaceError
from nasbench.options import plain_numbers
from nasbench.spaces.base import (
    MAX_LAYERS,
    Space,
    check_at_most,
    op_outside_error,
    register_space,
    resolve_ops,
)
from nasbench.spaces.genotype import parse_genotype
from nasbench.spaces.seg_genotypes import VnasGenotype
from nasbench.spaces.skeleton import UNetSkeleton

GROUPS = ("encoder", "decoder")


def row_names(depth: int, blocks_per_level: int) -> dict[str, tuple[str, ...]]:
    """Names of the searched blocks: ``e<level>.<block>`` and ``d<level>``.

    Example:
        >>> row_names(1, 2)
        {'encoder': ('e0.0', 'e0.1', 'e1.0', 'e1.1'), 'decoder': ('d0',)}
    """
    encoder = tuple(f"e{lv}.{b}" for lv in range(depth + 1) for b in range(blocks_per_level))
    return {"encoder": encoder, "decoder": tuple(f"d{lv}" for lv in reversed(range(depth)))}


@register_space("vnas")
class VnasSpace(Space):
    """V-NAS: which conv (2D, 3D, P3D) each block of a 3D encoder-decoder uses.

    Args:
        ops: an op-set name (default ``"vnas"``) or a list of 3D op names.
        blocks_per_level: residual blocks per encoder level.
        skeleton: a 3D :class:`UNetSkeleton` or its dict.

    Example:
        >>> VnasSpace().rows()["decoder"]
        ('d1', 'd0')
    """

    task = "segmentation"
    strategies = ("darts", "gdas", "proxyless")

    def __init__(
        self,
        ops: str | Sequence[str] = "vnas",
        blocks_per_level: int = 1,
        skeleton: UNetSkeleton | Mapping[str, Any] | None = None,
    ) -> None:
        blocks_per_level = plain_numbers(blocks_per_level)
        if isinstance(blocks_per_level, bool) or not isinstance(blocks_per_level, int):
            raise SpaceError(
                f"VnasSpace blocks_per_level must be an integer, got {blocks_per_level!r}."
            )
        if blocks_per_level < 1:
            raise SpaceError(f"VnasSpace blocks_per_level must be >= 1, got {blocks_per_level}.")
        check_at_most("VnasSpace", "blocks_per_level", blocks_per_level, MAX_LAYERS,
                      "a searched block each")  # fmt: skip
        self.op_set, self.ops = resolve_ops(ops, "vnas")
        self.choices = tuple(op for op in self.ops if op != "none")
        if not self.choices:
            raise SpaceError("VnasSpace needs at least one op other than 'none'.")
        self.blocks_per_level = blocks_per_level
        self.skeleton = UNetSkeleton.coerce(skeleton, spatial_dims=3)
        if self.skeleton.spatial_dims != 3:
            raise SpaceError(
                "V-NAS chooses between 2D, 3D and pseudo-3D convs of volumes, so it needs "
                "3D data: pick a 3D dataset (skeleton spatial_dims = 3)."
            )

    def rows(self) -> dict[str, tuple[str, ...]]:
        """The searched blocks of each group, by name."""
        return row_names(self.skeleton.depth, self.blocks_per_level)

    def _n_rows(self) -> int:
        return sum(len(r) for r in self.rows().values())

    def size(self) -> int:
        """``len(choices) ** blocks``."""
        return len(self.choices) ** self._n_rows()

    def validate(self, genotype: VnasGenotype | str) -> VnasGenotype:
        """Check the block counts and that every op is a choice of this space."""
        g = parse_genotype(genotype)
        if not isinstance(g, VnasGenotype):
            raise SpaceError(f"the 'vnas' space holds V-NAS genotypes, not {g.kind!r} ones.")
        rows = self.rows()
        for group in GROUPS:
            ops = getattr(g, group)
            if len(ops) != len(rows[group]):
                raise SpaceError(
                    f"the genotype has {len(ops)} {group} blocks; this space has "
                    f"{len(rows[group])}."
                )
            for name, op in zip(rows[group], ops, strict=True):
                if op not in self.choices:
                    raise op_outside_error(op, f"{group} block {name}", self.choices, self.op_set)
        return g

    def _make(self, flat: Sequence[str]) -> VnasGenotype:
        n = len(self.rows()["encoder"])
        return VnasGenotype(tuple(flat[:n]), tuple(flat[n:]))

    def sample(self, rng: np.random.Generator) -> VnasGenotype:
        """A uniformly random choice for every block."""
        picks = rng.integers(len(self.choices), size=self._n_rows())
        return self._make([self.choices[int(i)] for i in picks])

    def neighbours(self, genotype: VnasGenotype | str) -> list[VnasGenotype]:
        """Every genotype that differs in one block's conv."""
        flat = list(self.validate(genotype).edge_ops())
        out = []
        for k, op in enumerate(flat):
            for other in self.choices:
                if other != op:
                    out.append(self._make(flat[:k] + [other] + flat[k + 1 :]))
        return out

    def _iter_all(self) -> Iterator[VnasGenotype]:
        for flat in itertools.product(self.choices, repeat=self._n_rows()):
            yield self._make(flat)

    def encoding_length(self, encoding: str = "onehot") -> int:
        """``blocks * len(choices)``; a chain of choices has one path, so both encodings agree."""
        self._check_encoding(encoding)
        return self._n_rows() * len(self.choices)

    def encode(self, genotype: VnasGenotype | str, encoding: str = "onehot") -> np.ndarray:
        """One-hot conv choice per block."""
        self._check_encoding(encoding)
        vec = np.zeros(self.encoding_length(), dtype=np.float32)
        for k, op in enumerate(self.validate(genotype).edge_ops()):
            vec[k * len(self.choices) + self.choices.index(op)] = 1.0
        return vec

    def default_skeleton(self) -> UNetSkeleton:
        """The space's 3D U-Net skeleton."""
        return self.skeleton

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :func:`space_from_dict` rebuilds an equal space."""
        return {
            "name": self.name,
            "ops": self.op_set if self.op_set is not None else list(self.ops),
            "blocks_per_level": self.blocks_per_level,
            "skeleton": self.skeleton.to_dict(),
        }
