"""DepthwiseConv2d: the same conv as nn.Conv2d (output, input and weight gradients, double
backward, state dict), with its own backward only where it is meant to run."""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nasbench.device import memory_format_of
from nasbench.spaces.blocks import DilConv, SepConv, depthwise_conv
from nasbench.spaces.depthwise import (
    DepthwiseConv2d,
    DepthwiseConv3d,
    conv3d_plan,
    flipped_input_gradient,
)

CASES = list(
    itertools.product((3, 5), (1, 2), (1, 2), (7, 8), (False, True))
)  # kernel, dilation, stride, size, channels-last


def _reference(conv: nn.Module) -> nn.Module:
    ref = (nn.Conv2d if isinstance(conv, nn.Conv2d) else nn.Conv3d)(
        conv.in_channels,
        conv.out_channels,
        conv.kernel_size,
        conv.stride,
        conv.padding,
        conv.dilation,
        groups=conv.groups,
        bias=False,
    ).double()
    ref.load_state_dict(conv.state_dict())
    return ref


def _assert_same_as_pytorch(conv: nn.Module, x: torch.Tensor, gen: torch.Generator) -> None:
    """Output, input and weight gradients of ``conv`` equal those of PyTorch's own conv."""
    ref = _reference(conv)
    x.requires_grad_()
    out, expected = conv(x), ref(x)
    assert out.shape == expected.shape
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)
    grad = torch.randn(expected.shape, generator=gen, dtype=torch.float64)
    grad = grad.contiguous(memory_format=memory_format_of(x))  # as a network's would be
    got = torch.autograd.grad(out, (x, conv.weight), grad)
    want = torch.autograd.grad(expected, (x, ref.weight), grad)
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w, rtol=0, atol=1e-11)


@pytest.mark.parametrize("kernel,dilation,stride,size,channels_last", CASES)
def test_output_and_gradients_equal_pytorchs_conv(kernel, dilation, stride, size, channels_last):
    gen = torch.Generator().manual_seed(kernel * 100 + dilation * 10 + stride)
    padding = dilation * (kernel - 1) // 2
    conv = DepthwiseConv2d(5, kernel, stride, padding, dilation).double()
    x = torch.randn(3, 5, size, size, generator=gen, dtype=torch.float64)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    _assert_same_as_pytorch(conv, x, gen)


@pytest.mark.parametrize("dims", [2, 3])
@pytest.mark.parametrize("kernel,dilation,stride", list(itertools.product((3, 5), (1, 2), (1, 2))))
def test_a_channels_last_input_gets_a_channels_last_gradient(dims, kernel, dilation, stride):
    # float32, where PyTorch's own conv keeps the format: a gradient in another format
    # would make every op behind the conv run on mixed formats (slow on the CPU).
    fmt = {2: torch.channels_last, 3: torch.channels_last_3d}[dims]
    padding = dilation * (kernel - 1) // 2
    conv = (DepthwiseConv2d if dims == 2 else DepthwiseConv3d)(4, kernel, stride, padding, dilation)
    x = torch.randn(2, 4, *[8] * dims).contiguous(memory_format=fmt).requires_grad_()
    out = conv(x)
    assert memory_format_of(out) == fmt
    (grad,) = torch.autograd.grad(out, x, torch.ones_like(out))
    assert memory_format_of(grad) == fmt
    (expected,) = torch.autograd.grad(_reference(conv).float()(x), x, torch.ones_like(out))
    torch.testing.assert_close(grad, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kernel,dilation,stride,size,channels_last", CASES)
def test_3d_output_and_gradients_equal_pytorchs_conv(kernel, dilation, stride, size, channels_last):
    gen = torch.Generator().manual_seed(kernel * 100 + dilation * 10 + stride + 1)
    padding = dilation * (kernel - 1) // 2
    conv = DepthwiseConv3d(3, kernel, stride, padding, dilation).double()
    x = torch.randn(2, 3, size, size - 1, size, generator=gen, dtype=torch.float64)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last_3d)
    _assert_same_as_pytorch(conv, x, gen)


