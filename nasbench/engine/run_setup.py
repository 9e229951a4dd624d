"""What every search loop does around its steps: open or create its run, and record how
it ended.

A new run validates its config, checks the folder is new and builds its data *before*
the store exists, so a file that does not load leaves no run folder behind. A resumed run
reads its own config back from the store. While the loop runs, the store's status says
``running``; an interrupt leaves ``stopped``, an error ``failed`` with a reason a person
can read.
"""

from __future__ import annotations

import contextlib
import dataclasses
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import torch

from nasbench.config import SearchConfig
from nasbench.data.fingerprint import DATA_FINGERPRINT
from nasbench.device import resolve_device
from nasbench.errors import NasbenchError, status_reason
from nasbench.models.memory import must_fit_in_memory
from nasbench.runs import RunStore
from nasbench.runs.checkpoint import check_config_unchanged, resume_step
from nasbench.runs.environment import capture_environment, environment_changes
from nasbench.runs.store import check_new_run_dir

Parts = TypeVar("Parts")


def open_or_create_run(
    config: SearchConfig,
    run_dir: str | Path,
    resume: bool,
    build: Callable[[SearchConfig], Parts],
    device: str | None = None,
) -> tuple[SearchConfig, RunStore, Parts | None]:
    """Open the run to resume, or build a new search's parts and then create its run.

    Args:
        config: the search; ignored when ``resume`` (the run's own config is read back).
        run_dir: the run folder (must not hold a run unless ``resume``).
        resume: open the run in ``run_dir`` instead of creating one.
        build: makes the loop's parts (data first) from the validated config; called for a
            new run only, before its folder exists.
        device: the device the loop computes on, for the run's environment record
            (default: the config's, resolved; a CPU-only loop passes ``"cpu"``).

    Returns:
        ``(config, store, parts)``: the validated config, the open store, and the parts
        (None on resume: the loop rebuilds them from the read-back config).

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp()) / "run"
        >>> cfg, store, parts = open_or_create_run(SearchConfig(), folder, False, lambda c: 1)
        >>> parts, store.status
        (1, 'created')
        >>> store.close()
    """
    run_dir = Path(run_dir)
    if resume:
        store = RunStore.open(run_dir)
        with _closed_on_error(store):
            from nasbench.data.folder import warn_if_split_changed
            from nasbench.strategies.selfsupervised.unnas import warn_if_jigsaw_labels_changed

            stored = SearchConfig.from_stored(store.config, run_dir)
            # Before anything is written: an edited config is refused, not resumed.
            check_config_unchanged(run_dir, store.config)
            warn_if_split_changed(stored.dataset.name, store.environment, run_dir)
            warn_if_jigsaw_labels_changed(stored, store.environment, run_dir)
            stored.validate()
            step = resume_step(run_dir, store.last_step("train"))
            record_resume(stored, store, run_dir, device, step)
            return stored, store, None
    config.validate()
    check_new_run_dir(run_dir)
    with network_must_fit(config):
        parts = build(config)  # a set that does not load leaves no run folder behind
    environment = run_environment(config, device or resolve_device(config.device))
    return config, RunStore.create(run_dir, config.to_dict(), environment), parts


# The skeleton fields the dataset decides: a search builds its network with the data's
# values whatever the config says (nasbench.engine.bilevel.search_space).
DATASET_DECIDES = ("in_channels", "num_classes")


