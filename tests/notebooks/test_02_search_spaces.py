"""Lesson 02: ops, cells, NAS-Bench-201, the chain space, NAS-Bench-101, the builder and
the zoo."""

from __future__ import annotations

import re

import pytest

from tests.notebooks.conftest import (
    SVG_MIME,
    WIDGET_MIME,
    checked_text,
    count_mime,
)

STEM = "02_search_spaces"


@pytest.mark.slow
def test_spaces_lesson_counts_draws_and_compares(run_lesson):
    nb = run_lesson(STEM)
    text = checked_text(nb, STEM)
    assert "one cell: 1,037,664,180" in text
    assert "15,625 cells, 6,466 unique" in text
    assert "264 choices per layer" in text
    assert "423,624 unique cells in the benchmark" in text
    assert "True True <- different matrices and ops, one hash" in text
    found = re.search(r"([\d,]+) sampled cells, ([\d,]+) unique hashes", text)
    sampled, unique = (int(n.replace(",", "")) for n in found.groups())
    assert 0 < unique < sampled  # pruning and isomorphism merge sampled cells
    for name in ("NASNet-A", "AmoebaNet-A", "DARTS_V2", "PC-DARTS"):
        assert name in text  # the zoo table
    # supernet, a sampled cell, its network, an NB201 cell, a chain, an NB101 cell, NASNet-A
    assert count_mime(nb, SVG_MIME) >= 7
    assert count_mime(nb, WIDGET_MIME) >= 2  # the space builder and the genotype viewer
