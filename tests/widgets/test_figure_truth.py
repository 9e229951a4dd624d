"""What the views show is the run's data: GDAS's temperature is not drawn as weights,
a retrain's epochs are not drawn on the search's step axis, and values are shown with
decimals enough to tell them apart."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.runs import RunStore, load


def _add_tau_and_a_retrain(run_dir) -> None:
    with RunStore.open(run_dir) as store:
        for step, tau in ((0, 10.0), (2, 0.1)):
            store.log_alphas(step, 0, "global", np.array([[tau]]), ["tau"], ["tau"],
                             weights=np.array([[tau]]), kind="tau")  # fmt: skip
        for epoch in (1, 2, 3):
            store.log_metrics(epoch, epoch - 1, "retrain", {"val_acc": 0.9, "train_loss": 0.1})
            store.log_metrics(epoch, epoch - 1, "cnn", {"val_acc": 0.8})


def test_the_monitor_shows_neither_tau_as_weights_nor_retrain_epochs(fake_run):
    from widgets.monitor import RunMonitor

    _add_tau_and_a_retrain(fake_run)
    monitor = RunMonitor(fake_run)
    assert "global" not in monitor.cell_type.options
    names = {trace.name for trace in monitor.history_figure.data}
    assert names == {"train acc", "train loss", "val acc"}
    assert all(".4g" in t.hovertemplate for t in monitor.alpha_figure.data)


def test_the_explorer_offers_no_tau_cell(fake_run):
    from widgets.alpha_explorer import AlphaExplorer

    _add_tau_and_a_retrain(fake_run)
    explorer = AlphaExplorer(fake_run)
    assert "global" not in explorer.cell_type.options and len(explorer.cell_type.options) >= 1


def test_the_run_browser_compares_the_search_curve_alone(fake_run):
    from widgets.run_browser import RunBrowser

    _add_tau_and_a_retrain(fake_run)
    browser = RunBrowser(fake_run.parent)
    browser.metric.value = "val_acc"
    browser.select.value = (str(fake_run),)
    (trace,) = browser.figure.data
    val = load(fake_run).history.query("phase == 'val' and name == 'val_acc'")
    assert list(trace.x) == val["step"].tolist() and list(trace.y) == val["value"].tolist()


def test_tau_is_drawn_as_the_temperature_it_is(fake_run):
    from nasbench.viz import plot_alphas

    _add_tau_and_a_retrain(fake_run)
    fig = plot_alphas(load(fake_run), cell_type="global", kind="tau")
    assert "temperature tau" in fig.layout.title.text
    assert "Architecture weights" not in fig.layout.title.text
    assert "tau %{y:" in fig.data[0].hovertemplate


def test_heatmap_text_tells_close_weights_apart():
    import pandas as pd

    from nasbench.viz.alphas import _heatmap, value_format

    matrix = pd.DataFrame([[0.12449, 0.12539], [0.125, 0.1251]], columns=["a", "b"])
    assert _heatmap(matrix, "weight").texttemplate == "%{z:.4f}"
    assert value_format([0.1, 0.9]) == ".2f" and value_format([1.0, 1.0]) == ".2f"
    assert value_format([-0.0043, 0.0033]) == ".3f"


def test_proxy_correlations_count_each_evaluated_candidate_once():
    import pandas as pd

    from nasbench.viz.proxies import plot_proxy_vs_true

    frame = pd.DataFrame(
        {"synflow": [1.0, 2.0, 3.0, 4.0, 5.0, 5.0], "val_acc": [0.1, 0.3, 0.2, 0.5, 0.4, 0.4],
         "status": ["done"] * 5 + ["cached"]}
    )  # fmt: skip
    fig = plot_proxy_vs_true(frame, "synflow", "val_acc")
    assert "(n = 5)" in fig.layout.title.text and len(fig.data[0].x) == 5


@pytest.mark.parametrize("seeds, said", [(1, "one seed"), (3, "mean ± std over up to 3 seeds")])
def test_best_so_far_title_counts_its_seeds(tmp_path, seeds, said):
    from nasbench import search
    from nasbench.config import SearchConfig
    from nasbench.viz import plot_best_so_far

    runs = []
    for seed in range(seeds):
        config = SearchConfig(strategy="random", evaluator="table", space={"name": "nb201"},
                              max_evaluations=5, seed=seed)  # fmt: skip
        runs.append(load(search(config, tmp_path / f"run{seed}").run_dir))
    assert said in plot_best_so_far(runs).layout.title.text


def test_history_and_alpha_panels_name_their_y_axes(fake_run):
    from nasbench.viz import plot_alphas, plot_history

    run = load(fake_run)
    history = plot_history(run)
    titles = {history.layout[k].title.text for k in history.layout if k.startswith("yaxis")}
    assert {"loss", "acc"} <= titles
    alphas = plot_alphas(run, cell_type="normal")
    assert alphas.layout.yaxis.title.text == "softmax weight"
