"""Drawings of discrete architectures: DARTS/NASNet cells, NAS-Bench-201 cells, chain networks.

The cell drawing follows the DARTS paper's figures: inputs ``c_{k-2}`` and ``c_{k-1}`` in light
green, intermediate nodes ``0..n-1`` in light blue, the output ``c_{k}`` in yellow, edges labelled
with their op and coloured by op family, laid out left to right.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from nasbench.errors import SpaceError
from nasbench.viz.palette import (
    HIGHLIGHT_COLOR,
    INPUT_FILL,
    NODE_FILL,
    OUTPUT_FILL,
    family_color,
    lighten,
    op_color,
)
from nasbench.viz.render import NasDigraph

CELL_TYPES = ("normal", "reduce")
CELL_TITLES = {"normal": "normal cell", "reduce": "reduction cell"}
NODE_ATTR = {
    "style": "filled",
    "shape": "rect",
    "fontsize": "20",
    "height": "0.5",
    "width": "0.5",
    "penwidth": "2",
    "fontname": "times",
}
EDGE_ATTR = {"fontsize": "20", "fontname": "times", "penwidth": "1.5"}
# Cells of this many intermediate nodes are drawn one above the other (too wide side by side).
STACK_FROM_NODES = 4
# WCAG AA contrast for text: op colours such as #E69F00 (2.25:1 on white) colour the edge
# line, and a darker shade of the same hue writes its label.
TEXT_CONTRAST = 4.5
NONE_COLOR = "#999999"  # gray60: the dotted line of a "none" edge


def contrast_on_white(color: str) -> float:
    """The WCAG contrast ratio of a ``#RRGGBB`` colour against white.

    Args:
        color: a ``#RRGGBB`` colour.

    Returns:
        The ratio, 1 (white) to 21 (black).

    Example:
        >>> round(contrast_on_white("#E69F00"), 2)
        2.25
    """
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


def label_color(color: str) -> str:
    """The lightest shade of ``color`` (mixed with black) that text on white can use.

    Args:
        color: a ``#RRGGBB`` colour, e.g. an op's family colour.

    Returns:
        ``color`` itself when it already has 4.5:1 contrast on white, else a darker
        ``#RRGGBB`` of the same hue that has.

    Example:
        >>> label_color("#0072B2"), label_color("#E69F00")
        ('#0072B2', '#9C6C00')
    """
    rgb = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    for step in range(101):  # the last step is black (21:1), so one always qualifies
        shade = "#" + "".join(f"{round(c * (1 - step / 100)):02X}" for c in rgb)
        if contrast_on_white(shade) >= TEXT_CONTRAST:
            return shade
    return "#000000"


def edge_colors(color: str) -> dict[str, str]:
    """Graphviz attributes of an op edge: the line in ``color``, its label in a readable shade.

    Example:
        >>> edge_colors("#E69F00")
        {'color': '#E69F00', 'fontcolor': '#9C6C00'}
    """
    return {"color": color, "fontcolor": label_color(color)}


def _check_cell(cell: str) -> tuple[str, ...]:
    if cell == "both":
        return CELL_TYPES
    if cell in CELL_TYPES:
        return (cell,)
    raise SpaceError(f"Unknown cell '{cell}'; use 'both', 'normal' or 'reduce'.")


def _node_id(cell_type: str, index: int, n_inputs: int = 2) -> str:
    """DOT id of a cell's input (index < n_inputs) or intermediate node; unique across clusters."""
    if index < n_inputs:
        return f"{cell_type}_in{index}"
    return f"{cell_type}_n{index - n_inputs}"


def input_label(index: int, n_inputs: int = 2) -> str:
    """Label of cell input ``index``: c<sub>k−2</sub> for 0, c<sub>k−1</sub> for 1 (DARTS).

    A Graphviz HTML-like label, so the drawing shows a real subscript.

    Example:
        >>> input_label(1)
        '<c<SUB>k−1</SUB>>'
    """
    return f"<c<SUB>k−{n_inputs - index}</SUB>>"


# The cell output, c_k, with a real subscript (see input_label).
OUTPUT_LABEL = "<c<SUB>k</SUB>>"


