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
every kernel, 3x3x3 included. Its stride-1 forward (and so that input gradient) is slow
too: oneDNN's channels-first 3D depthwise kernels are up to 5x slower than its
channels-last-3d ones, and its dilated kernels are slow in either format (up to 50x in
channels-last-3d). So on the CPU an undilated kernel runs channels-last-3d, and a dilated
one with "same" padding never runs dilated: as its zero-inserted undilated kernel, or as
one undilated conv of the ``d^3`` sub-grids of voxels it reads (:func:`conv3d_plan`);
the output is laid out as the input, as PyTorch's own conv lays it.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from nasbench.device import memory_format_of

__all__ = [
    "DepthwiseConv2d",
    "DepthwiseConv3d",
    "conv3d_plan",
    "every_nth",
    "flipped_input_gradient",
]


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
    if weight.dim() == 5 and x.device.type == "cpu":
        return _conv3d_on_cpu(x, weight, padding, dilation)
    conv = F.conv2d if weight.dim() == 4 else F.conv3d
    return conv(x, weight, padding=padding, dilation=dilation, groups=weight.shape[0])


def conv3d_plan(x: torch.Tensor, weight: torch.Tensor, padding: Any, dilation: Any) -> str:
    """How a stride-1 3D depthwise conv runs on the CPU (forward and flipped input gradient).

    oneDNN's channels-first 3D depthwise conv is up to 5x slower than its channels-last-3d
    one for undilated kernels, and its dilated kernels are slow in the default format and
    slower still (up to 50x) in channels-last-3d (``benchmarks/depthwise.py --forward``),
    so a dilated kernel never runs dilated here.

    Args:
        x: ``(N, C, D, H, W)`` input.
        weight: ``(C, 1, kd, kh, kw)`` depthwise kernel.
        padding: zero padding per spatial dim.
        dilation: dilation per spatial dim.

    Returns:
        ``"channels_last"``: an undilated kernel, run in channels-last-3d (a channels-first
        input copied there and the output back), except a channels-first input of a few
        large volumes (``N * C < 64`` and over 1000 voxels), where the copies cost what
        the format saves: ``"pytorch"``;
        for a dilated kernel with "same" padding, where its zero-inserted (undilated)
        kernel has at most 125 taps inside the volume, or at most 5x those of the
        sub-grid conv: ``"zero_inserted"``, that kernel in channels-last-3d; else
        ``"residues"``: the ``d^3`` sub-grids ``x[..., a::d, b::d, c::d]`` stacked along
        the batch of one undilated channels-last-3d conv (an output voxel reads only
        its own residue class);
        ``"pytorch"``: anything else (CUDA; a dilated kernel with other padding).

    Example:
        >>> w = torch.zeros(4, 1, 5, 5, 5)
        >>> conv3d_plan(torch.zeros(2, 4, 16, 16, 16), w, (4, 4, 4), (2, 2, 2))
        'residues'
    """
    if x.device.type != "cpu":
        return "pytorch"
    kernel, size = weight.shape[2:], x.shape[2:]
    if all(d == 1 for d in dilation):
        few_large = x.shape[0] * x.shape[1] < 64 and math.prod(size) > 1000
        if few_large and memory_format_of(x) != torch.channels_last_3d:
            return "pytorch"
        return "channels_last"
    dims = list(zip(kernel, dilation, padding, size, strict=True))
    if not all(k % 2 == 1 and 2 * p == d * (k - 1) for k, d, p, _ in dims):
        return "pytorch"
    # Taps that can land inside the volume: the zero-inserted kernel's reach is cut by
    # the volume's size, the sub-grid kernel's by the sub-grid's (measured: 5^3 and 9^3
    # volumes, 3x3x3 at dilation 2 -> zero-inserted; 5x5x5 or dilation 3 -> residues).
    inserted = math.prod(min(d * (k - 1) + 1, n) for k, d, _, n in dims)
    sub_grid = math.prod(min(k, -(-n // d)) for k, d, _, n in dims)
    return "zero_inserted" if inserted <= max(125, 5 * sub_grid) else "residues"


def _conv3d_on_cpu(
    x: torch.Tensor, weight: torch.Tensor, padding: Any, dilation: Any
) -> torch.Tensor:
    """:func:`conv3d_plan`'s way of running the conv; the output laid out as ``x``."""
    plan, groups = conv3d_plan(x, weight, padding, dilation), weight.shape[0]
    if plan == "pytorch":
        return F.conv3d(x, weight, padding=padding, dilation=dilation, groups=groups)
    fmt = memory_format_of(x)
    if plan == "residues":
        return _conv_by_residues(x, weight, tuple(dilation)).contiguous(memory_format=fmt)
    if plan == "zero_inserted":
        weight = _zero_inserted(weight, tuple(dilation))
    x = x.contiguous(memory_format=torch.channels_last_3d)
    return F.conv3d(x, weight, padding=padding, groups=groups).contiguous(memory_format=fmt)


def _zero_inserted(weight: torch.Tensor, dilation: tuple) -> torch.Tensor:
    """The undilated kernel of a dilated one: ``d - 1`` zeros between its taps (a slice
    assignment, differentiable in ``weight``)."""
    c, one, *kernel = weight.shape
    span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True)]
    inserted = weight.new_zeros(c, one, *span)
    inserted[(slice(None), slice(None), *(slice(None, None, d) for d in dilation))] = weight
    return inserted


def _conv_by_residues(x: torch.Tensor, weight: torch.Tensor, dilation: tuple) -> torch.Tensor:
    """A dilated 3D depthwise conv with "same" zero padding as one undilated conv.

    With dilation ``d`` and padding ``d * (k - 1) / 2`` the output at ``i`` reads
    ``x[i + d * t]``, ``|t| <= (k - 1) / 2``: only voxels of ``i``'s residue class mod
    ``d``. So each sub-grid ``x[..., a::d, b::d, c::d]`` is conv'd undilated with
    padding ``(k - 1) / 2`` and the results interleaved back. The ``d^3`` sub-grids go
    along the batch of one channels-last-3d conv (zeros appended to make each size a
    multiple of ``d`` act as the padding would: their outputs are cut off). Plain
    differentiable ops, so autograd (and double backward) see through it.

    Returns:
        The conv's output, channels-last-3d.
    """
    n, c, *size = x.shape
    blocks = [-(-s // d) for s, d in zip(size, dilation, strict=True)]
    pad = [0, 0]  # F.pad takes the last dims first: channels last, then W, H, D
    for s, d, b in reversed(list(zip(size, dilation, blocks, strict=True))):
        pad += [0, b * d - s]
    # (N, D, H, W, C), zero-padded to multiples of d, as (N, B0, d0, B1, d1, B2, d2, C)
    grid = F.pad(x.permute(0, 2, 3, 4, 1), pad)
    interleaved = [m for b, d in zip(blocks, dilation, strict=True) for m in (b, d)]
    grid = grid.reshape(n, *interleaved, c)
    # -> (d0, d1, d2, N, B0, B1, B2, C): the sub-grids, each dense and channels-last
    stacked = grid.permute(2, 4, 6, 0, 1, 3, 5, 7).reshape(-1, *blocks, c)
    half = tuple((k - 1) // 2 for k in weight.shape[2:])
    out = F.conv3d(stacked.permute(0, 4, 1, 2, 3), weight, padding=half, groups=c)
    out = out.permute(0, 2, 3, 4, 1).reshape(*dilation, n, *blocks, c)
    # back to (N, B0, d0, B1, d1, B2, d2, C) -> (N, D, H, W, C), the padding cut off
    padded = [b * d for b, d in zip(blocks, dilation, strict=True)]
    out = out.permute(3, 4, 0, 5, 1, 6, 2, 7).reshape(n, *padded, c)
    return out[:, : size[0], : size[1], : size[2]].permute(0, 4, 1, 2, 3)


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
