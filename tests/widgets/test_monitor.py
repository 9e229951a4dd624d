"""The monitor: rows of real subprocess searches, Stop, failures, warnings, in-place figures."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import numpy as np
import pytest

from nasbench.runs.alpha_summary import collapse_warnings
from tests.widgets.conftest import unnamed_controls
from widgets.launcher import SearchLauncher
from widgets.monitor import RunMonitor, format_eta

TINY_SPACE = {"name": "darts", "n_nodes": 2, "skeleton": {"n_cells": 3, "channels": 4}}
TIMEOUT_S = 150


def _launch(folder, epochs: int, name: str) -> SearchLauncher:
    launcher = SearchLauncher(folder, dataset={"name": "synthetic", "limit": 64},
                              space_config=TINY_SPACE)  # fmt: skip
    launcher.batch_size.value = 8
    launcher.epochs.value = epochs
    launcher.max_steps.value = 2
    launcher.device.value = "cpu"
    launcher.run_name.value = name
    launcher.run_button.click()
    assert launcher.process is not None, launcher.message.value
    return launcher


@pytest.fixture(scope="module")
def searches(tmp_path_factory):
    """Two tiny searches started at once: one runs to the end, one is stopped."""
    folder = tmp_path_factory.mktemp("runs")
    finishing = _launch(folder, epochs=2, name="finish")
    stopping = _launch(folder, epochs=40, name="stop")
    yield finishing, stopping
    for launcher in (finishing, stopping):
        if launcher.running:
            launcher.process.kill()
            launcher.process.wait()


def _poll_until(monitor: RunMonitor, done, timeout: float = TIMEOUT_S) -> str:
    deadline = time.monotonic() + timeout
    status = monitor.poll_once()
    while not done(status) and time.monotonic() < deadline:
        time.sleep(0.5)
        status = monitor.poll_once()
    return status


@pytest.mark.slow
def test_monitor_follows_a_subprocess_search(searches):
    launcher, _ = searches
    monitor = RunMonitor(launcher.run_dir, launcher.process)
    plot, children = monitor.alpha_plot, monitor.children
    status = _poll_until(monitor, lambda s: s in ("finished", "failed"))
    assert status == "finished", monitor.error.value
    # The same views all along: polls push what changed, nothing is re-created.
    figure = monitor.alpha_figure
    assert monitor.alpha_plot is plot and monitor.children == children
    assert len(figure.data) == 5 * 8  # 5 edges of a 2-node cell x 8 DARTS ops
    assert all(len(trace.x) == 5 for trace in figure.data)  # snapshots at steps 0..4
    # Shown as the change from uniform by default (alpha - 1/K; DARTS has 8 ops per edge).
    alphas = monitor.run.alphas
    first = alphas[(alphas["cell_type"] == "normal") & (alphas["step"] == alphas["step"].min())]
    weight = first.set_index(["edge", "op"])["weight"]
    assert all(np.isclose(t.y[0], weight[(t.meta, t.name)] - 1 / 8) for t in figure.data)
    # What a browser draws: the channel's figure plus the points sent since.
    monitor.alpha_plot._on_channel_message(None, {"kind": "resync", "revision": -1}, [])
    synced = monitor.alpha_plot.channel.figure
    assert [t["name"] for t in synced["data"]] == [t.name for t in figure.data]
    assert all(len(t["x"]) == 5 for t in synced["data"])
    assert "normal cell" in synced["layout"]["title"]["text"]
    names = [trace.name for trace in monitor.history_figure.data]
    assert {"train loss", "val loss", "val acc"} <= set(names)
    assert len(names) == len(set(names)), f"a metric is drawn twice: {names}"
    assert monitor.progress.value == monitor.progress.max == 4
    assert "<svg" in monitor.genotype.value
    # The cell's epoch is numbered as the status line numbers epochs (from 1).
    assert "after epoch 2" in monitor.genotype_title.value
    assert "epoch 2/2" in monitor.status_text.value
    assert "finished" in monitor.status_text.value
    monitor.cell_type.value = "reduce"
    assert "reduce" in figure.layout.title.text and len(figure.data[0].x) == 5


def test_stop_stops_the_search(searches):
    _, launcher = searches
    monitor = RunMonitor(launcher.run_dir, launcher.process)
    status = _poll_until(monitor, lambda s: s == "running" and monitor.run.progress["step"] >= 1)
    assert status == "running", monitor.error.value
    launcher.stop_button.click()
    status = _poll_until(monitor, lambda s: s in ("stopped", "finished", "failed"))
    assert status == "stopped"
    assert launcher.process.wait(timeout=60) == 0
    assert monitor.run.progress["step"] < monitor.run.progress["total_steps"]


def test_process_failure_shows_exit_code_and_stderr(tmp_path):
    run_dir = tmp_path / "broken"
    run_dir.mkdir()
    with open(run_dir / "stderr.log", "wb") as err:
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; sys.stderr.write('boom: bad things\\n'); sys.exit(3)",
            ],
            stderr=err,
        )
    process.wait()
    monitor = RunMonitor(run_dir, process)
    assert monitor.status == "failed"
    assert "code 3" in monitor.error.value and "boom: bad things" in monitor.error.value


def test_warnings_and_incremental_rows(fake_run, snapshot_writer):
    from nasbench.runs import RunStore

    monitor = RunMonitor(fake_run)
    warnings = collapse_warnings(monitor.run)
    assert len(warnings) >= 1
    assert warnings[0].startswith("early stop") and "RobustDARTS" in warnings[0]
    # Two eigenvalues are too few for RobustDARTS's windowed rule (it needs 2 x 5).
    assert not any("eigenvalue" in w for w in warnings)
    assert monitor.warnings.value.count("nasbench-message-warning") == len(warnings)
    figure, first = monitor.alpha_figure, monitor.alpha_figure.data[0]
    assert list(first.x) == [0, 1, 2]
    with RunStore.open(fake_run) as store:
        snapshot_writer(store, 3, 5.0)
    monitor.poll_once()
    assert monitor.alpha_figure is figure and figure.data[0] is first
    assert list(first.x) == [0, 1, 2, 3]
    # Polls add a metric's trace once: its name is not repeated however often they run.
    names = [trace.name for trace in monitor.history_figure.data]
    monitor.poll_once()
    assert [trace.name for trace in monitor.history_figure.data] == names
    assert sorted(names) == ["train acc", "train loss", "val acc"]


def test_a_long_run_is_drawn_thinned_and_a_quiet_poll_judges_nothing_again(
    fake_run, snapshot_writer, monkeypatch
):
    from nasbench.runs import RunStore
    from widgets import monitor as monitor_module

    monkeypatch.setattr(monitor_module, "MAX_LIVE_POINTS", 4)
    monitor = RunMonitor(fake_run)
    with RunStore.open(fake_run) as store:
        for step in range(3, 10):  # ten snapshots and train rows in all
            snapshot_writer(store, step, 5.0)
            store.log_metrics(step, 1, "train", {"loss": 0.1, "acc": 0.5})
    monitor.poll_once()
    # Every 4th of 10 points and the last (the stride doubles until at most 4 are left).
    assert list(monitor.alpha_figure.data[0].x) == [0, 4, 8, 9]
    loss = next(t for t in monitor.history_figure.data if t.name == "train loss")
    assert list(loss.x) == [0, 4, 8, 9]
    judged = []
    monkeypatch.setattr(monitor_module, "collapse_warnings", lambda run: judged.append(1) or [])
    monitor.poll_once()
    assert judged == []  # nothing new since the last poll: the warnings stand
    with RunStore.open(fake_run) as store:
        snapshot_writer(store, 10, 5.0)
    monitor.poll_once()
    assert judged == [1]


def test_a_live_long_curve_grows_by_appends_and_gains_its_last_point_once_the_run_ends(
    fake_run, snapshot_writer, monkeypatch
):
    """While a process writes the run, its thinned curves keep to the stride, so each poll
    sends only new points; once no process writes it, the last point is drawn too."""
    from nasbench.runs import RunStore
    from widgets import monitor as monitor_module

    monkeypatch.setattr(monitor_module, "MAX_LIVE_POINTS", 4)
    monitor = RunMonitor(fake_run)
    with RunStore.open(fake_run) as store:  # the search, still writing
        for step in range(3, 9):  # nine snapshots in all
            snapshot_writer(store, step, 5.0)
        monitor.poll_once()
        assert list(monitor.alpha_figure.data[0].x) == [0, 4, 8]
        snapshot_writer(store, 9, 5.0)
        monitor.poll_once()
        # Step 9 falls between the shown points: nothing is sent, nothing is replaced.
        assert list(monitor.alpha_figure.data[0].x) == [0, 4, 8]
        snapshot_writer(store, 10, 5.0)
        store.set_status("finished")
    monitor.poll_once()
    assert list(monitor.alpha_figure.data[0].x) == [0, 4, 8, 10]


def test_format_eta():
    assert format_eta(None) == ""
    assert format_eta(12.4) == "12 s"
    assert format_eta(185) == "3 min 05 s"
    assert format_eta(3720) == "1 h 02 min"


def test_polling_runs_on_the_event_loop(tmp_path):
    import asyncio

    from nasbench.runs import RunStore

    async def main(store) -> tuple[int, bool, int, bool]:
        monitor = RunMonitor(interval=0.01)
        calls = []
        real = monitor.poll_once
        monitor.poll_once = lambda: calls.append(1) or real()
        monitor.watch(tmp_path / "live")
        # Waits end on what they wait for (a loaded machine polls more slowly), within 10 s.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while len(calls) < 3 and loop.time() < deadline:
            await asyncio.sleep(0.05)
        while_running, active = len(calls), monitor._poller.active
        store.set_status("finished")
        while monitor._poller.active and loop.time() < deadline + 10:
            await asyncio.sleep(0.05)
        return while_running, active, len(calls), monitor._poller.active

    with RunStore.create(tmp_path / "live", {"strategy": "darts"}, environment={}) as store:
        store.set_status("running")
        while_running, active, total, still_active = asyncio.run(main(store))
    assert while_running >= 3 and active  # polled repeatedly while the run was live
    assert not still_active and total > while_running  # saw "finished", then stopped polling


def test_space_costs_are_measured_off_the_loop():
    import asyncio

    from widgets.space_builder import SpaceBuilder

    async def main() -> dict:
        builder = SpaceBuilder(live_costs=False)
        with builder.hold_updates():
            builder.n_nodes.value = 1
            builder.n_cells.value = 2
            builder.channels.value = 2
        builder.live_costs = True
        builder._costs_later.delay = 0.01
        builder.batch_size.value = 4  # debounced, then measured in a worker thread
        for _ in range(300):
            await asyncio.sleep(0.05)
            if builder.costs:
                break
        return builder.costs

    costs = asyncio.run(main())
    assert costs["params"] > 0 and costs["memory"]["total"] > 0


def test_a_discrete_search_shows_its_candidates_and_best_cell(tmp_path):
    from nasbench import search
    from nasbench.config import SearchConfig
    from nasbench.runs import RunStore
    from nasbench.spaces import NB201Space

    config = SearchConfig(strategy="random", evaluator="table", space={"name": "nb201"},
                          max_evaluations=12, seed=1)  # fmt: skip
    search(config, tmp_path / "run")
    monitor = RunMonitor(tmp_path / "run")
    assert monitor.status == "finished"
    evaluated, best = monitor.candidate_figure.data
    assert monitor.candidate_plot.layout.display is None
    assert list(evaluated.x) == list(range(1, 13)) and len(evaluated.y) == 12
    assert np.all(np.diff(best.y) >= 0) and best.y[-1] == max(evaluated.y)
    assert monitor.cell_type.layout.display == "none"  # no alphas in a discrete run
    assert "best genotype" in monitor.genotype_title.value and "<svg" in monitor.genotype.value

    # Rows written later arrive as updates of the same traces.
    with RunStore.open(tmp_path / "run") as store:
        g = NB201Space().sample(np.random.default_rng(0))
        store.log_candidate(99, g, {"score": best.y[-1] + 1.0}, {})
    monitor.poll_once()
    assert monitor.candidate_figure.data[0] is evaluated and len(evaluated.y) == 13
    assert best.y[-1] == evaluated.y[-1]


@pytest.mark.parametrize(
    "message, said",
    [("max_seconds", "its max_seconds budget is spent"), ("", "ended early"),
     ("exhausted", "every architecture of the space has been evaluated")],
)  # fmt: skip
def test_a_search_finished_short_of_its_steps_says_what_ended_it(tmp_path, message, said):
    """A race cut short by max_seconds ends at step 1 of 39: a part-filled green bar
    alone reads as a search that missed its end."""
    from nasbench.runs import RunStore

    with RunStore.create(tmp_path / "run", {"strategy": "hyperband"}, {}) as store:
        store.set_status("running")
        store.set_progress(1, 39, 0, None)
        store.set_status("finished", message)
    monitor = RunMonitor(tmp_path / "run")
    assert monitor.status == "finished" and monitor.progress.bar_style == "success"
    assert monitor.status_text.value == f"<b>finished</b> · step 1/39 · {said}"
    with RunStore.open(tmp_path / "run") as store:  # a search that took all its steps
        store.set_progress(39, 39, 0, None)
    monitor.poll_once()
    assert monitor.status_text.value == "<b>finished</b> · step 39/39"


def test_a_resumed_run_reads_resuming_until_its_process_takes_the_store_over(fake_run):
    import sys

    from nasbench.runs import RunStore

    with RunStore.open(fake_run) as store:
        store.set_status("stopped")
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        monitor = RunMonitor(fake_run, process)
        assert monitor.status == "resuming" and "resuming…" in monitor.status_text.value
        assert monitor.stop_button.disabled is False
    finally:
        process.kill()
        process.wait()
    assert monitor.poll_once() == "stopped"  # the process is gone: the store's word again


def test_write_report_writes_the_watched_runs_page(fake_run):
    monitor = RunMonitor(fake_run)
    assert not monitor.report_button.disabled
    monitor.report_button.click()
    path = fake_run / "report.html"
    assert path.is_file() and str(path) in monitor.report_message.value
    assert "<h2>Final genotype</h2>" in path.read_text(encoding="utf-8")
    assert RunMonitor().write_report() is None  # nothing watched: nothing written


def test_a_joint_search_shows_its_hyper_parameter_policy_live(autohas_run, fake_run):
    from nasbench.runs import RunStore
    from nasbench.spaces import NB201Space

    monitor = RunMonitor(autohas_run)
    assert monitor.hp_plot.layout.display is None
    lr = [t for t in monitor.hp_figure.data if t.name == "lr=0.1"][0]
    assert list(lr.x) == [0, 1, 2, 3] and np.allclose(lr.y, [0.5, 0.6, 0.7, 0.8])
    revision = monitor.hp_plot.revision
    with RunStore.open(autohas_run) as store:
        policy = {"lr": {"0.01": 0.1, "0.1": 0.9}, "batch_size": {"16": 0.5, "32": 0.5}}
        g = NB201Space().sample(np.random.default_rng(1))
        store.log_candidate(4, g, {"score": 0.9}, {}, info={"hp_probs": policy})
    monitor.poll_once()
    assert monitor.hp_figure.data[3] is lr and np.allclose(lr.y[-1], 0.9)
    assert monitor.hp_plot.revision == revision + 1
    assert len(monitor.hp_plot.channel.figure["data"][3]["y"]) == 4  # sent as new points only
    monitor.watch(fake_run)  # a DARTS run has no HP policy: the figure goes away
    assert monitor.hp_plot.layout.display == "none" and monitor.hp_figure.data == ()


def test_watching_another_folder_keeps_nothing_of_the_last_run(fake_run, tmp_path):
    from nasbench.runs import RunStore

    monitor = RunMonitor(fake_run)
    assert monitor.status == "finished" and monitor.progress.value > 0
    monitor.watch(tmp_path / "never-written")
    assert (
        monitor.status == "failed"
        and "never-written does not exist (not made yet, moved or deleted)" in monitor.error.value
    )
    (tmp_path / "empty").mkdir()
    monitor.watch(tmp_path / "empty")
    assert monitor.status == "failed" and "holds no run store" in monitor.error.value
    assert monitor.status_text.value == "" and monitor.progress.value == 0
    assert monitor.progress.bar_style == ""
    with RunStore.open(fake_run) as store:
        store.set_status("running")  # and then its process was killed: no writer holds it
    monitor.watch(fake_run)
    assert monitor.status == "killed" and "<b>killed</b>" in monitor.status_text.value
    assert monitor.stop_button.disabled and "the search process is gone" in monitor.error.value


@pytest.mark.parametrize(
    ("metrics", "plotted"),
    [
        ({"val_psnr": 28.0, "val_ssim": 0.8, "val_nmse": 0.05}, {"val_ssim", "val_nmse"}),
        ({"val_map": 0.1, "val_ap50": 0.3, "val_froc": 0.4, "val_froc_0.5": 0.2},
         {"val_map", "val_ap50", "val_froc"}),
    ],
)  # fmt: skip
def test_reconstruction_and_detection_scores_are_plotted(tmp_path, metrics, plotted):
    from nasbench.runs import RunStore

    run_dir = tmp_path / "run"
    with RunStore.create(run_dir, {"strategy": "darts"}, environment={}) as store:
        store.log_metrics(1, 0, "train", {"loss": 1.0})
        store.log_metrics(1, 0, "val", {"val_loss": 0.9, **metrics})
        store.set_status("finished")
    monitor = RunMonitor(run_dir)
    names = {trace.meta[1] for trace in monitor.history_figure.data}
    assert names == {"loss", "val_loss", *plotted}


def test_close_stops_polling_closes_the_run_and_every_widget(tmp_path, widget_registry, fds_to):
    import asyncio

    from nasbench.runs import RunStore
    from widgets._figures import PlotlyLibrary

    async def main() -> tuple[int, int, bool, RunMonitor]:
        monitor = RunMonitor(interval=0.01)
        calls = []
        real = monitor.poll_once
        monitor.poll_once = lambda: calls.append(1) or real()
        monitor.watch(tmp_path / "live")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while len(calls) < 3 and loop.time() < deadline:
            await asyncio.sleep(0.02)
        polled = len(calls)
        monitor.close()
        monitor.close()  # idempotent
        await asyncio.sleep(0.3)  # 30 intervals
        return polled, len(calls) - polled, monitor._poller.active, monitor

    before = set(widget_registry())
    with RunStore.create(tmp_path / "live", {"strategy": "darts"}, environment={}) as store:
        store.set_status("running")
        polled, after_close, active, monitor = asyncio.run(main())
    assert polled >= 3 and after_close == 0 and not active
    assert monitor.run._conn is None  # the read connection is closed...
    assert fds_to(tmp_path / "live") in (None, [])  # ...and no file of the store stays open
    left = [widget_registry()[key] for key in set(widget_registry()) - before]
    assert all(isinstance(model, PlotlyLibrary) for model in left), left  # shared, stays


def test_close_is_safe_without_a_run_and_from_inside_a_poll(tmp_path):
    import asyncio

    from nasbench.runs import RunStore

    RunMonitor().close()  # never shown a run

    async def main(store) -> tuple[RunMonitor, int]:
        monitor = RunMonitor(interval=0.01)
        calls = []
        real = monitor.poll_once
        monitor.poll_once = lambda: calls.append(1) or real()
        # A background poll sees the run end and an observer closes the view (as a notebook's
        # may): that poll ends cleanly on the closed run and no later one starts.
        monitor.observe(lambda change: change["new"] == "finished" and monitor.close(), "status")
        monitor.watch(tmp_path / "live")
        await asyncio.sleep(0.1)
        assert monitor._poller.active  # polling in the background
        store.set_status("finished")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 5
        while monitor.comm is not None and loop.time() < deadline:
            await asyncio.sleep(0.02)
        polled = len(calls)
        await asyncio.sleep(0.2)
        return monitor, len(calls) - polled

    with RunStore.create(tmp_path / "live", {"strategy": "darts"}, environment={}) as store:
        store.set_status("running")
        monitor, after_close = asyncio.run(main(store))
    assert monitor.status == "finished" and monitor.error.value == ""
    assert after_close == 0 and not monitor._poller.active
    assert monitor.run._conn is None and monitor.progress.comm is None


def test_every_control_of_the_monitor_is_named(fake_run):
    monitor = RunMonitor(fake_run)
    assert unnamed_controls(monitor) == []


def _metrics_run(tmp_path):
    """A run with two losses and two scores in each of train and val."""
    from nasbench.runs import RunStore

    run_dir = tmp_path / "metrics"
    with RunStore.create(run_dir, {"strategy": "darts"}, environment={}) as store:
        for step in (0, 1, 2):
            store.log_metrics(step, 0, "train",
                              {"loss": 1.0, "arch_loss": 0.9, "acc": 0.5, "auc": 0.6})  # fmt: skip
        store.log_metrics(2, 0, "val", {"val_loss": 0.8, "val_acc": 0.6, "val_auc": 0.7})
        store.set_status("finished")
    return run_dir


def test_the_history_curves_differ_in_more_than_colour_and_read_as_plot_history(tmp_path):
    from nasbench.viz.history import PHASE_COLORS
    from widgets.monitor import metric_label

    monitor = RunMonitor(_metrics_run(tmp_path))
    fig = monitor.history_figure
    by_name = {t.name: t for t in fig.data}
    # plot_history's names: "<phase> <metric>", without the phase's prefix repeated.
    assert set(by_name) == {"train loss", "train arch_loss", "val loss",
                            "train acc", "train auc", "val acc", "val auc"}  # fmt: skip
    for trace in fig.data:
        phase = trace.name.split()[0]
        assert trace.line.color == PHASE_COLORS[phase]  # plot_history's phase colours
        assert trace.hovertemplate.startswith(trace.name) and "step %{x}" in trace.hovertemplate
    # Without colour, the dash tells the metric and the markers the phase, in each panel.
    for axis in ("y", "y2"):
        styles = [(t.line.dash, t.mode) for t in fig.data if t.yaxis == axis]
        assert len(styles) == len(set(styles)), styles
    assert by_name["train loss"].line.dash == by_name["val loss"].line.dash
    assert by_name["train acc"].line.dash != by_name["train auc"].line.dash
    assert (fig.layout.yaxis.title.text, fig.layout.yaxis2.title.text) == ("loss", "metric")
    assert fig.layout.xaxis2.title.text == "step"
    assert (metric_label("val", "val_acc"), metric_label("search", "td_loss")) == ("acc", "td_loss")


def test_the_alpha_charts_name_their_axes_as_plot_alphas(tmp_path):
    from nasbench.runs import RunStore

    run_dir = tmp_path / "five-edges"
    edges = ["0->2", "1->2", "0->3", "1->3", "2->3"]  # two rows of four charts
    with RunStore.create(run_dir, {"strategy": "darts"}, environment={}) as store:
        for step in (0, 1):
            store.log_alphas(step, 0, "normal", np.zeros((5, 3)), ["none", "skip", "conv"], edges)
        store.set_status("finished")
    monitor = RunMonitor(run_dir)
    layout = monitor.alpha_figure.layout
    assert [layout[f"yaxis{n}"].title.text for n in ("", 5)] == ["α − 1/K"] * 2
    assert [layout[f"xaxis{n}"].title.text for n in range(5, 9)] == ["step"] * 4
    assert layout.xaxis.title.text is None  # the top row's steps are named below it
    monitor.alpha_scale.value = "absolute"
    layout = monitor.alpha_figure.layout
    assert [layout[f"yaxis{n}"].title.text for n in ("", 5)] == ["α"] * 2
    assert layout.xaxis5.title.text == "step"


def test_the_monitor_shows_its_error_through_the_one_message_helper(tmp_path):
    monitor = RunMonitor(tmp_path)  # no run store here
    assert monitor.status == "failed"
    assert "nasbench-message-error" in monitor.error.value
    text = re.sub(r"<[^>]+>", "", monitor.error.value)
    assert text.startswith("error: ") and text.count("error:") == 1 and "holds no run" in text


def test_a_poll_redraws_only_the_curves_its_new_rows_extend(fake_run, monkeypatch):
    from nasbench.runs import RunStore
    from widgets import monitor as monitor_module
    from widgets._figures import LivePlot

    monitor = RunMonitor(fake_run)
    thinned, pushed = [], []
    real_thinned, real_push = monitor_module.thinned, LivePlot.push
    monkeypatch.setattr(monitor_module, "thinned",
                        lambda *a, **kw: thinned.append(1) or real_thinned(*a, **kw))  # fmt: skip
    monkeypatch.setattr(LivePlot, "push", lambda plot: pushed.append(plot) or real_push(plot))
    monitor.poll_once()
    # Nothing written since the last poll: no curve is thinned, compared or pushed again.
    assert thinned == [] and pushed == []
    alphas = [list(t.x) for t in monitor.alpha_figure.data]
    history = {t.name: list(t.x) for t in monitor.history_figure.data}
    with RunStore.open(fake_run) as store:
        store.log_metrics(3, 1, "train", {"loss": 0.1})
    monitor.poll_once()
    # One loss row: the loss curve alone grows, and only its figure is pushed.
    assert pushed == [monitor.history_plot]
    grown = {t.name: list(t.x) for t in monitor.history_figure.data if list(t.x) != history[t.name]}
    assert grown == {"train loss": [0, 1, 2, 3]}
    assert [list(t.x) for t in monitor.alpha_figure.data] == alphas


def _two_cell_run(tmp_path, reduce_edges: int = 5):
    """Alphas of a normal cell of 5 edges and a reduce cell of ``reduce_edges``, unlike."""
    from nasbench.runs import RunStore

    run_dir = tmp_path / f"two-cells-{reduce_edges}"
    edges = ["0->2", "1->2", "0->3", "1->3", "2->3"]
    with RunStore.create(run_dir, {"strategy": "darts"}, environment={}) as store:
        for step in (0, 1, 2):
            raw = np.arange(15.0).reshape(5, 3) * (step + 1) / 10
            store.log_alphas(step, 0, "normal", raw, ["none", "skip", "conv"], edges)
            store.log_alphas(step, 0, "reduce", -raw[:reduce_edges], ["none", "skip", "conv"],
                             edges[:reduce_edges])  # fmt: skip
        store.set_status("finished")
    return run_dir


def _alpha_view(monitor: RunMonitor) -> tuple[dict, dict]:
    """The alpha figure as plain JSON, and the whole figure a browser is sent."""
    import json

    monitor.alpha_plot._on_channel_message(None, {"kind": "resync", "revision": -1}, [])
    return json.loads(monitor.alpha_figure.to_json()), monitor.alpha_plot.channel.figure


def test_toggling_cell_or_scale_keeps_the_subplots_and_draws_what_a_fresh_monitor_does(
    tmp_path, monkeypatch
):
    import plotly.graph_objects as go

    from widgets import monitor as monitor_module

    made, hlines = [], []
    real_subplots, real_hline = monitor_module.make_subplots, go.Figure.add_hline
    monkeypatch.setattr(monitor_module, "make_subplots",
                        lambda *a, **k: made.append(1) or real_subplots(*a, **k))  # fmt: skip
    monkeypatch.setattr(go.Figure, "add_hline",
                        lambda *a, **k: hlines.append(1) or real_hline(*a, **k))  # fmt: skip
    run_dir = _two_cell_run(tmp_path)
    monitor = RunMonitor(run_dir)
    made.clear()
    toggles = [("reduce", "deviation"), ("reduce", "absolute"), ("normal", "absolute"),
               ("normal", "deviation"), ("reduce", "deviation")]  # fmt: skip
    views = []
    for cell, scale in toggles:
        monitor.cell_type.value, monitor.alpha_scale.value = cell, scale
        views.append(_alpha_view(monitor))
    # Both cells have the same edges and ops: their subplots are made once, not per click.
    assert made == [] and hlines == []
    assert len(monitor.alpha_figure.layout.shapes) == 5  # one zero line per edge's chart
    for (cell, scale), view in zip(toggles, views, strict=True):
        fresh = RunMonitor()
        fresh.cell_type.value, fresh.alpha_scale.value = cell, scale
        fresh.watch(run_dir)
        assert view == _alpha_view(fresh), (cell, scale)
    # A cell of other edges is laid out anew, and reads as a fresh monitor's again.
    run_dir = _two_cell_run(tmp_path, reduce_edges=2)
    monitor = RunMonitor(run_dir)
    for cell, scale in toggles:
        monitor.cell_type.value, monitor.alpha_scale.value = cell, scale
    fresh = RunMonitor()
    fresh.cell_type.value = "reduce"
    fresh.watch(run_dir)
    assert _alpha_view(monitor) == _alpha_view(fresh)
    assert len(monitor.alpha_figure.data) == 2 * 3


def test_failed_candidates_keep_their_evaluation_numbers(tmp_path):
    from nasbench.runs import RunStore
    from nasbench.spaces import NB201Space

    space, rng = NB201Space(), np.random.default_rng(0)
    with RunStore.create(tmp_path / "run", {"strategy": "random"}, environment={}) as store:
        for cid, (score, status) in enumerate([(0.5, "done"), (None, "failed"),
                                               (0.5, "cached"), (None, "failed"),
                                               (0.9, "done"), (None, "failed")]):  # fmt: skip
            metrics = {} if score is None else {"score": score}
            store.log_candidate(cid, space.sample(rng), metrics, {}, status=status)
        store.set_status("finished")
    monitor = RunMonitor(tmp_path / "run")
    evaluated, best = monitor.candidate_figure.data
    # A failed candidate spends an evaluation (no point); a cache hit does not.
    assert list(evaluated.x) == [1, 4] and list(evaluated.y) == [0.5, 0.9]
    assert list(best.x) == [1, 2, 3, 4, 5] and list(best.y) == [0.5, 0.5, 0.5, 0.9, 0.9]


def test_thinned_keeps_the_last_point():
    from widgets.monitor import thinned

    xs, ys = thinned(list(range(1002)), [2 * x for x in range(1002)])
    assert len(xs) <= 1000 and xs[-1] == 1001 and ys[-1] == 2002
    assert list(thinned(list(range(10)), list(range(10)), 4)[0]) == [0, 4, 8, 9]
    assert list(thinned(list(range(10)), list(range(10)), 4, keep_last=False)[0]) == [0, 4, 8]


def test_an_early_stopped_run_shows_the_genotype_its_search_returned(tmp_path):
    from nasbench.runs import RunStore
    from nasbench.spaces import parse_genotype
    from tests.widgets.conftest import GENOTYPE

    returned = parse_genotype(GENOTYPE)
    collapsed = parse_genotype(GENOTYPE.replace("sep_conv_3x3', 2", "skip_connect', 2"))
    run_dir = tmp_path / "run"
    with RunStore.create(run_dir, {"strategy": "darts"}, environment={}) as store:
        store.set_status("running")
        store.log_genotype(0, 2, returned.to_json(), {})
        store.log_genotype(1, 4, collapsed.to_json(), {})
    monitor = RunMonitor(run_dir)
    # While the search runs, the latest derived cell.
    assert "after epoch 2 (step 4)" in monitor.genotype_title.value
    assert monitor._genotype_json == collapsed.to_json()
    with RunStore.open(run_dir) as store:
        store.log_event("early_stop", {"epoch": 1, "return_epoch": 0}, epoch=1)
        store.set_status("finished")
    monitor.poll_once()
    title = monitor.genotype_title.value
    assert "returned genotype" in title and "epoch 1 (step 2)" in title and "epoch 2" in title
    assert monitor._genotype_json == returned.to_json()


def _exited(code: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", f"raise SystemExit({code})"])
    process.wait()
    return process


class _Loading:
    """A search process still loading (no run store yet) until its returncode is set."""

    pid, returncode = 999_999, None

    def poll(self):
        return self.returncode


def test_a_search_that_dies_before_its_store_shows_failed_in_the_status_line(tmp_path):
    run_dir = tmp_path / "runs" / "darts-1"
    run_dir.mkdir(parents=True)
    process = _Loading()
    monitor = RunMonitor(run_dir, process)
    assert monitor.status == "starting" and "starting…" in monitor.status_text.value
    process.returncode = 2  # it failed its checks before it created run.sqlite
    assert monitor.poll_once() == "failed"
    assert "starting" not in monitor.status_text.value
    assert "failed" in monitor.status_text.value and monitor.progress.bar_style == "danger"
    assert monitor.stop_button.disabled
    assert "exited with code 2 before it created the run store" in monitor.error.value


def test_a_resume_that_fails_before_taking_the_store_over_shows_its_error(fake_run):
    from nasbench.runs import RunStore

    with RunStore.open(fake_run) as store:
        store.set_status("stopped")
    # The log ends with the CLI's one-line error, as a resume whose --import module raised.
    (fake_run / "stderr.log").write_text(
        " 12%|█▎        | 6/48 [00:01<00:10]\nnasbench: error: importing my_ops failed: "
        "RuntimeError: user bug\n"
    )
    monitor = RunMonitor(fake_run, _exited(2))
    assert monitor.status == "failed" and monitor.progress.bar_style == "danger"
    text = re.sub("<[^>]+>", "", monitor.error.value)
    assert "exited with code 2 before it took over the run (still stopped" in text
    assert "importing my_ops failed: RuntimeError: user bug" in text
    assert monitor.stop_button.disabled
    # A process interrupted (130) or killed before it took over left the run as it was.
    assert RunMonitor(fake_run, _exited(130)).status == "stopped"
    # One that wrote the store (its pid on a status row) is judged by what it wrote.
    wrote = subprocess.Popen([
        sys.executable, "-c", "import sys; from nasbench.runs import RunStore; "
        f"store = RunStore.open({str(fake_run)!r}); store.set_status('stopped'); "
        "store.close(); sys.exit(2)",
    ])  # fmt: skip
    wrote.wait()
    monitor = RunMonitor(fake_run, wrote)
    assert monitor.status == "stopped" and monitor.error.value == ""


def test_a_failed_resume_gives_way_to_a_later_resume_from_elsewhere(fake_run, monkeypatch):
    import asyncio

    from nasbench.runs import RunStore
    from widgets import monitor as monitor_module

    monkeypatch.setattr(monitor_module, "IDLE_POLL_S", 0.02)
    with RunStore.open(fake_run) as store:
        store.set_status("stopped")

    def seen(monitor: RunMonitor) -> tuple:
        error = re.sub("<[^>]+>", "", monitor.error.value)
        return monitor.status, monitor.progress.bar_style, "exited with code" in error

    async def main() -> list:
        monitor = RunMonitor(fake_run, _exited(2), interval=0.01)  # our Resume failed
        stages = [seen(monitor)]
        with RunStore.open(fake_run) as store:  # the user resumes it from the CLI
            store.set_status("running")
            store.set_progress(1, 2, 0, 2)
            await _wait_for(monitor, "running")
            stages.append(seen(monitor))
            store.set_progress(2, 2, 1, 2)
            store.set_status("finished")
        await _wait_for(monitor, "finished")
        stages.append(seen(monitor))
        monitor.close()
        return stages

    assert asyncio.run(main()) == [
        ("failed", "danger", True),  # nothing else wrote the run: our failure is the news
        ("running", "", False),  # the store's word, without the stale error
        ("finished", "success", False),
    ]


def test_a_failed_resume_shows_a_writer_that_came_later_but_not_the_one_that_held_it(
    fake_run,
):
    from nasbench.runs import RunStore

    with RunStore.open(fake_run) as store:
        store.set_status("stopped")
    monitor = RunMonitor(fake_run, _exited(2))
    assert monitor.poll_once() == "failed"
    with RunStore.open(fake_run):  # a resume that holds the run but wrote no status yet
        assert monitor.poll_once() == "resuming" and monitor.error.value == ""
    # That writer is gone without a row: still not our process's failure any more.
    assert monitor.poll_once() == "stopped" and monitor.error.value == ""
    # A resume that failed on the busy lock of a live writer: that writer's run goes on,
    # with why ours did not start, until that writer writes (then only the store's word).
    with RunStore.open(fake_run) as store:
        store.set_status("running")
        monitor.watch(fake_run, _exited(2))
        assert monitor.status == "running" and not monitor.stop_button.disabled
        assert "before it took over the run (still running" in monitor.error.value
        assert monitor.poll_once() == "running" and "took over" in monitor.error.value
        store.set_status("finished")
        assert monitor.poll_once() == "finished" and monitor.error.value == ""
    # A search of ours that failed (its own status row): a later resume is followed.
    failed = subprocess.Popen([
        sys.executable, "-c", "import sys; from nasbench.runs import RunStore; "
        f"store = RunStore.open({str(fake_run)!r}); store.set_status('failed', 'boom'); "
        "store.close(); sys.exit(1)",
    ])  # fmt: skip
    failed.wait()
    monitor.watch(fake_run, failed)
    assert monitor.status == "failed" and "boom" in monitor.error.value
    with RunStore.open(fake_run) as store:
        store.set_status("running")
        assert monitor.poll_once() == "running" and monitor.error.value == ""
    monitor.close()


def test_stop_pressed_while_a_search_starts_reaches_it_once_it_has_a_store(tmp_path):
    from nasbench.runs import RunStore, load

    with RunStore.create(tmp_path / "a", {"strategy": "darts"}, environment={}) as store:
        store.set_status("running")
        monitor = RunMonitor(tmp_path / "a")
    run_dir = tmp_path / "b"
    run_dir.mkdir()
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        monitor.watch(run_dir, process)  # switched from a live run to one still starting
        assert monitor.status == "starting" and not monitor.stop_button.disabled
        monitor.stop_button.click()
        monitor.poll_once()  # still no store: the request waits, and says so
        assert "stop requested" in monitor.status_text.value and monitor.stop_button.disabled
        with RunStore.create(run_dir, {"strategy": "darts"}, environment={}) as store:
            store.set_status("running")
            monitor.poll_once()  # the store exists now: the request is written
            assert store.stop_requested()
        with load(run_dir) as run:
            assert run.stop_pending
    finally:
        process.kill()
        process.wait()
    # Without a process of its own no one will create the store: Stop has nothing to ask.
    monitor.watch(tmp_path / "empty")
    assert monitor.status == "failed" and monitor.stop_button.disabled
    monitor.close()


def test_a_monitor_on_a_finished_run_notices_a_later_resume(fake_run, monkeypatch):
    import asyncio

    from nasbench.runs import RunStore
    from widgets import monitor as monitor_module

    # A slow poll every 20 ms, not every 2 s (the constant did not exist before it).
    monkeypatch.setattr(monitor_module, "IDLE_POLL_S", 0.02, raising=False)

    async def main() -> list:
        monitor = RunMonitor(fake_run, interval=0.01)
        seen = [(monitor.status, monitor._poller.active)]
        with RunStore.open(fake_run) as store:  # a resume from another tab or the CLI
            store.set_status("running")
            await _wait_for(monitor, "running")
            seen.append((monitor.status, monitor._poller.active))
            store.set_progress(2, 2, 1, 2)
            store.set_status("finished")
        await _wait_for(monitor, "finished")
        seen.append((monitor.status, monitor._poller.active))
        calls = []
        real = monitor.poll_once
        monitor.poll_once = lambda: calls.append(1) or real()
        monitor.close()
        with RunStore.open(fake_run) as store:  # closed: a later resume is not read
            store.set_status("running")
        await asyncio.sleep(0.2)
        idle = getattr(monitor, "_idle_poller", None)  # the slow poll
        seen.append((len(calls), monitor._poller.active, idle is not None and idle.active))
        return seen

    assert asyncio.run(main()) == [
        ("finished", False),  # over: only the slow poll of its store files
        ("running", True),  # a resume was noticed: polled at full speed
        ("finished", False),
        (0, False, False),  # closing stops every task
    ]


def test_a_run_opened_while_its_search_starts_reads_starting_then_its_store(tmp_path):
    from nasbench.runs import RunStore
    from widgets.launcher import CONFIG_NAME

    run_dir = tmp_path / "darts-1"  # as the launcher leaves it before the search has a store
    run_dir.mkdir()
    (run_dir / CONFIG_NAME).write_text('{"strategy": "darts"}')
    (run_dir / "stderr.log").write_text("\r  0%|          | 0/32 [00:00<?, ?step/s]")
    monitor = RunMonitor(run_dir)  # opened from the Runs tab: no process handle
    seen = []
    monitor.observe(lambda change: seen.append(change["new"]), "status")
    assert monitor.status == "starting" and monitor.error.value == ""
    assert "starting" in monitor.status_text.value
    with RunStore.create(run_dir, {"strategy": "darts"}, environment={}) as store:
        store.set_progress(2, 2, 1, 2)
        store.set_status("finished")
    assert monitor.poll_once() == "finished" and monitor.error.value == ""
    assert seen == ["finished"]  # never "failed": the workbench shows a run that ended only
    # One that failed its checks before creating its store reads failed, with its reason.
    failed = tmp_path / "darts-2"
    failed.mkdir()
    (failed / CONFIG_NAME).write_text('{"strategy": "darts"}')
    (failed / "stderr.log").write_text("nasbench: error: no dataset x; pick another.\n")
    monitor.watch(failed)
    assert monitor.status == "failed" and "store: no dataset x; pick" in monitor.error.value


def test_the_missing_store_error_is_cleared_once_the_store_opens(tmp_path):
    from nasbench.runs import RunStore

    monitor = RunMonitor(tmp_path / "plain")  # no search config: not a launcher's folder
    assert monitor.status == "failed" and "plain does not exist" in monitor.error.value
    with RunStore.create(tmp_path / "plain", {"strategy": "darts"}, environment={}) as store:
        store.set_status("stopped")  # e.g. a search started there from the command line
    assert monitor.poll_once() == "stopped" and monitor.error.value == ""


def test_stderr_tail_keeps_the_logged_lines_not_the_progress_bars(tmp_path):
    from widgets.monitor import stderr_tail

    bar = "{}%|{}| {}/32 [00:19<02:18,  4.95s/step, epoch=0, loss=0.704]"
    nested = "\rvalidation, epoch {}: {:3d}%|{}| {}/4 [00:00<00:01,  1.89batch/s]\x1b[A\n"
    text = "".join("\r" + bar.format(p, "█" * (p // 10), p // 3) for p in (0, 3, 12)) + "\n"
    for epoch in range(6):  # tqdm's nested validation bar (leave=False), cleared at its end
        text += "".join(nested.format(epoch, 25 * n, "█" * n, n) for n in range(5))
        text += "\r" + " " * 69 + "\x1b[A"
    text += (
        "\r 16%|█▌        | 5/32 [00:26<02:30,  5.59s/step]/x/train.py:12: UserWarning: "
        "the learning rate is high\n  warnings.warn(\n\rsearching: 12it [00:01,  3.2it/s]\r"
        "nasbench: error: CUDA out of memory; lower the batch size.\n"
    )
    (tmp_path / "stderr.log").write_text(text, encoding="utf-8")
    assert stderr_tail(tmp_path).splitlines() == [
        "/x/train.py:12: UserWarning: the learning rate is high",
        "  warnings.warn(",
        "nasbench: error: CUDA out of memory; lower the batch size.",
    ]


async def _wait_for(monitor: RunMonitor, status: str) -> None:
    """Let the kernel loop run the monitor's polls until it reads ``status`` (10 s at most)."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while monitor.status != status and loop.time() < deadline:
        await asyncio.sleep(0.02)


