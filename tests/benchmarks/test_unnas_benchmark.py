"""benchmarks/unnas.py: the command line's budgets, and a --quick run that fills both
parts, keeps correlations in range and writes its tables and figure."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from tests.benchmarks.conftest import main_block_error, usage_error


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


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--datasets", "bogus"], "error: --datasets bogus: Unknown dataset 'bogus'"),
        (["--datasets", ","], "error: --datasets names no dataset; give comma-separated names"),
        (["--archs", "0"], "error: argument --archs: must be at least 1, got 0"),
        (["--seeds", "0"], "error: argument --seeds: must be at least 1, got 0"),
        (["--epochs", "-1"], "error: argument --epochs: must be at least 1, got -1"),
        (["--batch-size", "0"], "error: argument --batch-size: must be at least 1, got 0"),
        (["--lr", "nan"], "error: argument --lr: must be a finite number above 0, got nan"),
    ],
)  # fmt: skip
def test_bad_names_and_counts_are_one_line(load_benchmark, capsys, argv, says):
    bench = load_benchmark("unnas")
    assert says in usage_error(capsys, lambda: bench.parse_settings(argv))


def test_missing_data_under_root_is_one_line(load_benchmark, capsys, tmp_path):
    bench = load_benchmark("unnas")
    argv = ["--root", str(tmp_path), "--datasets", "breastmnist"]
    err = usage_error(capsys, lambda: bench.parse_settings(argv))
    assert err.endswith(f"--datasets breastmnist: no breastmnist.npz in {tmp_path}; pass --root "
                        "<folder holding it>")  # fmt: skip


def test_unwritable_outputs_are_refused_before_any_training(load_benchmark, capsys, tmp_path):
    bench = load_benchmark("unnas")
    (tmp_path / "file").write_text("")
    err = usage_error(capsys, lambda: bench.parse_settings(["--figure", str(tmp_path)]))
    assert err.endswith(f"argument --figure: {tmp_path} is a folder; give a file name in it")
    prefix = str(tmp_path / "file" / "run")
    err = usage_error(capsys, lambda: bench.parse_settings(["--csv", prefix]))
    assert "argument --csv: cannot write" in err
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_tables_and_figure_are_written_whole(load_benchmark, monkeypatch, tmp_path, capsys):
    bench = load_benchmark("unnas")
    scores = pd.DataFrame(
        {"dataset": "synthetic", "rotation": [0.5, 0.6, 0.7], "jigsaw": [0.1, 0.2, 0.3],
         "inpainting": [-1.0, -0.5, -0.2], "target_auc": [0.6, 0.7, 0.8],
         "target_auc_seed1": [0.6, 0.8, 0.7], "target_acc": [0.5, 0.6, 0.7],
         "target_acc_seed1": [0.5, 0.7, 0.6], "majority": [False, False, True]}
    )  # fmt: skip
    tables = {"scores": scores, "correlations": pd.DataFrame(columns=bench.CORRELATION_COLUMNS),
              "summary": pd.DataFrame()}  # fmt: skip
    monkeypatch.setattr(bench, "run", lambda settings, parts: tables)
    monkeypatch.setattr(bench, "_format", lambda frame: "")
    folder = tmp_path / "out"
    argv = ["--quick", "--parts", "a", "--csv", str(folder / "run"), "--figure",
            str(folder / "fig.html")]  # fmt: skip
    assert bench.main(argv) == 0
    assert sorted(p.name for p in folder.iterdir()) == [
        "fig-acc.html", "fig.html", "run_scores.csv"
    ]  # fmt: skip
    assert pd.read_csv(folder / "run_scores.csv").rotation.tolist() == [0.5, 0.6, 0.7]
    assert "plotly" in (folder / "fig.html").read_text()


def test_a_project_error_while_running_is_one_line(monkeypatch, capsys):
    """The __main__ block: a NasbenchError from a run is `unnas.py: error: ...`."""
    err = main_block_error(monkeypatch, capsys, "unnas.py", ["--quick"], "nasbench.data.load")
    assert err.splitlines()[-1] == ("unnas.py: error: the data went missing mid-run")
