"""benchmarks/run_loading.py: a row per run written, with the fetch it is measured against."""

from __future__ import annotations

import re
import sys

import pytest


def test_the_script_prints_a_row_per_run_and_counts_every_value(load_benchmark, capsys, tmp_path):
    bench = load_benchmark("run_loading")
    bench.main(["--steps", "3", "7", "--folder", str(tmp_path)])
    out = capsys.readouterr().out
    rows = re.findall(r"^ +([\d,]+) +([\d,]+) +([\d.]+) +([\d.]+) +([\d.]+)x +([\d.]+) +"
                      r"([\d.]+) +([\d.]+)x$", out, re.M)  # fmt: skip
    per_step = len(bench.CELLS) * len(bench.EDGES) * len(bench.OPS)  # 2 x 14 x 8 values
    assert [(int(s.replace(",", "")), int(v.replace(",", ""))) for s, v, *_ in rows] == [
        (6, 3 * per_step),
        (14, 7 * per_step),
    ]
    # The runs stay in the folder given, and a second pass measures them without rewriting.
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["alphas-3", "alphas-7"]
    stamp = (tmp_path / "alphas-3" / "run.sqlite").stat().st_mtime_ns
    bench.main(["--steps", "3", "--folder", str(tmp_path)])
    assert (tmp_path / "alphas-3" / "run.sqlite").stat().st_mtime_ns == stamp


def test_a_measurement_reads_the_run_as_load_does(load_benchmark, tmp_path):
    bench = load_benchmark("run_loading")
    bench.write_run(tmp_path / "run", steps=2)
    row = bench.measure(str(tmp_path / "run"))
    assert row["snapshots"] == 4 and row["values"] == 4 * 14 * 8
    assert row["frame_mb"] > 0 and row["load_s"] > 0 and row["fetch_s"] > 0


def run_loading_refusal(bench, argv, monkeypatch, capsys) -> str:
    monkeypatch.setattr(sys, "argv", ["run_loading.py"])
    with pytest.raises(SystemExit) as exc:
        bench.main(argv)
    assert exc.value.code == 2
    return capsys.readouterr().err.splitlines()[-1]


def test_a_run_of_no_steps_is_refused_in_one_line(load_benchmark, monkeypatch, capsys):
    bench = load_benchmark("run_loading")
    line = run_loading_refusal(bench, ["--steps", "10", "0"], monkeypatch, capsys)
    assert line == "run_loading.py: error: argument --steps: must be at least 1, got 0"


def test_a_folder_that_cannot_hold_runs_is_refused_before_any_is_written(
    load_benchmark, monkeypatch, capsys, tmp_path
):
    bench = load_benchmark("run_loading")
    monkeypatch.setattr(bench, "write_run", lambda *_: pytest.fail("wrote a run"))
    a_file = tmp_path / "passwd"
    a_file.write_text("")
    line = run_loading_refusal(bench, ["--folder", str(a_file)], monkeypatch, capsys)
    assert line == (
        f"run_loading.py: error: argument --folder: cannot write runs in {a_file} "
        f"({a_file} is a file, not a folder)"
    )
    under = a_file / "runs"
    line = run_loading_refusal(bench, ["--folder", str(under)], monkeypatch, capsys)
    assert line.endswith(f"cannot write runs in {under} ({a_file} is a file, not a folder)")

    def cannot_make(self, *args, **kwargs):
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(bench.Path, "mkdir", cannot_make)
    line = run_loading_refusal(bench, ["--folder", str(tmp_path / "x")], monkeypatch, capsys)
    assert line == (
        f"run_loading.py: error: argument --folder: cannot make {tmp_path / 'x'} "
        "(No such file or directory)"
    )
