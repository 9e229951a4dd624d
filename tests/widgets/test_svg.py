"""Drawings shown inline: scaled to the output's width, errors in place of the picture."""

from __future__ import annotations

import re

import ipywidgets as widgets

from nasbench.errors import NasbenchError
from nasbench.spaces import zoo
from nasbench.viz import draw_genotype
from widgets._svg import show_drawing, svg_markup


def test_a_drawing_is_scaled_to_the_output_width_and_keeps_its_proportions():
    target = widgets.HTML()
    wide = lambda: draw_genotype(zoo["DARTS_V2"], stacked=False)  # noqa: E731
    assert show_drawing(target, wide)
    svg = re.search(r"<svg[^>]*>", target.value).group(0)
    # Graphviz sizes the cell pair in points (wider than a notebook); CSS scales it down.
    assert 'style="max-width:100%;height:auto"' in svg
    assert re.search(r'width="(\d+)pt"', svg) and int(re.search(r'width="(\d+)pt"', svg)[1]) > 800
    assert "viewBox=" in svg
    assert target.value.count("<svg") == 1 and svg_markup(wide()) in (
        target.value.replace(' style="max-width:100%;height:auto"', "", 1)
    )


def test_a_failing_drawing_shows_one_line_instead():
    def broken():
        raise NasbenchError("genotype has no normal cell; give both cells")

    target = widgets.HTML()
    assert not show_drawing(target, broken)
    assert "nasbench-message-error" in target.value and "<svg" not in target.value
    assert "genotype has no normal cell" in target.value
