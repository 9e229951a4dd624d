"""A resume leaves a trace of what changed since the run started (its data files, its
software or device) and refuses a config edited since its checkpoint was written."""

from __future__ import annotations

import json
import re
import sqlite3
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

import nasbench
from nasbench.config import DatasetConfig, SearchConfig
from nasbench.engine.search import resume, search
from nasbench.errors import ConfigError
from nasbench.runs import RunStore, load
from nasbench.runs.checkpoint import CONFIG_DIGEST_KEY, CONFIG_KEY
from nasbench.runs.environment import source_digest
from tests.conftest import two_class_png_folder

from .conftest import tiny_config


def _folder(root):
    return two_class_png_folder(root, 12)


def _edit_meta(run_dir, key, edit):
    """Change the run's stored ``key`` (config or environment) as a person editing it would."""
    conn = sqlite3.connect(run_dir / "run.sqlite")
    value = json.loads(conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0])
    edit(value)
    conn.execute("UPDATE meta SET value = ? WHERE key = ?", (json.dumps(value, indent=1), key))
    conn.commit()
    conn.close()


def _events(run_dir, kind):
    events = load(run_dir).events
    return events[events.kind == kind]


def test_a_resume_on_changed_data_logs_a_data_changed_event(tmp_path):
    root = _folder(tmp_path / "images")
    config = tiny_config(dataset=DatasetConfig(name=f"folder:{root}", limit=24, batch_size=4),
                         epochs=1, max_steps_per_epoch=1, device="cpu")  # fmt: skip
    run_dir = tmp_path / "run"
    search(config, run_dir)
    started = load(run_dir).environment["data_fingerprint"]
    resume(run_dir)  # the same files: no event
    assert _events(run_dir, "data_changed").empty
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(root / "benign" / "patient3.png")
    with pytest.warns(UserWarning, match="changed"):
        resume(run_dir)
    changed = _events(run_dir, "data_changed")
    assert len(changed) == 1
    payload = changed.iloc[0].payload
    assert payload["fingerprint_at_start"] == started
    assert payload["fingerprint_now"] not in (None, started)
    assert payload["files"] == "changed" and payload["step"] == changed.iloc[0].step == 1


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda c: c.update(strategy="gdas"), "strategy: 'darts' -> 'gdas'"),
        (lambda c: c["dataset"].update(limit=32), "dataset.limit: 64 -> 32"),
        (lambda c: c.update(w_lr=0.5), "w_lr: 0.025 -> 0.5"),
    ],
)
def test_a_config_edited_after_its_checkpoint_is_refused_by_name(tmp_path, edit, named):
    run_dir = tmp_path / "run"
    search(tiny_config(device="cpu"), run_dir)
    before = load(run_dir)
    rows, statuses = len(before.history), len(before.status_history)
    _edit_meta(run_dir, "config", edit)
    with pytest.raises(ConfigError, match="differs from the one its checkpoint") as refused:
        resume(run_dir)
    assert named in str(refused.value) and "\n" not in str(refused.value)
    after = load(run_dir)  # refused before anything was written
    assert (len(after.history), len(after.status_history)) == (rows, statuses)


@pytest.mark.slow
def test_a_config_rewritten_without_a_change_and_an_old_checkpoint_still_resume(tmp_path):
    run_dir = tmp_path / "run"
    search(tiny_config(device="cpu"), run_dir)
    _edit_meta(run_dir, "config", lambda c: None)  # other formatting, same values
    assert resume(run_dir).status == "finished"
    # A checkpoint written before checkpoints recorded their config resumes as before.
    for path in (run_dir / "checkpoints").glob("*.pt"):
        state = torch.load(path, weights_only=True)
        assert state.pop(CONFIG_KEY) and state.pop(CONFIG_DIGEST_KEY)
        torch.save(state, path)
    _edit_meta(run_dir, "config", lambda c: c.update(w_lr=0.5))
    assert resume(run_dir).status == "finished"


def _other_machine(env):
    env["packages"]["torch"] = "1.13.1+cu117"
    env["nasbench_version"] = "0.0.1"
    env["device"] = "cuda:0"


