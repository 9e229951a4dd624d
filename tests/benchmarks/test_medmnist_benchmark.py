"""benchmarks/medmnist.py: the protocol's plumbing on a small MedMNIST-format file, its tables."""

from __future__ import annotations

import numpy as np
import pytest

from tests.benchmarks.conftest import main_block_error, usage_error


def write_medmnist(folder, name: str = "breastmnist", seed: int = 0) -> None:
    """A small file in the official layout (uint8 images, (N, 1) labels), learnable."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in (("train", 48), ("val", 16), ("test", 24)):
        labels = (np.arange(n) % 2).astype(np.uint8)
        images = rng.integers(0, 80, (n, 28, 28)).astype(np.uint8)
        images[labels == 1, 8:20, 8:20] += 150  # a bright square marks class 1
        arrays[f"{split}_images"] = images
        arrays[f"{split}_labels"] = labels.reshape(n, 1)
    np.savez_compressed(folder / f"{name}.npz", **arrays)


def test_published_rows_are_the_papers(load_benchmark):
    bench = load_benchmark("medmnist")
    rows = bench.published("pneumoniamnist").set_index("model")
    assert len(rows) == 7
    assert tuple(rows.loc["Google AutoML Vision"]) == (0.991, 0.946)
    assert tuple(rows.loc["ResNet-18 (28)"]) == (0.944, 0.854)
    assert bench.published("breastmnist")["test_auc"].max() == 0.919
    assert bench.published("not-a-set").empty


def test_summary_and_verdict(load_benchmark):
    bench = load_benchmark("medmnist")
    rows = [
        {
            "model": m,
            "seed": s,
            "test_auc": auc + 0.01 * s,
            "test_acc": acc,
            "params": 10,
            "wall_s": 2.0,
        }  # fmt: skip
        for s in (0, 1)
        for m, auc, acc in (("searched", 0.95, 0.90), ("cnn", 0.90, 0.91), ("resnet18", 0.8, 0.8))
    ]
    table = bench.summarise(rows)
    assert list(table["model"]) == ["searched cell", "small CNN", "ResNet-18 (28), same run"]
    assert table.loc[0, "test_auc"] == "0.955 ± 0.007" and table.loc[0, "seeds"] == 2
    lines = bench.verdict(table, bench.published("breastmnist"), rows)
    # Two seeds are too few to test a difference: no verdict, whatever the means say.
    assert "too few for a test" in lines[0] and "beat" not in lines[0]
    # The paper's best row is set beside, by its own AUC and ACC, never "reached".
    assert lines[2].startswith("best published (Google AutoML Vision): AUC 0.919 / ACC 0.861")
    assert "reached" not in lines[2]


def test_verdict_needs_a_significant_paired_difference(load_benchmark):
    bench = load_benchmark("medmnist")
    # BreastMNIST's three seeds (benchmarks/README.md): ahead on means, inside the noise.
    seeds = {
        "searched": [(0.896, 0.865), (0.892, 0.859), (0.923, 0.878)],
        "random": [(0.896, 0.878), (0.888, 0.865), (0.885, 0.827)],
        "cnn": [(0.70, 0.70), (0.71, 0.69), (0.72, 0.71)],
    }
    rows = [
        {"model": m, "seed": s, "test_auc": auc, "test_acc": acc, "params": 10 + s, "wall_s": 1}
        for m, values in seeds.items()
        for s, (auc, acc) in enumerate(values)
    ]
    table = bench.summarise(rows)
    assert table.loc[0, "params"] == "10-12"  # widths fitted per seed: not seed 0's alone
    lines = bench.verdict(table, bench.published("breastmnist").iloc[:0], rows)
    assert lines[0].endswith("no significant difference (paired t-test over 3 seeds: "
                             "p = 0.37 (AUC), 0.65 (ACC))")  # fmt: skip
    assert lines[1].startswith("searched vs small CNN") and ": beats (paired" in lines[1]
    one = bench.summarise([r for r in rows if r["seed"] == 0])
    assert one.loc[0, "test_auc"] == "0.896 (n=1)"  # one run has no spread to show


@pytest.mark.slow
def test_quick_protocol_runs_search_retrain_and_baselines(tmp_path, load_benchmark, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    write_medmnist(tmp_path)
    bench = load_benchmark("medmnist")
    table = bench.main(["--quick", "--seeds", "0", "--root", str(tmp_path),
                        "--runs", str(tmp_path / "runs")])  # fmt: skip
    models = ["searched cell", "small CNN", "ResNet-18 (28), same run", "random cell, same op mix"]
    assert list(table["model"]) == models
    assert table["params"].iloc[2] > table["params"].iloc[0] > 0
    assert ((table["auc_mean"] >= 0) & (table["auc_mean"] <= 1)).all()
    run_dir = tmp_path / "runs" / "darts-breastmnist-seed0"
    assert (run_dir / "run.sqlite").is_file()
    from nasbench.runs import load

    # The search knew the parameter budget: the protocol's cost weight reached DARTS.
    assert load(run_dir).config["strategy_config"] == {
        "cost_weight": bench.COST_WEIGHT,
        "min_parametric_ops": bench.MIN_PARAMETRIC,
    }
    # The protocol's recipe (EMA of the weights, flip TTA) reached every model's training.
    from nasbench.runs import load

    finished = load(run_dir).events.query("kind == 'retrain_finished'")["payload"]
    # The control is retrained first, so the run keeps the searched cell's curves.
    assert [p["genotype_source"] for p in finished] == ["given", "searched"]
    payload = finished.iloc[-1]
    # The random control retrained its own cell: the draw random_cell gives for the seed.
    from nasbench.config import SearchConfig
    from nasbench.engine.bilevel import parameter_free_ops

    config = SearchConfig.from_dict(load(run_dir).config)
    searched = load(run_dir).genotypes.genotype.iloc[-1]
    drawn = bench.random_cell(config, 0, like=searched)
    assert len(finished) == 2 and finished.iloc[0]["genotype"] == drawn.to_dict()
    assert set(finished.iloc[0]["models"]) == {"searched"}  # no baselines retrained twice
    # Matched to the searched cell's op mix: it differs in where and which ops only.
    assert parameter_free_ops(drawn) == parameter_free_ops(searched) and drawn != searched
    assert bench.random_cell(config, 0) != drawn  # --no-random-match: uniform
    assert bench.random_cell(config, 0, searched) == drawn
    assert bench.random_cell(config, 1, searched) != drawn
    assert (payload["train_config"]["ema_decay"], payload["train_config"]["tta_flip"]) == (
        0.99,
        True,
    )

    # The default retrained width: the widest whose network stays within the budget.
    from nasbench.evaluation.final_evaluation import retrained_network
    from nasbench.evaluation.train_loop import TrainConfig
    from nasbench.models.costs import count_parameters

    recipe = TrainConfig(epochs=1)

    def params(channels: int) -> int:
        net = retrained_network(run_dir, recipe, skeleton={"n_cells": 5, "channels": channels})
        return count_parameters(net)

    budget = (params(6) + params(7)) // 2
    assert bench.fit_channels(run_dir, recipe, 5, budget, start=4) == 6
    assert params(6) <= budget < params(7)
    # Over budget even at the searched width: that width is kept, not a zero-width net.
    assert bench.fit_channels(run_dir, recipe, 5, 10, start=4) == 4


def test_recipe_flags_default_and_bad_decay_is_one_line(tmp_path, load_benchmark, capsys):
    write_medmnist(tmp_path)
    bench = load_benchmark("medmnist")
    args = bench.parse_args(["--root", str(tmp_path)])
    assert (args.ema_decay, args.tta_flip) == (0.99, True)
    args = bench.parse_args(["--root", str(tmp_path), "--ema-decay", "0", "--no-tta-flip"])
    assert (args.ema_decay, args.tta_flip) == (0.0, False)
    with pytest.raises(SystemExit):
        bench.parse_args(["--root", str(tmp_path), "--ema-decay", "1"])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.endswith("--ema-decay takes 0 (off) or a number in (0, 1), got 1.0")


def test_a_missing_file_is_one_line(tmp_path, load_benchmark, capsys):
    bench = load_benchmark("medmnist")
    with pytest.raises(SystemExit):
        bench.parse_args(["--root", str(tmp_path)])
    assert "no breastmnist.npz in" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("organmnist3d", "--dataset organmnist3d is a 3D MedMNIST set; this script runs the 2D"),
        ("pathmnist_64", "--dataset pathmnist_64 is not a 2D MedMNIST set (a set is named "
                         "without its size: pathmnist); this script runs these at 28 px"),
        ("synthetic", "--dataset synthetic is not a 2D MedMNIST set; this script runs these"),
    ],
)  # fmt: skip
def test_a_3d_or_unknown_set_is_one_line(tmp_path, load_benchmark, capsys, name, says):
    (tmp_path / f"{name}.npz").touch()  # a file there: the refusal is of the set, not the file
    bench = load_benchmark("medmnist")
    with pytest.raises(SystemExit) as stop:
        bench.parse_args(["--quick", "--dataset", name, "--root", str(tmp_path)])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert says in err and "breastmnist" in err and "Traceback" not in err


def test_search_steps_are_spread_over_epochs_whatever_the_set_size(tmp_path, load_benchmark):
    bench = load_benchmark("medmnist")
    for batches, steps in ((8, 240), (73, 240), (500, 240), (1, 5), (7, 7), (3, 10)):
        epochs, per_epoch = bench.search_schedule(batches, steps)
        assert per_epoch <= batches, "an epoch cannot take more batches than the set has"
        assert steps <= epochs * per_epoch < steps + epochs
    write_medmnist(tmp_path)  # 48 training images: a search half of 24, 3 batches of 8
    from nasbench.config import DatasetConfig, SearchConfig

    data = DatasetConfig(name="breastmnist", root=str(tmp_path), download=False, batch_size=8)
    assert bench.search_batches(SearchConfig(dataset=data)) == 3
    args = bench.parse_args(["--root", str(tmp_path), "--search-steps", "10"])
    assert args.search_steps == 10


def test_settings_that_are_not_a_json_object_are_one_line(tmp_path, load_benchmark, capsys):
    write_medmnist(tmp_path)
    bench = load_benchmark("medmnist")
    with pytest.raises(SystemExit):
        bench.parse_args(["--root", str(tmp_path), "--strategy-config", "[1]"])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.endswith("--strategy-config takes a JSON object ({...}), got [1]")


@pytest.mark.slow
def test_a_discrete_strategy_trains_candidates_in_the_retrained_network(tmp_path, load_benchmark,
                                                                         monkeypatch):  # fmt: skip
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    write_medmnist(tmp_path)
    bench = load_benchmark("medmnist")
    table = bench.main(["--quick", "--seeds", "0", "--root", str(tmp_path), "--strategy",
                        "random", "--max-evaluations", "2", "--baselines", "cnn",
                        "--no-random-cell", "--evaluator-config", '{"epochs": 1}',
                        "--runs", str(tmp_path / "runs")])  # fmt: skip
    assert list(table["model"]) == ["searched cell", "small CNN"]
    from nasbench.runs import load

    run = load(tmp_path / "runs" / "random-breastmnist-seed0")
    assert run.config["evaluator"] == "train" and len(run.candidates) == 2
    settings = run.config["evaluator_config"]
    assert settings["metric"] == "val_auc" and settings["epochs"] == 1
    assert settings["skeleton"] == {"n_cells": 3, "channels": 4}  # quick: as searched


def test_cost_weight_reaches_the_strategies_that_have_it(tmp_path, load_benchmark, capsys):
    write_medmnist(tmp_path)
    bench = load_benchmark("medmnist")

    def settings(*argv: str) -> dict:
        return bench.strategy_settings(bench.parse_args(["--root", str(tmp_path), *argv]))

    protocol = {"cost_weight": bench.COST_WEIGHT, "min_parametric_ops": bench.MIN_PARAMETRIC}
    assert settings() == protocol
    assert settings("--strategy", "gdas", "--cost-weight", "0", "--min-parametric", "0") == {
        "cost_weight": 0.0,
        "min_parametric_ops": 0,
    }
    # The strategy's own JSON has the last word; strategies without the option get none.
    assert settings("--cost-weight", "2", "--strategy-config", '{"cost_weight": 0.5}') == {
        **protocol,
        "cost_weight": 0.5,
    }
    assert settings("--strategy", "proxyless") == {}
    assert settings("--strategy", "random") == {}
    with pytest.raises(SystemExit):
        bench.parse_args(["--root", str(tmp_path), "--strategy", "random", "--cost-weight", "1"])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.endswith(
        "--cost-weight applies to darts, pcdarts and gdas, not random; leave it out"
    )
    with pytest.raises(SystemExit):
        bench.parse_args(["--root", str(tmp_path), "--min-parametric", "-1"])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.endswith("--min-parametric takes 0 (off) or more, got -1")


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--quick", "--limit", "16"], "--quick sets --limit itself; drop one"),
        (["--quick", "--batch-size", "4"], "--quick sets --batch-size itself; drop one"),
        (["--quick", "--limit", "-5"], "argument --limit: must be at least 1, got -5"),
        (["--limit", "0"], "argument --limit: must be at least 1, got 0"),
        (["--batch-size", "0"], "argument --batch-size: must be at least 1, got 0"),
        (["--search-seconds", "-1"],
         "argument --search-seconds: must be a finite number above 0, got -1"),
        (["--retrain-epochs", "0"], "argument --retrain-epochs: must be at least 1, got 0"),
        (["--label-smoothing", "nan"], "--label-smoothing takes a number in [0, 1), got nan"),
    ],
)  # fmt: skip
def test_bad_sizes_and_quick_overrides_are_one_line(tmp_path, load_benchmark, capsys, argv, says):
    write_medmnist(tmp_path)
    bench = load_benchmark("medmnist")
    err = usage_error(capsys, lambda: bench.parse_args(["--root", str(tmp_path), *argv]))
    assert err.endswith(says)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--strategy", "bogus"], "error: --strategy: "),
        (["--strategy-config", '{"bogus": 1}'], "error: --strategy-config: "),
        (["--baselines", "bogus"], "error: --baselines: "),
    ],
)
def test_bad_names_are_one_line_before_any_search(tmp_path, load_benchmark, capsys, argv, says):
    write_medmnist(tmp_path)
    bench = load_benchmark("medmnist")
    err = usage_error(capsys, lambda: bench.parse_args(["--root", str(tmp_path), *argv]))
    assert says in err and "bogus" in err


def test_runs_that_is_a_file_is_one_line(tmp_path, load_benchmark, capsys):
    write_medmnist(tmp_path)
    (tmp_path / "runs").write_text("")
    bench = load_benchmark("medmnist")
    argv = ["--root", str(tmp_path), "--runs", str(tmp_path / "runs")]
    err = usage_error(capsys, lambda: bench.parse_args(argv))
    assert err.endswith("is not a folder; give a folder for the runs")


def test_a_project_error_while_running_is_one_line(tmp_path, monkeypatch, capsys):
    """The __main__ block: a NasbenchError from the search is `medmnist.py: error: ...`."""
    write_medmnist(tmp_path)
    err = main_block_error(
        monkeypatch,
        capsys,
        "medmnist.py",
        ["--quick", "--seeds", "0", "--root", str(tmp_path), "--runs", str(tmp_path / "runs")],
    )
    assert err == "medmnist.py: error: the data went missing mid-run"
