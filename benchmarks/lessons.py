"""Wall seconds of each lesson in QUICK mode against the course's 3-minute promise.

Each lesson (``notebooks/[0-9][0-9]_*.ipynb``) runs headless exactly as
``tests/notebooks`` runs it: the harness of ``tests/notebooks/conftest.py`` (imported, not
copied) injects ``QUICK = True`` and a ``RUN_ROOT`` in a temporary folder, fills the
exercise cells with the reference answers of ``tests/notebooks/answers`` and executes the
notebook with nbclient, a fresh kernel per lesson. Per lesson it prints the wall seconds
(kernel start included), the promise (180 s) and whether the lesson kept it, the slowest
cell (its index in the ``.ipynb``, its first line and its seconds, read from the
execution timing nbclient records in the cell metadata), and the lesson's seconds over a
baseline: a fixed small torch workload timed in this process at the start and at the
end of the same run, so figures from a loaded or a faster machine compare.

A lesson over the promise is reported, not failed: the exit status is 1 only when a lesson
does not execute (a cell raised, the kernel died or a cell timed out).

Usage::

    python benchmarks/lessons.py                     # every lesson, ~10-15 minutes on 2 cores
    python benchmarks/lessons.py --lessons 04 13     # lessons whose names start with 04, 13
    python benchmarks/lessons.py --promise 120 --baseline-repeats 9
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch starts its threads

import argparse  # noqa: E402
import contextlib  # noqa: E402
import datetime  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _script import positive_number, run_main  # noqa: E402

from tests.notebooks.conftest import (  # noqa: E402
    NOTEBOOKS,
    execute_lesson,
    reference_answers,
)

# The signal that stopped the run (Ctrl-C or SIGTERM), None while it runs: nbclient turns
# the KeyboardInterrupt raised in it into an error of the lesson, which is then no failure.
STOPPED: dict[str, int | None] = {"signal": None}

PROMISE_S = 180.0  # the course's promise: a lesson's QUICK mode runs in under 3 minutes
INJECTED_TAG = "injected-parameters"  # the harness's cell, not part of the lesson file


@dataclass(frozen=True)
class SlowCell:
    """The cell of a lesson that ran longest.

    Attributes:
        index: its position in the lesson's ``.ipynb`` (0-based, every cell counted, the
            harness's injected cell not).
        first_line: its first non-blank source line.
        seconds: from ``iopub.execute_input`` to ``shell.execute_reply``.
    """

    index: int
    first_line: str
    seconds: float


@dataclass(frozen=True)
class LessonResult:
    """One lesson's run: ``error`` is empty when every cell executed."""

    stem: str
    wall_s: float
    slowest: SlowCell | None
    error: str = ""


def _parse_stamp(stamp: str) -> datetime.datetime:
    # nbclient writes "%Y-%m-%dT%H:%M:%S.%fZ"; fromisoformat reads the "Z" from Python 3.11
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def cell_seconds(cell: dict) -> float | None:
    """Seconds the kernel spent on ``cell``, from nbclient's recorded execution timing.

    Args:
        cell: a code cell of a notebook executed by nbclient (``record_timing`` on, the
            default); its ``metadata.execution`` holds ISO time stamps.

    Returns:
        ``shell.execute_reply - iopub.execute_input`` (the busy/idle status stamps when
        those are missing), or None for a cell without timing (markdown, not run).

    Example:
        >>> cell_seconds({"metadata": {"execution": {
        ...     "iopub.execute_input": "2026-01-01T00:00:01.000000Z",
        ...     "shell.execute_reply": "2026-01-01T00:00:03.500000Z"}}})
        2.5
    """
    stamps = cell.get("metadata", {}).get("execution", {})
    for start, end in (
        ("iopub.execute_input", "shell.execute_reply"),
        ("iopub.status.busy", "iopub.status.idle"),
    ):
        if start in stamps and end in stamps:
            return (_parse_stamp(stamps[end]) - _parse_stamp(stamps[start])).total_seconds()
    return None


