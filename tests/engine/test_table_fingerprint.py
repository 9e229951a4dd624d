"""A run on a benchmark table file fingerprints it, and a resume warns when it changed."""

from __future__ import annotations

import warnings

import pytest

from nasbench.bench import BenchmarkTable, synthetic_nb201_table
from nasbench.config import SearchConfig
from nasbench.engine.run_setup import TABLE_FINGERPRINT, run_environment
from nasbench.engine.search import resume, search
from nasbench.runs import RunStore, load
from nasbench.spaces import NB201Space

OPS = ["none", "skip_connect"]


def _table(seed: int) -> BenchmarkTable:
    table = synthetic_nb201_table(seed=seed, epochs=2, space=NB201Space(ops=OPS))
    return BenchmarkTable(table.frame, table.space, "synthetic")


def _stopped_run(tmp_path):
    path = _table(0).save(tmp_path / "t.parquet")
    config = SearchConfig(strategy="random", evaluator="table", max_evaluations=6,
                          space={"name": "nb201", "ops": OPS},
                          evaluator_config={"path": str(path)})  # fmt: skip
    run_dir = tmp_path / "run"
    search(config, run_dir)
    with RunStore.open(run_dir) as store:  # as if stopped half-way: a resume replays it
        store.set_status("stopped", "interrupted")
    return path, run_dir


def test_a_run_records_the_fingerprint_of_its_table_file_only(tmp_path):
    path, run_dir = _stopped_run(tmp_path)
    recorded = load(run_dir).environment[TABLE_FINGERPRINT]
    assert len(recorded) == 64
    synthetic = SearchConfig(strategy="random", evaluator="table", space={"name": "nb201"})
    assert TABLE_FINGERPRINT not in run_environment(synthetic, "cpu")  # generated, not read


def test_a_resume_on_the_same_table_says_nothing(tmp_path):
    _, run_dir = _stopped_run(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resume(run_dir)
    events = load(run_dir).events
    assert "data_changed" not in set(events.kind)


def test_a_resume_on_a_replaced_table_warns_and_logs_it(tmp_path):
    path, run_dir = _stopped_run(tmp_path)
    recorded = load(run_dir).environment[TABLE_FINGERPRINT]
    _table(1).save(path)  # regenerated in place: other scores under the same name
    with pytest.warns(UserWarning, match=rf"the benchmark table {path} of run .* changed since"):
        resume(run_dir)
    events = load(run_dir).events
    payload = events[events.kind == "data_changed"].iloc[0].payload
    assert payload["table"] == str(path) and payload["fingerprint_at_start"] == recorded
    assert payload["fingerprint_now"] not in (None, recorded)
