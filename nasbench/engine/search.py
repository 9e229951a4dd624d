"""The public entry points: :func:`search` runs a search described by a config, :func:`resume`
continues one from its run store. Differentiable searches run the bilevel loop
(:mod:`nasbench.engine.bilevel`), discrete ones the ask/tell runner
(:mod:`nasbench.engine.discrete`), meta-learning ones (METANAS) :mod:`nasbench.engine.meta`.
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

from nasbench.config import SearchConfig
from nasbench.engine.bilevel import run_search
from nasbench.engine.result import SearchResult
from nasbench.engine.run_setup import with_dataset_skeleton
from nasbench.errors import CheckpointError, ConfigError

__all__ = ["resume", "search"]


def search(
    config: SearchConfig | dict, run_dir: str | Path, progress: bool = False
) -> SearchResult:
    """Run a search described by ``config``, writing its run store into ``run_dir``.

    The CLI (``nasbench search``), the widgets (through the CLI in a subprocess) and
    the tests all come through here.

    Args:
        config: a :class:`SearchConfig` or its dict form.
        run_dir: a folder that does not yet hold a run (a leading ``~`` is the home folder).
        progress: show a progress bar.

    Returns:
        A :class:`SearchResult`.

    Example:
        >>> cfg = SearchConfig(epochs=1, max_steps_per_epoch=2)  # doctest: +SKIP
        >>> search(cfg, "runs/demo").genotype  # doctest: +SKIP
    """
    if isinstance(config, dict):
        config = SearchConfig.from_dict(config)
    if not isinstance(config, SearchConfig):
        raise ConfigError(f"search needs a SearchConfig or a dict, got {type(config).__name__}.")
    # "" would be the current folder (Path("") is "."): the store would land among its files.
    if not isinstance(run_dir, (str, os.PathLike)) or not str(run_dir).strip():
        raise ConfigError(
            f"run_dir must name a new folder for the run store, e.g. 'runs/demo', got {run_dir!r}."
        )
    from nasbench.runs.store import run_folder
    from nasbench.strategies import get_strategy

    run_dir = run_folder(run_dir)  # "~/runs/x": every step below sees the home folder
    # A copy, with data paths absolute: the stored config reads the same files from
    # any folder a resume, retrain or notebook starts in.
    config = config.with_absolute_paths()

    kind = get_strategy(config.strategy).kind
    if kind == "meta":
        from nasbench.engine.meta import run_meta_search

        return run_meta_search(config, run_dir, progress=progress)
    if kind == "multi-agent":
        # Landmark localisation by collaborating Q-learning agents: a loop of its own.
        from nasbench.engine.localisation import run_localisation_search

        return run_localisation_search(config, run_dir, progress=progress)
    # Both loops below build the network for the dataset's channels and classes: the
    # stored config states those where it names them.
    config = with_dataset_skeleton(config)
    if kind == "discrete":
        # Discrete strategies share one ask/tell loop of their own (no bilevel training).
        from nasbench.engine.discrete import run_discrete_search

        return run_discrete_search(config, run_dir, progress=progress)
    return run_search(config, run_dir, progress=progress)


def _refuse_resume_that_would_restart(
    run_dir: str | Path, status: str, message: str, finished: bool
) -> None:
    """Refuse a resume that would silently start over and drop recorded results.

    Without a checkpoint a resume starts again from step 0 (right for a search killed
    before its first one). A run that finished would lose its results that way, and a run
    stopped on request always wrote a checkpoint, so a missing one was deleted or not
    copied along. A finished run whose checkpoint does not load is refused here, before
    anything is written: the loader's advice (remove the checkpoints) would lead to the
    restart, and the failed attempt would mark complete results ``failed``.
    """
    from nasbench.runs.checkpoint import LAST, PREVIOUS, checkpoint_dir, load_checkpoint

    folder = checkpoint_dir(run_dir)
    for path in (folder / LAST, folder / PREVIOUS):
        if path.is_dir():  # found here, or the first checkpoint write fails as "File exists"
            raise ConfigError(
                f"'{path}' is a folder, where the run keeps a checkpoint file; move it away "
                "to resume."
            )
    complete = "its results are complete (nasbench report), so start a new run to search again"
    if (folder / LAST).is_file() or (folder / PREVIOUS).is_file():
        if finished:
            try:
                with warnings.catch_warnings():  # a fallback to prev.pt is warned by the resume
                    warnings.simplefilter("ignore")
                    load_checkpoint(run_dir)
            except CheckpointError as err:
                what = getattr(err, "what", None) or str(err).rsplit("; ", 1)[0]
                raise ConfigError(
                    f"run '{run_dir}' finished, but its checkpoint does not load ({what}); "
                    f"{complete}."
                ) from None
        return
    if finished:
        raise ConfigError(
            f"run '{run_dir}' finished and has no checkpoint left, so resuming would start it "
            f"again from step 0 and replace its results; {complete}."
        )
    if status == "stopped" and message != "interrupted":
        raise ConfigError(
            f"run '{run_dir}' was stopped but {folder} holds no checkpoint (deleted, or not "
            "copied with the run); put checkpoints/last.pt back to continue it, or start a "
            "new run."
        )


def resume(
    run_dir: str | Path, progress: bool = False, *, started: float | None = None
) -> SearchResult:
    """Continue the search in ``run_dir`` from its last checkpoint.

    On CPU with ``deterministic=True`` it ends with the same genotype and metrics as
    an uninterrupted run. Discrete searches resume by replaying their recorded
    candidates (:func:`nasbench.engine.discrete.resume_discrete_search`).

    Args:
        run_dir: a run folder holding a stopped or killed search.
        progress: show a progress bar.
        started: when this resume began (``time.time()``; default: now). Stop requests
            written before it were meant for an earlier search and are dropped; one
            written since (a Stop pressed while the resume starts up) stops it at its
            first step. ``nasbench resume`` passes the moment its process started.

    Returns:
        A :class:`SearchResult`.

    Raises:
        ConfigError: not a run; its user code is not imported or its ops changed
            (:func:`nasbench.engine.run_setup.check_user_code`); its strategy cannot be
            resumed (:func:`nasbench.engine.run_setup.resume_refusal`); or resuming would
            start a finished or stopped run over.

    Example:
        >>> resume("runs/demo").status  # doctest: +SKIP
        'finished'
    """
    from nasbench.engine.run_setup import open_for_resume, resume_refusal
    from nasbench.runs.store import run_folder
    from nasbench.strategies import get_strategy

    started = time.time() if started is None else started
    run_dir = run_folder(run_dir)  # "~/runs/x": every step below sees the home folder
    # Checks it is a run, that no writer holds it, and, before the strategy's name is
    # looked up, that the user code it names is imported. The only open of this resume
    # that clears stop requests: the loop's own, below, keeps those written since.
    store = open_for_resume(run_dir, keep_stops_since=started)
    strategy = store.config.get("strategy", "darts")
    status, message, finished = store.status, store.status_message, store.ever_finished
    store.close()
    refusal = resume_refusal(strategy)
    if refusal is not None:
        raise ConfigError(f"{refusal}; start a new run.")
    if get_strategy(strategy).kind != "discrete":  # the kinds that checkpoint
        _refuse_resume_that_would_restart(run_dir, status, message, finished)
    if get_strategy(strategy).kind == "meta":
        from nasbench.engine.meta import run_meta_search

        return run_meta_search(SearchConfig(), run_dir, resume=True, progress=progress)
    if get_strategy(strategy).kind == "discrete":
        from nasbench.engine.discrete import resume_discrete_search

        return resume_discrete_search(run_dir, progress=progress)
    return run_search(SearchConfig(), run_dir, resume=True, progress=progress)
