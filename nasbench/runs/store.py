"""The writer side of a run store: one process appends, any number read.

A run is a folder holding ``run.sqlite`` (SQLite in WAL mode) and ``checkpoints/``.
Every writer call commits its own transaction, so a killed search loses at most
the call in flight, and readers (see :mod:`nasbench.runs.reader`) only ever see
whole calls: an alpha snapshot is one row, and :meth:`RunStore.batch` groups
several calls (e.g. the normal and reduce cells of one step) into one transaction.

Example:
    >>> import tempfile, numpy as np
    >>> run_dir = tempfile.mkdtemp() + "/run"
    >>> with RunStore.create(run_dir, {"strategy": "darts"}, environment={}) as store:
    ...     store.set_status("running")
    ...     store.log_metrics(step=1, epoch=0, phase="train", metrics={"loss": 0.7})
    ...     store.log_alphas(1, 0, "normal", np.zeros((2, 3)), ["a", "b", "c"], ["e0", "e1"])
    ...     store.set_status("finished")
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shlex
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

import numpy as np

from nasbench.errors import ConfigError, RunStoreError, closest_name, status_reason
from nasbench.protocols import Genotype
from nasbench.runs.schema import (
    CHECKPOINT_DIR,
    DB_NAME,
    LOCK_NAME,
    RETRAIN_PHASES,
    STAGED_METRICS,
    STATUSES,
    STEP_TABLES,
    apply_schema,
    check_run_database,
    damaged_database,
    require_run,
    run_folder,
)
from nasbench.tempfiles import STALE_TEMP_SECONDS, writer_gone, writer_tag

try:  # POSIX advisory locks keep a second writer off a live run.
    import fcntl
except ImportError:  # pragma: no cover - Windows has no fcntl
    fcntl = None  # type: ignore[assignment]
try:  # Windows: a byte-range lock on the lock file does the same there.
    import msvcrt
except ImportError:  # pragma: no cover - POSIX has no msvcrt
    msvcrt = None  # type: ignore[assignment]

BUSY_TIMEOUT_MS = 10_000
TERMINAL_STATUSES = ("stopped", "finished", "failed")
_LOCK_WAIT_S = 2.0
_ANNOUNCE_WAIT_S = 0.2  # outlasts a probe of the announcement; not another announcer's
# The commands that take an existing run over and announce it first (announce_writer).
ANNOUNCING = ("resume", "retrain")
_ANNOUNCED: dict[str, tuple[Path, str, Any, float]] = {}  # "run": folder, command, lock, time


class _ReadOnlyConnection(sqlite3.Connection):
    """A read-only connection that, when closed, has SQLite remove the ``-wal``/``-shm``
    files its opening made: reading a WAL database makes them, and only a read-write
    connection (the last one to close) deletes them, so each ``report``, ``runs`` or
    failed ``retrain`` would otherwise leave two files beside a finished run."""

    made_sidecars: Path | None = None  # the database whose sidecars this open made

    def close(self) -> None:
        super().close()
        path, self.made_sidecars = self.made_sidecars, None
        if path is not None:
            _fold_sidecars(path)


def _fold_sidecars(path: Path) -> None:
    """Open and close ``path`` read-write so that, when no other connection has it open,
    SQLite checkpoints the (empty) WAL and deletes ``-wal`` and ``-shm``; a writer or a
    reader still at work keeps them, exactly as SQLite's own last-close rule decides."""
    try:
        conn = sqlite3.connect(
            sqlite_uri(path.resolve(), "rw"), uri=True, isolation_level=None, timeout=0.1
        )
    except sqlite3.Error:
        return
    try:
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()  # opens the WAL
    except sqlite3.Error:
        pass  # busy or a read-only folder: the files stay, as they were before
    finally:
        conn.close()


def sqlite_uri(path: PurePath, mode: str) -> str:
    r"""The ``file:`` URI SQLite opens an absolute path through, with ``?mode=``.

    ``Path.as_uri`` writes a Windows network share ``\\server\share\x`` as
    ``file://server/share/x``, whose authority CPython's Windows build of SQLite refuses;
    SQLite reads the share as ``file:////server/share/x``. Characters SQLite's URI parser
    treats specially (``?``, ``#``, ``%``), spaces and non-ASCII are percent-encoded.

    Args:
        path: an absolute path (a POSIX or a Windows one, pure or concrete).
        mode: SQLite's open mode, e.g. ``ro`` or ``rw``.

    Returns:
        The URI, for ``sqlite3.connect(uri, uri=True)``.

    Example:
        >>> from pathlib import PureWindowsPath
        >>> sqlite_uri(PureWindowsPath(r"\\server\share\r 1\run.sqlite"), "ro")
        'file:////server/share/r%201/run.sqlite?mode=ro'
        >>> sqlite_uri(PureWindowsPath(r"C:\runs\#1\run.sqlite"), "rw")
        'file:///C:/runs/%231/run.sqlite?mode=rw'
    """
    text = path.as_posix()  # a share stays "//server/share/...", a drive is "C:/..."
    if not text.startswith("/"):
        text = f"/{text}"  # SQLite wants "/C:/..." for a drive letter
    # surrogateescape gives back the raw bytes of a POSIX name that is not UTF-8.
    return f"file://{quote(text, safe='/:', errors='surrogateescape')}?mode={mode}"


def connect(path: Path, read_only: bool = False, immutable: bool = False) -> sqlite3.Connection:
    """Open a run database with the settings every run connection shares.

    Args:
        path: the ``run.sqlite`` file.
        read_only: open through a ``mode=ro`` URI so the connection can never write.
        immutable: with ``read_only``, read the file as one nothing can change (SQLite's
            ``immutable=1``: no locks, no ``-wal``/``-shm`` files), for a run on read-only
            media (:func:`open_read_only`).

    Returns:
        An autocommit connection (``isolation_level=None``); transactions are explicit.

    Example:
        >>> conn = connect(Path(run_dir) / "run.sqlite", read_only=True)  # doctest: +SKIP
    """
    mode = "ro" if read_only else "rw"
    uri = sqlite_uri(path.resolve(), mode) + ("&immutable=1" if read_only and immutable else "")
    conn = sqlite3.connect(
        uri,
        uri=True,
        isolation_level=None,
        timeout=BUSY_TIMEOUT_MS / 1000,
        check_same_thread=False,
        factory=_ReadOnlyConnection if read_only else sqlite3.Connection,
    )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if not read_only:
        # WAL lets readers run beside the writer; NORMAL is crash-safe for process
        # kills (only a power cut can lose the last commits) and avoids an fsync per step.
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
    return conn


