"""Unrolled reconstruction networks: data consistency (one coil or several), the discrete
network, the supernet."""

from __future__ import annotations

import pytest
import torch

from nasbench.data.kspace import (
    birdcage_maps,
    draw_mask,
    fft2c,
    ifft2c,
    sense_expand,
    undersample,
    unpack,
    zero_filled_magnitude,
)
from nasbench.models import build
from nasbench.models.unrolled import DataConsistency, magnitude
from nasbench.spaces.recon import ReconGenotype, ReconSkeleton, ReconSpace

GENOTYPE = ReconGenotype([("res_conv_3x3", 0), ("sep_conv_3x3", 1)], [2])


def _batch(n=2, size=16, acceleration=4):
    pairs = [
        undersample(torch.rand(size, size), draw_mask(size, acceleration, 0.25, seed=i))
        for i in range(n)
    ]
    return torch.stack([x for x, _ in pairs]), torch.stack([y for _, y in pairs])


@pytest.mark.parametrize("kind", ["hard", "learned"])
def test_data_consistency_restores_the_measured_lines(kind):
    x, _ = _batch()
    kspace = fft2c(torch.complex(x[:, 0], x[:, 1]))
    mask = x[:, 2, :1]
    prediction = torch.randn(2, 2, 16, 16)
    predicted = fft2c(torch.complex(prediction[:, 0], prediction[:, 1]))
    with torch.no_grad():
        out = DataConsistency(kind)(prediction, kspace[:, None], mask[:, None])
    merged = fft2c(torch.complex(out[:, 0], out[:, 1]))
    measured = mask.expand_as(kspace).bool()
    # Hard: the measured value; learned: sigmoid(2) of the way to it (its initial weight).
    weight = 1.0 if kind == "hard" else float(torch.sigmoid(torch.tensor(2.0)))
    expected = predicted + weight * (kspace - predicted)
    assert torch.allclose(merged[measured], expected[measured], atol=1e-4)
    assert torch.allclose(merged[~measured], predicted[~measured], atol=1e-4)


def test_untrained_network_starts_at_the_zero_filled_image():
    x, _ = _batch()
    net = build(GENOTYPE, ReconSkeleton(cascades=2, channels=4), seed=0).eval()
    out = net(x)
    assert out.shape == (2, 1, 16, 16)
    assert torch.allclose(out, zero_filled_magnitude(x), atol=1e-4)
    assert len(net.cascade_images(x)) == 3


def test_fully_sampled_input_comes_back_unchanged():
    image = torch.rand(16, 16)
    x, y = undersample(image, torch.ones(16))
    net = build(GENOTYPE, ReconSkeleton(cascades=2, channels=4), seed=0)
    torch.nn.init.normal_(net.unrolled.heads[0][1].weight)  # a denoiser that changes things
    assert torch.allclose(net.eval()(x[None]), y[None], atol=1e-4)


def test_same_seed_same_network():
    a = build(GENOTYPE, ReconSkeleton(channels=4), seed=3).state_dict()
    b = build(GENOTYPE, ReconSkeleton(channels=4), seed=3).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("method", ["darts", "gdas", "pcdarts"])
def test_supernet_trains_and_derives_a_recon_cell(method):
    space = ReconSpace(n_nodes=2, skeleton={"cascades": 2, "channels": 4})
    net = space.supernet(method=method, seed=0)
    assert net.cell_types == ("normal",)
    for head in net.unrolled.heads:  # zero at the start; as after a few weight steps
        torch.nn.init.normal_(head[1].weight, std=0.1)
    x, y = _batch()
    out = net(x)
    assert out.shape == y.shape
    (out - y).abs().mean().backward()
    assert net.alpha("normal").grad is not None and net.alpha("normal").grad.abs().sum() > 0
    genotype = net.genotype()
    assert isinstance(genotype, ReconGenotype) and space.contains(genotype)


