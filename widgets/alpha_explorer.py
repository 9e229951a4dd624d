"""Explore the alpha snapshots of a run: step slider + play, heatmap or lines, edge entropy.

The snapshots of one cell are held as a cube ``[snapshot, edge, op]`` of
softmax weights, so moving the slider only swaps the heatmap's ``z`` and the
entropy bars' ``y`` in place (no new figure). The Play button is linked to the
slider in the browser (``jslink``), so an animation needs no kernel round trip
per frame beyond the slider's own update.
"""

from __future__ import annotations

import os
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from widgets._figures import FigureBox, LiveFigure
from widgets._svg import message_html


def alpha_cube(
    alphas: pd.DataFrame, cell_type: str, kind: str = "alpha"
) -> tuple[np.ndarray, list[str], list[str], np.ndarray]:
    """Arrange one cell's snapshots as a ``[snapshot, edge, op]`` array of weights.

    Args:
        alphas: a run's ``alphas`` frame.
        cell_type: which cell.
        kind: which matrices ("alpha", "beta", ...).

    Returns:
        ``(steps, edges, ops, cube)``; missing entries (ragged matrices) are NaN.

    Example:
        >>> steps, edges, ops, cube = alpha_cube(run.alphas, "normal")  # doctest: +SKIP
        >>> cube.shape == (len(steps), len(edges), len(ops))  # doctest: +SKIP
        True
    """
    frame = alphas[(alphas["cell_type"] == cell_type) & (alphas["kind"] == kind)]
    edges = [str(e) for e in dict.fromkeys(frame["edge"])]
    ops = [str(o) for o in dict.fromkeys(frame["op"])]
    steps = np.sort(frame["step"].unique())
    cube = np.full((len(steps), len(edges), len(ops)), np.nan)
    if len(frame):
        si = np.searchsorted(steps, frame["step"].to_numpy())
        ei = pd.Categorical(frame["edge"].astype(str), categories=edges).codes
        oi = pd.Categorical(frame["op"].astype(str), categories=ops).codes
        cube[si, ei, oi] = frame["weight"].to_numpy()
    return steps, edges, ops, cube


def edge_entropy(weights: np.ndarray) -> np.ndarray:
    """Entropy (nats) of each edge's op distribution; NaN entries are left out.

    Args:
        weights: ``[edges, ops]`` softmax weights.

    Returns:
        ``[edges]``: 0 when one op has all the weight, ``log(n_ops)`` when uniform.

    Example:
        >>> edge_entropy(np.array([[0.5, 0.5], [1.0, 0.0]])).round(3).tolist()
        [0.693, 0.0]
    """
    p = np.where(np.isnan(weights), 0.0, weights)
    p = p / np.clip(p.sum(axis=1, keepdims=True), 1e-12, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(p), 0.0)
    return terms.sum(axis=1)


