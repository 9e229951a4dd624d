"""BenchmarkTable round trips, isomorphic queries, best/regret, and the synthetic table."""

from __future__ import annotations

import os
from collections import Counter, defaultdict

import numpy as np
import pandas as pd
import pytest

from nasbench.bench import BenchmarkTable, synthetic_nb201_table
from nasbench.bench.synthetic import nb201_costs
from nasbench.errors import ConfigError, SpaceError
from nasbench.spaces import NB201Space


@pytest.fixture(scope="module")
def table() -> BenchmarkTable:
    return synthetic_nb201_table(seed=0, epochs=4)


@pytest.fixture(scope="module")
def isomorphic_pair():
    space = NB201Space()
    groups = defaultdict(list)
    for g in space.enumerate():
        groups[space.canonical(g)].append(g)
        if len(groups[space.canonical(g)]) == 2 and "@" in space.canonical(g):
            return groups[space.canonical(g)]
    raise AssertionError("no isomorphic pair found")


def test_synthetic_covers_the_space_and_says_so(table):
    assert len(table) == 6466
    assert table.max_epoch == 4
    assert len(table.frame) == 6466 * 4
    assert "SYNTHETIC" in table.note and table.dataset == "synthetic-landscape"
    final = table.final()
    assert final["val_acc"].between(0.0, 1.0).all()
    assert final["params"].min() > 0 and np.isfinite(final["macs"]).all()


def test_synthetic_is_deterministic_per_seed(table):
    again = synthetic_nb201_table(seed=0, epochs=4)
    pd.testing.assert_frame_equal(table.frame, again.frame)
    other = synthetic_nb201_table(seed=1, epochs=4)
    assert not np.allclose(other.frame["val_acc"], table.frame["val_acc"])


def test_synthetic_costs_match_the_built_network():
    from nasbench.models import build, count_macs, count_parameters

    space = NB201Space()
    for g in (space.sample(np.random.default_rng(s)) for s in (1, 2)):
        model = build(g, space.skeleton, seed=0)
        counts = Counter(op for _, _, op in g.edges())
        costs = nb201_costs(dict(counts), space.skeleton)
        assert costs["params"] == count_parameters(model)
        assert costs["macs"] == count_macs(model, (1, 1, 28, 28))


def test_query_isomorphic_genotypes_gives_the_same_row(table, isomorphic_pair):
    a, b = isomorphic_pair
    assert a != b
    ra, rb = table.query(a), table.query(b.to_string())
    assert ra == rb
    assert ra["epoch"] == 4 and ra["n_seeds"] == 1


def test_query_epoch_and_errors(table, isomorphic_pair):
    g = isomorphic_pair[0]
    assert table.query(g, epoch=2)["epoch"] == 2
    with pytest.raises(ConfigError, match="epoch 9 is not recorded"):
        table.query(g, epoch=9)
    small = NB201Space(ops=["none", "nor_conv_3x3"])
    sub = synthetic_nb201_table(seed=0, epochs=1, space=small)
    with pytest.raises(SpaceError):
        sub.query(g)  # an op outside the table's space
    assert g not in sub


def test_best_and_regret(table):
    best = table.best("val_acc")
    assert best["val_acc"] == table.final()["val_acc"].max()
    assert table.regret(best["genotype_json"], "val_acc") == 0.0
    assert table.regret(0.5, "val_acc") == pytest.approx(best["val_acc"] - 0.5)
    smallest = table.best("params")
    assert smallest["params"] == table.final()["params"].min()
    with pytest.raises(ConfigError, match="Did you mean 'test_acc'"):
        table.best("tst_acc")


def test_round_trip_keeps_rows_and_metadata(tmp_path):
    small = NB201Space(ops=["none", "skip_connect", "nor_conv_3x3"])
    table = synthetic_nb201_table(seed=3, epochs=2, space=small)
    path = table.save(tmp_path / "sub" / "bench.parquet")
    assert sorted(p.name for p in path.parent.iterdir()) == ["bench.parquet"]  # no temp left
    umask = os.umask(0o022)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # shareable, as a plain file
    loaded = BenchmarkTable.load(path)
    pd.testing.assert_frame_equal(loaded.frame, table.frame)
    assert loaded.metadata() == table.metadata()
    assert loaded.space == small
    g = small.sample(np.random.default_rng(0))
    assert loaded.query(g) == table.query(g)


