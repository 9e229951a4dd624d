"""The workbench in a real browser: JupyterLab + headless Chromium, driven by Playwright.

``test_harness_renders_widgets`` proves the harness itself (an ipywidgets slider and a plotly
FigureWidget render), so a failure there points at the browser set-up, not at the workbench.
``test_views_acknowledge_live_edits_and_a_deaf_view_is_noticed`` checks what the
monitor's stale-figure watchdog relies on. ``test_workbench_tiny_search`` is issue 6's
acceptance check: ``Workbench()`` on the synthetic default, Run on a tiny DARTS search, then
the live alpha figure and the final cell drawing.
Screenshots go to ``test-artifacts/browser/``.
"""

from __future__ import annotations

import re
import time

import pytest

pytestmark = pytest.mark.browser

# The status bar reads "No Kernel | Idle" before the kernel exists, so "Idle" alone is not enough.
KERNEL_IDLE_TEXT = re.compile(r"^(?!No Kernel).+ \| Idle$")
STDERR_OUTPUT = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"


def write_notebook(server, name: str, cells: list[str]) -> None:
    """Write a python3 notebook with ``cells`` (code) into the server's root folder."""
    import nbformat  # with jupyterlab; imported here so collection works without it

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, server.root_dir / name)


def open_and_run_all(page, server, name: str, attempts: int = 3) -> None:
    """Open notebook ``name``, wait for its kernel, then Run > Run All Cells.

    Run All clicked while the kernel is still connecting can be dropped without a word, so
    it is clicked again (up to ``attempts`` times) until every prompt leaves ``[ ]:``.
    """
    page.goto(server.notebook_url(name))
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").first
    panel.locator(".jp-Cell").first.wait_for(state="visible", timeout=60_000)
    kernel_idle = page.locator(".jp-StatusBar-TextItem", has_text=KERNEL_IDLE_TEXT)
    for attempt in range(attempts):
        kernel_idle.first.wait_for(state="visible", timeout=90_000)
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        try:
            # "[*]:" once a cell is queued, "[1]:" once it ran.
            page.wait_for_function(
                "() => [...document.querySelectorAll("
                "'.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell .jp-InputPrompt')]"
                ".every(p => p.textContent.trim() !== '[ ]:')",
                timeout=20_000,
            )
            return
        except Exception:  # playwright's TimeoutError
            if attempt == attempts - 1:
                raise


def stderr_text(page) -> str:
    """Text of any stderr/traceback outputs, to make a failed wait say why."""
    return "\n".join(page.locator(STDERR_OUTPUT).all_inner_texts())[-3000:]


def console_errors(page) -> str:
    """The page's console errors and uncaught exceptions (widget models log theirs there)."""
    lines = [
        m for m in getattr(page, "console_messages", []) if m.startswith(("error", "pageerror"))
    ]
    return "\n".join(lines)[-3000:]


def widget_errors(page) -> str:
    """Console errors from a widget model or comm (anywidget, jupyter-widgets, comm)."""
    lines = console_errors(page).splitlines()
    return "\n".join(
        line for line in lines if re.search(r"anywidget|widget|comm|model", line, re.IGNORECASE)
    )


def wait_for(page, selector: str, timeout_ms: int, what: str):
    """Wait until ``selector`` is visible; on timeout fail with the notebook's stderr."""
    locator = page.locator(selector).first
    try:
        locator.wait_for(state="visible", timeout=timeout_ms)
    except Exception as exc:  # playwright's TimeoutError; re-raised with context
        pytest.fail(
            f"{what} ({selector}) did not appear in {timeout_ms / 1000:.0f} s: {exc}\n"
            f"notebook stderr:\n{stderr_text(page)}"
        )
    return locator


