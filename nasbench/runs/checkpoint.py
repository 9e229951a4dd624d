"""Atomic checkpoints and RNG state capture, so a resumed search continues exactly.

A checkpoint is ``run_dir/checkpoints/last.pt`` (optionally also ``step-000123.pt``).
It is written to a temporary file and fsynced; the previous ``last.pt`` becomes
``prev.pt`` and the new file is renamed into place, so a crash at any moment leaves
a whole checkpoint behind, never half of one. When ``last.pt`` is missing (killed
between the two renames) or damaged (a disk error, a truncated copy), loading falls
back to ``prev.pt``, as Lightning users expect of ``last.ckpt``; when neither loads
the error names the file and how to recover.

What the engine puts in ``state`` (by convention): ``model``, ``optimizers``,
``alphas`` (state_dicts), ``rng`` (from :func:`capture_rng`) and ``data``
(``{"epoch", "batch", "sampler_seed"}``: where the data stream stands).

Example:
    >>> state = {"model": model.state_dict(), "rng": capture_rng({"data": gen})}  # doctest: +SKIP
    >>> save_checkpoint(run_dir, state, step=200)  # doctest: +SKIP
    >>> state = load_checkpoint(run_dir)  # doctest: +SKIP
    >>> restore_rng(state["rng"], {"data": gen})  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import random
import re
import shutil
import sqlite3
import warnings
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nasbench.errors import CheckpointError, ConfigError
from nasbench.runs.environment import device_name
from nasbench.runs.faults import fault_point
from nasbench.runs.schema import CHECKPOINT_DIR, DB_NAME, run_folder
from nasbench.runs.store import sqlite_uri

LAST = "last.pt"
PREVIOUS = "prev.pt"
# The run a checkpoint belongs to (its creation time, unique per run folder), so a
# checkpoint copied in from another run is refused instead of silently continued.
RUN_KEY = "run_created"
# The layout of what the engines save; a checkpoint of a later layout is refused by name
# (a newer nasbench wrote it) rather than misread.
CHECKPOINT_FORMAT = 1
FORMAT_KEY = "format"
# The run's stored config when the checkpoint was written (canonical JSON) and its digest,
# so a resume refuses a config hand-edited since: the weights, optimiser and schedule in the
# checkpoint belong to the old one. Checkpoints written before these keys resume unchecked.
CONFIG_KEY = "run_config"
CONFIG_DIGEST_KEY = "run_config_digest"

Generator = torch.Generator | np.random.Generator | np.random.RandomState


def checkpoint_dir(run_dir: str | Path) -> Path:
    """Return ``run_dir/checkpoints`` (``run_dir`` may be a loaded Run)."""
    return run_folder(run_dir) / CHECKPOINT_DIR


def save_checkpoint(
    run_dir: str | Path, state: Mapping[str, Any], step: int, *, keep: bool = False
) -> Path:
    """Write ``state`` atomically as the run's latest checkpoint.

    Args:
        run_dir: the run folder.
        state: tensors, state_dicts and plain Python values (no custom classes, so
            the file loads with ``weights_only=True``). ``step`` is added to it.
        step: the global step the state belongs to.
        keep: also keep a copy as ``step-<step:06d>.pt``.

    Returns:
        The path of ``last.pt``.

    Example:
        >>> save_checkpoint("runs/x", {"model": net.state_dict()}, step=10)  # doctest: +SKIP
    """
    folder = checkpoint_dir(run_dir)
    if not Path(run_dir).is_dir():
        raise ConfigError(
            f"run folder '{run_dir}' does not exist (moved or deleted?); save into a run folder."
        )
    folder.mkdir(exist_ok=True)
    payload = {**state, "step": int(step), FORMAT_KEY: CHECKPOINT_FORMAT}
    meta = _run_meta(run_dir)
    if meta.get("created") is not None:
        payload[RUN_KEY] = meta["created"]
    text = _canonical(meta.get("config"))
    if text is not None:
        payload[CONFIG_KEY], payload[CONFIG_DIGEST_KEY] = text, config_digest(text)
    last = folder / LAST
    _atomic_save(payload, last, previous=folder / PREVIOUS)
    if keep:
        _atomic_save(payload, folder / f"step-{int(step):06d}.pt")
    return last


def load_checkpoint(
    run_dir: str | Path,
    map_location: str | torch.device = "cpu",
    step: int | None = None,
    weights_only: bool = True,
) -> dict[str, Any] | None:
    """Load the latest checkpoint of a run, or None when it has none.

    A damaged or missing ``last.pt`` falls back to ``prev.pt`` (with a warning
    when ``last.pt`` exists but does not load). Damage includes flipped bits: every
    member's CRC32 is checked before the file is read (torch.load does not).

    Args:
        run_dir: the run folder.
        map_location: where tensors go (``"cpu"`` by default).
        step: load the kept ``step-<step>.pt`` instead of ``last.pt``.
        weights_only: refuse to unpickle arbitrary objects (safe default).

    Returns:
        The saved state dict (with its ``step``), or None if no checkpoint exists.

    Raises:
        CheckpointError: the checkpoint and its predecessor are both damaged.
        ConfigError: ``map_location`` names no device nasbench runs on (``"gpu"``) or a
            GPU this machine lacks; checked first, so a good file is not called damaged.

    Example:
        >>> state = load_checkpoint("runs/x")  # doctest: +SKIP
        >>> state["step"]  # doctest: +SKIP
        10
    """
    if isinstance(map_location, (str, torch.device)):
        map_location = device_name(map_location, "map_location", visible=True)
    state = _load_latest(run_dir, map_location, step, weights_only)
    if state is not None:
        _check_belongs(state, run_dir)
    return state


def load_for_resume(
    run_dir: str | Path, logged_step: int, map_location: str | torch.device = "cpu"
) -> dict[str, Any] | None:
    """The checkpoint a resume continues from: the latest one whose step the run store
    has rows for.

    An engine logs a step's rows before it checkpoints the step, so the store normally
    reaches the checkpoint. When it does not (the database lost its last writes: a copy
    made without ``run.sqlite-wal``, a power cut), resuming from the checkpoint would
    leave those steps without rows for good; ``prev.pt`` is taken when the store
    reaches it, else the search starts again (same seed, same rows), with a warning.

    Args:
        run_dir: the run folder.
        logged_step: the last step the store holds rows for.
        map_location: where tensors go.

    Returns:
        The state to continue from, or None to start from step 0.

    Example:
        >>> state = load_for_resume("runs/x", store.last_step())  # doctest: +SKIP
    """
    state = load_checkpoint(run_dir, map_location)
    if state is None or state["step"] <= logged_step:
        return state
    earlier = None
    previous = checkpoint_dir(run_dir) / PREVIOUS
    with contextlib.suppress(CheckpointError):
        if previous.is_file():
            candidate = _load_whole(previous, map_location, True)
            if candidate["step"] <= logged_step:
                _check_belongs(candidate, run_dir)
                earlier = candidate
    where = f"step {earlier['step']} ({PREVIOUS})" if earlier is not None else "step 0"
    warnings.warn(
        f"run '{run_dir}' holds rows up to step {logged_step} but its checkpoint is at step "
        f"{state['step']} (the database lost its last writes: a copy without run.sqlite-wal, "
        f"or a power cut); resuming from {where} so that every step has its rows.",
        stacklevel=2,
    )
    return earlier


def require_keys(state: Mapping[str, Any], keys: tuple[str, ...], run_dir: str | Path) -> None:
    """Raise a one-line CheckpointError unless the checkpoint holds every key an engine
    restores (a checkpoint of another layout would otherwise fail with a bare KeyError).

    Args:
        state: a loaded checkpoint.
        keys: the keys the engine reads.
        run_dir: the run folder, for the message.

    Example:
        >>> require_keys({"step": 3, "epoch": 0}, ("epoch",), "runs/x")
    """
    missing = [key for key in keys if key not in state]
    if missing:
        raise CheckpointError(
            f"the checkpoint of run '{run_dir}' has no {', '.join(missing)}: another version "
            "of nasbench wrote it, or it is damaged; resume it with the version that ran it, "
            "or start a new run."
        )


def _load_latest(
    run_dir: str | Path, map_location: Any, step: int | None, weights_only: bool
) -> dict[str, Any] | None:
    folder = checkpoint_dir(run_dir)
    if step is not None:
        path = folder / f"step-{int(step):06d}.pt"
        if not path.is_file():
            raise ConfigError(
                f"no checkpoint for step {step} in '{folder}'; pass a step saved with "
                "keep=True (only those are kept)."
            )
        return _load_whole(path, map_location, weights_only)
    last, previous = folder / LAST, folder / PREVIOUS
    if not last.is_file():
        # Killed between rotating last.pt to prev.pt and renaming the new file in.
        return _load_whole(previous, map_location, weights_only) if previous.is_file() else None
    try:
        return _load_whole(last, map_location, weights_only)
    except CheckpointError as damage:
        if not previous.is_file():
            raise
        what = getattr(damage, "what", str(damage))
        try:
            state = _load_whole(previous, map_location, weights_only)
        except CheckpointError as second:
            # Advice for the previous file alone ("delete it to resume from the previous
            # checkpoint") would send a person round in a circle.
            raise CheckpointError(
                f"{what}, and {getattr(second, 'what', second)}; remove {folder} to resume "
                "from step 0, or start a new run."
            ) from None
        warnings.warn(f"{what}; resuming from {previous} (step {state['step']}).", stacklevel=2)
        return state


@contextlib.contextmanager
def restoring(run_dir: str | Path) -> Iterator[None]:
    """Turn a checkpoint that does not fit the run's networks into a one-line error.

    ``load_state_dict`` on a checkpoint of another configuration raises a RuntimeError of
    hundreds of lines (every missing and unexpected key); a person needs one. A first layer
    that alone takes other input channels is named as such: the data reads otherwise now.

    Args:
        run_dir: the run folder whose checkpoint is being applied.

    Example:
        >>> with restoring("runs/x"):  # doctest: +SKIP
        ...     model.load_state_dict(state["model"])
    """
    try:
        yield
    except (RuntimeError, KeyError, ValueError, TypeError, IndexError) as err:
        folder = checkpoint_dir(run_dir)
        channels = _input_channels_changed(str(err))
        if channels is not None:
            raise CheckpointError(
                f"the data of run '{run_dir}' now reads as {channels[1]} channel(s) but the "
                f"run's networks take {channels[0]} (its checkpoint in {folder}): the data or "
                "its reader changed since the run started (an earlier version may have read "
                "the folder differently); start a new run."
            ) from None
        raise CheckpointError(
            f"the checkpoint in {folder} does not fit this run's networks "
            f"({type(err).__name__}: {_whole_entries(str(err))}); the code that builds the "
            "networks may have changed since the run started (then start a new run), or it is "
            "another run's checkpoint: put this run's own back, or remove the checkpoints to "
            "resume it from step 0."
        ) from None


# torch's load_state_dict entry for one parameter of another shape.
_SIZE_MISMATCH = re.compile(
    r"size mismatch for (\S+): copying a param with shape torch\.Size\(\[([\d, ]*)\]\) "
    r"from checkpoint, the shape in current model is torch\.Size\(\[([\d, ]*)\]\)"
)


def _input_channels_changed(text: str) -> tuple[int, int] | None:
    """``(checkpoint's, network's)`` input channels when the one misfit is the first
    layer's: every key matches and a single weight of the stem differs in dim 1 alone.
    Other channels of the data change that weight only; any other change to the networks
    shows up as more misfits or other keys."""
    found = _SIZE_MISMATCH.findall(text)
    if len(found) != 1 or "Missing key" in text or "Unexpected key" in text:
        return None
    if found[0][0].split(".")[0] != "stem":  # the networks' input layer is their stem
        return None
    then, now = ([int(n) for n in shape.split(",") if n.strip()] for shape in found[0][1:])
    if len(then) < 3 or len(then) != len(now):
        return None
    if [i for i, (a, b) in enumerate(zip(then, now, strict=True)) if a != b] != [1]:
        return None
    return then[1], now[1]


# The fewest characters of a word cut short worth showing (a key's leading names).
MIN_CUT_WORD = 12


def _whole_entries(text: str, budget: int = 200) -> str:
    """torch's error on one line: its heading and the whole entries that fit in ``budget``
    characters, saying how many were left out (it can list thousands of keys); an entry
    too long alone keeps its first whole words, then what fits of the next one (a long
    key, say), then "…"."""
    entries = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    heading = entries.pop(0) if entries and entries[0].endswith(":") else ""
    kept: list[str] = []
    for entry in entries:
        if len(" ".join([heading, *kept, entry])) > budget:
            break
        kept.append(entry)
    if entries and not kept:
        words: list[str] = []
        cut = ""
        for word in entries[0].split(" "):
            if len(" ".join([heading, *words, word, "…"])) > budget:
                # The word that does not fit: what fits of it, where that says something.
                room = budget - len(" ".join([heading, *words, "…"])) - 1
                cut = word[:room] if room >= MIN_CUT_WORD else ""
                break
            words.append(word)
        kept = [" ".join([*words, cut]) + "…" if cut else " ".join([*words, "…"])]
    said = " ".join(part for part in (heading, " ".join(kept)) if part)
    left = len(entries) - len(kept)
    return (said + (f" (and {left} more)" if left else "")) or "no message"


def _run_created(run_dir: str | Path) -> str | None:
    """The creation time stored in the run's database (None without a readable one)."""
    return _run_meta(run_dir).get("created")


