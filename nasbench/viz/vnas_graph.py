"""Drawing of a V-NAS genotype: the U-shaped network with each block's conv choice.

The encoder runs down the left (one box per block, its level and conv), the decoder up
the right, with a dashed skip from each encoder level to its decoder cell. Box fills
tell the conv apart: 2D (in-plane 1x3x3), 3D (3x3x3) and pseudo-3D (1x3x3 + 3x1x1).

Example:
    >>> from nasbench.spaces.seg_genotypes import VnasGenotype
    >>> g = VnasGenotype(["vnas_3d_3x3", "vnas_2d_3x3"], ["vnas_p3d_3x3"])
    >>> "P3D" in draw_vnas(g).source
    True
"""

from __future__ import annotations

from typing import Any

from nasbench.errors import SpaceError
from nasbench.viz.genotype_graph import NODE_ATTR
from nasbench.viz.palette import INPUT_FILL, OUTPUT_FILL
from nasbench.viz.render import NasDigraph

CONV_LABELS = {"vnas_2d_3x3": "2D 1x3x3", "vnas_3d_3x3": "3D 3x3x3", "vnas_p3d_3x3": "P3D"}
CONV_FILLS = {"vnas_2d_3x3": "#F2D7A6", "vnas_3d_3x3": "#F4B183", "vnas_p3d_3x3": "#C5E0B4"}


def draw_vnas(genotype: Any) -> NasDigraph:
    """Draw a V-NAS genotype as its encoder-decoder, one box per searched block.

    Args:
        genotype: a :class:`~nasbench.spaces.seg_genotypes.VnasGenotype`.

    Returns:
        A :class:`NasDigraph`.
    """
    if getattr(genotype, "kind", None) != "vnas":
        raise SpaceError(f"draw_vnas draws vnas genotypes, not {genotype!r}.")
    depth = len(genotype.decoder)
    per_level = len(genotype.encoder) // (depth + 1)
    graph = NasDigraph(name="vnas", format="svg", node_attr={**NODE_ATTR, "fontsize": "14"})
    graph.attr(rankdir="TB", nodesep="0.5")
    graph.node("input", "input", fillcolor=INPUT_FILL)
    previous, last_of_level = "input", {}
    for k, op in enumerate(genotype.encoder):
        level, block = divmod(k, per_level)
        name = f"e{k}"
        label = f"enc L{level}.{block}\n{CONV_LABELS.get(op, op)}"
        graph.node(name, label, fillcolor=CONV_FILLS.get(op, "white"))
        graph.edge(previous, name, label="↓" if block == 0 and level else "")
        previous = last_of_level[level] = name
    for i, op in enumerate(genotype.decoder):
        level = depth - 1 - i
        name = f"d{i}"
        graph.node(
            name, f"dec L{level}\n{CONV_LABELS.get(op, op)}", fillcolor=CONV_FILLS.get(op, "white")
        )
        graph.edge(previous, name, label="↑")
        graph.edge(last_of_level[level], name, style="dashed", color="gray50", constraint="false")
        previous = name
    graph.node("output", "logits", fillcolor=OUTPUT_FILL)
    graph.edge(previous, "output")
    return graph
