"""The NAS-Bench-201 space: 15,625 cells, 6,466 unique after merging isomorphic ones."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nasbench.errors import SpaceError
from nasbench.spaces import NB201Genotype, NB201Space, Skeleton, parse_genotype, space_from_dict

RESNET_LIKE = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|"


def one_line_error(fn, *args, match: str | None = None, **kwargs) -> str:
    with pytest.raises(SpaceError, match=match) as info:
        fn(*args, **kwargs)
    assert "\n" not in str(info.value)
    return str(info.value)


@pytest.fixture(scope="module")
def all_cells() -> list[NB201Genotype]:
    return list(NB201Space().enumerate())


def test_size_and_enumeration_give_15625_distinct_cells(all_cells):
    space = NB201Space()
    assert space.size() == 5**6 == 15_625
    assert len(all_cells) == len(set(all_cells)) == 15_625


def test_canonical_form_gives_the_papers_6466_classes(all_cells):
    space = NB201Space()
    assert len({space.canonical(g) for g in all_cells}) == 6_466
    # The stricter merge (zeros propagate through all-zero nodes) merges further.
    assert len({space.canonical(g, strict=True) for g in all_cells}) == 5_390


def test_canonical_merges_known_equivalent_cells():
    space = NB201Space()
    # Two parallel branches summed into node 2 through a skip: their order does not matter.
    a = "|nor_conv_1x1~0|+|nor_conv_3x3~0|skip_connect~1|+|none~0|none~1|skip_connect~2|"
    b = "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|none~0|none~1|skip_connect~2|"
    assert space.canonical(a) == space.canonical(b)
    # An edge from a node that computes nothing is as good as 'none'.
    c = "|none~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"
    d = "|none~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"
    assert space.canonical(c) == space.canonical(d)
    # Different ops on a live path are different functions; on a dead branch they are not.
    e = RESNET_LIKE.replace("skip_connect~0", "nor_conv_1x1~0")
    assert space.canonical(RESNET_LIKE) != space.canonical(e)
    dead = RESNET_LIKE.replace("nor_conv_3x3~1", "nor_conv_1x1~1")
    assert space.canonical(RESNET_LIKE) == space.canonical(dead)
    assert space.canonical("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|") == "#+#+#"


def test_same_seed_same_sample_and_mutate_stays_inside():
    space = NB201Space()
    assert space.sample(np.random.default_rng(3)) == space.sample(np.random.default_rng(3))
    rng = np.random.default_rng(0)
    for _ in range(20):
        g = space.sample(rng)
        child = space.mutate(g, rng)
        assert child != g and space.contains(child)
        assert sum(a != b for a, b in zip(g.edges(), child.edges(), strict=True)) == 1


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_sampled_cells_round_trip(seed):
    space = NB201Space()
    g = space.sample(np.random.default_rng(seed))
    assert parse_genotype(g.to_string()) == g
    assert parse_genotype(g.to_json()) == g
    assert json.loads(g.to_json())["kind"] == "nb201"


def test_neighbours_change_one_edge_each():
    space = NB201Space()
    g = parse_genotype(RESNET_LIKE)
    ns = space.neighbours(g)
    assert len(ns) == len(set(ns)) == 6 * 4
    assert g not in ns
    assert all(space.contains(n) for n in ns)
    assert all(sum(a != b for a, b in zip(g.edges(), n.edges(), strict=True)) == 1 for n in ns)


def test_encodings():
    space = NB201Space()
    assert space.encoding_length("onehot") == 30
    assert space.encoding_length("path") == 4 + 16 + 64
    g = parse_genotype(RESNET_LIKE)
    onehot = space.encode(g)
    assert onehot.dtype == np.float32 and onehot.shape == (30,) and onehot.sum() == 6
    path = space.encode(g, "path")
    assert path.dtype == np.float32 and path.shape == (84,)
    # Routes: 0-skip->3 and 0-conv3->1-conv3->2 (node 2 does not reach 3): one live path.
    assert path.sum() == 1
    live = ("skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
    assert path[live.index("skip_connect")] == 1
    full = "+".join("|" + "|".join(f"nor_conv_3x3~{i}" for i in range(j)) + "|" for j in (1, 2, 3))
    assert space.encode(full, "path").sum() == 4  # the four routes 0 -> 3
    one_line_error(space.encode, g, "graph", match="unknown encoding")


def test_validation_errors_are_one_line():
    space = NB201Space()
    one_line_error(
        space.validate,
        RESNET_LIKE.replace("nor_conv_3x3", "sep_conv_3x3"),
        match="'sep_conv_3x3' is not in op set 'nb201'",
    )
    one_line_error(space.validate, "|nor_conv_3x3~0|+|none~0|none~1|", match="3 nodes")
    one_line_error(space.validate, "|nor_conv_3x3~0|+|none~0|none~2|", match="every earlier node")
    one_line_error(
        NB201Space(ops=["none", "nor_conv_3x3"]).validate, RESNET_LIKE, match="this space's op list"
    )
    one_line_error(NB201Space, n_nodes=1, match="n_nodes")


def test_smaller_space_and_json_round_trip():
    space = NB201Space(ops=["none", "skip_connect", "nor_conv_3x3"], n_nodes=3)
    assert space.size() == 3**3 == len(list(space.enumerate()))
    again = space_from_dict(json.loads(json.dumps(space.to_dict())))
    assert again == space
    assert NB201Space().skeleton == Skeleton(n_cells=17, channels=16)
    assert NB201Space().skeleton.reductions() == (5, 11)


def test_a_custom_op_lists_cells_round_trip_through_their_text():
    space = NB201Space(ops=["none", "skip_connect", "sep_conv_3x3"])
    for seed in range(5):
        g = space.sample(np.random.default_rng(seed))
        assert space.validate(g.to_string()) == g == parse_genotype(g.to_string())
    typo = "|sep_cnv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    one_line_error(space.validate, typo, match="'sep_cnv_3x3' is not a known op.*'sep_conv_3x3'")


def test_a_space_of_none_alone_is_refused():
    with pytest.raises(SpaceError, match="at least one op other than 'none'") as err:
        NB201Space(ops=["none"])
    assert "\n" not in str(err.value)
    assert NB201Space(ops=["none", "skip_connect"]).size() == 2**6