def _whole_number_ticks(fig) -> set[int | str]:
    """The tick steps of the figure's x axes, each checked to tick whole numbers only:
    "auto" where plotly's own ticks are whole (an axis too long for it to halve steps)."""
    axes = [fig.layout[name] for name in fig.layout if name.startswith("xaxis")]
    assert axes
    for axis in axes:
        if axis.tickmode == "auto":
            assert (axis.dtick, axis.tick0, axis.tickformat) == (None, None, None), axis
            continue
        assert (axis.tickmode, axis.tick0, axis.tickformat) == ("linear", 0, "d"), axis
        assert isinstance(axis.dtick, int) and axis.dtick >= 1
    return {"auto" if axis.tickmode == "auto" else axis.dtick for axis in axes}


def test_the_live_figures_tick_whole_steps_however_many_points_arrive(tmp_path, snapshot_writer):
    from nasbench.runs import RunStore

    def log(store, steps):
        for step in steps:
            snapshot_writer(store, step, 1.0)
            store.log_metrics(step, 0, "train", {"loss": 1.0, "acc": 0.5})
            store.log_metrics(step, 0, "search", {"agent0_reward": 1.0, "agent0_dist_vox": 2.0})

    with RunStore.create(tmp_path / "run", {"strategy": "darts"}, environment={}) as store:
        store.set_status("running")
        log(store, range(3))  # three steps: plotly alone ticks them 0, 0.5, 1, 1.5, 2
        monitor = RunMonitor(tmp_path / "run")
        figures = (monitor.history_figure, monitor.alpha_figure, monitor.agent_figure)
        assert [_whole_number_ticks(fig) for fig in figures] == [{1}] * 3
        log(store, range(3, 9))  # nine: still fixed, whole ticks (the grid's: every 2)
        monitor.poll_once()
        assert [_whole_number_ticks(fig) for fig in figures] == [{1}, {2}, {1}]
        log(store, range(9, 500))  # plotly's own ticks are whole here, and follow a zoom
        monitor.poll_once()
        for fig in figures:
            assert _whole_number_ticks(fig) == {"auto"}
            assert max(trace.x[-1] for trace in fig.data) > 400


