"""DiNTS (MONAI's TopologySearch + DiNTS) as a topology strategy of the bilevel loop."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.config import DatasetConfig, SearchConfig
from nasbench.engine.search import search
from nasbench.errors import ConfigError
from nasbench.runs import load
from nasbench.spaces import DintsGenotype, space_from_dict
from nasbench.strategies import strategy_names
from nasbench.viz import draw_genotype, plot_alphas, render

SPACE = {"name": "dints", "num_blocks": 2, "skeleton": {"depth": 2, "channels": 4}}


def dints_config(**overrides) -> SearchConfig:
    config = SearchConfig(
        dataset=DatasetConfig(name="synthetic-seg3d", size=32, limit=4, batch_size=2),
        space=SPACE,
        strategy="dints",
        epochs=1,
        max_steps_per_epoch=1,
        seed=0,
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


def test_one_search_step_on_cpu_at_32_cubed(tmp_path):
    result = search(dints_config(), tmp_path / "run")
    assert result.status == "finished" and result.steps == 1
    assert isinstance(result.genotype, DintsGenotype)
    assert space_from_dict(SPACE).validate(result.genotype) == result.genotype
    run = load(tmp_path / "run")
    assert set(run.alphas.cell_type) == {"topology", "cell_ops"}
    topology = run.alphas[run.alphas.cell_type == "topology"]
    before, after = (topology[topology.step == s].raw.to_numpy() for s in (0, 1))
    assert not np.allclose(before, after), "the architecture step moves MONAI's log_alpha_a"
    started = run.events[run.events.kind == "search_started"].payload.iloc[0]
    assert 0 < started["memory_estimate_mb"]["monai_mb"] < started["memory_estimate_mb"][
        "monai_full_mb"
    ]  # fmt: skip
    train = set(run.history[run.history.phase == "train"].name)
    assert {"ram_cost_mb", "ram_fraction", "topology_entropy", "dice"} <= train
    assert len(plot_alphas(run, cell_type="topology").data) > 0
    assert b"<svg" in render(draw_genotype(result.genotype), "svg")


def test_topology_is_its_own_kind_and_pairs_with_its_space():
    assert strategy_names("topology") == ("dints",)
    assert "dints" not in strategy_names("differentiable")
    with pytest.raises(ConfigError, match="searched by dints, not 'darts'"):
        dints_config(strategy="darts").validate()
    nasunet = {"name": "nasunet", "skeleton": {"spatial_dims": 3}}
    with pytest.raises(ConfigError, match="searched by darts, gdas, proxyless, not 'dints'"):
        dints_config(space=nasunet).validate()
    cells = {"name": "darts", "skeleton": {"spatial_dims": 3}}
    with pytest.raises(ConfigError, match="searches the dints space, not 'darts'"):
        dints_config(space=cells, dataset=DatasetConfig(name="synthetic3d")).validate()
    with pytest.raises(ConfigError, match="eigen_every = 0"):
        dints_config(eigen_every=1).validate()
    with pytest.raises(ConfigError, match="multiple of 8") as err:
        dints_config(dataset=DatasetConfig(name="synthetic-seg3d", size=28)).validate()
    assert "\n" not in str(err.value)
