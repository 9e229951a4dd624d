"""Self-checks for the course notebooks: one call per exercise.

A lesson's exercise cell sets ``answer = ...`` (Python's Ellipsis: not answered yet)
and the next cell calls :func:`check`. An unanswered exercise prints what to do and
lets "Run All" go on; a wrong answer stops there with a hint saying what to look at;
a right one says so.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["check"]


def check(
    name: str,
    answer: Any,
    expected: Any,
    hint: str,
    rel_tol: float = 1e-6,
    abs_tol: float = 1e-12,
) -> bool:
    """Check a learner's answer to exercise ``name``.

    Args:
        name: the exercise's short name, printed with the verdict.
        answer: what the learner wrote; ``...`` (Ellipsis) means not answered yet.
        expected: the right answer, computed by the lesson (never typed in).
        hint: what to look at when the answer is wrong.
        rel_tol: relative tolerance when both are numbers.
        abs_tol: absolute tolerance when both are numbers (for an answer near 0, where a
            relative one cannot hold).

    Returns:
        True when the answer is right, False when it is not answered yet.

    Raises:
        AssertionError: the answer is wrong (the message carries the hint).

    Example:
        >>> check("space size", 15625, 5**6, "count one op per edge")
        ✓ space size: correct.
        True
    """
    if answer is Ellipsis:
        print(f"… {name}: not answered yet. Replace the ... in the cell above. Hint: {hint}")
        return False
    plain = _plain(answer)
    if not _same(plain, _plain(expected), rel_tol, abs_tol):
        shape = _kind(answer)
        if _category(plain) != _category(expected):
            shape += f", where the answer is {_kind(expected)}"
        raise AssertionError(f"{name}: {_shown(answer)} ({shape}) is not right. {hint}")
    print(f"✓ {name}: correct.")
    return True


def _plain(value: Any) -> Any:
    """Numpy, torch and pandas values as Python ones (``.tolist()``: a scalar for a 0-d
    array or a tensor of one value, nested lists otherwise), so a right answer is right
    in any of the forms a lesson's code hands back."""
    if isinstance(value, (str, bytes)):
        return value
    to_list = getattr(value, "tolist", None)
    if callable(to_list):
        detach = getattr(value, "detach", None)  # a tensor that requires grad
        try:
            return (detach() if callable(detach) else value).tolist()
        except Exception:  # an object whose tolist is something else: compare it as it is
            return value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


def _same(answer: Any, expected: Any, rel_tol: float, abs_tol: float) -> bool:
    if isinstance(answer, bool) or isinstance(expected, bool):
        return isinstance(answer, bool) and answer is expected
    numbers = (int, float)
    if isinstance(answer, numbers) and isinstance(expected, numbers):
        if isinstance(expected, float) and math.isnan(expected):
            # An undefined result (a rank correlation of tied scores) is answered by NaN.
            return isinstance(answer, float) and math.isnan(answer)
        return math.isclose(answer, expected, rel_tol=rel_tol, abs_tol=abs_tol)
    if isinstance(expected, (set, frozenset)):
        # A set's order is free, so a list of distinct members is as right as a set; a
        # dict (its keys) or a repeated member is not.
        if not isinstance(answer, (set, frozenset, list, tuple)):
            return False
        try:
            members = set(answer)
        except TypeError:  # unhashable members, e.g. a list of lists
            return False
        return len(members) == len(answer) and members == set(expected)
    if isinstance(answer, (list, tuple)) and isinstance(expected, (list, tuple)):
        return len(answer) == len(expected) and all(
            _same(a, e, rel_tol, abs_tol) for a, e in zip(answer, expected, strict=True)
        )
    if isinstance(answer, dict) and isinstance(expected, dict):
        return answer.keys() == expected.keys() and all(
            _same(answer[k], expected[k], rel_tol, abs_tol) for k in expected
        )
    try:
        return (answer == expected) is True
    except Exception:  # an object that cannot be compared is not the answer
        return False


def _category(value: Any) -> str:
    """Which kind of answer a value is, numbers counting as one kind."""
    value = _plain(value)
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, (list, tuple)):
        return "sequence"
    if isinstance(value, (set, frozenset)):
        return "set"
    return type(value).__name__


def _kind(value: Any) -> str:
    """A value's kind in words: "a list of 3 ints", "a numpy array of shape (2, 3)"."""
    shape = getattr(value, "shape", None)
    if shape is not None and not isinstance(value, (int, float)):
        module = type(value).__module__.split(".")[0]
        return f"a {module} {type(value).__name__} of shape {tuple(shape)}"
    name = type(value).__name__
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        kinds = sorted({type(v).__name__ for v in value})
        of = f" of {len(value)} {'/'.join(kinds)}s" if value else ", empty"
        return f"a {name}{of}"
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _shown(value: Any) -> str:
    """The answer as written back to the learner: its repr, shortened; never an error."""
    try:
        text = " ".join(repr(value).split())
    except Exception:
        return f"<{type(value).__name__}>"
    return text if len(text) <= 80 else text[:77] + "..."
