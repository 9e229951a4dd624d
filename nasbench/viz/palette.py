"""Colours for operation families, shared by every drawing and plot.

One op family keeps one colour everywhere (genotype drawings, supernet bundles, alpha plots), so
a reader learns the palette once. The hues are the Okabe-Ito colour-blind-safe set.
"""

from __future__ import annotations

import hashlib

from nasbench.errors import NasbenchError
from nasbench.spaces.ops import op_family

# Families the op registry uses; anything else gets a stable colour from _EXTRA.
FAMILY_COLORS: dict[str, str] = {
    "none": "#999999",
    "skip": "#009E73",
    "pool": "#0072B2",
    "sep_conv": "#D55E00",
    "dil_conv": "#CC79A7",
    "conv": "#E69F00",
    "attention": "#56B4E9",
}
_EXTRA = ("#8C564B", "#332288", "#117733", "#882255", "#44AA99", "#AA4499", "#DDCC77")

# Node fills of the DARTS paper's figures: inputs green, intermediate nodes blue, output yellow.
INPUT_FILL = "darkseagreen2"
NODE_FILL = "lightblue"
OUTPUT_FILL = "palegoldenrod"
HIGHLIGHT_COLOR = "#E41A1C"


def family_of(op: str) -> str:
    """Return the op family of an op name, or ``"other"`` for a name the registry lacks.

    Args:
        op: an operation name, e.g. ``"sep_conv_3x3"``.

    Returns:
        The family name, e.g. ``"sep_conv"``.

    Example:
        >>> family_of("max_pool_3x3")
        'pool'
    """
    try:
        return op_family(op)
    except NasbenchError:
        # A drawing must not fail on an op from a newer registry; it just gets a neutral colour.
        return "other"


def family_color(family: str) -> str:
    """Return the hex colour of an op family (a stable extra hue for unlisted families).

    Args:
        family: a family name such as ``"pool"``.

    Returns:
        A ``#RRGGBB`` colour string.

    Example:
        >>> family_color("skip")
        '#009E73'
    """
    if family in FAMILY_COLORS:
        return FAMILY_COLORS[family]
    if family == "other":
        return "#000000"
    # A hash (not Python's salted hash()) keeps the colour the same across sessions.
    index = int(hashlib.md5(family.encode()).hexdigest(), 16) % len(_EXTRA)
    return _EXTRA[index]


def op_color(op: str) -> str:
    """Return the colour of an op name, through its family.

    Args:
        op: an operation name.

    Returns:
        A ``#RRGGBB`` colour string.

    Example:
        >>> op_color("sep_conv_5x5") == family_color("sep_conv")
        True
    """
    return family_color(family_of(op))


def lighten(color: str, amount: float = 0.7) -> str:
    """Mix a ``#RRGGBB`` colour with white (used for node fills).

    Args:
        color: a ``#RRGGBB`` colour.
        amount: share of white, 0 (unchanged) to 1 (white).

    Returns:
        The lighter ``#RRGGBB`` colour.

    Example:
        >>> lighten("#000000", 0.5)
        '#808080'
    """
    rgb = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    mixed = [round(c + (255 - c) * amount) for c in rgb]
    return "#" + "".join(f"{c:02X}" for c in mixed)


# Ops of one family share a colour; the dash tells them apart (max vs avg pool, 3x3 vs 5x5).
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
SYMBOLS = ("square", "diamond", "triangle-up", "circle", "cross", "star")


def op_dash(op: str, ops: list[str] | tuple[str, ...] | None = None) -> str:
    """Return the plotly dash of an op among the ops drawn beside it.

    Ops of one family (same colour) get distinct dashes, in sorted name order, so no
    two ops of a space look alike as long as a family has at most ``len(DASHES)`` ops.

    Args:
        op: an operation name.
        ops: every op of the space or figure (default: ``op`` alone, which is solid).

    Returns:
        A plotly dash name.

    Example:
        >>> ops = ["max_pool_3x3", "avg_pool_3x3", "skip_connect"]
        >>> op_dash("avg_pool_3x3", ops), op_dash("max_pool_3x3", ops)
        ('solid', 'dash')
    """
    return DASHES[_rank_in_family(op, ops) % len(DASHES)]


def op_symbol(op: str, ops: list[str] | tuple[str, ...] | None = None) -> str:
    """Return the plotly marker symbol of an op among ``ops`` (the dash's twin for markers).

    Args:
        op: an operation name.
        ops: every op of the space or figure (default: ``op`` alone, a square).

    Returns:
        A plotly marker symbol.

    Example:
        >>> op_symbol("max_pool_3x3", ["avg_pool_3x3", "max_pool_3x3"])
        'diamond'
    """
    return SYMBOLS[_rank_in_family(op, ops) % len(SYMBOLS)]


def _rank_in_family(op: str, ops: list[str] | tuple[str, ...] | None) -> int:
    family = family_of(op)
    members = sorted({o for o in (ops or ()) if family_of(o) == family} | {op})
    return members.index(op)


def op_line(op: str, ops: list[str] | tuple[str, ...] | None = None) -> dict[str, str]:
    """Return a plotly line style (colour and dash) for an op among ``ops``.

    Args:
        op: an operation name.
        ops: every op of the space or figure.

    Returns:
        ``{"color": ..., "dash": ...}``.

    Example:
        >>> op_line("sep_conv_5x5", ["sep_conv_3x3", "sep_conv_5x5"])["dash"]
        'dash'
    """
    return {"color": op_color(op), "dash": op_dash(op, ops)}
