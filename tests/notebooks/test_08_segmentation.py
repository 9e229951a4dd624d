"""Lesson 08: NAS-Unet search with binary gates, retraining against thresholds, V-NAS, DiNTS,
the Auto-DeepLab trellis (Viterbi path, beta trajectories) and C2FNAS (stage-1 ranking)."""

from __future__ import annotations

import pytest

from tests.notebooks.conftest import (
    PLOTLY_MIME,
    SVG_MIME,
    WIDGET_MIME,
    checked_text,
    count_mime,
    outputs,
)

STEM = "08_segmentation"


@pytest.mark.slow
def test_segmentation_lesson_searches_nasunet_and_shows_cells_alphas_overlays(run_lesson, tmp_path):
    import nasbench

    nb = run_lesson(STEM)
    text = checked_text(nb, STEM)

    (nasunet_dir,) = sorted((tmp_path / "runs").glob("nasunet-*"))
    with nasbench.runs.load(nasunet_dir) as run:
        assert run.status == "finished" and run.config["strategy"] == "proxyless"
        assert run.alphas["step"].nunique() >= 2  # alpha snapshots over the search
        assert {"down", "up"} <= set(run.alphas["cell_type"])
        assert "val_dice" in run.metrics_wide("val")
        assert run.genotypes.genotype.iloc[-1].kind == "nasunet"
    for name in ("vnas", "dints", "trellis", "c2fnas"):
        assert len(list((tmp_path / "runs").glob(f"{name}-*"))) == 1
    (trellis_dir,) = sorted((tmp_path / "runs").glob("trellis-*"))
    with nasbench.runs.load(trellis_dir) as run:
        betas = run.alphas.query("cell_type == 'trellis' and kind == 'beta'")
        assert betas["step"].nunique() >= 2  # beta trajectories, not one snapshot
        path = run.genotypes.genotype.iloc[-1].path
    (c2fnas_dir,) = sorted((tmp_path / "runs").glob("c2fnas-*"))
    with nasbench.runs.load(c2fnas_dir) as run:
        ranked = run.events.query("kind == 'c2fnas_topologies'").iloc[-1]["payload"]
        assert len(ranked["candidates"]) >= 2
        assert list(run.genotypes.genotype.iloc[-1].levels) == ranked["topology"]
    assert f"decoded path (scale after each layer): {path}" in text

    svgs = [o["data"][SVG_MIME] for o in outputs(nb) if SVG_MIME in o.get("data", {})]
    assert any("DownSC cell" in s and "UpSC cell" in s for s in svgs)  # the cells drawn
    assert any('id="path0"' in s and "cell: " in s for s in svgs)  # the trellis and its path
    assert any("L1: vnas_" in s for s in svgs)  # the C2FNAS network of stage 1's topology
    plots = [o["data"][PLOTLY_MIME] for o in outputs(nb) if PLOTLY_MIME in o.get("data", {})]
    titles = [p["layout"].get("title", {}).get("text", "") for p in plots]
    assert any(t.startswith("Architecture weights") for t in titles)  # alpha curves
    assert any(t.startswith("Segmentation: image") for t in titles)  # overlays
    assert any(t.startswith("Dice per class") for t in titles)
    assert any("beta of the trellis" in t for t in titles)  # the beta trajectories
    assert count_mime(nb, WIDGET_MIME) >= 1  # the space builder with its memory estimate
