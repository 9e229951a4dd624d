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