def test_the_candidates_figure_ticks_whole_evaluations(tmp_path):
    from nasbench.runs import RunStore
    from nasbench.spaces import NB201Space

    genotype = NB201Space().sample(np.random.default_rng(0))
    with RunStore.create(tmp_path / "run", {"strategy": "random"}, environment={}) as store:
        for k in range(2):
            store.log_candidate(k, genotype, {"score": 0.5}, {})
        store.set_status("running")
        monitor = RunMonitor(tmp_path / "run")
        assert _whole_number_ticks(monitor.candidate_figure) == {1}
        for k in range(2, 300):
            store.log_candidate(k, genotype, {"score": 0.5}, {})
        monitor.poll_once()
    assert _whole_number_ticks(monitor.candidate_figure) == {"auto"}


def test_a_launcher_folder_reads_failed_once_its_search_process_is_gone(tmp_path, monkeypatch):
    import json
    import os

    from widgets import launcher as launcher_module
    from widgets.launcher import CONFIG_NAME, PROCESS_NAME, record_process
    from widgets.monitor import unstarted_reason
    from widgets.run_browser import unstarted_runs

    run_dir = tmp_path / "darts-1"  # as the launcher leaves it before the search has a store
    run_dir.mkdir()
    (run_dir / CONFIG_NAME).write_text('{"strategy": "darts"}')
    (run_dir / "stderr.log").write_text("\r  0%|          | 0/32 [00:00<?, ?step/s]")
    assert unstarted_reason(run_dir) == ""  # written by an older version: no record
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        record_process(process, run_dir)
        assert unstarted_reason(run_dir) == ""  # its search still loads
    finally:
        process.kill()  # as SIGKILL or the out-of-memory killer would: no error logged
        process.wait()
    gone = (
        f"its process (pid {process.pid}) ended with no error logged (killed? out of "
        f"memory?); see stderr.log in {run_dir}."
    )
    assert unstarted_reason(run_dir) == gone
    monitor = RunMonitor(run_dir)  # opened from the Runs tab, after a kernel restart
    assert monitor.status == "failed" and f"(pid {process.pid}) ended" in monitor.error.value
    ((status, message),) = unstarted_runs(tmp_path)[["status", "message"]].to_numpy().tolist()
    assert (status, message) == ("failed", gone)
    # A pid given to another process since (here this one): its start differs.
    record = json.loads((run_dir / PROCESS_NAME).read_text())
    (run_dir / PROCESS_NAME).write_text(json.dumps({**record, "pid": os.getpid()}))
    assert f"(pid {os.getpid()}) ended" in unstarted_reason(run_dir)
    # A record made on another machine says nothing of this one's processes.
    (run_dir / PROCESS_NAME).write_text(json.dumps({**record, "host": "elsewhere"}))
    assert unstarted_reason(run_dir) == ""
    # Without /proc (macOS): whether the pid runs, with no start to compare.
    monkeypatch.setattr(launcher_module, "_PROC", tmp_path / "no-proc")
    (run_dir / PROCESS_NAME).write_text(json.dumps({**record, "started": None}))
    assert unstarted_reason(run_dir) == gone
    (run_dir / PROCESS_NAME).write_text(json.dumps({**record, "pid": os.getpid()}))
    assert unstarted_reason(run_dir) == ""


