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
import functools
import shlex
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import torch

from nasbench import registry
from nasbench.config import SearchConfig
from nasbench.data.fingerprint import DATA_FINGERPRINT
from nasbench.device import resolve_device
from nasbench.errors import ConfigError, NasbenchError, status_reason
from nasbench.models.memory import must_fit_in_memory, one_value_per_channel
from nasbench.protocols import carries_weights
from nasbench.runs import RunStore
from nasbench.runs.checkpoint import check_config_unchanged, resume_step
from nasbench.runs.environment import (  # import_options: re-exported where it was
    USER_CODE,
    capture_environment,
    environment_changes,
    import_options,
)
from nasbench.runs.store import check_new_run_dir

Parts = TypeVar("Parts")

# Keys of a run's environment record: the ops its space resolved to (USER_CODE, the code
# outside nasbench a search runs, is nasbench.runs.environment's).
SPACE_OPS = "space_ops"
# The run environment's key of the fingerprint of the table evaluator's table file.
TABLE_FINGERPRINT = "table_fingerprint"

# Modules the command line imported with ``--import`` (nasbench.cli): a run records them
# too, since an op set of built-in ops records no module of its own.
IMPORTED_MODULES: list[str] = []
# The event a search that cannot be resumed logs as it starts, with the reason
# (resume_refusal): `nasbench stop` reads it, without torch (nasbench.engine.commands).
NOT_RESUMABLE = "not_resumable"
# The registries a config names entries of (op sets are kept by nasbench.spaces.ops).
_REGISTRIES = ("strategy", "space", "op", "dataset", "evaluator")
# An op's spec and a dataset's entry are nasbench's wrappers around the user's code.
_WRAPPED = {"op": "factory", "dataset": "loader"}


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
        # Keeps every stop request: nasbench.resume cleared the stale ones as it began.
        store = open_for_resume(run_dir)
        with _closed_on_error(store):
            from nasbench.data.folder_reading import warn_if_split_changed
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


def open_for_resume(run_dir: str | Path, keep_stops_since: float = 0.0) -> RunStore:
    """Open a run to resume it, refusing first, before any name is looked up, one whose
    user code this process has not imported or whose ops changed
    (:func:`check_user_code`). Every resume opens its run here: ``nasbench.resume``, the
    CLI's ``resume`` (which calls it) and each loop's own resume.

    Args:
        run_dir: the run folder.
        keep_stops_since: stop requests written before this time are cleared, as meant
            for an earlier search (:meth:`RunStore.open`). ``nasbench.resume``'s first open
            passes the time the resume began; the default keeps them all, for the loop's
            own open later in the same resume: a Stop pressed in between must stop it.

    Returns:
        The open store (its writer lock held; close it).

    Raises:
        ConfigError: not a run, a writer holds it, or its user code is missing or changed.

    Example:
        >>> store = open_for_resume("runs/walk")  # doctest: +SKIP
    """
    store = RunStore.open(run_dir, keep_stops_since=keep_stops_since)
    with _closed_on_error(store):
        check_user_code(store.config, store.environment, run_dir, "resume")
    return store


def resume_refusal(strategy: str) -> str | None:
    """Why a run of ``strategy`` cannot be continued after a stop, or None when it can.

    The one place that decides it: ``nasbench.resume`` refuses such a run with this
    reason, and :func:`recording_status` records it in a :data:`NOT_RESUMABLE` event as
    the search starts, so ``nasbench stop`` (which loads no strategy code) can say that
    its stop ends the run for good.

    Args:
        strategy: a registered strategy name (the run's recorded ``strategy``).

    Returns:
        E.g. ``"a search with strategy 'nash' cannot be resumed: ..."``, or None.

    Example:
        >>> resume_refusal("evolution") is None
        True
        >>> resume_refusal("marl-gdas").endswith("its agents' replay buffer is not checkpointed")
        True
    """
    entry = registry.get("strategy", strategy)
    which = f"a search with strategy {strategy!r} cannot be resumed"
    if entry.kind == "multi-agent":
        return f"{which}: its agents' replay buffer is not checkpointed"
    if entry.kind == "discrete" and carries_weights(entry.obj):  # NASH, ENAS, AutoHAS
        return f"{which}: it trains networks it keeps between candidates, which no store holds"
    return None


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
    table = _table_fingerprint(config)
    if table is not None:
        environment[TABLE_FINGERPRINT] = table
    from nasbench.data.folder_reading import FOLDER_READING, folder_reading

    # What this reader made of a folder: set, for a resume or retrain to compare.
    reading = folder_reading(config.dataset.name)
    if reading is not None:
        environment[FOLDER_READING] = reading
    code = user_code(config)
    if code["names"]:
        environment[USER_CODE] = code
    ops = space_ops(config.space) if _searches_a_space(config) else None
    if ops is not None:
        environment[SPACE_OPS] = ops
    return environment


