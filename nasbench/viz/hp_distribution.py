"""How a joint architecture + hyper-parameter search (AutoHAS) changed its mind about
each hyper-parameter: the policy's probability of every choice over the search.

Every candidate an AutoHAS search records carries the policy at that moment
(``info["hp_probs"]``); :func:`hp_distribution` reads them into a long frame and
:func:`plot_hp_distribution` draws one stacked-area panel per hyper-parameter.

Example:
    >>> plot_hp_distribution(nasbench.runs.load("runs/autohas-1")).show()  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from nasbench.errors import ConfigError
from nasbench.viz.palette import FAMILY_COLORS

COLUMNS = ["candidate_id", "hp", "choice", "probability"]
# The palette's colour-blind-safe hues, grey left out: one per choice of a hyper-parameter.
CHOICE_COLORS = [c for c in FAMILY_COLORS.values() if c != FAMILY_COLORS["none"]]


def hp_distribution(run: Any) -> pd.DataFrame:
    """The hyper-parameter policy over a search, one row per candidate, HP and choice.

    Args:
        run: a :class:`nasbench.runs.Run` (or its ``candidates`` DataFrame) of an
            AutoHAS search.

    Returns:
        A DataFrame with ``candidate_id``, ``hp``, ``choice`` (the value as text) and
        ``probability``; empty when no candidate carries a policy.

    Example:
        >>> frame = pd.DataFrame({"candidate_id": [0],
        ...                       "info": [{"hp_probs": {"lr": {"0.1": 0.7, "0.01": 0.3}}}]})
        >>> hp_distribution(frame)["probability"].tolist()
        [0.7, 0.3]
    """
    frame = getattr(run, "candidates", run)
    if not isinstance(frame, pd.DataFrame) or not {"candidate_id", "info"} <= set(frame.columns):
        raise ConfigError("expected a nasbench Run or its candidates frame (candidate_id, info).")
    rows = [
        {"candidate_id": int(cid), "hp": name, "choice": value, "probability": float(p)}
        for cid, info in zip(frame["candidate_id"], frame["info"], strict=True)
        if isinstance(info, dict)
        for name, choices in (info.get("hp_probs") or {}).items()
        for value, p in choices.items()
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def plot_hp_distribution(run_or_frame: Any) -> go.Figure:
    """One stacked-area panel per hyper-parameter: the probability of each choice over
    the search's candidates.

    Args:
        run_or_frame: a Run of an AutoHAS search, its candidates frame, or the output
            of :func:`hp_distribution`.

    Returns:
        A figure with one trace per (hyper-parameter, choice), named ``"<hp>=<choice>"``,
        grouped by hyper-parameter; each panel's areas sum to 1 at every candidate.

    Example:
        >>> fig = plot_hp_distribution(run)  # doctest: +SKIP
        >>> [t.name for t in fig.data][:3]  # doctest: +SKIP
        ['augment=0', 'augment=0.5', 'augment=1']
    """
    frame = run_or_frame
    if not (isinstance(frame, pd.DataFrame) and set(COLUMNS) <= set(frame.columns)):
        frame = hp_distribution(run_or_frame)
    if frame.empty:
        raise ConfigError(
            "no hyper-parameter policy recorded; run an AutoHAS search (strategy 'autohas')."
        )
    names = list(dict.fromkeys(frame["hp"]))
    fig = make_subplots(rows=len(names), cols=1, shared_xaxes=True, subplot_titles=names)
    for row, name in enumerate(names, start=1):
        part = frame[frame["hp"] == name]
        for k, choice in enumerate(dict.fromkeys(part["choice"])):
            line = part[part["choice"] == choice].sort_values("candidate_id")
            fig.add_trace(
                go.Scatter(
                    x=line["candidate_id"],
                    y=line["probability"],
                    name=f"{name}={choice}",
                    legendgroup=name,
                    stackgroup=name,
                    line={"color": CHOICE_COLORS[k % len(CHOICE_COLORS)]},
                    hovertemplate=f"{name}={choice}<br>candidate %{{x}}: p %{{y:.3f}}"
                    "<extra></extra>",
                ),
                row=row,
                col=1,
            )
        fig.update_yaxes(range=[0, 1], title_text="p", row=row, col=1)
    fig.update_xaxes(title_text="candidate", row=len(names), col=1)
    fig.update_layout(title="Hyper-parameter policy over the search", height=220 * len(names))
    return fig
