"""Network morphisms preserve the function (eval mode) and keep the parent's weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nasbench.errors import ConfigError
from nasbench.models.morphism import (
    MorphGenotype,
    MorphNet,
    add_skip,
    deepen,
    random_morphisms,
    widen,
)

ATOL = 1e-5


def _trained_like(net: MorphNet, seed: int = 0) -> MorphNet:
    """Give every BatchNorm non-trivial statistics and affine parameters, as after training."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                n = module.num_features
                module.running_mean.copy_(torch.randn(n, generator=gen) * 0.3)
                module.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
                module.weight.copy_(torch.rand(n, generator=gen) + 0.5)
                module.bias.copy_(torch.randn(n, generator=gen) * 0.2)
            if isinstance(module, torch.nn.Conv2d) and not module.weight.abs().sum():
                module.weight.copy_(torch.randn(module.weight.shape, generator=gen) * 0.1)
    return net.eval()


@pytest.fixture
def parent() -> MorphNet:
    genotype = MorphGenotype(
        MorphGenotype.plain(1, (6, 8, 10), strides=(1, 2, 2)).layers, skips=((0, 2), (1, 3))
    )
    return _trained_like(MorphNet(genotype, num_classes=3, seed=0))


@pytest.fixture
def x() -> torch.Tensor:
    return torch.randn(4, 1, 15, 15, generator=torch.Generator().manual_seed(1))


def _same(a: MorphNet, b: MorphNet, x: torch.Tensor) -> float:
    with torch.no_grad():
        return float((a.eval()(x) - b.eval()(x)).abs().max())


@pytest.mark.parametrize("layer", [0, 1, 2])
def test_widen_preserves_function(parent, x, layer):
    child = widen(parent, layer, 17, np.random.default_rng(layer), noise=0.1)
    assert child.genotype.layers[layer].channels == 17
    assert _same(parent, child, x) < ATOL


@pytest.mark.parametrize("layer", [0, 1, 2])
def test_deepen_preserves_function(parent, x, layer):
    child = deepen(parent, layer, kernel=3)
    assert len(child.genotype.layers) == 4
    assert _same(parent, child, x) < ATOL


@pytest.mark.parametrize("pair", [(0, 1), (0, 3), (2, 3)])
def test_add_skip_preserves_function(parent, x, pair):
    child = add_skip(parent, *pair)
    assert pair in child.genotype.skips
    assert _same(parent, child, x) < ATOL


def test_random_chain_preserves_function_and_changes_architecture(parent, x):
    rng = np.random.default_rng(3)
    net = parent
    for round_ in range(3):
        child, steps = random_morphisms(net, 4, rng, max_channels=32, max_layers=8)
        assert len(steps) == 4
        assert child.genotype != net.genotype
        assert _same(net, child, x) < ATOL
        # New layers start as identities; perturb them so the next round morphs a generic net.
        net = _trained_like(child, seed=round_ + 1)


def test_morphs_leave_parent_untouched_and_copy_weights(parent):
    before = {k: v.clone() for k, v in parent.state_dict().items()}
    child = deepen(parent, 1)
    for k, v in parent.state_dict().items():
        assert torch.equal(v, before[k])
    assert torch.equal(child.layers[0][0].weight, parent.layers[0][0].weight)
    assert torch.equal(child.layers[3][0].weight, parent.layers[2][0].weight)


def test_genotype_round_trip_and_errors(parent):
    g = parent.genotype
    assert MorphGenotype.from_dict(g.to_dict()) == g
    assert "skips 0->2" in g.to_string()
    with pytest.raises(ConfigError, match="must exceed"):
        widen(parent, 0, 6)
    with pytest.raises(ConfigError, match="already has the skip"):
        add_skip(parent, 0, 2)
    with pytest.raises(ConfigError, match="does not exist"):
        deepen(parent, 7)


def test_build_makes_the_network_of_a_nash_genotype():
    # What retrain of a NASH run needs: models.build for kind "morph".
    from nasbench.errors import SpaceError
    from nasbench.models import build
    from nasbench.spaces import Skeleton, parse_genotype

    g = parse_genotype(MorphGenotype(MorphGenotype.plain(1, (4, 8)).layers, ((0, 2),)).to_json())
    skeleton = Skeleton(in_channels=1, num_classes=3)
    net = build(g, skeleton, seed=1)
    assert isinstance(net, MorphNet) and net.genotype == g
    assert net(torch.zeros(2, 1, 8, 8)).shape == (2, 3)
    again, other = build(g, skeleton, seed=1), build(g, skeleton, seed=2)
    first = next(net.parameters())
    assert torch.equal(first, next(again.parameters()))  # the seed decides the weights
    assert not torch.equal(first, next(other.parameters()))
    with pytest.raises(SpaceError, match="reads 1-channel images but the data has 3") as err:
        build(g, Skeleton(in_channels=3))
    assert "\n" not in str(err.value)
