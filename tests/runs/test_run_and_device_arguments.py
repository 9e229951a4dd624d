"""A loaded Run where a run folder goes; None, a wrong device or an RNG dict without states
as one-line errors (not a TypeError, a KeyError, or a good checkpoint called damaged)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

import nasbench
from nasbench.errors import CheckpointError, ConfigError
from nasbench.runs import (
    RunStore,
    capture_environment,
    list_runs,
    load,
    load_checkpoint,
    restore_rng,
    save_checkpoint,
)
from nasbench.runs.schema import run_folder


@pytest.fixture
def run(tmp_path):
    with RunStore.create(tmp_path / "runs" / "r1", {"seed": 0}, environment={}) as store:
        store.set_status("stopped")
    save_checkpoint(store.run_dir, {"w": torch.ones(2)}, step=3)
    with load(store.run_dir) as opened:
        yield opened


def one_line(err: pytest.ExceptionInfo) -> str:
    assert "\n" not in str(err.value)
    return str(err.value)


def test_a_loaded_run_goes_wherever_its_folder_does(run):
    assert os.fspath(run) == str(run.run_dir)
    assert str(run) == repr(run)  # print(run) shows the summary, as lesson 00 prints it
    assert Path(run) == run_folder(run) == run.run_dir
    with load(run) as again:
        assert again.run_dir == run.run_dir and again.status == "stopped"
    assert load_checkpoint(run)["step"] == 3
    assert "status='stopped'" in repr(run)  # the summary stays in the repr


def test_list_runs_of_a_run_points_at_the_folder_that_holds_it(run):
    with pytest.raises(ConfigError, match="not a Run") as err:
        list_runs(run)
    assert str(run.run_dir.parent) in one_line(err)
    assert list(list_runs(run.run_dir.parent)["name"]) == ["r1"]


@pytest.mark.parametrize(
    "call",
    [load, list_runs, load_checkpoint, run_folder, nasbench.resume],
    ids=["load", "list_runs", "load_checkpoint", "run_folder", "resume"],
)
def test_none_where_a_run_folder_goes_is_one_line(call):
    with pytest.raises(ConfigError, match="got NoneType") as err:
        call(None)
    one_line(err)


@pytest.mark.parametrize("where", ["gpu", "CPU", torch.device("meta")])
def test_a_wrong_map_location_is_refused_before_the_file_is_read(run, where):
    with pytest.raises(ConfigError, match="map_location must be") as err:
        load_checkpoint(run.run_dir, map_location=where)
    assert "damaged" not in one_line(err)
    assert load_checkpoint(run.run_dir)["step"] == 3  # the file was good all along


def test_a_gpu_map_location_without_that_gpu_is_no_damaged_checkpoint(run, monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ConfigError, match='"cuda:1" was asked for') as err:
        load_checkpoint(run.run_dir, map_location="cuda:1")
    assert not isinstance(err.value, CheckpointError) and "damaged" not in one_line(err)


def test_device_names_are_checked_and_kept(monkeypatch):
    from nasbench.runs.environment import device_name

    assert device_name("cuda:1") == "cuda:1" and device_name(torch.device("cpu")) == "cpu"
    assert device_name(None) in ("cpu", "cuda")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    with pytest.raises(ConfigError, match='"cuda" was asked for .* no visible GPUs'):
        device_name("cuda", "device", visible=True)


@pytest.mark.parametrize("device", ["gpu", "CPU", 0])
def test_capture_environment_refuses_a_device_nasbench_does_not_run_on(device):
    with pytest.raises(ConfigError, match="device must be") as err:
        capture_environment(device=device)
    one_line(err)
    assert capture_environment(device="cuda:1")["device"] == "cuda:1"  # recorded as given


@pytest.mark.parametrize(
    ("state", "said"),
    [({}, "has no python, numpy_global, torch"), (None, "got NoneType"), ([1], "got list")],
)
def test_restore_rng_of_something_capture_rng_did_not_return_is_one_line(state, said):
    with pytest.raises(ConfigError, match=said) as err:
        restore_rng(state)
    one_line(err)
