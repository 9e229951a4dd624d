"""The V-NAS space: one 2D/3D/P3D conv per block of a 3D U-Net."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.errors import SpaceError
from nasbench.spaces import VnasGenotype, VnasSpace, parse_genotype, space_from_dict


def test_size_rows_and_round_trips():
    space = VnasSpace(blocks_per_level=2, skeleton={"depth": 1})
    assert space.rows() == {"encoder": ("e0.0", "e0.1", "e1.0", "e1.1"), "decoder": ("d0",)}
    assert space.size() == 3**5 == sum(1 for _ in space.enumerate())
    g = space.sample(np.random.default_rng(0))
    assert parse_genotype(g.to_json()) == g and space_from_dict(space.to_dict()) == space
    assert len(space.neighbours(g)) == 5 * 2
    assert space.encode(g).sum() == 5


def test_volumes_only_and_block_counts_checked():
    with pytest.raises(SpaceError, match="spatial_dims = 3"):
        VnasSpace(skeleton={"spatial_dims": 2})
    with pytest.raises(SpaceError, match="2 encoder blocks; this space has 3"):
        VnasSpace(skeleton={"depth": 2}).validate(
            VnasGenotype(["vnas_2d_3x3"] * 2, ["vnas_2d_3x3"] * 2)
        )