def open_read_only(path: Path) -> sqlite3.Connection:
    """Open a run database for reading, checking it is one.

    Args:
        path: the ``run.sqlite`` file.

    Returns:
        A read-only connection.

    Raises:
        RunStoreError: the file is damaged, empty or not a run database; or it lies in a
            read-only folder beside a write-ahead log SQLite cannot read there.
    """
    # SQLite makes -wal/-shm files even to read; a file that is no run must not gain them.
    sidecars = [p for p in (Path(f"{path}-wal"), Path(f"{path}-shm")) if not p.exists()]
    try:
        conn = _connect_checked(path, immutable=False)
    except (sqlite3.DatabaseError, RunStoreError) as err:
        for made in sidecars:
            with contextlib.suppress(OSError):  # a read-only folder: SQLite made none
                made.unlink(missing_ok=True)
        if not os.access(path.parent, os.W_OK):
            return _open_archived(path, err)
        if isinstance(err, RunStoreError):
            raise
        raise damaged_database(path, err) from None
    if Path(f"{path}-wal") in sidecars:  # no writer had it open: close removes what we made
        conn.made_sidecars = path
    return conn


def _open_archived(path: Path, err: Exception) -> sqlite3.Connection:
    """Open a run database in a folder this process cannot write (a read-only mount, an
    archive), where SQLite cannot make the ``-shm`` file a WAL database needs to be read.
    Nothing can write the run there, so it is read as immutable; a ``-wal`` file beside
    it holds commits that reading it so would miss, and is refused instead."""
    wal = Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise RunStoreError(
            f"{path} lies in a folder this process cannot write, beside a write-ahead log "
            f"({wal.name}) SQLite cannot read there ({status_reason(err)}); copy the run "
            "folder somewhere writable and use the copy."
        )
    try:
        return _connect_checked(path, immutable=True)
    except sqlite3.DatabaseError as again:
        raise damaged_database(path, again) from None


