"""Segmentation through the one bilevel loop: NAS-Unet (2D, 3D) and V-NAS searches on the
synthetic default, the derived cells retrained against the thresholding baseline."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.config import DatasetConfig, SearchConfig
from nasbench.engine.bilevel import memory_estimate
from nasbench.engine.search import search
from nasbench.errors import ConfigError
from nasbench.evaluation.final_evaluation import retrain
from nasbench.evaluation.train_loop import TrainConfig
from nasbench.runs import load
from nasbench.spaces import NasUnetGenotype, VnasGenotype, space_from_dict

NASUNET = {"name": "nasunet", "n_nodes": 2, "skeleton": {"depth": 2, "channels": 4}}
VNAS = {"name": "vnas", "skeleton": {"depth": 2, "channels": 4}}


def seg_config(name: str, size: int, space: dict, strategy: str, **overrides) -> SearchConfig:
    config = SearchConfig(
        dataset=DatasetConfig(name=name, size=size, limit=16, batch_size=4),
        space=space,
        strategy=strategy,
        epochs=1,
        max_steps_per_epoch=2,
        w_lr=0.05,
        seed=0,
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


def _alphas_moved(run, kind: str = "alpha") -> bool:
    alphas = run.alphas[run.alphas.kind == kind]
    first, last = alphas.step.min(), alphas.step.max()
    key = ["cell_type", "edge", "op"]
    before = alphas[alphas.step == first].sort_values(key).raw.to_numpy()
    after = alphas[alphas.step == last].sort_values(key).raw.to_numpy()
    return before.shape == after.shape and not np.allclose(before, after)


def _beats_thresholds(report) -> None:
    table = report.table().set_index("model")
    assert list(table.columns[2:4]) == ["test_dice", "test_hd95"]
    searched, floor = table.loc["searched", "test_dice"], table.loc["threshold", "test_dice"]
    assert np.isfinite(searched) and searched > floor + 0.03, table


@pytest.mark.slow
def test_nasunet_2d_search_then_retrain_beats_thresholding(tmp_path):
    # ProxylessNAS binary gates, as NAS-Unet searched, on 64x64 synthetic-seg.
    result = search(seg_config("synthetic-seg", 64, NASUNET, "proxyless"), tmp_path / "run")
    assert isinstance(result.genotype, NasUnetGenotype)
    space = space_from_dict(NASUNET)
    assert space.validate(result.genotype) == result.genotype
    assert {"val_loss", "val_dice", "val_dice_organ", "val_dice_lesion", "val_hd95"} <= set(
        result.metrics
    )
    run = load(tmp_path / "run")
    assert set(run.alphas.cell_type) == {"down", "down_normal", "up", "up_normal"}
    assert {"alpha", "gate"} <= set(run.alphas.kind)
    assert _alphas_moved(run)
    assert "dice" in set(run.history[run.history.phase == "train"].name)
    assert run.genotypes.genotype.iloc[-1] == result.genotype

    recipe = TrainConfig(
        epochs=6,
        batch_size=4,
        lr=0.005,
        optimizer="adam",
        limit=32,
        test_limit=32,
        augment=False,
        seed=0,
    )
    _beats_thresholds(retrain(tmp_path / "run", recipe, baseline="threshold"))


@pytest.mark.slow
def test_vnas_3d_search_then_retrain_beats_thresholding(tmp_path):
    result = search(seg_config("synthetic-seg3d", 32, VNAS, "darts"), tmp_path / "run")
    assert isinstance(result.genotype, VnasGenotype)
    assert space_from_dict(VNAS).validate(result.genotype) == result.genotype
    run = load(tmp_path / "run")
    assert set(run.alphas.cell_type) == {"encoder", "decoder"}
    assert _alphas_moved(run)
    recipe = TrainConfig(
        epochs=5,
        batch_size=4,
        lr=0.01,
        optimizer="adam",
        limit=24,
        test_limit=24,
        augment=False,
        seed=0,
    )
    _beats_thresholds(retrain(tmp_path / "run", recipe, baseline="threshold"))


def test_nasunet_3d_search_moves_alphas_and_derives_valid_cells(tmp_path):
    space = {**NASUNET, "n_nodes": 1, "skeleton": {"depth": 1, "channels": 2, "spatial_dims": 3}}
    config = seg_config("synthetic-seg3d", 32, space, "gdas", max_steps_per_epoch=1)
    result = search(config, tmp_path / "run")
    assert space_from_dict(space).validate(result.genotype) == result.genotype
    assert _alphas_moved(load(tmp_path / "run"))


def test_classification_and_segmentation_do_not_mix():
    bad = seg_config("synthetic-seg", 64, {"name": "darts"}, "darts")
    with pytest.raises(ConfigError, match="builds classifiers") as err:
        bad.validate()
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="builds segmentation networks"):
        seg_config("synthetic", 64, NASUNET, "darts").validate()
    with pytest.raises(ConfigError, match="searched by darts, gdas, proxyless, not 'pcdarts'"):
        seg_config("synthetic-seg", 64, NASUNET, "pcdarts").validate()
    with pytest.raises(ConfigError, match="is 2D but the space is 3D"):
        space = {**NASUNET, "skeleton": {"spatial_dims": 3}}
        seg_config("synthetic-seg", 64, space, "darts").validate()
    with pytest.raises(ConfigError, match="roi_size is for segmentation"):
        SearchConfig(roi_size=8).validate()


def test_memory_estimate_before_launch():
    estimate = memory_estimate(seg_config("synthetic-seg", 64, NASUNET, "proxyless"))
    assert estimate["total_mb"] > estimate["weights_mb"] > 0


def _seg_folder(root, mask_shape=(32, 32), label=1, n=8):
    from PIL import Image

    for sub in ("images", "labels"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (32, 32), dtype=np.uint8)).save(
            root / "images" / f"case{i}.png"
        )
        mask = np.zeros(mask_shape, dtype=np.uint8)
        mask[4:12, 4:12] = label
        Image.fromarray(mask).save(root / "labels" / f"case{i}.png")
    return root


@pytest.mark.parametrize(
    ("mask_shape", "label", "message"),
    [((32, 30), 1, r"is 32x32 but its mask case\d.png is 32x30"), ((32, 32), 2, "has label 2")],
)
def test_bad_user_masks_stop_a_search_with_one_line(tmp_path, mask_shape, label, message):
    from nasbench.data.folder import register_folder
    from nasbench.errors import NasbenchError

    root = _seg_folder(tmp_path / f"data{label}{mask_shape[1]}", mask_shape, label)
    (root / "labels" / "case7.png").unlink()  # one mask missing is an error of its own...
    with pytest.raises(NasbenchError, match="images without a mask"):
        register_folder(root, name="broken", task="segmentation")
    _seg_folder(root, mask_shape, label)
    info = register_folder(root, name=f"user-seg-{label}-{mask_shape[1]}", num_classes=2)
    config = seg_config(info.name, 32, NASUNET, "darts")
    config.dataset.limit = None
    with pytest.raises(NasbenchError, match=message) as err:
        search(config, tmp_path / "run")
    assert "\n" not in str(err.value)
