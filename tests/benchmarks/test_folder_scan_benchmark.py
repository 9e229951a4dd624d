"""benchmarks/folder_scan.py: every row printed, headers counted as the caches promise."""

from __future__ import annotations

import re
import sys


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
