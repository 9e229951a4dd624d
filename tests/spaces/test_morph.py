"""The NASH genotype (kind "morph"): registered with the other kinds, strict from_dict."""

from __future__ import annotations

import json

import pytest

from nasbench.errors import SpaceError
from nasbench.spaces import MorphGenotype, genotype_from_dict, parse_genotype


def test_a_nash_genotype_parses_wherever_the_other_kinds_do():
    g = MorphGenotype(MorphGenotype.plain(1, (4, 8, 8)).layers, ((0, 2), (1, 3)), 1)
    assert parse_genotype(g.to_json()) == g == genotype_from_dict(g.to_dict())
    assert parse_genotype(g) is g
    # The stored text is unchanged: NASH runs already in stores key candidates by it.
    assert g.to_json() == json.dumps(g.to_dict(), sort_keys=True)


def test_the_models_layer_reexports_the_same_class():
    from nasbench.models.morphism import MorphGenotype as FromModels

    assert FromModels is MorphGenotype


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"layers": 5}, "morph layers must be a list"),
        ({"layers": [[3, 1]]}, "must have 3 entries"),
        ({"layers": [[3, 1, "8"]]}, "channels must be an integer"),
        ({"layers": [[3, 1, 8.5]]}, "channels must be an integer"),
        ({"layers": [[3, True, 8]]}, "stride must be an integer"),
        ({"layers": [[2, 1, 8]]}, "kernel 2 must be odd"),
        ({"layers": []}, "at least one layer"),
        ({"skips": [[0, 5]]}, "0 <= i < j <= 1"),
        ({"skips": [[0]]}, "must have 2 entries"),
        ({"skips": {"a": 1}}, "morph skips must be a list"),
        ({"in_channels": None}, "in_channels must be an integer"),
        ({"colour": "red"}, "unknown key 'colour'"),
    ],
)
def test_malformed_nash_genotypes_are_one_line_space_errors(changes, said):
    d = {**MorphGenotype.plain(1, (8,)).to_dict(), **changes}
    with pytest.raises(SpaceError, match=said) as err:
        parse_genotype(json.dumps(d))
    assert "\n" not in str(err.value)
