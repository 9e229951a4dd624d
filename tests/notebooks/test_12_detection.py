"""Lesson 12: detection data, IoU/AP/FROC, an ALB search, retraining, boxes and FROC figures."""

from __future__ import annotations

import pytest

from tests.notebooks.conftest import PLOTLY_MIME, SVG_MIME, checked_text, outputs

STEM = "12_detection"


@pytest.mark.slow
def test_detection_lesson_searches_alb_cells_and_compares_the_fixed_backbone(
    run_lesson, tmp_path
):
    import nasbench

    nb = run_lesson(STEM)
    checked_text(nb, STEM)

    (run_dir,) = sorted((tmp_path / "runs").glob("alb-*"))
    with nasbench.runs.load(run_dir) as run:
        assert run.status == "finished" and run.config["dataset"]["name"] == "synthetic-lesions"
        assert run.alphas["step"].nunique() >= 2
        assert {"val_ap50", "val_map", "val_froc"} <= set(run.metrics_wide("val").columns)
        assert {"retrain", "baseline"} <= set(run.history["phase"])

    svgs = [o["data"][SVG_MIME] for o in outputs(nb) if SVG_MIME in o.get("data", {})]
    assert len(svgs) >= 2  # a sampled and the derived genotype
    plots = [o["data"][PLOTLY_MIME] for o in outputs(nb) if PLOTLY_MIME in o.get("data", {})]
    titles = [p["layout"].get("title", {}).get("text", "") for p in plots]
    assert any(t.startswith("Architecture weights") for t in titles)
    assert sum(t.startswith("Detections") for t in titles) == 2
    assert any(t.startswith("FROC") for t in titles)
