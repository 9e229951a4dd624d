"""The NAS-Unet space: counting, sampling, moves, encodings, validation by edge role."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.errors import SpaceError
from nasbench.spaces import NasUnetGenotype, NasUnetSpace, parse_genotype, space_from_dict
from nasbench.spaces.skeleton import MAX_STEM_CONVS, UNetSkeleton

SMALL = {"down_ops": ["max_pool", "down_conv"], "up_ops": ["up_conv"], "normal_ops": ["conv"]}


def test_size_counts_every_member_and_samples_are_members():
    space = NasUnetSpace(**SMALL, n_nodes=2)
    members = list(space.enumerate())
    assert len(members) == len(set(members)) == space.size()
    rng = np.random.default_rng(0)
    for _ in range(20):
        assert space.sample(rng) in set(members)


def test_edges_from_the_inputs_resample_and_the_rest_keep_the_size():
    g = NasUnetSpace(n_nodes=2).sample(np.random.default_rng(1))
    for op, j in g.cell("down")[0]:
        assert op.startswith("down_") or op.endswith("pool") if j < 2 else not op.startswith("up")
    for op, j in g.cell("up")[0]:
        assert op.startswith("up_") == (j == 1)


def test_neighbours_differ_by_one_edge_and_stay_inside():
    space = NasUnetSpace(n_nodes=2)
    g = space.sample(np.random.default_rng(2))
    neighbours = space.neighbours(g)
    assert neighbours and g not in neighbours
    for n in neighbours[:25]:
        space.validate(n)
        changed = sum(a != b for a, b in zip(g.edge_ops() + tuple(p[1] for p in g.down + g.up),
                                             n.edge_ops() + tuple(p[1] for p in n.down + n.up),
                                             strict=True))  # fmt: skip
        assert changed == 1


def test_round_trips_and_nasunet_notation():
    space = NasUnetSpace(n_nodes=3, skeleton={"depth": 3, "channels": 6, "spatial_dims": 3})
    assert space_from_dict(space.to_dict()) == space
    g = space.sample(np.random.default_rng(0))
    assert parse_genotype(g.to_json()) == g == parse_genotype(g.to_darts_text())
    assert g.to_darts_text().startswith("Genotype(down=[")
    assert space.encode(g).shape == (space.encoding_length(),)
    assert space.encode(g).sum() == 2 * 2 * 3


def test_wrong_role_op_is_a_one_line_error():
    space = NasUnetSpace(n_nodes=1)
    bad = NasUnetGenotype([("conv", 0), ("max_pool", 1)], [2], [("conv", 0), ("up_conv", 1)], [2])
    with pytest.raises(SpaceError, match="down cell, down edge 0->2: op 'conv'") as err:
        space.validate(bad)
    assert "\n" not in str(err.value)
    with pytest.raises(SpaceError, match="searched by darts, gdas, proxyless"):
        space.supernet(method="pcdarts")
    with pytest.raises(SpaceError, match="same number of nodes"):
        up = [("conv", 0), ("up_conv", 1), ("conv", 0), ("up_conv", 1)]
        NasUnetGenotype([("down_conv", 0), ("max_pool", 1)], [2], up, [2, 3])


def test_neighbours_are_listed_members_and_input_order_twins_share_a_key():
    space = NasUnetSpace(n_nodes=1)
    members = set(space.enumerate())
    assert all(n in members for g in members for n in space.neighbours(g))
    g = space.sample(np.random.default_rng(1))
    swapped = type(g)(g.down[::-1], g.down_concat, g.up, g.up_concat, g.inputs_per_node)
    assert swapped != g and space.canonical(swapped) == space.canonical(g) == g.to_json()


# Verbatim from tianbaochou/NasUnet, models/geno_searched.py: a published cell with
# NAS-Unet's shuffle_conv (which its util/prim_ops_set.py builds as ConvOps(c, c), the
# same 3x3 conv as its 'conv').
NAS_UNET_NEW_V3 = (
    "NAS_UNET_NEW_V3 = Genotype(down=[('down_dep_conv', 0), ('down_cweight', 1), "
    "('down_conv', 1), ('max_pool', 0), ('max_pool', 1), ('cweight', 2), ('down_dil_conv', 0), "
    "('down_dil_conv', 1)], down_concat=range(2, 6),\n"
    "                           up=[('dep_conv', 0), ('up_conv', 1), ('shuffle_conv', 0), "
    "('up_cweight', 1), ('identity', 2), ('up_cweight', 1), ('dil_conv', 3), ('up_cweight', 1)], "
    "up_concat=range(2, 6))"
)


@pytest.mark.parametrize("dims", [2, 3])
def test_a_published_genotype_with_shuffle_conv_builds(dims):
    import torch

    from nasbench.models import build
    from nasbench.spaces import UNetSkeleton

    g = parse_genotype(NAS_UNET_NEW_V3)
    assert g.n_nodes == 4 and "shuffle_conv" in g.ops()
    skeleton = UNetSkeleton(depth=2, channels=4, num_classes=2, spatial_dims=dims)
    net = build(g, skeleton, seed=0).eval()
    assert net(torch.zeros(1, 1, *[16] * dims)).shape == (1, 2, *[16] * dims)
    # The default space does not list it (a search would see two copies of 'conv'), and
    # says so; a space that adds it holds the genotype.
    with pytest.raises(SpaceError, match="NAS-Unet's code builds it as its 'conv'") as err:
        NasUnetSpace(n_nodes=4).validate(g)
    assert "\n" not in str(err.value)
    normal = ("identity", "cweight", "dil_conv", "dep_conv", "conv", "shuffle_conv")
    assert NasUnetSpace(n_nodes=4, normal_ops=normal).validate(g) == g


def test_the_normal_op_set_keeps_its_five_ops():
    # Stored NAS-Unet runs have five alpha columns per normal edge; shuffle_conv stays out.
    assert NasUnetSpace().role_ops["normal"] == ("identity", "cweight", "dil_conv", "dep_conv",
                                                 "conv")  # fmt: skip


def test_stem_convs_past_the_cap_are_refused_at_once():
    with pytest.raises(SpaceError, match="UNetSkeleton.stem_convs 1000000 is past 16") as err:
        NasUnetSpace(skeleton={"depth": 2, "channels": 4, "stem_convs": 1_000_000})
    assert "\n" not in str(err.value)
    assert UNetSkeleton(stem_convs=MAX_STEM_CONVS).stem_convs == 16
