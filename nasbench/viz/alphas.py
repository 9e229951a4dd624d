"""Plotly figures of architecture weights: trajectories, a heatmap at one step, an animation.

Each function takes a :class:`nasbench.runs.Run` or its tidy ``alphas`` frame (columns step,
epoch, cell_type, edge, op, weight, raw, kind) and returns a ``plotly.graph_objects.Figure``.
Op lines use :func:`nasbench.viz.palette.op_color`, the colours of the genotype drawings.

Example:
    >>> from nasbench.runs import load  # doctest: +SKIP
    >>> run = load("runs/darts-1")  # doctest: +SKIP
    >>> plot_alphas(run, cell_type="reduce").show()  # doctest: +SKIP
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from nasbench.errors import ConfigError, closest_name
from nasbench.runs.alpha_summary import weight_name
from nasbench.runs.summary import LIVE_STATUSES
from nasbench.viz.palette import op_line

ALPHA_COLUMNS = ("step", "edge", "op", "weight")
VALUES = ("weight", "raw")


def frame_of(
    run_or_frame: Any, name: str, columns: tuple[str, ...], empty_hint: str
) -> pd.DataFrame:
    """Return a run's frame ``name`` (or the frame passed in), checked for ``columns``.

    Args:
        run_or_frame: a :class:`nasbench.runs.Run` (anything with the attribute ``name``)
            or a DataFrame.
        name: the run attribute, e.g. ``"alphas"``.
        columns: columns the caller needs.
        empty_hint: the one-line message for an empty frame.

    Returns:
        The DataFrame.

    Example:
        >>> frame_of(pd.DataFrame({"step": [1]}), "history", ("step",), "empty")
           step
        0     1
    """
    frame = run_or_frame if isinstance(run_or_frame, pd.DataFrame) else None
    if frame is None:
        frame = getattr(run_or_frame, name, None)
    if not isinstance(frame, pd.DataFrame):
        raise ConfigError(
            f"expected a nasbench Run or its '{name}' DataFrame, got "
            f"{type(run_or_frame).__name__}; pass nasbench.runs.load(run_dir)."
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ConfigError(
            f"the frame lacks column(s) {', '.join(missing)}; pass run.{name} of a "
            "nasbench Run (nasbench.runs.load(run_dir))."
        )
    if frame.empty:
        raise ConfigError(empty_hint)
    return frame


def empty_hint(run_or_frame: Any, logs: str, not_yet: str, ended: str | None = None) -> str:
    """Why a run has no ``logs``: not yet, never (a discrete search), or it ended first
    (finished, stopped, failed, or killed: no process writes it).

    Args:
        run_or_frame: a :class:`nasbench.runs.Run` or a frame (a frame says nothing of
            its run: ``not_yet``).
        logs: what the figure draws, e.g. ``"alpha snapshots"``.
        not_yet: the message for a run still on its way to its first row.
        ended: the message for a run that ended without one (default: it ended before
            its first step).

    Returns:
        A one-line message for :func:`frame_of`'s ``empty_hint``.

    Example:
        >>> empty_hint(pd.DataFrame(), "alpha snapshots", "none yet.")
        'none yet.'
    """
    candidates = getattr(run_or_frame, "candidates", None)
    if isinstance(candidates, pd.DataFrame) and len(candidates):
        return (
            f"this run is a discrete search: it logs no {logs}, only its evaluated "
            "candidates; plot them with plot_best_so_far or plot_pareto."
        )
    status = getattr(run_or_frame, "status", None)
    if status in ("finished", "stopped", "failed"):
        return ended or f"this run logged no {logs}: it ended before its first step."
    writer_alive = getattr(run_or_frame, "writer_alive", None)
    if status in LIVE_STATUSES and callable(writer_alive) and writer_alive() is False:
        # Says it runs, but no process writes it: waiting would never end.
        return (
            f"this run logged no {logs}: its search process is gone (killed, or out of "
            f"memory) and logged none before it ended; resume it (nasbench resume "
            f"{run_or_frame.run_dir}) or start a new search."
        )
    return not_yet


def names_of(value: Any, what: str, example: str) -> tuple[str, ...]:
    """``value`` as a tuple of names: one text is one name (not its letters).

    Args:
        value: a name, or a list (any iterable) of names.
        what: the argument's name, for the message.
        example: a valid value, shown in the message.

    Returns:
        The names.

    Example:
        >>> names_of("loss", "metrics", "('loss', 'acc')")
        ('loss',)
    """
    if isinstance(value, str):
        return (value,)
    try:
        names = tuple(value)
    except TypeError:
        raise ConfigError(
            f"{what} must be a name or a list of names, e.g. {example}, got {value!r}."
        ) from None
    wrong = [name for name in names if not isinstance(name, str)]
    if wrong:
        raise ConfigError(f"{what} must be names (text), e.g. {example}, got {wrong[0]!r}.")
    return names


def select_alphas(
    run_or_frame: Any, cell_type: str | None, kind: str, value: str = "weight"
) -> pd.DataFrame:
    """The rows of one cell type and kind, one row per (step, edge, op), sorted by step.

    Args:
        run_or_frame: a Run or its ``alphas`` frame.
        cell_type: e.g. "normal"; None takes the first cell type logged.
        kind: "alpha", "beta", "tau", "gate", ...
        value: "weight" (normalised) or "raw".

    Returns:
        A frame with columns step, epoch (when present), edge, op (plain strings) and ``value``.

    Example:
        >>> select_alphas(run, "normal", "alpha").head()  # doctest: +SKIP
    """
    frame = frame_of(
        run_or_frame,
        "alphas",
        ALPHA_COLUMNS,
        empty_hint(
            run_or_frame,
            "alpha snapshots",
            "this run has no alpha snapshots yet; wait for the search to log some "
            "(or check that it is a differentiable search).",
            "this run logged no alpha snapshots: it ended before its first one, or it is "
            "no differentiable search.",
        ),
    )
    if value not in VALUES:
        raise ConfigError(f"value must be 'weight' or 'raw', got '{value}'.")
    if value not in frame.columns:
        raise ConfigError(f"the alphas frame has no '{value}' column; pass run.alphas.")
    for column, wanted in (("kind", kind), ("cell_type", cell_type)):
        if column not in frame.columns or wanted is None:
            continue
        present = [str(v) for v in pd.unique(frame[column])]
        if wanted not in present:
            raise ConfigError(
                f"this run has no alpha snapshots with {column} '{wanted}'; pass {column}= "
                f"one of {', '.join(present)}." + closest_name(str(wanted), present)
            )
        frame = frame[frame[column] == wanted]
    if cell_type is None and "cell_type" in frame.columns:
        frame = frame[frame["cell_type"] == frame["cell_type"].iloc[0]]
    keep = [c for c in ("step", "epoch", "edge", "op") if c in frame.columns] + [value]
    out = frame[keep].copy()
    for column in ("edge", "op"):
        out[column] = out[column].astype(str)
    # A step can hold two snapshots (a periodic one and the end-of-epoch one); keep the last.
    out = out.drop_duplicates(["step", "edge", "op"], keep="last")
    return out.sort_values("step", kind="stable").reset_index(drop=True)


def thin_steps(steps: np.ndarray, limit: int) -> np.ndarray:
    """Pick at most ``limit`` evenly spread values of sorted unique ``steps`` (first and last kept).

    Args:
        steps: sorted unique steps.
        limit: the most to keep (at least 2).

    Returns:
        The kept steps.

    Example:
        >>> thin_steps(np.arange(10), 4).tolist()
        [0, 3, 6, 9]
    """
    if len(steps) <= limit:
        return steps
    index = np.unique(np.round(np.linspace(0, len(steps) - 1, max(limit, 2))).astype(int))
    return steps[index]


# Recorded beside the alphas (a 1 x 1 matrix of the "global" cell), but a scalar schedule,
# not a weight over ops: GDAS's Gumbel-softmax temperature. Views of architecture
# weights leave these out; plot_alphas draws them as the schedule they are.
SCHEDULE_KINDS = ("tau",)


def value_format(values: Any, least: int = 2) -> str:
    """A d3 number format with decimals enough to tell ``values`` apart: alphas near 1/8
    that differ in the fourth decimal would all read "0.125" at three.

    Args:
        values: the numbers a figure shows (NaN ignored).
        least: the fewest decimals.

    Returns:
        e.g. ``".4f"``; at most 8 decimals.

    Example:
        >>> value_format([0.12449, 0.12539]), value_format([0.1, 0.9])
        ('.4f', '.2f')
    """
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    spread = float(finite.max() - finite.min()) if finite.size else 0.0
    if spread <= 0.0:
        return f".{least}f"
    # One decimal below the spread's first significant digit tells neighbours apart.
    decimals = math.floor(-math.log10(spread)) + 1
    return f".{min(8, max(least, decimals))}f"


def _label(cell_type: str | None, kind: str) -> str:
    # A one-cell space logs its cell as "cell": "the cell", not "the cell cell".
    cell = cell_type if cell_type and cell_type.endswith("cell") else f"{cell_type or ''} cell"
    return f"{kind} of the {cell.strip()}"


def whole_number(name: str, value: Any, low: int) -> int:
    """``value`` as an int when it is a whole number >= ``low``, else a one-line error.

    Example:
        >>> whole_number("cols", 3, 1)
        3
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ConfigError(f"{name} must be a whole number >= {low}, got {value!r}.")
    return int(value)


