"""When the search loops write a checkpoint between steps (``checkpoint_every``)."""

from __future__ import annotations

import pytest

from nasbench.runs import checkpoint_schedule
from nasbench.runs.checkpoint_schedule import AUTO, AUTO_RATIO, CheckpointSchedule


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("every", "due_steps"), [(1, [1, 2, 3, 4, 5, 6]), (2, [2, 4, 6]), (3, [3, 6]), (0, [])]
)
def test_a_step_count_writes_after_every_nth_step(every, due_steps):
    schedule = CheckpointSchedule(every)
    assert [step for step in range(1, 7) if schedule.due(step)] == due_steps


def test_auto_writes_first_then_waits_ratio_times_the_last_write():
    clock = FakeClock()
    schedule = CheckpointSchedule(AUTO, clock=clock)
    assert schedule.due(1)  # no write measured yet in this process
    with schedule.writing():
        clock.now += 0.5  # a half-second write
    assert schedule.last_write_s == 0.5
    clock.now += 0.5 * AUTO_RATIO - 0.01
    assert not schedule.due(2)
    clock.now += 0.02
    assert schedule.due(3)


def test_auto_counts_from_the_end_of_any_write_and_follows_its_duration():
    clock = FakeClock()
    schedule = CheckpointSchedule(AUTO, clock=clock)
    with schedule.writing():  # e.g. an epoch end's write
        clock.now += 0.1
    clock.now += 0.1 * AUTO_RATIO
    assert schedule.due(5)
    with schedule.writing():  # a slower disk now: 1 s
        clock.now += 1.0
    clock.now += 0.1 * AUTO_RATIO  # enough after a 0.1 s write, not after a 1 s one
    assert not schedule.due(6)
    clock.now += 1.0 * AUTO_RATIO
    assert schedule.due(7)


def test_a_write_that_raises_is_not_counted(monkeypatch):
    clock = FakeClock()
    schedule = CheckpointSchedule(AUTO, clock=clock)
    with pytest.raises(OSError), schedule.writing():
        raise OSError("disk full")
    assert schedule.due(1)  # still nothing written: the next step tries again


def test_the_ratio_is_read_when_deciding(monkeypatch):
    clock = FakeClock()
    schedule = CheckpointSchedule(AUTO, clock=clock)
    with schedule.writing():
        clock.now += 1.0
    clock.now += 1.0
    monkeypatch.setattr(checkpoint_schedule, "AUTO_RATIO", 0.5)
    assert schedule.due(2)
    monkeypatch.setattr(checkpoint_schedule, "AUTO_RATIO", 2.0)
    assert not schedule.due(2)


@pytest.mark.parametrize(
    ("every", "write_s", "step_s", "expected"),
    [
        (1, 0.2, 1.0, 0.2),  # a write after every step
        (4, 0.2, 1.0, 0.05),
        (0, 0.2, 1.0, 0.0),  # epoch ends only
        (AUTO, 0.2, 1.5, 0.2 / 3),  # 4 s between writes: every 3rd 1.5 s step
        (AUTO, 0.2, 5.0, 0.2),  # steps longer than 20 writes: every step
        (AUTO, 0.0, 1.0, 0.0),  # nothing measured yet
    ],
)
def test_seconds_per_step_is_the_write_spread_over_the_steps_between(
    every, write_s, step_s, expected
):
    clock = FakeClock()
    schedule = CheckpointSchedule(every, clock=clock)
    if write_s:
        with schedule.writing():
            clock.now += write_s
    assert schedule.seconds_per_step(step_s) == pytest.approx(expected)


def test_auto_keeps_the_writes_near_one_part_in_auto_ratio():
    clock = FakeClock()
    schedule = CheckpointSchedule(AUTO, clock=clock)
    with schedule.writing():
        clock.now += 0.05
    for step_s in (0.01, 0.1, 0.33, 1.0):
        share = schedule.seconds_per_step(step_s) / step_s
        assert share <= 1 / AUTO_RATIO + 1e-12