@pytest.mark.slow
def test_a_resume_on_other_software_or_device_warns_and_logs_a_resumed_event(tmp_path):
    run_dir = tmp_path / "run"
    search(tiny_config(device="cpu"), run_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same environment: not a word, no event
        resume(run_dir)
    assert _events(run_dir, "resumed").empty
    _edit_meta(run_dir, "environment", _other_machine)
    with pytest.warns(UserWarning, match=r"torch 1\.13\.1\+cu117 -> .*device cuda -> cpu"):
        resume(run_dir)
    resumed = _events(run_dir, "resumed")
    assert len(resumed) == 1
    payload = resumed.iloc[0].payload
    assert payload["changed"]["torch"] == ["1.13.1+cu117", torch.__version__]
    assert payload["changed"]["nasbench"][0].startswith("0.0.1 (source ")
    assert payload["changed"]["device"] == ["cuda", "cpu"]
    assert payload["environment"]["device"] == "cpu" and payload["step"] == 4


@pytest.mark.parametrize(
    "edit, then",
    [
        # Other code under the same version string (a commit pulled, a file edited).
        (lambda env: env.update(nasbench_source="0123456789abcdef"), "(source 0123456789abcdef)"),
        # Started by a version that recorded no source digest: an earlier one.
        (lambda env: env.pop("nasbench_source"), "(earlier, no source digest)"),
    ],
)
def test_a_resume_on_other_nasbench_code_of_the_same_version_warns(tmp_path, edit, then):
    run_dir = tmp_path / "run"
    search(tiny_config(device="cpu"), run_dir)
    _edit_meta(run_dir, "environment", edit)
    version = re.escape(nasbench.__version__)
    with pytest.warns(UserWarning, match=rf"nasbench {version} \(.*\) -> {version} \(source "):
        resume(run_dir)
    changed = _events(run_dir, "resumed").iloc[0].payload["changed"]
    assert set(changed) == {"nasbench"} and changed["nasbench"][0].endswith(then)
    assert changed["nasbench"][1] == f"{nasbench.__version__} (source {source_digest()})"


def test_a_discrete_resume_on_another_torch_logs_a_resumed_event(tmp_path):
    config = SearchConfig(
        strategy="random", evaluator="table", space={"name": "nb201"}, max_evaluations=6
    )
    run_dir = tmp_path / "run"
    search(config, run_dir)
    with RunStore.open(run_dir) as store:  # as if stopped half-way: a resume replays it
        store.set_status("stopped", "interrupted")
    _edit_meta(run_dir, "environment", lambda env: env["packages"].update(torch="1.13.1"))
    with pytest.warns(UserWarning, match=r"torch 1\.13\.1 ->"):
        resume(run_dir)
    assert _events(run_dir, "resumed").iloc[0].payload["changed"] == {
        "torch": ["1.13.1", torch.__version__]
    }


def test_data_files_gone_before_loading_are_no_change_until_loaded(tmp_path):
    # A cleared cache: the load downloads the very same file, so nothing is warned or logged
    # before it has loaded; a retrain asks again once it has.
    from nasbench.data.fingerprint import data_fingerprint
    from nasbench.data.registry import get_info
    from nasbench.engine.run_setup import warn_if_data_changed
    from nasbench.evaluation.final_evaluation import _data_fingerprint

    root = tmp_path / "data"
    root.mkdir()
    (root / "breastmnist.npz").write_bytes(b"the official file's bytes")
    recorded = data_fingerprint("breastmnist", 28, root)
    environment = {"data_fingerprint": recorded}
    config = SearchConfig(dataset=DatasetConfig(name="breastmnist", root=str(root)))
    data = {"name": "breastmnist", "size": 28, "root": str(root)}
    info = get_info("breastmnist")
    (root / "breastmnist.npz").unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert warn_if_data_changed(config, environment, tmp_path / "run") is None
        assert _data_fingerprint(tmp_path / "run", data, environment, info) is None
        (root / "breastmnist.npz").write_bytes(b"the official file's bytes")  # downloaded
        loaded = _data_fingerprint(tmp_path / "run", data, environment, info, loaded=True)
    assert loaded == recorded
    (root / "breastmnist.npz").write_bytes(b"another file")
    with pytest.warns(UserWarning, match="changed .* since its search ran"):
        _data_fingerprint(tmp_path / "run", data, environment, info, loaded=True)


def test_a_checkpoint_the_resume_passes_over_names_no_step(tmp_path):
    # last.pt failing its CRC: the resume takes prev.pt, so its events carry prev.pt's step.
    from nasbench.runs.checkpoint import resume_step, save_checkpoint

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    save_checkpoint(run_dir, {"weights": torch.zeros(4096)}, step=10)
    save_checkpoint(run_dir, {"weights": torch.ones(4096)}, step=20)
    last = run_dir / "checkpoints" / "last.pt"
    good = last.read_bytes()
    where = len(good) * 2 // 3  # inside the tensor data
    last.write_bytes(good[:where] + bytes([good[where] ^ 0x04]) + good[where + 1 :])
    assert resume_step(run_dir, 100) == 10


def test_the_source_digest_reads_crlf_and_lf_checkouts_alike_and_sees_an_edit(tmp_path):
    from nasbench.runs.environment import _python_digest

    for name, ending in (("lf", b"\n"), ("crlf", b"\r\n")):
        (tmp_path / name / "sub").mkdir(parents=True)
        (tmp_path / name / "a.py").write_bytes(b"x = 1" + ending + b"y = 2" + ending)
        (tmp_path / name / "sub" / "b.py").write_bytes(b"z = 3" + ending)
        (tmp_path / name / "notes.txt").write_bytes(name.encode())  # not code: not read
    assert _python_digest(tmp_path / "lf") == _python_digest(tmp_path / "crlf")
    (tmp_path / "lf" / "sub" / "b.py").write_bytes(b"z = 4\n")
    assert _python_digest(tmp_path / "lf") != _python_digest(tmp_path / "crlf")
