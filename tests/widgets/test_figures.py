"""Figure widgets keep the state a late browser view draws from current."""

from __future__ import annotations

import ipywidgets as widgets
import plotly.graph_objects as go

from widgets._figures import sync_view_state


def test_a_late_view_would_draw_the_figure_as_created_without_a_sync():
    figure = go.FigureWidget(layout={"title": "waiting"})
    widgets.Box([figure])  # inside a container: plotly never refreshes the state itself
    figure.add_scatter(x=[0, 1, 2], y=[0.2, 0.5, 0.9], name="sep_conv_3x3")
    figure.layout.title = "alphas"
    assert figure._widget_data == [] and figure._widget_layout["title"]["text"] == "waiting"

    sync_view_state(figure)
    (trace,) = figure._widget_data
    assert trace["name"] == "sep_conv_3x3" and list(trace["y"]) == [0.2, 0.5, 0.9]
    assert figure._widget_layout["title"]["text"] == "alphas"
    # The state is a copy: later edits reach it only through the next sync.
    figure.data[0].y = [0.1, 0.1, 0.1]
    assert list(figure._widget_data[0]["y"]) == [0.2, 0.5, 0.9]


def test_a_live_figure_opens_its_comm_with_its_data_and_layout(monkeypatch):
    import comm

    from widgets._figures import LiveFigure

    opened = []
    create = comm.create_comm

    def spy(**kwargs):
        opened.append(kwargs["data"]["state"])
        return create(**kwargs)

    monkeypatch.setattr(comm, "create_comm", spy)
    figure = go.Figure(go.Scatter(x=[0, 1], y=[1, 0], name="skip_connect"))
    figure.update_layout(title="alphas", height=320)
    plain, live = go.FigureWidget(figure), LiveFigure(figure, classes=("nasbench-x",))
    plain_state, live_state = opened
    # plotly's own widget opens empty and sends data and layout in a later message.
    assert plain_state["_widget_data"] == [] and plain_state["_widget_layout"] == {}
    (trace,) = live_state["_widget_data"]
    assert trace["name"] == "skip_connect" and live_state["_widget_layout"]["height"] == 320
    assert live_state["_widget_layout"]["title"]["text"] == "alphas"
    assert list(live_state["_dom_classes"]) == ["nasbench-x"]
    assert live.comm is not None and plain.comm is not None and live.model_id != plain.model_id
    live.add_scatter(x=[0], y=[0.5])
    assert len(live.data) == 2


class _Clock:
    """A clock the test moves on by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _view_acknowledges(figure, edit_id: int) -> None:
    """What a browser view sends once it has drawn the edits up to ``edit_id``."""
    figure._js2py_traceDeltas = {"trace_deltas": [], "trace_edit_id": edit_id}


def test_edits_a_drawn_view_leaves_unacknowledged_are_timed(monkeypatch):
    from widgets import _figures
    from widgets._figures import LiveFigure

    clock = _Clock()
    monkeypatch.setattr(_figures, "clock", clock)
    figure = LiveFigure()
    figure.add_scatter(x=[0], y=[0.5])
    clock.now += 60
    # No browser has drawn the figure (a headless kernel): nothing is waiting on a view,
    # and however many edits go out, only the newest is remembered.
    assert figure.unacknowledged_s() == 0.0
    for value in range(100):
        figure.data[0].y = [value]
    assert len(figure._edit_sent_at) == 1

    _view_acknowledges(figure, figure._last_trace_edit_id)  # a view drew it
    assert figure.unacknowledged_s() == 0.0
    figure.data[0].y = [0.4]  # edit sent at t
    sent = clock.now
    clock.now += 3
    figure.data[0].y = [0.3]  # edit sent at t + 3
    clock.now += 2
    assert figure.unacknowledged_s() == clock.now - sent == 5.0
    # A view one edit behind is alive: the wait counts from the edit it has not applied.
    _view_acknowledges(figure, figure._last_trace_edit_id - 1)
    assert figure.unacknowledged_s() == 2.0
    _view_acknowledges(figure, figure._last_trace_edit_id)
    assert figure.unacknowledged_s() == 0.0


def test_a_renewed_figure_is_a_new_widget_with_the_same_figure():
    from widgets._figures import LiveFigure

    figure = LiveFigure(go.Figure(go.Scatter(x=[0, 1], y=[1, 0], name="skip_connect")),
                        classes=("nasbench-x",))  # fmt: skip
    figure.update_layout(title="alphas")
    fresh = figure.renewed()
    assert fresh.model_id != figure.model_id and fresh.comm is not None
    assert fresh._dom_classes == ("nasbench-x",) and fresh.layout.title.text == "alphas"
    (trace,) = fresh._widget_data  # born with the figure, as every LiveFigure
    assert trace["name"] == "skip_connect" and list(trace["y"]) == [1, 0]


def test_a_figure_box_renews_only_a_drawn_view_that_went_quiet(monkeypatch):
    from widgets import _figures
    from widgets._figures import STALE_VIEW_S, FigureBox, LiveFigure

    clock = _Clock()
    monkeypatch.setattr(_figures, "clock", clock)
    box = FigureBox(LiveFigure(go.Figure(go.Scatter(x=[0, 1], y=[1, 0]))))
    figure = box.figure
    figure.data[0].y = [0, 0]
    box.changed()  # no event loop: the check runs at once; nothing drew the figure
    clock.now += 10 * STALE_VIEW_S
    assert not box.renew_if_stale() and box.figure is figure

    _view_acknowledges(figure, figure._last_trace_edit_id)
    figure.data[0].y = [2, 2]
    box.changed()
    assert box.figure is figure  # just sent
    clock.now += STALE_VIEW_S / 2
    assert not box.renew_if_stale()
    clock.now += STALE_VIEW_S
    assert box.renew_if_stale()
    fresh = box.figure
    assert fresh is not figure and figure.comm is None and list(fresh.data[0].y) == [2, 2]
    assert list(fresh._widget_data[0]["y"]) == [2, 2]
