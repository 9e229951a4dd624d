"""Lessons 03 to 07 as a learner edits a knob of a setup cell: a value the lesson cannot run
stops it in one line that names the knob, where the knob is first read."""

from __future__ import annotations

import nbformat
import pytest

from tests.notebooks.conftest import NOTEBOOKS, execute_lesson, reference_answers


def stopped_by(stem: str, tmp_path, old: str, new: str):
    """Run lesson ``stem`` with the line ``old`` of a code cell edited to ``new`` (the knobs
    sit below the parameters cell, where the harness cannot set them) and return the error
    that stops it."""
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and old in c.source]
    cell.source = cell.source.replace(old, new)
    edited = tmp_path / f"{stem}.ipynb"
    nbformat.write(nb, edited)
    with pytest.raises(CellExecutionError) as err:
        execute_lesson(edited, tmp_path, answers=reference_answers(stem))
    return err.value


STRATEGIES = (
    'STRATEGIES = ["random", "grid", "evolution", "reinforce", "bayesopt", "hill_climbing"]'
)


@pytest.mark.slow
def test_strategies_with_a_differentiable_one_name_the_strategies_the_table_runs(tmp_path):
    edit = 'STRATEGIES = ["random", "genetic", "darts"]'
    err = stopped_by("03_search_strategies", tmp_path, STRATEGIES, edit)
    assert err.ename == "ConfigError"
    assert err.evalue == (
        "STRATEGIES holds 'darts', which this lesson cannot run; pick one of the discrete "
        "strategies that search this table: 'random', 'grid', 'evolution', 'genetic', "
        "'reinforce', 'bayesopt', 'hill_climbing', 'nsga2'."
    )


@pytest.mark.slow
def test_strategies_without_random_are_told_to_keep_the_baseline(tmp_path):
    edit = 'STRATEGIES = ["evolution", "hill_climbing"]'
    err = stopped_by("03_search_strategies", tmp_path, STRATEGIES, edit)
    assert (err.ename, err.evalue) == (
        "ConfigError",
        "keep 'random' in STRATEGIES: it is the baseline every other strategy is compared with.",
    )


@pytest.mark.slow
def test_channels_that_k_does_not_divide_stop_before_any_search(tmp_path):
    old = "K = 2 if QUICK else 4 "
    err = stopped_by("05_efficient_one_shot", tmp_path, old, "K = 3 if QUICK else 4 ")
    assert (err.ename, err.evalue) == (
        "ConfigError",
        "PC-DARTS sends 1/K of the channels through the ops: CHANNELS (4) must be divisible "
        "by K (3); change either.",
    )
    assert not list((tmp_path / "runs").glob("darts-*"))  # stopped in the setup cell


@pytest.mark.slow
def test_proxies_without_synflow_are_told_the_lesson_plots_it(tmp_path):
    old = 'PROXIES = ("synflow", "naswot", "grad_norm", "snip", "jacob_cov")'
    err = stopped_by("06_evaluation_strategies", tmp_path, old, 'PROXIES = ("naswot", "snip")')
    assert (err.ename, err.evalue) == (
        "ConfigError",
        "keep 'synflow' in PROXIES: section 4 plots its scores against the reference.",
    )


@pytest.mark.slow
def test_a_parameter_limit_below_every_architecture_says_none_fits(tmp_path):
    old = "MAX_PARAMS = 300_000 "
    err = stopped_by("07_multi_objective", tmp_path, old, "MAX_PARAMS = 50_000 ")
    assert (err.ename, err.evalue) == (
        "ConfigError",
        "no architecture of the table fits MAX_PARAMS = 50,000: its smallest has 72,498 "
        "parameters; set MAX_PARAMS (the cell after the parameters) to at least that.",
    )
