"""Self-checks for the course notebooks: one call per exercise.

A lesson's exercise cell sets ``answer = ...`` (Python's Ellipsis: not answered yet)
and the next cell calls :func:`check`. An unanswered exercise prints what to do and
lets "Run All" go on; so does one whose answer cell was skipped, where ``answer``
still holds the previous exercise's answer; a wrong answer stops there with a hint
saying what to look at; a right one says so. A lesson's setup cell calls
:func:`preload`, so that an interrupted long cell cannot break the kernel mid-import,
and :func:`lesson_folder`, so that a folder it cannot write to is found before any work.
A lesson's list of names to run (strategies, proxies) goes through :func:`checked_names`,
so that a name it cannot run, or one a later cell reads, is found where the list is set.
"""

from __future__ import annotations

import collections.abc
import importlib
import importlib.util
import math
import numbers
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from nasbench.errors import ConfigError, closest_name

__all__ = ["check", "checked_names", "lesson_folder", "preload"]

# What a lesson's long cells would otherwise import several seconds into their first run
# (measured with sys.modules before/after): a Ctrl-C during a first import leaves a half-
# initialised module in sys.modules, and every rerun then fails ("module 'sympy' has no
# attribute 'core'") until the kernel restarts. torch.optim's foreach step (any Adam)
# imports torch._dynamo and sympy with it; the registries import their built-in modules
# (scipy, pandas with them); the first AUC imports scipy.stats (kept out of import time:
# figures need none of it); monai's first use imports nearly all of monai.
PRELOAD_MODULES = ("torch._dynamo", "scipy.stats")
PRELOAD_REGISTRIES = (
    "dataset",
    "op",
    "space",
    "network",
    "supernet",
    "evaluator",
    "strategy",
    "executor",
)
PRELOAD_MONAI = (
    "monai.transforms",
    "monai.data",
    "monai.networks.nets",
    "monai.losses",
    "monai.metrics",
    "monai.inferers",
    "monai.apps.reconstruction.transforms.array",
)
# The exercise and the answer object :func:`check` graded last: every lesson uses one
# global ``answer``, so a skipped answer cell hands the next check the previous answer.
_last_graded: dict[str, Any] = {"name": None, "answer": None}


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
        True when the answer is right, False when it is not answered yet, or when it is
        the very object the last check graded for another exercise (its answer cell was
        skipped: ``answer`` still holds that exercise's answer) and wrong here.

    Raises:
        AssertionError: the answer is wrong (the message carries the hint).
        ConfigError: a tolerance is negative or no number (the lesson's mistake).

    Example:
        >>> check("space size", 15625, 5**6, "count one op per edge")
        ✓ space size: correct.
        True
    """
    for tol_name, tol in (("rel_tol", rel_tol), ("abs_tol", abs_tol)):
        if isinstance(tol, bool) or not isinstance(tol, int | float) or not 0 <= tol < math.inf:
            raise ConfigError(f"check's {tol_name} must be a number >= 0, got {tol!r}.")
    if answer is Ellipsis:
        print(f"… {name}: not answered yet. Replace the ... in the cell above. Hint: {hint}")
        return False
    try:
        plain = _as_expected(_plain(answer), answer, expected)
        right = _same(plain, _plain(expected), rel_tol, abs_tol)
        # A Series' values are compared as a list above: its labels are compared here.
        differ = _labels_differ(answer, expected, rel_tol, abs_tol)
        right = right and not differ
    except RecursionError:  # a list that holds itself, or one nested thousands deep
        plain, right, differ = answer, False, ""
    previous = _last_graded["name"]
    stale = not right and answer is _last_graded["answer"] and previous not in (None, name)
    if stale and not _shared_by_value(answer):
        print(
            f"… {name}: `answer` still holds your answer to exercise '{previous}'. "
            f"Run this exercise's answer cell (above) first. Hint: {hint}"
        )
        return False
    _last_graded.update(name=name, answer=answer)
    if not right:
        shape = _kind(answer)
        if _category(plain) != _category(expected):
            shape += f", where the answer is {_kind(expected)}"
        # A small int or a str may be the same object by chance: say both possibilities.
        skipped = (
            f" If you skipped this exercise's answer cell, `answer` still holds your answer"
            f" to '{previous}': run that cell first."
            if stale
            else ""
        )
        differ = f" {differ}." if differ else ""
        raise AssertionError(
            f"{name}: {_shown(answer)} ({shape}) is not right.{differ}{skipped} {hint}"
        )
    print(f"✓ {name}: correct.")
    return True


def _shared_by_value(value: Any) -> bool:
    """True for values CPython may hand out as one shared object wherever they are
    written (None, bools, small ints, strs), so that being the same object as the
    previous answer does not show the answer cell was skipped."""
    if value is None or isinstance(value, (bool, str, bytes)):
        return True
    return type(value) is int and -5 <= value <= 256


def preload(monai: bool = False) -> tuple[str, ...]:
    """Import up front what a lesson's long cells would otherwise import on first use.

    A lesson's setup cell calls this, so that an interrupt (Ctrl-C, the stop button)
    in a long cell later cannot land in a first import of torch._dynamo, a registry's
    built-in modules or monai, which would leave the kernel broken until a restart.

    Args:
        monai: also import the monai parts the data, segmentation and reconstruction
            code uses (about 10 s on 2 cores; skipped when monai is not installed).

    Returns:
        The names of the modules imported (monai's only where it is installed), after
        the registries' ``nasbench.registry`` name lists are loaded.

    Raises:
        ConfigError: ``monai`` is not True or False.

    Example:
        >>> "torch._dynamo" in preload()
        True
    """
    from nasbench import registry

    if not isinstance(monai, bool):  # "no" is truthy: it would load monai for 10 s
        raise ConfigError(f"preload's monai must be True or False, got {monai!r}.")
    for name in PRELOAD_REGISTRIES:
        registry.names(name)
    modules = list(PRELOAD_MODULES)
    if monai and _installed("monai"):
        modules += PRELOAD_MONAI
    for module in modules:
        importlib.import_module(module)
    return tuple(modules)


def lesson_folder(run_root: str | os.PathLike, *parts: str) -> Path:
    """Make the folder a lesson writes to (``RUN_ROOT`` or a subfolder) and return it.

    A course opened from a read-only place (a shared or mounted course folder) cannot hold
    the lesson's runs; the setup cell finds that out here, in one line that names the
    variable to change, instead of from a search's first write.

    Args:
        run_root: the lesson's ``RUN_ROOT``.
        *parts: subfolders under it (a lesson's own folder).

    Returns:
        The folder (``~`` expanded, as a search reads it), made with its parents when
        missing, and writable.

    Raises:
        ConfigError: the folder cannot be made or written to.

    Example:
        >>> import tempfile
        >>> lesson_folder(tempfile.mkdtemp(), "01_medical_datasets").is_dir()
        True
    """
    folder = Path(run_root).expanduser().joinpath(*parts)  # "~/runs", as searches read it
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # mkdir says nothing of an existing folder one cannot write to (os.access says
        # yes to root even on a read-only mount): a file made and dropped tells.
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        is_file = folder.exists() and not folder.is_dir()
        why = "a file has that name" if is_file else (exc.strerror or type(exc).__name__)
        example = str(Path.home() / "nasbench-runs")
        raise ConfigError(
            f"the lesson cannot write to {str(folder)!r} ({why}); set RUN_ROOT in the "
            f"lesson's first cell to a folder you can write to, e.g. RUN_ROOT = {example!r}."
        ) from None
    return folder


def checked_names(
    parameter: str,
    names: Any,
    offered: collections.abc.Sequence[str],
    required: collections.abc.Mapping[str, str] | None = None,
    offered_as: str = "",
) -> tuple[str, ...]:
    """A lesson's list of names (``STRATEGIES``, ``PROXIES``), checked where it is set.

    A name the lesson cannot run would fail minutes later deep in the engine, and a name a
    later cell reads (the baseline every strategy is compared with) left out would fail
    there with a bare KeyError; both are found here, in one line that names the variable.

    Args:
        parameter: the variable's name in the lesson, for the message.
        names: what the learner wrote: a list (or tuple) of names.
        offered: the names the lesson can run, in the order the message lists them.
        required: name -> why the lesson needs it ("it is the baseline"), for the names
            later cells read.
        offered_as: what the offered names are, in words ("the zero-cost proxies"), said
            before the list.

    Returns:
        The names, as a tuple in the learner's order.

    Raises:
        ConfigError: ``names`` is no list of texts, holds a name not offered (the message
            lists the offered ones and the closest), or lacks a required one.

    Example:
        >>> checked_names("PROXIES", ["synflow", "snip"], ("grad_norm", "snip", "synflow"))
        ('synflow', 'snip')
    """
    example = f"{parameter} = {list(offered[:2])!r}"
    # A text is no list: "random" would be read as the names r, a, n, d, o, m.
    if isinstance(names, str) or not isinstance(names, collections.abc.Iterable):
        raise ConfigError(f"{parameter} must be a list of names, e.g. {example}; got {names!r}.")
    names = tuple(names)
    for name in names:
        if name not in offered:
            listed = ", ".join(map(repr, offered))
            choices = f"{offered_as}: {listed}" if offered_as else listed
            raise ConfigError(
                f"{parameter} holds {name!r}, which this lesson cannot run; pick one of "
                f"{choices}.{closest_name(name, list(offered))}"
            )
    for name, why in (required or {}).items():
        if name not in names:
            raise ConfigError(f"keep {name!r} in {parameter}: {why}.")
    return names


def _installed(module: str) -> bool:
    """True when ``module`` can be imported (False for a ``sys.modules[name] = None`` block)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _plain(value: Any) -> Any:
    """Numpy, torch and pandas values as Python ones (``.tolist()``: a scalar for a 0-d
    array or tensor, nested lists otherwise; a namedtuple as a tuple), so a right answer
    is right in any of the forms a lesson's code hands back."""
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
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):  # a namedtuple's constructor takes its fields one by one
        return tuple(_plain(v) for v in value)
    return value


def _as_expected(plain: Any, answer: Any, expected: Any) -> Any:
    """An array or tensor of one value where a number is expected, as that number (a
    ``(1,)`` tensor a loss or score often is); anything else as it is."""
    if isinstance(answer, type):  # a class (torch.Tensor) has no values to count
        return plain
    size = getattr(answer, "size", None)
    try:
        size = answer.numel() if callable(getattr(answer, "numel", None)) else size
    except Exception:  # noqa: BLE001 - a numel that is something else: not an array
        return plain
    if size != 1 or not isinstance(plain, list) or _category(expected) != "number":
        return plain
    while isinstance(plain, list) and len(plain) == 1:
        plain = plain[0]
    return plain


def _same(answer: Any, expected: Any, rel_tol: float, abs_tol: float) -> bool:
    if isinstance(answer, bool) or isinstance(expected, bool):
        return isinstance(answer, bool) and answer is expected
    if isinstance(answer, numbers.Real) and isinstance(expected, numbers.Real):
        if isinstance(answer, numbers.Integral) and isinstance(expected, numbers.Integral):
            return answer == expected  # a count is exact (and may pass a float's range)
        if expected != expected:  # NaN (math.isnan would overflow on a huge int)
            # An undefined result (a rank correlation of tied scores) is answered by NaN.
            return answer != answer
        try:
            return math.isclose(answer, expected, rel_tol=rel_tol, abs_tol=abs_tol)
        except OverflowError:  # an int past a float's range: equal only when exactly so
            return answer == expected
    if isinstance(expected, (set, frozenset)):
        # A set's order is free, so a list of distinct members (or a dict's keys) is as
        # right as a set; a dict itself or a repeated member is not.
        if not isinstance(answer, (collections.abc.Set, list, tuple)):
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
    if _is_frame(answer) and _is_frame(expected):
        # == on DataFrames gives a DataFrame, never True: compare labels, then values.
        return all(
            _same(_plain(getattr(answer, part)), _plain(getattr(expected, part)), rel_tol, abs_tol)
            for part in ("columns", "index", "values")
        )
    try:
        equal = answer == expected
        # A numpy scalar's == gives numpy.True_; an array's or a frame's, no single truth.
        return equal is True or (type(equal).__name__ == "bool_" and bool(equal))
    except Exception:  # an object that cannot be compared is not the answer
        return False


def _is_frame(value: Any) -> bool:
    pandas = sys.modules.get("pandas")  # not imported: no DataFrame exists
    return pandas is not None and isinstance(value, pandas.DataFrame)


def _is_series(value: Any) -> bool:
    pandas = sys.modules.get("pandas")  # not imported: no Series exists
    return pandas is not None and isinstance(value, pandas.Series)


def _labels_differ(answer: Any, expected: Any, rel_tol: float, abs_tol: float) -> str:
    """The first labels that differ between two DataFrames (the columns, then the index)
    or two Series (the index), in one sentence; "" where they agree, or where the answer
    and the expected value are not two frames or two Series (a list is as right as a
    Series of its values)."""
    if _is_frame(answer) and _is_frame(expected):
        parts = ("columns", "index")
    elif _is_series(answer) and _is_series(expected):
        parts = ("index",)
    else:
        return ""
    for part in parts:
        got, want = _plain(getattr(answer, part)), _plain(getattr(expected, part))
        if _same(got, want, rel_tol, abs_tol):
            continue
        what = "The columns differ" if part == "columns" else "The index differs"
        missing = _not_in(want, got) if part == "columns" else []
        unexpected = _not_in(got, want) if part == "columns" else []
        if missing or unexpected:
            said = [f"missing {_listed(missing)}"] if missing else []
            said += [f"unexpected {_listed(unexpected)}"] if unexpected else []
            return f"{what}: {', '.join(said)}"
        shown_want, shown_got = _listed(want), _listed(got)
        if " ..." not in shown_want + shown_got:
            said = f"{what}: expected {shown_want}, got {shown_got}"
        elif len(got) != len(want):  # too long to show whole: how many there are
            return f"{what}: expected {len(want)} labels, got {len(got)}"
        else:  # too long to show whole: the first place they part
            at = next(i for i, w in enumerate(want) if not _same(got[i], w, rel_tol, abs_tol))
            said = f"{what} at position {at}: expected {_listed(want[at])}, got {_listed(got[at])}"
        try:
            reordered = collections.Counter(got) == collections.Counter(want)
        except TypeError:  # an unhashable label
            reordered = False
        return said + (" (the same labels in another order)" if reordered else "")
    return ""


def _not_in(labels: list, others: list) -> list:
    """The labels that ``others`` lacks, in their order."""
    try:
        others = set(others)  # a long index: no scan of the list per label
    except TypeError:  # an unhashable label
        pass
    return [label for label in labels if label not in others]


def _listed(labels: Any, width: int = 60) -> str:
    """Labels (or one label) as written in Python, on one line, shortened to ``width``."""
    text = " ".join(repr(labels).split())
    return text if len(text) <= width else text[: width - 4] + " ..."


def _category(value: Any) -> str:
    """Which kind of answer a value is, numbers counting as one kind."""
    try:
        value = _plain(value)
    except RecursionError:  # a list that holds itself
        return type(value).__name__
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, numbers.Real):
        return "number"
    if isinstance(value, (list, tuple)):
        return "sequence"
    if isinstance(value, (set, frozenset)):
        return "set"
    return type(value).__name__


def _kind(value: Any) -> str:
    """A value's kind in words: "a list of 3 ints", "a numpy array of shape (2, 3)"."""
    if isinstance(value, type):  # the class itself (pd.DataFrame), not one of its values
        return f"the class {value.__name__}"
    name = type(value).__name__
    try:
        shape = getattr(value, "shape", None)
        if shape is not None and not isinstance(value, (int, float)):
            module = type(value).__module__.split(".")[0]
            return f"a {module} {name} of shape {tuple(shape)}"
        if isinstance(value, (list, tuple, set, frozenset, dict)):
            kinds = sorted({type(v).__name__ for v in value})
            of = f" of {len(value)} {'/'.join(kinds)}s" if value else ", empty"
            return f"a {name}{of}"
    except Exception:  # noqa: BLE001 - a shape or len that raises (or is no sequence)
        pass
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _shown(value: Any) -> str:
    """The answer as written back to the learner: its repr, shortened; never an error."""
    try:
        text = " ".join(repr(value).split())
    except Exception:
        return f"<{type(value).__name__}>"
    return text if len(text) <= 80 else text[:77] + "..."
