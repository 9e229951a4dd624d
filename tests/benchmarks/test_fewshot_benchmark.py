"""benchmarks/fewshot.py: the quick comparison runs and prints every learner with an interval."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from tests.benchmarks.conftest import main_block_error, usage_error


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


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--quick", "--k-shot", "1"], "--quick sets --k-shot itself; drop one"),
        (["--quick", "--episodes", "50"], "--quick sets --episodes itself; drop one"),
        (["--quick", "--epochs", "2"], "--quick sets --epochs itself; drop one"),
        (["--quick", "--temperature-min", "0.05"],
         "--quick sets --temperature-min itself; drop one"),
        (["--quick", "--prune-below", "0.01"], "--quick sets --prune-below itself; drop one"),
        (["--k-shot", "0"], "argument --k-shot: must be at least 1, got 0"),
        (["--episodes", "0"], "argument --episodes: must be at least 1, got 0"),
        (["--meta-steps", "-1"], "argument --meta-steps: must be at least 1, got -1"),
        (["--temperature-min", "nan"],
         "argument --temperature-min: must be a finite number in [0.001, 1], got nan"),
        (["--warmup-fraction", "5"],
         "argument --warmup-fraction: must be a finite number in [0, 1], got 5"),
    ],
)  # fmt: skip
def test_bad_values_and_quick_overrides_are_one_line(load_benchmark, capsys, argv, says):
    bench = load_benchmark("fewshot")
    assert usage_error(capsys, lambda: bench.parse_settings(argv)).endswith(says)


def test_an_unknown_set_or_missing_data_is_one_line(load_benchmark, capsys, tmp_path):
    bench = load_benchmark("fewshot")
    err = usage_error(capsys, lambda: bench.parse_settings(["--meta-test", "bogus"]))
    assert "error: --meta-test bogus: Unknown dataset 'bogus'" in err
    err = usage_error(capsys, lambda: bench.parse_settings(["--root", str(tmp_path)]))
    assert err.endswith(f"--meta-train pneumoniamnist: no pneumoniamnist.npz in {tmp_path}; "
                        "pass --root <folder holding it>")  # fmt: skip


def test_quick_alone_and_the_documented_flags_parse(load_benchmark, tmp_path):
    bench = load_benchmark("fewshot")
    assert bench.parse_settings(["--quick"]) == bench.QUICK
    for name in ("pneumoniamnist", "breastmnist"):
        (tmp_path / f"{name}.npz").touch()
    settings = bench.parse_settings(["--root", str(tmp_path), "--temperature-min", "0.05",
                                     "--prune-below", "0.01", "--meta-arch-lr", "0.6",
                                     "--warmup-fraction", "0.5"])  # fmt: skip
    assert (settings.temperature_min, settings.warmup_fraction) == (0.05, 0.5)


def test_a_project_error_while_running_is_one_line(monkeypatch, capsys):
    """The __main__ block: a NasbenchError from the search is `fewshot.py: error: ...`."""
    err = main_block_error(monkeypatch, capsys, "fewshot.py", ["--quick"])
    assert err == "fewshot.py: error: the data went missing mid-run"
