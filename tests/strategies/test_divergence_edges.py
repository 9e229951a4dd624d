"""Divergence at the edges of the discrete searches: a race run directly (not through the
loop) records a diverging candidate as failed, and ENAS and AutoHAS stop once their shared
weights are no longer finite instead of failing every later candidate."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nasbench.config import DatasetConfig, SearchConfig
from nasbench.errors import DivergenceError
from nasbench.runs import load
from nasbench.spaces import NB201Space
from nasbench.strategies.discrete.executors import failure
from nasbench.strategies.discrete.halving import Hyperband, SuccessiveHalving


def _race(name, evaluator):
    if name == "successive_halving":
        space = NB201Space()
        rng = np.random.default_rng(0)
        return SuccessiveHalving(1, 9, 3).run(evaluator, [space.sample(rng) for _ in range(9)])
    return Hyperband(1, 9, 3).run(evaluator, NB201Space(), seed=1)


class Counted:
    """Counts the evaluations it passes on."""

    def __init__(self, inner):
        self.inner, self.calls = inner, 0

    def evaluate(self, genotype, budget=None):
        self.calls += 1
        return self.inner.evaluate(genotype, budget)


@pytest.mark.parametrize("name", ["successive_halving", "hyperband"])
def test_a_race_run_directly_records_diverging_candidates_as_failed(flaky, table, name):
    with pytest.warns(UserWarning, match=r"candidate \d+ \(bracket \d, rung 0, budget \d\) failed"):
        report = _race(name, flaky.Flaky(table))
    failed = [e for e in report.evaluations if flaky.diverges(e.genotype, 3)]
    assert failed and len(failed) < len(report.evaluations)
    assert all(failure(e.result) is not None and e.result.score == -math.inf for e in failed)
    assert not any(e.rung > 0 for e in failed)  # ranked last: never promoted
    best = max(e.result.score for e in report.evaluations if e.budget == 9)
    assert report.best_result.score == best and not flaky.diverges(report.best, 3)

    frame = report.to_frame()
    assert list(frame.status) == [
        "failed" if flaky.diverges(e.genotype, 3) else "done" for e in report.evaluations
    ]
    gone = frame[frame.status == "failed"]
    assert gone.score.isna().all() and frame[frame.status == "done"].score.notna().all()
    assert all(r.startswith("training candidate") and "\n" not in r for r in gone.diverged)
    assert frame[frame.status == "done"].diverged.isna().all()


@pytest.mark.parametrize("name", ["successive_halving", "hyperband"])
def test_a_race_run_directly_whose_every_candidate_diverges_ends_in_one_line(flaky, table, name):
    evaluator = Counted(flaky.Flaky(table, every=1))
    with pytest.warns(UserWarning), pytest.raises(DivergenceError) as err:
        _race(name, evaluator)
    text = str(err.value)
    assert text.startswith(
        "all 3 candidates evaluated diverged, so the race stopped; lower the evaluator's "
        "learning rate"
    )
    assert "(the first: training candidate {" in text and "\n" not in text
    assert evaluator.calls == 3  # gave up as the search loop does, not after the whole race


@pytest.mark.parametrize("name", ["successive_halving", "hyperband"])
def test_a_race_run_directly_whose_finalists_all_diverge_has_no_best(flaky, table, name):
    # Every candidate trains below 9 epochs and diverges at 9: no finalist wins.
    with pytest.warns(UserWarning, match="failed"):
        report = _race(name, flaky.Flaky(table, every=1, at_budget=9.0))
    assert report.best is None and report.best_result is None
    last = [e for e in report.evaluations if e.budget == 9]
    assert last and all(failure(e.result) is not None for e in last)
    assert (report.to_frame().status == "done").sum() == len(report.evaluations) - len(last)


# Tiny shared networks whose learning rate makes their weights overflow after a few
# candidates: the old searches failed every candidate after that and "finished".
DIVERGING = {
    "enas": (
        {"controller_steps": 2, "shared_steps": 2, "data_batch_size": 8, "hidden_size": 8,
         "shared_lr": 1e8, "grad_clip": 0.0, "n_cells": 2, "channels": 4},
        {"name": "darts", "ops": ["skip_connect", "sep_conv_3x3", "max_pool_3x3"],
         "n_nodes": 2},
        r"the ENAS shared weights diverged in shared-weight phase 3 \(shared step 6, before "
        r"candidate 4\): .*lower strategy_config shared_lr \(now 1e\+08\) or turn grad_clip "
        r"back on \(e\.g\. 5\), and",
        ["done", "done", "failed", "failed", "failed"],
    ),
    "autohas": (
        {"n_cells": 2, "channels": 4, "batch_size": [8], "val_batch_size": 8, "lr": [1e6]},
        {"name": "nb201"},
        r"the AutoHAS shared weights diverged at candidate 5 \(shared step 6, lr 1e\+06\): "
        r".*lower the learning-rate choices \(strategy_config lr, now \[1e\+06\]\)",
        ["done"] * 5 + ["failed"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(DIVERGING))
def test_a_weight_sharing_search_stops_once_its_shared_weights_diverge(tmp_path, name):
    from nasbench import search

    strategy_config, space, message, statuses = DIVERGING[name]
    config = SearchConfig(dataset=DatasetConfig(name="synthetic", limit=32), strategy=name,
                          strategy_config=strategy_config, space=space, max_evaluations=12,
                          device="cpu", seed=0)  # fmt: skip
    with pytest.warns(UserWarning), pytest.raises(DivergenceError, match=message) as err:
        search(config, tmp_path / "run")
    text = str(err.value)
    assert "\n" not in text and text.endswith("and start a new search.")
    run = load(tmp_path / "run")
    assert run.status == "failed" and run.message == text  # the run's one line
    assert list(run.candidates.status) == statuses  # not the whole budget of failures
    assert run.candidates["info"].iloc[-1]["diverged"] == text  # the candidate that saw it
    assert run.genotypes.empty  # as any failed search: no result row


class OnlyFirst:
    """Scores the first genotype it is asked about (by the table); every other diverges."""

    def __init__(self, inner):
        self.inner, self.ok, self.calls = inner, None, []
        self.max_budget = inner.max_budget

    def evaluate(self, genotype, budget=None):
        self.ok = self.ok or genotype.to_json()
        self.calls.append((genotype.to_json(), budget))
        if genotype.to_json() != self.ok:
            raise DivergenceError(f"training candidate {genotype.to_json()} diverged")
        return self.inner.evaluate(genotype, budget)


def test_a_race_run_directly_never_trains_a_diverged_candidate_again(table):
    rng = np.random.default_rng(0)
    genotypes = [NB201Space().sample(rng) for _ in range(9)]
    evaluator = OnlyFirst(table)
    with pytest.warns(UserWarning, match="failed"):
        report = SuccessiveHalving(1, 9, 3).run(evaluator, genotypes)
    # Rung 1 keeps 3 of 9, but only one succeeded: it alone goes on, at 3 and 9 epochs.
    assert [b for _, b in evaluator.calls] == [1] * 9 + [3, 9]
    assert report.best == genotypes[0] and report.spent_budget == 9 + 3 + 9
    frame = report.to_frame()
    assert list(frame.diverged[frame.status == "done"]) == [None, None, None]  # not NaN

    one = OnlyFirst(table)
    one.ok = "nothing"  # the one candidate diverges: evaluated once, named once
    with pytest.warns(UserWarning), pytest.raises(DivergenceError) as err:
        SuccessiveHalving(1, 9, 3).run(one, genotypes[:1])
    assert len(one.calls) == 1
    assert str(err.value).startswith("the one candidate evaluated diverged, so the race stopped")


@pytest.mark.parametrize(
    "name, config, budgets",
    [
        # Only the first candidate succeeds: it alone goes on (not 2 failed ones beside it).
        ("successive_halving", {"n_candidates": 9, "min_budget": 1, "max_budget": 9, "eta": 3},
         [1] * 9 + [3, 9]),
        # Brackets (9 at 1), (5 at 3), (3 at 9): the later ones diverge entirely and stop.
        ("hyperband", {"min_budget": 1, "max_budget": 9, "eta": 3},
         [1] * 9 + [3, 9] + [3] * 5 + [9] * 3),
    ],
)  # fmt: skip
def test_a_race_search_never_trains_a_diverged_candidate_again(table, name, config, budgets):
    from nasbench.strategies import create_strategy
    from nasbench.strategies.discrete import Budget, run_discrete

    race = create_strategy(name, config, space=NB201Space(), seed=1)
    evaluator = OnlyFirst(table)
    with pytest.warns(UserWarning, match="failed"):
        out = run_discrete(race, evaluator, Budget(max_evaluations=40))
    assert [b for _, b in evaluator.calls] == budgets
    assert not any(failure(t.result) is not None and t.result.info["rung"] > 0
                   for t in out.history)  # fmt: skip
    assert out.stop_reason == "finished" and out.best_genotype.to_json() == evaluator.ok
