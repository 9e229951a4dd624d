"""benchmarks/architecture.py: its JSON output checked up front and written whole."""

from __future__ import annotations

import json
import math
import sys

import pytest

FIGURES = {
    "modules": 1, "lines": 2, "layer_violations": 0, "violating_package_pairs": [],
    "cycles": [], "mutual_pairs": [], "files_per_algorithm": {},
    "files_per_algorithm_max": 0, "files_per_algorithm_mean": math.nan,
    "repeated_blocks": 0, "any_core_nouns": False,
}  # fmt: skip


@pytest.fixture
def bench(load_benchmark, monkeypatch):
    module = load_benchmark("architecture")
    monkeypatch.setattr(sys, "argv", ["architecture.py"])
    return module


def test_a_folder_as_the_json_is_refused_before_measuring(bench, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(bench, "measure", lambda: pytest.fail("measured"))
    with pytest.raises(SystemExit) as exc:
        bench.main(["--json", str(tmp_path)])
    assert exc.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"architecture.py: error: argument --json: {tmp_path} is a folder; give a file name in it"
    )


def test_the_json_is_strict_and_written_whole(bench, monkeypatch, tmp_path):
    monkeypatch.setattr(bench, "measure", lambda: dict(FIGURES))
    out = tmp_path / "new" / "a.json"
    bench.main(["--json", str(out)])
    assert json.loads(out.read_text()) == {**FIGURES, "files_per_algorithm_mean": None}
    assert [p.name for p in out.parent.iterdir()] == ["a.json"]