def _rewrite_run(run_dir, steps: int, status: str) -> None:
    """Delete ``run_dir`` and write another run there (another strategy, no alphas or
    genotype), as ``rm -rf`` and a new ``nasbench search --run-dir`` would."""
    import shutil

    from nasbench.runs import RunStore

    shutil.rmtree(run_dir, ignore_errors=True)
    with RunStore.create(run_dir, {"strategy": "gdas"}, environment={}) as store:
        store.set_status("running")
        for step in range(steps):
            store.log_metrics(step, 0, "train", {"arch_loss": 2.0 - step / steps})
            store.set_progress(step, steps, 0, 1)
        store.set_status(status)


def _shown(monitor: RunMonitor) -> tuple:
    """What a monitor shows: status line, progress, curves, alphas, genotype, messages."""
    curves = [(t.name, list(t.x)) for t in monitor.history_figure.data]
    return (monitor.status, monitor.status_text.value, monitor.progress.max,
            monitor.progress.value, curves, len(monitor.alpha_figure.data),
            monitor.genotype_title.value, monitor.genotype.value, monitor.warnings.value,
            monitor.error.value, monitor.title.value)  # fmt: skip


def test_a_run_deleted_and_searched_again_in_its_folder_is_read_afresh(fake_run, fds_to):
    monitor = RunMonitor(fake_run)
    assert monitor.run.config["strategy"] == "darts" and monitor.alpha_figure.data
    seen = []
    monitor.observe(lambda change: seen.append(change["new"]), "status")
    _rewrite_run(fake_run, steps=5, status="stopped")
    assert monitor.poll_once() == "stopped"
    assert monitor.run.config["strategy"] == "gdas"
    assert _shown(monitor) == _shown(RunMonitor(fake_run))  # nothing of the deleted run left
    assert [name for name, _ in _shown(monitor)[4]] == ["train arch_loss"]
    # A view following the status (the workbench) sees the new run end, even with the
    # same status as the deleted one.
    assert seen == ["starting", "stopped"]
    assert not [fd for fd in fds_to(fake_run) or [] if fd.endswith("(deleted)")]


