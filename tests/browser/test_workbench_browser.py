"""The workbench in a real browser: JupyterLab + headless Chromium, driven by Playwright.

``test_harness_renders_widgets`` proves the harness itself (an ipywidgets slider and a plotly
FigureWidget render), so a failure there points at the browser set-up, not at the workbench.
``test_live_plot_extends_in_place_and_a_late_view_catches_up`` checks the figure transport
(``widgets._figures.LivePlot``). ``test_consecutive_searches_from_one_workbench`` is issue 12's
acceptance check: searches run one after another from one ``Workbench``, their rows timed from
the run store to the page.
Screenshots go to ``test-artifacts/browser/``.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from pathlib import Path

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


# anywidget gives each model 2 s to load its module and then logs this, even when the module
# loads later and its views draw. Only LivePlots are anywidget models on the workbench's and
# the lessons' pages, and nothing is sent to a LivePlot's own model once it is open (its views
# draw from its channel; tests/widgets/test_figures.py checks both), so on a busy page the line
# is harmless once every LivePlot view in sight has drawn its plot. A module that failed to
# load logs the same line and draws nothing: then the line counts.
LATE_LIVE_PLOT = "[anywidget] Failed to initialize model."
EVERY_LIVE_PLOT_DREW = """() => [...document.querySelectorAll('.nasbench-live-plot')]
  .filter(view => view.getBoundingClientRect().height > 0)
  .every(view => view.querySelector('.js-plotly-plot'))"""


def every_live_plot_drew(page) -> bool:
    """Whether every visible LivePlot view on the page holds a drawn plotly figure."""
    try:
        return bool(page.evaluate(EVERY_LIVE_PLOT_DREW))
    except Exception:  # a closed page: nothing can be told, so nothing is excused
        return False


def console_errors(page) -> str:
    """The page's console errors and uncaught exceptions (widget models log theirs there);
    anywidget's start-up deadline line left out once every LivePlot in sight has drawn."""
    lines = [
        m for m in getattr(page, "console_messages", []) if m.startswith(("error", "pageerror"))
    ]
    if any(LATE_LIVE_PLOT in m for m in lines) and every_live_plot_drew(page):
        lines = [m for m in lines if LATE_LIVE_PLOT not in m]
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


# Issue 12's acceptance check: consecutive tiny DARTS searches from one Workbench (a 2-node
# cell in a 3-cell, 4-channel network on 64 synthetic images), entered in the page as a
# person would; the second is stopped and resumed. NASBENCH_BROWSER_SEARCHES sets how many
# (the 10 for a long check; CI runs 3). Timings go to ui-timings.json for
# benchmarks/ui.py.
TINY_SPACE = {"nodes": 2, "cells": 3, "channels": 4, "batch size": 8}
TINY_BUDGET = {"epochs": 2, "max steps / epoch": 2, "image limit": 64}
STOPPED_EPOCHS = 8  # the search that is stopped must still be running when Stop lands
SEARCHES = int(os.environ.get("NASBENCH_BROWSER_SEARCHES", "3"))
SEARCH_TIMEOUT_S = 240
LIVE_S = 3.0  # the bound: a row written is on the page this soon
# What plotly.js holds for the monitor's figures: points over every trace (-1: no plot).
PAGE_POINTS = """() => {
  const points = sel => { const p = document.querySelector(sel);
    return p && p.data ? p.data.reduce((n, t) => n + (t.x ? t.x.length : 0), 0) : -1; };
  return [points('.nasbench-alpha-figure .js-plotly-plot'),
          points('.nasbench-history-figure .js-plotly-plot')]; }"""

# The buttons (under a selector) whose text is wider than the button: ellipsised names.
CUT_BUTTONS = """sel => [...document.querySelectorAll(sel)]
  .filter(b => b.offsetWidth > 0 && b.scrollWidth > b.clientWidth + 1)
  .map(b => b.textContent.trim())"""


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


def expect_text(locator, text: str, timeout_ms: int = 30_000) -> None:
    """Wait until ``locator`` contains ``text``."""
    from playwright.sync_api import expect

    expect(locator).to_contain_text(text, timeout=timeout_ms)


