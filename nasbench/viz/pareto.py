"""The Pareto front of a search: every candidate, and the non-dominated ones joined.

Multi-objective NAS trades the task metric against cost (parameters, MACs,
latency). :func:`plot_pareto` scatters every evaluated candidate of a run on two
objectives and draws the front as a staircase; hovering a point shows its genotype.

Example:
    >>> plot_pareto(load("runs/evo-1"), x="params", y="val_acc").show()  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from nasbench.errors import ConfigError, closest_name
from nasbench.metric_names import better
from nasbench.viz.alphas import empty_hint, frame_of

FRONT_COLOR = "#D55E00"
POINT_COLOR = "#0072B2"
# Words of metric and cost names, as axis titles read them.
_SPLITS = {"val": "validation", "train": "training", "test": "test"}
_WORDS = {
    "acc": "accuracy", "params": "parameters", "macs": "MACs", "auc": "AUC", "ap": "AP",
    "froc": "FROC", "hd": "HD", "nmse": "NMSE", "psnr": "PSNR", "ssim": "SSIM", "iou": "IoU",
    "wall": "wall time", "dist": "distance",
}  # fmt: skip
_UNITS = {"ms": "(ms)", "s": "(s)", "mb": "(MB)", "mm": "(mm)"}


def objective_label(name: str) -> str:
    """A readable axis title, with its unit, for a metric or cost name.

    Args:
        name: a metric or cost name as the candidates frame names it (``cost.``/``metrics.``
            prefixes are dropped).

    Returns:
        The title, e.g. ``"latency (ms)"``; unknown words are kept as they are.

    Example:
        >>> [objective_label(n) for n in ("params", "macs", "latency_ms", "val_acc")]
        ['parameters', 'MACs', 'latency (ms)', 'validation accuracy']
    """
    words = str(name).split(".", 1)[-1].split("_")
    if len(words) > 1 and words[0] in _SPLITS:
        words[0] = _SPLITS[words[0]]
    if len(words) > 1 and words[-1] in _UNITS:
        words[-1] = _UNITS[words[-1]]
    out = []
    for word in words:
        stem = word.rstrip("0123456789")  # hd95 reads as HD95
        out.append(_WORDS[stem] + word[len(stem) :] if stem in _WORDS else word)
    return " ".join(out)


def hover_format(values: np.ndarray) -> str:
    """The d3 format of one objective on hover: whole counts in full with thousands
    separators (343,538 parameters, not 3.435e+5), other values to 4 significant digits.

    Args:
        values: the objective's values (NaN ignored).

    Returns:
        ``","`` or ``",.4~r"``.

    Example:
        >>> hover_format(np.array([343538.0, 1e6])), hover_format(np.array([0.81234]))
        (',', ',.4~r')
    """
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    return "," if finite.size and np.all(finite == np.round(finite)) else ",.4~r"


def resolve_column(frame: pd.DataFrame, name: str) -> str:
    """The column holding ``name``: itself, ``metrics.<name>`` or ``cost.<name>``.

    Args:
        frame: a candidates frame (``nasbench.runs.Run.candidates``) or any frame.
        name: a metric or cost name.

    Returns:
        The column name.

    Raises:
        ConfigError: no such column (with a closest-name hint).

    Example:
        >>> resolve_column(pd.DataFrame({"cost.params": [1]}), "params")
        'cost.params'
    """
    for column in (name, f"metrics.{name}", f"cost.{name}"):
        if column in frame.columns:
            return column
    names = sorted({str(c).split(".", 1)[-1] for c in frame.columns})
    raise ConfigError(
        f"the frame has no column '{name}'; it has {', '.join(names)}.{closest_name(name, names)}"
    )


def numeric_values(frame: pd.DataFrame, column: str, name: str) -> np.ndarray:
    """The values of ``column`` as floats, or a one-line error when it holds no numbers.

    Args:
        frame: a candidates frame.
        column: the column to read (from :func:`resolve_column`).
        name: the name the caller asked for, for the message.

    Returns:
        A float array (NaN where a value is missing).

    Raises:
        ConfigError: the column holds text (e.g. ``status``, ``genotype_json``).

    Example:
        >>> numeric_values(pd.DataFrame({"a": [1, None]}), "a", "a").tolist()
        [1.0, nan]
    """
    try:
        return frame[column].to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise ConfigError(
            f"'{name}' is not a number per candidate; pick a metric or a cost "
            "(e.g. val_acc, params)."
        ) from None


def minimised(name: str) -> bool:
    """Whether a smaller value of objective ``name`` is better (costs, losses, distances).

    A name whose words do not say (see :mod:`nasbench.metric_names`) is maximised.

    Example:
        >>> minimised("params"), minimised("train_loss"), minimised("val_acc")
        (True, True, False)
    """
    return better(name) == "min"


def pareto_mask(x: np.ndarray, y: np.ndarray, minimize_x: bool, maximize_y: bool) -> np.ndarray:
    """Which points are non-dominated (no other point is at least as good on both and better
    on one).

    Args:
        x: first objective values.
        y: second objective values.
        minimize_x: True when a smaller x is better.
        maximize_y: True when a larger y is better.

    Returns:
        A boolean mask, True on the front.

    Example:
        >>> pareto_mask(np.array([1, 2, 3]), np.array([0.5, 0.4, 0.9]), True, True).tolist()
        [True, False, True]
    """
    a = np.asarray(x, dtype=float) * (1 if minimize_x else -1)
    b = np.asarray(y, dtype=float) * (-1 if maximize_y else 1)  # both now minimised
    better_eq = (a[None, :] <= a[:, None]) & (b[None, :] <= b[:, None])
    strictly = (a[None, :] < a[:, None]) | (b[None, :] < b[:, None])
    return ~(better_eq & strictly).any(axis=1)


def genotype_text(row: pd.Series) -> str:
    """Hover text of a candidate row: the genotype's own text form, else its JSON."""
    g = row.get("genotype")
    for method in ("to_string", "to_darts_text", "to_json"):
        if g is not None and hasattr(g, method):
            return str(getattr(g, method)())
    return str(row.get("genotype_json", row.get("key", "")))


