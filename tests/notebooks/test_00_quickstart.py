"""Lesson 00: a DARTS search from the notebook, its cell, its alpha curves, the workbench."""

from __future__ import annotations

import re

import pytest

from tests.notebooks.conftest import (
    PLOTLY_MIME,
    SVG_MIME,
    WIDGET_MIME,
    checked_text,
    count_mime,
)

STEM = "00_quickstart"


@pytest.mark.slow
def test_quickstart_searches_and_shows_the_cell_and_the_alphas(run_lesson, tmp_path):
    import nasbench

    nb = run_lesson(STEM)
    text = checked_text(nb, STEM)
    # Run(...)'s snapshots= counts both cells' snapshots; the line under it says each cell's.
    (shown,) = re.findall(r"Run\(.*snapshots=(\d+)", text)
    per_cell = {c: int(n) for n, c in re.findall(r"(\d+) alpha snapshots of the (\w+) cell", text)}

    (run_dir,) = sorted((tmp_path / "runs").glob("quickstart-*"))
    with nasbench.runs.load(run_dir) as run:
        assert run.status == "finished"
        assert run.config["strategy"] == "darts"
        assert run.alphas["step"].nunique() >= 3  # the initial snapshot and one per step
        assert set(run.alphas["cell_type"]) == {"normal", "reduce"}
        assert per_cell == run.alphas.groupby("cell_type")["step"].nunique().to_dict()
        assert sum(per_cell.values()) == int(shown)
        assert len(run.genotypes) == run.config["epochs"]
    report = run_dir / "report.html"  # the lesson writes the run's report
    assert report.is_file() and "<h2>Final genotype</h2>" in report.read_text(encoding="utf-8")
    assert count_mime(nb, SVG_MIME) >= 1  # the derived cell
    assert count_mime(nb, PLOTLY_MIME) >= 1  # the alpha curves
    assert count_mime(nb, WIDGET_MIME) >= 2  # the dataset picker and the workbench
    # Only the step bar stays: a validation bar's widget view would outlive its closed model,
    # and a reopened notebook shows "Error displaying widget: model not found" in its place.
    (search_cell,) = [
        c for c in nb.cells if c.cell_type == "code" and "nasbench.search(" in c.source
    ]
    bars = [out for out in search_cell.outputs if WIDGET_MIME in out.get("data", {})]
    assert len(bars) == 1, f"{len(bars)} widget outputs under the search cell"
