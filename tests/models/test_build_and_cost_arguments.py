"""Arguments of build, the cell helpers and the cost functions: a wrong one is a one-line
error (not another network, an AttributeError or a torch RuntimeError); numpy ints work."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from nasbench.errors import ConfigError, SpaceError
from nasbench.models import (
    build,
    cell_edges,
    count_parameters,
    drop_path,
    measure_latency,
    network_costs,
)
from nasbench.spaces import create_space
from nasbench.spaces.skeleton import Skeleton, UNetSkeleton
from nasbench.spaces.zoo import zoo

SMALL = Skeleton(n_cells=2, channels=4)


def one_line(err: pytest.ExceptionInfo) -> str:
    assert "\n" not in str(err.value)
    return str(err.value)


def same_weights(a: nn.Module, b: nn.Module) -> bool:
    pairs = zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    return all(torch.equal(x, y) for x, y in pairs)


@pytest.mark.parametrize("seed", [1.5, -1, 2**64, True, "1"])
def test_a_seed_that_is_no_count_is_refused_not_rounded_or_wrapped(seed):
    with pytest.raises(ConfigError, match="seed must be an integer from 0 to 2\\*\\*64 - 1") as err:
        build(zoo["DARTS_V2"], SMALL, seed=seed)
    one_line(err)


def test_a_numpy_seed_builds_the_network_of_the_same_int():
    assert same_weights(
        build(zoo["DARTS_V2"], SMALL, seed=np.int64(3)), build(zoo["DARTS_V2"], SMALL, seed=3)
    )


def test_a_skeleton_dict_builds_what_its_skeleton_builds():
    net = build(zoo["DARTS_V2"], {"n_cells": 2, "channels": 4}, seed=0)
    assert same_weights(net, build(zoo["DARTS_V2"], SMALL, seed=0))
    unet = create_space("nasunet").sample(np.random.default_rng(0))
    by_dict = build(unet, {"depth": 2, "channels": 4}, seed=0)
    assert same_weights(by_dict, build(unet, UNetSkeleton(depth=2, channels=4), seed=0))


@pytest.mark.parametrize(
    ("skeleton", "said"),
    [({"n_cell": 2}, "Did you mean 'n_cells'"), (None, "got NoneType"), (5, "got int")],
)
def test_a_skeleton_that_is_none_or_a_wrong_dict_is_one_line(skeleton, said):
    with pytest.raises(SpaceError, match=said) as err:
        build(zoo["DARTS_V2"], skeleton)
    one_line(err)


def test_count_parameters_of_no_module_is_one_line():
    with pytest.raises(ConfigError, match="needs a torch nn.Module, got NoneType") as err:
        count_parameters(None)
    one_line(err)


def test_drop_path_with_a_nan_probability_is_one_line():
    with pytest.raises(ConfigError, match=r"drop_path_prob must be in \[0, 1\), got nan"):
        drop_path(torch.ones(2, 3), float("nan"))


def test_cell_edges_takes_integers_numpy_ones_too():
    assert cell_edges(np.int64(2)) == cell_edges(2) == [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2)]
    with pytest.raises(SpaceError, match="must be integers, got n_nodes=2.5"):
        cell_edges(2.5)


@pytest.mark.parametrize(("repeats", "warmup"), [(2.5, 1), (2, 0.5), (None, 1)])
def test_latency_repeats_that_are_no_counts_are_one_line(repeats, warmup):
    with pytest.raises(ConfigError, match="repeats must be an integer >= 1") as err:
        measure_latency(nn.Linear(3, 2), (1, 3), repeats=repeats, warmup=warmup)
    one_line(err)


@pytest.mark.parametrize("device", ["gpu", "CPU", "cuda:x"])
def test_a_device_name_torch_does_not_know_is_a_config_error(device):
    with pytest.raises(ConfigError, match='device must be "auto", "cpu", "cuda"') as err:
        measure_latency(nn.Linear(3, 2), (1, 3), repeats=1, device=device)
    one_line(err)
    with pytest.raises(ConfigError, match="device must be"):
        network_costs(zoo["DARTS_V2"], SMALL, 28, repeats=0, device=device)


def test_timing_on_a_gpu_this_machine_lacks_is_a_config_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    with pytest.raises(ConfigError, match='"cuda" was asked for .* no visible GPUs') as err:
        measure_latency(nn.Linear(3, 2), (1, 3), repeats=1, device="cuda")
    one_line(err)
    assert measure_latency(nn.Linear(3, 2), (1, 3), repeats=1, device="auto")["median_ms"] > 0


def test_network_costs_takes_numpy_sizes_and_refuses_a_float_one():
    want = network_costs(zoo["DARTS_V2"], SMALL, 28, repeats=0)
    got = network_costs(zoo["DARTS_V2"], SMALL, np.int64(28), repeats=0)
    assert (got["params"], got["macs"]) == (want["params"], want["macs"])
    pair = network_costs(zoo["DARTS_V2"], SMALL, (np.int64(28), 28), repeats=0)
    assert pair["macs"] == want["macs"]
    for size in (28.0, "28", None):
        with pytest.raises(ConfigError, match="must be a positive int or 2 positive ints"):
            network_costs(zoo["DARTS_V2"], SMALL, size, repeats=0)
    with pytest.raises(ConfigError, match="repeats must be an integer >= 0"):
        network_costs(zoo["DARTS_V2"], SMALL, 28, repeats=1.5)
