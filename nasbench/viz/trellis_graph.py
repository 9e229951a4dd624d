"""Drawings of the Auto-DeepLab / MS-NAS trellis: the grid of scales, its betas, the path.

:func:`draw_trellis` lays the trellis out with layers left to right and scales top to
bottom (scale 0, the input resolution, on top): every transition the trellis has is a
thin grey edge (labelled with its normalised beta when the weights are given, its width
growing with it), and the decoded network path is drawn thick and coloured by what it
does (down: blue, same: black, up: orange). :func:`trellis_weights` reads the betas of
one snapshot back from a run store; :func:`plot_trellis_betas` draws their trajectories
(one chart per node, one line per transition).

Example:
    >>> from nasbench.spaces.trellis import TrellisGenotype
    >>> g = TrellisGenotype((1, 0), [("sep_conv_3x3", 0), ("skip_connect", 1)], [2], 2)
    >>> "L2" in draw_trellis(g).source
    True
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import numpy as np

from nasbench.errors import ConfigError, SpaceError, closest_name
from nasbench.spaces.trellis import TRANSITIONS, trellis_mask
from nasbench.viz.genotype_graph import EDGE_ATTR, NODE_ATTR, edge_colors
from nasbench.viz.palette import NODE_FILL
from nasbench.viz.render import NasDigraph

PATH_COLORS = {"down": "#1f77b4", "same": "#000000", "up": "#ff7f0e"}
_NODE = re.compile(r"^L(\d+) s(\d+)$")


def draw_trellis(genotype: Any, weights: Any = None) -> NasDigraph:
    """Draw the trellis of a genotype's space with its decoded path.

    Args:
        genotype: a :class:`~nasbench.spaces.trellis.TrellisGenotype`.
        weights: normalised betas ``(layers, scales, 3)`` (a supernet's ``scale_weights()``
            or :func:`trellis_weights` of a run) to label every transition; None draws
            the grid without them.

    Returns:
        A :class:`NasDigraph`; the path edges carry the class ``path`` in their ``id``.
    """
    if getattr(genotype, "kind", None) != "trellis":
        raise SpaceError(f"draw_trellis draws trellis genotypes, not {genotype!r}.")
    n_layers, n_scales = genotype.num_layers, genotype.num_scales
    mask = trellis_mask(n_layers, n_scales)
    if weights is not None:
        weights = np.asarray(weights, dtype=float)
        if weights.shape != mask.shape:
            raise SpaceError(
                f"weights have shape {weights.shape}; this trellis needs {mask.shape}."
            )
    # The fonts of the other drawings (20 pt), so a trellis reads at the same size beside them.
    graph = NasDigraph(
        name="trellis", format="svg", node_attr={**NODE_ATTR, "shape": "circle"},
        edge_attr={"fontsize": EDGE_ATTR["fontsize"], "fontname": EDGE_ATTR["fontname"]},
    )  # fmt: skip
    ops = ", ".join(f"{op}<-{inp}" for op, inp in genotype.cell)
    graph.attr(rankdir="LR", ranksep="0.9", nodesep="0.35", label=f"cell: {ops}", labelloc="b",
               fontsize=NODE_ATTR["fontsize"], fontname=NODE_ATTR["fontname"])  # fmt: skip
    on_path = {(0, 0)} | {(layer + 1, s) for layer, s in enumerate(genotype.path)}
    for column in range(n_layers + 1):
        with graph.subgraph(name=f"column{column}") as sub:
            sub.attr(rank="same")
            for s in range(n_scales):
                exists = column == 0 and s == 0 or column > 0 and mask[column - 1, s].any()
                label = ("stem" if column == 0 else f"L{column}") if s == 0 else ""
                style = {"fillcolor": NODE_FILL} if (column, s) in on_path else {}
                if not exists:
                    style = {"style": "invis"}
                sub.node(f"n{column}_{s}", label, xlabel=f"1/{2**s}" if column == 0 else "",
                         **style)  # fmt: skip
            for s in range(n_scales - 1):
                sub.edge(f"n{column}_{s}", f"n{column}_{s + 1}", style="invis")
    for layer in range(n_layers):
        for s in range(n_scales):
            for t, kind in enumerate(TRANSITIONS):
                if not mask[layer, s, t]:
                    continue
                src = s - 1 + t
                attrs: dict[str, str] = {"color": "#bbbbbb", "arrowsize": "0.5"}
                if weights is not None:
                    w = float(weights[layer, s, t])
                    attrs.update(label=f"{w:.2f}", penwidth=f"{0.5 + 3 * w:.2f}")
                previous = genotype.path[layer - 1] if layer else 0
                if genotype.path[layer] == s and previous == src:
                    # The line keeps the path colour; its label a shade readable on white.
                    attrs.update(edge_colors(PATH_COLORS[kind]), penwidth="3.5", id=f"path{layer}")
                graph.edge(f"n{layer}_{src}", f"n{layer + 1}_{s}", **attrs)
    return graph


def trellis_weights(run_or_frame: Any, step: int | None = None) -> np.ndarray:
    """The normalised betas ``(layers, scales, 3)`` of one snapshot of a trellis search.

    Args:
        run_or_frame: a :class:`nasbench.runs.Run` or its ``alphas`` frame.
        step: the snapshot's step (None: the last).

    Returns:
        The weights, 0 where the trellis has no transition.
    """
    from nasbench.viz.alphas import frame_of

    hint = "this run recorded no trellis betas; search the 'trellis' space."
    frame = frame_of(run_or_frame, "alphas", ("step", "cell_type", "kind", "edge", "op", "weight"),
                     hint)  # fmt: skip
    rows = frame[(frame.cell_type == "trellis") & (frame.kind == "beta")]
    if rows.empty:
        raise SpaceError(hint)
    step = int(rows.step.max()) if step is None else int(step)
    rows = rows[rows.step == step]
    if rows.empty:
        raise SpaceError(f"no trellis betas were recorded at step {step}.")
    nodes = [tuple(int(v) for v in _NODE.match(edge).groups()) for edge in rows.edge]
    n_layers = max(layer for layer, _ in nodes)
    n_scales = 1 + max(s for _, s in nodes)
    out = np.zeros((n_layers, n_scales, len(TRANSITIONS)))
    for (layer, s), op, w in zip(nodes, rows.op, rows.weight, strict=True):
        out[layer - 1, s, TRANSITIONS.index(op)] = w
    return out


def plot_trellis_betas(run_or_frame: Any, value: str = "weight", **kwargs: Any):
    """Beta trajectories: one chart per trellis node, one line per incoming transition.

    Args:
        run_or_frame: a run (or its ``alphas`` frame) of a trellis search.
        value: ``"weight"`` (the softmax over the node's transitions) or ``"raw"``.
        **kwargs: passed to :func:`nasbench.viz.alphas.plot_alphas` (max_points, cols,
            y_range).

    Returns:
        A plotly figure.

    Raises:
        ConfigError: a keyword plot_alphas does not take, or a run without trellis betas.
    """
    from nasbench.viz.alphas import plot_alphas

    # A typo would otherwise be reported by plot_alphas, a function the caller never called.
    fixed = ("run_or_frame", "cell_type", "kind", "value")
    passed_on = [p for p in inspect.signature(plot_alphas).parameters if p not in fixed]
    for name in kwargs:
        if name not in passed_on:
            raise ConfigError(
                f"plot_trellis_betas has no argument {name!r}; it takes run_or_frame, value, "
                f"{', '.join(passed_on)}." + closest_name(name, passed_on)
            )
    return plot_alphas(run_or_frame, cell_type="trellis", kind="beta", value=value, **kwargs)
