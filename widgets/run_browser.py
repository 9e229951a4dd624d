"""Browse the runs in a folder: a table (status, dataset, strategy, best metric) and a comparison.

The table comes from ``nasbench.runs.list_runs``; selecting several runs and
the selection's validation curves are overlaid (one trace per run) in a ``LivePlot``
that is reused, not re-created; the newest run is selected until a person picks others.
"""

from __future__ import annotations

import html
import math
import os
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import traitlets

from nasbench.errors import ConfigError, NasbenchError
from nasbench.runs.launched import launched_summaries
from nasbench.runs.reader import Run
from nasbench.runs.schema import DB_NAME, RETRAIN_PHASES
from widgets._figures import LivePlot, close_widgets
from widgets._layout import wrapping_row
from widgets._svg import message_html
from widgets.launcher import dead_search_process
from widgets.monitor import thinned, unreadable_run_text

METRICS = ("val_acc", "val_auc", "val_loss", "loss")
# The table scrolls inside this height: a folder of 160 runs would otherwise push the run
# picker and Open thousands of pixels down, and leave the page scrolled there after Open.
TABLE_HEIGHT = "320px"
REFRESH_NOTE = "Refresh re-reads the folder: runs started elsewhere, runs deleted since."
# list_runs' columns, which unstarted_runs' rows take to join its frame.
UNSTARTED_COLUMNS = [
    "run_dir", "name", "status", "message", "dataset", "strategy", "created",
    "best_metric_name", "best_metric",
]  # fmt: skip


def runs_table(frame: pd.DataFrame) -> str:
    """Return the run summaries as an HTML table (newest first).

    Args:
        frame: what ``nasbench.runs.list_runs`` returns.

    Returns:
        HTML text.
    """
    if frame.empty:
        return "<i>no runs in this folder yet</i>"
    head = "".join(
        f"<th style='text-align:left;padding-right:1em'>{h}</th>"
        for h in ("run", "status", "dataset", "strategy", "best", "created")
    )
    rows = []
    for _, r in frame.iterrows():
        best = r["best_metric"]
        best_text = (
            "-" if best is None or math.isnan(best) else f"{r['best_metric_name']} {best:.3f}"
        )
        created = r["created"].strftime("%Y-%m-%d %H:%M") if not pd.isna(r["created"]) else "-"
        cells = (r["name"], _text(r["status"]), _text(r["dataset"]), _text(r["strategy"]),
                 best_text, created)  # fmt: skip
        if r["status"] in ("unreadable", "failed") and _text(r.get("message")) != "-":  # why
            cells = (*cells[:1], f"{cells[1]}: {r['message']}", *cells[2:])
        rows.append(
            "<tr>" + "".join(f"<td style='padding-right:1em'>{html.escape(str(c))}</td>"
                             for c in cells) + "</tr>"
        )  # fmt: skip
    return f"<table class='nasbench-runs'><tr>{head}</tr>{''.join(rows)}</table>"


def _text(value: Any) -> str:
    """A table cell: the value, or "-" for a missing one (None, NaN, empty)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return "-"
    return str(value)


def unstarted_runs(folder: str | os.PathLike) -> pd.DataFrame:
    """The launcher's run folders in ``folder`` whose search has not created its run store.

    The launcher writes the config and the logs before the search process checks them, so
    a search that fails its checks leaves such a folder: listed as failed, with the error
    line its stderr.log ends with, it is not taken for an empty folder. ``nasbench runs``
    lists the same rows (:func:`nasbench.runs.launched.launched_summaries`).

    Args:
        folder: a folder of run folders.

    Returns:
        One row per such folder, in ``list_runs``' columns: status "failed" with the
        reason when stderr.log holds the search's error or its process ended, else
        "starting" (its process may still be loading).

    Example:
        >>> unstarted_runs("runs")[["name", "status", "message"]]  # doctest: +SKIP
    """
    # The Monitor tells such a folder the same way (the launcher's look at the process).
    rows = launched_summaries(folder, dead_search_process)
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame(rows, columns=UNSTARTED_COLUMNS)
    frame["created"] = pd.to_datetime(frame["created"].astype("float64"), unit="s", utc=True)
    return frame


def _candidate_scores(
    candidates: pd.DataFrame, metric: str
) -> tuple[np.ndarray, np.ndarray] | None:
    """``metric`` of each scored candidate and its evaluation number, or None when no
    candidate has it.

    Numbers count evaluations as the monitor and ``plot_best_so_far`` do: a cache hit is
    none, a failed (diverged) candidate is one with no score, so the numbers match the
    store's and a failure leaves a gap.
    """
    column = f"metrics.{metric}"
    if column not in candidates.columns:
        return None
    rows = candidates
    if "status" in rows.columns:
        rows = rows[rows["status"] != "cached"]
    number = np.arange(1, len(rows) + 1)
    values = pd.to_numeric(rows[column], errors="coerce").to_numpy(dtype=float)
    if "status" in rows.columns:
        scored = (rows["status"] != "failed").to_numpy()
        number, values = number[scored], values[scored]
    return (number, values) if np.isfinite(values).any() else None


def _thinned(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A curve thinned as the monitor thins its live ones (at most ``MAX_LIVE_POINTS``),
    with its last point kept: where each run ended is what a comparison is read for."""
    index, _ = thinned(np.arange(len(x)), np.arange(len(x)))
    if len(x) and index[-1] != len(x) - 1:
        index = np.append(index, len(x) - 1)
    return x[index], y[index]


