"""benchmarks/metrics.py: a row per set and size, its AUC checked against scikit-learn's."""

from __future__ import annotations

import re
import sys

import pytest
import torch


def test_the_script_prints_a_timed_row_for_every_set_and_size(load_benchmark, capsys):
    bench = load_benchmark("metrics")
    bench.main(["--repeats", "1", "--batch", "16", "--split", "50"])
    out = capsys.readouterr().out
    rows = re.findall(r"^(binary 2|multi-class 11|multi-label 14) +(\d+) +([\d.]+) +([\d.]+) +"
                      r"([\d.]+)x$", out, re.M)  # fmt: skip
    assert [(name, int(n)) for name, n, *_ in rows] == [
        (name, n) for name in ("binary 2", "multi-class 11", "multi-label 14") for n in (16, 50)
    ]
    assert all(float(ratio) > 0 for *_, ratio in rows)


def test_the_script_stops_when_the_two_aucs_differ(load_benchmark, monkeypatch):
    bench = load_benchmark("metrics")
    # A baseline that is off by a little must not pass as the same AUC.
    real = bench.sklearn_metrics
    monkeypatch.setattr(bench, "sklearn_metrics",
                        lambda *a: {**real(*a), "auc": real(*a)["auc"] + 1e-9})  # fmt: skip
    with pytest.raises(SystemExit, match=r"binary n=16: nasbench .* != scikit-learn"):
        bench.main(["--repeats", "1", "--batch", "16", "--split", "50"])


def pairwise_auc(positive: torch.Tensor, score: torch.Tensor) -> float:
    """The AUC by its definition: the share of (positive, negative) pairs ranked right,
    a tie counting half."""
    pos, neg = score[positive], score[~positive]
    right = (pos[:, None] > neg[None, :]).double() + 0.5 * (pos[:, None] == neg[None, :]).double()
    return float(right.mean())


def test_the_baseline_is_the_mean_auc_over_the_classes(load_benchmark):
    bench = load_benchmark("metrics")
    logits, targets = bench.batch("multi-class", 4, 40, seed=3)
    result = bench.sklearn_metrics(logits, targets, "multi-class")
    prob = torch.softmax(logits, dim=1)
    expected = sum(pairwise_auc(targets == k, prob[:, k]) for k in range(4)) / 4
    assert result["auc"] == pytest.approx(expected, abs=1e-12)
    assert result["acc"] == float((prob.argmax(1) == targets).double().mean())


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--repeats", "0"], "argument --repeats: must be at least 1, got 0"),
        (["--batch", "0"], "argument --batch: must be at least 2, got 0"),
        (["--batch", "1"], "argument --batch: must be at least 2, got 1"),
        (["--split", "-5"], "argument --split: must be at least 2, got -5"),
    ],
)
def test_sizes_that_rank_nothing_are_refused_in_one_line(
    load_benchmark, monkeypatch, capsys, argv, message
):
    bench = load_benchmark("metrics")
    monkeypatch.setattr(sys, "argv", ["metrics.py"])
    with pytest.raises(SystemExit) as exc:
        bench.main(argv)
    assert exc.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"metrics.py: error: {message}"