def with_dataset_skeleton(config: SearchConfig) -> SearchConfig:
    """A copy whose skeletons (``space.skeleton``, and an evaluator's ``skeleton`` override)
    state the input channels and outputs of the data the search trains on (the dataset's,
    or a pretext task's) where they name them, so a run stores the numbers its networks
    were built with, not those of a config saved on another set. Fields the config leaves
    out stay out.

    Args:
        config: the search, not yet validated: one this cannot read (no such dataset, a
            skeleton that is not a dict) is returned as it is, for ``validate`` to refuse.

    Returns:
        The copy, or ``config`` itself when no skeleton names either field.

    Example:
        >>> given = SearchConfig(space={"name": "darts", "skeleton": {"in_channels": 3}})
        >>> with_dataset_skeleton(given).space["skeleton"]  # the synthetic set is grey
        {'in_channels': 1}
    """
    # The data the supernet trains on: a self-supervised search's pretext task decides its
    # outputs (UnNAS's rotation: 4), not the dataset's classes.
    from nasbench.engine.bilevel import search_info

    space, settings = config.space, config.evaluator_config
    found = {
        where: held.get("skeleton")
        for where, held in (("space", space), ("evaluator_config", settings))
        if isinstance(held, Mapping) and isinstance(held.get("skeleton"), Mapping)
    }
    named = any(k in skeleton for skeleton in found.values() for k in DATASET_DECIDES)
    name = getattr(config.dataset, "name", None)
    if not named or not isinstance(name, str):
        return config
    try:
        info = search_info(config)
    except NasbenchError:
        return config
    changes = {}
    for where, skeleton in found.items():
        stated = {k: getattr(info, k) for k in DATASET_DECIDES if k in skeleton}
        held = getattr(config, where)
        changes[where] = {**held, "skeleton": {**skeleton, **stated}}
    return dataclasses.replace(config, **changes)


def run_environment(config: SearchConfig, device: Any) -> dict[str, Any]:
    """What a new run records of its machine (:func:`capture_environment`) and of its data
    (the files' fingerprint, when they are files a person owns).

    Args:
        config: the validated search.
        device: the device the loop computes on.

    Returns:
        The environment dict for :meth:`RunStore.create`.

    Example:
        >>> "data_fingerprint" in run_environment(SearchConfig(), "cpu")  # synthetic: none
        False
    """
    environment = capture_environment(device, config.deterministic)
    fingerprint = _data_fingerprint(config)
    if fingerprint is not None:
        environment[DATA_FINGERPRINT] = fingerprint
    return environment


def _data_fingerprint(config: SearchConfig) -> str | None:
    from nasbench.data.fingerprint import data_fingerprint

    data = config.dataset
    return data_fingerprint(data.name, data.size, data.root)


def record_resume(
    config: SearchConfig,
    store: RunStore,
    run_dir: str | Path,
    device: Any = None,
    step: int | None = None,
) -> None:
    """Warn about, and log as events, what a resume runs on that differs from what the run
    started on: its data files (a ``data_changed`` event) and torch, nasbench or the device
    type (a ``resumed`` event with the environment now), so the report and ``nasbench runs``
    show a run that was not one uninterrupted search. Nothing differs: nothing is logged.

    Args:
        config: the run's stored config.
        store: the open run store.
        run_dir: the run folder, for the messages.
        device: the device the resumed loop computes on (default: the config's, resolved).
        step: the step the resume continues from, for the events (None: not known; the
            events then carry no step, so discarding later rows keeps them).

    Example:
        >>> record_resume(config, store, "runs/x", "cpu", step=40)  # doctest: +SKIP
    """
    data = warn_if_data_changed(config, store.environment, run_dir)
    if data is not None:
        store.log_event("data_changed", {**data, "step": step}, step=step)
    try:
        device = device or resolve_device(config.device)
    except NasbenchError:
        return  # no such device here: the loop itself refuses the resume by name
    now = capture_environment(device, config.deterministic)
    changes = environment_changes(store.environment, now)
    if not changes:
        return
    said = ", ".join(f"{name} {then} -> {current}" for name, (then, current) in changes.items())
    warnings.warn(
        f"run '{run_dir}' resumes on other software or hardware than it started on ({said}), "
        "so it may not end as an uninterrupted run would; the change is logged in its events.",
        UserWarning,
        stacklevel=3,
    )
    store.log_event("resumed", {"changed": changes, "environment": now, "step": step}, step=step)


