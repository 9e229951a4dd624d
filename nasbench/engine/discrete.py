"""Glue from a :class:`~nasbench.config.SearchConfig` to the discrete loop.

Builds the space, the strategy, the evaluator and the executor the config names,
opens the run store and runs :func:`nasbench.strategies.discrete.run_discrete`.
``nasbench.search`` dispatches here for strategies of kind ``"discrete"``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nasbench.config import SearchConfig
from nasbench.engine.run_setup import (
    open_for_resume,
    record_resume,
    recording_status,
    resume_refusal,
    run_environment,
    search_settings,
)
from nasbench.errors import ConfigError
from nasbench.protocols import carries_weights
from nasbench.runs import RunStore
from nasbench.runs.store import check_new_run_dir


def run_discrete_search(config: SearchConfig, run_dir: str | Path, progress: bool = False) -> Any:
    """Run a discrete search described by ``config``, recording it in ``run_dir``.

    Args:
        config: a search config whose strategy is of kind ``"discrete"``; validated here.
        run_dir: a folder that does not yet hold a run.
        progress: show evaluations done, the best score so far and the ETA on stderr.

    Returns:
        A :class:`~nasbench.engine.result.SearchResult`: status ``finished`` or
        ``stopped``, the best genotype, its metrics, and the evaluations made.

    Example:
        >>> cfg = SearchConfig(strategy="random", evaluator="table", max_evaluations=20,
        ...                    space={"name": "nb201"})  # doctest: +SKIP
        >>> run_discrete_search(cfg, "runs/random-1").genotype  # doctest: +SKIP
    """
    from nasbench.device import resolve_device

    config.validate()
    check_new_run_dir(run_dir)
    parts = _Parts(config)  # built before the store: a bad dataset leaves no folder behind
    store = RunStore.create(
        run_dir, config.to_dict(), run_environment(config, resolve_device(config.device))
    )
    if parts.strategy_changes:
        _say_fitted(store, config, parts.strategy_changes, progress)
    return _run(parts, store, Path(run_dir), progress=progress)


def _say_fitted(store: RunStore, config: SearchConfig, changes: dict, progress: bool) -> None:
    """Record (and with ``progress`` print) the strategy settings fitted to the budget."""
    from tqdm.auto import tqdm

    settings = ", ".join(f"{name} {value}" for name, value in changes.items())
    line = (
        f"{config.strategy}: {settings} to fit max_evaluations {config.max_evaluations} "
        "(set them in strategy_config to keep your own)"
    )
    store.log_event(
        "strategy_fitted",
        {"changes": changes, "max_evaluations": config.max_evaluations, "message": line},
    )
    if progress:
        tqdm.write(line)


def resume_discrete_search(run_dir: str | Path, progress: bool = False) -> Any:
    """Continue a stopped or killed discrete search from what its run store recorded.

    The strategy is rebuilt from the run's seed, asked again and told every recorded
    result in the original order (nothing is evaluated twice), so it proposes what
    the uninterrupted search would have; then the search goes on until the budget
    is spent. A wall-time budget counts the time already spent.

    Args:
        run_dir: a run folder holding a discrete search.
        progress: show a progress bar (as :func:`run_discrete_search`).

    Returns:
        A :class:`~nasbench.engine.result.SearchResult`, as :func:`run_discrete_search`.

    Raises:
        ConfigError: the run names user code this process has not imported, or its ops
            changed (as the CLI's resume says); the strategy keeps trained networks
            between candidates (NASH, ENAS, AutoHAS), which a run store does not hold;
            or the recorded candidates no longer match what the strategy proposes (the
            code or config changed).

    Example:
        >>> resume_discrete_search("runs/evolution-1").status  # doctest: +SKIP
        'finished'
    """
    from nasbench.runs import load

    store = open_for_resume(run_dir)
    try:
        config = SearchConfig.from_stored(store.config, run_dir).validate()
        refusal = resume_refusal(config.strategy)
        if refusal is not None:  # before _Parts: NASH's would load its data first
            raise ConfigError(f"{refusal}; start a new run.")
        parts = _Parts(config)
        run = load(run_dir)
        run.close()  # every frame is read: an open reader would hold run.sqlite until GC
    except BaseException:
        store.close()
        raise
    if run.status == "finished":
        # Its result is read back, and nothing is written or evaluated: another end event,
        # genotype row and status would say it ran again, and a replay would evaluate
        # again whatever a schedule changed since (or find its time budget spent).
        store.close()
        return _recorded_result(run, Path(run_dir))
    # No checkpoint records the config here (nothing to compare an edit with); the replay
    # below refuses recorded candidates that an edited strategy would not propose.
    record_resume(config, store, run_dir)
    _drop_stop_genotypes(store, run)
    trials = _recorded_trials(run, every_row=parts.races)
    # An evaluator that charges a one-time training to its first result (weight sharing,
    # SMASH) hears what was recorded, so the resumed run charges it once, as it did.
    resumed = getattr(parts.evaluator, "resume_from", None)
    if callable(resumed):
        resumed([trial.result for trial in trials])
    threads = store.environment.get("threads")  # CPU sums depend on it: the run's own count
    return _run(parts, store, Path(run_dir), trials, _elapsed(run), progress, threads)


class _Parts:
    """The space, strategy, evaluator and executor a config names (fresh, from its seed)."""

    def __init__(self, config: SearchConfig) -> None:
        from nasbench.evaluation import create_evaluator
        from nasbench.strategies import create_strategy
        from nasbench.strategies.discrete import Budget, create_executor

        self.config = config
        from nasbench.engine.bilevel import search_space

        space = search_space(config)
        self.strategy_changes = config.strategy_budget_changes()
        self.strategy = create_strategy(
            config.strategy,
            {**config.strategy_config, **self.strategy_changes},
            space=space,
            seed=config.seed,
        )
        self.carries_weights = carries_weights(self.strategy)
        self.cache = "canonical"
        if self.carries_weights:
            # NASH and ENAS carry network weights between candidates, so they evaluate
            # their own candidates, here, one at a time, never from a cache.
            self.evaluator = _bind_to_data(self.strategy, config)
            self.cache = "none"
        else:
            self.evaluator = create_evaluator(
                config.evaluator,
                config.evaluator_settings(),
                space=space,
                dataset=config.dataset,
                seed=config.seed,
            )
            self.evaluator = _measuring_requested_costs(
                self.evaluator, self.strategy, space, config
            )
        self.races = callable(getattr(self.strategy, "race", None))
        if self.races:
            self.strategy.check_evaluator(self.evaluator)  # before the store exists
        self.executor = create_executor(config.executor, config.executor_config)
        self.budget = Budget(config.max_evaluations, config.max_seconds)


def _measuring_requested_costs(
    evaluator: Any, strategy: Any, space: Any, config: SearchConfig
) -> Any:
    """The evaluator, wrapped so it measures the ``macs`` and ``latency_ms`` the strategy's
    objectives (NSGA-II's) name, when the evaluator does not report them itself (only the
    table does): otherwise the search would fail after its first evaluation."""
    from nasbench.device import resolve_device
    from nasbench.evaluation.objectives import ConstrainedEvaluator, parse_objectives

    specs = getattr(getattr(strategy, "config", None), "objectives", None)
    if not specs:  # a single-objective strategy: it reads the score only
        return evaluator
    wanted = {objective.name for objective in parse_objectives(specs)} & {"macs", "latency_ms"}
    if not wanted:
        return evaluator
    return ConstrainedEvaluator(
        evaluator,
        space=space,
        input_size=config.dataset.size,
        latency_repeats=10 if "latency_ms" in wanted else 0,
        device=str(resolve_device(config.device)),
    )


class _ProgressBar:
    """A trial callback for :func:`run_discrete` that draws evaluations done (out of
    ``max_evaluations``, with tqdm's ETA) and the best score so far; with a wall-time
    budget only, the bar counts seconds instead."""

    def __init__(self, budget: Any) -> None:
        from tqdm.auto import tqdm

        self.by_time = budget.max_evaluations is None
        total = budget.max_seconds if self.by_time else budget.max_evaluations
        self.bar = tqdm(total=total, unit="s" if self.by_time else "eval", desc="search")
        self.best = float("-inf")

    def __call__(self, trial: Any) -> None:
        self.best = max(self.best, trial.result.score)
        done = round(trial.elapsed, 1) if self.by_time else trial.evaluations
        # refresh=False: the update draws it, within tqdm's rate limit (see bilevel).
        self.bar.set_postfix(best=f"{self.best:.4f}", cached=trial.cached, refresh=False)
        self.bar.update(max(0, min(done, self.bar.total) - self.bar.n))

    def close(self) -> None:
        self.bar.close()


def _run(
    parts: _Parts,
    store: RunStore,
    run_dir: Path,
    replay: list[Any] | None = None,
    elapsed: float = 0.0,
    progress: bool = False,
    threads: int | None = None,
) -> Any:
    from nasbench.engine.result import SearchResult
    from nasbench.strategies.discrete import run_discrete

    bar = _ProgressBar(parts.budget) if progress else None
    # As a differentiable search: deterministic kernels when asked, and on resume the
    # thread count the run started with, so candidates train to the same numbers.
    with store, search_settings(parts.config.deterministic, threads):
        try:
            with recording_status(store):
                out = run_discrete(
                    parts.strategy,
                    parts.evaluator,
                    parts.budget,
                    store=store,
                    executor=parts.executor,
                    on_result=bar,
                    cache=parts.cache,
                    replay=replay,
                    replay_elapsed=elapsed,
                )
        finally:
            if bar is not None:
                bar.close()
        status = "stopped" if out.stop_reason == "stop_requested" else "finished"
        store.set_status(status, out.stop_reason)
    metrics = {} if out.best_result is None else dict(out.best_result.metrics)
    return SearchResult(run_dir, status, out.best_genotype, metrics, out.evaluations)


def _recorded_result(run: Any, run_dir: Path) -> Any:
    """A finished discrete run's result as its store recorded it: the best genotype and
    its metrics (the last genotype row), and the evaluations its end event counted."""
    from nasbench.engine.result import SearchResult
    from nasbench.spaces import parse_genotype

    genotype, metrics = None, {}
    if not run.genotypes.empty:
        last = run.genotypes.iloc[-1]
        genotype = last["genotype"] if last["genotype"] is not None else (
            parse_genotype(last["genotype_json"])
        )  # fmt: skip
        metrics = dict(last["metrics"] or {})
    ended = (
        run.events[run.events["kind"] == "discrete_search_ended"]
        if not run.events.empty
        else run.events
    )
    evaluations = len(run.candidates)
    if not ended.empty:
        evaluations = int(ended.iloc[-1]["payload"].get("evaluations", evaluations))
    return SearchResult(run_dir, "finished", genotype, metrics, evaluations)


def _drop_stop_genotypes(store: RunStore, run: Any) -> None:
    """Drop the best-so-far genotype rows the run's stops logged: the resumed search logs
    its best at its end, so the run ends with the one row an uninterrupted run has.

    Every genotype row of a discrete search is such an end row. The store discards by
    step (its marker tells live readers to drop them too); a retrain of the stopped run
    keeps its metric rows (the discard spares them) and its events, logged without a step
    as a discrete search logs its own.
    """
    if run.genotypes.empty:  # killed, or stopped before a result: nothing to drop
        return
    store.discard_after(-1)


def _recorded_trials(run: Any, every_row: bool = False) -> list[Any]:
    """The candidates a run recorded, one per ask (the first row of each candidate id),
    failed ones included: the strategy is told they failed, as it was.

    ``every_row`` keeps every row instead: a race logs a candidate once per rung.
    """
    from nasbench.evaluation.base import Result
    from nasbench.strategies.discrete.executors import FAILED, failed_result
    from nasbench.strategies.discrete.loop import RecordedTrial

    trials, seen = [], set()
    for row in run.candidates.itertuples(index=False):
        cid = int(row.candidate_id)
        if (cid in seen and not every_row) or row.status not in ("done", "cached", "failed"):
            continue
        seen.add(cid)
        info, metrics = dict(row.info), dict(row.metrics)
        if isinstance(info.get(FAILED), str) and "score" not in metrics:
            # A diverged candidate (its row has no score; an evaluator's own "diverged"
            # flag sits beside one): told as it was.
            result = failed_result(info[FAILED], dict(row.cost).get("wall_s", 0.0))
        else:
            result = Result(metrics, dict(row.cost), info)
        trials.append(
            RecordedTrial(cid, row.genotype_json, result, row.status == "cached", row.worker or "")
        )
    return trials


def _elapsed(run: Any) -> float:
    """Seconds of search from the run's start to its last recorded candidate.

    The reader leaves out each pause between a stop (or a kill) and the resume after it,
    so a run stopped twice does not charge its first pause against ``max_seconds``.
    """
    if run.candidates.empty:
        return 0.0
    return float(run.candidates["elapsed"].max())


def _bind_to_data(strategy: Any, config: SearchConfig) -> Any:
    """The evaluator of a weight-carrying strategy, bound to the config's data splits."""
    from nasbench.evaluation.train_evaluator import data_spec, load_evaluation_data

    train, val, _, info = load_evaluation_data(data_spec(config.dataset), seed=config.seed)
    # Only the strategies that augment take the flag (AutoHAS searches it; config refuses it).
    extra = {"augment": True} if config.dataset.augment else {}
    return strategy.bind(train, val, info.task, device=config.device, **extra)
