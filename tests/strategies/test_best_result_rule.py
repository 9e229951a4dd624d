"""One rule keeps a discrete search's best: a score that is not a finite number (NaN from a
metric a table row left unrecorded, inf) is never the best, in the shared loop, in the
races (successive halving, Hyperband) and in hill climbing's moves."""

from __future__ import annotations

import math

import pytest

from nasbench.evaluation.base import Result
from nasbench.spaces import NB201Space
from nasbench.strategies import create_strategy
from nasbench.strategies.discrete import Budget, run_discrete
from nasbench.strategies.discrete.loop import improves_on, ranked_score

SPACE = NB201Space(ops=["none", "skip_connect", "nor_conv_3x3"])


class FirstSeenUnscored:
    """Scores a cell by its convolutions, but the first ``unscored`` distinct cells it sees
    get ``bad`` (a NaN or inf score, as a damaged table row gives)."""

    max_budget = 9

    def __init__(self, unscored: int, bad: float = math.nan) -> None:
        self.unscored, self.bad, self.order = unscored, bad, {}

    def evaluate(self, g, budget=None):
        position = self.order.setdefault(g.to_json(), len(self.order))
        convs = sum(op.startswith("nor_conv") for _, _, op in g.edges())
        score = self.bad if position < self.unscored else convs / 6 + (budget or 0) / 100
        return Result({"score": score, "val_acc": score}, {"epochs": float(budget or 1)})


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_score_that_is_not_finite_ranks_last_and_never_improves(bad):
    assert ranked_score(Result({"score": bad})) == -math.inf
    assert ranked_score(Result({"score": 0.25})) == 0.25
    assert not improves_on(Result({"score": bad}), None)
    assert not improves_on(Result({"score": bad}), Result({"score": 0.1}))
    assert improves_on(Result({"score": 0.1}), Result({"score": bad}))
    assert not improves_on(Result({"score": 0.1}), Result({"score": 0.1}))  # ties: earlier


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_the_loop_never_keeps_a_first_candidate_without_a_finite_score(bad):
    strategy = create_strategy("random", {}, space=SPACE, seed=0)
    out = run_discrete(strategy, FirstSeenUnscored(1, bad), Budget(max_evaluations=8))
    first = out.history[0].result.score
    assert first != first or first == bad  # the first candidate was the unscored one
    finite = [t.result.score for t in out.history if math.isfinite(t.result.score)]
    assert out.best_result.score == max(finite)
    assert out.best_genotype == next(
        t.genotype for t in out.history if t.result.score == max(finite)
    )


def test_hill_climbing_moves_on_from_a_start_without_a_score():
    strategy = create_strategy("hill_climbing", {}, space=SPACE, seed=0)
    start = strategy.ask()
    strategy.tell(start, Result({"score": math.nan}))
    neighbour = strategy.ask()
    assert neighbour in SPACE.neighbours(start)  # it climbs from the start, as from -inf
    strategy.tell(neighbour, Result({"score": 0.5}))
    # A NaN current score compared false with every neighbour's: the climb never moved.
    assert strategy.current == (neighbour, 0.5)


def test_hyperband_keeps_a_later_brackets_winner_over_an_unscored_first_one():
    strategy = create_strategy(
        "hyperband", {"min_budget": 1, "max_budget": 9, "eta": 3}, space=SPACE, seed=0
    )
    # Hyperband(1, 9, 3) starts 9 candidates in its first bracket: none of them is scored.
    out = run_discrete(strategy, FirstSeenUnscored(9), Budget(max_evaluations=40))
    assert out.best_result is not None and math.isfinite(out.best_result.score)
    assert out.best_result.score == max(
        t.result.score
        for t in out.history
        if t.result.info["budget"] == 9 and math.isfinite(t.result.score)
    )
