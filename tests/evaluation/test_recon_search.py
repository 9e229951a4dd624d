"""Reconstruction through the one search loop and ``nasbench retrain``: tiny end-to-end runs."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

import nasbench
from nasbench.config import DatasetConfig, SearchConfig
from nasbench.evaluation.final_evaluation import add_cli_arguments, cli_main, retrain
from nasbench.evaluation.recon_baselines import matched_baseline
from nasbench.evaluation.train_loop import TrainConfig
from nasbench.models import count_parameters
from nasbench.runs import load
from nasbench.spaces.recon import ReconGenotype

SPACE = {"name": "unrolled", "n_nodes": 1, "skeleton": {"cascades": 2, "channels": 4}}


CONFIG = SearchConfig(
    dataset=DatasetConfig(name="synthetic-recon", size=28, limit=8, batch_size=4),
    space=SPACE,
    strategy="gdas",
    epochs=1,
    max_steps_per_epoch=2,
    seed=0,
)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("recon") / "run"
    nasbench.search(CONFIG, path)
    return path


@pytest.mark.slow
def test_search_records_psnr_ssim_and_alphas(run_dir):
    with load(run_dir) as run:
        val = run.metrics_wide(phase="val")
        assert {"val_psnr", "val_ssim", "val_nmse", "val_loss"} <= set(val.columns)
        assert 5 < float(val["val_psnr"].iloc[-1]) < 60
        assert "normal" in set(run.alphas["cell_type"])
        assert isinstance(run.genotypes["genotype"].iloc[-1], ReconGenotype)


@pytest.mark.slow
def test_same_seed_same_search(run_dir, tmp_path):
    again = nasbench.search(CONFIG, tmp_path / "again")
    with load(run_dir) as run:
        first = run.metrics_wide(phase="val")["val_psnr"].iloc[-1]
        assert run.genotypes["genotype"].iloc[-1] == again.genotype
    assert again.metrics["val_psnr"] == first


@pytest.mark.slow
def test_retrain_compares_with_zero_filled_unet_and_varnet(run_dir, capsys):
    report = retrain(run_dir, TrainConfig(epochs=1, batch_size=4, limit=4, test_limit=4, seed=0))
    table = report.table()
    assert list(table.columns) == ["model", "params", "MACs", "test_psnr", "test_ssim", "wall_s"]
    assert list(table["model"]) == ["searched", "unet", "varnet", "zero-filled"]
    rows = table.set_index("model")
    assert rows.loc["zero-filled", "params"] == 0
    assert (table["test_ssim"].between(0, 1)).all()
    with load(run_dir) as run:
        assert {"retrain", "baseline", "varnet", "zero-filled"} <= set(run.history["phase"])
    parser = argparse.ArgumentParser()
    add_cli_arguments(parser)
    args = parser.parse_args(
        [
            str(run_dir),
            "--epochs",
            "1",
            "--limit",
            "4",
            "--test-limit",
            "4",
            "--no-baseline",
            "--optimizer",
            "adam",
        ]
    )
    assert cli_main(args) == 0
    out = capsys.readouterr().out
    assert "val_psnr" in out and "test_psnr" in out.splitlines()[-2]


def test_baselines_are_sized_to_the_searched_network():
    for name in ("unet", "varnet"):
        small, large = (count_parameters(matched_baseline(name, n)) for n in (40_000, 400_000))
        assert small < large
        assert abs(large - 400_000) / 400_000 < 0.3


def test_varnet_reads_the_same_kspace_and_mask_as_the_data():
    # With its refinements switched off, MONAI's VarNet is data consistency alone, so it
    # must return the zero-filled image exactly: k-space, mask and FFT conventions agree.
    import torch

    from nasbench.data.kspace import draw_mask, undersample, zero_filled_magnitude
    from nasbench.evaluation.recon_baselines import VarNet

    class Silent(torch.nn.Module):
        def forward(self, x):
            return torch.zeros_like(x)

    pairs = [undersample(torch.rand(16, 16), draw_mask(16, 4, 0.25, seed=i)) for i in range(3)]
    x = torch.stack([p[0] for p in pairs])
    net = VarNet(width=2, cascades=2).eval()
    for cascade in net.varnet.cascades:
        cascade.model = Silent()
    with torch.no_grad():
        assert torch.allclose(net(x), zero_filled_magnitude(x), atol=1e-5)


MULTI_COIL = dataclasses.replace(
    CONFIG,
    dataset=dataclasses.replace(CONFIG.dataset, name="synthetic-recon-4coil"),
    strategy="darts",
)


@pytest.mark.slow
def test_multi_coil_search_and_retrain_end_to_end(tmp_path):
    from nasbench.engine.search import search

    result = search(MULTI_COIL, tmp_path / "coils")
    assert isinstance(result.genotype, ReconGenotype)
    with load(tmp_path / "coils") as run:
        val = run.metrics_wide(phase="val")
        assert 5 < float(val["val_psnr"].iloc[-1]) < 60 and "val_ssim" in val
        assert "normal" in set(run.alphas["cell_type"])
    report = retrain(tmp_path / "coils", TrainConfig(epochs=1, batch_size=4, limit=4, seed=0))
    table = report.table().set_index("model")
    assert list(table.index) == ["searched", "unet", "varnet", "zero-filled"]
    assert table["test_psnr"].between(5, 60).all() and table["test_ssim"].between(0, 1).all()


def test_varnet_reads_multi_coil_kspace_maps_and_mask():
    # Refinements off, MONAI's VarNet keeps the measured coil k-spaces, so it returns the
    # root sum of squares of the zero-filled coil images; one coil: the old call, bit for bit.
    import torch

    from nasbench.data.kspace import birdcage_maps, draw_mask, ifft2c, undersample, unpack
    from nasbench.evaluation.recon_baselines import VarNet

    class Silent(torch.nn.Module):
        def forward(self, x):
            return torch.zeros_like(x)

    net = VarNet(width=2, cascades=2).eval()
    for cascade in net.varnet.cascades:
        cascade.model = Silent()
    maps = birdcage_maps(3, 16)
    masks = [draw_mask(16, 4, 0.25, seed=i) for i in range(2)]
    x = torch.stack([undersample(torch.rand(16, 16), m, maps)[0] for m in masks])
    rss = ifft2c(unpack(x).kspace).abs().pow(2).sum(1, keepdim=True).sqrt()
    with torch.no_grad():
        assert torch.allclose(net(x), rss, atol=1e-5)
    single = torch.stack([undersample(torch.rand(16, 16), m)[0] for m in masks])
    kspace, mask = unpack(single).kspace[:, 0], single[:, 2, 0]
    with torch.no_grad():
        columns = mask.bool().reshape(2, 1, 1, -1, 1)
        old = net.varnet(torch.view_as_real(kspace)[:, None].float(), columns)
        assert torch.equal(net(single), old[:, None])
