"""benchmarks/joint_search.py: its sizes checked before the comparison, its rows written
whole. (The comparison itself, at a tiny size: tests/benchmarks/test_evaluators_benchmark.py.)"""

from __future__ import annotations

import sys

import pandas as pd
import pytest


@pytest.fixture
def bench(load_benchmark, monkeypatch):
    module = load_benchmark("joint_search")
    monkeypatch.setattr(sys, "argv", ["joint_search.py"])
    return module


def refusal(bench, argv, monkeypatch, capsys) -> str:
    monkeypatch.setattr(bench, "run_comparison", lambda *_, **__: pytest.fail("compared"))
    with pytest.raises(SystemExit) as exc:
        bench.main(argv)
    assert exc.value.code == 2
    return capsys.readouterr().err.splitlines()[-1]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--seeds", "0"], "argument --seeds: must be at least 1, got 0"),
        (["--hp-epochs", "0"], "argument --hp-epochs: must be at least 1, got 0"),
        (["--epochs", "-2"], "argument --epochs: must be at least 1, got -2"),
        (["--limit", "0"], "argument --limit: must be at least 1, got 0"),
        (
            ["--seeds", "2", "--budget", "1"],
            "argument --budget: must be at least 2, got 1: two_stage splits it into an "
            "architecture stage of budget // 2 searches and an HP stage of the rest, each "
            "at least 1",
        ),
    ],
)
def test_sizes_the_comparison_cannot_use_are_refused_in_one_line(
    bench, monkeypatch, capsys, argv, message
):
    assert refusal(bench, argv, monkeypatch, capsys) == f"joint_search.py: error: {message}"


def test_a_csv_that_cannot_be_written_is_refused_before_the_comparison(
    bench, monkeypatch, capsys, tmp_path
):
    line = refusal(bench, ["--csv", str(tmp_path)], monkeypatch, capsys)
    assert line == (
        f"joint_search.py: error: argument --csv: {tmp_path} is a folder; give a file name in it"
    )
    assert list(tmp_path.iterdir()) == []


def test_the_rows_are_written_whole_in_a_new_folder(bench, monkeypatch, capsys, tmp_path):
    frame = pd.DataFrame(
        {"method": ["joint", "two_stage"], "seed": [0, 0], "cell": ["a", "b"], "lr": [0.05, 0.1],
         "test_acc": [0.5, 0.6], "test_auc": [0.5, 0.7], "val_acc": [0.5, 0.6],
         "images": [10.0, 10.0], "search_s": [1.0, 2.0]}
    )  # fmt: skip
    monkeypatch.setattr(bench, "run_comparison", lambda *_, **__: frame)
    out = tmp_path / "new" / "rows.csv"
    assert bench.main(["--csv", str(out)]) == 0
    assert pd.read_csv(out).equals(frame)
    assert [p.name for p in out.parent.iterdir()] == ["rows.csv"]
