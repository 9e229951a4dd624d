"""Lesson 02: ops, cells, NAS-Bench-201, the chain space, the builder and the zoo."""

from __future__ import annotations

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
    for name in ("NASNet-A", "AmoebaNet-A", "DARTS_V2", "PC-DARTS"):
        assert name in text  # the zoo table
    # supernet, a sampled cell, its network, an NB201 cell, a chain, NASNet-A
    assert count_mime(nb, SVG_MIME) >= 6
    assert count_mime(nb, WIDGET_MIME) >= 2  # the space builder and the genotype viewer
