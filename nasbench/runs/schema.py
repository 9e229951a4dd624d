"""The SQL schema of a run store and its version.

A run's database is append-only with two exceptions. Every table except
``meta``, ``progress``, ``stop_requests`` and ``staged_metrics`` only gains rows
(AUTOINCREMENT ids are never reused), so a reader fetches "what is new" by id. The
exceptions: a resume deletes the rows logged after the checkpoint it resumes from and
records that in ``discards`` so that live readers drop those rows too; and a finished
retrain replaces the earlier retrain's metric rows with its own, which it held in
``staged_metrics`` (no reader reads that table) until it finished.

An alpha snapshot is one row holding its [edges x ops] matrices as float64
blobs: a whole snapshot is written and read at once (never half of one), and
thousands of snapshots load in a fraction of a second.

The schema version lives in SQLite's ``user_version``; :data:`MIGRATIONS`
upgrades an old run in place when a writer opens it (readers never write, so
they only check).
"""

from __future__ import annotations

import math
import os
import re
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np

from nasbench.errors import ConfigError, RunStoreError

SCHEMA_VERSION = 1

DB_NAME = "run.sqlite"
CHECKPOINT_DIR = "checkpoints"
LOCK_NAME = "run.lock"

STATUSES = ("created", "running", "stopping", "stopped", "finished", "failed")