class AlphaExplorer(widgets.VBox):
    """Step through a run's alpha snapshots.

    Args:
        run: a run folder or a :class:`nasbench.runs.Run` (or set one later with :meth:`set_run`).

    Example:
        >>> explorer = AlphaExplorer("runs/darts-1")  # doctest: +SKIP
        >>> explorer.slider.value = 0  # the heatmap shows the first snapshot  # doctest: +SKIP
    """

    def __init__(self, run: Any = None) -> None:
        self.alphas = pd.DataFrame()
        self.steps = np.zeros(0, dtype=np.int64)
        self.edges: list[str] = []
        self.ops: list[str] = []
        self.cube = np.zeros((0, 0, 0))
        self.title = widgets.HTML("<i>no run open</i>")
        self.cell_type = widgets.ToggleButtons(options=["normal", "reduce"], value="normal")
        self.kind = widgets.Dropdown(options=["alpha"], value="alpha", description="matrices")
        self.slider = widgets.IntSlider(value=0, min=0, max=0, description="snapshot",
                                        continuous_update=True)  # fmt: skip
        self.slider.add_class("nasbench-alpha-slider")
        self.play = widgets.Play(value=0, min=0, max=0, interval=300)
        self.play.add_class("nasbench-alpha-play")
        widgets.jslink((self.play, "value"), (self.slider, "value"))
        self.step_label = widgets.HTML()
        self.edge = widgets.Dropdown(options=[], description="edge")
        self.mode = widgets.ToggleButtons(options=["heatmap", "lines"], value="heatmap")
        self.mode.add_class("nasbench-alpha-mode")
        heatmap = LiveFigure(
            data=[go.Heatmap(z=[[0.0]], zmin=0.0, zmax=1.0, colorscale="Viridis",
                             texttemplate="%{z:.2f}", colorbar={"title": "weight"})],
            layout={"xaxis_title": "op", "yaxis_title": "edge", "yaxis_autorange": "reversed",
                    "height": 360},
            classes=("nasbench-alpha-heatmap",),
        )  # fmt: skip
        lines = LiveFigure(
            layout={"xaxis_title": "step", "yaxis_title": "weight", "height": 360,
                    "yaxis_range": [-0.02, 1.02]},
            classes=("nasbench-alpha-lines",),
        )  # fmt: skip
        entropy = LiveFigure(
            data=[go.Bar(x=[], y=[], marker_color="#4c72b0", name="entropy")],
            layout={"title": "entropy of each edge's op weights (nats; lower = more decided)",
                    "xaxis_title": "edge", "yaxis_title": "entropy", "height": 300},
            classes=("nasbench-alpha-entropy",),
        )  # fmt: skip
        self.message = widgets.HTML()
        # Each figure in a FigureBox: it is put back whole if its browser view goes deaf.
        self.heatmap_box = FigureBox(heatmap)
        self.lines_box = FigureBox(lines)
        self.entropy_box = FigureBox(entropy)
        self.slider.observe(lambda _: self.show_step(), "value")
        self.cell_type.observe(lambda _: self._load_cell(), "value")
        self.kind.observe(lambda _: self._load_cell(), "value")
        self.edge.observe(lambda _: self._draw_lines(), "value")
        self.mode.observe(lambda _: self._show_mode(), "value")
        super().__init__(
            children=[
                self.title,
                widgets.HBox([self.cell_type, self.kind]),
                widgets.HBox([self.play, self.slider, self.step_label]),
                widgets.HBox([self.mode, self.edge]),
                self.message,
                self.heatmap_box,
                self.lines_box,
                self.entropy_box,
            ]
        )
        self.add_class("nasbench-alpha-explorer")
        self._show_mode()
        if run is not None:
            self.set_run(run)

    def set_run(self, run: Any) -> None:
        """Explore the snapshots of ``run`` (a run folder or a Run)."""
        from nasbench.runs import load

        if isinstance(run, (str, os.PathLike)):
            with load(run) as opened:
                self.alphas = opened.alphas
            self.title.value = f"<b>run</b>: {run}"
        else:
            self.alphas = run.alphas
            self.title.value = f"<b>run</b>: {run.run_dir}"
        kinds = [str(k) for k in dict.fromkeys(self.alphas["kind"])] or ["alpha"]
        cells = [str(c) for c in dict.fromkeys(self.alphas["cell_type"])] or ["normal"]
        with self.hold_trait_notifications():
            self.kind.options = kinds
            self.kind.value = "alpha" if "alpha" in kinds else kinds[0]
            self.cell_type.options = cells
            self.cell_type.value = cells[0]
        self._load_cell()

    def _load_cell(self) -> None:
        if self.alphas.empty:
            self.message.value = message_html("this run has no alpha snapshots yet.", "info")
            return
        self.steps, self.edges, self.ops, self.cube = alpha_cube(
            self.alphas, self.cell_type.value, self.kind.value
        )
        last = max(len(self.steps) - 1, 0)
        self.message.value = ""
        current = self.edge.value
        self.edge.options = self.edges
        if self.edges:
            self.edge.value = current if current in self.edges else self.edges[0]
        with self.heatmap.batch_update():
            self.heatmap.data[0].x = self.ops
            self.heatmap.data[0].y = self.edges
            self.heatmap.layout.height = max(300, 40 * len(self.edges) + 160)
        with self.entropy.batch_update():
            self.entropy.data[0].x = self.edges
            self.entropy.layout.yaxis.range = [0, np.log(max(len(self.ops), 2)) * 1.05]
        self.heatmap_box.changed()
        self.entropy_box.changed()
        self.play.max = last
        self.slider.max = last
        if self.slider.value != last:
            self.slider.value = last  # observer shows it
        else:
            self.show_step()
        self._draw_lines()

    def show_step(self, index: int | None = None) -> None:
        """Show snapshot ``index`` (the slider's value when None) in the heatmap and bars."""
        if not len(self.steps):
            return
        index = self.slider.value if index is None else index
        weights = self.cube[index]
        step = int(self.steps[index])
        self.step_label.value = f"step <b>{step}</b> ({index + 1}/{len(self.steps)})"
        with self.heatmap.batch_update():
            self.heatmap.data[0].z = weights
            self.heatmap.layout.title = (
                f"{self.cell_type.value} cell {self.kind.value} weights at step {step}"
            )
        with self.entropy.batch_update():
            self.entropy.data[0].y = edge_entropy(weights)
        with self.lines.batch_update():
            if self.lines.layout.shapes:
                self.lines.layout.shapes[0].x0 = step
                self.lines.layout.shapes[0].x1 = step
        for box in (self.heatmap_box, self.entropy_box, self.lines_box):
            box.changed()

    def _draw_lines(self) -> None:
        from nasbench.viz import op_color

        edge = self.edge.value
        if edge is None or edge not in self.edges:
            return
        e = self.edges.index(edge)
        step = int(self.steps[self.slider.value]) if len(self.steps) else 0
        with self.lines.batch_update():
            self.lines.data = ()
            for o, op in enumerate(self.ops):
                self.lines.add_scatter(
                    x=self.steps, y=self.cube[:, e, o], mode="lines", name=op,
                    line={"color": op_color(op)},
                )  # fmt: skip
            self.lines.layout.shapes = [
                {"type": "line", "x0": step, "x1": step, "y0": 0, "y1": 1, "yref": "paper",
                 "line": {"dash": "dot", "color": "grey"}}
            ]  # fmt: skip
            self.lines.layout.title = f"edge {edge}: {self.kind.value} weights over steps"
        self.lines_box.changed()

    @property
    def heatmap(self) -> LiveFigure:
        """The heatmap of one snapshot (a renewal replaces it; see FigureBox)."""
        return self.heatmap_box.figure

    @property
    def lines(self) -> LiveFigure:
        """One edge's op weights over the steps."""
        return self.lines_box.figure

    @property
    def entropy(self) -> LiveFigure:
        """The entropy of each edge's op weights."""
        return self.entropy_box.figure

    def _show_mode(self) -> None:
        # The figures have no ipywidgets Layout; their wrapping boxes are shown or hidden.
        heat = self.mode.value == "heatmap"
        self.heatmap_box.layout.display = None if heat else "none"
        self.lines_box.layout.display = "none" if heat else None
