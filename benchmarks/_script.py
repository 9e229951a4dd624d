"""What every benchmark script shares at its edges: its arguments checked before it
measures anything, its errors said in one line, and its output files written whole.

A benchmark runs for minutes to hours; an output path it cannot write, found only when
it is done, loses the run. So an output flag is checked as the arguments are parsed
(:func:`output_file`), counts are checked there too (:func:`count`), the project's own
one-line errors are printed as ``<script>: error: <message>`` with exit status 2
(:func:`run_main`), and a file is written under a temporary name and renamed into place
(:func:`write_text`), as the project's run store and reports are.

Scripts import it as a sibling (``python benchmarks/<name>.py`` puts this folder first
on ``sys.path``; the tests' ``load_benchmark`` does the same).

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="demo.py")
    >>> _ = parser.add_argument("--steps", type=count(1), default=3)
    >>> parser.parse_args(["--steps", "2"]).steps
    2
"""

from __future__ import annotations

import argparse
import errno
import json
import math
import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from nasbench.errors import NasbenchError
from nasbench.tempfiles import write_atomically


def count(least: int = 1) -> Callable[[str], int]:
    """An argparse ``type`` for a whole number of at least ``least`` (steps, seeds,
    repeats): ``0``, ``-1`` or ``abc`` is a usage error at parse time.

    Args:
        least: the smallest value that makes sense.

    Returns:
        The converter.

    Example:
        >>> count(1)("4")
        4
    """

    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"must be at least {least}, got {value}")
        return value

    return convert


def refuse_failing(
    parser: argparse.ArgumentParser, checks: Iterable[tuple[str, Callable[[], Any]]]
) -> None:
    """Run each ``(flag, check)``; the first whose check raises the project's error is a
    usage error, ``<flag>: <its one line>`` (an unknown strategy, dataset or device named
    before any search starts).

    Args:
        parser: the script's parser (its ``error`` exits with status 2).
        checks: flag names and the calls that look their values up.

    Example:
        >>> refuse_failing(argparse.ArgumentParser(), [("--n", lambda: 1)])
    """
    for flag, check in checks:
        try:
            check()
        except NasbenchError as err:
            parser.error(f"{flag}: {' '.join(str(err).split())}")


def refuse_unoffered_size(parser: argparse.ArgumentParser, dataset: str, size: int) -> None:
    """A usage error for a ``--size`` that ``dataset`` does not come in.

    Args:
        parser: the script's parser.
        dataset: the registry name.
        size: the size asked for.

    Example:
        >>> refuse_unoffered_size(argparse.ArgumentParser(), "synthetic", 28)
    """
    from nasbench.data import get_info

    sizes = get_info(dataset).sizes
    if size not in sizes:
        parser.error(f"--size {size} is not offered by {dataset}; use one of {list(sizes)}")


def positive_number(text: str) -> float:
    """An argparse ``type`` for a finite number above 0 (seconds, a learning rate).

    Example:
        >>> positive_number("0.5")
        0.5
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, got {text}")
    return value


def output_file(text: str) -> Path:
    """An argparse ``type`` for a file the script writes when it is done: refused at
    parse time when it is empty, a folder, or in a folder that cannot be made or written.

    The folder is not made here (a run refused later leaves nothing behind); only that
    it could be.

    Args:
        text: the path given.

    Returns:
        The path, ``~`` expanded.

    Example:
        >>> output_file("/tmp/figures.json").name
        'figures.json'
    """
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty; give a file name")
    path = Path(text).expanduser()
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a folder; give a file name in it")
    folder = next((p for p in (path.parent, *path.parent.parents) if p.exists()), None)
    if folder is None or not folder.is_dir():
        where = f"{folder} is a file, not a folder" if folder is not None else "no such folder"
        raise argparse.ArgumentTypeError(f"cannot write {path} ({where})")
    try:  # a file made and gone: os.access says yes to root even where nothing can be made
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        reason = "is not writable" if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS) else (
            f"cannot hold files: {err.strerror}"
        )  # fmt: skip
        raise argparse.ArgumentTypeError(f"cannot write {path} ({folder} {reason})") from None
    return path


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` whole or not at all, making its folder first.

    Args:
        path: the file.
        text: its content (UTF-8).

    Returns:
        The path.

    Example:
        >>> write_text("/tmp/nasbench-doc/out.txt", "ok").read_text()
        'ok'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomically(path, lambda handle: handle.write(text), text=True)


def write_json(path: str | os.PathLike, value: Any) -> Path:
    """Write ``value`` as strict JSON (NaN and infinities as null, which JSON readers
    accept), whole or not at all.

    Example:
        >>> write_json("/tmp/nasbench-doc/out.json", {"ratio": float("nan")}).read_text()
        '{\\n  "ratio": null\\n}\\n'
    """
    return write_text(path, json.dumps(_strict(value), indent=2) + "\n")


def _strict(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _strict(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict(item) for item in value]
    return value


def run_main(main: Callable[[], Any]) -> int:
    """Run a script's ``main`` and return its exit status: the project's errors (a bad
    name, missing data) as ``<script>: error: <message>`` and status 2, Ctrl-C as
    status 130, no traceback; ``main``'s own status (an int) is kept.

    Args:
        main: the script's ``main()``; None or an int returned.

    Returns:
        The exit status.

    Example:
        >>> run_main(lambda: 0)
        0
    """
    prog = Path(sys.argv[0]).name or "benchmark"
    try:
        status = main()
    except NasbenchError as err:
        print(f"{prog}: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    return status if isinstance(status, int) else 0
