"""Watch a search live: progress and ETA, alpha trajectories, curves, genotype, warnings;
for a joint architecture + hyper-parameter search (AutoHAS), its HP policy as it moves.

The monitor reads the run store only (``nasbench.runs.load`` + ``Run.refresh``,
which returns just the rows written since the last poll). In Jupyter it polls
about once a second from an asyncio task on the kernel's loop, so the kernel
stays free; elsewhere (tests, scripts) call :meth:`RunMonitor.poll_once`.
Figures are ``LivePlot`` views created once; a poll edits their figures and pushes
the change, which reaches the browser as the new points only while curves just grow
(see ``widgets._figures``), so the browser updates, not re-renders.
"""

from __future__ import annotations

import html
import os
import re
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import traitlets
from plotly.subplots import make_subplots

from nasbench.errors import ConfigError, NasbenchError
from nasbench.runs import launched
from nasbench.runs.alpha_summary import (
    collapse_warnings,
    edge_targets,
    is_path_probability,
    undecided_path_probability,
)
from nasbench.runs.launched import last_error, stderr_tail
from nasbench.runs.schema import RETRAIN_PHASES
from nasbench.runs.store import announced_writer
from nasbench.runs.summary import END_REASONS, KILLED, RETRAINING, retraining, shown_status
from widgets._figures import LivePlot, close_widgets
from widgets._layout import wrapping_row
from widgets._svg import message_html, show_drawing
from widgets._tasks import Poller
from widgets.alpha_explorer import relabel_scale, weight_quantity
from widgets.launcher import dead_search_process

# "killed": the store says running but no process writes it (nasbench.runs.summary.KILLED);
# "deleted": the run's store was deleted while shown (a new one there is opened afresh).
DELETED = "deleted"
TERMINAL = ("finished", "stopped", "failed", KILLED, DELETED)
DB_NAME = "run.sqlite"
# A run that is over is still watched for a resume started elsewhere (another tab, the
# command line): every IDLE_POLL_S seconds two stat() calls (~10 us) on its store files
# and a probe of its announcement lock (announced_writer, ~60 us);
# it is read again only when they changed.
IDLE_POLL_S = 2.0
STOP_PENDING = " · <i>stop requested (sent once the search has created its run store)</i>"
LOSS_NAMES = ("loss", "arch_loss", "val_loss", "td_loss")  # td_loss: a Q-learning search
AGENT_METRIC = re.compile(r"^agent(\d+)_(reward|dist_vox)$")  # a localisation search's agents
# Scores on a 0-1 scale, so they share one axis: classification, segmentation,
# reconstruction (SSIM, NMSE; PSNR's decibels would flatten them) and detection.
METRIC_SUFFIXES = ("acc", "auc", "dice", "f1", "iou", "ssim", "nmse", "map", "ap50", "froc")
METRIC_NAMES = ("reward",)  # a localisation search's mean reward (agents' own: agent_plot)


def unstarted_reason(run_dir: str | os.PathLike) -> str | None:
    """Why a launcher's run folder has no run store yet, as the Runs tab (and ``nasbench
    runs``) tells it: :func:`nasbench.runs.launched.unstarted_reason`, with the launcher's
    look at its search process (:func:`widgets.launcher.dead_search_process`).

    Args:
        run_dir: the run folder.

    Returns:
        None when the folder holds a run store or no search config, "" while its search
        may still be starting (its process runs, or the folder records none), else the
        search's error, or that its process ended.

    Example:
        >>> unstarted_reason("runs/darts-1")  # doctest: +SKIP
        ''
    """
    return launched.unstarted_reason(run_dir, dead_search_process)


def unreadable_run_text(run_dir: str | os.PathLike, err: Exception, has_none: str) -> str:
    """A person's one line for a run folder a view cannot read, in the workbench's words:
    a folder that is gone was moved or deleted, and a launch that failed before its run
    store has the search's own reason (not the reader's "not a run folder").

    Args:
        run_dir: the run folder asked for.
        err: what reading it raised (said as it is for any other problem).
        has_none: what the view shows that such a run has none of ("alpha snapshots").

    Returns:
        The line.

    Example:
        >>> unreadable_run_text("/no/such/run", OSError(), "alpha snapshots")  # doctest: +SKIP
        'run folder /no/such/run is gone (moved or deleted); Refresh in the Runs tab ...'
    """
    folder = Path(run_dir)
    if not folder.exists():
        return (
            f"run folder {folder} is gone (moved or deleted); Refresh in the Runs tab lists "
            "the runs still there."
        )
    reason = unstarted_reason(folder)
    if reason:
        return f"the search failed before it started, so it has no {has_none}: {reason}"
    if reason == "":
        return (
            f"the search is still starting (no run store yet), so it has no {has_none} yet; "
            "open the run again once the Monitor shows it running."
        )
    return str(err)


def format_eta(seconds: float | None) -> str:
    """``"1 h 02 min"``, ``"3 min 05 s"``, ``"12 s"``; "" when unknown."""
    if seconds is None or not np.isfinite(seconds):
        return ""
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"


def _waiting_alpha_figure() -> go.Figure:
    """The alpha figure before a run's first snapshot."""
    return go.Figure(
        layout={"title": "architecture weights (waiting for the first snapshot)", "height": 320}
    )


# The most points a live curve holds. Past it every 2nd (4th, ...) point is shown, the
# stride doubling as needed: the figure stays small whatever the run's length, and between
# doublings it still grows by appended points only (a doubling sends it whole once). Once
# no process writes the run, its last point is added too, so the curve ends where the run
# did: while it runs, a last point off the stride would be replaced by the next one and
# every such poll would send the figure whole (a heavy message each second under load).
# nasbench.viz.alphas.thin_steps spreads its points evenly instead, which moves every
# point as the run grows: no live figure could send just the new ones.
MAX_LIVE_POINTS = 1000


