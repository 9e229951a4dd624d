"""Plotly figures of a run's metrics: loss and metric curves, and the collapse watch.

:func:`plot_history` draws the per-step training curves next to the per-epoch validation
points; :func:`plot_eigenvalues` draws the dominant Hessian eigenvalue of the validation loss with
respect to alpha (RobustDARTS), its early-stop threshold, and the count of parameter-free ops in
the derived cell. Both take a :class:`nasbench.runs.Run` or its tidy ``history`` frame.

Example:
    >>> plot_history(load("runs/darts-1"), metrics=("loss", "acc")).show()  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from nasbench.errors import ConfigError, closest_name
from nasbench.runs.alpha_summary import collapse_rule, collapse_threshold
from nasbench.runs.schema import shown_epoch
from nasbench.viz.alphas import empty_hint, frame_of, names_of, whole_number
from nasbench.viz.palette import HIGHLIGHT_COLOR

HISTORY_COLUMNS = ("step", "epoch", "phase", "name", "value")
# Every task's own headline metrics (classification, segmentation, reconstruction,
# detection); a run gets a panel for each it logged.
DEFAULT_METRICS = (
    "loss", "acc", "auc", "dice", "hd95", "psnr", "ssim", "nmse", "ap50", "froc",
    "parameter_free_ops",
)  # fmt: skip
EIGENVALUE = "hessian_eigenvalue"
PARAMETER_FREE = "parameter_free_ops"
# "search": a localisation search's per-round metrics (TD loss, reward, tau, ...).
PHASE_COLORS = {"train": "#0072B2", "val": "#D55E00", "test": "#009E73", "search": "#CC79A7"}

_EMPTY = "this run has no metrics yet; wait for the search to finish its first step."
# The most tick steps across an axis of whole numbers (steps, epochs, evaluations) that a
# figure's full width holds; a subplot of a grid holds fewer (see integer_ticks).
MOST_TICKS = 8
# plotly divides an axis into at most 10 tick steps (plotly.js autoTicks: 4 to 9, plus 1),
# so over a longer span its own steps are whole numbers.
AUTO_TICKS_ABOVE = 10


def integer_ticks(values: Any, most: int = MOST_TICKS) -> dict[str, Any]:
    """Axis settings that tick a count (steps, epochs, evaluations) at whole numbers only.

    plotly's automatic ticks split a short axis into halves (1, 1.5, 2), and an integer
    ``tickformat`` alone would then label 1, 2, 2: so a short axis steps by a whole 1, 2 or
    5, the least that keeps at most ``most`` steps across ``values``. An axis longer than
    plotly ever divides into ticks (``AUTO_TICKS_ABOVE``) keeps plotly's own ticks, which
    are whole there, and which a zoom into it redraws (fixed ticks 100 apart would leave a
    zoom into 30 steps without any). A live figure sets them again as its points arrive.

    Args:
        values: the axis's values (or just its ends); empty: a step of 1.
        most: the most tick steps across them.

    Returns:
        Keyword arguments of ``fig.update_xaxes``: linear ticks from 0 with a whole
        ``dtick`` and integer labels, or (a long axis) plotly's automatic ticks.

    Example:
        >>> integer_ticks([1, 3])["dtick"], integer_ticks(range(500))["tickmode"]
        (1, 'auto')
    """
    ends = np.asarray(values, dtype=float).ravel()
    ends = ends[np.isfinite(ends)]
    span = float(ends.max() - ends.min()) if len(ends) else 0.0
    if span > AUTO_TICKS_ABOVE:
        return {"tickmode": "auto", "tick0": None, "dtick": None, "tickformat": None}
    step = 1
    while span / step > most:  # 1, 2, 5, 10
        step = step * 5 // 2 if str(step)[0] == "2" else step * 2
    return {"tickmode": "linear", "tick0": 0, "dtick": step, "tickformat": "d"}


def _history(run_or_frame: Any) -> pd.DataFrame:
    hint = empty_hint(
        run_or_frame,
        "training curves",
        _EMPTY,
        "this run logged no metrics: it ended before its first step.",
    )
    return frame_of(run_or_frame, "history", HISTORY_COLUMNS, hint)


def _series(frame: pd.DataFrame, phase: str, metric: str) -> pd.DataFrame:
    """Rows of one curve; a validation metric may be stored as ``val_<name>`` or ``<name>``."""
    rows = frame[frame["phase"] == phase]
    names = (f"{phase}_{metric}", metric) if phase != "train" else (metric,)
    for name in names:
        found = rows[rows["name"] == name]
        if not found.empty:
            return found.drop_duplicates(["step", "epoch"], keep="last").sort_values("step")
    return rows.iloc[0:0]


class _HistoryInfo(NamedTuple):
    """The curves plot_history draws (its data step)."""

    # metric -> {phase: rows with step, epoch, value}; one panel per metric, in this order.
    curves: dict[str, dict[str, pd.DataFrame]]


def _get_history_info(
    run_or_frame: Any, metrics: Sequence[str] | None, phases: Sequence[str]
) -> _HistoryInfo:
    """The rows of every (metric, phase) curve the run has; asked-for metrics must exist."""
    if metrics is not None:
        metrics = names_of(metrics, "metrics", "('loss', 'acc')")
    phases = names_of(phases, "phases", "('train', 'val')")
    if metrics is not None and not len(metrics):
        raise ConfigError("metrics is empty; pass metric names, or None for the default ones.")
    if not len(phases):
        raise ConfigError("phases is empty; pass phase names such as ('train', 'val').")
    frame = _history(run_or_frame)
    # A misspelt phase ("Train") names itself, instead of the metrics it then lacks.
    logged = sorted({str(p) for p in frame["phase"].unique()})
    unknown = [p for p in phases if p not in logged and p not in PHASE_COLORS]
    if unknown:
        raise ConfigError(
            f"this run has no phase {unknown[0]!r}; pass phases from {', '.join(logged)}."
            + closest_name(str(unknown[0]), logged)
        )
    logged_rows = frame
    frame = frame[np.isfinite(frame["value"].to_numpy(dtype=float))]
    found = {
        metric: {p: part for p in phases if not (part := _series(frame, p, metric)).empty}
        for metric in (DEFAULT_METRICS if metrics is None else metrics)
    }
    missing = [m for m, curves in found.items() if not curves]
    # A diverged run logs its loss as NaN: logged, yet nothing to draw.
    not_finite = [m for m in missing if _logged(logged_rows, m, phases)]
    if metrics is not None and missing:
        if missing[0] in not_finite:
            raise ConfigError(_not_finite_message(logged_rows, missing[:1], phases))
        raise ConfigError(_missing_metric(frame, missing[0], phases, logged))
    curves = {m: parts for m, parts in found.items() if parts}
    if not curves and not_finite:
        raise ConfigError(_not_finite_message(logged_rows, not_finite, phases))
    if not curves:
        others = [p for p in logged if p not in phases]
        raise ConfigError(
            f"this run has none of the metrics {', '.join(DEFAULT_METRICS)} in phases "
            f"{', '.join(phases)}; pass metrics=... with names from run.history['name']"
            + (f", and phases=... from {', '.join(others)}" if others else "")
            + "."
        )
    return _HistoryInfo(curves=curves)


def _logged(frame: pd.DataFrame, metric: str, phases: Sequence[str]) -> list[str]:
    """The phases of ``phases`` that have rows of ``metric``."""
    return [phase for phase in phases if not _series(frame, phase, metric).empty]


def _not_finite_message(frame: pd.DataFrame, metrics: list[str], phases: Sequence[str]) -> str:
    """Why metrics that are logged have no curve: every value is NaN or infinite."""
    where = list(dict.fromkeys(p for m in metrics for p in _logged(frame, m, phases)))
    return (
        f"this run's {', '.join(metrics)} in phase{'s' * (len(where) > 1)} "
        f"{', '.join(where)} {'are' if len(metrics) > 1 else 'is'} NaN or infinite at every "
        "step, so there is nothing finite to draw: the search diverged (run.message says "
        "how it ended)."
    )


def _missing_metric(
    frame: pd.DataFrame, metric: str, phases: Sequence[str], logged: list[str]
) -> str:
    """Why ``metric`` has no curve in ``phases``: the phases that do log it (a localisation
    search logs its TD loss under "search"), else the names those phases have."""
    elsewhere = [p for p in logged if p not in phases and not _series(frame, p, metric).empty]
    asked = f"this run has no metric '{metric}' in phases {', '.join(phases)}"
    if elsewhere:
        where = ", ".join(repr(p) for p in elsewhere)
        return (
            f"{asked}; it is logged under phase{'s' * (len(elsewhere) > 1)} {where}: "
            f"pass phases={elsewhere!r}."
        )
    names = sorted({str(n) for n in frame.loc[frame["phase"].isin(phases), "name"].unique()})
    # A typo of a metric another phase logs ("tdloss" for the search's "td_loss").
    hint = (closest_name(metric, names) if names else "") or _closest_elsewhere(
        frame, metric, [p for p in logged if p not in phases]
    )
    if not names:
        return f"{asked}; those phases have no metrics (it logs phases {', '.join(logged)})." + hint
    return f"{asked}; they have {', '.join(names)}." + hint


def _closest_elsewhere(frame: pd.DataFrame, metric: str, others: list[str]) -> str:
    """A ' Did you mean ...?' hint naming the metric closest to ``metric`` in the phases
    ``others`` and the phases argument that draws it, or ''."""
    import difflib

    where: dict[str, tuple[str, str]] = {}  # lower case -> (name as asked for, its phase)
    for phase in others:
        for name in frame.loc[frame["phase"] == phase, "name"].unique():
            # "val_dice" is asked for as "dice" (see _series); a train metric as it is.
            name = str(name) if phase == "train" else str(name).removeprefix(f"{phase}_")
            where.setdefault(name.lower(), (name, phase))
    match = difflib.get_close_matches(metric.lower(), list(where), n=1, cutoff=0.5)
    if not match:
        return ""
    name, phase = where[match[0]]
    return f" Did you mean '{name}' (phase '{phase}': pass phases=['{phase}'])?"


def plot_history(
    run_or_frame: Any,
    metrics: Sequence[str] | None = None,
    phases: Sequence[str] = ("train", "val", "test"),
) -> go.Figure:
    """Loss and metric curves: one panel per metric, a line per phase.

    Training metrics are drawn per step; validation (``val_<name>`` or ``<name>`` in phase
    "val") and test metrics are markers at the step where the epoch ended.

    Args:
        run_or_frame: a :class:`nasbench.runs.Run` or its ``history`` frame.
        metrics: metric names without a phase prefix, e.g. ``("loss", "acc", "lr")`` (or
            one name); None takes those of loss, acc, auc, dice, hd95, psnr, ssim, nmse,
            ap50, froc and parameter_free_ops that the run has.
        phases: phases to draw (a localisation search logs its curves under
            ``"search"``).

    Returns:
        A figure with one subplot per metric and one trace per (metric, phase) that has data,
        named ``"<phase> <metric>"``.

    Example:
        >>> fig = plot_history(run)  # doctest: +SKIP
        >>> [t.name for t in fig.data][:2]  # doctest: +SKIP
        ['train loss', 'val loss']
    """
    panels = _get_history_info(run_or_frame, metrics, phases).curves
    cols = 2 if len(panels) > 1 else 1
    rows = math.ceil(len(panels) / cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=list(panels), horizontal_spacing=0.08)
    for index, (metric, curves) in enumerate(panels.items()):
        row, col = divmod(index, cols)
        for phase, part in curves.items():
            per_step = phase == "train"
            fig.add_trace(
                go.Scatter(
                    x=part["step"].to_numpy(),
                    y=part["value"].to_numpy(),
                    customdata=part["epoch"].to_numpy() + 1,  # counted from 1, as shown elsewhere
                    mode="lines" if per_step else "lines+markers",
                    name=f"{phase} {metric}",
                    legendgroup=phase,
                    line={"color": PHASE_COLORS.get(phase), "width": 1 if per_step else 2},
                    hovertemplate=f"{phase} {metric}<br>step %{{x}}<br>epoch %{{customdata}}"
                    "<br>%{y:.4g}<extra></extra>",
                ),
                row=row + 1,
                col=col + 1,
            )
        steps = np.concatenate([part["step"].to_numpy() for part in curves.values()])
        ticks = integer_ticks(steps, MOST_TICKS // cols)  # two columns: half as wide
        fig.update_xaxes(title_text="step", row=row + 1, col=col + 1, **ticks)
        fig.update_yaxes(title_text=metric, row=row + 1, col=col + 1)
    fig.update_layout(title="Training history", height=max(320, 280 * rows), hovermode="closest")
    return fig


class _EigenvalueInfo(NamedTuple):
    """What the collapse watch draws, as plain arrays (the data step of plot_eigenvalues)."""

    epochs: np.ndarray
    values: np.ndarray
    local_mean: np.ndarray
    threshold: np.ndarray  # NaN where fewer than 2 windows precede the epoch
    stop_zone_top: float | None  # upper edge of the shaded stop zone; None: no threshold yet
    no_stop_span: tuple[float, float] | None  # epochs before start_epoch, as x0, x1
    early_stop: tuple[Any, str] | None  # (epoch, label) of the early-stop line
    free_epochs: np.ndarray
    free_counts: np.ndarray


def _get_eigenvalue_info(
    run_or_frame: Any, window: int, factor: float, start_epoch: int, early_stop: Any
) -> _EigenvalueInfo:
    """The eigenvalue series, its RobustDARTS threshold and the marks of the collapse watch."""
    frame = _history(run_or_frame)
    eigen = frame[(frame["name"] == EIGENVALUE) & frame["value"].notna()]
    if eigen.empty:
        raise ConfigError(
            "this run has no Hessian eigenvalues; search with eigen_every > 0 to record them."
        )
    eigen = eigen.drop_duplicates("epoch", keep="last").sort_values("epoch")
    free = frame[(frame["name"] == PARAMETER_FREE) & frame["value"].notna()]
    free = free.drop_duplicates("epoch", keep="last").sort_values("epoch")
    # The store counts epochs from 0; the figure from 1, as the monitor and timeline do.
    epochs, values = eigen["epoch"].to_numpy() + 1, eigen["value"].to_numpy()
    local, threshold = collapse_threshold(values, window, factor)
    top = None
    if np.isfinite(threshold).any():
        top = float(np.nanmax(np.concatenate([values, threshold]))) * 1.15
    span = None
    if epochs.min() <= start_epoch:  # epoch indices below start_epoch: the first start_epoch
        span = (epochs.min() - 0.5, min(start_epoch, epochs.max()) + 0.5)
    stop = early_stop if early_stop is not None else _early_stop_event(run_or_frame)
    mark = None
    if stop:
        epoch = shown_epoch(stop.get("epoch"))
        label = f"early stop at epoch {epoch}"
        if stop.get("return_epoch") is not None:
            label += f" (returns epoch {shown_epoch(stop['return_epoch'])})"
        mark = (epoch, label)
    return _EigenvalueInfo(
        epochs=epochs,
        values=values,
        local_mean=local,
        threshold=threshold,
        stop_zone_top=top,
        no_stop_span=span,
        early_stop=mark,
        free_epochs=free["epoch"].to_numpy() + 1,
        free_counts=free["value"].to_numpy(),
    )


def plot_eigenvalues(
    run_or_frame: Any,
    window: int | None = None,
    factor: float | None = None,
    start_epoch: int | None = None,
    early_stop: Any = None,
) -> go.Figure:
    """The collapse watch: Hessian eigenvalue per epoch with its early-stop rule, and the
    parameter-free-op count of the derived cell.

    Args:
        run_or_frame: a :class:`nasbench.runs.Run` or its ``history`` frame (the
            ``hessian_eigenvalue`` and ``parameter_free_ops`` metrics of phase "val").
        window: RobustDARTS local-average window k; None takes the run's
            ``early_stop_window`` (a frame: 5).
        factor: growth factor that stops the search; None takes the run's
            ``early_stop_factor`` (a frame: 1.3).
        start_epoch: no stop in the first ``start_epoch`` epochs, shaded grey; None takes
            the run's ``early_stop_start`` (a frame: 10).
        early_stop: an ``early_stop`` event payload (dict with ``epoch``, ``return_epoch``,
            the store's epoch indices from 0) to mark; None reads it from a Run's events.

    Returns:
        A two-row figure: top, traces ``"eigenvalue"``, ``"local mean"``, ``"stop threshold"``
        and the shaded ``"stop zone"`` above it; bottom, ``"parameter-free ops"`` (when logged).

    Example:
        >>> plot_eigenvalues(run).show()  # doctest: +SKIP
    """
    window, factor, start_epoch = _rule_of(run_or_frame, window, factor, start_epoch)
    if early_stop is not None and not isinstance(early_stop, dict):
        raise ConfigError(
            f"early_stop must be an early_stop event payload (a dict) or None, got "
            f"{type(early_stop).__name__}."
        )
    info = _get_eigenvalue_info(run_or_frame, window, factor, start_epoch, early_stop)
    epochs = info.epochs
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        row_heights=[0.7, 0.3],
        vertical_spacing=0.08,
        subplot_titles=[
            "dominant eigenvalue of the validation Hessian (w.r.t. alpha)",
            "parameter-free ops in the derived cells",
        ],
    )
    fig.add_trace(
        go.Scatter(
            x=epochs,
            y=info.values,
            mode="lines+markers",
            name="eigenvalue",
            line={"color": "#0072B2"},
            hovertemplate="epoch %{x}<br>eigenvalue %{y:.4g}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=epochs,
            y=info.local_mean,
            mode="lines",
            name=f"local mean ({window})",
            line={"color": "#56B4E9", "dash": "dot"},
            hovertemplate="epoch %{x}<br>local mean %{y:.4g}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    if info.stop_zone_top is not None:
        finite = np.isfinite(info.threshold)
        fig.add_trace(
            go.Scatter(
                x=epochs[finite],
                y=info.threshold[finite],
                mode="lines",
                name=f"stop threshold ({factor}× earlier mean)",
                line={"color": HIGHLIGHT_COLOR, "dash": "dash"},
                hovertemplate="epoch %{x}<br>threshold %{y:.4g}<extra></extra>",
            ),
            row=1,
            col=1,
        )
        # Filling from the threshold up shades where the local mean would trigger a stop.
        fig.add_trace(
            go.Scatter(
                x=epochs[finite],
                y=np.full(int(finite.sum()), info.stop_zone_top),
                mode="lines",
                name="stop zone",
                line={"width": 0},
                fill="tonexty",
                fillcolor="rgba(228, 26, 28, 0.10)",
                hoverinfo="skip",
            ),
            row=1,
            col=1,
        )
    if info.no_stop_span is not None:
        fig.add_vrect(
            x0=info.no_stop_span[0],
            x1=info.no_stop_span[1],
            fillcolor="#999999",
            opacity=0.12,
            line_width=0,
            row=1,
            col=1,
            annotation_text=f"no early stop in the first {start_epoch} epochs",
            annotation_position="top left",
        )
    if info.early_stop:
        epoch, label = info.early_stop
        fig.add_vline(
            x=epoch,
            line={"color": HIGHLIGHT_COLOR, "width": 2},
            annotation_text=label,
            annotation_position="top right",
            row=1,
            col=1,
        )
    if len(info.free_epochs):
        fig.add_trace(
            go.Bar(
                x=info.free_epochs,
                y=info.free_counts,
                name="parameter-free ops",
                marker_color="#009E73",
                hovertemplate="epoch %{x}<br>%{y:.0f} parameter-free ops<extra></extra>",
            ),
            row=2,
            col=1,
        )
    fig.update_xaxes(title_text="epoch", row=2, col=1)
    # Both rows: they share one range, and each draws grid lines at its own ticks.
    fig.update_xaxes(**integer_ticks(np.concatenate([epochs, info.free_epochs])))
    fig.update_layout(
        title=f"Collapse watch (RobustDARTS: stop when the mean of {window} measurements "
        f"grows by more than {factor:g}×, after epoch {start_epoch})",
        height=560,
        hovermode="closest",
    )
    return fig


def _rule_of(
    run_or_frame: Any, window: Any, factor: Any, start_epoch: Any
) -> tuple[int, float, int]:
    """The collapse rule to draw: each argument given, else the run's own setting."""
    own_window, own_factor, own_start = collapse_rule(run_or_frame)
    window = own_window if window is None else window
    factor = own_factor if factor is None else factor
    start_epoch = own_start if start_epoch is None else start_epoch
    if isinstance(factor, bool) or not isinstance(factor, int | float) or not factor > 0:
        raise ConfigError(f"factor must be a number > 0, got {factor!r}.")
    return (
        whole_number("window", window, 1),
        float(factor),
        whole_number("start_epoch", start_epoch, 0),
    )


def _early_stop_event(run_or_frame: Any) -> dict[str, Any] | None:
    events = getattr(run_or_frame, "events", None)
    if not isinstance(events, pd.DataFrame) or events.empty or "kind" not in events.columns:
        return None
    stops = events[events["kind"] == "early_stop"]
    if stops.empty:
        return None
    payload = stops["payload"].iloc[-1]
    return dict(payload) if isinstance(payload, dict) else None
