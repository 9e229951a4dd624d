"""Glue from a :class:`~nasbench.config.SearchConfig` to the discrete loop.

Builds the space, the strategy, the evaluator and the executor the config names,
opens the run store and runs :func:`nasbench.strategies.discrete.run_discrete`.
``nasbench.search`` dispatches here for strategies of kind ``"discrete"``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nasbench.config import SearchConfig
from nasbench.runs import RunStore
from nasbench.runs.environment import capture_environment


def build_space(config: SearchConfig) -> Any:
    """The config's space, with the dataset's input channels and classes in its skeleton."""
    from nasbench.data import get_info
    from nasbench.spaces import space_from_dict

    info = get_info(config.dataset.name)
    space_dict = dict(config.space)
    skeleton = {**space_dict.get("skeleton", {}), "in_channels": info.in_channels}
    skeleton["num_classes"] = info.num_classes
    return space_from_dict({**space_dict, "skeleton": skeleton})


def run_discrete_search(config: SearchConfig, run_dir: str | Path) -> Any:
    """Run a discrete search described by ``config``, recording it in ``run_dir``.

    Args:
        config: a search config whose strategy is of kind ``"discrete"``; validated here.
        run_dir: a folder that does not yet hold a run.

    Returns:
        A :class:`~nasbench.engine.bilevel.SearchResult`: status ``finished`` or
        ``stopped``, the best genotype, its metrics, and the evaluations made.

    Example:
        >>> cfg = SearchConfig(strategy="random", evaluator="table", max_evaluations=20,
        ...                    space={"name": "nb201"})  # doctest: +SKIP
        >>> run_discrete_search(cfg, "runs/random-1").genotype  # doctest: +SKIP
    """
    from nasbench.engine.bilevel import SearchResult
    from nasbench.engine.device import resolve_device
    from nasbench.evaluation import create_evaluator
    from nasbench.strategies import create_strategy
    from nasbench.strategies.discrete import Budget, create_executor, run_discrete

    config.validate()
    run_dir = Path(run_dir)
    space = build_space(config)
    strategy = create_strategy(
        config.strategy, config.strategy_config, space=space, seed=config.seed
    )
    cache = "canonical"
    if callable(getattr(strategy, "bind", None)):
        # NASH and ENAS carry network weights between candidates, so they evaluate
        # their own candidates, here, one at a time, never from a cache.
        evaluator = _bind_to_data(strategy, config)
        cache = "none"
    else:
        evaluator = create_evaluator(
            config.evaluator,
            config.evaluator_config,
            space=space,
            dataset=config.dataset,
            seed=config.seed,
        )
    executor = create_executor(config.executor, config.executor_config)
    budget = Budget(config.max_evaluations, config.max_seconds)
    store = RunStore.create(
        run_dir, config.to_dict(), capture_environment(resolve_device(config.device))
    )
    with store:
        try:
            store.set_status("running")
            out = run_discrete(
                strategy, evaluator, budget, store=store, executor=executor, cache=cache
            )
        except KeyboardInterrupt:
            store.set_status("stopped", "interrupted")
            raise
        except Exception as err:
            store.set_status("failed", f"{type(err).__name__}: {err}")
            raise
        status = "stopped" if out.stop_reason == "stop_requested" else "finished"
        store.set_status(status, out.stop_reason)
    metrics = {} if out.best_result is None else dict(out.best_result.metrics)
    return SearchResult(run_dir, status, out.best_genotype, metrics, out.evaluations)


def _bind_to_data(strategy: Any, config: SearchConfig) -> Any:
    """The evaluator of a weight-carrying strategy, bound to the config's data splits."""
    from nasbench.evaluation.training import data_spec, load_evaluation_data

    train, val, _, info = load_evaluation_data(
        data_spec(config.dataset), seed=config.seed, augment=config.dataset.augment
    )
    return strategy.bind(train, val, info.task, device=config.device)
