"""The history figures tick their steps and epochs at whole numbers, short runs or long."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nasbench.viz.history import (
    AUTO_TICKS_ABOVE,
    MOST_TICKS,
    integer_ticks,
    plot_eigenvalues,
    plot_history,
)


def _history(n: int) -> pd.DataFrame:
    """``n`` steps of training loss and accuracy, and one validation row per epoch of
    ``n`` epochs: the loss, its Hessian eigenvalue and the parameter-free ops."""
    rows = [(s, 0, "train", name, 1.0) for s in range(n) for name in ("loss", "acc")]
    rows += [(e, e, "val", name, 0.5) for e in range(n)
             for name in ("val_loss", "hessian_eigenvalue", "parameter_free_ops")]  # fmt: skip
    return pd.DataFrame(rows, columns=["step", "epoch", "phase", "name", "value"])


def _tick_steps(fig) -> list[int | str]:
    """The tick step of each x axis that holds a trace, checked to fall on whole numbers:
    "auto" where plotly's own ticks do (an axis too long for it to halve a step)."""
    names = dict.fromkeys(f"xaxis{trace.xaxis[1:]}" for trace in fig.data)
    axes = [fig.layout[name] for name in names]
    for axis in axes:
        if axis.tickmode == "auto":
            assert (axis.dtick, axis.tick0, axis.tickformat) == (None, None, None), axis
            continue
        assert (axis.tickmode, axis.tick0, axis.tickformat) == ("linear", 0, "d"), axis
        assert isinstance(axis.dtick, int) and axis.dtick >= 1
    return ["auto" if axis.tickmode == "auto" else axis.dtick for axis in axes]


@pytest.mark.parametrize("n", [1, 2, 3])
def test_a_short_run_is_ticked_at_each_step_and_epoch(n):
    frame = _history(n)
    # Two panels (loss, acc) and the collapse watch's two rows: step 1, no halves.
    assert _tick_steps(plot_history(frame, metrics=("loss", "acc"))) == [1, 1]
    assert _tick_steps(plot_eigenvalues(frame, window=1, factor=1.3, start_epoch=0)) == [1, 1]


def test_a_long_run_keeps_plotlys_own_whole_ticks_which_follow_a_zoom():
    frame = _history(500)
    assert _tick_steps(plot_history(frame, metrics=("loss", "acc"))) == ["auto", "auto"]
    watch = plot_eigenvalues(frame, window=5, factor=1.3, start_epoch=10)
    assert set(_tick_steps(watch)) == {"auto"}
    # Nine steps in a panel of half the width: whole ticks every 5, not plotly's halves.
    assert _tick_steps(plot_history(_history(10), metrics=("loss", "acc"))) == [5, 5]


def test_integer_ticks_step_by_one_two_or_five_until_plotly_ticks_whole_numbers():
    steps = [integer_ticks([0, span])["dtick"] for span in (0, 2, 8, 9, 10, 11, 499)]
    assert steps == [1, 1, 1, 2, 2, None, None]
    assert integer_ticks([0, 11])["tickmode"] == "auto" and AUTO_TICKS_ABOVE == 10
    assert integer_ticks([])["dtick"] == 1 and integer_ticks([np.nan, 3.0, 7.0])["dtick"] == 1
    assert integer_ticks(range(10), most=2)["dtick"] == 5
    # Whatever the span, fixed ticks across it are distinct whole numbers, at most most + 1.
    for span in range(0, AUTO_TICKS_ABOVE + 1):
        for most in (2, 4, MOST_TICKS):
            step = integer_ticks([0, span], most)["dtick"]
            ticks = np.arange(0, span + step, step)
            assert len(ticks) <= most + 2 and len(set(ticks.tolist())) == len(ticks)
