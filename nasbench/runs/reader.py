"""The reader side of a run store: pandas DataFrames over a run folder.

A reader opens the database read-only (``mode=ro``), so it can never block or
damage the writer, and it reads each refresh inside one read transaction, so it
sees whole writer calls only (never half an alpha snapshot).

Example:
    >>> run = load("runs/darts-1")  # doctest: +SKIP
    >>> run.status, run.progress["fraction"]  # doctest: +SKIP
    ('running', 0.42)
    >>> run.alphas.query("cell_type == 'normal'").head()  # doctest: +SKIP
    >>> new = run.refresh()  # only the rows written since  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import sqlite3
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nasbench.errors import ConfigError
from nasbench.runs.schema import (
    APPEND_ONLY_TABLES,
    DB_NAME,
    RETRAIN_PHASES,
    damaged_database,
    require_run,
    run_folder,
)
from nasbench.runs.store import open_read_only, writer_alive
from nasbench.runs.summary import run_summaries, stored_seconds

FRAMES = ("history", "alphas", "genotypes", "candidates", "events")

# Metric names list_runs shows as "best" when the config names none, in order of preference.

_HISTORY = {
    "step": "int64",
    "epoch": "int64",
    "phase": "str",
    "name": "str",
    "value": "float64",
    "time": "float64",
    "elapsed": "float64",
}
_ALPHAS = {
    "step": "int64",
    "epoch": "int64",
    "cell_type": "category",
    "edge": "category",
    "op": "category",
    "weight": "float64",
    "raw": "float64",
    "kind": "category",
}
_GENOTYPES = {
    "epoch": "int64",
    "step": "int64",
    "genotype_json": "str",
    "genotype": "object",
    "metrics": "object",
    "time": "float64",
}
_CANDIDATES = {
    "index": "int64",
    "candidate_id": "object",
    "genotype_json": "str",
    "genotype": "object",
    "status": "str",
    "worker": "object",
    "metrics": "object",
    "cost": "object",
    "info": "object",
    "time": "float64",
    "elapsed": "float64",
}
_EVENTS = {
    "step": "Int64",
    "epoch": "Int64",
    "kind": "str",
    "payload": "object",
    "time": "float64",
}
_STATUS = {"time": "float64", "status": "str", "message": "str", "pid": "Int64"}


def load(run_dir: str | Path) -> Run:
    """Open a run folder for reading.

    Args:
        run_dir: a folder written by a search (it holds ``run.sqlite``).

    Returns:
        A :class:`Run` with every row committed so far.

    Example:
        >>> run = load("runs/darts-1")  # doctest: +SKIP
        >>> run.metrics_wide(phase="val").tail()  # doctest: +SKIP
    """
    return Run(run_dir)


class Run:
    """A read-only view of a run: config, status, progress and DataFrames.

    Attributes:
        run_dir: the run folder.
        config: the search configuration (dict).
        environment: package versions, device, git commit (dict).
        created: creation time (seconds since the epoch).
        history: tidy metrics (step, epoch, phase, name, value, time, elapsed); elapsed
            is seconds of search since creation: the pauses between a stop (or a kill)
            and the resume after it are left out, as in ``candidates``.
        alphas: tidy architecture weights (step, epoch, cell_type, edge, op, weight,
            raw, kind); one row per (snapshot, edge, op).
        genotypes: derived genotype per epoch (epoch, step, genotype_json, genotype,
            metrics, time, plus one ``metrics.<name>`` column per metric).
        candidates: evaluated candidates of a discrete search (index, candidate_id,
            genotype_json, genotype, status, worker, metrics, cost, info, time, elapsed,
            plus ``metrics.<name>`` and ``cost.<name>`` columns).
        events: free-form events (step, epoch, kind, payload, time).
        status_history: every status change (time, status, message, pid).
        generation: bumped whenever a refresh dropped rows because the run was resumed
            from an earlier checkpoint; a live view then redraws from the frames.
    """

    history: pd.DataFrame
    alphas: pd.DataFrame
    genotypes: pd.DataFrame
    candidates: pd.DataFrame
    events: pd.DataFrame
    status_history: pd.DataFrame

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = run_folder(run_dir)
        path = require_run(self.run_dir)
        self._conn: sqlite3.Connection | None = open_read_only(path)
        # A notebook seldom closes a run it loaded: closing the connection when the Run is
        # collected, or at the latest when Python exits, removes the -wal/-shm files the
        # reading made beside a finished run (only close() did before).
        self._closer = weakref.finalize(self, self._conn.close)
        try:
            self._read_all()
        except (sqlite3.DatabaseError, json.JSONDecodeError) as err:
            self.close()
            raise damaged_database(path, err) from None
        # A hand-edited meta row ('[1, 2]'): every reader of .config would fail its own way.
        for key in ("config", "environment"):
            value = getattr(self, key)
            if not isinstance(value, dict):
                self.close()
                reason = f"its {key} is {type(value).__name__}, not a JSON object"
                raise damaged_database(path, reason)

    def _read_all(self) -> None:
        self._cursors = dict.fromkeys((*APPEND_ONLY_TABLES, "discards"), 0)
        self.generation = 0
        self._genotype_cache: dict[str, Any] = {}
        self._parser: Callable[[str], Any] | None | bool = False  # False = not looked up
        meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        self.config: dict[str, Any] = json.loads(meta.get("config", "{}"))
        self.environment: dict[str, Any] = json.loads(meta.get("environment", "{}"))
        self.created: float = stored_seconds(meta.get("created"))
        self.history = _empty(_HISTORY)
        self.alphas = _empty(_ALPHAS)
        self.genotypes = _empty(_GENOTYPES)
        self.candidates = _empty(_CANDIDATES)
        self.events = _empty(_EVENTS)
        self.status_history = _empty(_STATUS)
        self._progress_row: tuple | None = None
        self._stop_pending = False
        # (start, end) of each pause between a stop (or a kill) and the resume after it,
        # from each resume's (status before it, that status's time, resume time).
        self._pauses: list[tuple[float, float]] = []
        self._resumes: list[tuple[str, float, float]] = []
        self._last_status: tuple[str, float] | None = None
        self.refresh()

    # -------------------------------------------------------------- state
    @property
    def status(self) -> str:
        """The latest status stored: created, running, stopping, stopped, finished or failed.

        A search killed outright (SIGKILL, out of memory, a restart) stores no end, so its
        run still says running here; :meth:`writer_alive` is then False, and ``list_runs``
        and ``nasbench runs`` show it as killed.
        """
        if self.status_history.empty:
            return "created"
        return str(self.status_history["status"].iloc[-1])

    @property
    def message(self) -> str:
        """The message of the latest status (the error text when the run failed)."""
        if self.status_history.empty:
            return ""
        return str(self.status_history["message"].iloc[-1])

    @property
    def stop_pending(self) -> bool:
        """True when a stop was requested and the search has not honoured it yet."""
        return self._stop_pending

    @property
    def progress(self) -> dict[str, Any]:
        """Where the search is: step, total_steps, epoch, total_epochs, fraction, eta_s.

        ``fraction`` and ``eta_s`` are None while unknown.
        """
        if self._progress_row is None:
            return {
                "step": 0,
                "total_steps": None,
                "epoch": 0,
                "total_epochs": None,
                "time": None,
                "fraction": None,
                "eta_s": None,
            }
        now, step, total_steps, epoch, total_epochs, start_time, start_step = self._progress_row
        fraction = step / total_steps if total_steps else None
        eta = None
        rate = (step - start_step) / (now - start_time) if now > start_time else 0.0
        if total_steps is not None and rate > 0:
            eta = max(total_steps - step, 0) / rate
        return {
            "step": step,
            "total_steps": total_steps,
            "epoch": epoch,
            "total_epochs": total_epochs,
            "time": now,
            "fraction": fraction,
            "eta_s": eta,
        }

    def writer_alive(self) -> bool | None:
        """Return whether a live process holds this run's writer lock (None if unknown).

        A run whose status says ``running`` but whose writer is gone was killed.
        """
        return writer_alive(self.run_dir)

    # -------------------------------------------------------------- reads
    def refresh(self) -> dict[str, pd.DataFrame]:
        """Fetch the rows written since the last refresh and append them.

        Returns:
            The new rows only, per frame name (history, alphas, genotypes,
            candidates, events); a live monitor feeds these to its figures.

        Example:
            >>> new = run.refresh()  # doctest: +SKIP
            >>> new["history"].empty  # doctest: +SKIP
            True
        """
        db = self._db
        db.execute("BEGIN")  # one read transaction: a consistent cut of the run
        try:
            discarded = self._apply_discards(db)
            # Statuses first: a resume among them moves the elapsed time of the rows after it.
            statuses = self._fetch_status(db)
            self._add_pauses(db, statuses, discarded)
            read_before = self._cursors["metrics"]
            new = {
                "history": self._fetch_history(db),
                "alphas": self._fetch_alphas(db),
                "genotypes": self._fetch_genotypes(db),
                "candidates": self._fetch_candidates(db),
                "events": self._fetch_events(db),
            }
            if (new["events"]["kind"] == "retrain_finished").any():
                self._drop_replaced_retrain_rows(db, read_before)
            self._progress_row = db.execute(
                "SELECT time, step, total_steps, epoch, total_epochs, start_time, start_step "
                "FROM progress WHERE id = 1"
            ).fetchone()
            self._stop_pending = (
                db.execute("SELECT 1 FROM stop_requests WHERE handled IS NULL LIMIT 1").fetchone()
                is not None
            )
        finally:
            db.execute("COMMIT")
        for name, rows in new.items():
            setattr(self, name, _append(getattr(self, name), rows))
        self.status_history = _append(self.status_history, statuses)
        return new

    def since(self, step: int) -> dict[str, pd.DataFrame]:
        """Rows with a step greater than ``step``, read from the database.

        Args:
            step: the last step the caller has.

        Returns:
            history, alphas, genotypes and events rows after ``step`` (events without
            a step are left out). The cached frames are not changed.

        Example:
            >>> run.since(500)["alphas"]  # doctest: +SKIP
        """
        db = self._db
        db.execute("BEGIN")
        try:
            return {
                "history": self._fetch_history(db, after_step=step),
                "alphas": self._fetch_alphas(db, after_step=step),
                "genotypes": self._fetch_genotypes(db, after_step=step),
                "events": self._fetch_events(db, after_step=step),
            }
        finally:
            db.execute("COMMIT")

    def metrics_wide(self, phase: str | None = None) -> pd.DataFrame:
        """Pivot ``history`` to one row per step and one column per metric.

        Args:
            phase: keep one phase (columns are metric names); None keeps every phase
                (columns are ``"<phase>/<name>"``).

        Returns:
            A frame with ``step`` and ``epoch`` columns, then the metrics.

        Example:
            >>> run.metrics_wide("val")[["step", "acc"]]  # doctest: +SKIP
        """
        frame = self.history
        if phase is not None:
            frame = frame[frame["phase"] == phase]
            columns = frame["name"]
        else:
            columns = frame["phase"] + "/" + frame["name"]
        if frame.empty:
            return pd.DataFrame(
                {"step": pd.Series(dtype="int64"), "epoch": pd.Series(dtype="int64")}
            )
        # unstack (not pivot_table) keeps metrics that are all NaN, e.g. a
        # diverged loss, and the column order of first appearance.
        order = pd.unique(columns)
        wide = (
            frame.assign(column=columns)
            .drop_duplicates(["step", "epoch", "column"], keep="last")
            .set_index(["step", "epoch", "column"])["value"]
            .unstack("column")
            .reindex(columns=order)
        )
        wide.columns.name = None
        return wide.reset_index().sort_values("step", kind="stable").reset_index(drop=True)

    def alpha_matrix(
        self,
        step: int | None = None,
        cell_type: str = "normal",
        kind: str = "alpha",
        value: str = "weight",
    ) -> pd.DataFrame:
        """One alpha snapshot as an [edges x ops] frame (for heatmaps).

        Args:
            step: the latest snapshot at or before this step; None for the last one.
            cell_type: which cell.
            kind: "alpha", "beta", ...
            value: "weight" or "raw".

        Returns:
            A frame indexed by edge with one column per op, in logging order.

        Example:
            >>> run.alpha_matrix(cell_type="reduce").round(2)  # doctest: +SKIP
        """
        frame = self.alphas[(self.alphas["cell_type"] == cell_type) & (self.alphas["kind"] == kind)]
        if step is not None:
            frame = frame[frame["step"] <= step]
        if frame.empty:
            raise ConfigError(
                f"no '{kind}' snapshot for cell '{cell_type}'"
                + ("" if step is None else f" at or before step {step}")
                + f" in '{self.run_dir}'; check run.alphas[['cell_type', 'kind']]."
            )
        last = frame[frame["step"] == frame["step"].max()]
        edges = list(dict.fromkeys(last["edge"]))
        ops = list(dict.fromkeys(last["op"]))
        matrix = pd.DataFrame(
            np.nan, index=pd.Index(edges, name="edge"), columns=pd.Index(ops, name="op")
        )
        for edge, op, number in zip(last["edge"], last["op"], last[value], strict=True):
            matrix.at[edge, op] = number
        return matrix

    def close(self) -> None:
        """Close the read-only connection (idempotent)."""
        self._closer()  # runs once: closes the connection
        self._conn = None

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __fspath__(self) -> str:
        # A Run goes wherever a run folder does: load(run), resume(run), write_report(run).
        return str(self.run_dir)

    def __repr__(self) -> str:
        return (
            f"Run('{self.run_dir}', status={self.status!r}, steps={self.progress['step']}, "
            f"snapshots={self.alphas[['step', 'cell_type', 'kind']].drop_duplicates().shape[0]}, "
            f"candidates={len(self.candidates)})"
        )

    # ----------------------------------------------------------- internals
    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ConfigError(f"the run '{self.run_dir}' is closed; call nasbench.runs.load again.")
        return self._conn

    def _fetch_history(self, db: sqlite3.Connection, after_step: int | None = None) -> pd.DataFrame:
        where, args = self._where("metrics", after_step)
        rows = db.execute(
            f"SELECT id, step, epoch, phase, name, value, time FROM metrics {where} ORDER BY id",
            args,
        ).fetchall()
        frame = pd.DataFrame(
            rows, columns=["id", "step", "epoch", "phase", "name", "value", "time"]
        )
        self._advance("metrics", frame, after_step)
        return self._history_frame(frame)

    def _history_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        # NULL (NaN logged) -> NaN; so is a value a hand edit left as text, rather than
        # every view of the run failing on one row.
        frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
        frame["elapsed"] = self._active(frame["time"])
        return _typed(frame, _HISTORY)

    def _drop_replaced_retrain_rows(self, db: sqlite3.Connection, before: int) -> None:
        """A retrain that finished replaced the earlier retrain's rows in the store in one
        transaction (its own arrive as new rows): keep, of the rows read before
        (``id <= before``), the retrain rows still there, as a reader opened now reads."""
        phases = ", ".join("?" * len(RETRAIN_PHASES))
        rows = db.execute(
            "SELECT id, step, epoch, phase, name, value, time FROM metrics "
            f"WHERE id <= ? AND phase IN ({phases}) ORDER BY id",
            (before, *RETRAIN_PHASES),
        ).fetchall()
        still = pd.DataFrame(
            rows, columns=["id", "step", "epoch", "phase", "name", "value", "time"]
        )
        others = self.history[~self.history["phase"].isin(RETRAIN_PHASES).to_numpy(dtype=bool)]
        self.history = _append(others.reset_index(drop=True), self._history_frame(still))

    def _fetch_alphas(self, db: sqlite3.Connection, after_step: int | None = None) -> pd.DataFrame:
        where, args = self._where("alpha_snapshots", after_step)
        rows = db.execute(
            "SELECT id, step, epoch, cell_type, kind, edges, ops, raw, weight "
            f"FROM alpha_snapshots {where} ORDER BY id",
            args,
        ).fetchall()
        if after_step is None and rows:
            self._cursors["alpha_snapshots"] = int(rows[-1][0])
        return _tidy_alphas(rows)

    def _fetch_genotypes(
        self, db: sqlite3.Connection, after_step: int | None = None
    ) -> pd.DataFrame:
        where, args = self._where("genotypes", after_step)
        rows = db.execute(
            f"SELECT id, epoch, step, genotype, metrics, time FROM genotypes {where} ORDER BY id",
            args,
        ).fetchall()
        frame = pd.DataFrame(
            rows, columns=["id", "epoch", "step", "genotype_json", "metrics", "time"]
        )
        self._advance("genotypes", frame, after_step)
        frame["metrics"] = [_mapping(text) for text in frame["metrics"]]
        frame.insert(3, "genotype", [self._genotype(text) for text in frame["genotype_json"]])
        return _with_flat(_typed(frame, _GENOTYPES), "metrics")

    def _fetch_candidates(self, db: sqlite3.Connection) -> pd.DataFrame:
        start = len(self.candidates)
        rows = db.execute(
            "SELECT id, candidate_id, genotype, status, worker, metrics, cost, info, time "
            "FROM candidates WHERE id > ? ORDER BY id",
            (self._cursors["candidates"],),
        ).fetchall()
        frame = pd.DataFrame(
            rows,
            columns=[
                "id", "candidate_id", "genotype_json", "status", "worker", "metrics", "cost",
                "info", "time",
            ],
        )  # fmt: skip
        self._advance("candidates", frame, None)
        frame.insert(0, "index", np.arange(start, start + len(frame), dtype=np.int64))
        frame.insert(3, "genotype", [self._genotype(text) for text in frame["genotype_json"]])
        frame["metrics"] = [_mapping(text) for text in frame["metrics"]]
        frame["cost"] = [_mapping(text) for text in frame["cost"]]
        frame["info"] = [_mapping(text) for text in frame["info"]]
        frame["elapsed"] = self._active(frame["time"])
        return _with_flat(_with_flat(_typed(frame, _CANDIDATES), "metrics"), "cost")

    def _fetch_events(self, db: sqlite3.Connection, after_step: int | None = None) -> pd.DataFrame:
        where, args = self._where("events", after_step)
        rows = db.execute(
            f"SELECT id, step, epoch, kind, payload, time FROM events {where} ORDER BY id", args
        ).fetchall()
        frame = pd.DataFrame(rows, columns=["id", "step", "epoch", "kind", "payload", "time"])
        self._advance("events", frame, after_step)
        frame["payload"] = [_mapping(text) for text in frame["payload"]]
        return _typed(frame, _EVENTS)

    def _add_pauses(
        self, db: sqlite3.Connection, statuses: pd.DataFrame, discarded: bool = False
    ) -> None:
        """Record the pauses the new status rows end. A ``running`` after any status but
        ``created`` is a resume; its pause starts at the stop (or failure) before it, and
        for a killed run (still ``running``) at the dead process's last search row.

        A resume discards the rows its checkpoint does not hold just after it says
        ``running``, so a killed run's pauses are measured again after each discard:
        a reader refreshed in between and one opened later agree.
        """
        found = False
        for status, when in zip(statuses["status"], statuses["time"], strict=True):
            before = self._last_status
            if status == "running" and before is not None and before[0] != "created":
                self._resumes.append((before[0], before[1], float(when)))
                found = True
            self._last_status = (str(status), float(when))
        if found or (discarded and self._resumes):
            self._pauses = [self._pause(db, *resume) for resume in self._resumes]

    @staticmethod
    def _pause(
        db: sqlite3.Connection, before: str, before_time: float, resumed: float
    ) -> tuple[float, float]:
        if before != "running":  # stopped or failed: its status says when it ended
            return (before_time, resumed)
        # Killed: it wrote until it died. A retrain's rows (a run can be retrained while
        # stopped) are not the search's, and would cut the pause short.
        retrain = ", ".join("?" * len(RETRAIN_PHASES))
        last = [before_time]
        for query, args in (
            (f"SELECT MAX(time) FROM metrics WHERE time < ? AND phase NOT IN ({retrain})",
             (resumed, *RETRAIN_PHASES)),
            ("SELECT MAX(time) FROM candidates WHERE time < ?", (resumed,)),
            ("SELECT MAX(time) FROM events WHERE time < ? AND kind NOT LIKE 'retrain%'",
             (resumed,)),
        ):  # fmt: skip
            (latest,) = db.execute(query, args).fetchone()
            if latest is not None:
                last.append(float(latest))
        return (max(last), resumed)

    def _active(self, times: pd.Series) -> pd.Series:
        """Seconds of search from the run's creation to ``times``, pauses left out."""
        elapsed = times - self.created
        for start, end in self._pauses:
            elapsed = elapsed - (times - start).clip(lower=0.0, upper=max(end - start, 0.0))
        return elapsed

    def _fetch_status(self, db: sqlite3.Connection) -> pd.DataFrame:
        rows = db.execute(
            "SELECT id, time, status, message, pid FROM status WHERE id > ? ORDER BY id",
            (self._cursors["status"],),
        ).fetchall()
        frame = pd.DataFrame(rows, columns=["id", "time", "status", "message", "pid"])
        self._advance("status", frame, None)
        return _typed(frame, _STATUS)

    def _apply_discards(self, db: sqlite3.Connection) -> bool:
        """Drop the rows of new discards from the frames; True when there were any."""
        rows = db.execute(
            "SELECT id, after_step FROM discards WHERE id > ? ORDER BY id",
            (self._cursors["discards"],),
        ).fetchall()
        for row_id, after_step in rows:
            self._cursors["discards"] = row_id
            dropped = False
            for name in ("history", "alphas", "genotypes", "events"):
                frame = getattr(self, name)
                keep = ~(frame["step"] > after_step).fillna(False).to_numpy(dtype=bool)
                if name == "history":  # as the store: a retrain's rows count its own epochs
                    keep |= frame["phase"].isin(RETRAIN_PHASES).to_numpy(dtype=bool)
                if not keep.all():
                    setattr(self, name, frame[keep].reset_index(drop=True))
                    dropped = True
            self.generation += dropped
        return bool(rows)

    def _where(
        self, table: str, after_step: int | None, column: str = ""
    ) -> tuple[str, tuple[int, ...]]:
        if after_step is None:
            return f"WHERE {column}id > ?", (self._cursors[table],)
        return f"WHERE {column}step > ?", (int(after_step),)

    def _advance(self, table: str, frame: pd.DataFrame, after_step: int | None) -> None:
        if after_step is None and len(frame):
            self._cursors[table] = int(frame["id"].iloc[-1])

    def _genotype(self, text: str) -> Any:
        # Parsed once per distinct text; None when nasbench.spaces cannot parse it.
        if text not in self._genotype_cache:
            parser = self._genotype_parser()
            value = None
            if parser is not None:
                try:
                    value = parser(text)
                except Exception:  # noqa: BLE001 - a bad row must not break a monitor
                    value = None
            self._genotype_cache[text] = value
        return self._genotype_cache[text]

    def _genotype_parser(self) -> Callable[[str], Any] | None:
        if self._parser is False:
            try:
                from nasbench.spaces import parse_genotype
            except ImportError:
                try:
                    from nasbench.spaces.genotype import parse_genotype
                except ImportError:
                    parse_genotype = None  # type: ignore[assignment]
            self._parser = parse_genotype
        return self._parser  # type: ignore[return-value]


