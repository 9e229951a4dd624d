"""The chain space (NAS-RL, MetaQNN)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nasbench.errors import SpaceError
from nasbench.spaces import ChainGenotype, ChainLayer, ChainSpace, parse_genotype, space_from_dict

CONV = ChainLayer("conv", 3, 3, 1, 36)
POOL = ChainLayer("max_pool", 3, 3, 2, 0)


def one_line_error(fn, *args, match: str | None = None, **kwargs) -> str:
    with pytest.raises(SpaceError, match=match) as info:
        fn(*args, **kwargs)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_size_is_exact():
    per_layer = 2 * 4 * 4 * 2 * 4 + 2 * 2 * 2
    space = ChainSpace()
    assert len(space.layer_choices()) == per_layer == 264
    assert space.size() == sum(per_layer**d for d in range(1, 7))
    small = ChainSpace(
        layer_types=["conv", "avg_pool"],
        kernels=[3],
        pool_kernels=[2],
        strides=[1],
        filters=[8, 16],
        min_depth=2,
        max_depth=3,
    )
    members = list(small.enumerate())
    assert len(members) == len(set(members)) == small.size() == 3**2 + 3**3
    one_line_error(space.enumerate, match="too many")


def test_same_seed_same_sample_and_samples_are_members():
    space = ChainSpace()
    assert space.sample(np.random.default_rng(5)) == space.sample(np.random.default_rng(5))
    rng = np.random.default_rng(0)
    samples = [space.sample(rng) for _ in range(20)]
    assert all(space.contains(g) for g in samples)
    assert len(set(samples)) == 20


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_mutate_changes_one_thing_and_round_trips(seed):
    space = ChainSpace(max_depth=4)
    rng = np.random.default_rng(seed)
    g = space.sample(rng)
    assert parse_genotype(g.to_json()) == g
    child = space.mutate(g, rng)
    assert child != g and space.contains(child)
    if child.depth == g.depth:
        changed = [(a, b) for a, b in zip(g.layers, child.layers, strict=True) if a != b]
        assert len(changed) == 1
        a, b = changed[0]
        assert (
            sum(getattr(a, f) != getattr(b, f) for f in ("layer_type", "stride", "filters"))
            + ((a.kernel_h, a.kernel_w) != (b.kernel_h, b.kernel_w))
            == 1
        )
    else:
        assert abs(child.depth - g.depth) == 1


def test_neighbours_are_distinct_and_inside():
    space = ChainSpace(max_depth=3)
    g = ChainGenotype((CONV, CONV))
    ns = space.neighbours(g)
    assert len(ns) == len(set(ns)) and g not in ns
    assert all(space.contains(n) for n in ns)
    # Field changes per conv layer: 1 type + 3 heights + 3 widths + 3 filters + 1 stride.
    changes = 2 * 11
    # Any of 264 layers at 3 places, less the duplicates of a CONV inserted next to a CONV.
    adds = 3 * 264 - 2
    removes = 1  # both removals give the same one-layer chain
    assert len(ns) == changes + adds + removes
    assert ChainGenotype((CONV,)) in ns
    deepest = ChainGenotype((CONV, POOL, CONV))
    assert all(n.depth <= 3 for n in space.neighbours(deepest))


def test_encoding_is_padded_to_max_depth():
    space = ChainSpace()
    slot = 4 + 1 + 2 * 4 + 2 + 4
    assert space.encoding_length() == space.encoding_length("path") == 6 * slot
    g = ChainGenotype((CONV, POOL))
    vec = space.encode(g)
    assert vec.dtype == np.float32 and vec.shape == (6 * slot,)
    # conv: type, kh, kw, stride, filters (5); pool: no filters (4); 4 empty slots (1 each).
    assert vec.sum() == 5 + 4 + 4
    assert np.array_equal(vec, space.encode(g, "path"))
    one_line_error(space.encode, g, "graph", match="unknown encoding")


@pytest.mark.parametrize(
    "layers, match",
    [
        ((ChainLayer("dense", 3, 3, 1, 36),), "not in this space"),
        ((ChainLayer("conv", 9, 3, 1, 36),), "kernel_h 9"),
        ((ChainLayer("conv", 3, 3, 3, 36),), "stride 3"),
        ((ChainLayer("conv", 3, 3, 1, 37),), "filters 37"),
        ((ChainLayer("max_pool", 3, 5, 1, 0),), "square"),
        ((ChainLayer("max_pool", 3, 3, 1, 16),), "filters=0"),
        ((CONV,) * 7, "7 layers"),
    ],
)
def test_validation_errors_are_one_line(layers, match):
    one_line_error(ChainSpace().validate, ChainGenotype(layers), match=match)


def test_bad_settings_and_json_round_trip():
    one_line_error(ChainSpace, layer_types=["conv", "lstm"], match="lstm")
    one_line_error(ChainSpace, kernels=[], match="at least one")
    one_line_error(ChainSpace, filters=[0], match=">= 1")
    one_line_error(ChainSpace, min_depth=3, max_depth=2, match="exceeds")
    one_line_error(ChainSpace().validate, "|nor_conv_3x3~0|", match="not 'nb201'")
    space = ChainSpace(layer_types=["conv"], max_depth=3)
    again = space_from_dict(json.loads(json.dumps(space.to_dict())))
    assert again == space and again.layer_types == ("conv",)


def test_layer_choices_follow_a_changed_field_and_a_callers_edit_stays_its_own():
    space = ChainSpace()
    first = space.layer_choices()
    first.clear()  # the caller's list: the space's alphabet is untouched
    assert len(space.layer_choices()) == 264
    space.filters = (16,)  # the alphabet built before must not be served again
    assert len(space.layer_choices()) == 2 * 4 * 4 * 2 * 1 + 2 * 2 * 2
    assert {layer.filters for layer in space.layer_choices()} == {16, 0}
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    assert space.sample(rng_a) == ChainSpace(filters=(16,)).sample(rng_b)
