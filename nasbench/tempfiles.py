"""Temporary files of atomic writes, and the ones killed writes leave behind.

A file that must never be seen half-written (a report, a benchmark table, an extracted
dataset folder) is written under a hidden temporary name in its own folder, then renamed
into place. A writer killed outright (SIGKILL, the out-of-memory killer) runs no cleanup,
so the temporary name carries the writer's pid: a later write of the same target removes
the temporaries of writers that no longer run, and never a live writer's.
"""

from __future__ import annotations

import glob
import os
import re
import time
from pathlib import Path

# A temporary's tail after ``.<name>.``: ``<pid>.<8 random>.tmp`` (earlier versions: no pid).
_TEMP_TAIL = re.compile(r"(?:(\d+)\.)?[a-z0-9_]{8}\.tmp")
# A temporary without a pid older than this was left by a killed write (a write takes seconds).
STALE_TEMP_SECONDS = 600


def temp_prefix(target: str | os.PathLike) -> str:
    """The prefix of this process's temporary names for ``target`` (``tempfile``'s
    ``prefix=``, with ``suffix=".tmp"`` and ``dir=`` the target's folder).

    Args:
        target: the file the write will rename its temporary to.

    Returns:
        ``.<name>.<pid>.``

    Example:
        >>> temp_prefix("runs/x/report.html").startswith(".report.html.")
        True
    """
    return f".{Path(target).name}.{os.getpid()}."


def remove_stale_temps(target: str | os.PathLike) -> None:
    """Remove the temporaries that killed writes of ``target`` left: a gone writer's, or
    one without a pid (earlier versions) older than :data:`STALE_TEMP_SECONDS`. A live
    writer's and other targets' temporaries are kept; one that cannot be removed stays.

    Args:
        target: the file about to be written.

    Example:
        >>> remove_stale_temps("runs/x/report.html")  # doctest: +SKIP
    """
    target = Path(target)
    prefix = f".{target.name}."
    for tmp in target.parent.glob(glob.escape(prefix) + "*.tmp"):
        found = _TEMP_TAIL.fullmatch(tmp.name[len(prefix) :])
        if found is None:  # another target's temporary (``.<name>.x.html...``)
            continue
        try:
            if found.group(1) is None:
                stale = time.time() - tmp.stat().st_mtime > STALE_TEMP_SECONDS
            else:
                stale = process_gone(int(found.group(1)))
            if stale:
                tmp.unlink()
        except OSError:  # gone already, or not ours to remove: the write goes on
            pass


def process_gone(pid: int) -> bool:
    """Whether no process ``pid`` runs on this machine.

    Args:
        pid: a process id.

    Returns:
        True when none runs; False while one does or where that cannot be told (Windows,
        where ``os.kill(pid, 0)`` would end the process rather than probe it).

    Example:
        >>> process_gone(os.getpid())
        False
    """
    if os.name != "posix":
        return False
    try:
        os.kill(pid, 0)  # signal 0: only whether the pid exists
    except ProcessLookupError:
        return True
    except OSError:  # another user's process
        return False
    return False
