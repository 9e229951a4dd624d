"""Lesson 07: costs, Pareto fronts, constraints and NSGA-II on the benchmark table."""

from __future__ import annotations

import pytest

from tests.notebooks.conftest import (
    PLOTLY_MIME,
    WIDGET_MIME,
    checked_text,
    count_mime,
)

STEM = "07_multi_objective"


@pytest.mark.slow
def test_multi_objective_lesson_searches_fronts_under_a_constraint(run_lesson, tmp_path):
    import nasbench

    nb = run_lesson(STEM)
    checked_text(nb, STEM)

    runs = tmp_path / "runs"
    (nsga_dir,) = sorted(runs.glob("nsga2-2*"))  # the unconstrained run (name-timestamp)
    (random_dir,) = sorted(runs.glob("random-*"))
    (constrained_dir,) = sorted(runs.glob("nsga2-constrained-*"))
    for run_dir, strategy in (
        (nsga_dir, "nsga2"),
        (random_dir, "random"),
        (constrained_dir, "nsga2"),
    ):
        with nasbench.runs.load(run_dir) as run:
            assert run.status == "finished"
            assert run.config["strategy"] == strategy
            assert run.config["evaluator"] == "table"
            done = run.candidates[run.candidates["status"] == "done"]
            assert len(done) == run.config["max_evaluations"]
            assert done["cost.params"].notna().all()
    with nasbench.runs.load(constrained_dir) as run:
        assert run.config["strategy_config"]["max_params"] == 300_000
    (autohas_dir,) = sorted(runs.glob("autohas-*"))
    with nasbench.runs.load(autohas_dir) as run:
        assert run.status == "finished" and run.config["strategy"] == "autohas"
        policies = [info["hp_probs"] for info in run.candidates["info"]]
        assert len(policies) == run.config["max_evaluations"]
        assert all(abs(sum(p["lr"].values()) - 1) < 1e-6 for p in policies)
    assert count_mime(nb, PLOTLY_MIME) >= 7  # toy front, MACs/latency, 2 landscapes, 2 runs, HPs
    assert count_mime(nb, WIDGET_MIME) >= 2  # the launcher and the genotype viewer
