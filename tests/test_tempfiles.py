"""Killed writes' temporaries are removed by the next write of the same target only."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

from nasbench.tempfiles import (
    STALE_TEMP_SECONDS,
    WRITER_TAG,
    process_gone,
    remove_stale_temps,
    temp_prefix,
    writer_gone,
    writer_tag,
)


def test_a_gone_writers_temporary_goes_and_a_live_or_another_targets_stays(tmp_path):
    target = tmp_path / "report.html"
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    assert process_gone(ended.pid) and not process_gone(os.getpid())
    host = writer_tag().partition("-")[2]
    gone = tmp_path / f".report.html.{ended.pid}-{host}.abcd1234.tmp"
    live = tmp_path / f"{temp_prefix(target)}efgh5678.tmp"
    other = tmp_path / f".report.html.x.html.{ended.pid}-{host}.abcd1234.tmp"  # another target's
    # Another machine's writer (a folder shared over NFS, another container): its pid says
    # nothing here, so only age tells, as for an earlier version's temporary without a tag.
    foreign = tmp_path / f".report.html.{ended.pid}-00000000.qrst1234.tmp"
    old, new = tmp_path / ".report.html.ijkl9012.tmp", tmp_path / ".report.html.mnop3456.tmp"
    foreign_old = tmp_path / f".report.html.{ended.pid}-00000000.uvwx5678.tmp"
    for path in (gone, live, other, old, new, foreign, foreign_old):
        path.write_text("half")
    aged = time.time() - STALE_TEMP_SECONDS - 60
    for path in (old, foreign_old):
        os.utime(path, (aged, aged))
    remove_stale_temps(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (live, other, new, foreign)
    )


def test_a_writer_tag_names_this_machine_and_only_its_writers_are_probed():
    tag = writer_tag()
    assert re.fullmatch(WRITER_TAG, tag) and writer_gone(tag) is False
    assert writer_gone(f"{os.getpid()}-00000000") is None  # another machine's
    assert writer_gone("not-a-tag") is None