def _budgets(frame: pd.DataFrame) -> np.ndarray | None:
    """Each row's training budget in epochs, or None where the frame records none.

    A successive-halving or Hyperband race records the rung's budget in ``info``
    (``HalvingReport.to_frame`` as a column); other evaluators report the epochs they
    trained as the cost ``epochs``.
    """
    for column in ("budget", "info.budget"):
        if column in frame.columns:
            return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    if "info" in frame.columns:
        found = [i.get("budget") if isinstance(i, Mapping) else None for i in frame["info"]]
        if any(b is not None for b in found):
            return pd.to_numeric(pd.Series(found, dtype=object), errors="coerce").to_numpy(float)
    for column in ("cost.epochs", "epochs"):
        if column in frame.columns:
            return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    return None


def _evaluated_architectures(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray | None]:
    """One row per architecture, at its largest budget, and those rows' budgets.

    A race re-evaluates each rung's survivors at a larger budget: those rows are one
    architecture, and its lower-budget scores are superseded. A cache hit repeats a row
    already there, and a failed evaluation has no score: neither is a point.
    """
    if "status" in frame.columns:
        frame = frame[frame["status"] != "cached"]
    key = next((c for c in ("genotype_json", "candidate_id") if c in frame.columns), None)
    budgets = _budgets(frame)
    if key is not None and len(frame):
        rows = np.arange(len(frame))
        # A row without a genotype or id is an architecture of its own.
        keys = np.where(frame[key].isna(), rows.astype(str), "=" + frame[key].astype(str))
        order = pd.DataFrame(
            {
                "key": keys,
                "budget": budgets if budgets is not None else np.zeros(len(frame)),
                "row": rows,
            }
        )
        # Ties at the largest budget: the latest evaluation stands.
        order = order.sort_values(["budget", "row"], kind="stable", na_position="first")
        kept = np.sort(order.drop_duplicates("key", keep="last")["row"].to_numpy())
        frame = frame.iloc[kept]
        budgets = budgets[kept] if budgets is not None else None
    if "status" in frame.columns:
        scored = (frame["status"] != "failed").to_numpy()
        frame = frame[scored]
        budgets = budgets[scored] if budgets is not None else None
    return frame, budgets


class _ParetoInfo(NamedTuple):
    """The points plot_pareto draws (its data step)."""

    xs: np.ndarray  # architectures (at their largest budget) with both objectives finite
    ys: np.ndarray
    texts: list[str]  # hover text (genotype, and budget where budgets differ) per point
    front: np.ndarray  # indices of the non-dominated candidates, sorted by x
    minimize_x: bool
    maximize_y: bool


def _empty_hint(run_or_frame: Any) -> str:
    """Why there is nothing to plot: a frame given empty (a filter such as "params <= limit"
    that kept no row), or a run that has evaluated nothing yet or ended without."""
    if isinstance(run_or_frame, pd.DataFrame):
        return (
            "the candidates given have no rows (did a filter keep none?); pass a frame "
            "with rows, or the run itself."
        )
    return empty_hint(
        run_or_frame,
        "evaluated candidates",
        "this run has no evaluated candidates yet.",
        "this run ended without evaluating a candidate (a differentiable search evaluates "
        "none: plot_alphas draws it).",
    )


