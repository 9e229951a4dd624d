"""A diverging candidate is a failed trial: recorded, told as the worst, never the best."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nasbench.config import SearchConfig
from nasbench.errors import ConfigError, DivergenceError
from nasbench.evaluation.base import Result
from nasbench.runs import RunStore, load
from nasbench.spaces import NB201Space
from nasbench.strategies import create_strategy
from nasbench.strategies.discrete import Budget, ProcessPoolExecutor, run_discrete
from nasbench.strategies.discrete.executors import SequentialExecutor, failure

STRATEGIES = [
    ("random", {}),
    ("evolution", {"population_size": 6, "sample_size": 3}),
    ("genetic", {"population_size": 6}),
    ("hill_climbing", {}),
]


@pytest.mark.parametrize("name, config", STRATEGIES)
def test_a_search_goes_on_past_diverging_candidates(tmp_path, flaky, table, name, config):
    strategy = create_strategy(name, config, space=NB201Space(), seed=1)
    with (
        RunStore.create(tmp_path / "run", {"strategy": name}, environment={}) as store,
        pytest.warns(UserWarning, match=r"candidate \d+ failed: training candidate .* diverged"),
    ):
        out = run_discrete(strategy, flaky.Flaky(table), Budget(max_evaluations=24), store=store)
    assert out.stop_reason == "max_evaluations" and out.evaluations == 24  # failed ones count
    evaluated = [t for t in out.history if not t.cached]
    failed = [t for t in evaluated if flaky.diverges(t.genotype, 3)]
    assert failed and len(failed) < len(evaluated)
    assert all(failure(t.result) is not None and t.result.score == -math.inf for t in failed)
    best = max(t.result.score for t in evaluated if not flaky.diverges(t.genotype, 3))
    assert out.best_result.score == best and not flaky.diverges(out.best_genotype, 3)
    assert failure(out.best_result) is None

    rows = load(tmp_path / "run").candidates
    done = rows[rows.status == "failed"]
    assert len(done) == len(failed)
    for info, metrics in zip(done["info"], done["metrics"], strict=True):
        assert info["diverged"].startswith("training candidate") and "\n" not in info["diverged"]
        assert info["diverged"].endswith("search again.") and "score" not in metrics


@pytest.mark.parametrize("budget, evaluated", [(20, 3), (2, 2), (1, 1)])
def test_a_search_whose_every_candidate_diverges_ends_in_one_line(
    tmp_path, flaky, table, budget, evaluated
):
    strategy = create_strategy("random", {}, space=NB201Space(), seed=0)
    with (
        RunStore.create(tmp_path / "run", {"strategy": "random"}, environment={}) as store,
        pytest.warns(UserWarning),
        pytest.raises(DivergenceError) as err,
    ):
        run_discrete(strategy, flaky.Flaky(table, every=1), Budget(max_evaluations=budget),
                     store=store)  # fmt: skip
    text = str(err.value)
    first = "" if evaluated == 1 else f"all {evaluated} candidates evaluated diverged; the first: "
    assert text.startswith(first + "training candidate {")
    assert "training candidate" in text and "lower the train evaluator's lr" in text
    assert "\n" not in text
    assert list(load(tmp_path / "run").candidates.status) == ["failed"] * evaluated


class Scripted:
    """Diverges on the first call and raises ``error`` on the third."""

    def __init__(self, inner, error):
        self.inner, self.error, self.calls = inner, error, 0

    def evaluate(self, genotype, budget=None):
        self.calls += 1
        if self.calls == 1:
            raise DivergenceError("training diverged at epoch 1: the loss is nan")
        if self.calls == 3:
            raise self.error("not a divergence")
        return self.inner.evaluate(genotype, budget)


@pytest.mark.parametrize("error", [TypeError, ConfigError, KeyboardInterrupt])
def test_any_other_error_still_ends_the_search_at_once(table, error):
    evaluator = Scripted(table, error)
    strategy = create_strategy("random", {}, space=NB201Space(), seed=0)
    with pytest.warns(UserWarning, match="candidate 0 failed"), pytest.raises(error):
        run_discrete(strategy, evaluator, Budget(max_evaluations=10))
    assert evaluator.calls == 3


@pytest.mark.slow
def test_a_process_pool_records_the_same_failed_candidates_as_sequential(tmp_path, flaky, table):
    def table_of(name, executor):
        strategy = create_strategy(
            "evolution", {"population_size": 6, "sample_size": 3}, space=NB201Space(), seed=3
        )
        with RunStore.create(tmp_path / name, {}, environment={}) as store:
            run_discrete(strategy, flaky.Flaky(table), Budget(max_evaluations=14), store=store,
                         executor=executor, batch_size=2)  # fmt: skip
        rows = load(tmp_path / name).candidates
        columns = (rows.candidate_id, rows.genotype_json, rows.status, rows.metrics, rows["info"])
        return [(int(c), g, s, m, i) for c, g, s, m, i in zip(*columns, strict=True)]

    with pytest.warns(UserWarning):
        sequential = table_of("sequential", SequentialExecutor(workers=2))
        pool = table_of("process", ProcessPoolExecutor(workers=2))
    assert "failed" in {row[2] for row in sequential}
    assert pool == sequential


@pytest.mark.parametrize(
    "strategy, strategy_config, evaluations, stop_after, seed",
    [
        ("random", {}, 16, 5, 5),
        ("evolution", {"population_size": 6, "sample_size": 3}, 16, 5, 5),
        # A race looks its rows up by candidate and rung: none may be evaluated twice.
        ("hyperband", {"min_budget": 1, "max_budget": 9, "eta": 3}, 40, 6, 3),
    ],
)
def test_a_stopped_search_with_failed_candidates_resumes_to_the_uninterrupted_result(
    tmp_path, monkeypatch, flaky, strategy, strategy_config, evaluations, stop_after, seed
):
    from nasbench import resume, search
    from nasbench.evaluation.table_lookup import TableEvaluator

    evaluate = TableEvaluator.evaluate

    def diverging(self, genotype, budget=None):
        if flaky.diverges(genotype, 3):
            raise DivergenceError(f"training candidate {genotype.to_json()} diverged")
        return evaluate(self, genotype, budget)

    monkeypatch.setattr(TableEvaluator, "evaluate", diverging)
    config = SearchConfig(strategy=strategy, strategy_config=strategy_config, evaluator="table",
                          space={"name": "nb201"}, max_evaluations=evaluations,
                          seed=seed)  # fmt: skip
    log_candidate = RunStore.log_candidate

    def log_then_stop(self, candidate_id, *args, **kwargs):
        log_candidate(self, candidate_id, *args, **kwargs)
        if candidate_id == stop_after:
            self.request_stop()

    def rows(run_dir):
        frame = load(run_dir).candidates
        columns = (frame.candidate_id, frame.genotype_json, frame.status, frame.metrics)
        return [(int(c), g, s, m) for c, g, s, m in zip(*columns, strict=True)]

    with pytest.warns(UserWarning):
        reference = search(config, tmp_path / "reference")
        with monkeypatch.context() as patch:
            patch.setattr(RunStore, "log_candidate", log_then_stop)
            assert search(config, tmp_path / "stopped").status == "stopped"
        resumed = resume(tmp_path / "stopped")
    assert "failed" in {row[2] for row in rows(tmp_path / "stopped")[: stop_after + 1]}
    assert resumed.status == "finished" and resumed.steps == reference.steps
    assert resumed.genotype == reference.genotype and resumed.metrics == reference.metrics
    assert rows(tmp_path / "stopped") == rows(tmp_path / "reference")


def test_an_evaluators_own_diverged_flag_is_not_a_failure(tmp_path, monkeypatch):
    """Only the executor's failed result is a failure: an evaluator may report its own
    ``info["diverged"] = False`` beside a real score, and a resume replays it as done."""
    from nasbench import resume, search
    from nasbench.evaluation.base import Result
    from nasbench.evaluation.table_lookup import TableEvaluator

    evaluate = TableEvaluator.evaluate

    def flagged(self, genotype, budget=None):
        result = evaluate(self, genotype, budget)
        return Result(result.metrics, result.cost, {**result.info, "diverged": False})

    monkeypatch.setattr(TableEvaluator, "evaluate", flagged)
    config = SearchConfig(strategy="random", evaluator="table", space={"name": "nb201"},
                          max_evaluations=8, seed=5)  # fmt: skip
    log_candidate = RunStore.log_candidate

    def log_then_stop(self, candidate_id, *args, **kwargs):
        log_candidate(self, candidate_id, *args, **kwargs)
        if candidate_id == 3:
            self.request_stop()

    reference = search(config, tmp_path / "reference")
    with monkeypatch.context() as patch:
        patch.setattr(RunStore, "log_candidate", log_then_stop)
        assert search(config, tmp_path / "stopped").status == "stopped"
    resumed = resume(tmp_path / "stopped")
    for run_dir in ("reference", "stopped"):
        assert set(load(tmp_path / run_dir).candidates.status) == {"done"}
    assert reference.status == resumed.status == "finished"
    assert resumed.genotype == reference.genotype and resumed.metrics == reference.metrics


def test_a_search_stopped_before_any_candidate_trained_prints_no_genotype(capsys, tmp_path):
    from nasbench.engine.commands import _print_result
    from nasbench.engine.result import SearchResult

    with RunStore.create(tmp_path / "run", {"strategy": "random"}, environment={}) as store:
        store.set_status("stopped", "stop_requested")
    _print_result(SearchResult(tmp_path / "run", "stopped", None, {}, 2))
    out = capsys.readouterr().out
    assert "genotype: none yet (no candidate has trained)" in out
    assert "continue it with `nasbench resume" in out


@pytest.mark.parametrize("name", ["evolution", "genetic"])
def test_a_nan_score_ranks_last_in_the_population_not_first(name):
    # A table cell left unrecorded scores NaN; max() and sorted() keep a NaN met first, so
    # a NaN-scored member won every tournament it entered (and the genetic elite).
    config = {"population_size": 4, "sample_size": 4} if name == "evolution" else {
        "population_size": 4, "elitism": 1}  # fmt: skip
    strategy = create_strategy(name, config, space=NB201Space(), seed=0)
    members = [strategy.ask() for _ in range(4)]
    scores = [math.nan, 0.9, 0.1, 0.2]
    for genotype, score in zip(members, scores, strict=True):
        strategy.tell(genotype, Result({"score": score}))
    if name == "evolution":
        strategy.space.mutate = lambda genotype, rng: genotype  # the child is its parent

        class InOrder:  # the tournament draws the members in order: the NaN one first
            def __init__(self, rng):
                self.rng = rng

            def choice(self, n, size, replace):
                return np.arange(size)

            def __getattr__(self, name):
                return getattr(self.rng, name)

        strategy.rng = InOrder(strategy.rng)
        assert strategy.ask() == members[1]
    else:  # the generation's best, which decides when the search is stale
        assert strategy.best == 0.9
        assert all(not math.isnan(m[1]) for m in strategy.population)
