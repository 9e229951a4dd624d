"""The course's own lessons in a real browser, run top to bottom as a student would.

The headless notebook tests (``tests/notebooks``) check what each lesson computes; only a
browser shows whether what it displays arrives: every plotly figure with its traces, every
widget view, the drawn cells, and no traceback or widget error on the page. Lessons run
unchanged (QUICK mode, their default), in a tall window so JupyterLab renders every cell.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from tests.browser.test_workbench_browser import console_errors, open_and_run_all, widget_errors

pytestmark = pytest.mark.browser

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
# The first lesson a person opens, and the DARTS lesson with its live monitor and alpha views:
# the plotly figures in view once it has run (a tab's hidden figures not counted) and the
# drawn cells (SVG) each shows.
LESSONS = {"00_quickstart": (1, 1), "04_darts": (6, 1)}
LESSON_TIMEOUT_MS = 600_000
# A window tall enough that JupyterLab's windowed notebook renders every cell at once.
TALL_VIEWPORT = {"width": 1600, "height": 20_000}
EVERY_CELL_RAN = """() => [...document.querySelectorAll(
  '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')]
  .every(p => /\\[\\d+\\]/.test(p.textContent))"""
# Per code cell: its visible plotly figures' trace counts, drawn SVG/images, error outputs.
CELL_OUTPUTS = """() => [...document.querySelectorAll('.jp-CodeCell')].map((cell, index) => ({
  index,
  traces: [...cell.querySelectorAll('.js-plotly-plot')]
    .filter(p => p.getBoundingClientRect().height > 0)
    .map(p => (p.data ? p.data.length : -1)),
  drawings: [...cell.querySelectorAll('.jp-RenderedSVG img, .jp-RenderedImage img')]
    .filter(img => img.complete && img.naturalWidth > 0).length
    + cell.querySelectorAll('.jp-RenderedHTMLCommon > svg').length,
  // Drawings wider than their output area: what passes its right edge is out of sight.
  too_wide: [...cell.querySelectorAll(
      '.jp-RenderedSVG img, .jp-RenderedImage img, .jp-RenderedHTMLCommon > svg')]
    .filter(d => d.getBoundingClientRect().width
      > d.closest('.jp-OutputArea-output').getBoundingClientRect().width + 1)
    .map(d => Math.round(d.getBoundingClientRect().width)),
  problems: [...cell.querySelectorAll('.jp-OutputArea-output')].map(o => o.textContent)
    .filter(t => /Traceback|Error displaying widget|Failed to (load|create)/.test(t))
    .map(t => t.slice(0, 400)),
}))"""


@pytest.mark.slow
@pytest.mark.parametrize("stem", sorted(LESSONS))
def test_lesson_shows_every_figure_in_the_browser(lab_server, page, artifacts, stem) -> None:
    # A folder of its own: the lesson writes its runs next to it (RUN_ROOT = "runs"), where
    # the workbench tests, sharing this server, must not find them.
    folder = lab_server.root_dir / "lessons" / stem
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(NOTEBOOKS / f"{stem}.ipynb", folder / f"{stem}.ipynb")
    page.set_viewport_size(TALL_VIEWPORT)
    started = time.monotonic()
    open_and_run_all(page, lab_server, f"lessons/{stem}/{stem}.ipynb")
    page.wait_for_function(EVERY_CELL_RAN, timeout=LESSON_TIMEOUT_MS, polling=1000)
    # Figures and widget views draw after their cell's prompt turns to a number.
    page.wait_for_timeout(5_000)
    cells = page.evaluate(CELL_OUTPUTS)
    (artifacts / f"lesson-{stem}.json").write_text(
        json.dumps({"seconds": round(time.monotonic() - started, 1), "cells": cells}, indent=1)
    )
    page.screenshot(path=str(artifacts / f"lesson-{stem}.png"), full_page=True)

    problems = [(c["index"], p) for c in cells for p in c["problems"]]
    assert not problems, f"error outputs on the page: {problems}\n{console_errors(page)}"
    empty = [c["index"] for c in cells if any(n <= 0 for n in c["traces"])]
    assert not empty, f"cells {empty} show a plotly figure without traces"
    figures, drawings = LESSONS[stem]
    assert sum(len(c["traces"]) for c in cells) >= figures, f"fewer than {figures} figures"
    assert sum(c["drawings"] for c in cells) >= drawings, f"fewer than {drawings} drawn cells"
    too_wide = [(c["index"], c["too_wide"]) for c in cells if c["too_wide"]]
    assert not too_wide, f"drawings wider than their output area (cell, px): {too_wide}"
    assert not widget_errors(page), widget_errors(page)
