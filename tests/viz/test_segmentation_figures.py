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
from nasbench.viz.overlay import _get_overlay_info


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


def test_overlay_info_cuts_each_volume_at_its_most_foreground_slice():
    images = np.arange(2 * 3 * 4 * 4, dtype=float).reshape(2, 1, 3, 4, 4)
    truth = np.zeros((2, 1, 3, 4, 4), dtype=int)
    truth[0, 0, 2, 0, 0], truth[0, 0, 2, 1, 1], truth[0, 0, 0, 3, 3] = 1, 2, 1
    truth[1, 0, 1, 3, 3] = 1
    logits = np.zeros((2, 4, 3, 4, 4))
    logits[:, 3, 0] = 1.0  # predicts class 3 on depth slice 0, background elsewhere
    info = _get_overlay_info(images, truth, logits, (), 4, 0, None)
    np.testing.assert_array_equal(info.images[0], images[0, 0, 2])  # 2 voxels beat 1
    np.testing.assert_array_equal(info.truths[1], truth[1, 0, 1])
    assert info.predictions[0].sum() == 0 and info.n_classes == 3
    assert info.class_labels == ["class 1", "class 2", "class 3"]
    fixed = _get_overlay_info(images, truth, truth, ("bg", "organ"), 1, 2, 3)
    assert len(fixed.images) == 1 and fixed.class_labels == ["organ", "class 2"]
    np.testing.assert_array_equal(fixed.truths[0], truth[0, 0, :, :, 3])


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
    assert list(fig.data[0].x) == [1, 2]  # epochs counted from 1, as in every other figure
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


def test_dints_paths_are_coloured_by_op_and_styled_by_direction_as_documented():
    import nasbench.viz.dints_graph as dints_graph
    from nasbench.spaces.dints import path_ends
    from nasbench.viz.palette import op_color

    topology = DintsSpace(num_blocks=3, skeleton={"depth": 3}).sample(np.random.default_rng(1))
    ends = path_ends(topology.num_depths)
    source = draw_dints(topology).source
    styles = set()
    for block, path, op in topology.active_paths():
        a, b = ends[path]
        style = {0: "solid", 1: "dashed", -1: "dotted"}[(b > a) - (b < a)]
        styles.add(style)
        line = next(  # the path, not the invisible lane that keeps a level on its row
            ln for ln in source.splitlines()
            if f"n{block}_{a} -> n{block + 1}_{b}" in ln and "label=" in ln
        )  # fmt: skip
        assert f"style={style}" in line and op_color(op).lower() in line.lower(), line
    assert len(styles) > 1  # the sample has paths of more than one direction
    # The module says so: colour from the op, line style from the direction (no colour
    # per direction, as it once claimed).
    doc = " ".join(dints_graph.__doc__.split())
    assert "coloured by that op" in doc and "black" not in doc
    for style, where in (("solid", "same level"), ("dashed", "down"), ("dotted", "up")):
        assert style in doc and where in doc
