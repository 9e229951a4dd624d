"""Lesson 05: GDAS, PC-DARTS and ProxylessNAS against DARTS, time and memory side by side."""

from __future__ import annotations

import pytest

from tests.notebooks.conftest import (
    PLOTLY_MIME,
    SVG_MIME,
    WIDGET_MIME,
    checked_text,
    count_mime,
)

STEM = "05_efficient_one_shot"
METHODS = ("darts", "gdas", "pcdarts", "proxyless")
# The architecture state each method logs besides its alphas.
EXTRA_KINDS = {"darts": set(), "gdas": {"tau"}, "pcdarts": {"beta"}, "proxyless": {"gate"}}


@pytest.mark.slow
def test_one_shot_lesson_runs_every_method_and_compares_costs(run_lesson, tmp_path):
    import nasbench

    nb = run_lesson(STEM)
    checked_text(nb, STEM)

    configs = []
    for method in METHODS:
        (run_dir,) = sorted((tmp_path / "runs").glob(f"{method}-*"))
        with nasbench.runs.load(run_dir) as run:
            assert run.status == "finished"
            assert run.config["strategy"] == method
            configs.append(
                {k: v for k, v in run.config.items() if k not in ("strategy", "strategy_config")}
            )
            val = run.metrics_wide("val")
            assert len(val) == run.config["epochs"]
            assert (val["images_per_s"] > 0).all() and (val["peak_memory_mb"] > 0).all()
            assert set(run.alphas["kind"]) == {"alpha"} | EXTRA_KINDS[method]
            assert len(run.genotypes) == run.config["epochs"]
    assert all(c == configs[0] for c in configs)  # same data, space, budget and seed
    assert count_mime(nb, PLOTLY_MIME) >= 2  # PC-DARTS beta, GDAS tau
    assert count_mime(nb, SVG_MIME) >= 1  # a derived cell
    assert count_mime(nb, WIDGET_MIME) >= 3  # launcher, run browser, genotype viewer
