"""Glue from a :class:`~nasbench.config.SearchConfig` to the METANAS loop
(:mod:`nasbench.strategies.meta.loop`). ``nasbench.search`` and ``nasbench.resume``
dispatch here for strategies of kind ``"meta"``.
"""

from __future__ import annotations

from pathlib import Path

import torch

from nasbench.config import SearchConfig
from nasbench.device import resolve_device
from nasbench.engine.bilevel import _closed_on_error, _torch_threads
from nasbench.engine.result import SearchResult
from nasbench.errors import NasbenchError
from nasbench.runs import RunStore
from nasbench.runs.environment import capture_environment
from nasbench.runs.store import check_new_run_dir


def run_meta_search(
    config: SearchConfig, run_dir: str | Path, resume: bool = False, progress: bool = False
) -> SearchResult:
    """Run (or resume) a METANAS search, recording everything in ``run_dir``.

    Args:
        config: the search (strategy of kind ``"meta"``); validated here. Ignored when
            ``resume``: the run's own config is read back.
        run_dir: the run folder (must not hold a run unless ``resume``).
        resume: continue the run in ``run_dir`` from its last checkpoint.
        progress: print a line per meta-epoch.

    Returns:
        A :class:`SearchResult`: the genotype of the meta-alphas, and as metrics the
        meta-test accuracy (mean and 95% CI half-width) per learner.

    Example:
        >>> cfg = SearchConfig(strategy="metanas", dataset="synthetic-multiclass")  # doctest: +SKIP
        >>> run_meta_search(cfg, "runs/metanas").metrics["metanas_acc_mean"]  # doctest: +SKIP
    """
    from nasbench.registry import make_config
    from nasbench.strategies.meta.loop import MetaLoop, MetaParts

    run_dir = Path(run_dir)
    parts = None
    if resume:
        store = RunStore.open(run_dir)
        with _closed_on_error(store):
            config = SearchConfig.from_dict(store.config).validate()
    else:
        config.validate()
        check_new_run_dir(run_dir)
        meta = make_config("strategy", config.strategy, config.strategy_config)
        parts = MetaParts(config, meta)  # data first: a set that does not load leaves no folder
        store = RunStore.create(
            run_dir, config.to_dict(), capture_environment(resolve_device(config.device))
        )
    meta = make_config("strategy", config.strategy, config.strategy_config)
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    threads = store.environment.get("threads") if resume else None
    with store, _torch_threads(threads):
        try:
            store.set_status("running")
            torch.use_deterministic_algorithms(config.deterministic, warn_only=True)
            loop = MetaLoop(config, meta, store, run_dir, parts, progress)
            status = loop.run(resume)
        except KeyboardInterrupt:
            store.set_status("stopped", "interrupted")
            raise
        except Exception as err:
            reason = str(err) if isinstance(err, NasbenchError) else f"{type(err).__name__}: {err}"
            store.set_status("failed", reason)
            raise
        finally:
            torch.use_deterministic_algorithms(was_deterministic)
        store.set_status(status)
    metrics = {
        f"{name}_{key}": float(value)
        for name, summary in loop.summary.items()
        for key, value in summary.items()
    }
    genotype = loop.parts.nets["metanas"].genotype()
    return SearchResult(run_dir, status, genotype, metrics, loop.step)
