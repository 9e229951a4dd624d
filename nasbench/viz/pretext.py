"""UnNAS's central figure: pretext-task score against labelled-task score per architecture.

One panel per pretext task; each point is a sampled architecture trained briefly on
that pretext task (x) and on the labelled task (y); the panel title carries Spearman's
rho and Kendall's tau (:func:`nasbench.evaluation.pretext.rank_correlation`). A high rho
says the pretext task ranks architectures as the labels would, so a search on it
needs no labels.

Example:
    >>> plot_pretext_correlation(scores, ["rotation", "jigsaw"]).show()  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from nasbench.errors import ConfigError
from nasbench.evaluation.pretext import rank_correlation
from nasbench.viz.alphas import names_of

COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7")


class PretextCorrelationInfo(NamedTuple):
    """What the figure draws: per pretext task its x scores, the target scores, the
    correlations, and the panel title."""

    pretexts: tuple[str, ...]
    xs: tuple[np.ndarray, ...]
    ys: np.ndarray
    correlations: tuple[dict[str, float], ...]
    titles: tuple[str, ...]


def _get_pretext_correlation_info(
    frame: Any, pretexts: Sequence[str], target: str
) -> PretextCorrelationInfo:
    if not isinstance(frame, pd.DataFrame):
        frame = pd.DataFrame(frame)
    pretexts = names_of(pretexts, "pretexts", "['rotation', 'jigsaw']")
    if not pretexts:
        raise ConfigError("name at least one pretext column to plot.")
    for column in (*pretexts, target):
        if column not in frame.columns:
            raise ConfigError(
                f"no column {column!r} in the scores; columns: "
                f"{', '.join(map(str, frame.columns))}."
            )
    ys = frame[target].to_numpy(dtype=float)
    xs = tuple(frame[p].to_numpy(dtype=float) for p in pretexts)
    correlations = tuple(rank_correlation(x, ys) for x in xs)
    titles = tuple(
        f"{p}: ρ = {c['spearman_rho']:.2f}, τ = {c['kendall_tau']:.2f}"
        for p, c in zip(pretexts, correlations, strict=True)
    )
    return PretextCorrelationInfo(pretexts, xs, ys, correlations, titles)


def plot_pretext_correlation(
    frame: Any, pretexts: Sequence[str], target: str = "target", target_label: str = ""
) -> go.Figure:
    """Scatter each pretext task's score against the labelled task's, one panel each.

    Args:
        frame: a DataFrame (or list of dicts), one row per architecture, one
            higher-is-better score column per pretext task and one for the target.
        pretexts: the pretext columns, e.g. ``["rotation", "jigsaw", "inpainting"]``, or
            one column's name.
        target: the labelled task's column.
        target_label: the y-axis title (default: the column name).

    Returns:
        A figure with one trace per pretext task (named after it);
        ``fig.layout.meta`` maps each pretext task to its correlation dict.

    Example:
        >>> rows = [{"rotation": a, "target": b} for a, b in [(1, 1), (2, 3), (3, 2)]]
        >>> plot_pretext_correlation(rows, ["rotation"]).layout.meta["rotation"]["n"]
        3
    """
    info = _get_pretext_correlation_info(frame, pretexts, target)
    fig = make_subplots(rows=1, cols=len(info.pretexts), subplot_titles=info.titles)
    for col, (name, x) in enumerate(zip(info.pretexts, info.xs, strict=True), start=1):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=info.ys,
                mode="markers",
                name=name,
                marker={"color": COLOURS[(col - 1) % len(COLOURS)], "size": 8, "opacity": 0.75},
                hovertemplate=f"{name} %{{x:.4g}}<br>{target} %{{y:.4g}}<extra></extra>",
            ),
            row=1,
            col=col,
        )
        fig.update_xaxes(title_text=f"{name} score", row=1, col=col)
    fig.update_yaxes(title_text=target_label or target, row=1, col=1)
    fig.update_layout(
        title="Pretext-task score vs labelled-task score (one point per architecture)",
        showlegend=False,
        meta={p: c for p, c in zip(info.pretexts, info.correlations, strict=True)},
    )
    return fig
