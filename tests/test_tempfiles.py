"""Killed writes' temporaries are removed by the next write of the same target only."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from nasbench.tempfiles import STALE_TEMP_SECONDS, process_gone, remove_stale_temps, temp_prefix


def test_a_gone_writers_temporary_goes_and_a_live_or_another_targets_stays(tmp_path):
    target = tmp_path / "report.html"
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    assert process_gone(ended.pid) and not process_gone(os.getpid())
    gone = tmp_path / f".report.html.{ended.pid}.abcd1234.tmp"
    live = tmp_path / f"{temp_prefix(target)}efgh5678.tmp"
    other = tmp_path / f".report.html.x.html.{ended.pid}.abcd1234.tmp"  # another target's
    old, new = tmp_path / ".report.html.ijkl9012.tmp", tmp_path / ".report.html.mnop3456.tmp"
    for path in (gone, live, other, old, new):
        path.write_text("half")
    aged = time.time() - STALE_TEMP_SECONDS - 60  # an earlier version's, without a pid
    os.utime(old, (aged, aged))
    remove_stale_temps(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in (live, other, new))
