"""Successive halving and Hyperband as searches: rungs recorded, budgets kept, resumable."""

from __future__ import annotations

import pytest

from nasbench.config import SearchConfig
from nasbench.errors import ConfigError
from nasbench.runs import RunStore, load
from nasbench.spaces import NB201Space
from nasbench.strategies import create_strategy
from nasbench.strategies.discrete import Budget, run_discrete
from nasbench.strategies.discrete.halving import Hyperband, SuccessiveHalving

HYPERBAND = {"min_budget": 1, "max_budget": 9, "eta": 3}
HALVING = {"n_candidates": 12, "min_budget": 1, "max_budget": 9, "eta": 3}


def _config(strategy: str, strategy_config: dict, **overrides) -> SearchConfig:
    fields = {
        "strategy": strategy,
        "strategy_config": strategy_config,
        "evaluator": "table",
        "space": {"name": "nb201"},
        "max_evaluations": 40,
        "seed": 3,
        **overrides,
    }
    return SearchConfig(**fields)


def _rows(run_dir) -> list[dict]:
    frame = load(run_dir).candidates
    columns = (frame.candidate_id, frame.genotype_json, frame["metrics"], frame["info"])
    return [
        {"id": int(c), "genotype": g, "score": m["score"], "bracket": i["bracket"],
         "rung": i["rung"], "budget": i["budget"]}
        for c, g, m, i in zip(*columns, strict=True)
    ]  # fmt: skip