def user_code(config: SearchConfig) -> dict[str, Any]:
    """The code outside nasbench a search runs: each name its config uses (strategy,
    evaluator, dataset, space, op set, op) that a module other than nasbench's registers,
    with that module, and the modules a command line resuming it must import.

    Args:
        config: a validated search.

    Returns:
        ``{"modules": [...], "names": [{"kind", "name", "module"}, ...]}``; a name's
        module is ``"__main__"`` for a notebook's or script's own registration (no other
        process can import it) and None for an op set of built-in ops (which records no
        module; the ``--import`` modules of the command line stand for it).

    Example:
        >>> user_code(SearchConfig())
        {'modules': [], 'names': []}
    """
    names = []
    for kind, name in _used_names(config):
        module = _registering_module(kind, name)
        builtin = module is not None and _is_nasbench(module)
        if builtin or (module is None and kind != "op set"):
            continue
        names.append({"kind": kind, "name": name, "module": module})
    found = [item["module"] for item in names if item["module"] not in (None, "__main__")]
    imported = IMPORTED_MODULES if names else []
    return {"modules": list(dict.fromkeys([*found, *imported])), "names": names}


def _used_names(config: SearchConfig) -> list[tuple[str, str]]:
    used = [("strategy", config.strategy), ("dataset", config.dataset.name)]
    if registry.get("strategy", config.strategy).kind == "discrete":
        used.append(("evaluator", config.evaluator))
    if _searches_a_space(config):
        space = config.space
        used.append(("space", space["name"]))
        # "ops", or a role's "down_ops"/"up_ops"/"normal_ops" (NAS-Unet)
        used += [
            ("op set", value)
            for key, value in space.items()
            if (key == "ops" or key.endswith("_ops")) and isinstance(value, str)
        ]
        ops = space_ops(space) or []
        for op in ops if isinstance(ops, list) else [o for v in ops.values() for o in v]:
            used.append(("op", op))
    return list(dict.fromkeys(used))


def _searches_a_space(config: SearchConfig) -> bool:
    entry = registry.get("strategy", config.strategy)
    return entry.kind != "multi-agent" and isinstance(config.space, Mapping)


def _registering_module(kind: str, name: str) -> str | None:
    """The module whose code ``name`` runs (None when it cannot be told)."""
    if kind == "op set":
        from nasbench.spaces.ops import OP_SETS, _builtin_sets

        if name in _builtin_sets() or name not in OP_SETS:
            return "nasbench"
        # A set records no module; its first op from outside nasbench tells one.
        modules = (_registering_module("op", op) for op in OP_SETS[name])
        return next((m for m in modules if m and not _is_nasbench(m)), None)
    if kind == "dataset" and str(name).startswith("folder:"):
        return "nasbench"  # the name carries its folder: any process finds it
    if not registry.is_registered(kind, name):
        return None
    obj = registry.get(kind, name).obj
    obj = getattr(obj, _WRAPPED.get(kind, ""), obj)
    while isinstance(obj, functools.partial):
        obj = obj.func
    module = getattr(obj, "__module__", None)
    return module if isinstance(module, str) else None


def _is_nasbench(module: str) -> bool:
    return module.split(".")[0] == "nasbench"


def space_ops(space: Any) -> list[str] | dict[str, list[str]] | None:
    """The op names a space resolves to, in order (per role for NAS-Unet's spaces);
    None for a space without ops of its own (chain, DiNTS).

    Example:
        >>> space_ops({"name": "nb201"})
        ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3']
    """
    from nasbench.spaces import space_from_dict

    built = space_from_dict(space)
    role_ops = getattr(built, "role_ops", None)
    if isinstance(role_ops, Mapping):
        return {role: list(ops) for role, ops in role_ops.items()}
    ops = getattr(built, "ops", None)
    return list(ops) if ops is not None else None