def test_bad_files_and_frames_give_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        BenchmarkTable.load(tmp_path / "missing.parquet")
    (tmp_path / "junk.parquet").write_text("not parquet")
    with pytest.raises(ConfigError, match="not a readable Parquet"):
        BenchmarkTable.load(tmp_path / "junk.parquet")
    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "plain.parquet")
    with pytest.raises(ConfigError, match="not a nasbench benchmark table"):
        BenchmarkTable.load(tmp_path / "plain.parquet")
    with pytest.raises(ConfigError, match="lacks column"):
        BenchmarkTable(pd.DataFrame({"key": ["k"]}))


def _dead_pid() -> int:
    import subprocess
    import sys

    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    return ended.pid


def test_a_save_removes_the_temp_files_of_killed_saves_but_not_a_live_writers(tmp_path):
    import time

    from nasbench.tempfiles import writer_tag

    table = synthetic_nb201_table(seed=0, epochs=1, space=NB201Space(ops=["none", "skip_connect"]))
    host = writer_tag().partition("-")[2]  # this machine's writers
    dead, live = _dead_pid(), os.getppid()
    names = {
        "killed": f".bench.parquet.{dead}-{host}.abcd1234.tmp",
        "live": f".bench.parquet.{live}-{host}.efgh5678.tmp",
        "old_stale": ".bench.parquet.k3j2l1xy.tmp",  # earlier versions: no pid
        "old_recent": ".bench.parquet.q9w8e7rt.tmp",
        "other_target": f".other.parquet.{dead}-{host}.abcd1234.tmp",
    }
    for name in names.values():
        (tmp_path / name).write_bytes(b"PAR1 cut short")
    hour_ago = time.time() - 3600
    os.utime(tmp_path / names["old_stale"], (hour_ago, hour_ago))
    table.save(tmp_path / "bench.parquet")
    left = {p.name for p in tmp_path.iterdir()}
    assert left == {"bench.parquet"} | {names[k] for k in ("live", "old_recent", "other_target")}
    assert len(BenchmarkTable.load(tmp_path / "bench.parquet")) == len(table)


def test_a_table_short_of_its_planned_architectures_says_so_and_warns_once(tmp_path, recwarn):
    import warnings

    full = synthetic_nb201_table(seed=0, epochs=2, space=NB201Space(ops=["none", "skip_connect"]))
    keys = full.keys()
    part = BenchmarkTable(full.frame[full.frame["key"].isin(keys[:2])], full.space, "synthetic",
                          full.recipe, full.seeds, planned=len(keys))  # fmt: skip
    loaded = BenchmarkTable.load(part.save(tmp_path / "part.parquet"))
    assert loaded.planned == len(keys) and loaded.covered == 2 and not loaded.complete
    assert f"incomplete: 2 of {len(keys)}" in repr(loaded)
    with pytest.warns(UserWarning, match=f"holds 2 of the {len(keys)} architectures") as caught:
        best = loaded.best("val_acc")
        assert loaded.regret(best["genotype_json"], "val_acc") == 0.0
    assert len(caught) == 1 and "bench generate` command again" in str(caught[0].message)
    done = loaded.with_rows(full.frame[~full.frame["key"].isin(keys[:2])])
    assert done.complete and "incomplete" not in repr(done)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        done.best("val_acc")


def test_seeds_an_earlier_generation_added_leave_a_finished_table_complete(tmp_path):
    full = synthetic_nb201_table(seed=0, epochs=1, space=NB201Space(ops=["none", "skip_connect"]))
    keys = full.keys()
    again = full.frame[full.frame["key"].isin(keys[:2])].assign(seed=1)  # seed 1 on two
    table = full.with_rows(again)
    assert table.seeds == [0, 1]
    # The latest generation: seed 0 on every architecture, all trained.
    table.planned, table.planned_seeds = len(keys), [0]
    loaded = BenchmarkTable.load(table.save(tmp_path / "t.parquet"))
    assert loaded.planned_seeds == [0] and loaded.covered == len(keys) and loaded.complete
    assert "incomplete" not in repr(loaded)
    loaded.planned_seeds = [0, 1]  # had it asked for both seeds on all: two are short
    assert loaded.covered == 2 and not loaded.complete


def test_a_table_of_an_earlier_version_without_a_plan_loads_as_complete(tmp_path):
    import json
    import warnings

    import pyarrow.parquet as pq

    path = synthetic_nb201_table(seed=0, epochs=1).save(tmp_path / "old.parquet")
    arrow = pq.read_table(path)
    meta = json.loads(arrow.schema.metadata[b"nasbench"])
    del meta["planned"]  # as earlier versions wrote it
    pq.write_table(arrow.replace_schema_metadata({b"nasbench": json.dumps(meta).encode()}), path)
    loaded = BenchmarkTable.load(path)
    assert loaded.planned is None and loaded.complete and "incomplete" not in repr(loaded)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded.best("val_acc")
