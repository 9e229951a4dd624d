"""benchmarks/fewshot.py: the quick comparison runs and prints every learner with an interval."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest


@pytest.mark.slow
def test_quick_comparison_gives_three_learners_and_the_paired_difference(load_benchmark, tmp_path):
    bench = load_benchmark("fewshot")
    # The quick settings cut further: every test episode adapts three learners, and
    # the table, intervals and report lines do not depend on how many there are (>= 2).
    quicker = replace(bench.QUICK, meta_steps=1, n_query=2, test_episodes=3)
    out = bench.compare(quicker, tmp_path / "run")
    assert set(out["table"]) == {"metanas", "reptile", "pooled_darts"}
    for mean, ci in out["table"].values():
        assert 0.0 <= mean <= 1.0 and math.isfinite(ci) and ci >= 0.0
    mean, ci = out["diff"]
    assert -1.0 <= mean <= 1.0 and math.isfinite(ci)
    lines = bench.report(quicker, out)
    assert lines[0].startswith("2-way 5-shot") and len(lines) == 6
    assert "metanas - reptile (paired)" in lines[4]


def test_the_benchmark_config_validates_for_the_shared_medmnist_sets(load_benchmark):
    bench = load_benchmark("fewshot")
    config = bench.search_config(bench.FewShotSettings())
    assert config.strategy == "metanas"
    assert config.strategy_config["meta_test_dataset"] == "breastmnist"
    assert config.strategy_config["test_episodes"] >= 200


def test_the_alpha_step_settings_reach_the_validated_strategy_config(load_benchmark):
    bench = load_benchmark("fewshot")
    settings = bench.FewShotSettings(inner_arch_optimizer="adam", test_arch_lr_scale=0.0)
    config = bench.search_config(settings).validate()
    assert config.strategy_config["inner_arch_optimizer"] == "adam"
    assert config.strategy_config["test_arch_lr_scale"] == 0.0
    default = bench.search_config(bench.FewShotSettings()).strategy_config
    assert default["inner_arch_optimizer"] == "sgd" and default["test_arch_lr_scale"] == 1.0
