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
