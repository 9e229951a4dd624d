"""Diverging candidates in the learning, multi-objective, racing and weight-sharing searches:
recorded as failed, learnt from without infinities, never the best or on the front."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from nasbench.errors import DivergenceError
from nasbench.evaluation.base import Result
from nasbench.runs import RunStore, load
from nasbench.spaces import CellSpace, ChainSpace, NB201Space
from nasbench.strategies import create_strategy
from nasbench.strategies.discrete import Budget, ProcessPoolExecutor, run_discrete
from nasbench.strategies.discrete.executors import SequentialExecutor, failure
from nasbench.strategies.discrete.nash import NashConfig, NashHillClimbing


class Hashed:
    """A score from a hash of the genotype: any space, no table needed."""

    def evaluate(self, genotype, budget=None):
        return Result({"score": zlib.crc32(genotype.to_json().encode()) % 1000 / 1000})


def _chain():
    return ChainSpace(layer_types=("conv", "max_pool"), kernels=(1, 3), pool_kernels=(3,),
                      strides=(1,), filters=(16, 32), max_depth=3)  # fmt: skip


# name, config, space, evaluator ("table" or "hashed")
LEARNERS = [
    ("bayesopt", {"n_initial": 2, "pool_size": 20, "n_mutations": 5}, NB201Space, "table"),
    ("reinforce", {}, NB201Space, "table"),
    ("qlearning", {"random_episodes": 4, "replay_updates": 5}, _chain, "hashed"),
    ("nsga2", {"population_size": 4}, NB201Space, "table"),
    ("autohas", {}, NB201Space, "table"),
    ("enas", {}, lambda: CellSpace(n_nodes=2), "hashed"),
]


def _strategy(name, config, space, seed=1):
    return create_strategy(name, config, space=space(), seed=seed)


def _finite_learnt_state(strategy) -> bool:
    """No infinity or NaN in what the strategy learnt (Q table, controller, policy)."""
    values = []
    if hasattr(strategy, "q"):
        values += [v for row in strategy.q.values() for v in row]
    for module in ("controller", "arch_logits"):
        part = getattr(strategy, module, None)
        if part is not None:
            tensors = part.parameters() if hasattr(part, "parameters") else [part]
            values += [float(x) for t in tensors for x in t.detach().flatten()]
    return bool(np.isfinite(values).all())


@pytest.mark.parametrize("name, config, space, evaluator", LEARNERS)
def test_a_learning_search_goes_on_past_diverging_candidates(
    tmp_path, flaky, table, name, config, space, evaluator
):
    strategy = _strategy(name, config, space)
    inner = table if evaluator == "table" else Hashed()
    with (
        RunStore.create(tmp_path / "run", {"strategy": name}, environment={}) as store,
        pytest.warns(UserWarning, match=r"candidate \d+ failed: training candidate .* diverged"),
    ):
        out = run_discrete(strategy, flaky.Flaky(inner), Budget(max_evaluations=16), store=store)
    assert out.stop_reason == "max_evaluations" and out.evaluations == 16
    evaluated = [t for t in out.history if not t.cached]
    failed = [t for t in evaluated if flaky.diverges(t.genotype, 3)]
    assert failed and len(failed) < len(evaluated)
    assert all(failure(t.result) is not None for t in failed)
    best = max(t.result.score for t in evaluated if not flaky.diverges(t.genotype, 3))
    assert out.best_result.score == best and failure(out.best_result) is None
    assert _finite_learnt_state(strategy)  # a -inf reward no longer poisons the policy

    rows = load(tmp_path / "run").candidates
    done = rows[rows.status == "failed"]
    assert len(done) == len(failed)
    for metrics, info in zip(done.metrics, done["info"], strict=True):
        assert metrics == {} and info["diverged"].startswith("training candidate")
    if name == "nsga2":  # a failed candidate has no objectives: never on the front
        front = strategy.pareto()
        assert front and not any(flaky.diverges(g, 3) for g, _ in front)
        assert all(np.isfinite(values).all() for _, values in front)


@pytest.mark.parametrize("name, config, space, evaluator", LEARNERS)
def test_a_learning_search_whose_every_candidate_diverges_ends_in_one_line(
    tmp_path, flaky, table, name, config, space, evaluator
):
    strategy = _strategy(name, {**config, "population_size": 2} if name == "nsga2" else config,
                         space)  # fmt: skip
    inner = table if evaluator == "table" else Hashed()
    with (
        RunStore.create(tmp_path / "run", {"strategy": name}, environment={}) as store,
        pytest.warns(UserWarning),
        pytest.raises(DivergenceError) as err,
    ):
        run_discrete(strategy, flaky.Flaky(inner, every=1), Budget(max_evaluations=16),
                     store=store)  # fmt: skip
    text = str(err.value)
    assert text.startswith("all 3 candidates evaluated diverged; the first: training candidate")
    assert "\n" not in text
    assert list(load(tmp_path / "run").candidates.status) == ["failed"] * 3
    assert _finite_learnt_state(strategy)


HYPERBAND = {"min_budget": 1, "max_budget": 9, "eta": 3}
HALVING = {"n_candidates": 9, "min_budget": 1, "max_budget": 9, "eta": 3}
RACES = [("hyperband", HYPERBAND), ("successive_halving", HALVING)]


@pytest.mark.parametrize("name, config", RACES)
def test_a_race_records_diverging_candidates_as_failed(tmp_path, flaky, table, name, config):
    race = create_strategy(name, config, space=NB201Space(), seed=1)
    with (
        RunStore.create(tmp_path / "run", {"strategy": name}, environment={}) as store,
        pytest.warns(UserWarning, match=r"candidate \d+ failed: training candidate .* diverged"),
    ):
        out = run_discrete(race, flaky.Flaky(table), Budget(max_evaluations=40), store=store)
    assert out.stop_reason == "finished" and out.evaluations == race.planned_evaluations()
    failed = [t for t in out.history if flaky.diverges(t.genotype, 3)]
    assert failed and all(failure(t.result) is not None for t in failed)
    assert failure(out.best_result) is None and not flaky.diverges(out.best_genotype, 3)

    rows = load(tmp_path / "run").candidates
    done = rows[rows.status == "failed"]
    assert len(done) == len(failed) and (rows.status != "failed").sum() == len(rows) - len(failed)
    for metrics, info in zip(done.metrics, done["info"], strict=True):
        assert metrics == {} and info["diverged"].startswith("training candidate")
        assert {"bracket", "rung", "budget"} <= set(info)  # still reads as the race did


def test_a_race_whose_last_rung_diverges_has_no_best(flaky, table):
    # Every candidate trains at 1 and 3 epochs and diverges at 9: the one finalist fails.
    race = create_strategy("successive_halving", HALVING, space=NB201Space(), seed=1)
    with pytest.warns(UserWarning, match="failed"):
        out = run_discrete(race, flaky.Flaky(table, every=1, at_budget=9.0),
                           Budget(max_evaluations=40))  # fmt: skip
    assert out.stop_reason == "finished" and failure(out.history[-1].result) is not None
    assert out.best_genotype is None and out.best_result is None


@pytest.mark.parametrize("name, config", RACES)
def test_a_race_that_loses_a_rung_to_divergence_plans_fewer_evaluations(
    tmp_path, flaky, table, name, config
):
    # Every candidate trains at 1 and 9 epochs but diverges at 3: a bracket whose 3-epoch
    # rung fails has no finalist to race at 9, so the race makes fewer evaluations.
    race = create_strategy(name, config, space=NB201Space(), seed=1)
    with (
        RunStore.create(tmp_path / "run", {"strategy": name}, environment={}) as store,
        pytest.warns(UserWarning, match="failed"),
    ):
        out = run_discrete(race, flaky.Flaky(table, every=1, at_budget=3.0),
                           Budget(max_evaluations=40), store=store)  # fmt: skip
    assert out.stop_reason == "finished" and out.evaluations < race.planned_evaluations()
    progress = load(tmp_path / "run").progress
    assert progress["step"] == progress["total_steps"] == out.evaluations
    assert progress["fraction"] == 1.0


@pytest.mark.parametrize("name, config", RACES)
def test_a_race_whose_every_candidate_diverges_ends_in_one_line(
    tmp_path, flaky, table, name, config
):
    race = create_strategy(name, config, space=NB201Space(), seed=1)
    with (
        RunStore.create(tmp_path / "run", {"strategy": name}, environment={}) as store,
        pytest.warns(UserWarning),
        pytest.raises(DivergenceError) as err,
    ):
        run_discrete(race, flaky.Flaky(table, every=1), Budget(max_evaluations=40), store=store)
    text = str(err.value)
    assert text.startswith("all 3 candidates evaluated diverged; the first: training candidate")
    assert "\n" not in text
    assert list(load(tmp_path / "run").candidates.status) == ["failed"] * 3


@pytest.mark.slow
def test_a_process_pool_races_to_the_same_failed_rows_as_sequential(tmp_path, flaky, table):
    def rows_of(label, executor):
        race = create_strategy("hyperband", HYPERBAND, space=NB201Space(), seed=2)
        with RunStore.create(tmp_path / label, {}, environment={}) as store:
            run_discrete(race, flaky.Flaky(table), Budget(max_evaluations=40), store=store,
                         executor=executor)  # fmt: skip
        rows = load(tmp_path / label).candidates
        columns = (rows.candidate_id, rows.genotype_json, rows.status, rows.metrics, rows["info"])
        return [(int(c), g, s, m, i) for c, g, s, m, i in zip(*columns, strict=True)]

    with pytest.warns(UserWarning):
        sequential = rows_of("sequential", SequentialExecutor(workers=2))
        pool = rows_of("process", ProcessPoolExecutor(workers=2))
    assert "failed" in {row[2] for row in sequential}
    assert pool == sequential


class StartDiverges:
    """NASH's starting network diverges; nothing else is ever asked for."""

    def evaluate(self, genotype, budget=None):
        raise DivergenceError("training the start network diverged at epoch 1: the loss is nan")


def test_nash_whose_start_network_diverges_ends_in_one_line(tmp_path):
    config = NashConfig(n_children=3, start_channels=4, start_layers=2, max_channels=16,
                        max_layers=5)  # fmt: skip
    nash = NashHillClimbing(config, _chain(), seed=0)
    with (
        RunStore.create(tmp_path / "run", {"strategy": "nash"}, environment={}) as store,
        pytest.warns(UserWarning, match="candidate 0 failed"),
        pytest.raises(DivergenceError) as err,
    ):
        run_discrete(nash, StartDiverges(), Budget(max_evaluations=12), store=store,
                     cache="none")  # fmt: skip
    assert str(err.value) == "training the start network diverged at epoch 1: the loss is nan"
    assert nash.finished and list(load(tmp_path / "run").candidates.status) == ["failed"]
