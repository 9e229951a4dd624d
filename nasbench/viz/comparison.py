"""Best-so-far curves of several search strategies, mean and spread over seeds.

The field's fair-comparison habit (Li & Talwalkar, 2019; Lindauer & Hutter, 2020):
run every strategy on several seeds, plot the best score found so far against the
number of evaluations (or wall time), as a mean line and a +/- one standard deviation
band per strategy, with random search drawn dashed as the baseline to beat.

Input forms, all reduced to one long frame (``strategy``, ``seed``, ``evaluation``,
``elapsed``, ``value``, ``simulated``):

- a mapping ``{strategy: [run or candidates frame, ...]}`` (one item per seed; a run's
  seed is its ``run.config`` seed, a frame's its ``seed`` column, else its position);
- a list of :class:`nasbench.runs.Run`, or one (strategy and seed from ``run.config``);
- one long DataFrame with ``strategy``, ``seed`` and a score column, rows in
  evaluation order per (strategy, seed).

Runs are compared only when they were scored alike: runs whose configs differ in
evaluator, score metric, dataset, image size or space are refused (their scores are
not on one scale, so neither a mean over seeds nor one axis for all makes sense).
On a tabular benchmark (candidates whose ``info`` says ``simulated``) the wall-time
axis is the table's simulated training time, the cumulative ``cost.wall_s``, not the
milliseconds the lookups took.

Example:
    >>> fig = plot_best_so_far({"random": runs_r, "evolution": runs_e})  # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from nasbench.errors import ConfigError, NasbenchError, closest_name
from nasbench.viz.pareto import minimised, numeric_values

AXES = ("evaluations", "wall_time")
BASELINE = "random"
BASELINE_COLOR = "#555555"
# Okabe-Ito hues for the other strategies, in order of appearance.
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442")
SCORE_NAMES = ("score", "metrics.score", "val_acc", "metrics.val_acc")
TIME_NAMES = ("elapsed", "wall_time", "time_s")
WALL_GRID = 200
# What runs must share to be compared, read from each run's config (see _signature).
TIDY = ("strategy", "seed", "evaluation", "elapsed", "value", "simulated")
COMPARABLE = ("evaluator", "score metric", "dataset", "image size", "space")


def _score_column(frame: pd.DataFrame, metric: str | None) -> str:
    names = (metric, f"metrics.{metric}") if metric else SCORE_NAMES
    for name in names:
        if name in frame.columns:
            return name
    wanted, columns = metric or "score", [str(c) for c in frame.columns]
    raise ConfigError(
        f"the frame has no '{wanted}' column; pass metric= one of its columns "
        f"({', '.join(columns)}).{closest_name(wanted, columns)}"
    )


def _run_label(run: Any, key: str) -> Any:
    config = getattr(run, "config", {}) or {}
    value = config.get(key)
    if isinstance(value, Mapping):
        value = value.get("name")
    return value


def _score_name(config: Mapping[str, Any]) -> str | None:
    """The metric (or zero-cost proxy) a run's evaluator scores by, defaults filled in."""
    settings = config.get("evaluator_config")
    settings = settings if isinstance(settings, Mapping) else {}
    for key in ("metric", "proxy"):
        if settings.get(key) is not None:
            return str(settings[key])
    try:
        from nasbench.evaluation.registry import get_evaluator

        defaults = {
            f.name: f.default for f in fields(get_evaluator(config["evaluator"]).config_cls)
        }
    except (NasbenchError, KeyError, TypeError):
        return None
    value = defaults.get("metric", defaults.get("proxy"))
    return None if value is None or value is MISSING else str(value)


def _signature(item: Any) -> dict[str, Any] | None:
    """What a run must share with the runs it is compared with (None: not a stored run)."""
    from nasbench.data.registry import dataset_key

    config = getattr(item, "config", None)
    if not isinstance(config, Mapping) or not config.get("evaluator"):
        return None
    dataset = config.get("dataset")
    return dict(
        zip(
            COMPARABLE,
            (
                config.get("evaluator"),
                _score_name(config),
                dataset_key(_run_label(item, "dataset")),  # folder:scans = folder:/abs/scans
                dataset.get("size") if isinstance(dataset, Mapping) else None,
                _run_label(item, "space"),
            ),
            strict=True,
        )
    )


def _check_comparable(items: Sequence[Any]) -> None:
    """Refuse runs scored differently: they are neither seeds of one strategy nor rivals."""
    signed = [(item, sig) for item in items if (sig := _signature(item)) is not None]
    for field in COMPARABLE:
        values = {str(sig[field]) for _, sig in signed}
        if len(values) > 1:
            named = ", ".join(
                f"{Path(str(getattr(item, 'run_dir', '?'))).name}: {sig[field]}"
                for item, sig in signed
            )
            raise ConfigError(
                f"these runs differ in {field} ({named}), so their scores are not on one "
                f"scale; compare runs of one {field} (plot each {field} on its own)."
            )


