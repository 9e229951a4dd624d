"""benchmarks/strategies.py: its arguments checked before the first search, its figure
written whole, next to the script unless told otherwise."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest


@pytest.fixture
def bench(load_benchmark, monkeypatch):
    module = load_benchmark("strategies")
    monkeypatch.setattr(sys, "argv", ["strategies.py"])
    return module


def refusal(bench, argv, monkeypatch, capsys) -> str:
    from _script import run_main

    monkeypatch.setattr(bench, "run_one", lambda *_, **__: pytest.fail("searched"))
    with pytest.raises(SystemExit) as exc:
        run_main(lambda: bench.main(argv))
    assert exc.value.code == 2
    return capsys.readouterr().err.splitlines()[-1]


def test_the_default_figure_is_next_to_the_script(bench):
    here = Path(bench.__file__).resolve().parent
    assert bench.DEFAULT_OUT == here / "out" / "strategies.html"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--seeds", "0"], "argument --seeds: must be at least 1, got 0"),
        (["--strategies", ""], "--strategies is empty; give some of random, evolution, "
                               "reinforce, bayesopt, hill_climbing"),
        (["--strategies", " , "], "--strategies is empty; give some of random, evolution, "
                                  "reinforce, bayesopt, hill_climbing"),
        (["--queries", "0,10"], "--queries must be positive integers"),
    ],
)  # fmt: skip
def test_bad_arguments_are_refused_in_one_line(bench, monkeypatch, capsys, argv, message):
    assert refusal(bench, argv, monkeypatch, capsys) == f"strategies.py: error: {message}"


def test_an_unknown_strategy_is_refused_before_the_first_search(bench, monkeypatch, capsys):
    from _script import run_main

    monkeypatch.setattr(bench, "run_one", lambda *_, **__: pytest.fail("searched"))
    assert run_main(lambda: bench.main(["--strategies", "random,evolutin"])) == 2
    err = capsys.readouterr().err
    assert err.startswith("strategies.py: error: Unknown strategy 'evolutin'; known: ")
    assert err.endswith("Did you mean 'evolution'?\n") and err.count("\n") == 1


def test_a_folder_as_the_figure_is_refused_up_front(bench, monkeypatch, capsys, tmp_path):
    line = refusal(bench, ["--out", str(tmp_path)], monkeypatch, capsys)
    assert line == (
        f"strategies.py: error: argument --out: {tmp_path} is a folder; give a file name in it"
    )
    assert list(tmp_path.iterdir()) == []


def test_the_figure_is_written_whole_and_readable_by_others(bench, tmp_path):
    import plotly.graph_objects as go

    out = tmp_path / "new" / "figure.html"
    assert bench.write_html(go.Figure(), out) == out
    assert "<html>" in out.read_text()
    assert [p.name for p in out.parent.iterdir()] == ["figure.html"]
    assert out.stat().st_mode & stat.S_IROTH
