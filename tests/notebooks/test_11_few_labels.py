"""Lesson 11: few-shot tasks, Reptile, METANAS with its baselines; then UnNAS without labels."""

from __future__ import annotations

import math

import pytest

from tests.notebooks.conftest import PLOTLY_MIME, WIDGET_MIME, checked_text, count_mime, outputs

STEM = "11_few_labels"


@pytest.mark.slow
def test_few_labels_lesson_runs_metanas_its_baselines_and_unnas(run_lesson, tmp_path):
    import nasbench

    nb = run_lesson(STEM)
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
    # Part 2: an UnNAS search through nasbench.search, and colourisation refused on grey images.
    assert any(c.source.startswith("## Part 2: search without labels (UnNAS)") for c in nb.cells)
    assert "ConfigError:" in text and "colour" in text
    # QUICK's one-epoch cells all predict one class: ranked by accuracy every correlation was
    # NaN; ranked by minus the test loss, each pretext task gets a number.
    (correlations,) = [
        out["data"][PLOTLY_MIME]["layout"]["meta"]
        for out in outputs(nb)
        if "Pretext-task score" in str(out.get("data", {}).get(PLOTLY_MIME, {}).get("layout"))
    ]
    assert set(correlations) == {"rotation", "jigsaw", "inpainting"}
    for pretext, corr in correlations.items():
        assert corr["n"] == 6 and math.isfinite(corr["spearman_rho"]), pretext
        assert math.isfinite(corr["kendall_tau"]), pretext
    # The jigsaw's small test split holds an image of every permutation (no AUC over fewer).
    stderr = "".join(out.get("text", "") for out in outputs(nb) if out.get("name") == "stderr")
    assert "no image of class" not in stderr
    (unnas_dir,) = sorted((tmp_path / "runs").glob("unnas-*"))
    with nasbench.runs.load(unnas_dir) as run:
        assert run.status == "finished" and run.config["strategy"] == "unnas"
        assert run.config["strategy_config"]["pretext"] == "rotation" and len(run.alphas)
