"""Live plotly figures that no start-up deadline can silence: plotly.js once per page.

A plotly ``FigureWidget`` is an anywidget model that imports plotly's 5 MB module anew, and
anywidget gives each model 2 s to start; a model that misses it drops every later update
without a word (see benchmarks/README.md, "Live figures"). Here the work is split so that
no message depends on such a deadline:

- ``PlotlyLibrary``: plotly.js itself, shipped once per kernel as the binary state of a
  plain ipywidgets model; the browser evaluates it once per page and shares it.
- ``FigureChannel``: a plain ipywidgets model (no module to load, so no deadline) that
  carries the figure: its whole state when the figure changes shape, and messages holding
  only the new points when traces just grow.
- ``LivePlot``: the view, an anywidget with a module of a few kilobytes. Its own model
  never changes after it opens; its views draw what the channel says with
  ``Plotly.react`` / ``Plotly.extendTraces``, so hover, zoom and legend toggles survive.

The kernel edits ``LivePlot.figure`` (a ``go.Figure``) and calls ``LivePlot.push()``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anywidget
import ipywidgets as widgets
import numpy as np
import plotly
import plotly.graph_objects as go
import traitlets
from plotly.io.json import to_json_plotly

# Trace types whose growth is sent as new points; any other change sends the whole figure.
EXTENDABLE = ("scatter", "scattergl")
# Every view's CSS class, beside the caller's: a page can tell its live figures apart.
LIVE_PLOT_CLASS = "nasbench-live-plot"
# Keeps a person's zoom, pan and legend toggles across redraws (plotly's uirevision).
UI_REVISION = "nasbench"

_ESM = r"""
const pages = (globalThis.__nasbenchPlotly ??= { libraries: {}, channels: new WeakMap() });

async function modelOf(model, ref) {
  return model.widget_manager.get_model(String(ref).replace(/^IPY_MODEL_/, ""));
}

// plotly.js, evaluated once per page whatever the number of figures or kernels.
function loadPlotly(library) {
  const version = library.get("version");
  if (globalThis.Plotly?.version === version) return Promise.resolve(globalThis.Plotly);
  return (pages.libraries[version] ??= new Promise((resolve, reject) => {
    const source = library.get("source");
    const blob = new Blob([source.buffer ?? source], { type: "text/javascript" });
    const url = URL.createObjectURL(blob);
    const script = document.createElement("script");
    script.src = url;
    script.onload = () => { URL.revokeObjectURL(url); resolve(globalThis.Plotly); };
    script.onerror = () => reject(new Error("plotly.js did not load"));
    document.head.appendChild(script);
  }));
}

// One record per channel: the figure as the kernel last described it, and the views showing it.
function recordOf(channel) {
  let record = pages.channels.get(channel);
  if (record) return record;
  record = { figure: channel.get("figure"), revision: channel.get("revision"), views: new Set() };
  pages.channels.set(channel, record);
  channel.on("change", () => {
    record.figure = channel.get("figure");
    record.revision = channel.get("revision");
    for (const view of record.views) view.redraw();
  });
  channel.on("msg:custom", (message) => {
    if (message.kind !== "extend") return;
    if (message.revision !== record.revision + 1) {
      channel.send({ kind: "resync", revision: record.revision });  // missed a message
      return;
    }
    record.revision = message.revision;
    message.traces.forEach((index, k) => {
      const trace = record.figure.data[index];
      (trace.x ??= []).push(...message.x[k]);
      (trace.y ??= []).push(...message.y[k]);
    });
    for (const view of record.views) view.extend(message);
  });
  // The kernel may have moved on before this record existed: ask it to say so.
  channel.send({ kind: "resync", revision: record.revision });
  return record;
}

async function render({ model, el }) {
  const [channel, library] = await Promise.all(
    [modelOf(model, model.get("channel")), modelOf(model, model.get("library"))]);
  const Plotly = await loadPlotly(library);
  const graph = document.createElement("div");
  el.appendChild(graph);
  const record = recordOf(channel);
  const config = { displaylogo: false };
  const view = {
    redraw() {
      const { data, layout } = structuredClone(record.figure);
      Plotly.react(graph, data ?? [], layout ?? {}, config);
    },
    extend(message) {
      Plotly.extendTraces(graph, { x: message.x, y: message.y }, message.traces);
    },
  };
  view.redraw();
  record.views.add(view);
  // A figure first drawn in a hidden tab has no width: fit it again when the width changes
  // (only the width; the height is the figure's own).
  let width = el.clientWidth;
  const resized = new ResizeObserver(() => {
    if (!el.clientWidth || el.clientWidth === width) return;
    width = el.clientWidth;
    Plotly.relayout(graph, { width });
  });
  resized.observe(el);
  return () => { resized.disconnect(); record.views.delete(view); Plotly.purge(graph); };
}

