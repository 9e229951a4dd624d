"""benchmarks/unnas.py --quick: both parts fill every row, correlations are in range."""

from __future__ import annotations

import math

import pytest


@pytest.mark.slow
def test_quick_run_fills_both_parts(load_benchmark, capsys):
    bench = load_benchmark("unnas")
    assert bench.main(["--quick", "--archs", "3"]) == 0
    printed = capsys.readouterr().out
    assert "(a) rank correlation" in printed and "(b) retrained" in printed
    settings = bench.UnnasSettings(**{**bench.QUICK, "archs": 3})
    tables = bench.run(settings, log=lambda line: None)
    scores, corr = tables["scores"], tables["correlations"]
    assert len(scores) == 3 and scores.genotype.nunique() == 3
    assert scores["rotation"].between(0, 1).all() and (scores["inpainting"] <= 0).all()
    assert corr.pretext.tolist()[:3] == ["rotation", "jigsaw", "inpainting"]
    for rho in corr.spearman_rho:
        assert math.isnan(rho) or -1 <= rho <= 1
    comparison = tables["comparison"]
    assert comparison.cell.tolist() == ["unnas", "darts", "random"]
    assert comparison.test_acc.between(0, 1).all()
    assert (comparison.set_index("cell").search_s.loc[["unnas", "darts"]] > 0).all()
    summary = tables["summary"].set_index("cell")
    assert summary.loc["random", "acc_vs_random"] == 0.0
