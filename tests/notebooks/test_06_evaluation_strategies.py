"""Lesson 06: partial training, successive halving, weight sharing and zero-cost proxies."""

from __future__ import annotations

import pytest

from tests.notebooks.conftest import (
    PLOTLY_MIME,
    checked_text,
    count_mime,
    outputs,
)

STEM = "06_evaluation_strategies"


def _figure_metas(nb) -> list[dict]:
    return [
        out["data"][PLOTLY_MIME]["layout"].get("meta")
        for out in outputs(nb)
        if PLOTLY_MIME in out.get("data", {})
    ]


@pytest.mark.slow
def test_evaluation_lesson_ranks_every_estimator(run_lesson):
    nb = run_lesson(STEM)
    text = checked_text(nb, STEM)
    # Successive halving spends exactly what it plans: 81 x 1 + 27 x 3 + 9 x 9 epochs.
    assert "planned epochs: 243" in text
    for estimator in (
        "partial (1 epoch)",
        "weight sharing",
        "smash",
        "synflow",
        "naswot",
        "grad_norm",
        "snip",
        "jacob_cov",
        "params",
    ):
        assert estimator in text
    assert count_mime(nb, PLOTLY_MIME) >= 5  # tau per epoch, epoch-1, SMASH curve, two scatters
    # plot_proxy_vs_true puts its rank correlations in layout.meta.
    metas = [m for m in _figure_metas(nb) if isinstance(m, dict) and "kendall_tau" in m]
    assert len(metas) >= 3
    assert all(-1.0 <= m["kendall_tau"] <= 1.0 for m in metas)
