"""The unrolled reconstruction space: genotype round trips, counting, moves, encodings."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.config import DatasetConfig, SearchConfig
from nasbench.errors import ConfigError, SpaceError
from nasbench.spaces import create_space, parse_genotype, space_from_dict, zoo
from nasbench.spaces.recon import ReconGenotype, ReconSkeleton, ReconSpace

SMALL_OPS = ["none", "skip_connect", "conv_3x3", "res_conv_3x3"]


def test_genotype_round_trips_and_keeps_its_kind():
    g = ReconGenotype([("conv_3x3", 0), ("res_dil_conv_3x3", 1)], [2])
    assert parse_genotype(g.to_json()) == g
    assert ReconGenotype.from_darts(g.to_darts()) == g
    assert g.to_darts().reduce == g.normal
    with pytest.raises(SpaceError, match="one cell"):
        g.cell("reduce")


def test_size_matches_enumeration_and_samples_are_members():
    space = ReconSpace(ops=SMALL_OPS, n_nodes=2)
    every = list(space.enumerate())
    assert len(every) == len(set(every)) == space.size() == 1 * 9 * 3 * 9
    rng = np.random.default_rng(0)
    assert all(space.contains(space.sample(rng)) for _ in range(20))


def test_neighbours_are_one_edge_away_and_inside():
    space = ReconSpace(n_nodes=2)
    g = space.sample(np.random.default_rng(1))
    neighbours = space.neighbours(g)
    assert len(neighbours) == len(set(neighbours)) and g not in neighbours
    for n in neighbours:
        assert space.contains(n)
        changed = [a != b for a, b in zip(g.normal, n.normal, strict=True)]
        assert sum(changed) == 1


def test_encodings_have_fixed_length():
    space = ReconSpace(n_nodes=2)
    g = space.sample(np.random.default_rng(2))
    for encoding in ("onehot", "path"):
        assert space.encode(g, encoding).shape == (space.encoding_length(encoding),)
    assert space.encode(g).sum() == 4.0


def test_space_serialises_and_rejects_bad_settings():
    space = create_space(
        "unrolled", n_nodes=3, skeleton={"cascades": 4, "data_consistency": "learned"}
    )
    assert space_from_dict(space.to_dict()) == space
    assert space.to_dict()["ops"] == "recon" and space.task == "reconstruction"
    for bad, message in [
        ({"cascades": 0}, "cascades"),
        ({"data_consistency": "soft"}, "data_consistency"),
        ({"in_channels": 1}, "of 3 channels"),
        ({"in_channels": 8}, r"or 4C\+1 \(C coils\), not 8"),
        ({"cascade": 3}, "Did you mean 'cascades'"),
    ]:
        with pytest.raises(SpaceError, match=message) as err:
            ReconSkeleton.from_dict(bad)
        assert "\n" not in str(err.value)
    with pytest.raises(SpaceError, match="recon genotypes"):
        space.validate(zoo["DARTS_V2"])


@pytest.mark.parametrize(
    "skeleton, message",
    [
        ({"cascades": 1_000_000}, "ReconSkeleton.cascades 1000000 is past 32;"),
        ({"cascades": 33}, "ReconSkeleton.cascades 33 is past 32;"),
        ({"cascades": 1, "cells": 1_000_000}, "ReconSkeleton.cells 1000000 per cascade"),
        ({"cascades": 32, "cells": 4}, r"makes 128 cells .* give cells \* cascades <= 100"),
    ],
)
def test_cascades_and_cells_past_their_caps_are_refused_at_once(skeleton, message):
    with pytest.raises(SpaceError, match=message) as err:
        create_space("unrolled", n_nodes=1, skeleton=skeleton)
    assert "\n" not in str(err.value)
    assert ReconSkeleton(cascades=32, cells=3).n_cells == 96  # under both caps: accepted


def test_search_configs_pair_reconstruction_data_with_the_unrolled_space():
    recon_space = {"name": "unrolled", "n_nodes": 2}
    with pytest.raises(ConfigError, match="unrolled"):
        SearchConfig(dataset=DatasetConfig(name="synthetic"), space=recon_space).validate()
    with pytest.raises(ConfigError, match="unrolled"):
        SearchConfig(dataset=DatasetConfig(name="synthetic-recon")).validate()
    SearchConfig(dataset=DatasetConfig(name="synthetic-recon"), space=recon_space).validate()
