"""Run folders a Launcher made whose search has not created its run store (yet).

The workbench's Launcher (``widgets.launcher``) writes the search config into a new run
folder, starts ``python -m nasbench search`` there with its output in the folder's logs,
and records which process it started. The search creates the run store only once it has
checked the config and loaded its data, so until then the folder is a search still
starting, or one that ended before its store: its stderr.log then ends with the CLI's
one-line error, or its recorded process ended with no word (killed, out of memory).

The Runs tab, the Monitor, ``nasbench runs`` and ``nasbench stop`` tell such a folder
from here, so they say the same words. Reading it needs neither pandas nor torch.

Example:
    >>> [(r["name"], r["status"]) for r in launched_summaries("runs")]  # doctest: +SKIP
    [('darts-20240101-120000', 'starting')]
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nasbench.runs.schema import DB_NAME
from nasbench.tempfiles import process_gone

# The files the Launcher writes into a run folder before its search starts.
CONFIG_NAME = "search_config.json"
STDOUT_NAME = "stdout.log"
STDERR_NAME = "stderr.log"
# Which process the Launcher started on the folder (pid, start mark, host): a folder with
# no run store yet reads "starting" only while that process runs (unstarted_reason).
PROCESS_NAME = "search_process.json"
PROC = Path("/proc")  # Linux: each process's start time, in clock ticks since boot
STARTING, FAILED = "starting", "failed"
# What a starting folder's row says (its search is loading: no store, no error yet).
STARTING_MESSAGE = f"no run store yet (see {STDERR_NAME} if it does not start)"
STDERR_TAIL_LINES = 25
# A terminal's control sequences (cursor moves, colours) and one tqdm progress bar, from
# its description to its closing bracket: "epoch 0:  25%|██▌ | 1/4 [00:00<00:01, 1.9it/s]"
# or, with no total, "12it [00:01, 3.2it/s]".
_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_PROGRESS_BAR = re.compile(
    r"^[^\r\n]*?(?:\d+%\|[^|\n]*\| *\S+/\S+|\d[\d.]*[kMGT]?[A-Za-z/]*) "
    r"\[(?:\d+:)?\d+:\d+(?:<[^\],]*)?(?:,[^\]]*)?\]"
)
_ERROR_MARK = "nasbench: error:"


def last_error(run_dir: str | os.PathLike) -> str:
    """The CLI's one-line error that the run's ``stderr.log`` ends with, without its
    ``nasbench: error:`` prefix; "" when the log ends otherwise (a traceback, nothing).

    Args:
        run_dir: the run folder.

    Returns:
        The error's text, or "".

    Example:
        >>> last_error("runs/darts-1")  # doctest: +SKIP
        'checkpoint damaged; delete it.'
    """
    lines = stderr_tail(run_dir, 1).splitlines()
    if lines and lines[-1].startswith(_ERROR_MARK):
        return lines[-1].removeprefix(_ERROR_MARK).strip()
    return ""


def stderr_tail(run_dir: str | os.PathLike, lines: int = STDERR_TAIL_LINES) -> str:
    """The last ``lines`` lines of the run's ``stderr.log``: what the process logged, its
    progress bars and terminal escape codes dropped.

    Args:
        run_dir: the run folder.
        lines: how many lines.

    Returns:
        The text, or "" when there is no log.

    Example:
        >>> print(stderr_tail("runs/darts-1", 1))  # doctest: +SKIP
        nasbench: error: checkpoint damaged; delete it.
    """
    path = Path(run_dir) / STDERR_NAME
    if not path.is_file():
        return ""
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, os.fstat(handle.fileno()).st_size - 64_000))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:  # no log yet, or one this user cannot read: nothing it says is known
        return ""
    # tqdm's nested bars (leave=False) move the cursor up (ESC[A) after each redraw.
    text = _ESCAPE.sub("", text)
    # A process killed mid-redraw leaves its bar unended, so the next process's own line
    # (its one-line error) starts on the same line: split it off.
    text = re.sub(r"(?<!^)(?<!\n)(nasbench: (?:error|interrupted))", r"\n\1", text)
    # tqdm redraws with carriage returns: a line shows what it ended with, less the bar (a
    # line logged while a bar was shown follows that bar on the same line).
    # (splitlines would split at each carriage return too, keeping every redraw.)
    ended = [line.rsplit("\r", 1)[-1] for line in text.replace("\r\n", "\n").split("\n")]
    kept = [_PROGRESS_BAR.sub("", line, count=1) for line in ended]
    return "\n".join([line for line in kept if line.strip()][-lines:])


def process_start(pid: int, proc: Path = PROC) -> str | None:
    """When process ``pid`` started, as a mark another process given the same pid later
    will not share.

    Args:
        pid: a process id on this machine.
        proc: Linux's process folder; where it is missing (macOS), psutil gives the mark,
            else only whether the pid runs is known.

    Returns:
        "linux:<ticks>" or "psutil:<seconds>"; None when no such process runs (a zombie
        has ended too); "" when one runs (or may) but its start cannot be read.

    Example:
        >>> process_start(os.getpid()) is not None
        True
    """
    if (proc / "self" / "stat").is_file():
        try:  # the state and start time follow the command name, which may hold ")"
            fields = (proc / str(pid) / "stat").read_bytes().rsplit(b")", 1)[1].split()
            return None if fields[0] in (b"Z", b"X") else f"linux:{int(fields[19])}"
        except FileNotFoundError:
            return None
        except (OSError, ValueError, IndexError):
            return ""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        try:
            process = psutil.Process(pid)
            if process.status() == psutil.STATUS_ZOMBIE:
                return None
            return f"psutil:{process.create_time()}"
        except psutil.NoSuchProcess:
            return None
        except psutil.Error:
            return ""
    # Whether the pid runs, with no start to tell a reused one by (None: cannot be told).
    return None if process_gone(pid) else ""


def record_process(process: subprocess.Popen, run_dir: Path) -> None:
    """Write which process runs the search of ``run_dir`` (:data:`PROCESS_NAME`): its pid,
    its start (so that a later process given the same pid is not taken for it) and this
    machine's name (a pid says nothing on another one). A kernel restarted since, another
    one, or the command line tells from it whether that search still runs.

    Args:
        process: the search subprocess.
        run_dir: its run folder.

    Example:
        >>> record_process(subprocess.Popen(["true"]), Path("runs/x"))  # doctest: +SKIP
        >>> dead_search_process("runs/x")  # doctest: +SKIP
        1234
    """
    record = {"pid": process.pid, "started": process_start(process.pid),
              "host": socket.gethostname()}  # fmt: skip
    tmp = run_dir / f".{PROCESS_NAME}.tmp"
    # Unwritten, the search runs all the same: its folder reads as one of an older version.
    with contextlib.suppress(OSError):
        tmp.write_text(json.dumps(record))
        os.replace(tmp, run_dir / PROCESS_NAME)


def recorded_process(run_dir: str | os.PathLike) -> tuple[int, str | None] | None:
    """The search process :func:`record_process` recorded for ``run_dir``.

    Args:
        run_dir: a run folder.

    Returns:
        Its pid and start mark, or None where there is no record (a folder of an older
        version, a search started from the command line), one that cannot be read, or
        one made on another machine.

    Example:
        >>> recorded_process("runs/darts-1")  # doctest: +SKIP
        (4242, 'linux:123456')
    """
    try:
        record = json.loads((Path(run_dir) / PROCESS_NAME).read_text())
        pid, started, host = record["pid"], record.get("started"), record.get("host")
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        return None
    if host != socket.gethostname():
        return None
    return pid, None if started is None else str(started)


def dead_search_process(
    run_dir: str | os.PathLike, process_start: Callable[[int], str | None] = process_start
) -> int | None:
    """The pid of the search process :func:`record_process` recorded for ``run_dir`` when
    that process no longer runs.

    Args:
        run_dir: a run folder.
        process_start: reads a process's start mark (:func:`process_start`, the default).

    Returns:
        The pid, or None while the process runs, or where that cannot be told: no record
        (a folder of an older version, a search started from the command line) or one
        made on another machine.

    Example:
        >>> dead_search_process("runs/darts-1")  # doctest: +SKIP
        4242
    """
    recorded = recorded_process(run_dir)
    if recorded is None:
        return None
    pid, started = recorded
    now = process_start(pid)
    # A start that differs from the recorded one: the pid was given to another process.
    # (Marks of two kinds, /proc's and psutil's, are not comparable: only liveness counts.)
    comparable = bool(started and now) and now.split(":")[0] == str(started).split(":")[0]
    if now is None or (comparable and now != started):
        return pid
    return None


def unstarted_reason(
    run_dir: str | os.PathLike,
    dead_process: Callable[[Path], int | None] = dead_search_process,
) -> str | None:
    """Why a launcher's run folder has no run store yet, as the Runs tab tells it.

    The launcher writes the config and the logs before the search process checks them: a
    folder with the config and no store is a search still loading, one that failed its
    checks (its stderr.log then holds the CLI's one-line error), or one whose process
    ended with no word (killed, out of memory; see :func:`record_process`).

    Args:
        run_dir: the run folder.
        dead_process: tells the folder's recorded search process has ended (its pid) or
            not (None); :func:`dead_search_process`, the default.

    Returns:
        None when the folder holds a run store or no search config, "" while its search
        may still be starting (its process runs, or the folder records none), else the
        search's error, or that its process ended.

    Example:
        >>> unstarted_reason("runs/darts-1")  # doctest: +SKIP
        ''
    """
    folder = Path(run_dir)
    if not (folder / CONFIG_NAME).is_file() or (folder / DB_NAME).exists():
        return None
    errors = [line for line in stderr_tail(folder).splitlines() if _ERROR_MARK in line]
    if errors:
        return errors[-1].split(_ERROR_MARK, 1)[1].strip()
    pid = dead_process(folder)
    if pid is None:
        return ""
    if (folder / DB_NAME).exists():
        return None  # it created its store and ended since the look above
    return (
        f"its process (pid {pid}) ended with no error logged (killed? out of memory?); "
        f"see {STDERR_NAME} in {folder}."
    )


def launched_summary(
    run_dir: str | os.PathLike,
    dead_process: Callable[[Path], int | None] = dead_search_process,
) -> dict[str, Any] | None:
    """One launcher's run folder without a run store, summarised as
    :func:`nasbench.runs.summary.run_summaries` summarises a run.

    Args:
        run_dir: the run folder.
        dead_process: as for :func:`unstarted_reason`.

    Returns:
        run_dir, name, status ("failed" with the reason as its message, else "starting"
        with :data:`STARTING_MESSAGE`), message, dataset, strategy, created (when the
        config was written, seconds since the epoch), best_metric_name (None),
        best_metric (NaN) and writer_alive (False: nothing writes a store yet); None
        for a folder that holds a run store or no search config.

    Example:
        >>> launched_summary("runs/darts-1")["status"]  # doctest: +SKIP
        'starting'
    """
    folder = Path(run_dir)
    reason = unstarted_reason(folder, dead_process)
    if reason is None:
        return None
    config = folder / CONFIG_NAME
    try:  # apart from the parse: a damaged config was written when it was all the same
        created = config.stat().st_mtime
    except OSError:  # removed since: listed all the same
        created = math.nan
    try:
        written = json.loads(config.read_text())
    except (OSError, ValueError):  # hand-edited, or removed since: listed all the same
        written = {}
    written = written if isinstance(written, dict) else {}
    return {
        "run_dir": str(folder),
        "name": folder.name,
        "status": FAILED if reason else STARTING,
        "message": reason or STARTING_MESSAGE,
        "dataset": _name_of(written.get("dataset")),
        "strategy": _name_of(written.get("strategy")),
        "created": created,
        "best_metric_name": None,
        "best_metric": math.nan,
        "writer_alive": False,
    }


def launched_summaries(
    folder: str | os.PathLike,
    dead_process: Callable[[Path], int | None] = dead_search_process,
) -> list[dict[str, Any]]:
    """:func:`launched_summary` of each launcher's folder directly inside ``folder`` whose
    search has not created its run store, in name order.

    Args:
        folder: an existing folder of run folders.
        dead_process: as for :func:`unstarted_reason`.

    Returns:
        One dict per such folder.

    Example:
        >>> launched_summaries("runs")[0]["message"]  # doctest: +SKIP
        'no dataset x; pick another.'
    """
    rows = (launched_summary(child, dead_process) for child in sorted(Path(folder).iterdir()))
    return [row for row in rows if row is not None]


def _name_of(value: Any) -> str | None:
    """A config entry's name: a dataset's is inside its dict, a strategy's is the entry."""
    if isinstance(value, dict):
        value = value.get("name")
    return None if value is None else str(value)
