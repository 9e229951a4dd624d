"""The DiNTS space: feasible topologies (a block reads what the previous one wrote), counting."""

from __future__ import annotations

import json

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


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("arch_code_c", [[1.9, 0, 0, 0]], "arch_code_c holds 1.9"),
        ("arch_code_c", [[0.5, 0, 0, 0]], "arch_code_c holds 0.5"),
        ("node_a", [[True, 1], [1, 0]], "node_a holds True"),
        ("node_a", [["1", 1], [1, 0]], "node_a holds '1'"),
        ("arch_code_a", [[1.0, 0, 0, 0]], "arch_code_a holds 1.0"),
        ("arch_code_a", "1000", "arch_code_a must be a matrix"),
        ("arch_code_a", [5], "arch_code_a must be a matrix"),
    ],
)
def test_codes_that_are_not_integers_are_refused_not_truncated(field, value, said):
    good = {
        "kind": "dints",
        "node_a": [[1, 1], [1, 0]],
        "arch_code_a": [[1, 0, 0, 0]],
        "arch_code_c": [[1, 0, 0, 0]],
        "op_names": ["skip_connect", "conv_3x3x3"],
    }
    assert parse_genotype(json.dumps(good)).arch_code_c == ((1, 0, 0, 0),)
    with pytest.raises(SpaceError, match=said) as err:
        parse_genotype(json.dumps({**good, field: value}))
    assert "\n" not in str(err.value)
    # numpy integers (MONAI's decode gives arrays) are integers
    assert DintsGenotype(np.array([[1, 1], [1, 0]]), [[1, 0, 0, 0]], [[1, 0, 0, 0]], ("a", "b"))
