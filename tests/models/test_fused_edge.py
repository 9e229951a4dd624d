"""Fused separable/dilated convolutions (DARTS fuse_ops) give the unfused edge's numbers."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import nasbench.models.fused_edge as fused_edge
import nasbench.models.mixed_edge as mixed_edge
from nasbench.models.fused_edge import fusable, fused_outputs
from nasbench.models.mixed_edge import EdgePlan, MixedEdge
from nasbench.models.supernet import build_supernet
from nasbench.spaces.blocks import DilConv, SepConv
from nasbench.spaces.cell import CellSpace
from nasbench.spaces.ops import op_names
from nasbench.spaces.skeleton import Skeleton

DARTS_OPS = op_names("darts")  # every op, 'none' included, as the textbook op
TOL = 1e-12


def _edge_step(edge: MixedEdge, x, w, plan_kwargs):
    x = x.clone().requires_grad_()
    out = edge(x, EdgePlan(w, tuple(range(len(DARTS_OPS))), **plan_kwargs))
    loss = (out * torch.linspace(-1, 1, out.numel(), dtype=out.dtype).view_as(out)).sum()
    grads = torch.autograd.grad(loss, [x, w, *edge.parameters()])
    return out.detach(), grads, {k: v.clone() for k, v in edge.state_dict().items()}


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("recompute", [False, True])
@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("pad_kernels", [False, True])
def test_fused_edge_matches_the_unfused_edge_in_float64(
    stride, recompute, channels_last, pad_kernels, monkeypatch
):
    """Every DARTS op, 'none' included; normal and reduction (FactorizedReduce) edges."""
    monkeypatch.setattr(fused_edge, "PAD_KERNELS", pad_kernels)
    gen = torch.Generator().manual_seed(3)
    ref = MixedEdge(2, 4, stride, DARTS_OPS).double().train()
    fused = MixedEdge(2, 4, stride, DARTS_OPS).double().train()
    fused.load_state_dict(ref.state_dict())
    x = torch.randn(3, 4, 8, 8, generator=gen, dtype=torch.float64)
    if channels_last:
        ref, fused = (m.to(memory_format=torch.channels_last) for m in (ref, fused))
        x = x.contiguous(memory_format=torch.channels_last)
    w = torch.softmax(torch.randn(len(DARTS_OPS), generator=gen, dtype=torch.float64), 0)
    w.requires_grad_()
    out0, grads0, state0 = _edge_step(ref, x, w, {"recompute": recompute})
    out1, grads1, state1 = _edge_step(fused, x, w, {"recompute": recompute, "fused": True})
    torch.testing.assert_close(out1, out0, rtol=TOL, atol=TOL)
    assert len(grads1) == len(grads0) == 2 + len(list(ref.parameters()))
    for i, (a, b) in enumerate(zip(grads0, grads1, strict=True)):
        assert a.abs().max() > 0 or i == 1  # x's and every weight's gradient is non-zero
        torch.testing.assert_close(b, a, rtol=TOL, atol=TOL, msg=f"gradient {i}")
    assert state1.keys() == state0.keys()
    for key, value in state0.items():
        torch.testing.assert_close(state1[key], value, rtol=TOL, atol=TOL, msg=key)
    # The running statistics moved once (also under recompute): one batch each.
    counts = {int(v) for k, v in state1.items() if k.endswith("num_batches_tracked")}
    assert counts == {1}


def test_fused_edge_runs_the_four_convolutions_in_one_fused_call(monkeypatch):
    calls = []
    real = mixed_edge.fused_outputs
    monkeypatch.setattr(
        mixed_edge, "fused_outputs", lambda ops, x: calls.append(len(ops)) or real(ops, x)
    )
    edge = MixedEdge(2, 4, 1, DARTS_OPS)
    w = torch.full((len(DARTS_OPS),), 1 / len(DARTS_OPS))
    edge(torch.randn(2, 4, 6, 6), EdgePlan(w, tuple(range(1, 8)), fused=True))
    assert calls == [4]
    edge(torch.randn(2, 4, 6, 6), EdgePlan(w, tuple(range(1, 8))))
    assert calls == [4]  # not fused unless the plan asks


def test_fusable_accepts_darts_convolutions_only():
    assert fusable(SepConv(2, 4, 4, 5, 2, 2)) and fusable(DilConv(3, 4, 4, 3, 1, 2, 2))
    assert not fusable(DilConv(2, 4, 4, 3, 2, 2, 2, upsample=True))  # transposed
    assert not fusable(SepConv(2, 4, 4, 3, 1, 0))  # shrinks the input
    assert not fusable(nn.Conv2d(4, 4, 3))


def test_fused_outputs_in_3d_and_evaluation_mode():
    gen = torch.Generator().manual_seed(0)
    ops = [SepConv(3, 4, 4, 3, 2, 1), DilConv(3, 4, 4, 5, 2, 4, 2), SepConv(3, 4, 4, 5, 2, 2)]
    ops = [op.double() for op in ops]
    x = torch.randn(2, 4, 6, 6, 6, generator=gen, dtype=torch.float64)
    for op in ops:
        op(x)  # running statistics away from their initial values
        op.eval()
    for y, op in zip(fused_outputs(ops, x), ops, strict=True):
        torch.testing.assert_close(y, op(x), rtol=TOL, atol=TOL)


def _net(**config):
    space = CellSpace(n_nodes=2, skeleton=Skeleton(n_cells=3, channels=4))
    net = build_supernet(space, "darts", config, seed=1).double()
    net.method.setup(net)
    return net.train()


@pytest.mark.parametrize("memory", ["store", "recompute-edge"])
def test_fused_supernet_step_matches_the_unfused_one(memory):
    """Loss, every parameter's and alpha's gradient, BN buffers (normal + reduction cells)."""
    ref, fused = _net(), _net(fuse_ops=True, memory=memory)
    gen = torch.Generator().manual_seed(5)
    x, y = torch.randn(4, 1, 8, 8, generator=gen, dtype=torch.float64), torch.tensor([0, 1, 1, 0])
    losses = []
    for net in (ref, fused):
        loss = nn.functional.cross_entropy(net(x), y)
        loss.backward()
        losses.append(loss.detach())
    torch.testing.assert_close(losses[1], losses[0], rtol=TOL, atol=TOL)
    assert ref.alpha("reduce").grad.abs().max() > 0
    for (name, a), b in zip(ref.named_parameters(), fused.parameters(), strict=True):
        torch.testing.assert_close(b.grad, a.grad, rtol=1e-10, atol=1e-10, msg=name)
    for (name, a), b in zip(ref.named_buffers(), fused.buffers(), strict=True):
        torch.testing.assert_close(b, a, rtol=TOL, atol=TOL, msg=name)


def test_fuse_ops_must_be_a_boolean():
    from nasbench.errors import ConfigError

    space = CellSpace(n_nodes=2, skeleton=Skeleton(n_cells=3, channels=4))
    with pytest.raises(ConfigError, match="fuse_ops must be true or false"):
        build_supernet(space, "darts", {"fuse_ops": "yes"})
