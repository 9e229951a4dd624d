"""Drawing of a search space's supernet: every candidate edge of the cell.

Each candidate edge is drawn once, as a bundle of parallel coloured lines, one line per op family
present in the space (graphviz colour lists), with a legend listing the ops by family. Drawing
every op as its own edge would put 112 arrows into the DARTS cell (8 ops x 14 edges), which no
one can read; the bundle keeps the cell's wiring legible and still shows what each edge may be.
"""

from __future__ import annotations

from html import escape

from nasbench.errors import SpaceError
from nasbench.spaces.cell import CellSpace
from nasbench.spaces.nb201 import NB201Space
from nasbench.viz.genotype_graph import EDGE_ATTR, NODE_ATTR, OUTPUT_LABEL, input_label
from nasbench.viz.palette import INPUT_FILL, NODE_FILL, OUTPUT_FILL, family_color, family_of
from nasbench.viz.render import NasDigraph


def _families(ops: tuple[str, ...]) -> dict[str, list[str]]:
    """Ops grouped by family, in first-seen order."""
    groups: dict[str, list[str]] = {}
    for op in ops:
        groups.setdefault(family_of(op), []).append(op)
    return groups


def _legend(groups: dict[str, list[str]], n_edges: int) -> str:
    rows = [
        f'<tr><td colspan="2"><b>{sum(map(len, groups.values()))} candidate ops '
        f"on each of {n_edges} edges</b></td></tr>"
    ]
    for family, ops in groups.items():
        rows.append(
            f'<tr><td bgcolor="{family_color(family)}" width="24"> </td>'
            f'<td align="left">{escape(", ".join(ops))}</td></tr>'
        )
    return '<<table border="0" cellspacing="2">' + "".join(rows) + "</table>>"


def _bundle(groups: dict[str, list[str]]) -> str:
    return ":".join(family_color(family) for family in groups)


def _cell_supernet(ops: tuple[str, ...], n_nodes: int, n_inputs: int = 2) -> NasDigraph:
    groups = _families(ops)
    graph = NasDigraph(name="supernet", format="svg", node_attr=NODE_ATTR, edge_attr=EDGE_ATTR)
    graph.attr(rankdir="LR")
    for i in range(n_inputs):
        graph.node(f"in{i}", input_label(i, n_inputs), fillcolor=INPUT_FILL)
    for node in range(n_nodes):
        graph.node(f"n{node}", str(node), fillcolor=NODE_FILL)
    graph.node("out", OUTPUT_LABEL, fillcolor=OUTPUT_FILL)
    n_edges = 0
    for node in range(n_nodes):
        for j in range(n_inputs + node):
            source = f"in{j}" if j < n_inputs else f"n{j - n_inputs}"
            graph.edge(source, f"n{node}", color=_bundle(groups), penwidth="1")
            n_edges += 1
    for node in range(n_nodes):
        graph.edge(f"n{node}", "out", color="gray50")
    graph.node("legend", _legend(groups, n_edges), shape="plaintext", style="", fontsize="14")
    return graph


def _nb201_supernet(ops: tuple[str, ...], n_nodes: int = 4) -> NasDigraph:
    groups = _families(ops)
    graph = NasDigraph(name="supernet", format="svg", node_attr=NODE_ATTR, edge_attr=EDGE_ATTR)
    graph.attr(rankdir="LR")
    for i in range(n_nodes):
        fill = INPUT_FILL if i == 0 else OUTPUT_FILL if i == n_nodes - 1 else NODE_FILL
        graph.node(f"n{i}", str(i), fillcolor=fill)
    n_edges = 0
    for j in range(1, n_nodes):
        for i in range(j):
            graph.edge(f"n{i}", f"n{j}", color=_bundle(groups), penwidth="1")
            n_edges += 1
    graph.node("legend", _legend(groups, n_edges), shape="plaintext", style="", fontsize="14")
    return graph


def draw_supernet(space: CellSpace | NB201Space) -> NasDigraph:
    """Draw every candidate edge of a cell search space.

    For a DARTS/NASNet :class:`CellSpace`: inputs ``c_{k-2}``, ``c_{k-1}``, nodes ``0..n-1`` and
    the output, with one candidate edge from every earlier node into every intermediate node
    (14 edges for 4 nodes); the discrete cell keeps ``inputs_per_node`` of them per node. For a
    :class:`NB201Space`: the 6 edges of the 4-node cell. Each edge is a bundle of parallel lines
    coloured by the op families of the space; a legend lists the ops.

    Args:
        space: a ``CellSpace`` or ``NB201Space``.

    Returns:
        A :class:`NasDigraph`.

    Raises:
        SpaceError: for a space without cells (the chain space has no supernet drawing).

    Example:
        >>> from nasbench.spaces.cell import CellSpace
        >>> "legend" in draw_supernet(CellSpace()).source
        True
    """
    if isinstance(space, CellSpace):
        return _cell_supernet(tuple(space.ops), space.n_nodes)
    if isinstance(space, NB201Space):
        return _nb201_supernet(tuple(space.ops), space.n_nodes)
    raise SpaceError(
        f"Cannot draw a supernet for a {type(space).__name__}: draw_supernet draws cell spaces "
        "(CellSpace, NB201Space); draw a chain genotype with draw_chain."
    )