def _run_meta(run_dir: str | Path) -> dict[str, str]:
    """The run's stored creation time and config text (absent without a readable database)."""
    path = Path(run_dir) / DB_NAME
    if not path.is_file():
        return {}
    try:
        conn = sqlite3.connect(sqlite_uri(path.resolve(), "ro"), uri=True, timeout=10)
        try:
            rows = conn.execute(
                "SELECT key, value FROM meta WHERE key IN ('created', 'config')"
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return {}  # the run store reports a damaged database itself
    return {str(key): str(value) for key, value in rows if value is not None}


def config_digest(text: str) -> str:
    """The SHA-256 of a config's canonical JSON (:data:`CONFIG_KEY`).

    Example:
        >>> len(config_digest('{"strategy":"darts"}'))
        64
    """
    return hashlib.sha256(text.encode()).hexdigest()


def _canonical(config: Any) -> str | None:
    """A config (dict or its JSON text) as JSON with sorted keys and no spaces, so that
    formatting never counts as an edit; None when it is no JSON object."""
    if isinstance(config, str):
        try:
            config = json.loads(config)
        except ValueError:
            return None
    if not isinstance(config, dict):
        return None
    return json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)


def check_config_unchanged(run_dir: str | Path, config: Mapping[str, Any]) -> None:
    """Refuse to resume a run whose stored config differs from the one its checkpoint was
    written under (edited by hand between stop and resume): the checkpoint's weights,
    optimiser and data position belong to the old config, so the run would end as neither.

    Reads the config of ``last.pt`` (or ``prev.pt``) without loading its tensors; a run
    without checkpoints, or whose checkpoint predates the record, passes; a damaged one
    is left to the resume's own load to report.

    Args:
        run_dir: the run folder.
        config: the run's stored config dict (``RunStore.config``).

    Raises:
        ConfigError: naming the keys that differ and their values then and now.

    Example:
        >>> check_config_unchanged("runs/x", store.config)  # doctest: +SKIP
    """
    saved = _checkpoint_config(run_dir)
    now = _canonical(dict(config))
    if saved is None or saved.get(CONFIG_DIGEST_KEY) is None or now is None:
        return
    if saved.get(RUN_KEY) not in (None, _run_created(run_dir)):
        return  # another run's checkpoint: the resume's load refuses it by that name
    if config_digest(now) == saved[CONFIG_DIGEST_KEY]:
        return
    before = json.loads(saved[CONFIG_KEY]) if isinstance(saved.get(CONFIG_KEY), str) else {}
    changes = _differences(before, json.loads(now))
    shown = ", ".join(f"{key}: {old!r} -> {new!r}" for key, old, new in changes[:6])
    if len(changes) > 6:
        shown += f", and {len(changes) - 6} more"
    raise ConfigError(
        f"the stored config of run '{run_dir}' differs from the one its checkpoint was written "
        f"under ({shown or 'its digest differs'}); put the config back, or start a new run."
    )


