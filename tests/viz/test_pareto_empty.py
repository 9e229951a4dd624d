"""plot_pareto with nothing to plot says why: an empty frame given, or a run without candidates."""

from __future__ import annotations

import pandas as pd
import pytest

from nasbench.errors import ConfigError
from nasbench.runs import RunStore, load
from nasbench.viz import plot_pareto


def test_an_empty_frame_is_named_as_one_not_as_a_run_still_to_come():
    """Lesson 07's "params <= MAX_PARAMS" filter that keeps no candidate of a finished run."""
    candidates = pd.DataFrame({"cost.params": [72_498.0], "metrics.val_acc": [0.9]})
    feasible = candidates[candidates["cost.params"] <= 50_000]
    with pytest.raises(ConfigError) as err:
        plot_pareto(feasible, x="params", y="val_acc")
    said = str(err.value)
    assert said.startswith("the candidates given have no rows (did a filter keep none?)")
    assert "yet" not in said


def test_a_run_still_starting_is_told_it_has_no_candidates_yet(tmp_path):
    with RunStore.create(tmp_path / "new", {}, environment={}) as store:  # its writer lives
        run = load(store.run_dir)
        with pytest.raises(ConfigError, match=r"^this run has no evaluated candidates yet\.$"):
            plot_pareto(run)


def test_a_finished_run_without_candidates_is_not_told_to_wait(tmp_path):
    with RunStore.create(tmp_path / "darts", {"strategy": "darts"}, environment={}) as store:
        store.set_status("running")
        store.set_status("finished")
    with pytest.raises(ConfigError) as err:
        plot_pareto(load(tmp_path / "darts"))
    said = str(err.value)
    assert said.startswith("this run ended without evaluating a candidate") and "yet" not in said