def check_user_code(
    config: Mapping[str, Any], environment: Mapping[str, Any], run_dir: str | Path, command: str
) -> None:
    """Refuse, in one line, to resume or retrain a run whose user code is missing or
    changed: a name its config uses that no imported module registers now (the message
    names the module and the ``nasbench --import`` command), or a space whose ops are not
    those the run searched (an op set redefined under the same name would put other ops
    under the run's alphas and genotypes). Runs recorded before these checks pass.

    Args:
        config: the run's stored config dict.
        environment: the run's recorded environment.
        run_dir: the run folder, for the message.
        command: ``"resume"`` or ``"retrain"``, for the command the message gives.

    Raises:
        ConfigError: naming the missing name and its module, or both op lists.

    Example:
        >>> check_user_code({}, {}, "runs/x", "resume")  # nothing recorded: nothing to check
    """
    record = environment.get(USER_CODE)
    names = record.get("names") if isinstance(record, Mapping) else None
    for item in names if isinstance(names, list) else []:
        kind, name, module = item.get("kind"), item.get("name"), item.get("module")
        if _is_known(kind, name):
            continue
        words = ["nasbench", *import_options(environment), command, str(run_dir)]
        retry = " ".join(shlex.quote(word) for word in words)
        if module == "__main__":
            raise ConfigError(
                f"run '{run_dir}' uses {kind} '{name}', which the notebook or script that "
                f"started it registered (__main__), so no other process can find it; "
                f"register it again and {command} from Python, or move the registration "
                "into a .py module and import it with `nasbench --import MODULE`."
            )
        where = f"module {module} registers" if module else "code outside nasbench registers"
        options = " ".join(shlex.quote(word) for word in import_options(environment))
        if not options:
            options = "--import MODULE"
            retry = retry.replace(f"nasbench {command}", f"nasbench {options} {command}")
        raise ConfigError(
            f"run '{run_dir}' uses {kind} '{name}', which {where} and this process has not "
            f"imported; give `{options}` before the command: `{retry}` (in Python: import "
            "it first)."
        )
    recorded = environment.get(SPACE_OPS)
    space = config.get("space") if isinstance(config, Mapping) else None
    if recorded is None or not isinstance(space, Mapping):
        return
    now = space_ops(space)
    if now != recorded:
        raise ConfigError(
            f"run '{run_dir}' searched the ops {recorded} but its space {_named(space)} now "
            f"resolves to {now} (an op set or space redefined since), so a {command} would "
            "put other ops under its alphas and genotypes; restore the definition it was "
            "started with, or start a new run."
        )


def _is_known(kind: Any, name: Any) -> bool:
    if kind == "op set":
        from nasbench.spaces.ops import OP_SETS

        return name in OP_SETS
    return kind not in _REGISTRIES or registry.is_registered(kind, name)


def _named(space: Mapping[str, Any]) -> str:
    sets = [repr(v) for k, v in space.items() if k.endswith("ops") and isinstance(v, str)]
    return f"'{space.get('name')}'" + (f" (op set {', '.join(sets)})" if sets else "")


def _data_fingerprint(config: SearchConfig) -> str | None:
    from nasbench.data.fingerprint import data_fingerprint

    data = config.dataset
    return data_fingerprint(data.name, data.size, data.root)


def _table_path(config: SearchConfig) -> str | None:
    """The benchmark table file the table evaluator reads its scores from (None for
    another evaluator, or the synthetic table, which is generated, not read)."""
    if config.evaluator != "table":
        return None
    settings = config.evaluator_config
    path = settings.get("path") if isinstance(settings, Mapping) else getattr(settings, "path", "")
    return str(path) if path else None


def _table_fingerprint(config: SearchConfig) -> str | None:
    """A digest of the table file's size and bytes, hashed as a dataset file is
    (:mod:`nasbench.data.fingerprint`: whole up to 4 MiB, beyond that its first and last
    MiB); None without a table file, or when it cannot be read (the evaluator says why)."""
    from nasbench.data.fingerprint import files_digest

    path = _table_path(config)
    if path is None:
        return None
    try:
        return files_digest([Path(path)])
    except OSError:
        return None


