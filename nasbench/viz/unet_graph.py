"""Drawings of NAS-Unet cells: the DownSC and UpSC cells of a genotype, DARTS style.

Inputs are light green (DownSC: ``c_{k-2}``, ``c_{k-1}``; UpSC: ``skip`` for the encoder
feature at the output resolution and ``c_{k-1}`` for the previous cell), nodes light
blue, the output yellow; edges carry their op, coloured by op family. Edges that change
the resolution are drawn bold, with a ``↓`` (down-sampling) or ``↑`` (up-sampling) mark.

Example:
    >>> from nasbench.spaces.seg_genotypes import NasUnetGenotype
    >>> g = NasUnetGenotype(down=[("down_conv", 0), ("max_pool", 1)], down_concat=[2],
    ...                     up=[("conv", 0), ("up_conv", 1)], up_concat=[2])
    >>> "DownSC cell" in draw_unet_cells(g).source
    True
"""

from __future__ import annotations

from typing import Any

from nasbench.errors import SpaceError
from nasbench.spaces.seg_genotypes import UNET_CELL_TYPES, edge_role
from nasbench.viz.genotype_graph import EDGE_ATTR, NODE_ATTR, OUTPUT_LABEL, edge_colors
from nasbench.viz.palette import INPUT_FILL, NODE_FILL, OUTPUT_FILL, op_color
from nasbench.viz.render import NasDigraph

TITLES = {"down": "DownSC cell", "up": "UpSC cell"}
INPUT_LABELS = {"down": ("c_{k-2}", "c_{k-1}"), "up": ("skip", "c_{k-1}")}
MARKS = {"down": " ↓", "up": " ↑", "normal": ""}


def _cells(cell: str) -> tuple[str, ...]:
    if cell == "both":
        return UNET_CELL_TYPES
    if cell in UNET_CELL_TYPES:
        return (cell,)
    raise SpaceError(f"Unknown cell '{cell}'; use 'both', 'down' or 'up'.")


def _draw_cell(graph: NasDigraph, genotype: Any, cell_type: str, titled: bool) -> None:
    pairs, concat = genotype.cell(cell_type)
    per_node = genotype.inputs_per_node
    with graph.subgraph(name=f"cluster_{cell_type}") as sub:
        if titled:
            sub.attr(label=TITLES[cell_type], fontsize="22", fontname="times", style="dashed")
        else:
            sub.attr(style="invis")
        for i, label in enumerate(INPUT_LABELS[cell_type]):
            sub.node(f"{cell_type}_in{i}", label, fillcolor=INPUT_FILL)
        for node in range(len(pairs) // per_node):
            sub.node(f"{cell_type}_n{node}", str(node), fillcolor=NODE_FILL)
        sub.node(f"{cell_type}_out", OUTPUT_LABEL, fillcolor=OUTPUT_FILL)
        for k, (op, j) in enumerate(pairs):
            source = f"{cell_type}_in{j}" if j < 2 else f"{cell_type}_n{j - 2}"
            role = edge_role(cell_type, j)
            attrs = edge_colors(op_color(op))  # the label in a shade readable on white
            if role != "normal":
                attrs["penwidth"] = "3"
            sub.edge(source, f"{cell_type}_n{k // per_node}", label=op + MARKS[role], **attrs)
        for j in concat:
            sub.edge(f"{cell_type}_n{int(j) - 2}", f"{cell_type}_out", color="gray50")


def draw_unet_cells(genotype: Any, cell: str = "both") -> NasDigraph:
    """Draw the DownSC and UpSC cells of a NAS-Unet genotype.

    Args:
        genotype: a :class:`~nasbench.spaces.seg_genotypes.NasUnetGenotype`.
        cell: ``"both"`` (side by side), ``"down"`` or ``"up"``.

    Returns:
        A :class:`NasDigraph` (inline in Jupyter; ``render``/``save`` export it).
    """
    if getattr(genotype, "kind", None) != "nasunet":
        raise SpaceError(f"draw_unet_cells draws nasunet genotypes, not {genotype!r}.")
    cells = _cells(cell)
    graph = NasDigraph(
        name=f"nasunet_{cell}", format="svg", node_attr=NODE_ATTR, edge_attr=EDGE_ATTR
    )
    graph.attr(rankdir="LR")
    for cell_type in cells:
        _draw_cell(graph, genotype, cell_type, titled=len(cells) > 1)
    if len(cells) > 1:
        graph.edge("down_out", "up_in0", style="invis")
    return graph