def test_magnitude_has_finite_gradients_at_zero():
    image = torch.zeros(1, 2, 4, 4, requires_grad=True)
    magnitude(image).sum().backward()
    assert torch.isfinite(image.grad).all()


def _coil_batch(n=2, size=16, coils=3):
    maps = birdcage_maps(coils, size)
    pairs = [
        undersample(torch.rand(size, size), draw_mask(size, 4, 0.25, seed=i), maps)
        for i in range(n)
    ]
    return torch.stack([x for x, _ in pairs]), torch.stack([y for _, y in pairs])


def _as_channels(image):
    return torch.stack([image.real, image.imag], dim=1)


@pytest.mark.parametrize("kind", ["hard", "learned"])
def test_multi_coil_consistency_is_exact_on_the_sampled_points(kind):
    x, y = _coil_batch()
    acquired = unpack(x)
    dc = DataConsistency(kind)
    predicted = sense_expand(torch.randn(2, 16, 16, dtype=torch.complex64), acquired.maps)
    merged = dc.merge(predicted, acquired.kspace, acquired.mask)
    measured = acquired.mask.expand_as(merged).bool()
    weight = 1.0 if kind == "hard" else float(torch.sigmoid(torch.tensor(2.0)))
    expected = predicted + weight * (acquired.kspace - predicted)
    assert torch.allclose(merged[measured], expected[measured], atol=1e-5)
    assert torch.equal(merged[~measured], predicted[~measured])
    if kind == "hard":  # every coil's measured k-space, to float rounding
        assert torch.allclose(merged[measured], acquired.kspace[measured], rtol=0, atol=2e-6)
    # The truth is a fixed point: its coil k-spaces already agree with the measurement.
    truth = torch.cat([y, torch.zeros_like(y)], dim=1)
    with torch.no_grad():
        out = DataConsistency("hard")(truth, acquired.kspace, acquired.mask, acquired.maps)
    assert torch.allclose(out, truth, atol=1e-5)


def test_fully_sampled_multi_coil_input_comes_back_from_any_prediction():
    image = torch.rand(16, 16)
    x, y = undersample(image, torch.ones(16), birdcage_maps(4, 16))
    net = build(GENOTYPE, ReconSkeleton(cascades=2, channels=4), seed=0)
    torch.nn.init.normal_(net.unrolled.heads[0][1].weight)
    assert torch.allclose(net.eval()(x[None]), y[None], atol=1e-4)


def test_one_coil_consistency_is_the_old_formula_bit_for_bit():
    x, _ = _batch()
    prediction = torch.randn(2, 2, 16, 16)
    acquired = unpack(x)
    for kind in ("hard", "learned"):
        dc = DataConsistency(kind)
        with torch.no_grad():
            out = dc(prediction, acquired.kspace, acquired.mask, acquired.maps)
            # The single-coil step before coils existed: (N, H, W) k-space, (N, 1, W) mask.
            kspace, mask = fft2c(torch.complex(x[:, 0], x[:, 1])), x[:, 2, :1]
            step = mask if dc.weight is None else mask * torch.sigmoid(dc.weight)
            predicted = fft2c(torch.complex(prediction[:, 0], prediction[:, 1]))
            old = ifft2c(predicted + step * (kspace - predicted))
        assert torch.equal(out, torch.stack([old.real, old.imag], dim=1))


@pytest.mark.parametrize("method", ["darts", "pcdarts"])
def test_networks_read_multi_coil_samples(method):
    x, y = _coil_batch(coils=2)
    net = build(GENOTYPE, ReconSkeleton(cascades=2, channels=4), seed=0)
    assert net(x).shape == y.shape and len(net.cascade_images(x)) == 3
    space = ReconSpace(n_nodes=2, skeleton={"cascades": 2, "channels": 4})
    supernet = space.supernet(method=method, seed=0)
    for head in supernet.unrolled.heads:
        torch.nn.init.normal_(head[1].weight, std=0.1)
    (supernet(x) - y).abs().mean().backward()
    assert supernet.alpha("normal").grad.abs().sum() > 0
