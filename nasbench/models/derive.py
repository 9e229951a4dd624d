"""From architecture weights to a discrete genotype: the DARTS rule.

For each intermediate node, keep the ``inputs_per_node`` incoming edges whose
strongest non-'none' op weight is largest, and put that strongest op on each
(``genotype()`` / ``_parse`` in DARTS's ``model_search.py``). Ties go to the
earlier input, as DARTS's stable sort does. PC-DARTS passes ``softmax(alpha) * beta``
as the scores, which changes the edge choice but not the op choice.

``min_parametric`` is P-DARTS's guard against collapse (Chen et al., 2019, cap the
normal cell's skip connections at two), stated for every parameter-free op: when the
rule leaves fewer parametric ops than asked, the kept edges whose best parametric op is
closest to their chosen parameter-free op take it, the closest first. The edges kept do
not change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from nasbench.errors import SpaceError
from nasbench.spaces.genotype import Genotype
from nasbench.spaces.ops import is_parameter_free

ZERO_OP = "none"


def derive_cell(
    scores: np.ndarray,
    edges: Sequence[tuple[int, int]],
    op_names: Sequence[str],
    inputs_per_node: int = 2,
    min_parametric: int = 0,
) -> list[tuple[str, int]]:
    """The (op, input) pairs of one cell, ``inputs_per_node`` per node, in node order.

    Args:
        scores: ``(n_edges, n_ops)`` weights (e.g. softmax of alpha).
        edges: ``(node, input)`` per row of ``scores`` (``nasbench.models.cells.cell_edges``).
        op_names: one name per column; a ``'none'`` column is never chosen.
        inputs_per_node: edges kept per node.
        min_parametric: parametric ops the cell keeps at least (0: the plain DARTS
            rule); more than the cell's edges means all of them, as far as the
            candidate ops allow.

    Returns:
        The pairs; within a node the stronger edge comes first (DARTS order).

    Example:
        >>> w = np.array([[0.1, 0.9], [0.8, 0.2], [0.5, 0.5]])
        >>> derive_cell(w, [(0, 0), (0, 1), (0, 2)], ["none", "skip_connect"], 2)
        [('skip_connect', 0), ('skip_connect', 2)]
        >>> w = np.array([[0.0, 0.6, 0.4], [0.0, 0.7, 0.3]])
        >>> derive_cell(w, [(0, 0), (0, 1)], ["none", "skip_connect", "sep_conv_3x3"], 2,
        ...             min_parametric=1)
        [('skip_connect', 1), ('sep_conv_3x3', 0)]
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != (len(edges), len(op_names)):
        raise SpaceError(
            f"Weights of shape {scores.shape} do not match {len(edges)} edges x "
            f"{len(op_names)} ops."
        )
    usable = [k for k, name in enumerate(op_names) if name != ZERO_OP]
    if not usable:
        raise SpaceError("Cannot derive a genotype: every candidate op is 'none'.")
    chosen: list[tuple[int, int]] = []  # (row, column) per kept edge, in DARTS order
    for node in sorted({n for n, _ in edges}):
        rows = [e for e, (n, _) in enumerate(edges) if n == node]
        if len(rows) < inputs_per_node:
            raise SpaceError(
                f"Node {node} has {len(rows)} incoming edges; it needs {inputs_per_node}."
            )
        best = scores[np.ix_(rows, usable)].max(axis=1)
        keep = [rows[i] for i in np.argsort(-best, kind="stable")[:inputs_per_node]]
        chosen += [(e, usable[int(np.argmax(scores[e, usable]))]) for e in keep]
    if min_parametric > 0:
        chosen = _with_parametric(chosen, scores, op_names, usable, min_parametric)
    return [(op_names[op], edges[e][1]) for e, op in chosen]


def _with_parametric(
    chosen: list[tuple[int, int]],
    scores: np.ndarray,
    op_names: Sequence[str],
    usable: Sequence[int],
    min_parametric: int,
) -> list[tuple[int, int]]:
    """``chosen`` with parameter-free ops swapped for the row's best parametric op, the
    smallest score drop first, until ``min_parametric`` ops are parametric."""
    parametric = [k for k in usable if not is_parameter_free(op_names[k])]
    chosen = list(chosen)
    missing = min_parametric - sum(op in parametric for _, op in chosen)
    if not parametric or missing <= 0:
        return chosen
    swaps = []  # (score drop, position, best parametric column)
    for position, (row, op) in enumerate(chosen):
        if op not in parametric:
            best = parametric[int(np.argmax(scores[row, parametric]))]
            swaps.append((scores[row, op] - scores[row, best], position, best))
    for _, position, best in sorted(swaps)[:missing]:
        chosen[position] = (chosen[position][0], best)
    return chosen


def derive_genotype(
    scores: Mapping[str, np.ndarray],
    edges: Sequence[tuple[int, int]],
    op_names: Sequence[str],
    n_nodes: int,
    inputs_per_node: int = 2,
    min_parametric: int = 0,
) -> Genotype:
    """The genotype (normal + reduction cell) that per-cell-type scores point to.

    Args:
        scores: ``{"normal": (n_edges, n_ops), "reduce": ...}``; a missing cell type
            (a skeleton without reduction cells, or one of reduction cells only) takes
            the scores of the other.
        edges: ``(node, input)`` per row.
        op_names: one name per column.
        n_nodes: intermediate nodes; all of them are concatenated into the output.
        inputs_per_node: edges kept per node.
        min_parametric: parametric ops the normal cell keeps at least (P-DARTS caps
            the normal cell only; reductions stay free to pool).

    Returns:
        A :class:`~nasbench.spaces.genotype.Genotype` without 'none'.

    Example:
        >>> from nasbench.models.cells import cell_edges
        >>> rng = np.random.default_rng(0)
        >>> g = derive_genotype({"normal": rng.random((5, 3))}, cell_edges(2),
        ...                     ["none", "skip_connect", "avg_pool_3x3"], n_nodes=2)
        >>> len(g.normal), g.normal_concat
        (4, (2, 3))
    """
    if not scores:
        raise SpaceError("derive_genotype needs the scores of at least one cell type.")
    # A skeleton may lack one cell type (no reduction cells; or 2 cells, both reductions):
    # the missing cell is never built, so it takes the present one's cell.
    present = scores.get("normal", scores.get("reduce"))
    normal = derive_cell(
        scores.get("normal", present), edges, op_names, inputs_per_node, min_parametric
    )
    reduce = derive_cell(scores.get("reduce", present), edges, op_names, inputs_per_node)
    concat = tuple(range(2, 2 + n_nodes))
    return Genotype(
        normal=tuple(normal),
        normal_concat=concat,
        reduce=tuple(reduce),
        reduce_concat=concat,
        inputs_per_node=inputs_per_node,
    )
