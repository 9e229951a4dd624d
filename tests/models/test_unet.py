"""NAS-Unet networks: the discrete network and the supernet, 2D (odd sizes) and 3D."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nasbench.models import build
from nasbench.models.unet import edge_role, fit_to
from nasbench.spaces import NasUnetSpace
from nasbench.spaces.skeleton import UNetSkeleton

SKELETON = {"depth": 2, "channels": 4, "num_classes": 3}


@pytest.mark.parametrize(("dims", "shape"), [(2, (28, 30)), (3, (16, 16, 16))])
def test_discrete_network_keeps_the_input_size(dims, shape):
    space = NasUnetSpace(n_nodes=2, skeleton={**SKELETON, "spatial_dims": dims})
    net = build(space.sample(np.random.default_rng(0)), space.skeleton, seed=0)
    assert net(torch.zeros(2, 1, *shape)).shape == (2, 3, *shape)


def test_supernet_groups_follow_the_edge_roles():
    space = NasUnetSpace(n_nodes=2, skeleton=SKELETON)
    net = space.supernet(method="darts", seed=0)
    assert net.cell_types == ("down", "down_normal", "up", "up_normal")
    # 5 edges per cell: DownSC 4 from the inputs + 1 between nodes; UpSC 2 from input 1.
    shapes = {ct: tuple(net.alpha(ct).shape) for ct in net.cell_types}
    assert shapes == {"down": (4, 6), "down_normal": (1, 5), "up": (2, 4), "up_normal": (3, 5)}
    assert net.group("up").edge_names == ("1->2", "1->3")
    assert {id(p) for p in net.arch_parameters()}.isdisjoint(map(id, net.weight_parameters()))
    out = net(torch.zeros(2, 1, 32, 32))
    assert out.shape == (2, 3, 32, 32)
    assert space.validate(net.genotype()) == net.genotype()


def test_derive_prefers_the_strongest_edges_relative_to_uniform():
    space = NasUnetSpace(n_nodes=1, skeleton=SKELETON)
    net = space.supernet(method="darts", seed=0)
    with torch.no_grad():
        for ct in net.cell_types:
            net.alpha(ct).zero_()
        net.alpha("up")[0, 2] = 5.0  # up_conv on the only up edge
    g = net.genotype()
    assert ("up_conv", 1) in g.up
    assert edge_role("up", 1) == "up" and edge_role("down", 2) == "normal"
    assert fit_to(torch.zeros(1, 1, 8, 8), (7, 9)).shape == (1, 1, 7, 9)


def test_same_seed_same_supernet():
    space = NasUnetSpace(n_nodes=1, skeleton=SKELETON)
    a, b = (space.supernet(method="proxyless", seed=3) for _ in range(2))
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert ka == kb and torch.equal(va, vb)


@pytest.mark.parametrize("kernel", [1, 3])
def test_stem_kernel_sets_what_the_full_resolution_stem_sees(kernel):
    space = NasUnetSpace(n_nodes=1, skeleton={**SKELETON, "stem_kernel": kernel})
    net = build(space.sample(np.random.default_rng(0)), space.skeleton, seed=0)
    supernet = space.supernet(method="darts", seed=0)
    impulse = torch.zeros(1, 1, 9, 9)
    impulse[0, 0, 4, 4] = 1.0
    for stem in (net.net.stem0[0], supernet.ushape.stem0[0]):  # search and retrain alike
        assert tuple(stem.weight.shape[2:]) == (kernel, kernel)
        with torch.no_grad():
            stem.weight.fill_(1.0)
            seen = stem(impulse)[0, 0].ne(0).nonzero().tolist()
        lo, hi = 4 - kernel // 2, 4 + kernel // 2
        assert seen == [[r, c] for r in range(lo, hi + 1) for c in range(lo, hi + 1)]
    assert net(torch.zeros(2, 1, 28, 30)).shape == (2, 3, 28, 30)


def test_stem_kernel_keeps_the_state_dict_keys_and_defaults_to_nasunets_1x1():
    space = NasUnetSpace(n_nodes=1, skeleton=SKELETON)
    g = space.sample(np.random.default_rng(0))
    plain = build(g, space.skeleton, seed=0).state_dict()
    wide = build(g, UNetSkeleton(**SKELETON, stem_kernel=3), seed=0).state_dict()
    assert list(plain) == list(wide)  # checkpoints keep their keys; only stem0's shape moves
    assert plain["net.stem0.0.weight"].shape[2:] == (1, 1)
    assert wide["net.stem0.0.weight"].shape[2:] == (3, 3)
    changed = [k for k in plain if plain[k].shape != wide[k].shape]
    assert changed == ["net.stem0.0.weight"]


def test_stem_kernel_round_trips_and_must_be_odd():
    from nasbench.errors import SpaceError

    skeleton = UNetSkeleton(depth=2, stem_kernel=3)
    assert UNetSkeleton.from_dict(skeleton.to_dict()) == skeleton
    assert UNetSkeleton.from_dict({"depth": 2}).stem_kernel == 1  # older runs: NAS-Unet's 1x1
    with pytest.raises(SpaceError, match="stem_kernel must be odd"):
        UNetSkeleton(stem_kernel=2)
    with pytest.raises(SpaceError, match="stem_kernel must be an integer >= 1"):
        UNetSkeleton(stem_kernel=0)


def test_stem_convs_make_both_stems_non_linear_and_keep_the_first_convs_keys():
    g = NasUnetSpace(n_nodes=1, skeleton=SKELETON).sample(np.random.default_rng(0))
    plain = build(g, UNetSkeleton(**SKELETON), seed=0)
    deep = build(g, UNetSkeleton(**SKELETON, stem_kernel=3, stem_convs=2), seed=0)
    for stem in (deep.net.stem0, deep.net.stem1):
        assert [type(m).__name__ for m in stem] == [
            "Conv2d", "BatchNorm2d", "ReLU", "Conv2d", "BatchNorm2d",
        ]  # fmt: skip
        assert tuple(stem[3].weight.shape) == (4, 4, 3, 3)  # stem width: nodes x channels
    # A one-conv stem's keys are a subset: its state dict loads into the first two modules.
    assert set(plain.state_dict()) < set(deep.state_dict())
    x = torch.randn(2, 1, 28, 30, generator=torch.Generator().manual_seed(0))
    deep.eval()
    with torch.no_grad():
        s0 = deep.net.stem0(x)
        linear = deep.net.stem0[1](deep.net.stem0[0](x))
        # The ReLU between the convs: the stem is not one linear map of the image.
        relu_free = deep.net.stem0[4](deep.net.stem0[3](linear))
    assert s0.shape == (2, 4, 28, 30) and not torch.allclose(s0, relu_free)
    assert deep(x).shape == (2, 3, 28, 30)
    with pytest.raises(Exception, match="stem_convs must be an integer >= 1"):
        UNetSkeleton(stem_convs=0)
