"""Glue from a :class:`~nasbench.config.SearchConfig` to the METANAS loop
(:mod:`nasbench.strategies.meta.loop`). ``nasbench.search`` and ``nasbench.resume``
dispatch here for strategies of kind ``"meta"``.
"""

from __future__ import annotations

from pathlib import Path

from nasbench.config import SearchConfig
from nasbench.engine.result import SearchResult
from nasbench.engine.run_setup import open_or_create_run, recording_status, search_settings


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

    def build(config: SearchConfig) -> MetaParts:
        return MetaParts(config, make_config("strategy", config.strategy, config.strategy_config))

    # The METANAS loop computes on the CPU whatever the machine has (config: CPU_ONLY_KINDS).
    config, store, parts = open_or_create_run(config, run_dir, resume, build, device="cpu")
    meta = make_config("strategy", config.strategy, config.strategy_config)
    threads = store.environment.get("threads") if resume else None
    with store, search_settings(config.deterministic, threads):
        with recording_status(store):
            loop = MetaLoop(config, meta, store, run_dir, parts, progress)
            status = loop.run(resume)
        store.set_status(status)
    metrics = {
        f"{name}_{key}": float(value)
        for name, summary in loop.summary.items()
        for key, value in summary.items()
    }
    genotype = loop.parts.nets["metanas"].genotype()
    return SearchResult(run_dir, status, genotype, metrics, loop.step)
