"""The workbench in a real browser: JupyterLab + headless Chromium, driven by Playwright.

``test_harness_renders_widgets`` proves the harness itself (an ipywidgets slider and a plotly
FigureWidget render), so a failure there points at the browser set-up, not at the workbench.
``test_workbench_tiny_search`` is issue 6's acceptance check: ``Workbench()`` on the synthetic
default, Run on a tiny DARTS search, then the live alpha figure and the final cell drawing.
Screenshots go to ``test-artifacts/browser/``.
"""

from __future__ import annotations

import nbformat
import pytest

pytestmark = pytest.mark.browser

KERNEL_IDLE = ".jp-Notebook-ExecutionIndicator[data-status='idle']"
STDERR_OUTPUT = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"


def write_notebook(server, name: str, cells: list[str]) -> None:
    """Write a python3 notebook with ``cells`` (code) into the server's root folder."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, server.root_dir / name)


def open_and_run_all(page, server, name: str) -> None:
    """Open notebook ``name``, wait for its kernel, then Run > Run All Cells."""
    page.goto(server.notebook_url(name))
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
    page.wait_for_selector(KERNEL_IDLE, timeout=60_000)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()


def stderr_text(page) -> str:
    """Text of any stderr/traceback outputs, to make a failed wait say why."""
    return "\n".join(page.locator(STDERR_OUTPUT).all_inner_texts())[-3000:]


def wait_for(page, selector: str, timeout_ms: int, what: str):
    """Wait until ``selector`` is visible; on timeout fail with the notebook's stderr."""
    locator = page.locator(selector).first
    try:
        locator.wait_for(state="visible", timeout=timeout_ms)
    except Exception as exc:  # playwright's TimeoutError; re-raised with context
        pytest.fail(f"{what} ({selector}) did not appear in {timeout_ms / 1000:.0f} s: {exc}\n"
                    f"notebook stderr:\n{stderr_text(page)}")
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