_ABSENT = "<absent>"


def _differences(old: Any, new: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """(dotted key, old value, new value) for every leaf that differs between two configs."""
    if isinstance(old, dict) and isinstance(new, dict):
        found = []
        for key in sorted(set(old) | set(new), key=str):
            found += _differences(old.get(key, _ABSENT), new.get(key, _ABSENT), f"{prefix}{key}.")
        return found
    return [] if old == new else [(prefix.rstrip("."), old, new)]


def resume_step(run_dir: str | Path, logged_step: int) -> int | None:
    """The step a resume continues from when it takes the latest checkpoint, as
    :func:`load_for_resume` does while the store holds that step's rows; None without a
    readable checkpoint or when the store lost rows (then an earlier one, or step 0, is
    taken). Reads no tensors.

    Args:
        run_dir: the run folder.
        logged_step: the last step the store holds rows for.

    Example:
        >>> resume_step("runs/x", store.last_step("train"))  # doctest: +SKIP
        40
    """
    step = (_checkpoint_config(run_dir) or {}).get("step")
    return step if isinstance(step, int) and step <= logged_step else None


def _checkpoint_config(run_dir: str | Path) -> dict[str, Any] | None:
    """The config record and step of the checkpoint a resume would take (None: none, or
    unreadable)."""
    folder = checkpoint_dir(run_dir)
    for path in (folder / LAST, folder / PREVIOUS):
        if not path.is_file():
            continue
        try:  # mmap: the tensors stay on disk, only the small pickle is read
            # The same checks as the resume's load: a file it passes over (a bad CRC)
            # must not name the step here, or the resume's events would go with its rows.
            _check_crcs(path)
            state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except Exception:  # damage: the resume's own load says which file and what to do
            continue
        if not isinstance(state, dict):
            return None
        return {key: state.get(key) for key in (CONFIG_KEY, CONFIG_DIGEST_KEY, RUN_KEY, "step")}
    return None


def _check_belongs(state: Mapping[str, Any], run_dir: str | Path) -> None:
    """Refuse a checkpoint written by another run (copied in, or swapped by mistake)."""
    saved = state.get(RUN_KEY)
    if saved is None:  # written before checkpoints named their run, or outside a run
        return
    created = _run_created(run_dir)
    if created is not None and str(saved) != created:
        raise CheckpointError(
            f"the checkpoint in {checkpoint_dir(run_dir)} belongs to another run (created "
            f"{_when(saved)}, this one {_when(created)}); put this run's own checkpoint back, "
            "or remove the checkpoints to resume it from step 0."
        )


def _when(created: str) -> str:
    """A stored creation time as local date and time (the raw value if it is no time)."""
    import time

    try:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(created)))
    except (ValueError, OverflowError, OSError):
        return repr(created)


