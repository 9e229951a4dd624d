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


@pytest.fixture
def fresh_course(monkeypatch):
    """check() with no answer graded yet in this process."""
    from nasbench import course

    monkeypatch.setattr(course, "_last_graded", {"name": None, "answer": None})
    return course


def test_a_skipped_answer_cell_says_answer_still_holds_the_previous_one(fresh_course, capsys):
    first = [0.5, 0.25]  # exercise A's answer; exercise B's answer cell is then skipped
    assert check("weights", first, [0.5, 0.25], "h") is True
    capsys.readouterr()
    assert check("regret", first, 0.1, "look at the best score") is False  # Run All goes on
    out = capsys.readouterr().out.strip()
    assert "\n" not in out
    assert "regret: `answer` still holds your answer to exercise 'weights'" in out
    assert "Run this exercise's answer cell (above) first" in out
    assert check("regret", first, 0.1, "h") is False  # still not graded for 'regret'


def test_the_previous_answer_object_is_accepted_where_it_is_right(fresh_course, capsys):
    answer = 0.75
    assert check("a", answer, 0.75, "h") is True
    assert check("b", answer, 0.75, "h") is True
    assert capsys.readouterr().out.count("correct") == 2


def test_an_equal_new_answer_or_a_recheck_is_graded_as_wrong(fresh_course):
    first = [1, 2]
    check("a", first, [1, 2], "h")
    said = r"^b: \[1, 2\] \(a list of 2 ints\) is not right\. h$"
    with pytest.raises(AssertionError, match=said):
        check("b", [1, 2], [3], "h")  # a new object: the learner's own answer to b
    wrong = [9]
    with pytest.raises(AssertionError, match="is not right"):
        check("b", wrong, [3], "h")
    with pytest.raises(AssertionError, match=r"^b: \[9\] \(a list of 1 ints\) is not right\. h$"):
        check("b", wrong, [3], "h")  # the same exercise checked again


def test_a_small_int_shared_by_chance_is_wrong_and_names_both_possibilities(fresh_course):
    check("edges", 5, 5, "h")  # CPython shares 5: the learner may have typed 5 for b too
    with pytest.raises(AssertionError) as err:
        check("derive", 5, "sep_conv_3x3", "look at the largest alpha")
    said = str(err.value)
    assert "\n" not in said and said.startswith("derive: 5 (an int, where the answer is a str)")
    assert "`answer` still holds your answer to 'edges': run that cell first" in said
    assert said.endswith("look at the largest alpha")


_FIRST_USE = """
import sys
import torch
from nasbench.course import preload
from nasbench.spaces import NB201Space
from nasbench.strategies import create_strategy
from nasbench.strategies.discrete import Budget, run_discrete
from nasbench.bench import synthetic_nb201_table
from nasbench.evaluation.table_lookup import TableEvaluator
names = preload(monai=MONAI)
missing = [m for m in names if m not in sys.modules]
before = set(sys.modules)
p = torch.zeros(3, requires_grad=True)
optimizer = torch.optim.Adam([p], lr=0.1, foreach=True)  # the first step imports torch._dynamo
p.sum().backward()
optimizer.step()
space = NB201Space()
evaluator = TableEvaluator(space=space, table=synthetic_nb201_table(seed=0))
strategy = create_strategy("reinforce", {"batch_size": 2}, space=space, seed=0)
run_discrete(strategy, evaluator, Budget(max_evaluations=4))
from nasbench.evaluation.metrics import classification_metrics
classification_metrics(torch.randn(4, 2), torch.tensor([0, 1, 0, 1]), "binary")  # an AUC
if "monai" in names[-1]:
    from nasbench.data.kspace import draw_mask
    draw_mask(32, 4, seed=0)
late = sorted(
    m for m in set(sys.modules) - before
    if m.startswith(("torch._dynamo", "sympy", "monai", "nasbench.strategies", "scipy", "sklearn"))
)
import json
print(json.dumps([list(names), missing, late]))
"""


