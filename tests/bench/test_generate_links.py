"""`bench generate` into a link writes the file it names, under that file's lock."""

from __future__ import annotations

import os

import pytest

from nasbench.bench import BenchmarkTable, generate_table
from nasbench.bench.table import being_generated, generation_lock
from nasbench.errors import ConfigError
from nasbench.evaluation.train_loop import TrainConfig
from nasbench.runs.store import exclusive_lock
from nasbench.spaces import NB201Space
from nasbench.spaces.skeleton import Skeleton

RECIPE = TrainConfig(epochs=1, limit=32, batch_size=16, augment=False)
SPACE = NB201Space(ops=["none", "skip_connect"], skeleton=Skeleton(5, 4))


def test_a_generation_through_a_link_takes_the_lock_of_the_file_it_names(tmp_path):
    real, alias = tmp_path / "real.parquet", tmp_path / "alias.parquet"
    os.symlink(real, alias)
    assert generation_lock(alias) == generation_lock(real) == tmp_path / ".real.parquet.lock"
    # A generation into real.parquet holds its lock: one through the link must wait too.
    with exclusive_lock(tmp_path / ".real.parquet.lock", "held by the test"):
        assert being_generated(real) and being_generated(alias)
        with pytest.raises(ConfigError, match="is being written by another live process"):
            generate_table(SPACE, "synthetic", RECIPE, sample=1, out=alias, device="cpu")
    assert not being_generated(real)
    assert not real.exists() and alias.is_symlink()


def test_a_generation_through_a_link_keeps_the_link_and_writes_its_target(tmp_path):
    real, alias = tmp_path / "real.parquet", tmp_path / "alias.parquet"
    os.symlink(real, alias)
    table = generate_table(SPACE, "synthetic", RECIPE, sample=1, out=alias, device="cpu",
                           latency_repeats=0)  # fmt: skip
    assert alias.is_symlink() and os.readlink(alias) == str(real)
    assert BenchmarkTable.load(real).keys() == table.keys()


def test_an_out_link_that_loops_is_refused_in_one_line(tmp_path):
    os.symlink(tmp_path / "b.parquet", tmp_path / "a.parquet")
    os.symlink(tmp_path / "a.parquet", tmp_path / "b.parquet")
    with pytest.raises(ConfigError) as err:
        generate_table(SPACE, "synthetic", RECIPE, sample=1, out=tmp_path / "a.parquet")
    assert str(err.value) == (
        f"--out {tmp_path / 'a.parquet'} is a symbolic link that loops (it leads back to "
        "itself); remove the link, or give another --out."
    )
