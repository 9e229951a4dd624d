"""benchmarks/volumes.py: its summary and verdict tables."""

from __future__ import annotations

from tests.benchmarks.conftest import main_block_error, usage_error


def _rows(searched_acc: float, searched_auc: float, cnn_auc: float) -> list[dict]:
    common = {"seed": 0, "majority_acc": 0.75, "params": 10, "search_s": 0.0, "train_s": 1.0,
              "class_weight": "balanced"}  # fmt: skip
    return [
        {**common, "model": "searched", "test_acc": searched_acc, "test_auc": searched_auc,
         "pred_majority": 1.0 if searched_acc == 0.75 else 0.8},
        {**common, "model": "cnn", "test_acc": 0.8, "test_auc": cnn_auc, "pred_majority": 0.8},
    ]  # fmt: skip


def test_verdict_names_the_collapse_and_the_win(load_benchmark):
    bench = load_benchmark("volumes")
    collapsed = bench.verdict(_rows(0.75, 0.6, 0.7))[0]
    assert "ACC 0.750 vs majority 0.750 (does not beat)" in collapsed
    assert "AUC 0.600 vs CNN 0.700 (does not beat)" in collapsed
    assert "predicted majority for 100% of cases" in collapsed
    won = bench.verdict(_rows(0.95, 0.99, 0.9))[0]
    assert "(beats)" in won and "does not" not in won


def test_summary_keeps_one_row_per_model_with_the_majority_rate(load_benchmark):
    bench = load_benchmark("volumes")
    table = bench.summarise(_rows(0.95, 0.99, 0.9)).set_index("model")
    assert list(table.index) == ["searched", "cnn"]
    assert table.loc["searched", "test_auc"] == "0.990 ± 0.000"
    assert table.loc["searched", "pred_majority"] == 0.8
    assert table.loc["cnn", "majority_acc"] == 0.75
    args = bench.parse_args(["--quick"])
    assert (args.train, args.retrain_epochs, args.class_weight) == (32, 1, "auto")


def test_bad_names_sizes_and_quick_overrides_are_one_line(load_benchmark, capsys, tmp_path):
    bench = load_benchmark("volumes")
    (tmp_path / "file").write_text("")
    for argv, says in (
        (["--strategy", "bogus"], "error: --strategy: Unknown strategy 'bogus'"),
        (["--step-strategies", "gdas", "bogus"], "error: --step-strategies: Unknown strategy"),
        (["--search-steps", "0"], "error: argument --search-steps: must be at least 1, got 0"),
        (["--train", "0"], "error: argument --train: must be at least 1, got 0"),
        (["--batch-size", "-1"], "error: argument --batch-size: must be at least 1, got -1"),
        (["--positive", "nan"], "error: argument --positive: must be a number between 0 and 1"),
        (["--quick", "--train", "64"], "error: --quick sets --train itself; drop one"),
        (["--runs", str(tmp_path / "file")], "is not a folder; give a folder for the runs"),
    ):
        assert says in usage_error(capsys, lambda a=argv: bench.parse_args(a)), argv


def test_a_project_error_while_running_is_one_line(monkeypatch, capsys, tmp_path):
    """The __main__ block: a NasbenchError from the search is `volumes.py: error: ...`."""
    err = main_block_error(monkeypatch, capsys, "volumes.py", ["--quick", "--runs", str(tmp_path)])
    assert err == "volumes.py: error: the data went missing mid-run"
