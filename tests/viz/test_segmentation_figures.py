"""Segmentation figures: overlays, Dice per class, the NAS-Unet cells, V-NAS and DiNTS drawings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
import torch

from nasbench.errors import ConfigError
from nasbench.spaces import DintsSpace, NasUnetSpace, VnasSpace
from nasbench.viz import (
    draw_dints,
    draw_genotype,
    draw_unet_cells,
    draw_vnas,
    plot_dice_per_class,
    plot_overlays,
    render,
)


def test_overlays_2d_and_3d_slices():
    image = torch.rand(3, 1, 12, 12)
    mask = (image > 0.6).long()
    fig = plot_overlays(image, mask, torch.randn(3, 3, 12, 12), ("background", "organ", "lesion"))
    assert isinstance(fig, go.Figure)
    assert {t.name for t in fig.data} >= {"image", "truth", "prediction", "organ", "lesion"}
    volume = torch.rand(1, 1, 6, 8, 8)
    assert len(plot_overlays(volume, (volume > 0.5).long(), (volume > 0.4).long()).data) == 6
    with pytest.raises(ConfigError, match="spatial size"):
        plot_overlays(image, mask[:, :, :8], mask)


def test_dice_per_class_over_epochs():
    rows = [
        (s, e, "val", name, v)
        for e, s in ((0, 10), (1, 20))
        for name, v in (("val_dice", 0.5), ("val_dice_organ", 0.7), ("val_dice_lesion", 0.3))
    ]
    frame = pd.DataFrame(rows, columns=["step", "epoch", "phase", "name", "value"])
    fig = plot_dice_per_class(frame)
    assert [t.name for t in fig.data] == ["organ", "lesion", "mean"]
    assert list(fig.data[0].y) == [0.7, 0.7]
    with pytest.raises(ConfigError, match="not a segmentation run"):
        plot_dice_per_class(frame.assign(name="val_acc"))


def test_cells_vnas_and_topology_drawings():
    rng = np.random.default_rng(0)
    unet = NasUnetSpace(n_nodes=2).sample(rng)
    svg = render(draw_unet_cells(unet), "svg").decode()
    assert "DownSC cell" in svg and "UpSC cell" in svg and "skip" in svg
    assert draw_genotype(unet, cell="up").source.count("cluster_") == 1
    assert (
        "3x3x3" in draw_vnas(VnasSpace().sample(rng)).source
        or "P3D" in draw_genotype(VnasSpace().sample(rng)).source
    )
    topology = DintsSpace(num_blocks=2, skeleton={"depth": 2}).sample(rng)
    assert b"<svg" in render(draw_dints(topology), "svg")
