"""Size settings past what any network could be built from are refused in one line."""

from __future__ import annotations

import re

import numpy as np
import pytest

from nasbench.errors import ConfigError, SpaceError
from nasbench.spaces import create_space
from nasbench.spaces.alb import MAX_HEAD_WIDTH, AlbSpace
from nasbench.spaces.c2fnas import MAX_CANDIDATES, MAX_PROXY_STEPS, C2fnasSpace
from nasbench.spaces.chain import ChainSpace
from nasbench.spaces.dints import MAX_DINTS_BLOCKS, MAX_DINTS_DEPTH, DintsSpace
from nasbench.spaces.nb101 import NB101Space
from nasbench.spaces.trellis import TrellisSpace
from nasbench.spaces.vnas import VnasSpace


@pytest.mark.parametrize(
    "make, said",
    [
        (lambda: ChainSpace(max_depth=1_000_000), "ChainSpace max_depth 1000000 is too many"),
        (lambda: NB101Space(n_vertices=5000), "NB101Space n_vertices 5000 is too many"),
        (lambda: VnasSpace(blocks_per_level=100_000), "blocks_per_level 100000 is too many"),
        (lambda: C2fnasSpace(num_cells=60), "C2fnasSpace num_cells 60 is too many"),
        (lambda: TrellisSpace(num_layers=100_000), "TrellisSpace num_layers 100000 is too many"),
        (lambda: DintsSpace(num_blocks=100_000), "DintsSpace num_blocks 100000 is too many"),
        (lambda: create_space("dints", num_blocks=10**9), "num_blocks 1000000000 is too many"),
        (lambda: DintsSpace(skeleton={"depth": 6}), "DintsSpace skeleton depth 6 is too many"),
        (lambda: C2fnasSpace(candidates=10**6), "C2fnasSpace candidates 1000000 is too many"),
        (lambda: C2fnasSpace(proxy_steps=10**9), "proxy_steps 1000000000 is too many"),
        (lambda: AlbSpace(head_width=10**9), "AlbSpace head_width 1000000000 is too many"),
    ],
)
def test_sizes_past_the_cap_are_refused_at_once(make, said):
    with pytest.raises(SpaceError, match=f"{said}.*use at most") as err:
        make()
    assert "\n" not in str(err.value)


def test_the_caps_themselves_are_accepted():
    assert C2fnasSpace(candidates=MAX_CANDIDATES, proxy_steps=MAX_PROXY_STEPS).candidates == 1000
    assert AlbSpace(head_width=MAX_HEAD_WIDTH).head_width == MAX_HEAD_WIDTH
    # A clamped candidate count stays legal: 3 topologies exist, so 3 are drawn.
    few = C2fnasSpace(num_cells=4, candidates=10, skeleton={"depth": 1})
    assert len(few.sample_topologies(0)) == 3


def test_the_largest_dints_space_counts_and_samples_despite_a_count_past_floats():
    space = DintsSpace(num_blocks=MAX_DINTS_BLOCKS, skeleton={"depth": MAX_DINTS_DEPTH})
    assert space.size().bit_length() > 1024  # as a float it would overflow
    g = space.sample(np.random.default_rng(0))
    assert space.validate(g) == g and len(g.arch_code_a) == MAX_DINTS_BLOCKS


def test_a_deep_chain_samples_without_overflow_and_by_the_number_of_members():
    deep = ChainSpace(max_depth=100)
    assert deep.sample(np.random.default_rng(0)).depth == 100  # n**100 outweighs the rest
    # Four layers (max pooling, 2 kernels x 2 strides): each draw lists them all, so a
    # small alphabet keeps 4000 draws cheap (the default 264 took ~10 s), and odds of
    # 1/5 tell a uniform member from a uniform depth (1/2) or 1/n (1/4) far apart.
    shallow = ChainSpace(layer_types=("max_pool",), min_depth=1, max_depth=2)
    n = len(shallow.layer_choices())
    assert n == 4
    depths = [shallow.sample(np.random.default_rng(seed)).depth for seed in range(4000)]
    # Depth 1 holds n members, depth 2 n**2: a uniform draw is depth 1 with odds 1/(n+1).
    # abs: four standard deviations of a fraction of 4000 draws, sqrt(0.2 * 0.8 / 4000).
    assert depths.count(1) / len(depths) == pytest.approx(1 / (n + 1), abs=0.025)


@pytest.mark.parametrize(
    "make, size",
    [
        (lambda depth=3: DintsSpace(skeleton={"depth": depth}), 28),
        (lambda depth=3: TrellisSpace(skeleton={"depth": depth}), 28),
        (lambda depth=3: TrellisSpace(skeleton={"depth": depth}), 100),
        (lambda depth=2: C2fnasSpace(skeleton={"depth": depth}), 28),
        (lambda depth=4: C2fnasSpace(skeleton={"depth": depth}), 8),
    ],
)
def test_an_image_size_that_does_not_fit_is_told_sizes_and_a_depth_that_do(make, size):
    with pytest.raises(ConfigError) as err:
        make().check_input_size(size)
    found = re.search(r"use an image size of ([\d or]+?)(?:, or depth (\d+))?\.$", str(err.value))
    assert found, str(err.value)
    for suggested in found.group(1).split(" or "):
        make().check_input_size(int(suggested))
    if found.group(2):
        make(depth=int(found.group(2))).check_input_size(size)


@pytest.mark.parametrize(
    "make, size, offered, advice",
    [
        # synthetic-seg comes in 28, 64 and 128: 24 and 32 are not on offer
        (lambda: DintsSpace(skeleton={"depth": 2}), 28, (28, 64, 128), "64 or 128, or depth 1"),
        (lambda: TrellisSpace(skeleton={"depth": 3}), 28, (28, 64), "64, or depth 2"),
        (lambda: C2fnasSpace(skeleton={"depth": 2}), 28, (28, 64), "64, or depth 1"),
    ],
)
def test_a_size_that_does_not_fit_is_told_the_datasets_sizes_that_do(make, size, offered, advice):
    with pytest.raises(ConfigError, match=rf"so use an image size of {advice}\.$"):
        make().check_input_size(size, offered=offered)


def test_a_dataset_none_of_whose_sizes_fit_is_told_the_depth_or_to_pick_another():
    with pytest.raises(ConfigError, match=r"so use depth 1 \(none of the dataset's sizes, 28, is "
                       r"a multiple of 32\)\.$"):  # fmt: skip
        DintsSpace(skeleton={"depth": 4}).check_input_size(28, offered=(28,))
    with pytest.raises(ConfigError, match=r"pick a dataset with an image size that is a multiple "
                       r"of 16\.$"):  # fmt: skip
        TrellisSpace(skeleton={"depth": 4}).check_input_size(7, offered=(7,))


def test_the_config_check_names_the_datasets_sizes():
    from nasbench import SearchConfig

    config = SearchConfig(
        dataset={"name": "synthetic-seg", "size": 28},
        space={"name": "dints", "skeleton": {"depth": 2, "spatial_dims": 2}},
        strategy="dints",
    )
    with pytest.raises(ConfigError, match=r"use an image size of 64 or 128, or depth 1\.$"):
        config.validate()


@pytest.mark.parametrize("name", ["vnas", "c2fnas"])
def test_a_volume_space_on_2d_data_says_to_pick_3d_data(name):
    from nasbench.errors import SpaceError
    from nasbench.spaces import create_space

    # The workbench has no spatial_dims control: the dataset sets it.
    with pytest.raises(SpaceError, match=r"so it needs 3D data: pick a 3D dataset \(skeleton "):
        create_space(name, skeleton={"spatial_dims": 2})
