"""Depthwise convolutions whose input gradient is one more (fast) forward convolution.

On the CPU, PyTorch's backward of a depthwise convolution leaves oneDNN's fast kernels for
a generic one when the kernel is dilated or larger than 3x3: forward and backward to the
input of DARTS's ``dil_conv_3x3`` cost 9x its forward alone, of ``dil_conv_5x5`` 10x, and
55-68x at stride 2 (``benchmarks/depthwise.py``). At stride 1 that gradient is itself a
convolution, of the output gradient with the spatially flipped kernel (the adjoint of a
correlation), and the forward kernels handle it at forward speed.
:class:`DepthwiseConv2d` computes it so on the CPU. A conv whose stride equals its
dilation (DARTS's ``dil_conv`` on a reduction edge) only ever reads every d-th pixel, so
it runs as the undilated stride-1 conv of those pixels. The weight gradient and every
other case (other strides, CUDA, 3x3 undilated) stay PyTorch's own. Same numbers up to
float rounding, same parameters and state dict as ``nn.Conv2d``.
:class:`DepthwiseConv3d` does the same in 3D, where PyTorch's CPU backward is slow for
every kernel, 3x3x3 included.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from nasbench.device import memory_format_of

__all__ = ["DepthwiseConv2d", "DepthwiseConv3d", "every_nth", "flipped_input_gradient"]


class _OwnBackward:
    """The forward of :class:`DepthwiseConv2d` and :class:`DepthwiseConv3d` (a mixin over
    ``nn.Conv2d``/``nn.Conv3d``): where the own backward applies it runs the conv through
    :class:`_FlippedBackwardConv`, elsewhere through the parent class."""

    def __init__(
        self,
        channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        bias: bool = False,
    ) -> None:
        # One filter per channel: in = out = groups = channels.
        super().__init__(  # type: ignore[call-arg]
            channels,
            channels,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=channels,
            bias=bias,
        )
        self.fast_backward = True

    def _conv_forward(
        self, input: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None
    ) -> torch.Tensor:
        parent = super()._conv_forward  # type: ignore[misc]
        if not (self.fast_backward and bias is None and self._own_path_applies(input)):
            return parent(input, weight, bias)
        padding, dilation = self.padding, self.dilation
        if self._strided_like_dilated():
            # Stride d, dilation d, "same" padding: the taps only ever meet every d-th
            # pixel, so this is the undilated stride-1 conv of those pixels.
            input = every_nth(input, self.stride)
            padding = tuple((k - 1) // 2 for k in self.kernel_size)
            dilation = (1,) * len(padding)
        elif any(s != 1 for s in self.stride):
            return parent(input, weight, bias)
        if not _slow_backward(self.kernel_size, dilation, padding):
            return _conv(input, weight, padding, dilation)
        return _FlippedBackwardConv.apply(input, weight, padding, dilation)

    def _own_path_applies(self, input: torch.Tensor) -> bool:
        # Not conditioned on grad mode: a forward without a graph (a recomputing edge's
        # first pass) must round exactly as the same forward with one.
        return (
            input.device.type == "cpu"
            and self.padding_mode == "zeros"
            and not isinstance(self.padding, str)
        )

    def _strided_like_dilated(self) -> bool:
        return all(
            s == d > 1 and k % 2 == 1 and p == d * (k - 1) // 2
            for s, d, k, p in zip(
                self.stride, self.dilation, self.kernel_size, self.padding, strict=True
            )
        )


class DepthwiseConv2d(_OwnBackward, nn.Conv2d):
    """``nn.Conv2d(C, C, k, groups=C)`` with the input gradient taken as a forward conv.

    On the CPU: at stride 1, with zero padding of at most
    ``dilation * (k - 1)`` and a kernel that is dilated or larger than 3x3 (where
    PyTorch's own backward is slow), the input gradient is a forward conv; at stride =
    dilation with "same" padding, the conv runs on every d-th pixel, undilated.
    Elsewhere this is ``nn.Conv2d``.

    Args:
        channels: input and output channels (one filter per channel).
        kernel_size, stride, padding, dilation: as ``nn.Conv2d``.
        bias: as ``nn.Conv2d``.

    Attributes:
        fast_backward: take the own backward where it applies (True); False gives
            PyTorch's backward everywhere (the benchmark's textbook baseline).

    Example:
        >>> conv = DepthwiseConv2d(4, 5, padding=4, dilation=2)
        >>> conv(torch.zeros(2, 4, 9, 9)).shape
        torch.Size([2, 4, 9, 9])
    """


class DepthwiseConv3d(_OwnBackward, nn.Conv3d):
    """``nn.Conv3d(C, C, k, groups=C)`` with the input gradient taken as a forward conv.

    As :class:`DepthwiseConv2d`, but at stride 1 for every kernel: PyTorch's 3D depthwise
    backward is slow even for undilated 3x3x3 kernels (``benchmarks/depthwise.py --dims 3``).

    Args:
        channels: input and output channels (one filter per channel).
        kernel_size, stride, padding, dilation: as ``nn.Conv3d``.
        bias: as ``nn.Conv3d``.

    Example:
        >>> conv = DepthwiseConv3d(2, 3, padding=1)
        >>> conv(torch.zeros(1, 2, 5, 5, 5)).shape
        torch.Size([1, 2, 5, 5, 5])
    """


def _conv(x: torch.Tensor, weight: torch.Tensor, padding: Any, dilation: Any) -> torch.Tensor:
    conv = F.conv2d if weight.dim() == 4 else F.conv3d
    return conv(x, weight, padding=padding, dilation=dilation, groups=weight.shape[0])


def _slow_backward(kernel_size: tuple, dilation: tuple, padding: tuple) -> bool:
    """Whether PyTorch's own CPU backward of this stride-1 conv is slow (2D: dilated or
    larger than 3x3; 3D: always) and the flipped-kernel input gradient applies."""
    slow = len(kernel_size) == 3 or any(k > 3 for k in kernel_size) or any(d > 1 for d in dilation)
    fits = all(
        0 <= p <= d * (k - 1) for p, d, k in zip(padding, dilation, kernel_size, strict=True)
    )
    return slow and fits


def _kernel_outreaches_image(x: torch.Tensor, weight: torch.Tensor, dilation: Any) -> bool:
    """A channels-last 2D input narrower than a dilated kernel on some axis, e.g.
    DARTS's ``dil_conv_5x5`` (9 pixels wide) on a 7x7 map. There oneDNN's channels-last
    weight gradient takes 1.3-2.6x as long as the channels-first one with both copies
    (1.66 against 0.74 ms, b16, C=64, 7x7; ``benchmarks/README.md``), while on wider
    images, or for an undilated kernel of any width, it is the faster one."""
    if x.dim() != 4 or memory_format_of(x) != torch.channels_last:
        return False
    kernel, size = weight.shape[2:], x.shape[2:]
    return any(
        d > 1 and d * (k - 1) + 1 > n for d, k, n in zip(dilation, kernel, size, strict=True)
    )


def flipped_input_gradient(
    grad_out: torch.Tensor, weight: torch.Tensor, padding: Any, dilation: Any
) -> torch.Tensor:
    """The input gradient of a stride-1 depthwise conv, as a conv with the flipped kernel.

    ``y = conv(x, w)`` with zero padding ``p`` gives ``dL/dx = conv(dL/dy, flip(w))`` with
    padding ``d * (k - 1) - p``, per spatial dim: the same size as ``x``. 2D or 3D.

    Args:
        grad_out: ``dL/dy``, ``(N, C, *spatial')``.
        weight: the depthwise kernel, ``(C, 1, *kernel)``.
        padding: the forward's padding per spatial dim.
        dilation: the forward's dilation per spatial dim.

    Returns:
        ``dL/dx``, ``(N, C, *spatial)``.

    Example:
        >>> x = torch.randn(1, 2, 6, 6, requires_grad=True); w = torch.randn(2, 1, 3, 3)
        >>> g = torch.randn(1, 2, 6, 6)
        >>> (dx,) = torch.autograd.grad(F.conv2d(x, w, padding=2, dilation=2, groups=2), x, g)
        >>> torch.allclose(flipped_input_gradient(g, w, (2, 2), (2, 2)), dx, atol=1e-5)
        True
    """
    kernel = weight.shape[2:]
    adjoint = tuple(d * (k - 1) - p for p, d, k in zip(padding, dilation, kernel, strict=True))
    spatial = tuple(range(2, weight.dim()))
    return _conv(grad_out, weight.flip(spatial), adjoint, dilation)


def every_nth(x: torch.Tensor, steps: Any) -> torch.Tensor:
    """Every ``steps[i]``-th pixel of each spatial dim, laid out as ``x`` (its gradient too).

    ``x[:, :, ::s1, ::s2(, ::s3)]``, but dense in ``x``'s memory format, and with a backward
    that keeps that format: a plain slice's backward hands back a channels-first gradient.

    Args:
        x: ``(N, C, *spatial)``.
        steps: one step per spatial dim.

    Returns:
        The subsampled tensor.

    Example:
        >>> every_nth(torch.arange(16.).view(1, 1, 4, 4), (2, 2)).flatten().tolist()
        [0.0, 2.0, 8.0, 10.0]
    """
    return _EveryNth.apply(x, tuple(steps))


class _EveryNth(torch.autograd.Function):
    """``x[:, :, ::s1, ::s2(, ::s3)]`` as a dense tensor in ``x``'s memory format, with a
    backward that keeps that format. A plain slice's backward hands back a channels-first
    gradient, and every channels-last op behind it then runs on mixed formats (ReLU's
    backward 35x slower)."""

    @staticmethod
    def forward(ctx: Any, x, steps):  # noqa: ANN001
        ctx.shape, ctx.format, ctx.steps = x.shape, memory_format_of(x), steps
        every = tuple(slice(None, None, step) for step in steps)
        return x[(slice(None), slice(None), *every)].contiguous(memory_format=ctx.format)

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor):
        grad_x = torch.empty(
            ctx.shape, dtype=grad_out.dtype, device=grad_out.device, memory_format=ctx.format
        ).zero_()
        every = tuple(slice(None, None, step) for step in ctx.steps)
        grad_x[(slice(None), slice(None), *every)] = grad_out
        return grad_x, None


class _FlippedBackwardConv(torch.autograd.Function):
    """Depthwise conv at stride 1; backward: input gradient by :func:`flipped_input_gradient`,
    weight gradient by PyTorch's ``convolution_backward``. Both are differentiable ops,
    so a double backward (the Hessian-vector products of the collapse watch) works."""

    @staticmethod
    def forward(ctx: Any, x, weight, padding, dilation):  # noqa: ANN001
        ctx.save_for_backward(x, weight)
        ctx.padding, ctx.dilation = padding, dilation
        return _conv(x, weight, padding, dilation)

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor):
        x, weight = ctx.saved_tensors
        want_x, want_w = ctx.needs_input_grad[:2]
        dims = weight.dim() - 2
        grad_x = grad_w = None
        if want_x:
            grad_x = flipped_input_gradient(grad_out, weight, ctx.padding, ctx.dilation)
            # Laid out as x, as PyTorch's own backward does (whatever grad_out's format).
            grad_x = grad_x.contiguous(memory_format=memory_format_of(x))
        if want_w:
            x_w, grad_w_out, weight_w = x, grad_out, weight
            if _kernel_outreaches_image(x, weight, ctx.dilation):
                # All three channels-first: PyTorch picks channels-last if any one is
                # (a (C, 1, k, k) kernel counts as contiguous, so clone it explicitly).
                x_w, grad_w_out = x.contiguous(), grad_out.contiguous()
                weight_w = weight.clone(memory_format=torch.contiguous_format)
            grad_w = torch.ops.aten.convolution_backward(
                grad_w_out,
                x_w,
                weight_w,
                None,
                [1] * dims,
                list(ctx.padding),
                list(ctx.dilation),
                False,
                [0] * dims,
                weight.shape[0],
                [False, True, False],
            )[1]
        return grad_x, grad_w, None, None
