"""What the benchmark scripts' tests share: a usage error's one line, and a script's
``__main__`` block run with the search failing as a project error."""

from __future__ import annotations

import importlib
import runpy
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from nasbench.errors import DatasetError

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def usage_error(capsys, call: Callable[[], object]) -> str:
    """Run ``call``, expect a usage error (exit 2), return its one stderr line."""
    with pytest.raises(SystemExit) as stop:
        call()
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "Traceback" not in "\n".join(err)
    return err[-1]


def main_block_error(
    monkeypatch, capsys, script: str, argv: Sequence[str], failing: str = "nasbench.search"
) -> str:
    """Run ``benchmarks/<script>`` as ``__main__`` with ``argv``, ``failing`` (a module's
    function, dotted) raising a two-line DatasetError; expect exit 2 and return stderr."""
    module, _, name = failing.rpartition(".")

    def fail(*args, **kwargs):
        raise DatasetError("the data went missing\n  mid-run")

    monkeypatch.setattr(importlib.import_module(module), name, fail)
    path = BENCHMARKS / script
    monkeypatch.setattr(sys, "argv", [str(path), *argv])
    with pytest.raises(SystemExit) as stop:
        runpy.run_path(str(path), run_name="__main__")
    assert stop.value.code == 2
    return capsys.readouterr().err.strip()
