"""DiNTS's topology weights are MONAI's path probabilities, not a softmax: every view of
them subtracts their value at zero logits (0.5 / (1 - 0.5**K)), not 1/K, and names them."""

from __future__ import annotations

import numpy as np
import pytest

from widgets.alpha_explorer import AlphaExplorer
from widgets.monitor import RunMonitor

PATHS = ["0->0", "1->0", "0->1", "1->1"]
BLOCKS = ["block 0", "block 1"]
OPS = ["skip_connect", "conv_3x3x3"]


def path_probabilities(raw: np.ndarray) -> np.ndarray:
    """MONAI's get_prob_a: each path's sigmoid over one minus the chance of no path."""
    sigmoid = 1 / (1 + np.exp(-raw))
    return sigmoid / (1 - np.prod(1 - sigmoid, axis=-1, keepdims=True))


@pytest.fixture
def dints_run(tmp_path):
    from nasbench.runs import RunStore

    run_dir = tmp_path / "runs" / "dints"
    config = {"strategy": "dints", "space": {"name": "dints", "skeleton": {"depth": 2}}}
    with RunStore.create(run_dir, config, environment={}) as store:
        store.set_status("running")
        for step, shift in ((0, 0.0), (1, 0.5)):
            raw = np.array([[shift, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, -shift]])
            store.log_alphas(step, step, "topology", raw, PATHS, BLOCKS,
                             weights=path_probabilities(raw))  # fmt: skip
            store.log_alphas(step, step, "cell_ops", np.zeros((4, 2)), OPS,
                             [f"b0 {p}" for p in PATHS])  # fmt: skip
        store.set_status("finished")
    return run_dir


def test_the_monitor_shows_path_probabilities_against_their_undecided_value(dints_run):
    monitor = RunMonitor(dints_run)
    monitor.poll_once()
    monitor.cell_type.value = "topology"
    figure = monitor.alpha_figure
    title = figure.layout.title.text
    assert "path probabilities, not a softmax" in title and "1/K" not in title
    assert figure.layout.yaxis.title.text == "p − p₀"
    # At zero logits every path reads 0 (1/K would show 8/15 - 1/4 = +0.28 on each).
    np.testing.assert_allclose([t.y[0] for t in figure.data], 0.0, atol=1e-12)
    moved = next(t for t in figure.data if t.meta == "block 0" and t.name == "0->0")
    expected = path_probabilities(np.array([0.5, 0.0, 0.0, 0.0]))[0] - 0.5 / (1 - 0.5**4)
    assert moved.y[-1] == pytest.approx(expected)
    monitor.cell_type.value = "cell_ops"  # a softmax over ops: 1/K as before
    assert "softmax, minus the uniform 1/K" in figure.layout.title.text
    np.testing.assert_allclose([t.y[0] for t in figure.data], 0.0, atol=1e-12)


def test_the_explorer_subtracts_the_undecided_path_probability_and_shows_no_entropy(dints_run):
    explorer = AlphaExplorer(dints_run)
    explorer.cell_type.value = "topology"
    explorer.show_step(0)
    np.testing.assert_allclose(np.asarray(explorer.heatmap.data[0].z, dtype=float), 0.0,
                               atol=1e-12)  # fmt: skip
    title = explorer.heatmap.layout.title.text
    assert "path probabilities − p₀" in title and "1/K" not in title
    assert explorer.heatmap.data[0].colorbar.title.text == "p − p₀"
    # No softmax over a block's paths: no softmax entropy of them either.
    assert explorer.entropy_plot.layout.display == "none"
    assert "not a softmax" in explorer.message.value
    explorer.cell_type.value = "cell_ops"
    assert explorer.entropy_plot.layout.display is None and explorer.message.value == ""
    np.testing.assert_allclose(explorer.entropy.data[0].y, np.log(2))


def test_plot_alphas_names_path_probabilities(dints_run):
    from nasbench.runs import load
    from nasbench.viz import plot_alphas

    with load(dints_run) as run:
        assert plot_alphas(run, cell_type="topology").layout.yaxis.title.text == (
            "path probability"
        )
        assert plot_alphas(run, cell_type="cell_ops").layout.yaxis.title.text == "softmax weight"
