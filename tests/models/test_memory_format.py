"""A channels-last network keeps channels-last tensors and gradients, end to end.

A gradient that arrives channels-first makes every op behind it run on mixed formats, and
the CPU kernels for mixed formats are slow (ReLU's backward 35x). Three places used to
turn gradients channels-first: the global average pool's backward, FactorizedReduce's
shifted slice, and the strided slice of a depthwise conv whose stride equals its dilation;
and PC-DARTS's channel slice and shuffle turned the edge's tensors channels-first.
"""

from __future__ import annotations

import collections

import pytest
import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode

from nasbench.device import memory_format_of
from nasbench.models.supernet import build_supernet
from nasbench.spaces.blocks import FactorizedReduce, GlobalAvgPool, Zero
from nasbench.spaces.cell import CellSpace
from nasbench.spaces.skeleton import Skeleton


class _MixedFormatOps(TorchDispatchMode):
    """Counts the ops whose 4-dim tensor arguments come in more than one memory format."""

    def __init__(self) -> None:
        super().__init__()
        self.mixed: collections.Counter = collections.Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        dense = [
            memory_format_of(a)
            for a in args
            if isinstance(a, torch.Tensor) and a.dim() == 4 and a.shape[1] > 1 and a.shape[-1] > 1
            if a.is_contiguous() or a.is_contiguous(memory_format=torch.channels_last)
        ]
        if len(set(dense)) > 1:
            self.mixed[func.__name__] += 1
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize(
    "method,config",
    [
        ("darts", {"memory": "store"}),
        ("darts", {"memory": "recompute-edge"}),
        ("darts", {"memory": "recompute-convs"}),
        ("pcdarts", {}),  # the channel split and shuffle
        ("gdas", {}),  # one sampled op per edge
    ],
)
def test_a_channels_last_search_step_runs_no_op_on_mixed_formats(method, config):
    space = CellSpace(n_nodes=2, skeleton=Skeleton(n_cells=3, channels=8))
    net = build_supernet(space, method, config, seed=0, channels_last=True)
    net = net.to(memory_format=torch.channels_last)
    net.method.setup(net)
    net.train()
    x = torch.randn(4, 1, 12, 12).contiguous(memory_format=torch.channels_last)
    with _MixedFormatOps() as probe:
        loss = F.cross_entropy(net(x), torch.tensor([0, 1, 1, 0]))
        loss.backward()
    assert not probe.mixed, dict(probe.mixed)


@pytest.mark.parametrize("dims", [2, 3])
def test_global_average_pool_is_the_mean_and_keeps_the_gradients_format(dims):
    fmt = {2: torch.channels_last, 3: torch.channels_last_3d}[dims]
    x = torch.randn(3, 5, *[6] * dims, dtype=torch.float64).contiguous(memory_format=fmt)
    x.requires_grad_()
    pooled = GlobalAvgPool()(x)
    spatial = tuple(range(2, 2 + dims))
    assert torch.equal(pooled, x.mean(spatial, keepdim=True))
    seed = torch.randn_like(pooled)
    (grad,) = torch.autograd.grad(pooled, x, seed)
    (expected,) = torch.autograd.grad(x.mean(spatial, keepdim=True), x, seed)
    assert torch.equal(grad, expected)
    assert memory_format_of(grad) == fmt


def test_global_average_pool_supports_double_backward():
    x = torch.randn(2, 3, 4, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradgradcheck(lambda t: GlobalAvgPool()(t) ** 2, (x,))


@pytest.mark.parametrize("size", [6, 7])
@pytest.mark.parametrize("dims", [2, 3])
def test_factorized_reduce_shift_is_the_padded_slice_and_keeps_the_format(size, dims):
    fmt = {2: torch.channels_last, 3: torch.channels_last_3d}[dims]
    op = FactorizedReduce(dims, 4, 6).eval()
    x = torch.randn(2, 4, *[size] * dims).contiguous(memory_format=fmt).requires_grad_()
    out = op(x)
    assert out.shape[2:] == (size - size // 2,) * dims
    r = torch.relu(x)
    shifted = F.pad(r, (0, 1) * dims)[(..., *[slice(1, None)] * dims)]
    conv = {2: F.conv2d, 3: F.conv3d}[dims]  # DARTS's two 1x1 stride-2 convs
    halves = [conv(r, op.conv_1.weight, stride=2), conv(shifted, op.conv_2.weight, stride=2)]
    torch.testing.assert_close(out, op.bn(torch.cat(halves, dim=1)))
    (grad,) = torch.autograd.grad(out, x, torch.ones_like(out))
    assert memory_format_of(grad) == fmt


@pytest.mark.parametrize("dims", [2, 3])
def test_channel_shuffle_gives_the_same_values_in_either_format(dims):
    from nasbench.strategies.differentiable.pcdarts import channel_shuffle

    fmt = {2: torch.channels_last, 3: torch.channels_last_3d}[dims]
    x = torch.randn(2, 8, *[3] * dims)
    plain = channel_shuffle(x, 4)
    assert torch.equal(plain[:, :4], x[:, ::2]) and torch.equal(plain[:, 4:], x[:, 1::2])
    fast_in = x.contiguous(memory_format=fmt).requires_grad_()
    fast = channel_shuffle(fast_in, 4)
    assert torch.equal(fast, plain)
    assert memory_format_of(fast) == fmt
    (grad,) = torch.autograd.grad(fast, fast_in, torch.randn_like(fast))
    assert memory_format_of(grad) == fmt


def test_zero_at_stride_two_keeps_the_format_and_the_graph():
    x = torch.randn(2, 4, 7, 7).contiguous(memory_format=torch.channels_last).requires_grad_()
    out = Zero(2)(x)
    assert out.shape == (2, 4, 4, 4) and not out.any()
    assert memory_format_of(out) == torch.channels_last
    (grad,) = torch.autograd.grad(out, x, torch.ones_like(out))  # connected, as in DARTS
    assert memory_format_of(grad) == torch.channels_last and not grad.any()
    nan = torch.full((1, 1, 4, 4), float("nan"))
    assert Zero(2)(nan).isnan().all()  # x * 0, not zeros: a NaN input stays visible