def test_a_deleted_run_is_closed_and_said_deleted_until_a_new_one_is_written_there(
    fake_run, fds_to
):
    import shutil

    monitor = RunMonitor(fake_run)
    drawn = [len(t.x) for t in monitor.history_figure.data]
    shutil.rmtree(fake_run)
    for _ in range(2):  # said once, and still said by the next polls
        assert monitor.poll_once() == "deleted" and monitor.status == "deleted"
        assert monitor.run is None and fds_to(fake_run) in (None, [])  # disk space freed
        assert f"run folder {fake_run} was moved or deleted" in monitor.error.value
        assert "holds no run store" not in monitor.error.value
        assert "finished" not in monitor.status_text.value and "deleted" in monitor.title.value
        assert monitor.stop_button.disabled and monitor.report_button.disabled
    assert monitor.write_report() is None
    assert [len(t.x) for t in monitor.history_figure.data] == drawn  # the last view stays
    _rewrite_run(fake_run, steps=3, status="failed")
    assert monitor.poll_once() == "failed" and monitor.run.config["strategy"] == "gdas"
    assert _shown(monitor) == _shown(RunMonitor(fake_run))


def test_the_slow_poll_of_an_ended_run_notices_it_deleted_then_searched_again(
    fake_run, monkeypatch, fds_to
):
    import asyncio
    import shutil

    from widgets import monitor as monitor_module

    monkeypatch.setattr(monitor_module, "IDLE_POLL_S", 0.02)

    async def main() -> list:
        monitor = RunMonitor(fake_run, interval=0.01)
        seen = [(monitor.status, monitor._idle_poller.active)]
        shutil.rmtree(fake_run)
        await _wait_for(monitor, "deleted")
        seen.append((monitor.status, monitor._idle_poller.active, fds_to(fake_run) or []))
        _rewrite_run(fake_run, steps=4, status="stopped")
        await _wait_for(monitor, "stopped")
        seen.append((monitor.status, monitor.run.config["strategy"], monitor.progress.max))
        monitor.close()
        return seen

    assert asyncio.run(main()) == [
        ("finished", True),
        ("deleted", True, []),  # closed, and still watched for a new run in its folder
        ("stopped", "gdas", 4),
    ]


