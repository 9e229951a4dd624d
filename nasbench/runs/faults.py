"""Fault injection for the kill-anywhere tests: die at a named point of a search.

``NASBENCH_FAULT="<point>:<n>"`` makes the process SIGKILL itself the ``n``-th time
(counting from 1) it reaches ``point``. The points are ``step`` (a step's rows are
committed, its checkpoint not yet written), ``epoch_end`` (an epoch's validation rows
are committed), ``checkpoint_write`` (the temporary checkpoint file is written, not yet
renamed) and ``checkpoint_rotate`` (``last.pt`` became ``prev.pt``, the new one is not
yet in place). Unset, a point costs one dictionary lookup.

Example:
    >>> fault_point("step")  # no NASBENCH_FAULT: nothing happens
"""

from __future__ import annotations

import os
import signal

ENV = "NASBENCH_FAULT"
_reached: dict[str, int] = {}


def fault_point(name: str) -> None:
    """Count a pass through point ``name``; SIGKILL this process if ``NASBENCH_FAULT`` says so.

    Args:
        name: the point (``step``, ``epoch_end``, ``checkpoint_write``, ``checkpoint_rotate``).

    Returns:
        None (or never, when the process is killed).
    """
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    point, _, count = wanted.partition(":")
    if point != name:
        return
    _reached[name] = _reached.get(name, 0) + 1
    if str(_reached[name]) == count:
        os.kill(os.getpid(), signal.SIGKILL)
