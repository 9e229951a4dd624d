"""Which evaluation strategy ranks architectures best for its cost?

Each evaluator (SMASH, weight sharing, zero-cost proxies, short training...) is a
point: its total cost on the sample (log axis) against its Spearman rank
correlation with from-scratch training, the comparison Brock et al. (2018) and
Abdelfattah et al. (2021) make. ``benchmarks/evaluators.py`` builds the table.

Example:
    >>> plot_evaluator_correlations(table).show()  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from nasbench.errors import ConfigError

REQUIRED = ("evaluator", "spearman_rho", "total_s")


def plot_evaluator_correlations(table: Any, correlation: str = "spearman_rho") -> go.Figure:
    """Scatter each evaluator's total cost against its rank correlation with the ground truth.

    Args:
        table: a DataFrame (or a list of dicts) with ``evaluator``, ``spearman_rho``
            (or the ``correlation`` column) and ``total_s``; ``kendall_tau``, ``once_s``
            and ``per_candidate_s`` go into the hover text when present.
        correlation: the column drawn on the y axis, e.g. ``"kendall_tau"``.

    Returns:
        A figure with one trace ``"evaluators"`` (one labelled marker per row) and a
        dashed zero line; x is the cost in seconds on a log axis.

    Example:
        >>> fig = plot_evaluator_correlations(
        ...     [{"evaluator": "smash", "spearman_rho": 0.4, "total_s": 60.0}])
        >>> fig.data[0].text
        ('smash',)
    """
    if not isinstance(table, pd.DataFrame | list | tuple | dict):
        raise ConfigError(
            f"expected the evaluator table (a DataFrame, a list of dicts or a dict of "
            f"columns), got "
            f"{type(table).__name__}; build it with benchmarks/evaluators.py (run_benchmark)."
        )
    frame = pd.DataFrame(table) if not isinstance(table, pd.DataFrame) else table
    missing = [c for c in (*REQUIRED[:1], correlation, REQUIRED[2]) if c not in frame.columns]
    if missing:
        raise ConfigError(
            f"the evaluator table lacks column(s) {', '.join(missing)}; build it with "
            "benchmarks/evaluators.py (run_benchmark)."
        )
    if frame.empty:
        raise ConfigError("the evaluator table is empty; score at least one evaluator.")
    hover = [
        "<br>".join(
            f"{key} {row[key]:.3g}"
            for key in ("spearman_rho", "kendall_tau", "once_s", "per_candidate_s", "total_s")
            if key in frame.columns
        )
        for _, row in frame.iterrows()
    ]
    fig = go.Figure(
        go.Scatter(
            x=frame["total_s"].clip(lower=1e-3),
            y=frame[correlation],
            mode="markers+text",
            name="evaluators",
            text=tuple(frame["evaluator"]),
            textposition="top center",
            customdata=hover,
            marker={"color": "#0072B2", "size": 10},
            hovertemplate="<b>%{text}</b><br>%{customdata}<extra></extra>",
        )
    )
    fig.add_hline(y=0.0, line_dash="dash", line_color="#999999")
    fig.update_layout(
        title=f"Rank correlation with from-scratch training ({correlation}) vs cost",
        xaxis_title="total cost on the sample (s, log)",
        yaxis_title=correlation,
        xaxis_type="log",
        yaxis_range=[-1.05, 1.1],
    )
    return fig