def run_version(run_dir: str | Path) -> tuple[Any, ...]:
    """A stamp of what a run holds: it changes whenever rows are written or discarded.

    Cheap (the last row id of each table, one indexed lookup each), so a view that keeps
    a run's frames can tell whether they are stale without reading them again.

    Args:
        run_dir: a run folder.

    Returns:
        The last row id of each append-only table and of the discards (0 for none), and
        the run's creation time.

    Example:
        >>> run_version("runs/darts-1")  # doctest: +SKIP
        (20100, 4000, 100, 0, 0, 3, 0, '1765015200.0')
    """
    path = require_run(run_folder(run_dir))
    conn = open_read_only(path)
    # One statement: one consistent cut of the run, as a refresh reads it. The creation
    # time tells a run deleted and started again under its name, with as many rows.
    query = ", ".join(f"(SELECT MAX(id) FROM {t})" for t in (*APPEND_ONLY_TABLES, "discards"))
    created = "(SELECT value FROM meta WHERE key = 'created')"
    try:
        *last_ids, born = conn.execute(f"SELECT {query}, {created}").fetchone()
        return (*(int(v or 0) for v in last_ids), str(born))
    except sqlite3.DatabaseError as err:
        raise damaged_database(path, err) from None
    finally:
        conn.close()


