"""benchmarks/localisation.py: ratios read the table right; --quick runs end to end."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.benchmarks.conftest import main_block_error, usage_error


@pytest.fixture(scope="module")
def bench(load_benchmark):
    return load_benchmark("localisation")


def _rows(seed, searched, hand, regression, random=5.0):
    errors = {"start": 6.0, "searched": searched, "random": random, "hand": hand,
              "regression": regression}  # fmt: skip
    return [{"seed": seed, "arm": a, "dist_vox": e, "dist_mm": e, "plane_deg": 9.0,
             "params": 1.0, "train_s": 1.0, "search_s": 2.0}
            for a, e in errors.items()]  # fmt: skip


def test_ratios_take_the_mean_over_seeds(bench):
    table = pd.DataFrame(_rows(0, 2.0, 4.0, 1.0) + _rows(1, 4.0, 4.0, 3.0))
    summary, lines = bench.summarise(table)
    assert summary.loc["searched", "dist_mm"] == pytest.approx(3.0)
    assert lines[0] == "searched / random: 0.600 of the mm error (better)"
    assert lines[1] == "searched / hand: 0.750 of the mm error (better)"
    assert lines[2] == "searched / regression: 1.500 of the mm error (not better)"
    assert lines[3].startswith("searched / start: 0.500")


def test_quick_config_is_the_tiny_one(bench):
    config = bench.config_for(bench.parse_args(["--quick"]), seed=3)
    assert config.strategy == "marl-gdas" and config.dataset.size == 16 and config.seed == 3
    full = bench.config_for(bench.parse_args([]), seed=0)
    assert full.strategy_config["patch"] == 11 and full.epochs == 8
    assert full.strategy_config["retrain_rounds"] == 14 and full.max_steps_per_epoch == 32
    assert full.strategy_config["multiscale"] and full.strategy_config["envs"] == 16
    assert (full.strategy_config["shared_normal"], full.strategy_config["agent_reduce"]) == (1, 0)
    full.validate()
    assert full.strategy_config["select_on_val"]
    assert not bench.config_for(bench.parse_args(["--last-round"]), 0).strategy_config[
        "select_on_val"
    ]
    assert full.strategy_config["random_cell"]
    assert bench.config_for(bench.parse_args(["--quick"]), 0).strategy_config["random_cell"]
    assert not bench.config_for(bench.parse_args(["--no-random"]), 0).strategy_config["random_cell"]
    before = bench.config_for(bench.parse_args(["--old-arch"]), seed=0)
    assert before.strategy_config["arch_lr"] == 3e-3 and before.strategy_config["arch_warmup"] == 0
    before.validate()
    assert "arch_lr" not in full.strategy_config  # the strategy's defaults
    old = bench.config_for(bench.parse_args(["--single-scale", "--shared", "5", "3"]), seed=0)
    assert not old.strategy_config["multiscale"] and old.strategy_config["shared_reduce"] == 3


def test_the_share_of_parameter_free_edges_counts_every_built_cell(bench):
    pool, conv = ["max_pool_3x3", 0], ["conv_3x3", 1]
    cells = {
        "shared": {"normal": [pool, conv], "reduce": [pool, pool]},
        "agent0": {"normal": [conv, conv], "reduce": [pool, pool]},
    }
    agent = {"shared_normal": 2, "shared_reduce": 1, "agent_normal": 1, "agent_reduce": 0}
    # shared: 2 x (1 of 2) + 1 x (2 of 2); agent0: 1 x (0 of 2); its reduce is not built
    assert bench.free_op_share(cells, agent) == pytest.approx(4 / 8)


@pytest.mark.slow
def test_quick_run_prints_every_arm(bench, capsys):
    summary, lines = bench.main(["--quick"])
    assert list(summary.index) == ["start", "searched", "random", "hand", "regression"]
    assert bool((summary["dist_mm"] > 0).all()) and len(lines) == 4
    # the alpha movement of the search, on the searched row only
    assert summary.loc["searched", "amax_start"] == pytest.approx(0.1, abs=0.01)
    assert summary.loc["searched", "aent_end"] <= summary.loc["searched", "aent_start"]
    assert pd.isna(summary.loc["hand", "amax_end"])
    assert 0.0 <= summary.loc["random", "free_ops"] <= 1.0
    assert "searched / hand" in capsys.readouterr().out


def test_step_timer_builds_both_layouts(load_benchmark):
    step = load_benchmark("localisation_step")
    net, extra = step.build("hand", contiguous=True, patch=5)
    assert not net.body.channels_last and extra == {}
    net, extra = step.build("supernet", contiguous=False, patch=5)
    assert net.body.channels_last and set(extra) == {"weight_parameters", "arch_step"}
    assert step.parse_args([]).net == "hand"


@pytest.mark.slow
def test_step_timer_reports_positive_seconds(load_benchmark):
    out = load_benchmark("localisation_step").main(["--size", "16", "--updates", "1"])
    assert out["episodes_s"] > 0 and set(out) == {"episodes_s", "update_s"}


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--size", "33"],
         "error: --size 33 is not offered by synthetic-landmarks3d; use one of [16, 24, 32, 48]"),
        (["--limit", "0"], "error: argument --limit: must be at least 1, got 0"),
        (["--rounds", "0"], "error: argument --rounds: must be at least 1, got 0"),
        (["--batch-size", "0"], "error: argument --batch-size: must be at least 1, got 0"),
        (["--shared", "1", "-1"], "error: argument --shared: must be at least 0, got -1"),
        (["--curriculum", "nan"], "error: argument --curriculum: must be a number in [0, 1]"),
        (["--lr", "0"], "error: argument --lr: must be a finite number above 0, got 0"),
        (["--quick", "--size", "48"], "error: --quick sets --size itself; drop one"),
        (["--quick", "--limit", "-5"], "error: argument --limit: must be at least 1, got -5"),
    ],
)  # fmt: skip
def test_bad_sizes_and_quick_overrides_are_one_line(bench, capsys, argv, says):
    assert says in usage_error(capsys, lambda: bench.parse_args(argv))


def test_an_unwritable_json_is_refused_and_the_rows_are_strict_json(
    bench, capsys, tmp_path, monkeypatch
):
    import json

    err = usage_error(capsys, lambda: bench.parse_args(["--json", str(tmp_path)]))
    assert err.endswith(f"argument --json: {tmp_path} is a folder; give a file name in it")
    rows = [{"seed": 0, "arm": "searched", "dist_mm": float("nan")}]
    monkeypatch.setattr(bench, "run_seed", lambda args, seed, folder: rows)
    monkeypatch.setattr(bench, "summarise", lambda table: (pd.DataFrame(), []))
    out = tmp_path / "sub" / "rows.json"
    bench.main(["--quick", "--json", str(out)])

    def refuse(token):
        raise AssertionError(f"not strict JSON: {token}")

    assert json.loads(out.read_text(), parse_constant=refuse) == [
        {"seed": 0, "arm": "searched", "dist_mm": None}
    ]
    assert [p.name for p in out.parent.iterdir()] == ["rows.json"]  # no temporary left


def test_a_project_error_while_running_is_one_line(monkeypatch, capsys):
    """The __main__ block: a NasbenchError from the search is `localisation.py: error: ...`."""
    err = main_block_error(monkeypatch, capsys, "localisation.py", ["--quick"])
    assert err == ("localisation.py: error: the data went missing mid-run")
