"""A run folder moved, deleted or replaced under its live search (another terminal, a
file manager, a second search started in the same folder name)."""

from __future__ import annotations

import shutil

import pytest

from nasbench.errors import ConfigError, RunStoreError
from nasbench.runs import RunStore, load
from nasbench.runs.store import check_new_run_dir


def test_a_writer_tells_its_folder_moved_deleted_or_replaced(tmp_path):
    folder = tmp_path / "run"
    store = RunStore.create(folder, {"strategy": "darts"}, environment={})
    store.check_in_place()  # where it was made: fine
    folder.rename(tmp_path / "moved")
    with pytest.raises(RunStoreError) as err:
        store.check_in_place()
    assert str(err.value).startswith(
        f"run folder {folder} was moved, deleted or replaced while this search ran"
    )
    assert "continue with `nasbench resume <its new place>`" in str(err.value)
    # Another run made under the old name is not this writer's either.
    with RunStore.create(folder, {"strategy": "gdas"}, environment={}):
        with pytest.raises(RunStoreError, match="moved, deleted or replaced"):
            store.check_in_place()
    shutil.rmtree(folder)
    with pytest.raises(RunStoreError, match="moved, deleted or replaced"):
        store.check_in_place()
    store.close()


def test_a_search_whose_folder_is_moved_stops_at_its_next_checkpoint(tmp_path, monkeypatch, tiny):
    import nasbench
    from nasbench.engine import bilevel

    folder, moved = tmp_path / "run", tmp_path / "moved"
    real_save = bilevel.save_checkpoint

    def save_then_move(run_dir, state, step, **kwargs):
        path = real_save(run_dir, state, step, **kwargs)
        if not moved.exists():
            folder.rename(moved)  # a person moves the folder while the search runs
        return path

    monkeypatch.setattr(bilevel, "save_checkpoint", save_then_move)
    config = tiny(checkpoint_every=1)
    with pytest.raises(RunStoreError, match=r"^run folder \S+ was moved, deleted or replaced"):
        nasbench.search(config, folder)
    assert not folder.exists()  # nothing was written under the old name again
    run = load(moved)
    assert run.status == "failed" and "moved, deleted or replaced" in run.message
    # The first checkpoint's step, then the next, whose checkpoint was refused (of 4).
    assert list(run.metrics_wide("train")["step"]) == [1, 2]


def test_a_discrete_search_whose_folder_is_moved_is_not_reported_where_it_was(tmp_path):
    import threading

    import nasbench
    from nasbench.config import SearchConfig

    folder, moved = tmp_path / "run", tmp_path / "moved"
    real = RunStore.log_candidate

    def log_then_move(self, *args, **kwargs):
        real(self, *args, **kwargs)
        if not moved.exists() and threading.current_thread() is threading.main_thread():
            folder.rename(moved)

    config = SearchConfig(
        strategy="random", evaluator="table", space={"name": "nb201"}, max_evaluations=3, seed=3
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(RunStore, "log_candidate", log_then_move)
        with pytest.raises(RunStoreError, match="moved, deleted or replaced"):
            nasbench.search(config, folder)
    run = load(moved)  # every candidate is in; a resume there records its end
    assert run.status == "failed" and "moved, deleted or replaced" in run.message
    assert len(run.candidates) == 3


def test_a_new_search_in_a_folder_whose_search_still_runs_is_told_to_stop_it(tmp_path):
    folder = tmp_path / "run"
    with RunStore.create(folder, {"strategy": "darts"}, environment={}):
        with pytest.raises(ConfigError) as err:
            check_new_run_dir(folder)
    assert str(err.value) == (
        f"'{folder}' holds a run that is still running; choose a new run folder, or stop "
        f"that search first (nasbench stop {folder})."
    )
    with pytest.raises(ConfigError, match="already holds a run; choose a new run folder or resume"):
        check_new_run_dir(folder)  # its writer is gone: resuming it is the other way


def test_a_writer_opened_by_a_relative_path_is_in_place_after_a_chdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = RunStore.create("runs/a", {"strategy": "darts"}, environment={})
    monkeypatch.chdir(tmp_path / "runs")  # a notebook cell changed the working folder
    store.check_in_place()
    store.close()
