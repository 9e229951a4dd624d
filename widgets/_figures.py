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
