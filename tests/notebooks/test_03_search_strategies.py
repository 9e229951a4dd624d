"""Lesson 03: six strategies on a benchmark table, regret over seeds, two run stores."""

from __future__ import annotations

import pytest

from tests.notebooks.conftest import (
    PLOTLY_MIME,
    WIDGET_MIME,
    checked_text,
    count_mime,
)

STEM = "03_search_strategies"
STRATEGIES = ("random", "grid", "evolution", "reinforce", "bayesopt", "hill_climbing")


@pytest.mark.slow
def test_strategies_lesson_compares_over_seeds_and_writes_run_stores(run_lesson, tmp_path):
    import nasbench

    nb = run_lesson(STEM)
    text = checked_text(nb, STEM)
    for name in STRATEGIES:
        assert f"{name:14s}" in text  # one line per strategy in the seed sweep
    # histogram, best so far on evaluations and on time, best so far of the two runs
    assert count_mime(nb, PLOTLY_MIME) >= 4
    assert count_mime(nb, WIDGET_MIME) >= 1  # the run browser
    run_dirs = sorted((tmp_path / "runs" / STEM).iterdir())
    assert {d.name.split("-")[0] for d in run_dirs} == {"random", "evolution"}
    for run_dir in run_dirs:
        with nasbench.runs.load(run_dir) as run:
            assert run.status == "finished"
            assert run.config["evaluator"] == "table"
            done = run.candidates[run.candidates["status"] == "done"]
            assert len(done) == run.config["max_evaluations"]
            assert done["metrics.val_acc"].between(0, 1).all()
