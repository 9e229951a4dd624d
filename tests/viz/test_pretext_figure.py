"""The UnNAS figure: one panel per pretext task, correlations in titles and meta."""

from __future__ import annotations

import pandas as pd
import pytest

from nasbench.errors import ConfigError
from nasbench.viz import plot_pretext_correlation
from nasbench.viz.pretext import _get_pretext_correlation_info

FRAME = pd.DataFrame(
    {
        "rotation": [0.5, 0.6, 0.7, 0.8, 0.9],
        "inpainting": [-0.1, -0.3, -0.2, -0.5, -0.4],
        "target": [0.2, 0.1, 0.4, 0.3, 0.5],
    }
)


def test_info_holds_the_scores_and_correlations():
    info = _get_pretext_correlation_info(FRAME, ["rotation", "inpainting"], "target")
    assert info.pretexts == ("rotation", "inpainting")
    assert (
        info.xs[0].tolist() == FRAME.rotation.tolist() and info.ys.tolist() == FRAME.target.tolist()
    )
    assert info.correlations[0]["spearman_rho"] == pytest.approx(0.8)
    assert info.correlations[1]["spearman_rho"] == pytest.approx(-0.3)  # ranks 5,3,4,1,2
    assert info.titles[0] == "rotation: ρ = 0.80, τ = 0.60"


def test_figure_has_one_trace_per_pretext_task():
    fig = plot_pretext_correlation(FRAME, ["rotation", "inpainting"], target_label="test ACC")
    assert [t.name for t in fig.data] == ["rotation", "inpainting"]
    assert list(fig.data[1].x) == FRAME.inpainting.tolist()
    assert fig.layout.meta["rotation"]["kendall_tau"] == pytest.approx(0.6)
    assert fig.layout.yaxis.title.text == "test ACC"
    assert [a.text for a in fig.layout.annotations][0].startswith("rotation: ρ = 0.80")


def test_missing_columns_are_one_line_errors():
    with pytest.raises(ConfigError, match="no column 'jigsaw'"):
        plot_pretext_correlation(FRAME, ["jigsaw"])
    with pytest.raises(ConfigError, match="at least one pretext"):
        plot_pretext_correlation(FRAME, [])