def _get_pareto_info(
    run_or_frame: Any, x: str, y: str, minimize_x: bool | None, maximize_y: bool | None
) -> _ParetoInfo:
    """Both objectives of every architecture that has them (each at its largest budget;
    cache hits and failed evaluations left out), and which are on the front."""
    frame = frame_of(run_or_frame, "candidates", (), _empty_hint(run_or_frame))
    xcol, ycol = resolve_column(frame, x), resolve_column(frame, y)
    minimize_x = minimised(x) if minimize_x is None else minimize_x
    maximize_y = not minimised(y) if maximize_y is None else maximize_y
    frame, budgets = _evaluated_architectures(frame)
    both = np.isfinite(numeric_values(frame, xcol, x)) & np.isfinite(numeric_values(frame, ycol, y))
    rows = frame[both]
    if rows.empty:
        raise ConfigError(f"no candidate has both '{x}' and '{y}' recorded; pick other objectives.")
    xs, ys = rows[xcol].to_numpy(dtype=float), rows[ycol].to_numpy(dtype=float)
    front = np.flatnonzero(pareto_mask(xs, ys, minimize_x, maximize_y))
    texts = [genotype_text(row) for _, row in rows.iterrows()]
    if budgets is not None and len(np.unique(budgets[np.isfinite(budgets)])) > 1:
        # Hyperband's brackets end at different budgets: a point says which it was scored at.
        texts = [f"{t}<br>budget {b:g} epochs" for t, b in zip(texts, budgets[both], strict=True)]
    return _ParetoInfo(
        xs=xs,
        ys=ys,
        texts=texts,
        front=front[np.argsort(xs[front], kind="stable")],
        minimize_x=minimize_x,
        maximize_y=maximize_y,
    )


def plot_pareto(
    run_or_frame: Any,
    x: str = "params",
    y: str = "val_acc",
    minimize_x: bool | None = None,
    maximize_y: bool | None = None,
) -> go.Figure:
    """Every architecture on two objectives, with the Pareto front drawn as a staircase.

    An architecture evaluated more than once (a successive-halving or Hyperband race
    re-evaluates each rung's survivors at a larger budget) is one point, its evaluation at
    the largest budget (``info["budget"]``, else the cost ``epochs``); cache hits and failed
    evaluations are no points.

    Args:
        run_or_frame: a :class:`nasbench.runs.Run` or its ``candidates`` frame (any frame
            with the two columns; ``genotype``/``genotype_json`` give the hover text).
        x: the horizontal objective (``params``, ``macs``, ``latency_ms``, a metric...).
        y: the vertical objective.
        minimize_x: None: True where the name says smaller is better (costs, losses,
            HD95, NMSE; :func:`minimised`), else False.
        maximize_y: None: the opposite of :func:`minimised` for ``y``.

    Returns:
        A figure with traces ``"candidates"`` (every point; hover: genotype, x, y, and
        the budget where budgets differ) and
        ``"Pareto front"`` (the non-dominated points, sorted by x); axes titled by
        :func:`objective_label` (``"parameters"``, ``"validation accuracy"``).

    Example:
        >>> fig = plot_pareto(run, x="latency_ms", y="val_acc")  # doctest: +SKIP
    """
    info = _get_pareto_info(run_or_frame, x, y, minimize_x, maximize_y)
    xs, ys, front = info.xs, info.ys, info.front
    xlabel, ylabel = objective_label(x), objective_label(y)
    hover = (
        f"%{{text}}<br>{xlabel} %{{x:{hover_format(xs)}}}"
        f"<br>{ylabel} %{{y:{hover_format(ys)}}}<extra></extra>"
    )
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="markers",
            name="candidates",
            text=info.texts,
            marker={"color": POINT_COLOR, "opacity": 0.55, "size": 7},
            hovertemplate=hover,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=xs[front],
            y=ys[front],
            mode="lines+markers",
            name="Pareto front",
            text=[info.texts[i] for i in front],
            # The staircase bounds what is reachable: from each front point the next better
            # y is only reached at the next x, so it steps across first when x is minimised.
            line={"color": FRONT_COLOR, "shape": "hv" if info.minimize_x else "vh", "width": 2},
            marker={"color": FRONT_COLOR, "size": 9, "symbol": "diamond"},
            hovertemplate=hover,
        )
    )
    fig.update_layout(
        title=f"Pareto front: {y} ({'max' if info.maximize_y else 'min'}) vs {x} "
        f"({'min' if info.minimize_x else 'max'}), {len(front)} of {len(xs)} architectures",
        xaxis_title=xlabel,
        yaxis_title=ylabel,
        hovermode="closest",
    )
    return fig
