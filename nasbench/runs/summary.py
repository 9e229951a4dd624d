"""One-line summaries of the runs in a folder, read without pandas or torch.

The CLI's ``nasbench runs`` prints :func:`folder_summaries` as they are (the runs, and the
launcher's folders whose search has not created its store yet, as the Runs tab lists
them); :func:`nasbench.runs.list_runs` turns :func:`run_summaries` into a DataFrame for the
run browser.

Example:
    >>> run_summaries("runs")[0]["status"]  # doctest: +SKIP
    'finished'
"""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path
from typing import Any

from nasbench.errors import NasbenchError
from nasbench.metric_names import better
from nasbench.runs.launched import launched_summary
from nasbench.runs.schema import DB_NAME, damaged_database, require_run
from nasbench.runs.store import announced_writer, open_read_only, writer_alive

# Statuses of a run a process should be writing; with no writer the run was killed.
LIVE_STATUSES = ("created", "running", "stopping")
KILLED = "killed"
# A stopped or failed run that a process writes again, or one a `nasbench resume` has
# announced it takes over: a resume starting up (until its first step the store says how
# the last search ended).
RESUMING = "resuming"
# A run a `nasbench retrain` announced it takes over, or writes (its retrain_started event
# is its latest record, with no retrain_finished after it): not over, but no search, so
# no stop request reaches it.
RETRAINING = "retraining"
# Why a discrete search ended (the store's status message), said in words.
END_REASONS = {
    "max_evaluations": "its max_evaluations budget is spent",
    "max_seconds": "its max_seconds budget is spent",
    "finished": "the strategy had nothing left to propose",
    "exhausted": "every architecture of the space has been evaluated",
    "duplicates": "ended early: the strategy kept proposing architectures it had already "
    "evaluated, so the budget could not be spent; check that it draws new ones",
    "callback": "a callback asked it to stop",
}
# A localisation search's validation distance of the searched arm (voxels, smaller is
# better); it is recorded with the arms' test rows, but it is what the arm was picked by.
LOCALISATION_VAL = "searched_val_dist_vox"
# The first of these a run logged is its best metric: classification, segmentation,
# reconstruction, detection, few-shot (METANAS's learner), localisation, a regression
# pretext task, discrete scores. Test scores never count.
_BEST_METRICS = (
    "acc", "val_acc", "auc", "val_auc", "dice", "val_dice", "psnr", "val_psnr", "val_ap50",
    "metanas_val_acc", LOCALISATION_VAL, "val_mse", "score", "naswot",
)  # fmt: skip


def run_summaries(folder: str | Path) -> list[dict[str, Any]]:
    """Summarise each run folder directly inside ``folder``, in name order.

    Args:
        folder: an existing folder of run folders.

    Returns:
        One dict per run: run_dir, name, status, message, dataset, strategy, created
        (seconds since the epoch), best_metric_name, best_metric, writer_alive (whether
        a process writes it now). The status is the store's (:func:`shown_status`):
        created, running, stopping, stopped, finished or failed; "killed" for a run that
        says it runs but which no process writes; "resuming" for a stopped or failed
        one that a process writes again, or one a live ``nasbench resume`` announced;
        "retraining" for one a live ``nasbench retrain`` announced or writes
        (:func:`retraining`); "unreadable", with the reason as its message, for a run
        that cannot be read.
    """
    return [
        _summary(child)
        for child in sorted(Path(folder).iterdir())
        if child.is_dir() and (child / DB_NAME).is_file()
    ]


