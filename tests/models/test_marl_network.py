"""The multi-agent Q-networks: GDAS supernet over shared and per-agent cells, fixed networks."""

from __future__ import annotations

import pytest
import torch

from nasbench.errors import ConfigError
from nasbench.models.marl_network import (
    MARL_OPS,
    STATE_DIM,
    LandmarkRegressor,
    MarlNetwork,
    MarlSupernet,
    cell_kinds,
    hand_genotype,
)
from nasbench.spaces.ops import op_names
from nasbench.strategies import create_strategy

TINY = {"channels": 2, "n_nodes": 2, "shared": (1, 1), "own": (1, 1), "patch": 7}
FIXED = {k: v for k, v in TINY.items() if k != "n_nodes"}  # a genotype has its nodes


def _obs(batch=3, agents=2, patch=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(batch, agents, 1, patch, patch, patch, generator=g), torch.rand(
        batch, agents, STATE_DIM, generator=g
    )


def _supernet(agents=2, seed=0):
    return MarlSupernet(agents, create_strategy("marl-gdas", seed=seed), seed=seed, **TINY)


def test_the_ten_op_space_and_the_paper_layout():
    assert MARL_OPS == op_names("gdas") and len(MARL_OPS) == 10
    assert {
        "none",
        "conv_3x3",
        "conv_5x5",
        "dil_conv_5x5",
        "sep_conv_3x3",
        "skip_connect",
        "max_pool_3x3",
        "avg_pool_3x3",
    } <= set(MARL_OPS)
    shared = cell_kinds(5, 3)
    assert shared.count("normal") == 5 and shared.count("reduce") == 3 and shared[-1] == "normal"
    assert cell_kinds(3, 1).count("reduce") == 1


def test_supernet_forward_shapes_and_groups_per_agent():
    net = _supernet(agents=3)
    q = net(_obs(agents=3))
    assert q.shape == (3, 3, 6)
    assert net.cell_types == (
        "shared_normal",
        "shared_reduce",
        "agent0_normal",
        "agent0_reduce",
        "agent1_normal",
        "agent1_reduce",
        "agent2_normal",
        "agent2_reduce",
    )
    for ct in net.cell_types:
        assert net.alpha(ct).shape == (5, 10)  # 2 nodes: 2 + 3 edges; ten ops
    with pytest.raises(ConfigError, match="3 agents, the input 2 patches"):
        net(_obs(agents=2))


def test_full_paper_layout_fits_an_11_voxel_patch():
    net = MarlSupernet(2, create_strategy("marl-gdas"), channels=2, n_nodes=1, patch=11)
    assert len(net.body.shared_cells) == 8 and len(net.body.agent_cells[1]) == 4
    assert net(_obs(batch=2, patch=11)).shape == (2, 2, 6)


def test_alpha_records_hold_every_agent_and_tau():
    net = _supernet()
    records = net.alpha_records()
    kinds = {(r.cell_type, r.kind) for r in records}
    assert ("agent1_reduce", "alpha") in kinds and ("global", "tau") in kinds
    rec = next(r for r in records if r.cell_type == "agent0_normal")
    assert rec.raw.shape == (5, 10) and rec.op_names == MARL_OPS
    assert rec.weights.sum(axis=1) == pytest.approx([1.0] * 5)


def test_gdas_arch_step_moves_the_alphas_of_every_part():
    net = _supernet()
    before = {ct: net.alpha(ct).detach().clone() for ct in net.cell_types}
    obs = _obs()
    target = (torch.zeros(3, 2, dtype=torch.long), torch.ones(3, 2))

    def loss_fn(q, y):
        return ((q.gather(-1, y[0][..., None])[..., 0] - y[1]) ** 2).mean()

    net.train()
    out = net.method.arch_step(net, (obs, target), (obs, target), loss_fn, 0.1, None)
    assert out["arch_grad_norm"] > 0
    for ct in net.cell_types:
        assert not torch.equal(before[ct], net.alpha(ct).detach()), ct


def test_derived_genotypes_build_a_fixed_network_and_the_hand_baseline():
    net = _supernet(agents=2)
    genotypes = net.genotype()
    assert set(genotypes) == {"shared", "agent0", "agent1"}
    assert all("none" not in g.ops() for g in genotypes.values())
    searched = MarlNetwork(genotypes, **FIXED)
    hand = MarlNetwork.hand_designed(2, **TINY)
    assert searched(_obs()).shape == hand(_obs()).shape == (3, 2, 6)
    assert hand_genotype(2).ops() == frozenset({"conv_3x3"})
    with pytest.raises(ConfigError, match="lack the part"):
        MarlNetwork({"agent0": genotypes["agent0"]}, **FIXED)


def test_agents_with_no_cell_of_their_own_build_from_the_shared_genotype():
    # own=(0, 0): the search derives the shared part only, and the agents differ by their
    # heads; the network is told how many agents there are.
    layout = {**TINY, "own": (0, 0)}
    net = MarlSupernet(2, create_strategy("marl-gdas", seed=0), seed=0, **layout)
    genotypes = net.genotype()
    assert set(genotypes) == {"shared"}
    fixed = {k: v for k, v in layout.items() if k != "n_nodes"}
    searched = MarlNetwork(genotypes, n_agents=2, **fixed)
    hand = MarlNetwork.hand_designed(2, **TINY | {"own": (0, 0)})
    assert searched(_obs()).shape == hand(_obs()).shape == (3, 2, 6)
    with pytest.raises(ConfigError, match="lack the part"):  # cells of its own need one
        MarlNetwork(genotypes, n_agents=2, **FIXED)


def test_same_seed_same_weights_and_alphas():
    a, b, c = _supernet(seed=1), _supernet(seed=1), _supernet(seed=2)
    assert all(
        torch.equal(x, y)
        for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    )
    assert not torch.equal(a.alpha("agent0_normal"), c.alpha("agent0_normal"))
    a.train(), b.train()
    assert torch.equal(a(_obs()), b(_obs()))  # the Gumbel samples come from the seed too


def test_regressor_outputs_fractions():
    out = LandmarkRegressor(4, channels=2)(torch.rand(2, 1, 16, 16, 16))
    assert out.shape == (2, 4, 3) and bool(((out > 0) & (out < 1)).all())


@pytest.mark.parametrize("kind", ["supernet", "hand"])
def test_channels_last_cells_give_the_contiguous_values_and_gradients(kind):
    def build():
        if kind == "hand":
            return MarlNetwork.hand_designed(2, n_nodes=2, **FIXED)
        net = _supernet()
        net.method.on_epoch_start(0, 2)
        return net

    obs = _obs()
    outs = []
    for channels_last in (True, False):
        net = build()
        net.body.channels_last = channels_last
        if kind == "supernet":
            net.method.generator.manual_seed(0)  # the same Gumbel sample in both
        q = net(obs)
        q.square().sum().backward()
        grads = [p.grad.clone() for p in net.parameters() if p.grad is not None]
        outs.append((q.detach(), grads))
    (q1, g1), (q0, g0) = outs
    assert torch.allclose(q1, q0, atol=1e-5, rtol=1e-4)
    assert len(g1) == len(g0) and len(g1) > 10
    for a, b in zip(g1, g0, strict=True):
        assert torch.allclose(a, b, atol=1e-4, rtol=1e-3)
