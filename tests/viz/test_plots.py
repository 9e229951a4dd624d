"""Tests for the plotly figures of nasbench.viz (alphas, timeline, history) on a synthetic run."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from nasbench.errors import NasbenchError
from nasbench.runs import RunStore, load
from nasbench.runs.alpha_summary import collapse_threshold, collapse_warnings
from nasbench.spaces.zoo import zoo
from nasbench.viz.alphas import (
    _get_alpha_animation_info,
    _get_alpha_info,
    plot_alpha_animation,
    plot_alpha_heatmap,
    plot_alphas,
)
from nasbench.viz.history import (
    _get_eigenvalue_info,
    _get_history_info,
    plot_eigenvalues,
    plot_history,
)
from nasbench.viz.palette import op_color
from nasbench.viz.timeline import _get_timeline_info, genotype_changes, plot_genotype_timeline

OPS = ("max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "dil_conv_5x5")
EDGES = tuple(f"{i}->{j}" for j in range(2, 5) for i in range(j))  # 3 nodes: 9 edges
STEPS = (0, 5, 10, 15, 20)
BASE = zoo["DARTS_V2"]
# Epoch 2 changes the op on 0->2 and moves node 1's second input from state 1 to state 2.
CHANGED = dataclasses.replace(
    BASE,
    normal=(("skip_connect", 0),) + BASE.normal[1:3] + (("sep_conv_3x3", 2),) + BASE.normal[4:],
)
GENOTYPES = (BASE, BASE, CHANGED)


def softmax(raw: np.ndarray) -> np.ndarray:
    e = np.exp(raw - raw.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def raw_matrix(step: int, cell_type: str) -> np.ndarray:
    rng = np.random.default_rng(step * 2 + (cell_type == "reduce"))
    return rng.normal(size=(len(EDGES), len(OPS)))


def make_run(root, eigen: bool = False, early_stop: bool = False):
    run_dir = root / "run"
    with RunStore.create(run_dir, {"strategy": "darts"}, environment={}) as store:
        store.set_status("running")
        store.log_event("search_started", {"total_steps": 20})
        for step in STEPS:
            for cell_type in ("normal", "reduce"):
                store.log_alphas(
                    step, step // 10, cell_type, raw_matrix(step, cell_type), OPS, EDGES
                )
        store.log_alphas(20, 1, "normal", np.ones((len(EDGES), 1)), ["beta"], EDGES, kind="beta")
        for step in range(1, 21):
            store.log_metrics(step, (step - 1) // 10, "train", {"loss": 1 / step, "acc": 0.5})
        for epoch, genotype in enumerate(GENOTYPES):
            val = {"val_loss": 0.9 - 0.1 * epoch, "val_acc": 0.6, "parameter_free_ops": 3.0}
            if eigen:
                val["hessian_eigenvalue"] = 0.1 * (epoch + 1)
            store.log_metrics(10 * epoch + 5, epoch, "val", val)
            store.log_genotype(epoch, 10 * epoch + 5, genotype.to_json(), val)
        if early_stop:
            store.log_event("early_stop", {"epoch": 2, "return_epoch": 0}, epoch=2)
        store.set_status("finished")
    return load(run_dir)


@pytest.fixture
def run(tmp_path):
    return make_run(tmp_path)


def traces_of(fig: go.Figure, edge: str) -> dict[str, go.Scatter]:
    return {t.name: t for t in fig.data if t.meta == edge}


def test_plot_alphas_one_subplot_per_edge_and_weights_match(run):
    fig = plot_alphas(run, cell_type="reduce")
    assert [a.text for a in fig.layout.annotations] == list(EDGES)
    assert len(fig.data) == len(EDGES) * len(OPS)
    axes = {(t.xaxis, t.yaxis) for t in fig.data}
    assert len(axes) == len(EDGES)
    expected = np.stack([softmax(raw_matrix(s, "reduce")) for s in STEPS])  # steps x edges x ops
    for e, edge in enumerate(EDGES):
        lines = traces_of(fig, edge)
        assert list(lines) == list(OPS)
        for o, op in enumerate(OPS):
            assert list(lines[op].x) == list(STEPS)
            np.testing.assert_allclose(lines[op].y, expected[:, e, o], rtol=1e-12)
            assert lines[op].line.color == op_color(op)
            assert list(lines[op].customdata) == [s // 10 + 1 for s in STEPS]  # from 1
    assert sum(t.showlegend is not False for t in fig.data) == len(OPS)


def test_plot_alphas_accepts_the_frame_and_thins_long_runs(run):
    fig = plot_alphas(run.alphas, cell_type="normal", max_points=3)
    assert "3 of 5 snapshots" in fig.layout.title.text
    assert list(fig.data[0].x) == [0, 10, 20]
    beta = plot_alphas(run, cell_type="normal", kind="beta")
    assert len(beta.data) == len(EDGES) and all(list(t.y) == [1.0] for t in beta.data)


def test_plot_alphas_errors_are_one_line(run, tmp_path):
    with pytest.raises(NasbenchError, match="cell_type 'normall'.*Did you mean 'normal'"):
        plot_alphas(run, cell_type="normall")
    with pytest.raises(NasbenchError, match="kind 'tau'"):
        plot_alphas(run, kind="tau")
    with RunStore.create(tmp_path / "empty", {}, environment={}) as store:  # still starting
        empty = load(store.run_dir)
        with pytest.raises(NasbenchError, match="no alpha snapshots yet") as err:
            plot_alphas(empty)
    assert "\n" not in str(err.value)
    with pytest.raises(NasbenchError, match="lacks column"):
        plot_alphas(pd.DataFrame({"step": [1]}))
    with pytest.raises(NasbenchError, match="expected a nasbench Run"):
        plot_alphas([1, 2])


def test_heatmap_is_the_matrix_at_the_chosen_step(run):
    fig = plot_alpha_heatmap(run, step=12, cell_type="normal")  # latest at or before: 10
    (heat,) = fig.data
    assert list(heat.x) == list(OPS) and list(heat.y) == list(EDGES)
    np.testing.assert_allclose(heat.z, softmax(raw_matrix(10, "normal")), rtol=1e-12)
    assert "step 10" in fig.layout.title.text
    last = plot_alpha_heatmap(run, cell_type="normal", value="raw")
    np.testing.assert_allclose(last.data[0].z, raw_matrix(20, "normal"))
    with pytest.raises(NasbenchError, match="step must be a whole number >= 0, got -1"):
        plot_alpha_heatmap(run, step=-1)
    with pytest.raises(NasbenchError, match="no alpha snapshot at or before step 5"):
        plot_alpha_heatmap(run.alphas.query("step >= 10"), step=5)


def test_animation_has_one_frame_per_snapshot_and_is_thinned(run):
    fig = plot_alpha_animation(run, cell_type="normal")
    assert [f.name for f in fig.frames] == [str(s) for s in STEPS]
    np.testing.assert_allclose(fig.frames[3].data[0].z, softmax(raw_matrix(15, "normal")))
    assert len(fig.layout.sliders[0].steps) == len(STEPS)
    assert [b.label for b in fig.layout.updatemenus[0].buttons] == ["Play", "Pause"]
    thin = plot_alpha_animation(run, cell_type="normal", max_frames=2)
    assert [f.name for f in thin.frames] == ["0", "20"]
    assert "2 of 5 snapshots" in thin.layout.title.text


def test_alpha_info_groups_thinned_trajectories_per_edge_and_op(run):
    info = _get_alpha_info(run, "reduce", "alpha", "weight", 500, "data")
    assert (info.cell_type, info.edges, info.ops) == ("reduce", list(EDGES), list(OPS))
    assert (info.n_steps, info.n_kept) == (5, 5) and len(info.curves) == len(EDGES) * len(OPS)
    curve = info.curves[("1->3", "skip_connect")]
    expected = [softmax(raw_matrix(s, "reduce"))[EDGES.index("1->3"), 2] for s in STEPS]
    assert list(curve["step"]) == list(STEPS)
    np.testing.assert_allclose(curve["weight"], expected)
    weights = np.concatenate([softmax(raw_matrix(s, "reduce")).ravel() for s in STEPS])
    pad = (weights.max() - weights.min()) * 0.08
    np.testing.assert_allclose(info.y_range, [weights.min() - pad, weights.max() + pad])
    thin = _get_alpha_info(run.alphas, None, "alpha", "weight", 3, "full")
    assert thin.cell_type == "normal" and (thin.n_steps, thin.n_kept) == (5, 3)
    assert list(thin.curves[("0->2", "max_pool_3x3")]["step"]) == [0, 10, 20]
    assert thin.y_range == [-0.02, 1.02]


def test_alpha_animation_info_has_one_matrix_per_kept_snapshot(run):
    info = _get_alpha_animation_info(run, "normal", "alpha", "raw", 2)
    assert list(info.matrices) == [0, 20] and info.n_steps == 5
    last = info.matrices[20]
    assert list(last.index) == list(EDGES) and list(last.columns) == list(OPS)
    np.testing.assert_allclose(last.to_numpy(), raw_matrix(20, "normal"))
    every = _get_alpha_animation_info(run, "normal", "alpha", "weight", 60)
    assert list(every.matrices) == list(STEPS)


def test_timeline_marks_exactly_the_changed_edges(run):
    table = genotype_changes(run)
    changed = table[table["changed"]]
    assert set(zip(changed["epoch"], changed["cell_type"], changed["edge"], strict=True)) == {
        (2, "normal", "0->2"),
        (2, "normal", "1->3"),
        (2, "normal", "2->3"),
    }
    row = changed[changed["edge"] == "0->2"].iloc[0]
    assert (row["previous"], row["op"]) == ("sep_conv_3x3", "skip_connect")
    fig = plot_genotype_timeline(run)
    marks = [t for t in fig.data if t.name == "changed"]
    assert len(marks) == 2  # one per cell panel
    normal = next(t for t in marks if t.meta == "normal")
    # The figure counts epochs from 1: the change at epoch index 2 is drawn at epoch 3.
    assert sorted(zip(normal.x, normal.y, strict=True)) == [(3, "0->2"), (3, "1->3"), (3, "2->3")]
    assert len(next(t for t in marks if t.meta == "reduce").x) == 0
    ops = {t.name for t in fig.data} - {"changed", "not chosen"}
    assert ops == {op for g in GENOTYPES for c in ("normal", "reduce") for op, _ in g.cell(c)[0]}
    only = plot_genotype_timeline(run.genotypes, cell_type="reduce")
    assert {t.meta for t in only.data} == {"reduce"}


def test_timeline_info_counts_edges_changes_and_ops(run):
    info = _get_timeline_info(run, "both")
    assert info.cells == ["normal", "reduce"] and info.n_epochs == 3
    # normal: 8 edges of DARTS_V2 plus 2->3 that epoch 2 adds; reduce: 8 edges.
    assert info.n_rows == 9 + 8 and info.n_changes == 3
    assert info.space_ops == ["dil_conv_3x3", "max_pool_3x3", "sep_conv_3x3", "skip_connect"]
    assert len(info.table) == info.n_rows * info.n_epochs
    reduce = _get_timeline_info(run.genotypes, "reduce")
    assert (reduce.cells, reduce.n_rows, reduce.n_changes) == (["reduce"], 8, 0)
    assert reduce.space_ops == info.space_ops  # symbols stay those of the whole space
    with pytest.raises(NasbenchError, match="no cell 'cell'"):
        _get_timeline_info(run, "cell")


def test_history_has_train_and_val_curves(run):
    fig = plot_history(run)
    names = [t.name for t in fig.data]
    assert names == ["train loss", "val loss", "train acc", "val acc", "val parameter_free_ops"]
    train = fig.data[0]
    assert list(train.x) == list(range(1, 21))
    np.testing.assert_allclose(train.y, [1 / s for s in range(1, 21)])
    np.testing.assert_allclose(fig.data[1].y, [0.9, 0.8, 0.7])
    with pytest.raises(NasbenchError, match="no metric 'los'.*Did you mean 'loss'"):
        plot_history(run, metrics=["los"])
    assert list(fig.data[1].customdata) == [1, 2, 3]  # hover epochs counted from 1
    assert [t.name for t in plot_history(run, metrics="loss").data] == ["train loss", "val loss"]


def test_history_info_has_one_curve_per_logged_metric_and_phase(run):
    curves = _get_history_info(run, None, ("train", "val", "test")).curves
    assert {m: list(parts) for m, parts in curves.items()} == {
        "loss": ["train", "val"],
        "acc": ["train", "val"],
        "parameter_free_ops": ["val"],
    }
    train = curves["loss"]["train"]
    assert list(train["step"]) == list(range(1, 21))
    np.testing.assert_allclose(train["value"], 1 / np.arange(1, 21))
    val = curves["loss"]["val"]  # stored as val_loss, one row per epoch
    assert list(val["step"]) == [5, 15, 25] and list(val["epoch"]) == [0, 1, 2]
    np.testing.assert_allclose(val["value"], [0.9, 0.8, 0.7])
    only = _get_history_info(run.history, ["acc"], ("val",)).curves
    assert list(only) == ["acc"] and list(only["acc"]) == ["val"]
    with pytest.raises(NasbenchError, match="no metric 'lr' in phases train"):
        _get_history_info(run, ["lr"], ("train",))


def test_eigenvalue_plot_only_when_the_metric_exists(run, tmp_path):
    with pytest.raises(NasbenchError, match="no Hessian eigenvalues"):
        plot_eigenvalues(run)
    with_eigen = make_run(tmp_path / "e", eigen=True, early_stop=True)
    fig = plot_eigenvalues(with_eigen)
    eigen = next(t for t in fig.data if t.name == "eigenvalue")
    np.testing.assert_allclose(eigen.y, [0.1, 0.2, 0.3])
    assert any(t.name == "parameter-free ops" for t in fig.data)
    assert list(eigen.x) == [1, 2, 3]  # counted from 1, as the timeline and monitor count
    assert any("early stop at epoch 3 (returns epoch 1)" in (a.text or "")
               for a in fig.layout.annotations)  # fmt: skip


def test_the_collapse_watch_draws_the_rule_the_run_searched_with(tmp_path):
    run_dir = tmp_path / "run"
    config = {"strategy": "darts", "early_stop_window": 2, "early_stop_factor": 1.1,
              "early_stop_start": 1}  # fmt: skip
    with RunStore.create(run_dir, config, environment={}) as store:
        for epoch, value in enumerate([1.0, 1.0, 1.0, 1.0, 3.0, 3.0]):
            store.log_metrics(epoch, epoch, "val", {"hessian_eigenvalue": value})
        store.log_event("early_stop", {"epoch": 5, "return_epoch": 3}, epoch=5)
    run = load(run_dir)
    fig = plot_eigenvalues(run)
    assert "mean of 2 measurements grows by more than 1.1×, after epoch 1" in fig.layout.title.text
    texts = [a.text or "" for a in fig.layout.annotations]
    assert "no early stop in the first 1 epochs" in texts
    threshold = next(t for t in fig.data if t.name.startswith("stop threshold"))
    limit = collapse_threshold([1.0] * 4 + [3.0] * 2, window=2, factor=1.1)[1]
    np.testing.assert_allclose(threshold.y, limit[3:])
    assert "early stop at epoch 6 (returns epoch 4)" in texts
    warnings = collapse_warnings(run)
    assert any("epoch 6, best genotype at epoch 4" in w for w in warnings)
    assert any("mean of the last 2 is 3, over 1.1 x the 2 before" in w for w in warnings)
    with pytest.raises(NasbenchError, match="window must be a whole number >= 1, got -1"):
        plot_eigenvalues(run, window=-1)
    with pytest.raises(NasbenchError, match="early_stop must be an early_stop event payload"):
        plot_eigenvalues(run, early_stop=[5])


def test_eigenvalue_threshold_follows_the_robustdarts_rule():
    values = [1.0] * 6 + [2.0] * 6
    frame = pd.DataFrame(
        {
            "step": range(12),
            "epoch": range(12),
            "phase": "val",
            "name": "hessian_eigenvalue",
            "value": values,
        }
    )
    fig = plot_eigenvalues(frame, window=3, factor=1.5, start_epoch=4)
    threshold = next(t for t in fig.data if t.name.startswith("stop threshold"))
    local, limit = collapse_threshold(values, 3, 1.5)
    assert list(threshold.x) == list(range(6, 13))
    np.testing.assert_allclose(threshold.y, limit[5:])
    assert limit[5] == pytest.approx(1.5) and local[8] == pytest.approx(2.0)
    assert any(t.fill == "tonexty" for t in fig.data)  # the shaded stop zone


def test_eigenvalue_info_holds_the_series_threshold_and_marks(tmp_path):
    rows = [(e, e, "val", "hessian_eigenvalue", v) for e, v in enumerate([1.0, 1.0, 2.0, 4.0])]
    rows += [(e, e, "val", "parameter_free_ops", n) for e, n in enumerate([0.0, 1.0, 1.0, 2.0])]
    rows += [(3, 3, "val", "parameter_free_ops", 5.0)]  # a re-logged epoch: the last row wins
    frame = pd.DataFrame(rows, columns=["step", "epoch", "phase", "name", "value"])
    stop = {"epoch": 3, "return_epoch": 1}
    info = _get_eigenvalue_info(frame, window=1, factor=2.0, start_epoch=2, early_stop=stop)
    assert list(info.epochs) == [1, 2, 3, 4]
    np.testing.assert_allclose(info.local_mean, [1.0, 1.0, 2.0, 4.0])
    np.testing.assert_allclose(info.threshold, [np.nan, 2.0, 2.0, 4.0])
    assert info.stop_zone_top == pytest.approx(4.0 * 1.15)
    assert info.no_stop_span == (0.5, 2.5)  # epochs 1 and 2: indices 0 and 1
    assert info.early_stop == (4, "early stop at epoch 4 (returns epoch 2)")
    assert list(info.free_epochs) == [1, 2, 3, 4] and list(info.free_counts) == [0, 1, 1, 5]
    logged = _get_eigenvalue_info(make_run(tmp_path, eigen=True, early_stop=True), 5, 1.3, 10, None)
    assert logged.stop_zone_top is None  # fewer than 2 windows of values: no threshold yet
    assert logged.no_stop_span == (0.5, 3.5)
    assert logged.early_stop == (3, "early stop at epoch 3 (returns epoch 1)")
    assert list(logged.free_counts) == [3.0, 3.0, 3.0]


def test_plot_alphas_zooms_to_the_data_unless_asked_for_the_full_range(run):
    weights = run.alphas[(run.alphas.kind == "alpha") & (run.alphas.cell_type == "normal")].weight
    low, high = plot_alphas(run).layout.yaxis.range
    assert low < weights.min() and high > weights.max()
    assert high - low < 1.0
    assert list(plot_alphas(run, y_range="full").layout.yaxis.range) == [-0.02, 1.02]
    with pytest.raises(NasbenchError, match="y_range"):
        plot_alphas(run, y_range="tight")


def test_history_draws_each_task_own_metrics(tmp_path):
    with RunStore.create(tmp_path / "recon", {"strategy": "darts"}, environment={}) as store:
        for epoch in range(2):
            store.log_metrics(epoch + 1, epoch, "train", {"loss": 0.5})
            val = {"val_loss": 0.4, "val_psnr": 20.0 + epoch, "val_ssim": 0.6, "val_nmse": 0.2}
            store.log_metrics(epoch + 1, epoch, "val", val)
    names = [t.name for t in plot_history(load(tmp_path / "recon")).data]
    assert names == ["train loss", "val loss", "val psnr", "val ssim", "val nmse"]


def test_plot_alphas_names_every_op_once_and_picks_a_cell_the_run_logged():
    # A trellis-like cell: each edge has its own choices, so the first edge lacks some ops.
    rows = [(0, 0, "down", edge, op, w, w) for edge, ops in (("a", ["same"]), ("b", ["up", "same"]))
            for op, w in zip(ops, (0.4, 0.6), strict=False)]  # fmt: skip
    frame = pd.DataFrame(
        rows, columns=["step", "epoch", "cell_type", "edge", "op", "weight", "raw"]
    )
    fig = plot_alphas(frame)  # no "normal" cell: the first one logged
    shown = [t.name for t in fig.data if t.showlegend is not False]
    assert sorted(shown) == ["same", "up"]
    assert "alpha of the down cell" in fig.layout.title.text
    one_cell = plot_alphas(frame.assign(cell_type="cell"))
    assert "alpha of the cell (weight)" in one_cell.layout.title.text
    for kwargs, named in (({"cols": 2.5}, "cols"), ({"max_points": "5"}, "max_points")):
        with pytest.raises(NasbenchError, match=f"{named} must be a whole number"):
            plot_alphas(frame, **kwargs)
    with pytest.raises(NasbenchError, match="step must be a whole number >= 0, got '3'"):
        plot_alpha_heatmap(frame, step="3")


def test_history_reads_one_phase_by_name_and_says_why_a_run_has_no_curves(run, tmp_path):
    fig = plot_history(run, metrics="acc", phases="val")  # one phase, not its letters
    assert [t.name for t in fig.data] == ["val acc"]
    discrete = tmp_path / "discrete"
    with RunStore.create(discrete, {"strategy": "random"}, environment={}) as store:
        store.log_candidate(0, "{}", {"score": 0.5}, {"params": 1.0})
        store.set_status("finished")
    with pytest.raises(NasbenchError, match="discrete search: it logs no training curves"):
        plot_history(load(discrete))


def test_the_timeline_leaves_out_a_genotype_row_without_an_epoch(run):
    genotypes = run.genotypes.copy()
    genotypes.loc[genotypes.index[0], "epoch"] = np.nan
    info = _get_timeline_info(genotypes, "normal")
    assert info.n_epochs == len(GENOTYPES) - 1


def test_plot_alphas_draws_gdas_tau_from_the_cell_that_logged_it(tmp_path):
    from nasbench.engine.search import search
    from tests.engine.conftest import tiny_config

    search(tiny_config("gdas"), tmp_path / "gdas")
    gdas = load(tmp_path / "gdas")
    fig = plot_alphas(gdas, kind="tau")  # no cell_type: GDAS logs tau in "global" only
    (trace,) = fig.data
    tau = gdas.alphas[gdas.alphas.kind == "tau"].drop_duplicates("step", keep="last")
    assert list(trace.x) == list(tau.step) and list(trace.y) == list(tau.weight)
    assert "temperature tau" in fig.layout.title.text
    # A scalar schedule has no edge: the hover names the step and tau only.
    assert trace.hovertemplate.startswith("step %{x}") and "edge" not in trace.hovertemplate
    assert "normal cell" in plot_alphas(gdas).layout.title.text  # alphas still default to normal


def test_alpha_heatmaps_fit_the_colour_scale_to_the_data(run):
    heat = plot_alpha_heatmap(run, step=10, cell_type="normal").data[0]
    z = softmax(raw_matrix(10, "normal"))
    assert (heat.zmin, heat.zmax) == pytest.approx((z.min(), z.max()))
    assert "data range" in heat.colorbar.title.text
    number = heat.texttemplate.removeprefix("%{z").removesuffix("}")  # e.g. ":.2f"
    assert f"weight %{{z{number}}}" in heat.hovertemplate
    # The animation keeps one range over every frame: that of all snapshots.
    fig = plot_alpha_animation(run, cell_type="normal")
    every = np.concatenate([softmax(raw_matrix(s, "normal")).ravel() for s in STEPS])
    for trace in [fig.data[0], *(f.data[0] for f in fig.frames)]:
        assert (trace.zmin, trace.zmax) == pytest.approx((every.min(), every.max()))
    # Near-uniform weights (a short search) span the scale, not a sliver of 0..1.
    frame = run.alphas[run.alphas.cell_type == "normal"].assign(weight=lambda f: 0.2 + f.raw * 1e-4)
    flat = plot_alpha_heatmap(frame, step=0).data[0]
    assert flat.zmax - flat.zmin == pytest.approx(np.ptp(flat.z))
    assert flat.zmax - flat.zmin < 1e-2


def test_pareto_axes_read_as_words_with_units_and_hover_numbers_in_full():
    from nasbench.viz.pareto import plot_pareto

    frame = pd.DataFrame(
        {
            "cost.params": [343538.0, 1_250_000.0, 2_000_000.0],
            "cost.latency_ms": [1.23456, 2.5, 3.75],
            "cost.macs": [4.1e7, 9.9e7, 1.6e8],
            "metrics.val_acc": [0.61234, 0.7, 0.81],
            "genotype_json": list("abc"),
        }
    )
    fig = plot_pareto(frame)
    assert (fig.layout.xaxis.title.text, fig.layout.yaxis.title.text) == (
        "parameters",
        "validation accuracy",
    )
    # A count in full (343,538), not 3.435e+5; a score to 4 significant digits.
    hover = fig.data[0].hovertemplate
    assert "parameters %{x:,}" in hover and "validation accuracy %{y:,.4~r}" in hover
    assert "4g" not in hover
    latency = plot_pareto(frame, x="latency_ms", y="macs", maximize_y=False)
    assert latency.layout.xaxis.title.text == "latency (ms)"
    assert latency.layout.yaxis.title.text == "MACs"
    assert "latency (ms) %{x:,.4~r}" in latency.data[1].hovertemplate


def _search_phase_run(run_dir):
    """A localisation search's rows: per-round metrics under phase "search", arms' test
    results, and val_acc logged under "val" by nothing else."""
    with RunStore.create(run_dir, {"strategy": "marl-gdas"}, environment={}) as store:
        for r in range(2):
            store.log_metrics(
                2 * (r + 1), r, "search",
                {"td_loss": 1.0 / (r + 1), "reward": 0.1 * r, "agent0_reward": 0.2 * r,
                 "agent0_dist_vox": 3.0 - r},
            )  # fmt: skip
        store.log_metrics(4, 1, "test", {"searched_dist_mm": 2.5})
        store.set_status("finished")
    return load(run_dir)


def test_history_names_the_phase_a_missing_metric_is_logged_under(tmp_path):
    run = _search_phase_run(tmp_path / "marl")
    with pytest.raises(NasbenchError) as caught:
        plot_history(run, metrics=["td_loss"])
    said = str(caught.value)
    assert "it is logged under phase 'search': pass phases=['search']" in said
    assert "Did you mean 'td_loss'" not in said
    # A name no phase has: the names offered are those of the phases asked for (and the
    # close one another phase logs, with the phases that draw it).
    with pytest.raises(NasbenchError) as caught:
        plot_history(run, metrics=["td_los"], phases=["test"])
    said = str(caught.value)
    assert "they have searched_dist_mm. Did you mean 'td_loss' (phase 'search'" in said
    fig = plot_history(run, metrics=["td_loss"], phases=["search"])
    assert [t.name for t in fig.data] == ["search td_loss"]
    assert list(fig.data[0].y) == [1.0, 0.5]


def test_history_suggests_a_close_metric_of_another_phase(tmp_path):
    run = _search_phase_run(tmp_path / "marl")
    with pytest.raises(NasbenchError) as caught:
        plot_history(run, metrics=["tdloss"])  # the default phases log none like it
    assert str(caught.value) == (
        "this run has no metric 'tdloss' in phases train, val, test; they have "
        "searched_dist_mm. Did you mean 'td_loss' (phase 'search': pass phases=['search'])?"
    )
    frame = pd.DataFrame({"step": [1, 2], "epoch": [0, 0], "phase": ["train", "val"],
                          "name": ["loss", "val_dice"], "value": [1.0, 0.5]})  # fmt: skip
    with pytest.raises(NasbenchError, match=r"Did you mean 'dice' \(phase 'val': pass "):
        plot_history(frame, metrics=["dise"], phases=["train"])  # asked for as "dice"
    with pytest.raises(NasbenchError) as caught:
        plot_history(frame, metrics=["zzz"], phases=["train"])
    assert "Did you mean" not in str(caught.value)