def _first_use(monai: bool, block_monai: bool = False) -> list:
    import json
    import os
    import subprocess
    import sys

    code = _FIRST_USE.replace("MONAI", str(monai))
    if block_monai:  # as if monai were not installed
        code = "import sys\nsys.modules['monai'] = None\n" + code
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_preload_imports_what_a_first_step_and_search_would_import_later():
    """A Ctrl-C during a first import mid-cell breaks the kernel: after preload() a first
    Adam step, strategy, search and k-space mask import none of those modules late."""
    import importlib.util

    monai = importlib.util.find_spec("monai") is not None
    names, missing, late = _first_use(monai)
    assert "torch._dynamo" in names and ("monai.transforms" in names) == monai
    assert missing == [] and late == [], (missing, late)


def test_preload_goes_on_without_monai_and_loads_every_registry():
    from nasbench import course, registry

    # The built-in registries: a doctest run earlier in this process may declare its own.
    builtin = {name for name, reg in registry._REGISTRIES.items() if reg.builtins}
    assert set(course.PRELOAD_REGISTRIES) == builtin
    names, missing, late = _first_use(True, block_monai=True)
    assert names == ["torch._dynamo", "scipy.stats"] and missing == []
    assert late == []  # scikit-learn too, which monai would otherwise have imported


def test_two_equal_dataframes_are_right_and_a_changed_one_is_not(fresh_course, capsys):
    import pandas as pd

    frame = pd.DataFrame({"op": ["skip", "conv"], "weight": [0.25, 0.75]})
    assert check("table", frame, frame.copy(), "h") is True
    assert check("close", frame.assign(weight=[0.25 + 1e-9, 0.75]), frame, "h") is True
    for wrong in (
        frame.assign(weight=[0.5, 0.5]),
        frame.rename(columns={"weight": "w"}),
        frame.set_axis([5, 6]),
    ):
        with pytest.raises(AssertionError, match="a pandas DataFrame of shape \\(2, 2\\)"):
            check("table", wrong, frame, "h")


@pytest.mark.parametrize(
    "tolerance", [{"rel_tol": -1}, {"abs_tol": float("nan")}, {"rel_tol": "0"}]
)
def test_a_tolerance_that_is_no_number_at_least_0_is_the_lessons_config_error(tolerance):
    from nasbench.errors import ConfigError

    with pytest.raises(ConfigError, match="tol must be a number >= 0"):
        check("x", 1.0, 1.0, "h", **tolerance)


def test_preload_refuses_a_monai_that_is_no_bool_before_loading_anything():
    from nasbench import course
    from nasbench.errors import ConfigError

    with pytest.raises(ConfigError, match="monai must be True or False, got 'no'"):
        course.preload(monai="no")


def test_a_namedtuple_answer_is_graded_as_the_tuple_it_is():
    import collections

    Pair = collections.namedtuple("Pair", "stop returned")
    assert check("pair", Pair(19, 14), (19, 14), "h")
    assert check("pair", (19, 14), Pair(19, 14), "h")
    with pytest.raises(AssertionError, match=r"Pair\(stop=19, returned=15\) \(a Pair of 2 ints\)"):
        check("pair", Pair(19, 15), (19, 14), "h")


def test_counts_are_exact_and_any_size_of_int_is_graded_not_crashed():
    assert check("count", 10**400, 10**400, "h")
    assert check("count as float", 1_000_000.0, 1_000_000, "h")  # a float keeps rel_tol
    for answer, expected in [(1_000_001, 1_000_000), (2**2000, 15625), (1e300, 10**400),
                             (10**400, float("nan"))]:  # fmt: skip
        with pytest.raises(AssertionError, match="is not right"):
            check("count", answer, expected, "h")


def _nested(depth):
    outer = inner = []
    for _ in range(depth):
        inner.append([])
        inner = inner[0]
    return outer


def _holding_itself(kind):
    value = [] if kind == "list" else {}
    if kind == "list":
        value.append(value)
    else:
        value["x"] = value
    return value


@pytest.mark.parametrize("make", [lambda: _holding_itself("list"), lambda: _holding_itself("dict"),
                                  lambda: _nested(5000)])  # fmt: skip
