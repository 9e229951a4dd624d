"""benchmarks/evaluators.py and benchmarks/joint_search.py at a tiny size: every row is
filled, the ground truth correlates perfectly with itself, costs are positive."""

from __future__ import annotations

import json
import math
import sys

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


def evaluators_refusal(bench, argv, monkeypatch, capsys) -> str:
    monkeypatch.setattr(sys, "argv", ["evaluators.py"])
    monkeypatch.setattr(bench, "run_benchmark", lambda *_, **__: pytest.fail("measured"))
    with pytest.raises(SystemExit) as exc:
        bench.main(argv)
    assert exc.value.code == 2
    return capsys.readouterr().err.splitlines()[-1]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--n", "0"], "argument --n: must be at least 3, got 0"),
        (["--n", "2"], "argument --n: must be at least 3, got 2"),
        (["--truth-seeds", "0"], "argument --truth-seeds: must be at least 1, got 0"),
        (["--train-epochs", "-1"], "argument --train-epochs: must be at least 1, got -1"),
        (["--ws-epochs", "0"], "argument --ws-epochs: must be at least 1, got 0"),
    ],
)
def test_evaluator_sizes_that_rank_nothing_are_refused_in_one_line(
    load_benchmark, monkeypatch, capsys, argv, message
):
    bench = load_benchmark("evaluators")
    line = evaluators_refusal(bench, argv, monkeypatch, capsys)
    assert line == f"evaluators.py: error: {message}"


@pytest.mark.parametrize("flag", ["--json", "--html"])
def test_an_evaluator_output_that_cannot_be_written_is_refused_before_the_run(
    load_benchmark, monkeypatch, capsys, tmp_path, flag
):
    bench = load_benchmark("evaluators")
    line = evaluators_refusal(bench, [flag, str(tmp_path)], monkeypatch, capsys)
    assert line == (
        f"evaluators.py: error: argument {flag}: {tmp_path} is a folder; give a file name in it"
    )
    assert list(tmp_path.iterdir()) == []


def test_the_evaluator_json_is_strict_and_written_whole(
    load_benchmark, monkeypatch, capsys, tmp_path
):
    import pandas as pd

    bench = load_benchmark("evaluators")
    table = pd.DataFrame(
        {"evaluator": ["params", "proxy:snip"], "spearman_rho": [0.5, math.nan],
         "kendall_tau": [0.4, math.nan], "spearman_rho_auc": [0.3, math.nan],
         "once_s": [0.0, 0.0], "per_candidate_s": [0.0, 0.1], "total_s": [0.0, 0.3]}
    )  # fmt: skip
    scores = pd.DataFrame({"genotype": ["a"], "scratch_test_acc": [math.nan]})
    monkeypatch.setattr(bench, "run_benchmark", lambda *_, **__: (table, scores))
    out, html = tmp_path / "new" / "e.json", tmp_path / "new" / "e.html"
    assert bench.main(["--json", str(out), "--html", str(html)]) == 0

    def no_constants(name):
        raise AssertionError(f"bare {name} in the JSON")

    payload = json.loads(out.read_text(), parse_constant=no_constants)
    assert payload["table"][1]["spearman_rho"] is None
    assert payload["scores"][0]["scratch_test_acc"] is None
    assert "<html>" in html.read_text()
    assert sorted(p.name for p in out.parent.iterdir()) == ["e.html", "e.json"]


def test_more_candidates_than_the_space_has_distinct_cells_are_refused(load_benchmark):
    from nasbench.errors import SpaceError
    from nasbench.spaces import NB201Space

    bench = load_benchmark("evaluators")
    # 6,466 distinct cells (the NAS-Bench-201 API's count); sampling one more never ended.
    with pytest.raises(SpaceError, match=r"^--n 6467 is more than the 6,466 distinct cells"):
        bench.sample_architectures(NB201Space(), 6_467, seed=0)
    assert len(bench.sample_architectures(NB201Space(), 5, seed=0)) == 5
