"""Lesson 10: the forward model, the unrolled space, a DARTS search on MNI152 slices, retraining."""

from __future__ import annotations

import pytest

from tests.notebooks.conftest import PLOTLY_MIME, SVG_MIME, checked_text, outputs

STEM = "10_reconstruction"


@pytest.mark.slow
def test_reconstruction_lesson_searches_the_unrolled_space_and_compares_baselines(
    run_lesson, tmp_path
):
    pytest.importorskip("nilearn")
    import nasbench

    nb = run_lesson(STEM)
    checked_text(nb, STEM)

    (run_dir,) = sorted((tmp_path / "runs").glob("unrolled-*"))
    with nasbench.runs.load(run_dir) as run:
        assert run.status == "finished" and run.config["dataset"]["name"] == "mni152-recon"
        assert run.alphas["step"].nunique() >= 2
        assert {"val_psnr", "val_ssim"} <= set(run.metrics_wide("val").columns)
        assert run.genotypes.genotype.iloc[-1].kind == "recon"
        assert {"retrain", "baseline", "varnet", "zero-filled"} <= set(run.history["phase"])

    svgs = [o["data"][SVG_MIME] for o in outputs(nb) if SVG_MIME in o.get("data", {})]
    assert sum("unrolled network" in s for s in svgs) >= 2  # a sampled and the derived cell
    plots = [o["data"][PLOTLY_MIME] for o in outputs(nb) if PLOTLY_MIME in o.get("data", {})]
    titles = [p["layout"].get("title", {}).get("text", "") for p in plots]
    assert any(t.startswith("Architecture weights") for t in titles)
    assert any(t.startswith("Reconstruction: ground truth") for t in titles)
    assert any(t.startswith("Zero-filled images") for t in titles)