def _status_run(folder, name: str, status: str, retrain_killed: bool = False):
    """A run whose last status is ``status``, 2 of 40 steps done at a measured pace (so a
    Monitor could show an ETA); ``retrain_killed``: a retrain of it began and logged no end."""
    from nasbench.runs import RunStore

    run_dir = folder / name
    with RunStore.create(run_dir, {"strategy": "darts"}, environment={}) as store:
        store.set_status("running")
        store.set_progress(1, 40, 0, 4)
        time.sleep(0.02)
        store.set_progress(2, 40, 0, 4)
        if status != "running":
            store.set_status(status)
        if retrain_killed:
            store.log_event("retrain_started", {})
    return run_dir


@pytest.mark.parametrize(
    ("stored", "retrain_killed", "announced", "writer", "shown"),
    [
        ("running", False, "retrain", False, "retraining"),  # a killed run's retrain loading
        ("running", False, "retrain", True, "retraining"),  # ... holding it, before its event
        ("stopped", True, "resume", True, "resuming"),  # a resume after a killed retrain
        ("stopped", False, "resume", False, "resuming"),  # a resume loading torch
        ("finished", False, "retrain", False, "retraining"),
        ("running", False, None, False, "killed"),
        ("running", False, None, True, "running"),  # a live search
        ("stopped", True, None, True, "retraining"),  # a retrain that announces nothing
        ("stopped", False, None, False, "stopped"),
    ],
)
def test_monitor_report_runs_and_stop_agree_on_a_runs_status(
    tmp_path, capsys, stored, retrain_killed, announced, writer, shown
):
    """The Monitor shows what `nasbench runs` and the report show, from the stored status,
    the writer lock and the announcement alike; Stop is enabled exactly where `nasbench
    stop` asks a search to stop, and only a search shows an ETA."""
    from nasbench.cli import main
    from nasbench.runs import RunStore
    from nasbench.runs.store import announce_writer, withdraw_writer
    from nasbench.runs.summary import run_summaries
    from nasbench.viz.report import write_report

    run_dir = _status_run(tmp_path / "runs", "r", stored, retrain_killed)
    held = None
    try:
        if announced:
            assert announce_writer(run_dir, announced) is not None
        if writer:
            held = RunStore.open(run_dir)
        monitor = RunMonitor(run_dir)
        try:
            text = re.sub("<[^>]+>", "", monitor.status_text.value)
            assert monitor.status == shown and text.startswith(shown), text
            assert ("ETA" in text) == (shown == "running")
            stop_enabled = not monitor.stop_button.disabled
        finally:
            monitor.close()
        assert run_summaries(tmp_path / "runs")[0]["status"] == shown
        page = write_report(run_dir, tmp_path / "r.html").read_text(encoding="utf-8")
        assert f'<b class="status-{shown}">{shown}</b>' in page
        capsys.readouterr()
        assert (main(["stop", str(run_dir)]) == 0) == stop_enabled, capsys.readouterr()
    finally:
        if held is not None:
            held.close()
        withdraw_writer()


