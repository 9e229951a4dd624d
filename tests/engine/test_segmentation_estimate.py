"""``nasbench search --estimate`` before a trellis or C2FNAS search: time and memory, no run."""

from __future__ import annotations

import re

import pytest

from nasbench.cli import main
from nasbench.config import SearchConfig
from nasbench.engine.bilevel import memory_estimate, time_estimate


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
def test_estimate_of_a_trellis_search(capsys, tmp_path, tiny_segmentation_config):
    trellis = tiny_segmentation_config("trellis")
    out = _estimate(capsys, tmp_path, trellis)
    assert "s/step x 1 steps x 1 epochs" in out and "stage 1" not in out
    memory = memory_estimate(trellis)
    assert _printed_mib(out) == round(memory["total_mb"])
    # More layers: more nodes and transitions to keep for backward.
    deeper = memory_estimate(_with_space(trellis, num_layers=4))
    assert deeper["activations_mb"] > memory["activations_mb"] > 0


def test_estimate_of_a_c2fnas_search_counts_stage_one(capsys, tmp_path, tiny_segmentation_config):
    c2fnas = tiny_segmentation_config("c2fnas")
    out = _estimate(capsys, tmp_path, c2fnas)
    assert "C2FNAS stage 1: 2 topologies trained" in out
    assert "(C2FNAS: on its largest topology)" in out
    assert _printed_mib(out) == round(memory_estimate(c2fnas)["total_mb"])
    seconds = time_estimate(c2fnas)
    assert 0 < seconds["stage1_s"] <= seconds["build_s"] and seconds["stage1_candidates"] == 2
    # A fixed topology skips stage 1: nothing of it in the estimate.
    fixed = _with_space(c2fnas, topology=[0, 1, 1, 0])
    assert "stage1_s" not in time_estimate(fixed)
    assert memory_estimate(fixed)["total_mb"] > 0