def cell_edges_of(genotype: Any, cell_type: str) -> list[tuple[int, int, str]]:
    """List a cell's edges as ``(node, input, op)``, nodes counted from 0 in node order.

    Args:
        genotype: a :class:`nasbench.spaces.genotype.Genotype`.
        cell_type: ``"normal"`` or ``"reduce"``.

    Returns:
        One tuple per edge; ``input`` follows the DARTS convention (0 = c_{k-2}, 1 = c_{k-1},
        2.. = intermediate nodes).

    Example:
        >>> from nasbench.spaces.zoo import zoo
        >>> cell_edges_of(zoo["DARTS_V2"], "normal")[0]
        (0, 0, 'sep_conv_3x3')
    """
    pairs, _ = genotype.cell(cell_type)
    per_node = genotype.inputs_per_node
    return [(k // per_node, int(j), op) for k, (op, j) in enumerate(pairs)]


def _genotype_of(g: Any, kind: str, drawer: str) -> Any:
    """``g`` parsed when it is text, checked to be of ``kind``, as draw_nb101 and the
    other drawers check theirs (a one-line SpaceError, not an AttributeError inside)."""
    if isinstance(g, str):
        from nasbench.spaces.genotype import parse_genotype

        g = parse_genotype(g)
    if getattr(g, "kind", None) != kind:
        raise SpaceError(f"{drawer} draws {kind} genotypes, not {g!r}.")
    return g


def _entries(highlight: Iterable[tuple] | None, shape: str) -> list[tuple]:
    """Highlight entries as tuples; a bare number or text is a one-line SpaceError."""
    if isinstance(highlight, str):
        highlight = [highlight]
    try:
        return [tuple(item) if not isinstance(item, str) else (item,) for item in highlight or ()]
    except TypeError:
        raise SpaceError(
            f"highlight must be a list of {shape} tuples, got {highlight!r}."
        ) from None


def _highlight_set(highlight: Iterable[tuple] | None) -> tuple[set[tuple], set[tuple]]:
    """Split highlight entries into (cell, node, input) keys and (cell, node, input, op) keys."""
    by_edge: set[tuple] = set()
    by_op: set[tuple] = set()
    for item in _entries(highlight, "(cell_type, node, input)"):
        if len(item) == 3:
            by_edge.add(item)
        elif len(item) == 4:
            by_op.add(item)
        else:
            raise SpaceError(
                f"Highlight entry {item!r} is not (cell_type, node, input) or "
                "(cell_type, node, input, op)."
            )
    return by_edge, by_op


def _draw_cell(
    graph: NasDigraph, genotype: Any, cell_type: str, highlight: tuple[set, set], titled: bool
) -> None:
    pairs, concat = genotype.cell(cell_type)
    n_nodes = len(pairs) // genotype.inputs_per_node
    by_edge, by_op = highlight
    with graph.subgraph(name=f"cluster_{cell_type}") as sub:
        if titled:
            # The margin keeps edge labels off the title above them.
            sub.attr(label=CELL_TITLES[cell_type], fontsize="22", fontname="times",
                     style="dashed", labelloc="t", margin="24")  # fmt: skip
        else:
            sub.attr(style="invis")
        for i in range(2):
            sub.node(_node_id(cell_type, i), input_label(i), fillcolor=INPUT_FILL)
        for node in range(n_nodes):
            sub.node(_node_id(cell_type, node + 2), str(node), fillcolor=NODE_FILL)
        sub.node(f"{cell_type}_out", OUTPUT_LABEL, fillcolor=OUTPUT_FILL)
        for node, j, op in cell_edges_of(genotype, cell_type):
            attrs = edge_colors(op_color(op))
            if (cell_type, node, j) in by_edge or (cell_type, node, j, op) in by_op:
                attrs = {**edge_colors(HIGHLIGHT_COLOR), "penwidth": "4"}
            sub.edge(_node_id(cell_type, j), _node_id(cell_type, node + 2), label=op, **attrs)
        for j in concat:
            sub.edge(_node_id(cell_type, int(j)), f"{cell_type}_out", color="gray50")


def draw_genotype(
    g: Any,
    cell: str = "both",
    highlight: Iterable[tuple] | None = None,
    stacked: bool | None = None,
) -> NasDigraph:
    """Draw a genotype in the DARTS paper's style.

    A DARTS/NASNet :class:`Genotype` gives one cluster per cell; with ``cell="both"`` the normal
    and reduction cells sit side by side (an invisible edge keeps them in one row) when they
    are small, and one above the other when side by side would be too wide for a notebook
    (cells of ``STACK_FROM_NODES`` or more nodes: the DARTS pair is 1333 pt wide). A
    NAS-Bench-201 or chain genotype is passed on to :func:`draw_nb201` / :func:`draw_chain`,
    a NAS-Bench-101 one to ``draw_nb101``;
    a NAS-Unet genotype to ``draw_unet_cells`` (``cell`` may be ``"down"`` or ``"up"``), a
    V-NAS one to ``draw_vnas``, a DiNTS one to ``draw_dints``, a trellis one to
    ``draw_trellis``, a reconstruction one to ``draw_unrolled`` (three cascades; call
    it for another count) and a NASH one to :func:`draw_morph`.

    Args:
        g: the genotype, or its text (JSON, the DARTS notation, an NB201 string: what
            :func:`~nasbench.spaces.genotype.parse_genotype` reads, such as a run's
            ``genotype_json`` column).
        cell: ``"both"``, ``"normal"`` or ``"reduce"`` (DARTS/NASNet genotypes only).
        highlight: edges drawn thick and red, as ``(cell_type, node, input)`` (any op on that
            edge) or ``(cell_type, node, input, op)``; see :func:`diff_edges`.
        stacked: draw the two cells one above the other (True) or side by side (False);
            None decides by their size.

    Returns:
        A :class:`NasDigraph` (shows inline in Jupyter; ``render``/``save`` export it).

    Raises:
        SpaceError: for an unknown ``cell`` or a malformed highlight entry.

    Example:
        >>> from nasbench.spaces.zoo import zoo
        >>> svg = draw_genotype(zoo["DARTS_V2"]).pipe(format="svg", encoding="utf-8")
        >>> 'baseline-shift="sub"' in svg and "k−2" in svg and "sep_conv_3x3" in svg
        True
    """
    if isinstance(g, str):
        from nasbench.spaces.genotype import parse_genotype

        g = parse_genotype(g)
    if not hasattr(g, "kind") and not hasattr(g, "normal"):
        raise SpaceError(
            f"draw_genotype needs a genotype or its text, got {type(g).__name__}; pass e.g. "
            "run.genotypes['genotype'].iloc[-1]."
        )
    kind = getattr(g, "kind", "darts")
    if kind == "nb201":
        return draw_nb201(g, highlight=highlight)
    if kind == "chain":
        return draw_chain(g)
    if kind == "nb101":
        from nasbench.viz.nb101_graph import draw_nb101

        return draw_nb101(g)
    if kind in ("nasunet", "vnas", "dints"):
        return _draw_segmentation(g, cell)
    if kind == "trellis":
        from nasbench.viz.trellis_graph import draw_trellis

        return draw_trellis(g)
    if kind == "c2fnas":
        from nasbench.viz.c2fnas_graph import draw_c2fnas

        return draw_c2fnas(g)
    if kind == "recon":
        from nasbench.viz.recon import draw_unrolled

        return draw_unrolled(g)
    if kind == "morph":
        return draw_morph(g)
    cells = _check_cell(cell)
    marks = _highlight_set(highlight)
    graph = NasDigraph(
        name=f"genotype_{cell}", format="svg", node_attr=NODE_ATTR, edge_attr=EDGE_ATTR
    )
    graph.attr(rankdir="LR")
    if stacked is None:
        stacked = len(g.normal) // g.inputs_per_node >= STACK_FROM_NODES
    # dot lays unconnected clusters out last first: reversed, the normal cell is on top.
    for cell_type in reversed(cells) if stacked else cells:
        _draw_cell(graph, g, cell_type, marks, titled=len(cells) > 1)
    if len(cells) > 1 and not stacked:
        # Without this, dot stacks the two unconnected clusters vertically.
        graph.edge("normal_out", "reduce_in0", style="invis")
    return graph


def run_skeleton(config: Any) -> dict[str, Any]:
    """The ``space.skeleton`` a run's config searched in; ``{}`` when it names none.

    Example:
        >>> run_skeleton({"space": {"name": "unrolled", "skeleton": {"cascades": 2}}})
        {'cascades': 2}
    """
    space = config.get("space") if isinstance(config, Mapping) else None
    skeleton = space.get("skeleton") if isinstance(space, Mapping) else None
    return dict(skeleton) if isinstance(skeleton, Mapping) else {}


def draw_run_genotype(
    g: Any, skeleton: Mapping[str, Any] | None = None, **options: Any
) -> NasDigraph:
    """:func:`draw_genotype` in a run's own skeleton: an unrolled reconstruction network
    is drawn with the run's cascades and cells per cascade (``draw_genotype`` draws three
    cascades of one cell), every other kind as ``draw_genotype`` draws it.

    The report, the monitor and the genotype viewer draw a run's genotype through this,
    so all three show the network the run searched.

    Args:
        g: the genotype (or its text, as :func:`draw_genotype` reads).
        skeleton: the run's ``space.skeleton`` (see :func:`run_skeleton`); None or ``{}``
            for the defaults.
        **options: passed on to :func:`draw_genotype` (``highlight``, ``cell``, ...).

    Returns:
        A :class:`NasDigraph`.

    Example:
        >>> from nasbench.spaces.recon import ReconGenotype
        >>> g = ReconGenotype([("conv_3x3", 0), ("res_conv_3x3", 1)], [2])
        >>> "DC 3" in draw_run_genotype(g, {"cascades": 2, "channels": 4}).source
        False
    """
    if isinstance(g, str):
        from nasbench.spaces.genotype import parse_genotype

        g = parse_genotype(g)
    if getattr(g, "kind", "") == "recon":
        from nasbench.viz.recon import draw_unrolled

        skeleton = skeleton or {}
        sizes = {k: int(skeleton[k]) for k in ("cascades", "cells") if k in skeleton}
        return draw_unrolled(g, **sizes)
    return draw_genotype(g, **options)


def _draw_segmentation(g: Any, cell: str) -> NasDigraph:
    """NAS-Unet cells, the V-NAS network or the DiNTS topology (their own modules)."""
    if g.kind == "nasunet":
        from nasbench.viz.unet_graph import draw_unet_cells

        return draw_unet_cells(g, "both" if cell in ("both", "normal", "reduce") else cell)
    if g.kind == "vnas":
        from nasbench.viz.vnas_graph import draw_vnas

        return draw_vnas(g)
    from nasbench.viz.dints_graph import draw_dints

    return draw_dints(g)


def diff_edges(g1: Any, g2: Any) -> set[tuple[str, int, int]]:
    """Edges of ``g1`` that ``g2`` does not have (same cell, node, input and op).

    Use it to highlight what changed: ``draw_genotype(g1, highlight=diff_edges(g1, g2))`` and
    ``draw_genotype(g2, highlight=diff_edges(g2, g1))``. Edges are compared per node as
    multisets of ``(input, op)``, so the order of a node's two inputs does not count.

    Args:
        g1: the genotype whose edges are reported.
        g2: the genotype compared against.

    Returns:
        A set of ``(cell_type, node, input)``: ``node`` counts intermediate nodes from 0 (as
        drawn), ``input`` is the DARTS state index (0 = c_{k-2}, 1 = c_{k-1}, 2 + i = node i),
        the convention of ``nasbench.models.cells.cell_edges``. When one node takes the same
        input twice with different ops and only one differs, both edges share that key and
        both are highlighted (pass ``(cell_type, node, input, op)`` to mark just one).

    Example:
        >>> from nasbench.spaces.zoo import zoo
        >>> diff_edges(zoo["DARTS_V2"], zoo["DARTS_V2"])
        set()
    """
    kinds = [getattr(g, "kind", type(g).__name__) for g in (g1, g2)]
    if kinds != ["darts", "darts"]:
        raise SpaceError(
            f"diff_edges compares two DARTS cells (normal and reduce), got {kinds[0]} and "
            f"{kinds[1]}; use nasbench.viz.timeline.edge_choices() for other genotypes."
        )
    out: set[tuple[str, int, int]] = set()
    for cell_type in CELL_TYPES:
        mine = cell_edges_of(g1, cell_type)
        theirs = Counter((node, j, op) for node, j, op in cell_edges_of(g2, cell_type))
        for node, j, op in mine:
            if theirs[(node, j, op)] > 0:
                theirs[(node, j, op)] -= 1
            else:
                out.add((cell_type, node, j))
    return out


def draw_nb201(
    g: Any, show_none: bool = True, highlight: Iterable[tuple] | None = None
) -> NasDigraph:
    """Draw a NAS-Bench-201 cell: 4 nodes, an op on every edge ``i -> j`` (i < j).

    Node 0 is the cell input (green), nodes 1 and 2 intermediate (blue), node 3 the output
    (yellow). ``none`` edges (no connection) are drawn dotted and grey, so the six edges of the
    cell stay visible; ``show_none=False`` leaves them out.

    Args:
        g: a :class:`nasbench.spaces.genotype.NB201Genotype`, or its text.
        show_none: draw ``none`` edges (dotted, grey) or omit them.
        highlight: ``(node, input)`` edges drawn thick and red.

    Returns:
        A :class:`NasDigraph`.

    Example:
        >>> from nasbench.spaces.genotype import parse_genotype
        >>> g = parse_genotype("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|"
        ...                    "nor_conv_1x1~1|skip_connect~2|")
        >>> "nor_conv_3x3" in draw_nb201(g).source
        True
    """
    g = _genotype_of(g, "nb201", "draw_nb201")
    marks = set(_entries(highlight, "(node, input)"))
    graph = NasDigraph(name="nb201_cell", format="svg", node_attr=NODE_ATTR, edge_attr=EDGE_ATTR)
    graph.attr(rankdir="LR")
    n_nodes = len(g.nodes) + 1
    for i in range(n_nodes):
        fill = INPUT_FILL if i == 0 else OUTPUT_FILL if i == n_nodes - 1 else NODE_FILL
        graph.node(f"n{i}", str(i), fillcolor=fill)
    for j, inputs in enumerate(g.nodes, start=1):
        for op, i in inputs:
            attrs = edge_colors(op_color(op))
            if op == "none":
                if not show_none:
                    continue
                attrs = {**edge_colors(NONE_COLOR), "style": "dotted"}
            if (j, int(i)) in marks:
                attrs = {**edge_colors(HIGHLIGHT_COLOR), "penwidth": "4"}
            graph.edge(f"n{i}", f"n{j}", label=op, **attrs)
    return graph


_LAYER_FAMILY = {"conv": "conv", "sep_conv": "sep_conv", "max_pool": "pool", "avg_pool": "pool"}


def draw_morph(g: Any) -> NasDigraph:
    """Draw a NASH (network morphism) network: its conv-BN-ReLU layers top to bottom, and
    each skip connection as a dashed edge from the activation it adds (through a 1x1
    convolution) to the one it joins.

    Args:
        g: a :class:`nasbench.spaces.morph.MorphGenotype`, or its text.

    Returns:
        A :class:`NasDigraph`, input at the top, output at the bottom.

    Example:
        >>> from nasbench.spaces.morph import MorphGenotype
        >>> g = MorphGenotype.plain(channels=(8, 16))
        >>> "conv 3x3, stride 2, 16 channels" in draw_morph(g).source
        True
    """
    g = _genotype_of(g, "morph", "draw_morph")
    graph = NasDigraph(name="morph", format="svg", node_attr=NODE_ATTR, edge_attr=EDGE_ATTR)
    graph.attr(rankdir="TB")
    graph.node("a0", "input", fillcolor=INPUT_FILL)
    fill = lighten(family_color(_LAYER_FAMILY["conv"]))
    for index, layer in enumerate(g.layers, start=1):
        size = f"{layer.kernel}x{layer.kernel}"
        text = f"conv {size}, stride {layer.stride}, {layer.channels} channels"
        graph.node(f"a{index}", text, fillcolor=fill)
        graph.edge(f"a{index - 1}", f"a{index}")
    for source, target in g.skips:
        graph.edge(f"a{source}", f"a{target}", style="dashed", label="+ 1x1", constraint="false")
    graph.node("output", "output", fillcolor=OUTPUT_FILL)
    graph.edge(f"a{len(g.layers)}", "output")
    return graph


def draw_chain(g: Any) -> NasDigraph:
    """Draw a chain-space network (NAS-RL / MetaQNN style) as a vertical stack of layers.

    Each layer box reads ``type kh x kw, stride s`` and, for convolutions, the filter count;
    its fill is the light colour of the layer's op family.

    Args:
        g: a :class:`nasbench.spaces.genotype.ChainGenotype`, or its text.

    Returns:
        A :class:`NasDigraph`, input at the top, output at the bottom.

    Example:
        >>> from nasbench.spaces.genotype import ChainGenotype, ChainLayer
        >>> g = ChainGenotype(layers=(ChainLayer("conv", 3, 3, 1, 32),))
        >>> "conv 3x3" in draw_chain(g).source
        True
    """
    g = _genotype_of(g, "chain", "draw_chain")
    graph = NasDigraph(name="chain", format="svg", node_attr=NODE_ATTR, edge_attr=EDGE_ATTR)
    graph.attr(rankdir="TB")
    graph.node("input", "input", fillcolor=INPUT_FILL)
    previous = "input"
    for index, layer in enumerate(g.layers):
        text = f"{layer.layer_type} {layer.kernel_h}x{layer.kernel_w}, stride {layer.stride}"
        if layer.layer_type.endswith("conv"):
            text += f", {layer.filters} filters"
        fill = lighten(family_color(_LAYER_FAMILY.get(layer.layer_type, "other")))
        graph.node(f"layer{index}", text, fillcolor=fill)
        graph.edge(previous, f"layer{index}")
        previous = f"layer{index}"
    graph.node("output", "output", fillcolor=OUTPUT_FILL)
    graph.edge(previous, "output")
    return graph
