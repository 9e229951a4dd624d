"""``nasbench search --estimate`` before a trellis or C2FNAS search: time and memory, no run."""

from __future__ import annotations

import re

import pytest

from nasbench.cli import main
from nasbench.config import DatasetConfig, SearchConfig
from nasbench.engine.bilevel import memory_estimate, time_estimate

TRELLIS = SearchConfig(
    dataset=DatasetConfig(name="synthetic-seg", size=28, limit=4, batch_size=2),
    space={"name": "trellis", "num_layers": 2, "ops": ["skip_connect", "sep_conv_3x3"],
           "n_nodes": 1, "skeleton": {"depth": 1, "channels": 4}},
    strategy="pcdarts", strategy_config={"k": 2}, epochs=1, max_steps_per_epoch=2, seed=0,
)  # fmt: skip
C2FNAS = SearchConfig(
    dataset=DatasetConfig(name="synthetic-seg3d", size=32, limit=4, batch_size=2),
    space={"name": "c2fnas", "num_cells": 4, "candidates": 2, "proxy_steps": 1,
           "skeleton": {"depth": 1, "channels": 2}},
    strategy="darts", epochs=1, max_steps_per_epoch=1, w_lr=0.05, seed=0,
)  # fmt: skip


def _estimate(capsys, tmp_path, config: SearchConfig) -> str:
    path = tmp_path / "config.json"
    config.save(path)
    run_dir = tmp_path / "run"
    code = main(["search", "--config", str(path), "--run-dir", str(run_dir), "--estimate"])
    out = capsys.readouterr().out
    assert code == 0 and not run_dir.exists(), "an estimate writes no run"
    return out


def _with_space(config: SearchConfig, **space) -> SearchConfig:
    return SearchConfig.from_dict({**config.to_dict(), "space": {**config.space, **space}})


def _printed_mib(out: str) -> float:
    return float(re.search(r"memory about (\d+) MiB per step", out).group(1))


@pytest.mark.slow
def test_estimate_of_a_trellis_search(capsys, tmp_path):
    out = _estimate(capsys, tmp_path, TRELLIS)
    assert "s/step x 1 steps x 1 epochs" in out and "stage 1" not in out
    memory = memory_estimate(TRELLIS)
    assert _printed_mib(out) == round(memory["total_mb"])
    # More layers: more nodes and transitions to keep for backward.
    deeper = memory_estimate(_with_space(TRELLIS, num_layers=4))
    assert deeper["activations_mb"] > memory["activations_mb"] > 0


def test_estimate_of_a_c2fnas_search_counts_stage_one(capsys, tmp_path):
    out = _estimate(capsys, tmp_path, C2FNAS)
    assert "C2FNAS stage 1: 2 topologies trained" in out
    assert "(C2FNAS: on its largest topology)" in out
    assert _printed_mib(out) == round(memory_estimate(C2FNAS)["total_mb"])
    seconds = time_estimate(C2FNAS)
    assert 0 < seconds["stage1_s"] <= seconds["build_s"] and seconds["stage1_candidates"] == 2
    # A fixed topology skips stage 1: nothing of it in the estimate.
    fixed = _with_space(C2FNAS, topology=[0, 1, 1, 0])
    assert "stage1_s" not in time_estimate(fixed)
    assert memory_estimate(fixed)["total_mb"] > 0
