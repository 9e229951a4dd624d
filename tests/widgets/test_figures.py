"""LivePlot: what it sends the browser (whole figures, only new points, resyncs)."""

from __future__ import annotations

import math

import plotly.graph_objects as go

from widgets._figures import FigureChannel, LivePlot, PlotlyLibrary


def sent_messages(plot: LivePlot, monkeypatch) -> list[dict]:
    """Record the custom messages the plot's channel sends from now on."""
    sent: list[dict] = []
    monkeypatch.setattr(plot.channel, "send", lambda content, buffers=None: sent.append(content))
    return sent


def test_the_channel_opens_with_the_whole_figure_and_the_view_refers_to_it():
    plot = LivePlot(go.Figure(go.Scatter(x=[0, 1], y=[1.0, 2.0], name="skip")),
                    classes=("nasbench-x",))  # fmt: skip
    assert isinstance(plot.channel, FigureChannel)
    assert plot.library is PlotlyLibrary.shared()
    assert plot.library.source.startswith(b"/**\n* plotly.js") and plot.library.version
    (trace,) = plot.channel.figure["data"]
    assert trace["x"] == [0, 1] and trace["name"] == "skip"
    assert plot.channel.figure["layout"]["uirevision"] == "nasbench"  # zoom survives redraws
    assert plot.channel.revision == plot.revision == 1
    assert plot._dom_classes == ("nasbench-live-plot", "nasbench-x")
    # The view's module is small: plotly.js travels once, in the shared library.
    assert len(plot._esm) < 10_000


def test_growing_scatter_traces_send_only_the_new_points(monkeypatch):
    plot = LivePlot(go.Figure([go.Scatter(x=[0], y=[0.5], name=n) for n in ("a", "b")]))
    sent = sent_messages(plot, monkeypatch)
    a, b = plot.figure.data
    a.x, a.y = [0, 1, 2], [0.5, 0.25, math.nan]
    assert plot.push() == "extend"
    assert sent == [
        {"kind": "extend", "revision": 2, "traces": [0], "x": [[1, 2]], "y": [[0.25, None]]}
    ]  # NaN goes out as null: Jupyter messages are strict JSON
    assert plot.push() == "none" and len(sent) == 1
    assert plot.channel.revision == 1  # the whole figure is still the first one


def test_any_other_change_sends_the_whole_figure(monkeypatch):
    plot = LivePlot(go.Figure(go.Scatter(x=[0, 1], y=[0.5, 0.5])))
    sent = sent_messages(plot, monkeypatch)
    plot.figure.data[0].y = [0.5, 0.7]  # a changed point, not a new one
    assert plot.push() == "full"
    assert plot.channel.figure["data"][0]["y"] == [0.5, 0.7]
    plot.figure.layout.title = "alphas"
    assert plot.push() == "full"
    assert plot.channel.figure["layout"]["title"]["text"] == "alphas"
    plot.figure.data = ()
    assert plot.push() == "full" and plot.channel.figure["data"] == []
    assert sent == [] and plot.channel.revision == plot.revision == 4


def test_a_heatmap_is_always_sent_whole():
    plot = LivePlot(go.Figure(go.Heatmap(z=[[0.1, 0.2]])))
    plot.figure.data[0].z = [[0.1, 0.2], [0.3, 0.4]]
    assert plot.push() == "full"
    assert plot.channel.figure["data"][0]["z"] == [[0.1, 0.2], [0.3, 0.4]]


def test_a_browser_that_missed_points_is_sent_the_whole_figure(monkeypatch):
    plot = LivePlot(go.Figure(go.Scatter(x=[0], y=[1.0])))
    plot.figure.data[0].x, plot.figure.data[0].y = [0, 1], [1.0, 2.0]
    assert plot.push() == "extend"
    states: list[list[str]] = []
    monkeypatch.setattr(plot.channel, "send_state", lambda keys=None: states.append(keys))
    # A view that drew revision 1 asks; the channel's whole figure catches up to revision 2.
    plot._on_channel_message(plot.channel, {"kind": "resync", "revision": 1}, [])
    assert plot.channel.revision == 2 and plot.channel.figure["data"][0]["x"] == [0, 1]
    assert states[-1] == ["figure", "revision"]
    asked = len(states)
    # A view that is up to date is left alone.
    plot._on_channel_message(plot.channel, {"kind": "resync", "revision": 2}, [])
    assert len(states) == asked