def expect_enabled(locator, timeout_ms: int = 30_000) -> None:
    """Wait until ``locator`` is enabled (Run is disabled while the space is invalid)."""
    from playwright.sync_api import expect

    expect(locator).to_be_enabled(timeout=timeout_ms)


def store_rows(run_dir) -> tuple[int, int, str]:
    """What the run store holds now: normal-cell alpha rows, plotted metric rows, status.

    The monitor draws exactly these rows (the normal cell's alphas, loss and metric curves).
    """
    from nasbench.runs import load
    from widgets.monitor import _is_plotted_metric

    if run_dir is None:
        return 0, 0, ""
    try:
        with load(run_dir) as run:
            alphas, history, status = run.alphas, run.history, run.status
    except Exception:  # the search is still creating its store
        return 0, 0, ""
    normal = int(((alphas["cell_type"] == "normal") & (alphas["kind"] == "alpha")).sum())
    plotted = int(history["name"].map(_is_plotted_metric).sum()) if len(history) else 0
    return normal, plotted, status


def warm_store_reader() -> None:
    """Import what reading a run store needs in this process (torch, behind the spaces).

    The first read of a real store imports them, which on a loaded machine stalls this
    process for seconds; the stall would count against the page otherwise.
    """
    import nasbench.runs  # noqa: F401
    import nasbench.spaces  # noqa: F401
    import widgets.monitor  # noqa: F401


class SearchWatch:
    """Follows one search in the store and on the page; times when rows reach the page."""

    def __init__(self, page, runs: Path, known: set[Path]) -> None:
        self.page, self.runs, self.known = page, runs, known
        self.run_dir: Path | None = None
        self.clicked = time.monotonic()
        self.first_store: dict[str, float] = {}
        self.first_page: dict[str, float] = {}
        self.leftover: list[str] = []
        # (seconds after Run, page points, store rows) at each change: says why if slow.
        self.timeline: list[tuple] = []
        self.end_store: float | None = None
        self.end_page: float | None = None

    def look(self) -> tuple[list[int], tuple[int, int, str]]:
        if self.run_dir is None and self.runs.is_dir():
            fresh = [d for d in self.runs.iterdir() if d.is_dir() and d not in self.known]
            self.run_dir = fresh[0] if fresh else None
        # The page first, then the store, each timed when it answered: reading the store
        # in this process (pandas, sqlite) can itself take seconds on a loaded machine, and
        # that is not the page's delay. A page that showed rows before this process saw
        # them in the store counts as no delay.
        shown = self.page.evaluate(PAGE_POINTS)
        seen_on_page = time.monotonic()
        rows = store_rows(self.run_dir)
        seen_in_store = time.monotonic()
        if not self.timeline or self.timeline[-1][1:] != (shown, rows):
            self.timeline.append((round(seen_in_store - self.clicked, 1), shown, rows))
        for k, name in enumerate(("alpha", "loss")):
            if rows[k] > 0:
                self.first_store.setdefault(name, seen_in_store)
            if self.first_store.get(name) and shown[k] > 0 and name not in self.first_page:
                self.first_page[name] = max(seen_on_page, self.first_store[name])
                if shown[k] > rows[k]:
                    self.leftover.append(f"{name}: {shown[k]} points for {rows[k]} rows")
        return shown, rows

    def until_end(self, status: str = "finished") -> None:
        deadline = self.clicked + SEARCH_TIMEOUT_S
        while time.monotonic() < deadline:
            shown, rows = self.look()
            if rows[2] == status and self.end_store is None:
                self.end_store = time.monotonic()
            if self.end_store is not None and list(shown) == list(rows[:2]):
                self.end_page = time.monotonic()
                return
            if rows[2] == "failed":
                break
            self.page.wait_for_timeout(200)
        shown = self.page.evaluate(PAGE_POINTS)
        pytest.fail(
            f"{self.run_dir}: store {store_rows(self.run_dir)}, page {shown}, status "
            f"{self.page.locator('.nasbench-status').all_inner_texts()}, error "
            f"{self.page.locator('.nasbench-error').all_inner_texts()}\n{stderr_text(self.page)}"
            f"\nconsole errors:\n{console_errors(self.page)}"
        )

    def delays(self) -> dict[str, float]:
        out = {f"first {k}": self.first_page[k] - self.first_store[k] for k in self.first_page}
        out["first figure after Run"] = self.first_page.get("alpha", math.inf) - self.clicked
        if self.end_page is not None and self.end_store is not None:
            out["final rows"] = self.end_page - self.end_store
        return out


