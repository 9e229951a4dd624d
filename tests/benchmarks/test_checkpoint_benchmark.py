"""benchmarks/checkpoint.py: writes counted under each schedule, on the tiny search."""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

import pytest

from nasbench.engine.bilevel import _build, _Loop
from nasbench.runs import RunStore, checkpoint_schedule, load_checkpoint


def test_scheduled_runs_write_as_their_schedule_says(load_benchmark, monkeypatch):
    bench = load_benchmark("checkpoint")
    config = bench.search_config("tiny")
    assert config.space["skeleton"] == {"n_cells": 2, "channels": 4}
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        with RunStore.create(run_dir, config.to_dict(), environment={}) as store:
            loop = _Loop(config, store, run_dir, parts=_build(config))
            writes, writing_s, total_s = bench.scheduled_run(loop, 1, 3)
            assert writes == 3 and 0 < writing_s < total_s
            assert load_checkpoint(run_dir)["step"] == 3
            # "auto" with writes that can never pay for themselves: only the first.
            monkeypatch.setattr(checkpoint_schedule, "AUTO_RATIO", 1e12)
            writes, _, _ = bench.scheduled_run(loop, "auto", 3)
            assert writes == 1 and load_checkpoint(run_dir)["step"] == 4


def test_the_script_prints_both_schedules(load_benchmark, monkeypatch, capsys):
    bench = load_benchmark("checkpoint")
    argv = ["checkpoint.py", "--size", "tiny", "--steps", "2", "--warmup", "0"]
    monkeypatch.setattr(sys, "argv", argv)
    bench.main()
    out = capsys.readouterr().out
    assert "search: tiny" in out and "0.26 MiB" in out
    assert re.search(r"checkpoint_every=1 +2 writes in 2 steps", out)
    assert re.search(r"checkpoint_every='auto' +[12] writes in 2 steps", out)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--steps", "0"], "argument --steps: must be at least 1, got 0"),
        (["--steps", "-3"], "argument --steps: must be at least 1, got -3"),
        (["--warmup", "-1"], "argument --warmup: must be at least 0, got -1"),
    ],
)
def test_counts_below_their_least_are_refused_in_one_line(
    load_benchmark, monkeypatch, capsys, argv, message
):
    bench = load_benchmark("checkpoint")
    monkeypatch.setattr(sys, "argv", ["checkpoint.py", *argv])
    with pytest.raises(SystemExit) as exc:
        bench.main()
    assert exc.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"checkpoint.py: error: {message}"
