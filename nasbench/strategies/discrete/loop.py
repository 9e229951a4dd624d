"""The one loop that runs every discrete strategy: ask, evaluate, tell, record.

Per batch: ask the strategy for up to ``batch_size`` new genotypes, have the
executor evaluate them, tell the strategy each result in order, and record each
candidate in the run store (the loop is its single writer). Budgets are counted
in evaluator calls and in wall time; a stop request is honoured between batches.

Duplicates are cached: a genotype whose key (the space's canonical form when it
has one, e.g. NB201 cells that compute the same function, else the canonical
JSON) was already evaluated is answered from the cache, told to the strategy,
recorded with status ``"cached"`` and does not count against the budget. That is
what a table lookup would return anyway; ``cache="none"`` evaluates every ask.

Successive halving and Hyperband (:mod:`.halving`) choose their next evaluations
from a whole rung's results, not one ask at a time; a strategy with a ``race``
method is handed the executor, the budget and the store and runs its own rungs,
under the same events, budget checks and records.

A candidate whose evaluation diverges (:class:`~nasbench.errors.DivergenceError`) is a
failed trial, not the end of the search: it is recorded with status ``"failed"`` and its
one-line reason (the row's ``info["diverged"]``), counts against the budget, is told to
the strategy with the worst score (``-inf``) and is never the best. Only when every
candidate so far failed, and ``FAILED_BEFORE_GIVING_UP`` of them did (or the search
ended), does the search end with a DivergenceError. Any other error still ends it at once.
"""

from __future__ import annotations

import contextlib
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nasbench.errors import ConfigError, DivergenceError, NasbenchError
from nasbench.evaluation.base import Result
from nasbench.options import Budget
from nasbench.protocols import Genotype
from nasbench.strategies.discrete.base import DiscreteStrategy, genotype_key
from nasbench.strategies.discrete.executors import (
    Executor,
    Job,
    Outcome,
    SequentialExecutor,
    failure,
)

CACHE_MODES = ("canonical", "genotype", "none")
# A strategy that proposes only already-evaluated genotypes this many times in a row
# has converged; stopping beats spinning forever on a wall-time-only budget.
MAX_DUPLICATE_STREAK = 1000
# A search whose first this-many evaluations all diverged would most likely spend its
# whole budget diverging (an lr far too high): it ends with the first one's reason.
FAILED_BEFORE_GIVING_UP = 3


def ranked_score(result: Result) -> float:
    """The score a search ranks ``result`` by: its score, or ``-inf`` when that is not a
    finite number (a failed candidate's ``-inf``, a NaN a metric or a table row left
    unrecorded, an ``inf`` no real metric reaches), so such a result ranks last.

    Args:
        result: a candidate's result.

    Returns:
        The score, or ``-inf``.

    Example:
        >>> ranked_score(Result({"score": 0.5})), ranked_score(Result({"score": math.nan}))
        (0.5, -inf)
    """
    value = result.score
    return value if math.isfinite(value) else -math.inf


def improves_on(result: Result, best: Result | None) -> bool:
    """Whether ``result`` becomes a search's best instead of ``best``: the one rule every
    discrete search keeps its best by. A score that is not a finite number never does
    (NaN compares false either way, so a NaN kept first would stay the best for good).

    Args:
        result: the new candidate's result.
        best: the best result so far; None when there is none yet.

    Returns:
        True when ``result`` has a finite score above ``best``'s (ties keep the earlier).

    Example:
        >>> improves_on(Result({"score": math.nan}), None)
        False
        >>> improves_on(Result({"score": 0.6}), Result({"score": math.nan}))
        True
    """
    return math.isfinite(result.score) and (best is None or result.score > ranked_score(best))


@dataclass
class Trial:
    """One answered ask.

    Attributes:
        candidate_id: position in the ask order (the run store's candidate id).
        genotype: the genotype.
        result: its result (from the evaluator or the cache).
        evaluations: evaluator calls made so far, this one included.
        cached: True when the result came from the cache.
        worker: which executor worker evaluated it ("cache" for cache hits).
        elapsed: seconds since the search started.
    """

    candidate_id: int
    genotype: Genotype
    result: Result
    evaluations: int
    cached: bool
    worker: str
    elapsed: float