def test_harness_renders_widgets(lab_server, page, artifacts) -> None:
    write_notebook(
        lab_server,
        "harness.ipynb",
        [
            "import ipywidgets as w\nw.IntSlider(value=7, description='seven')",
            "import plotly.graph_objects as go\n"
            "go.FigureWidget(go.Scatter(y=[3, 1, 2], name='line'))",
        ],
    )
    open_and_run_all(page, lab_server, "harness.ipynb")

    slider = wait_for(page, ".widget-slider", 60_000, "the ipywidgets slider")
    trace = wait_for(page, ".js-plotly-plot .scatterlayer .trace path", 60_000, "the plotly trace")
    page.screenshot(path=str(artifacts / "harness.png"), full_page=True)

    assert "seven" in slider.inner_text()
    assert trace.get_attribute("d"), "the plotly line has no path data"
    # The news toast is switched off in the fixture; it must not cover the page.
    assert page.locator(".jp-toast-message", has_text="Jupyter news").count() == 0


# The tiny search of issue 6: a 2-node DARTS cell in a 3-cell, 4-channel network, two epochs
# of two steps each on 64 synthetic images. Entered in the page, field by field, as a person would.
TINY_SPACE = {"nodes": 2, "cells": 3, "channels": 4, "batch size": 8}
TINY_BUDGET = {"epochs": 2, "max steps / epoch": 2, "image limit": 64}
SEARCH_TIMEOUT_S = 180
# The FigureWidget's own element carries both .nasbench-alpha-figure and .js-plotly-plot.
ALPHA_PATHS = ".nasbench-alpha-figure .scatterlayer .trace path.js-line"


def alpha_line_drawn(page) -> bool:
    """True once some alpha trace is drawn as a line through two or more points ("M..L..").

    Plotly draws an empty trace too (no or a one-point path), so mere presence is not enough.
    """
    return page.locator(ALPHA_PATHS).evaluate_all(
        "paths => paths.some(p => /^M[^L]+L/.test(p.getAttribute('d') || ''))"
    )


def drawn_figure_state(page) -> str:
    """What plotly.js holds for the alpha figure: traces, points and title (for failures)."""
    return page.locator(
        ".nasbench-alpha-figure.js-plotly-plot, .nasbench-alpha-figure .js-plotly-plot"
    ).evaluate_all(
        """plots => plots.map(p => `${(p.data || []).length} traces, `
            + `${(p.data || []).reduce((n, t) => n + ((t.x || []).length), 0)} points, `
            + `title ${JSON.stringify(p.layout?.title?.text ?? p.layout?.title ?? null)}`
        ).join('; ') || 'no plot element'"""
    )


def workbench_tab(page, title: str) -> None:
    """Select the workbench tab called ``title``."""
    page.locator(".nasbench-workbench .lm-TabBar-tab", has_text=title).first.click()


def set_int_field(page, container: str, label: str, value: int) -> None:
    """Type ``value`` into the ipywidgets int box labelled ``label`` inside ``container``.

    The box sends its value to the kernel on ``change``, hence the Tab after typing.
    """
    row = page.locator(f"{container} .widget-inline-hbox").filter(
        has=page.locator("label.widget-label", has_text=re.compile(rf"^{re.escape(label)}$"))
    )
    field = row.locator("input").first
    field.fill(str(value))
    field.press("Tab")


def search_outcome(page) -> str:
    """'finished' once the monitor says so and both drawings are on the page, 'failed' when
    the search failed, '' while it runs."""
    status = page.locator(".nasbench-status").first.inner_text()
    if "failed" in status:
        return "failed"
    drawn = alpha_line_drawn(page) and page.locator(".nasbench-genotype svg").count() > 0
    return "finished" if "finished" in status and drawn else ""


def expect_text(locator, text: str, timeout_ms: int = 30_000) -> None:
    """Wait until ``locator`` contains ``text``."""
    from playwright.sync_api import expect

    expect(locator).to_contain_text(text, timeout=timeout_ms)