def thinned(
    xs: list, ys: list, limit: int | None = None, keep_last: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Every ``stride``-th point of a curve (and its last), ``stride`` the least power of
    two that keeps at most ``limit`` points (default :data:`MAX_LIVE_POINTS`).

    Args:
        xs: the curve's x values, in order.
        ys: its y values.
        limit: the most points to keep (at least 2).
        keep_last: keep the last point when it falls off the stride (a finished curve);
            False for a live one, whose drawn points must only grow.

    Returns:
        ``(xs, ys)`` as arrays.

    Example:
        >>> [thinned(list(range(n)), list(range(n)), 4)[0].tolist() for n in (4, 6, 9)]
        [[0, 1, 2, 3], [0, 2, 4, 5], [0, 4, 8]]
        >>> thinned(list(range(6)), list(range(6)), 4, keep_last=False)[0].tolist()
        [0, 2, 4]
    """
    limit = max(2, MAX_LIVE_POINTS if limit is None else limit)
    stride, n = 1, len(xs)
    while -(-n // stride) + bool((n - 1) % stride) > limit:
        stride *= 2
    kept_x, kept_y = np.asarray(xs[::stride]), np.asarray(ys[::stride])
    if keep_last and n and (n - 1) % stride:  # the last point is off the stride: keep it too
        kept_x, kept_y = np.append(kept_x, xs[-1]), np.append(kept_y, ys[-1])
    return kept_x, kept_y


def _length(values: Any) -> int:
    """How many points a trace's ``x`` holds (plotly keeps None, a tuple or an array)."""
    return 0 if values is None else len(values)


def _same_points(shown: Any, xs: np.ndarray) -> bool:
    """Whether a trace already shows these x values (same count, same last one)."""
    return _length(shown) == len(xs) and (not len(xs) or shown[-1] == xs[-1])


def _axis(name: str, index: int) -> str:
    """The name of the ``index``-th subplot's axis (from 0): ``x``, ``x2``, ``yaxis3``..."""
    return f"{name}{index + 1 if index else ''}"


def _tick_counts(fig: go.Figure, xs: list[Any], columns: int = 1) -> None:
    """Tick the figure's x axes (steps, evaluations) at whole numbers only, for the x values
    its traces show (``xs``, one array each), as ``nasbench.viz.plot_history`` does; a chart
    of a grid ``columns`` wide has room for fewer ticks. The layout changes (and the figure
    is sent whole) only when the tick step does: a few times per run, as points arrive."""
    from nasbench.viz.history import MOST_TICKS, integer_ticks

    ends = [shown[k] for shown in xs if len(shown) for k in (0, -1)]
    ticks = integer_ticks(ends, max(3, MOST_TICKS // columns))
    if (fig.layout.xaxis.tickmode, fig.layout.xaxis.dtick) != (ticks["tickmode"], ticks["dtick"]):
        fig.update_xaxes(**ticks)


def _emptied(fig: go.Figure) -> None:
    """Remove the figure's curves and the ticks they set, as a figure not yet drawn has."""
    fig.data = ()
    fig.update_xaxes(tickmode=None, tick0=None, dtick=None, tickformat=None)


def metric_label(phase: str, name: str) -> str:
    """A metric's name without its phase's prefix (``val_acc`` of phase val: ``acc``), as
    ``nasbench.viz.plot_history`` names its curves ``"<phase> <metric>"``.

    Example:
        >>> metric_label("val", "val_acc"), metric_label("train", "loss")
        ('acc', 'loss')
    """
    return name.removeprefix(f"{phase}_") or name


def _is_plotted_metric(name: str) -> bool:
    return name in LOSS_NAMES or name in METRIC_NAMES or name.endswith(METRIC_SUFFIXES)


class RunMonitor(widgets.VBox):
    """A live view of one run folder.

    Args:
        run_dir: the run to watch (or open one later with :meth:`watch`).
        process: the search subprocess, if this session started it (its exit code
            and stderr explain failures that happen before the run store exists).
        interval: seconds between polls in Jupyter.

    Attributes:
        status: the run's status (a traitlet: "", "starting", "running", "finished", ...;
            "deleted" once its store was deleted while shown).
        rows_read: how many alpha, genotype and candidate rows of the run have been read
            (a traitlet; (0, 0, 0) before its store is open).
        run: the :class:`nasbench.runs.Run` once the store exists.

    Example:
        >>> monitor = RunMonitor("runs/darts-20260101-120000")  # doctest: +SKIP
        >>> monitor.poll_once()  # doctest: +SKIP
        'running'
    """

    status = traitlets.Unicode("")
    run_dir = traitlets.Unicode("")
    # How many alpha, genotype and candidate rows of the run have been read: views showing
    # the same run (the workbench's Alphas and Genotypes tabs) follow a search by it
    # rather than poll the store themselves.
    rows_read = traitlets.Tuple((0, 0, 0))

    def __init__(
        self,
        run_dir: str | os.PathLike | None = None,
        process: subprocess.Popen | None = None,
        interval: float = 1.0,
    ) -> None:
        self.run: Any = None
        self.process: subprocess.Popen | None = None
        self._closed = False  # a poll that closes the view must not read the closed run
        self.alpha_kind = "alpha"
        self._poller = Poller(self._poll_and_continue, interval)
        self._idle_poller = Poller(self._check_idle, max(interval, IDLE_POLL_S))
        self._store_seen: tuple | None = None  # the store files' stat when it went idle
        # The (device, inode) of the store file self.run reads: another file at run.sqlite
        # is another run (the open connection keeps the old inode from being reused).
        self._store_id: tuple[int, int] | None = None
        self._deleted = False  # the store self.run read was deleted; its connection closed
        self._stop_pending = False  # Stop pressed before the search created its store
        # When this monitor's process was first seen to have exited with an error: the
        # store's status rows and whether a writer was alive (_another_writer_took_over).
        self._exit_seen: tuple[int, bool] | None = None
        self._taken_over = False  # another writer took the run after that process exited
        self._folder = Path()  # the watched run's folder, absolute (set by watch)
        self.title = widgets.HTML("<i>no run open</i>")
        self.title.add_class("nasbench-monitor-title")
        self.progress = widgets.IntProgress(value=0, min=0, max=1, description="progress")
        self.progress.add_class("nasbench-progress")
        self.status_text = widgets.HTML()
        self.status_text.add_class("nasbench-status")
        self.stop_button = widgets.Button(description="Stop", icon="stop", disabled=True)
        self.stop_button.add_class("nasbench-monitor-stop")
        self.stop_button.on_click(lambda _: self.request_stop())
        self.report_button = widgets.Button(
            description="Write report", icon="file-text", disabled=True,
            tooltip="write report.html (results, genotype, alphas, events) into the run folder",
        )  # fmt: skip
        self.report_button.add_class("nasbench-write-report")
        self.report_button.on_click(lambda _: self.write_report())
        self.report_message = widgets.HTML()
        self.report_message.add_class("nasbench-report-message")
        self.warnings = widgets.HTML()
        self.warnings.add_class("nasbench-warnings")
        self.error = widgets.HTML()
        self.error.add_class("nasbench-error")
        # Short descriptions name the toggles for a screen reader without widening their row.
        self.cell_type = widgets.ToggleButtons(
            options=["normal", "reduce"], value="normal", description="cell"
        )
        self._offering = False  # the cell toggle's options are being set: no redraw
        self.cell_type.observe(lambda _: self._offering or self._draw_alphas(force=True), "value")
        self.alpha_scale = widgets.ToggleButtons(
            options=[("α − 1/K", "deviation"), ("α", "absolute")], description="values",
            value="deviation", tooltips=["each weight minus its share were nothing decided: "
                                         "1/K of its edge's ops (edge betas: 1/n of its "
                                         "node's edges; DiNTS's path probabilities: their "
                                         "value at zero logits, 0.5/(1 − 0.5^K))",
                                         "the weights on a 0-1 axis"],
        )  # fmt: skip
        self.alpha_scale.add_class("nasbench-alpha-scale")
        self._relabelling = False  # the scale's options are being renamed: no redraw
        self.alpha_scale.observe(
            lambda _: self._relabelling or self._draw_alphas(force=True), "value"
        )
        self.alpha_plot = LivePlot(_waiting_alpha_figure(), classes=("nasbench-alpha-figure",))
        history = make_subplots(
            rows=2, cols=1, shared_xaxes=True, subplot_titles=("loss", "metrics")
        )
        # Whole trace names and 4 significant digits in the hover labels. The legend lists
        # each panel's curves under its title (see _draw_history); a click hides one curve,
        # not its whole panel.
        history.update_layout(height=420, title="loss and metrics", hovermode="x",
                              hoverlabel={"namelength": -1},
                              legend={"traceorder": "grouped",
                                      "groupclick": "toggleitem"})  # fmt: skip
        history.update_xaxes(title_text="step", row=2, col=1)
        history.update_yaxes(title_text="loss", row=1, col=1)
        history.update_yaxes(title_text="metric", row=2, col=1)
        self.history_plot = LivePlot(history, classes=("nasbench-history-figure",))
        # What a discrete search shows in its place (see _show_history).
        self.history_note = widgets.HTML()
        self.history_note.add_class("nasbench-history-note")
        # A multi-agent localisation search (marl-gdas): each agent's reward and distance.
        agents = make_subplots(
            rows=2, cols=1, shared_xaxes=True,
            subplot_titles=("mean reward per step", "distance at the episode's end (voxels)"),
        )  # fmt: skip
        agents.update_layout(height=420, title="per-agent reward and distance", hovermode="x",
                             hoverlabel={"namelength": -1})  # fmt: skip
        agents.update_xaxes(title_text="step", row=2, col=1)
        self.agent_plot = LivePlot(agents, classes=("nasbench-agent-figure",))
        self.agent_plot.layout.display = "none"
        # Discrete searches: each evaluation's score and the best so far.
        candidates = go.Figure(
            layout={"title": "candidates: score per evaluation", "height": 320,
                    "xaxis": {"title": "evaluation"}, "yaxis": {"title": "score"}}
        )  # fmt: skip
        candidates.add_scatter(x=[], y=[], mode="markers", name="evaluated")
        candidates.add_scatter(x=[], y=[], mode="lines", name="best so far",
                               line={"shape": "hv"})  # fmt: skip
        self.candidate_plot = LivePlot(candidates, classes=("nasbench-candidate-figure",))
        self.candidate_plot.layout.display = "none"
        # AutoHAS: the policy over each hyper-parameter's choices, one candidate at a time.
        self.hp_plot = LivePlot(go.Figure(), classes=("nasbench-hp-policy",))
        self.hp_plot.layout.display = "none"
        # A two-stage search (C2FNAS): what its first stage chose, once it has.
        self.stages = widgets.HTML()
        self.stages.add_class("nasbench-stages")
        self.genotype_title = widgets.HTML()
        self.genotype = widgets.HTML()
        self.genotype.add_class("nasbench-genotype")
        self._reset_buffers()
        super().__init__(
            children=[
                self.title,
                wrapping_row([self.progress, self.stop_button, self.report_button]),
                self.report_message,
                self.status_text,
                self.warnings,
                self.error,
                self.stages,
                wrapping_row([self.cell_type, self.alpha_scale]),
                self.alpha_plot,
                self.candidate_plot,
                self.hp_plot,
                self.history_note,
                self.history_plot,
                self.agent_plot,
                self.genotype_title,
                self.genotype,
            ]
        )
        self.add_class("nasbench-monitor")
        if run_dir is not None:
            self.watch(run_dir, process)

    # ------------------------------------------------------------------ state
    def _reset_buffers(self) -> None:
        self._generation = 0
        self._alphas: dict[tuple[str, str, str], tuple[list[int], list[float]]] = {}
        self._alpha_structure: dict[str, tuple[list[str], list[str]]] = {}
        self._cell_kind: dict[str, str] = {}  # cell type -> the kind of matrix it shows
        self._cells_offered = False  # the cell toggle offers this run's cell types
        self._drawn_alpha: tuple | None = None  # cell, edges, ops, scale
        self._drawn_grid: tuple | None = None  # edges, ops, traces of the alpha subplots
        self._alpha_xs: list[Any] = []  # the steps each of those traces shows
        self._alpha_rows = 0  # alpha rows ingested; drawn: as many as the figure shows
        self._alpha_drawn_rows = 0
        self._history: dict[tuple[str, str], tuple[list[int], list[float]]] = {}
        self._history_rows = 0  # plotted rows ingested; drawn: as of the last draw (-1: none)
        self._history_drawn_rows = -1
        # No process writes the run: its curves are whole and end on their last point.
        self._curves_final = False
        self._agents: dict[str, tuple[list[int], list[float]]] = {}  # agent<k>_reward...
        self._genotype_json = ""
        self._evaluations = 0  # candidates evaluated, failed ones too (cache hits are not)
        self._scored: list[int] = []  # the evaluation number of each score
        self._scores: list[float] = []
        self._best_candidate: tuple[float, Any, str] | None = None  # score, genotype, json
        self._hp_policy: list[pd.DataFrame] = []  # hp_distribution of each batch of candidates
        self._hp_drawn = 0  # how many of those batches the HP figure shows
        self._warnings_seen: tuple[int, ...] | None = None  # row counts collapse_warnings read
        self._status_error = False  # the error shown is the status's (killed, failed)

    def watch(self, run_dir: str | os.PathLike, process: subprocess.Popen | None = None) -> None:
        """Watch ``run_dir`` (and ``process``, when this session started it); starts polling.

        Args:
            run_dir: the run folder (it may not hold a run store yet).
            process: the search subprocess writing it, if known.

        Raises:
            ConfigError: ``run_dir`` is not a path, is empty or is a file (nothing shown is
                cleared).
        """
        if not isinstance(run_dir, (str, os.PathLike)):
            raise ConfigError(
                f"watch needs a run folder (or a loaded Run), got {type(run_dir).__name__}; "
                'pass e.g. monitor.watch("runs/darts-1").'
            )
        if not os.fspath(run_dir).strip():
            raise ConfigError(
                'watch needs a run folder, got an empty path; pass e.g. "runs/darts-1".'
            )
        if Path(run_dir).is_file():  # e.g. the run's run.sqlite
            raise ConfigError(
                f"{os.fspath(run_dir)} is a file, not a run folder; pass the folder that holds "
                f"it ({Path(run_dir).parent})."
            )
        self.stop_polling()
        self._forget_run(process)
        # A process started on a folder that already holds a run is resuming it; until it
        # takes the store over, the store still says how the last process left it.
        self._booting = "resuming" if (Path(run_dir) / DB_NAME).is_file() else "starting"
        if not self.process_alive:
            self._booting = ""
        self._clear_view()
        self.run_dir = os.fspath(run_dir)  # a Run gives its folder
        # Where the run's files are, whatever folder the kernel is in later (%cd): a
        # relative run_dir read after a chdir would say the run was deleted.
        self._folder = Path(os.path.abspath(self.run_dir))
        self.title.value = f"<b>run</b>: {html.escape(os.fspath(run_dir))}"
        self.status = "starting"
        self._poll_and_continue()
        self.start()

    def _forget_run(self, process: subprocess.Popen | None) -> None:
        """Close the run read so far and drop what was known of it and its process."""
        if self.run is not None:
            self.run.close()
        self.run = None
        self._store_id, self._deleted = None, False
        self.process = process
        self._stop_pending = False
        self._exit_seen, self._taken_over = None, False
        self._booting = ""

    def _clear_view(self) -> None:
        """Empty every figure and message, as a freshly built monitor shows them."""
        self._reset_buffers()
        # A new run starts from empty figures: no curves and no subplots of the last one.
        self.alpha_figure.data = ()
        self.alpha_figure.layout = _waiting_alpha_figure().layout
        _emptied(self.history_figure)
        _emptied(self.agent_figure)
        for trace in self.candidate_figure.data:
            trace.x, trace.y = [], []
        self.hp_figure.data = ()
        for plot in (self.alpha_plot, self.history_plot, self.candidate_plot, self.hp_plot,
                     self.agent_plot):  # fmt: skip
            plot.push()
        self.candidate_plot.layout.display = "none"
        self.agent_plot.layout.display = "none"
        self.hp_plot.layout.display = "none"
        self.history_note.value = ""
        self._show_run_figures(True)
        self.genotype.value = ""
        self.genotype_title.value = ""
        self.stages.value = ""
        self.error.value = ""
        self.warnings.value = ""
        self.report_message.value = ""
        self.report_button.disabled = True
        # Stop reaches a search still starting once it has created its store (request_stop).
        self.stop_button.disabled = not self.process_alive
        # Nothing of the last run's state may linger if this folder cannot be read.
        self.status_text.value = ""
        self.progress.max, self.progress.value, self.progress.bar_style = 1, 0, ""
        self.rows_read = (0, 0, 0)

    def _show_run_figures(self, shown: bool) -> None:
        """Show the alpha and curve figures with their toggles, or hide them where the
        folder has no run to draw (a search that failed before its store, a folder that is
        gone): empty axes titled "waiting for the first snapshot" would promise data, and
        the browser keeps the ranges of the run shown before on them."""
        for view in (self.alpha_plot, self.history_plot, self.cell_type, self.alpha_scale):
            view.layout.display = None if shown else "none"

    def start(self) -> bool:
        """Poll in the background on the running loop (Jupyter); False when there is none.
        A run that is over is watched slowly, every ``IDLE_POLL_S`` seconds, for a resume."""
        if self._closed:
            return False
        if self.status in TERMINAL and not self.process_alive:
            return self._watch_for_resume()
        self._idle_poller.stop()
        return self._poller.start()

    def stop_polling(self) -> None:
        """Stop the background polling (the run goes on)."""
        self._poller.stop()
        self._idle_poller.stop()

    def close(self) -> None:
        """Stop polling, close the run store's read connection, then close every widget of
        the view (idempotent). The search itself goes on: stop it first with Stop.

        Example:
            >>> monitor = RunMonitor("runs/darts-20260101-120000")  # doctest: +SKIP
            >>> monitor.close()  # doctest: +SKIP
            >>> monitor.run._conn is None  # doctest: +SKIP
            True
        """
        if self.comm is None:
            return  # closed already (ipywidgets' __del__ calls close again)
        self._closed = True
        self.stop_polling()
        if self.run is not None:
            self.run.close()
        close_widgets(self)

    def request_stop(self) -> None:
        """Ask the watched search to stop; one still starting (no run store yet) is asked
        as soon as it has created its store."""
        from nasbench.runs import request_stop

        if self.run is None and self.process_alive:
            self._stop_pending = True
            self.stop_button.disabled = True
            self.status_text.value += STOP_PENDING
            return
        if self.run is not None:
            try:
                request_stop(self.run_dir)
            except (NasbenchError, OSError) as err:  # the store was damaged or removed
                self._show_error(_one_line(err))
                return
            self.status_text.value += " · <i>stop requested</i>"

    def write_report(self) -> Path | None:
        """Write the watched run's HTML report into its folder and say where.

        Returns:
            The report's path, or None when the run store does not exist yet.
        """
        from nasbench.viz.report import write_report

        if self.run is None:
            return None
        try:
            path = write_report(self.run_dir)
        except (NasbenchError, OSError) as err:  # damaged or removed store, full disk
            self.report_message.value = message_html(_one_line(err), "error")
            return None
        self.report_message.value = message_html(
            f"report written: {path} (open it in a browser; it works offline)", "info"
        )
        return path

    @property
    def process_alive(self) -> bool:
        """True while the search process this monitor was handed is still running."""
        return self.process is not None and self.process.poll() is None

    def _safe_poll(self) -> str | None:
        """:meth:`poll_once`, its error shown; None when it failed."""
        try:
            return self.poll_once()
        except Exception as err:  # noqa: BLE001 - a background poll must never die silently
            self.error.value = message_html(f"the monitor stopped: {_one_line(err)}", "error")
            return None

    def _poll_and_continue(self) -> bool:
        status = self._safe_poll()
        # Closed meanwhile (by an observer of this poll's status change): poll no more.
        if status is None or self._closed:
            return False
        if status not in TERMINAL or self.process_alive:
            return True
        self._watch_for_resume()
        return False

    def _store_signature(self) -> tuple:
        """The store files' (mtime, size): any write changes them, a read does not; and
        the command announced to take the run over (a resume or retrain loading torch
        writes nothing for seconds, yet is no longer a run that is over)."""
        seen: list[Any] = [announced_writer(self._folder)]
        for name in (DB_NAME, f"{DB_NAME}-wal"):
            try:
                stat = os.stat(self._folder / name)
            except OSError:
                seen.append(None)
            else:
                seen.append((stat.st_mtime_ns, stat.st_size))
        return tuple(seen)

    def _watch_for_resume(self) -> bool:
        """Start the slow poll of a run that is over; False without a running loop."""
        self._store_seen = self._store_signature()
        return self._idle_poller.start()

    def _check_idle(self) -> bool:
        """The slow poll: read the run again only when its store changed (a resume, or a
        status written by another process), and poll at full speed again once it runs."""
        if self._closed:
            return False
        seen = self._store_signature()
        if seen == self._store_seen:  # unchanged (a store deleted since: poll_once says so)
            return True
        self._store_seen = seen
        status = self._safe_poll()
        if status is None or self._closed:
            return False
        if status in TERMINAL and not self.process_alive:
            return True
        self._poller.start()
        return False

    # ------------------------------------------------------------------- poll
    def poll_once(self) -> str:
        """Read what the search wrote since the last poll and update every view.

        Returns:
            The run's status ("starting" before the store exists; "failed" when the
            process died before creating it).
        """
        if not self.run_dir:
            return ""
        if self._closed:
            return self.status
        if (self.run is not None or self._deleted) and not self._same_store():
            return self.status
        if self.run is None and not self._open_store():
            return self.status
        run = self.run
        # Probed before the rows are read: a writer stores its last status before it lets go,
        # so a status read after finding no writer is final (read before, the running of a
        # search that has just finished would be taken as killed).
        alive = run.writer_alive()
        starting = announced_writer(self._folder)  # a resume or retrain taking the run over
        new = run.refresh()
        discarded = run.generation != self._generation
        if discarded:
            # A resume discarded rows: start again from the full frames, and the curves from
            # none, as a freshly opened monitor does (a curve may have lost every point, and
            # one logged again up to its old last step would not be seen to change).
            self._reset_buffers()
            self._generation = run.generation
            new = {"history": run.history, "alphas": run.alphas, "candidates": run.candidates,
                   "events": run.events}  # fmt: skip
            _emptied(self.history_figure)
            _emptied(self.agent_figure)
            self.agent_plot.layout.display = "none"  # shown again by an agent's rows
        if self._curves_final == alive:
            # The writer came or went: the curves gain (or lose) their last point.
            self._curves_final = not alive
            self._alpha_drawn_rows = self._history_drawn_rows = -1
        self._ingest_alphas(new["alphas"])
        self._ingest_stages(new.get("events"))
        self._ingest_history(new["history"])
        self._ingest_candidates(new["candidates"])
        self._draw_alphas()
        self._draw_history()
        self._draw_agents()
        self._draw_candidates()
        self._draw_hp_policy()
        self._draw_genotype()
        self._show_history()
        if discarded:
            # Sent even where no curve is left to draw (a draw pushes only what it drew).
            self.history_plot.push()
            self.agent_plot.push()
        self._show_state(alive, starting)
        self.rows_read = (len(run.alphas), len(run.genotypes), len(run.candidates))
        return self.status

    def _store_identity(self) -> tuple[int, int] | None:
        """The (device, inode) of the folder's run store file; None when there is none."""
        try:
            stat = os.stat(self._folder / DB_NAME)
        except OSError:
            return None
        return stat.st_dev, stat.st_ino

    def _same_store(self) -> bool:
        """Whether the run read so far is still the folder's store. A deleted one is closed
        and said so (False); a new store in its place (the folder deleted and a search
        started there again) is read from scratch, as a fresh monitor would (True)."""
        identity = self._store_identity()
        if identity is None:
            if not self._deleted:
                self._lose_store()
            return False
        if identity != self._store_id or self._deleted:
            # The process held wrote the deleted run, not this one.
            self._forget_run(None)
            self._clear_view()
            self.title.value = f"<b>run</b>: {html.escape(self.run_dir)}"
            self.status = "starting"  # so a view following this status sees the new run end
        return True

    def _lose_store(self) -> None:
        """The store was deleted: close its connection (its disk space is freed) and say
        so; the figures stay as the last view of it."""
        self.run.close()
        self.run = None
        self._deleted = True
        folder = Path(self.run_dir)
        what = "run folder" if not folder.exists() else f"run store ({DB_NAME}) of"
        # A folder renamed while shown is gone from here just the same: it may live on.
        self.error.value = message_html(
            f"the {what} {folder} was moved or deleted; the figures show it as last read. A "
            "search started again in this folder is shown here.",
            "warning",
        )
        self.title.value = f"<b>run</b>: {html.escape(self.run_dir)} (moved or deleted)"
        self.status_text.value = f"<b>{DELETED}</b>"
        self.progress.bar_style = ""
        self.report_message.value = ""
        self.stop_button.disabled = self.report_button.disabled = True
        self._stop_pending = False
        self.status = DELETED

    def _open_store(self) -> bool:
        from nasbench.runs import load

        problem = (
            f"{self.run_dir} holds no run store ({DB_NAME}); open a run folder."
            if Path(self.run_dir).exists()
            else f"{self.run_dir} does not exist (not made yet, moved or deleted); open a run "
            "folder."
        )
        # Taken before load: a store replaced in between is another file at the next poll.
        identity = self._store_identity()
        if identity is not None:
            try:
                self.run = load(self.run_dir)
            except NasbenchError as err:
                self.run = None  # damaged, or (with a live process) still being created
                problem = str(err)
            else:
                self._store_id = identity
                self.error.value = ""  # what the missing (or half-made) store said is over
                self._show_run_figures(True)  # hidden while the folder had no run
                # load() read every row so far; later refresh() calls return newer ones only.
                self._generation = self.run.generation
                self._ingest_alphas(self.run.alphas)
                self._ingest_history(self.run.history)
                self._ingest_candidates(self.run.candidates)
                self._ingest_stages(self.run.events)
                if self._stop_pending:  # Stop was pressed while the search was starting
                    self._stop_pending = False
                    self.request_stop()
                return True
        reason = unstarted_reason(self.run_dir) if self.process is None else None
        if reason == "":
            # Opened from the Runs tab while a search started elsewhere (the launcher, another
            # notebook) is loading: the store opens on a later poll.
            self.status = "starting"
            self.status_text.value = ("<b>starting…</b> (no run store yet; see stderr.log "
                                      "if it does not start)")  # fmt: skip
        elif reason:
            self._failed_without_store(
                f"the search failed before it created its run store: {reason}"
            )
        elif self.process is None:
            # Opened from the Runs tab: no process of ours will create or mend the store. A
            # folder that is no run ends no search: the status line stays blank.
            self._failed_without_store(problem, status_line=False)
        elif self.process.poll() is not None:
            self._failed_without_store(f"the search process exited with code "
                                       f"{self.process.returncode} before it created the run "
                                       "store.")  # fmt: skip
        else:
            self.status = "starting"
            self.status_text.value = "<b>starting…</b> (the search process is loading)" + (
                STOP_PENDING if self._stop_pending else ""
            )
        return False

    def _failed_without_store(self, headline: str, status_line: bool = True) -> None:
        """Show a search that ended before it had a store: the status line and bar say so
        too (or blank them, ``status_line=False``), so no "starting…" of an earlier poll
        stays on screen above the error."""
        self.status = "failed"
        self.status_text.value = "<b>failed</b>" if status_line else ""
        self.progress.bar_style = "danger" if status_line else ""
        self.stop_button.disabled = True
        self._show_run_figures(False)
        self._show_error(headline)

    # ----------------------------------------------------------------- alphas
    def _ingest_alphas(self, frame: pd.DataFrame) -> None:
        from nasbench.viz.alphas import SCHEDULE_KINDS

        # GDAS's temperature is recorded beside the alphas but is no weight over ops.
        frame = frame[~frame["kind"].isin(SCHEDULE_KINDS)]
        if frame.empty:
            return
        kinds = list(frame["kind"].unique())
        if self.alpha_kind not in kinds and not self._alphas:
            self.alpha_kind = str(kinds[0])
        # Each cell type shows one kind of matrix: the run's (alphas), or, for a cell type
        # that records none of those, its own (the trellis's scale betas, cell type "trellis").
        for cell in frame["cell_type"].unique():
            if str(cell) not in self._cell_kind:
                own = frame.loc[frame["cell_type"] == cell, "kind"].unique()
                self._cell_kind[str(cell)] = (
                    self.alpha_kind if self.alpha_kind in own else str(own[0])
                )
        shown = frame["kind"] == frame["cell_type"].astype(str).map(self._cell_kind)
        frame = frame[shown]
        self._alpha_rows += len(frame)
        steps, weights = frame["step"].to_numpy(), frame["weight"].to_numpy()
        groups = frame.groupby(["cell_type", "edge", "op"], observed=True, sort=False).indices
        # Row positions per (cell, edge, op) in the order of each one's first row, as
        # iterating the groupby gives them, without a sub-frame per group (~0.1 ms each).
        for (cell, edge, op), rows in sorted(groups.items(), key=lambda group: group[1][0]):
            xs, ys = self._alphas.setdefault((str(cell), str(edge), str(op)), ([], []))
            xs.extend(steps[rows].tolist())
            ys.extend(weights[rows].tolist())
            edges, ops = self._alpha_structure.setdefault(str(cell), ([], []))
            if str(edge) not in edges:
                edges.append(str(edge))
            if str(op) not in ops:
                ops.append(str(op))

    def _alpha_grid(self, cell: str) -> tuple:
        """What the cell's subplots and traces depend on: its edges, ops and the traces."""
        edges, ops = self._alpha_structure[cell]
        pairs = tuple((e, o) for e in edges for o in ops if (cell, e, o) in self._alphas)
        return tuple(edges), tuple(ops), pairs

    def _lay_out_alphas(self, cell: str) -> None:
        """Give the live figure ``cell``'s subplots (one per edge) and traces (one per op),
        with no points yet and styled for no scale (see :meth:`_scale_alphas`)."""
        from nasbench.viz import op_line

        edges, ops, pairs = self._alpha_grid(cell)
        cols = max(1, min(4, len(edges)))
        rows = -(-len(edges) // cols)
        grid = make_subplots(
            rows=rows, cols=cols, subplot_titles=edges, shared_xaxes=True, shared_yaxes=True,
            vertical_spacing=min(0.3 / rows, 0.08), horizontal_spacing=0.03,
        )  # fmt: skip
        grid.update_layout(height=max(320, 210 * rows), legend_title_text="op", margin={"t": 80})
        grid.update_xaxes(title_text="step", row=rows)
        fig = self.alpha_figure
        fig.data = ()
        fig.layout = grid.layout
        # Subplots are numbered row by row from 1 as the edges are, so an edge's axes are
        # named directly; plain dicts are validated once, by add_traces.
        fig.add_traces([
            {"type": "scatter", "x": [], "y": [], "mode": "lines", "name": op, "legendgroup": op,
             "meta": edge, "showlegend": edge == edges[0],
             "line": {**op_line(op, ops), "width": 1.5},
             "xaxis": _axis("x", edges.index(edge)), "yaxis": _axis("y", edges.index(edge))}
            for edge, op in pairs
        ])  # fmt: skip
        self._drawn_grid = (edges, ops, pairs)
        self._alpha_xs = [()] * len(pairs)

    def _scale_alphas(self, cell: str) -> None:
        """Style the live figure's subplots (laid out for ``cell``'s grid) for the cell's kind
        and the chosen scale: the title, the y axes, the zero line and the hover text."""
        edges, ops, pairs = self._drawn_grid
        cols = max(1, min(4, len(edges)))
        deviation = self.alpha_scale.value == "deviation"
        kind = self._cell_kind.get(cell, self.alpha_kind)
        # As the alpha explorer names them: β for every beta matrix (the trellis's scale
        # betas, PC-DARTS's edge betas: 1/n of a node's edges), p for DiNTS's paths.
        quantity = weight_quantity(cell, kind, edge_targets(edges, len(ops), kind) is not None)
        self._relabelling = True
        try:
            relabel_scale(self.alpha_scale, quantity)
        finally:
            self._relabelling = False
        symbol, share, _ = quantity
        value = f"{symbol} − {share}" if deviation else symbol
        fig = self.alpha_figure
        if is_path_probability(cell, kind):
            # DiNTS's topology: MONAI's path probabilities, which no softmax ties together.
            fig.layout.title.text = (
                "architecture weights (path probabilities, not a softmax"
                f"{', minus the undecided p₀ = 0.5/(1 − 0.5^K)' if deviation else ''})"
                f" — {cell} cell"
            )
        else:
            fig.layout.title.text = (
                f"architecture weights ({kind}, softmax"
                f"{f', minus the uniform {share}' if deviation else ''}) — {cell} cell"
            )
        # One dotted zero line per edge's chart, as fig.add_hline draws it, but built
        # directly: add_hline walks every subplot of the grid (~0.3 s for 14 edges).
        fig.layout.shapes = [
            {"type": "line", "x0": 0, "x1": 1, "xref": f"{_axis('x', index)} domain",
             "y0": 0.0, "y1": 0.0, "yref": _axis("y", index),
             "line": {"color": "#999", "width": 1, "dash": "dot"}}
            for index in range(len(edges) if deviation else 0)
        ]  # fmt: skip
        fig.update_yaxes(range=None if deviation else [-0.02, 1.02])
        # As plot_alphas: the left column names the quantity, the bottom row the steps.
        for index in range(0, len(edges), cols):
            fig.layout[_axis("yaxis", index)].title.text = value
        # Four significant digits: alphas near 1/K differ past the third decimal, and a
        # deviation from 1/K is a small number.
        hover = [
            f"{op}<br>edge {edge}<br>step %{{x}}<br>{value} %{{y:.4g}}<extra></extra>"
            for edge, op in pairs
        ]
        fig.plotly_restyle({"hovertemplate": hover}, list(range(len(pairs))))

    def _draw_alphas(self, force: bool = False) -> None:
        cells = list(self._alpha_structure)
        offered = list(self.cell_type.options)
        # A newly watched run offers exactly its own cell types (a reconstruction run logs
        # "normal" only: no "reduce" of the run before); while it grows, new ones are added
        # (e.g. every agent's own cells).
        wanted = [*offered, *(c for c in cells if c not in offered)]
        if not self._cells_offered:
            wanted = cells
        if cells and wanted != offered:
            self._cells_offered = True
            before = self.cell_type.value
            # Setting the options selects the first: the cell type a person views stays
            # selected while it is offered, drawn once below (not by the toggle's observer).
            self._offering = True
            try:
                self.cell_type.options = wanted
                if before in wanted:
                    self.cell_type.value = before
            finally:
                self._offering = False
        self._cells_offered = self._cells_offered or bool(cells)
        cell = self.cell_type.value
        if cell not in self._alpha_structure:
            return
        edges, ops = self._alpha_structure[cell]
        structure = (cell, tuple(edges), tuple(ops), self.alpha_scale.value)
        restyle = force or self._drawn_alpha != structure
        if not restyle and self._alpha_drawn_rows == self._alpha_rows:
            return  # no snapshot since the last draw: the figure shows them all
        fig = self.alpha_figure
        if restyle:
            # Another cell or scale: a cell with the same edges and ops (DARTS's normal and
            # reduce cells) keeps the subplots (~0.4 s to make), only styles and points change.
            if self._drawn_grid != self._alpha_grid(cell):
                self._lay_out_alphas(cell)
            self._scale_alphas(cell)
            self._drawn_alpha = structure
        self._alpha_drawn_rows = self._alpha_rows
        deviation = self.alpha_scale.value == "deviation"
        kind = self._cell_kind.get(cell, self.alpha_kind)
        path = is_path_probability(cell, kind)
        # PC-DARTS's edge betas (one column): a softmax over the edges into each node.
        targets = edge_targets(edges, len(ops), kind)
        indexes, xs_shown, ys_shown, every_xs = [], [], [], []
        # The traces are the grid's (edge, op) pairs in order, and _alpha_xs their shown
        # steps: reading them back from the figure goes through plotly's validators.
        for index, (edge, op) in enumerate(self._drawn_grid[2]):
            xs, ys = thinned(
                *self._alphas.get((cell, edge, op), ([], [])), keep_last=self._curves_final
            )
            every_xs.append(xs)
            if not restyle and _same_points(self._alpha_xs[index], xs):
                continue
            # K: how many ops this edge mixes (paths a DiNTS block has), so undecided
            # weights read 0.
            k = sum((cell, edge, other) in self._alphas for other in ops)
            if targets is not None:
                k = targets.count(targets[edges.index(edge)])
            undecided = undecided_path_probability(k) if path else 1.0 / k
            self._alpha_xs[index] = xs
            indexes.append(index)
            xs_shown.append(xs)
            ys_shown.append(ys - (undecided if deviation else 0.0))
        if not restyle and not indexes:
            return  # the new snapshots fall between the thinned points shown
        _tick_counts(fig, every_xs, columns=max(1, min(4, len(edges))))  # as laid out
        # One restyle for every trace that changed: assigning trace.x and trace.y
        # validates and copies each array again (~10x the time).
        fig.plotly_restyle({"x": xs_shown, "y": ys_shown}, indexes)
        self.alpha_plot.push()

    # ----------------------------------------------------------------- stages
    def _ingest_stages(self, frame: pd.DataFrame | None) -> None:
        """Show C2FNAS's stage 1 (the ``c2fnas_topologies`` event): the topologies it
        ranked by proxy validation loss and the one stage 2 searches the convs of."""
        if frame is None or frame.empty:
            return
        rows = frame[frame["kind"] == "c2fnas_topologies"]
        if rows.empty:
            return
        payload = rows.iloc[-1]["payload"]
        ranked = ", ".join(
            f"{'-'.join(map(str, c['topology']))} (loss {c['val_loss']:.4g})"
            for c in payload.get("candidates", [])
        )
        chosen = "-".join(map(str, payload.get("topology", [])))
        self.stages.value = message_html(
            f"stage 1 (topology by proxy): chose {chosen}; ranked {ranked}. "
            "Below: stage 2's alphas, one conv per cell.",
            "info",
        )

    # ---------------------------------------------------------------- history
    def _ingest_history(self, frame: pd.DataFrame) -> None:
        if frame.empty:
            return
        agents = frame[
            (frame["phase"] == "search") & frame["name"].astype(str).str.match(AGENT_METRIC)
        ]
        for name, part in agents.groupby("name", sort=False):
            xs, ys = self._agents.setdefault(str(name), ([], []))
            xs.extend(part["step"].tolist())
            ys.extend(part["value"].tolist())
        # A retrain's rows count its own epochs: on the search's step axis they would mislead.
        frame = frame[frame["name"].map(_is_plotted_metric) & ~frame["phase"].isin(RETRAIN_PHASES)]
        self._history_rows += len(frame)
        for (phase, name), part in frame.groupby(["phase", "name"], sort=False):
            xs, ys = self._history.setdefault((str(phase), str(name)), ([], []))
            xs.extend(part["step"].tolist())
            ys.extend(part["value"].tolist())

    def _draw_history(self) -> None:
        from nasbench.viz.history import PHASE_COLORS
        from nasbench.viz.palette import DASHES

        if self._history_drawn_rows == self._history_rows:
            return  # no plotted row since the last draw: the curves show them all
        self._history_drawn_rows = self._history_rows
        fig = self.history_figure
        traces = len(fig.data)
        with fig.batch_update():
            have = {tuple(t.meta) for t in fig.data}
            for phase, name in self._history:
                if (phase, name) in have:
                    continue
                row = 1 if name in LOSS_NAMES else 2
                metric = metric_label(phase, name)
                # The colour tells the phase, as in plot_history; the dash tells the metric,
                # one dash per metric in both panels (ranked as the metrics first came, so a
                # drawn curve keeps its style): the panels share one legend, where "train
                # loss" and "train acc" must not look alike. The legend lists each panel's
                # curves under its title.
                drawn = list(dict.fromkeys(metric_label(*t.meta) for t in fig.data))
                rank = drawn.index(metric) if metric in drawn else len(drawn)
                panel = ("loss", "metrics")[row - 1]
                per_step = phase == "train"
                fig.add_scatter(
                    x=[], y=[], mode="lines" if per_step else "lines+markers",
                    name=f"{phase} {metric}", meta=[phase, name], row=row, col=1,
                    legendgroup=panel, legendgrouptitle={"text": panel},
                    line={"color": PHASE_COLORS.get(phase), "dash": DASHES[rank % len(DASHES)],
                          "width": 1 if per_step else 2},
                    hovertemplate=f"{phase} {metric}<br>step %{{x}}<br>%{{y:.4g}}<extra></extra>",
                )  # fmt: skip
        indexes, xs_shown, ys_shown, every_xs = [], [], [], []
        for index, trace in enumerate(fig.data):
            xs, ys = thinned(
                *self._history.get(tuple(trace.meta), ([], [])), keep_last=self._curves_final
            )
            every_xs.append(xs)
            if not _same_points(trace.x, xs):
                indexes.append(index)
                xs_shown.append(xs)
                ys_shown.append(ys)
        if indexes or len(fig.data) != traces:
            # One restyle, as for the alphas: no validated copy of each array.
            fig.plotly_restyle({"x": xs_shown, "y": ys_shown}, indexes)
            _tick_counts(fig, every_xs)
            self.history_plot.push()

    def _show_history(self) -> None:
        """Hide the loss and metrics figure of a run that evaluates candidates and plots no
        curve (random, evolution, halving, AutoHAS), and say why; a run whose first rows
        have not come yet (a DARTS search starting) keeps its figure, which they fill."""
        discrete = not self.run.candidates.empty and self._history_rows == 0
        self.history_plot.layout.display = "none" if discrete else None
        note = (
            "no loss curves: a discrete search logs a score per candidate (the candidates "
            "figure above)."
        )
        self.history_note.value = message_html(note, "info") if discrete else ""

    def _draw_agents(self) -> None:
        """A localisation search's per-agent curves: reward (row 1), end distance (row 2)."""
        if not self._agents:
            return
        from nasbench.viz.landmarks import LANDMARK_COLORS

        fig = self.agent_figure
        with fig.batch_update():
            have = {t.meta for t in fig.data}
            for name in sorted(self._agents, key=lambda n: (len(n), n)):
                if name in have:
                    continue
                match = AGENT_METRIC.match(name)
                agent, what = int(match.group(1)), match.group(2)
                fig.add_scatter(
                    x=[], y=[], mode="lines+markers", name=f"agent{agent}", meta=name,
                    legendgroup=f"agent{agent}", showlegend=what == "reward",
                    line={"color": LANDMARK_COLORS[agent % len(LANDMARK_COLORS)]},
                    row=1 if what == "reward" else 2, col=1, hovertemplate="%{y:.4g}",
                )  # fmt: skip
            for trace in fig.data:
                xs, ys = self._agents.get(trace.meta, ([], []))
                if _length(trace.x) != len(xs):
                    trace.x, trace.y = np.asarray(xs), np.asarray(ys)
        # After the batch: inside it, a trace reads its x as it was before.
        _tick_counts(fig, [trace.x for trace in fig.data if trace.x is not None])
        self.agent_plot.layout.display = None
        self.agent_plot.push()

    # ------------------------------------------------------------- candidates
    def _ingest_candidates(self, frame: pd.DataFrame) -> None:
        from nasbench.viz import hp_distribution

        if frame.empty:
            return
        policy = hp_distribution(frame)
        if not policy.empty:
            self._hp_policy.append(policy)
        for status, genotype, text, metrics in zip(
            frame["status"], frame["genotype"], frame["genotype_json"], frame["metrics"],
            strict=True,
        ):  # fmt: skip
            if status == "cached":
                continue  # a cache hit costs nothing: not an evaluation
            # A failed (diverged) candidate spends an evaluation of the budget, but has no
            # score: it keeps its number on the axis and gets no point.
            self._evaluations += 1
            if status != "done":
                continue
            score = float(metrics.get("score", np.nan))
            self._scored.append(self._evaluations)
            self._scores.append(score)
            best = self._best_candidate
            if np.isfinite(score) and (best is None or score > best[0]):
                self._best_candidate = (score, genotype, text)

    def _draw_candidates(self) -> None:
        evaluated, best_line = self.candidate_figure.data
        if not self._evaluations or _length(best_line.x) == self._evaluations:
            return
        self.candidate_plot.layout.display = None
        # A discrete search has no alphas: its candidates take the alpha figure's place.
        no_alphas = self.run.alphas.empty
        for view in (self.alpha_plot, self.cell_type, self.alpha_scale):
            view.layout.display = "none" if no_alphas else None
        xs = np.asarray(self._scored, dtype=int)
        scores = np.asarray(self._scores, dtype=float)
        # The best so far at every evaluation, failed ones included (NaN before any score).
        per_evaluation = np.full(self._evaluations, np.nan)
        per_evaluation[xs - 1] = scores
        with self.candidate_figure.batch_update():
            evaluated.x, evaluated.y = xs, scores
            best_line.x = np.arange(1, self._evaluations + 1)
            best_line.y = np.fmax.accumulate(per_evaluation)
        _tick_counts(self.candidate_figure, [best_line.x])
        self.candidate_plot.push()

    def _draw_hp_policy(self) -> None:
        """Redraw the HP policy when new candidates carried one: the same traces grow, so
        the browser is sent the new points only."""
        from nasbench.viz import plot_hp_distribution

        if len(self._hp_policy) == self._hp_drawn:
            return
        drawn = plot_hp_distribution(pd.concat(self._hp_policy, ignore_index=True))
        figure = self.hp_figure
        if [t.name for t in figure.data] != [t.name for t in drawn.data]:
            figure.data = ()
            figure.layout = drawn.layout
            figure.add_traces(drawn.data)
        else:
            with figure.batch_update():
                for trace, new in zip(figure.data, drawn.data, strict=True):
                    trace.x, trace.y = new.x, new.y
        _tick_counts(figure, [trace.x for trace in figure.data if trace.x is not None])
        self._hp_drawn = len(self._hp_policy)
        self.hp_plot.layout.display = None
        self.hp_plot.push()

    # --------------------------------------------------------------- genotype
    def _draw_genotype(self) -> None:
        from nasbench.runs.returned import returned_genotype_row

        frame = self.run.genotypes
        if frame.empty:
            self._draw_best_candidate()
            return
        # The latest cell, until RobustDARTS's early stop fires: the search then returns an
        # earlier epoch's cell (the one retrained and reported), not the collapsing one it
        # stopped on.
        last = returned_genotype_row(frame, self.run.events)
        title = (
            # Epochs counted from 1, as the status line counts them.
            f"<b>derived genotype</b> after epoch {int(last['epoch']) + 1} "
            f"(step {int(last['step'])})"
        )
        if last.name != frame.index[-1]:
            title = (
                f"<b>returned genotype</b>: epoch {int(last['epoch']) + 1} (step "
                f"{int(last['step'])}), before the collapse the early stop after epoch "
                f"{int(frame.iloc[-1]['epoch']) + 1} detected"
            )
        if not self.run.candidates.empty:
            title = f"<b>best genotype</b> after {int(last['step'])} evaluations"
        # The title too: the returned cell may be the same as the one stopped on.
        if (last["genotype_json"], title) == (self._genotype_json, self.genotype_title.value):
            return
        self._genotype_json = last["genotype_json"]
        genotype = last["genotype"]
        self.genotype_title.value = title
        if genotype is None:
            self.genotype.value = message_html("this genotype could not be parsed.", "error")
            return
        show_drawing(self.genotype, lambda: self._drawing(genotype))

    def _drawing(self, genotype: Any) -> Any:
        """The genotype drawn in the run's own skeleton (a reconstruction run's cascades),
        as the report and the genotype viewer draw it."""
        from nasbench.viz.genotype_graph import draw_run_genotype, run_skeleton

        return draw_run_genotype(genotype, run_skeleton(self.run.config))

    def _draw_best_candidate(self) -> None:
        """While a discrete search runs, draw the best candidate evaluated so far."""

        if self._best_candidate is None or self._best_candidate[2] == self._genotype_json:
            return
        score, genotype, text = self._best_candidate
        self._genotype_json = text
        self.genotype_title.value = f"<b>best candidate so far</b> (score {score:.4g})"
        if genotype is not None:
            show_drawing(self.genotype, lambda: self._drawing(genotype))

    @property
    def alpha_figure(self) -> go.Figure:
        """The live alpha figure (edit it, then ``alpha_plot.push()``)."""
        return self.alpha_plot.figure

    @property
    def history_figure(self) -> go.Figure:
        """The live loss and metric figure."""
        return self.history_plot.figure

    @property
    def agent_figure(self) -> go.Figure:
        """The live per-agent reward and distance of a localisation search (else empty)."""
        return self.agent_plot.figure

    @property
    def hp_figure(self) -> go.Figure:
        """The live hyper-parameter policy of a joint search (empty for other runs)."""
        return self.hp_plot.figure

    @property
    def candidate_figure(self) -> go.Figure:
        """The live figure of a discrete search's evaluations."""
        return self.candidate_plot.figure

    # ------------------------------------------------------------------ state
    def _show_error(self, headline: str) -> None:
        tail = stderr_tail(self.run_dir)
        detail = ""
        if tail:
            detail = f"<pre style='max-height:16em;overflow:auto'>{html.escape(tail)}</pre>"
        self.error.value = message_html(headline, "error", detail)

    def _process_wrote(self, run: Any) -> bool:
        """Whether the process this monitor holds wrote a status into the run's store."""
        pids = run.status_history["pid"]
        return bool((pids == self.process.pid).any())

    def _another_writer_took_over(self, run: Any, alive: bool | None) -> bool:
        """Whether another writer took the run after this monitor's process exited with an
        error: a status row written since that exit was first seen, or a writer that came
        since (one alive then held the run all along, e.g. the busy lock that failed it).
        Rows written between the exit and the poll that first saw it count as older."""
        if not self._taken_over:
            rows = len(run.status_history)
            if self._exit_seen is None:
                self._exit_seen = (rows, bool(alive))
            elif rows > self._exit_seen[0] or (alive and not self._exit_seen[1]):
                self._taken_over = True  # for good: that writer may die without a row
        return self._taken_over

    def _show_state(self, alive: bool | None, starting: str | None = None) -> None:
        """Show the run's status; ``alive`` is whether a process wrote it and ``starting``
        the command a process announced it takes it over with, both read before the rows:
        the status `nasbench runs` shows (:func:`shown_status`), so Stop is enabled where
        `nasbench stop` would ask a search to stop."""
        run = self.run
        # The log's word on a retrain counts only with a live writer and no announcement;
        # read (one more query) only when the run has ever been retrained.
        retrain = (
            bool(alive)
            and starting is None
            and bool((run.events["kind"] == "retrain_started").any())
            and retraining(self.run_dir)
        )
        status, error = shown_status(run.status, alive, retrain, starting), ""
        code = None if self.process is None else self.process.poll()
        # Once another writer (a resume from the CLI or another tab) took the run after
        # this monitor's process failed, that process's exit says nothing about the run.
        if code not in (None, 0) and self._another_writer_took_over(run, alive):
            code = None
        if code is not None and code > 0 and code != 130 and not self._process_wrote(run):
            # A resume that failed before it took the store over (a user module that fails
            # to import, a busy writer lock): the store still says how the last process left
            # it. One interrupted (130) or killed by a signal (< 0) left it as it was.
            left = KILLED if run.status == "running" and not alive else run.status
            # A live writer (whose busy lock failed it) goes on: the store's word for that.
            status = status if alive or starting else "failed"
            error = (
                f"the search process exited with code {code} before it took over the run "
                f"(still {left}, as the last process left it){_last_error(self.run_dir)}"
            )
        elif status == KILLED and self.process_alive:
            status = run.status  # this monitor's own process lives: it takes the run over
        elif status == KILLED:  # as `nasbench runs` calls it
            error = (
                "the search process is gone (killed?); Resume continues from the last checkpoint."
            )
        elif status == "failed":
            error = run.message or "the search failed."
        elif code not in (None, 0) and status not in TERMINAL:
            status = "failed"
            error = f"the search process exited with code {code}."
        if error:
            self._show_error(error)
        elif self._status_error:  # e.g. a killed run that another process resumed since
            self.error.value = ""
        self._status_error = bool(error)
        if self._booting and not self.process_alive:
            self._booting = ""
        elif self._booting and status not in TERMINAL and alive is not False:
            self._booting = ""  # the new process writes the store now
        if self._booting:
            status = self._booting
            self.error.value = ""
        progress = run.progress
        total = progress["total_steps"]
        self.progress.max = max(1, int(total or 1))
        self.progress.value = min(int(progress["step"]), self.progress.max)
        self.progress.bar_style = {"finished": "success", "failed": "danger", KILLED: "danger",
                                   "stopped": "warning"}.get(status, "")  # fmt: skip
        parts = [f"<b>{html.escape(status)}{'…' if status == self._booting else ''}</b>"]
        if total:
            parts.append(f"step {progress['step']}/{total}")
        if progress["total_epochs"]:
            parts.append(f"epoch {min(progress['epoch'] + 1, progress['total_epochs'])}"
                         f"/{progress['total_epochs']}")  # fmt: skip
        if status == "running" and format_eta(progress["eta_s"]):
            parts.append(f"ETA {format_eta(progress['eta_s'])}")
        if status == "running" and run.stop_pending:
            parts.append("<i>stop requested</i>")
        if status == "finished" and total and progress["step"] < total:
            # A budget (time, a strategy with nothing left) ended it short of its steps: a
            # part-filled green bar alone would read as a search that missed its end.
            parts.append(html.escape(END_REASONS.get(run.message, "ended early")))
        self.status_text.value = " · ".join(parts)
        self.stop_button.disabled = status in TERMINAL or status == RETRAINING  # reads no stop
        self.report_button.disabled = False
        # Judged again only when a row they read arrived: a poll with nothing new stays cheap.
        seen = (len(run.events), len(run.genotypes), len(run.history), len(run.alphas))
        if seen != self._warnings_seen:
            warnings = collapse_warnings(run)
            self.warnings.value = "".join(message_html(w, "warning") for w in warnings)
            self._warnings_seen = seen
        self.status = status


def _last_error(run_dir: str | os.PathLike) -> str:
    """``": <the error>"`` when the run's stderr ends with the CLI's one-line error, else
    ``"."``: the line that says why the last process exited."""
    error = last_error(run_dir)
    return f": {error}" if error else "."


def _one_line(err: BaseException) -> str:
    """A person's one line for an error: the product's own message, or what SQLite or the
    file system said, with what to do."""
    if isinstance(err, NasbenchError):
        return str(err)
    text = " ".join(str(err).split()) or type(err).__name__
    if isinstance(err, sqlite3.DatabaseError):
        return (
            f"the run store cannot be read any more ({text}); the search may go on, but "
            "this view cannot follow it: reopen the run from the Runs tab."
        )
    if isinstance(err, OSError):
        return f"{text}; check that the run folder still exists and can be written."
    return f"{type(err).__name__}: {text}"
