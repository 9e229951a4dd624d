"""The Auto-DeepLab / MS-NAS trellis: space, supernet, Viterbi decoding, derived network."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nasbench.errors import ConfigError, SpaceError
from nasbench.models.trellis import TrellisNetwork
from nasbench.spaces import TrellisGenotype, create_space, parse_genotype, space_from_dict
from nasbench.spaces.skeleton import UNetSkeleton
from nasbench.spaces.trellis import (
    TRANSITIONS,
    normalise_betas,
    path_transitions,
    trellis_mask,
    viterbi_path,
)
from nasbench.viz import draw_genotype, draw_trellis, render

OPS = ["skip_connect", "sep_conv_3x3", "max_pool_3x3"]


def small_space(**overrides):
    kwargs = {
        "num_layers": 3,
        "ops": OPS,
        "n_nodes": 2,
        "skeleton": {"depth": 2, "channels": 4},
        **overrides,
    }
    return create_space("trellis", **kwargs)


def test_supernet_forward_shapes_at_each_scale():
    net = small_space().supernet(method="pcdarts", seed=0)
    x = torch.randn(2, 1, 32, 32)
    scales = net.scale_outputs(x)
    assert {s: tuple(h.shape) for s, h in scales.items()} == {
        0: (2, 4, 32, 32),
        1: (2, 8, 16, 16),
        2: (2, 16, 8, 8),
    }
    assert net(x).shape == (2, 2, 32, 32)
    # 3D works the same way.
    net3 = small_space(num_layers=2, skeleton={"depth": 1, "channels": 4, "spatial_dims": 3})
    out = net3.supernet(method="pcdarts", seed=0)(torch.randn(1, 1, 8, 8, 8))
    assert out.shape == (1, 2, 8, 8, 8)


def test_trellis_mask_and_beta_normalisation_per_node():
    mask = trellis_mask(3, 3)
    # Layer 1 reads only the stem (scale 0): scale 0 keeps it, scale 1 down-samples it.
    assert mask[0].tolist() == [[False, True, False], [True, False, False], [False] * 3]
    # Layer 3, scale 1 reads all three of scales 0, 1, 2.
    assert mask[2, 1].all() and not mask[2, 2, 2] and not mask[2, 0, 0]
    beta = torch.randn(3, 3, 3)
    w = normalise_betas(beta, mask)
    nodes = mask.any(-1)
    sums = w.sum(-1)
    assert torch.allclose(sums[torch.as_tensor(nodes)], torch.ones(int(nodes.sum())))
    assert float(sums[torch.as_tensor(~nodes)].abs().sum()) == 0.0
    assert float(w[torch.as_tensor(~mask)].abs().sum()) == 0.0
    expected = torch.softmax(beta[2, 1], dim=0)  # a node with all three transitions
    assert torch.allclose(w[2, 1], expected)
    # The supernet's weights are these, and gradients reach the betas.
    net = small_space().supernet(method="pcdarts", seed=0)
    assert torch.allclose(net.scale_weights(), normalise_betas(net.arch["beta_trellis"], mask))
    net(torch.randn(1, 1, 32, 32)).sum().backward()
    assert net.arch["beta_trellis"].grad is not None
    assert float(net.arch["beta_trellis"].grad[torch.as_tensor(mask)].abs().sum()) > 0


def test_viterbi_on_a_hand_made_beta_table():
    mask = trellis_mask(4, 3)
    w = np.where(mask, 0.1, 0.0)
    # 0.9 along 0 -> 1 -> 2 -> 2; at layer 4, staying at 2 (0.95) beats going up (0.9).
    w[0, 1, 0] = 0.9
    w[1, 2, 0] = 0.9
    w[2, 2, 1] = 0.9
    w[3, 1, 2] = 0.9
    w[3, 2, 1] = 0.95
    # A greedy trap: the strongest layer-3 weight leads to a node whose exits are all 0.1.
    w[2, 1, 2] = 0.95
    assert viterbi_path(w, mask) == (1, 2, 2, 2)
    # Brute force over every path agrees with the dynamic programme.
    space = create_space("trellis", num_layers=4, ops=OPS, n_nodes=1, skeleton={"depth": 2})
    paths = {g.path for g in space.enumerate()}
    assert len(paths) == space.n_paths()

    def score(path):
        steps = zip(path, path_transitions(path), strict=True)
        return np.prod([w[k, s, TRANSITIONS.index(t)] for k, (s, t) in enumerate(steps)])

    best = max(sorted(paths), key=score)
    assert viterbi_path(w, mask) == best
    w[3, 2, 1] = 0.05
    assert viterbi_path(torch.as_tensor(w), mask) == (1, 2, 2, 1)
    with pytest.raises(SpaceError, match="shape"):
        viterbi_path(np.zeros((2, 2)))


def test_space_counts_sampling_and_round_trips():
    space = small_space(num_layers=2, n_nodes=1, skeleton={"depth": 1})
    members = list(space.enumerate())
    assert len(members) == len(set(members)) == space.size() == space.n_paths() * 9
    rng = np.random.default_rng(0)
    g = space.sample(rng)
    assert space.validate(g.to_json()) == g
    assert parse_genotype(g.to_json()) == g
    assert space_from_dict(space.to_dict()) == space
    assert all(space.validate(n) != g for n in space.neighbours(g))
    assert space.encode(g).shape == (space.encoding_length(),)
    with pytest.raises(SpaceError, match="moves from scale 0 to 2"):
        TrellisGenotype((2,), [("skip_connect", 0), ("skip_connect", 1)], [2], 3)
    with pytest.raises(SpaceError, match="needs num_scales; it is missing"):
        TrellisGenotype.from_dict({k: v for k, v in g.to_dict().items() if k != "num_scales"})
    with pytest.raises(SpaceError, match="genotype has 3 layers"):
        space.validate(TrellisGenotype((0, 1, 1), g.cell, g.concat, 2))


def test_derived_network_shapes_follow_the_path():
    g = TrellisGenotype(
        (1, 2, 1), [("sep_conv_3x3", 0), ("skip_connect", 1), ("max_pool_3x3", 2),
                    ("sep_conv_3x3", 0)], [2, 3], 3)  # fmt: skip
    assert g.transitions() == ("down", "down", "up")
    net = TrellisNetwork(g, UNetSkeleton(depth=2, channels=4, num_classes=3), seed=0)
    assert net(torch.randn(2, 1, 32, 32)).shape == (2, 3, 32, 32)
    widths = [p[-1].num_features for p in (proj.op for proj in net.projections)]
    assert widths == [8, 16, 8]
    built = small_space(skeleton={"depth": 2, "channels": 4}).build(g)
    assert isinstance(built, TrellisNetwork)
    with pytest.raises(SpaceError, match="skeleton of depth 1 has 2"):
        TrellisNetwork(g, UNetSkeleton(depth=1))


def test_drawing_marks_the_path():
    g = TrellisGenotype((1, 1, 0), [("sep_conv_3x3", 0), ("skip_connect", 1)], [2], 3)
    weights = normalise_betas(torch.zeros(3, 3, 3), trellis_mask(3, 3)).numpy()
    graph = draw_trellis(g, weights)
    src = graph.source
    assert src.count("id=path") == 3 and "label=0.50" in src
    assert "n1_1 -> n2_1" in src and "n2_1 -> n3_0" in src
    assert b"<svg" in render(draw_genotype(g), "svg")


def test_config_errors_are_one_line():
    with pytest.raises(SpaceError, match="num_layers must be an integer") as err:
        create_space("trellis", num_layers=0)
    assert "\n" not in str(err.value)
    with pytest.raises(SpaceError, match="unknown op set"):
        create_space("trellis", ops="dartz")
    with pytest.raises(ConfigError, match="multiple of 4"):
        small_space().check_input_size(30)