def list_runs(folder: str | Path) -> pd.DataFrame:
    """Summarise every run folder directly inside ``folder`` (for the run browser).

    Args:
        folder: a folder of run folders.

    Returns:
        One row per run, newest first: run_dir, name, status, message, dataset,
        strategy, created (Timestamp, UTC), best_metric_name, best_metric. A run
        that cannot be read is listed with status "unreadable" and the reason.

    Example:
        >>> list_runs("runs")[["name", "status", "best_metric"]]  # doctest: +SKIP
    """
    if isinstance(folder, Run):  # path-like, but it is one run, not a folder of them
        raise ConfigError(
            f"list_runs needs the folder holding run folders, not a Run; pass "
            f"'{folder.run_dir.parent}' (the run's parent folder)."
        )
    if not isinstance(folder, (str, os.PathLike)):
        raise ConfigError(
            f"list_runs needs the folder holding run folders, e.g. 'runs', got "
            f"{type(folder).__name__}."
        )
    root = Path(folder)
    if not root.is_dir():
        raise ConfigError(
            f"runs folder '{root}' does not exist; pass the folder holding run folders."
        )
    if (root / DB_NAME).is_file():  # a run: listing what is inside it would find nothing
        raise ConfigError(
            f"'{root}' is a run folder, not a folder of runs; pass '{root.parent}' (its "
            f"parent folder), or read the run with nasbench.runs.load('{root}')."
        )
    rows = run_summaries(root)
    columns = [
        "run_dir", "name", "status", "message", "dataset", "strategy", "created",
        "best_metric_name", "best_metric",
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns)
    frame["created"] = pd.to_datetime(frame["created"].astype("float64"), unit="s", utc=True)
    frame["best_metric"] = frame["best_metric"].astype("float64")
    return frame.sort_values("created", ascending=False, kind="stable").reset_index(drop=True)


