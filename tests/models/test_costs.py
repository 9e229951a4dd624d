"""Costs: parameter counts, MACs from the flop counter, measured latency."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
from torch import nn

from nasbench.errors import ConfigError
from nasbench.models import build, count_macs, count_parameters, measure_latency, network_costs
from nasbench.spaces.skeleton import Skeleton
from nasbench.spaces.zoo import zoo

SMALL = Skeleton(n_cells=5, channels=8, in_channels=1, num_classes=3)


def test_count_parameters_excludes_the_auxiliary_head_like_darts():
    net = build(zoo["DARTS_V2"], dataclasses.replace(SMALL, auxiliary=True), seed=0)
    head = sum(p.numel() for p in net.auxiliary_head.parameters())
    assert head > 0
    assert count_parameters(net, exclude_auxiliary=False) - count_parameters(net) == head
    assert count_parameters(net) == count_parameters(build(zoo["DARTS_V2"], SMALL, seed=0))
    assert count_parameters(nn.Linear(3, 2)) == 8


def test_count_macs_matches_hand_counts():
    assert count_macs(nn.Linear(3, 2), (4, 3)) == 4 * 3 * 2
    conv = nn.Conv2d(2, 4, 3, padding=1, bias=False)
    assert count_macs(conv, (1, 2, 8, 8)) == 2 * 4 * 9 * 8 * 8
    conv3d = nn.Conv3d(1, 2, 3, padding=1, bias=False)
    assert count_macs(conv3d, (1, 1, 4, 4, 4)) == 2 * 27 * 64


def test_count_macs_scales_with_the_image_area_and_restores_the_mode():
    net = build(zoo["DARTS_V2"], SMALL, seed=0).train()
    small = count_macs(net, (1, 1, 28, 28))
    large = count_macs(net, (1, 1, 56, 56))
    assert small > 0
    # Everything but the (tiny) classifier is convolutional: doubling the edge ~4x MACs.
    assert large / small == pytest.approx(4.0, rel=0.01)
    assert net.training and all(m.training for m in net.modules())
    assert count_macs(net, (3, 1, 28, 28)) == 3 * small
    assert torch.is_grad_enabled()


def test_measure_latency_reports_median_and_p90():
    net = build(zoo["DARTS_V2"], SMALL, seed=0)
    timing = measure_latency(net, (1, 1, 28, 28), repeats=5, warmup=1)
    assert set(timing) == {"median_ms", "p90_ms"}
    assert 0 < timing["median_ms"] <= timing["p90_ms"]


def test_network_costs_matches_the_parts():
    costs = network_costs(zoo["PC-DARTS"], SMALL, 28, repeats=2)
    net = build(zoo["PC-DARTS"], SMALL, seed=0)
    assert costs["params"] == count_parameters(net)
    assert costs["macs"] == count_macs(net, (1, 1, 28, 28))
    assert costs["latency_ms"] > 0
    three_d = network_costs(zoo["PC-DARTS"], dataclasses.replace(SMALL, spatial_dims=3), 16, 0)
    assert three_d["macs"] > 0 and math.isnan(three_d["latency_ms"])


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda net: count_macs(net, (1, 3, 28, 28)), "does not fit the model"),
        (lambda net: count_macs(net, (1, 0, 28)), "positive ints"),
        (lambda net: measure_latency(net, (1, 1, 28, 28), repeats=0), "repeats"),
        (lambda net: network_costs(zoo["DARTS_V2"], SMALL, (28, 28, 28)), "2 positive ints"),
    ],
)
def test_bad_inputs_are_one_line_config_errors(call, fragment):
    net = build(zoo["DARTS_V2"], SMALL, seed=0)
    with pytest.raises(ConfigError) as err:
        call(net)
    assert fragment in str(err.value) and "\n" not in str(err.value)