def slowest_cell(nb: dict) -> SlowCell | None:
    """The code cell of executed notebook ``nb`` that took longest (None: no timed cell).

    Args:
        nb: a notebook executed by the harness (it may hold its injected parameters cell,
            which is skipped and not counted in the index).

    Returns:
        A :class:`SlowCell` whose index is the cell's position in the lesson file.

    Example:
        >>> stamp = "2026-01-01T00:00:0{}.000000Z".format
        >>> timed = lambda s: {"cell_type": "code", "source": "x = 1\\ny = 2",
        ...     "metadata": {"execution": {"iopub.execute_input": stamp(0),
        ...                                "shell.execute_reply": stamp(s)}}}
        >>> slowest_cell({"cells": [{"cell_type": "markdown", "source": "# A"},
        ...                         timed(1), timed(4)]})
        SlowCell(index=2, first_line='x = 1', seconds=4.0)
    """
    best: SlowCell | None = None
    index = 0
    for cell in nb["cells"]:
        if INJECTED_TAG in cell.get("metadata", {}).get("tags", []):
            continue  # not in the lesson file: the indices after it would be off by one
        seconds = cell_seconds(cell) if cell.get("cell_type") == "code" else None
        if seconds is not None and (best is None or seconds > best.seconds):
            lines = [line.strip() for line in cell.get("source", "").splitlines()]
            best = SlowCell(index, next((line for line in lines if line), ""), seconds)
        index += 1
    return best


def baseline_seconds(repeats: int = 5) -> float:
    """Median wall seconds of a fixed small torch workload: this machine's speed now.

    The workload: 10 forward + backward passes of two 3x3 convs (16 channels) on a seeded
    batch of 32 images of 32 x 32 (about 0.3 s on 2 cores), in this process with torch's
    current thread count.

    Args:
        repeats: how many times it is timed (the median is returned); at least 1.

    Returns:
        Seconds, the median of ``repeats`` timings after one untimed warm-up.

    Example:
        >>> baseline_seconds(1) > 0
        True
    """
    import torch

    if repeats < 1:
        raise ValueError(f"baseline repeats must be at least 1, not {repeats}; pass 1 or more.")
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(32, 16, 32, 32, generator=generator)
    w1 = torch.randn(16, 16, 3, 3, generator=generator).requires_grad_()
    w2 = torch.randn(16, 16, 3, 3, generator=generator).requires_grad_()

    def workload() -> None:
        for _ in range(10):
            out = torch.conv2d(torch.conv2d(x, w1, padding=1).relu(), w2, padding=1)
            out.square().mean().backward()

    workload()  # warm-up: oneDNN builds its kernels on the first call
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        workload()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run_lesson(path: Path, folder: Path) -> LessonResult:
    """Execute lesson ``path`` as the tests do (QUICK, reference answers) and time it.

    Args:
        path: the lesson's ``.ipynb``.
        folder: an empty folder for its run stores and data cache.

    Returns:
        The wall seconds (kernel start included), the slowest cell, and the error (its
        name and message, one line) when the lesson did not execute.
    """
    started = time.perf_counter()
    try:
        nb = execute_lesson(path, folder, answers=reference_answers(path.stem))
    except Exception as err:  # noqa: BLE001 - a failed lesson is reported, the others still run
        if STOPPED["signal"] is not None:  # interrupted, not failed: stop the whole run
            raise KeyboardInterrupt from err
        name = getattr(err, "ename", "") or type(err).__name__
        message = getattr(err, "evalue", "") or str(err)
        first = next((line for line in message.splitlines() if line.strip()), "")
        return LessonResult(path.stem, time.perf_counter() - started, None, f"{name}: {first}")
    return LessonResult(path.stem, time.perf_counter() - started, slowest_cell(nb))


def report_line(result: LessonResult, baseline_s: float, promise_s: float = PROMISE_S) -> str:
    """One lesson's line of the report.

    Args:
        result: the lesson's run.
        baseline_s: the baseline workload's seconds in the same run.
        promise_s: the promised wall seconds of a lesson.

    Returns:
        The lesson, its wall seconds, ``pass`` (under ``promise_s``) or ``OVER``, its wall
        seconds over the baseline's, and its slowest cell (index: seconds, first line);
        or ``FAILED`` and the error of a lesson that did not execute.

    Example:
        >>> cell = SlowCell(7, "nasbench.search(config)", 61.24)
        >>> print(report_line(LessonResult("04_darts", 95.31, cell), 0.25))
        04_darts                   95.3 s  pass    381x  cell 7: 61.2 s  nasbench.search(config)
    """
    head = f"{result.stem:<24} {result.wall_s:6.1f} s"
    if result.error:
        return f"{head}  FAILED  {result.error}"
    verdict = "pass" if result.wall_s < promise_s else "OVER"
    line = f"{head}  {verdict:<4} {result.wall_s / baseline_s:6.0f}x"
    if result.slowest is not None:
        cell = result.slowest
        text = cell.first_line if len(cell.first_line) <= 50 else cell.first_line[:49] + "…"
        line += f"  cell {cell.index}: {cell.seconds:.1f} s  {text}"
    return line


