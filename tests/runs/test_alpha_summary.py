"""The alpha summaries and the collapse rule every viewer shares (nasbench.runs.alpha_summary)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from nasbench.runs.alpha_summary import (
    alpha_cube,
    alphas_decided,
    collapse_threshold,
    collapse_warnings,
    deviation_from_uniform,
    node_entropy,
)
from nasbench.spaces import parse_genotype

OPS = ["skip_connect", "max_pool_3x3", "sep_conv_3x3"]
EDGES = ["0->2", "1->2", "0->3", "1->3"]
# Three of four normal-cell edges parameter-free: the DARTS collapse pattern.
COLLAPSED = parse_genotype(
    "Genotype(normal=[('skip_connect', 0), ('skip_connect', 1), ('max_pool_3x3', 0), "
    "('sep_conv_3x3', 2)], normal_concat=range(2, 4), reduce=[('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 2)], reduce_concat=range(2, 4))"
)


def alphas_frame(weights_per_step: list[np.ndarray]) -> pd.DataFrame:
    rows = [
        {"step": step, "kind": "alpha", "cell_type": "normal", "edge": edge, "op": op,
         "weight": float(weights[e, o])}
        for step, weights in enumerate(weights_per_step)
        for e, edge in enumerate(EDGES)
        for o, op in enumerate(OPS)
    ]  # fmt: skip
    return pd.DataFrame(rows)


def fake_run(alphas: pd.DataFrame, eigen: list[float] = ()) -> SimpleNamespace:
    history = pd.DataFrame({"name": ["hessian_eigenvalue"] * len(eigen), "value": list(eigen)})
    return SimpleNamespace(
        events=pd.DataFrame({"kind": [], "payload": []}),
        genotypes=pd.DataFrame({"genotype": [COLLAPSED]}),
        history=history,
        alphas=alphas,
    )


def test_cube_and_deviation_read_zero_while_uniform():
    uniform = np.full((4, 3), 1 / 3)
    steps, edges, ops, cube = alpha_cube(alphas_frame([uniform, uniform]), "normal")
    assert list(steps) == [0, 1] and edges == EDGES and ops == OPS
    assert cube.shape == (2, 4, 3)
    assert np.allclose(deviation_from_uniform(cube), 0.0)
    assert not alphas_decided(cube[-1])


def test_a_collapsed_cell_warns_only_once_the_alphas_have_decided():
    uniform = np.full((4, 3), 1 / 3)
    assert collapse_warnings(fake_run(alphas_frame([uniform]))) == []  # a coin toss yet
    decided = np.tile([0.8, 0.1, 0.1], (4, 1))
    (warning,) = collapse_warnings(fake_run(alphas_frame([uniform, decided])))
    assert "3 of 4 normal-cell edges are parameter-free" in warning


def test_the_eigenvalue_rule_is_robustdartss_windowed_one():
    uniform = [np.full((4, 3), 1 / 3)]
    # Two values growing fivefold are not enough: the rule compares means of 5 and 5.
    assert collapse_warnings(fake_run(alphas_frame(uniform), [0.1, 0.5])) == []
    (warning,) = collapse_warnings(fake_run(alphas_frame(uniform), [1.0] * 5 + [1.4] * 5))
    assert "rising Hessian eigenvalue" in warning and "1.3 x" in warning
    assert collapse_warnings(fake_run(alphas_frame(uniform), [1.0] * 5 + [1.2] * 5)) == []
    local, threshold = collapse_threshold([1.0] * 5 + [1.4] * 5)
    assert np.isclose(local[-1], 1.4) and np.isclose(threshold[-1], 1.3)


def old_collapse_warnings(run) -> list[str]:
    """collapse_warnings as it was before it picked the latest snapshot by row index (the
    reference its results must equal)."""
    from nasbench.runs.alpha_summary import (
        PARAMETER_FREE_SHARE,
        collapse_rule,
        shown_epoch,
    )
    from nasbench.spaces import is_parameter_free

    def latest_normal_decided(alphas):
        if alphas.empty:
            return True
        cells = [str(c) for c in alphas["cell_type"].unique()]
        cell = "normal" if "normal" in cells else cells[0]
        frame = alphas[(alphas["cell_type"] == cell) & (alphas["kind"] == "alpha")]
        if frame.empty:
            return False
        _, _, _, cube = alpha_cube(frame[frame["step"] == frame["step"].max()], cell)
        return alphas_decided(cube[-1])

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
    if len(run.genotypes) and latest_normal_decided(run.alphas):
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


def snapshot(rng: np.random.Generator, decided: bool) -> np.ndarray:
    raw = rng.normal(size=(len(EDGES), len(OPS))) * (0.01 if not decided else 1.0)
    if decided:
        raw[:, 0] += 5.0  # skip_connect wins every edge: the alphas have decided
    return raw


def test_collapse_warnings_equal_the_old_algorithm_on_a_live_run(tmp_path):
    from nasbench.runs import RunStore, load

    rng = np.random.default_rng(3)
    seen = []
    with RunStore.create(
        tmp_path / "run", {"strategy": {"name": "darts"}}, environment={}
    ) as store:
        run = load(store.run_dir)
        step = 0
        for epoch in range(12):
            for _ in range(3):
                step += 1
                decided = epoch % 3 == 2  # decided and undecided snapshots take turns
                with store.batch():
                    store.log_metrics(step, epoch, "train", {"loss": 1.0 / step})
                    for cell in ("normal", "reduce"):
                        store.log_alphas(step, epoch, cell, snapshot(rng, decided), OPS, EDGES)
                    # Betas after the alphas of the same step, and of a larger step: the
                    # latest snapshot is the latest alpha one, not the latest row.
                    store.log_alphas(step + 1, epoch, "normal", snapshot(rng, not decided),
                                     OPS, EDGES, kind="beta")  # fmt: skip
            # An end-of-epoch snapshot at the same step as the periodic one.
            store.log_alphas(step, epoch, "normal", snapshot(rng, epoch % 2 == 0), OPS, EDGES)
            store.log_genotype(epoch, step, str(COLLAPSED), {"acc": 0.5})
            store.log_metrics(step, epoch, "val", {"hessian_eigenvalue": 1.0 + (epoch > 7)})
            if epoch == 9:
                store.discard_after(step - 2)  # a resume: frames keep unused categories
            run.refresh()
            assert collapse_warnings(run) == old_collapse_warnings(run)
            seen.append(tuple(w.split(":")[0] for w in collapse_warnings(run)))
        run.close()
    # Both outcomes of each rule were compared, not only the quiet one.
    assert {"collapse risk", "rising Hessian eigenvalue"} <= {w for s in seen for w in s}
    assert () in seen


def test_collapse_warnings_equal_the_old_algorithm_on_odd_frames():
    uniform, decided = np.full((4, 3), 1 / 3), np.tile([0.8, 0.1, 0.1], (4, 1))
    frame = alphas_frame([decided, uniform, decided])
    cases = {
        "steps out of order": frame.assign(step=frame["step"].map({0: 0, 1: 5, 2: 3})),
        "two snapshots at the last step": frame.assign(step=frame["step"].clip(upper=1)),
        "no normal cell": frame.assign(cell_type="network"),
        "no alpha kind": frame.assign(kind="beta"),
        "a NaN step": frame.assign(step=frame["step"].where(frame["step"] != 1)),
        "categories": frame.astype({"cell_type": "category", "kind": "category"}),
        "unused categories": frame.astype(
            {
                "cell_type": pd.CategoricalDtype(["reduce", "normal"]),
                "kind": pd.CategoricalDtype(["beta", "alpha"]),
            }
        ),  # fmt: skip
        "empty": frame.iloc[:0],
    }
    for name, alphas in cases.items():
        run = fake_run(alphas)
        assert collapse_warnings(run) == old_collapse_warnings(run), name


class MaskWatch(pd.DataFrame):
    """A frame that records the length of each boolean mask it is indexed with."""

    masks: list[int] = []

    @property
    def _constructor(self):
        return MaskWatch

    def __getitem__(self, key):
        if hasattr(key, "dtype") and pd.api.types.is_bool_dtype(key.dtype):
            MaskWatch.masks.append(len(key))
        return super().__getitem__(key)


def test_collapse_warnings_take_only_the_latest_snapshot_out_of_the_alphas():
    decided = np.tile([0.8, 0.1, 0.1], (4, 1))
    alphas = MaskWatch(alphas_frame([decided] * 50).astype({"cell_type": "category"}))
    MaskWatch.masks = []
    assert collapse_warnings(fake_run(alphas))  # the collapse risk
    # The monitor asks on every poll: masking all of a long run's rows costs its length.
    assert MaskWatch.masks and max(MaskWatch.masks) == len(EDGES) * len(OPS)


def test_edge_betas_deviate_from_their_nodes_share_and_gates_from_their_pairs():
    # PC-DARTS's betas (one column): a softmax over each node's incoming edges.
    betas = np.array([[0.6], [0.4], [0.5], [0.3], [0.2]])
    edges = ["0->2", "1->2", "0->3", "1->3", "2->3"]
    np.testing.assert_allclose(
        deviation_from_uniform(betas, edges, "beta").ravel(), [0.1, -0.1, 1 / 6, -1 / 30, -2 / 15]
    )
    nodes, entropy = node_entropy(betas, edges)
    assert nodes == ["2", "3"]
    np.testing.assert_allclose(entropy, [-(0.6 * np.log(0.6) + 0.4 * np.log(0.4)),
                                         -sum(p * np.log(p) for p in (0.5, 0.3, 0.2))])  # fmt: skip
    # ProxylessNAS's gates: a softmax over the two ops sampled per edge (the rest are 0).
    gates = np.array([[0.7, 0.3, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5]])
    shown = deviation_from_uniform(gates, edges[:2], "gate")
    np.testing.assert_allclose(shown, [[0.2, -0.2, np.nan, np.nan], [np.nan, np.nan, 0, 0]])
    # Alphas (and a trellis's several-column betas) keep 1/K of the edge's ops.
    np.testing.assert_allclose(deviation_from_uniform(gates, edges[:2]), gates - 0.25)


def test_dints_path_probabilities_deviate_from_their_value_at_zero_logits():
    # DiNTS logs MONAI's path probabilities (sigmoid / (1 - prod(1 - sigmoid))) as its
    # "topology" cell: undecided, each of a block's K paths reads 0.5 / (1 - 0.5**K), not 1/K.
    from nasbench.runs.alpha_summary import (
        is_path_probability,
        uniform_weights,
        weight_name,
    )

    undecided = np.array([[0.5 / (1 - 0.5**4)] * 4, [0.5 / (1 - 0.5**2)] * 2 + [np.nan] * 2])
    np.testing.assert_allclose(
        uniform_weights(undecided, ["block 0", "block 1"], cell_type="topology"), undecided
    )
    np.testing.assert_allclose(
        deviation_from_uniform(undecided, ["block 0", "block 1"], cell_type="topology")[0], 0.0
    )
    assert is_path_probability("topology") and not is_path_probability("cell_ops")
    assert weight_name("topology") == "path probability"
    # The cell ops beside them are a softmax: 1/K as before.
    np.testing.assert_allclose(uniform_weights(np.full((1, 5), 0.2), cell_type="cell_ops"), 0.2)


def one_op_cell_run(run_dir):
    """A run holding a one-op cell supernet's alphas, logged as the bilevel loop logs them."""
    from nasbench.runs import RunStore
    from nasbench.spaces import create_space

    space = create_space(
        "darts", ops=["sep_conv_3x3"], n_nodes=2, skeleton={"n_cells": 2, "channels": 4}
    )
    supernet = space.supernet(seed=0)
    with RunStore.create(run_dir, {"strategy": "darts"}, environment={}) as store:
        for r in supernet.alpha_records():
            store.log_alphas(0, 0, r.cell_type, r.raw, r.op_names, r.edge_names, r.weights, r.kind)
    return run_dir


def test_a_one_op_cells_alphas_are_a_softmax_over_its_op_not_edge_betas(tmp_path):
    from nasbench.runs import Run
    from nasbench.runs.alpha_summary import edge_entropy, edge_targets

    alphas = Run(one_op_cell_run(tmp_path / "run")).alphas
    _, edges, ops, cube = alpha_cube(alphas, "normal", "alpha")
    # One column of "input->node" rows, all 1: a softmax over one op, not over a node's edges.
    assert ops == ["sep_conv_3x3"] and edges[0] == "0->2" and np.allclose(cube, 1.0)
    np.testing.assert_allclose(deviation_from_uniform(cube, edges, "alpha", "normal"), 0.0)
    assert edge_targets(edges, 1, "alpha") is None  # so the viewers show each edge's entropy
    np.testing.assert_allclose(edge_entropy(cube[-1]), np.zeros(len(edges)))
    # The same rows as PC-DARTS's betas are still each node's share.
    assert edge_targets(edges, 1, "beta") == ["2", "2", "3", "3", "3"]
