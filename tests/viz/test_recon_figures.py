"""Reconstruction figures: the five-panel comparison and the cascade drawing."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nasbench.data.kspace import draw_mask, undersample
from nasbench.errors import ConfigError, SpaceError
from nasbench.spaces import zoo
from nasbench.spaces.recon import ReconGenotype
from nasbench.viz import draw_genotype, draw_unrolled, plot_reconstructions
from nasbench.viz.recon import _get_reconstruction_info

GENOTYPE = ReconGenotype([("res_conv_3x3", 0), ("sep_conv_3x3", 1)], [2])


def _samples(n=3, size=16):
    pairs = [
        undersample(torch.rand(size, size), draw_mask(size, 4, 0.25, seed=i)) for i in range(n)
    ]
    return torch.stack([x for x, _ in pairs]), torch.stack([y for _, y in pairs])


def test_five_panels_per_row_with_scores_in_the_titles():
    x, y = _samples()
    fig = plot_reconstructions(y, x, y, max_images=2)
    names = [trace.name for trace in fig.data]
    assert names[:5] == ["ground truth", "zero-filled", "reconstruction", "|error|", "k-space mask"]
    assert len(fig.data) == 10
    titles = [a.text for a in fig.layout.annotations]
    assert "100.0 dB, SSIM 1.000" in titles[2]  # a perfect reconstruction, PSNR capped
    assert "dB" in titles[1] and "dB" not in titles[0]
    # The mask panel holds the sampled columns as whole columns of ones.
    assert set(fig.data[4].z.flatten().tolist()) == {0.0, 1.0}


def test_reconstruction_info_holds_the_panels_and_scores_per_row():
    x, y = _samples()
    target = y * 0.5  # leaves room above for an offset output, so nothing is clamped
    info = _get_reconstruction_info(target, x, target + 0.1, max_images=2)
    assert len(info.images) == len(info.scores) == 2
    truth, _, output, error, mask = info.images[1]
    np.testing.assert_allclose(truth, target[1, 0].numpy())
    np.testing.assert_allclose(output, target[1, 0].numpy() + 0.1, rtol=1e-6)
    np.testing.assert_allclose(error, 0.5, rtol=1e-5)  # |0.1| x ERROR_GAIN 5
    columns = draw_mask(16, 4, 0.25, seed=1).numpy()
    np.testing.assert_array_equal(mask, np.broadcast_to(columns, (16, 16)))
    assert set(info.scores[0]) == {"zero-filled", "reconstruction"}
    psnr, ssim = info.scores[0]["reconstruction"]
    assert psnr == pytest.approx(20.0, abs=0.01) and ssim < 1.0  # MSE 0.01 on a [0, 1] range
    perfect = _get_reconstruction_info(y, x, y, max_images=9)
    assert len(perfect.images) == 3 and perfect.scores[2]["reconstruction"] == (100.0, 1.0)


def test_mismatched_inputs_are_one_line_errors():
    x, y = _samples()
    with pytest.raises(ConfigError, match=r"\(N, 3, H, W\)"):
        plot_reconstructions(y, y, y)
    with pytest.raises(ConfigError, match="same images") as err:
        plot_reconstructions(y, x, y[:2])
    assert "\n" not in str(err.value)


def test_cascade_drawing_shows_every_cascade_and_the_cell():
    source = draw_unrolled(GENOTYPE, cascades=4).source
    assert all(f"DC {t}" in source for t in range(1, 5)) and "DC 5" not in source
    assert "res_conv_3x3" in source and "zero-filled" in source
    assert "DC 3" in draw_genotype(GENOTYPE).source
    with pytest.raises(SpaceError, match="recon genotypes"):
        draw_unrolled(zoo["DARTS_V2"])


def test_panel_titles_are_at_least_14_px():
    x, y = _samples(n=1)
    fig = plot_reconstructions(y, x, y)
    assert len(fig.layout.annotations) == 5
    assert all(a.font.size >= 14 for a in fig.layout.annotations)


def test_title_scores_are_the_reported_scores_of_an_output_outside_0_1():
    from nasbench.evaluation.reconstruction import reconstruction_scores

    x, y = _samples(n=1)
    output = y * 1.3  # overshoots 1, as an unrolled network's magnitude may
    reported = reconstruction_scores(output, y)
    title = [a.text for a in plot_reconstructions(y, x, output).layout.annotations][2]
    assert title == f"reconstruction<br>{reported['psnr']:.1f} dB, SSIM {reported['ssim']:.3f}"
    psnr, ssim = _get_reconstruction_info(y, x, output, 1).scores[0]["reconstruction"]
    assert (psnr, ssim) == pytest.approx((reported["psnr"], reported["ssim"]), abs=1e-6)
    # Clamped for the picture only: the panel stays in [0, 1].
    assert _get_reconstruction_info(y, x, output, 1).images[0][2].max() <= 1.0
