"""A wall-time budget for differentiable searches: the plan, the loop that follows it, resume."""

from __future__ import annotations

import os
import signal

import pytest
import torch

from nasbench.config import DatasetConfig
from nasbench.engine import bilevel
from nasbench.engine.budget import PROBE_STEPS, BudgetPlan, fit_budget
from nasbench.engine.search import resume, search
from nasbench.errors import ConfigError
from nasbench.runs import load
from nasbench.runs.checkpoint_schedule import CheckpointSchedule
from nasbench.runs.faults import ENV

from .conftest import tiny_config
from .test_kill_anywhere import tables


def test_a_budget_that_fits_keeps_the_configured_search():
    plan = fit_budget(1000, spent_s=2, step_s=1, eval_s=3, epochs=4, steps_per_epoch=10,
                      steps_done=3)  # fmt: skip
    assert (plan.epochs, plan.steps_per_epoch, plan.shrunk) == (4, 10, False)
    assert plan.estimate_s == pytest.approx(2 + 37 * 1 + 4 * 3)


def test_a_short_budget_drops_whole_epochs_first():
    # Each epoch costs 10 steps + 3 s validation = 13 s; 3 steps are done already.
    plan = fit_budget(35, spent_s=3, step_s=1, eval_s=3, epochs=4, steps_per_epoch=10,
                      steps_done=3)  # fmt: skip
    assert (plan.epochs, plan.steps_per_epoch, plan.shrunk) == (2, 10, True)
    assert plan.estimate_s <= 35
    assert "4 epochs x 10 steps would not fit" in plan.describe()


def test_a_budget_smaller_than_the_least_search_says_so_not_that_it_fits():
    plan = fit_budget(0.001, spent_s=0.5, step_s=0.08, eval_s=0.2, epochs=1, steps_per_epoch=2,
                      steps_done=2)  # fmt: skip
    assert plan.estimate_s > 0.001
    text = plan.describe()
    assert "even 1 epoch(s) x 2 step(s), the least a search runs" in text and " fit " not in text


def test_when_one_epoch_does_not_fit_it_gets_fewer_steps_never_below_those_taken():
    plan = fit_budget(10, spent_s=2, step_s=1, eval_s=2, epochs=3, steps_per_epoch=50,
                      steps_done=3)  # fmt: skip
    assert (plan.epochs, plan.steps_per_epoch) == (1, 9)  # 6 more steps + validation = 8 s
    spent = fit_budget(10, spent_s=60, step_s=1, eval_s=2, epochs=3, steps_per_epoch=50,
                       steps_done=3)  # fmt: skip
    assert (spent.epochs, spent.steps_per_epoch) == (1, 3)


def test_a_plan_round_trips_through_its_dict():
    plan = fit_budget(40, 3, 1, 3, 4, 10, 3)
    data = plan.to_dict()
    assert data["shrunk"] is True and BudgetPlan.from_dict(data) == plan


@pytest.mark.parametrize("seconds", [0, -5.0])
def test_a_budget_must_be_positive(tiny, seconds):
    with pytest.raises(ConfigError, match="max_seconds must be a positive"):
        tiny(max_seconds=seconds).validate()


def test_a_spent_budget_ends_after_the_probe_with_a_derived_cell(tiny, tmp_path, capsys):
    config = tiny(epochs=3, max_steps_per_epoch=4, max_seconds=1e-3)
    result = search(config, tmp_path / "run", progress=True)
    assert result.status == "finished" and result.steps == PROBE_STEPS
    run = load(tmp_path / "run")
    budget = run.events[run.events.kind == "search_budget"]
    assert len(budget) == 1
    plan = budget.iloc[0].payload
    assert (plan["epochs"], plan["steps_per_epoch"], plan["shrunk"]) == (1, PROBE_STEPS, True)
    assert plan["step_s"] > 0 and plan["eval_s"] > 0
    assert len(run.genotypes) == 1 and result.genotype is not None  # the epoch end's cell
    assert run.progress["total_steps"] == PROBE_STEPS
    out, err = capsys.readouterr()
    assert "would not fit" in out
    assert "validation, epoch 0" in err  # the validation's own bar, not a silent full one