def folder_summaries(folder: str | Path) -> list[dict[str, Any]]:
    """Summarise each run folder directly inside ``folder``, in name order: the runs, as
    :func:`run_summaries` does, and the launcher's folders whose search has not created
    its run store (:func:`nasbench.runs.launched.launched_summary`), which the Runs tab
    lists too.

    Args:
        folder: an existing folder of run folders.

    Returns:
        One dict per folder, in :func:`run_summaries`' keys; a launcher's folder without
        a store has status "starting" (its search loads) or "failed", with the reason as
        its message, in the Runs tab's words.

    Example:
        >>> [r["status"] for r in folder_summaries("runs")]  # doctest: +SKIP
        ['finished', 'starting']
    """
    rows = []
    for child in sorted(Path(folder).iterdir()):
        if not child.is_dir():
            continue
        # One look per folder, so one whose search creates its store meanwhile is listed
        # once: as a launcher's folder before, as a run after.
        row = None if (child / DB_NAME).is_file() else launched_summary(child)
        if row is None and (child / DB_NAME).is_file():
            row = _summary(child)
        if row is not None:
            rows.append(row)
    return rows


def _summary(run_dir: Path) -> dict[str, Any]:
    row: dict[str, Any] = {"run_dir": str(run_dir), "name": run_dir.name, "created": math.nan}
    try:
        conn = open_read_only(run_dir / DB_NAME)
    except (NasbenchError, sqlite3.Error) as err:
        return {**row, "status": "unreadable", "message": str(err)}
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        config = json.loads(meta.get("config", "{}"))
        if not isinstance(config, dict):
            raise ValueError(f"its stored config is a {type(config).__name__}, not an object")
        alive = writer_alive(run_dir)  # before the status: see shown_status
        starting = announced_writer(run_dir)
        last = conn.execute(
            "SELECT status, message FROM status ORDER BY id DESC LIMIT 1"
        ).fetchone()
        best_name, best = _best_metric(conn, config)
        status = last[0] if last else "created"
        return {
            **row,
            "status": shown_status(status, alive, bool(alive) and _retraining(conn), starting),
            "message": last[1] if last else "",
            "dataset": _name_of(config.get("dataset")),
            "strategy": _name_of(config.get("strategy")),
            "created": stored_seconds(meta.get("created")),
            "best_metric_name": best_name,
            "best_metric": best,
            "writer_alive": alive,
        }
    except Exception as err:  # noqa: BLE001 - one hand-edited run must not hide the others
        return {**row, "status": "unreadable", "message": f"{type(err).__name__}: {err}"}
    finally:
        conn.close()


def shown_status(
    status: str, alive: bool | None, retrain: bool = False, starting: str | None = None
) -> str:
    """The status to show for a run's stored status and whether a process writes it.

    ``alive`` (:func:`nasbench.runs.store.writer_alive`) and ``starting`` must be read
    *before* the status: a writer stores its last status before it lets go of the run, so
    a status read after finding no writer is final, whereas one read before may be the
    ``running`` of a search that has finished since (and would be taken as killed).

    Args:
        status: the latest stored status.
        alive: True while a process holds the writer lock, False when none does, None
            where that cannot be known.
        retrain: whether the run's log says a retrain is under way (:func:`retraining`);
            read only where nothing is announced.
        starting: the command a live process announced it takes the run over with
            (:func:`nasbench.runs.store.announced_writer`). It names the writer, whatever
            the log says: from its first moment, before it loads torch or holds the writer
            lock, a retrain reads as retraining (a killed one's status and events
            notwithstanding) and a resume as resuming until its first status (running)
            is stored. Nothing is announced while a search writes the run.

    Returns:
        ``status``, or "killed" for a live status no process writes, "retraining" for a
        run a live retrain announced or writes, or "resuming" for a run a live resume
        announced or a stopped or failed run another process writes again.

    Example:
        >>> shown_status("running", False), shown_status("stopped", True)
        ('killed', 'resuming')
        >>> shown_status("stopped", True, retrain=True)
        'retraining'
        >>> shown_status("running", True, starting="retrain")  # a killed run's retrain
        'retraining'
        >>> shown_status("stopped", True, retrain=True, starting="resume")
        'resuming'
    """
    if starting == "retrain":
        return RETRAINING
    if starting == "resume":
        # The resume stores running as it starts its loop: from then on it is a search.
        return status if alive and status in LIVE_STATUSES else RESUMING
    # Nothing announced (a search, an older CLI): the log's word, with a live writer.
    if alive and retrain:
        return RETRAINING
    if status in LIVE_STATUSES and alive is False:
        return KILLED  # says running, but no process writes it
    if status in ("stopped", "failed") and alive:
        return RESUMING
    return status


