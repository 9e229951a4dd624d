"""The C2FNAS space: U-shaped topologies (sampling, validity, encoding) and its genotypes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nasbench.errors import SpaceError
from nasbench.spaces import C2fnasGenotype, C2fnasSpace, parse_genotype, space_from_dict
from nasbench.spaces.c2fnas import all_topologies, topology_error


def _is_u(levels, depth):
    diffs = np.diff(levels)
    first_up = next((k for k, d in enumerate(diffs) if d < 0), len(diffs))
    return (
        levels[0] == 0
        and levels[-1] == 0
        and 1 <= max(levels) <= depth
        and all(abs(d) <= 1 for d in diffs)
        and all(d <= 0 for d in diffs[first_up:])
    )


@pytest.mark.parametrize(("cells", "depth"), [(3, 1), (5, 2), (6, 3), (7, 2)])
def test_all_topologies_are_exactly_the_u_shapes(cells, depth):
    brute = [t for t in itertools.product(range(depth + 1), repeat=cells) if _is_u(t, depth)]
    assert list(all_topologies(cells, depth)) == brute
    assert all(topology_error(t, depth) is None for t in brute)


def test_sampled_candidates_are_distinct_valid_and_seeded():
    space = C2fnasSpace(num_cells=6, candidates=5, skeleton={"depth": 2})
    picks = space.sample_topologies(seed=3)
    assert len(set(picks)) == 5
    assert all(space.check_topology(t) == t for t in picks)
    assert space.sample_topologies(seed=3) == picks
    assert space.sample_topologies(seed=4) != picks
    # more candidates than topologies: every topology once
    small = C2fnasSpace(num_cells=4, candidates=50, skeleton={"depth": 1})
    assert sorted(small.sample_topologies(0)) == sorted(small.topologies())


def test_size_sample_validate_neighbours_encode():
    space = C2fnasSpace(num_cells=4, skeleton={"depth": 1})
    assert space.size() == 3 * 3**4 == len(list(space._iter_all()))
    rng = np.random.default_rng(0)
    for _ in range(10):
        g = space.sample(rng)
        assert space.validate(g) == g
        vec = space.encode(g)
        assert vec.shape == (space.encoding_length(),) == (4 * (2 + 3),)
        assert vec.sum() == 8  # one level and one conv per cell
        for n in space.neighbours(g):
            assert space.validate(n) == n
            changed = sum(a != b for a, b in zip(n.levels + n.ops, g.levels + g.ops, strict=True))
            assert changed == 1


def test_genotype_round_trip_and_fixed_topology():
    g = C2fnasGenotype((0, 1, 2, 1, 0), ("vnas_3d_3x3",) * 5)
    assert parse_genotype(g.to_json()) == g
    space = C2fnasSpace(num_cells=5, topology=[0, 1, 2, 1, 0], skeleton={"depth": 2})
    assert space.topologies() == ((0, 1, 2, 1, 0),) and space.size() == 3**5
    assert space_from_dict(space.to_dict()).to_dict() == space.to_dict()
    with pytest.raises(SpaceError, match="is not this space's"):
        space.validate(C2fnasGenotype((0, 1, 1, 1, 0), ("vnas_3d_3x3",) * 5))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"topology": [0, 2, 1, 0]}, "jumps \\+2 levels at cell 1"),
        ({"topology": [0, 1, 0, 1]}, "start and end at level 0"),
        ({"topology": [0, 0, 0, 0]}, "never leaves level 0"),
        ({"topology": [0, 1, 0]}, "has 3 cells; this space has 4"),
        ({"num_cells": 2}, "num_cells must be an integer >= 3"),
        ({"candidates": 0}, "candidates must be an integer >= 1"),
        ({"proxy_op": "conv_3x3"}, "proxy_op"),
        ({"proxy_lr": -1.0}, "proxy_lr must be a number > 0"),
        ({"skeleton": {"spatial_dims": 2}}, "spatial_dims = 3"),
    ],
)
def test_bad_settings_are_one_line_errors(kwargs, message):
    args = {"num_cells": 4, "skeleton": {"depth": 2}, **kwargs}
    with pytest.raises(SpaceError, match=message) as err:
        C2fnasSpace(**args)
    assert "\n" not in str(err.value)


def test_u_turn_twice_is_rejected():
    with pytest.raises(SpaceError, match="a U goes down, then only up"):
        C2fnasSpace(num_cells=5, topology=[0, 1, 0, 1, 0], skeleton={"depth": 1})


@pytest.mark.parametrize(
    "levels", [[0, 1.9, 0], [0, True, 0], ["0", "1", "0"], [0.0, 1.5, 0.2], "010"]
)
def test_a_topology_of_other_than_whole_numbers_is_refused_not_truncated(levels):
    with pytest.raises(SpaceError, match="whole-number levels") as err:
        C2fnasSpace(num_cells=3, topology=levels, skeleton={"depth": 1})
    assert "\n" not in str(err.value)
    assert C2fnasSpace(
        num_cells=3, topology=np.array([0, 1, 0]), skeleton={"depth": 1}
    ).topology == (0, 1, 0)