def _load_whole(path: Path, map_location: Any, weights_only: bool) -> dict[str, Any]:
    """Load one checkpoint file; a damaged one is a one-line CheckpointError."""
    try:
        _check_crcs(path)
        state = torch.load(path, map_location=map_location, weights_only=weights_only)
    except pickle.UnpicklingError as err:
        if "Weights only load failed" not in str(err):
            raise _damaged(f"checkpoint {path} is damaged ({_reason(err)})") from None
        # Not damage: the file asks to run Python code on load, which nasbench never writes.
        raise _damaged(
            f"checkpoint {path} holds Python objects besides tensors and plain values, which "
            "are not loaded (no checkpoint nasbench writes has them)"
        ) from None
    except Exception as err:  # whatever a damaged or foreign file makes torch.load raise
        raise _damaged(f"checkpoint {path} is damaged ({_reason(err)})") from None
    fmt = state.get(FORMAT_KEY, 1) if isinstance(state, dict) else 1
    if not isinstance(fmt, int) or fmt > CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"checkpoint {path} has format {fmt!r}, newer than this nasbench reads "
            f"({CHECKPOINT_FORMAT}); upgrade nasbench to resume it."
        )
    if not isinstance(state, dict) or not isinstance(state.get("step"), int):
        raise _damaged(f"checkpoint {path} holds no search state (no step)")
    return state


