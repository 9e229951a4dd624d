"""The monitor's loss and metric curves: one legend that tells every curve by its style, and
curves that read as a freshly opened monitor's after a resume discarded rows."""

from __future__ import annotations

import json

from nasbench.runs import RunStore
from widgets.monitor import RunMonitor, metric_label


def _style(trace) -> tuple:
    return trace.line.color, trace.line.dash, trace.line.width, trace.mode


def test_every_legend_entry_differs_in_style_and_keeps_it_as_metrics_come(tmp_path):
    run_dir = tmp_path / "run"
    with RunStore.create(run_dir, {"strategy": "darts"}, environment={}) as store:
        store.set_status("running")
        for step in (0, 1):
            store.log_metrics(step, 0, "train", {"loss": 1.0, "acc": 0.5})
        store.log_metrics(1, 0, "val", {"val_acc": 0.6})
    monitor = RunMonitor(run_dir)
    fig = monitor.history_figure
    seen = {t.name: (t, _style(t)) for t in fig.data}
    # Metrics and phases arrive mid-run in both panels: a new loss before a new score, a
    # known metric in a new phase, the test phase.
    batches = [
        [(2, "train", {"loss": 0.9, "arch_loss": 0.8, "acc": 0.5, "auc": 0.7}),
         (2, "val", {"val_loss": 0.7, "val_auc": 0.6}), (2, "test", {"test_acc": 0.6})],
        [(3, "train", {"dice": 0.3}), (3, "val", {"val_dice": 0.4}),
         (3, "test", {"test_dice": 0.5, "test_auc": 0.6})],
    ]  # fmt: skip
    for batch in batches:
        with RunStore.open(run_dir) as store:
            for step, phase, metrics in batch:
                store.log_metrics(step, 0, phase, metrics)
        monitor.poll_once()
        # A curve once drawn keeps its trace and its style.
        for trace, style in seen.values():
            assert fig.data[[t.name for t in fig.data].index(trace.name)] is trace
            assert _style(trace) == style, trace.name
        seen.update({t.name: (t, _style(t)) for t in fig.data if t.name not in seen})
    assert len(fig.data) == 12  # train 5, val 4, test 3
    # The two panels share one legend: no two of its entries look alike.
    styles = [_style(t) for t in fig.data]
    assert len(set(styles)) == len(styles), styles
    # A metric has one dash in both panels, and no other metric has it.
    dashes = {}
    for trace in fig.data:
        dashes.setdefault(metric_label(*trace.meta), set()).add(trace.line.dash)
    assert all(len(d) == 1 for d in dashes.values()), dashes
    assert len({d.pop() for d in dashes.values()}) == len(dashes) == 5
    assert _style(seen["train loss"][0]) != _style(seen["train acc"][0])
    # The legend lists each panel's curves under the panel's title; a click hides one curve.
    for trace in fig.data:
        panel = "loss" if trace.yaxis == "y" else "metrics"
        assert (trace.legendgroup, trace.legendgrouptitle.text) == (panel, panel), trace.name
    assert (fig.layout.legend.traceorder, fig.layout.legend.groupclick) == (
        "grouped", "toggleitem")  # fmt: skip


def _curves(monitor: RunMonitor) -> tuple:
    """The history and agent figures as plain JSON, and whether the agents' one is shown."""
    return (
        json.loads(monitor.history_figure.to_json()),
        json.loads(monitor.agent_figure.to_json()),
        monitor.agent_plot.layout.display,
    )


def _log(store, steps, scale: float) -> None:
    """Train rows at ``steps``, an agent's from step 2; val rows (and a second agent's) at
    the steps that end an epoch."""
    for step in steps:
        store.log_metrics(step, step // 4, "train", {"loss": scale / (step + 1), "acc": 0.1})
        if step >= 2:
            store.log_metrics(step, step // 4, "search", {"agent0_reward": scale * step})
        if step % 4 == 3:
            store.log_metrics(step, step // 4, "val", {"val_loss": scale, "val_acc": 0.5})
            store.log_metrics(step, step // 4, "search", {"agent1_reward": scale})


def test_after_a_resume_discards_rows_a_poll_shows_what_a_fresh_monitor_does(tmp_path, monkeypatch):
    from widgets import monitor as monitor_module

    monkeypatch.setattr(monitor_module, "MAX_LIVE_POINTS", 4)  # thinned curves as well
    run_dir = tmp_path / "run"
    with RunStore.create(run_dir, {"strategy": "darts"}, environment={}) as store:
        store.set_status("running")
        _log(store, range(0, 3), 1.0)
    monitor = RunMonitor(run_dir)
    # Each write, then a poll; each resume discards the rows after its checkpoint's step
    # (RunStore.discard_after) and logs those steps again, with other values.
    writes = [
        lambda s: _log(s, range(3, 9), 1.0),  # val and agent1 rows from step 3 on
        lambda s: s.discard_after(2),  # the resume from step 2: val and agent1 rows all go
        lambda s: _log(s, range(3, 6), 2.0),  # ...and come back, other values
        # A resume from step 4 logs as many points again, up to the same last step.
        lambda s: (s.discard_after(4), _log(s, [5], 3.0)),
        lambda s: _log(s, range(6, 12), 2.0),
        lambda s: s.discard_after(1),  # no agent's row is left
    ]
    for index, write in enumerate(writes):
        with RunStore.open(run_dir) as store:
            write(store)
        monitor.poll_once()
        fresh = RunMonitor(run_dir)
        assert _curves(monitor) == _curves(fresh), index
        # ...and the browser was sent it: nothing drawn is left unpushed.
        assert monitor.history_plot.push() == "none" and monitor.agent_plot.push() == "none"
        fresh.close()
    names = [t.name for t in monitor.history_figure.data]
    assert names == ["train loss", "train acc"] and len(monitor.history_figure.data[0].x) == 2
    assert monitor.agent_figure.data == () and monitor.agent_plot.layout.display == "none"


def test_a_monitor_opened_on_a_loaded_run_watches_its_folder(tmp_path):
    import nasbench

    run_dir = tmp_path / "r"
    with RunStore.create(run_dir, {"strategy": "darts"}, {}) as store:
        store.log_metrics(1, 0, "train", {"loss": 0.5})
    with nasbench.runs.load(run_dir) as run:
        monitor = RunMonitor(run)
    assert monitor.run_dir == str(run_dir) and str(run_dir) in monitor.title.value
