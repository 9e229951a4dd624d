"""Successive halving and Hyperband: the rung schedules, and the searches built on them.

:class:`SuccessiveHalving` (Jamieson & Talwalkar, 2016) and :class:`Hyperband`
(Li et al., 2018) spend a budget of epochs over many candidates: evaluate all at a
small budget, keep the best ``1/eta``, multiply the budget by ``eta``, repeat.
Every evaluation starts from scratch (evaluators do not resume), so the budget
spent is ``sum(n_i * r_i)`` over the rungs, and :meth:`SuccessiveHalving.planned_budget`
states it before anything runs. Both race a list of candidates through any evaluator.

:class:`SuccessiveHalvingSearch` and :class:`HyperbandSearch` are them as strategies
of kind ``"discrete"`` that ``nasbench.search`` runs like any other: they sample their
candidates from the space with their seed, then race them, a rung at a time, through
the run's executor (a rung's evaluations are independent, so a process pool or Ray
runs them side by side) and record every evaluation as a candidate row whose info
holds ``bracket``, ``rung`` and ``budget``. A candidate that survives a rung is logged
again at the next, larger budget under the
same id, so the candidates table reads as the race did. A candidate whose evaluation
diverges is recorded as the loop records one (status ``"failed"``, no metrics, the reason
in ``info["diverged"]``), ranks last in its rung and never wins a bracket; a race whose
first evaluations all diverge ends as the loop's search does.

:meth:`SuccessiveHalving.run` and :meth:`Hyperband.run`, called directly, treat a diverging
candidate the same way: a failed :class:`Evaluation` (its result from
:func:`~.executors.failed_result`) that ranks last, is never the best, and shows in
:meth:`HalvingReport.to_frame` with status ``"failed"`` and its reason; a race whose first
evaluations all diverge ends with one DivergenceError.

They cannot be driven by ask/tell: which candidate runs next depends on a whole rung's
results. :func:`~nasbench.strategies.discrete.loop.run_discrete` sees their ``race``
method and hands the run to it. A stop request and a wall-time budget are honoured
between batches of a rung; a stopped race resumes by replaying the recorded rows.

Example:
    >>> sh = SuccessiveHalving(min_budget=1, max_budget=9, eta=3)
    >>> sh.plan(9), sh.planned_budget(9)
    ([(9, 1), (3, 3), (1, 9)], 27)
    >>> from nasbench.spaces import create_space
    >>> from nasbench.strategies import create_strategy
    >>> space = create_space("nb201")
    >>> hb = create_strategy("hyperband", {"min_budget": 1, "max_budget": 9}, space=space)
    >>> hb.planned_evaluations()
    22
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nasbench.errors import ConfigError, DivergenceError
from nasbench.evaluation.base import Result
from nasbench.options import plain_numbers
from nasbench.protocols import Genotype, Space
from nasbench.strategies import register_strategy
from nasbench.strategies.discrete.base import DiscreteConfig, DiscreteStrategy, genotype_key, option
from nasbench.strategies.discrete.executors import (
    FAILED,
    Executor,
    Job,
    Outcome,
    failed_result,
    failure,
)
from nasbench.strategies.discrete.loop import (
    FAILED_BEFORE_GIVING_UP,
    Budget,
    DiscreteResult,
    RecordedTrial,
    Trial,
    _recordable,
    _Run,
    improves_on,
    ranked_score,
)


# ---- the rung schedules -----------------------------------------------------------------------
@dataclass
class Evaluation:
    """One evaluation made by successive halving or Hyperband."""

    bracket: int
    rung: int
    budget: int
    genotype: Genotype
    result: Result


@dataclass
class HalvingReport:
    """What a successive-halving or Hyperband run did.

    Attributes:
        best: the genotype with the best score at the largest budget; None when every
            candidate of the last rung diverged (a failed candidate is never the best).
        best_result: its result, or None.
        evaluations: every evaluation, in order.
        planned_budget: epochs the schedule claims before running.
        spent_budget: epochs the evaluators report (``cost["epochs"]``, else the budget asked).
    """

    best: Any
    best_result: Result | None
    evaluations: list[Evaluation] = field(default_factory=list)
    planned_budget: int = 0
    spent_budget: float = 0.0

    def to_frame(self):
        """One row per evaluation: bracket, rung, budget, genotype (JSON), score, status
        and the reason a failed one diverged.

        A diverged candidate reads as the run store's candidates table has it: status
        ``"failed"``, no score (NaN, which ``count``, ``max`` and ``median`` skip) and its
        one-line reason under ``"diverged"`` (None, not NaN, for the others, whose status
        is ``"done"``; ``isna()`` finds them all the same).

        Example:
            >>> report.to_frame().groupby("rung")["score"].max()  # doctest: +SKIP
        """
        import pandas as pd

        rows = []
        for e in self.evaluations:
            reason = failure(e.result)
            rows.append(
                {
                    "bracket": e.bracket,
                    "rung": e.rung,
                    "budget": e.budget,
                    "genotype": e.genotype.to_json(),
                    "score": math.nan if reason is not None else e.result.score,
                    "status": "done" if reason is None else "failed",
                    FAILED: reason,
                }
            )
        frame = pd.DataFrame(rows)
        if rows:  # pandas would store the done rows' missing reason as NaN: keep None
            frame[FAILED] = pd.Series([r[FAILED] for r in rows], index=frame.index, dtype=object)
        return frame


class _Failures:
    """The search loop's rule for a race run directly: a diverging candidate is a failed
    evaluation, and the race gives up when every evaluation so far diverged and
    ``FAILED_BEFORE_GIVING_UP`` of them did (or the race ended)."""

    def __init__(self) -> None:
        self.evaluations = 0
        self.failed = 0
        self.first: str | None = None

    def evaluate(self, evaluator: Any, genotype: Any, budget: int, where: str) -> Result:
        """``evaluator.evaluate(genotype, budget)``, or a failed result when it diverges."""
        self.evaluations += 1
        start = time.perf_counter()
        try:
            result = evaluator.evaluate(genotype, budget)
        except DivergenceError as err:
            message = " ".join(str(err).split()) or type(err).__name__
            self.failed += 1
            self.first = self.first or message
            warnings.warn(f"candidate {where} failed: {message}", UserWarning, stacklevel=3)
            self.check(ended=False)
            return failed_result(message, time.perf_counter() - start)
        return result

    def check(self, ended: bool) -> None:
        """Raise when every evaluation so far diverged, and enough did (or the race ended)."""
        n = self.evaluations
        if n == 0 or self.failed < n or (not ended and n < FAILED_BEFORE_GIVING_UP):
            return
        which = "the one candidate evaluated" if n == 1 else f"all {n} candidates evaluated"
        raise DivergenceError(
            f"{which} diverged, so the race stopped; lower the evaluator's learning rate "
            f"(or clip its gradients) and race again (the first: {self.first})"
        )


def _check_int(name: str, value: Any, minimum: int) -> int:
    value = plain_numbers(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return value


class SuccessiveHalving:
    """Successive halving over a list of candidates, in whole epochs.

    Rung ``i`` evaluates ``n_i`` candidates at ``min_budget * eta**i`` epochs (the last
    rung at exactly ``max_budget``); the best ``n_i // eta`` (at least one) go on. A
    Hyperband bracket gives its number of rungs instead (``rungs``): rung ``i`` then runs
    at ``max_budget / eta**(rungs - 1 - i)`` epochs, rounded, so bracket ``s`` has its
    ``s + 1`` rungs whatever the ratio of the budgets (Li et al., 2018).

    Args:
        min_budget: epochs of the first rung.
        max_budget: epochs of the last rung.
        eta: the keep-one-in-``eta`` factor (>= 2).
        rungs: a Hyperband bracket's rung count (``s + 1``); None: as many as
            ``min_budget * eta**i`` stays below ``max_budget``.

    Example:
        >>> report = SuccessiveHalving(1, 9, 3).run(evaluator, candidates)  # doctest: +SKIP
        >>> report.spent_budget == report.planned_budget  # doctest: +SKIP
        True
    """

    def __init__(
        self, min_budget: int = 1, max_budget: int = 9, eta: int = 3, rungs: int | None = None
    ) -> None:
        self.rungs = None if rungs is None else _check_int("rungs", rungs, 1)
        self.min_budget = _check_int("min_budget", min_budget, 1)
        self.max_budget = _check_int("max_budget", max_budget, 1)
        self.eta = _check_int("eta", eta, 2)
        if self.max_budget < self.min_budget:
            raise ConfigError(
                f"max_budget {max_budget} is below min_budget {min_budget}; swap or raise it."
            )

    def budgets(self) -> list[int]:
        """Epochs of each rung, smallest first, ending at ``max_budget``.

        Example:
            >>> SuccessiveHalving(1, 9, 3).budgets(), SuccessiveHalving(7, 20, 3, rungs=2).budgets()
            ([1, 3, 9], [7, 20])
        """
        if self.rungs is None:
            out, r = [], self.min_budget
            while r * self.eta <= self.max_budget:
                out.append(r)
                r *= self.eta
            if not out or out[-1] != self.max_budget:
                out.append(self.max_budget)
            return out
        out = []
        for i in range(self.rungs):
            exact = self.max_budget / self.eta ** (self.rungs - 1 - i)
            budget = max(self.min_budget, round(exact))
            if not out or budget > out[-1]:  # tiny budgets can round alike: one rung each
                out.append(budget)
        return out

    def plan(self, n_candidates: int) -> list[tuple[int, int]]:
        """``(candidates, epochs)`` per rung for ``n_candidates`` starting candidates."""
        n = _check_int("the number of candidates", n_candidates, 1)
        plan = []
        for r in self.budgets():
            plan.append((n, r))
            n = max(1, n // self.eta)
        return plan

    def planned_budget(self, n_candidates: int) -> int:
        """Epochs the run will spend: ``sum(n_i * r_i)``."""
        return sum(n * r for n, r in self.plan(n_candidates))

    def run(self, evaluator: Any, candidates: Sequence[Any], bracket: int = 0) -> HalvingReport:
        """Run successive halving.

        Args:
            evaluator: anything with ``evaluate(genotype, budget) -> Result``.
            candidates: the genotypes to race (at least one).
            bracket: a label stored with every evaluation (Hyperband's bracket index).

        Returns:
            A :class:`HalvingReport`; its ``best`` survived every rung. A candidate whose
            evaluation raises :class:`~nasbench.errors.DivergenceError` is recorded as a
            failed evaluation (with a warning), ranks last and is never the best.

        Raises:
            DivergenceError: the first evaluations, or all of them, diverged (one line).

        Example:
            >>> report = SuccessiveHalving(1, 9, 3).run(evaluator, candidates)  # doctest: +SKIP
            >>> report.to_frame().status.value_counts()  # doctest: +SKIP
        """
        failures = _Failures()
        report = self._race(evaluator, candidates, bracket, failures)
        failures.check(ended=True)
        return report

    def _race(
        self,
        evaluator: Any,
        candidates: Sequence[Any],
        bracket: int,
        failures: _Failures,
        first: int = 0,
    ) -> HalvingReport:
        # (position in the caller's candidates, genotype): a warning names the candidate.
        alive = list(enumerate(candidates, start=first))
        if not alive:
            raise ConfigError("successive halving needs at least one candidate; got none.")
        plan = self.plan(len(alive))
        evaluations: list[Evaluation] = []
        spent = 0.0
        scored: list[tuple[float, int, tuple[int, Any], Result]] = []
        for rung, (n, budget) in enumerate(plan):
            alive = alive[:n]
            scored = []
            for order, (index, g) in enumerate(alive):
                where = f"{index} (bracket {bracket}, rung {rung}, budget {budget})"
                result = failures.evaluate(evaluator, g, budget, where)
                spent += float(result.cost.get("epochs", budget))
                evaluations.append(Evaluation(bracket, rung, budget, g, result))
                scored.append((ranked_score(result), order, (index, g), result))
            # Best first; ties keep the earlier candidate so runs are deterministic.
            scored.sort(key=lambda s: (-s[0], s[1]))
            # A diverged candidate is never trained again at a larger budget: the next
            # rung keeps at most those that succeeded, and none left ends the race.
            alive = [s[2] for s in scored if failure(s[3]) is None]
            if not alive:
                break
        _, _, (_, best), best_result = scored[0]
        planned = self.planned_budget(len(candidates))
        if ranked_score(best_result) == -math.inf:  # every finalist diverged or has no score
            return HalvingReport(None, None, evaluations, planned, spent)
        return HalvingReport(best, best_result, evaluations, planned, spent)


class Hyperband:
    """Hyperband: successive-halving brackets from aggressive to conservative.

    With ``s_max = floor(log_eta(max_budget / min_budget))``, bracket ``s`` (``s_max``
    down to 0) starts ``ceil((s_max + 1) / (s + 1) * eta**s)`` candidates at
    ``max_budget / eta**s`` epochs (rounded, at least ``min_budget``).

    Args:
        min_budget: the smallest budget of any rung.
        max_budget: the budget of every bracket's last rung.
        eta: the keep-one-in-``eta`` factor.

    Example:
        >>> Hyperband(1, 9, 3).brackets()
        [(9, 1), (5, 3), (3, 9)]
    """

    def __init__(self, min_budget: int = 1, max_budget: int = 27, eta: int = 3) -> None:
        SuccessiveHalving(min_budget, max_budget, eta)  # the same argument checks
        self.min_budget, self.max_budget, self.eta = int(min_budget), int(max_budget), int(eta)
        s = 0
        while self.min_budget * self.eta ** (s + 1) <= self.max_budget:
            s += 1
        self.s_max = s

    def brackets(self) -> list[tuple[int, int]]:
        """``(candidates, first-rung epochs)`` per bracket, most aggressive first."""
        out = []
        for s in range(self.s_max, -1, -1):
            n = math.ceil((self.s_max + 1) / (s + 1) * self.eta**s)
            r = max(self.min_budget, round(self.max_budget / self.eta**s))
            out.append((n, r))
        return out

    def schedule(self) -> list[tuple[int, int, int]]:
        """``(candidates, first-rung epochs, rungs)`` per bracket: bracket ``s`` races
        ``s + 1`` rungs."""
        return [(n, r, self.s_max + 1 - i) for i, (n, r) in enumerate(self.brackets())]

    def _halving(self, r: int, rungs: int) -> SuccessiveHalving:
        return SuccessiveHalving(r, self.max_budget, self.eta, rungs)

    def n_candidates(self) -> int:
        """Candidates the run consumes over all brackets."""
        return sum(n for n, _ in self.brackets())

    def planned_budget(self) -> int:
        """Epochs the whole run will spend."""
        return sum(self._halving(r, k).planned_budget(n) for n, r, k in self.schedule())

    def run(self, evaluator: Any, candidates: Any, seed: int = 0) -> HalvingReport:
        """Run every bracket.

        Args:
            evaluator: anything with ``evaluate(genotype, budget) -> Result``.
            candidates: a sequence of at least :meth:`n_candidates` genotypes (used in
                order), or a space to sample them from with ``seed``.
            seed: seeds the sampling when ``candidates`` is a space.

        Returns:
            A :class:`HalvingReport`; ``best`` is the best final-rung candidate of all
            brackets. A diverging candidate is a failed evaluation, as in
            :meth:`SuccessiveHalving.run`.

        Raises:
            DivergenceError: the first evaluations of the run, or all of them, diverged.

        Example:
            >>> Hyperband(1, 9, 3).run(evaluator, create_space("nb201")).best  # doctest: +SKIP
        """
        need = self.n_candidates()
        if hasattr(candidates, "sample"):
            rng = np.random.default_rng(seed)
            pool = [candidates.sample(rng) for _ in range(need)]
        else:
            pool = list(candidates)
            if len(pool) < need:
                raise ConfigError(
                    f"Hyperband({self.min_budget}, {self.max_budget}, eta={self.eta}) needs "
                    f"{need} candidates, got {len(pool)}; pass more or a space to sample from."
                )
        evaluations: list[Evaluation] = []
        spent, best = 0.0, None
        start = 0
        failures = _Failures()  # every bracket counts towards giving up, as one race
        for index, (n, r, rungs) in enumerate(self.schedule()):
            halving = self._halving(r, rungs)
            report = halving._race(evaluator, pool[start : start + n], index, failures, start)
            start += n
            evaluations += report.evaluations
            spent += report.spent_budget
            if report.best_result is not None and improves_on(
                report.best_result, None if best is None else best.best_result
            ):
                best = report
        failures.check(ended=True)
        if best is None:  # every bracket's finalists diverged or have no score
            return HalvingReport(None, None, evaluations, self.planned_budget(), spent)
        return HalvingReport(best.best, best.best_result, evaluations, self.planned_budget(), spent)


# ---- the searches -----------------------------------------------------------------------------
# Draws tried to find a candidate not already in the pool before accepting a repeat.
_DISTINCT_DRAWS = 100


@dataclass
class _RaceConfig(DiscreteConfig):
    """Budgets of a race, in the evaluator's unit (epochs)."""

    min_budget: int = option(1, "epochs of the first rung", min=1)
    max_budget: int = option(9, "epochs of the last rung", min=1)
    eta: int = option(3, "keep the best 1/eta of each rung", min=2)

    def schedule(self) -> list[tuple[int, int, int | None]]:
        """``(candidates, first-rung epochs, rungs or None)`` per bracket."""
        raise NotImplementedError

    def check_budget(self, max_evaluations: int | None) -> None:
        """The whole race must fit in the evaluation budget."""
        need = _planned_evaluations(self.schedule(), self.max_budget, self.eta)
        if max_evaluations is not None and max_evaluations < need:
            raise ConfigError(
                f"this race makes {need} evaluations but max_evaluations is "
                f"{max_evaluations}; raise max_evaluations or race fewer candidates."
            )


@dataclass
class HalvingConfig(_RaceConfig):
    """Successive-halving settings."""

    n_candidates: int = option(27, "architectures sampled and raced in the first rung", min=1)

    def schedule(self) -> list[tuple[int, int, int | None]]:
        """One bracket: ``n_candidates`` at ``min_budget`` epochs."""
        SuccessiveHalving(self.min_budget, self.max_budget, self.eta)  # argument checks
        return [(self.n_candidates, self.min_budget, None)]


@dataclass
class HyperbandConfig(_RaceConfig):
    """Hyperband settings (``min_budget`` is the smallest budget of any rung)."""

    def schedule(self) -> list[tuple[int, int, int | None]]:
        """``(candidates, first-rung epochs, rungs)`` per bracket, most aggressive first."""
        return Hyperband(self.min_budget, self.max_budget, self.eta).schedule()


def _planned_evaluations(schedule: list[tuple], max_budget: int, eta: int) -> int:
    """Evaluator calls of every rung of every bracket."""
    total = 0
    for n, r, rungs in schedule:
        # The same argument checks (max_budget >= min_budget) as the schedule itself.
        total += sum(k for k, _ in SuccessiveHalving(r, max_budget, eta, rungs).plan(n))
    return total


class _Race(DiscreteStrategy):
    """What successive halving and Hyperband share: the pool, the race, the records."""

    def __init__(self, config: Any, space: Space, seed: int = 0) -> None:
        super().__init__(config, space, seed)
        self.brackets = config.schedule()
        self.pool = self._sample_pool(sum(n for n, _, _ in self.brackets))

    def planned_evaluations(self) -> int:
        """Evaluator calls the race makes when nothing stops it."""
        return _planned_evaluations(self.brackets, self.config.max_budget, self.config.eta)

    def planned_budget(self) -> int:
        """Epochs the race spends: the sum over its evaluations of their budgets."""
        c = self.config
        return sum(
            SuccessiveHalving(r, c.max_budget, c.eta, k).planned_budget(n)
            for n, r, k in self.brackets
        )

    def _sample_pool(self, n: int) -> list[Any]:
        """``n`` samples of the space, distinct (by canonical key) while the space allows."""
        pool, keys = [], set()
        for _ in range(n):
            for _ in range(_DISTINCT_DRAWS):
                g = self.space.sample(self.rng)
                if genotype_key(self.space, g) not in keys:
                    break
            keys.add(genotype_key(self.space, g))
            pool.append(g)
        return pool

    def _propose(self) -> Any:
        raise ConfigError(
            f"'{self.name}' races whole rungs and cannot be asked one genotype at a time; "
            "run it with nasbench.search or run_discrete."
        )

    def check_evaluator(self, evaluator: Any) -> None:
        """Fail before the search when ``evaluator`` has no budget to race over.

        Args:
            evaluator: must expose ``max_budget`` (the train and table evaluators do)
                at least this race's ``max_budget``.
        """
        limit = getattr(evaluator, "max_budget", None)
        if limit is None:
            raise ConfigError(
                f"'{self.name}' needs an evaluator with an epoch budget (train or table); "
                f"{type(evaluator).__name__} scores without one."
            )
        if self.config.max_budget > limit:
            raise ConfigError(
                f"max_budget {self.config.max_budget} exceeds the evaluator's largest budget "
                f"{limit}; lower max_budget or raise the evaluator's epochs."
            )

    def race(
        self,
        evaluator: Any,
        budget: Budget,
        executor: Executor,
        store: Any = None,
        on_result: Callable[[Trial], bool | None] | None = None,
        batch_size: int | None = None,
        replay: list[RecordedTrial] | None = None,
        replay_elapsed: float = 0.0,
    ) -> DiscreteResult:
        """Race the pool, bracket by bracket, rung by rung.

        Args:
            evaluator: has ``evaluate(genotype, budget) -> Result``; opened in ``executor``
                and checked by :meth:`check_evaluator` (``run_discrete`` does both).
            budget: a wall-time limit is checked between batches; ``max_evaluations`` was
                checked against the plan before the race.
            executor: an open executor; each rung runs in batches of its worker count.
            store: a run store that gets one candidate row per evaluation, or None.
            on_result: called with each :class:`Trial`; returning True stops the race.
            batch_size: evaluations sent to the executor at once; None: its worker count.
            replay: recorded rows of a stopped race; they are reused, not re-evaluated.
            replay_elapsed: wall time the stopped race had spent.

        Returns:
            A :class:`DiscreteResult`: the best candidate at the largest budget of any
            bracket that finished (of a race cut short before one did: the best at the
            largest budget it reached), every evaluation, and why the race ended.
        """
        size = executor.workers if batch_size is None else batch_size
        replay = replay or []
        state = _RaceState(
            budget, store, on_result, replay, replay_elapsed, self.planned_evaluations()
        )
        start = 0
        c = self.config
        plans = [SuccessiveHalving(r, c.max_budget, c.eta, k).plan(n) for n, r, k in self.brackets]
        for index, (n, _, _) in enumerate(self.brackets):
            ids = list(range(start, start + n))
            start += n
            for rung, (keep, epochs) in enumerate(plans[index]):
                ids = ids[:keep]
                scored = state.run_rung(self, executor, size, (index, rung, epochs), ids)
                if scored is None:
                    if state.result.stop_reason != "stop_requested":  # may resume to success
                        state.check_failures(ended=True)
                    state.keep_furthest_if_no_winner()
                    return state.result
                # Best first; ties keep the earlier candidate, so races are deterministic.
                ids = [cid for _, _, cid in sorted(scored, key=lambda s: (-s[0], s[1]))]
                # As SuccessiveHalving._race: a diverged candidate goes no further, and a
                # rung with none that succeeded ends the bracket without a winner.
                ids = [cid for cid in ids if failure(state.last[cid]) is None]
                # Fewer survivors than the plan kept race fewer later: the progress bar's
                # total follows, so a finished race reads as done.
                state.replan(plans[index][rung + 1 :], len(ids), plans[index + 1 :])
                if not ids:
                    break
            if ids:
                state.finish_bracket(self.pool[ids[0]], state.last[ids[0]])
        state.check_failures(ended=True)
        state.result.stop_reason = "finished"
        return state.result


class _RaceState:
    """Counters, records and the best finished candidate of one race."""

    def __init__(self, budget, store, on_result, replay, elapsed, planned) -> None:
        self.budget, self.store, self.on_result = budget, store, on_result
        self.planned = planned  # evaluations of the whole race, for the progress bar
        # A candidate's k-th row is its rung k: the key holds for a failed row too, whose
        # recorded result keeps only the reason, not its bracket, rung or budget.
        rows: dict[int, int] = {}
        self.replay: dict[tuple[int, int], RecordedTrial] = {}
        for t in replay:
            rows[t.candidate_id] = rows.get(t.candidate_id, -1) + 1
            self.replay[(t.candidate_id, rows[t.candidate_id])] = t
        self.start = time.perf_counter() - elapsed
        self.result = DiscreteResult(None, None)
        self.last: dict[int, Result] = {}
        self.stop = False
        self.failed = 0  # evaluations that diverged
        self.first_failure: str | None = None
        # The best candidate at the largest budget trained so far: the race's answer when
        # it is cut short (time, a stop) before any bracket has a winner.
        self.furthest: tuple[float, float, Genotype, Result] | None = None

    # The loop's rule, on the same counters: give up when every evaluation so far diverged
    # and enough of them did (or the race ended).
    check_failures = _Run.check_failures

    def stop_reason(self) -> str | None:
        if self.stop:
            return "callback"
        limit = self.budget.max_seconds
        if limit is not None and time.perf_counter() - self.start >= limit:
            return "max_seconds"
        if self.store is not None and self.store.stop_requested():
            return "stop_requested"
        return None

    def run_rung(self, race, executor, size, where, ids):
        """Evaluate ``ids`` at rung ``where = (bracket, rung, epochs)``.

        Returns ``(score, order, id)`` per candidate, or None when the race must stop.
        """
        bracket, rung, epochs = where
        scored = []
        for at in range(0, len(ids), size):
            if (reason := self.stop_reason()) is not None:
                self.result.stop_reason = reason
                return None
            batch = ids[at : at + size]
            jobs = [Job(cid, race.pool[cid], float(epochs)) for cid in batch]
            for order, (job, outcome) in enumerate(
                zip(jobs, self._outcomes(executor, jobs, race.space, rung), strict=True)
            ):
                info = {"bracket": bracket, "rung": rung, "budget": epochs}
                self.record(job, outcome, info)
                scored.append((ranked_score(outcome.result), at + order, job.candidate_id))
            if self.store is not None:
                self.store.set_progress(self.result.evaluations, self.planned, 0, None)
            self.check_failures(ended=False)
        return scored

    def replan(self, rungs: list[tuple], survivors: int, brackets: list[list[tuple]]) -> None:
        """Plan the evaluations left: this bracket's ``rungs`` race at most ``survivors``
        candidates each, later ``brackets`` whole; the store's total follows when it shrinks."""
        left = sum(min(keep, survivors) for keep, _ in rungs)
        left += sum(keep for plan in brackets for keep, _ in plan)
        planned = self.result.evaluations + left
        if planned != self.planned and self.store is not None:
            self.store.set_progress(self.result.evaluations, planned, 0, None)
        self.planned = planned

    def _outcomes(self, executor, jobs, space, rung) -> list[Outcome]:
        """Outcomes of ``jobs`` in order; a resumed race takes recorded ones from the store."""
        recorded = [self.replay.get((job.candidate_id, rung)) for job in jobs]
        for job, trial in zip(jobs, recorded, strict=True):
            if trial is not None:
                trial.check(job.candidate_id, job.genotype, space)
        fresh = [job for job, trial in zip(jobs, recorded, strict=True) if trial is None]
        evaluated = iter(executor.evaluate(fresh) if fresh else [])
        return [trial.outcome() if trial else next(evaluated) for trial in recorded]

    def record(self, job: Job, outcome: Outcome, info: dict[str, Any]) -> None:
        r = self.result
        r.evaluations += 1
        result = Result(
            outcome.result.metrics, outcome.result.cost, {**outcome.result.info, **info}
        )
        self.last[job.candidate_id] = result
        trial = Trial(
            job.candidate_id,
            job.genotype,
            result,
            r.evaluations,
            False,
            outcome.worker,
            time.perf_counter() - self.start,
        )
        r.history.append(trial)
        replayed = (job.candidate_id, info["rung"]) in self.replay
        failed = failure(result)
        if failed is not None:
            self.failed += 1
            self.first_failure = self.first_failure or failed
            if not replayed:
                warnings.warn(
                    f"candidate {job.candidate_id} failed: {failed}", UserWarning, stacklevel=2
                )
        if failed is None and math.isfinite(result.score):
            # Larger budget first, then a higher score; ties keep the earlier candidate.
            key = (float(info["budget"]), result.score)
            if self.furthest is None or key > self.furthest[:2]:
                self.furthest = (*key, job.genotype, result)
        if self.store is not None and not replayed:  # a replayed row is in the store already
            self.store.log_candidate(
                job.candidate_id,
                job.genotype,
                {} if failed is not None else result.metrics,  # no -inf score in the store
                dict(result.cost),
                "done" if failed is None else "failed",
                outcome.worker,
                info=_recordable(result.info),
            )
        if self.on_result is not None and self.on_result(trial):
            self.stop = True

    def keep_furthest_if_no_winner(self) -> None:
        """A race cut short before any bracket finished returns the best candidate of the
        largest budget it reached (scores at one budget compare; across budgets, more
        epochs would win by themselves), not "nothing trained"."""
        if self.result.best_result is None and self.furthest is not None:
            _, _, genotype, result = self.furthest
            self.result.best_genotype, self.result.best_result = genotype, result

    def finish_bracket(self, genotype: Genotype, result: Result) -> None:
        """Keep the bracket's winner when it beats the winners of earlier brackets (a
        winner that diverged, every candidate of its last rung having failed, never does)."""
        r = self.result
        if improves_on(result, r.best_result):  # a failed winner's -inf never does
            r.best_genotype, r.best_result = genotype, result


@register_strategy("successive_halving", HalvingConfig, kind="discrete")
class SuccessiveHalvingSearch(_Race):
    """Successive halving: race random candidates, keep the best 1/eta at each rung.

    Jamieson & Talwalkar (2016). Rung ``i`` trains the survivors for
    ``min_budget * eta**i`` epochs (the last rung exactly ``max_budget``).

    Example:
        >>> s = SuccessiveHalvingSearch(HalvingConfig(), create_space("nb201"))  # doctest: +SKIP
        >>> s.planned_evaluations()  # doctest: +SKIP
        39
    """

    name = "successive_halving"


@register_strategy("hyperband", HyperbandConfig, kind="discrete")
class HyperbandSearch(_Race):
    """Hyperband: successive-halving brackets from aggressive to conservative.

    Li et al. (2018). The candidates of every bracket are fresh random samples; the
    result is the best last-rung candidate over all brackets.

    Example:
        >>> s = HyperbandSearch(HyperbandConfig(1, 9, 3), create_space("nb201"))  # doctest: +SKIP
        >>> s.brackets  # doctest: +SKIP
        [(9, 1), (5, 3), (3, 9)]
    """

    name = "hyperband"
