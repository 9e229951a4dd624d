"""Lesson 03: six strategies on a benchmark table, regret over seeds, two run stores."""

from __future__ import annotations

import re

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
    # The lookup time printed is a typical one, not the first call's (which builds the
    # table's index and takes tens of ms); how fast it is belongs in benchmarks/, not here.
    lookup = re.search(r"a lookup took ([0-9.]+) ms \(median of 20, after the first\)", text)
    assert lookup is not None, "lesson 03 no longer reports a warm, typical lookup time"
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