@dataclass
class DiscreteResult:
    """What :func:`run_discrete` returns.

    Attributes:
        best_genotype: the best genotype found (earliest on ties; never a failed one, nor
            one whose score is not a finite number: see :func:`improves_on`).
        best_result: its result.
        history: every answered ask, in order.
        evaluations: evaluator calls made.
        stop_reason: "max_evaluations", "max_seconds", "stop_requested", "finished"
            (the strategy has nothing left), "exhausted" (every member evaluated),
            "duplicates" (the strategy only repeats itself) or "callback".
    """

    best_genotype: Any
    best_result: Result | None
    history: list[Trial] = field(default_factory=list)
    evaluations: int = 0
    stop_reason: str = ""

    def best_so_far(self) -> np.ndarray:
        """Best score after each evaluator call (cache hits add no entry)."""
        scores = [t.result.score for t in self.history if not t.cached]
        # fmax skips a NaN score (a failed metric) instead of carrying it forward.
        return np.fmax.accumulate(np.asarray(scores, dtype=float)) if scores else np.zeros(0)

    def evaluations_to_reach(self, target: float) -> int | None:
        """Evaluator calls made when a score >= ``target`` was first seen, or None."""
        for t in self.history:
            if t.result.score >= target:
                return t.evaluations
        return None


@dataclass(frozen=True)
class RecordedTrial:
    """A candidate as a run store holds it, to replay when a stopped search resumes.

    Attributes:
        candidate_id: its position in the ask order.
        genotype_json: the canonical JSON of the genotype recorded.
        result: metrics, cost and info as recorded.
        cached: True when it was answered from the cache.
        worker: who evaluated it.
    """

    candidate_id: int
    genotype_json: str
    result: Result
    cached: bool
    worker: str

    def outcome(self) -> Outcome:
        """The recorded result as an executor would have returned it."""
        return Outcome(self.result, self.worker, float(self.result.cost.get("wall_s", 0.0)))

    def check(self, cid: int, genotype: Genotype, space: Any = None) -> None:
        """Fail when the resumed strategy proposes another genotype than the run did.

        With ``space``, the same cell written in another order (a DARTS node's inputs,
        recorded by an earlier version in the order it drew them) is the same candidate.
        """
        if genotype.to_json() == self.genotype_json:
            return
        if space is not None and callable(getattr(space, "canonical", None)):
            from nasbench.spaces import parse_genotype

            with contextlib.suppress(NasbenchError):
                if space.canonical(genotype) == space.canonical(parse_genotype(self.genotype_json)):
                    return
        raise ConfigError(
            f"cannot resume: candidate {cid} differs from the one the run recorded, so "
            "the code or the config changed since; start a new run instead."
        )


def _recordable(info: dict[str, Any]) -> dict[str, Any]:
    """The JSON-serialisable part of a result's info (flags, numbers, text, lists)."""
    import json

    kept = {}
    for key, value in info.items():
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            continue
        kept[key] = value
    return kept


