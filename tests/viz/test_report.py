"""Tests for nasbench.viz.report: one self-contained HTML page per run."""

from __future__ import annotations

import re

import numpy as np
import pytest
from plotly.offline import get_plotlyjs

from nasbench.errors import NasbenchError
from nasbench.runs import RunStore
from nasbench.spaces.zoo import zoo
from nasbench.viz.report import write_report

OPS = ("max_pool_3x3", "skip_connect", "sep_conv_3x3")
EDGES = ("0->2", "1->2", "0->3", "1->3", "2->3")
BUNDLE_HEAD = get_plotlyjs()[:200]
SCRIPT_SRC = re.compile(r"<script[^>]*\bsrc\s*=", re.I)


def make_run(run_dir, eigen: bool):
    genotype = zoo["PC-DARTS"]
    rng = np.random.default_rng(0)
    with RunStore.create(run_dir, {"strategy": {"name": "darts"}, "seed": 0}, environment={}) as s:
        s.set_status("running")
        for step in (0, 4, 8):
            for cell in ("normal", "reduce"):
                s.log_alphas(step, step // 4, cell, rng.normal(size=(5, 3)), OPS, EDGES)
        for step in range(1, 9):
            s.log_metrics(step, (step - 1) // 4, "train", {"loss": 1.0 / step, "acc": 0.5})
        for epoch in range(2):
            val = {"val_loss": 0.5, "val_acc": 0.7, "parameter_free_ops": 2.0}
            if eigen:
                val["hessian_eigenvalue"] = 0.2 + epoch
            s.log_metrics(4 * epoch + 4, epoch, "val", val)
            s.log_genotype(epoch, 4 * epoch + 4, genotype.to_json(), val)
        s.log_event("early_stop", {"epoch": 1, "return_epoch": 0}, epoch=1)
        s.set_progress(8, 8, 1, 2)  # the last step of epoch index 1 of 2
        s.set_status("finished")
    return run_dir


def test_report_is_one_self_contained_file(tmp_path):
    run_dir = make_run(tmp_path / "run", eigen=True)
    path = write_report(run_dir)
    assert path == run_dir / "report.html"
    assert sorted(
        p.name for p in run_dir.iterdir() if p.name.startswith((".report", "report"))
    ) == ["report.html"]  # no temporary file left behind
    text = path.read_text(encoding="utf-8")
    assert text.count(BUNDLE_HEAD) == 1
    assert not SCRIPT_SRC.search(text)  # nothing to fetch: no <script src=...>
    assert "<svg" in text and "sep_conv_3x3" in text
    divs = re.findall(r'<div id="(figure-\d+)"', text)
    # alphas x2 cells, beta-less; heatmap x2; animation x2; timeline; history; collapse watch
    assert divs == [f"figure-{i}" for i in range(9)]
    for heading in ("Alpha trajectories", "Alpha animation", "Genotype timeline", "Collapse watch"):
        assert f"<h2>{heading}</h2>" in text
    assert "finished" in text and "strategy.name" in text and "early_stop" in text
    assert "<td>early_stop</td><td>2</td><td>" in text  # the event of epoch index 1
    # Results first, the configuration folded at the end; epochs counted from 1.
    order = [text.index(h) for h in ("<h2>Run</h2>", "<h2>Final genotype</h2>",
             "<h2>Final alphas (last snapshot)</h2>", "<h2>Alpha trajectories</h2>",
             "<h2>Events</h2>", "Configuration</h2></summary>")]  # fmt: skip
    assert order == sorted(order)
    assert "<th>val_acc</th><td><b>0.7</b> (best 0.7)</td>" in text
    assert "<th>epoch</th><td>2 of 2</td>" in text  # the monitor's "epoch 2/2"
    # RobustDARTS stopped at epoch 2 and returned epoch 1's cell: the block says which.
    assert "Derived after epoch 1, step 4. The search stopped early after epoch 2" in text
    assert path.stat().st_mode & 0o777 == 0o644


def test_report_lists_stops_resumes_and_failures(tmp_path):
    run_dir = tmp_path / "run"
    with RunStore.create(run_dir, {"strategy": {"name": "darts"}}, environment={}) as store:
        store.set_status("running")
        store.set_status("stopped", "stop requested")
        store.set_status("running")
        store.set_status("failed", "DivergenceError: the loss is NaN")
    text = write_report(run_dir).read_text(encoding="utf-8")
    history = text[text.index("<h2>Run history</h2>") : text.index("<h2>Events</h2>")]
    statuses = re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td>", history)
    assert statuses == [
        ("created", ""),
        ("running", ""),
        ("stopped", "stop requested"),
        ("running (resumed)", ""),
        ("failed", "DivergenceError: the loss is NaN"),
    ]


def test_report_without_eigenvalues_leaves_the_collapse_watch_out(tmp_path):
    run_dir = make_run(tmp_path / "run", eigen=False)
    text = write_report(run_dir, tmp_path / "out" / "r.html").read_text(encoding="utf-8")
    assert "Collapse watch" not in text
    assert text.count(BUNDLE_HEAD) == 1


def test_empty_run_gives_a_readable_page_without_plotly(tmp_path):
    with RunStore.create(tmp_path / "empty", {}, environment={}):  # still starting
        text = write_report(tmp_path / "empty").read_text(encoding="utf-8")
    assert "no alpha snapshots yet" in text and "no derived genotype yet" in text
    assert "no metrics yet" in text
    assert BUNDLE_HEAD not in text and "<svg" not in text
    # Its process gone before a first step: the page says it ended, not "yet".
    text = write_report(tmp_path / "empty").read_text(encoding="utf-8")
    assert "no alpha snapshots yet" not in text and "no derived genotype yet" not in text
    assert "this run derived no genotype: its search ended before it derived one" in text
    assert "its search process is gone (killed" in text


def test_missing_run_is_a_one_line_error(tmp_path):
    with pytest.raises(NasbenchError) as err:
        write_report(tmp_path / "nope")
    assert "\n" not in str(err.value)


def test_an_autohas_run_has_a_hyper_parameter_policy_section_and_darts_none(tmp_path, autohas_run):
    text = write_report(autohas_run).read_text(encoding="utf-8")
    section = text[text.index("<h2>Hyper-parameter policy</h2>") : text.index("<h2>Run history")]
    (div,) = re.findall(r'<div id="(figure-\d+)"', section)
    assert "lr=0.1" in section and "batch_size=32" in section  # the traces of the figure
    assert text.count(BUNDLE_HEAD) == 1
    darts = write_report(make_run(tmp_path / "darts", eigen=False)).read_text(encoding="utf-8")
    assert "Hyper-parameter policy" not in darts and "lr=0.1" not in darts


def test_the_report_shows_the_last_retrain_next_to_its_baselines(tmp_path):
    run_dir = make_run(tmp_path / "run", eigen=False)
    models = {
        "searched": {"params": 3854, "macs": 554352, "test": {"acc": 0.81, "auc": 0.875},
                     "best_epoch": 2, "epochs_run": 4, "wall_s": 12.5},
        "resnet18": {"params": 11_170_000, "macs": 1_800_000, "test": {"acc": 0.79, "auc": 0.9},
                     "best_epoch": 3, "epochs_run": 4, "wall_s": 80.0},
    }  # fmt: skip
    with RunStore.open(run_dir) as store:
        store.log_event("retrain_finished", {"dataset": "breastmnist", "models": {}})
        store.log_event("retrain_finished", {"dataset": "breastmnist", "models": models,
                                             "train_config": {"epochs": 4, "seed": 3}})  # fmt: skip
    text = write_report(run_dir).read_text(encoding="utf-8")
    section = text[text.index("<h2>Retrained from scratch") : text.index("<h2>Final alphas")]
    assert "on breastmnist (epochs 4, seed 3)" in section
    assert "The searched cell was retrained 2 times; the last is shown" in section
    assert "<th>test acc</th><th>test auc</th><th>params</th>" in section
    assert "<tr><td>searched cell</td><td>0.81</td><td>0.875</td><td>3854</td>" in section
    assert "<td>resnet18</td><td>0.79</td><td>0.9</td>" in section
    assert "<td>4 (3)</td>" in section  # epochs run, and the kept epoch counted from 1
    assert "Retrained" not in write_report(make_run(tmp_path / "plain", eigen=False)).read_text()

    # A later retrain of a genotype given to it is its own table, never "searched cell".
    given = {"searched": {"params": 72498, "test": {"acc": 0.6, "auc": 0.7}, "epochs_run": 1}}
    with RunStore.open(run_dir) as store:
        store.log_event("retrain_finished", {"dataset": "breastmnist", "models": given,
                                             "genotype": zoo["DARTS_V2"].to_dict(),
                                             "genotype_source": "given"})  # fmt: skip
    text = write_report(run_dir).read_text(encoding="utf-8")
    section = text[text.index("<h2>Retrained from scratch") : text.index("<h2>Final alphas")]
    assert "<tr><td>searched cell</td><td>0.81</td><td>0.875</td><td>3854</td>" in section
    assert "<tr><td>given genotype</td><td>0.6</td><td>0.7</td><td>72498</td>" in section
    assert "not the cell this search returned" in section
    assert "72498" not in section[: section.index("given genotype")]


def test_a_retrain_that_did_not_finish_is_named_above_the_last_that_did(tmp_path):
    run_dir = make_run(tmp_path / "run", eigen=False)
    with RunStore.open(run_dir) as store:
        store.log_event("retrain_started", {})
        store.log_event("retrain_failed", {"error": "ConfigError: <no> data"})
    section = write_report(run_dir).read_text(encoding="utf-8")
    section = section[
        section.index("<h2>Retrained from scratch") : section.index("<h2>Final alphas")
    ]
    assert "The retrain did not finish (ConfigError: &lt;no&gt; data); no retrain has." in section
    models = {"searched": {"params": 38, "test": {"acc": 0.8}, "epochs_run": 1}}
    with RunStore.open(run_dir) as store:
        store.log_event("retrain_started", {})
        store.log_event("retrain_finished", {"dataset": "breastmnist", "models": models})
    text = write_report(run_dir).read_text(encoding="utf-8")
    assert "did not finish" not in text and "<td>searched cell</td><td>0.8</td>" in text
    with RunStore.open(run_dir) as store:
        store.log_event("retrain_started", {})
        store.log_event("retrain_failed", {"error": "interrupted (Ctrl-C)"})
    text = write_report(run_dir).read_text(encoding="utf-8")
    told = "The latest retrain did not finish (interrupted (Ctrl-C)); the tables below are"
    assert told in text and text.index(told) < text.index("<td>searched cell</td><td>0.8</td>")


def test_an_older_retrain_is_told_apart_by_its_genotype(tmp_path):
    run_dir = make_run(tmp_path / "run", eigen=False)
    model = {"searched": {"params": 7, "test": {"acc": 0.5}, "epochs_run": 1}}
    with RunStore.open(run_dir) as store:  # payloads written before genotype_source
        for genotype in (zoo["PC-DARTS"], zoo["DARTS_V2"]):
            store.log_event("retrain_finished", {"dataset": "breastmnist", "models": model,
                                                 "genotype": genotype.to_dict()})  # fmt: skip
    text = write_report(run_dir).read_text(encoding="utf-8")
    assert "<td>searched cell</td>" in text and "<td>given genotype</td>" in text


def test_best_is_the_lowest_where_lower_is_better_and_absent_where_unknown(tmp_path):
    run_dir = tmp_path / "recon"
    with RunStore.create(run_dir, {"strategy": {"name": "darts"}}, environment={}) as store:
        store.set_status("running")
        for step, (nmse, psnr) in enumerate([(0.1844, 20.0), (0.1841, 21.0), (0.1837, 20.5)]):
            store.log_metrics(step + 1, step, "val", {"val_nmse": nmse, "val_psnr": psnr,
                                                      "parameter_free_ops": 2.0})  # fmt: skip
        store.set_status("finished")
    text = write_report(run_dir).read_text(encoding="utf-8")
    assert "<th>val_nmse</th><td><b>0.1837</b> (best 0.1837)</td>" in text
    assert "<th>val_psnr</th><td><b>20.5</b> (best 21)</td>" in text
    assert "<th>parameter_free_ops</th><td><b>2</b></td>" in text


def test_a_killed_run_reads_killed_in_the_report_and_in_list_runs(tmp_path):
    from nasbench.runs import list_runs

    run_dir = tmp_path / "runs" / "gone run"
    store = RunStore.create(run_dir, {"strategy": "darts"}, environment={})
    store.set_status("running")
    store.close()  # the writer is gone without a last status: as after a SIGKILL
    text = write_report(run_dir).read_text(encoding="utf-8")
    assert '<b class="status-killed">killed</b>' in text
    assert f"nasbench resume &#x27;{run_dir}&#x27;" in text  # quoted: a shell can run it
    assert 'class="status-running"' not in text
    assert list_runs(tmp_path / "runs")["status"].tolist() == ["killed"]


def test_a_resume_or_retrain_announced_reads_so_in_the_report_before_it_writes(tmp_path):
    """A `nasbench resume` or `retrain` loading torch (announced, no writer lock yet): the
    report says resuming or retraining, as `nasbench runs` does, not stopped or killed."""
    from nasbench.runs.store import announce_writer, withdraw_writer

    stopped, killed = tmp_path / "runs" / "a", tmp_path / "runs" / "b"
    for run_dir, status in ((stopped, "stopped"), (killed, "running")):
        with RunStore.create(run_dir, {"strategy": "darts"}, environment={}) as store:
            store.set_status(status)
    for run_dir, command, shown in ((stopped, "resume", "resuming"),
                                    (killed, "retrain", "retraining")):  # fmt: skip
        try:
            assert announce_writer(run_dir, command) is not None
            text = write_report(run_dir).read_text(encoding="utf-8")
            assert f'<b class="status-{shown}">{shown}</b>' in text
            assert "it was killed" not in text
        finally:
            withdraw_writer()
    assert '<b class="status-killed">killed</b>' in write_report(killed).read_text()


def test_a_discrete_search_report_shows_its_candidates_not_empty_alpha_notes(tmp_path):
    from nasbench import search
    from nasbench.config import SearchConfig

    config = SearchConfig(strategy="random", evaluator="table", space={"name": "nb201"},
                          max_evaluations=6, seed=1)  # fmt: skip
    search(config, tmp_path / "random")
    text = write_report(tmp_path / "random").read_text(encoding="utf-8")
    headings = re.findall(r"<h2>([^<]*)</h2>", text)
    assert "Candidates evaluated (best first)" in headings and "Best score so far" in headings
    assert not any("lpha" in h for h in headings)  # no alphas in a discrete search
    overview = text[: text.index("<h2>Final genotype")]
    assert "no metrics yet" not in text and "<th>epoch</th>" not in overview
    from nasbench.runs import load

    run = load(tmp_path / "random")
    scores = run.candidates["metrics.score"].dropna()
    best = f"{scores.max():.4g}"
    assert f"<th>best score</th><td><b>{best}</b>" in text
    assert "<th>evaluations</th><td>6" in text
    table = text[text.index("Candidates evaluated") : text.index("<h2>Best score so far")]
    ranked = re.findall(r"<tr><td>(\d+)</td><td>\d+</td><td>([^<]*)</td>", table)
    assert [rank for rank, _ in ranked] == [str(i) for i in range(1, 7)]
    assert ranked[0][1] == best and [float(s) for _, s in ranked] == sorted(
        (float(s) for _, s in ranked), reverse=True
    )
    run.close()


def test_a_figure_that_fails_is_a_note_and_the_rest_of_the_report_stands(tmp_path, monkeypatch):
    from nasbench.viz import report

    def broken(run, **options):
        raise TypeError("unexpected rows")

    monkeypatch.setattr(report, "plot_history", broken)
    make_run(tmp_path / "run", eigen=True)
    text = write_report(tmp_path / "run").read_text(encoding="utf-8")
    assert "this figure could not be drawn (TypeError: unexpected rows)." in text
    assert "<h2>Final genotype</h2>" in text and "<h2>Collapse watch</h2>" in text


def test_a_report_path_that_cannot_be_written_is_a_one_line_error(tmp_path):
    make_run(tmp_path / "run", eigen=False)
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(NasbenchError, match="a-file is a file, not a folder") as err:
        write_report(tmp_path / "run", tmp_path / "a-file" / "report.html")
    assert "\n" not in str(err.value)
    assert "(path= in Python, --out on the command line)" in str(err.value)


def test_a_multi_objective_search_reports_its_pareto_front(tmp_path):
    from nasbench import search
    from nasbench.config import SearchConfig
    from nasbench.evaluation.objectives import pareto_front
    from nasbench.runs import load
    from nasbench.viz.report import _figure_sections

    config = SearchConfig(
        strategy="nsga2",
        strategy_config={"population_size": 6},
        evaluator="table",
        space={"name": "nb201"},
        max_evaluations=18,
        seed=1,
    )
    search(config, tmp_path / "run")
    run = load(tmp_path / "run")
    sections = dict(_figure_sections(run))
    (figure,) = sections["Pareto front"]
    done = run.candidates[run.candidates["status"] == "done"]
    values = np.column_stack([done["metrics.score"], done["cost.params"]])
    front = pareto_front(values, ["max", "min"])
    assert len(figure.data[1].x) == len(front)
    assert "score (max) vs params (min)" in figure.layout.title.text


def test_a_reconstruction_run_reports_its_test_scores_and_own_cascades(tmp_path):
    from nasbench.spaces import create_space

    genotype = create_space("unrolled").sample(np.random.default_rng(0))
    config = {"strategy": "gdas", "space": {"name": "unrolled", "skeleton": {"cascades": 2}}}
    with RunStore.create(tmp_path / "run", config, {}) as store:
        store.log_metrics(1, 0, "val", {"val_psnr": 20.0})
        store.log_genotype(0, 1, genotype.to_json(), {"val_psnr": 20.0})
        store.log_metrics(2, 0, "test", {"searched_dist_mm": 3.5})  # a result: once
        for episode in range(3):  # per-episode rows are not results
            store.log_metrics(2, episode, "test", {"metanas_acc": 0.5 + episode / 10})
        store.log_metrics(2, 0, "test_summary", {"metanas_acc_mean": 0.6})
        store.set_status("finished")
    page = write_report(tmp_path / "run").read_text()
    sections = re.findall(r"<h2>(.*?)</h2>", page)
    assert "Test results of the search" in sections and "Genotype timeline" not in sections
    results = page[page.index("Test results of the search") :].split("</section>")[0]
    assert "searched_dist_mm" in results and "3.5" in results
    assert "metanas_acc_mean" in results and "metanas_acc<" not in results
    assert sorted(set(re.findall(r"DC \d", page))) == ["DC 1", "DC 2"]


def test_an_older_retrain_of_the_last_cell_of_an_early_stopped_run_is_the_searched_one(tmp_path):
    # Retrains before genotype_source trained the last row; the early stop returned epoch 0.
    run_dir = make_run(tmp_path / "run", eigen=False)
    model = {"searched": {"params": 7, "test": {"acc": 0.5}, "epochs_run": 1}}
    with RunStore.open(run_dir) as store:
        store.log_genotype(2, 12, zoo["DARTS_V2"].to_json(), {})
        store.log_event("retrain_finished", {"dataset": "breastmnist", "models": model,
                                             "genotype": zoo["DARTS_V2"].to_dict()})  # fmt: skip
    text = write_report(run_dir).read_text(encoding="utf-8")
    assert "<td>searched cell</td>" in text and "given genotype" not in text


def test_the_retrain_caption_names_its_test_subset_its_recipe_and_other_data(tmp_path):
    run_dir = tmp_path / "run"
    with RunStore.create(run_dir, {"strategy": {"name": "darts"}},
                         environment={"data_fingerprint": "searched-files"}) as store:  # fmt: skip
        store.set_status("finished")
        model = {"searched": {"params": 7, "test": {"acc": 0.5}, "epochs_run": 1}}
        train = {"epochs": 1, "batch_size": 8, "lr": 0.025, "limit": 32, "seed": 0,
                 "test_limit": 16, "augment": False, "class_weight": "balanced",
                 "label_smoothing": 0.1, "ema_decay": 0.999, "tta_flip": False,
                 "precision": "bf16", "device": "cpu", "optimizer": "sgd"}  # fmt: skip
        store.log_event("retrain_finished", {
            "dataset": "breastmnist", "models": model, "train_config": train,
            "skeleton": {"n_cells": 3, "channels": 16}, "splits": {"test": 16},
            "data_fingerprint": "other-files"})  # fmt: skip
    text = write_report(run_dir).read_text(encoding="utf-8")
    section = text[text.index("<h2>Retrained from scratch") :]
    caption = re.search(r"<p>The searched cell trained from scratch[^<]*</p>", section)[0]
    assert "(epochs 1, batch_size 8, lr 0.025, limit 32, seed 0, augment False, " in caption
    assert "class_weight balanced, ema_decay 0.999, label_smoothing 0.1, precision bf16" in caption
    assert "cells 3 (searched 8))" in caption  # channels as searched, so not named
    for default in ("tta_flip", "optimizer", "device", "channels"):
        assert default not in caption
    assert "test metrics on 16 test images (test_limit 16, not the whole split)" in caption
    assert "test-split metrics" not in caption
    from nasbench.viz.report import _tested_on

    # A limit past the split's size took all of it: the whole test split.
    assert _tested_on({"test_limit": 100000}, {"test": 156}) == "test-split metrics"
    assert "This retrain read other data than the search" in section

    with RunStore.open(run_dir) as store:  # the search's files: no note, the whole test split
        store.log_event("retrain_finished", {
            "dataset": "breastmnist", "models": model, "train_config": {"epochs": 2},
            "data_fingerprint": "searched-files"})  # fmt: skip
    section = write_report(run_dir).read_text(encoding="utf-8")
    assert "read other data" not in section and "(epochs 2); test-split metrics" in section


def _discrete_run(run_dir, scores):
    """A random search's store: one candidate per score; None marks a failed one."""
    from nasbench.spaces import NB201Space

    space = NB201Space()
    rng = np.random.default_rng(0)
    with RunStore.create(run_dir, {"strategy": "random"}, {}) as store:
        for cid, score in enumerate(scores):
            genotype = space.sample(rng).to_json()
            if score is None:
                reason = f"training candidate {cid} diverged at epoch 1: the loss is nan"
                store.log_candidate(cid, genotype, {}, {"wall_s": 1.0}, "failed",
                                    info={"diverged": reason})  # fmt: skip
            else:
                store.log_candidate(cid, genotype, {"score": score}, {"wall_s": 1.0})
        store.set_status("stopped", "stop_requested")


def test_the_report_counts_and_lists_failed_candidates(tmp_path):
    _discrete_run(tmp_path / "r", [0.5, None, 0.7, None, 0.6])
    text = write_report(tmp_path / "r").read_text()
    assert "5 candidates evaluated, 2 failed; the best 3 by score" in text
    assert "Failed candidates: their evaluation diverged." in text
    assert "training candidate 1 diverged at epoch 1" in text
    assert "training candidate 3 diverged at epoch 1" in text


def test_the_report_of_a_run_whose_every_candidate_failed_says_so(tmp_path):
    _discrete_run(tmp_path / "r", [None, None])
    text = write_report(tmp_path / "r").read_text()
    assert "2 candidates evaluated, 2 failed; none trained, so there is no best yet." in text
    assert "training candidate 0 diverged" in text and "one per epoch." not in text


def test_the_overview_counts_failed_candidates_as_evaluations(tmp_path):
    # A failed (diverged) candidate spent an evaluation of the budget: the overview counts
    # it as the candidates block does.
    _discrete_run(tmp_path / "r", [0.5, None, 0.7, None, 0.6])
    text = write_report(tmp_path / "r").read_text()
    assert "<th>evaluations</th><td>5</td>" in text
    assert "<th>best score</th><td><b>0.7</b>" in text
    _discrete_run(tmp_path / "f", [None, None])
    overview = write_report(tmp_path / "f").read_text()
    assert "<th>evaluations</th><td>2</td>" in overview and "<th>best score</th>" not in overview


def test_a_localisation_search_reports_its_search_curves_and_agents(tmp_path):
    # A marl-gdas run logs its curves under phase "search" (no train/val rows): the
    # report draws them and the per-agent figure, not a note that it has no metrics.
    with RunStore.create(tmp_path / "run", {"strategy": "marl-gdas"}, {}) as store:
        for r in range(2):
            store.log_metrics(
                2 * (r + 1), r, "search",
                {"td_loss": 1.0 / (r + 1), "tau": 5.0 - r, "agent0_reward": 0.2 * r,
                 "agent0_dist_vox": 3.0 - r, "agent1_reward": 0.1, "agent1_dist_vox": 2.0},
            )  # fmt: skip
        store.log_metrics(4, 1, "test", {"searched_dist_mm": 2.5})
        store.set_status("finished")
    page = write_report(tmp_path / "run").read_text()
    sections = re.findall(r"<h2>(.*?)</h2>", page)
    assert "Search history" in sections and "Per-agent reward and distance" in sections
    assert "Training history" not in sections and "none of the metrics" not in page
    search = page[page.index("<h2>Search history") :].split("</section>")[0]
    assert "search td_loss" in search and "search tau" in search
    assert "agent0_reward" not in search  # the agents have their own figure
    agents = page[page.index("<h2>Per-agent reward") :].split("</section>")[0]
    assert "search round" in agents and "plotly" in agents


def test_a_retrain_of_a_cell_the_resumed_search_moved_on_from_says_so(tmp_path):
    # Retrained while stopped (epoch 0's cell), then resumed: the search returns another.
    run_dir = make_run(tmp_path / "run", eigen=False)  # its early stop returns epoch 0
    model = {"searched": {"params": 7, "test": {"acc": 0.5}, "epochs_run": 1}}
    told = "The retrained cell is not the cell this search returns"
    with RunStore.open(run_dir) as store:
        store.log_event("retrain_finished", {"dataset": "breastmnist", "models": model,
                                             "genotype": zoo["PC-DARTS"].to_dict(),
                                             "genotype_source": "searched"})  # fmt: skip
    assert told not in write_report(run_dir).read_text(encoding="utf-8")  # the returned cell
    with RunStore.open(run_dir) as store:  # the resumed search's own early stop, on a new cell
        store.log_genotype(2, 12, zoo["DARTS_V2"].to_json(), {})
        store.log_event("early_stop", {"epoch": 2, "return_epoch": 2}, epoch=2)
    text = write_report(run_dir).read_text(encoding="utf-8")
    section = text[text.index("<h2>Retrained from scratch") : text.index("<h2>Final alphas")]
    assert section.count(told) == 1
    assert "<td>searched cell</td>" in section and "given genotype" not in section


def test_a_report_write_killed_mid_way_leaves_a_temp_file_the_next_write_removes(
    tmp_path, monkeypatch
):
    import os
    import subprocess
    import sys
    import time

    from nasbench.tempfiles import writer_tag

    run_dir = make_run(tmp_path / "run", eigen=False)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid no process has now: a writer the OOM killer ended
    live = writer_tag()  # this process, on this machine
    host = live.partition("-")[2]
    names = {
        "killed": f".report.html.{dead.pid}-{host}.abcd1234.tmp",
        "live": f".report.html.{live}.efgh5678.tmp",
        "old_stale": ".report.html.k3j2l1xy.tmp",  # earlier versions: no pid
        "old_recent": ".report.html.q9w8e7rt.tmp",
        "other_target": f".other.html.{dead.pid}-{host}.abcd1234.tmp",
    }
    for name in names.values():
        (run_dir / name).write_text("torn")
    hour_ago = time.time() - 3600
    os.utime(run_dir / names["old_stale"], (hour_ago, hour_ago))
    write_report(run_dir)
    left = {key for key, name in names.items() if (run_dir / name).exists()}
    assert left == {"live", "old_recent", "other_target"}

    # This write's own temp file names its writer, so a later write can tell it is dead.
    seen = []

    def killed(src, dst):
        seen.append(os.path.basename(src))
        raise SystemExit(9)  # stands for the kill: the file is not moved into place

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(SystemExit):
        write_report(run_dir)
    assert re.fullmatch(rf"\.report\.html\.{live}\.[a-z0-9_]{{8}}\.tmp", seen[0])