def record_resume(
    config: SearchConfig,
    store: RunStore,
    run_dir: str | Path,
    device: Any = None,
    step: int | None = None,
) -> None:
    """Warn about, and log as events, what a resume runs on that differs from what the run
    started on: its data files or benchmark table (a ``data_changed`` event each) and
    torch, nasbench or the device type (a ``resumed`` event with the environment now), so
    the report and ``nasbench runs`` show a run that was not one uninterrupted search.
    Nothing differs: nothing is logged.

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
    table = warn_if_table_changed(config, store.environment, run_dir)
    if table is not None:
        store.log_event("data_changed", {**table, "step": step}, step=step)
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


def warn_if_table_changed(
    config: SearchConfig, environment: Mapping[str, Any], run_dir: str | Path
) -> dict[str, Any] | None:
    """Warn when the benchmark table a run's table evaluator reads changed since the run
    started (regenerated, replaced or edited): the resumed search would rank candidates
    scored by two tables.

    Args:
        config: the run's stored config.
        environment: the run's recorded environment.
        run_dir: the run folder, for the message.

    Returns:
        None when nothing changed, nothing was recorded, or the file is gone (the
        evaluator then names it); else the details for a ``data_changed`` event: the
        table and the fingerprints then and now.

    Example:
        >>> warn_if_table_changed(SearchConfig(), {}, "runs/x")  # nothing recorded: no check
    """
    recorded = environment.get(TABLE_FINGERPRINT)
    now = _table_fingerprint(config)
    if recorded is None or now is None or now == recorded:
        return None
    table = _table_path(config)
    warnings.warn(
        f"the benchmark table {table} of run '{run_dir}' changed since the run started, so "
        "the resumed search ranks candidates scored by two tables and will not end as an "
        "uninterrupted run would; start a new run for the new table.",
        UserWarning,
        stacklevel=3,
    )
    return {
        "table": table,
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
    return _network_must_fit(
        config.dataset.batch_size,
        must_fit_in_memory(
            "the search's network",
            f"lower space.skeleton {skeleton!r} (channels, cells) or dataset.batch_size "
            f"{config.dataset.batch_size}{hint}",
        ),
    )


@contextlib.contextmanager
def _network_must_fit(batch_size: int, memory: Any) -> Iterator[None]:
    """``memory`` (an allocation guard), and torch's "one value per channel" BatchNorm
    failure of a probing forward as one line (:func:`one_value_per_channel`)."""
    try:
        with memory:
            yield
    except ValueError as err:
        known = one_value_per_channel(err, batch_size)
        if known is None:
            raise
        raise known from None


@contextlib.contextmanager
def recording_status(store: RunStore) -> Iterator[None]:
    """Mark the run ``running`` for the block; ``stopped`` or ``failed`` if it ends early.

    A :class:`~nasbench.errors.NasbenchError` is recorded as its message (written for a
    person); any other error keeps its type's name. The error is raised again. A search
    whose strategy cannot be resumed (:func:`resume_refusal`) logs why in a
    :data:`NOT_RESUMABLE` event as it starts. A block that ends while the run folder no
    longer holds the store (moved, deleted or replaced) fails with
    :meth:`RunStore.check_in_place`'s error.

    Example:
        >>> import tempfile
        >>> store = RunStore.create(Path(tempfile.mkdtemp()) / "run", {}, {})
        >>> with recording_status(store):
        ...     store.status
        'running'
        >>> store.close()
    """
    store.set_status("running")
    strategy = store.config.get("strategy")
    if isinstance(strategy, str) and registry.is_registered("strategy", strategy):
        refusal = resume_refusal(strategy)
        if refusal is not None:
            store.log_event(NOT_RESUMABLE, {"message": refusal})
    try:
        yield
        # Writes since a move went to the moved file (or to nothing): the search must not
        # report the folder as holding its run. Recorded as failed; a resume completes it.
        store.check_in_place()
    except KeyboardInterrupt:
        store.set_status("stopped", "interrupted")
        raise
    except Exception as err:
        # A network whose deepest map is one pixel at batch 1 fails its first training step
        # inside torch: recorded and raised as the one line that says what to change.
        batch = (store.config.get("dataset") or {}).get("batch_size")
        known = one_value_per_channel(err, batch) if isinstance(batch, int) else None
        store.set_status("failed", status_reason(known or err))
        if known is not None:
            raise known from None
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
