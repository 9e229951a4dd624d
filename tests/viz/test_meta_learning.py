"""Tests for nasbench.viz.meta_learning: a METANAS run's learner curves and adaptation."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from nasbench.errors import ConfigError
from nasbench.runs import RunStore, load
from nasbench.strategies.meta import LEARNERS
from nasbench.viz.meta_learning import learner_color, plot_adaptation, plot_learner_history
from nasbench.viz.report import write_report

# Query accuracy after 0, 1 and 2 inner steps, per learner and meta-test episode.
TEST_CURVES = {
    "metanas": [(0.5, 0.7, 0.9), (0.5, 0.6, 0.8), (0.5, 0.8, 1.0)],
    "reptile": [(0.5, 0.6, 0.7), (0.5, 0.5, 0.6), (0.5, 0.7, 0.8)],
}


def make_metanas_run(run_dir, learners=("metanas", "reptile")):
    """A finished METANAS run as its loop records it: two meta-epochs of two meta-steps."""
    with RunStore.create(run_dir, {"strategy": "metanas", "seed": 0}, environment={}) as store:
        store.set_status("running")
        for step in range(1, 5):
            epoch = (step - 1) // 2
            train = {}
            for rank, name in enumerate(learners):
                train[f"{name}_query_acc"] = 0.4 + step / 10 + rank / 100
                train[f"{name}_query_loss"] = 1.0 / step + rank
            store.log_metrics(step, epoch, "train", train)
            if step % 2 == 0:
                val = {f"{name}_val_acc": 0.5 + step / 20 for name in learners}
                val |= {f"{name}_val_loss": 0.9 - step / 20 for name in learners}
                store.log_metrics(step, epoch, "val", val)
                for name in learners:
                    store.log_event(
                        "adaptation_curve",
                        {"learner": name, "phase": "meta-epoch", "episode": 9,
                         "query_acc": [0.5, 0.5 + epoch / 10], "query_loss": [0.7, 0.6]},
                        step=step, epoch=epoch,
                    )  # fmt: skip
        for name in learners:
            for episode, accs in enumerate(TEST_CURVES.get(name, TEST_CURVES["reptile"])):
                store.log_event(
                    "adaptation_curve",
                    {"learner": name, "phase": "meta-test", "episode": episode,
                     "query_acc": list(accs), "query_loss": [0.7, 0.6, 0.5]},
                    step=5, epoch=episode,
                )  # fmt: skip
        store.set_status("finished")
    return load(run_dir)


def test_learner_history_draws_each_learner_in_both_phases(tmp_path):
    run = make_metanas_run(tmp_path / "run")
    fig = plot_learner_history(run)
    names = [trace.name for trace in fig.data]
    # Accuracy panel then loss panel; in each, a learner's meta-training then its validation.
    per_panel = [
        "metanas meta-training", "metanas meta-validation",
        "reptile meta-training", "reptile meta-validation",
    ]  # fmt: skip
    assert names == per_panel * 2
    training = fig.data[0]
    assert list(training.x) == [1, 2, 3, 4]
    assert np.allclose(training.y, [0.5, 0.6, 0.7, 0.8])
    validation = fig.data[1]
    assert list(validation.x) == [2, 4] and np.allclose(validation.y, [0.6, 0.7])
    assert list(validation.customdata) == [1, 2]  # meta-epochs counted from 1
    reptile_loss = fig.data[6]
    assert reptile_loss.xaxis == "x2" and np.allclose(reptile_loss.y, [2.0, 1.5, 4 / 3, 1.25])
    assert training.line.color == validation.line.color == learner_color("metanas", LEARNERS)
    assert fig.data[2].line.color != training.line.color
    # One legend entry per trace pair, not one per panel.
    assert [t.showlegend for t in fig.data] == [True] * 4 + [False] * 4


def test_learner_history_keeps_the_last_value_of_a_step_logged_twice(tmp_path):
    run = make_metanas_run(tmp_path / "run")
    history = run.history
    again = history[(history["step"] == 2) & (history["name"] == "metanas_query_acc")].copy()
    again["value"] = 0.99  # what a resumed run logs for the step it restarted from
    fig = plot_learner_history(pd.concat([history, again], ignore_index=True))
    assert np.allclose(fig.data[0].y, [0.5, 0.99, 0.7, 0.8])


def test_learner_history_refuses_a_run_without_learner_metrics(tmp_path):
    with RunStore.create(tmp_path / "run", {"strategy": "darts"}, environment={}) as store:
        store.log_metrics(1, 0, "train", {"loss": 1.0, "acc": 0.5})
    with pytest.raises(ConfigError, match="no learner metrics.*use plot_history"):
        plot_learner_history(load(tmp_path / "run"))


def test_adaptation_is_the_mean_query_accuracy_per_inner_step_with_its_interval(tmp_path):
    run = make_metanas_run(tmp_path / "run")
    fig = plot_adaptation(run)
    assert [t.name for t in fig.data] == ["metanas", "reptile"]
    metanas = fig.data[0]
    assert list(metanas.x) == [0, 1, 2]
    assert np.allclose(metanas.y, [0.5, 0.7, 0.9])
    # Half-width of Student's t 95% interval over three episodes (2 degrees of freedom):
    # t = 4.303 * sd / sqrt(3), more than twice the normal 1.96's for so few episodes.
    expected = 4.302652729749464 * np.std([0.7, 0.6, 0.8], ddof=1) / math.sqrt(3)
    assert metanas.error_y.array[0] == 0 and math.isclose(metanas.error_y.array[1], expected)
    assert list(metanas.customdata) == list(metanas.error_y.array)
    assert "95% t-interval" in fig.layout.title.text
    assert "(95% t-interval) over 3 episodes" in metanas.hovertemplate


def test_adaptation_of_the_watched_tasks_shows_the_last_meta_epoch(tmp_path):
    fig = plot_adaptation(make_metanas_run(tmp_path / "run"), phase="meta-epoch")
    assert np.allclose(fig.data[0].y, [0.5, 0.6])  # epoch 1's curve, not epoch 0's


def test_adaptation_says_what_is_missing(tmp_path):
    with RunStore.create(tmp_path / "run", {"strategy": "metanas"}, environment={}) as store:
        store.log_metrics(1, 0, "train", {"metanas_query_acc": 0.5})
    run = load(tmp_path / "run")
    with pytest.raises(ConfigError, match="no meta-test adaptation curves.*at its end"):
        plot_adaptation(run)
    with pytest.raises(ConfigError, match="phase 'test' is unknown; pass one of meta-test"):
        plot_adaptation(run, phase="test")
    with pytest.raises(ConfigError, match="expected a nasbench Run"):
        plot_adaptation(run.history)


def test_a_learner_outside_the_known_three_gets_a_colour_of_its_own():
    order = ["metanas", "maml", "anil"]
    colors = {name: learner_color(name, order) for name in order}
    assert len(set(colors.values())) == 3


def test_a_metanas_report_draws_its_learners_instead_of_an_empty_history(tmp_path):
    make_metanas_run(tmp_path / "run")
    page = write_report(tmp_path / "run").read_text()
    sections = re.findall(r"<h2>(.*?)</h2>", page)
    assert "Meta-training history" in sections and "Adaptation to new tasks" in sections
    assert "Training history" not in sections
    for title in ("Meta-training history", "Adaptation to new tasks"):
        body = page[page.index(f"<h2>{title}</h2>") :].split("</section>")[0]
        assert "plotly-graph-div" in body or "Plotly.newPlot" in body, title
