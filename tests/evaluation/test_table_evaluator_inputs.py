"""The table evaluator's inputs: a score column without values, a row without a score, a
table being generated now and a table that records no space, each met in one line before a
run folder is made, or (a row without a score) never taken as the search's best."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from nasbench.bench import BenchmarkTable, synthetic_nb201_table
from nasbench.config import SearchConfig
from nasbench.errors import ConfigError
from nasbench.evaluation.table_lookup import TableEvalConfig, TableEvaluator
from nasbench.runs.store import exclusive_lock
from nasbench.spaces import NB201Space
from nasbench.strategies import create_strategy
from nasbench.strategies.discrete import Budget, run_discrete

SPACE = {"name": "nb201", "ops": ["none", "skip_connect"]}


@pytest.fixture(scope="module")
def small() -> BenchmarkTable:
    table = synthetic_nb201_table(seed=0, epochs=2, space=NB201Space(ops=SPACE["ops"]))
    return BenchmarkTable(table.frame, table.space, "synthetic")  # a table of this dataset


def _config(path) -> SearchConfig:
    return SearchConfig(strategy="random", evaluator="table", space=dict(SPACE),
                        evaluator_config={"path": str(path)}, max_evaluations=5)  # fmt: skip


@pytest.mark.parametrize("damage", ["missing", "nan", "inf"])
def test_a_score_column_without_a_finite_value_is_refused_before_the_run_folder(
    small, tmp_path, damage
):
    from nasbench import search

    frame = small.frame.drop(columns=["val_acc"]) if damage == "missing" else small.frame
    if damage != "missing":
        frame = frame.assign(val_acc=np.nan if damage == "nan" else np.inf)
    path = BenchmarkTable(frame, small.space, "synthetic").save(tmp_path / "t.parquet")
    with pytest.raises(ConfigError) as err:
        search(_config(path), tmp_path / "run")
    assert str(err.value).startswith("metric 'val_acc' has no recorded value in this table")
    assert not (tmp_path / "run").exists()
    with pytest.raises(ConfigError, match="metric 'val_acc' has no recorded value"):
        TableEvaluator(TableEvalConfig(path=str(path)))


def test_a_row_without_a_score_is_passed_on_as_nan_and_never_the_best(small):
    # NaN is the table's "not recorded" (BenchmarkTable.best skips it): the evaluator says
    # so as it reads it, and the search keeps the best candidate that has a score.
    first = create_strategy("random", {}, space=NB201Space(ops=SPACE["ops"]), seed=0).ask()
    unscored = small.frame["key"] == small.key_of(first)
    table = BenchmarkTable(small.frame.assign(val_acc=small.frame["val_acc"].mask(unscored)),
                           small.space, "synthetic")  # fmt: skip
    evaluator = TableEvaluator(table=table)
    assert math.isnan(evaluator.evaluate(first).score)
    strategy = create_strategy("random", {}, space=NB201Space(ops=SPACE["ops"]), seed=0)
    out = run_discrete(strategy, evaluator, Budget(max_evaluations=5))
    assert out.history[0].genotype == first
    scored = [t.result.score for t in out.history if not math.isnan(t.result.score)]
    assert out.best_result.score == max(scored) and out.best_genotype != first


def test_a_table_being_generated_now_is_said_to_be_so_not_stopped(small, tmp_path):
    keys = small.keys()
    part = BenchmarkTable(small.frame[small.frame["key"].isin(keys[:3])], small.space,
                          "synthetic", planned=len(keys))  # fmt: skip
    path = part.save(tmp_path / "t.parquet")
    config = TableEvalConfig(path=str(path))
    with pytest.raises(ConfigError, match=r"\(its generation was stopped\)"):
        TableEvaluator.check_search(config, "synthetic", dict(SPACE))
    with exclusive_lock(tmp_path / ".t.parquet.lock", "held by the test"):
        with pytest.raises(ConfigError) as err:
            TableEvaluator.check_search(config, "synthetic", dict(SPACE))
    assert str(err.value) == (
        f"the table {path} holds 3 of the 8 architectures of space 'nb201' so far: `nasbench "
        "bench generate` is writing it now; wait for it to end, then search."
    )


def test_a_table_that_records_no_space_must_hold_the_cells_by_their_json(small, tmp_path):
    from nasbench import search

    # Keyed by the canonical form, which a table without a space cannot look cells up by.
    path = BenchmarkTable(small.frame, None, "synthetic").save(tmp_path / "canonical.parquet")
    with pytest.raises(ConfigError) as err:
        search(_config(path), tmp_path / "run")
    assert str(err.value).startswith(
        f"the table {path} holds 0 of the 64 architectures of space 'nb201' (it records no "
        "space, so cells are looked up by their JSON), so the search would propose cells"
    )
    assert not (tmp_path / "run").exists()
    # Keyed by every cell's JSON: every lookup finds its row.
    space = NB201Space(ops=SPACE["ops"])
    rows = []
    for g in space.enumerate():
        for epoch in (1, 2):
            row = small.query(g, epoch=epoch)
            rows.append({**row, "key": g.to_json(), "genotype_json": g.to_json(), "seed": 0})
    by_json = BenchmarkTable(pd.DataFrame(rows), None, "synthetic")
    TableEvaluator.check_search(
        TableEvalConfig(path=str(by_json.save(tmp_path / "json.parquet"))),
        "synthetic",
        dict(SPACE),
    )
