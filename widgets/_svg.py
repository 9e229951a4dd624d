"""Show a graphviz drawing as inline SVG inside an ``ipywidgets.HTML``.

Inline SVG (not an ``<img>``) keeps the drawing crisp, lets the browser find its
nodes and text, and needs no files. Drawing errors (no Graphviz engine, a bad
genotype) are shown in place of the picture, so a view never raises at a person.
"""

from __future__ import annotations

import html
import re
from typing import Any

import ipywidgets as widgets

from nasbench.errors import NasbenchError


def svg_markup(digraph: Any) -> str:
    """Return the SVG of a graphviz drawing, ready to embed in HTML.

    Args:
        digraph: a ``graphviz.Digraph`` (e.g. from ``nasbench.viz.draw_genotype``).

    Returns:
        The ``<svg>...</svg>`` text, without what Graphviz writes before it (the XML
        header, the doctype and its comments).

    Example:
        >>> from nasbench.spaces import zoo
        >>> from nasbench.viz import draw_genotype
        >>> svg_markup(draw_genotype(zoo["DARTS_V2"])).startswith("<svg")
        True
    """
    from nasbench.viz import render

    text = render(digraph, "svg").decode("utf-8")
    start = text.find("<svg")
    return text[start:] if start >= 0 else text


def message_html(text: str, kind: str = "info", detail: str = "") -> str:
    """Return a one-line message box (``kind``: info, warning or error) as HTML.

    A warning or an error starts with that word, so it reads as one without its colour
    (a screen reader, a colour-blind reader, a printout); a message that already starts
    with the word keeps its own.

    Args:
        text: the message; escaped here.
        kind: decides the colour and the leading word.
        detail: HTML shown below the message, not escaped (e.g. a ``<pre>`` of a log tail).

    Returns:
        HTML text.

    Example:
        >>> "<b>error</b>: no ops chosen" in message_html("no ops chosen", "error")
        True
    """
    # JupyterLab's theme colours (fixed ones are too dark to read in its dark theme); the
    # fallbacks serve pages without them, such as a notebook exported to HTML.
    colours = {
        "info": "var(--jp-info-color1, #31708f)",
        "warning": "var(--jp-warn-color1, #8a6d3b)",
        "error": "var(--jp-error-color1, #a94442)",
    }
    colour = colours.get(kind, colours["info"])
    body = html.escape(text)
    if kind in ("warning", "error") and not re.match(rf"{kind}\b", text, re.IGNORECASE):
        body = f"<b>{kind}</b>: {body}"
    return (
        f'<div class="nasbench-message nasbench-message-{kind}" '
        f'style="color:{colour};white-space:pre-wrap">{body}{detail}</div>'
    )


def show_drawing(target: widgets.HTML, digraph_factory: Any) -> bool:
    """Draw into ``target``; on failure put the one-line error there instead.

    Args:
        target: the HTML widget that shows the drawing.
        digraph_factory: a callable returning the ``graphviz.Digraph`` (called here, so that
            errors while building the drawing are caught too).

    Returns:
        True when the drawing was shown.

    Example:
        >>> out = widgets.HTML()
        >>> show_drawing(out, lambda: draw_genotype(zoo["DARTS_V2"]))  # doctest: +SKIP
        True
    """
    try:
        markup = svg_markup(digraph_factory())
    except (NasbenchError, ValueError, OSError) as err:
        target.value = message_html(str(err), "error")
        return False
    # Graphviz sizes its SVG in points, so a DARTS cell pair is wider than a notebook
    # output; scaled to the output's width (its viewBox keeps the proportions) the whole
    # cell is in view without a scroll bar.
    markup = markup.replace("<svg ", '<svg style="max-width:100%;height:auto" ', 1)
    target.value = f'<div style="overflow:auto">{markup}</div>'
    return True