def _cell_of(run_or_frame: Any, cell_type: str | None, kind: str | None = None) -> str | None:
    if cell_type is not None:
        return cell_type
    frame = run_or_frame if isinstance(run_or_frame, pd.DataFrame) else None
    if frame is None:
        frame = getattr(run_or_frame, "alphas", None)
    if isinstance(frame, pd.DataFrame) and "cell_type" in frame.columns and not frame.empty:
        # Only cells that logged ``kind`` qualify: GDAS logs tau in the "global" cell alone.
        if kind is not None and "kind" in frame.columns and (frame["kind"] == kind).any():
            frame = frame[frame["kind"] == kind]
        cells = [str(c) for c in dict.fromkeys(frame["cell_type"])]
        return "normal" if "normal" in cells else cells[0]
    return None


class _AlphaInfo(NamedTuple):
    """The trajectories plot_alphas draws (its data step)."""

    cell_type: str | None
    curves: dict[tuple[str, str], pd.DataFrame]  # (edge, op) -> rows of the kept snapshots
    edges: list[str]  # in logged order, one small chart each
    ops: list[str]
    n_steps: int  # snapshots logged
    n_kept: int  # snapshots drawn after thinning
    y_range: list[float] | None  # shared by every chart


def _thinned(frame: pd.DataFrame, limit: int) -> tuple[pd.DataFrame, int, np.ndarray]:
    """Rows of at most ``limit`` evenly spread snapshots, the count logged, the steps kept."""
    steps = np.sort(frame["step"].unique())
    kept = thin_steps(steps, limit)
    if len(kept) < len(steps):
        frame = frame[frame["step"].isin(kept)]
    return frame, len(steps), kept