def test_an_idle_monitor_notices_a_resume_or_retrain_announced_before_it_writes(tmp_path):
    """A Monitor on a run that is over polls slowly, only when its store files change; a
    resume or retrain loading torch writes nothing for seconds, yet its announcement is
    noticed at the next slow poll: resuming with Stop enabled, or retraining without."""
    from nasbench.runs.store import announce_writer, withdraw_writer

    run_dir = _status_run(tmp_path / "runs", "r", "stopped")
    monitor = RunMonitor(run_dir)
    try:
        assert monitor.status == "stopped" and monitor.stop_button.disabled
        assert monitor._check_idle() and monitor.status == "stopped"  # nothing changed
        for command, shown in (("resume", "resuming"), ("retrain", "retraining")):
            try:
                assert announce_writer(run_dir, command) is not None
                monitor._check_idle()
                assert monitor.status == shown
                assert monitor.stop_button.disabled is (shown == "retraining")
            finally:
                withdraw_writer()
            monitor._check_idle()
            assert monitor.status == "stopped" and monitor.stop_button.disabled
    finally:
        monitor.close()


def test_a_monitor_on_a_relative_folder_keeps_its_run_after_the_kernel_changes_folder(
    tmp_path, monkeypatch
):
    from nasbench.runs import RunStore

    with RunStore.create(tmp_path / "runs" / "r", {"strategy": "darts"}, environment={}) as store:
        store.log_metrics(1, 0, "train", {"loss": 0.5})
        store.set_status("finished")
    monkeypatch.chdir(tmp_path)
    monitor = RunMonitor("runs/r")  # as the workbench names runs: relative to the notebook
    assert monitor.status == "finished"
    monkeypatch.chdir(tmp_path / "runs")  # %cd in the notebook
    assert monitor.poll_once() == "finished" and monitor.run is not None
    assert monitor.error.value == ""
    monitor.close()