def _damaged(what: str) -> CheckpointError:
    """The error for a checkpoint that does not load; ``what`` (without the advice) is
    kept for the warning when the previous checkpoint is taken instead."""
    damage = CheckpointError(
        f"{what}; delete it to resume from the previous checkpoint (or from step 0 when "
        "there is none), or start a new run."
    )
    damage.what = what
    return damage


def _check_crcs(path: Path) -> None:
    """Raise ValueError naming a member whose stored CRC32 does not match its bytes: a
    flipped bit inside tensor data would otherwise load as a different number."""
    with zipfile.ZipFile(path) as archive:
        bad = archive.testzip()
    if bad is not None:
        raise ValueError(f"{bad} fails its CRC check")


def _reason(err: BaseException) -> str:
    """An error's first words, cut at a word boundary, for a one-line message."""
    words = " ".join(str(err).split()) or type(err).__name__
    if len(words) <= 120:
        return words
    return words[:120].rsplit(" ", 1)[0] + " ..."


def capture_rng(generators: Mapping[str, Generator] | None = None) -> dict[str, Any]:
    """Capture every random state a search draws from.

    Covers Python's ``random``, numpy's legacy global state, torch's CPU (and CUDA,
    when present) default generators, and each named generator passed in.

    Args:
        generators: name -> torch.Generator, np.random.Generator or RandomState
            (e.g. the sampler's and the Gumbel noise's generators).

    Returns:
        A dict of plain values and tensors, safe for :func:`save_checkpoint`.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> state = capture_rng({"sampler": rng})
        >>> a = rng.random(); restore_rng(state, {"sampler": rng}); a == rng.random()
        True
    """
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy_global": _legacy_state(np.random.get_state()),
        "torch": torch.get_rng_state(),
        "generators": {},
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    for name, generator in (generators or {}).items():
        state["generators"][name] = _generator_state(name, generator)
    return state


