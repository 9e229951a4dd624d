"""Every genotype kind refuses a malformed field with a one-line NasbenchError, never a
TypeError or AttributeError from deep inside its parser."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from nasbench.errors import NasbenchError
from nasbench.spaces import MorphGenotype, create_space, parse_genotype

SPACES = ("alb", "c2fnas", "chain", "darts", "dints", "nasunet", "nb101", "nb201", "trellis",
          "unrolled", "vnas")  # fmt: skip
VALUES = [None, "x", 1.5, -1, True, [], {}, [1.5], ["x"], [None], [[1.5]], [["a", "b"]]]


def _paths(value, path=()):
    """The path of every value in a dict, and of the first two entries of each list."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for k, item in enumerate(value[:2]):
            yield from _paths(item, (*path, k))


def _genotypes():
    for name in SPACES:
        yield name, create_space(name).sample(np.random.default_rng(0)).to_dict()
    yield "morph", MorphGenotype(MorphGenotype.plain(1, (4, 8)).layers, ((0, 2),), 1).to_dict()


@pytest.mark.parametrize(("name", "genotype"), list(_genotypes()))
def test_a_field_of_the_wrong_type_is_a_one_line_error(name, genotype):
    for path in _paths(genotype):
        if path in ((), ("kind",)):
            continue
        for value in VALUES:
            broken = copy.deepcopy(genotype)
            target = broken
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
            try:
                parse_genotype(json.dumps(broken))
            except NasbenchError as err:
                assert "\n" not in str(err), (name, path, value)