def expect_enabled(locator, timeout_ms: int = 30_000) -> None:
    """Wait until ``locator`` is enabled (Run is disabled while the space is invalid)."""
    from playwright.sync_api import expect

    expect(locator).to_be_enabled(timeout=timeout_ms)


def test_workbench_tiny_search(lab_server, page, artifacts) -> None:
    write_notebook(
        lab_server,
        "workbench.ipynb",
        ["from widgets import Workbench\n\nwb = Workbench()\nwb"],
    )
    started = time.monotonic()
    open_and_run_all(page, lab_server, "workbench.ipynb")
    # Importing torch and building the first supernet drawing is slow on a busy CPU.
    wait_for(page, ".nasbench-workbench .lm-TabBar-tab", 120_000, "the workbench")
    page.screenshot(path=str(artifacts / "workbench-1-opened.png"), full_page=True)

    # The monitor's figures draw in the browser once plotly.js has loaded (seconds on a busy
    # CPU); their title proves the figure widget has its state before the search writes rows.
    workbench_tab(page, "Monitor")
    wait_for(page, ".nasbench-alpha-figure .gtitle", 120_000, "the monitor's alpha figure")
    workbench_tab(page, "Space")
    for label, value in TINY_SPACE.items():
        set_int_field(page, ".nasbench-space-builder", label, value)
    workbench_tab(page, "Search")
    for label, value in TINY_BUDGET.items():
        set_int_field(page, ".nasbench-launcher", label, value)
    # The summary is written by the kernel, so it proves the edits reached Python.
    summary = page.locator(".nasbench-launcher-summary").first
    expect_text(summary, "2 nodes · 3 cells · C=4")
    page.screenshot(path=str(artifacts / "workbench-2-configured.png"), full_page=True)

    run = page.locator(".nasbench-launcher .nasbench-run").first
    expect_enabled(run)
    run.click()
    clicked = time.monotonic()

    # Run switches to the Monitor tab; the alpha curves grow while the search runs.
    deadline = clicked + SEARCH_TIMEOUT_S
    while not alpha_line_drawn(page):
        if time.monotonic() > deadline:
            pytest.fail(
                f"no alpha line drawn in {SEARCH_TIMEOUT_S} s; status: "
                f"{page.locator('.nasbench-status').all_inner_texts()}; error: "
                f"{page.locator('.nasbench-error').all_inner_texts()}; the figure in the "
                f"browser: {drawn_figure_state(page)}\n{stderr_text(page)}\n"
                f"console errors:\n{console_errors(page)}"
            )
        page.wait_for_timeout(500)
    # Whether the line came from a live update (status still running) or from the figure
    # put in place at the end; printed, as a tiny search can finish between two looks.
    first_drawn_status = page.locator(".nasbench-status").first.inner_text()
    page.screenshot(path=str(artifacts / "workbench-3-running.png"), full_page=True)
    outcome = ""
    while not outcome and time.monotonic() < deadline:
        page.wait_for_timeout(1000)
        outcome = search_outcome(page)
    print(
        f"workbench shown and configured in {clicked - started:.0f} s, "
        f"search seen through in {time.monotonic() - clicked:.0f} s; "
        f"alpha figure: {drawn_figure_state(page)}; first line drawn at status "
        f"{first_drawn_status!r}; console errors: {console_errors(page) or 'none'}"
    )
    page.screenshot(path=str(artifacts / "workbench-4-finished.png"), full_page=True)
    # JupyterLab scrolls inside its notebook panel, so the drawings get pictures of their own.
    page.locator(".nasbench-alpha-figure").first.screenshot(
        path=str(artifacts / "workbench-5-alpha-figure.png")
    )
    page.locator(".nasbench-genotype").first.screenshot(
        path=str(artifacts / "workbench-6-genotype.png")
    )

    error = " ".join(page.locator(".nasbench-error").all_inner_texts())
    status = page.locator(".nasbench-status").first.inner_text()
    assert outcome == "finished", (
        f"search did not finish: status {status!r}; error {error!r}; "
        f"console errors:\n{console_errors(page)}"
    )
    assert alpha_line_drawn(page), "the alpha figure has no drawn line"
    svg = page.locator(".nasbench-genotype svg").first
    # The drawing of the last epoch's cell can land just after the status: wait for it.
    svg.wait_for(state="visible", timeout=10_000)
    box = svg.bounding_box(timeout=10_000)
    frame = page.locator(".nasbench-genotype").first.bounding_box(timeout=10_000)
    assert box is not None and frame is not None, "the genotype drawing is not laid out"
    print(f"genotype svg {box['width']:.0f} px wide in a {frame['width']:.0f} px output")
    assert box["width"] <= frame["width"] + 1, "the genotype drawing is wider than its output"
    # A DARTS cell drawing names its ops; an empty svg would not.
    assert svg.locator("text").count() >= 4, "the genotype drawing has no labelled nodes/edges"