def restore_rng(
    state: Mapping[str, Any], generators: Mapping[str, Generator] | None = None
) -> None:
    """Put back the random states :func:`capture_rng` captured.

    Args:
        state: what capture_rng returned (possibly after a save/load round trip).
        generators: the same names as at capture, mapped to the live generators to set.

    Returns:
        None.

    Raises:
        ConfigError: ``state`` is not what capture_rng returns, or lacks a generator.

    Example:
        >>> restore_rng(checkpoint["rng"], {"sampler": rng})  # doctest: +SKIP
    """
    if not isinstance(state, Mapping):
        raise ConfigError(
            f"restore_rng needs the dict capture_rng returned (a checkpoint's 'rng'), got "
            f"{type(state).__name__}."
        )
    missing = [key for key in ("python", "numpy_global", "torch") if key not in state]
    if missing:
        raise ConfigError(
            f"the RNG state has no {', '.join(missing)}; pass the dict capture_rng returned "
            "(a checkpoint's 'rng')."
        )
    random.setstate(_as_tuple(state["python"]))
    np.random.set_state(_legacy_tuple(state["numpy_global"]))
    # set_rng_state takes CPU ByteTensors only (the CUDA states too); a checkpoint loaded
    # with map_location=<GPU> brings them onto the GPU.
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])
    saved = state.get("generators", {})
    for name, generator in (generators or {}).items():
        if name not in saved:
            raise ConfigError(
                f"the checkpoint has no RNG state for generator '{name}' "
                f"(it has: {', '.join(saved) or 'none'}); pass the names used at capture."
            )
        _set_generator_state(name, generator, saved[name])