def test_consecutive_searches_from_one_workbench(lab_server, page, artifacts) -> None:
    write_notebook(
        lab_server,
        "workbench.ipynb",
        [
            "import time\n_started = time.perf_counter()\nprint('kernel ready')",
            "from widgets import Workbench\n\nwb = Workbench()\n"
            "print(f'workbench built in {time.perf_counter() - _started:.2f} s')\nwb",
        ],
    )
    opened = time.monotonic()
    open_and_run_all(page, lab_server, "workbench.ipynb")
    # The baseline: a cell that only prints, i.e. JupyterLab, the kernel and Run All.
    wait_for(page, ".jp-OutputArea-output:has-text('kernel ready')", 120_000, "the first cell")
    timings: dict[str, object] = {"first cell on the page (s)": time.monotonic() - opened}
    wait_for(page, ".nasbench-workbench .lm-TabBar-tab", 120_000, "the workbench")
    timings["workbench on the page (s)"] = time.monotonic() - opened
    built = page.locator(".jp-OutputArea-output", has_text="workbench built in").first
    timings["workbench built in the kernel (s)"] = float(
        re.search(r"built in ([\d.]+) s", built.inner_text()).group(1)
    )
    # The tabs come first; the Dataset tab's view (torch behind it) fills in just after.
    wait_for(page, ".nasbench-workbench .nasbench-dataset-card", 120_000, "the dataset tab")
    timings["dataset tab filled (s)"] = time.monotonic() - opened
    page.screenshot(path=str(artifacts / "workbench-1-opened.png"), full_page=True)

    workbench_tab(page, "Space")
    for label, value in TINY_SPACE.items():
        set_int_field(page, ".nasbench-space-builder", label, value)
    # Every op button shows its whole name (a shrunk button reads "con…").
    wait_for(page, ".nasbench-op-palette button", 30_000, "the op palette")
    cut = page.evaluate(CUT_BUTTONS, ".nasbench-space-builder button")
    page.screenshot(path=str(artifacts / "workbench-2-space.png"), full_page=True)
    assert cut == [], f"buttons whose names are cut: {cut}"
    workbench_tab(page, "Search")
    for label, value in TINY_BUDGET.items():
        set_int_field(page, ".nasbench-launcher", label, value)
    summary = page.locator(".nasbench-launcher-summary").first
    expect_text(summary, "2 nodes · 3 cells · C=4")  # written by the kernel: edits arrived
    run = page.locator(".nasbench-launcher .nasbench-run").first
    resume = page.locator(".nasbench-launcher .nasbench-resume").first
    status = page.locator(".nasbench-status").first
    runs = lab_server.root_dir / "runs"
    warm_store_reader()
    known: set[Path] = set()
    searches = []
    for index in range(SEARCHES):
        stopped = index == 1
        workbench_tab(page, "Search")
        set_int_field(page, ".nasbench-launcher", "epochs",
                      STOPPED_EPOCHS if stopped else TINY_BUDGET["epochs"])  # fmt: skip
        expect_enabled(run, 10_000)
        watch = SearchWatch(page, runs, known)
        run.click()
        if stopped:
            # Stop once both figures have shown their first rows (they are timed too).
            while len(watch.first_page) < 2 and time.monotonic() < watch.clicked + 120:
                watch.look()
                page.wait_for_timeout(200)
            page.locator(".nasbench-monitor-stop").first.click()
            expect_text(status, "stopped", 60_000)
            page.screenshot(path=str(artifacts / "workbench-3-stopped.png"), full_page=True)
            # Run is back once the stopped process has exited (it checkpoints first)...
            expect_enabled(run, 20_000)
            workbench_tab(page, "Search")
            expect_enabled(resume, 5_000)
            resume.click()  # ...and Resume continues the same run
            expect_text(status, "resuming", 10_000)
            watch.until_end()
        else:
            watch.until_end()
        known.add(watch.run_dir)
        expect_text(status, "finished", 10_000)
        # Run comes back at each end with no other action, once the process has exited
        # (a few seconds after "finished" on a loaded machine: it checkpoints and exits).
        expect_enabled(run, 30_000)
        delays = {**watch.delays(), "Run back after the store's end": time.monotonic()
                  - watch.end_store}  # fmt: skip
        searches.append({"run": watch.run_dir.name, "stopped and resumed": stopped,
                         **{k: round(v, 2) for k, v in delays.items()},
                         "leftover": watch.leftover, "timeline": watch.timeline})  # fmt: skip
        if index in (0, 1, SEARCHES - 1):
            page.screenshot(path=str(artifacts / f"workbench-4-finished-{index + 1}.png"),
                            full_page=True)  # fmt: skip
    page.locator(".nasbench-alpha-figure").first.screenshot(
        path=str(artifacts / "workbench-5-alpha-figure.png")
    )
    genotype = page.locator(".nasbench-genotype svg").first
    genotype.wait_for(state="visible", timeout=10_000)
    page.locator(".nasbench-genotype").first.screenshot(
        path=str(artifacts / "workbench-6-genotype.png")
    )
    svg, frame = genotype.bounding_box(), page.locator(".nasbench-genotype").first.bounding_box()

    # The explorer shows the last run from its first frame: edges x ops of its normal cell.
    workbench_tab(page, "Alphas")
    heatmap = ".nasbench-alpha-heatmap .js-plotly-plot"
    wait_for(page, heatmap, 30_000, "the explorer's heatmap")
    shape = page.locator(heatmap).first.evaluate(
        "p => [p.data[0].z.length, (p.data[0].z[0] || []).length]"
    )
    page.screenshot(path=str(artifacts / "workbench-7-explorer.png"), full_page=True)

    timings["searches"] = searches
    (artifacts / "ui-timings.json").write_text(json.dumps(timings, indent=1, default=str))
    print(json.dumps(timings, default=str))
    for search in searches:
        search.pop("timeline")
    slow = [s for s in searches if max(v for k, v in s.items() if k in (
        "first alpha", "first loss", "final rows")) > LIVE_S]  # fmt: skip
    assert not slow, f"rows reached the page later than {LIVE_S} s: {slow}"
    assert all(len(s) >= 8 for s in searches), f"a figure never showed its rows: {searches}"
    assert not [s for s in searches if s["leftover"]], f"old curves stayed: {searches}"
    assert shape == [5, 8], f"the explorer's first frame is {shape}, not 5 edges x 8 ops"
    assert svg and frame and svg["width"] <= frame["width"] + 1, "the drawing overflows"
    assert not widget_errors(page), f"widget or comm errors:\n{widget_errors(page)}"


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
    report.value = (f"pushed {len(kinds)}: {kinds.count('extend')} extend, "
                    f"{kinds.count('full')} full")


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
        report = page.locator(".probe-report").all_inner_texts()
        pytest.fail(f"the views did not follow: {state}; {report}; "
                    f"console errors:\n{console_errors(page)}\n{stderr_text(page)}")  # fmt: skip
    text = page.locator(".probe-report").first.inner_text()
    print(f"{text}; seen through in {time.monotonic() - started:.1f} s; "
          f"console errors: {console_errors(page) or 'none'}")  # fmt: skip
    page.screenshot(path=str(artifacts / "live-plot.png"), full_page=True)
    assert "30 extend, 1 full" in text, text
    assert not widget_errors(page), widget_errors(page)