# Tables a reader fetches incrementally: name -> rowid column.
APPEND_ONLY_TABLES = ("metrics", "alpha_snapshots", "genotypes", "candidates", "events", "status")
# Metric phases a retrain writes (nasbench.evaluation.final_evaluation's PHASES): epochs of
# another training, not steps of the search, so views of the search leave them out and a
# resume's discard keeps them.
RETRAIN_PHASES = ("retrain", "baseline", "threshold", "cnn", "zero-filled", "varnet")
# Tables with a step column whose rows a resume discards past its checkpoint.
STEP_TABLES = ("metrics", "alpha_snapshots", "genotypes", "events")
VIRTUAL_TABLE = re.compile(r"\s*CREATE\s+VIRTUAL\s", re.IGNORECASE)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS status (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    time    REAL NOT NULL,
    status  TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    pid     INTEGER
);
CREATE TABLE IF NOT EXISTS progress (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    time         REAL NOT NULL,
    step         INTEGER NOT NULL,
    total_steps  INTEGER,
    epoch        INTEGER NOT NULL,
    total_epochs INTEGER,
    start_time   REAL NOT NULL,
    start_step   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS metrics (
    id    INTEGER PRIMARY KEY AUTOINCREMENT,
    step  INTEGER NOT NULL,
    epoch INTEGER NOT NULL,
    phase TEXT NOT NULL,
    name  TEXT NOT NULL,
    value REAL,
    time  REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS metrics_step ON metrics (step);
-- The run list reads a run's validation rows (and one metric by name) among every per-step
-- row: with these it does not scan them all.
CREATE INDEX IF NOT EXISTS metrics_phase ON metrics (phase);
CREATE INDEX IF NOT EXISTS metrics_name ON metrics (name);
CREATE TABLE IF NOT EXISTS alpha_snapshots (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    step      INTEGER NOT NULL,
    epoch     INTEGER NOT NULL,
    cell_type TEXT NOT NULL,
    kind      TEXT NOT NULL,
    edges     TEXT NOT NULL,  -- JSON list of edge names (matrix rows)
    ops       TEXT NOT NULL,  -- JSON list of op names (matrix columns)
    raw       BLOB NOT NULL,  -- little-endian float64 [edges x ops], NaN = not stored
    weight    BLOB NOT NULL,  -- same layout
    time      REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS alpha_snapshots_step ON alpha_snapshots (step);
CREATE TABLE IF NOT EXISTS genotypes (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    step     INTEGER NOT NULL,
    epoch    INTEGER NOT NULL,
    genotype TEXT NOT NULL,
    metrics  TEXT NOT NULL DEFAULT '{}',
    time     REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS candidates (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    candidate_id,
    genotype     TEXT NOT NULL,
    metrics      TEXT NOT NULL DEFAULT '{}',
    cost         TEXT NOT NULL DEFAULT '{}',
    info         TEXT NOT NULL DEFAULT '{}',
    status       TEXT NOT NULL,
    worker       TEXT,
    time         REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    step    INTEGER,
    epoch   INTEGER,
    kind    TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    time    REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS discards (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    time       REAL NOT NULL,
    after_step INTEGER NOT NULL  -- rows with a larger step were deleted (resume)
);
CREATE TABLE IF NOT EXISTS stop_requests (
    id       INTEGER PRIMARY KEY,
    time     REAL NOT NULL,
    pid      INTEGER,
    handled  REAL  -- time the writer honoured or cleared it; NULL while pending
);
"""
# A retrain's metric rows until it finishes (RunStore.stage_metrics), laid out as
# ``metrics``. Readers never read it, so a killed retrain's partial curves are never taken
# for the run's; runs made before it existed gain it when a retrain stages its first row.
STAGED_METRICS = """
CREATE TABLE IF NOT EXISTS staged_metrics (
    id    INTEGER PRIMARY KEY AUTOINCREMENT,
    step  INTEGER NOT NULL,
    epoch INTEGER NOT NULL,
    phase TEXT NOT NULL,
    name  TEXT NOT NULL,
    value REAL,
    time  REAL NOT NULL
)"""
SCHEMA += STAGED_METRICS + ";\n"

# from_version -> statements that bring a run to from_version + 1.
MIGRATIONS: dict[int, tuple[str, ...]] = {}


def shown_epoch(epoch: Any) -> Any:
    """An epoch index of the store (counted from 0) as every view shows it (from 1).

    Args:
        epoch: a stored epoch index; anything that is not a finite number (None, a
            damaged payload's text) is returned as it is.

    Returns:
        ``epoch + 1``, or ``epoch`` unchanged.

    Example:
        >>> shown_epoch(0), shown_epoch(None)
        (1, None)
    """
    number = isinstance(epoch, int | float | np.integer | np.floating) and not isinstance(
        epoch, bool
    )
    return epoch + 1 if number and math.isfinite(epoch) else epoch


def db_path(run_dir: str | Path) -> Path:
    """Return the path of a run's database file.

    Args:
        run_dir: the run directory.

    Returns:
        ``run_dir / "run.sqlite"``.

    Example:
        >>> db_path("runs/x").name
        'run.sqlite'
    """
    return Path(run_dir) / DB_NAME


def apply_schema(conn: sqlite3.Connection) -> None:
    """Create the tables of a new run, or migrate an older one, to :data:`SCHEMA_VERSION`.

    Args:
        conn: a read-write connection in autocommit mode.

    Returns:
        None.

    Example:
        >>> conn = sqlite3.connect(":memory:", isolation_level=None)
        >>> apply_schema(conn); schema_version(conn)
        1
    """
    version = schema_version(conn)
    check_version(version, "this run")
    conn.execute("BEGIN IMMEDIATE")
    try:
        if version == 0:
            for statement in _statements(SCHEMA):
                conn.execute(statement)
        else:
            for from_version in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[from_version]:
                    conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        _roll_back(conn)
        raise
    # Outside the try: once COMMIT has run, an interrupt arriving now must not be turned
    # into a failed ROLLBACK ("no transaction is active") that hides it.
    try:
        conn.execute("COMMIT")
    except BaseException:
        _roll_back(conn)  # a COMMIT that failed (a full disk) leaves the transaction open
        raise


def _roll_back(conn: sqlite3.Connection) -> None:
    """Undo an open transaction; never raise over the error that caused it."""
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # the original error says more than "cannot rollback"


def schema_version(conn: sqlite3.Connection) -> int:
    """Return the schema version stored in a run database (0 for an empty file)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def check_version(version: int, what: str) -> None:
    """Raise ConfigError when a run was written by a newer nasbench than this one."""
    if version > SCHEMA_VERSION:
        raise ConfigError(
            f"{what} uses run-store schema version {version}, newer than this nasbench "
            f"supports ({SCHEMA_VERSION}); upgrade nasbench to read it."
        )


def damaged_database(path: Path, err: Exception | str) -> RunStoreError:
    """The one-line error for a run database SQLite cannot read (torn, truncated, foreign).

    Args:
        path: the ``run.sqlite`` file.
        err: what sqlite3 (or the JSON decoder, for its meta rows) raised.

    Returns:
        A :class:`~nasbench.errors.RunStoreError` naming the file and how to recover.
    """
    reason = " ".join(str(err).split()) or type(err).__name__
    # A busy or read-only file is healthy: telling its owner to start over would lose a run.
    if "locked" in reason or "busy" in reason:
        return RunStoreError(
            f"{path} is locked by another program ({reason}); close whatever holds it open "
            "(a database browser, an sqlite3 shell) and run the command again."
        )
    if "readonly" in reason or "read-only" in reason:
        return RunStoreError(
            f"{path} cannot be written ({reason}); make the file and its folder writable, "
            "or copy the run folder somewhere writable and use the copy."
        )
    return RunStoreError(
        f"{path} is damaged or not a run database ({reason}); start the search again in a "
        f"new run folder (`sqlite3 {path} .recover` may salvage its rows)."
    )


def check_run_database(conn: sqlite3.Connection, path: Path) -> None:
    """Raise a one-line error unless ``conn`` holds a run (an empty file holds none).

    Args:
        conn: a connection to ``path``.
        path: the ``run.sqlite`` file.
    """
    try:
        version = schema_version(conn)
        # The schema makes only plain tables and indexes. A handed file's view (an endless
        # recursive CTE named ``metrics``), trigger or virtual table would run code of its
        # author's on every read, so refuse it before reading any row.
        # A virtual table is told by its SQL, kept as its author wrote it ("CREATE
        # VIRTUAL" with any spacing or case), so the test is made here, not in SQL.
        schema = conn.execute("SELECT type, sql FROM sqlite_master").fetchall()
        foreign = [
            "virtual table" if kind == "table" else kind
            for kind, sql in schema
            if kind not in ("table", "index") or VIRTUAL_TABLE.match(sql or "")
        ]
        if foreign:
            # Not its name: a name with "locked" in it would pick another message.
            raise damaged_database(path, f"it holds a {foreign[0]}, which no run database has")
        config = version and conn.execute("SELECT value FROM meta WHERE key = 'config'").fetchone()
    except sqlite3.DatabaseError as err:
        raise damaged_database(path, err) from None
    if not config:
        raise RunStoreError(
            f"{path} is empty or holds no run (no config); it is not a run database: "
            "start the search again in a new run folder."
        )
    check_version(version, f"run '{path.parent}'")


def _statements(script: str) -> list[str]:
    # executescript() would COMMIT the open transaction, so split and run one by one.
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def run_folder(run_dir: str | Path) -> Path:
    """The run folder ``run_dir`` names, a leading ``~`` made the home folder.

    A shell leaves ``--run-dir=~/x`` as it is, and Python never expands ``~``: taken
    literally it would make a folder named ``~`` in the current one.

    Args:
        run_dir: a run folder, e.g. ``~/runs/t1``, or a loaded Run (its folder).

    Returns:
        The folder as a Path.

    Raises:
        ConfigError: ``run_dir`` is no path (None, a number), ``~user`` names no user,
            or no home folder is known.

    Example:
        >>> run_folder("~/runs/t1") == Path.home() / "runs" / "t1"
        True
    """
    # A Run passes as its folder (it has __fspath__); None or a number is a one-line error.
    if not isinstance(run_dir, (str, os.PathLike)):
        raise ConfigError(
            f"a run folder must be a path such as 'runs/demo' (or a loaded Run), got "
            f"{type(run_dir).__name__}."
        )
    try:
        return Path(run_dir).expanduser()
    except RuntimeError as err:  # "~nobody/x", or no HOME and no user entry
        raise ConfigError(
            f"cannot expand '~' in run folder '{run_dir}' ({err}); write the folder out in full."
        ) from None


def require_run(run_dir: str | Path) -> Path:
    """Return the database path of an existing run, or raise a one-line ConfigError.

    Args:
        run_dir: a folder that should hold ``run.sqlite``.

    Returns:
        The path of the run's database file.

    Example:
        >>> require_run("/no/such/run")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        nasbench.errors.ConfigError: run folder '/no/such/run' does not exist; ...
    """
    folder = run_folder(run_dir)
    if not folder.is_dir():
        problem = "is a file, not a folder" if folder.exists() else "does not exist"
        raise ConfigError(f"run folder '{folder}' {problem}; pass the folder a search wrote to.")
    path = folder / DB_NAME
    if not path.is_file():
        raise ConfigError(
            f"'{folder}' is not a run folder (no {DB_NAME} in it); "
            "pass a folder created by nasbench search."
        )
    return path