def _tidy_alphas(rows: list[tuple]) -> pd.DataFrame:
    # Built from integer codes with numpy and returned with categorical name columns:
    # a run of thousands of snapshots (~1M rows) loads in about a second and takes
    # tens of MB, where object strings would take hundreds. Rows come in id order, and a
    # snapshot's values in its matrix's order, so one layout (every snapshot of a DARTS
    # run) needs no sort, and each working array is dropped as the frame takes its
    # column: a run of 50,000 snapshots peaks at about 3x its frame's memory, not 7x
    # (benchmarks/run_loading.py).
    if not rows:
        return _empty(_ALPHAS)
    edge_names: dict[str, int] = {}
    op_names: dict[str, int] = {}
    cell_names: dict[str, int] = {}
    kind_names: dict[str, int] = {}
    groups: dict[tuple[str, str], list[tuple]] = {}
    for row in rows:
        groups.setdefault((row[5], row[6]), []).append(row)
    parts = []
    for (edges_text, ops_text), rows_of_layout in groups.items():
        layout = _alpha_layout(edges_text, ops_text)
        if layout is None:
            continue  # a damaged row's edge or op list: the snapshot is left out
        size = len(layout[0]) * len(layout[1])
        # A snapshot whose matrices are not size values long (a damaged blob) is left out.
        group = [r for r in rows_of_layout if len(r[7]) == len(r[8]) == 8 * size]
        if not group:
            continue
        edges = np.asarray([edge_names.setdefault(e, len(edge_names)) for e in layout[0]])
        ops = np.asarray([op_names.setdefault(o, len(op_names)) for o in layout[1]])
        count = len(group)

        def each_value(values: list, dtype: Any, size: int = size) -> np.ndarray:
            return np.repeat(np.asarray(values, dtype=dtype), size)

        parts.append(
            {
                "id": each_value([r[0] for r in group], np.int64),
                "step": each_value([r[1] for r in group], np.int64),
                "epoch": each_value([r[2] for r in group], np.int64),
                "cell_type": each_value(
                    [cell_names.setdefault(r[3], len(cell_names)) for r in group], np.int32
                ),
                "kind": each_value(
                    [kind_names.setdefault(r[4], len(kind_names)) for r in group], np.int32
                ),
                "edge": np.tile(np.repeat(edges.astype(np.int32), len(ops)), count),
                "op": np.tile(ops.astype(np.int32), len(edges) * count),
                "raw": np.frombuffer(b"".join(r[7] for r in group), dtype="<f8"),
                "weight": np.frombuffer(b"".join(r[8] for r in group), dtype="<f8"),
            }
        )
    if not parts:
        return _empty(_ALPHAS)
    if len(parts) == 1:
        columns, order = parts.pop(), None
    else:  # layouts interleaved (a network of several cell shapes): back to id order
        columns = {key: np.concatenate([part.pop(key) for part in parts]) for key in list(parts[0])}
        order = np.argsort(columns["id"], kind="stable")  # stable: values keep their order
    holes = np.isnan(columns["raw"])  # NaN marks holes of ragged matrices
    if holes.any():
        order = np.flatnonzero(~holes) if order is None else order[~holes[order]]

    def ordered(name: str) -> np.ndarray:
        values = columns.pop(name)  # dropped as the frame takes it: one copy at a time
        return values if order is None else values[order]

    return pd.DataFrame(
        {
            "step": ordered("step"),
            "epoch": ordered("epoch"),
            "cell_type": _categorical(ordered("cell_type"), cell_names),
            "edge": _categorical(ordered("edge"), edge_names),
            "op": _categorical(ordered("op"), op_names),
            "weight": ordered("weight"),
            "raw": ordered("raw"),
            "kind": _categorical(ordered("kind"), kind_names),
        }
    )


