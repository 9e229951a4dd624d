"""Drawing of the macro network a cell is stacked in (the DARTS/NASNet skeleton).

stem -> cells (N = normal, R = reduction, each with its channel counts) -> global average
pooling -> classifier. Every cell reads the two previous outputs: the solid edge is c_{k-1}, the
dashed grey edge the c_{k-2} skip (both come from the stem for the first cell).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nasbench.errors import SpaceError
from nasbench.viz.palette import INPUT_FILL, NODE_FILL, OUTPUT_FILL
from nasbench.viz.render import NasDigraph

REDUCTION_FILL = "#FDD49E"
PLAIN_FILL = "gray92"
# The 20 pt of the cell drawings, so the network reads at their size beside them.
_NODE_ATTR = {"style": "filled", "shape": "rect", "fontname": "times", "fontsize": "20"}
_EDGE_ATTR = {"fontname": "times", "fontsize": "20"}


def cell_channels(genotype: Any, skeleton: Any) -> list[tuple[str, int, int]]:
    """Per cell: its type letter, its working channels C and its output channels.

    Follows DARTS: the stem gives ``stem_multiplier * channels``; C doubles at each reduction
    cell; a cell outputs ``len(concat) * C`` (the concatenated nodes).

    Args:
        genotype: a :class:`nasbench.spaces.genotype.Genotype`.
        skeleton: a :class:`nasbench.spaces.skeleton.Skeleton`.

    Returns:
        ``[("N" | "R", C, C_out), ...]``, one per cell.

    Example:
        >>> from nasbench.spaces.zoo import zoo
        >>> from nasbench.spaces.skeleton import Skeleton
        >>> cell_channels(zoo["DARTS_V2"], Skeleton(n_cells=3, channels=16))[1]
        ('R', 32, 128)
    """
    reductions = set(skeleton.reductions())
    channels = skeleton.channels
    out = []
    for index in range(skeleton.n_cells):
        cell_type = "reduce" if index in reductions else "normal"
        if cell_type == "reduce":
            channels *= 2
        _, concat = genotype.cell(cell_type)
        out.append(("R" if cell_type == "reduce" else "N", channels, len(concat) * channels))
    return out


def draw_network(genotype: Any, skeleton: Any, rankdir: str = "LR") -> NasDigraph:
    """Draw the network that ``nasbench.models.build(genotype, skeleton)`` builds.

    Args:
        genotype: a DARTS/NASNet :class:`Genotype` (gives each cell's output width).
        skeleton: the :class:`Skeleton` (number of cells, channels, reduction positions, stem,
            classes, auxiliary head), or its dict as a run's ``config["space"]["skeleton"]``
            holds it.
        rankdir: ``"LR"`` (left to right) or ``"TB"`` (top to bottom).

    Returns:
        A :class:`NasDigraph` with nodes ``input``, ``stem``, ``cell0..cell{n-1}``, ``gap``,
        ``classifier`` (and ``aux`` when the skeleton has an auxiliary head).

    Raises:
        SpaceError: for a genotype that is not a DARTS/NASNet cell pair.

    Example:
        >>> from nasbench.spaces.zoo import zoo
        >>> from nasbench.spaces.skeleton import Skeleton
        >>> "R 2" in draw_network(zoo["DARTS_V2"], Skeleton(n_cells=8)).source
        True
    """
    if getattr(genotype, "kind", None) != "darts":
        raise SpaceError(
            f"draw_network draws DARTS/NASNet cell networks; got a "
            f"{getattr(genotype, 'kind', type(genotype).__name__)} genotype "
            "(use draw_genotype for it)."
        )
    skeleton = _as_skeleton(skeleton)
    dims = "x".join(["3"] * skeleton.spatial_dims)
    stem_channels = skeleton.stem_multiplier * skeleton.channels
    graph = NasDigraph(name="network", format="svg", node_attr=_NODE_ATTR, edge_attr=_EDGE_ATTR)
    graph.attr(rankdir=rankdir, nodesep="0.15", ranksep="0.35")
    graph.node("input", f"input\n{skeleton.in_channels} ch", fillcolor=INPUT_FILL)
    graph.node("stem", f"stem\nconv {dims}\n{stem_channels} ch", fillcolor=PLAIN_FILL)
    graph.edge("input", "stem")
    outputs = ["stem", "stem"]  # c_{k-2}, c_{k-1} of the next cell
    channels = cell_channels(genotype, skeleton)
    for index, (letter, width, out_width) in enumerate(channels):
        name = f"cell{index}"
        fill = REDUCTION_FILL if letter == "R" else NODE_FILL
        graph.node(name, f"{letter} {index}\nC={width}\n{out_width} ch", fillcolor=fill)
        graph.edge(outputs[0], name, style="dashed", color="gray55", arrowsize="0.6")
        graph.edge(outputs[1], name)
        outputs = [outputs[1], name]
    aux_after = 2 * skeleton.n_cells // 3
    if skeleton.auxiliary and 0 <= aux_after < skeleton.n_cells:
        # DARTS attaches the auxiliary head after cell 2n/3.
        graph.node("aux", "auxiliary\nhead", fillcolor=PLAIN_FILL, style="filled,dashed")
        graph.edge(f"cell{aux_after}", "aux", style="dashed")
    graph.node("gap", "global\navg pool", fillcolor=PLAIN_FILL)
    graph.node("classifier", f"classifier\n{skeleton.num_classes} classes", fillcolor=OUTPUT_FILL)
    graph.edge(outputs[1], "gap")
    graph.edge("gap", "classifier")
    return graph


def _as_skeleton(skeleton: Any) -> Any:
    """A Skeleton from itself or from its dict (validated: a bad value is a SpaceError)."""
    from nasbench.spaces.skeleton import Skeleton

    if isinstance(skeleton, Mapping):
        return Skeleton.from_dict(dict(skeleton))
    if not isinstance(skeleton, Skeleton):
        raise SpaceError(f"skeleton must be a Skeleton or its dict, got {type(skeleton).__name__}.")
    return skeleton