def test_a_live_search_recorded_with_another_kind_of_start_mark_reads_starting(
    tmp_path, monkeypatch
):
    import json
    import os
    import socket

    from widgets import launcher as launcher_module
    from widgets.launcher import CONFIG_NAME, PROCESS_NAME
    from widgets.monitor import unstarted_reason

    run_dir = tmp_path / "darts-1"
    run_dir.mkdir()
    (run_dir / CONFIG_NAME).write_text('{"strategy": "darts"}')
    record = {"pid": os.getpid(), "started": "linux:12345", "host": socket.gethostname()}
    (run_dir / PROCESS_NAME).write_text(json.dumps(record))
    # Read back where psutil gives the mark (no /proc): a live pid, a mark of another kind.
    monkeypatch.setattr(launcher_module, "_process_start", lambda pid: "psutil:1700000000.0")
    assert unstarted_reason(run_dir) == ""
    monkeypatch.setattr(launcher_module, "_process_start", lambda pid: "linux:99999")
    assert f"(pid {os.getpid()}) ended" in unstarted_reason(run_dir)  # the pid was reused


def test_a_folder_with_no_run_to_draw_shows_no_figures_that_promise_one(tmp_path, fake_run):
    from widgets.launcher import CONFIG_NAME

    failed = tmp_path / "failed_launch"  # a launch that failed its checks: no store
    failed.mkdir()
    (failed / CONFIG_NAME).write_text('{"strategy": "darts"}')
    (failed / "stderr.log").write_text("nasbench: error: no dataset x; pick another.\n")
    monitor = RunMonitor(fake_run)
    figures = (monitor.alpha_plot, monitor.history_plot, monitor.cell_type, monitor.alpha_scale)
    for folder in (failed, tmp_path / "gone"):  # ...and a folder deleted since it was listed
        monitor.watch(folder)
        assert monitor.status == "failed"
        assert [view.layout.display for view in figures] == ["none"] * 4, folder.name
    monitor.watch(fake_run)  # a run again: its figures are shown
    assert [view.layout.display for view in figures] == [None] * 4
    assert monitor.alpha_figure.data


def test_a_run_folder_renamed_while_shown_is_said_moved_or_deleted(fake_run):
    monitor = RunMonitor(fake_run)
    fake_run.rename(fake_run.with_name("renamed"))
    assert monitor.poll_once() == "deleted"
    assert f"run folder {fake_run} was moved or deleted" in monitor.error.value
    assert "(moved or deleted)" in monitor.title.value
