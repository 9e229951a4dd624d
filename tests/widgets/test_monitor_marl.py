"""The monitor over a real (tiny) marl-gdas run: per-agent curves and every agent's alphas."""

from __future__ import annotations

import numpy as np
import pytest

import nasbench
from nasbench.runs import RunStore
from tests.engine.test_localisation_search import tiny_marl
from widgets.monitor import RunMonitor

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def marl_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("marl-monitor") / "run"
    nasbench.search(tiny_marl(), run_dir)
    return run_dir


def test_monitor_shows_each_agents_reward_and_distance(marl_run):
    monitor = RunMonitor(marl_run)
    assert monitor.status == "finished"
    assert monitor.agent_plot.layout.display is None  # shown for a localisation run
    traces = monitor.agent_figure.data
    assert sorted(t.meta for t in traces) == sorted(
        f"agent{k}_{what}" for k in range(3) for what in ("reward", "dist_vox")
    )
    search = monitor.run.metrics_wide(phase="search")
    for trace in traces:
        assert list(trace.x) == [2, 4]  # one point per round (two updates each)
        np.testing.assert_allclose(trace.y, search[trace.meta].to_numpy())
    rewards = [t for t in traces if t.meta.endswith("_reward")]
    assert all(t.yaxis == "y" for t in rewards)
    assert all(t.yaxis == "y2" for t in traces if t.meta.endswith("_dist_vox"))
    assert [t.name for t in traces if t.showlegend] == ["agent0", "agent1", "agent2"]


def test_monitor_extends_the_agent_curves_in_place(marl_run, tmp_path):
    import shutil

    run_dir = tmp_path / "copy"
    shutil.copytree(marl_run, run_dir)
    monitor = RunMonitor(run_dir)
    figure = monitor.agent_figure
    first = next(t for t in figure.data if t.meta == "agent1_reward")
    with RunStore.open(run_dir) as store:
        store.log_metrics(6, 2, "search", {"agent1_reward": 0.25, "reward": 0.1})
    monitor.poll_once()
    assert monitor.agent_figure is figure
    assert next(t for t in figure.data if t.meta == "agent1_reward") is first
    assert list(first.x) == [2, 4, 6] and first.y[-1] == pytest.approx(0.25)
    assert len(figure.data) == 6


def test_every_agents_cells_are_selectable_in_the_alpha_view(marl_run):
    monitor = RunMonitor(marl_run)
    options = list(monitor.cell_type.options)
    assert {"shared_normal", "shared_reduce", "agent0_normal", "agent2_normal"} <= set(options)
    monitor.cell_type.value = "agent2_normal"
    fig = monitor.alpha_figure
    assert "agent2_normal cell" in fig.layout.title.text
    ops = {t.name for t in fig.data}
    assert {"conv_5x5", "skip_connect"} <= ops
    assert all(len(t.x) == 2 for t in fig.data)  # one snapshot per round


def test_other_runs_keep_the_agent_view_hidden(fake_run):
    monitor = RunMonitor(fake_run)
    assert monitor.agent_plot.layout.display == "none"
    assert len(monitor.agent_figure.data) == 0


def test_the_metrics_figure_draws_the_q_learning_loss_and_the_mean_reward(marl_run):
    monitor = RunMonitor(marl_run)
    by_name = {t.name: t for t in monitor.history_figure.data}
    loss, reward = by_name["search td_loss"], by_name["search reward"]
    assert loss.yaxis == "y" and reward.yaxis == "y2"  # losses above, metrics below
    assert not any("agent" in name for name in by_name)  # those are agent_plot's
    search = monitor.run.metrics_wide(phase="search")
    np.testing.assert_allclose(reward.y, search["reward"].to_numpy())