def _get_alpha_info(
    run_or_frame: Any,
    cell_type: str | None,
    kind: str,
    value: str,
    max_points: int,
    y_range: str,
) -> _AlphaInfo:
    """One cell's alphas, thinned to ``max_points`` snapshots and grouped per (edge, op)."""
    cell_type = _cell_of(run_or_frame, cell_type, kind)
    max_points = whole_number("max_points", max_points, 2)
    frame, n_steps, kept = _thinned(select_alphas(run_or_frame, cell_type, kind, value), max_points)
    return _AlphaInfo(
        cell_type=cell_type,
        curves=dict(tuple(frame.groupby(["edge", "op"], sort=False))),
        edges=list(dict.fromkeys(frame["edge"])),
        ops=list(dict.fromkeys(frame["op"])),
        n_steps=n_steps,
        n_kept=len(kept),
        y_range=_shared_range(frame[value].to_numpy(), value, y_range),
    )


def plot_alphas(
    run_or_frame: Any,
    cell_type: str | None = None,
    kind: str = "alpha",
    value: str = "weight",
    max_points: int = 500,
    cols: int = 4,
    y_range: str = "data",
) -> go.Figure:
    """Alpha trajectories: one small chart per edge, one line per op (its weight over steps).

    Args:
        run_or_frame: a :class:`nasbench.runs.Run` or its ``alphas`` frame.
        cell_type: which cell ("normal", "reduce", "down", ...); None takes "normal" when
            the run logged ``kind`` for it, else the first cell that logged ``kind``
            (``"global"`` for GDAS's tau).
        kind: which matrices: "alpha", "beta" (PC-DARTS), "tau" (GDAS), "gate" (ProxylessNAS).
        value: "weight" (the softmax; DiNTS's path probabilities for its ``"topology"``
            cell) or "raw".
        max_points: the most snapshots drawn per line; more are thinned evenly (the title says so).
        cols: charts per row.
        y_range: "data" zooms every chart to the range the values span (shared by all
            charts, so edges stay comparable); "full" shows weights on [0, 1].

    Returns:
        A figure with one subplot per edge (titled with the edge name, e.g. ``"0->2"``, input
        state 0 into state 2) and one trace per (edge, op), legend grouped by op.

    Example:
        >>> fig = plot_alphas(run, cell_type="normal")  # doctest: +SKIP
        >>> len(fig.data)  # edges x ops  # doctest: +SKIP
        112
    """
    info = _get_alpha_info(run_or_frame, cell_type, kind, value, max_points, y_range)
    edges, ops = info.edges, info.ops
    cols = min(whole_number("cols", cols, 1), len(edges))
    rows = math.ceil(len(edges) / cols)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=edges,
        shared_xaxes=True,
        shared_yaxes=value == "weight",
        vertical_spacing=min(0.3 / rows, 0.08),
        horizontal_spacing=0.03,
    )
    in_legend: set[str] = set()  # each op once, on the first edge that has it
    every = [part[value].to_numpy() for part in info.curves.values()]
    number = value_format(np.concatenate(every) if every else [], least=3)
    schedule = kind in SCHEDULE_KINDS
    hover_name = kind if schedule else value
    for index, edge in enumerate(edges):
        row, col = divmod(index, cols)
        for op in ops:
            part = info.curves.get((edge, op))
            if part is None:
                continue
            # Hover counts epochs from 1, as the monitor, timeline and report do.
            epoch = part["epoch"].to_numpy() + 1 if "epoch" in part else None
            fig.add_trace(
                go.Scatter(
                    x=part["step"].to_numpy(),
                    y=part[value].to_numpy(),
                    customdata=epoch,
                    mode="lines",
                    name=op,
                    legendgroup=op,
                    showlegend=op not in in_legend,
                    line={**op_line(op, ops), "width": 1.5},
                    meta=edge,
                    # A schedule is one scalar, logged as edge and op "tau": no edge to name.
                    hovertemplate=("" if schedule else f"{op}<br>edge {edge}<br>")
                    + "step %{x}"
                    + ("<br>epoch %{customdata}" if epoch is not None else "")
                    + f"<br>{hover_name} %{{y:{number}}}<extra></extra>",
                ),
                row=row + 1,
                col=col + 1,
            )
            in_legend.add(op)
    title = f"Architecture weights: {_label(info.cell_type, kind)} ({value}) per edge"
    if schedule:
        title = f"GDAS's Gumbel-softmax temperature {kind} over the search"
    if info.n_kept < info.n_steps:
        title += f" — {info.n_kept} of {info.n_steps} snapshots shown"
    fig.update_layout(
        title=title,
        height=max(300, 230 * rows),
        legend_title_text=None if schedule else "op",  # a schedule's one line is no op
        hovermode="closest",
        margin={"t": 90},
    )
    fig.update_yaxes(range=info.y_range)
    # DiNTS's topology weights are MONAI's path probabilities: no softmax ties them.
    axis = kind if schedule else {"weight": weight_name(info.cell_type, kind)}.get(value, value)
    for row in range(1, rows + 1):  # the left column names the quantity for its row
        fig.update_yaxes(title_text=axis, row=row, col=1)
    fig.update_xaxes(title_text="step", row=rows)
    return fig


