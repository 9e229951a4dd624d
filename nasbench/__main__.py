"""Allow ``python -m nasbench``; :func:`main` is also the ``nasbench`` command's entry."""

import sys


def main() -> int:
    """Run the command line, saying in one line when a Ctrl-C comes while it loads: the
    ``nasbench`` command's process entry. It also sets how the process's teardown takes a
    Ctrl-C (:func:`_keep_the_exit_status`), so call :func:`nasbench.cli.main` instead in a
    Python process that goes on (a notebook, a script).

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
    _keep_the_exit_status(code)
    return code


def _keep_the_exit_status(code: int) -> None:
    """Let a Ctrl-C that comes once the command has ended (its result recorded and printed)
    end the process at once with the command's own status, and no traceback. Teardown
    still runs (threads joined, modules freed): there Python's handler printed a traceback,
    or, once Python had reset its handlers to the default, the signal killed the process,
    so a finished search exited 130, which a script's ``&&`` reads as failed.

    Args:
        code: the command's exit status.
    """
    import atexit
    import os
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers can only be set from the main thread
    sys.stdout.flush()
    sys.stderr.flush()

    def end_now(*_: object) -> None:
        # While threads are joined (a stuck one must not make Ctrl-C useless); what they
        # printed since is kept (os._exit skips Python's flush).
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a reader gone, a stream closed: nothing to keep
                pass
        os._exit(code)

    signal.signal(signal.SIGINT, end_now)
    # After them (exit callbacks run once threads are joined): ignored, since an ignored
    # signal stays ignored when Python resets its handlers; what is left is short.
    atexit.register(signal.signal, signal.SIGINT, signal.SIG_IGN)


if __name__ == "__main__":
    raise SystemExit(main())
