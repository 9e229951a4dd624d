"""Plotly figures that a browser keeps drawing as they are: synced state, whole renewal.

Three pieces, one per way a browser view can fall behind a ``FigureWidget``:

- ``sync_view_state``: a view created or first rendered late (a tab laid out late, a
  notebook opened again) draws from the widget's synced state (``_widget_data`` and
  ``_widget_layout``), which plotly refreshes only when the figure itself is displayed,
  never for a figure inside a container, as every figure of the workbench is.
- ``LiveFigure``: opens its comm once complete, so the first view is born with the data
  and layout; and times the trace edits its views have not acknowledged yet.
- ``FigureBox``: puts a fresh copy in place of a figure whose drawn view stopped applying
  edits (anywidget drops every update of a model that took over 2 s to start).
"""

from __future__ import annotations

import time
from copy import deepcopy

import ipywidgets as widgets
import plotly.graph_objects as go

from widgets._tasks import Debouncer

# The clock edits are timed by; a module attribute so tests can move time on.
clock = time.monotonic
# A browser view that has drawn a figure acknowledges each later edit within a second or
# two, even under load; one left unacknowledged this long was missed (see FigureBox).
STALE_VIEW_S = 8.0


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
        # Each trace edit plotly sends carries an id; a view acknowledges the edits it has
        # drawn with the newest id it applied. See unacknowledged_s.
        self._edit_sent_at: dict[int, float] = {}
        self._acknowledged_edit: int | None = None
        self.observe(self._note_edit_sent, names="_last_trace_edit_id")
        self.observe(self._note_view_ack, names="_js2py_traceDeltas")
        self.open()

    def _note_edit_sent(self, change) -> None:
        if self._acknowledged_edit is None:
            # No view yet: the first one acknowledges what it drew, newer edits stay
            # waiting. Keeping only the newest bounds a headless kernel's bookkeeping.
            self._edit_sent_at.clear()
        self._edit_sent_at[change["new"]] = clock()

    def _note_view_ack(self, change) -> None:
        message = change["new"]
        if not message or "trace_edit_id" not in message:
            return
        edit = int(message["trace_edit_id"])
        if self._acknowledged_edit is None or edit > self._acknowledged_edit:
            self._acknowledged_edit = edit
        self._edit_sent_at = {k: t for k, t in self._edit_sent_at.items() if k > edit}

    def unacknowledged_s(self, now: float | None = None) -> float:
        """Seconds the oldest edit a drawn view has not acknowledged has waited.

        A browser view acknowledges its first drawing and then every trace edit it
        applies. A view that stops applying them (see FigureBox) keeps drawing a stale
        figure without an error on either side; an edit left unacknowledged for seconds
        says so. Before any view
        has acknowledged anything (no browser, as under nbclient or in tests) nothing is
        waiting, so a headless kernel never sees a stale figure.

        Args:
            now: the ``clock()`` reading to measure against (default: now).

        Returns:
            0.0 when no view has drawn the figure yet or every sent edit is acknowledged.

        Example:
            >>> fig = LiveFigure()
            >>> _ = fig.add_scatter(y=[1, 2])
            >>> fig.unacknowledged_s()  # no browser has drawn it
            0.0
        """
        if self._acknowledged_edit is None or not self._edit_sent_at:
            return 0.0
        now = clock() if now is None else now
        return max(0.0, now - min(self._edit_sent_at.values()))

    def renewed(self) -> LiveFigure:
        """A new LiveFigure holding this figure's data, layout and CSS classes.

        Its comm opens with the whole figure, so the views it gets draw the figure as it
        is now, whatever the views of this one missed.

        Returns:
            The new figure; this one is left open (close it once it is off the page).
        """
        return LiveFigure(go.Figure(self), classes=tuple(self._dom_classes))

    def open(self) -> None:
        """Open the comm, unless the constructor is still filling the figure in."""
        if getattr(self, "_opening_deferred", False):
            return
        super().open()


class FigureBox(widgets.Box):
    """A box showing one LiveFigure, put back whole when its browser view goes deaf.

    anywidget (0.9-0.11) gives a figure's browser model 2 s to load plotly's module (5 MB
    of JavaScript, parsed again for every figure); a model that takes longer, as on a busy
    machine or when a page opens many figures at once, passes none of its later updates
    on, so its view keeps its first drawing and nothing says so in the kernel. A drawn
    view that has left an edit unacknowledged for ``STALE_VIEW_S`` is taken to be such a
    view, and the figure is replaced by a fresh copy (its new model starts over).

    Args:
        figure: the figure to show.

    Example:
        >>> box = FigureBox(LiveFigure(layout={"title": "alphas"}))
        >>> box.renew_if_stale()  # no browser has drawn it: never stale
        False
        >>> box.renew().layout.title.text
        'alphas'
    """

    def __init__(self, figure: LiveFigure, **kwargs) -> None:
        super().__init__([figure], **kwargs)
        self._check = Debouncer(self.renew_if_stale, delay=STALE_VIEW_S + 1.0)

    @property
    def figure(self) -> LiveFigure:
        """The figure shown now (a renewal replaces it)."""
        return self.children[0]

    def renew(self) -> LiveFigure:
        """Show a fresh copy of the figure and close the old one.

        Returns:
            The new figure.
        """
        old = self.figure
        fresh = old.renewed()
        self.children = (fresh,)
        old.close()
        return fresh

    def renew_if_stale(self, now: float | None = None) -> bool:
        """Renew the figure if its drawn view left an edit unacknowledged too long.

        Args:
            now: the ``clock()`` reading to judge by (default: now).

        Returns:
            True when the figure was renewed.
        """
        if self.figure.unacknowledged_s(now) <= STALE_VIEW_S:
            return False
        self.renew()
        return True

    def changed(self) -> None:
        """Say the figure was just edited: sync its view state, then check_soon."""
        sync_view_state(self.figure)
        self.check_soon()

    def check_soon(self) -> None:
        """Check for a deaf view once the edits just made have had time to be drawn.

        For figures that change on a person's action rather than on a poll; in a kernel it
        runs on the event loop, without one (tests) at once.
        """
        self._check()
