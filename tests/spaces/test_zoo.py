"""The zoo of published cells."""

from __future__ import annotations

import pytest

from nasbench.errors import SpaceError
from nasbench.spaces import CellSpace, Genotype, op_names, parse_genotype, zoo
from nasbench.spaces.zoo import zoo_citation, zoo_info, zoo_table

NAMES = ("NASNet-A", "AmoebaNet-A", "ENAS", "DARTS_V1", "DARTS_V2", "GDAS", "PC-DARTS")


def test_zoo_has_the_published_cells_and_is_read_only():
    assert tuple(zoo) == NAMES
    assert all(isinstance(g, Genotype) for g in zoo.values())
    with pytest.raises(TypeError):
        zoo["mine"] = zoo["DARTS_V2"]  # type: ignore[index]


@pytest.mark.parametrize("name", NAMES)
def test_every_entry_round_trips_through_json_and_darts_text(name):
    g = zoo[name]
    assert parse_genotype(g.to_json()) == g
    assert parse_genotype(g.to_darts_text()) == g
    assert parse_genotype(f"{name.replace('-', '_')} = {g.to_darts_text()}") == g


@pytest.mark.parametrize("name", NAMES)
def test_every_op_is_registered(name):
    assert zoo[name].ops() <= set(op_names())


def test_cells_are_as_the_papers_give_them():
    darts_v2 = (
        "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
        "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
        "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
        "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
        "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], "
        "reduce_concat=[2, 3, 4, 5])"
    )
    assert zoo["DARTS_V2"] == parse_genotype(darts_v2)
    # NASNet-A and AmoebaNet-A: 5 nodes, concat of the nodes no other node uses.
    assert zoo["NASNet-A"].n_nodes == 5 and zoo["NASNet-A"].reduce_concat == (4, 5, 6)
    assert zoo["AmoebaNet-A"].normal_concat == (4, 5, 6)
    assert zoo["AmoebaNet-A"].reduce_concat == (3, 4, 6)
    assert zoo["ENAS"].reduce_concat == (2, 3, 6)
    assert ("conv_7x1_1x7", 0) in zoo["AmoebaNet-A"].reduce
    assert zoo["GDAS"].nodes("reduce")[3] == (("sep_conv_5x5", 0), ("sep_conv_5x5", 1))
    assert zoo["PC-DARTS"].nodes("normal")[0] == (("sep_conv_3x3", 1), ("skip_connect", 0))


def test_gradient_cells_are_in_the_darts_space():
    space = CellSpace()
    for name in ("DARTS_V1", "DARTS_V2", "GDAS", "PC-DARTS"):
        assert space.contains(zoo[name]), name
    assert not space.contains(zoo["NASNet-A"])


def test_info_and_citations():
    expected_params = {
        "DARTS_V2": 3.3, "DARTS_V1": 3.3, "GDAS": 3.4, "PC-DARTS": 3.6,
        "NASNet-A": 3.3, "AmoebaNet-A": 3.2, "ENAS": 4.6,
    }  # fmt: skip
    for name in NAMES:
        info = zoo_info(name)
        assert info.name == name and info.params_m == expected_params[name]
        assert info.dataset == "CIFAR-10" and 2.0 < info.test_error < 4.0
        assert info.url.startswith("https://arxiv.org/abs/")
        assert str(info.year) in zoo_citation(name) and "\n" not in zoo_citation(name)
    assert zoo_info("DARTS_V2").search_cost_gpu_days == 4.0
    assert "Liu" in zoo_citation("DARTS_V1")
    assert [row["name"] for row in zoo_table()] == list(NAMES)
    with pytest.raises(SpaceError, match="Did you mean 'DARTS_V2'") as info:
        zoo_info("DARTS-V2")
    assert "\n" not in str(info.value)
