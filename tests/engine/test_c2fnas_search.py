"""C2FNAS through nasbench.search: stage 1 (topology ranking) and stage 2 (cell alphas) both
land in the run store and the report; same seed, same run; bad configs stop in one line."""

from __future__ import annotations

import pytest

from nasbench.config import DatasetConfig, SearchConfig
from nasbench.engine.bilevel import memory_estimate
from nasbench.engine.search import search
from nasbench.errors import ConfigError, SpaceError
from nasbench.runs import load
from nasbench.spaces import C2fnasGenotype
from nasbench.viz.report import report_html

SPACE = {
    "name": "c2fnas",
    "num_cells": 4,
    "candidates": 2,
    "proxy_steps": 1,
    "skeleton": {"depth": 1, "channels": 2},
}


def c2fnas_config(**space) -> SearchConfig:
    return SearchConfig(
        dataset=DatasetConfig(name="synthetic-seg3d", size=32, limit=4, batch_size=2),
        space={**SPACE, **space},
        strategy="darts",
        epochs=1,
        max_steps_per_epoch=1,
        w_lr=0.05,
        seed=0,
    )


def _stage_one(run):
    events = run.events[run.events.kind == "c2fnas_topologies"]
    assert len(events) == 1
    return events.iloc[0].payload


def _without_seconds(payload):
    rows = [{k: v for k, v in c.items() if k != "seconds"} for c in payload["candidates"]]
    return {"topology": payload["topology"], "candidates": rows}


@pytest.mark.slow
def test_both_stages_are_recorded_and_reported_and_seeded(tmp_path):
    result = search(c2fnas_config(), tmp_path / "a")
    assert isinstance(result.genotype, C2fnasGenotype)
    run = load(tmp_path / "a")
    stage1 = _stage_one(run)
    ranked = stage1["candidates"]
    assert len(ranked) == 2 and [c["rank"] for c in ranked] == [0, 1]
    assert ranked[0]["val_loss"] <= ranked[1]["val_loss"]
    assert {"val_dice", "params"} <= set(ranked[0])
    # stage 2 searched the convs of stage 1's winner
    assert list(result.genotype.levels) == stage1["topology"] == ranked[0]["topology"]
    assert set(run.alphas.cell_type) == {"cells"}
    names = [f"c{k}@L{lv}" for k, lv in enumerate(stage1["topology"])]
    assert sorted(set(run.alphas.edge)) == sorted(names)
    assert run.genotypes.genotype.iloc[-1] == result.genotype
    page = report_html(run)
    assert "Stage 1: topology ranking (C2FNAS)" in page
    assert "-".join(map(str, stage1["topology"])) in page and "Final alphas" in page
    run.close()

    again = search(c2fnas_config(), tmp_path / "b")
    run_b = load(tmp_path / "b")
    assert _without_seconds(_stage_one(run_b)) == _without_seconds(stage1)
    assert again.genotype == result.genotype
    assert again.metrics == result.metrics
    run_b.close()


def test_memory_is_estimated_before_launch_on_the_largest_topology():
    small = memory_estimate(c2fnas_config())
    wider = memory_estimate(c2fnas_config(num_cells=6))
    assert 0 < small["activations_mb"] < wider["activations_mb"]
    assert small["total_mb"] == pytest.approx(small["weights_mb"] + small["activations_mb"])


@pytest.mark.parametrize(
    ("space", "size", "error", "message"),
    [
        ({"topology": [0, 1, 1, 1]}, 32, SpaceError, "must start and end at level 0"),
        ({"skeleton": {"depth": 2, "channels": 2}}, 28, ConfigError, "multiple of 8; 28"),
        ({"proxy_steps": 0}, 32, SpaceError, "proxy_steps must be an integer >= 1"),
    ],
)
def test_config_errors_are_one_line(tmp_path, space, size, error, message):
    config = c2fnas_config(**space)
    config.dataset.size = size
    with pytest.raises(error, match=message) as err:
        search(config, tmp_path / "run")
    assert "\n" not in str(err.value)
    assert not (tmp_path / "run").exists()


def test_a_strategy_outside_the_space_is_refused(tmp_path):
    config = c2fnas_config()
    config.strategy = "dints"
    with pytest.raises(ConfigError) as err:
        config.validate()
    assert "\n" not in str(err.value) and "c2fnas" in str(err.value).lower()
