"""Draw a C2FNAS genotype: its cells left to right, input to output.

Each cell box names its level (``L0`` the stem's resolution, ``L1`` half of it, ...) and its
conv, filled with the light colour of the conv's op family; a dashed edge carries each
U-Net skip from the way down to the cell on the way up that adds it.
"""

from __future__ import annotations

from typing import Any

from nasbench.viz.genotype_graph import EDGE_ATTR, NODE_ATTR
from nasbench.viz.palette import INPUT_FILL, OUTPUT_FILL, lighten, op_color
from nasbench.viz.render import NasDigraph


def draw_c2fnas(g: Any) -> NasDigraph:
    """Draw a :class:`~nasbench.spaces.c2fnas.C2fnasGenotype` (module docstring).

    Args:
        g: the genotype.

    Returns:
        A :class:`NasDigraph`.

    Example:
        >>> from nasbench.spaces.c2fnas import C2fnasGenotype
        >>> g = C2fnasGenotype((0, 1, 0), ("vnas_3d_3x3", "vnas_2d_3x3", "vnas_p3d_3x3"))
        >>> "L1: vnas_2d_3x3" in draw_c2fnas(g).source
        True
    """
    graph = NasDigraph(name="c2fnas", format="svg", node_attr=NODE_ATTR, edge_attr=EDGE_ATTR)
    graph.attr(rankdir="LR")
    graph.node("input", "input", fillcolor=INPUT_FILL)
    previous, down, descending, before = "input", {}, True, 0
    for k, (level, op) in enumerate(zip(g.levels, g.ops, strict=True)):
        name = f"cell{k}"
        graph.node(name, f"L{level}: {op}", fillcolor=lighten(op_color(op)))
        graph.edge(previous, name)
        if level < before:
            descending = False
            graph.edge(down[level], name, style="dashed", constraint="false")
        if descending:
            down[level] = name
        previous, before = name, level
    graph.node("output", "output", fillcolor=OUTPUT_FILL)
    graph.edge(previous, "output")
    return graph