def test_own_backward_runs_only_where_pytorchs_is_slow():
    x = torch.randn(2, 4, 9, 9, requires_grad=True)

    def backward_of(conv: nn.Module) -> str:
        return type(conv(x).grad_fn).__name__

    flipped = "_FlippedBackwardConvBackward"
    assert backward_of(DepthwiseConv2d(4, 3, 1, 2, 2)) == flipped  # dilated
    assert backward_of(DepthwiseConv2d(4, 5, 1, 2)) == flipped  # 5x5
    assert backward_of(DepthwiseConv2d(4, 3, 1, 1)) == "ConvolutionBackward0"  # fast already
    assert backward_of(DepthwiseConv2d(4, 3, 2, 1)) == "ConvolutionBackward0"  # stride 2
    # stride = dilation: an undilated 3x3 conv of every other pixel, PyTorch's backward
    assert backward_of(DepthwiseConv2d(4, 3, 2, 2, 2)) == "ConvolutionBackward0"
    assert backward_of(DepthwiseConv2d(4, 5, 2, 4, 2)) == flipped
    off = DepthwiseConv2d(4, 5, 1, 2)
    off.fast_backward = False  # the benchmark's textbook baseline
    assert backward_of(off) == "ConvolutionBackward0"
    # 3D: PyTorch's backward is slow for every kernel at stride 1, 3x3x3 included
    volume = torch.randn(1, 4, 6, 6, 6, requires_grad=True)
    assert type(DepthwiseConv3d(4, 3, 1, 1)(volume).grad_fn).__name__ == flipped
    assert type(DepthwiseConv3d(4, 3, 2, 1)(volume).grad_fn).__name__ == "ConvolutionBackward0"


def test_double_backward_gives_pytorchs_hessian_vector_product():
    # The collapse watch differentiates through gradients (create_graph=True).
    gen = torch.Generator().manual_seed(0)
    conv = DepthwiseConv2d(3, 5, 1, 4, 2).double()
    ref = _reference(conv)
    x = torch.randn(2, 3, 8, 8, generator=gen, dtype=torch.float64)
    v = torch.randn(3, 1, 5, 5, generator=gen, dtype=torch.float64)

    def hvp(module: nn.Module) -> torch.Tensor:
        loss = (torch.tanh(module(x)) ** 2).sum()
        (g,) = torch.autograd.grad(loss, module.weight, create_graph=True)
        (h,) = torch.autograd.grad((g * v).sum(), module.weight)
        return h

    torch.testing.assert_close(hvp(conv), hvp(ref), rtol=1e-10, atol=1e-12)


def test_flipped_input_gradient_is_the_adjoint_at_any_padding():
    gen = torch.Generator().manual_seed(1)
    w = torch.randn(2, 1, 5, 5, generator=gen, dtype=torch.float64)
    for padding, dilation in (((0, 0), (1, 1)), ((1, 3), (1, 1)), ((2, 8), (2, 2))):
        x = torch.randn(1, 2, 11, 12, generator=gen, dtype=torch.float64, requires_grad=True)
        y = F.conv2d(x, w, padding=padding, dilation=dilation, groups=2)
        g = torch.randn(y.shape, generator=gen, dtype=torch.float64)
        (want,) = torch.autograd.grad(y, x, g)
        got = flipped_input_gradient(g, w, padding, dilation)
        torch.testing.assert_close(got, want, rtol=0, atol=1e-12)


def test_keys_and_modules_stay_those_of_a_conv():
    conv = DepthwiseConv2d(4, 5, 1, 2)
    assert isinstance(conv, nn.Conv2d) and conv.groups == 4 and conv.bias is None
    plain = nn.Conv2d(4, 4, 5, padding=2, groups=4, bias=False)
    plain.load_state_dict(conv.state_dict())  # checkpoints load either way
    assert set(conv.state_dict()) == {"weight"}
    # The DARTS ops build theirs, in 2D and 3D.
    depthwise = [m for m in SepConv(2, 4, 4, 5, 1, 2).modules() if isinstance(m, nn.Conv2d)]
    assert [type(m) for m in depthwise] == [DepthwiseConv2d, nn.Conv2d] * 2
    dil = [type(m) for m in DilConv(2, 4, 4, 3, 2, 2, 2).modules() if isinstance(m, nn.Conv2d)]
    assert dil == [DepthwiseConv2d, nn.Conv2d]
    assert type(depthwise_conv(3, 4, 3, 1, 1)) is DepthwiseConv3d
    assert set(DepthwiseConv3d(4, 3).state_dict()) == {"weight"}


