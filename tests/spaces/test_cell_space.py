"""The DARTS/NASNet cell space, the skeleton and the space registry."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nasbench.errors import SpaceError
from nasbench.spaces import (
    CellSpace,
    Genotype,
    SearchSpace,
    Skeleton,
    create_space,
    list_spaces,
    parse_genotype,
    space_from_dict,
    zoo,
)


def one_line_error(fn, *args, match: str | None = None, **kwargs) -> str:
    with pytest.raises(SpaceError, match=match) as info:
        fn(*args, **kwargs)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_darts_space_size_matches_the_paper():
    space = CellSpace()
    # 7 non-zero ops; node i picks 2 of i + 2 inputs: 1 * 3 * 6 * 10 * 49^4.
    assert space.choices == (
        "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3",
        "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5",
    )  # fmt: skip
    assert space.cell_size() == 1 * 3 * 6 * 10 * 49**4 == 1_037_664_180
    assert 1e9 <= space.cell_size() < 1.1e9
    assert space.size() == space.cell_size() ** 2
    assert 1e18 <= space.size() < 1.2e18


def test_tiny_space_enumerates_exactly_size_distinct_members():
    space = CellSpace(ops=["none", "skip_connect", "sep_conv_3x3"], n_nodes=2)
    members = list(space.enumerate())
    assert len(members) == len(set(members)) == space.size() == (4 * 3 * 4) ** 2
    assert all(space.contains(g) for g in members[:50])
    one_line_error(CellSpace().enumerate, match="too many to enumerate")


def test_same_seed_same_sample_and_samples_are_members():
    space = CellSpace()
    a = [space.sample(np.random.default_rng(7)) for _ in range(2)]
    assert a[0] == a[1]
    rng = np.random.default_rng(0)
    samples = [space.sample(rng) for _ in range(20)]
    assert len(set(samples)) == 20
    assert all(space.contains(g) for g in samples)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), like_seed=st.integers(0, 2**32 - 1))
def test_matched_samples_keep_the_parametric_count_per_cell(seed, like_seed):
    from nasbench.spaces.ops import is_parameter_free

    space = CellSpace()
    like = space.sample(np.random.default_rng(like_seed))
    drawn = space.sample_matched(np.random.default_rng(seed), like)
    assert space.contains(drawn)
    for cell in ("normal", "reduce"):
        counts = [
            sum(not is_parameter_free(op) for op, _ in getattr(g, cell)) for g in (like, drawn)
        ]
        assert counts[0] == counts[1]
    assert drawn == space.sample_matched(np.random.default_rng(seed), like)


def test_matched_samples_vary_where_and_which_parametric_ops():
    from nasbench.spaces.ops import is_parameter_free

    space = CellSpace()
    like = zoo["DARTS_V2"]  # 6 parametric ops in the normal cell, none in the reduction
    draws = [space.sample_matched(np.random.default_rng(s), like) for s in range(40)]
    places = {tuple(not is_parameter_free(op) for op, _ in g.normal) for g in draws}
    ops = {op for g in draws for op, _ in g.normal + g.reduce}
    assert len(places) > 10  # the parametric edges move from draw to draw
    assert ops == set(space.choices)  # every choice turns up
    assert all(is_parameter_free(op) for g in draws for op, _ in g.reduce)
    one_line_error(space.sample_matched, np.random.default_rng(0), "not a genotype")


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_sampled_genotypes_round_trip_and_mutate_inside(seed):
    space = CellSpace()
    rng = np.random.default_rng(seed)
    g = space.sample(rng)
    assert parse_genotype(g.to_json()) == g
    assert parse_genotype(g.to_darts_text()) == g
    child = space.mutate(g, rng)
    assert child != g and space.contains(child)
    assert _changed_pairs(g, child) == 1  # one change: one (op, input) pair of one node
    assert child == space._make(child.normal, child.reduce)  # inputs in ascending order


def _changed_pairs(a, b) -> int:
    """(op, input) pairs of ``b`` that its node in ``a`` lacks (a node's order is free)."""
    ipn = a.inputs_per_node
    cells = (a.normal, b.normal), (a.reduce, b.reduce)
    return sum(
        len(set(x[k : k + ipn]) - set(y[k : k + ipn]))
        for y, x in cells
        for k in range(0, len(x), ipn)
    )


def test_neighbours_are_distinct_one_change_members():
    space = CellSpace()
    g = zoo["DARTS_V2"]
    ns = space.neighbours(g)
    # Per cell: 8 edges x 6 other ops + input moves (0 + 1 + 2 + 3 per edge pair).
    assert len(ns) == 2 * (8 * 6 + 2 * (0 + 1 + 2 + 3)) == 120
    assert len(set(ns)) == len(ns) and g not in ns
    for n in ns:
        assert space.contains(n) and _changed_pairs(g, n) == 1


def test_a_nodes_input_order_is_not_another_cell():
    # Every neighbour of every member is a listed member (a neighbour used to keep a
    # moved input where it was, outside the ascending order enumerate() lists).
    space = CellSpace(n_nodes=2, ops=["skip_connect", "sep_conv_3x3", "max_pool_3x3"])
    members = set(space.enumerate())
    assert len(members) == space.size()
    assert all(n in members for g in list(members)[:200] for n in space.neighbours(g))
    # Twins that differ in a node's input order share one key, so are evaluated once.
    a = zoo["DARTS_V2"]
    swapped = type(a)(a.normal[1::-1] + a.normal[2:], a.normal_concat, a.reduce, a.reduce_concat)
    assert swapped != a and CellSpace().canonical(swapped) == CellSpace().canonical(a)
    sampled = space.sample(np.random.default_rng(0))
    assert space.canonical(sampled) == sampled.to_json()  # keys of listed cells are unchanged


def test_onehot_and_path_encodings_have_fixed_length():
    space = CellSpace()
    assert space.encoding_length("onehot") == 2 * (2 + 3 + 4 + 5) * 7 == 196
    assert space.encoding_length("path") == 2 * 2 * (7 + 49 + 343 + 2401)
    rng = np.random.default_rng(1)
    for g in [space.sample(rng) for _ in range(5)] + [zoo["DARTS_V2"], zoo["PC-DARTS"]]:
        onehot = space.encode(g)
        assert onehot.dtype == np.float32 and onehot.shape == (196,)
        assert onehot.sum() == 16 and set(np.unique(onehot)) <= {0.0, 1.0}
        path = space.encode(g, "path")
        assert path.dtype == np.float32 and path.shape == (space.encoding_length("path"),)
        # At least one path per concatenated node per cell.
        assert path.sum() >= 8
    assert not np.array_equal(space.encode(zoo["DARTS_V1"]), space.encode(zoo["DARTS_V2"]))
    one_line_error(space.encode, zoo["DARTS_V2"], "adjacency", match="unknown encoding")


def test_path_encoding_counts_paths():
    space = CellSpace(ops=["skip_connect", "sep_conv_3x3"], n_nodes=2)
    g = Genotype(
        normal=[("skip_connect", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("skip_connect", 2)],
        normal_concat=[2, 3],
        reduce=[("skip_connect", 0), ("skip_connect", 1), ("skip_connect", 0), ("skip_connect", 1)],
        reduce_concat=[2, 3],
    )
    vec = space.encode(g, "path")
    per_input = 2 + 4  # op paths of length 1 and 2 over 2 ops
    normal = vec[: 2 * per_input]
    # Routes to the output: 0-skip->2, 1-sep->2, 0-sep->3, 0-skip->2-skip->3, 1-sep->2-skip->3.
    assert normal.sum() == 5
    assert normal[0] == 1 and normal[1] == 1  # input 0: (skip,), (sep,)
    assert normal[2 + 0] == 1  # input 0: (skip, skip)
    assert normal[per_input + 1] == 1  # input 1: (sep,)
    assert normal[per_input + 2 + 1 * 2 + 0] == 1  # input 1: (sep, skip)
    assert vec[2 * per_input :].sum() == 4


@pytest.mark.parametrize(
    "genotype, match",
    [
        (zoo["NASNet-A"], "intermediate nodes"),
        (
            zoo["DARTS_V2"].to_darts_text().replace("dil_conv_3x3", "conv_7x1_1x7"),
            "op 'conv_7x1_1x7' is not in op set 'darts'",
        ),
        (
            zoo["DARTS_V2"].to_darts_text().replace("('dil_conv_3x3', 2)", "('none', 2)"),
            "op 'none' is not in op set 'darts'",
        ),
        (
            zoo["DARTS_V2"]
            .to_darts_text()
            .replace("('skip_connect', 0), ('dil", "('skip_connect', 2), ('dil"),
            "input 2 twice",
        ),
        (
            # Node 2 still feeds node 5, so the genotype is valid but not in this space.
            zoo["DARTS_V2"]
            .to_darts_text()
            .replace("normal_concat=range(2, 6)", "normal_concat=[3, 4, 5]"),
            "concatenates every",
        ),
        ("|nor_conv_3x3~0|", "not 'nb201'"),
    ],
)
def test_validate_gives_one_line_errors(genotype, match):
    one_line_error(CellSpace().validate, genotype, match=match)
    assert not CellSpace().contains(genotype)


def test_custom_op_lists_and_bad_settings():
    space = CellSpace(ops=["skip_connect", "sep_conv_3x3"], n_nodes=3, inputs_per_node=1)
    assert space.op_set is None and space.cell_size() == (2 * 2) * (3 * 2) * (4 * 2)
    g = space.sample(np.random.default_rng(0))
    assert g.inputs_per_node == 1 and g.n_nodes == 3
    assert CellSpace(ops="gdas").choices[0] == "conv_3x3"
    one_line_error(
        CellSpace, ops=["sep_conv_3x3", "sep_cnv_5x5"], match="Did you mean 'sep_conv_5x5'"
    )
    one_line_error(CellSpace, ops="dartz", match="Did you mean 'darts'")
    one_line_error(CellSpace, ops=["none"], match="other than 'none'")
    one_line_error(CellSpace, ops=["skip_connect", "skip_connect"], match="repeats")
    one_line_error(CellSpace, n_nodes=0, match="n_nodes")
    one_line_error(CellSpace, inputs_per_node=3, match="inputs_per_node")
    one_line_error(space.validate, zoo["DARTS_V2"], match="inputs per node")


def test_space_json_round_trip_and_registry():
    space = CellSpace(ops=["skip_connect", "sep_conv_3x3"], n_nodes=3, skeleton=Skeleton(n_cells=5))
    d = json.loads(json.dumps(space.to_dict()))
    again = space_from_dict(d)
    assert again == space and again.skeleton.n_cells == 5 and isinstance(again, CellSpace)
    assert CellSpace.from_dict(CellSpace().to_dict()) == CellSpace()
    assert CellSpace().to_dict()["ops"] == "darts"
    assert set(list_spaces()) >= {"darts", "nb201", "chain"}
    assert create_space("darts", n_nodes=3).n_nodes == 3
    assert isinstance(CellSpace(), SearchSpace)
    one_line_error(create_space, "dart", match="Did you mean 'darts'")
    one_line_error(create_space, "darts", colour=1, match="bad settings")
    one_line_error(space_from_dict, {"ops": "darts"}, match="'name'")
    one_line_error(space_from_dict, {"name": "nb202"}, match="Did you mean 'nb201'")
    one_line_error(CellSpace.from_dict, {"name": "nb201"}, match="expected a 'darts' space")


def test_skeleton_defaults_validation_and_round_trip():
    assert Skeleton().reductions() == (2, 5)
    assert Skeleton(n_cells=20, channels=36).reductions() == (6, 13)
    # Fewer than 3 cells keep a normal cell: DARTS's rule would make every cell a reduction.
    assert Skeleton(n_cells=1).reductions() == () and Skeleton(n_cells=2).reductions() == (1,)
    s = Skeleton(n_cells=6, reduction_at=[4, 1], spatial_dims=3, auxiliary=True, drop_path_prob=0.2)
    assert s.reductions() == (1, 4)
    assert Skeleton.from_dict(json.loads(json.dumps(s.to_dict()))) == s
    assert hash(s) == hash(Skeleton.from_dict(s.to_dict()))
    for kwargs, match in [
        ({"n_cells": 0}, "n_cells"),
        ({"channels": 0}, "channels"),
        ({"spatial_dims": 4}, "spatial_dims"),
        ({"n_cells": 4, "reduction_at": (4,)}, "outside"),
        ({"reduction_at": (1, 1)}, "repeats"),
        ({"drop_path_prob": 1.0}, "drop_path_prob"),
        ({"auxiliary": "yes"}, "auxiliary"),
    ]:
        one_line_error(Skeleton, match=match, **kwargs)
    one_line_error(Skeleton.from_dict, {"n_cell": 3}, match="Did you mean 'n_cells'")


def test_default_skeleton_is_used_by_build():
    space = CellSpace(skeleton=Skeleton(n_cells=3, channels=4))
    net = space.build(zoo["DARTS_V2"].to_darts_text())  # the text form is parsed first
    from nasbench.models import build, count_parameters

    assert len(net.cells) == 3
    same = build(zoo["DARTS_V2"], Skeleton(n_cells=3, channels=4))
    assert count_parameters(net) == count_parameters(same)
    one_line_error(space.build, zoo["NASNet-A"], match="intermediate nodes")


def test_log10_of_pair_size_is_about_18():
    assert math.isclose(math.log10(CellSpace().size()), 18.03, abs_tol=0.01)


def test_a_skeleton_of_more_cells_than_any_network_stacks_is_refused_at_once():
    from nasbench.errors import SpaceError
    from nasbench.spaces.skeleton import MAX_CELLS

    assert Skeleton(n_cells=MAX_CELLS).n_cells == MAX_CELLS
    with pytest.raises(SpaceError, match=f"n_cells 2000 is past {MAX_CELLS}") as err:
        Skeleton(n_cells=2000)
    assert "\n" not in str(err.value)