def test_a_list_that_holds_itself_or_nests_deep_is_not_right_in_one_line(make):
    with pytest.raises(AssertionError, match="is not right") as err:
        check("x", make(), [1], "look again")
    assert "\n" not in str(err.value)


def test_a_class_or_module_given_as_the_answer_is_named_not_crashed():
    import numpy as np
    import pandas as pd
    import torch

    for answer, said in [(pd.DataFrame, "the class DataFrame"), (torch.Tensor, "the class Tensor"),
                         (np, "a module")]:  # fmt: skip
        with pytest.raises(AssertionError, match=f"\\({said}, where the answer is an int\\)"):
            check("x", answer, 3, "h")


def test_one_value_in_an_array_or_tensor_is_that_number_and_numpy_scalars_compare():
    import numpy as np
    import torch

    assert check("loss", torch.tensor([0.5]), 0.5, "h")
    assert check("loss", np.array([[0.5]]), 0.5, "h")
    assert check("losses", torch.tensor([0.5]), [0.5], "h")  # a list of one stays a list
    assert check("half", np.longdouble(0.5), 0.5, "h")
    assert check("names", {"a": 1, "b": 2}.keys(), {"a", "b"}, "h")
    with pytest.raises(AssertionError, match="a list of 1 floats, where the answer is a float"):
        check("loss", [0.5], 0.5, "h")  # a Python list is a list
    with pytest.raises(AssertionError, match="is not right"):
        check("loss", torch.tensor([0.5, 0.5]), 0.5, "h")


def _wrong(answer, expected):
    """check's message for a wrong answer, asserted to be one line."""
    with pytest.raises(AssertionError) as err:
        check("x", answer, expected, "look again")
    message = str(err.value)
    assert "\n" not in message and message.endswith("look again")
    return message


def test_a_series_with_the_right_values_under_other_labels_is_not_right(fresh_course):
    import pandas as pd

    expected = pd.Series([0.9, 0.7], index=["a", "b"])
    assert check("x", expected.copy(), expected, "h") is True
    assert check("x", [0.9, 0.7], expected, "h") is True  # a list has no labels to differ
    assert check("x", pd.Series([0.9, 0.7]), (0.9, 0.7), "h") is True
    message = _wrong(pd.Series([0.9, 0.7]), expected)
    assert "(a pandas Series of shape (2,)) is not right. " in message
    assert "The index differs: expected ['a', 'b'], got [0, 1]. look again" in message
    message = _wrong(pd.Series([0.9, 0.7], index=["b", "a"]), expected)
    assert (
        "The index differs: expected ['a', 'b'], got ['b', 'a'] "
        "(the same labels in another order). look again" in message
    )
    # The right labels with wrong values: no sentence on the labels.
    message = _wrong(pd.Series([0.7, 0.9], index=["a", "b"]), expected)
    assert "differs" not in message and message.endswith("is not right. look again")


def test_a_long_index_that_differs_says_where_or_how_many_labels(fresh_course):
    import pandas as pd

    expected = pd.Series(range(200), index=[f"n{i}" for i in range(200)])
    message = _wrong(expected.rename(index={"n150": "x"}), expected)
    assert "The index differs at position 150: expected 'n150', got 'x'. look again" in message
    message = _wrong(expected.iloc[:199], expected)
    assert "The index differs: expected 200 labels, got 199. look again" in message


def test_a_dataframe_with_other_columns_names_the_missing_and_unexpected_ones(fresh_course):
    import pandas as pd

    frame = pd.DataFrame({"op": ["skip", "conv"], "acc": [0.25, 0.75]})
    for wrong, said in [
        (frame.rename(columns={"acc": "accuracy"}), "missing ['acc'], unexpected ['accuracy']"),
        (frame.drop(columns="acc"), "missing ['acc']"),
        (frame.assign(extra=1), "unexpected ['extra']"),
        (
            frame[["acc", "op"]],
            "expected ['op', 'acc'], got ['acc', 'op'] (the same labels in another order)",
        ),
    ]:
        assert f"is not right. The columns differ: {said}. look again" in _wrong(wrong, frame)
    message = _wrong(frame.set_axis([5, 6]), frame)
    assert "is not right. The index differs: expected [0, 1], got [5, 6]. look again" in message
    message = _wrong(frame.assign(acc=[0.5, 0.5]), frame)  # the labels agree: no sentence on them
    assert "differ" not in message and message.endswith("is not right. look again")