def _simulated(frame: pd.DataFrame) -> bool:
    """Whether every candidate's cost is a table's simulated training time."""
    if "cost.wall_s" not in frame.columns or frame.empty:
        return False
    if "info.simulated" in frame.columns:
        return bool(frame["info.simulated"].fillna(False).astype(bool).all())
    if "info" in frame.columns:
        return all(isinstance(i, Mapping) and bool(i.get("simulated")) for i in frame["info"])
    return False


def _one(
    item: Any, strategy: Any, seed: Any, metric: str | None, position: int = 0
) -> pd.DataFrame:
    """Tidy rows of one run (a Run or a candidates frame) of one strategy and seed.

    ``seed`` None reads the run's config seed, else the frame's ``seed`` column, else
    takes ``position`` (the item's place in its list).
    """
    frame = item if isinstance(item, pd.DataFrame) else getattr(item, "candidates", None)
    if not isinstance(frame, pd.DataFrame):
        load_it = (
            f" ({str(item)!r}); load the run first: nasbench.runs.load(path)"
            if isinstance(item, str | Path)
            else ""
        )
        raise ConfigError(
            f"expected a nasbench Run or a candidates DataFrame, got {type(item).__name__}"
            f"{load_it}."
        )
    if strategy is None:
        strategy = _run_label(item, "strategy")
        if strategy is None and "strategy" in frame.columns and len(frame):
            strategy = frame["strategy"].iloc[0]
    if seed is None:
        seed = _run_label(item, "seed")
        if seed is None and "seed" in frame.columns and len(frame):
            seed = frame["seed"].iloc[0]
        if seed is None:
            seed = position
    if strategy is None:
        raise ConfigError(
            "cannot tell which strategy a run belongs to; pass {strategy: [runs]} instead."
        )
    if "status" in frame.columns:
        # Cache hits cost nothing: they are not evaluations.
        frame = frame[frame["status"] != "cached"]
    simulated = _simulated(frame)
    time_col = next((c for c in TIME_NAMES if c in frame.columns), None)
    if simulated:
        # A table lookup takes milliseconds; the training it stands for took the table's
        # recorded time, which a failed candidate spent too.
        elapsed = np.nancumsum(frame["cost.wall_s"].to_numpy(dtype=float))
    elif time_col:
        elapsed = frame[time_col].to_numpy(dtype=float)
    else:
        elapsed = np.full(len(frame), np.nan)
    failed = np.zeros(len(frame), dtype=bool)
    if "status" in frame.columns:
        failed = (frame["status"] == "failed").to_numpy()
    if failed.all():  # nothing scored (or no candidate): no curve
        return pd.DataFrame(columns=list(TIDY))
    # A failed (diverged) candidate spent an evaluation of the budget but has no score:
    # it keeps its place on the axis (value NaN), and the best so far carries across it.
    scored = frame[~failed]
    column = _score_column(scored, metric)
    value = np.full(len(frame), np.nan)
    value[~failed] = numeric_values(scored, column, metric or column)
    return pd.DataFrame(
        {
            "strategy": str(strategy),
            "seed": seed,
            "evaluation": np.arange(1, len(frame) + 1),
            "elapsed": elapsed,
            "value": value,
            "simulated": simulated,
        }
    )