def test_stride_equal_to_dilation_per_dim_takes_each_dims_own_step():
    # (2, 3) strides with (2, 3) dilations: every 2nd row and every 3rd column.
    conv = DepthwiseConv2d(3, (3, 5), (2, 3), (2, 6), (2, 3)).double()
    ref = _reference(conv)
    x = torch.randn(2, 3, 11, 13, dtype=torch.float64, requires_grad=True)
    out, expected = conv(x), ref(x)
    assert out.shape == expected.shape == (2, 3, 6, 5)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-12)
    got = torch.autograd.grad(out.sum(), (x, conv.weight))
    want = torch.autograd.grad(expected.sum(), (x, ref.weight))
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w, rtol=0, atol=1e-11)


@pytest.mark.parametrize(
    "kernel,dilation,size,outreaches", [(5, 2, 8, True), (5, 2, 9, False), (3, 2, 4, True),
                                        (3, 2, 5, False), (3, 3, 6, True), (5, 1, 4, False)]
)  # fmt: skip
def test_a_kernel_wider_than_the_image_takes_the_channels_first_weight_gradient(
    monkeypatch, kernel, dilation, size, outreaches
):
    """Where a dilated kernel is wider than the image, oneDNN's channels-last weight
    gradient is 1.3-2.6x slower; the values stay PyTorch's, whatever format the module's
    own kernel was given."""
    gen = torch.Generator().manual_seed(size)
    padding = dilation * (kernel - 1) // 2
    conv = DepthwiseConv2d(4, kernel, 1, padding, dilation).double()
    conv = conv.to(memory_format=torch.channels_last)
    x = torch.randn(2, 4, size, size, generator=gen, dtype=torch.float64)
    x = x.contiguous(memory_format=torch.channels_last)
    layouts = []
    backward = torch.ops.aten.convolution_backward

    def spy(grad_out, inp, weight, *args):
        layouts.append([t.stride() == t.contiguous().stride() for t in (grad_out, inp)])
        layouts[-1].append(weight.stride()[1] == weight.shape[2] * weight.shape[3])
        return backward(grad_out, inp, weight, *args)

    monkeypatch.setattr(torch.ops.aten, "convolution_backward", spy)
    _assert_same_as_pytorch(conv, x, gen)
    assert layouts[0] == [outreaches] * 3


def _spy_conv3d(monkeypatch) -> list[tuple]:
    """Record (batch, dilation, channels-last-3d input) of every F.conv3d call."""
    calls, conv3d = [], F.conv3d

    def spy(x, weight, *args, **kwargs):
        dilation = kwargs.get("dilation", args[3] if len(args) > 3 else 1)
        dilation = tuple(dilation) if isinstance(dilation, tuple | list) else (dilation,) * 3
        channels_last = memory_format_of(x) == torch.channels_last_3d
        calls.append((x.shape[0], dilation, channels_last))
        return conv3d(x, weight, *args, **kwargs)

    monkeypatch.setattr(F, "conv3d", spy)
    return calls


@pytest.mark.parametrize(
    "kernel,dilation,size,channels_last",
    list(itertools.product((3, 5), (1, 2, 3), (2, 5, 8), (False, True))),
)
def test_3d_forward_paths_equal_pytorchs_conv_and_are_taken(
    monkeypatch, kernel, dilation, size, channels_last
):
    """Channels-last-3d for undilated kernels, the d^3 sub-grids as one undilated conv
    for dilated ones: output (and its format), input and weight gradients as nn.Conv3d's,
    batch 1, odd and even sizes, volumes smaller than the dilated kernel (size 2, 5)."""
    gen = torch.Generator().manual_seed(kernel * 100 + dilation * 10 + size)
    padding = dilation * (kernel - 1) // 2
    conv = DepthwiseConv3d(3, kernel, 1, padding, dilation).double()
    x = torch.randn(1, 3, size, size + 1, size, generator=gen, dtype=torch.float64)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last_3d)
    plan = conv3d_plan(x, conv.weight, conv.padding, conv.dilation)
    assert plan == "channels_last" if dilation == 1 else plan in ("zero_inserted", "residues")
    calls = _spy_conv3d(monkeypatch)
    _assert_same_as_pytorch(conv, x, gen)
    assert memory_format_of(conv(x)) == memory_format_of(x)  # as PyTorch's own conv
    # ours (forward, then the flipped input gradient) around the reference's forward
    batch = dilation**3 if plan == "residues" else 1  # the sub-grids along the batch
    assert calls[0] == calls[2] == (batch, (1, 1, 1), True)
    assert calls[1] == (1, (dilation,) * 3, channels_last)