def _shared_range(values: np.ndarray, value: str, y_range: str) -> list[float] | None:
    """One y range for every small chart.

    Early in a search the softmax weights all sit near 1/n_ops and move by
    thousandths; on a [0, 1] axis they look flat, so by default the axis spans the data.
    """
    if y_range not in ("data", "full"):
        raise ConfigError(f'y_range must be "data" or "full", got {y_range!r}.')
    if y_range == "full" and value == "weight":
        return [-0.02, 1.02]
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    pad = max((high - low) * 0.08, 1e-6)
    return [low - pad, high + pad]


def _matrix(frame: pd.DataFrame, step: int, value: str) -> pd.DataFrame:
    at = frame[frame["step"] == step]
    return at.pivot(index="edge", columns="op", values=value).reindex(
        index=list(dict.fromkeys(at["edge"])), columns=list(dict.fromkeys(at["op"]))
    )


def plot_alpha_heatmap(
    run_or_frame: Any,
    step: int | None = None,
    cell_type: str | None = None,
    kind: str = "alpha",
    value: str = "weight",
) -> go.Figure:
    """The alpha matrix of one snapshot as an edges x ops heatmap, values written in the cells.

    Args:
        run_or_frame: a :class:`nasbench.runs.Run` or its ``alphas`` frame.
        step: the latest snapshot at or before this step; None for the last snapshot.
        cell_type: which cell; None takes "normal" when it logged ``kind``, else the
            first cell that did.
        kind: "alpha", "beta", "gate", ...
        value: "weight" (softmax) or "raw".

    Returns:
        A figure with one ``Heatmap`` trace (y = edges, x = ops, z = the matrix), its
        colours spanning the matrix's range (near-uniform weights still differ).

    Example:
        >>> plot_alpha_heatmap(run, step=500, cell_type="reduce")  # doctest: +SKIP
    """
    cell_type = _cell_of(run_or_frame, cell_type, kind)
    frame = select_alphas(run_or_frame, cell_type, kind, value)
    if step is not None:
        step = whole_number("step", step, 0)
    chosen = frame["step"].max() if step is None else frame.loc[frame["step"] <= step, "step"].max()
    if pd.isna(chosen):
        raise ConfigError(
            f"no {kind} snapshot at or before step {step}; the first is at step "
            f"{int(frame['step'].min())}."
        )
    matrix = _matrix(frame, int(chosen), value)
    fig = go.Figure(_heatmap(matrix, value))
    fig.update_layout(
        title=f"{_label(cell_type, kind).capitalize()} ({value}) at step {int(chosen)}",
        xaxis_title="op",
        yaxis_title="edge",
        yaxis_autorange="reversed",
        height=max(300, 40 * len(matrix) + 160),
    )
    return fig


