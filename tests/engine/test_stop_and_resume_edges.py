"""Stop and resume at their edges: a resumed discrete run stores the rows of an
uninterrupted one, every resume checks the run's user code, and strategies that cannot
be resumed are refused by one rule (``nasbench.engine.run_setup.resume_refusal``)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from nasbench.config import SearchConfig
from nasbench.errors import ConfigError
from nasbench.runs import RunStore, load

# Cost entries measured on the clock (the table's lookup time), not simulated.
WALL_CLOCK = {"lookup_s"}
# Events that record the stop and the resume themselves (as the status table does).
STOP_AND_RESUME = {"discrete_search_resumed"}


def _table_search(strategy: str, strategy_config: dict) -> SearchConfig:
    return SearchConfig(
        strategy=strategy,
        strategy_config=strategy_config,
        evaluator="table",
        space={"name": "nb201"},
        max_evaluations=12,
        seed=3,
    )


def _stopped_at(config: SearchConfig, run_dir: Path, candidate: int, monkeypatch) -> str:
    """Run ``config`` with a stop requested as the store records candidate ``candidate``."""
    from nasbench import search

    log_candidate = RunStore.log_candidate

    def log_then_stop(self, candidate_id, *args, **kwargs):
        log_candidate(self, candidate_id, *args, **kwargs)
        if candidate_id == candidate:
            self.request_stop()

    with monkeypatch.context() as patch:
        patch.setattr(RunStore, "log_candidate", log_then_stop)
        return search(config, run_dir).status


def _rows(run_dir: Path) -> dict[str, list]:
    """Every table a viewer reads, row by row in id order, without ids and clock times."""
    conn = sqlite3.connect(run_dir / "run.sqlite")
    try:
        read = {
            table: list(conn.execute(f"SELECT {columns} FROM {table} ORDER BY id"))
            for table, columns in (
                ("metrics", "step, epoch, phase, name, value"),
                ("alpha_snapshots", "step, epoch, cell_type, kind, edges, ops, raw, weight"),
                ("genotypes", "step, epoch, genotype, metrics"),
                ("candidates", "candidate_id, genotype, metrics, cost, info, status, worker"),
                ("events", "step, epoch, kind, payload"),
            )
        }
    finally:
        conn.close()
    read["candidates"] = [
        (*row[:3], {k: v for k, v in json.loads(row[3]).items() if k not in WALL_CLOCK}, *row[4:])
        for row in read["candidates"]
    ]
    # The stop's end event and the resume's start event say what happened, as the
    # status table does; every other event is the uninterrupted run's.
    read["events"] = [
        row
        for row in read["events"]
        if row[2] not in STOP_AND_RESUME and json.loads(row[3]).get("reason") != "stop_requested"
    ]
    return read


@pytest.mark.parametrize(
    ("strategy", "strategy_config"),
    [("random", {}), ("evolution", {"population_size": 4, "sample_size": 2})],
)
def test_a_stopped_and_resumed_discrete_run_stores_the_rows_of_an_uninterrupted_one(
    tmp_path, monkeypatch, strategy, strategy_config
):
    from nasbench import resume, search

    config = _table_search(strategy, strategy_config)
    reference = search(config, tmp_path / "whole")
    assert _stopped_at(config, tmp_path / "run", 4, monkeypatch) == "stopped"
    stopped = load(tmp_path / "run").genotypes
    assert len(stopped) == 1 and int(stopped.iloc[0]["step"]) == 5  # its best so far

    resumed = resume(tmp_path / "run")
    assert resumed.genotype == reference.genotype and resumed.steps == reference.steps == 12
    expected, got = _rows(tmp_path / "whole"), _rows(tmp_path / "run")
    assert len(got["genotypes"]) == 1
    for table, rows in expected.items():
        assert got[table] == rows, table
    # A reader opened now reads the one genotype row too.
    assert len(load(tmp_path / "run").genotypes) == 1


def test_a_retrain_of_the_stopped_run_keeps_its_rows_through_the_resume(tmp_path, monkeypatch):
    from nasbench import resume

    config = _table_search("random", {})
    assert _stopped_at(config, tmp_path / "run", 4, monkeypatch) == "stopped"
    # What `nasbench retrain` logs on a stopped run: curves at steps the stop's genotype
    # row shares, which the resume's discard must not take with it.
    with RunStore.open(tmp_path / "run") as store:
        for epoch in range(6):
            store.log_metrics(epoch + 1, epoch, "retrain", {"val_acc": 0.1 * epoch})
    resume(tmp_path / "run")
    run = load(tmp_path / "run")
    assert len(run.genotypes) == 1 and int(run.genotypes.iloc[0]["step"]) == 12
    curve = run.history[run.history["phase"] == "retrain"]
    assert list(curve["step"]) == [1, 2, 3, 4, 5, 6]
    assert list(curve["value"]) == pytest.approx([0.1 * e for e in range(6)])


def _record(run_dir: Path, **environment) -> None:
    """Add ``environment`` entries to the run's recorded environment (as another process
    with other user code would have recorded them)."""
    conn = sqlite3.connect(run_dir / "run.sqlite")
    try:
        (text,) = conn.execute("SELECT value FROM meta WHERE key = 'environment'").fetchone()
        value = json.dumps({**json.loads(text), **environment})
        conn.execute("UPDATE meta SET value = ? WHERE key = 'environment'", (value,))
        conn.commit()
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("recorded", "said"),
    [
        (
            {"user_code": {"modules": ["gone_plug_xyz"], "names": [
                {"kind": "evaluator", "name": "gone_eval", "module": "gone_plug_xyz"}]}},
            "which module gone_plug_xyz registers and this process has not imported",
        ),
        ({"space_ops": ["none", "skip_connect"]}, "searched the ops ['none', 'skip_connect']"),
    ],
)  # fmt: skip
def test_a_python_resume_of_a_discrete_run_checks_its_user_code_as_the_cli_does(
    tmp_path, monkeypatch, capsys, recorded, said
):
    from nasbench import resume
    from nasbench.cli import main
    from nasbench.engine.discrete import resume_discrete_search

    run_dir = tmp_path / "run"
    assert _stopped_at(_table_search("random", {}), run_dir, 4, monkeypatch) == "stopped"
    _record(run_dir, **recorded)
    before = _rows(run_dir)

    assert main(["resume", str(run_dir)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and said in err
    for resuming in (resume_discrete_search, resume):
        with pytest.raises(ConfigError) as refused:
            resuming(str(run_dir))
        assert f"nasbench: error: {refused.value}\n" == err
    assert load(run_dir).status == "stopped" and _rows(run_dir) == before


@pytest.mark.parametrize("strategy", ["enas", "nash", "autohas", "marl-gdas"])
def test_resume_refuses_a_strategy_that_cannot_be_resumed_with_its_one_reason(tmp_path, strategy):
    from nasbench import resume
    from nasbench.engine.run_setup import resume_refusal

    reason = resume_refusal(strategy)
    assert reason is not None and f"strategy {strategy!r} cannot be resumed" in reason
    store = RunStore.create(tmp_path / "run", {"strategy": strategy}, {})
    store.set_status("stopped", "stop_requested")
    store.close()
    with pytest.raises(ConfigError) as refused:
        resume(tmp_path / "run")
    assert str(refused.value) == f"{reason}; start a new run."
    assert resume_refusal("evolution") is None and resume_refusal("darts") is None


def test_a_search_that_cannot_be_resumed_records_why_as_it_starts(tmp_path):
    from nasbench.engine.run_setup import NOT_RESUMABLE, recording_status, resume_refusal

    for strategy in ("nash", "random"):
        with RunStore.create(tmp_path / strategy, {"strategy": strategy}, {}) as store:
            with recording_status(store):
                pass
        events = load(tmp_path / strategy).events
        said = [e["message"] for e in events[events["kind"] == NOT_RESUMABLE]["payload"]]
        assert said == ([resume_refusal("nash")] if strategy == "nash" else [])
