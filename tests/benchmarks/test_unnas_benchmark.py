"""benchmarks/unnas.py: the command line's budgets, and a --quick run that fills both
parts, keeps correlations in range and writes its tables and figure."""

from __future__ import annotations

import math

import pandas as pd
import pytest


def test_default_budget_trains_on_every_labelled_image_with_balanced_loss(load_benchmark):
    bench = load_benchmark("unnas")
    settings, args = bench.parse_settings([])
    assert settings.limit is None and settings.val_limit is None and settings.test_limit is None
    assert (settings.class_weight, settings.select, settings.target) == ("balanced", "auc", "auc")
    assert args.parts == "ab" and args.figure is None
    labelled = bench._train_config(settings, 1)
    pretext = bench._train_config(settings, 0, labelled=False)
    assert (labelled.epochs, labelled.class_weight, labelled.select, labelled.seed) == (
        settings.epochs,
        "balanced",
        "auc",
        1,
    )
    # Pretext tasks: their own epochs, no class weights, kept by validation loss
    # (in-painting is a regression, it has no AUC).
    assert (pretext.epochs, pretext.class_weight, pretext.select) == (
        settings.pretext_epochs,
        "none",
        "loss",
    )


def test_old_budget_flag_restores_the_first_sizes_and_flags_override_them(load_benchmark):
    bench = load_benchmark("unnas")
    old, _ = bench.parse_settings(["--old-budget"])
    assert (old.limit, old.val_limit, old.test_limit, old.epochs) == (128, 64, 64, 3)
    assert (old.class_weight, old.select, old.target) == ("none", "loss", "acc")
    changed, _ = bench.parse_settings(
        ["--old-budget", "--limit", "all", "--epochs", "9", "--pretext-limit", "50"]
    )
    assert (changed.limit, changed.epochs, changed.pretext_limit, changed.val_limit) == (
        None,
        9,
        50,
        64,
    )


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--figure", "plot.png"], "end the name with .html"),
        (["--parts", "c"], "use a, b or ab"),
        (["--limit", "0"], "positive integer or 'all'"),
    ],
)
def test_bad_command_lines_are_refused_with_the_reason(load_benchmark, capsys, argv, message):
    bench = load_benchmark("unnas")
    with pytest.raises(SystemExit):
        bench.parse_settings(argv)
    assert message in capsys.readouterr().err


def test_pretext_images_never_outnumber_the_labelled_ones(load_benchmark):
    bench = load_benchmark("unnas")
    settings = bench.UnnasSettings(
        **{**bench.QUICK, "limit": 40, "val_limit": 10, "test_limit": None, "pretext_limit": 20}
    )
    labelled = bench.labelled_splits(settings, "synthetic")
    pretext = bench.labelled_splits(settings, "synthetic", pretext=True)
    assert [len(labelled[s]) for s in ("train", "val")] == [40, 10]
    assert [len(pretext[s]) for s in ("train", "val", "test")] == [20, 10, 20]
    assert len(labelled["test"]) > 20  # None: the whole test split


@pytest.mark.slow
def test_quick_run_fills_both_parts_and_writes_tables_and_figure(load_benchmark, capsys, tmp_path):
    bench = load_benchmark("unnas")
    figure = tmp_path / "corr.html"
    prefix = tmp_path / "run"
    argv = ["--quick", "--archs", "3", "--csv", str(prefix), "--figure", str(figure)]
    assert bench.main(argv) == 0
    printed = capsys.readouterr().out
    assert "(a) rank correlation" in printed and "(b) retrained" in printed
    assert "majority-class cells" in printed and "s CPU" in printed
    scores = pd.read_csv(f"{prefix}_scores.csv")
    corr = pd.read_csv(f"{prefix}_correlations.csv")
    assert len(scores) == 3 and scores.genotype.nunique() == 3
    assert scores["rotation"].between(0, 1).all() and (scores["inpainting"] <= 0).all()
    for column in ("target_auc", "target_auc_seed1", "target_acc", "target_acc_seed1"):
        assert scores[column].between(0, 1).all(), column
    # AUC first (the target metric), then ACC; each with the pretext tasks and the ceiling.
    assert corr.metric.tolist() == ["auc"] * 4 + ["acc"] * 4
    assert corr.pretext.tolist()[:4] == ["rotation", "jigsaw", "inpainting", bench.CEILING]
    for column in ("spearman_rho", "kendall_tau"):
        assert all(math.isnan(v) or -1 <= v <= 1 for v in corr[column])
    for column in ("spearman_p", "kendall_p"):
        assert all(math.isnan(v) or 0 <= v <= 1 for v in corr[column])
    html = figure.read_text()
    assert "plotly" in html and "rotation" in html and "seed 1" in html
    assert "labelled test ACC" in (tmp_path / "corr-acc.html").read_text()
    comparison = pd.read_csv(f"{prefix}_comparison.csv")
    assert comparison.cell.tolist() == ["unnas", "darts", "random"]
    assert comparison.test_acc.between(0, 1).all()
    assert (comparison.set_index("cell").search_s.loc[["unnas", "darts"]] > 0).all()
    summary = pd.read_csv(f"{prefix}_summary.csv").set_index("cell")
    assert summary.loc["random", "acc_vs_random"] == 0.0


def test_figure_has_one_panel_per_task_and_one_file_per_dataset(load_benchmark, tmp_path):
    bench = load_benchmark("unnas")
    settings = bench.UnnasSettings(**bench.QUICK)
    rows = [
        {
            "dataset": name,
            "rotation": 0.5 + i / 10,
            "jigsaw": 0.1 * i,
            "inpainting": -1.0 / (i + 1),
            "target_auc": 0.6 + i / 20,
            "target_auc_seed1": 0.7 - i / 20,
        }
        for name in ("breastmnist", "pneumoniamnist")
        for i in range(4)
    ]
    written = bench.write_figure(pd.DataFrame(rows), settings, tmp_path / "fig.html")
    assert [p.name for p in written] == ["fig-breastmnist.html", "fig-pneumoniamnist.html"]
    html = written[0].read_text()
    # rotation rises with the target (rho 1), the second seed falls with it (rho -1).
    assert "rotation: ρ = 1.00" in html and "seed 1: ρ = -1.00" in html
