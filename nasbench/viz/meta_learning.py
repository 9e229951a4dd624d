"""Plotly figures of a METANAS run: its learners' meta-training curves and their adaptation.

A METANAS search trains three learners side by side (``metanas``, ``reptile``,
``pooled_darts``; :mod:`nasbench.strategies.meta.loop`) and logs each one's metrics under its
own prefix, so the generic :func:`nasbench.viz.history.plot_history` finds none of its names.
:func:`plot_learner_history` draws them with one colour per learner; :func:`plot_adaptation`
draws how fast each learner adapts to a new task: the mean query accuracy after every inner
step, over the recorded episodes, with its 95% confidence interval (Student's t: the
episodes are few).

Example:
    >>> plot_learner_history(load("runs/metanas-1")).show()  # doctest: +SKIP
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from nasbench.errors import ConfigError
from nasbench.strategies.meta import LEARNERS, mean_ci95
from nasbench.strategies.meta.results import adaptation_curves
from nasbench.viz.alphas import empty_hint, frame_of
from nasbench.viz.history import HISTORY_COLUMNS

# Okabe-Ito hues, one per learner and the same in both figures; a learner the loop gains
# later gets the next one.
LEARNER_COLORS = dict(zip(LEARNERS, ("#D55E00", "#0072B2", "#009E73"), strict=True))
_SPARE_COLORS = ("#CC79A7", "#E69F00", "#56B4E9")
# Meta-training (after adaptation, averaged over the meta-batch) and meta-validation
# (watched meta-test episodes after each meta-epoch) names, as the loop logs them.
_LEARNER_METRIC = {
    "train": re.compile(r"^(?P<learner>.+)_query_(?P<metric>acc|loss)$"),
    "val": re.compile(r"^(?P<learner>.+)_val_(?P<metric>acc|loss)$"),
}
_PHASE_NAMES = {"train": "meta-training", "val": "meta-validation"}
_PANELS = {"acc": "query accuracy", "loss": "query loss"}


def learner_color(learner: str, order: list[str]) -> str:
    """The colour of one learner: its own hue, or a spare one by its place in ``order``.

    Args:
        learner: a learner name, e.g. ``"reptile"``.
        order: every learner the figure draws, in order.

    Returns:
        A ``#RRGGBB`` colour string.

    Example:
        >>> learner_color("reptile", ["metanas", "reptile"])
        '#0072B2'
    """
    if learner in LEARNER_COLORS:
        return LEARNER_COLORS[learner]
    extra = [name for name in order if name not in LEARNER_COLORS]
    return _SPARE_COLORS[extra.index(learner) % len(_SPARE_COLORS)]


class _LearnerCurves(NamedTuple):
    """What plot_learner_history draws (its data step)."""

    # (metric, phase, learner) -> rows with step, epoch, value, in step order
    curves: dict[tuple[str, str, str], pd.DataFrame]
    learners: list[str]


def _get_learner_curves(run_or_frame: Any) -> _LearnerCurves:
    frame = frame_of(
        run_or_frame,
        "history",
        HISTORY_COLUMNS,
        empty_hint(
            run_or_frame,
            "learner curves",
            "this run has no metrics yet; wait for its first meta-step.",
        ),
    )
    frame = frame[frame["value"].notna()]
    curves: dict[tuple[str, str, str], pd.DataFrame] = {}
    learners: list[str] = []
    for phase, pattern in _LEARNER_METRIC.items():
        rows = frame[frame["phase"] == phase]
        for name in dict.fromkeys(rows["name"]):
            found = pattern.match(str(name))
            if found is None:
                continue
            learner, metric = found["learner"], found["metric"]
            part = rows[rows["name"] == name]
            # A resumed run re-logs the step it restarted from; the last value stands.
            part = part.drop_duplicates(["step", "epoch"], keep="last").sort_values("step")
            curves[(metric, phase, learner)] = part
            learners.append(learner)
    if not curves:
        raise ConfigError(
            "this run has no learner metrics (<learner>_query_acc, <learner>_val_acc); "
            "plot_learner_history draws METANAS runs, use plot_history for other searches."
        )
    known = [name for name in LEARNERS if name in learners]
    return _LearnerCurves(curves, known + [n for n in dict.fromkeys(learners) if n not in known])


def plot_learner_history(run_or_frame: Any) -> go.Figure:
    """A METANAS run's learners side by side: query accuracy and loss, per meta-step
    (meta-training, after adaptation) and per meta-epoch (meta-validation).

    Args:
        run_or_frame: a :class:`nasbench.runs.Run` of a METANAS search or its ``history``
            frame.

    Returns:
        A figure with an accuracy and a loss panel and one trace per (learner, phase) that
        has data, named ``"<learner> <phase>"``.

    Raises:
        ConfigError: the run logged no learner metrics (not a METANAS run, or not started).

    Example:
        >>> fig = plot_learner_history(run)  # doctest: +SKIP
        >>> [t.name for t in fig.data][:2]  # doctest: +SKIP
        ['metanas meta-training', 'metanas meta-validation']
    """
    info = _get_learner_curves(run_or_frame)
    metrics = [m for m in _PANELS if any(key[0] == m for key in info.curves)]
    fig = make_subplots(
        rows=1,
        cols=len(metrics),
        subplot_titles=[_PANELS[m] for m in metrics],
        horizontal_spacing=0.1,
    )
    for col, metric in enumerate(metrics, start=1):
        for learner in info.learners:
            color = learner_color(learner, info.learners)
            for phase in _LEARNER_METRIC:
                part = info.curves.get((metric, phase, learner))
                if part is None:
                    continue
                validation = phase == "val"
                label = f"{learner} {_PHASE_NAMES[phase]}"
                fig.add_trace(
                    go.Scatter(
                        x=part["step"].to_numpy(),
                        y=part["value"].to_numpy(),
                        customdata=part["epoch"].to_numpy() + 1,  # counted from 1, as elsewhere
                        mode="lines+markers" if validation else "lines",
                        name=label,
                        legendgroup=label,
                        showlegend=col == 1,
                        line={"color": color, "width": 2 if validation else 1,
                              "dash": None if validation else "dot"},
                        hovertemplate=f"{label}<br>meta-step %{{x}}<br>meta-epoch "
                        "%{customdata}<br>%{y:.4g}<extra></extra>",
                    ),
                    row=1,
                    col=col,
                )  # fmt: skip
        fig.update_xaxes(title_text="meta-step", row=1, col=col)
        # Accuracy keeps its whole 0-1 scale, so learners that tie do not look apart.
        accuracy_range = [-0.02, 1.02] if metric == "acc" else None
        fig.update_yaxes(title_text=_PANELS[metric], range=accuracy_range, row=1, col=col)
    fig.update_layout(title="Meta-training history", height=380, hovermode="closest")
    return fig


def plot_adaptation(run: Any, phase: str = "meta-test") -> go.Figure:
    """How fast each learner adapts to a new task: mean query accuracy after every inner
    step, over the recorded episodes, with 95% confidence intervals (Student's t with
    episodes - 1 degrees of freedom, :func:`~nasbench.strategies.meta.mean_ci95`).

    Args:
        run: a :class:`nasbench.runs.Run` of a METANAS search.
        phase: ``"meta-test"`` (the scored tasks, at the end of the search) or
            ``"meta-epoch"`` (the watched tasks after each meta-epoch; the last meta-epoch
            is drawn).

    Returns:
        A figure with one trace per learner, named after it; step 0 is before adaptation.

    Raises:
        ConfigError: ``phase`` is unknown, or the run recorded no curves in it yet.

    Example:
        >>> plot_adaptation(run).data[0].name  # doctest: +SKIP
        'metanas'
    """
    phases = ("meta-test", "meta-epoch")
    if phase not in phases:
        raise ConfigError(f"phase {phase!r} is unknown; pass one of {', '.join(phases)}.")
    if not hasattr(run, "events"):
        raise ConfigError(f"expected a nasbench Run of a METANAS search, got {type(run).__name__}.")
    curves = adaptation_curves(run, phase=phase)
    if curves.empty:
        when = "at its end" if phase == "meta-test" else "after its first meta-epoch"
        raise ConfigError(
            f"this run has no {phase} adaptation curves; a METANAS search records them {when}."
        )
    if phase == "meta-epoch":
        curves = curves[curves["epoch"] == curves["epoch"].max()]
    order = [n for n in LEARNERS if n in set(curves["learner"])]
    order += [n for n in dict.fromkeys(curves["learner"]) if n not in order]
    fig = go.Figure()
    for learner in order:
        rows = curves[curves["learner"] == learner]
        steps = sorted(rows["inner_step"].unique())
        stats = [mean_ci95(rows.loc[rows["inner_step"] == s, "query_acc"]) for s in steps]
        episodes = rows["episode"].nunique()
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=[mean for mean, _ in stats],
                # One episode has no interval (NaN); plotly then draws no bar.
                error_y={"type": "data", "array": [ci for _, ci in stats], "visible": True},
                customdata=[ci for _, ci in stats],
                mode="lines+markers",
                name=learner,
                line={"color": learner_color(learner, order), "width": 2},
                hovertemplate=f"{learner}<br>inner step %{{x}}<br>mean query accuracy "
                f"%{{y:.3f}} ± %{{customdata:.3f}} (95% t-interval) over {episodes} "
                "episodes<extra></extra>",
            )
        )
    fig.update_layout(
        title=f"Adaptation to new tasks ({phase}; bars: 95% t-interval over episodes; "
        "step 0 is before adaptation)",
        xaxis_title="inner step",
        yaxis_title="mean query accuracy",
        yaxis_range=[-0.02, 1.02],
        height=360,
        hovermode="closest",
    )
    fig.update_xaxes(dtick=1)
    return fig
