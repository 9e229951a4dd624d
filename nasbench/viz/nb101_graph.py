"""Drawing of a NAS-Bench-101 cell: its DAG, one box per vertex labelled by the op.

As the benchmark's paper draws cells: the input at the top (green), the output at the
bottom (yellow), each interior vertex a box filled with the light colour of its op's
family (convolutions and pools as everywhere in the workbench). Vertices that pruning
removes (not on an input-to-output path) are drawn dashed and grey with their edges, so
the drawing shows the whole matrix; ``show_pruned=False`` leaves them out.

Example:
    >>> from nasbench.spaces.nb101 import NB101Genotype
    >>> g = NB101Genotype([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["conv3x3_bn_relu"])
    >>> "conv3x3_bn_relu" in draw_nb101(g).source
    True
"""

from __future__ import annotations

from typing import Any

from nasbench.errors import SpaceError
from nasbench.viz.genotype_graph import EDGE_ATTR, NODE_ATTR, NONE_COLOR, label_color
from nasbench.viz.palette import INPUT_FILL, OUTPUT_FILL, lighten, op_color
from nasbench.viz.render import NasDigraph

PRUNED_COLOR = NONE_COLOR  # gray60: drawn, but set back from the live cell


def draw_nb101(genotype: Any, show_pruned: bool = True) -> NasDigraph:
    """Draw a NAS-Bench-101 cell top to bottom.

    Args:
        genotype: an :class:`~nasbench.spaces.nb101.NB101Genotype`.
        show_pruned: draw the vertices and edges off every input-to-output path (dashed,
            grey), or leave them out.

    Returns:
        A :class:`NasDigraph` (shows inline in Jupyter; ``render``/``save`` export it).
    """
    if getattr(genotype, "kind", None) != "nb101":
        raise SpaceError(f"draw_nb101 draws nb101 genotypes, not {genotype!r}.")
    from nasbench.spaces.nb101 import live_vertices

    live = set(live_vertices(genotype.matrix))
    labels = genotype.labels()
    n = genotype.n_vertices
    graph = NasDigraph(name="nb101_cell", format="svg", node_attr=NODE_ATTR, edge_attr=EDGE_ATTR)
    graph.attr(rankdir="TB")
    for v in range(n):
        if v not in live and not show_pruned:
            continue
        if v == 0 or v == n - 1:
            graph.node(f"v{v}", labels[v], fillcolor=INPUT_FILL if v == 0 else OUTPUT_FILL)
        elif v in live:
            graph.node(f"v{v}", labels[v], fillcolor=lighten(op_color(labels[v])))
        else:
            graph.node(
                f"v{v}",
                labels[v],
                fillcolor="white",
                color=PRUNED_COLOR,
                fontcolor=label_color(PRUNED_COLOR),  # faded, yet readable text
                style="dashed",
            )
    for i in range(n):
        for j in range(i + 1, n):
            if not genotype.matrix[i][j]:
                continue
            if i in live and j in live:
                graph.edge(f"v{i}", f"v{j}")
            elif show_pruned:
                graph.edge(f"v{i}", f"v{j}", color=PRUNED_COLOR, style="dashed")
    return graph
