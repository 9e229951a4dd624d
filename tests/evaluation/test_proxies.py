"""Zero-cost proxies: hand-checked values, determinism, the evaluator."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from nasbench.errors import ConfigError
from nasbench.evaluation import create_evaluator
from nasbench.evaluation.proxies import PROXIES, compute_proxy, seeded_batch
from nasbench.spaces import NB201Space
from nasbench.spaces.skeleton import Skeleton

SPACE = NB201Space(
    ops=["none", "skip_connect", "nor_conv_3x3", "avg_pool_3x3"], skeleton=Skeleton(5, 4)
)


def test_synflow_of_a_linear_chain_is_depth_times_the_path_sum():
    # For a bias-free linear chain R = 1^T |W2| |W1| 1 is homogeneous of degree 1 in each
    # layer, so sum(|W_l| * dR/d|W_l|) = R for every layer: synflow = 2 R.
    net = nn.Sequential(nn.Flatten(), nn.Linear(3, 2, bias=False), nn.Linear(2, 1, bias=False))
    with torch.no_grad():
        net[1].weight.copy_(torch.tensor([[1.0, -2.0, 0.5], [0.0, 1.0, -1.0]]))
        net[2].weight.copy_(torch.tensor([[-3.0, 2.0]]))
    x = torch.randn(4, 1, 3)
    R = float(
        torch.tensor([[3.0, 2.0]])
        @ torch.tensor([[1.0, 2.0, 0.5], [0.0, 1.0, 1.0]])
        @ torch.ones(3, 1)
    )
    assert compute_proxy(
        "synflow", net, (x, torch.zeros(4, dtype=torch.long)), nn.CrossEntropyLoss()
    ) == pytest.approx(2 * R)
    assert net[1].weight[0, 1] == -2.0  # the caller's model is untouched


def test_naswot_kernel_by_hand():
    net = nn.Sequential(nn.Flatten(), nn.ReLU())
    x = torch.tensor([[1.0, -1.0], [1.0, 1.0]])
    # codes [[1, 0], [1, 1]]: K = [[1, 1], [1, 2]] + [[1, 0], [0, 0]] = [[2, 1], [1, 2]], det 3
    value = compute_proxy(
        "naswot", net, (x, torch.zeros(2, dtype=torch.long)), nn.CrossEntropyLoss()
    )
    assert value == pytest.approx(math.log(3.0))


def test_grad_norm_and_snip_by_hand():
    net = nn.Sequential(nn.Linear(2, 1, bias=False))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[2.0, -1.0]]))
    x, y = torch.tensor([[1.0, 3.0]]), torch.tensor([[0.0]])
    loss = nn.MSELoss()  # L = (2 - 3)^2 = 1, dL/dw = 2 * (-1) * x = [-2, -6]
    assert compute_proxy("grad_norm", net, (x, y), loss) == pytest.approx(math.sqrt(40.0))
    assert compute_proxy("snip", net, (x, y), loss) == pytest.approx(4.0 + 6.0)


@pytest.mark.parametrize("name", sorted(PROXIES))
def test_proxy_evaluator_is_finite_and_deterministic(name):
    g = SPACE.sample(np.random.default_rng(2))
    cfg = {"proxy": name, "batch_size": 8, "limit": 32}
    a = create_evaluator("proxy", cfg, space=SPACE, dataset="synthetic", seed=0).evaluate(g)
    b = create_evaluator("proxy", cfg, space=SPACE, dataset="synthetic", seed=0).evaluate(g)
    assert math.isfinite(a.score) and a.score == b.score == a.metrics[name]
    assert a.cost["epochs"] == 0 and a.cost["params"] > 0


def test_seeded_batch_and_errors():
    data = [(torch.full((1, 2, 2), float(i)), torch.tensor(i % 2)) for i in range(10)]
    x1, y1 = seeded_batch(data, 4, seed=5)
    x2, _ = seeded_batch(data, 4, seed=5)
    assert x1.shape == (4, 1, 2, 2) and y1.shape == (4,) and torch.equal(x1, x2)
    with pytest.raises(ConfigError, match="Did you mean 'synflow'"):
        compute_proxy("synflo", nn.Linear(1, 1), (torch.zeros(1, 1), torch.zeros(1)), nn.MSELoss())
    with pytest.raises(ConfigError, match="proxy"):
        create_evaluator("proxy", {"proxy": "flops"}, space=SPACE)