def test_a_plain_whole_figure_is_sent_without_plotlys_text_round_trip(monkeypatch):
    import numpy as np
    import pandas as pd

    from widgets import _figures

    encoded = []
    real = _figures.to_json_plotly
    monkeypatch.setattr(_figures, "to_json_plotly",
                        lambda obj, *a, **k: encoded.append(obj) or real(obj, *a, **k))  # fmt: skip
    plot = LivePlot(go.Figure(go.Scatter(x=np.arange(3), y=np.array([1.0, math.nan, 2.5]))))
    trace = plot.channel.figure["data"][0]
    assert (trace["x"], trace["y"]) == ([0, 1, 2], [1.0, None, 2.5])
    # Only the figure's parts are compared as text; the whole goes as it is (~0.15 s saved
    # for 10^5 points).
    assert not any(isinstance(obj, dict) and "data" in obj for obj in encoded)
    # Dates have no JSON form of their own: plotly's encoder writes them.
    dates = pd.to_datetime(["2024-01-01", "2024-01-02"])
    dated = LivePlot(go.Figure(go.Scatter(x=dates, y=[1.0, 2.0])))
    assert dated.channel.figure["data"][0]["x"] == ["2024-01-01T00:00:00", "2024-01-02T00:00:00"]


def record_view_model_messages(monkeypatch) -> list[tuple[LivePlot, dict]]:
    """Record every message a LivePlot's own model sends from now on (not its channel's)."""
    sent: list[tuple[LivePlot, dict]] = []

    def send(self, msg, buffers=None):
        if self.comm is not None:  # anywidget sets its own traits before the comm opens
            sent.append((self, msg))

    monkeypatch.setattr(LivePlot, "_send", send)
    return sent


# anywidget gives a model 2 s to load its module; one that misses it (a busy page) drops every
# message sent to it later. A LivePlot's views draw from its channel, so that is harmless as
# long as nothing is ever sent to the LivePlot's own model once it is open (the browser tests
# rely on this to tell anywidget's "Failed to initialize model" apart from a lost figure).
def test_a_live_plot_sends_nothing_to_its_own_model_once_open(monkeypatch):
    sent = record_view_model_messages(monkeypatch)
    plot = LivePlot(go.Figure(go.Scatter(x=[0], y=[1.0])), classes=("nasbench-x",))
    plot.figure.data[0].x, plot.figure.data[0].y = [0, 1], [1.0, 2.0]
    assert plot.push() == "extend"
    plot.figure.layout.title = "alphas"
    assert plot.push() == "full"
    plot._on_channel_message(plot.channel, {"kind": "resync", "revision": 0}, [])
    plot.layout.display = "none"  # hiding a view changes its Layout model, not the plot's
    plot.layout.display = None
    assert sent == []


def test_the_monitor_and_explorer_send_nothing_to_their_plots_own_models(
    monkeypatch, fake_run, snapshot_writer
):
    from nasbench.runs import RunStore
    from widgets.alpha_explorer import AlphaExplorer
    from widgets.monitor import RunMonitor

    sent = record_view_model_messages(monkeypatch)
    monitor = RunMonitor(fake_run)
    explorer = AlphaExplorer(fake_run)
    with RunStore.open(fake_run) as store:
        snapshot_writer(store, 3, 5.0)
        store.log_metrics(3, 1, "train", {"loss": 0.1, "acc": 0.5})
    monitor.poll_once()
    explorer.set_run(fake_run)
    explorer.mode.value = "lines"
    explorer.slider.value = 0
    explorer.cell_type.value = "reduce"
    explorer.mode.value = "heatmap"
    assert monitor.alpha_figure.data and explorer.heatmap.data  # the figures did change
    assert [type(plot).__name__ for plot, _ in sent] == []


def test_live_plots_are_the_only_anywidget_models_the_course_shows():
    """The browser tests' reading of anywidget's start-up error holds only for LivePlots."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    sources = [*root.glob("nasbench/**/*.py"), *root.glob("widgets/**/*.py"),
               *root.glob("notebooks/*.ipynb")]  # fmt: skip
    models = re.compile(r"FigureWidget\s*\(|\(\s*(anywidget\.)?AnyWidget\s*\)")
    found = {
        str(path.relative_to(root)): [
            match.group(0) for match in models.finditer(path.read_text(encoding="utf-8"))
        ]
        for path in sources
    }
    assert {path: hits for path, hits in found.items() if hits} == {
        "widgets/_figures.py": ["(anywidget.AnyWidget)"]  # class LivePlot
    }
