"""Lesson 11, part 1: few-shot tasks, the Reptile step, a METANAS run with its baselines."""

from __future__ import annotations

import time

import pytest

from tests.notebooks.conftest import PLOTLY_MIME, WIDGET_MIME, checked_text, count_mime

STEM = "11_few_labels"


@pytest.mark.slow
def test_few_labels_lesson_runs_metanas_and_its_baselines(run_lesson, tmp_path):
    import nasbench

    started = time.perf_counter()
    nb = run_lesson(STEM)
    seconds = time.perf_counter() - started
    text = checked_text(nb, STEM)
    assert "METANAS - Reptile:" in text

    (run_dir,) = sorted((tmp_path / "runs").glob("metanas-*"))
    with nasbench.runs.load(run_dir) as run:
        assert run.status == "finished" and run.config["strategy"] == "metanas"
        assert set(run.alphas["kind"]) == {"alpha", "adapted"}
        assert len(run.metrics_wide("test")) == run.config["strategy_config"]["test_episodes"]
        assert len(run.metrics_wide("val")) == run.config["epochs"]
    assert count_mime(nb, PLOTLY_MIME) >= 1  # the adaptation curves
    assert count_mime(nb, WIDGET_MIME) >= 1  # the alpha explorer
    assert nb.cells[-1].source.startswith("## Part 2: search without labels (UnNAS)")
    assert seconds < 180  # the lesson's own budget is 90 s of computing; startup aside

