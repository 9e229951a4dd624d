"""Hand-damaged table files load as one line naming what is wrong, never a traceback; rows
that repeat a run are dropped when equal and refused when they disagree."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nasbench.bench import BenchmarkTable, synthetic_nb201_table
from nasbench.bench.table import FORMAT_VERSION, METADATA_KEY
from nasbench.errors import ConfigError
from nasbench.spaces import NB201Space


@pytest.fixture(scope="module")
def small() -> BenchmarkTable:
    space = NB201Space(ops=["none", "skip_connect"])
    return synthetic_nb201_table(seed=0, epochs=2, space=space)


def _write(path, frame: pd.DataFrame, table: BenchmarkTable, raw: bytes | None = None, **meta):
    """Write ``frame`` as a table file with ``table``'s metadata changed by ``meta`` (or the
    metadata bytes ``raw``), as a hand edit would leave it."""
    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    text = raw if raw is not None else json.dumps({**table.metadata(), **meta}).encode()
    pq.write_table(arrow.replace_schema_metadata({METADATA_KEY: text}), path)
    return path


def _refusal(path) -> str:
    with pytest.raises(ConfigError) as err:
        BenchmarkTable.load(path)
    message = str(err.value)
    assert "\n" not in message
    return message


def test_a_table_without_rows_is_refused_and_an_empty_one_holds_no_key(small, tmp_path):
    path = _write(tmp_path / "zero.parquet", small.frame.iloc[:0], small)
    assert _refusal(path) == (
        f"{str(path)!r} is not a readable nasbench benchmark table: it holds no rows; rebuild "
        "it with `nasbench bench generate`, or name another file."
    )
    empty = BenchmarkTable(small.frame.iloc[:0], small.space)
    assert len(empty.held_keys()) == 0 and "x" not in empty.held_keys()


@pytest.mark.parametrize(
    "edit, problem",
    [
        ({"epoch": np.nan}, "column 'epoch' holds 8 missing or non-whole value(s), e.g. nan"),
        ({"epoch": 1.5}, "column 'epoch' holds 16 missing or non-whole value(s), e.g. 1.5"),
        ({"seed": np.nan}, "column 'seed' holds 16 missing or non-whole value(s), e.g. nan"),
    ],
)
def test_missing_or_fractional_epochs_and_seeds_are_named(small, tmp_path, edit, problem):
    frame = small.frame.copy()
    column, value = next(iter(edit.items()))
    frame[column] = frame[column].astype(float)
    rows = frame.index if column == "seed" or not math.isnan(value) else frame.index[::2]
    frame.loc[rows, column] = value
    path = _write(tmp_path / "t.parquet", frame, small)
    assert f"is not a readable nasbench benchmark table: {problem}; rebuild" in _refusal(path)


@pytest.mark.parametrize(
    "raw, meta, problem",
    [
        (b"{not json", {}, "its nasbench metadata is not JSON (Expecting property name"),
        (b"[1, 2]", {}, "its nasbench metadata is a JSON list, not an object"),
        (None, {"seeds": "abc"}, "metadata 'seeds' is 'abc', not a list of whole numbers"),
        (None, {"seeds": [0.5]}, "metadata 'seeds' is [0.5], not a list of whole numbers"),
        (None, {"planned": "many"}, "metadata 'planned' is 'many', not a whole number"),
        (None, {"planned_seeds": 3}, "metadata 'planned_seeds' is 3, not a list of whole"),
    ],
)
def test_metadata_a_table_cannot_take_is_named(small, tmp_path, raw, meta, problem):
    path = _write(tmp_path / "t.parquet", small.frame, small, raw, **meta)
    assert f"is not a readable nasbench benchmark table: {problem}" in _refusal(path)


def test_a_table_of_a_newer_format_is_refused_as_the_run_store_refuses_a_newer_schema(
    small, tmp_path
):
    path = _write(tmp_path / "t.parquet", small.frame, small, format_version=FORMAT_VERSION + 1)
    assert _refusal(path) == (
        f"{str(path)!r} is a benchmark table of format version {FORMAT_VERSION + 1}, newer "
        f"than this nasbench reads ({FORMAT_VERSION}); upgrade nasbench to read it."
    )


def test_a_link_that_loops_or_leads_nowhere_is_named_as_such(tmp_path):
    os.symlink(tmp_path / "b.parquet", tmp_path / "a.parquet")
    os.symlink(tmp_path / "a.parquet", tmp_path / "b.parquet")
    assert "'" + str(tmp_path / "a.parquet") + "' is a symbolic link that loops" in _refusal(
        tmp_path / "a.parquet"
    )
    os.symlink(tmp_path / "gone.parquet", tmp_path / "dangling.parquet")
    message = _refusal(tmp_path / "dangling.parquet")
    assert f"is a link to {tmp_path / 'gone.parquet'}, which does not exist" in message


def test_rows_that_repeat_a_run_exactly_count_once(small, tmp_path):
    path = _write(tmp_path / "dup.parquet", pd.concat([small.frame, small.frame]), small)
    loaded = BenchmarkTable.load(path)
    pd.testing.assert_frame_equal(loaded.frame, small.frame)
    g = small.genotypes()[0]
    assert loaded.query(g)["n_seeds"] == 1 and loaded.query(g) == small.query(g)


def test_rows_that_give_one_run_different_values_are_refused_not_averaged(small, tmp_path):
    other = small.frame.assign(val_acc=1.0)
    path = _write(tmp_path / "clash.parquet", pd.concat([small.frame, other]), small)
    key = small.keys()[0]
    assert (
        f"is not a readable nasbench benchmark table: holds 2 rows with different values for "
        f"key {key!r}, seed 0, epoch 1 ({2 * len(small.frame)} such rows in all;"
    ) in _refusal(path)
    with pytest.raises(ConfigError, match="benchmark frame holds 2 rows with different values"):
        BenchmarkTable(pd.concat([small.frame, other]), small.space)


def test_a_text_score_column_is_said_to_be_not_numeric_not_unknown(small):
    frame = small.frame.assign(val_acc=small.frame["val_acc"].astype(str))
    table = BenchmarkTable(frame, small.space)
    with pytest.raises(ConfigError) as err:
        table.check_score("val_acc")
    assert str(err.value).startswith("column 'val_acc' of this table is not numeric (it holds")
    assert "unknown metric" not in str(err.value) and "Did you mean" not in str(err.value)


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_a_score_column_without_a_finite_value_is_refused(small, value):
    table = BenchmarkTable(small.frame.assign(val_acc=value), small.space)
    with pytest.raises(ConfigError) as err:
        table.check_score("val_acc")
    assert str(err.value).startswith(
        "metric 'val_acc' has no recorded value in this table (the column is missing, or NaN "
        "or infinite in every row); use a metric the table records (it records train_loss, "
        "val_auc,"
    )
    missing = BenchmarkTable(small.frame.drop(columns=["val_acc"]), small.space)
    with pytest.raises(ConfigError, match="metric 'val_acc' has no recorded value"):
        missing.check_score("val_acc")
    small.check_score("val_acc")  # a recorded column passes


def test_the_best_of_a_table_skips_an_infinite_value_as_a_missing_one(small):
    frame = small.frame.copy()
    last = frame["epoch"] == frame["epoch"].max()
    frame.loc[frame.index[last][0], "val_acc"] = np.inf
    best = BenchmarkTable(frame, small.space).best("val_acc")
    assert np.isfinite(best["val_acc"])


def test_isomorphic_cells_trained_apart_keep_the_first_not_an_average():
    from nasbench.bench import import_records

    # Node 1 feeds only 'none' edges, so its op does not matter: one key, two cells.
    first = "|skip_connect~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|avg_pool_3x3~2|"
    second = "|nor_conv_1x1~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|avg_pool_3x3~2|"
    records = pd.DataFrame({"arch": [first, second], "epoch": [1, 1], "accuracy": [91.2, 80.0]})
    row = import_records(records).query(second)
    assert row["val_acc"] == pytest.approx(0.912) and row["n_seeds"] == 1


def test_the_first_cell_listed_stands_for_its_key_at_every_epoch():
    # Not the first of each (seed, epoch): a curve stitched from two trainings.
    from nasbench.bench import import_records

    first = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    second = "|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|none~0|none~1|none~2|"
    records = pd.DataFrame(
        {
            "arch": [first, first, second, second, second],
            "epoch": [1, 2, 1, 2, 3],
            "accuracy": [50.0, 60.0, 55.0, 65.0, 70.0],
        }
    )
    frame = import_records(records).frame
    assert frame["epoch"].tolist() == [1, 2] and frame["val_acc"].tolist() == [0.5, 0.6]
    assert frame["genotype_json"].nunique() == 1


def test_a_repeated_row_drops_no_architecture_whose_cell_is_missing(small):
    frame = small.frame.copy()
    frame.loc[5, "genotype_json"] = None  # a row without its representative cell
    repeated = BenchmarkTable(pd.concat([frame, frame.iloc[[0]]], ignore_index=True), small.space)
    assert len(repeated.frame) == len(frame)  # only the exact repeat went
    assert set(repeated.frame["key"]) == set(frame["key"])


@pytest.mark.parametrize("column", ["key", "genotype_json", "seed"])
def test_an_id_column_asked_for_as_a_metric_is_an_unknown_metric(small, column):
    with pytest.raises(ConfigError) as err:
        small.check_score(column)
    assert str(err.value).startswith(f"unknown metric {column!r}; the table has train_loss,")


def test_isomorphic_cells_at_other_seeds_are_not_averaged_whatever_else_the_table_holds():
    # The rule held only when some other row was duplicated: an unrelated repeat changed
    # one key's result.
    from nasbench.bench import import_records

    first = "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
    second = "|avg_pool_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
    other = "|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|"
    records = pd.DataFrame(
        {"arch": [first, second, other], "epoch": 1, "seed": [0, 1, 0], "accuracy": [50.0, 70, 40]}
    )
    table = import_records(records)
    repeated = BenchmarkTable(pd.concat([table.frame, table.frame.iloc[[-1]]]), table.space)
    for each in (table, repeated):
        row = each.query(second)
        assert row["val_acc"] == pytest.approx(0.5) and row["n_seeds"] == 1
