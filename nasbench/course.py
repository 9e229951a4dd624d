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


def check(name: str, answer: Any, expected: Any, hint: str, rel_tol: float = 1e-6) -> bool:
    """Check a learner's answer to exercise ``name``.

    Args:
        name: the exercise's short name, printed with the verdict.
        answer: what the learner wrote; ``...`` (Ellipsis) means not answered yet.
        expected: the right answer, computed by the lesson (never typed in).
        hint: what to look at when the answer is wrong.
        rel_tol: relative tolerance when both are numbers.

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
    if not _same(answer, expected, rel_tol):
        raise AssertionError(f"{name}: {answer!r} is not right. {hint}")
    print(f"✓ {name}: correct.")
    return True


def _same(answer: Any, expected: Any, rel_tol: float) -> bool:
    numbers = (int, float)
    if isinstance(answer, numbers) and isinstance(expected, numbers):
        if isinstance(answer, bool) or isinstance(expected, bool):
            return answer is expected
        return math.isclose(answer, expected, rel_tol=rel_tol, abs_tol=1e-12)
    if isinstance(answer, (list, tuple)) and isinstance(expected, (list, tuple)):
        return len(answer) == len(expected) and all(
            _same(a, e, rel_tol) for a, e in zip(answer, expected, strict=True)
        )
    if isinstance(answer, (set, frozenset)) or isinstance(expected, (set, frozenset)):
        return set(answer) == set(expected)
    return answer == expected