# Issue 22: a localisation search's monitor in the page: each agent's reward and distance
# (a live figure only marl-gdas runs show) and the agents' own cells in the alpha toggle.
MARL_SEARCH = """\
import nasbench
from nasbench.config import SearchConfig

agents = {"channels": 2, "n_nodes": 1, "shared_normal": 1, "shared_reduce": 1,
          "agent_normal": 1, "agent_reduce": 0, "patch": 5, "episode_steps": 4,
          "coarse_step": 2, "envs": 2, "batch_size": 4, "buffer_size": 64,
          "regressor_epochs": 2}
config = SearchConfig(strategy="marl-gdas", epochs=2, max_steps_per_epoch=2, seed=5,
                      dataset={"name": "synthetic-landmarks3d", "size": 16, "limit": 4},
                      strategy_config=agents)
print(nasbench.search(config, "marl-run").status)"""
MARL_AGENT_CELL = """\
import json
from widgets.genotype_viewer import GenotypeViewer

viewer = GenotypeViewer()
viewer.show_run('marl-run')
viewer.source_a.part.value = 'agent1'
normal = json.loads(viewer.source_a.genotype_json)['normal']
print('agent1 ops:', ' '.join(op for op, _ in normal))
viewer"""


def test_localisation_monitor_draws_every_agents_curves(lab_server, page, artifacts) -> None:
    write_notebook(
        lab_server,
        "marl_monitor.ipynb",
        [
            MARL_SEARCH,
            "from widgets.monitor import RunMonitor\n\nRunMonitor('marl-run')",
            MARL_AGENT_CELL,
        ],
    )
    open_and_run_all(page, lab_server, "marl_monitor.ipynb")
    wait_for(page, ".jp-OutputArea-output:has-text('finished')", 240_000, "the tiny search")
    figure = wait_for(page, ".nasbench-agent-figure .js-plotly-plot", 120_000, "agent curves")
    lines = figure.locator(".scatterlayer .trace")
    deadline = time.monotonic() + 60
    while lines.count() < 6 and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    figure.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "marl-monitor.png"), full_page=True)

    assert lines.count() == 6, "a reward and a distance line per agent (3 agents)"
    legend = figure.locator(".legend .legendtext").all_text_contents()
    assert legend == ["agent0", "agent1", "agent2"]
    toggle = page.locator(".widget-toggle-buttons button").all_inner_texts()
    assert {"shared_normal", "agent0_normal", "agent2_normal"} <= set(toggle)

    # The Genotypes tab's view of the same run, showing agent1's own cell.
    drawing = wait_for(page, ".nasbench-genotype-a svg", 120_000, "agent1's cell drawing")
    drawing.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "marl-agent-cell.png"), full_page=True)
    part = page.locator(".nasbench-genotype-viewer .widget-dropdown").filter(
        has=page.locator("label", has_text=re.compile(r"^part$"))
    )
    assert part.count() == 2  # one per side; shown since the run has agents
    chosen = part.first.locator("select").evaluate("s => s.options[s.selectedIndex].text")
    assert chosen == "agent1"
    printed = page.locator(".jp-OutputArea-output", has_text="agent1 ops:").first.inner_text()
    ops = printed.split("agent1 ops:")[1].split()
    assert ops and all(op in drawing.text_content() for op in ops), (ops, printed)
    assert not console_errors(page), console_errors(page)


