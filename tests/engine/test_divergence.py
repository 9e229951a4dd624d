"""Divergence and damage: a search whose numbers stop being finite fails with one line and
keeps its last good checkpoint; a damaged checkpoint falls back to the previous one."""

from __future__ import annotations

import sqlite3

import pytest
import torch

from nasbench.engine.search import resume, search
from nasbench.errors import CheckpointError, DivergenceError
from nasbench.runs import load, load_checkpoint

from .test_kill_anywhere import config, killed_at, one_torch_thread, tables  # noqa: F401 (autouse)


def _failed(run_dir, **overrides) -> str:
    cfg = config()
    for key, value in overrides.items():
        setattr(cfg, key, value)
    with pytest.raises(DivergenceError) as err:
        search(cfg, run_dir)
    message = str(err.value)
    assert "\n" not in message
    run = load(run_dir)
    assert run.status == "failed" and run.message == message
    return message


def test_nan_training_loss_fails_naming_the_step_and_keeps_what_was_done(tmp_path):
    message = _failed(tmp_path / "run", w_lr=1e30)
    assert message.startswith("the search diverged at step 2 (epoch 0): the training loss is nan")
    assert "lower w_lr (now 1e+30)" in message and "checkpoint of step 1 is kept" in message
    run = load(tmp_path / "run")
    assert sorted(set(run.history.step)) == [1]  # the completed step, not the diverged one
    assert load_checkpoint(tmp_path / "run")["step"] == 1


def test_exploding_alphas_fail_at_the_first_step(tmp_path):
    message = _failed(tmp_path / "run", strategy_config={"arch_lr": 1e8})
    assert "step 1 (epoch 0): the largest architecture weight reached 1e+08 (> 10000)" in message
    assert "lower arch_lr" in message and "no checkpoint was written yet" in message


def test_non_finite_gradient_norm_fails(tmp_path, monkeypatch):
    def nan_norm(parameters, max_norm, *args, **kwargs):
        return torch.tensor(float("nan"))

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", nan_norm)
    message = _failed(tmp_path / "run")
    assert "step 1 (epoch 0): the weight gradient norm is nan" in message


def test_non_finite_validation_loss_names_the_epoch_end(tmp_path):
    message = _failed(tmp_path / "run", w_lr=1e8)
    assert "diverged at" in message and "loss is nan" in message


def _whole_and_killed(tmp_path):
    """An uninterrupted run, and the same search killed at its 4th step (last.pt holds
    step 3, prev.pt step 2)."""
    whole = tmp_path / "whole"
    search(config(), whole)
    run_dir = tmp_path / "run"
    killed_at("step", 4, run_dir)
    return whole, run_dir


@pytest.mark.slow
def test_damaged_last_checkpoint_falls_back_to_prev_and_resumes_exactly(tmp_path):
    whole, run_dir = _whole_and_killed(tmp_path)
    last = run_dir / "checkpoints" / "last.pt"
    last.write_bytes(last.read_bytes()[:1000])
    with pytest.warns(UserWarning, match=r"last\.pt is damaged .* resuming from .*prev\.pt"):
        resume(run_dir)
    assert tables(run_dir) == tables(whole)


def test_both_checkpoints_damaged_is_one_line_and_leaves_the_rows(tmp_path):
    run_dir = tmp_path / "run"
    killed_at("step", 4, run_dir)
    for name in ("last.pt", "prev.pt"):
        (run_dir / "checkpoints" / name).write_bytes(b"")
    before = tables(run_dir)
    with pytest.raises(CheckpointError) as err:
        resume(run_dir)
    # Both named, with the one way out (deleting prev.pt alone would only bring back last.pt's)
    assert "last.pt is damaged" in str(err.value) and "prev.pt is damaged" in str(err.value)
    assert "to resume from step 0" in str(err.value) and "delete it" not in str(err.value)
    assert tables(run_dir) == before  # nothing discarded on a failed resume


def test_damaged_database_is_one_line_for_resume(tmp_path):
    run_dir = tmp_path / "run"
    killed_at("step", 1, run_dir)
    (run_dir / "run.sqlite").write_bytes(b"garbage" * 1000)
    for suffix in ("-wal", "-shm"):
        (run_dir / f"run.sqlite{suffix}").unlink(missing_ok=True)
    with pytest.raises(Exception) as err:
        resume(run_dir)
    assert "run.sqlite is damaged or not a run database" in str(err.value)
    assert not isinstance(err.value, sqlite3.Error)


def test_a_nan_loss_from_nan_alphas_names_arch_lr_too(tmp_path):
    """An arch_lr far too high makes the alphas, and so the loss, NaN at the first step:
    the message must not blame w_lr alone."""
    message = _failed(tmp_path / "run", strategy_config={"arch_lr": 1e308})
    assert "the training loss is nan" in message
    assert "lower w_lr (now 0.025) or arch_lr (now 1e+308)" in message


@pytest.mark.parametrize("drop", ["strategy", "seed", "dataset.batch_size"])
def test_a_stored_config_without_a_setting_is_refused_not_defaulted(tmp_path, drop):
    import json

    from nasbench.errors import ConfigError

    run_dir = tmp_path / "run"
    killed_at("step", 2, run_dir)
    db = sqlite3.connect(run_dir / "run.sqlite")
    with db:
        stored = json.loads(db.execute("SELECT value FROM meta WHERE key = 'config'").fetchone()[0])
        if "." in drop:
            del stored["dataset"][drop.split(".")[1]]
        else:
            del stored[drop]
        db.execute("UPDATE meta SET value = ? WHERE key = 'config'", (json.dumps(stored),))
    db.close()
    before = tables(run_dir)
    with pytest.raises(ConfigError, match=f"stores a config without {drop} .* Start a new run"):
        resume(run_dir)
    assert tables(run_dir) == before


@pytest.mark.slow
def test_a_store_that_lost_its_last_rows_resumes_from_a_checkpoint_it_has_rows_for(tmp_path):
    whole, run_dir = _whole_and_killed(tmp_path)
    db = sqlite3.connect(run_dir / "run.sqlite")
    with db:  # as if the writes of step 3 never reached the disk
        for table in ("metrics", "alpha_snapshots", "genotypes", "events"):
            db.execute(f"DELETE FROM {table} WHERE step >= 3")
    db.close()
    with pytest.warns(UserWarning, match=r"rows up to step 2 .* resuming from step 2 \(prev\.pt\)"):
        resume(run_dir)
    assert tables(run_dir) == tables(whole)
