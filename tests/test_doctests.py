"""Every ``>>>`` example in nasbench and the widgets runs and holds (illustrative ones say
``+SKIP``).

Examples see their module's names plus a few the docs use everywhere (numpy, torch,
pandas, the zoo, the common spaces, ``Skeleton``), as pytest's doctest namespace would
give them. They run in a temporary folder so anything they write lands there.
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

import nasbench

# Modules whose examples train or build networks for a few seconds.
SLOW = {
    "nasbench.bench",
    "nasbench.bench.synthetic",
    "nasbench.bench.table",
    "nasbench.evaluation",
    "nasbench.evaluation.baselines",
    "nasbench.evaluation.registry",
    "nasbench.evaluation.table_lookup",
    "nasbench.models.costs",
    "nasbench.strategies.differentiable",
}
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _modules() -> list[str]:
    # From the files, not pkgutil: nasbench/engine has no __init__.py.
    names = []
    for root in (Path(nasbench.__file__).parent, Path(nasbench.__file__).parents[1] / "widgets"):
        for path in sorted(root.rglob("*.py")):
            parts = path.relative_to(root.parent).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return [n for n in names if not n.endswith("__main__")]


def _namespace() -> dict:
    import numpy as np
    import pandas as pd
    import torch

    from nasbench.spaces import (
        CellSpace,
        ChainSpace,
        NasUnetSpace,
        NB201Space,
        create_space,
        parse_genotype,
        zoo,
    )
    from nasbench.spaces.skeleton import Skeleton

    return {
        "np": np,
        "pd": pd,
        "torch": torch,
        "zoo": zoo,
        "CellSpace": CellSpace,
        "ChainSpace": ChainSpace,
        "NasUnetSpace": NasUnetSpace,
        "NB201Space": NB201Space,
        "Skeleton": Skeleton,
        "create_space": create_space,
        "parse_genotype": parse_genotype,
    }


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in _modules()],
)
def test_examples_hold(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    failures = []
    for test in finder.find(module, name, extraglobs=_namespace()):
        report: list[str] = []
        result = doctest.DocTestRunner(optionflags=FLAGS).run(test, out=report.append)
        if result.failed:
            failures.append("".join(report))
    assert not failures, "\n".join(failures)


def test_the_examples_are_found():
    finder = doctest.DocTestFinder(exclude_empty=True)
    module = importlib.import_module("nasbench.registry")
    examples = sum(len(t.examples) for t in finder.find(module, "nasbench.registry"))
    assert examples >= 5
