"""The monitor across the kinds of run a search logs: each run's own cell types, the
symbol of each kind of matrix, and a discrete search's place for loss curves."""

from __future__ import annotations

from nasbench.runs import RunStore
from tests.widgets.test_alpha_explorer import kinds_run
from widgets.monitor import RunMonitor


def test_a_newly_watched_run_offers_exactly_its_own_cell_types(tmp_path, fake_run):
    monitor = RunMonitor(fake_run)
    assert monitor.cell_type.options == ("normal", "reduce")
    monitor.watch(kinds_run(tmp_path / "recon", "recon"))  # logs the "normal" cell only
    assert monitor.cell_type.options == ("normal",)
    assert {t.meta for t in monitor.alpha_figure.data} == {"0->1"}
    monitor.watch(fake_run)
    assert monitor.cell_type.options == ("normal", "reduce")


def test_a_growing_run_adds_the_cell_types_it_logs_later(tmp_path):
    run_dir = kinds_run(tmp_path / "recon", "recon")
    monitor = RunMonitor(run_dir)
    with RunStore.open(run_dir) as store:
        store.log_alphas(2, 1, "agent1", [[0.0, 1.0]], ["conv_3x3", "res_conv_3x3"], ["0->1"])
    monitor.poll_once()
    assert monitor.cell_type.options == ("normal", "agent1")


def test_scale_betas_read_beta_and_the_values_toggle_names_what_is_drawn(tmp_path, fake_run):
    monitor = RunMonitor(fake_run)
    monitor.watch(kinds_run(tmp_path / "trellis", "trellis"))
    monitor.cell_type.value = "trellis"
    layout = monitor.alpha_figure.layout
    assert "beta" in layout.title.text and layout.yaxis.title.text == "β − 1/K"
    assert monitor.alpha_scale.options == (("β − 1/K", "deviation"), ("β", "absolute"))
    monitor.alpha_scale.value = "absolute"
    assert monitor.alpha_figure.layout.yaxis.title.text == "β"
    monitor.cell_type.value = "cell"  # the cell's alphas, still as absolute weights
    assert monitor.alpha_scale.value == "absolute"
    assert monitor.alpha_scale.options == (("α − 1/K", "deviation"), ("α", "absolute"))
    assert monitor.alpha_figure.layout.yaxis.title.text == "α"
    monitor.watch(kinds_run(tmp_path / "dints", "dints"))
    monitor.alpha_scale.value = "deviation"
    assert monitor.alpha_figure.layout.yaxis.title.text == "p − p₀"
    assert monitor.alpha_scale.options[0] == ("p − p₀", "deviation")


def test_a_discrete_run_shows_a_note_where_a_differentiable_one_draws_its_curves(
    tmp_path, fake_run
):
    monitor = RunMonitor(kinds_run(tmp_path / "evolution", "evolution"))
    assert monitor.candidate_plot.layout.display is None
    assert monitor.history_plot.layout.display == "none"
    assert "score per candidate" in monitor.history_note.value
    monitor.watch(fake_run)
    assert monitor.history_plot.layout.display is None and monitor.history_note.value == ""
    # A live DARTS search whose first rows have not come yet keeps its (filling) figure.
    starting = tmp_path / "starting"
    with RunStore.create(starting, {"strategy": "darts"}, environment={}) as store:
        store.set_status("running")
    monitor.watch(starting)
    assert monitor.history_plot.layout.display is None and monitor.history_note.value == ""


def test_a_growing_run_keeps_the_cell_type_being_viewed(fake_run):
    monitor = RunMonitor(fake_run)
    monitor.cell_type.value = "reduce"
    drawn = []
    real = monitor._scale_alphas
    monitor._scale_alphas = lambda cell: drawn.append(cell) or real(cell)
    with RunStore.open(fake_run) as store:  # e.g. a multi-agent run adding cell types
        store.log_alphas(9, 1, "agent1", [[0.0, 1.0]], ["conv_3x3", "res_conv_3x3"], ["0->1"])
    monitor.poll_once()
    assert monitor.cell_type.options == ("normal", "reduce", "agent1")
    assert monitor.cell_type.value == "reduce" and drawn == []  # drawn already, not again
    assert monitor._drawn_alpha[0] == "reduce"