@pytest.mark.parametrize(
    "strategy, strategy_config, brackets",
    [
        ("hyperband", HYPERBAND, [(9, 1, 3), (5, 3, 2), (3, 9, 1)]),
        ("successive_halving", HALVING, [(12, 1, None)]),
    ],
)
def test_a_race_records_every_rung_and_promotes_the_best(
    tmp_path, strategy, strategy_config, brackets
):
    from nasbench import search

    space = NB201Space()
    race = create_strategy(strategy, strategy_config, space=space, seed=3)
    assert race.brackets == brackets
    result = search(_config(strategy, strategy_config), tmp_path / "run")
    rows = _rows(tmp_path / "run")

    assert result.status == "finished" and result.steps == len(rows) == race.planned_evaluations()
    assert sum(r["budget"] for r in rows) == race.planned_budget()
    assert load(tmp_path / "run").progress["step"] == len(rows)
    # Every rung's candidates are the best 1/eta of the rung before (ties: earlier first).
    for bracket in {r["bracket"] for r in rows}:
        rungs = sorted({r["rung"] for r in rows if r["bracket"] == bracket})
        for rung in rungs[1:]:
            before = [r for r in rows if r["bracket"] == bracket and r["rung"] == rung - 1]
            now = [r["id"] for r in rows if r["bracket"] == bracket and r["rung"] == rung]
            ranked = sorted(before, key=lambda r: -r["score"])
            assert sorted(now) == sorted(r["id"] for r in ranked[: len(now)])
            assert len(now) == max(1, len(before) // 3)
    # The result is the best candidate at the largest budget, never a low-budget score.
    finals = [r for r in rows if r["budget"] == 9]
    best = max(finals, key=lambda r: r["score"])
    assert result.metrics["score"] == best["score"]
    assert result.genotype.to_json() == best["genotype"]
    # A candidate keeps its id from rung to rung: one id, one genotype.
    by_id = {}
    for r in rows:
        assert by_id.setdefault(r["id"], r["genotype"]) == r["genotype"]


@pytest.mark.slow
def test_a_process_pool_races_to_the_sequential_result(tmp_path):
    from nasbench import search

    search(_config("hyperband", HYPERBAND), tmp_path / "sequential")
    pooled = _config("hyperband", HYPERBAND, executor="process", executor_config={"workers": 2})
    search(pooled, tmp_path / "pooled")
    assert _rows(tmp_path / "pooled") == _rows(tmp_path / "sequential")
    workers = set(load(tmp_path / "pooled").candidates["worker"])
    assert all(w.startswith("pid-") for w in workers)


def test_a_stopped_race_resumes_to_the_uninterrupted_result(tmp_path, monkeypatch):
    from nasbench import resume, search

    config = _config("hyperband", HYPERBAND)
    reference = search(config, tmp_path / "reference")

    log_candidate = RunStore.log_candidate
    logged = []

    def log_then_stop(self, candidate_id, *args, **kwargs):
        log_candidate(self, candidate_id, *args, **kwargs)
        logged.append(candidate_id)
        if len(logged) == 11:  # mid-race: the second bracket's first rung
            self.request_stop()

    with monkeypatch.context() as patch:
        patch.setattr(RunStore, "log_candidate", log_then_stop)
        stopped = search(config, tmp_path / "stopped")
    assert stopped.status == "stopped" and stopped.steps == 11

    resumed = resume(tmp_path / "stopped")
    assert resumed.status == "finished" and resumed.steps == reference.steps == 22
    assert resumed.genotype == reference.genotype and resumed.metrics == reference.metrics
    assert _rows(tmp_path / "stopped") == _rows(tmp_path / "reference")


def test_a_wall_time_budget_ends_the_race_between_batches():
    space = NB201Space()
    race = create_strategy("hyperband", HYPERBAND, space=space, seed=0)

    class Slow:
        max_budget = 9

        def evaluate(self, g, budget=None):
            import time

            from nasbench.evaluation.base import Result

            time.sleep(0.05)
            return Result({"score": float(budget)}, {"epochs": float(budget)})

    out = run_discrete(race, Slow(), Budget(max_seconds=0.12))
    assert out.stop_reason == "max_seconds" and 1 <= out.evaluations < race.planned_evaluations()
    # No bracket finished: the answer is the best at the largest budget reached, not none.
    furthest = max(t.result.cost["epochs"] for t in out.history)
    assert out.best_result is not None and out.best_result.score == furthest
    first = next(t for t in out.history if t.result.cost["epochs"] == furthest)
    assert out.best_genotype == first.genotype  # ties keep the earlier candidate


def test_a_race_cut_short_by_time_records_its_best_candidate_in_the_run(tmp_path, monkeypatch):
    """The run's event, its genotype row (what retrain and the report read) and the
    candidates agree on the best of a race the time budget ended before any winner."""
    import time as time_module

    from nasbench import search
    from nasbench.evaluation.table_lookup import TableEvaluator

    real = TableEvaluator.evaluate

    def slow(self, genotype, budget=None):
        time_module.sleep(0.3)
        return real(self, genotype, budget)

    monkeypatch.setattr(TableEvaluator, "evaluate", slow)
    result = search(_config("successive_halving", HALVING, max_seconds=2.0), tmp_path / "run")
    run = load(tmp_path / "run")
    ended = run.events.query("kind == 'discrete_search_ended'")["payload"].iloc[-1]
    assert ended["reason"] == "max_seconds" and ended["evaluations"] < 22
    rows = _rows(tmp_path / "run")
    furthest = max(row["budget"] for row in rows)
    best = max(row["score"] for row in rows if row["budget"] == furthest)
    assert ended["best_score"] == best
    assert run.genotypes["genotype"].iloc[-1] == result.genotype is not None


def test_bad_races_fail_before_a_run_folder_exists(tmp_path):
    from nasbench import search

    with pytest.raises(ConfigError, match="makes 22 evaluations but max_evaluations is 10"):
        _config("hyperband", HYPERBAND, max_evaluations=10).validate()
    with pytest.raises(ConfigError, match="below min_budget"):
        _config("successive_halving", {**HALVING, "min_budget": 10}).validate()
    with pytest.raises(ConfigError, match="exceeds the evaluator's largest budget"):
        long_race = {**HALVING, "n_candidates": 2, "max_budget": 400}
        search(_config("successive_halving", long_race), tmp_path / "long")
    assert not (tmp_path / "long").exists()
    proxy = {"evaluator": "proxy", "evaluator_config": {"proxy": "synflow"}}
    with pytest.raises(ConfigError, match='races over epochs and needs the evaluator "train"'):
        search(_config("hyperband", HYPERBAND, **proxy), tmp_path / "proxy")
    assert not (tmp_path / "proxy").exists()
    train = {"evaluator": "train", "evaluator_config": {"epochs": 3}}
    with pytest.raises(ConfigError, match="max_budget 9 exceeds the train evaluator's epochs 3"):
        _config("hyperband", HYPERBAND, **train).validate()
    with pytest.raises(ConfigError, match="needs an evaluator with an epoch budget"):
        run_discrete(race_of("hyperband", HYPERBAND), object(), Budget(max_evaluations=40))
    with pytest.raises(ConfigError, match="cannot be asked one genotype at a time"):
        race_of("successive_halving", HALVING).ask()


def race_of(strategy: str, strategy_config: dict):
    return create_strategy(strategy, strategy_config, space=NB201Space(), seed=0)


@pytest.mark.parametrize("low, high, eta", [(2, 20, 3), (1, 100, 3), (1, 50, 2), (1, 27, 3)])
def test_every_hyperband_bracket_has_its_s_plus_one_rungs(low, high, eta):
    """Li et al. (2018), Alg. 1: bracket s races s + 1 rungs, each about eta times the
    budget of the one before, the last at max_budget, even when max/min is not a power
    of eta (where whole epochs are rounded)."""
    hyperband = Hyperband(low, high, eta)
    for s, (n, first, rungs) in zip(range(hyperband.s_max, -1, -1), hyperband.schedule(),
                                    strict=True):  # fmt: skip
        plan = SuccessiveHalving(first, high, eta, rungs).plan(n)
        assert len(plan) == s + 1, (s, plan)
        budgets = [budget for _, budget in plan]
        assert budgets[-1] == high and budgets == sorted(set(budgets))
        for i, budget in enumerate(budgets):
            assert budget == max(first, round(high / eta ** (s - i)))
    assert SuccessiveHalving(2, 20, 3, rungs=3).plan(9) == [(9, 2), (3, 7), (1, 20)]
    # Plain successive halving keeps its rungs at min_budget * eta**i, then max_budget.
    assert SuccessiveHalving(1, 5, 3).budgets() == [1, 5]
    assert SuccessiveHalving(1, 20, 3).budgets() == [1, 3, 20]
    assert Hyperband(2, 20, 3).planned_budget() == 9 * 2 + 3 * 7 + 20 + 5 * 7 + 20 + 3 * 20
