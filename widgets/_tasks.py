"""Run view work later without blocking the kernel: debounce and periodic polling.

In Jupyter the kernel runs an asyncio loop, so a widget schedules work on it
(``loop.call_later`` / an asyncio task) and the kernel stays free for the next
cell. Without a running loop (plain Python, pytest) nothing runs in the
background: debounced work runs at once and polling is left to the caller
(``RunMonitor.poll_once()``), which keeps tests deterministic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


def running_loop() -> asyncio.AbstractEventLoop | None:
    """Return the running asyncio loop (the kernel's in Jupyter), or None."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class Debouncer:
    """Call a function once, ``delay`` seconds after the last of a burst of triggers.

    Args:
        fn: what to run (no arguments).
        delay: quiet time in seconds before it runs.

    Example:
        >>> calls = []
        >>> d = Debouncer(lambda: calls.append(1), delay=0.3)
        >>> d(); d(); calls  # no running loop: runs at once, each time
        [1, 1]
    """

    def __init__(self, fn: Callable[[], Any], delay: float = 0.4) -> None:
        self.fn = fn
        self.delay = delay
        self._handle: asyncio.TimerHandle | None = None

    def __call__(self) -> None:
        loop = running_loop()
        if loop is None:
            self.fn()
            return
        if self._handle is not None:
            self._handle.cancel()
        self._handle = loop.call_later(self.delay, self._fire)

    def flush(self) -> None:
        """Run a call still waiting for its quiet time now (nothing when none waits).

        Example:
            >>> calls = []
            >>> Debouncer(lambda: calls.append(1)).flush(); calls  # nothing was waiting
            []
        """
        if self._handle is not None:
            self._handle.cancel()
            self._fire()

    def _fire(self) -> None:
        self._handle = None
        self.fn()


class Poller:
    """Call ``fn`` every ``interval`` seconds on the running loop until it returns False.

    Args:
        fn: the poll; returns True to keep polling.
        interval: seconds between polls.

    Example:
        >>> poller = Poller(monitor.poll_once_and_continue, 1.0)  # doctest: +SKIP
        >>> poller.start()  # doctest: +SKIP
    """

    def __init__(self, fn: Callable[[], bool], interval: float = 1.0) -> None:
        self.fn = fn
        self.interval = interval
        self._task: asyncio.Task | None = None

    @property
    def active(self) -> bool:
        """True while a polling task is scheduled."""
        return self._task is not None and not self._task.done()

    def start(self) -> bool:
        """Start polling on the running loop; return False when there is none."""
        loop = running_loop()
        if loop is None:
            return False
        self.stop()
        self._task = loop.create_task(self._run())
        return True

    def stop(self) -> None:
        """Cancel the polling task (idempotent)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if not self.fn():
                break
