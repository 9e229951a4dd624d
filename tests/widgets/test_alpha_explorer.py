"""The alpha explorer: slider, heatmap, lines, entropy."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.errors import NasbenchError
from nasbench.runs.alpha_summary import edge_entropy
from tests.widgets.conftest import unnamed_controls
from widgets.alpha_explorer import AlphaExplorer


def test_slider_changes_the_heatmap_and_entropy(fake_run):
    explorer = AlphaExplorer(fake_run)
    assert list(explorer.steps) == [0, 1, 2]
    assert explorer.slider.max == explorer.play.max == 2
    assert explorer.slider.value == 2  # opens on the last snapshot
    last = np.array(explorer.heatmap.data[0].z, dtype=float)
    explorer.slider.value = 0
    first = np.array(explorer.heatmap.data[0].z, dtype=float)
    assert np.allclose(first, 0.0)  # uniform at step 0: no change from 1/K
    assert not np.allclose(first, last)
    assert "step 0" in explorer.heatmap.layout.title.text
    assert np.allclose(explorer.entropy.data[0].y, np.log(3))
    explorer.slider.value = 2
    assert explorer.entropy.data[0].y[0] < np.log(3) - 0.1


def test_lines_mode_and_edge_picker(fake_run):
    explorer = AlphaExplorer(fake_run)
    explorer.mode.value = "lines"
    assert explorer.heatmap_plot.layout.display == "none"
    explorer.edge.value = "1->2"
    assert len(explorer.lines.data) == 3
    skip = [t for t in explorer.lines.data if t.name == "skip_connect"][0]
    assert skip.y[-1] > skip.y[0]
    explorer.slider.value = 1
    assert explorer.lines.layout.shapes[0].x0 == 1
    explorer.cell_type.value = "reduce"
    assert "reduce" in explorer.heatmap.layout.title.text


def test_switching_to_a_run_with_other_edges_and_fewer_snapshots_shows_it(tmp_path, fake_run):
    from nasbench.runs import RunStore
    from tests.widgets.conftest import OPS

    other = tmp_path / "runs" / "small-1"
    edges = ["0->2", "1->2", "0->3"]  # another cell: one more edge, none named "1->2" first
    with RunStore.create(other, {"strategy": "darts"}, environment={}) as store:
        store.log_alphas(0, 0, "normal", np.zeros((3, 3)), OPS, list(reversed(edges)))
    explorer = AlphaExplorer(fake_run)
    explorer.edge.value = "1->2"  # not the first edge, on the last of 3 snapshots
    explorer.set_run(other)
    assert (explorer.slider.max, explorer.slider.value, explorer.play.max) == (0, 0, 0)
    assert len(explorer.heatmap.data[0].y) == 3
    assert np.asarray(explorer.heatmap.data[0].z).shape == (3, 3)
    assert "step 0" in explorer.heatmap.layout.title.text
    assert explorer.lines.layout.shapes[0].x0 == 0


def test_edge_entropy():
    h = edge_entropy(
        np.array([[0.25, 0.25, 0.25, 0.25], [1.0, 0.0, 0.0, 0.0], [0.5, 0.5, np.nan, 0]])
    )
    assert np.allclose(h, [np.log(4), 0.0, np.log(2)])


def test_the_first_frame_sent_holds_the_runs_edges_by_ops(fake_run):
    explorer = AlphaExplorer(fake_run)
    (heatmap,) = explorer.heatmap_plot.channel.figure["data"]  # what a browser first draws
    assert heatmap["y"] == explorer.edges and heatmap["x"] == explorer.ops
    assert np.array(heatmap["z"], dtype=float).shape == (len(explorer.edges), len(explorer.ops))
    assert heatmap["texttemplate"] == "%{z:.3f}"  # deviations of 0.1-0.6: 3 decimals
    (bars,) = explorer.entropy_plot.channel.figure["data"]
    assert len(bars["y"]) == len(explorer.edges)


def test_weights_show_as_change_from_uniform_with_a_fitted_scale_or_absolute(fake_run):
    explorer = AlphaExplorer(fake_run)
    heatmap = explorer.heatmap.data[0]
    reach = np.nanmax(np.abs(explorer.cube - 1 / 3))
    assert explorer.scale.value == "deviation"
    assert (
        heatmap.zmid == 0 and np.isclose(heatmap.zmax, reach) and np.isclose(heatmap.zmin, -reach)
    )
    assert np.allclose(np.array(heatmap.z, dtype=float), explorer.cube[-1] - 1 / 3)
    explorer.scale.value = "absolute"
    heatmap = explorer.heatmap.data[0]
    assert np.allclose(np.array(heatmap.z, dtype=float), explorer.cube[-1])
    assert np.isclose(heatmap.zmin, np.nanmin(explorer.cube))  # fitted, not 0-1
    assert np.isclose(heatmap.zmax, np.nanmax(explorer.cube))
    skip = [t for t in explorer.lines.data if t.name == "skip_connect"][0]
    assert np.allclose(skip.y[0], 1 / 3)


def test_an_autohas_run_shows_its_hyper_parameter_policy_and_a_darts_run_hides_it(
    fake_run, autohas_run
):
    explorer = AlphaExplorer(autohas_run)
    names = [t.name for t in explorer.hp_figure.data]
    assert names == ["batch_size=16", "batch_size=32", "lr=0.01", "lr=0.1"]
    lr = explorer.hp_figure.data[3]
    assert list(lr.x) == [0, 1, 2, 3] and np.allclose(lr.y, [0.5, 0.6, 0.7, 0.8])
    assert explorer.hp_plot.layout.display is None
    assert explorer.heatmap_plot.layout.display == "none"  # no alphas: no alpha views
    assert "hyper-parameter policy" in explorer.message.value
    sent = explorer.hp_plot.channel.figure["data"]  # what a browser draws
    assert [t["name"] for t in sent] == names
    explorer.set_run(fake_run)
    assert explorer.hp_figure.data == () and explorer.hp_plot.layout.display == "none"
    assert explorer.heatmap_plot.layout.display is None and list(explorer.steps) == [0, 1, 2]


def test_show_step_takes_an_index_from_either_end_and_names_a_bad_one(fake_run):
    explorer = AlphaExplorer(fake_run)
    explorer.show_step(-1)
    assert "(3/3)" in explorer.step_label.value  # the last of three, labelled as such
    with pytest.raises(NasbenchError, match="from 0 to 2 .*got 99"):
        explorer.show_step(99)


def test_every_control_of_the_explorer_is_named_and_play_says_what_it_does(fake_run):
    explorer = AlphaExplorer(fake_run)
    assert unnamed_controls(explorer) == []
    # The play buttons are icons only: their view's tooltip names them.
    assert explorer.play.description and "play" in explorer.play.tooltip


def test_edge_betas_show_their_nodes_share_and_entropy(tmp_path):
    from nasbench.runs import RunStore

    edges = ["0->2", "1->2", "0->3", "1->3", "2->3"]
    betas = np.array([[0.6], [0.4], [0.5], [0.3], [0.2]])
    with RunStore.create(tmp_path / "run", {"strategy": "pcdarts"}, environment={}) as store:
        store.log_alphas(0, 0, "normal", np.zeros((5, 2)), ["skip_connect", "none"], edges)
        store.log_alphas(0, 0, "normal", np.log(betas), ["beta"], edges, kind="beta",
                         weights=betas)  # fmt: skip
    explorer = AlphaExplorer(tmp_path / "run")
    explorer.kind.value = "beta"
    heatmap = explorer.heatmap.data[0]
    # Each beta minus 1/(edges into its node), not minus 1/1.
    np.testing.assert_allclose(
        np.asarray(heatmap.z, dtype=float).ravel(), [0.1, -0.1, 1 / 6, -1 / 30, -2 / 15]
    )
    assert heatmap.colorbar.title.text == "β − 1/n"
    assert "1/n (n: the edges into its node)" in explorer.heatmap.layout.title.text
    bars = explorer.entropy.data[0]
    assert list(bars.x) == ["node 2", "node 3"]
    np.testing.assert_allclose(bars.y, [0.673012, 1.029653], atol=1e-6)


def test_a_one_op_cells_alphas_show_no_deviation_and_their_op_entropy(tmp_path):
    from nasbench.runs import RunStore
    from nasbench.spaces import create_space

    # One column of "input->node" rows, as PC-DARTS's betas, but a softmax over one op.
    space = create_space(
        "darts", ops=["sep_conv_3x3"], n_nodes=2, skeleton={"n_cells": 2, "channels": 4}
    )
    with RunStore.create(tmp_path / "run", {"strategy": "darts"}, environment={}) as store:
        for r in space.supernet(seed=0).alpha_records():
            store.log_alphas(0, 0, r.cell_type, r.raw, r.op_names, r.edge_names, r.weights, r.kind)
    explorer = AlphaExplorer(tmp_path / "run")
    assert explorer.kind.value == "alpha" and explorer.symbol == "α"
    heatmap = explorer.heatmap.data[0]
    np.testing.assert_allclose(np.asarray(heatmap.z, dtype=float), 0.0)  # 1 − 1/1
    assert heatmap.colorbar.title.text == "α − 1/K"
    bars = explorer.entropy.data[0]
    assert list(bars.x) == explorer.edges and len(bars.x) == 5  # per edge, not per node
    np.testing.assert_allclose(bars.y, 0.0)


def _records(space: str, **options) -> list:
    """The alpha records a supernet of ``space`` logs (a trellis: its cell's alphas and edge
    betas, cell type "cell", and its scale betas, cell type "trellis", kind "beta")."""
    from nasbench.spaces import create_space

    return list(create_space(space, **options).supernet(seed=0).alpha_records())


def kinds_run(run_dir, kind: str):
    """A finished run store with the matrices a search of ``kind`` logs, as the strategies
    log them: "pcdarts" (DARTS alphas and per-node edge betas), "trellis", "dints" (the
    topology's path probabilities), "proxyless" (alphas and two-op gates), "recon" (one
    "normal" cell) or "evolution" (candidates, no alphas)."""
    from types import SimpleNamespace

    from nasbench.runs import RunStore
    from nasbench.spaces import NB201Space

    rng = np.random.default_rng(0)
    records: list = []
    if kind == "pcdarts":
        darts = _records("darts", n_nodes=2, skeleton={"n_cells": 2, "channels": 4})
        for record in darts:
            edges = record.edge_names  # 0->2, 1->2, 0->3, 1->3, 2->3
            nodes = [edge.split("->")[1] for edge in edges]
            betas = np.array([[1 / nodes.count(node)] for node in nodes])
            records += [record, SimpleNamespace(
                cell_type=record.cell_type, kind="beta", raw=np.log(betas), weights=betas,
                edge_names=edges, op_names=("beta",),
            )]  # fmt: skip
    elif kind == "trellis":
        records = _records("trellis", num_layers=2, ops=["skip_connect", "sep_conv_3x3"],
                           n_nodes=1, skeleton={"channels": 4, "depth": 1})  # fmt: skip
    elif kind == "dints":
        probs = np.full((2, 4), 0.5 / (1 - 0.5**4))
        records = [SimpleNamespace(
            cell_type="topology", kind="alpha", raw=np.zeros((2, 4)), weights=probs,
            edge_names=("block 0", "block 1"), op_names=("0->0", "1->0", "0->1", "1->1"),
        )]  # fmt: skip
    elif kind == "proxyless":
        ops, edges = ("avg_pool", "max_pool", "down_cweight"), ("0->2", "1->2")
        gates = np.array([[0.6, 0.4, 0.0], [0.0, 0.3, 0.7]])
        records = [
            SimpleNamespace(cell_type="down", kind=k, raw=np.zeros((2, 3)), weights=w,
                            edge_names=edges, op_names=ops)
            for k, w in (("alpha", np.full((2, 3), 1 / 3)), ("gate", gates))
        ]  # fmt: skip
    elif kind == "recon":
        ops, edges = ("conv_3x3", "res_conv_3x3"), ("0->1",)
        records = [SimpleNamespace(cell_type="normal", kind="alpha", raw=np.zeros((1, 2)),
                                   weights=np.full((1, 2), 0.5), edge_names=edges,
                                   op_names=ops)]  # fmt: skip
    config = {"strategy": kind, "dataset": {"name": "synthetic"}}
    with RunStore.create(run_dir, config, environment={}) as store:
        store.set_status("running")
        for step in (0, 1):
            for r in records:
                store.log_alphas(step, 0, r.cell_type, r.raw, list(r.op_names),
                                 list(r.edge_names), r.weights, r.kind)  # fmt: skip
        if kind == "evolution":
            for k in range(3):
                store.log_candidate(k, NB201Space().sample(rng), {"score": 0.5 + k / 10}, {})
        store.set_status("finished")
    return run_dir


def test_a_newly_opened_run_starts_on_its_alphas_and_a_cell_switch_keeps_the_kind(tmp_path):
    explorer = AlphaExplorer(kinds_run(tmp_path / "pcdarts", "pcdarts"))
    explorer.kind.value = "beta"  # PC-DARTS's edge betas of the normal cell
    explorer.set_run(kinds_run(tmp_path / "trellis", "trellis"))
    # The trellis's first cell has betas too, but a run opens on its alphas.
    assert explorer.cell_type.value == "cell" and explorer.kind.value == "alpha"
    assert "alpha weights" in explorer.heatmap.layout.title.text
    explorer.kind.value = "beta"
    explorer.cell_type.value = "trellis"  # scale betas only
    explorer.cell_type.value = "cell"
    assert explorer.kind.value == "beta"  # within one run the choice stays


def test_every_beta_matrix_is_labelled_beta_and_the_toggle_names_what_is_shown(tmp_path):
    explorer = AlphaExplorer(kinds_run(tmp_path / "trellis", "trellis"))
    explorer.cell_type.value = "trellis"
    explorer.mode.value = "lines"
    heatmap = explorer.heatmap.data[0]
    assert "beta weights − 1/K" in explorer.heatmap.layout.title.text
    assert heatmap.colorbar.title.text == explorer.lines.layout.yaxis.title.text == "β − 1/K"
    assert explorer.scale.options == (("β − 1/K", "deviation"), ("β", "absolute"))
    explorer.scale.value = "absolute"
    assert explorer.heatmap.data[0].colorbar.title.text == "β" == explorer.symbol
    explorer.cell_type.value = "cell"  # its edge betas: renamed, still the absolute weights
    assert explorer.kind.value == "beta" and explorer.scale.value == "absolute"
    assert explorer.scale.options == (("β − 1/n", "deviation"), ("β", "absolute"))
    explorer.kind.value = "alpha"
    assert explorer.scale.options == (("α − 1/K", "deviation"), ("α", "absolute"))
    assert explorer.heatmap.data[0].colorbar.title.text == "α"


@pytest.mark.parametrize(
    ("kind", "cell", "matrix", "shown"),
    [("dints", "topology", "alpha", "p − p₀"), ("pcdarts", "normal", "beta", "β − 1/n"),
     ("proxyless", "down", "gate", "α − 1/2")],
)  # fmt: skip
def test_the_values_toggle_reads_as_the_colour_bar(tmp_path, fake_run, kind, cell, matrix, shown):
    explorer = AlphaExplorer(fake_run)
    explorer.set_run(kinds_run(tmp_path / kind, kind))
    explorer.cell_type.value, explorer.kind.value = cell, matrix
    assert explorer.heatmap.data[0].colorbar.title.text == shown
    assert explorer.scale.options[0] == (shown, "deviation")
    assert explorer.scale.value == "deviation"


def test_a_run_without_alphas_keeps_no_matrix_of_the_run_before(tmp_path):
    explorer = AlphaExplorer(kinds_run(tmp_path / "dints", "dints"))
    assert explorer.edges == ["block 0", "block 1"]
    explorer.set_run(kinds_run(tmp_path / "evolution", "evolution"))
    assert "no alpha snapshots" in explorer.message.value
    assert explorer.edges == [] and explorer.ops == [] and explorer.cube.size == 0
    assert len(explorer.steps) == 0 and explorer.shown.size == 0
    assert explorer.slider.max == explorer.play.max == 0 and explorer.edge.options == ()
    heatmap = explorer.heatmap.data[0]
    assert len(heatmap.z) == len(heatmap.y) == 0 and explorer.heatmap.layout.title.text is None
    assert len(explorer.entropy.data[0].y) == 0 and explorer.lines.data == ()


def test_each_run_gets_a_new_slider_with_its_range_and_play_linked_to_it(
    fake_run, tmp_path, snapshot_writer
):
    from nasbench.runs import RunStore

    longer = tmp_path / "longer"
    with RunStore.create(longer, {"strategy": "darts"}, environment={}) as store:
        for step in range(6):
            snapshot_writer(store, step, float(step))
        store.set_status("finished")
    explorer = AlphaExplorer(fake_run)
    old = explorer.slider
    explorer.set_run(longer)
    # ipywidgets 8.1.9's slider keeps the max it was drawn with for its End key: a slider
    # grown after display would end at the last run's last snapshot.
    slider = explorer.slider
    assert slider is not old and old.comm is None  # the old one is closed
    assert (slider.max, slider.value) == (5, 5) and explorer.play.max == 5
    row = explorer.alpha_controls[1].children
    assert slider in row and old not in row
    assert explorer._play_link.target == (slider, "value")
    assert explorer._play_link.source == (explorer.play, "value")
    slider.value = 0  # its observer shows the snapshot picked
    assert "(1/6)" in explorer.step_label.value and "step 0" in explorer.heatmap.layout.title.text


def test_a_launch_that_failed_before_its_store_is_named_with_its_reason(tmp_path):
    from widgets.launcher import CONFIG_NAME

    failed = tmp_path / "failed_launch"
    failed.mkdir()
    (failed / CONFIG_NAME).write_text('{"strategy": "darts"}')
    (failed / "stderr.log").write_text("nasbench: error: no dataset x; pick another.\n")
    explorer = AlphaExplorer()
    explorer.set_run(failed)
    assert "failed before it started, so it has no alpha snapshots: no dataset x" in (
        explorer.message.value
    )