class _Run:
    """State of one call of :func:`run_discrete`."""

    def __init__(self, strategy, evaluator, budget, store, executor, on_result, cache, fidelity):
        self.strategy, self.evaluator, self.budget = strategy, evaluator, budget
        self.store, self.executor, self.on_result = store, executor, on_result
        self.cache_mode, self.fidelity = cache, fidelity
        self.cache: dict[str, Result] = {}
        self.result = DiscreteResult(None, None)
        self.start = time.perf_counter()
        self.streak = 0
        self.callback_stop = False
        self.space_size = strategy.space.size()
        self.replay: dict[int, RecordedTrial] = {}
        self.failed = 0  # evaluations that diverged
        self.first_failure: str | None = None

    def resume_from(self, replay: list[RecordedTrial], elapsed: float) -> None:
        """Answer the first asks from ``replay`` (what a stopped run recorded)."""
        self.replay = {trial.candidate_id: trial for trial in replay}
        self.start -= elapsed  # a wall-time budget counts the time already spent

    def key(self, genotype: Genotype) -> str | None:
        if self.cache_mode == "none":
            return None
        return genotype_key(self.strategy.space, genotype, self.cache_mode)

    def stop_reason(self) -> str | None:
        b, r = self.budget, self.result
        if self.callback_stop:
            return "callback"
        if b.max_evaluations is not None and r.evaluations >= b.max_evaluations:
            return "max_evaluations"
        if b.max_seconds is not None and time.perf_counter() - self.start >= b.max_seconds:
            return "max_seconds"
        if self.store is not None and self.store.stop_requested():
            return "stop_requested"
        if self.strategy.finished:
            return "finished"
        if self.cache_mode != "none" and len(self.cache) >= self.space_size:
            return "exhausted"
        if self.streak >= MAX_DUPLICATE_STREAK:
            return "duplicates"
        return None

    def record(
        self, cid: int, genotype: Genotype, result: Result, cached: bool, worker: str
    ) -> None:
        r = self.result
        replayed = cid in self.replay
        failed = failure(result)
        if cached:
            self.streak += 1
        else:
            r.evaluations += 1
            self.streak = 0
            if failed is not None:
                self.failed += 1
                self.first_failure = self.first_failure or failed
                if not replayed:
                    warnings.warn(f"candidate {cid} failed: {failed}", UserWarning, stacklevel=2)
        trial = Trial(
            cid, genotype, result, r.evaluations, cached, worker, time.perf_counter() - self.start
        )
        r.history.append(trial)
        self.strategy.tell(genotype, result)
        if improves_on(result, r.best_result):  # a failed candidate's -inf never does
            r.best_genotype, r.best_result = genotype, result
        if self.store is not None and not replayed:  # a replayed row is in the store already
            cost = {} if cached else dict(result.cost)
            self.store.log_candidate(
                cid,
                genotype,
                {} if failed is not None else result.metrics,  # no -inf score in the store
                cost,
                "cached" if cached else ("done" if failed is None else "failed"),
                worker,
                info=_recordable(result.info),
            )
        if self.on_result is not None and self.on_result(trial):
            self.callback_stop = True

    def batch(self, size: int) -> None:
        """Ask until ``size`` new genotypes are pending, evaluate them, tell the results."""
        jobs: list[Job] = []
        keys: list[str | None] = []
        waiting: list[tuple[int, Any, int]] = []  # asks that repeat a pending job
        while len(jobs) < size and not self.strategy.finished and not self.callback_stop:
            if self.streak >= MAX_DUPLICATE_STREAK or len(self.cache) >= self.space_size:
                break
            cid = len(self.result.history) + len(jobs) + len(waiting)
            genotype = self.strategy.ask()
            key = self.key(genotype)
            if cid in self.replay:
                self.replay[cid].check(cid, genotype, self.strategy.space)
            if key is not None and key in self.cache:
                self.record(cid, genotype, self.cache[key], True, "cache")
            elif key is not None and key in keys:
                waiting.append((cid, genotype, keys.index(key)))
                self.streak += 1
            else:
                jobs.append(Job(cid, genotype, self.fidelity))
                keys.append(key)
        outcomes = self.evaluate(jobs)
        for job, key, outcome in zip(jobs, keys, outcomes, strict=True):
            if key is not None:
                self.cache[key] = outcome.result
            self.record(job.candidate_id, job.genotype, outcome.result, False, outcome.worker)
        for cid, genotype, index in waiting:
            self.record(cid, genotype, outcomes[index].result, True, "cache")

    def evaluate(self, jobs: list[Job]) -> list[Outcome]:
        """Outcomes of ``jobs`` in order; a resumed search takes recorded ones from the store."""
        fresh = [job for job in jobs if job.candidate_id not in self.replay]
        evaluated = iter(self.executor.evaluate(fresh) if fresh else [])
        return [
            self.replay[job.candidate_id].outcome()
            if job.candidate_id in self.replay
            else next(evaluated)
            for job in jobs
        ]

    def check_failures(self, ended: bool) -> None:
        """Raise when every evaluation so far diverged, and enough did (or the search ended)."""
        n = self.result.evaluations
        if n == 0 or self.failed < n or (not ended and n < FAILED_BEFORE_GIVING_UP):
            return
        if n == 1:  # the one candidate's own reason says it all
            raise DivergenceError(str(self.first_failure))
        raise DivergenceError(
            f"all {n} candidates evaluated diverged; the first: {self.first_failure}"
        )

    def progress(self) -> None:
        if self.store is not None:
            self.store.set_progress(self.result.evaluations, self.budget.max_evaluations, 0, None)


def _ask_tell(run: _Run, size: int) -> DiscreteResult:
    """Ask, evaluate and tell in batches of ``size`` until ``run`` has a stop reason."""
    budget = run.budget
    while (reason := run.stop_reason()) is None:
        left = budget.max_evaluations
        left = size if left is None else min(size, left - run.result.evaluations)
        run.batch(left)
        run.progress()
        run.check_failures(ended=False)
    if reason != "stop_requested":  # a stopped search may still find one that trains
        run.check_failures(ended=True)
    run.result.stop_reason = reason
    return run.result


def _objective_specs(strategy: Any) -> list[str]:
    """``["score:max", "params:min"]`` of a multi-objective strategy (NSGA-II), for the
    run's views to draw its Pareto front; [] for a single-objective one."""
    from nasbench.evaluation.objectives import parse_objectives

    specs = getattr(getattr(strategy, "config", None), "objectives", None)
    if not specs:
        return []
    return [f"{o.name}:{o.sense}" for o in parse_objectives(specs)]