def choose_lessons(prefixes: Sequence[str] | None, folder: Path = NOTEBOOKS) -> list[Path]:
    """The lessons of ``folder`` whose names start with one of ``prefixes`` (None: all).

    Raises:
        ValueError: a prefix that names no lesson (the message lists the lessons).
    """
    lessons = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if not lessons:
        raise ValueError(f"no lessons (NN_*.ipynb) in {folder}; pass a folder of notebooks.")
    if not prefixes:
        return lessons
    unknown = [p for p in prefixes if not any(path.stem.startswith(p) for path in lessons)]
    if unknown:
        names = " ".join(path.stem[:2] for path in lessons)
        raise ValueError(f"no lesson {' '.join(unknown)} in {folder}; choose from {names}.")
    return [path for path in lessons if any(path.stem.startswith(p) for p in prefixes)]


def _stop(signum: int, frame: object) -> None:
    """Ctrl-C and SIGTERM: remember the signal and stop (KeyboardInterrupt) at once."""
    STOPPED["signal"] = signum
    raise KeyboardInterrupt


@contextlib.contextmanager
def stopping_on_signals():
    """Within: SIGINT and SIGTERM raise KeyboardInterrupt, recorded in :data:`STOPPED`
    (a lesson interrupted is not reported as failed); the old handlers come back after."""
    STOPPED["signal"] = None
    signals = (signal.SIGINT, signal.SIGTERM)
    try:
        old = {sig: signal.signal(sig, _stop) for sig in signals}
    except ValueError:  # not the main thread: signals are not ours to take
        yield
        return
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--lessons", nargs="+", metavar="NN", help="lesson numbers (name prefixes); default all"
    )
    parser.add_argument(
        "--promise",
        type=positive_number,
        default=PROMISE_S,
        help="promised wall seconds per lesson",
    )
    parser.add_argument(
        "--baseline-repeats", type=int, default=5, help="timings of the baseline at each end"
    )
    parser.add_argument(
        "--notebooks", type=Path, default=NOTEBOOKS, help="folder of the lessons (notebooks/)"
    )
    args = parser.parse_args(argv)
    if args.lessons is not None and not all(prefix.strip() for prefix in args.lessons):
        parser.error("--lessons names an empty lesson number; give numbers such as 04 13")
    if args.baseline_repeats < 1:
        parser.error(f"--baseline-repeats must be at least 1, not {args.baseline_repeats}.")
    try:
        lessons = choose_lessons(args.lessons, args.notebooks)
    except ValueError as err:
        parser.error(str(err))

    import torch

    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {os.cpu_count()} "
        f"CPU(s), load average {load} (1, 5, 15 min); promise {args.promise:g} s a lesson"
    )
    with stopping_on_signals():
        return _run(args, lessons)


def _run(args: argparse.Namespace, lessons: list[Path]) -> int:
    """Time the baseline, every lesson, the baseline again; print the report."""
    before = baseline_seconds(args.baseline_repeats)
    print(f"baseline (fixed torch workload) at the start: {before:.4f} s")
    results = []
    with tempfile.TemporaryDirectory(prefix="nasbench-lessons-") as tmp:
        for path in lessons:
            folder = Path(tmp) / path.stem
            folder.mkdir()
            results.append(run_lesson(path, folder))
            note = f"; FAILED {results[-1].error}" if results[-1].error else ""
            print(f"  ran {path.stem}: {results[-1].wall_s:.1f} s{note}", flush=True)
    after = baseline_seconds(args.baseline_repeats)
    baseline = (before + after) / 2
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(
        f"baseline at the end: {after:.4f} s (end / start {after / before:.2f}); "
        f"ratios use the mean, {baseline:.4f} s; load average now {load}"
    )
    print(f"{'lesson':<24} {'wall':>8}  {args.promise:g} s  / base  slowest cell")
    for result in results:
        print(report_line(result, baseline, args.promise))
    over = [r.stem for r in results if not r.error and r.wall_s >= args.promise]
    failed = [r.stem for r in results if r.error]
    total = sum(r.wall_s for r in results)
    print(
        f"{len(results)} lesson(s) in {total:.0f} s: {len(over)} over the promise"
        f"{' (' + ', '.join(over) + ')' if over else ''}, {len(failed)} failed to execute"
        f"{' (' + ', '.join(failed) + ')' if failed else ''}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run_main(main))
