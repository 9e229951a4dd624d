"""benchmarks/budget.py: its budgets checked before the first search, its rows printed."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pandas as pd
import pytest


@pytest.fixture
def bench(load_benchmark, monkeypatch):
    module = load_benchmark("budget")
    monkeypatch.setattr(sys, "argv", ["budget.py"])
    return module


def refusal(bench, argv, capsys) -> str:
    with pytest.raises(SystemExit) as exc:
        bench.main(argv)
    assert exc.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("budgets", "message"),
    [
        ("5,abc", "expected seconds (0 or more), comma-separated, got 'abc' in '5,abc'"),
        ("", "expected seconds (0 or more), comma-separated, got '' in ''"),
        ("-5", "a budget is finite seconds, 0 (none) or more, got '-5'"),
        ("45,nan", "a budget is finite seconds, 0 (none) or more, got 'nan'"),
        ("inf", "a budget is finite seconds, 0 (none) or more, got 'inf'"),
    ],
)
def test_every_budget_is_checked_before_the_first_search(
    bench, monkeypatch, capsys, budgets, message
):
    def no_search(*_):
        raise AssertionError("searched before the budgets were checked")

    monkeypatch.setattr(bench, "search", no_search)
    line = refusal(bench, ["--budgets", budgets], capsys)
    assert line == f"budget.py: error: argument --budgets: {message}"


def test_a_small_budget_is_printed_with_its_digits(bench, monkeypatch, capsys):
    plan = {"epochs": 1, "steps_per_epoch": 1, "configured_epochs": 3}
    plan |= {"configured_steps_per_epoch": 8, "estimate_s": 0.5}
    events = pd.DataFrame({"kind": ["search_budget"], "payload": [plan]})
    monkeypatch.setattr(bench, "search", lambda config, run_dir: SimpleNamespace(steps=1))
    monkeypatch.setattr(bench, "load", lambda run_dir: SimpleNamespace(events=events))
    bench.main(["--budgets", "0.001,45"])
    rows = capsys.readouterr().out.splitlines()[2:]
    assert rows[0].split()[0] == "0.001" and rows[1].split()[0] == "45"


def test_the_projects_errors_are_one_line(bench, monkeypatch, capsys):
    from _script import run_main

    from nasbench.errors import ConfigError

    def refused(config, run_dir):
        raise ConfigError("max_seconds is too short\n  for even one step")

    monkeypatch.setattr(bench, "search", refused)
    assert run_main(lambda: bench.main(["--budgets", "1"])) == 2
    err = capsys.readouterr().err
    assert err == "budget.py: error: max_seconds is too short for even one step\n"