class RunBrowser(widgets.VBox):
    """The runs of a folder, with multi-select comparison of their validation curves.

    Args:
        folder: the folder holding run folders (a missing one shows as empty until a
            search creates it).

    Raises:
        ConfigError: ``folder`` is not a path.

    Attributes:
        frame: the latest ``list_runs`` table.
        opened: the run folder the person asked to open (a traitlet; the workbench
            shows it in the monitor and the explorers).

    Example:
        >>> browser = RunBrowser("runs")  # doctest: +SKIP
        >>> browser.select.value = tuple(browser.frame["run_dir"][:2])  # doctest: +SKIP
        >>> browser.compare()  # doctest: +SKIP
    """

    opened = traitlets.Unicode("")

    def __init__(self, folder: str | os.PathLike = "runs") -> None:
        if isinstance(folder, Run):  # path-like, but one run, not a folder of them
            raise ConfigError(
                f"RunBrowser shows a folder of run folders, not one Run; pass "
                f"RunBrowser('{folder.run_dir.parent}') (the folder that holds it)."
            )
        if not isinstance(folder, (str, os.PathLike)):
            raise ConfigError(
                f"RunBrowser shows a folder of run folders, got {folder!r}; "
                'pass e.g. RunBrowser("runs").'
            )
        self.folder = Path(folder)
        self.frame = pd.DataFrame()
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh",
                                             tooltip=REFRESH_NOTE)  # fmt: skip
        self.refresh_button.add_class("nasbench-runs-refresh")
        self.table = widgets.HTML(layout=widgets.Layout(max_height=TABLE_HEIGHT, overflow="auto"))
        self.table.add_class("nasbench-run-table")
        self.select = widgets.SelectMultiple(
            options=[],
            description="runs",
            layout=widgets.Layout(width="100%", max_width="640px", height="140px"),
        )
        self.select.add_class("nasbench-run-select")
        self.metric = widgets.Dropdown(options=METRICS, value="val_acc", description="metric")
        self.compare_button = widgets.Button(description="Compare", icon="line-chart")
        self.compare_button.add_class("nasbench-runs-compare")
        self.open_button = widgets.Button(description="Open", icon="folder-open")
        self.open_button.add_class("nasbench-runs-open")
        self.message = widgets.HTML()
        self.plot = LivePlot(
            go.Figure(layout={"title": "validation curves", "xaxis_title": "step", "height": 360}),
            classes=("nasbench-compare-figure",),
        )
        self.refresh_button.on_click(lambda _: self.refresh())
        self.compare_button.on_click(lambda _: self.compare())
        self.open_button.on_click(lambda _: self.open_selected())
        self.metric.observe(lambda _: self.compare(), "value")
        self.select.observe(lambda _: self.compare(), "value")
        # Whether the selection is a person's (kept over refreshes) or refresh()'s own pick
        # of the newest run (which follows the newest run).
        self._chosen = False
        self._refreshing = False
        # What compare() draws from, per selected run folder: (run_version stamp, the
        # search's history rows, candidates). Picking runs one at a time, or another
        # metric, then reads only the runs that are new or changed, not every one again.
        self._curves: dict[str, tuple[tuple[Any, ...], pd.DataFrame, pd.DataFrame]] = {}
        self.select.observe(self._on_pick, "value")
        folder_line = (f"<b>{html.escape(str(folder))}</b> "
                       f"<small style='color:var(--jp-ui-font-color2, #666)'>{REFRESH_NOTE}"
                       "</small>")  # fmt: skip
        # The picker and its buttons above the table, which scrolls on its own.
        super().__init__(
            children=[
                wrapping_row([self.refresh_button, widgets.HTML(folder_line)]),
                self.select,
                wrapping_row([self.metric, self.compare_button, self.open_button]),
                self.message,
                self.table,
                self.plot,
            ]
        )
        self.add_class("nasbench-run-browser")
        self.refresh()

    @property
    def figure(self) -> go.Figure:
        """The comparison figure (edit it, then ``plot.push()``)."""
        return self.plot.figure

    def close(self) -> None:
        """Close every widget of the browser, the comparison figure's channel too, and drop
        the runs' rows kept for comparing (idempotent).

        Example:
            >>> RunBrowser("runs").close()  # doctest: +SKIP
        """
        if self.comm is None:
            return  # closed already (ipywidgets' __del__ calls close again)
        self._curves = {}
        close_widgets(self)

    def refresh(self) -> pd.DataFrame:
        """Re-read the folder and redraw the table and the run list."""
        from nasbench.runs import list_runs

        one_run = (self.folder / DB_NAME).is_file()  # list_runs refuses it; said below
        if self.folder.is_dir() and not one_run:
            frame = list_runs(self.folder)
            unstarted = unstarted_runs(self.folder)
            if not unstarted.empty:  # a search that failed before its store: say why
                frame = pd.concat([frame, unstarted]) if len(frame) else unstarted
                frame = frame.sort_values("created", ascending=False, kind="stable")
                frame = frame.reset_index(drop=True)
            self.frame = frame
        else:
            self.frame = pd.DataFrame(columns=["run_dir", "name", "status"])
        self.table.value = runs_table(self.frame)
        folder = html.escape(str(self.folder))
        if self.folder.exists() and not self.folder.is_dir():
            self.table.value = (f"<i>{folder} is a file, not a folder of runs; open the folder "
                                "that holds the run folders.</i>")  # fmt: skip
        elif one_run:
            parent = html.escape(str(self.folder.parent))
            self.table.value = (f"<i>{folder} is one run, not a folder of runs; open the "
                                f"folder that holds it ({parent}).</i>")  # fmt: skip
        elif not self.folder.exists():
            self.table.value = f"<i>no runs yet: {folder} does not exist (a search creates it).</i>"
        selected = set(self.select.value)
        options = [(f"{r['name']} · {r['status']}", r["run_dir"]) for _, r in self.frame.iterrows()]
        self._refreshing = True
        try:
            self.select.options = options
            kept = tuple(v for _, v in options if v in selected)
            if not (self._chosen and kept):
                # Nothing chosen by a person (or all of it gone): the newest run, so the
                # figure is never empty axes and follows a search that just ended.
                self._chosen = False
                kept = tuple(v for _, v in options[:1])
            self.select.value = kept
        finally:
            self._refreshing = False
        return self.frame

    def _on_pick(self, change: dict) -> None:
        if not self._refreshing:
            self._chosen = bool(change["new"])

    def run_dirs(self) -> list[str]:
        """Every listed run folder, newest first."""
        return [str(d) for d in self.frame.get("run_dir", [])]

    def open_selected(self) -> None:
        """Ask the workbench to show the first selected run."""
        if self.select.value:
            # Opening it makes it the person's pick, even where it was refresh()'s: opening
            # the Runs tab refreshes it, which must not move the selection to a newer run.
            self._chosen = True
            # A trait notifies only on change: opening the run opened last (after another
            # was shown) must still show it, so clear first.
            self.opened = ""
            self.opened = self.select.value[0]

    def compare(self) -> None:
        """Overlay the chosen metric of every selected run (one trace per run)."""
        traces, missing, axes = [], [], set()
        metric = self.metric.value
        self._curves = {d: c for d, c in self._curves.items() if d in self.select.value}
        for run_dir in self.select.value:
            name = Path(run_dir).name
            try:
                history, candidates = self._rows(run_dir)
            except NasbenchError as err:
                why = unreadable_run_text(run_dir, err, f"{metric} curve")
                missing.append(f"{name}: {why.rstrip('.')}")  # joined with "; " below
                continue
            part = history[history["name"] == metric]
            if not part.empty:
                axes.add("step")
                x, y = _thinned(part["step"].to_numpy(), part["value"].to_numpy())
                traces.append(go.Scatter(x=x, y=y, mode="lines+markers", name=name))
                continue
            # A discrete search logs no curve: its metrics are per evaluated candidate.
            scores = _candidate_scores(candidates, metric)
            if scores is None:
                missing.append(f"{name}: no {metric}")
                continue
            axes.add("evaluation")
            x, y = _thinned(*scores)
            traces.append(go.Scatter(x=x, y=y, mode="markers", name=f"{name} (per candidate)"))
        self.figure.data = ()
        self.figure.add_traces(traces)
        self.figure.layout.title = f"{metric} of the selected runs"
        self.figure.layout.yaxis.title = metric
        mixed = "step (supernet runs) / evaluation (discrete runs)"
        self.figure.layout.xaxis.title = mixed if len(axes) > 1 else next(iter(axes), "step")
        self.plot.push()
        self.message.value = message_html("; ".join(missing), "warning") if missing else ""

    def _rows(self, run_dir: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """A run's search history (step, name, value) and candidates, read again only when
        the run changed since (a running search keeps writing)."""
        from nasbench.runs import load
        from nasbench.runs.reader import run_version

        stamp = run_version(run_dir)
        kept = self._curves.get(run_dir)
        if kept is None or kept[0] != stamp:
            with load(run_dir) as run:
                history = run.history
                # The search's curves: a retrain's rows count its own epochs, not search steps.
                history = history.loc[~history["phase"].isin(RETRAIN_PHASES),
                                      ["step", "name", "value"]]  # fmt: skip
                kept = (stamp, history, run.candidates)
            self._curves[run_dir] = kept
        return kept[1], kept[2]