def _connect_checked(path: Path, immutable: bool) -> sqlite3.Connection:
    """A read-only connection to ``path``, checked to be a run database; closed again
    when the check raises (``sqlite3.DatabaseError`` or :class:`RunStoreError`)."""
    conn = connect(path, read_only=True, immutable=immutable)
    try:
        check_run_database(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def to_json(value: Any, what: str) -> str:
    """Encode a dict (metrics, cost, payload, config) as canonical JSON.

    numpy and torch scalars become Python numbers; anything else unencodable is a
    one-line ConfigError naming ``what``.
    """

    def default(obj: Any) -> Any:
        if hasattr(obj, "tolist"):  # numpy arrays/scalars, torch tensors
            return obj.tolist()
        if hasattr(obj, "to_dict"):
            return obj.to_dict()
        if isinstance(obj, Path):
            return str(obj)
        raise TypeError(type(obj).__name__)

    try:
        return json.dumps(value, sort_keys=True, default=default)
    except (TypeError, ValueError) as err:
        raise ConfigError(
            f"{what} is not JSON-serialisable ({err}); pass plain numbers/text."
        ) from None


def request_stop(run_dir: str | Path) -> None:
    """Ask the search writing ``run_dir`` to stop; safe from any process.

    Writes a stop-request row; the engine sees it through
    :meth:`RunStore.stop_requested` between steps, checkpoints and stops.

    Args:
        run_dir: the run folder.

    Returns:
        None.

    Example:
        >>> request_stop("runs/darts-1")  # doctest: +SKIP
    """
    path = require_run(run_dir)
    open_read_only(path).close()  # a damaged file is reported, never written to
    conn = connect(path)
    try:
        conn.execute(
            "INSERT INTO stop_requests (time, pid) VALUES (?, ?)", (time.time(), os.getpid())
        )
    except sqlite3.DatabaseError as err:
        raise damaged_database(path, err) from None
    finally:
        conn.close()


def writer_alive(run_dir: str | Path) -> bool | None:
    """Tell whether a live process holds the run's writer lock (None where unknowable).

    A run whose status says ``running`` but whose writer is gone was killed (SIGKILL, the
    out-of-memory killer, a machine restart). Read without pandas or torch. On Windows the
    probe takes the writer's own lock (``msvcrt`` has no shared one) and lets go at once.

    Args:
        run_dir: the run folder.

    Returns:
        True while a search writes the run, False when none does, None without ``fcntl``
        or ``msvcrt``.

    Example:
        >>> writer_alive("runs/darts-1")  # doctest: +SKIP
        False
    """
    if fcntl is None and msvcrt is None:  # pragma: no cover
        return None
    return lock_held(run_folder(run_dir) / LOCK_NAME)


def announce_writer(run_dir: str | Path, command: str) -> float | None:
    """Say in ``run_dir`` that this process (a ``nasbench resume`` or ``retrain``) is
    taking the run over, until :func:`withdraw_writer` or its exit.

    It holds ``run.<command>.lock`` from its first moment: the run's writer lock comes
    only once torch and the data are loaded, seconds later, and until then the run
    reads as its last search left it (stopped, killed), so ``nasbench stop`` and
    ``nasbench runs`` could not tell that a process is about to write it
    (:func:`announced_writer`). A process announces one run at a time.

    Args:
        run_dir: the run folder; nothing is announced where it holds no run.
        command: ``"resume"`` or ``"retrain"``.

    Returns:
        When this process announced it (``time.time()``; the first time, when called
        again for the same run and command), or None where nothing was announced: no
        run there, a folder it cannot write, another process announced the same, a
        process writes the run already (a search: this command fails at its writer
        lock, and the run reads as that search's meanwhile), or no file locks on this
        system.

    Example:
        >>> announce_writer("runs/nowhere", "resume") is None
        True
    """
    folder = run_folder(run_dir)
    held = _ANNOUNCED.get("run")
    if held is not None and held[:2] == (folder.resolve(), command):
        return held[3]
    withdraw_writer()
    if command not in ANNOUNCING or (fcntl is None and msvcrt is None):
        return None
    if not (folder / DB_NAME).is_file() or lock_held(folder / LOCK_NAME):
        return None
    try:
        handle = open(folder / _announce_name(command), "a+")  # noqa: SIM115 - held till withdrawn
    except OSError:  # a read-only folder: the command says what is wrong with it
        return None
    # A reader probing it (announced_writer) holds it for microseconds; another process
    # that announced it, till its command ends (its open of the run refuses this one).
    if not _lock_within(handle, _ANNOUNCE_WAIT_S, pause=0.005):
        handle.close()
        return None
    _ANNOUNCED["run"] = (folder.resolve(), command, handle, time.time())
    return _ANNOUNCED["run"][3]


def withdraw_writer() -> None:
    """Take back this process's :func:`announce_writer` (nothing when there is none)."""
    held = _ANNOUNCED.pop("run", None)
    if held is None:
        return
    path = held[0] / _announce_name(held[1])
    # Removed while still locked (POSIX allows it), so a process announcing next never
    # locks a file that is no longer there; Windows removes it only once closed.
    with contextlib.suppress(OSError):
        path.unlink()
    _release_lock(held[2])
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def announcing(run_dir: str | Path, command: str) -> Iterator[float | None]:
    """:func:`announce_writer` for a block of code: a ``retrain`` called from Python reads
    as retraining from its first moment, as the CLI's does.

    On leaving, it withdraws only an announcement it made: one this process held already
    for the same run and command (the CLI announces before it calls the code) stays.

    Args:
        run_dir: the run folder.
        command: ``"resume"`` or ``"retrain"``.

    Returns:
        A context manager giving what :func:`announce_writer` returned.

    Example:
        >>> with announcing("runs/nowhere", "retrain") as since:
        ...     since is None
        True
    """
    held = _ANNOUNCED.get("run")
    already = held is not None and held[:2] == (run_folder(run_dir).resolve(), command)
    since = announce_writer(run_dir, command)
    try:
        yield since
    finally:
        if since is not None and not already:
            withdraw_writer()


def announced_writer(run_dir: str | Path) -> str | None:
    """The command a live process announced it takes ``run_dir`` over with
    (:func:`announce_writer`): ``"resume"``, ``"retrain"``, or None. Read without pandas
    or torch; like :func:`writer_alive`, read it before the run's status.

    Args:
        run_dir: the run folder.

    Returns:
        The command, or None where none is announced or locks are unknowable.

    Example:
        >>> announced_writer("runs/nowhere") is None
        True
    """
    if fcntl is None and msvcrt is None:  # pragma: no cover
        return None
    folder = run_folder(run_dir)
    return next((c for c in ANNOUNCING if lock_held(folder / _announce_name(c))), None)


def _announce_name(command: str) -> str:
    return f"run.{command}.lock"


def lock_held(lock: str | Path) -> bool:
    """Whether a live process holds the lock file ``lock``, probed without waiting: the
    lock is tried and let go at once (always False where neither fcntl nor msvcrt exists).

    Args:
        lock: the lock file.

    Returns:
        True while another process holds it; False when it is free or not there.

    Example:
        >>> lock_held("runs/nowhere/run.lock")
        False
    """
    if fcntl is None and msvcrt is None:  # pragma: no cover
        return False
    try:
        handle = open(lock)  # noqa: SIM115 - closed below
    except OSError:  # not there (or unreadable): nobody announced anything through it
        return False
    with handle:
        if fcntl is None:
            try:
                _lock_windows(handle, msvcrt.LK_NBLCK)
            except OSError:
                return True
            _lock_windows(handle, msvcrt.LK_UNLCK)
            return False
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return False


def run_status(run_dir: str | Path) -> str:
    """The latest status of the run in ``run_dir`` (``created`` before any), read without
    pandas or torch, so that ``nasbench stop`` stays fast.

    Args:
        run_dir: the run folder.

    Returns:
        created, running, stopping, stopped, finished or failed.

    Example:
        >>> run_status("runs/darts-1")  # doctest: +SKIP
        'finished'
    """
    path = require_run(run_dir)
    conn = open_read_only(path)
    try:
        row = conn.execute("SELECT status FROM status ORDER BY id DESC LIMIT 1").fetchone()
    except sqlite3.DatabaseError as err:
        raise damaged_database(path, err) from None
    finally:
        conn.close()
    return "created" if row is None else str(row[0])


class RunStore:
    """The single writer of a run folder. Create with :meth:`create` or :meth:`open`."""

    def __init__(self, run_dir: Path, conn: sqlite3.Connection, lock_file: Any) -> None:
        self.run_dir = run_dir
        self._conn: sqlite3.Connection | None = conn
        # The database file this writer opened: a folder moved, deleted or replaced under
        # a live search keeps taking its writes without an error (see check_in_place).
        # Absolute: a later chdir must not read as a move.
        self._db_path = Path(os.path.abspath(run_dir / DB_NAME))
        self._file_identity = _file_identity(self._db_path)
        self._lock_file = lock_file
        self._mutex = threading.RLock()  # executor callbacks may log from other threads
        self._batch_depth = 0
        self._progress_start: tuple[float, int] | None = None

    # ----------------------------------------------------------------- lifecycle
    @classmethod
    def create(
        cls,
        run_dir: str | Path,
        config: Mapping[str, Any],
        environment: Mapping[str, Any] | None = None,
        *,
        resume: bool = False,
    ) -> RunStore:
        """Create a new run folder and return its writer.

        Args:
            run_dir: folder to create (parents too); it must not hold a run yet.
            config: the search configuration (a JSON-serialisable dict, or an object
                with ``to_dict()``).
            environment: what :func:`nasbench.runs.capture_environment` returns; captured
                here when None.
            resume: when the folder already holds a run, open it (keeping its stored
                config) instead of failing.

        Returns:
            The writer, status ``created``.

        Example:
            >>> store = RunStore.create("runs/x", {"strategy": "darts"})  # doctest: +SKIP
        """
        folder = run_folder(run_dir)
        path = folder / DB_NAME
        if path.exists() and resume:
            return cls.open(folder)
        check_new_run_dir(folder)
        if hasattr(config, "to_dict") and not isinstance(config, Mapping):
            config = config.to_dict()
        if not isinstance(config, Mapping):
            raise ConfigError(f"config must be a dict, got {type(config).__name__}.")
        if environment is None:
            from nasbench.runs.environment import capture_environment

            environment = capture_environment(config.get("device"), config.get("deterministic"))
        meta = {
            "config": to_json(dict(config), "config"),
            "environment": to_json(dict(environment), "environment"),
            "created": repr(time.time()),
        }
        created = _missing_folders(folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / CHECKPOINT_DIR).mkdir(exist_ok=True)
            _create_database(path, meta)
            store = cls.open(folder)
            store.set_status("created")
        except RunStoreError:  # the new database does not open: leave nothing behind
            _remove_new_run(folder, created)
            raise
        except (OSError, sqlite3.Error) as err:
            # Disk full, a read-only mount: leave nothing half-written behind.
            _remove_new_run(folder, created)
            raise RunStoreError(
                f"cannot write the run folder '{folder}' ({_reason(err)}); free some space or "
                "choose a writable run folder."
            ) from None
        return store

    @classmethod
    def open(cls, run_dir: str | Path, *, keep_stops_since: float | None = None) -> RunStore:
        """Open an existing run as its writer, e.g. to resume it.

        Pending stop requests are cleared: opening for resume means "run again".

        Args:
            run_dir: a run folder.
            keep_stops_since: keep the pending stop requests written at or after this
                time (``time.time()``), clearing only older ones: those were meant for an
                earlier search, later ones for this one (a Stop pressed while a resume
                starts up). None clears them all; 0 keeps them all.

        Returns:
            The writer.

        Example:
            >>> store = RunStore.open("runs/x")  # doctest: +SKIP
        """
        folder = run_folder(run_dir)
        path = require_run(folder)
        open_read_only(path).close()  # a damaged file is reported, never written to
        lock_file = _acquire_writer_lock(folder)
        conn = None
        try:
            conn = connect(path)
            apply_schema(conn)
        except BaseException as err:
            if conn is not None:
                conn.close()
            _release_lock(lock_file)
            if isinstance(err, sqlite3.DatabaseError):
                raise damaged_database(path, err) from None
            raise
        store = cls(folder, conn, lock_file)
        kept = folder / CHECKPOINT_DIR
        if kept.exists() and not kept.is_dir():  # else mkdir's bare "File exists"
            store.close()
            raise ConfigError(
                f"'{kept}' is a file, where the run keeps its checkpoints; move it away and "
                "run the command again."
            )
        kept.mkdir(exist_ok=True)
        _remove_temporary_files(kept)
        store._clear_stop_requests(keep_stops_since)
        return store

    def close(self) -> None:
        """Close the database and release the writer lock (idempotent)."""
        with self._mutex:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            _release_lock(self._lock_file)
            self._lock_file = None

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        # A search that dies inside the block leaves an honest status behind.
        try:
            if exc is not None and self._conn is not None and self.status not in TERMINAL_STATUSES:
                if isinstance(exc, KeyboardInterrupt):
                    self.set_status("stopped", "interrupted")
                else:
                    self.set_status("failed", status_reason(exc))
        finally:
            self.close()

    @property
    def config(self) -> dict[str, Any]:
        """The stored configuration."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'config'").fetchone()
        return self._meta_object("config", row[0] if row else None)

    @property
    def environment(self) -> dict[str, Any]:
        """The environment captured when the run was created (versions, device, threads)."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'environment'").fetchone()
        return self._meta_object("environment", row[0]) if row else {}

    def _meta_object(self, key: str, text: str | None) -> dict[str, Any]:
        """A meta row decoded as a JSON object; a hand-edited one is a one-line error."""
        try:
            value = json.loads(text) if text is not None else None
        except (TypeError, ValueError) as err:
            reason = f"its {key} is not JSON: {err}"
            raise damaged_database(self.run_dir / DB_NAME, reason) from None
        if not isinstance(value, dict):
            raise damaged_database(
                self.run_dir / DB_NAME, f"its {key} is {type(value).__name__}, not a JSON object"
            )
        return value

    @property
    def status(self) -> str:
        """The latest status."""
        row = self._db.execute("SELECT status FROM status ORDER BY id DESC LIMIT 1").fetchone()
        return row[0] if row else "created"

    @property
    def ever_finished(self) -> bool:
        """Whether the run finished at some point: its results are complete even when a
        later status (a resume that failed before its first step) says otherwise."""
        row = self._db.execute("SELECT 1 FROM status WHERE status = 'finished' LIMIT 1")
        return row.fetchone() is not None

    @property
    def status_message(self) -> str:
        """The message of the latest status ("interrupted", a failure's reason, or "")."""
        row = self._db.execute("SELECT message FROM status ORDER BY id DESC LIMIT 1").fetchone()
        return (row[0] or "") if row else ""

    # ------------------------------------------------------------------- writes
    @contextlib.contextmanager
    def batch(self) -> Iterator[RunStore]:
        """Group several writer calls into one transaction (readers see all or none).

        Example:
            >>> with store.batch():  # doctest: +SKIP
            ...     store.log_alphas(step, epoch, "normal", a_normal, ops, edges)
            ...     store.log_alphas(step, epoch, "reduce", a_reduce, ops, edges)
        """
        with self._transaction():
            self._batch_depth += 1
            try:
                yield self
            finally:
                self._batch_depth -= 1

    def set_status(self, status: str, message: str = "") -> None:
        """Record the run's status.

        Args:
            status: one of created, running, stopping, stopped, finished, failed.
            message: free text; for ``failed``, the error a person should read.

        Returns:
            None.

        Example:
            >>> store.set_status("failed", "CUDA out of memory")  # doctest: +SKIP
        """
        if status not in STATUSES:
            raise ConfigError(
                f"unknown run status '{status}'; use one of {', '.join(STATUSES)}."
                + closest_name(status, STATUSES)
            )
        now = time.time()
        with self._transaction() as db:
            db.execute(
                "INSERT INTO status (time, status, message, pid) VALUES (?, ?, ?, ?)",
                (now, status, str(message), os.getpid()),
            )
            if status in TERMINAL_STATUSES:
                # The request has been honoured; a later resume must not stop at once.
                db.execute("UPDATE stop_requests SET handled = ? WHERE handled IS NULL", (now,))

    def log_metrics(self, step: int, epoch: int, phase: str, metrics: Mapping[str, float]) -> None:
        """Append one tidy row per metric.

        Args:
            step: global optimisation step.
            epoch: epoch index.
            phase: e.g. "train", "val", "test", "search".
            metrics: name -> number (NaN is kept, as missing).

        Returns:
            None.

        Example:
            >>> store.log_metrics(10, 0, "val", {"loss": 0.5, "acc": 0.81})  # doctest: +SKIP
        """
        now = time.time()
        rows = [
            (int(step), int(epoch), str(phase), str(name), _number(value, name), now)
            for name, value in metrics.items()
        ]
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO metrics (step, epoch, phase, name, value, time) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )

    def stage_metrics(
        self, step: int, epoch: int, phase: str, metrics: Mapping[str, float]
    ) -> None:
        """Hold metric rows apart, as :meth:`log_metrics` would log them, until
        :meth:`publish_staged`: no reader sees them before, so a retrain killed on the way
        (SIGKILL, the out-of-memory killer) never shows its partial curves as the run's.

        Args:
            step: the step (a retrain: epochs done).
            epoch: epoch index.
            phase: e.g. "retrain", "baseline".
            metrics: name -> number (NaN is kept, as missing).

        Returns:
            None.

        Example:
            >>> store.stage_metrics(1, 0, "retrain", {"val_loss": 0.5})  # doctest: +SKIP
        """
        now = time.time()
        rows = [
            (int(step), int(epoch), str(phase), str(name), _number(value, name), now)
            for name, value in metrics.items()
        ]
        with self._transaction() as db:
            db.execute(STAGED_METRICS)  # a run made before the table existed gains it
            db.executemany(
                "INSERT INTO staged_metrics (step, epoch, phase, name, value, time) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )

    def clear_staged(self) -> None:
        """Drop the staged metric rows (:meth:`stage_metrics`) no retrain will publish:
        an interrupted one's, or a killed one's that the next retrain finds.

        Example:
            >>> store.clear_staged()  # doctest: +SKIP
        """
        with self._transaction() as db:
            db.execute(STAGED_METRICS)
            db.execute("DELETE FROM staged_metrics")

    def publish_staged(self, phases: Iterable[str]) -> int:
        """Replace the metric rows of ``phases`` (the earlier retrain's) with the staged
        rows, in one transaction: readers see the earlier rows or the new ones, never some
        of each. Call it in the :meth:`batch` that logs the retrain's end.

        Args:
            phases: the metric phases the staged rows replace, e.g. ``("retrain",)``.

        Returns:
            How many earlier rows went.

        Example:
            >>> with store.batch():  # doctest: +SKIP
            ...     store.publish_staged(["retrain", "baseline"])
            ...     store.log_event("retrain_finished", summary)
        """
        with self.batch():
            replaced = self.discard_phases(phases)
            db = self._db
            db.execute(STAGED_METRICS)
            db.execute(
                "INSERT INTO metrics (step, epoch, phase, name, value, time) "
                "SELECT step, epoch, phase, name, value, time FROM staged_metrics ORDER BY id"
            )
            db.execute("DELETE FROM staged_metrics")
        return replaced

    def log_alphas(
        self,
        step: int,
        epoch: int,
        cell_type: str,
        matrix_raw: Any,
        op_names: Sequence[str],
        edge_names: Sequence[str],
        weights: Any | None = None,
        kind: str = "alpha",
    ) -> None:
        """Append one architecture-weight snapshot atomically.

        Args:
            step: global step of the snapshot.
            epoch: epoch index.
            cell_type: e.g. "normal", "reduce" (or "network" for single-cell spaces).
            matrix_raw: raw parameters, shape [edges x ops] (numpy or torch). NaN
                entries are not stored, which suits ragged matrices such as betas.
            op_names: one name per column.
            edge_names: one name per row.
            weights: the normalised weights; default the softmax of ``matrix_raw``
                along ops.
            kind: what the matrix is: "alpha", "beta", "tau", "gate", ...

        Returns:
            None.

        Example:
            >>> store.log_alphas(5, 0, "normal", alpha, OPS, EDGES)  # doctest: +SKIP
        """
        raw = _matrix(matrix_raw, edge_names, op_names, "matrix_raw")
        weight = (
            softmax_rows(raw)
            if weights is None
            else _matrix(weights, edge_names, op_names, "weights")
        )
        weight = np.where(np.isnan(raw), np.nan, weight)
        with self._transaction() as db:
            db.execute(
                "INSERT INTO alpha_snapshots "
                "(step, epoch, cell_type, kind, edges, ops, raw, weight, time) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    int(step),
                    int(epoch),
                    str(cell_type),
                    str(kind),
                    json.dumps([str(e) for e in edge_names]),
                    json.dumps([str(o) for o in op_names]),
                    raw.astype("<f8").tobytes(),
                    weight.astype("<f8").tobytes(),
                    time.time(),
                ),
            )

    def log_genotype(
        self,
        epoch: int,
        step: int,
        genotype_json: Any,
        metrics: Mapping[str, Any] | None = None,
    ) -> None:
        """Append the genotype derived at an epoch.

        Args:
            epoch: epoch index.
            step: global step.
            genotype_json: canonical JSON text (or a genotype object with ``to_json``).
            metrics: optional numbers to keep with it (e.g. parameter-free op count).

        Returns:
            None.

        Example:
            >>> store.log_genotype(0, 100, genotype.to_json(), {"val_acc": 0.8})  # doctest: +SKIP
        """
        with self._transaction() as db:
            db.execute(
                "INSERT INTO genotypes (step, epoch, genotype, metrics, time) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    int(step),
                    int(epoch),
                    _genotype_text(genotype_json),
                    to_json(dict(metrics or {}), "genotype metrics"),
                    time.time(),
                ),
            )

    def log_candidate(
        self,
        candidate_id: int | str,
        genotype_json: Any,
        metrics: Mapping[str, Any],
        cost: Mapping[str, Any],
        status: str = "done",
        worker: str | None = None,
        info: Mapping[str, Any] | None = None,
    ) -> None:
        """Append one evaluated (or failed, or pruned) candidate of a discrete search.

        Rows are append-only: logging the same id again (e.g. at a larger budget)
        adds a row; the reader keeps the order.

        Args:
            candidate_id: the strategy's id for the candidate.
            genotype_json: canonical JSON text (or a genotype object with ``to_json``).
            metrics: e.g. {"val_acc": 0.83, "auc": 0.9}.
            cost: e.g. {"params": 1.2e5, "macs": 3e7, "seconds": 12.0}.
            status: "done", "failed", "pruned", ...
            worker: which executor worker evaluated it.
            info: what else the evaluator said (e.g. constraint feasibility); kept so a
                resumed search can tell its strategy exactly what it was told.

        Returns:
            None.

        Example:
            >>> store.log_candidate(3, g, {"val_acc": 0.8}, {"params": 1e5})  # doctest: +SKIP
        """
        if isinstance(candidate_id, (np.integer,)):
            candidate_id = int(candidate_id)
        if not isinstance(candidate_id, (int, str)):
            raise ConfigError(
                f"candidate_id must be an int or str, got {type(candidate_id).__name__}."
            )
        with self._transaction() as db:
            db.execute(
                "INSERT INTO candidates "
                "(candidate_id, genotype, metrics, cost, info, status, worker, time) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    candidate_id,
                    _genotype_text(genotype_json),
                    to_json(dict(metrics), "candidate metrics"),
                    to_json(dict(cost), "candidate cost"),
                    to_json(dict(info or {}), "candidate info"),
                    str(status),
                    None if worker is None else str(worker),
                    time.time(),
                ),
            )

    def log_event(
        self,
        kind: str,
        payload: Mapping[str, Any],
        *,
        step: int | None = None,
        epoch: int | None = None,
    ) -> None:
        """Append a free-form event (collapse warning, eigenvalue, early stop, ...).

        Args:
            kind: short name the views filter on, e.g. "eigenvalue", "collapse_warning".
            payload: JSON-serialisable details.
            step: optional global step.
            epoch: optional epoch.

        Returns:
            None.

        Example:
            >>> store.log_event("eigenvalue", {"value": 0.31}, epoch=4)  # doctest: +SKIP
        """
        if not isinstance(payload, Mapping):
            raise ConfigError(
                f"payload of event '{kind}' must be a dict of details, got "
                f"{type(payload).__name__}."
            )
        with self._transaction() as db:
            db.execute(
                "INSERT INTO events (step, epoch, kind, payload, time) VALUES (?, ?, ?, ?, ?)",
                (
                    None if step is None else int(step),
                    None if epoch is None else int(epoch),
                    str(kind),
                    to_json(dict(payload), f"payload of event '{kind}'"),
                    time.time(),
                ),
            )

    def set_progress(
        self, step: int, total_steps: int | None, epoch: int, total_epochs: int | None
    ) -> None:
        """Record where the search is (one row, overwritten) for progress bars and ETA.

        Args:
            step: steps done.
            total_steps: steps planned (None when unknown, e.g. a wall-time budget).
            epoch: current epoch.
            total_epochs: epochs planned.

        Returns:
            None.

        Example:
            >>> store.set_progress(120, 1000, 1, 10)  # doctest: +SKIP
        """
        now = time.time()
        if self._progress_start is None:
            # ETA counts from this writer session, so a resumed run is not judged by
            # the time it spent stopped.
            self._progress_start = (now, int(step))
        start_time, start_step = self._progress_start
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO progress "
                "(id, time, step, total_steps, epoch, total_epochs, start_time, start_step) "
                "VALUES (1, ?, ?, ?, ?, ?, ?, ?)",
                (
                    now,
                    int(step),
                    None if total_steps is None else int(total_steps),
                    int(epoch),
                    None if total_epochs is None else int(total_epochs),
                    start_time,
                    start_step,
                ),
            )

    def last_step(self, phase: str = "train") -> int:
        """The largest step with metrics of ``phase`` (0 when there are none).

        Example:
            >>> store.last_step()  # doctest: +SKIP
            120
        """
        row = self._db.execute("SELECT MAX(step) FROM metrics WHERE phase = ?", (phase,)).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def discard_phases(self, phases: Iterable[str]) -> int:
        """Delete the metric rows of ``phases`` (a retrain's, before it runs again), so
        the curves of two retrains are never read as one.

        Args:
            phases: metric phases, e.g. ``("retrain", "baseline")``.

        Returns:
            How many rows went.

        Example:
            >>> store.discard_phases(["retrain"])  # doctest: +SKIP
            40
        """
        names = sorted(set(phases))
        if not names:
            return 0
        marks = ", ".join("?" * len(names))
        with self._transaction() as db:
            cursor = db.execute(f"DELETE FROM metrics WHERE phase IN ({marks})", names)
        return int(cursor.rowcount)

    def discard_after(self, step: int) -> None:
        """Delete the rows logged after ``step`` (when resuming from a checkpoint at ``step``).

        A killed search may have logged steps past its last checkpoint; the resumed
        search logs them again, so the old ones go. Metrics, alpha snapshots,
        genotypes and events with a larger step are deleted (events without a step
        and candidates stay), and a marker row tells live readers to drop them too.
        A retrain's metric rows (:data:`~nasbench.runs.schema.RETRAIN_PHASES`) stay:
        their steps count its own epochs, and a run retrained while stopped keeps them.

        Args:
            step: the step of the checkpoint being resumed.

        Returns:
            None.

        Example:
            >>> store.discard_after(state["step"])  # doctest: +SKIP
        """
        with self._transaction() as db:
            db.execute("INSERT INTO discards (time, after_step) VALUES (?, ?)", (time.time(), step))
            retrain = ", ".join("?" * len(RETRAIN_PHASES))
            for table in STEP_TABLES:
                kept = f" AND phase NOT IN ({retrain})" if table == "metrics" else ""
                args = (int(step), *RETRAIN_PHASES) if kept else (int(step),)
                db.execute(f"DELETE FROM {table} WHERE step > ?{kept}", args)

    def check_in_place(self) -> None:
        """Raise a one-line error when the run folder no longer holds this writer's database.

        A folder moved or deleted while its search runs, or deleted and made again by
        another search, raises no error at the database's next write: the writes go to
        the moved file, to nothing, or beside another run's files. Searches call this
        before they write their checkpoints and once they end.

        Raises:
            RunStoreError: the folder was moved, deleted or replaced.

        Example:
            >>> store.check_in_place()  # doctest: +SKIP
        """
        if _file_identity(self._db_path) == self._file_identity:
            return
        folder = shlex.quote(str(self.run_dir))
        raise RunStoreError(
            f"run folder {folder} was moved, deleted or replaced while this search ran, so "
            "what it writes is not in that folder; if you moved it, continue with "
            "`nasbench resume <its new place>` (a run made there since is left alone)."
        )

    def request_stop(self) -> None:
        """Write a stop request (same as the module-level :func:`request_stop`)."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO stop_requests (time, pid) VALUES (?, ?)", (time.time(), os.getpid())
            )

    def stop_requested(self) -> bool:
        """Return True when a stop request is pending; the engine checks this between steps."""
        row = self._db.execute("SELECT 1 FROM stop_requests WHERE handled IS NULL LIMIT 1")
        return row.fetchone() is not None

    # ----------------------------------------------------------------- internals
    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ConfigError(f"the run store of '{self.run_dir}' is closed; open it again.")
        return self._conn

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._mutex:
            db = self._db
            if self._batch_depth:
                yield db
                return
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _clear_stop_requests(self, since: float | None = None) -> None:
        """Mark the pending stop requests written before ``since`` (all when None) handled."""
        before = math.inf if since is None else float(since)
        with self._transaction() as db:
            db.execute(
                "UPDATE stop_requests SET handled = ? WHERE handled IS NULL AND time < ?",
                (time.time(), before),
            )


def softmax_rows(raw: np.ndarray) -> np.ndarray:
    """Softmax along the last axis, ignoring NaN entries (they stay NaN).

    Example:
        >>> softmax_rows(np.array([[0.0, 0.0]]))
        array([[0.5, 0.5]])
    """
    mask = np.isnan(raw)
    filled = np.where(mask, -np.inf, raw)
    top = np.max(filled, axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    exp = np.where(mask, 0.0, np.exp(filled - top))
    total = exp.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = exp / total
    return np.where(mask, np.nan, out)


def _matrix(
    value: Any, edge_names: Sequence[str], op_names: Sequence[str], what: str
) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().float().cpu().numpy()
    array = np.asarray(value, dtype=np.float64)
    shape = (len(edge_names), len(op_names))
    if array.ndim == 1 and shape[0] == 1:
        array = array.reshape(shape)
    if array.shape != shape:
        raise ConfigError(
            f"{what} has shape {tuple(array.shape)} but {shape[0]} edge names and "
            f"{shape[1]} op names were given; pass an [edges x ops] matrix."
        )
    return array


def _number(value: Any, name: str) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"metric '{name}' is {type(value).__name__}, not a number; log numbers only."
        ) from None
    return None if math.isnan(number) else number


def _genotype_text(genotype: Genotype) -> str:
    if isinstance(genotype, str):
        return genotype
    if hasattr(genotype, "to_json"):
        return genotype.to_json()
    raise ConfigError(
        f"genotype must be JSON text or a genotype object, got {type(genotype).__name__}."
    )


_SQLITE_SIDE_FILES = ("-journal", "-wal", "-shm")


def _create_database(path: Path, meta: Mapping[str, str]) -> None:
    # Build the database under a temporary name and link it into place, so a crash
    # never leaves a run.sqlite without its config, and two creators cannot both win.
    # The name carries the writer's tag (pid and machine), so a later creation can tell a
    # killed creation's leftovers from a live one's.
    _remove_killed_creations(path.parent)
    tmp = path.with_name(f".{DB_NAME}.tmp-{writer_tag()}")
    leftovers = [tmp, *(Path(f"{tmp}{suffix}") for suffix in _SQLITE_SIDE_FILES)]
    for stale in leftovers:
        stale.unlink(missing_ok=True)
    try:
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            # A rollback journal, not WAL: a write the disk cannot take fails here, at its
            # COMMIT. In WAL mode it would fail only when close() folds the log back in,
            # silently, leaving an incomplete file to be linked into place. The writer
            # switches the published file to WAL when it opens it.
            conn.execute("PRAGMA journal_mode = DELETE")
            apply_schema(conn)
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", list(meta.items()))
            conn.execute("COMMIT")
        finally:
            conn.close()
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise _holds_a_run(path.parent) from None
        except OSError:  # file systems without hard links
            os.replace(tmp, path)
    finally:
        for leftover in leftovers:
            leftover.unlink(missing_ok=True)


def _remove_killed_creations(folder: Path) -> None:
    """Remove the temporary databases that creations killed outright (SIGKILL runs no
    cleanup) left in ``folder``: a gone writer's of this machine, or any older than
    :data:`~nasbench.tempfiles.STALE_TEMP_SECONDS` (another machine's, an earlier
    version's named by pid alone; a creation takes milliseconds). A live one's stays."""
    prefix = f".{DB_NAME}.tmp-"
    for tmp in folder.glob(f"{prefix}*"):
        tag = tmp.name[len(prefix) :]
        for suffix in _SQLITE_SIDE_FILES:
            tag = tag.removesuffix(suffix)
        gone = writer_gone(tag)
        if gone is None:
            try:
                gone = time.time() - tmp.stat().st_mtime > STALE_TEMP_SECONDS
            except OSError:  # removed meanwhile
                continue
        if gone:
            with contextlib.suppress(OSError):
                tmp.unlink()


def check_new_run_dir(run_dir: str | Path) -> None:
    """Raise a one-line error unless a new run can be created at ``run_dir``.

    Checked before any data loads, so a bad folder wastes no time and writes nothing.

    Args:
        run_dir: the folder a new search would create.

    Example:
        >>> check_new_run_dir("/no/such/parent/run")  # doctest: +SKIP
    """
    folder = Path(run_dir)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(
            f"run folder '{folder}' is a file, not a folder; choose a new run folder."
        )
    # A link to nothing: exists() is False, yet mkdir fails with "File exists".
    dangling = next(
        (p for p in (folder, *folder.parents) if p.is_symlink() and not p.exists()), None
    )
    if dangling is not None:
        raise ConfigError(
            f"'{dangling}' is a link to '{os.readlink(dangling)}', which does not exist; "
            "make that folder, or choose another run folder."
        )
    if (folder / DB_NAME).exists():
        raise _holds_a_run(folder)
    kept = folder / CHECKPOINT_DIR
    if kept.exists() and not kept.is_dir():
        raise ConfigError(
            f"'{kept}' is a file where a search keeps its checkpoints; choose a new run "
            "folder, or move that file away."
        )
    if kept.is_dir() and any(kept.iterdir()):
        # Not a run's (it has no run.sqlite): checkpoint rotation would overwrite its files.
        names = ", ".join(sorted(p.name for p in kept.iterdir())[:3])
        raise ConfigError(
            f"'{kept}' already holds files ({names}) of no run here, which a search would "
            "overwrite; choose a new run folder, or move that folder away."
        )
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(
            f"'{existing}' is a file, so run folder '{folder}' cannot be made in it; choose "
            "another run folder."
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(
            f"cannot write in '{existing}' (permission denied); choose a writable run folder."
        )


def _file_identity(path: Path) -> tuple[int, int] | None:
    """The ``(st_dev, st_ino)`` of ``path``, which names one file wherever it is moved;
    None when nothing is there."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def _holds_a_run(folder: Path) -> ConfigError:
    """The refusal of a new run in a folder that holds one: a live one is not resumable."""
    if writer_alive(folder):
        return ConfigError(
            f"'{folder}' holds a run that is still running; choose a new run folder, or stop "
            f"that search first (nasbench stop {shlex.quote(str(folder))})."
        )
    return ConfigError(
        f"'{folder}' already holds a run; choose a new run folder or resume this one."
    )


def _missing_folders(folder: Path) -> list[Path]:
    """The folders mkdir(parents=True) would create for ``folder``, deepest first."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def _remove_new_run(folder: Path, created: list[Path]) -> None:
    """Delete what a failed :meth:`RunStore.create` wrote (never an older run)."""
    for name in (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", LOCK_NAME):
        with contextlib.suppress(OSError):
            (folder / name).unlink(missing_ok=True)
    for stale in folder.glob(f".{DB_NAME}.tmp-*"):
        with contextlib.suppress(OSError):
            stale.unlink()
    with contextlib.suppress(OSError):
        (folder / CHECKPOINT_DIR).rmdir()
    for made in created:
        with contextlib.suppress(OSError):
            made.rmdir()


def _reason(err: BaseException) -> str:
    """An OSError's text without its errno prefix (or sqlite's message)."""
    return getattr(err, "strerror", None) or str(err) or type(err).__name__


def _remove_temporary_files(folder: Path) -> None:
    # Left by a checkpoint write that was killed; the writer lock says no live process owns them.
    for stale in folder.glob(".*.tmp-*"):
        stale.unlink(missing_ok=True)


@contextlib.contextmanager
def exclusive_lock(lock: Path, busy: str) -> Iterator[None]:
    """Hold an exclusive lock on the file ``lock`` (made when missing) for the block, as a
    run's writer holds ``run.lock``; the lock goes with the process however it ends.

    Args:
        lock: the lock file; it stays after the block (removing it would race a process
            that has opened it and waits for the lock).
        busy: the one-line error when another live process holds the lock.

    Raises:
        ConfigError: ``busy``, after a short wait for a process probing the lock.

    Example:
        >>> import tempfile
        >>> with exclusive_lock(Path(tempfile.mkdtemp()) / ".table.lock", "in use"):
        ...     pass
    """
    if fcntl is None and msvcrt is None:  # pragma: no cover
        yield
        return
    handle = open(lock, "a+")  # noqa: SIM115 - held for the block
    if not _lock_within(handle, _LOCK_WAIT_S, pause=0.05):
        handle.close()
        raise ConfigError(busy)
    try:
        yield
    finally:
        _release_lock(handle)


def _acquire_writer_lock(folder: Path) -> Any:
    if fcntl is None and msvcrt is None:  # pragma: no cover
        return None
    handle = open(folder / LOCK_NAME, "a+")  # noqa: SIM115 - held for the writer's lifetime
    # A reader probing liveness holds the lock for microseconds; a writer for hours.
    if _lock_within(handle, _LOCK_WAIT_S, pause=0.05):
        return handle
    handle.close()
    raise ConfigError(
        f"'{folder}' is being written by another live process (another search or retrain "
        "is writing it); wait for it to end (or stop a search with `nasbench stop`), or use "
        "a new run folder."
    )


def _lock_within(handle: Any, seconds: float, pause: float) -> bool:
    """Take ``handle``'s file lock for good, trying every ``pause`` seconds for up to
    ``seconds``; False when another process still holds it then."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if fcntl is None:
                _lock_windows(handle, msvcrt.LK_NBLCK)
            else:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            if time.monotonic() > deadline:
                return False
            time.sleep(pause)


def _release_lock(handle: Any) -> None:
    if handle is not None and fcntl is not None:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        finally:
            handle.close()
    elif handle is not None:
        try:
            _lock_windows(handle, msvcrt.LK_UNLCK)
        finally:
            handle.close()


def _lock_windows(handle: Any, mode: int) -> None:
    """Lock (``msvcrt.LK_NBLCK``: exclusive, no wait) or unlock (``LK_UNLCK``) the first
    byte of the open lock file; OSError while another handle, in any process, holds it.

    Windows has no ``flock``; ``msvcrt.locking`` locks bytes from the file position. Linux
    CI runs this path with a stand-in ``msvcrt`` (tests/runs/test_portability.py).
    """
    handle.seek(0)  # "a+" opens at the end; every lock and unlock must name the same byte
    msvcrt.locking(handle.fileno(), mode, 1)
