"""Drawing of a DiNTS topology: blocks left to right, resolution levels top to bottom.

Each column is a block boundary (column 0: the multi-resolution inputs), each row a
resolution level (0 the finest inside the search space). An active feature node is
filled, an inactive one dotted; each active path is an edge from its input level in one
column to its output level in the next, labelled with its cell op and coloured by that op
(the op colours of every drawing). Its line says where it goes: solid when it keeps the
resolution (same level), dashed when it halves it (down a level), dotted when it doubles
it (up a level).

Example:
    >>> from nasbench.spaces.seg_genotypes import DintsGenotype
    >>> g = DintsGenotype([[1, 1], [1, 0]], [[1, 0, 0, 0]], [[1, 0, 0, 0]],
    ...                   ("skip_connect", "conv_3x3x3"))
    >>> "conv_3x3x3" in draw_dints(g).source
    True
"""

from __future__ import annotations

from typing import Any

from nasbench.errors import SpaceError
from nasbench.spaces.dints import path_ends
from nasbench.viz.genotype_graph import EDGE_ATTR, NODE_ATTR, edge_colors
from nasbench.viz.palette import NODE_FILL, op_color
from nasbench.viz.render import NasDigraph

# A path's colour is its op's (as everywhere); its line says where it goes.
PATH_STYLES = {0: "solid", 1: "dashed", -1: "dotted"}  # same level, down, up


def draw_dints(genotype: Any, show_inactive: bool = True) -> NasDigraph:
    """Draw a DiNTS genotype's searched topology.

    Args:
        genotype: a :class:`~nasbench.spaces.seg_genotypes.DintsGenotype`.
        show_inactive: draw the inactive feature nodes (dotted) to keep the grid visible.

    Returns:
        A :class:`NasDigraph`.
    """
    if getattr(genotype, "kind", None) != "dints":
        raise SpaceError(f"draw_dints draws dints genotypes, not {genotype!r}.")
    ends = path_ends(genotype.num_depths)
    # The fonts of the other drawings (20 pt), so a topology reads at the same size beside them.
    graph = NasDigraph(
        name="dints", format="svg", node_attr={**NODE_ATTR, "shape": "circle"},
        edge_attr={"fontsize": EDGE_ATTR["fontsize"], "fontname": EDGE_ATTR["fontname"]},
    )  # fmt: skip
    graph.attr(rankdir="LR", ranksep="1.1", nodesep="0.4")
    for column, row in enumerate(genotype.node_a):
        with graph.subgraph(name=f"column{column}") as sub:
            sub.attr(rank="same")
            for level, on in enumerate(row):
                label = f"L{level}" if column == 0 else ""
                if on:
                    sub.node(f"n{column}_{level}", label, fillcolor=NODE_FILL)
                elif show_inactive:
                    sub.node(f"n{column}_{level}", label, style="dotted", fillcolor="white")
    # Invisible lanes keep every level on its own row, finest on top.
    for column in range(len(genotype.node_a) - 1):
        for level in range(genotype.num_depths):
            if show_inactive or (
                genotype.node_a[column][level] and genotype.node_a[column + 1][level]
            ):
                graph.edge(
                    f"n{column}_{level}", f"n{column + 1}_{level}", style="invis", weight="10"
                )
    for column in range(len(genotype.node_a)):
        for level in range(genotype.num_depths - 1):
            if show_inactive:
                graph.edge(f"n{column}_{level}", f"n{column}_{level + 1}", style="invis")
    for block, path, op in genotype.active_paths():
        source, target = ends[path]
        graph.edge(
            f"n{block}_{source}", f"n{block + 1}_{target}", label=op, **edge_colors(op_color(op)),
            style=PATH_STYLES[(target > source) - (target < source)],
        )  # fmt: skip
    return graph
