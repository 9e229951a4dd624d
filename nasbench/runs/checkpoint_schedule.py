"""When a running search writes its next checkpoint between steps.

``checkpoint_every`` is a number of steps (N: after every Nth step; 0: only at epoch
ends) or ``"auto"``, the default: after a step once the time since the last write has
reached ``AUTO_RATIO`` times what that write took, so the writes cost at most about
1/``AUTO_RATIO`` of the run. A write is ``torch.save`` plus two fsyncs: where a step
takes 20 writes or more (a large supernet on a CPU) "auto" writes after every step; a
quickstart step on a quiet CPU (about 1 s against a 70 ms write) gets one every second
step; on a GPU, or for a tiny supernet, where a step can be shorter than the write, it
writes every several steps instead of doubling the search's time. A kill loses
the steps since the last write, which ``resume`` redoes: the run's rows end the same
either way, only the time spent differs.

Example:
    >>> schedule = CheckpointSchedule(2)
    >>> [schedule.due(step) for step in (1, 2, 3, 4)]
    [False, True, False, True]
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

AUTO = "auto"
# Seconds of search per second of checkpoint writing under "auto": writes take <= ~5%.
AUTO_RATIO = 20.0


class CheckpointSchedule:
    """Decides after each step whether the loop writes a checkpoint now.

    Args:
        every: ``checkpoint_every`` from the config: an integer >= 0 or ``"auto"``.
        clock: seconds, monotonic (a fake one in tests).

    Example:
        >>> ticks = iter([0.0, 0.1, 0.5, 1.0, 2.2])
        >>> schedule = CheckpointSchedule("auto", clock=lambda: next(ticks))
        >>> schedule.due(1)  # nothing written yet in this process: write now
        True
        >>> with schedule.writing():  # from 0.0 to 0.1: a 0.1 s write
        ...     pass
        >>> schedule.due(2), schedule.due(3)  # 0.4 s, then 0.9 s since it ended
        (False, False)
        >>> schedule.due(4)  # 2.1 s since: past 0.1 s x AUTO_RATIO
        True
    """

    def __init__(self, every: int | str, clock: Callable[[], float] = time.perf_counter) -> None:
        self.every = every
        self.clock = clock
        self._last_end: float | None = None
        self._last_write_s = 0.0

    def due(self, step: int) -> bool:
        """Whether to write a checkpoint after global step ``step`` (1-based)."""
        if self.every == AUTO:
            if self._last_end is None:
                return True  # measures what a write costs on this machine
            return self.clock() - self._last_end >= AUTO_RATIO * self._last_write_s
        return bool(self.every) and step % int(self.every) == 0

    def seconds_per_step(self, step_s: float) -> float:
        """What the writes add to each step on average, for steps of ``step_s`` seconds and
        writes as long as the last one (0 before one is measured): a time budget counts it.

        Example:
            >>> ticks = iter([0.0, 0.5])
            >>> schedule = CheckpointSchedule("auto", clock=lambda: next(ticks))
            >>> with schedule.writing():  # a 0.5 s write: "auto" waits 10 s for the next
            ...     pass
            >>> schedule.seconds_per_step(2.0)  # every 5th step of 2 s: 0.5 s / 5
            0.1
        """
        write_s = self._last_write_s
        if self.every == AUTO:
            steps_between = max(1, math.ceil(AUTO_RATIO * write_s / max(step_s, 1e-9)))
            return write_s / steps_between
        return write_s / int(self.every) if self.every else 0.0

    @property
    def last_write_s(self) -> float:
        """Seconds the last completed write took (0 before the first)."""
        return self._last_write_s

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Time a checkpoint write (any write: a step's, an epoch end's, a stop's). A write
        that raises is not counted, so the next step tries again."""
        started = self.clock()
        yield
        self._last_end = self.clock()
        self._last_write_s = self._last_end - started
