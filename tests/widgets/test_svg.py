"""Drawings shown inline: scaled to the output's width, errors in place of the picture."""

from __future__ import annotations

import re

import ipywidgets as widgets

from nasbench.errors import NasbenchError
from nasbench.spaces import zoo
from nasbench.viz import draw_genotype
from widgets._svg import message_html, show_drawing, svg_markup


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


def test_a_warning_or_an_error_says_so_in_words_not_only_in_colour():
    def visible(markup: str) -> str:
        return re.sub(r"<[^>]+>", "", markup)

    assert visible(message_html("no ops chosen", "error")) == "error: no ops chosen"
    assert visible(message_html("alphas collapse", "warning")) == "warning: alphas collapse"
    assert visible(message_html("report written", "info")) == "report written"
    # A message that starts with the word keeps its own; a longer word is not the word.
    assert visible(message_html("Error: disk full", "error")) == "Error: disk full"
    assert visible(message_html("errors ahead", "error")) == "error: errors ahead"
    # The text is escaped; the detail below it is HTML, kept as given.
    shown = message_html("a < b", "error", "<pre>log</pre>")
    assert "a &lt; b<pre>log</pre>" in shown and "nasbench-message-error" in shown
