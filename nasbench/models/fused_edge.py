"""The separable and dilated convolutions of one mixed edge, run as a few larger calls.

DARTS's ``sep_conv_3x3``, ``sep_conv_5x5``, ``dil_conv_3x3`` and ``dil_conv_5x5`` all
start with ``ReLU(x)`` and are chains of depthwise convs, 1x1 convs and BatchNorms. On
small tensors the cost of a search step is the number of calls, not the arithmetic, so
this module runs them together (DARTS ``fuse_ops``):

- ``ReLU(x)`` once;
- the first depthwise convs as one depthwise call per kernel size and dilation, or,
  with :data:`PAD_KERNELS`, one per dilation on the input repeated once per op (a
  smaller kernel zero-padded to the largest of its dilation keeps its output: the
  padding it needs grows with the kernel);
- the 1x1 convs of all ops as one grouped conv (one group per op);
- their BatchNorms as one batch norm over the concatenated channels (statistics are per
  channel, so each op's are what its own BatchNorm computes; running statistics and
  batch counters are written back to each op's BatchNorm);
- the sep convs' second half the same way.

The fused kernels are built from the ops' own parameters in every call (``torch.cat``,
``F.pad``), so parameters, state dicts, derived networks and checkpoints are those of the
unfused edge, and gradients reach each op's parameters. The result equals the ops'
outputs up to float rounding (a zero-padded kernel sums in another order).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from nasbench.device import memory_format_of
from nasbench.spaces.blocks import DilConv, SepConv

__all__ = ["PAD_KERNELS", "fusable", "fused_outputs"]

# Zero-pad a smaller depthwise kernel to the largest of its dilation so that one call
# runs both (sep 3x3 beside sep 5x5, dil 3x3 beside dil 5x5). Off: on CPU (torch 2.13,
# oneDNN, channels-last) a 5x5 depthwise call costs 2.5-4x a 3x3 one, so the padded 3x3
# costs more than the call it saves (benchmarks/README.md, "fused convolutions").
PAD_KERNELS = False


def fusable(op: nn.Module) -> bool:
    """Whether ``op`` is a SepConv or DilConv this module can run fused.

    Args:
        op: a candidate op of a mixed edge.

    Returns:
        True for a SepConv/DilConv with plain (not transposed) size-keeping depthwise
        convolutions and 1x1 convolutions without bias.

    Example:
        >>> fusable(SepConv(2, 4, 4, 3, 1, 1)), fusable(nn.Identity())
        (True, False)
    """
    if type(op) not in (SepConv, DilConv):
        return False
    layers = list(op.op)
    depthwise = [m for m in layers if isinstance(m, nn.Conv2d | nn.Conv3d) and m.groups > 1]
    pointwise = [m for m in layers if isinstance(m, nn.Conv2d | nn.Conv3d) and m.groups == 1]
    for m in depthwise:
        k, d = m.kernel_size, m.dilation
        if m.bias is not None or m.in_channels != m.groups or m.out_channels != m.groups:
            return False
        if len(set(k)) != 1 or len(set(d)) != 1 or len(set(m.stride)) != 1:
            return False
        if tuple(m.padding) != tuple(d[0] * (k[0] - 1) // 2 for _ in k) or k[0] % 2 == 0:
            return False
    if any(m.bias is not None or set(m.kernel_size) != {1} for m in pointwise):
        return False
    return len(depthwise) == len(pointwise) and len(depthwise) in (1, 2)


def fused_outputs(ops: Sequence[nn.Module], x: torch.Tensor) -> list[torch.Tensor]:
    """``[op(x) for op in ops]``, computed in a few fused calls.

    Args:
        ops: fusable SepConv/DilConv ops (see :func:`fusable`) of one edge, all with
            the same input channels, output channels and stride.
        x: the edge input, ``(N, C, *spatial)``.

    Returns:
        One output per op, in the order of ``ops`` (channel slices of the fused result).

    Example:
        >>> ops = [SepConv(2, 4, 4, 3, 1, 1), DilConv(2, 4, 4, 5, 1, 4, 2)]
        >>> x = torch.randn(2, 4, 6, 6)
        >>> ys = fused_outputs(ops, x)
        >>> all(torch.allclose(y, op(x), atol=1e-5) for y, op in zip(ys, ops))
        True
    """
    stages = [_stages(op) for op in ops]
    relu_x = F.relu(x)
    # Stage 1: every op; the ops that have a second stage (SepConv) go first.
    order = sorted(range(len(ops)), key=lambda i: len(stages[i]) == 1)
    h = _stage([stages[i][0] for i in order], relu_x, repeat=True)
    n_two = sum(len(stages[i]) == 2 for i in order)
    C = h.shape[1] // len(order)
    # split, not slicing: its backward concatenates the gradients (keeping the memory
    # format) where a slice's writes into zeros in the default format, which the
    # channels-last batch norm and convolution backward then convert.
    parts = h.split([n_two * C] * bool(n_two) + [C] * (len(order) - n_two), 1)
    outs: dict[int, torch.Tensor] = dict(zip(order[n_two:], parts[bool(n_two) :], strict=True))
    if n_two:
        g = _stage([stages[i][1] for i in order[:n_two]], F.relu(parts[0]), repeat=False)
        outs.update(zip(order[:n_two], g.split(g.shape[1] // n_two, 1), strict=True))
    return [outs[i] for i in range(len(ops))]


def _stages(op: nn.Module) -> list[tuple[nn.Module, nn.Module, nn.Module]]:
    """(depthwise conv, 1x1 conv, BatchNorm) of each half of a SepConv/DilConv."""
    layers = [m for m in op.op if not isinstance(m, nn.ReLU)]
    return [tuple(layers[i : i + 3]) for i in range(0, len(layers), 3)]


def _stage(
    parts: Sequence[tuple[nn.Module, nn.Module, nn.Module]], x: torch.Tensor, repeat: bool
) -> torch.Tensor:
    """Depthwise, grouped 1x1 and batch norm of several ops at once.

    ``x`` is the shared input (``repeat``: each op reads all of it) or the ops' inputs
    side by side on channels.
    """
    n = len(parts)
    conv = F.conv2d if x.dim() == 4 else F.conv3d
    spatial = x.dim() - 2
    # Depthwise: one call per kernel and dilation, or per dilation with PAD_KERNELS.
    by_dilation: dict[int, list[int]] = {}
    for i, (dw, _, _) in enumerate(parts):
        key = dw.dilation[0] if PAD_KERNELS else (dw.dilation[0], dw.kernel_size[0])
        by_dilation.setdefault(key, []).append(i)
    order = [i for ids in by_dilation.values() for i in ids]
    C = parts[0][0].in_channels
    pieces = []
    for ids in by_dilation.values():
        d = parts[ids[0]][0].dilation[0]
        k = max(parts[i][0].kernel_size[0] for i in ids)
        weight = torch.cat([_pad_kernel(parts[i][0].weight, k, spatial) for i in ids])
        if repeat:
            inp = torch.cat([x] * len(ids), 1) if len(ids) > 1 else x
        elif ids == list(range(n)):
            inp = x
        else:
            inp = torch.cat([x.split(C, 1)[i] for i in ids], 1)
        stride = parts[ids[0]][0].stride[0]
        pieces.append(
            conv(inp, weight, None, stride, d * (k - 1) // 2, d, groups=C * len(ids)),
        )
    h = pieces[0] if len(pieces) == 1 else torch.cat(pieces, 1)
    # Pointwise: one grouped 1x1 conv; BatchNorm: one over the concatenated channels.
    weight = torch.cat([parts[i][1].weight for i in order])
    h = conv(h, weight, None, 1, 0, 1, groups=n)
    h = _batch_norm([parts[i][2] for i in order], h)
    if order == list(range(n)):
        return h
    chunks = dict(zip(order, h.split(h.shape[1] // n, 1), strict=True))
    return torch.cat([chunks[i] for i in range(n)], 1)


def _pad_kernel(weight: torch.Tensor, k: int, spatial: int) -> torch.Tensor:
    pad = (k - weight.shape[-1]) // 2
    return weight if pad == 0 else F.pad(weight, [pad] * (2 * spatial))


def _batch_norm(norms: Sequence[nn.modules.batchnorm._BatchNorm], h: torch.Tensor) -> torch.Tensor:
    """``torch.cat([bn(chunk) for bn, chunk in zip(norms, chunks)], 1)`` in one call.

    Follows ``_BatchNorm.forward`` (batch statistics in training or without running
    statistics; exponential or cumulative running averages) for each norm.
    """
    first = norms[0]
    training, track = first.training, first.track_running_stats
    factor = 0.0 if first.momentum is None else first.momentum
    if training and track:
        for bn in norms:
            bn.num_batches_tracked.add_(1)
        if first.momentum is None:
            factor = 1.0 / float(first.num_batches_tracked)
    stats = track and first.running_mean is not None
    mean = torch.cat([bn.running_mean for bn in norms]) if stats else None
    var = torch.cat([bn.running_var for bn in norms]) if stats else None
    weight = torch.cat([bn.weight for bn in norms]) if first.affine else None
    bias = torch.cat([bn.bias for bn in norms]) if first.affine else None
    use_batch = training or not stats
    out = F.batch_norm(h, mean, var, weight, bias, use_batch, factor, first.eps)
    if out.requires_grad and not out.is_contiguous():
        out = _GradLike.apply(out)
    if use_batch and stats:
        # F.batch_norm moved the concatenated copies; write them back per BatchNorm.
        for bn, m, v in zip(norms, mean.chunk(len(norms)), var.chunk(len(norms)), strict=True):
            bn.running_mean.copy_(m)
            bn.running_var.copy_(v)
    return out


class _GradLike(torch.autograd.Function):
    """Identity whose backward gives the gradient the memory format of its input.

    The gradient of a fused output arrives concatenated from its slices' gradients,
    often in the default format; the channels-last batch norm backward is several times
    slower on mixed formats than one copy costs.
    """

    @staticmethod
    def forward(ctx, x):  # noqa: ANN001, ANN205
        ctx.format = memory_format_of(x)
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):  # noqa: ANN001, ANN205
        return grad.contiguous(memory_format=ctx.format)


def same_norm_settings(ops: Sequence[nn.Module]) -> bool:
    """Whether the BatchNorms of ``ops`` agree on the settings one fused call needs."""
    norms = [
        m for op in ops for m in op.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
    ]
    keys = {(m.eps, m.momentum, m.affine, m.track_running_stats, m.training) for m in norms}
    return len(keys) <= 1