def retraining(run_dir: str | Path) -> bool:
    """Whether a ``nasbench retrain`` of the run is under way: a live one announced it
    takes the run over (:func:`nasbench.runs.store.announced_writer`, from its first
    moment), or, where nothing is announced, the run's log says so: its latest
    ``retrain_started`` event came after its last status and has no ``retrain_finished``
    (or ``retrain_failed``) after it. Only a live writer makes the log's word true
    (:func:`writer_alive`): a retrain that was killed logs no end, and a resume announced
    since is no retrain.

    Args:
        run_dir: the run folder.

    Returns:
        True while the log reads as a retrain in progress.

    Example:
        >>> retraining("runs/darts-1")  # doctest: +SKIP
        False
    """
    path = require_run(run_dir)
    alive, starting = writer_alive(run_dir), announced_writer(run_dir)  # before the status
    conn = open_read_only(path)
    try:
        last = conn.execute("SELECT status FROM status ORDER BY id DESC LIMIT 1").fetchone()
        status = last[0] if last else "created"
        retrain = bool(alive) and _retraining(conn)
        return shown_status(status, alive, retrain, starting) == RETRAINING
    except sqlite3.DatabaseError as err:
        raise damaged_database(path, err) from None
    finally:
        conn.close()


def _retraining(conn: sqlite3.Connection) -> bool:
    event = conn.execute(
        "SELECT kind, time FROM events WHERE kind IN "
        "('retrain_started', 'retrain_finished', 'retrain_failed') "
        "ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if event is None or event[0] != "retrain_started":
        return False
    # A search writes a status as it starts: a later one means a resume of an interrupted
    # retrain's run (that retrain logged no end), not the retrain.
    last = conn.execute("SELECT time FROM status ORDER BY id DESC LIMIT 1").fetchone()
    return last is None or event[1] > last[0]


def stored_seconds(text: str | None) -> float:
    """A stored creation time; NaN when missing or hand-edited into something else."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def _best_metric(conn: sqlite3.Connection, config: dict[str, Any]) -> tuple[str | None, float]:
    values: dict[str, list[float]] = {}
    for name, value in conn.execute(
        "SELECT name, value FROM metrics WHERE (phase IN ('val', 'search') OR name = ?) "
        "AND value IS NOT NULL",
        (LOCALISATION_VAL,),
    ):
        values.setdefault(name, []).append(value)
    ranked = False
    for (text,) in conn.execute("SELECT metrics FROM candidates WHERE status = 'done'"):
        ranked = True
        for name, value in json.loads(text).items():
            if isinstance(value, (int, float)) and not math.isnan(value):
                values.setdefault(name, []).append(float(value))
    named = _name_of(config.get("metric") or config.get("objective"))
    wanted: tuple[str, ...] = (named,) if named else ()
    if ranked:  # a discrete search ranks its candidates by the evaluator's score
        evaluator = config.get("evaluator_config")
        metric = evaluator.get("metric") if isinstance(evaluator, dict) else None
        # A run scored by a test metric (stored before that was refused): its "score" is
        # that test number too, so neither is its best; a validation metric is.
        scores = (metric,) if _is_test(metric) else (metric, "score")
        wanted += tuple(str(n) for n in scores if n)
    order = tuple(n for n in wanted + _BEST_METRICS if not _is_test(n))
    name = next((n for n in order if n in values), None)
    if name is None:
        return None, math.nan
    return name, min(values[name]) if better(name) == "min" else max(values[name])


def _is_test(name: Any) -> bool:
    return isinstance(name, str) and name.startswith("test")


def _name_of(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("name") or value.get("metric") or value.get("type")
    return None if value is None else str(value)
