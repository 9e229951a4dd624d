"""Run view work later without blocking the kernel: debounce and periodic polling.

In Jupyter the kernel runs an asyncio loop, so a widget schedules work on it
(``loop.call_later`` / an asyncio task) and the kernel stays free for the next
cell. Without a running loop (plain Python, pytest) nothing runs in the
background: debounced work runs at once and polling is left to the caller
(``RunMonitor.poll_once()``), which keeps tests deterministic.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import numbers
from collections.abc import Callable
from typing import Any

from nasbench.errors import ConfigError

# Work a view runs in a worker thread (a network built to count its costs). Building a
# network seeds and restores torch's global generator (fork_rng, manual_seed), which the
# notebook's own code shares: a cell that drew random numbers meanwhile would get others.
# So a cell waits for these to finish before it runs (an IPython pre_run_cell hook).
_WORKER = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="nasbench")
_IN_FLIGHT: set[concurrent.futures.Future] = set()
CELL_WAIT_S = 60.0  # the longest a cell waits for a measurement (a big 3D supernet)
_hooked = False


def off_loop(loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(*args)`` in the views' worker thread; an asyncio future of its result.

    The next notebook cell waits for it to finish (see :func:`wait_for_workers`), so
    work that touches torch's global random state never overlaps a cell's own draws.

    Args:
        loop: the kernel's running loop.
        fn: the work.
        *args: its arguments.

    Returns:
        An ``asyncio.Future`` on ``loop``.
    """
    return asyncio.wrap_future(submit_work(fn, *args), loop=loop)


def submit_work(fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future:
    """Run ``fn(*args)`` in the views' worker thread; a ``concurrent.futures.Future``.

    What :func:`off_loop` wraps for the loop. A view that must hand a result to code
    running on the loop's own thread (a property a notebook cell reads) keeps this future
    and waits on it there, as the loop cannot deliver its callback while the cell runs.

    Args:
        fn: the work.
        *args: its arguments.

    Returns:
        The future of its result; the next notebook cell waits for it.

    Example:
        >>> submit_work(sum, [1, 2]).result()
        3
    """
    _hook_cells()
    future = _WORKER.submit(fn, *args)
    _IN_FLIGHT.add(future)
    future.add_done_callback(_IN_FLIGHT.discard)
    return future


def wait_for_workers(*_: Any) -> None:
    """Block until the views' worker-thread work is done (at most ``CELL_WAIT_S``): the
    pre_run_cell hook, so a cell starts with torch's random state its own."""
    if _IN_FLIGHT:
        concurrent.futures.wait(list(_IN_FLIGHT), timeout=CELL_WAIT_S)


def _hook_cells() -> None:
    """Register :func:`wait_for_workers` to run before every cell (once, in IPython)."""
    global _hooked
    if _hooked:
        return
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        shell.events.register("pre_run_cell", wait_for_workers)
        _hooked = True


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
        interval: seconds between polls (a positive number).

    Raises:
        ConfigError: ``interval`` is not a positive, finite number.

    Example:
        >>> poller = Poller(monitor.poll_once_and_continue, 1.0)  # doctest: +SKIP
        >>> poller.start()  # doctest: +SKIP
    """

    def __init__(self, fn: Callable[[], bool], interval: float = 1.0) -> None:
        # 0, a negative number or NaN does not wait at all: the poll would run thousands
        # of times a second and starve the kernel.
        real = isinstance(interval, numbers.Real) and not isinstance(interval, bool)
        if not (real and math.isfinite(interval) and interval > 0):
            raise ConfigError(
                f"interval must be a positive number of seconds, got {interval!r}; "
                "pass e.g. interval=1.0."
            )
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
