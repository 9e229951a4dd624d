"""The DiNTS space: feasible topologies (a block reads what the previous one wrote), counting."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.errors import ConfigError, SpaceError
from nasbench.spaces import DintsGenotype, DintsSpace, parse_genotype, space_from_dict
from nasbench.spaces.dints import path_ends


def test_exact_size_matches_enumeration():
    # One block of 4 paths: every non-empty path set, each path with one of 5 ops.
    assert DintsSpace(num_blocks=1, skeleton={"depth": 2}).size() == 6**4 - 1
    space = DintsSpace(num_blocks=3, skeleton={"depth": 1})
    assert space.size() == sum(1 for _ in space.enumerate()) == 5**3


def test_samples_are_feasible_and_round_trip():
    space = DintsSpace(num_blocks=3, skeleton={"depth": 3})
    assert space_from_dict(space.to_dict()) == space
    rng = np.random.default_rng(0)
    for _ in range(10):
        g = space.sample(rng)
        assert space.validate(g) == g == parse_genotype(g.to_json())
        assert space.encode(g).sum() == 2 * len(g.active_paths())
    assert all(space.validate(n) for n in space.neighbours(g)[:5])


def test_infeasible_topology_and_sizes_are_one_line_errors():
    space = DintsSpace(num_blocks=2, skeleton={"depth": 2})
    assert path_ends(2) == [(0, 0), (1, 0), (0, 1), (1, 1)]
    ops = space.op_names
    # Block 0 writes level 0 only, block 1 reads level 1: no data reaches it.
    bad = DintsGenotype([[1, 0], [1, 0], [0, 1]], [[1, 0, 0, 0], [0, 0, 0, 1]], [[0] * 4] * 2, ops)
    with pytest.raises(SpaceError, match="block 1 reads levels") as err:
        space.validate(bad)
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="multiple of 8"):
        space.check_input_size(28)