export default { render };
"""


class PlotlyLibrary(widgets.Widget):
    """plotly.js as the binary state of a plain widget model: sent once per kernel.

    Use :meth:`shared`; every LivePlot of a kernel refers to the same one.

    Example:
        >>> PlotlyLibrary.shared() is PlotlyLibrary.shared()
        True
    """

    source = traitlets.Bytes().tag(sync=True)
    version = traitlets.Unicode().tag(sync=True)
    _shared: PlotlyLibrary | None = None

    @classmethod
    def shared(cls) -> PlotlyLibrary:
        """The kernel's one library model (made again if it was closed)."""
        if cls._shared is None or cls._shared.comm is None:
            path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
            from plotly.offline import get_plotlyjs_version

            cls._shared = cls(source=path.read_bytes(), version=get_plotlyjs_version())
        return cls._shared


class FigureChannel(widgets.Widget):
    """The figure a LivePlot shows, carried by a plain widget model.

    ``figure`` is the whole figure as of ``revision``; growth after it arrives as
    ``extend`` messages numbered ``revision + 1, + 2, ...``. A browser that missed one
    asks for a ``resync`` and is sent the whole figure again.
    """

    figure = traitlets.Dict().tag(sync=True)
    revision = traitlets.Int(0).tag(sync=True)


def _plain(values: np.ndarray) -> list:
    """JSON-ready list: NaN and inf become None (Jupyter messages are strict JSON)."""
    plain = values.tolist()
    if values.dtype.kind != "f":
        return plain
    if values.ndim != 1:
        return _jsonable(plain)
    # NaN and inf found by numpy, not point by point: a live figure holds ~10^5 points.
    for index in np.flatnonzero(~np.isfinite(values)).tolist():
        plain[index] = None
    return plain


