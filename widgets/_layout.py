"""Rows of controls that stay reachable in a narrow notebook.

An ipywidgets ``HBox`` keeps its children on one line and hides what passes the cell's
right edge: beside JupyterLab's file browser, a 900-pixel window leaves a view under 500
pixels, and the last dropdowns of a row could not be reached. These rows wrap instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets as widgets


def wrapping_row(children: Sequence[widgets.Widget], **layout: str) -> widgets.HBox:
    """An ``HBox`` of ``children`` that moves what does not fit onto the next line.

    Args:
        children: the widgets of the row, left to right.
        **layout: further ``ipywidgets.Layout`` settings (``align_items``, ...).

    Returns:
        The row.

    Example:
        >>> row = wrapping_row([widgets.Button(description="a"), widgets.Button(description="b")])
        >>> row.layout.flex_flow
        'row wrap'
    """
    return widgets.HBox(list(children), layout=widgets.Layout(flex_flow="row wrap", **layout))
