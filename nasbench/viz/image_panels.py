"""Image panels in plotly subplots: each panel's pixels drawn square.

A y axis anchored to the first subplot's x axis (``scaleanchor="x"``) keeps only the first
panel square: every other panel takes its width from its own cell and its height from the
first one's scale, so a scan is stretched sideways. Each y axis is anchored to the x axis of
its own subplot instead.
"""

from __future__ import annotations

from typing import Any

__all__ = ["keep_pixels_square"]


def keep_pixels_square(fig: Any, **yaxis: Any) -> Any:
    """Anchor each subplot's y scale to its own x axis, and set ``yaxis`` on every y axis.

    Args:
        fig: a plotly figure made by ``make_subplots`` (each y axis anchored to its x axis).
        **yaxis: other y axis settings, e.g. ``autorange="reversed"``, ``visible=False``.

    Returns:
        ``fig``, changed in place.

    Example:
        >>> from plotly.subplots import make_subplots
        >>> fig = keep_pixels_square(make_subplots(rows=1, cols=2), visible=False)
        >>> fig.layout.yaxis2.scaleanchor, fig.layout.yaxis2.visible
        ('x2', False)
    """
    fig.for_each_yaxis(lambda axis: axis.update(scaleanchor=axis.anchor or "x", **yaxis))
    return fig
