"""The exercise self-check used by the course notebooks."""

from __future__ import annotations

import pytest

from nasbench.course import check


def test_right_answer_passes_and_says_so(capsys):
    assert check("size", 15625.0000001, 5**6, "count the edges") is True
    assert "✓ size: correct." in capsys.readouterr().out
    assert check("ops", {"a", "b"}, ["b", "a"], "any order") is True
    assert check("pair", (1, 2.0), [1, 2], "same items") is True


def test_unanswered_prints_the_hint_and_does_not_raise(capsys):
    assert check("size", ..., 10, "count the edges") is False
    out = capsys.readouterr().out
    assert "not answered yet" in out and "count the edges" in out


def test_wrong_answer_raises_with_the_hint():
    with pytest.raises(AssertionError, match=r"size: 12 is not right\. count the edges"):
        check("size", 12, 10, "count the edges")
    with pytest.raises(AssertionError, match="is not right"):
        check("flag", 1, True, "a bool")
    with pytest.raises(AssertionError, match="is not right"):
        check("pair", [1, 2, 3], [1, 2], "two items")