def _fitted_range(values: Any) -> tuple[float, float]:
    """The colour range of an alpha heatmap: the data's own, as the alpha explorer's.

    After a short search the weights sit near 1/n_ops; on a fixed 0..1 scale they all
    read one colour. A uniform matrix gets a hair-wide range, so it still has a scale;
    no wider floor (the alpha explorer's 1e-3), since weights after a few steps can span
    less than that and would then fill only part of the scale.
    """
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if not finite.size:
        return 0.0, 1.0
    low = float(finite.min())
    return low, max(float(finite.max()), low + 1e-9 * max(1.0, abs(low)))


def _heatmap(
    matrix: pd.DataFrame, value: str, zrange: tuple[float, float] | None = None
) -> go.Heatmap:
    """One alpha matrix as a heatmap; ``zrange`` (default: the matrix's own) sets its colours."""
    number = value_format(matrix.to_numpy())
    zrange = _fitted_range(matrix.to_numpy()) if zrange is None else zrange
    return go.Heatmap(
        z=matrix.to_numpy(),
        x=list(matrix.columns),
        y=list(matrix.index),
        zmin=zrange[0],
        zmax=zrange[1],
        colorscale="Viridis",
        texttemplate=f"%{{z:{number}}}",
        # The scale spans the data, not 0..1: the title says so, lest dark read as 0.
        colorbar={"title": f"{value}<br>(data range)"},
        hovertemplate=f"edge %{{y}}<br>op %{{x}}<br>{value} %{{z:{number}}}<extra></extra>",
    )


