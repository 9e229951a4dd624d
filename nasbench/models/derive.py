"""From architecture weights to a discrete genotype: the DARTS rule.

For each intermediate node, keep the ``inputs_per_node`` incoming edges whose
strongest non-'none' op weight is largest, and put that strongest op on each
(``genotype()`` / ``_parse`` in DARTS's ``model_search.py``). Ties go to the
earlier input, as DARTS's stable sort does. PC-DARTS passes ``softmax(alpha) * beta``
as the scores, which changes the edge choice but not the op choice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from nasbench.errors import SpaceError
from nasbench.spaces.genotype import Genotype

ZERO_OP = "none"


def derive_cell(
    scores: np.ndarray,
    edges: Sequence[tuple[int, int]],
    op_names: Sequence[str],
    inputs_per_node: int = 2,
) -> list[tuple[str, int]]:
    """The (op, input) pairs of one cell, ``inputs_per_node`` per node, in node order.

    Args:
        scores: ``(n_edges, n_ops)`` weights (e.g. softmax of alpha).
        edges: ``(node, input)`` per row of ``scores`` (``nasbench.models.cells.cell_edges``).
        op_names: one name per column; a ``'none'`` column is never chosen.
        inputs_per_node: edges kept per node.

    Returns:
        The pairs; within a node the stronger edge comes first (DARTS order).

    Example:
        >>> w = np.array([[0.1, 0.9], [0.8, 0.2], [0.5, 0.5]])
        >>> derive_cell(w, [(0, 0), (0, 1), (0, 2)], ["none", "skip_connect"], 2)
        [('skip_connect', 0), ('skip_connect', 2)]
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
    pairs: list[tuple[str, int]] = []
    for node in sorted({n for n, _ in edges}):
        rows = [e for e, (n, _) in enumerate(edges) if n == node]
        if len(rows) < inputs_per_node:
            raise SpaceError(
                f"Node {node} has {len(rows)} incoming edges; it needs {inputs_per_node}."
            )
        best = scores[np.ix_(rows, usable)].max(axis=1)
        keep = [rows[i] for i in np.argsort(-best, kind="stable")[:inputs_per_node]]
        for e in keep:
            op = usable[int(np.argmax(scores[e, usable]))]
            pairs.append((op_names[op], edges[e][1]))
    return pairs


def derive_genotype(
    scores: Mapping[str, np.ndarray],
    edges: Sequence[tuple[int, int]],
    op_names: Sequence[str],
    n_nodes: int,
    inputs_per_node: int = 2,
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
    normal = derive_cell(scores.get("normal", present), edges, op_names, inputs_per_node)
    reduce = derive_cell(scores.get("reduce", present), edges, op_names, inputs_per_node)
    concat = tuple(range(2, 2 + n_nodes))
    return Genotype(
        normal=tuple(normal),
        normal_concat=concat,
        reduce=tuple(reduce),
        reduce_concat=concat,
        inputs_per_node=inputs_per_node,
    )
