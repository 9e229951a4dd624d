"""Did the SMASH hypernetwork learn? Its training loss and accuracy per epoch, as the
run store recorded them with a search's first SMASH candidate.

Example:
    >>> plot_hypernet_curve(nasbench.runs.load("runs/smash-1")).show()  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from nasbench.errors import ConfigError

CURVE_COLUMNS = ("epoch", "train_loss", "train_acc")


def hypernet_curve(run: Any) -> pd.DataFrame:
    """The hypernetwork's training curve a SMASH search recorded in its run store.

    Args:
        run: a :class:`nasbench.runs.Run` (or its ``candidates`` DataFrame).

    Returns:
        A DataFrame with ``epoch``, ``train_loss``, ``train_acc`` (empty when no
        candidate carries a curve).

    Example:
        >>> frame = pd.DataFrame({"info": [{"hypernet_curve": [
        ...     {"epoch": 0.0, "train_loss": 0.7, "train_acc": 0.5}]}]})
        >>> hypernet_curve(frame)["train_loss"].tolist()
        [0.7]
    """
    frame = getattr(run, "candidates", run)
    if not isinstance(frame, pd.DataFrame) or "info" not in frame.columns:
        raise ConfigError("expected a nasbench Run or its candidates frame (with 'info').")
    for info in frame["info"]:
        if isinstance(info, dict) and info.get("hypernet_curve"):
            return pd.DataFrame(info["hypernet_curve"], columns=list(CURVE_COLUMNS))
    return pd.DataFrame(columns=list(CURVE_COLUMNS))


def plot_hypernet_curve(run_or_frame: Any) -> go.Figure:
    """Training loss (left axis) and accuracy (right axis) of the SMASH hypernetwork per
    epoch, each epoch a random architecture per mini-batch.

    Args:
        run_or_frame: a Run of a SMASH search, its candidates frame, or the output of
            :func:`hypernet_curve`.

    Returns:
        A figure with traces ``"train_loss"`` and ``"train_acc"``.

    Example:
        >>> [t.name for t in plot_hypernet_curve(run).data]  # doctest: +SKIP
        ['train_loss', 'train_acc']
    """
    curve = run_or_frame
    if not (isinstance(curve, pd.DataFrame) and set(CURVE_COLUMNS) <= set(curve.columns)):
        curve = hypernet_curve(run_or_frame)
    if curve.empty:
        raise ConfigError(
            "no hypernetwork curve recorded; run a search with evaluator 'smash' first."
        )
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Scatter(
            x=curve["epoch"], y=curve["train_loss"], name="train_loss", mode="lines+markers"
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            x=curve["epoch"],
            y=curve["train_acc"],
            name="train_acc",
            mode="lines+markers",
            line={"dash": "dot"},
        ),
        secondary_y=True,
    )
    fig.update_layout(title="SMASH hypernetwork training (a random architecture per batch)")
    fig.update_xaxes(title_text="epoch")
    fig.update_yaxes(title_text="train loss", secondary_y=False)
    # train_acc is a fraction of correct predictions: a fixed [0, 1] axis, so a flat curve
    # is not auto-ranged into a band that reads like a drop or a rise.
    fig.update_yaxes(title_text="train accuracy", range=[0, 1], secondary_y=True)
    return fig
