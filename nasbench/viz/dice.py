"""Dice per class over the epochs of a segmentation search.

The engine logs, per epoch, ``val_dice`` (the mean over foreground classes) and
``val_dice_<class>`` for each class; this draws one line per class and a thicker one
for the mean, from a :class:`nasbench.runs.Run` or its ``history`` frame.

Example:
    >>> plot_dice_per_class(load("runs/nasunet")).show()  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from nasbench.errors import ConfigError
from nasbench.viz.alphas import empty_hint, frame_of
from nasbench.viz.history import HISTORY_COLUMNS
from nasbench.viz.overlay import CLASS_COLORS

MEAN_COLOR = "#333333"


def plot_dice_per_class(run_or_frame: Any, phase: str = "val") -> go.Figure:
    """Dice of every foreground class (and their mean) per epoch.

    Args:
        run_or_frame: a :class:`nasbench.runs.Run` or its ``history`` frame.
        phase: the phase whose ``<phase>_dice_<class>`` metrics are drawn.

    Returns:
        A figure with one trace per class (named after it) and one named ``mean``.

    Example:
        >>> rows = [(0, 0, "val", "val_dice", 0.5), (0, 0, "val", "val_dice_lesion", 0.4)]
        >>> frame = pd.DataFrame(rows, columns=["step", "epoch", "phase", "name", "value"])
        >>> [t.name for t in plot_dice_per_class(frame).data]
        ['lesion', 'mean']
    """
    frame = frame_of(
        run_or_frame,
        "history",
        HISTORY_COLUMNS,
        empty_hint(
            run_or_frame,
            "Dice curves",
            "this run has no metrics yet; wait for the first epoch to end.",
        ),
    )
    prefix = f"{phase}_dice"
    rows = frame[(frame["phase"] == phase) & frame["name"].astype(str).str.startswith(prefix)]
    if rows.empty:
        raise ConfigError(
            f"this run has no {prefix}_* metrics; it is not a segmentation run (or no epoch "
            "has ended yet)."
        )
    fig = go.Figure()
    names = list(dict.fromkeys(str(n) for n in rows["name"]))
    classes = [n for n in names if n != prefix]
    for i, name in enumerate(classes + ([prefix] if prefix in names else [])):
        part = rows[rows["name"] == name].drop_duplicates("epoch", keep="last").sort_values("epoch")
        mean = name == prefix
        label = "mean" if mean else name[len(prefix) + 1 :].replace("_", " ")
        color = MEAN_COLOR if mean else CLASS_COLORS[i % len(CLASS_COLORS)]
        fig.add_trace(
            go.Scatter(
                x=part["epoch"].to_numpy() + 1,  # counted from 1, as the other figures
                y=part["value"].to_numpy(),
                mode="lines+markers",
                name=label,
                line={"color": color, "width": 3 if mean else 2, "dash": "dash" if mean else None},
                hovertemplate=f"{label}<br>epoch %{{x}}<br>Dice %{{y:.3f}}<extra></extra>",
            )
        )
    fig.update_layout(
        title=f"Dice per class ({phase})",
        xaxis_title="epoch",
        yaxis={"title": "Dice", "range": [0, 1]},
        legend_title="class",
    )
    return fig
