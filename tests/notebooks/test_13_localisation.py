"""Lesson 13: landmark volumes, the MDP, (Double) DQN targets, a marl-gdas search with a
random-cell arm, per-agent alphas, cells and rewards, the test table and the 3D view."""

from __future__ import annotations

import pytest

from tests.notebooks.conftest import PLOTLY_MIME, SVG_MIME, checked_text, outputs

STEM = "13_localisation"


@pytest.mark.slow
def test_localisation_lesson_searches_agents_and_compares_every_arm(run_lesson, tmp_path):
    import nasbench

    nb = run_lesson(STEM)
    text = checked_text(nb, STEM)
    assert "finished in" in text

    (run_dir,) = sorted((tmp_path / "runs").glob("landmarks-*"))
    with nasbench.runs.load(run_dir) as run:
        assert run.status == "finished" and run.config["strategy"] == "marl-gdas"
        assert run.config["strategy_config"]["random_cell"] is True
        assert {"agent0_normal", "agent2_reduce", "shared_normal"} <= set(
            run.alphas["cell_type"].astype(str)
        )
        test = run.metrics_wide("test").iloc[-1]
        for arm in ("searched", "random", "hand", "regression", "start"):
            assert test[f"{arm}_dist_mm"] >= 0

    svgs = [o["data"][SVG_MIME] for o in outputs(nb) if SVG_MIME in o.get("data", {})]
    assert len(svgs) >= 2  # the shared cells and agent 0's own
    plots = [o["data"][PLOTLY_MIME] for o in outputs(nb) if PLOTLY_MIME in o.get("data", {})]
    titles = [p["layout"].get("title", {}).get("text", "") for p in plots]
    assert any(t.startswith("Landmark volume") for t in titles)
    assert any(t.startswith("Agent 0's patch") for t in titles)
    assert any(t.startswith("Architecture weights") and "agent0_normal" in t for t in titles)
    assert "Per-agent reward and distance" in titles
    (view,) = [p for p, t in zip(plots, titles, strict=True) if t.startswith("Landmark estimates")]
    names = [trace.get("name") for trace in view["data"]]
    for arm in ("searched", "random", "hand", "regression", "start"):
        assert names.count(arm) == 1 and names.count(f"{arm} error") == 1
    assert names.count("volume slices") == 3 and "truth" in names
