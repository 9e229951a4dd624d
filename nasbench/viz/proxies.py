"""A cheap proxy against the true score: does the proxy rank architectures right?

Zero-cost proxies (synflow, grad_norm, snip, jacob_cov, NASWOT) and short training
are judged by rank correlation with the final score, as in Abdelfattah et al.
(2021): :func:`plot_proxy_vs_true` scatters one against the other and puts Kendall's
tau and Spearman's rho (``scipy.stats``) in the title.

Example:
    >>> plot_proxy_vs_true(frame, proxy="synflow", true="val_acc").show()  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from nasbench.errors import ConfigError
from nasbench.viz.pareto import genotype_text, resolve_column

MIN_POINTS = 3


def rank_correlations(proxy: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """Kendall's tau (tau-b) and Spearman's rho of two score vectors.

    Args:
        proxy: proxy scores.
        true: true scores, same length.

    Returns:
        ``{"kendall_tau", "kendall_p", "spearman_rho", "spearman_p", "n"}``.

    Example:
        >>> rank_correlations(np.array([1, 2, 3]), np.array([10, 20, 30]))["kendall_tau"]
        1.0
    """
    from scipy import stats  # imported here: scipy.stats is slow to import with nasbench.viz

    tau = stats.kendalltau(proxy, true)
    rho = stats.spearmanr(proxy, true)
    return {
        "kendall_tau": float(tau.statistic),
        "kendall_p": float(tau.pvalue),
        "spearman_rho": float(rho.statistic),
        "spearman_p": float(rho.pvalue),
        "n": int(len(proxy)),
    }


def plot_proxy_vs_true(
    frame: Any, proxy: str, true: str = "val_acc", log_x: bool = False
) -> go.Figure:
    """Scatter a proxy score against the true score, with Kendall tau and Spearman rho.

    Args:
        frame: a DataFrame (or a :class:`nasbench.runs.Run`, whose ``candidates`` are used)
            with a ``proxy`` and a ``true`` column (``metrics.<name>`` also found).
        proxy: the proxy's column, e.g. ``"synflow"``.
        true: the true score's column, e.g. ``"val_acc"``.
        log_x: draw the proxy on a log axis (synflow spans many decades).

    Returns:
        A figure with one trace ``"candidates"``; the title reads
        ``"<proxy> vs <true>: Kendall τ = ..., Spearman ρ = ... (n = ...)"`` and
        ``fig.layout.meta`` holds the :func:`rank_correlations` dict.

    Example:
        >>> fig = plot_proxy_vs_true(frame, "grad_norm", "test_acc")  # doctest: +SKIP
        >>> fig.layout.meta["kendall_tau"]  # doctest: +SKIP
        0.41
    """
    if not isinstance(frame, pd.DataFrame):
        frame = getattr(frame, "candidates", None)
        if not isinstance(frame, pd.DataFrame):
            raise ConfigError("expected a DataFrame of proxy and true scores (or a nasbench Run).")
    if "status" in frame.columns:
        # A cached repeat is the same candidate again: counted twice it would move the
        # rank correlations (a run's candidates frame records one row per ask).
        frame = frame[frame["status"] == "done"]
    pcol, tcol = resolve_column(frame, proxy), resolve_column(frame, true)
    xs, ys = frame[pcol].to_numpy(dtype=float), frame[tcol].to_numpy(dtype=float)
    keep = np.isfinite(xs) & np.isfinite(ys)
    if int(keep.sum()) < MIN_POINTS:
        raise ConfigError(
            f"only {int(keep.sum())} rows have both '{proxy}' and '{true}'; rank correlations "
            f"need at least {MIN_POINTS}."
        )
    rows = frame[keep]
    xs, ys = xs[keep], ys[keep]
    corr = rank_correlations(xs, ys)
    texts = [genotype_text(row) for _, row in rows.iterrows()]
    fig = go.Figure(
        go.Scatter(
            x=xs,
            y=ys,
            mode="markers",
            name="candidates",
            text=texts,
            marker={"color": "#0072B2", "opacity": 0.6, "size": 7},
            hovertemplate=f"%{{text}}<br>{proxy} %{{x:.4g}}<br>{true} %{{y:.4g}}<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"{proxy} vs {true}: Kendall τ = {corr['kendall_tau']:.3f}, "
        f"Spearman ρ = {corr['spearman_rho']:.3f} (n = {corr['n']})",
        xaxis_title=proxy,
        yaxis_title=true,
        xaxis_type="log" if log_x else "linear",
        meta=corr,
    )
    return fig