# LivePlot's transport (widgets._figures): plotly.js once per page, the figure through a
# plain widget model, new points as extend messages. The probe grows a line every 0.3 s
# from a task on the kernel loop, as the monitor does, and shows the same plot a second
# time once the line has grown: a view born late must catch up (resync) and both must
# follow later points. A figure pushed whole (new title) must be redrawn in place.
PROBE = r"""
import asyncio, time
import ipywidgets as w
import plotly.graph_objects as go
from IPython.display import display
from widgets._figures import LivePlot

plot = LivePlot(go.Figure(go.Scatter(x=[0], y=[0.0], name="line")), classes=("probe-plot",))
report = w.HTML("growing")
report.add_class("probe-report")
display(w.VBox([plot, report]))
late = w.Output()
display(late)


async def grow():
    kinds = []
    for n in range(1, 31):
        trace = plot.figure.data[0]
        trace.x, trace.y = list(range(n + 1)), [float(v % 3) for v in range(n + 1)]
        kinds.append(plot.push())
        if n == 10:
            with late:
                display(plot)  # a second view, born after 10 extends
        await asyncio.sleep(0.3)
    plot.figure.layout.title = "done"
    kinds.append(plot.push())
    report.value = f"pushed {len(kinds)}: {kinds.count('extend')} extend, {kinds.count('full')} full"


asyncio.get_running_loop().create_task(grow())
"""


def test_live_plot_extends_in_place_and_a_late_view_catches_up(lab_server, page, artifacts):
    write_notebook(lab_server, "live_plot.ipynb", [PROBE])
    started = time.monotonic()
    open_and_run_all(page, lab_server, "live_plot.ipynb")
    try:
        page.wait_for_function(
            "() => document.querySelector('.probe-report')?.textContent.includes('pushed')",
            timeout=90_000,
        )
        # Both views hold the 31 points and the new title.
        page.wait_for_function(
            "() => { const plots = [...document.querySelectorAll('.probe-plot .js-plotly-plot')];"
            " return plots.length === 2 && plots.every(p => p.data[0].x.length === 31"
            " && (p.layout.title?.text ?? p.layout.title) === 'done'); }",
            timeout=15_000,
        )
    except Exception:  # playwright's TimeoutError
        state = page.locator(".probe-plot .js-plotly-plot").evaluate_all(
            "ps => ps.map(p => `${p.data?.[0]?.x?.length} points`)"
        )
        pytest.fail(f"the views did not follow: {state}; {page.locator('.probe-report').all_inner_texts()}; "
                    f"console errors:\n{console_errors(page)}\n{stderr_text(page)}")  # fmt: skip
    text = page.locator(".probe-report").first.inner_text()
    print(f"{text}; seen through in {time.monotonic() - started:.1f} s; "
          f"console errors: {console_errors(page) or 'none'}")  # fmt: skip
    page.screenshot(path=str(artifacts / "live-plot.png"), full_page=True)
    assert "30 extend, 1 full" in text, text
    assert not widget_errors(page), widget_errors(page)
