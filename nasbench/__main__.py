"""Allow ``python -m nasbench``; :func:`main` is also the ``nasbench`` command's entry."""

import sys


def main() -> int:
    """Run the command line, saying in one line when a Ctrl-C comes while it loads.

    Returns:
        The exit code (130 for such a Ctrl-C).

    Example:
        >>> main()  # doctest: +SKIP
    """
    try:
        from nasbench.cli import main as command_line
    except KeyboardInterrupt:  # as nasbench.cli.main says it once loaded
        print("nasbench: interrupted", file=sys.stderr)
        return 130
    code = command_line()
    _ignore_late_interrupts()
    return code


def _ignore_late_interrupts() -> None:
    """Let a Ctrl-C that comes once the command has ended (its result recorded and printed)
    change nothing. The interpreter's teardown still runs (threads joined, modules freed),
    and there Python's own handler printed a traceback, or, once it resets its handlers to
    the default, the signal killed the process: a finished search exited 130, which a
    script's ``&&`` reads as failed. An ignored signal stays ignored through teardown."""
    import signal
    import threading

    sys.stdout.flush()
    sys.stderr.flush()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


if __name__ == "__main__":
    raise SystemExit(main())