def tidy_runs(runs_or_frames: Any, metric: str | None = None) -> pd.DataFrame:
    """Reduce any accepted input to one long frame of evaluations.

    Args:
        runs_or_frames: see the module docstring.
        metric: the score column (None: ``score``, else ``val_acc``).

    Returns:
        Columns ``strategy``, ``seed``, ``evaluation`` (1-based, cache hits left out; a
        failed candidate counts, with ``value`` NaN), ``elapsed`` (seconds, NaN when
        unknown; a table's simulated training time when ``simulated``), ``value`` and
        ``simulated``.

    Raises:
        ConfigError: runs of different evaluators, score metrics, datasets, image sizes
            or spaces, or two runs of one strategy with the same seed.

    Example:
        >>> tidy_runs({"random": [pd.DataFrame({"score": [0.1, 0.3]})]})["evaluation"].tolist()
        [1, 2]
    """
    parts: list[pd.DataFrame] = []
    if not isinstance(runs_or_frames, pd.DataFrame) and hasattr(runs_or_frames, "candidates"):
        runs_or_frames = [runs_or_frames]  # one Run: a list of one
    if isinstance(runs_or_frames, pd.DataFrame):
        frame = runs_or_frames
        missing = [c for c in ("strategy", "seed") if c not in frame.columns]
        if missing:
            raise ConfigError(
                f"a single frame needs columns strategy and seed (lacks {', '.join(missing)}); "
                "or pass {strategy: [frame per seed]}."
            )
        for (strategy, seed), rows in frame.groupby(["strategy", "seed"], sort=False):
            parts.append(_one(rows, strategy, seed, metric))
    elif isinstance(runs_or_frames, Mapping):
        groups = {
            strategy: [items] if not isinstance(items, Sequence) else list(items)
            for strategy, items in runs_or_frames.items()
        }
        _check_comparable([item for items in groups.values() for item in items])
        for strategy, items in groups.items():
            parts.extend(_one(item, strategy, None, metric, k) for k, item in enumerate(items))
    elif isinstance(runs_or_frames, Sequence) and not isinstance(runs_or_frames, str):
        _check_comparable(runs_or_frames)
        parts.extend(_one(item, None, None, metric, k) for k, item in enumerate(runs_or_frames))
    else:
        raise ConfigError(
            f"expected runs, candidate frames or {{strategy: [runs]}}, got "
            f"{type(runs_or_frames).__name__}."
        )
    parts = [p for p in parts if not p.empty]
    if not parts:
        raise ConfigError("no evaluated candidates to plot; run the searches first.")
    seen: dict[tuple[str, Any], int] = {}
    for part in parts:
        key = (part["strategy"].iloc[0], part["seed"].iloc[0])
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            # Grouped by seed, the two would read as one run twice as long.
            raise ConfigError(
                f"strategy {key[0]!r} has two runs with seed {key[1]}; a repeated seed is "
                "not another sample: pass runs of different seeds."
            )
    return pd.concat(parts, ignore_index=True)


def best_so_far_curves(
    tidy: pd.DataFrame, x: str = "evaluations", maximize: bool = True
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, int]]:
    """Per strategy: grid, mean and std over seeds of the best value so far, and the seed count.

    On the evaluations axis a seed that stopped early keeps its final best; on the
    wall-time axis a seed counts from its first evaluation on.

    Args:
        tidy: output of :func:`tidy_runs`.
        x: ``"evaluations"`` or ``"wall_time"``.
        maximize: False for losses (best = lowest).

    Returns:
        ``{strategy: (x_grid, mean, std, n_seeds)}``; std is the population std (ddof 0).
    """
    out = {}
    for strategy, rows in tidy.groupby("strategy", sort=False):
        seeds = [part for _, part in rows.groupby("seed", sort=False)]
        best = [
            # fmax/fmin skip a NaN score (a failed metric) instead of carrying it forward.
            (np.fmax if maximize else np.fmin).accumulate(p["value"].to_numpy(float))
            for p in seeds
        ]
        if x == "evaluations":
            n = max(len(b) for b in best)
            grid = np.arange(1, n + 1)
            table = np.stack([np.concatenate([b, np.full(n - len(b), b[-1])]) for b in best])
        else:
            times = [p["elapsed"].to_numpy(float) for p in seeds]
            # A candidate without a score (a failed one) moves no curve: its time may be missing.
            kept = [
                ~(np.isnan(t) & np.isnan(p["value"].to_numpy(float)))
                for t, p in zip(times, seeds, strict=True)
            ]
            times = [t[k] for t, k in zip(times, kept, strict=True)]
            best = [b[k] for b, k in zip(best, kept, strict=True)]
            if any(np.isnan(t).any() for t in times):
                raise ConfigError(
                    f"strategy {strategy!r} has candidates without a time; plot x='evaluations'."
                )
            top = max((float(t.max()) for t in times if len(t)), default=0.0)
            grid = np.linspace(0.0, top, WALL_GRID)
            table = np.full((len(seeds), len(grid)), np.nan)
            for k, (t, b) in enumerate(zip(times, best, strict=True)):
                if not len(t):
                    continue  # no scored candidate with a time: no value anywhere
                order = np.argsort(t, kind="stable")
                t, b = t[order], (np.fmax if maximize else np.fmin).accumulate(b[order])
                idx = np.searchsorted(t, grid, side="right") - 1
                table[k] = np.where(idx >= 0, b[np.clip(idx, 0, None)], np.nan)
        with warnings.catch_warnings():
            # Grid points before any seed's first evaluation are all-NaN columns: NaN is right.
            warnings.simplefilter("ignore", RuntimeWarning)
            mean, std = np.nanmean(table, axis=0), np.nanstd(table, axis=0)
        out[str(strategy)] = (grid, mean, std, len(seeds))
    return out


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha})"


class _BestSoFarCurve(NamedTuple):
    """One strategy's best-so-far statistics at the grid points where some seed has a value."""

    x: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    n_seeds: int


class _BestSoFarInfo(NamedTuple):
    """The curves plot_best_so_far draws (its data step)."""

    curves: dict[str, _BestSoFarCurve]  # strategy -> its curve, in input order
    simulated: bool  # the wall-time axis is a table's simulated training time