def warn_if_data_changed(
    config: SearchConfig, environment: Mapping[str, Any], run_dir: str | Path
) -> dict[str, Any] | None:
    """Warn when the files a run's data is read from changed since the run started: the
    resumed search would not end as an uninterrupted one would.

    Args:
        config: the run's stored config.
        environment: the run's recorded environment.
        run_dir: the run folder, for the message.

    Returns:
        None when nothing changed, nothing was recorded, or the files are gone (the
        loop's load then fetches or names them); else the details for a ``data_changed``
        event: the dataset and the fingerprints then and now.

    Example:
        >>> warn_if_data_changed(SearchConfig(), {}, "runs/x")  # nothing recorded: no check
    """
    from nasbench.data.fingerprint import data_change

    recorded = environment.get(DATA_FINGERPRINT)
    if recorded is None:
        return None
    data = config.dataset
    now, what = data_change(recorded, data.name, data.size, data.root)
    if what is None or now is None:
        # Files gone: the loop's own load fetches the official file again (checked against
        # its MD5) or stops with one line naming it, so nothing read differs yet.
        return None
    warnings.warn(
        f"the files of run '{run_dir}''s dataset {config.dataset.name} {what} since the run "
        "started, so the resumed search reads other data than it began with and will not end "
        "as an uninterrupted run would; start a new run for the new data.",
        UserWarning,
        stacklevel=3,
    )
    return {
        "dataset": config.dataset.name,
        "files": "changed",
        "fingerprint_at_start": recorded,
        "fingerprint_now": now,
    }


def network_must_fit(config: SearchConfig, estimate_hint: bool = True) -> Any:
    """A block in which an allocation failure (building or probing the search's network)
    becomes a one-line error naming the search's sizes to lower
    (:func:`nasbench.models.memory.must_fit_in_memory`).

    Args:
        config: the search whose network the block builds.
        estimate_hint: end the message by pointing at ``nasbench search --estimate``.

    Returns:
        The context manager.

    Example:
        >>> with network_must_fit(SearchConfig()):
        ...     raise MemoryError()
        Traceback (most recent call last):
        ...
        nasbench.errors.ConfigError: the search's network does not fit in memory; lower space.skeleton {'n_cells': 5, 'channels': 8} (channels, cells) or dataset.batch_size 16, and check with `nasbench search --estimate`.
    """  # noqa: E501
    skeleton = (config.space or {}).get("skeleton", "the default")
    hint = ", and check with `nasbench search --estimate`" if estimate_hint else ""
    return must_fit_in_memory(
        "the search's network",
        f"lower space.skeleton {skeleton!r} (channels, cells) or dataset.batch_size "
        f"{config.dataset.batch_size}{hint}",
    )


@contextlib.contextmanager
def recording_status(store: RunStore) -> Iterator[None]:
    """Mark the run ``running`` for the block; ``stopped`` or ``failed`` if it ends early.

    A :class:`~nasbench.errors.NasbenchError` is recorded as its message (written for a
    person); any other error keeps its type's name. The error is raised again.

    Example:
        >>> import tempfile
        >>> store = RunStore.create(Path(tempfile.mkdtemp()) / "run", {}, {})
        >>> with recording_status(store):
        ...     store.status
        'running'
        >>> store.close()
    """
    store.set_status("running")
    try:
        yield
    except KeyboardInterrupt:
        store.set_status("stopped", "interrupted")
        raise
    except Exception as err:
        store.set_status("failed", status_reason(err))
        raise


@contextlib.contextmanager
def search_settings(deterministic: bool, threads: int | None = None) -> Iterator[None]:
    """Deterministic kernels and the CPU thread count for one search; the caller's back after.

    Args:
        deterministic: ask torch for deterministic kernels inside the block.
        threads: CPU threads inside the block (None: leave them). CPU kernels sum in an
            order that depends on the thread count, so a resumed run uses the count it
            started with to reach the same numbers bit for bit.

    Example:
        >>> before = torch.get_num_threads()
        >>> with search_settings(False, threads=1):
        ...     torch.get_num_threads()
        1
        >>> torch.get_num_threads() == before
        True
    """
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    was_warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(int(threads))
    torch.use_deterministic_algorithms(deterministic, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(was_deterministic, warn_only=was_warn_only)
        torch.set_num_threads(before)


@contextlib.contextmanager
def _closed_on_error(store: RunStore) -> Iterator[Any]:
    """Release the writer lock when opening a run for resume fails half-way."""
    try:
        yield
    except BaseException:
        store.close()
        raise
