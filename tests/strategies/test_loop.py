"""The shared discrete loop: records every candidate, honours stops, caches duplicates."""

from __future__ import annotations

import os
import time
from dataclasses import replace

import pytest

from nasbench.config import DatasetConfig, SearchConfig
from nasbench.errors import ConfigError
from nasbench.evaluation.base import Result
from nasbench.runs import RunStore, load
from nasbench.spaces import NB201Space
from nasbench.strategies import create_strategy, strategy_names
from nasbench.strategies.discrete import Budget, run_discrete


class Counting:
    """Scores a cell by its number of convolutions and counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def evaluate(self, g, budget=None):
        self.calls += 1
        convs = sum(op.startswith("nor_conv") for _, _, op in g.edges())
        return Result({"score": convs / 6, "val_acc": convs / 6}, {"params": 100.0 * convs})


def open_store(tmp_path):
    return RunStore.create(tmp_path / "run", {"strategy": "random"}, environment={})


def test_every_candidate_is_recorded(tmp_path):
    space = NB201Space(ops=["none", "skip_connect", "nor_conv_3x3"])
    strategy = create_strategy("random", {}, space=space, seed=0)
    ev = Counting()
    with open_store(tmp_path) as store:
        out = run_discrete(strategy, ev, Budget(max_evaluations=30), store=store)
    assert out.evaluations == ev.calls == 30
    assert out.stop_reason == "max_evaluations"
    run = load(tmp_path / "run")
    cands = run.candidates
    assert len(cands) == len(out.history) >= 30
    assert list(cands["candidate_id"]) == [t.candidate_id for t in out.history]
    assert (cands["status"] == "done").sum() == 30
    assert set(cands["status"]) <= {"done", "cached"}
    assert list(cands["metrics.score"]) == [t.result.score for t in out.history]
    assert run.progress["step"] == 30 and run.progress["total_steps"] == 30
    assert out.best_result.score == max(t.result.score for t in out.history)
    assert out.best_so_far()[-1] == out.best_result.score
    assert len(out.best_so_far()) == 30
    kinds = list(run.events["kind"])
    assert kinds[0] == "discrete_search_started" and kinds[-1] == "discrete_search_ended"


def test_stop_request_is_honoured_between_evaluations(tmp_path):
    strategy = create_strategy("random", {}, space=NB201Space(), seed=0)
    with open_store(tmp_path) as store:

        def stop_after_three(trial):
            if trial.evaluations == 3:
                store.request_stop()

        out = run_discrete(
            strategy,
            Counting(),
            Budget(max_evaluations=50),
            store=store,
            on_result=stop_after_three,
        )
    assert out.stop_reason == "stop_requested"
    assert out.evaluations == 3
    assert len(load(tmp_path / "run").candidates) == 3


def test_isomorphic_cells_share_one_evaluation():
    space = NB201Space()
    # Both cells have a dead input edge (0->1 is 'none'), so they compute the same function.
    a = space.validate("|none~0|+|nor_conv_3x3~0|skip_connect~1|+|none~0|none~1|skip_connect~2|")
    b = space.validate("|none~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|none~0|none~1|skip_connect~2|")
    assert space.canonical(a) == space.canonical(b)

    class Fixed:
        """Proposes a fixed list, then is finished."""

        name = "fixed"

        def __init__(self, queue):
            self.space, self.queue, self.told = space, list(queue), []

        @property
        def finished(self):
            return not self.queue

        def check_budget(self, n):
            pass

        def ask(self):
            return self.queue.pop(0)

        def tell(self, g, r):
            self.told.append((g, r.score))

    ev, strategy = Counting(), Fixed([a, b, a, a])
    out = run_discrete(strategy, ev, Budget(max_evaluations=5), cache="canonical")
    assert ev.calls == 1 and out.evaluations == 1
    assert [g for g, _ in strategy.told] == [a, b, a, a]  # every ask is answered
    assert [t.cached for t in out.history] == [False, True, True, True]
    assert out.stop_reason == "finished"
    ev, strategy = Counting(), Fixed([a, b, a])
    run_discrete(strategy, ev, Budget(max_evaluations=5), cache="genotype")
    assert ev.calls == 2  # a and b differ as genotypes
    ev, strategy = Counting(), Fixed([a, a])
    run_discrete(strategy, ev, Budget(max_evaluations=5), cache="none", batch_size=2)
    assert ev.calls == 2


def test_batch_and_callback_and_wall_time():
    space = NB201Space()
    strategy = create_strategy("random", {}, space=space, seed=1)
    out = run_discrete(
        strategy, Counting(), Budget(max_evaluations=100), batch_size=4,
        on_result=lambda t: t.evaluations >= 6,
    )  # fmt: skip
    assert out.stop_reason == "callback" and out.evaluations == 8  # the batch in flight ends

    class Slow(Counting):
        def evaluate(self, g, budget=None):
            time.sleep(0.05)
            return super().evaluate(g, budget)

    strategy = create_strategy("random", {}, space=space, seed=1)
    out = run_discrete(strategy, Slow(), Budget(max_seconds=0.3))
    assert out.stop_reason == "max_seconds" and 3 <= out.evaluations <= 8


def test_loop_rejects_bad_arguments():
    strategy = create_strategy("random", {}, space=NB201Space(), seed=0)
    with pytest.raises(ConfigError, match="cache must be one of"):
        run_discrete(strategy, Counting(), Budget(max_evaluations=3), cache="sometimes")
    with pytest.raises(ConfigError, match="batch_size"):
        run_discrete(strategy, Counting(), Budget(max_evaluations=3), batch_size=0)
    with pytest.raises(ConfigError, match="Budget"):
        run_discrete(strategy, Counting(), 10)


def test_search_config_runs_a_discrete_search(tmp_path):
    from nasbench import search

    cfg = SearchConfig(
        strategy="evolution",
        strategy_config={"population_size": 4, "sample_size": 2},
        evaluator="table",
        space={"name": "nb201"},
        max_evaluations=10,
    )
    assert SearchConfig.from_json(cfg.to_json()) == cfg
    result = search(cfg, tmp_path / "run")
    assert result.status == "finished" and result.steps == 10
    run = load(tmp_path / "run")
    assert run.status == "finished"
    assert (run.candidates["status"] == "done").sum() == 10
    assert result.metrics["score"] == max(run.candidates["metrics.score"])


def test_a_default_population_shrinks_to_fit_a_small_budget(tmp_path):
    from nasbench import search

    config = SearchConfig(
        strategy="evolution", evaluator="table", space={"name": "nb201"}, max_evaluations=12
    )
    assert config.strategy_budget_changes() == {"population_size": 3, "sample_size": 3}
    result = search(config, tmp_path / "run")
    assert result.status == "finished" and result.steps == 12
    events = load(tmp_path / "run").events
    fitted = events[events.kind == "strategy_fitted"].iloc[0].payload
    assert fitted["changes"] == {"population_size": 3, "sample_size": 3}
    chosen = SearchConfig(strategy="evolution", strategy_config={"population_size": 6},
                          max_evaluations=12)  # fmt: skip
    assert chosen.strategy_budget_changes() == {}  # a population the user chose stays


def test_bayesopts_random_start_shrinks_to_leave_the_gp_some_of_a_small_budget(tmp_path):
    from nasbench import search

    # The default 10 random proposals made a budget of 8 plain random search, unsaid.
    config = SearchConfig(strategy="bayesopt", evaluator="table", space={"name": "nb201"},
                          strategy_config={"pool_size": 20}, max_evaluations=8)  # fmt: skip
    assert config.strategy_budget_changes() == {"n_initial": 2}
    result = search(config, tmp_path / "run")
    assert result.status == "finished" and result.steps == 8
    events = load(tmp_path / "run").events
    assert events[events.kind == "strategy_fitted"].iloc[0].payload["changes"] == {"n_initial": 2}
    chosen = SearchConfig(strategy="bayesopt", evaluator="table", space={"name": "nb201"},
                          strategy_config={"n_initial": 10}, max_evaluations=8)  # fmt: skip
    with pytest.raises(ConfigError, match="n_initial 10 random proposals take the whole budget "
                       "of 8 evaluations, so the GP would propose none"):  # fmt: skip
        chosen.validate()  # a random start the user chose is kept, and checked
    for budget, fitted in ((1, {"n_initial": 1}), (2, {"n_initial": 1}), (100, {})):
        one = SearchConfig(strategy="bayesopt", evaluator="table", space={"name": "nb201"},
                           max_evaluations=budget)  # fmt: skip
        assert one.validate().strategy_budget_changes() == fitted


def test_nsga2s_default_population_shrinks_to_fit_a_small_budget_too(tmp_path):
    from nasbench import search

    # Its default of 20 used to refuse a budget of 12 outright, where evolution shrinks.
    config = SearchConfig(
        strategy="nsga2", evaluator="table", space={"name": "nb201"}, max_evaluations=12
    )
    assert config.strategy_budget_changes() == {"population_size": 3}
    result = search(config, tmp_path / "run")
    assert result.status == "finished" and result.steps == 12
    events = load(tmp_path / "run").events
    assert events[events.kind == "strategy_fitted"].iloc[0].payload["changes"] == {
        "population_size": 3
    }
    chosen = SearchConfig(strategy="nsga2", evaluator="table", space={"name": "nb201"},
                          strategy_config={"population_size": 20}, max_evaluations=12)  # fmt: skip
    with pytest.raises(ConfigError, match="population_size 20 is larger than the budget of 12"):
        chosen.validate()  # a population the user chose is kept, and checked


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"strategy_config": {"population_size": 50}, "max_evaluations": 20}, "population_size"),
        ({"max_evaluations": 0}, "max_evaluations"),
        ({"max_evaluations": None}, "a budget needs"),
        ({"executor": "threads"}, "executor"),
        ({"evaluator": "oracle"}, "oracle"),
    ],
)
def test_search_config_validates_discrete_fields(changes, message):
    base = {"strategy": "evolution", "evaluator": "table", "space": {"name": "nb201"}}
    cfg = SearchConfig(**{**base, **changes})
    with pytest.raises(ConfigError, match=message):
        cfg.validate()


def test_every_discrete_strategy_is_registered_by_name():
    names = strategy_names("discrete")
    for name in ("hill_climbing", "nash", "enas", "nsga2"):
        assert name in names


@pytest.mark.parametrize(
    "strategy, strategy_config, space, evaluations",
    [
        ("hill_climbing", {}, {"name": "nb201"}, 12),
        (
            "nash",
            {"n_children": 2, "n_morphisms": 1, "epochs": 1, "start_epochs": 1,
             "start_channels": 4, "start_layers": 2, "batch_size": 16},
            {"name": "chain", "max_depth": 4},
            3,
        ),
        (
            "enas",
            {"controller_steps": 2, "shared_steps": 2, "data_batch_size": 8, "hidden_size": 8},
            {"name": "darts", "n_nodes": 2, "skeleton": {"n_cells": 2, "channels": 4}},
            4,
        ),
    ],
)  # fmt: skip
def test_search_runs_strategies_that_need_more_than_ask_and_tell(
    tmp_path, strategy, strategy_config, space, evaluations
):
    from nasbench import search

    cfg = SearchConfig(
        dataset=DatasetConfig(name="synthetic", limit=48),
        strategy=strategy,
        strategy_config=strategy_config,
        evaluator="table" if space["name"] == "nb201" else "train",
        space=space,
        max_evaluations=evaluations,
        device="cpu",
    )
    result = search(cfg, tmp_path / "run")
    run = load(tmp_path / "run")
    assert result.status == "finished" and run.status == "finished"
    assert (run.candidates["status"] == "done").sum() == evaluations
    assert result.genotype is not None


def test_weight_carrying_strategies_refuse_a_process_pool():
    cfg = SearchConfig(strategy="nash", space={"name": "chain"}, executor="process")
    with pytest.raises(ConfigError, match='executor "sequential"'):
        cfg.validate()


def _table_search(strategy: str, strategy_config: dict, **overrides) -> SearchConfig:
    return SearchConfig(
        strategy=strategy,
        strategy_config=strategy_config,
        evaluator="table",
        space={"name": "nb201"},
        max_evaluations=30,
        seed=5,
        **overrides,
    )


def _search_stopped_at(config, run_dir, candidate: int, monkeypatch):
    """Run ``config`` with a stop requested as the store records candidate ``candidate``."""
    from nasbench import search

    log_candidate = RunStore.log_candidate

    def log_then_stop(self, candidate_id, *args, **kwargs):
        log_candidate(self, candidate_id, *args, **kwargs)
        if candidate_id == candidate:
            self.request_stop()

    with monkeypatch.context() as patch:
        patch.setattr(RunStore, "log_candidate", log_then_stop)
        return search(config, run_dir)


def _sequence(run_dir) -> list[tuple]:
    frame = load(run_dir).candidates
    return [
        (int(c), g, s, m["score"])
        for c, g, s, m in zip(
            frame.candidate_id, frame.genotype_json, frame.status, frame.metrics, strict=True
        )
    ]


@pytest.mark.slow
@pytest.mark.parametrize(
    "strategy, strategy_config, overrides",
    [
        ("evolution", {"population_size": 6, "sample_size": 3}, {}),
        ("bayesopt", {"n_initial": 5, "pool_size": 50}, {}),
        ("reinforce", {}, {"executor": "process", "executor_config": {"workers": 2}}),
    ],
)
def test_a_stopped_discrete_search_resumes_to_the_uninterrupted_result(
    tmp_path, monkeypatch, strategy, strategy_config, overrides
):
    from nasbench import resume, search

    config = _table_search(strategy, strategy_config, **overrides)
    # The uninterrupted reference runs in-process: "sequential" with the pool's workers
    # asks the same batches and finds what the pool finds (test_executors checks it), and
    # spares a third pool of spawned workers importing torch (most of reinforce's time).
    reference = search(replace(config, executor="sequential"), tmp_path / "reference")

    # The store (the loop's single writer, whatever the executor) asks for a stop as
    # it records the tenth candidate; the loop honours it after that batch.
    stopped = _search_stopped_at(config, tmp_path / "stopped", 9, monkeypatch)
    assert stopped.status == "stopped" and 10 <= stopped.steps < 30

    resumed = resume(tmp_path / "stopped")
    assert resumed.status == "finished" and resumed.steps == reference.steps == 30
    assert resumed.genotype == reference.genotype and resumed.metrics == reference.metrics
    assert _sequence(tmp_path / "stopped") == _sequence(tmp_path / "reference")
    events = load(tmp_path / "stopped").events
    assert list(events.kind).count("discrete_search_resumed") == 1


@pytest.mark.parametrize(
    ("evaluator", "evaluator_config", "charged"),
    [
        ("weight_sharing", {"epochs": 1, "batch_size": 8, "limit": 16, "device": "cpu"},
         "supernet_s"),
        ("smash", {"epochs": 1, "batch_size": 8, "limit": 16, "hidden": 8, "device": "cpu",
                   "skeleton": {"n_cells": 3, "channels": 4}}, "hypernet_s"),
    ],
)  # fmt: skip
def test_a_resumed_search_charges_a_shared_training_once(
    tmp_path, monkeypatch, evaluator, evaluator_config, charged
):
    from nasbench import resume, search

    config = SearchConfig(
        dataset=DatasetConfig(name="synthetic", limit=16),
        strategy="random",
        evaluator=evaluator,
        evaluator_config=evaluator_config,
        space={"name": "nb201"},
        max_evaluations=4,
        seed=2,
        device="cpu",
    )
    search(config, tmp_path / "reference")
    assert _search_stopped_at(config, tmp_path / "stopped", 1, monkeypatch).status == "stopped"
    resume(tmp_path / "stopped")

    def charges(run_dir):
        cost = load(run_dir).candidates["cost"]
        return [float(c["epochs"]) for c in cost], [charged in c for c in cost]

    assert charges(tmp_path / "stopped") == charges(tmp_path / "reference")
    assert charges(tmp_path / "reference")[1] == [True, False, False, False]


def test_resuming_a_finished_discrete_search_gives_its_result_and_writes_nothing(tmp_path):
    from nasbench import resume, search
    from tests.engine.test_kill_anywhere import tables

    config = _table_search("evolution", {"population_size": 6, "sample_size": 3})
    finished = search(config, tmp_path / "run")
    before = tables(tmp_path / "run")
    run = load(tmp_path / "run")
    rows = (len(run.genotypes), len(run.events), len(run.status_history))
    for _ in range(2):
        again = resume(tmp_path / "run")
        assert again.status == "finished" and again.genotype == finished.genotype
        assert again.metrics == finished.metrics and again.steps == finished.steps
    run = load(tmp_path / "run")
    assert (len(run.genotypes), len(run.events), len(run.status_history)) == rows
    assert tables(tmp_path / "run") == before


def test_resume_refuses_strategies_that_keep_networks(tmp_path):
    from nasbench import resume, search
    from nasbench.runs import request_stop

    cfg = SearchConfig(
        dataset=DatasetConfig(name="synthetic", limit=48),
        strategy="nash",
        strategy_config={"n_children": 2, "n_morphisms": 1, "epochs": 1, "start_epochs": 1,
                         "start_channels": 4, "start_layers": 1, "batch_size": 16},
        space={"name": "chain", "max_depth": 3},
        max_evaluations=3,
        device="cpu",
    )  # fmt: skip
    search(cfg, tmp_path / "run")
    request_stop(tmp_path / "run")
    with pytest.raises(ConfigError, match="cannot be resumed"):
        resume(tmp_path / "run")
    assert load(tmp_path / "run").status == "finished"  # the failed resume changed nothing


def test_best_so_far_steps_over_a_failed_score():
    from nasbench.strategies.discrete.loop import DiscreteResult, Trial

    trials = [
        Trial(i, None, Result({"score": s}, {}), i + 1, False, "main", float(i))
        for i, s in enumerate([0.5, float("nan"), 0.7, 0.6])
    ]
    outcome = DiscreteResult(None, trials[2].result, trials, evaluations=4)
    assert outcome.best_so_far().tolist() == [0.5, 0.5, 0.7, 0.7]


def test_a_discrete_search_trains_deterministically_and_resumes_on_its_own_threads(
    tmp_path, monkeypatch
):
    import json
    import sqlite3

    import torch

    from nasbench import resume, search
    from nasbench.evaluation.table_lookup import TableEvaluator

    seen = []
    evaluate = TableEvaluator.evaluate

    def recording(self, genotype, budget=None):
        seen.append((torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()))
        return evaluate(self, genotype, budget)

    monkeypatch.setattr(TableEvaluator, "evaluate", recording)
    log_candidate = RunStore.log_candidate

    def log_then_stop(self, candidate_id, *args, **kwargs):
        log_candidate(self, candidate_id, *args, **kwargs)
        if candidate_id == 4:
            self.request_stop()

    config = _table_search("random", {}, deterministic=True)
    with monkeypatch.context() as patch:
        patch.setattr(RunStore, "log_candidate", log_then_stop)
        search(config, tmp_path / "run")
    assert seen and all(deterministic for deterministic, _ in seen)
    assert not torch.are_deterministic_algorithms_enabled()  # the caller's setting is back
    # The run started on another thread count than this process has: resume uses the run's.
    own = torch.get_num_threads() + 1
    with sqlite3.connect(tmp_path / "run" / "run.sqlite") as db:
        (text,) = db.execute("SELECT value FROM meta WHERE key = 'environment'").fetchone()
        db.execute("UPDATE meta SET value = ? WHERE key = 'environment'",
                   (json.dumps({**json.loads(text), "threads": own}),))  # fmt: skip
    seen.clear()
    assert resume(tmp_path / "run").status == "finished"
    assert seen and all(threads == own for _, threads in seen)
    assert torch.get_num_threads() == own - 1


def test_a_recorded_cell_in_another_input_order_replays_as_the_same_candidate():
    from nasbench.evaluation import Result
    from nasbench.spaces import CellSpace, zoo
    from nasbench.strategies.discrete.loop import RecordedTrial

    space = CellSpace()
    darts_v2 = zoo["DARTS_V2"]
    # An earlier version recorded this cell with a node's inputs in drawn order.
    normal = darts_v2.normal[1::-1] + darts_v2.normal[2:]
    recorded = type(darts_v2)(normal, darts_v2.normal_concat, darts_v2.reduce,
                              darts_v2.reduce_concat)  # fmt: skip
    trial = RecordedTrial(7, recorded.to_json(), Result({"score": 0.5}, {}, {}), False, "")
    proposed = space.validate(space._make(recorded.normal, recorded.reduce))
    assert proposed.to_json() != recorded.to_json()
    trial.check(7, proposed, space)  # the same cell: replayed
    other = space.neighbours(proposed)[0]
    with pytest.raises(ConfigError, match="candidate 7 differs"):
        trial.check(7, other, space)
    with pytest.raises(ConfigError, match="candidate 7 differs"):
        trial.check(7, proposed)  # without the space, only the exact text counts


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="lists /proc/self/fd")
def test_resume_leaves_no_reader_of_the_run_open(tmp_path, monkeypatch):
    import gc

    from nasbench import resume

    run_dir = tmp_path / "stopped"
    _search_stopped_at(_table_search("random", {}), run_dir, 9, monkeypatch)
    database = os.path.realpath(run_dir / "run.sqlite")

    def held() -> list[str]:
        links = []
        for fd in os.listdir("/proc/self/fd"):
            try:
                links.append(os.readlink(f"/proc/self/fd/{fd}"))
            except OSError:  # the listing's own descriptor, closed by now
                pass
        return [link for link in links if link.startswith(database)]

    gc.disable()  # a collection would close a leaked reader and hide the leak
    try:
        assert resume(run_dir).status == "finished"  # replays, then searches on
        assert held() == []
        assert resume(run_dir).status == "finished"  # reads the finished run's result
        assert held() == []
    finally:
        gc.enable()
