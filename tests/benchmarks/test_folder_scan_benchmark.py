"""benchmarks/folder_scan.py: every row printed, headers counted as the caches promise."""

from __future__ import annotations

import re
import sys

import pytest


def test_the_script_counts_each_header_once_a_cold_load(load_benchmark, monkeypatch, capsys):
    bench = load_benchmark("folder_scan")
    argv = ["folder_scan.py", "--images", "12", "--volumes", "3", "--repeats", "1"]
    monkeypatch.setattr(sys, "argv", argv)
    bench.main()
    out = capsys.readouterr().out
    assert "12 PNGs of 32x32, 3 NIfTI pairs" in out

    def headers(folder: str, what: str) -> int:
        line = re.search(rf"^ *{folder} +{what} .*$", out, re.M)
        assert line, f"no row {folder} {what}:\n{out}"
        return int(line.group(0).split()[-1])

    # Uncached, each of the three splits examines every picture; cached, the first only.
    assert headers("png", "load x3 uncached") == 36
    assert headers("png", "load x3 cold") == 12
    assert headers("png", "load x3 warm") == 0
    assert headers("png", "folder_info warm") == 0
    assert re.search(r"^ *png +folder_info cold .* 1\.00 +12$", out, re.M)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--size", "0"], "argument --size: must be at least 1, got 0"),
        (["--repeats", "0"], "argument --repeats: must be at least 1, got 0"),
        (["--images", "5"], "argument --images: must be at least 6, got 5"),
        (["--volumes", "2"], "argument --volumes: must be at least 3, got 2"),
    ],
)
def test_sizes_the_scan_cannot_use_are_refused_in_one_line(
    load_benchmark, monkeypatch, capsys, argv, message
):
    bench = load_benchmark("folder_scan")
    monkeypatch.setattr(sys, "argv", ["folder_scan.py", *argv])
    with pytest.raises(SystemExit) as exc:
        bench.main()
    assert exc.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"folder_scan.py: error: {message}"
