"""benchmarks/segmentation.py: every searched row next to MONAI's U-Net, at a tiny size."""

from __future__ import annotations

import math

import pytest


def test_volume_rows_refuse_2d_in_one_line(load_benchmark):
    bench = load_benchmark("segmentation")
    args = bench.parse_args(["--vnas"])
    with pytest.raises(SystemExit, match="--vnas searches 3D volumes; add --dims 3"):
        bench.volume_row(args, None, "V-NAS", {"name": "vnas"}, "darts")


@pytest.mark.slow
def test_3d_table_has_the_vnas_dints_and_c2fnas_rows_beside_the_unet(load_benchmark):
    bench = load_benchmark("segmentation")
    args = bench.parse_args(
        ["--dims", "3", "--size", "32", "--limit", "4", "--search-epochs", "1",
         "--train-epochs", "1", "--batch-size", "2", "--channels", "2", "--depth", "1",
         "--trellis-layers", "0", "--c2fnas", "--c2fnas-cells", "3",
         "--c2fnas-candidates", "2", "--vnas", "--dints", "--device", "cpu"]
    )  # fmt: skip
    table = bench.run(args).set_index("model")
    searched = ["NAS-Unet (searched)", "C2FNAS (searched)", "V-NAS (searched)", "DiNTS (searched)"]
    assert set(searched) | {"MONAI UNet", "threshold"} == set(table.index)
    for model in searched:
        row = table.loc[model]
        assert row.params > 0 and row.search_s > 0 and row.train_s > 0
        assert 0.0 <= row.test_dice <= 1.0 and math.isfinite(row.dice_vs_unet)
    assert table.loc["MONAI UNet", "dice_vs_unet"] == 1.0
