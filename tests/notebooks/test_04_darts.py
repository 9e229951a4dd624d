"""Lesson 04: first- and second-order DARTS, alpha trajectories, genotype timeline, collapse."""

from __future__ import annotations

import pytest

from tests.notebooks.conftest import (
    PLOTLY_MIME,
    SVG_MIME,
    WIDGET_MIME,
    checked_text,
    count_mime,
)

STEM = "04_darts"


@pytest.mark.slow
def test_darts_lesson_runs_both_orders_and_watches_the_eigenvalue(run_lesson, tmp_path):
    import nasbench

    nb = run_lesson(STEM)
    text = checked_text(nb, STEM)
    assert "mixed edge == sum_o w_o * o(x): True" in text

    runs = tmp_path / "runs"
    (first_dir,) = sorted(runs.glob("darts-1st-*"))
    (second_dir,) = sorted(runs.glob("darts-2nd-*"))
    assert (first_dir / "report.html").is_file() and (second_dir / "report.html").is_file()
    with nasbench.runs.load(first_dir) as first, nasbench.runs.load(second_dir) as second:
        for run, order in ((first, 1), (second, 2)):
            assert run.status == "finished"
            assert run.config["strategy"] == "darts"
            assert run.config["strategy_config"]["order"] == order
            epochs = run.config["epochs"]
            assert len(run.genotypes) == epochs  # one derived cell per epoch
            assert run.alphas["step"].nunique() >= 3
            assert set(run.alphas["cell_type"]) == {"normal", "reduce"}
        val = first.metrics_wide("val")
        assert val["hessian_eigenvalue"].notna().sum() == first.config["epochs"]
        assert "hessian_eigenvalue" not in second.metrics_wide("val")  # QUICK: first order only
        assert first.config["dataset"] == second.config["dataset"]

    assert count_mime(nb, PLOTLY_MIME) >= 5  # alphas, heatmap, timeline, two eigenvalue plots
    assert count_mime(nb, SVG_MIME) >= 1  # the derived cell
    assert count_mime(nb, WIDGET_MIME) >= 2  # the launcher and the alpha explorer
