"""Explore the alpha snapshots of a run: step slider + play, heatmap or lines, edge entropy.

The snapshots of one cell are held as a cube ``[snapshot, edge, op]`` of
softmax weights (``nasbench.runs.alpha_summary.alpha_cube``), so moving the slider
only swaps the heatmap's ``z`` and the entropy bars' ``y``. By default the weights
are shown as their change from uniform (alpha - 1/K) on a colour scale centred on 0
and fitted to the run; a toggle shows the absolute weights. The Play button is
linked to the slider in the browser (``jslink``), so an animation needs no kernel
round trip per frame beyond the slider's own update.

A joint architecture + hyper-parameter search (AutoHAS) records its policy over each
hyper-parameter's choices with every candidate; for such a run the explorer also draws
that policy over the search (``nasbench.viz.plot_hp_distribution``), the hyper-parameter
counterpart of the alpha trajectories.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from nasbench.errors import ConfigError, NasbenchError
from nasbench.runs.alpha_summary import (
    alpha_cube,
    deviation_from_uniform,
    edge_entropy,
    edge_targets,
    is_path_probability,
    node_entropy,
)
from widgets._figures import LivePlot, close_widgets
from widgets._layout import wrapping_row
from widgets._svg import message_html

ENTROPY_TITLE = "entropy of each edge's op weights (nats; lower = more decided)"


def decimals_for(reach: float) -> int:
    """Decimals that show values up to ``reach`` with two significant digits, at least 3.

    Example:
        >>> decimals_for(0.2), decimals_for(0.00025)
        (3, 5)
    """
    if not np.isfinite(reach) or reach <= 0:
        return 3
    return max(3, int(np.ceil(-np.log10(reach))) + 1)


def weight_quantity(cell_type: Any, kind: str, edge_betas: bool = False) -> tuple[str, str, str]:
    """What a matrix's weights are called, and the undecided share the change-from-uniform
    view subtracts from them (:func:`nasbench.runs.alpha_summary.uniform_weights`).

    Args:
        cell_type: the cell type of the rows.
        kind: their kind ("alpha", "beta", "gate", ...).
        edge_betas: the matrix is PC-DARTS's edge betas, a softmax over each node's
            incoming edges (:func:`nasbench.runs.alpha_summary.edge_targets` is not None).

    Returns:
        ``(symbol, share, note)``: ``"β"`` for every beta matrix (PC-DARTS's edge betas, the
        trellis's scale betas), ``"p"`` for DiNTS's path probabilities, else ``"α"``; the
        share (``"1/K"``, ``"1/n"``, ``"1/2"``, ``"p₀"``) and what it is a share of.

    Example:
        >>> weight_quantity("trellis", "beta")[:2], weight_quantity("normal", "beta", True)[:2]
        (('β', '1/K'), ('β', '1/n'))
    """
    if is_path_probability(cell_type, kind):
        return "p", "p₀", " (the undecided path probability, 0.5/(1 − 0.5^K))"
    symbol = "β" if kind == "beta" else "α"
    if edge_betas:
        return symbol, "1/n", " (n: the edges into its node)"
    if kind == "gate":
        return symbol, "1/2", " (of the two ops sampled per edge)"
    return symbol, "1/K", ""


def relabel_scale(toggle: widgets.ToggleButtons, quantity: tuple[str, str, str]) -> bool:
    """Name a "values" toggle's options after the quantity shown (``"β − 1/n"``, ``"β"``),
    keeping its choice; False when they were named so already.

    Setting a toggle's options selects its first: the caller ignores the value changes
    this makes (its observer would redraw twice for nothing).
    """
    symbol, share, _ = quantity
    options = ((f"{symbol} − {share}", "deviation"), (symbol, "absolute"))
    if tuple(toggle.options) == options:
        return False
    value = toggle.value
    toggle.options = options
    toggle.value = value
    return True


def _folder(run: str | os.PathLike) -> Path:
    """The folder a run folder or a Run names, as a Run names it (``~`` expanded)."""
    return Path(os.fspath(run)).expanduser()


def _read_run(run: Any) -> tuple[Any, pd.DataFrame, pd.DataFrame]:
    """``run``'s folder, alpha snapshots and candidates; a one-line error when unreadable."""
    from nasbench.runs import Run, load

    if isinstance(run, Run):
        return run.run_dir, run.alphas, run.candidates
    if not isinstance(run, (str, os.PathLike)):
        raise ConfigError(
            f"AlphaExplorer shows a run folder or a nasbench.runs.Run, got {run!r}; "
            'pass e.g. "runs/darts-1".'
        )
    with load(run) as opened:
        return run, opened.alphas, opened.candidates


class AlphaExplorer(widgets.VBox):
    """Step through a run's alpha snapshots.

    Args:
        run: a run folder or a :class:`nasbench.runs.Run` (or set one later with :meth:`set_run`).

    Raises:
        NasbenchError: ``run`` cannot be read (a missing folder, a damaged store), or is
            neither a folder nor a Run.

    Example:
        >>> explorer = AlphaExplorer("runs/darts-1")  # doctest: +SKIP
        >>> explorer.slider.value = 0  # the heatmap shows the first snapshot  # doctest: +SKIP
    """

    def __init__(self, run: Any = None) -> None:
        # Named by the person who builds the view: a run that cannot be read raises here
        # (set_run, which the workbench calls on the kernel loop, shows it in the view).
        read = _read_run(run) if run is not None else None
        self.alphas = pd.DataFrame()
        self.steps = np.zeros(0, dtype=np.int64)
        self.edges: list[str] = []
        self.ops: list[str] = []
        self.cube = np.zeros((0, 0, 0))
        self.targets: list[str] | None = None  # each edge's node, for edge betas (else None)
        self.shown = self.cube  # what the figures show: the cube, or its change from uniform
        self.title = widgets.HTML("<i>no run open</i>")
        # Short descriptions name the toggles for a screen reader without widening their row.
        self.cell_type = widgets.ToggleButtons(
            options=["normal", "reduce"], value="normal", description="cell"
        )
        self.kind = widgets.Dropdown(options=["alpha"], value="alpha", description="matrices")
        self._run_dir: Path | None = None  # the folder shown (or asked for, when unreadable)
        self.slider = self._snapshot_slider(0, 0)
        # Its buttons are icons only: the tooltip (the view's title) says what they do.
        self.play = widgets.Play(
            value=0, min=0, max=0, interval=300, description="play",
            tooltip="play the snapshots in order (pause, stop, repeat)",
        )  # fmt: skip
        self.play.add_class("nasbench-alpha-play")
        self._play_link = widgets.jslink((self.play, "value"), (self.slider, "value"))
        self.step_label = widgets.HTML()
        self.edge = widgets.Dropdown(options=[], description="edge")
        self.mode = widgets.ToggleButtons(
            options=["heatmap", "lines"], value="heatmap", description="view",
            tooltips=["one snapshot: every edge and op", "one edge's op weights over the steps"],
        )  # fmt: skip
        self.mode.add_class("nasbench-alpha-mode")
        self.scale = widgets.ToggleButtons(
            options=[("α − 1/K", "deviation"), ("α", "absolute")], value="deviation",
            description="values",
            tooltips=["each weight minus its share were nothing decided: 1/K of its edge's "
                      "ops (edge betas: 1/n of its node's edges; gates: 1/2; DiNTS's path "
                      "probabilities: their value at zero logits)", "the weights"],
        )  # fmt: skip
        self.scale.add_class("nasbench-alpha-scale")
        self.heatmap_plot = LivePlot(
            go.Figure(
                [go.Heatmap(z=[], colorscale="RdBu", reversescale=True, texttemplate="%{z:.3f}",
                            hovertemplate="%{y} · %{x}<br>%{z:.3f}<extra></extra>")],
                layout={"xaxis_title": "op", "yaxis_title": "edge",
                        "yaxis_autorange": "reversed", "height": 360},
            ),
            classes=("nasbench-alpha-heatmap",),
        )  # fmt: skip
        self.lines_plot = LivePlot(
            go.Figure(layout={"xaxis_title": "step", "height": 360}),
            classes=("nasbench-alpha-lines",),
        )
        self.entropy_plot = LivePlot(
            go.Figure(
                [go.Bar(x=[], y=[], marker_color="#4c72b0", name="entropy",
                        hovertemplate="%{x}<br>%{y:.3f} nats<extra></extra>")],
                layout={"title": ENTROPY_TITLE, "xaxis_title": "edge", "yaxis_title": "entropy",
                        "height": 300},
            ),
            classes=("nasbench-alpha-entropy",),
        )  # fmt: skip
        self.hp_plot = LivePlot(go.Figure(), classes=("nasbench-hp-policy",))
        self.hp_plot.layout.display = "none"
        self.message = widgets.HTML()
        self.cell_type.observe(lambda _: self._on_cell_type(), "value")
        self.kind.observe(lambda _: self._load_cell(), "value")
        self.edge.observe(lambda _: self._draw_lines(), "value")
        self.mode.observe(lambda _: self._show_mode(), "value")
        self._relabelling = False  # the scale's options are being renamed: no redraw
        self.scale.observe(lambda _: self._relabelling or self._load_cell(), "value")
        self.alpha_controls = (
            wrapping_row([self.cell_type, self.kind]),
            wrapping_row([self.play, self.slider, self.step_label]),
            wrapping_row([self.mode, self.scale, self.edge]),
        )
        super().__init__(
            children=[
                self.title,
                *self.alpha_controls,
                self.message,
                self.heatmap_plot,
                self.lines_plot,
                self.entropy_plot,
                self.hp_plot,
            ]
        )
        self.add_class("nasbench-alpha-explorer")
        self._show_mode()
        if read is not None:
            self._show_run(*read)

    def set_run(self, run: Any) -> None:
        """Explore the snapshots of ``run`` (a run folder or a Run).

        A folder that cannot be read (missing, damaged) is shown as a one-line message.

        Args:
            run: a run folder or a :class:`nasbench.runs.Run`.

        Raises:
            ConfigError: ``run`` is neither.

        Example:
            >>> AlphaExplorer().set_run("/no/such/run")  # the view says why; no raise
        """
        read = self._read_or_show_problem(run)
        if read is not None:
            self._show_run(*read)

    def follow(self, run: Any, keep_slider: bool = False) -> None:
        """Show the snapshots ``run`` recorded since it was shown (a running search's),
        keeping the cell, matrices, view and edge chosen, and the snapshot unless it was
        the last one, which follows to the new last; another run is shown afresh.

        Args:
            run: the run shown: a :class:`nasbench.runs.Run` (e.g. the Monitor's, whose
                rows are read already) or its folder.
            keep_slider: grow the slider shown (a person may be dragging it) rather than
                put a new one in its place (see :meth:`_replace_slider`), unless it is on
                the last snapshot: following then, it is replaced.

        Raises:
            ConfigError: ``run`` is neither a folder nor a Run.

        Example:
            >>> explorer = AlphaExplorer("runs/darts-1")  # doctest: +SKIP
            >>> explorer.follow("runs/darts-1")  # new snapshots, view kept  # doctest: +SKIP
        """
        if not isinstance(run, (str, os.PathLike)) or _folder(run) != self._run_dir:
            self.set_run(run)
            return
        read = self._read_or_show_problem(run)
        if read is None:
            return
        followed = self.slider.value == self.slider.max  # the last snapshot: stay on the last
        snapshot = None if followed else self.slider.value
        self._take_run(*read)
        cells = self._cell_types()
        if list(self.cell_type.options) != cells:  # a cell type recorded since
            current = self.cell_type.value
            self.cell_type.options = cells
            self.cell_type.value = current if current in cells else cells[0]
        self._offer_kinds()
        # A slider on the last snapshot is following, not being dragged: a new one, so its
        # End key reaches the new last (a grown one would end where it was first drawn).
        self._load_cell(snapshot, keep_slider and not followed)

    def _read_or_show_problem(self, run: Any) -> tuple[Any, pd.DataFrame, pd.DataFrame] | None:
        """:func:`_read_run`, or None with the reason shown when the folder cannot be read."""
        from widgets.monitor import unreadable_run_text  # the monitor imports this module

        try:
            return _read_run(run)
        except NasbenchError as err:
            if not isinstance(run, (str, os.PathLike)):
                raise
            self.show_problem(run, unreadable_run_text(run, err, "alpha snapshots"))
            return None

    def _take_run(self, run_dir: Any, alphas: pd.DataFrame, candidates: pd.DataFrame) -> None:
        """Hold ``run_dir``'s alphas and draw its hyper-parameter policy."""
        from nasbench.viz import hp_distribution
        from nasbench.viz.alphas import SCHEDULE_KINDS

        self._run_dir = _folder(run_dir)
        self.alphas = alphas
        self.title.value = f"<b>run</b>: {html.escape(str(run_dir))}"
        self._draw_hp_policy(hp_distribution(candidates))
        # GDAS's temperature (the "global" cell's tau) is a schedule, not weights over ops.
        self.alphas = self.alphas[~self.alphas["kind"].isin(SCHEDULE_KINDS)]

    def _cell_types(self) -> list[str]:
        """The cell types the run's alphas record, in order ("normal" when none)."""
        return [str(c) for c in dict.fromkeys(self.alphas["cell_type"])] or ["normal"]

    def _show_run(self, run_dir: Any, alphas: pd.DataFrame, candidates: pd.DataFrame) -> None:
        self._take_run(run_dir, alphas, candidates)
        cells = self._cell_types()
        with self.hold_trait_notifications():
            self.cell_type.options = cells
            self.cell_type.value = cells[0]
            # A newly opened run starts on its alphas, whatever kind the last one showed.
            self._offer_kinds(keep=False)
        self._load_cell()

    def show_problem(self, run_dir: str | os.PathLike, problem: str) -> None:
        """Show that ``run_dir`` cannot be explored, and why, with nothing of an earlier run.

        Args:
            run_dir: the folder that was asked for.
            problem: the one-line reason (e.g. the run store is damaged).
        """
        self._run_dir = _folder(run_dir)
        self.alphas = self.alphas.iloc[0:0]
        self.title.value = f"<b>run</b>: {html.escape(str(run_dir))}"
        self._draw_hp_policy(pd.DataFrame())  # hides every alpha view: there are no alphas
        self._forget_cell()
        self.message.value = message_html(problem, "error")

    def close(self) -> None:
        """Close every widget of the explorer, the play button's browser-side link too.

        Example:
            >>> AlphaExplorer().close()
        """
        if self.comm is None:
            return  # closed already (ipywidgets' __del__ calls close again)
        try:
            from ipywidgets.widgets import widget as registry
            from ipywidgets.widgets.widget_link import Link
        except ImportError:  # Python exits (this is ipywidgets' __del__): nothing to free
            return

        # The jslink is a widget model of its own that only the kernel's registry holds
        # (``_instances`` since ipywidgets 8.1, ``Widget.widgets`` before).
        models = getattr(registry, "_instances", None)
        for model in list((models if models is not None else widgets.Widget.widgets).values()):
            if isinstance(model, Link) and model.source[0] is self.play:
                model.close()
        close_widgets(self)

    def _offer_kinds(self, keep: bool = True) -> None:
        """Offer the kinds of matrix the chosen cell type recorded (a trellis run: the cell's
        alphas and PC-DARTS edge betas, the trellis's scale betas), alphas first; with
        ``keep``, the kind chosen stays when the cell recorded it too."""
        frame = self.alphas
        if frame.empty:
            kinds = ["alpha"]
        else:
            mine = frame.loc[frame["cell_type"].astype(str) == self.cell_type.value, "kind"]
            kinds = [str(k) for k in dict.fromkeys(mine)] or ["alpha"]
        current = self.kind.value
        self.kind.options = kinds
        self.kind.value = current if keep and current in kinds else ("alpha" if "alpha" in kinds
                                                            else kinds[0])  # fmt: skip

    def _on_cell_type(self) -> None:
        with self.hold_trait_notifications():
            self._offer_kinds()
        self._load_cell()

    def _draw_hp_policy(self, policy: pd.DataFrame) -> None:
        """Show the run's hyper-parameter policy, or hide its figure when it has none."""
        from nasbench.viz import plot_hp_distribution

        figure = self.hp_figure
        figure.data = ()
        if policy.empty:
            figure.layout = {}
        else:
            drawn = plot_hp_distribution(policy)
            figure.layout = drawn.layout
            figure.add_traces(drawn.data)
        self.hp_plot.layout.display = "none" if policy.empty else None
        self.hp_plot.push()
        # A joint HP search of a discrete strategy has no alphas: no alpha views to show.
        alpha_views = (*self.alpha_controls, self.heatmap_plot, self.lines_plot, self.entropy_plot)
        # No alphas: hide their views, so nothing of a run shown before stays on screen.
        hide = self.alphas.empty
        for view in alpha_views:
            view.layout.display = "none" if hide else None
        if not hide:
            self._show_mode()

    def _snapshot_slider(self, value: int, last: int) -> widgets.IntSlider:
        """A snapshot slider over ``0..last`` at ``value`` that shows the snapshot picked."""
        slider = widgets.IntSlider(value=value, min=0, max=last, description="snapshot",
                                   continuous_update=True)  # fmt: skip
        slider.add_class("nasbench-alpha-slider")
        slider.observe(lambda _: self.show_step(), "value")
        return slider

    def _fit_slider(self, last: int, value: int, keep: bool) -> None:
        """Give the slider the range ``0..last`` (at ``value`` when replaced)."""
        if last == self.slider.max:
            return
        if keep:
            self.slider.max = last
        else:
            self._replace_slider(last, value)

    def _replace_slider(self, last: int, value: int) -> None:
        """Put a new slider over ``0..last`` at ``value`` in the old one's place, linked to
        Play as it was.

        ipywidgets 8.1.9's slider keeps the range it was first drawn with for its End key:
        one whose max changed after (another run, another cell) would jump to the end of
        what was shown before.
        """
        old = self.slider
        self._play_link.close()  # first: Play's new value must not reach the old slider
        self.play.value = value  # the new link starts the slider at Play's value
        self.slider = self._snapshot_slider(value, last)
        self._play_link = widgets.jslink((self.play, "value"), (self.slider, "value"))
        row = self.alpha_controls[1]
        row.children = tuple(self.slider if child is old else child for child in row.children)
        close_widgets(old)

    def _load_cell(self, snapshot: int | None = None, keep_slider: bool = False) -> None:
        """Show the chosen cell's matrices at ``snapshot`` (the last when None or past the
        end); ``keep_slider``: see :meth:`follow`."""
        if self.alphas.empty:
            note = (
                "this run has no alpha snapshots; below: its hyper-parameter policy."
                if self.hp_figure.data
                else "this run has no alpha snapshots: a discrete search records none, and a "
                "search killed before its first step has none yet."
            )
            self.message.value = message_html(note, "info")
            self._forget_cell()
            return
        self.steps, self.edges, self.ops, self.cube = alpha_cube(
            self.alphas, self.cell_type.value, self.kind.value
        )
        # PC-DARTS's edge betas are a softmax over each node's incoming edges, not over ops.
        self.targets = edge_targets(self.edges, len(self.ops), self.kind.value)
        self._relabelling = True
        try:
            relabel_scale(self.scale, self.quantity)
        finally:
            self._relabelling = False
        self.shown = (
            deviation_from_uniform(self.cube, self.edges, self.kind.value, self.cell_type.value)
            if self.deviation
            else self.cube
        )
        last = max(len(self.steps) - 1, 0)
        shown = last if snapshot is None else min(snapshot, last)
        # The slider's range first: a new edge list resets the edge picker, whose observer
        # draws the lines at the slider's step, which must be one of this run's.
        self.play.max = last
        self._fit_slider(last, shown, keep_slider)
        # DiNTS's path probabilities are no distribution over a block's paths: no entropy.
        self.message.value = (
            message_html(
                "these are DiNTS's path probabilities (MONAI's sigmoid over one minus the "
                "chance of no path), not a softmax: no entropy is shown.",
                "info",
            )
            if self.paths
            else ""
        )
        self.entropy_plot.layout.display = "none" if self.paths else None
        current = self.edge.value
        self.edge.options = self.edges
        if self.edges:
            self.edge.value = current if current in self.edges else self.edges[0]
        heatmap = self.heatmap.data[0]
        heatmap.x, heatmap.y = self.ops, self.edges
        # One colour scale for every snapshot of the run, fitted to its values: the slider
        # then shows change, and 8 near-uniform weights do not all read the same colour.
        reach = float(np.nanmax(np.abs(self.shown))) if np.isfinite(self.shown).any() else 1.0
        digits = decimals_for(reach)
        heatmap.texttemplate = f"%{{z:.{digits}f}}"
        heatmap.hovertemplate = f"%{{y}} · %{{x}}<br>%{{z:.{digits}f}}<extra></extra>"
        if self.deviation:
            heatmap.update(zmid=0.0, zmin=-reach, zmax=reach, colorscale="RdBu",
                           colorbar={"title": self.minus_uniform})  # fmt: skip
        else:
            low = float(np.nanmin(self.shown)) if np.isfinite(self.shown).any() else 0.0
            heatmap.update(zmid=None, zmin=low, zmax=max(reach, low + 1e-3),
                           colorscale="Viridis", colorbar={"title": self.symbol})  # fmt: skip
        self.heatmap.layout.height = max(300, 40 * len(self.edges) + 160)
        bars = self.entropy.data[0]
        if self.targets is not None:
            bars.x = [f"node {node}" for node in dict.fromkeys(self.targets)]
            most = max(self.targets.count(t) for t in self.targets)
            self.entropy.layout.title.text = (
                "entropy of each node's weights over its incoming edges (nats; lower = more "
                "decided)"
            )
            self.entropy.layout.xaxis.title.text = "node"
        else:
            bars.x = self.edges
            # A gate is a softmax over the edge's two sampled ops.
            most = 2 if self.kind.value == "gate" else len(self.ops)
            self.entropy.layout.title.text = ENTROPY_TITLE
            self.entropy.layout.xaxis.title.text = "edge"
        self.entropy.layout.yaxis.range = [0, np.log(max(most, 2)) * 1.05]
        if self.slider.value != shown:
            self.slider.value = shown  # observer shows it
        else:
            self.show_step()
        self._draw_lines()

    @property
    def deviation(self) -> bool:
        """True when weights are shown as their change from uniform (alpha - 1/K)."""
        return self.scale.value == "deviation"

    @property
    def paths(self) -> bool:
        """True when the cell shows DiNTS's path probabilities rather than a softmax."""
        return is_path_probability(self.cell_type.value, self.kind.value)

    @property
    def quantity(self) -> tuple[str, str, str]:
        """The shown matrix's symbol, uniform share and what that is a share of (see
        :func:`weight_quantity`)."""
        return weight_quantity(self.cell_type.value, self.kind.value, self.targets is not None)

    @property
    def uniform(self) -> tuple[str, str]:
        """The uniform share the deviation view subtracts, and what it is a share of."""
        return self.quantity[1:]

    @property
    def minus_uniform(self) -> str:
        """What the deviation view shows: ``"α − 1/K"`` (``"β − 1/n"`` for edge betas)."""
        return f"{self.symbol} − {self.uniform[0]}"

    @property
    def symbol(self) -> str:
        """``"β"`` for every beta matrix (PC-DARTS's edge betas, the trellis's scale betas),
        ``"p"`` for DiNTS's path probabilities, ``"α"`` for weights over ops."""
        return self.quantity[0]

    def _forget_cell(self) -> None:
        """Drop the matrices of a run shown before, with the figures and ranges made of them
        (a run without alphas hides those views, which must not hold the old run)."""
        self.steps = np.zeros(0, dtype=np.int64)
        self.edges, self.ops, self.targets = [], [], None
        self.cube = self.shown = np.zeros((0, 0, 0))
        self.play.max = self.slider.max = 0
        self.step_label.value = ""
        self.edge.options = []
        heatmap = self.heatmap.data[0]
        heatmap.x, heatmap.y, heatmap.z = [], [], []
        self.heatmap.layout.title = None
        self.entropy.data[0].x, self.entropy.data[0].y = [], []
        self.lines.data = ()
        self.lines.layout.shapes = []
        self.lines.layout.title = None
        for plot in (self.heatmap_plot, self.entropy_plot, self.lines_plot):
            plot.push()

    def show_step(self, index: int | None = None) -> None:
        """Show snapshot ``index`` (the slider's value when None) in the heatmap and bars."""
        if not len(self.steps):
            return
        index = self.slider.value if index is None else index
        count = len(self.steps)
        if isinstance(index, bool) or not isinstance(index, int) or not -count <= index < count:
            raise ConfigError(
                f"snapshot index must be a whole number from 0 to {count - 1} (or negative "
                f"from the end), got {index!r}."
            )
        index %= count  # -1 is the last snapshot, and is labelled as such
        step = int(self.steps[index])
        self.step_label.value = f"step <b>{step}</b> ({index + 1}/{len(self.steps)})"
        self.heatmap.data[0].z = self.shown[index]
        weights = "path probabilities" if self.paths else f"{self.kind.value} weights"
        self.heatmap.layout.title = (
            f"{self.cell_type.value} cell {weights}"
            f"{' − ' + ''.join(self.uniform) if self.deviation else ''} at step {step}"
        )
        if self.paths:
            self.entropy.data[0].y = []  # hidden: see _load_cell
        elif self.targets is not None:
            self.entropy.data[0].y = node_entropy(self.cube[index], self.edges)[1]
        else:
            self.entropy.data[0].y = edge_entropy(self.cube[index])
        if self.lines.layout.shapes:
            self.lines.layout.shapes[0].x0 = step
            self.lines.layout.shapes[0].x1 = step
        for plot in (self.heatmap_plot, self.entropy_plot, self.lines_plot):
            plot.push()

    def _draw_lines(self) -> None:
        from nasbench.viz import op_line

        edge = self.edge.value
        if edge is None or edge not in self.edges:
            return
        e = self.edges.index(edge)
        step = int(self.steps[self.slider.value]) if len(self.steps) else 0
        value = self.minus_uniform if self.deviation else self.symbol
        self.lines.data = ()
        for o, op in enumerate(self.ops):
            self.lines.add_scatter(
                x=self.steps, y=self.shown[:, e, o], mode="lines", name=op,
                line=op_line(op, self.ops),
                hovertemplate=f"{op}<br>step %{{x}}<br>{value} %{{y:.4g}}<extra></extra>",
            )  # fmt: skip
        self.lines.layout.shapes = [
            {"type": "line", "x0": step, "x1": step, "y0": 0, "y1": 1, "yref": "paper",
             "line": {"dash": "dot", "color": "grey"}}
        ]  # fmt: skip
        weights = "path probabilities" if self.paths else f"{self.kind.value} weights"
        self.lines.layout.title = f"edge {edge}: {weights} over steps"
        self.lines.layout.yaxis.title = value
        self.lines_plot.push()

    @property
    def heatmap(self) -> go.Figure:
        """The heatmap of one snapshot (edit it, then ``heatmap_plot.push()``)."""
        return self.heatmap_plot.figure

    @property
    def lines(self) -> go.Figure:
        """One edge's op weights over the steps."""
        return self.lines_plot.figure

    @property
    def hp_figure(self) -> go.Figure:
        """The hyper-parameter policy over the search (empty for a run without one)."""
        return self.hp_plot.figure

    @property
    def entropy(self) -> go.Figure:
        """The entropy of each edge's op weights."""
        return self.entropy_plot.figure

    def _show_mode(self) -> None:
        heat = self.mode.value == "heatmap"
        self.heatmap_plot.layout.display = None if heat else "none"
        self.lines_plot.layout.display = "none" if heat else None