def _atomic_save(payload: Mapping[str, Any], path: Path, previous: Path | None = None) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as handle:
            try:
                torch.save(dict(payload), handle)
            except RuntimeError as err:  # torch's writer reports a full disk as RuntimeError
                raise CheckpointError(_unwritable(path, err)) from None
            fault_point("checkpoint_write")
            handle.flush()
            os.fsync(handle.fileno())
        if previous is not None and path.exists():
            os.replace(path, previous)  # the last good checkpoint stays until the new one is in
            fault_point("checkpoint_rotate")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def _unwritable(path: Path, err: BaseException) -> str:
    free = shutil.disk_usage(path.parent).free
    why = f"the disk holds {free:,} bytes free" if free < 1 << 26 else _reason(err)
    return (
        f"could not write checkpoint {path} ({why}); free some space, then resume the run "
        "(it continues from its last checkpoint)."
    )


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not possible on every platform.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _generator_state(name: str, generator: Generator) -> dict[str, Any]:
    if isinstance(generator, torch.Generator):
        return {"type": "torch", "state": generator.get_state()}
    if isinstance(generator, np.random.Generator):
        return {"type": "numpy", "state": _plain(generator.bit_generator.state)}
    if isinstance(generator, np.random.RandomState):
        return {"type": "random_state", "state": _legacy_state(generator.get_state())}
    raise ConfigError(
        f"generator '{name}' is a {type(generator).__name__}; pass a torch.Generator, "
        "np.random.Generator or np.random.RandomState."
    )


def _set_generator_state(name: str, generator: Generator, saved: Mapping[str, Any]) -> None:
    expected = _generator_state(name, generator)["type"]
    if saved["type"] != expected:
        raise ConfigError(
            f"generator '{name}' was saved as {saved['type']} but a {expected} generator was "
            "passed; pass the same kind of generator as at capture."
        )
    if isinstance(generator, torch.Generator):
        generator.set_state(saved["state"].cpu())  # set_state takes a CPU ByteTensor only
    elif isinstance(generator, np.random.Generator):
        bit_state = dict(saved["state"])
        generator.bit_generator.state = _arrays(bit_state)
    else:
        generator.set_state(_legacy_tuple(saved["state"]))


def _legacy_state(state: tuple) -> dict[str, Any]:
    # ndarray -> list keeps the checkpoint loadable with weights_only=True.
    name, keys, pos, has_gauss, cached = state
    return {
        "name": name,
        "keys": np.asarray(keys).tolist(),
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "cached": float(cached),
    }


def _legacy_tuple(state: Mapping[str, Any]) -> tuple:
    keys = np.asarray(state["keys"], dtype=np.uint32)
    return (state["name"], keys, state["pos"], state["has_gauss"], state["cached"])


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _arrays(value: Any) -> Any:
    if isinstance(value, dict):
        if "__ndarray__" in value:
            return np.asarray(value["__ndarray__"], dtype=value["dtype"])
        return {key: _arrays(item) for key, item in value.items()}
    return value


def _as_tuple(value: Any) -> Any:
    # torch.load may hand back lists where random.getstate() had tuples.
    if isinstance(value, list):
        return tuple(_as_tuple(item) for item in value)
    return value
