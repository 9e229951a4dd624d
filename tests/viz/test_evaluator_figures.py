"""The evaluator-correlation figure (benchmarks/evaluators.py's table)."""

from __future__ import annotations

import pytest

from nasbench.errors import ConfigError
from nasbench.viz import plot_evaluator_correlations

TABLE = [
    {"evaluator": "smash", "spearman_rho": 0.4, "kendall_tau": 0.3, "total_s": 60.0},
    {"evaluator": "proxy:synflow", "spearman_rho": 0.2, "kendall_tau": 0.1, "total_s": 3.0},
]


def test_each_evaluator_is_a_labelled_point_at_its_cost_and_correlation():
    fig = plot_evaluator_correlations(TABLE)
    trace = fig.data[0]
    assert trace.text == ("smash", "proxy:synflow")
    assert list(trace.x) == [60.0, 3.0] and list(trace.y) == [0.4, 0.2]
    assert fig.layout.xaxis.type == "log"
    assert list(plot_evaluator_correlations(TABLE, "kendall_tau").data[0].y) == [0.3, 0.1]


def test_a_table_without_the_columns_is_refused():
    with pytest.raises(ConfigError, match="lacks column.*total_s"):
        plot_evaluator_correlations([{"evaluator": "smash", "spearman_rho": 0.1}])
    with pytest.raises(ConfigError, match="empty"):
        plot_evaluator_correlations({"evaluator": [], "spearman_rho": [], "total_s": []})