def test_a_generous_budget_changes_nothing(tiny, tmp_path):
    plain = search(tiny(epochs=1), tmp_path / "plain")
    budgeted = search(tiny(epochs=1, max_seconds=1e6), tmp_path / "budgeted")
    assert budgeted.steps == plain.steps and budgeted.genotype == plain.genotype
    assert budgeted.metrics == plain.metrics  # timing the probe leaves the random state alone
    events = load(tmp_path / "budgeted").events
    assert events[events.kind == "search_budget"].iloc[0].payload["shrunk"] is False


def test_the_plan_counts_the_checkpoint_writes_between_steps(tiny, tmp_path, monkeypatch):
    # Writes that would add a minute to every step: a budget of five minutes then fits one
    # epoch of the 3 x 4 steps the config asks for, not all of them.
    monkeypatch.setattr(CheckpointSchedule, "seconds_per_step", lambda self, step_s: 60.0)
    result = search(tiny(epochs=3, max_steps_per_epoch=4, max_seconds=300), tmp_path / "run")
    plan = load(tmp_path / "run").events.query("kind == 'search_budget'").iloc[0].payload
    # Counted once per step: the minute plus a measured step of a tiny net, well under a
    # second idle but several on a loaded machine, never a second minute.
    assert 60.0 < plan["step_s"] < 120.0
    assert plan["shrunk"] is True and result.steps < 12


def test_time_estimate_probes_two_steps_and_writes_nothing(tiny, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    estimate = bilevel.time_estimate(tiny(epochs=3, max_steps_per_epoch=2, max_seconds=1e-3))
    assert estimate["step_s"] > 0 and estimate["eval_s"] > 0
    assert (estimate["epochs"], estimate["steps_per_epoch"]) == (3, 2)
    assert estimate["total_s"] == pytest.approx(
        estimate["build_s"] + 3 * (2 * estimate["step_s"] + estimate["eval_s"])
    )
    assert estimate["plan"]["shrunk"] is True and estimate["plan"]["epochs"] == 1
    assert list(tmp_path.iterdir()) == []


# ---- resume follows the recorded plan ----------------------------------------------------------
def _killable_config():
    """Three epochs of four steps, tiny; a fixed plan (below) keeps two of them."""
    return tiny_config(
        dataset=DatasetConfig(name="synthetic", limit=32, batch_size=4),
        space={"name": "darts", "n_nodes": 2, "skeleton": {"n_cells": 2, "channels": 2}},
        epochs=3,
        max_steps_per_epoch=4,
        checkpoint_every=1,
        alpha_every=1,
        max_seconds=11.0,
        device="cpu",
    )


def _fixed_measurements(max_seconds, spent_s, step_s, eval_s, **rest):
    """The real planner fed fixed timings: 1 s a step, 1 s a validation, nothing spent."""
    return fit_budget(max_seconds, 0.0, 1.0, 1.0, **rest)


def _measuring_again(*args, **kwargs):
    raise AssertionError("a resumed search measured again instead of following its plan")


@pytest.fixture
def one_thread_fixed_plan(monkeypatch):
    """One torch thread (a forked child must not enter OpenMP) and deterministic timings."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    monkeypatch.setattr(bilevel, "fit_budget", _fixed_measurements)
    yield
    torch.set_num_threads(threads)


def _killed_at_step(step: int, run_dir) -> None:
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.environ[ENV] = f"step:{step}"
            search(_killable_config(), run_dir)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


@pytest.mark.slow
@pytest.mark.parametrize("kill_step", [2, 6])  # before the plan is made, and after it
def test_resume_after_a_kill_ends_as_the_uninterrupted_budgeted_run(
    one_thread_fixed_plan, monkeypatch, tmp_path, kill_step
):
    whole = search(_killable_config(), tmp_path / "whole")
    assert whole.steps == 8  # (4 e - 3) s of steps + e s of validation <= 11 s: e = 2
    run_dir = tmp_path / "killed"
    _killed_at_step(kill_step, run_dir)
    if kill_step > PROBE_STEPS:
        monkeypatch.setattr(bilevel, "fit_budget", _measuring_again)
    result = resume(run_dir)
    assert (result.steps, result.genotype) == (whole.steps, whole.genotype)
    assert tables(run_dir) == tables(tmp_path / "whole")
