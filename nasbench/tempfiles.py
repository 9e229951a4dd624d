"""Temporary files of atomic writes, and the ones killed writes leave behind.

A file that must never be seen half-written (a report, a benchmark table, an extracted
dataset folder) is written under a hidden temporary name in its own folder, then renamed
into place. A writer killed outright (SIGKILL, the out-of-memory killer) runs no cleanup,
so the temporary name carries a writer tag, the writer's pid and a digest of its machine's
name: a later write of the same target removes the temporaries of this machine's writers
that no longer run, never a live writer's. Another machine's (a folder shared over NFS,
another container's process namespace), or where processes cannot be probed (Windows),
goes only once older than a write could take.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

# A writer tag: ``<pid>-<8 hex of the machine's name>``.
WRITER_TAG = r"\d+-[0-9a-f]{8}"
# A temporary's tail after ``.<name>.``: ``<tag>.<8 random>.tmp`` (earlier versions: no tag).
_TEMP_TAIL = re.compile(rf"(?:({WRITER_TAG})\.)?[a-z0-9_]{{8}}\.tmp")
# A temporary whose writer cannot be probed, older than this, was left by a killed write
# (a write takes seconds).
STALE_TEMP_SECONDS = 600


def writer_tag() -> str:
    """This process's tag in temporary names: its pid and a digest of its machine's name
    (a pid means nothing on another machine or in another container).

    Returns:
        ``<pid>-<8 hex>``.

    Example:
        >>> writer_tag().startswith(f"{os.getpid()}-")
        True
    """
    host = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]
    return f"{os.getpid()}-{host}"


def writer_gone(tag: str) -> bool | None:
    """Whether the writer a :func:`writer_tag` names no longer runs.

    Args:
        tag: a writer tag.

    Returns:
        True when it was this machine's and has ended; False while it runs; None where
        that cannot be told (another machine's, not a tag, or no way to probe).

    Example:
        >>> writer_gone(writer_tag())
        False
    """
    pid, _, host = tag.partition("-")
    if not pid.isdigit() or host != writer_tag().partition("-")[2]:
        return None
    return process_gone(int(pid))


def temp_prefix(target: str | os.PathLike) -> str:
    """The prefix of this process's temporary names for ``target`` (``tempfile``'s
    ``prefix=``, with ``suffix=".tmp"`` and ``dir=`` the target's folder).

    Args:
        target: the file the write will rename its temporary to.

    Returns:
        ``.<name>.<writer tag>.``

    Example:
        >>> temp_prefix("runs/x/report.html").startswith(".report.html.")
        True
    """
    return f".{Path(target).name}.{writer_tag()}."


def write_atomically(
    target: str | os.PathLike, write: Callable[[IO[Any]], Any], *, text: bool = False
) -> Path:
    """Write ``target`` whole or not at all: ``write`` fills a temporary in its folder,
    which takes the target's name once closed (a kill mid-write leaves the previous file
    whole), rw-r--r-- under the umask, as a plainly written file. Killed writes'
    temporaries of the target are removed first (:func:`remove_stale_temps`).

    Args:
        target: the file to write; its folder must exist.
        write: called with the open temporary (binary, or UTF-8 text with ``text``).
        text: open it as text.

    Returns:
        ``target``, as a Path.

    Example:
        >>> write_atomically("runs/x/a.json", lambda f: f.write("{}"), text=True)  # doctest: +SKIP
    """
    target = Path(target)
    remove_stale_temps(target)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(target), suffix=".tmp", dir=target.parent)
    try:
        with open(fd, "w" if text else "wb", encoding="utf-8" if text else None) as handle:
            write(handle)
        umask = os.umask(0)  # mkstemp makes rw-------
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def remove_stale_temps(target: str | os.PathLike) -> None:
    """Remove the temporaries that killed writes of ``target`` left: a gone writer's of
    this machine, or, older than :data:`STALE_TEMP_SECONDS`, one whose writer cannot be
    probed (another machine's, an earlier version's without a tag, Windows). A live
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
            gone = None if found.group(1) is None else writer_gone(found.group(1))
            if gone is None:
                gone = time.time() - tmp.stat().st_mtime > STALE_TEMP_SECONDS
            if gone:
                tmp.unlink()
        except OSError:  # gone already, or not ours to remove: the write goes on
            pass


def process_gone(pid: int) -> bool | None:
    """Whether no process ``pid`` runs on this machine.

    Args:
        pid: a process id.

    Returns:
        True when none runs; False while one does; None where that cannot be told
        (Windows, where ``os.kill(pid, 0)`` would end the process rather than probe it).

    Example:
        >>> process_gone(os.getpid())
        False
    """
    if os.name != "posix":
        return None
    try:
        os.kill(pid, 0)  # signal 0: only whether the pid exists
    except ProcessLookupError:
        return True
    except OSError:  # another user's process
        return False
    return False