def test_lesson_folder_makes_the_folder_and_its_parents(tmp_path):
    from nasbench.course import lesson_folder

    folder = lesson_folder(str(tmp_path / "runs"), "01_medical_datasets")
    assert folder == tmp_path / "runs" / "01_medical_datasets" and folder.is_dir()
    assert list(folder.iterdir()) == []  # the write probe leaves nothing behind
    assert lesson_folder(tmp_path / "runs") == tmp_path / "runs"  # an existing one is fine


def test_a_lesson_folder_that_cannot_be_written_names_run_root_in_one_line(tmp_path, monkeypatch):
    import errno
    import tempfile

    from nasbench.course import lesson_folder
    from nasbench.errors import ConfigError

    blocker = tmp_path / "runs"
    blocker.write_text("a file, not a folder")
    with pytest.raises(ConfigError) as err:
        lesson_folder(str(blocker))
    assert str(err.value).startswith(f"the lesson cannot write to {str(blocker)!r} (a file has")
    assert "set RUN_ROOT in the lesson's first cell to a folder you can write to" in str(err.value)
    with pytest.raises(ConfigError, match=r"\(Not a directory\); set RUN_ROOT"):
        lesson_folder(str(blocker / "inside"))

    def read_only(*args, **kwargs):  # a read-only mount: mkdir of an existing folder passes
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    with pytest.raises(ConfigError) as err:
        lesson_folder(str(tmp_path))
    assert "(Read-only file system); set RUN_ROOT" in str(err.value)
    assert "\n" not in str(err.value) and err.value.__cause__ is None


def test_lesson_folder_reads_a_home_folder_as_searches_do(tmp_path, monkeypatch):
    from nasbench.course import lesson_folder

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    folder = lesson_folder("~/nasbench-runs", "04_darts")
    assert folder == tmp_path / "home" / "nasbench-runs" / "04_darts" and folder.is_dir()
    assert not (tmp_path / "~").exists()  # no stray folder named "~" where the lesson runs


def test_checked_names_keep_the_learners_order_and_refuse_a_name_not_offered_in_one_line():
    from nasbench.course import checked_names
    from nasbench.errors import ConfigError

    offered = ("random", "grid", "evolution")
    assert checked_names("STRATEGIES", ["evolution", "random"], offered) == ("evolution", "random")
    with pytest.raises(ConfigError) as err:
        checked_names("STRATEGIES", ["random", "evolutoin"], offered, offered_as="the strategies")
    assert str(err.value) == (
        "STRATEGIES holds 'evolutoin', which this lesson cannot run; pick one of the "
        "strategies: 'random', 'grid', 'evolution'. Did you mean 'evolution'?"
    )


def test_checked_names_say_why_a_required_name_stays():
    from nasbench.course import checked_names
    from nasbench.errors import ConfigError

    baseline = {"random": "it is the baseline the others are compared with"}
    with pytest.raises(ConfigError) as err:
        checked_names("STRATEGIES", ["evolution"], ("random", "evolution"), baseline)
    assert str(err.value) == (
        "keep 'random' in STRATEGIES: it is the baseline the others are compared with."
    )


@pytest.mark.parametrize("names", ["random", None, 3])
def test_checked_names_refuse_a_text_or_no_list_rather_than_read_its_letters(names):
    from nasbench.course import checked_names
    from nasbench.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        checked_names("STRATEGIES", names, ("random", "grid"))
    assert str(err.value) == (
        f"STRATEGIES must be a list of names, e.g. STRATEGIES = ['random', 'grid']; got {names!r}."
    )
