"""Settings: fields a widget turns into a form (:func:`option`, :class:`MethodConfig`), budgets.

Every strategy, evaluator and method config is a dataclass deriving from
:class:`MethodConfig`, its fields made with :func:`option` (a default, one sentence
of help, and an optional range or choices). The registry validates a config with
:meth:`MethodConfig.validate`; a widget reads the same metadata to build its form.

Example:
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class C(MethodConfig):
    ...     lr: float = option(3e-4, "learning rate", min=0.0)
    >>> C(lr=-1.0).validate()
    Traceback (most recent call last):
    ...
    nasbench.errors.ConfigError: C.lr must be >= 0.0, got -1.0.
"""

from __future__ import annotations

import argparse
import dataclasses
import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nasbench.errors import ConfigError

__all__ = ["MAX_INT", "Budget", "MethodConfig", "option", "plain_numbers"]

# Every integer setting (counts, sizes, seeds) stays below this: seeds are mixed into 64 bits.
MAX_INT = 2**31


def plain_numbers(value: Any) -> Any:
    """``value`` with its numbers as plain ``int`` and ``float``, in dicts and lists too.

    A numpy grid hands out ``np.int64(5)`` or ``np.float32(0.01)``: the checks then see
    the numbers they are, and the JSON config and the run store record plain ones. Bools
    and values that are no numbers come back as they are, for the checks to refuse.

    Args:
        value: a setting: a number, or a dict, list or tuple holding some.

    Returns:
        ``value`` itself when nothing changes, else a converted copy.

    Example:
        >>> plain_numbers(np.int64(5)), plain_numbers({"lr": np.float32(0.01)}), plain_numbers(True)
        (5, {'lr': 0.01}, True)
    """
    if isinstance(value, bool) or type(value) in (int, float):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, np.floating):
        return float(str(value))  # np.float32(0.01) is 0.01 to the person, not 0.0099999...
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, dict):
        plain = {key: plain_numbers(item) for key, item in value.items()}
        return value if all(plain[k] is value[k] for k in value) else plain
    if type(value) in (list, tuple):
        items = [plain_numbers(item) for item in value]
        same = all(a is b for a, b in zip(items, value, strict=True))
        return value if same else type(value)(items)
    return value


def option(default: Any, help: str, min: float | None = None, max: float | None = None, **extra):
    """A dataclass field whose metadata a widget turns into a form control.

    Args:
        default: the default value.
        help: one sentence shown as the control's tooltip.
        min: smallest allowed value (inclusive), or None.
        max: largest allowed value (inclusive), or None.
        **extra: more metadata, e.g. ``choices=(1, 2)``, exclusive bounds ``above=0.0``
            (a learning rate of 0 trains nothing) and ``below=1.0`` (Adam's beta1 of 1
            never updates), or ``at_most="tau_max"``: another field this one may not
            exceed.

    Returns:
        A ``dataclasses.field``.

    Example:
        >>> @dataclass
        ... class C(MethodConfig):
        ...     lr: float = option(3e-4, "learning rate", min=0.0)
        >>> C().lr
        0.0003
    """
    meta = {"help": help, "min": min, "max": max, **extra}
    return field(default=default, metadata=meta)


@dataclass
class MethodConfig:
    """Base of the method configs: range checks from field metadata, dict round trip."""

    def validate(self) -> None:
        """Raise a one-line ConfigError when a field is of the wrong type or out of range."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            where = f"{type(self).__name__}.{f.name}"
            if plain_numbers(value) is not value:  # a numpy number: stored as a plain one
                value = plain_numbers(value)
                setattr(self, f.name, value)
            if (
                f.type in ("float", float)
                and isinstance(value, int)
                and not isinstance(value, bool)
            ):
                value = float(value)
                setattr(self, f.name, value)
            if f.type in ("int", int) and (isinstance(value, bool) or not isinstance(value, int)):
                raise ConfigError(f"{where} must be an integer, got {value!r}.")
            if f.type in ("float", float) and not isinstance(value, float):
                raise ConfigError(f"{where} must be a number, got {value!r}.")
            if f.type in ("bool", bool) and not isinstance(value, bool):
                raise ConfigError(f"{where} must be true or false, got {value!r}.")
            if f.type in ("str", str) and not isinstance(value, str):
                raise ConfigError(f"{where} must be text, got {value!r}.")
            if str(f.type).split("|")[0].strip() == "dict" and not isinstance(value, dict):
                if value is not None or "None" not in str(f.type):
                    raise ConfigError(f"{where} must be a JSON object, got {value!r}.")
            choices = f.metadata.get("choices")
            if choices is not None and value not in choices:
                raise ConfigError(f"{where} must be one of {list(choices)}, got {value!r}.")
            lo, hi = f.metadata.get("min"), f.metadata.get("max")
            if lo is not None and value < lo:
                raise ConfigError(f"{where} must be >= {lo}, got {value!r}.")
            if hi is not None and value > hi:
                raise ConfigError(f"{where} must be <= {hi}, got {value!r}.")
            above, below = f.metadata.get("above"), f.metadata.get("below")
            if above is not None and value <= above:
                raise ConfigError(f"{where} must be > {above}, got {value!r}.")
            if below is not None and value >= below:
                raise ConfigError(f"{where} must be < {below}, got {value!r}.")
            self._check_at_most(f, value, where)

    def _check_at_most(self, f: dataclasses.Field, value: Any, where: str) -> None:
        """``at_most`` metadata names a field this one may not exceed (an end of a schedule
        past its start, a starting network larger than the largest allowed)."""
        other = f.metadata.get("at_most")
        if other is None:
            return
        limit = plain_numbers(getattr(self, other))
        if isinstance(limit, bool) or not isinstance(limit, (int, float)) or value is None:
            return  # the other field's own check names a wrong type
        if value > limit:
            raise ConfigError(
                f"{where} {value!r} exceeds {other} {limit!r}; lower it to {other} or less, or "
                f"raise {other}."
            )

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready dict."""
        return {
            k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()
        }


@dataclass(frozen=True)
class Budget:
    """How much a discrete search may spend.

    Attributes:
        max_evaluations: evaluator calls (cache hits are free); None for no limit.
        max_seconds: wall time; checked between batches, so the batch in flight finishes.

    Example:
        >>> Budget(max_evaluations=100).max_evaluations
        100
    """

    max_evaluations: int | None = None
    max_seconds: float | None = None

    def __post_init__(self) -> None:
        n, s = plain_numbers(self.max_evaluations), plain_numbers(self.max_seconds)
        if n is None and s is None:
            raise ConfigError("a budget needs max_evaluations or max_seconds (or both).")
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise ConfigError(f"max_evaluations must be a positive integer, got {n!r}.")
        if s is not None and (isinstance(s, bool) or not isinstance(s, (int, float)) or s <= 0):
            raise ConfigError(f"max_seconds must be a positive number, got {s!r}.")
        object.__setattr__(self, "max_evaluations", n)  # frozen: stored as plain numbers
        object.__setattr__(self, "max_seconds", s)


def add_no_download_flag(parser: argparse.ArgumentParser) -> None:
    """``--no-download``, shared by ``nasbench retrain`` and ``nasbench search``.

    Args:
        parser: a subcommand's parser.

    Returns:
        None.

    Example:
        >>> p = argparse.ArgumentParser(); add_no_download_flag(p)
        >>> p.parse_args(["--no-download"]).no_download
        True
    """
    parser.add_argument(
        "--no-download",
        action="store_true",
        help="never download: a missing data file is an error naming the file and folder",
    )
