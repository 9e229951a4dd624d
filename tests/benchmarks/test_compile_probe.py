"""The torch.compile probe's eager paths: the step timer and the exactness report.

Compiling takes minutes on a CPU, so only the eager modes run here; they are the
baseline and the rounding reference the README's compile figures stand on.
"""

from __future__ import annotations

import re
from dataclasses import replace


def _tiny(sb):
    """The small config cut to three cells of four channels on 8x8 images, batch 4: the
    printed report does not depend on the size, and the small one took ~20 s a step run."""
    return replace(sb.CONFIGS["small"], name="tiny", n_cells=3, channels=4, size=8, batch=4)


def test_exactness_report_of_channels_last_against_the_default_format(load_benchmark, capsys):
    probe = load_benchmark("compile_probe")
    sb = probe.sb
    probe.exactness(_tiny(sb), sb.VARIANTS["darts-1st+cl"], "plain")
    out = capsys.readouterr().out
    loss_diff = float(re.search(r"\|diff\| ([0-9.e+-]+)", out).group(1))
    worst = float(re.search(r"to its tensor's max ([0-9.e+-]+)", out).group(1))
    buffers = float(re.search(r"buffers \d+, max \|diff\| ([0-9.e+-]+)", out).group(1))
    # The same network in two memory formats: equal up to float32 rounding only.
    assert loss_diff < 1e-5
    assert worst < 0.05
    assert buffers < 1e-4
    assert "alpha gradients" in out


def test_eager_step_timer_prints_each_step_and_the_memory_growth(load_benchmark, capsys):
    probe = load_benchmark("compile_probe")
    sb = probe.sb
    probe.time_steps(_tiny(sb), sb.VARIANTS["darts-1st"], "eager", steps=1)
    out = capsys.readouterr().out
    losses = [
        float(v) for v in re.findall(r"step \d: wall [0-9.]+ s, cpu [0-9.]+ s, loss ([0-9.]+)", out)
    ]
    assert len(losses) == 3  # two warm-up steps and the one asked for
    assert all(0.0 < v < 10.0 for v in losses)
    assert "peak RSS growth" in out