# The controls (under a selector) whose right edge passes the visible part of the workbench:
# in a row that does not wrap they are hidden, and nothing scrolls to them.
CLIPPED_CONTROLS = """sel => {
  const panel = document.querySelector('.nasbench-workbench').getBoundingClientRect();
  return [...document.querySelectorAll(sel + ' :is(select, input, button, textarea)')]
    .filter(c => c.offsetWidth > 0 && c.getBoundingClientRect().right > panel.right + 1)
    .map(c => (c.closest('.widget-inline-hbox, .widget-button, .widget-toggle-button')
               || c).textContent.trim().slice(0, 40) || c.tagName);
}"""
# The labels (under a selector) whose text is wider than the label: cut names.
CUT_LABELS = """sel => [...document.querySelectorAll(sel)]
  .filter(l => l.offsetWidth > 0 && l.scrollWidth > l.clientWidth + 1)
  .map(l => l.textContent.trim())"""
NARROW = {"width": 760, "height": 800}
VIEW_CLASSES = {
    "Dataset": ".nasbench-dataset-picker",
    "Space": ".nasbench-space-builder",
    "Search": ".nasbench-launcher",
    "Monitor": ".nasbench-monitor",
    "Genotypes": ".nasbench-genotype-viewer",
    "Alphas": ".nasbench-alpha-explorer",
    "Runs": ".nasbench-run-browser",
}


