"""benchmarks/evaluators.py and benchmarks/joint_search.py at a tiny size: every row is
filled, the ground truth correlates perfectly with itself, costs are positive."""

from __future__ import annotations

import math

import pytest


@pytest.mark.slow
def test_the_evaluator_table_has_every_evaluator_with_its_cost(load_benchmark):
    bench = load_benchmark("evaluators")
    settings = bench.BenchSettings(
        n=4, channels=4, n_cells=3, limit=32, train_epochs=1, smash_epochs=1, ws_epochs=1
    )
    table, scores = bench.run_benchmark(settings, log=lambda line: None)
    names = list(table["evaluator"])
    assert names[-1] == "from scratch (1 ep), seed vs seed" and "smash (1 ep)" in names
    assert {f"proxy:{p}" for p in bench.PROXY_NAMES} <= set(names)
    assert len(scores) == 4 and scores["genotype"].nunique() == 4
    assert scores["scratch_test_auc"].between(0, 1).all()
    rows = table.set_index("evaluator")
    assert (
        rows.loc["smash (1 ep)", "once_s"] > 0 and rows.loc["weight_sharing (1 ep)", "once_s"] > 0
    )
    for name in ("smash (1 ep)", "weight_sharing (1 ep)", "proxy:synflow"):
        for column in ("spearman_rho", "spearman_rho_auc"):
            rho = rows.loc[name, column]
            assert math.isnan(rho) or -1 <= rho <= 1
        assert rows.loc[name, "total_s"] >= rows.loc[name, "once_s"] > -1e-9


@pytest.mark.slow
def test_the_joint_comparison_trains_each_pick_at_equal_budget(load_benchmark):
    bench = load_benchmark("joint_search")
    settings = bench.JointSettings(seeds=1, budget=4, epochs=1, n_cells=2, channels=4, limit=32)
    frame = bench.run_comparison(settings, log=lambda line: None)
    assert list(frame["method"]) == ["joint", "two_stage", "two_stage_bo"]
    assert frame["test_acc"].between(0, 1).all() and (frame["search_s"] > 0).all()
    stage = frame.set_index("method").loc["two_stage"]
    assert stage["lr"] in (0.01, 0.05, 0.1) and stage["batch_size"] in (16, 32, 64)
    bo = frame.set_index("method").loc["two_stage_bo"]
    assert bo["cell"] == stage["cell"] and bo["images"] > 0  # one architecture stage, two HP stages
    assert set(bench.summarise(frame).index) == {"joint", "two_stage", "two_stage_bo"}
