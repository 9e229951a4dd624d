"""Keep a plotly FigureWidget's synced state current, so late views show the figure as it is.

A ``FigureWidget`` sends its changes to the views that exist as one-off messages; a
view created or first rendered after them (a tab the browser lays out late, a slow
browser still loading plotly.js, a notebook opened again) draws from the widget's
synced state (``_widget_data`` and ``_widget_layout``) instead. plotly refreshes that
state only when the figure itself is displayed (``_repr_mimebundle_``), never for a
figure inside a container, as every figure of the workbench is; so such a view would
draw the figure as it was created, empty, and every later message would miss it.
"""

from __future__ import annotations

from copy import deepcopy

import plotly.graph_objects as go


def sync_view_state(figure: go.FigureWidget) -> None:
    """Copy the figure's current data and layout into the state new views draw from.

    Views already drawn ignore this state (they follow the change messages), so calling
    it after each update costs one state message and changes nothing on screen.

    Args:
        figure: the FigureWidget just updated.

    Returns:
        None.

    Example:
        >>> fig = go.FigureWidget()
        >>> _ = fig.add_scatter(x=[0, 1], y=[1, 2])
        >>> sync_view_state(fig)
        >>> list(fig._widget_data[0]["x"])
        [0, 1]
    """
    # The same two assignments plotly's own _repr_mimebundle_ makes before a display.
    figure._widget_data = deepcopy(figure._data)
    figure._widget_layout = deepcopy(figure._layout_obj._props)


class LiveFigure(go.FigureWidget):
    """A FigureWidget whose browser model is born with its data and layout.

    plotly opens a figure's comm at the start of its constructor, before it has any
    data or layout, and sends both as a separate update afterwards; a browser that
    builds the model slowly (plotly.js is a 5 MB module) can draw the view before that
    update lands and never redraws it. Here the comm opens once the figure is complete,
    so the opening message itself carries what the first view must draw.

    Args:
        *args: what ``go.FigureWidget`` takes (a figure, or data).
        classes: CSS classes of the widget, set before the comm opens too.
        **kwargs: what ``go.FigureWidget`` takes (layout, ...).

    Example:
        >>> fig = LiveFigure(layout={"title": "alphas"}, classes=("nasbench-alpha-figure",))
        >>> fig._widget_layout["title"]["text"], fig._dom_classes
        ('alphas', ('nasbench-alpha-figure',))
    """

    def __init__(self, *args, classes: tuple[str, ...] = (), **kwargs) -> None:
        self._opening_deferred = True
        super().__init__(*args, **kwargs)
        self._opening_deferred = False
        self._dom_classes = tuple(classes)
        sync_view_state(self)
        self.open()

    def open(self) -> None:
        """Open the comm, unless the constructor is still filling the figure in."""
        if getattr(self, "_opening_deferred", False):
            return
        super().open()
