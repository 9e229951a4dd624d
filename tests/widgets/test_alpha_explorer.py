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