def _get_best_so_far_info(
    runs_or_frames: Any, x: str, metric: str | None, maximize: bool
) -> _BestSoFarInfo:
    """Per strategy, the mean and std over seeds of the best value so far (the data step)."""
    if x not in AXES:
        raise ConfigError(f"x must be one of {', '.join(AXES)}, got {x!r}.{closest_name(x, AXES)}")
    tidy = tidy_runs(runs_or_frames, metric)
    simulated = bool(tidy["simulated"].any())
    if x == "wall_time" and simulated and not tidy["simulated"].all():
        raise ConfigError(
            "some runs' time is a table's simulated training time and others' is measured; "
            "plot x='evaluations', or compare runs of one evaluator."
        )
    curves = {}
    for strategy, (grid, mean, std, n) in best_so_far_curves(tidy, x, maximize).items():
        keep = np.isfinite(mean)
        curves[strategy] = _BestSoFarCurve(grid[keep], mean[keep], std[keep], n)
    return _BestSoFarInfo(curves=curves, simulated=simulated)


def plot_best_so_far(
    runs_or_frames: Any,
    x: str = "evaluations",
    metric: str | None = None,
    maximize: bool | None = None,
    baseline: str = BASELINE,
) -> go.Figure:
    """Best score so far per strategy: mean line and +/- std band over seeds.

    Args:
        runs_or_frames: ``{strategy: [Run or candidates frame per seed]}``, a list of Runs,
            one Run, or one long frame with ``strategy`` and ``seed`` columns.
        x: ``"evaluations"`` (cache hits excluded, failed candidates counted) or
            ``"wall_time"`` (seconds: on a tabular benchmark the table's simulated
            training time, so titled).
        metric: the score column; None uses ``score`` (or ``val_acc``).
        maximize: False when lower is better; None decides from the metric's name
            (losses, HD95, NMSE, costs are minimised; see :mod:`nasbench.metric_names`).
        baseline: the strategy drawn dashed grey as the baseline (random search).

    Raises:
        ConfigError: runs scored differently (see :func:`tidy_runs`), or simulated and
            measured times on one wall-time axis.

    Returns:
        A figure with, per strategy, a band trace ``"<name> ± std"`` (filled, no legend
        entry) and a line trace ``"<name> (n seeds)"``; ``trace.meta`` holds the strategy.

    Example:
        >>> runs = {"random": runs_r, "bayesopt": runs_b}  # doctest: +SKIP
        >>> fig = plot_best_so_far(runs, x="wall_time")  # doctest: +SKIP
    """
    if maximize is None:
        maximize = not (metric and minimised(metric))
    info = _get_best_so_far_info(runs_or_frames, x, metric, maximize)
    curves = info.curves
    fig = go.Figure()
    others = iter(COLORS * (1 + len(curves) // len(COLORS)))
    colors = {s: BASELINE_COLOR if s == baseline else next(others) for s in curves}
    for strategy, curve in curves.items():
        fig.add_trace(
            go.Scatter(
                x=np.concatenate([curve.x, curve.x[::-1]]),
                y=np.concatenate([curve.mean + curve.std, (curve.mean - curve.std)[::-1]]),
                fill="toself",
                fillcolor=_rgba(colors[strategy], 0.18),
                line={"width": 0},
                hoverinfo="skip",
                showlegend=False,
                legendgroup=strategy,
                name=f"{strategy} ± std",
                meta=strategy,
            )
        )
    for strategy, curve in curves.items():
        n = curve.n_seeds
        fig.add_trace(
            go.Scatter(
                x=curve.x,
                y=curve.mean,
                customdata=curve.std,
                mode="lines",
                name=f"{strategy} ({n} seed{'s' if n != 1 else ''})",
                legendgroup=strategy,
                meta=strategy,
                line={
                    "color": colors[strategy],
                    "width": 2,
                    "dash": "dash" if strategy == baseline else "solid",
                },
                hovertemplate=f"{strategy}<br>%{{x:.4g}}<br>best %{{y:.4g}} ± %{{customdata:.3g}}"
                "<extra></extra>",
            )
        )
    label = "evaluations"
    if x == "wall_time":
        label = "simulated training time (s)" if info.simulated else "wall time (s)"
    seeds = max(c.n_seeds for c in curves.values())
    spread = f"mean ± std over up to {seeds} seeds" if seeds > 1 else "one seed"
    # Name the dashed line only where it is drawn: one run of another strategy has none.
    dashed = f"; dashed: {baseline} baseline" if baseline in curves else ""
    fig.update_layout(
        title=f"Best so far ({spread}{dashed})",
        xaxis_title=label,
        yaxis_title=f"best {metric or 'score'} so far",
        hovermode="x unified",
    )
    return fig
