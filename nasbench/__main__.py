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
    return command_line()


if __name__ == "__main__":
    raise SystemExit(main())