def test_3d_plan_picks_the_measured_fastest_way():
    def plan(shape, kernel, dilation, channels_last=False):
        x = torch.zeros(shape)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last_3d)
        weight = torch.zeros(shape[1], 1, kernel, kernel, kernel)
        return conv3d_plan(x, weight, (dilation * (kernel - 1) // 2,) * 3, (dilation,) * 3)

    # lesson 13's supernet (marl-gdas, patch 9): 9^3 patches and 5^3 after a reduction
    assert plan((24, 3, 9, 9, 9), 3, 2) == "zero_inserted"
    assert plan((24, 3, 9, 9, 9), 5, 2) == "residues"
    assert plan((24, 3, 9, 9, 9), 3, 3) == "residues"
    assert plan((8, 12, 5, 5, 5), 5, 2) == "zero_inserted"
    assert plan((8, 12, 5, 5, 5), 3, 1) == "channels_last"
    # 3D searches on whole volumes: few large channels-first volumes keep PyTorch's
    # conv when undilated (the copies cost what channels-last saves)
    assert plan((2, 8, 16, 16, 16), 3, 1) == "pytorch"
    assert plan((2, 8, 16, 16, 16), 3, 1, channels_last=True) == "channels_last"
    assert plan((2, 8, 16, 16, 16), 5, 2) == "residues"
    assert plan((2, 8, 16, 16, 16), 3, 2) == "zero_inserted"


def test_3d_plan_keeps_pytorchs_conv_where_the_rewrite_does_not_apply(monkeypatch):
    weight = torch.zeros(4, 1, 3, 3, 3)
    volume = torch.zeros(1, 4, 6, 6, 6)
    assert conv3d_plan(volume, weight, (2, 2, 2), (2, 2, 2)) == "zero_inserted"
    assert conv3d_plan(volume, weight, (1, 1, 1), (2, 2, 2)) == "pytorch"  # not "same"
    assert conv3d_plan(volume.to("meta"), weight, (1, 1, 1), (1, 1, 1)) == "pytorch"  # no CPU
    # per-dim dilations: "same" padding per dim is all it takes
    assert conv3d_plan(volume, weight, (1, 2, 3), (1, 2, 3)) != "pytorch"
    calls = _spy_conv3d(monkeypatch)
    conv = DepthwiseConv3d(4, 3, 1, 1, 2).double()  # dilated, padding 1: PyTorch's conv
    x = torch.randn(2, 4, 7, 6, 7, dtype=torch.float64)
    torch.testing.assert_close(conv(x), _reference(conv)(x), rtol=0, atol=1e-12)
    assert calls[0] == (2, (2, 2, 2), False)


def test_3d_per_dim_dilations_take_each_dims_own_sub_grids(monkeypatch):
    gen = torch.Generator().manual_seed(3)
    conv = DepthwiseConv3d(2, (3, 5, 5), 1, (2, 4, 6), (2, 2, 3)).double()
    x = torch.randn(2, 2, 6, 9, 14, generator=gen, dtype=torch.float64)
    assert conv3d_plan(x, conv.weight, conv.padding, conv.dilation) == "residues"
    calls = _spy_conv3d(monkeypatch)
    _assert_same_as_pytorch(conv, x, gen)
    assert calls[0] == calls[2] == (2 * 2 * 2 * 3, (1, 1, 1), True)


@pytest.mark.parametrize("kernel,dilation", [(3, 1), (5, 2), (3, 3)])
def test_3d_double_backward_gives_pytorchs_hessian_vector_product(kernel, dilation):
    gen = torch.Generator().manual_seed(kernel + dilation)
    conv = DepthwiseConv3d(3, kernel, 1, dilation * (kernel - 1) // 2, dilation).double()
    ref = _reference(conv)
    x = torch.randn(2, 3, 5, 6, 7, generator=gen, dtype=torch.float64, requires_grad=True)
    v = torch.randn(3, 1, kernel, kernel, kernel, generator=gen, dtype=torch.float64)

    def hvp(module: nn.Module) -> tuple:
        loss = (torch.tanh(module(x)) ** 2).sum()
        g_w, g_x = torch.autograd.grad(loss, (module.weight, x), create_graph=True)
        return torch.autograd.grad((g_w * v).sum() + g_x.square().sum(), (module.weight, x))

    for got, want in zip(hvp(conv), hvp(ref), strict=True):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-11)
