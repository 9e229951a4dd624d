"""Detection through the one bilevel loop: ALB cells searched inside the detector."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.config import DatasetConfig, SearchConfig
from nasbench.engine.search import search
from nasbench.errors import ConfigError
from nasbench.runs import load
from nasbench.spaces import space_from_dict
from nasbench.spaces.genotype import Genotype
from nasbench.spaces.ops import OP_SETS
from nasbench.viz import plot_alphas

ALB = {"name": "alb", "n_nodes": 2, "skeleton": {"channels": 4}, "head_width": 8}


def det_config(strategy: str, **overrides) -> SearchConfig:
    config = SearchConfig(
        dataset=DatasetConfig(name="synthetic-lesions", size=32, limit=16, batch_size=4),
        space=ALB,
        strategy=strategy,
        epochs=2,
        max_steps_per_epoch=2,
        seed=0,
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["darts", "gdas"])
def test_search_records_detection_scores_alphas_and_an_alb_genotype(tmp_path, strategy):
    result = search(det_config(strategy), tmp_path / "run")
    assert result.status == "finished" and isinstance(result.genotype, Genotype)
    space = space_from_dict({**ALB, "skeleton": {"channels": 4, "num_classes": 1}})
    assert space.validate(result.genotype) == result.genotype
    assert set(result.genotype.edge_ops()) <= set(OP_SETS["elixir"])
    assert {"val_loss", "val_map", "val_ap50", "val_froc", "val_froc_1"} <= set(result.metrics)
    assert np.isfinite(result.metrics["val_loss"])
    run = load(tmp_path / "run")
    alphas = run.alphas[run.alphas.cell_type.isin(["normal", "reduce"])]
    assert set(alphas.cell_type) == {"normal", "reduce"}
    assert set(alphas.op) == set(OP_SETS["elixir"])
    steps = sorted(set(alphas.step))
    key = ["cell_type", "edge", "op"]
    first = alphas[alphas.step == steps[0]].sort_values(key).raw.to_numpy()
    last = alphas[alphas.step == steps[-1]].sort_values(key).raw.to_numpy()
    assert not np.allclose(first, last)  # the detection loss moved the architecture
    assert len(plot_alphas(run, "normal").data) > 0
    # The searched genotype builds the retrainable detector.
    net = space.build(result.genotype)
    assert type(net).__name__ == "AlbDetector"


@pytest.mark.slow
def test_same_seed_same_search(tmp_path):
    a = search(det_config("gdas", epochs=1), tmp_path / "a")
    b = search(det_config("gdas", epochs=1), tmp_path / "b")
    assert a.genotype == b.genotype and a.metrics["val_loss"] == b.metrics["val_loss"]


def test_detection_data_needs_the_alb_space_and_back():
    with pytest.raises(ConfigError, match='space "alb"'):
        det_config("darts", space={"name": "darts"}).validate()
    config = det_config("darts")
    config.dataset = DatasetConfig(name="synthetic", size=28, limit=16, batch_size=4)
    with pytest.raises(ConfigError, match="detection"):
        config.validate()


@pytest.mark.slow
def test_retrain_scores_the_searched_detector_next_to_a_matched_resnet_backbone(tmp_path):
    from nasbench.evaluation.final_evaluation import retrain
    from nasbench.evaluation.train_loop import TrainConfig

    search(det_config("darts", epochs=1), tmp_path / "run")
    recipe = TrainConfig(epochs=1, batch_size=8, limit=16, test_limit=8, lr=0.01)
    report = retrain(tmp_path / "run", recipe)
    table = report.table().set_index("model")
    assert list(table.columns[2:5]) == ["test_ap50", "test_map", "test_froc"]
    assert table.loc["searched", "test_map"] == report.results["searched"].test["map"]
    assert list(table.index) == ["searched", "resnet-detector"]
    searched, fixed = table.loc["searched", "params"], table.loc["resnet-detector", "params"]
    assert abs(fixed - searched) < 0.25 * searched  # matched size
    assert "map" in report.results["searched"].test
    with load(tmp_path / "run") as run:
        phases = set(run.history.phase)
    assert {"retrain", "baseline"} <= phases