def run_discrete(
    strategy: DiscreteStrategy,
    evaluator: Any,
    budget: Budget,
    store: Any = None,
    executor: Executor | None = None,
    on_result: Callable[[Trial], bool | None] | None = None,
    batch_size: int | None = None,
    cache: str = "canonical",
    fidelity: float | None = None,
    replay: list[RecordedTrial] | None = None,
    replay_elapsed: float = 0.0,
) -> DiscreteResult:
    """Run a discrete strategy against an evaluator until the budget is spent.

    Args:
        strategy: an ask/tell strategy (``create_strategy(name, cfg, space=..., seed=...)``),
            or a racing one (successive halving, Hyperband) that runs its own rungs.
        evaluator: has ``evaluate(genotype, budget) -> Result``.
        budget: evaluations and/or wall time.
        store: a :class:`~nasbench.runs.RunStore` to record every candidate, the progress
            and start/end events in; None records nothing.
        executor: where evaluations run; None evaluates here, one by one. The executor
            is opened with ``evaluator`` and closed here.
        on_result: called with each :class:`Trial`; returning True stops the search
            after the current batch.
        batch_size: genotypes asked before their results are told; None uses the
            executor's worker count. Results depend on it, never on the executor.
        cache: "canonical", "genotype" or "none" (see the module docstring).
        fidelity: the budget passed to ``evaluator.evaluate`` (e.g. epochs).
        replay: to resume a stopped search: the candidates its store recorded. The
            strategy, rebuilt from the same seed, is asked again and told the recorded
            results (nothing is evaluated twice), so it reaches the state it had.
        replay_elapsed: wall time the stopped search had spent.

    Returns:
        A :class:`DiscreteResult`.

    Raises:
        ConfigError: a bad budget, batch size or cache mode, or a budget too small for
            the strategy (e.g. a population larger than the budget).
        DivergenceError: every candidate evaluated diverged (a diverging candidate alone
            is recorded as failed and the search goes on).

    Example:
        >>> space = create_space("nb201")  # doctest: +SKIP
        >>> strategy = create_strategy("evolution", {}, space=space, seed=0)  # doctest: +SKIP
        >>> out = run_discrete(strategy, evaluator, Budget(max_evaluations=50))  # doctest: +SKIP
        >>> out.best_genotype, out.best_result.score  # doctest: +SKIP
    """
    if not isinstance(budget, Budget):
        raise ConfigError(f"budget must be a Budget, got {type(budget).__name__}.")
    if cache not in CACHE_MODES:
        raise ConfigError(f"cache must be one of {', '.join(CACHE_MODES)}, got {cache!r}.")
    if not callable(getattr(strategy, "ask", None)) or not callable(
        getattr(strategy, "tell", None)
    ):
        raise ConfigError(f"{type(strategy).__name__} is not an ask/tell strategy.")
    strategy.check_budget(budget.max_evaluations)
    executor = executor or SequentialExecutor()
    size = executor.workers if batch_size is None else batch_size
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ConfigError(f"batch_size must be a positive integer, got {size!r}.")
    if store is not None:
        store.log_event(
            "discrete_search_resumed" if replay else "discrete_search_started",
            {
                "strategy": getattr(strategy, "name", type(strategy).__name__),
                "max_evaluations": budget.max_evaluations,
                "max_seconds": budget.max_seconds,
                "batch_size": size,
                "cache": cache,
                "executor": executor.name,
                "objectives": _objective_specs(strategy),
            },
        )
    race = getattr(strategy, "race", None)
    if callable(race):
        # Successive halving and Hyperband pick their next evaluations from whole rungs.
        strategy.check_evaluator(evaluator)
    try:
        # Opened inside the try: an interrupt while the workers start (Ray takes seconds)
        # still shuts down what was started.
        executor.open(evaluator)
        if callable(race):
            out = race(evaluator, budget, executor, store, on_result, size, replay, replay_elapsed)
        else:
            run = _Run(strategy, evaluator, budget, store, executor, on_result, cache, fidelity)
            if replay:
                run.resume_from(replay, replay_elapsed)
            out = _ask_tell(run, size)
    finally:
        executor.close()
    if store is not None:
        best = out.best_result.score if out.best_result is not None else math.nan
        store.log_event(
            "discrete_search_ended",
            {"reason": out.stop_reason, "evaluations": out.evaluations, "best_score": best},
        )
        if out.best_genotype is not None:
            store.log_genotype(0, out.evaluations, out.best_genotype, out.best_result.metrics)
    return out