def test_every_control_stays_in_view_in_a_narrow_window(lab_server, page, artifacts) -> None:
    page.set_viewport_size(NARROW)
    write_notebook(
        lab_server, "narrow.ipynb", ["from widgets import Workbench\nWorkbench(live_costs=False)"]
    )
    open_and_run_all(page, lab_server, "narrow.ipynb")
    wait_for(page, ".nasbench-workbench .nasbench-dataset-card", 120_000, "the dataset tab")
    clipped = {}
    for title, view in VIEW_CLASSES.items():
        workbench_tab(page, title)
        wait_for(page, f".nasbench-workbench {view}", 60_000, f"the {title} tab")
        if title == "Genotypes":  # its costs come from the views' worker thread
            costs = page.locator(f".nasbench-workbench {view}").get_by_text("M MACs per image")
            costs.first.wait_for(state="visible", timeout=60_000)
        page.wait_for_timeout(300)  # the tab's layout settles after it is shown
        page.screenshot(path=str(artifacts / f"narrow-{title}.png"), full_page=True)
        clipped[title] = page.evaluate(CLIPPED_CONTROLS, f".nasbench-workbench {view}")
        if title == "Space":  # the op families' names beside their rows of buttons
            families = page.evaluate(CUT_LABELS, ".nasbench-space-builder .widget-label")
    assert all(not c for c in clipped.values()), f"controls cut off at 760 px: {clipped}"
    assert families == [], f"op family names cut short at 760 px: {families}"


def test_numbers_typed_key_by_key_reach_the_kernel_as_typed(lab_server, page, artifacts) -> None:
    # ipywidgets' int boxes strip 'e', '.' and spaces on each key press (3.7 -> 37, 1e3 ->
    # 13) and bounded boxes clamp; the launcher's boxes keep the text and Run names it.
    write_notebook(
        lab_server,
        "numbers.ipynb",
        ["from widgets.launcher import SearchLauncher\nSearchLauncher('runs')"],
    )
    open_and_run_all(page, lab_server, "numbers.ipynb")
    launcher = ".nasbench-launcher"
    wait_for(page, f"{launcher} .nasbench-run", 120_000, "the launcher's Run button")

    def type_into(label: str, text: str) -> None:
        row = page.locator(f"{launcher} .widget-inline-hbox").filter(
            has=page.locator("label.widget-label", has_text=re.compile(rf"^{re.escape(label)}$"))
        )
        field = row.locator("input").first
        field.fill("")
        field.press_sequentially(text, delay=30)  # key by key, as a person types
        field.press("Tab")

    type_into("epochs", "3.7")
    message = page.locator(f"{launcher} .nasbench-launcher-message")
    expect_text(message, "'epochs' must be a whole number from 1 to 10,000, not 3.7.")
    page.screenshot(path=str(artifacts / "numbers-fraction.png"), full_page=True)
    from playwright.sync_api import expect

    expect(page.locator(f"{launcher} .nasbench-run")).to_be_disabled()
    type_into("epochs", "20000")
    expect_text(message, "not 20,000.")
    type_into("epochs", "1e5")  # an int box would have sent 15
    expect_text(message, "not 100,000.")
    type_into("epochs", "3")
    type_into("image limit", "1e3")
    expect_enabled(page.locator(f"{launcher} .nasbench-run"))
    field = page.locator(f"{launcher} .widget-inline-hbox").filter(
        has=page.locator("label.widget-label", has_text=re.compile(r"^image limit$"))
    )
    assert field.locator("input").first.input_value() in ("1e3", "1000")
