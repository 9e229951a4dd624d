"""benchmarks/run_loading.py: a row per run written, with the fetch it is measured against."""

from __future__ import annotations

import re


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