class _AlphaAnimationInfo(NamedTuple):
    """The matrices plot_alpha_animation shows (its data step)."""

    cell_type: str | None
    matrices: dict[int, pd.DataFrame]  # step -> edges x ops, one frame each, in step order
    n_steps: int  # snapshots logged; more than len(matrices) when thinned


def _get_alpha_animation_info(
    run_or_frame: Any, cell_type: str | None, kind: str, value: str, max_frames: int
) -> _AlphaAnimationInfo:
    """One cell's alpha matrix at each of at most ``max_frames`` evenly spread snapshots."""
    cell_type = _cell_of(run_or_frame, cell_type, kind)
    max_frames = whole_number("max_frames", max_frames, 2)
    frame, n_steps, kept = _thinned(select_alphas(run_or_frame, cell_type, kind, value), max_frames)
    return _AlphaAnimationInfo(
        cell_type=cell_type,
        matrices={int(s): _matrix(frame, int(s), value) for s in kept},
        n_steps=n_steps,
    )


def plot_alpha_animation(
    run_or_frame: Any,
    cell_type: str | None = None,
    kind: str = "alpha",
    value: str = "weight",
    max_frames: int = 60,
) -> go.Figure:
    """The alpha heatmap animated over steps, with a slider and a play button.

    Args:
        run_or_frame: a :class:`nasbench.runs.Run` or its ``alphas`` frame.
        cell_type: which cell; None takes "normal" when it logged ``kind``, else the
            first cell that did.
        kind: "alpha", "beta", "gate", ...
        value: "weight" (softmax) or "raw".
        max_frames: the most frames; more snapshots are thinned evenly (first and last kept)
            and the title says so, which keeps a long run's figure light.

    Returns:
        A figure whose ``frames`` are named by step, one per kept snapshot, all on one
        colour range: that of every kept snapshot's values.

    Example:
        >>> fig = plot_alpha_animation(run, max_frames=30)  # doctest: +SKIP
        >>> len(fig.frames) <= 30  # doctest: +SKIP
        True
    """
    info = _get_alpha_animation_info(run_or_frame, cell_type, kind, value, max_frames)
    matrices = info.matrices
    first = next(iter(matrices.values()))
    # One colour range for every frame, so a colour means one value all along the play.
    zrange = _fitted_range(np.concatenate([m.to_numpy().ravel() for m in matrices.values()]))
    frames = [go.Frame(data=[_heatmap(m, value, zrange)], name=str(s)) for s, m in matrices.items()]
    title = f"{_label(info.cell_type, kind).capitalize()} ({value}) over steps"
    if len(matrices) < info.n_steps:
        title += f" — {len(matrices)} of {info.n_steps} snapshots shown"
    play = {
        "frame": {"duration": 200, "redraw": True},
        "fromcurrent": True,
        "transition": {"duration": 0},
    }
    pause = {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}
    fig = go.Figure(data=[_heatmap(first, value, zrange)], frames=frames)
    fig.update_layout(
        title=title,
        xaxis_title="op",
        yaxis_title="edge",
        yaxis_autorange="reversed",
        height=max(360, 40 * len(first) + 240),
        updatemenus=[
            {
                "type": "buttons",
                "direction": "left",
                "x": 0.0,
                "y": -0.12,
                "xanchor": "left",
                "yanchor": "top",
                "showactive": False,
                "buttons": [
                    {"label": "Play", "method": "animate", "args": [None, play]},
                    {"label": "Pause", "method": "animate", "args": [[None], pause]},
                ],
            }
        ],
        sliders=[
            {
                "active": 0,
                "x": 0.15,
                "y": -0.12,
                "len": 0.85,
                "yanchor": "top",
                "currentvalue": {"prefix": "step "},
                "steps": [
                    {
                        "label": str(s),
                        "method": "animate",
                        "args": [
                            [str(s)],
                            {"frame": {"duration": 0, "redraw": True}, "mode": "immediate"},
                        ],
                    }
                    for s in matrices
                ],
            }
        ],
    )
    return fig
