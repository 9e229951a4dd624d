"""The exercise self-check used by the course notebooks."""

from __future__ import annotations

import pytest

from nasbench.course import check


def test_right_answer_passes_and_says_so(capsys):
    assert check("size", 15625.0000001, 5**6, "count the edges") is True
    assert "✓ size: correct." in capsys.readouterr().out
    assert check("ops", ["b", "a"], {"a", "b"}, "any order") is True  # a set's order is free
    assert check("pair", (1, 2.0), [1, 2], "same items") is True


def test_unanswered_prints_the_hint_and_does_not_raise(capsys):
    assert check("size", ..., 10, "count the edges") is False
    out = capsys.readouterr().out
    assert "not answered yet" in out and "count the edges" in out


def test_wrong_answer_raises_with_the_hint():
    with pytest.raises(AssertionError, match=r"size: 12 \(an int\) is not right\. count the edges"):
        check("size", 12, 10, "count the edges")
    with pytest.raises(AssertionError, match="is not right"):
        check("flag", 1, True, "a bool")
    with pytest.raises(AssertionError, match="is not right"):
        check("pair", [1, 2, 3], [1, 2], "two items")


@pytest.mark.parametrize(
    "answer, expected",
    [
        ({"down", "same", "up"}, ("down", "down", "same", "up", "up")),  # order and repeats
        ({9, 14}, (14, 9)),  # a set for an ordered pair
        ({"breastmnist": "CC BY 4.0"}, {"breastmnist"}),  # a dict's keys for a set
        (["a", "a", "b"], {"a", "b"}),  # a repeated member
        ({"gdas": (1, 3)}, {"gdas": [1, 2]}),
    ],
)
def test_a_wrong_answer_in_another_container_is_not_right(answer, expected):
    with pytest.raises(AssertionError, match="is not right"):
        check("x", answer, expected, "look again")


def test_right_answers_in_numpy_torch_and_pandas_forms_are_right():
    import numpy as np
    import pandas as pd
    import torch

    assert check("float32", np.float32(1 / 3), 1 / 3, "h", rel_tol=1e-4)
    assert check("0-d array", np.array(0.33333), 1 / 3, "h", rel_tol=1e-4)
    assert check("tensor", torch.tensor(0.33333), 1 / 3, "h", rel_tol=1e-4)
    assert check("int64", np.int64(7), 7, "h")
    assert check("grad", torch.tensor([0.5, -0.25], requires_grad=True), [0.5, -0.25], "h")
    assert check("front", np.array([0, 2]), [0, 2], "h")
    assert check("series", pd.Series([1, 2]), (1, 2), "h")
    assert check("dict", {"gdas": (1, 2)}, {"gdas": [1, 2.0000001]}, "h")
    assert check("near zero", torch.tensor(3e-7), 1.2e-7, "h", abs_tol=1e-4)


class _Hostile:
    def __eq__(self, other):
        raise RuntimeError("no")

    def __repr__(self):
        raise RuntimeError("no")

    __hash__ = None


@pytest.mark.parametrize(
    "answer, expected, said",
    [
        ("array", [0, 2, 4], "a numpy ndarray of shape \\(2,\\)\\) is not right"),
        ("series", 3, "a pandas Series of shape \\(2,\\), where the answer is an int"),
        ("tensor", 0.5, "a torch Tensor of shape \\(2,\\)"),
        (3, {"a", "b"}, "an int, where the answer is a set of 2 strs"),
        (None, {"a"}, "a NoneType"),
        ([[1], [2]], {1, 2}, "a list of 2 lists"),
        (_Hostile(), 3, "<_Hostile>"),
        ("pd.NA", 1.0, "is not right"),
    ],
)
def test_a_wrong_type_of_answer_says_what_it_is_in_one_line(answer, expected, said):
    import numpy as np
    import pandas as pd
    import torch

    answer = (
        {
            "array": np.array([0, 2]),
            "series": pd.Series([1.0, 2.0]),
            "tensor": torch.tensor([0.5, 0.5]),
            "pd.NA": pd.NA,
        }.get(answer, answer)
        if isinstance(answer, str)
        else answer
    )
    with pytest.raises(AssertionError, match=said) as err:
        check("x", answer, expected, "look again")
    assert "\n" not in str(err.value) and str(err.value).endswith("look again")


def test_every_lesson_hands_check_the_answer_as_written():
    """An exercise left at ``...`` must reach check() untouched (which then lets Run All
    go on): an expression such as float(answer) would raise first."""
    import ast
    import json
    from pathlib import Path

    calls = 0
    for lesson in sorted((Path(__file__).parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        for cell in json.loads(lesson.read_text())["cells"]:
            source = "".join(cell["source"])
            if cell["cell_type"] != "code" or "check(" not in source:
                continue
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "check":
                    calls += 1
                    second = node.args[1] if len(node.args) > 1 else None
                    assert isinstance(second, ast.Name) and second.id == "answer", (
                        f"{lesson.name}: check({ast.unparse(node)[6:60]}...) must pass `answer`"
                    )
    assert calls >= 40


def test_nan_is_the_right_answer_to_an_undefined_result_and_only_then():
    import numpy as np

    check("rho", float("nan"), float("nan"), "tied scores have no rank correlation")
    check("rho", np.float64("nan"), float("nan"), "")
    with pytest.raises(AssertionError):
        check("rho", 0.0, float("nan"), "")
    with pytest.raises(AssertionError):
        check("rho", float("nan"), 0.5, "")
