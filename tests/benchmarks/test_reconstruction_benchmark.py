"""benchmarks/reconstruction.py: the verdicts read the per-seed table right."""

from __future__ import annotations

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def bench(load_benchmark):
    return load_benchmark("reconstruction")


def _rows(seed, searched, zero_filled, unet_ssim, searched_ssim):
    models = {
        "searched (unrolled)": (searched, searched_ssim),
        "MONAI BasicUNet": (20.0, unet_ssim),
        "MONAI VarNet": (18.0, 0.6),
        "zero-filled": (zero_filled, 0.5),
    }
    return [
        {"seed": seed, "model": m, "params": 1, "test_psnr": p, "test_ssim": s, "test_nmse": 0.1,
         "train_s": 1.0, "search_s": 0.0}
        for m, (p, s) in models.items()
    ]  # fmt: skip


def test_verdicts_take_the_mean_over_seeds(bench):
    table = pd.DataFrame(_rows(0, 23.0, 18.0, 0.70, 0.72) + _rows(1, 21.0, 18.0, 0.70, 0.69))
    summary, verdicts = bench.summarise(table)
    assert summary.loc["searched (unrolled)", "psnr_mean"] == pytest.approx(22.0)
    assert "4.00 dB" in verdicts[0] and "met" in verdicts[0] and "NOT" not in verdicts[0]
    assert "+0.0050" in verdicts[1] and "NOT" not in verdicts[1]
    _, verdicts = bench.summarise(pd.DataFrame(_rows(0, 20.0, 18.0, 0.7, 0.6)))
    assert "NOT met" in verdicts[0] and "NOT met" in verdicts[1]
