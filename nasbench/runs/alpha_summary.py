"""Summaries of a run's alphas and the collapse rule, defined once for every viewer.

The monitor, the alpha explorer, the report and the CLI read the same numbers from here:
one cell's snapshots as a ``[snapshot, edge, op]`` cube, the entropy of each edge, how far
the weights have moved from uniform, and the warnings that a differentiable search is
collapsing (RobustDARTS's eigenvalue rule, the parameter-free share of the derived cell).
Pure functions over the run store's frames; nothing here imports above ``runs``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from nasbench.runs.schema import shown_epoch

# pandas is imported where a frame is built: SearchConfig reads the collapse rule's
# constants from here, and the command line must start without pandas.
if TYPE_CHECKING:
    import pandas as pd

# RobustDARTS (Zela et al., 2020) early stop: local mean over WINDOW eigenvalues above
# FACTOR times the mean of the WINDOW before, from epoch START_EPOCH on.
COLLAPSE_WINDOW, COLLAPSE_FACTOR, COLLAPSE_START_EPOCH = 5, 1.3, 10
# A normal cell with at least this share of parameter-free ops (skip, pooling) is the
# DARTS collapse pattern (Zela et al., 2020; DARTS+ stops at 2 skips of 8 edges).
PARAMETER_FREE_SHARE = 0.5
# Below this share of log(K) in mean edge entropy the alphas have decided something; above
# it a derived cell is still a coin toss and its make-up says nothing about collapse.
DECIDED_ENTROPY_SHARE = 0.95
# Cell types whose weights are DiNTS's path probabilities, not a softmax (is_path_probability).
PATH_CELL_TYPES = ("topology",)


def alpha_cube(
    alphas: pd.DataFrame, cell_type: str, kind: str = "alpha"
) -> tuple[np.ndarray, list[str], list[str], np.ndarray]:
    """Arrange one cell's snapshots as a ``[snapshot, edge, op]`` array of weights.

    Args:
        alphas: a run's ``alphas`` frame (columns step, kind, cell_type, edge, op, weight).
        cell_type: which cell.
        kind: which matrices ("alpha", "beta", ...).

    Returns:
        ``(steps, edges, ops, cube)``; missing entries (ragged matrices) are NaN.

    Example:
        >>> import pandas as pd
        >>> frame = pd.DataFrame({"step": [1, 1], "kind": "alpha", "cell_type": "normal",
        ...                       "edge": "0-2", "op": ["skip", "pool"], "weight": [0.6, 0.4]})
        >>> steps, edges, ops, cube = alpha_cube(frame, "normal")
        >>> cube.shape, ops
        ((1, 1, 2), ['skip', 'pool'])
    """
    import pandas as pd

    frame = alphas[(alphas["cell_type"] == cell_type) & (alphas["kind"] == kind)]
    edges = [str(e) for e in dict.fromkeys(frame["edge"])]
    ops = [str(o) for o in dict.fromkeys(frame["op"])]
    steps = np.sort(frame["step"].unique())
    cube = np.full((len(steps), len(edges), len(ops)), np.nan)
    if len(frame):
        si = np.searchsorted(steps, frame["step"].to_numpy())
        ei = pd.Categorical(frame["edge"].astype(str), categories=edges).codes
        oi = pd.Categorical(frame["op"].astype(str), categories=ops).codes
        cube[si, ei, oi] = frame["weight"].to_numpy()
    return steps, edges, ops, cube


def edge_entropy(weights: np.ndarray) -> np.ndarray:
    """Entropy (nats) of each edge's op distribution; NaN entries are left out.

    Args:
        weights: ``[edges, ops]`` softmax weights.

    Returns:
        ``[edges]``: 0 when one op has all the weight, ``log(n_ops)`` when uniform.

    Example:
        >>> edge_entropy(np.array([[0.5, 0.5], [1.0, 0.0]])).round(3).tolist()
        [0.693, 0.0]
    """
    p = np.where(np.isnan(weights), 0.0, weights)
    p = p / np.clip(p.sum(axis=1, keepdims=True), 1e-12, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(p), 0.0)
    return terms.sum(axis=1)


def edge_targets(edges: Sequence[str], n_ops: int, kind: str = "alpha") -> list[str] | None:
    """The node each edge enters, when a matrix's weights are a softmax over the edges into
    a node rather than over an edge's ops: PC-DARTS's edge betas, logged as one column.

    Only matrices of kind ``"beta"`` are read this way: a one-op cell's alphas are one
    column of ``"input->node"`` rows too (1 everywhere, a softmax over one op).

    Args:
        edges: the matrix's row names.
        n_ops: how many columns it has.
        kind: the matrix's kind ("alpha", "beta", ...).

    Returns:
        The node of each edge (``"0->3"``: ``"3"``), or None for a softmax over ops.

    Example:
        >>> edge_targets(["0->2", "1->2", "0->3"], 1, "beta"), edge_targets(["0->2"], 8, "beta")
        (['2', '2', '3'], None)
        >>> edge_targets(["0->2", "1->2", "0->3"], 1, "alpha") is None
        True
    """
    parts = [str(edge).split("->") for edge in edges]
    if kind != "beta" or n_ops != 1 or not parts:
        return None
    if any(len(p) != 2 or not p[1].strip() for p in parts):
        return None  # rows not named "input->node": no cell's edges
    return [p[1].strip() for p in parts]


def is_path_probability(cell_type: Any, kind: str = "alpha") -> bool:
    """Whether a cell's weights are DiNTS's path probabilities rather than a softmax.

    DiNTS logs its topology (cell type ``"topology"``, one row per block, one column per
    path) as MONAI's ``get_prob_a``: each path's sigmoid over one minus the chance that
    no path is on. They do not sum to 1 over a block, so 1/K and a softmax's entropy say
    nothing about them; the cell type, which only DiNTS logs, tells them apart.

    Args:
        cell_type: the cell type of the rows.
        kind: their kind ("alpha", "beta", ...).

    Returns:
        True for DiNTS's topology weights.

    Example:
        >>> is_path_probability("topology"), is_path_probability("cell_ops")
        (True, False)
    """
    return str(cell_type) in PATH_CELL_TYPES and kind == "alpha"


def undecided_path_probability(paths: Any) -> Any:
    """The path probability MONAI's formula gives at zero logits: sigmoid(0) = 1/2 over
    one minus the chance that none of the block's ``paths`` is on, ``0.5 / (1 - 0.5**K)``.

    Args:
        paths: K, the paths of a block (a number or an array).

    Returns:
        The undecided probability per K (2/3 for 2 paths, 8/15 for 4).

    Example:
        >>> round(undecided_path_probability(4), 4)
        0.5333
    """
    paths = np.asarray(paths, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = 0.5 / (1.0 - 0.5**paths)
    return float(value) if value.ndim == 0 else value


def weight_name(cell_type: Any, kind: str = "alpha") -> str:
    """What a cell's normalised weights are, for axis titles: ``"path probability"`` for
    DiNTS's topology (:func:`is_path_probability`), else ``"softmax weight"``.

    Example:
        >>> weight_name("topology"), weight_name("normal")
        ('path probability', 'softmax weight')
    """
    return "path probability" if is_path_probability(cell_type, kind) else "softmax weight"


def uniform_weights(
    weights: np.ndarray,
    edges: Sequence[str] | None = None,
    kind: str = "alpha",
    cell_type: str | None = None,
) -> np.ndarray:
    """The weight each entry would have were nothing decided: its softmax's uniform share.

    - alphas (and the trellis's scale betas): 1/K, K the edge's ops that are present;
    - PC-DARTS's edge betas (kind ``"beta"``, one column, see :func:`edge_targets`): 1/n,
      n the edges into the edge's node;
    - ProxylessNAS's ``"gate"`` weights: a softmax over the two ops sampled per edge (the
      rest are 0 and in no softmax): 1/2 on those, NaN on the rest;
    - DiNTS's path probabilities (cell type ``"topology"``, no softmax): MONAI's value at
      zero logits, ``0.5 / (1 - 0.5**K)`` for a block of K paths
      (:func:`undecided_path_probability`).

    Args:
        weights: ``[..., edges, ops]`` softmax weights (NaN where an edge lacks an op).
        edges: the row names (needed for edge betas).
        kind: the matrices' kind ("alpha", "beta", "gate", ...).
        cell_type: the cell the weights are of (needed for DiNTS's path probabilities).

    Returns:
        An array of ``weights``' shape.

    Example:
        >>> uniform_weights(np.ones((3, 1)), ["0->2", "1->2", "0->3"], "beta").ravel().tolist()
        [0.5, 0.5, 1.0]
        >>> uniform_weights(np.ones((1, 2)), cell_type="topology").round(4).tolist()
        [[0.6667, 0.6667]]
    """
    weights = np.asarray(weights, dtype=float)
    if is_path_probability(cell_type, kind):
        present = ~np.isnan(weights)
        k = np.sum(present, axis=-1, keepdims=True)
        return np.where(present, undecided_path_probability(np.clip(k, 1, None)), np.nan)
    targets = edge_targets(edges, weights.shape[-1], kind) if edges is not None else None
    if targets is not None:
        n = np.array([targets.count(t) for t in targets], dtype=float)
        return np.broadcast_to(1.0 / n[:, None], weights.shape).copy()
    present = ~np.isnan(weights)
    if kind == "gate":
        present &= weights != 0
    k = np.sum(present, axis=-1, keepdims=True)
    return np.where(present, 1.0 / np.clip(k, 1, None), np.nan)


def deviation_from_uniform(
    weights: np.ndarray,
    edges: Sequence[str] | None = None,
    kind: str = "alpha",
    cell_type: str | None = None,
) -> np.ndarray:
    """Each weight minus its uniform share (see :func:`uniform_weights`): 1/K of its edge's
    ops for alphas, 1/n of its node's incoming edges for PC-DARTS's edge betas, the
    undecided path probability for DiNTS's topology.

    Args:
        weights: ``[..., edges, ops]`` softmax weights (NaN where an edge lacks an op).
        edges: the row names (needed for edge betas).
        kind: the matrices' kind ("alpha", "beta", "gate", ...).
        cell_type: the cell the weights are of (needed for DiNTS's path probabilities).

    Returns:
        The same shape: 0 everywhere while the weights are uniform (NaN where an entry is
        in no softmax).

    Example:
        >>> deviation_from_uniform(np.array([[0.5, 0.25, 0.25]])).tolist()
        [[0.16666666666666669, -0.08333333333333331, -0.08333333333333331]]
    """
    return np.asarray(weights, dtype=float) - uniform_weights(weights, edges, kind, cell_type)


def node_entropy(weights: np.ndarray, edges: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Entropy (nats) of each node's weights over its incoming edges (PC-DARTS's betas).

    Args:
        weights: ``[edges, 1]`` edge weights, a softmax over each node's incoming edges.
        edges: the row names, ``"input->node"``.

    Returns:
        ``(nodes, entropy)``: the nodes in order of first appearance, and per node 0 when
        one edge has all the weight, ``log(n)`` when its n edges are uniform.

    Raises:
        ValueError: ``edges`` are not one column of ``"input->node"`` rows.

    Example:
        >>> nodes, h = node_entropy(np.array([[0.5], [0.5], [1.0]]), ["0->2", "1->2", "0->3"])
        >>> nodes, h.round(3).tolist()
        (['2', '3'], [0.693, 0.0])
    """
    weights = np.asarray(weights, dtype=float)
    targets = edge_targets(edges, weights.shape[-1], "beta")
    if targets is None:
        raise ValueError("node_entropy needs one column of edges named 'input->node'.")
    nodes = list(dict.fromkeys(targets))
    column = weights[:, 0]
    entropy = np.array(
        [edge_entropy(column[[t == node for t in targets]][None, :])[0] for node in nodes]
    )
    return nodes, entropy


def alphas_decided(weights: np.ndarray) -> bool:
    """Whether a snapshot has moved away from uniform (mean edge entropy < 95% of log K).

    Args:
        weights: ``[edges, ops]`` softmax weights.

    Returns:
        False for uniform or nearly uniform alphas.

    Example:
        >>> alphas_decided(np.full((3, 4), 0.25)), alphas_decided(np.eye(3))
        (False, True)
    """
    k = np.sum(~np.isnan(weights), axis=-1)
    most = np.log(np.clip(k, 2, None))
    return bool(np.mean(edge_entropy(weights) / most) < DECIDED_ENTROPY_SHARE)


def collapse_rule(run: Any) -> tuple[int, float, int]:
    """The early-stop rule a run searched with: its window, factor and first epoch.

    Args:
        run: a :class:`nasbench.runs.Run`, or anything else (e.g. a history frame), which
            gets the RobustDARTS defaults.

    Returns:
        ``(window, factor, start_epoch)`` from the run's config keys ``early_stop_window``,
        ``early_stop_factor`` and ``early_stop_start`` (the defaults where a key is absent).

    Example:
        >>> collapse_rule(None)
        (5, 1.3, 10)
    """
    config = getattr(run, "config", None)
    config = config if isinstance(config, dict) else {}
    return (
        int(config.get("early_stop_window", COLLAPSE_WINDOW)),
        float(config.get("early_stop_factor", COLLAPSE_FACTOR)),
        int(config.get("early_stop_start", COLLAPSE_START_EPOCH)),
    )


def collapse_threshold(
    values: Sequence[float], window: int = COLLAPSE_WINDOW, factor: float = COLLAPSE_FACTOR
) -> tuple[np.ndarray, np.ndarray]:
    """Local averages of eigenvalues and the stop threshold RobustDARTS compares them with.

    Args:
        values: eigenvalues in measurement order.
        window: local-average window k.
        factor: growth factor.

    Returns:
        ``(local, threshold)``: ``local[i]`` is the mean of the last k values up to i (NaN before
        k values), ``threshold[i]`` is ``factor`` times the mean of the k values before those (NaN
        before 2k values); the rule fires where ``local > threshold``.

    Example:
        >>> local, limit = collapse_threshold([1.0] * 5 + [2.0] * 5)
        >>> float(local[-1]), float(limit[-1])
        (2.0, 1.3)
    """
    import pandas as pd

    series = pd.Series(np.asarray(values, dtype=float))
    local = series.rolling(window).mean()
    threshold = factor * local.shift(window)
    return local.to_numpy(), threshold.to_numpy()


def collapse_warnings(run: Any) -> list[str]:
    """Warnings that a differentiable search is collapsing, from a run's rows.

    Looks at ``early_stop`` (and any ``*collapse*``) events; the share of parameter-free
    ops in the latest derived normal cell, once the alphas have decided something; and
    RobustDARTS's eigenvalue rule (``hessian_eigenvalue`` metric).

    Args:
        run: a :class:`nasbench.runs.Run` (``events``, ``genotypes``, ``history``,
            ``alphas``).

    Returns:
        One line per warning (empty when all is well).

    Example:
        >>> collapse_warnings(load("runs/darts-1"))  # doctest: +SKIP
        []
    """
    from nasbench.spaces import is_parameter_free

    out = []
    events = run.events
    for kind, payload in zip(events["kind"], events["payload"], strict=True):
        if kind == "early_stop":
            out.append(
                f"early stop: {payload.get('rule', 'collapse rule fired')} "
                f"(epoch {shown_epoch(payload.get('epoch'))}, best genotype at epoch "
                f"{shown_epoch(payload.get('return_epoch'))})."
            )
        elif "collapse" in str(kind):
            out.append(f"{kind}: {payload}")
    if len(run.genotypes) and _latest_normal_decided(run.alphas):
        genotype = run.genotypes["genotype"].iloc[-1]
        if getattr(genotype, "kind", None) == "darts":
            ops = [op for op, _ in genotype.cell("normal")[0]]
            free = sum(is_parameter_free(op) for op in ops)
            if ops and free / len(ops) >= PARAMETER_FREE_SHARE:
                out.append(
                    f"collapse risk: {free} of {len(ops)} normal-cell edges are parameter-free "
                    "(skip/pool); DARTS tends to this when searched too long."
                )
    history = run.history
    eigen = history.loc[history["name"] == "hessian_eigenvalue", "value"].dropna().to_numpy()
    window, factor, _ = collapse_rule(run)
    local, threshold = collapse_threshold(eigen, window, factor)
    if len(eigen) and local[-1] > threshold[-1]:
        out.append(
            f"rising Hessian eigenvalue: mean of the last {window} is {local[-1]:.3g}, "
            f"over {factor:g} x the {window} before "
            "(RobustDARTS: sharp minima precede collapse)."
        )
    return out


def _latest_normal_decided(alphas: pd.DataFrame) -> bool:
    if alphas.empty:
        return True  # nothing to judge by (e.g. a genotype pasted in): trust the cell
    import pandas as pd

    # The monitor asks on each poll: rows are picked by index on numpy arrays (category
    # codes), and only the latest snapshot's rows are taken out of the frame; masking the
    # whole frame (every column copied, twice) cost time in proportion to the run's length.
    column = alphas["cell_type"]
    normal = _rows_equal(column, "normal")
    cell = "normal" if normal.any() else str(column.iloc[0])  # else the first cell logged
    rows = np.flatnonzero(
        (normal if cell == "normal" else _rows_equal(column, cell))
        & _rows_equal(alphas["kind"], "alpha")
    )
    if not len(rows):
        return False
    steps = alphas["step"].to_numpy()[rows]
    rows = rows[steps == pd.Series(steps).max()]  # pandas' max: NaN steps are skipped
    _, _, _, cube = alpha_cube(alphas.iloc[rows], cell)
    return alphas_decided(cube[-1])


def _rows_equal(column: pd.Series, value: str) -> np.ndarray:
    """Which rows of ``column`` hold ``value`` (a bool array), compared on category codes
    where the column has them (a byte per row instead of a string)."""
    import pandas as pd

    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = column.cat.categories
        if value not in categories:
            return np.zeros(len(column), dtype=bool)
        return column.cat.codes.to_numpy() == categories.get_loc(value)
    return (column == value).to_numpy(dtype=bool, na_value=False)
