"""Errors that reach a person.

Every error raised on bad input is a :class:`NasbenchError` whose message is one
line that names what is wrong and what to do. The CLI prints the message alone
(no traceback); notebooks show it as the exception text.
"""

from __future__ import annotations


class NasbenchError(Exception):
    """Base class for one-line, user-facing errors."""

    def __init__(self, message: str) -> None:
        # One line keeps CLI output and widget messages readable.
        super().__init__(" ".join(str(message).split()))


class DatasetError(NasbenchError, ValueError):
    """A dataset name, file, folder or download is unusable."""


class DatasetNotFoundError(DatasetError, FileNotFoundError):
    """A dataset file is missing and could not be fetched."""


class SpaceError(NasbenchError, ValueError):
    """A search space, operation or genotype is invalid."""


class ConfigError(NasbenchError, ValueError):
    """A configuration value is invalid."""


class RunStoreError(NasbenchError, ValueError):
    """A run folder's database is damaged or cannot be written."""


class CheckpointError(NasbenchError, ValueError):
    """A checkpoint file is damaged and no earlier one can stand in for it."""


class DivergenceError(NasbenchError, ArithmeticError):
    """A search's loss, gradient or architecture weights stopped being finite numbers."""


def status_reason(err: BaseException, limit: int = 300) -> str:
    """An error as a run's one-line status message: its type and text, at most ``limit``.

    A person's own error (a :class:`NasbenchError`) is kept whole; anything else (a
    ``load_state_dict`` mismatch alone runs to hundreds of lines) is folded onto one line
    and cut.

    Example:
        >>> status_reason(ValueError("a\\nb"))
        'ValueError: a b'
    """
    if isinstance(err, NasbenchError):
        return str(err)
    reason = f"{type(err).__name__}: {' '.join(str(err).split())}"
    return reason if len(reason) <= limit else reason[: limit - 3] + "..."


def closest_name(name: str, choices: list[str] | tuple[str, ...]) -> str:
    """Return a ' Did you mean ...?' hint for an unknown name, or ''.

    Args:
        name: the name the person typed.
        choices: the valid names.

    Returns:
        A sentence fragment suggesting the closest valid name, or an empty string.

    Example:
        >>> closest_name("breastmnst", ["breastmnist", "pathmnist"])
        " Did you mean 'breastmnist'?"
        >>> closest_name(3, ["breastmnist"])
        ''
    """
    import difflib

    if not isinstance(name, str):  # a number or a list where a name goes: no near name
        return ""
    match = difflib.get_close_matches(name.lower(), [c.lower() for c in choices], n=1, cutoff=0.5)
    if not match:
        return ""
    original = next(c for c in choices if c.lower() == match[0])
    return f" Did you mean '{original}'?"