def _jsonable(value: Any, odd: list[Any] | None = None) -> Any:
    """``value`` with arrays as lists and NaN or inf as None, recursively; what else JSON
    cannot hold as it is (a date, a key that is no string) is kept, and added to ``odd``."""
    if isinstance(value, dict):
        if odd is not None and not all(isinstance(key, str) for key in value):
            odd.append(value)
        return {key: _jsonable(item, odd) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biu" or (value.dtype.kind == "f" and value.ndim == 1):
            return _plain(value)
        return _jsonable(value.tolist(), odd)
    if isinstance(value, (list, tuple)):
        return [_jsonable(item, odd) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if odd is not None and not isinstance(value, (str, int, float, type(None))):
        odd.append(value)
    return value


def _same_prefix(old: np.ndarray, new: np.ndarray) -> bool:
    if len(new) < len(old):
        return False
    head = new[: len(old)]
    if old.dtype.kind == "f" or head.dtype.kind == "f":
        try:
            return bool(np.array_equal(old, head, equal_nan=True))
        except TypeError:
            return False
    return bool(np.array_equal(old, head))


class LivePlot(anywidget.AnyWidget):
    """A plotly figure drawn in the browser and kept live by :meth:`push`.

    Edit :attr:`figure` as any ``go.Figure`` (``batch_update``, ``add_trace``, assign
    ``trace.x``, ``layout``), then call :meth:`push`. When the edit only appended points
    to scatter traces, the browser is sent just those points; otherwise the whole figure.

    Args:
        figure: the starting figure (anything ``go.Figure`` takes).
        classes: CSS classes of the view (besides :data:`LIVE_PLOT_CLASS`).

    Example:
        >>> plot = LivePlot(go.Figure(go.Scatter(x=[0], y=[1.0])), classes=("alphas",))
        >>> plot.figure.data[0].x, plot.figure.data[0].y = [0, 1], [1.0, 0.5]
        >>> plot.push()
        'extend'
        >>> plot.figure.layout.title = "alphas"
        >>> plot.push()
        'full'
    """

    _esm = _ESM
    channel = traitlets.Instance(FigureChannel).tag(sync=True, **widgets.widget_serialization)
    library = traitlets.Instance(PlotlyLibrary).tag(sync=True, **widgets.widget_serialization)

    def __init__(self, figure: Any = None, classes: tuple[str, ...] = ()) -> None:
        self.figure = go.Figure(figure)
        self._revision = 0
        self._shapes: tuple[str, list[str]] | None = None  # layout, trace props (sent)
        self._points: list[tuple[np.ndarray, np.ndarray]] = []  # each trace's x, y (sent)
        channel = FigureChannel()
        channel.on_msg(self._on_channel_message)
        # Everything this model will ever hold is set before its comm opens: a model whose
        # module started late ignores later changes (anywidget's 2 s deadline).
        super().__init__(
            channel=channel,
            library=PlotlyLibrary.shared(),
            _dom_classes=(LIVE_PLOT_CLASS, *classes),
        )
        self.push()

    @property
    def revision(self) -> int:
        """How many changes have been pushed (each full figure or batch of points is one)."""
        return self._revision

    def push(self) -> str:
        """Send what changed in :attr:`figure` since the last push.

        Returns:
            "none" (nothing changed), "extend" (only new points of scatter traces were
            sent) or "full" (the whole figure was sent).
        """
        layout = to_json_plotly(self.figure.layout)
        props, points = [], []
        for trace in self.figure.data:
            spec = trace.to_plotly_json()
            if spec.get("type", "scatter") in EXTENDABLE:
                xs = np.asarray(spec.pop("x", ()))
                ys = np.asarray(spec.pop("y", ()))
            else:
                xs = ys = np.zeros(0)
            props.append(to_json_plotly(spec))
            points.append((xs, ys))
        shapes = (layout, props)
        if shapes == self._shapes and all(
            _same_prefix(old_x, new_x) and _same_prefix(old_y, new_y)
            for (old_x, old_y), (new_x, new_y) in zip(self._points, points, strict=True)
        ):
            grown = [
                i
                for i, ((old_x, old_y), (new_x, new_y)) in enumerate(
                    zip(self._points, points, strict=True)
                )
                if len(new_x) > len(old_x) or len(new_y) > len(old_y)
            ]
            if not grown:
                return "none"
            self._revision += 1
            self.channel.send(
                {
                    "kind": "extend",
                    "revision": self._revision,
                    "traces": grown,
                    "x": [_plain(points[i][0][len(self._points[i][0]) :]) for i in grown],
                    "y": [_plain(points[i][1][len(self._points[i][1]) :]) for i in grown],
                }
            )
            self._points = points
            return "extend"
        self._shapes, self._points = shapes, points
        self._revision += 1
        self._send_whole()
        return "full"

    def _send_whole(self) -> None:
        # Plain lists, not plotly's base64 arrays: the browser appends points to them.
        figure = {
            "data": [trace.to_plotly_json() for trace in self.figure.data],
            "layout": self.figure.layout.to_plotly_json(),
        }
        odd: list[Any] = []
        whole = _jsonable(figure, odd)
        if odd:
            # plotly's encoder for dates and the like; a round trip through its text takes
            # ~0.15 s for a figure of 10^5 points, so plain figures skip it.
            whole = json.loads(to_json_plotly(whole))
        whole.setdefault("layout", {}).setdefault("uirevision", UI_REVISION)
        with self.channel.hold_sync():
            self.channel.figure = whole
            self.channel.revision = self._revision

    def _on_channel_message(self, _channel: Any, content: dict, _buffers: Any) -> None:
        if content.get("kind") != "resync":
            return
        self.push()  # whatever was edited since the last push goes out first
        if content.get("revision") != self._revision:
            self._send_whole()
            self.channel.send_state(["figure", "revision"])

    def close(self) -> None:
        """Close the view's model and its channel (the shared library stays)."""
        self.channel.close()
        super().close()


def _held_widgets(value: Any) -> list[widgets.Widget]:
    """The widgets ``value`` is or holds directly (in a list, tuple, set or dict)."""
    if isinstance(value, widgets.Widget):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple, set, frozenset)):
        return [item for item in value if isinstance(item, widgets.Widget)]
    return []


def close_widgets(root: widgets.Widget) -> None:
    """Close ``root`` and every widget it holds, down the tree, to free their comms.

    ipywidgets' ``close`` closes one model only: a box's children, every widget's layout
    and style, and controls a view keeps out of sight stay registered with the kernel for
    good. This walks traits (children, layout, style, a LivePlot's channel) and attributes,
    and calls each widget's own ``close`` (so a nested view stops its timers too), except
    the kernel's shared plotly.js model, which other figures still use.

    Args:
        root: the widget to close with everything under it (its own ``close`` is not
            called, so a view's ``close`` can call this).

    Example:
        >>> box = widgets.VBox([widgets.HTML("a")])
        >>> close_widgets(box)
        >>> box.comm is None and box.children[0].comm is None
        True
    """
    seen = {id(root)}
    stack = [root]
    while stack:
        widget = stack.pop()
        for value in [*widget.trait_values().values(), *vars(widget).values()]:
            for held in _held_widgets(value):
                if id(held) not in seen and not isinstance(held, PlotlyLibrary):
                    seen.add(id(held))
                    stack.append(held)
        if widget is root:
            widgets.Widget.close(widget)
        else:
            widget.close()