def _categorical(codes: np.ndarray, names: dict[str, int]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=pd.Index(list(names), dtype=object))


def _alpha_layout(edges_text: Any, ops_text: Any) -> tuple[list[str], list[str]] | None:
    """A snapshot's edge and op names, or None when a damaged row does not hold two lists
    of names."""
    try:
        edges, ops = json.loads(edges_text), json.loads(ops_text)
    except (TypeError, ValueError):
        return None
    if not all(isinstance(v, list) and all(isinstance(n, str) for n in v) for v in (edges, ops)):
        return None
    return edges, ops


def _mapping(text: str) -> dict[str, Any]:
    """A row's JSON object; a store written by hand may hold a list, null or broken JSON
    there, which every view reads as no details rather than failing on (one damaged row
    must not make a whole run unreadable)."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _empty(dtypes: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in dtypes.items()})


def _typed(frame: pd.DataFrame, dtypes: dict[str, str]) -> pd.DataFrame:
    return frame[list(dtypes)].astype(dtypes).reset_index(drop=True)


def _with_flat(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    # "metrics.acc"-style columns (pandas.json_normalize naming) make plotting one line.
    if frame.empty:
        return frame
    flat = pd.DataFrame.from_records(list(frame[column]), index=frame.index)
    flat = flat.add_prefix(f"{column}.")
    return pd.concat([frame, flat], axis=1)


def _append(frame: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    if rows.empty:
        return frame
    if frame.empty:
        return rows.reset_index(drop=True)
    rows = rows.copy()
    frame = frame.copy(deep=False)
    for column in frame.columns:
        old, new = frame[column].dtype, rows[column].dtype if column in rows else None
        if isinstance(old, pd.CategoricalDtype) and isinstance(new, pd.CategoricalDtype):
            # Same categories on both sides, or concat would fall back to object strings.
            categories = old.categories.append(new.categories.difference(old.categories))
            frame[column] = frame[column].cat.set_categories(categories)
            rows[column] = rows[column].cat.set_categories(categories)
    return pd.concat([frame, rows], ignore_index=True)
