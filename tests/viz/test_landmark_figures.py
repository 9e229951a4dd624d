"""The 3D view of a marl-gdas run's landmark estimates and its per-agent curves."""

from __future__ import annotations

import json

import numpy as np
import pytest

import nasbench
from nasbench.data import load as load_data
from nasbench.errors import ConfigError
from nasbench.runs import load
from nasbench.viz import plot_agent_rewards, plot_landmark_estimates
from tests.engine.test_localisation_search import tiny_marl

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("marl-viz") / "run"
    nasbench.search(tiny_marl(), run_dir)
    return load(run_dir)


def test_estimates_figure_has_a_marker_and_a_line_trace_per_arm(run):
    fig = plot_landmark_estimates(run, volume=1)
    names = [t.name for t in fig.data]
    arms = ("start", "searched", "random", "hand", "regression")
    for arm in arms:
        assert names.count(arm) == 1 and names.count(f"{arm} error") == 1
    assert "truth" in names and "true plane (first three)" in names
    payload = run.events[run.events["kind"] == "landmark_estimates"].iloc[-1]["payload"]
    truth = [r["truth_mm"] for r in payload["records"] if r["volume"] == 1 and r["arm"] == "hand"]
    drawn = fig.data[names.index("truth")]
    np.testing.assert_allclose(np.c_[drawn.x, drawn.y, drawn.z], truth)
    hand = fig.data[names.index("hand")]
    assert hand.marker.symbol != fig.data[names.index("searched")].marker.symbol
    assert len(set(hand.marker.color)) == 3  # one colour per landmark
    # each error line runs from an estimate to its truth: 3 segments, None-separated
    line = fig.data[names.index("hand error")]
    assert len(line.x) == 9 and line.x[2] is None
    assert line.x[1] == pytest.approx(truth[0][0])


def test_estimates_figure_with_slices_stays_small(run):
    image = load_data("synthetic-landmarks3d", "test", size=16)[0][0][0]
    fig = plot_landmark_estimates(run, volume=0, arms=["searched", "hand"], image=image)
    names = [t.name for t in fig.data]
    assert names.count("volume slices") == 3 and "random" not in names
    assert len(fig.to_json()) < 60_000


def test_estimates_figure_takes_the_dataset_volume_as_it_comes_and_refuses_other_shapes(run):
    volume = load_data("synthetic-landmarks3d", "test", size=16)[0][0]  # (1, S, S, S) tensor
    with_channel = plot_landmark_estimates(run, volume=0, image=volume)
    without = plot_landmark_estimates(run, volume=0, image=volume[0].numpy())
    assert with_channel.to_json() == without.to_json()
    with pytest.raises(ConfigError, match=r"one volume .* got shape \(3, 16, 16, 16\)"):
        plot_landmark_estimates(run, volume=0, image=np.zeros((3, 16, 16, 16)))


def test_estimates_figure_refuses_unknown_volume_and_arm(run):
    with pytest.raises(ConfigError, match="volume 9 has no recorded estimates"):
        plot_landmark_estimates(run, volume=9)
    with pytest.raises(ConfigError, match="unknown arm"):
        plot_landmark_estimates(run, arms=["oracle"])


def test_agent_rewards_draw_every_agent_per_round(run):
    fig = plot_agent_rewards(run)
    assert fig.layout.title.text == "Per-agent reward and distance"
    lines = [t for t in fig.data]
    assert sorted({t.name for t in lines}) == ["agent0", "agent1", "agent2"]
    assert len(lines) == 6  # reward and distance per agent
    search = run.metrics_wide(phase="search")
    first = next(t for t in lines if t.name == "agent1")
    np.testing.assert_allclose(first.y, search["agent1_reward"].to_numpy())
    assert list(first.x) == [1, 2]  # rounds counted from 1 (the store's epochs + 1)
    json.loads(fig.to_json())


def test_figures_refuse_a_run_without_localisation_records(run):
    empty = run.history.iloc[:0]
    with pytest.raises(ConfigError, match="no per-agent metrics"):
        plot_agent_rewards(empty)
    with pytest.raises(ConfigError, match="no landmark_estimates event"):
        plot_landmark_estimates(type("R", (), {"events": run.events.iloc[:0]})())


def test_agent_rounds_are_the_stored_epochs_counted_from_one(run):
    fig = plot_agent_rewards(run)
    history = run.history
    stored = sorted(history.loc[history["name"] == "agent0_reward", "epoch"].tolist())
    (reward,) = [t for t in fig.data if t.name == "agent0" and t.showlegend]
    assert list(reward.x) == [e + 1 for e in stored] and stored[0] == 0
    assert fig.layout.xaxis2.title.text == "search round" and fig.layout.xaxis.tick0 == 1
