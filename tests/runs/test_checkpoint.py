"""Checkpoints: atomic saves and exact RNG restore."""

from __future__ import annotations

import collections
import random

import numpy as np
import pytest
import torch

from nasbench.errors import CheckpointError, ConfigError
from nasbench.runs import capture_rng, load_checkpoint, restore_rng, save_checkpoint
from nasbench.runs import checkpoint as checkpoint_module


@pytest.fixture
def run_dir(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    return folder


def tiny_state(seed: int) -> dict:
    torch.manual_seed(seed)
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    return {
        "model": model.state_dict(),
        "optimizers": {"weights": optimizer.state_dict()},
        "alphas": {"normal": torch.randn(14, 8)},
        "data": {"epoch": 2, "batch": 17, "sampler_seed": 1234},
    }


def test_round_trip_and_kept_steps(run_dir):
    assert load_checkpoint(run_dir) is None
    state = tiny_state(0)
    path = save_checkpoint(run_dir, state, step=40, keep=True)
    assert path == run_dir / "checkpoints" / "last.pt"
    loaded = load_checkpoint(run_dir)
    assert loaded["step"] == 40 and loaded["data"] == state["data"]
    torch.testing.assert_close(loaded["model"], state["model"])
    torch.testing.assert_close(loaded["alphas"]["normal"], state["alphas"]["normal"])
    assert loaded["optimizers"]["weights"]["state"][0]["step"] == 1
    save_checkpoint(run_dir, tiny_state(1), step=80)
    assert load_checkpoint(run_dir)["step"] == 80
    assert load_checkpoint(run_dir, step=40)["step"] == 40
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == [
        "last.pt",
        "prev.pt",  # the step-40 state, kept until a newer one is in place
        "step-000040.pt",
    ]
    with pytest.raises(ConfigError) as err:
        load_checkpoint(run_dir, step=80)
    assert "keep=True" in str(err.value) and "\n" not in str(err.value)


def test_save_into_missing_run_is_one_line_error(tmp_path):
    with pytest.raises(ConfigError) as err:
        save_checkpoint(tmp_path / "nope", {}, step=1)
    assert "nope" in str(err.value) and "\n" not in str(err.value)


def test_crash_before_replace_keeps_previous_checkpoint(run_dir, monkeypatch):
    save_checkpoint(run_dir, tiny_state(0), step=10)

    def crash(src, dst):
        raise KeyboardInterrupt  # the process dies between the temp write and the rename

    monkeypatch.setattr(checkpoint_module.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(run_dir, tiny_state(1), step=20)
    monkeypatch.undo()
    assert load_checkpoint(run_dir)["step"] == 10
    assert [p.name for p in (run_dir / "checkpoints").iterdir()] == ["last.pt"]


def test_crash_mid_write_keeps_previous_checkpoint(run_dir, monkeypatch):
    save_checkpoint(run_dir, tiny_state(0), step=10)
    real_save = torch.save

    def half_save(obj, handle):
        real_save(obj, handle)
        handle.truncate(handle.tell() // 2)  # a torn write, as if killed mid-way
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint_module.torch, "save", half_save)
    with pytest.raises(OSError):
        save_checkpoint(run_dir, tiny_state(1), step=20)
    monkeypatch.undo()
    assert load_checkpoint(run_dir)["step"] == 10
    # A temp file left by a killed process does not disturb the next save.
    (run_dir / "checkpoints" / ".last.pt.tmp-99999").write_bytes(b"torn")
    save_checkpoint(run_dir, tiny_state(1), step=30)
    assert load_checkpoint(run_dir)["step"] == 30


def draw(generators: dict) -> list:
    return [
        random.random(),
        float(np.random.rand()),
        float(torch.rand(1)),
        float(torch.rand(1, generator=generators["sampler"])),
        float(generators["gumbel"].random()),
        float(generators["legacy"].rand()),
        generators["gumbel"].integers(0, 10**9),
    ]


def test_rng_capture_restore_reproduces_draws_through_a_checkpoint(run_dir):
    generators = {
        "sampler": torch.Generator().manual_seed(1),
        "gumbel": np.random.default_rng(2),
        "legacy": np.random.RandomState(3),
    }
    draw(generators)  # move every stream away from its seed
    state = capture_rng(generators)
    expected = draw(generators)
    save_checkpoint(run_dir, {"rng": state}, step=5)
    draw(generators)  # drift further before restoring
    fresh = {
        "sampler": torch.Generator(),
        "gumbel": np.random.default_rng(99),
        "legacy": np.random.RandomState(99),
    }
    restore_rng(load_checkpoint(run_dir)["rng"], fresh)  # loaded with weights_only=True
    assert draw(fresh) == expected


def test_restore_rng_names_missing_or_mismatched_generators():
    state = capture_rng({"sampler": torch.Generator()})
    with pytest.raises(ConfigError) as err:
        restore_rng(state, {"noise": torch.Generator()})
    assert "'noise'" in str(err.value) and "sampler" in str(err.value)
    with pytest.raises(ConfigError) as err:
        restore_rng(state, {"sampler": np.random.default_rng()})
    assert "saved as torch" in str(err.value)
    with pytest.raises(ConfigError):
        capture_rng({"x": random.Random()})


DAMAGE = {
    "truncated": lambda good: good[: len(good) // 2],
    "empty": lambda good: b"",
    "garbage": lambda good: b"not a checkpoint at all" * 10,
    "flipped": lambda good: good[:200] + bytes(b ^ 0xFF for b in good[200:260]) + good[260:],
    "foreign": lambda good: _saved_bytes([1, 2, 3]),
    "text": lambda good: b"hello world",  # torch's unpickler raises KeyError on it
    "one bit": lambda good: _one_bit_flipped(good),  # loads, with another number, unchecked
}


def _one_bit_flipped(good: bytes) -> bytes:
    # A bit of the alphas' tensor data (the largest record, in the file's second half).
    where = len(good) * 2 // 3
    return good[:where] + bytes([good[where] ^ 0x04]) + good[where + 1 :]


def _saved_bytes(obj) -> bytes:
    import io

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_last_falls_back_to_the_previous_checkpoint(run_dir, damage):
    save_checkpoint(run_dir, tiny_state(0), step=10)
    save_checkpoint(run_dir, tiny_state(1), step=20)
    last = run_dir / "checkpoints" / "last.pt"
    last.write_bytes(DAMAGE[damage](last.read_bytes()))
    with pytest.warns(UserWarning, match=r"last\.pt.*resuming from .*prev\.pt \(step 10\)") as seen:
        assert load_checkpoint(run_dir)["step"] == 10
    assert "delete it" not in str(seen[0].message)  # it is already falling back


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_only_checkpoint_is_one_line_naming_the_file(run_dir, damage):
    save_checkpoint(run_dir, tiny_state(0), step=10)
    last = run_dir / "checkpoints" / "last.pt"
    last.write_bytes(DAMAGE[damage](last.read_bytes()))
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(run_dir)
    message = str(err.value)
    assert str(last) in message and "delete it" in message and "\n" not in message


def test_kill_between_rotation_and_rename_resumes_from_prev(run_dir):
    save_checkpoint(run_dir, tiny_state(0), step=10)
    save_checkpoint(run_dir, tiny_state(1), step=20)
    (run_dir / "checkpoints" / "last.pt").unlink()  # as if killed between the two renames
    assert load_checkpoint(run_dir)["step"] == 10


def test_a_checkpoint_of_a_newer_format_is_refused_by_name(run_dir, monkeypatch):
    monkeypatch.setattr(checkpoint_module, "CHECKPOINT_FORMAT", 7)
    save_checkpoint(run_dir, tiny_state(0), step=10)
    monkeypatch.setattr(checkpoint_module, "CHECKPOINT_FORMAT", 1)
    with pytest.raises(CheckpointError, match="has format 7, newer than this nasbench reads"):
        load_checkpoint(run_dir)


def test_a_checkpoint_without_what_an_engine_reads_is_one_line():
    with pytest.raises(CheckpointError, match="has no epoch, batch: another version") as err:
        checkpoint_module.require_keys({"step": 3}, ("epoch", "batch"), "runs/x")
    assert "\n" not in str(err.value)


def test_a_full_disk_while_saving_is_one_line_and_keeps_the_last_checkpoint(run_dir, monkeypatch):
    save_checkpoint(run_dir, tiny_state(0), step=10)

    def full(*args, **kwargs):
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 64 vs 0")

    monkeypatch.setattr(torch, "save", full)
    with pytest.raises(CheckpointError, match=r"could not write checkpoint .*last\.pt") as err:
        save_checkpoint(run_dir, tiny_state(1), step=20)
    assert "free some space, then resume" in str(err.value) and "\n" not in str(err.value)
    monkeypatch.undo()
    assert load_checkpoint(run_dir)["step"] == 10
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["last.pt"]


@pytest.mark.parametrize("logged, resumed", [(20, 20), (25, 20), (15, 10), (10, 10), (5, None)])
def test_a_resume_takes_the_latest_checkpoint_the_store_has_rows_for(run_dir, logged, resumed):
    save_checkpoint(run_dir, tiny_state(0), step=10)
    save_checkpoint(run_dir, tiny_state(1), step=20)
    if logged >= 20:
        state = checkpoint_module.load_for_resume(run_dir, logged)
    else:
        with pytest.warns(UserWarning, match=f"rows up to step {logged} but its checkpoint"):
            state = checkpoint_module.load_for_resume(run_dir, logged)
    assert (None if state is None else state["step"]) == resumed


class _RunsOnLoad:
    """What a crafted checkpoint carries: unpickling it would call ``print``."""

    def __reduce__(self):
        return (print, ("this ran on load",))


def test_a_checkpoint_asking_to_run_code_is_refused_unrun_and_named_as_such(run_dir, capsys):
    save_checkpoint(run_dir, tiny_state(0), step=10)
    last = run_dir / "checkpoints" / "last.pt"
    torch.save({"step": 10, "payload": _RunsOnLoad()}, last)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(run_dir)
    assert "this ran on load" not in capsys.readouterr().out
    message = str(err.value)
    assert "holds Python objects besides tensors" in message and "damaged" not in message


def test_both_damaged_checkpoints_are_named_in_one_line_with_the_way_out(run_dir):
    save_checkpoint(run_dir, tiny_state(0), step=10)
    save_checkpoint(run_dir, tiny_state(1), step=20)
    folder = run_dir / "checkpoints"
    for name in ("last.pt", "prev.pt"):
        (folder / name).write_bytes(b"hello world")
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(run_dir)
    message = str(err.value)
    assert str(folder / "last.pt") in message and str(folder / "prev.pt") in message
    assert f"remove {folder} to resume from step 0" in message
    assert "previous checkpoint" not in message and "\n" not in message


def _misfit(saved: torch.nn.Module, model: torch.nn.Module) -> str:
    with pytest.raises(CheckpointError) as err, checkpoint_module.restoring("runs/x"):
        model.load_state_dict(saved.state_dict())
    return str(err.value)


def test_a_first_layer_of_other_input_channels_names_the_channels():
    # A run of grey images saved as RGB, read as RGB when it began and as grey now.
    def net(channels: int, inner: int = 4) -> torch.nn.Module:
        layers = {"stem": torch.nn.Conv2d(channels, 4, 3), "cell": torch.nn.Conv2d(inner, 4, 3)}
        return torch.nn.Sequential(collections.OrderedDict(layers))

    message = _misfit(net(3), net(1))
    assert "now reads as 1 channel(s) but the run's networks take 3" in message
    assert "an earlier version may have read the folder differently" in message
    assert message.endswith("start a new run.") and "remove the checkpoints" not in message
    # An inner layer's input channels: the code changed, not the data.
    message = _misfit(net(3, inner=4), net(3, inner=2))
    assert "channel(s)" not in message and "may have changed" in message


def test_another_misfit_keeps_whole_entries_and_names_changed_code():
    def net(width: int) -> torch.nn.Module:
        return torch.nn.Sequential(torch.nn.Conv2d(3, width, 3), torch.nn.Conv2d(width, 4, 3))

    message = _misfit(net(4), net(5))  # two misfits: not the data's channels
    assert (
        "size mismatch for 0.weight: copying a param with shape torch.Size([4, 3, 3, 3]) from "
        "checkpoint, the shape in current model is torch.Size([5, 3, 3, 3]). (and 2 more)"
    ) in message
    assert "the code that builds the networks may have changed" in message
    many = torch.nn.Sequential(*[torch.nn.Conv2d(3, 3, 1) for _ in range(200)])
    message = _misfit(many, torch.nn.Sequential(torch.nn.Conv2d(3, 3, 1)))
    keys = message.split("Unexpected key(s) in state_dict: ")[1].split(" …")[0]
    keys = keys.rstrip(",").split(", ")
    assert len(keys) > 3 and all(k.startswith('"') and k.endswith('"') for k in keys)  # whole
    assert len(message) < 600 and "\n" not in message


def test_a_key_longer_than_the_budget_keeps_what_fits_of_it():
    from nasbench.runs.checkpoint import _whole_entries

    deep = torch.nn.Module()  # a key of 40 nested names: longer than the message's budget
    inner = deep
    for _ in range(40):
        inner.add_module("cells_stage_block", torch.nn.Module())
        inner = inner.cells_stage_block
    inner.add_module("lin", torch.nn.Linear(2, 2))
    with pytest.raises(RuntimeError) as err:
        deep.load_state_dict({})  # torch's own message
    said = _whole_entries(str(err.value))
    start = 'Error(s) in loading state_dict for Module: Missing key(s) in state_dict: "cells_stage'
    assert said.startswith(start) and said.endswith("…") and len(said) <= 200
    key = '"' + "cells." * 60 + 'weight"'  # the key alone, a word with nothing before it
    said = _whole_entries(f"Error(s) in loading state_dict:\n\t{key}")
    assert said.startswith('Error(s) in loading state_dict: "cells.cells.') and said.endswith("…")
    assert len(said) <= 200
