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


# Plotly figure views acknowledge the edits they draw; the monitor judges a figure stale by
# those acknowledgements (LiveFigure.unacknowledged_s, RunMonitor._renew_stale_figures).
# The failure they catch: anywidget (0.9-0.11) gives a model 2 s to load and initialise its
# module (plotly's is 5 MB of JavaScript, parsed again for every figure, so a loaded machine
# takes longer); past that, the model passes none of its later update messages on. The view
# is drawn from the opening state and then stays as it is, with no error in the kernel. The
# probe's "slow" figure is plotly's own widget module with a 3 s pause in front of its
# initialize, which gives exactly that start.
PROBE = r"""
import asyncio
import re
from pathlib import Path

import ipywidgets as w
import plotly
import plotly.graph_objects as go

from widgets._figures import STALE_VIEW_S, FigureBox, LiveFigure

bundle = (Path(plotly.__file__).parent / "package_data" / "widgetbundle.js").read_text()
*_, export = re.finditer(r"export\{[^{}]*?(\w+) as default\}", bundle)
factory = export.group(1)
slow_start = (
    "const slowStart = () => { const widget = " + factory + "(); return {"
    " async initialize(context) { await new Promise(r => setTimeout(r, 3000));"
    " return widget.initialize(context); }, render: widget.render }; };\n"
)
SLOW_ESM = (bundle[: export.start()] + slow_start
            + export.group(0).replace(f"{factory} as default", "slowStart as default")
            + bundle[export.end():])


class SlowStartFigure(LiveFigure):
    _esm = SLOW_ESM


def probe_figure(name, kind=LiveFigure):
    return kind(go.Figure(go.Scatter(x=[0, 1], y=[0, 1], name=name)),
                classes=("probe-figure", f"probe-{name}"))


async def drawn(figure):
    while figure._acknowledged_edit is None:  # until a view has drawn the figure
        await asyncio.sleep(0.2)


live = probe_figure("live")
slow = probe_figure("slow", SlowStartFigure)
live_box, slow_box = FigureBox(live), FigureBox(slow)
report = w.HTML("waiting for the views")
report.add_class("probe-report")


async def probe():
    await drawn(live)
    await drawn(slow)
    waits = []
    for value in (2, 3, 4):  # live edits, as the monitor makes them
        live.data[0].y = slow.data[0].y = [0, value]
        await asyncio.sleep(2)
        waits.append(live.unacknowledged_s())
    while slow.unacknowledged_s() <= STALE_VIEW_S and slow.unacknowledged_s() > 0:
        await asyncio.sleep(0.5)
    waited = slow.unacknowledged_s()
    renewed = [box.renew_if_stale() for box in (live_box, slow_box)]
    report.value = (f"live waits {max(waits):.1f} s; slow figure's edits waited {waited:.1f} s; "
                    f"renewed (live, slow) {renewed}; "
                    f"renewed figure last y {list(slow_box.figure.data[0].y)[-1]}")


asyncio.get_running_loop().create_task(probe())
w.VBox([live_box, slow_box, report])
"""


def test_views_acknowledge_live_edits_and_a_deaf_view_is_noticed(lab_server, page, artifacts):
    write_notebook(lab_server, "figure_views.ipynb", [PROBE])
    open_and_run_all(page, lab_server, "figure_views.ipynb")
    report = page.locator(".probe-report").first
    try:
        page.wait_for_function(
            "() => document.querySelector('.probe-report')?.textContent.includes('renewed')",
            timeout=90_000,
        )
    except Exception:  # playwright's TimeoutError
        pytest.fail(f"the probe did not finish: {report.all_inner_texts()}; console errors:\n"
                    f"{console_errors(page)}\n{stderr_text(page)}")  # fmt: skip
    text = report.inner_text()
    print(f"{text}; console errors: {console_errors(page) or 'none'}")
    page.screenshot(path=str(artifacts / "figure-views.png"), full_page=True)
    live = float(text.split("live waits ")[1].split(" s")[0])
    waited = float(text.split("edits waited ")[1].split(" s")[0])
    assert live < 1.5, f"a drawing view did not acknowledge live edits: {text}"
    assert waited > 3.0, f"the slow-starting figure's view applied its edits after all: {text}"
    assert "renewed (live, slow) [False, True]" in text, text
    # The fresh figure's view is drawn from its opening message: the latest data.
    page.wait_for_function(
        "() => [...document.querySelectorAll('.probe-slow.js-plotly-plot')]"
        ".some(p => p.data && p.data[0].y[1] === 4)",
        timeout=30_000,
    )
