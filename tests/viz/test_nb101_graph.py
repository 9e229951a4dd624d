"""The NAS-Bench-101 cell drawing."""

from __future__ import annotations

import re

import pytest

from nasbench.errors import SpaceError
from nasbench.spaces import NB101Genotype
from nasbench.viz import draw_genotype, draw_nb101
from nasbench.viz.palette import INPUT_FILL, OUTPUT_FILL, lighten, op_color

# Vertex 1 (conv3x3) is live; vertex 2 (maxpool) feeds nothing, so pruning drops it.
CELL = NB101Genotype(
    [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]], ["conv3x3_bn_relu", "maxpool3x3"]
)


def _edges(source: str) -> set[tuple[str, str]]:
    return set(re.findall(r"(v\d+) -> (v\d+)", source))


def test_draw_genotype_draws_every_vertex_and_edge_with_pruned_parts_dashed():
    source = draw_genotype(CELL).source
    assert _edges(source) == {("v0", "v1"), ("v0", "v2"), ("v1", "v3")}
    assert INPUT_FILL in source and OUTPUT_FILL in source
    assert lighten(op_color("conv3x3_bn_relu")) in source
    pruned_vertex = next(line for line in source.splitlines() if "maxpool3x3" in line)
    pruned_edge = next(line for line in source.splitlines() if "v0 -> v2" in line)
    assert "dashed" in pruned_vertex and "dashed" in pruned_edge
    assert "v0 -> v1" in source and "dashed" not in source.split("v0 -> v1")[1].splitlines()[0]


def test_show_pruned_false_leaves_the_dead_vertex_out():
    source = draw_nb101(CELL, show_pruned=False).source
    assert "maxpool3x3" not in source
    assert _edges(source) == {("v0", "v1"), ("v1", "v3")}


def test_other_genotypes_are_refused_in_one_line():
    with pytest.raises(SpaceError, match="draws nb101 genotypes") as info:
        draw_nb101("nb101|011,001,000|maxpool3x3")
    assert "\n" not in str(info.value)
