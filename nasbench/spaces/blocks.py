"""Building blocks of the cell operations, for 2D and 3D alike.

Every block takes ``spatial_dims`` first (MONAI style) and picks its torch layer
classes with :func:`conv_cls`, :func:`bn_cls` and friends, so one definition serves
2D images and 3D volumes. The DARTS blocks (:class:`ReLUConvBN`, :class:`SepConv`,
:class:`DilConv`, :class:`FactorizedReduce`) keep the layer order and the
``op``/``conv_1``/``conv_2``/``bn`` attribute names of the original DARTS code
(quark0/darts, ``cnn/operations.py``), so their parameter counts and state-dict
keys match it.

Stride semantics: ``stride=2`` halves every spatial dim (``ceil(n / 2)``, odd sizes
included); blocks with ``upsample=True`` double every spatial dim instead, using a
transposed convolution.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from nasbench.device import memory_format_of
from nasbench.errors import SpaceError
from nasbench.spaces.depthwise import DepthwiseConv2d, DepthwiseConv3d, every_nth

__all__ = [
    "CWeight",
    "DilConv",
    "FactorizedConv",
    "FactorizedReduce",
    "GlobalAvgPool",
    "Identity",
    "NonLocalBlock",
    "PreprocessedPool",
    "ReLUConvBN",
    "SepConv",
    "SqueezeExcite",
    "Zero",
    "avg_pool_cls",
    "bn_cls",
    "check_spatial_dims",
    "conv_cls",
    "conv_transpose_cls",
    "depthwise_conv",
    "max_pool_cls",
    "runs_rectified",
]

_CONV = {2: nn.Conv2d, 3: nn.Conv3d}
_CONV_T = {2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}
_BN = {2: nn.BatchNorm2d, 3: nn.BatchNorm3d}
_MAX_POOL = {2: nn.MaxPool2d, 3: nn.MaxPool3d}
_AVG_POOL = {2: nn.AvgPool2d, 3: nn.AvgPool3d}

# The DARTS Identity; torch's own class already does exactly this.
Identity = nn.Identity


def check_spatial_dims(spatial_dims: int) -> int:
    """Return ``spatial_dims`` if it is 2 or 3, else raise a one-line SpaceError.

    Args:
        spatial_dims: number of spatial dimensions of the input (2 images, 3 volumes).

    Returns:
        The same value.

    Example:
        >>> check_spatial_dims(3)
        3
    """
    if isinstance(spatial_dims, bool) or spatial_dims not in (2, 3):
        raise SpaceError(f"spatial_dims must be 2 (images) or 3 (volumes), got {spatial_dims!r}.")
    return spatial_dims


def conv_cls(spatial_dims: int) -> type[nn.Module]:
    """Return ``nn.Conv2d`` or ``nn.Conv3d``.

    Args:
        spatial_dims: 2 or 3.

    Returns:
        The convolution class for that many spatial dims.

    Example:
        >>> conv_cls(3)
        <class 'torch.nn.modules.conv.Conv3d'>
    """
    return _CONV[check_spatial_dims(spatial_dims)]


def conv_transpose_cls(spatial_dims: int) -> type[nn.Module]:
    """Return ``nn.ConvTranspose2d`` or ``nn.ConvTranspose3d``.

    Args:
        spatial_dims: 2 or 3.

    Returns:
        The transposed-convolution class for that many spatial dims.

    Example:
        >>> conv_transpose_cls(2).__name__
        'ConvTranspose2d'
    """
    return _CONV_T[check_spatial_dims(spatial_dims)]


def bn_cls(spatial_dims: int) -> type[nn.Module]:
    """Return ``nn.BatchNorm2d`` or ``nn.BatchNorm3d``.

    Args:
        spatial_dims: 2 or 3.

    Returns:
        The batch-norm class for that many spatial dims.

    Example:
        >>> bn_cls(2).__name__
        'BatchNorm2d'
    """
    return _BN[check_spatial_dims(spatial_dims)]


def max_pool_cls(spatial_dims: int) -> type[nn.Module]:
    """Return ``nn.MaxPool2d`` or ``nn.MaxPool3d``.

    Args:
        spatial_dims: 2 or 3.

    Returns:
        The max-pool class for that many spatial dims.

    Example:
        >>> max_pool_cls(3).__name__
        'MaxPool3d'
    """
    return _MAX_POOL[check_spatial_dims(spatial_dims)]


def avg_pool_cls(spatial_dims: int) -> type[nn.Module]:
    """Return ``nn.AvgPool2d`` or ``nn.AvgPool3d``.

    Args:
        spatial_dims: 2 or 3.

    Returns:
        The average-pool class for that many spatial dims.

    Example:
        >>> avg_pool_cls(2).__name__
        'AvgPool2d'
    """
    return _AVG_POOL[check_spatial_dims(spatial_dims)]


def _spatial_conv(
    spatial_dims: int,
    C_in: int,
    C_out: int,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int],
    padding: int | Sequence[int],
    dilation: int = 1,
    groups: int = 1,
    upsample: bool = False,
) -> nn.Module:
    """A bias-free conv; with ``upsample`` and a stride > 1, the transposed conv that
    multiplies every spatial size by the stride (given "same" padding)."""
    if upsample and stride != 1:
        # output_padding = stride - 1 turns (n - 1) * s - 2p + d(k - 1) + 1 into n * s
        # when padding is d(k - 1) / 2, i.e. an exact doubling at stride 2.
        out_pad = tuple(s - 1 for s in stride) if isinstance(stride, Sequence) else stride - 1
        return conv_transpose_cls(spatial_dims)(
            C_in,
            C_out,
            kernel_size,
            stride=stride,
            padding=padding,
            output_padding=out_pad,
            dilation=dilation,
            groups=groups,
            bias=False,
        )
    if groups > 1 and groups == C_in == C_out:
        return depthwise_conv(spatial_dims, C_in, kernel_size, stride, padding, dilation)
    return conv_cls(spatial_dims)(
        C_in,
        C_out,
        kernel_size,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        bias=False,
    )


def depthwise_conv(
    spatial_dims: int,
    channels: int,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int],
    padding: int | Sequence[int],
    dilation: int = 1,
) -> nn.Module:
    """A bias-free depthwise conv (one filter per channel).

    A :class:`~nasbench.spaces.depthwise.DepthwiseConv2d` or ``DepthwiseConv3d``, whose
    input gradient on the CPU is a fast forward conv where PyTorch's backward is slow.

    Args:
        spatial_dims: 2 or 3.
        channels: input and output channels.
        kernel_size, stride, padding, dilation: as ``nn.Conv2d``.

    Returns:
        The conv module (a subclass of ``nn.Conv2d``/``nn.Conv3d``, same state dict).

    Example:
        >>> depthwise_conv(2, 8, 5, 1, 2).weight.shape
        torch.Size([8, 1, 5, 5])
    """
    cls = DepthwiseConv2d if check_spatial_dims(spatial_dims) == 2 else DepthwiseConv3d
    return cls(channels, kernel_size, stride, padding, dilation)


class ReLUConvBN(nn.Module):
    """ReLU, convolution, batch norm (DARTS ``ReLUConvBN``; NAS-Bench-201 ``nor_conv``).

    Args:
        spatial_dims: 2 or 3.
        C_in: input channels.
        C_out: output channels.
        kernel_size: kernel size, an int or one per spatial dim.
        stride: stride, an int or one per spatial dim.
        padding: padding, an int or one per spatial dim.
        affine: learn the batch-norm scale and shift.
        dilation: convolution dilation.
        upsample: with stride 2, double the spatial size (transposed conv) instead of halving.

    Example:
        >>> op = ReLUConvBN(2, 8, 16, 3, 1, 1)
        >>> op(torch.zeros(1, 8, 5, 5)).shape
        torch.Size([1, 16, 5, 5])
    """

    def __init__(
        self,
        spatial_dims: int,
        C_in: int,
        C_out: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int],
        padding: int | Sequence[int],
        affine: bool = True,
        dilation: int = 1,
        upsample: bool = False,
    ) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            _spatial_conv(
                spatial_dims, C_in, C_out, kernel_size, stride, padding, dilation, 1, upsample
            ),
            bn_cls(spatial_dims)(C_out, affine=affine),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)

    def forward_rectified(self, x: torch.Tensor) -> torch.Tensor:
        """The block after its ReLU, on an input that has been through ``ReLU`` already
        (two blocks that read the same tensor can share one ReLU; see
        :func:`runs_rectified`)."""
        return self.op[2](self.op[1](x))


class DilConv(nn.Module):
    """ReLU, depthwise conv (dilated), pointwise conv, batch norm (DARTS ``DilConv``).

    With ``dilation=1`` this is one depthwise-separable conv (NAS-Unet ``dep_conv``).

    Args:
        spatial_dims: 2 or 3.
        C_in: input channels.
        C_out: output channels.
        kernel_size: depthwise kernel size.
        stride: depthwise stride.
        padding: depthwise padding (``dilation * (kernel_size - 1) // 2`` keeps the size).
        dilation: depthwise dilation.
        affine: learn the batch-norm scale and shift.
        upsample: with stride 2, double the spatial size (transposed depthwise conv).

    Example:
        >>> op = DilConv(3, 4, 4, 3, 2, 2, 2)
        >>> op(torch.zeros(1, 4, 6, 6, 6)).shape
        torch.Size([1, 4, 3, 3, 3])
    """

    def __init__(
        self,
        spatial_dims: int,
        C_in: int,
        C_out: int,
        kernel_size: int,
        stride: int,
        padding: int,
        dilation: int,
        affine: bool = True,
        upsample: bool = False,
    ) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            _spatial_conv(
                spatial_dims, C_in, C_in, kernel_size, stride, padding, dilation, C_in, upsample
            ),
            conv_cls(spatial_dims)(C_in, C_out, kernel_size=1, padding=0, bias=False),
            bn_cls(spatial_dims)(C_out, affine=affine),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class SepConv(nn.Module):
    """Two stacked ReLU, depthwise conv, pointwise conv, BN (DARTS ``SepConv``).

    Only the first depthwise conv is strided; the first half keeps ``C_in`` channels
    and the second maps to ``C_out``, as in DARTS.

    Args:
        spatial_dims: 2 or 3.
        C_in: input channels.
        C_out: output channels.
        kernel_size: depthwise kernel size.
        stride: stride of the first depthwise conv.
        padding: depthwise padding (``(kernel_size - 1) // 2`` keeps the size).
        affine: learn the batch-norm scale and shift.

    Example:
        >>> op = SepConv(2, 16, 16, 3, 1, 1)
        >>> sum(p.numel() for p in op.parameters())
        864
    """

    def __init__(
        self,
        spatial_dims: int,
        C_in: int,
        C_out: int,
        kernel_size: int,
        stride: int,
        padding: int,
        affine: bool = True,
    ) -> None:
        super().__init__()
        conv, bn = conv_cls(spatial_dims), bn_cls(spatial_dims)
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            depthwise_conv(spatial_dims, C_in, kernel_size, stride, padding),
            conv(C_in, C_in, kernel_size=1, padding=0, bias=False),
            bn(C_in, affine=affine),
            nn.ReLU(inplace=False),
            depthwise_conv(spatial_dims, C_in, kernel_size, 1, padding),
            conv(C_in, C_out, kernel_size=1, padding=0, bias=False),
            bn(C_out, affine=affine),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class FactorizedConv(nn.Module):
    """ReLU, one 1-D conv along each spatial axis in turn, then BN.

    In 2D with ``axes_order=(1, 0)`` and kernel 7 this is DARTS ``conv_7x1_1x7``
    (a 1x7 conv, then 7x1). In 3D it factorises over all three axes. Each 1-D conv
    carries the stride along its own axis, so stride 2 halves every dim. With
    ``depthwise=True`` the 1-D convs are depthwise and a pointwise conv maps to
    ``C_out`` (ElixirNet ``sep_conv_3x1_1x3``).

    Args:
        spatial_dims: 2 or 3.
        C_in: input channels.
        C_out: output channels.
        kernel_size: the length of every 1-D kernel.
        stride: 1 or 2.
        affine: learn the batch-norm scale and shift.
        depthwise: depthwise 1-D convs plus a pointwise conv instead of full convs.
        last_axis_first: start with the last spatial axis (DARTS writes 1x7 before 7x1).

    Example:
        >>> op = FactorizedConv(3, 4, 6, 7, 2)
        >>> op(torch.zeros(1, 4, 8, 8, 8)).shape
        torch.Size([1, 6, 4, 4, 4])
    """

    def __init__(
        self,
        spatial_dims: int,
        C_in: int,
        C_out: int,
        kernel_size: int,
        stride: int,
        affine: bool = True,
        depthwise: bool = False,
        last_axis_first: bool = True,
    ) -> None:
        super().__init__()
        conv = conv_cls(spatial_dims)
        axes = range(spatial_dims - 1, -1, -1) if last_axis_first else range(spatial_dims)
        layers: list[nn.Module] = [nn.ReLU(inplace=False)]
        channels = C_in
        for axis in axes:
            kernel = [1] * spatial_dims
            strides = [1] * spatial_dims
            padding = [0] * spatial_dims
            kernel[axis], strides[axis], padding[axis] = kernel_size, stride, kernel_size // 2
            # Full convs change the channel count in the first factor; depthwise ones
            # keep C_in and leave the change to the pointwise conv.
            out = C_in if depthwise else C_out
            layers.append(
                conv(
                    channels,
                    out,
                    tuple(kernel),
                    stride=tuple(strides),
                    padding=tuple(padding),
                    groups=C_in if depthwise else 1,
                    bias=False,
                )
            )
            channels = out
        if depthwise:
            layers.append(conv(C_in, C_out, kernel_size=1, padding=0, bias=False))
        layers.append(bn_cls(spatial_dims)(C_out, affine=affine))
        self.op = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class FactorizedReduce(nn.Module):
    """Halve every spatial dim with two offset 1x1 stride-2 convs (DARTS ``FactorizedReduce``).

    One conv sees the even positions, the other the odd ones (the input shifted by
    one voxel along every spatial axis); their outputs are concatenated on channels.
    The shifted input is zero-padded at the end first, as NAS-Bench-201 does, so odd
    sizes give ``ceil(n / 2)`` like every other stride-2 op; on even sizes this is
    exactly the DARTS computation.

    The two voxel grids are gathered first (:func:`even_and_odd_voxels`) and each
    conv runs at stride 1 on its own: the same numbers as the stride-2 convs (bit for
    bit on the even sizes measured, to rounding on odd ones) without padding the whole
    input, forward and backward.

    Args:
        spatial_dims: 2 or 3.
        C_in: input channels.
        C_out: output channels (at least 2; odd counts give the second conv one more).
        affine: learn the batch-norm scale and shift.

    Example:
        >>> op = FactorizedReduce(2, 8, 16)
        >>> op(torch.zeros(1, 8, 7, 7)).shape
        torch.Size([1, 16, 4, 4])
    """

    def __init__(self, spatial_dims: int, C_in: int, C_out: int, affine: bool = True) -> None:
        super().__init__()
        if C_out < 2:
            raise SpaceError(
                f"FactorizedReduce needs C_out >= 2 (two halves), got {C_out}; "
                "use more output channels."
            )
        conv = conv_cls(spatial_dims)
        self.spatial_dims = spatial_dims
        self.relu = nn.ReLU(inplace=False)
        # Stride 1: each conv reads its own voxel grid, gathered in forward_rectified.
        self.conv_1 = conv(C_in, C_out // 2, 1, padding=0, bias=False)
        self.conv_2 = conv(C_in, C_out - C_out // 2, 1, padding=0, bias=False)
        self.bn = bn_cls(spatial_dims)(C_out, affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_rectified(self.relu(x))

    def forward_rectified(self, x: torch.Tensor) -> torch.Tensor:
        """The block after its ReLU, on an input that has been through ``ReLU`` already."""
        even, odd = even_and_odd_voxels(x)
        return self.bn(torch.cat([self.conv_1(even), self.conv_2(odd)], dim=1))


def even_and_odd_voxels(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The voxels of ``x`` at even positions along every spatial axis, and those at odd
    positions with one zero past the end of each odd-sized axis: what a 1x1 stride-2
    conv reads from ``x`` and from ``x`` shifted by one voxel (:class:`FactorizedReduce`).

    Both come dense in ``x``'s memory format, with a backward that writes their
    gradients into one zeroed tensor (the grids do not overlap), in that format too.
    It is differentiable again, for double backward.

    Args:
        x: ``(N, C, *spatial)``.

    Returns:
        ``(even, odd)``, each ``(N, C, *ceil(spatial / 2))``.

    Example:
        >>> even, odd = even_and_odd_voxels(torch.arange(9.0).view(1, 1, 3, 3))
        >>> even.flatten().tolist(), odd.flatten().tolist()
        ([0.0, 2.0, 6.0, 8.0], [4.0, 0.0, 0.0, 0.0])
    """
    return _EvenAndOddVoxels.apply(x)


class _EvenAndOddVoxels(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):  # noqa: ANN001, ANN205
        ctx.shape, ctx.format = x.shape, memory_format_of(x)
        every_other = (slice(None), slice(None)) + (slice(None, None, 2),) * (x.dim() - 2)
        shifted = (slice(None), slice(None)) + (slice(1, None, 2),) * (x.dim() - 2)
        even = x[every_other].contiguous(memory_format=ctx.format)
        odd = x[shifted]
        past_end = [pad for n in reversed(x.shape[2:]) for pad in (0, n % 2)]
        if any(past_end):
            odd = F.pad(odd, past_end)
        return even, odd.contiguous(memory_format=ctx.format)

    @staticmethod
    def backward(ctx, grad_even, grad_odd):  # noqa: ANN001, ANN205
        dims = len(ctx.shape) - 2
        grad = torch.empty(
            ctx.shape, dtype=grad_even.dtype, device=grad_even.device, memory_format=ctx.format
        ).zero_()
        grad[(slice(None), slice(None)) + (slice(None, None, 2),) * dims] = grad_even
        inside = tuple(slice(0, n // 2) for n in ctx.shape[2:])
        grad[(slice(None), slice(None)) + (slice(1, None, 2),) * dims] = grad_odd[
            (slice(None), slice(None), *inside)
        ]
        return grad


def runs_rectified(block: nn.Module) -> bool:
    """True when ``block`` (a :class:`ReLUConvBN` or :class:`FactorizedReduce`) may be run
    as ``block.forward_rectified(ReLU(x))`` with a ReLU computed outside it: its leading
    ReLU is out of place and neither it nor the modules skipped with it carry a hook (a
    hook, e.g. the NASWOT proxy's, must see every call).

    Example:
        >>> runs_rectified(ReLUConvBN(2, 4, 4, 1, 1, 0)), runs_rectified(nn.Conv2d(4, 4, 1))
        (True, False)
    """
    if type(block) is ReLUConvBN:
        relu, skipped = block.op[0], (block, block.op, block.op[0])
    elif type(block) is FactorizedReduce:
        relu, skipped = block.relu, (block, block.relu)
    else:
        return False
    hooked = any(m._forward_pre_hooks or m._forward_hooks for m in skipped)
    return type(relu) is nn.ReLU and not relu.inplace and not hooked


class GlobalAvgPool(nn.Module):
    """The mean over every spatial dim, kept as size-1 dims (``nn.AdaptiveAvgPool2d(1)``
    or ``3d(1)`` for any spatial rank), whose gradient keeps the input's memory format.

    PyTorch's backward of the mean hands every channels-last network a channels-first
    gradient (a division of the expanded gradient), and each op behind the head then
    mixes formats: ReLU's backward alone runs 35x slower on the CPU. Same numbers as
    the mean, bit for bit; no parameters, so state dicts are unchanged.

    Example:
        >>> GlobalAvgPool()(torch.ones(2, 3, 4, 4)).shape
        torch.Size([2, 3, 1, 1])
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _FormatKeepingMean.apply(x)


class _FormatKeepingMean(torch.autograd.Function):
    """``x.mean(spatial dims, keepdim=True)``; backward ``grad / n`` spread over ``x``'s
    shape in ``x``'s memory format (differentiable, for double backward)."""

    @staticmethod
    def forward(ctx, x):  # noqa: ANN001, ANN205
        dims = tuple(range(2, x.dim()))
        ctx.shape, ctx.count = x.shape, x[0, 0].numel()
        ctx.format = memory_format_of(x)
        return x.mean(dims, keepdim=True)

    @staticmethod
    def backward(ctx, grad_out):  # noqa: ANN001, ANN205
        spread = (grad_out / ctx.count).expand(ctx.shape)
        return spread.contiguous(memory_format=ctx.format)


class Zero(nn.Module):
    """Output zeros: the ``none`` op (DARTS ``Zero``, extended to a new channel count).

    Args:
        stride: 1 keeps the spatial size, 2 halves every spatial dim.
        C_out: output channels; ``None`` keeps the input's, as DARTS does.

    Example:
        >>> Zero(2, C_out=3)(torch.ones(1, 8, 5, 5)).shape
        torch.Size([1, 3, 3, 3])
    """

    def __init__(self, stride: int, C_out: int | None = None) -> None:
        super().__init__()
        self.stride = stride
        self.C_out = C_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride != 1:
            x = every_nth(x, (self.stride,) * (x.dim() - 2))
        # mul(0) rather than zeros_like keeps the graph connected, as in DARTS.
        if self.C_out is None or self.C_out == x.shape[1]:
            return x.mul(0.0)
        return x.new_zeros((x.shape[0], self.C_out, *x.shape[2:])) + x[:, :1].mul(0.0)

    def extra_repr(self) -> str:
        return f"stride={self.stride}, C_out={self.C_out}"


class PreprocessedPool(nn.Module):
    """A pool, preceded by a 1x1 ReLUConvBN when the channel count changes (NAS-Bench-201).

    Args:
        spatial_dims: 2 or 3.
        C_in: input channels.
        C_out: output channels.
        kernel_size: pool window.
        stride: pool stride.
        mode: ``"avg"`` (``count_include_pad=False``, as DARTS) or ``"max"``.
        affine: learn the batch-norm scale and shift of the preprocess.

    Example:
        >>> PreprocessedPool(2, 8, 4, 3, 2, "avg")(torch.ones(1, 8, 6, 6)).shape
        torch.Size([1, 4, 3, 3])
    """

    def __init__(
        self,
        spatial_dims: int,
        C_in: int,
        C_out: int,
        kernel_size: int,
        stride: int,
        mode: str,
        affine: bool = True,
    ) -> None:
        super().__init__()
        self.preprocess = (
            ReLUConvBN(spatial_dims, C_in, C_out, 1, 1, 0, affine) if C_in != C_out else None
        )
        pad = kernel_size // 2
        if mode == "avg":
            self.pool = avg_pool_cls(spatial_dims)(
                kernel_size, stride=stride, padding=pad, count_include_pad=False
            )
        elif mode == "max":
            self.pool = max_pool_cls(spatial_dims)(kernel_size, stride=stride, padding=pad)
        else:
            raise SpaceError(f"Pool mode must be 'avg' or 'max', got {mode!r}.")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.preprocess is not None:
            x = self.preprocess(x)
        return self.pool(x)


class SqueezeExcite(nn.Module):
    """Squeeze-and-excitation channel re-weighting: global mean, FC, ReLU, FC, sigmoid, scale.

    Args:
        C: channels.
        reduction: hidden width is ``max(1, C // reduction)``.

    Example:
        >>> SqueezeExcite(8)(torch.ones(2, 8, 3, 3, 3)).shape
        torch.Size([2, 8, 3, 3, 3])
    """

    def __init__(self, C: int, reduction: int = 4) -> None:
        super().__init__()
        hidden = max(1, C // reduction)
        self.fc = nn.Sequential(
            nn.Linear(C, hidden), nn.ReLU(inplace=False), nn.Linear(hidden, C), nn.Sigmoid()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = self.fc(x.mean(dim=tuple(range(2, x.dim()))))
        return x * weights.view(*weights.shape, *[1] * (x.dim() - 2))


class CWeight(nn.Module):
    """NAS-Unet ``cweight``: a 3x3 ReLUConvBN followed by squeeze-and-excitation.

    Args:
        spatial_dims: 2 or 3.
        C_in: input channels.
        C_out: output channels.
        stride: 1 keeps the size; 2 halves it, or doubles it with ``upsample``.
        affine: learn the batch-norm scale and shift.
        upsample: stride 2 doubles every spatial dim (transposed conv).

    Example:
        >>> CWeight(2, 8, 8, 2, upsample=True)(torch.ones(1, 8, 4, 4)).shape
        torch.Size([1, 8, 8, 8])
    """

    def __init__(
        self,
        spatial_dims: int,
        C_in: int,
        C_out: int,
        stride: int,
        affine: bool = True,
        upsample: bool = False,
    ) -> None:
        super().__init__()
        self.conv = ReLUConvBN(spatial_dims, C_in, C_out, 3, stride, 1, affine, upsample=upsample)
        self.se = SqueezeExcite(C_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.se(self.conv(x))


class NonLocalBlock(nn.Module):
    """Embedded-Gaussian non-local block (Wang et al. 2018) with its residual connection.

    ``z = x + W(softmax(theta(x)^T phi(x)) g(x))`` over all spatial positions; theta,
    phi and g are 1x1 convs to ``max(1, C // 2)`` channels and W is a 1x1 conv + BN.

    Args:
        spatial_dims: 2 or 3.
        C: channels (input and output).
        affine: learn the batch-norm scale and shift.

    Example:
        >>> NonLocalBlock(3, 8)(torch.ones(1, 8, 2, 3, 4)).shape
        torch.Size([1, 8, 2, 3, 4])
    """

    def __init__(self, spatial_dims: int, C: int, affine: bool = True) -> None:
        super().__init__()
        conv = conv_cls(spatial_dims)
        inner = max(1, C // 2)
        self.theta = conv(C, inner, 1, bias=False)
        self.phi = conv(C, inner, 1, bias=False)
        self.g = conv(C, inner, 1, bias=False)
        self.out = nn.Sequential(
            conv(inner, C, 1, bias=False), bn_cls(spatial_dims)(C, affine=affine)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        theta = self.theta(x).flatten(2).transpose(1, 2)  # (N, L, inner)
        phi = self.phi(x).flatten(2)  # (N, inner, L)
        g = self.g(x).flatten(2).transpose(1, 2)  # (N, L, inner)
        attention = torch.softmax(theta @ phi, dim=-1)  # (N, L, L)
        y = (attention @ g).transpose(1, 2).reshape(x.shape[0], -1, *x.shape[2:])
        return x + self.out(y)


class ResidualConv(nn.Module):
    """Two ReLU-conv-BN layers plus the input (a ResNet basic block, pre-activation):
    the residual and dilated convolutions of NAS for MRI reconstruction.

    Args:
        spatial_dims: 2 or 3.
        C_in: input channels.
        C_out: output channels.
        stride: stride of the first layer; with a change of size or width the shortcut
            is a 1x1 ReLU-conv-BN.
        dilation: dilation of both 3x3 convolutions.
        affine: learn the batch-norm scale and shift.

    Example:
        >>> ResidualConv(2, 8, 8)(torch.zeros(1, 8, 6, 6)).shape
        torch.Size([1, 8, 6, 6])
    """

    def __init__(
        self,
        spatial_dims: int,
        C_in: int,
        C_out: int,
        stride: int = 1,
        dilation: int = 1,
        affine: bool = True,
    ) -> None:
        super().__init__()
        self.body = nn.Sequential(
            ReLUConvBN(spatial_dims, C_in, C_out, 3, stride, dilation, affine, dilation),
            ReLUConvBN(spatial_dims, C_out, C_out, 3, 1, dilation, affine, dilation),
        )
        same = stride == 1 and C_in == C_out
        self.shortcut = (
            nn.Identity() if same else ReLUConvBN(spatial_dims, C_in, C_out, 1, stride, 0, affine)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.body(x)
