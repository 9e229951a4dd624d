"""Forward + backward of the DARTS depthwise convs: PyTorch's backward against ours.

For each depthwise conv of the DARTS op set (``sep_conv_3x3/5x5``: 3x3/5x5; ``dil_conv_
3x3/5x5``: dilation 2), at stride 1 and 2, it times ``nn.Conv2d`` (PyTorch's own
backward, as the original DARTS code) and :class:`nasbench.spaces.depthwise.
DepthwiseConv2d` (input gradient as a flipped-kernel forward conv; stride = dilation as
an undilated conv of every d-th pixel), each as forward + backward to the input and the
weight and, separately, to the input only (the first-order architecture step's backward),
next to PyTorch's forward alone.
Median of ``--repeats`` interleaved rounds, CPU seconds of this process; same inputs and
checked to give the same numbers first.
``--forward`` times the 3D stride-1 forward alone (it is also the flipped-kernel input
gradient): ``F.conv3d`` against ``DepthwiseConv3d``'s way of running it
(:func:`nasbench.spaces.depthwise.conv3d_plan`), dilation 3 too.

    OMP_NUM_THREADS=1 python benchmarks/depthwise.py --batch 16 --channels 16 --size 28
    OMP_NUM_THREADS=1 python benchmarks/depthwise.py --dims 3 --batch 4 --channels 8 --size 28
    python benchmarks/depthwise.py --forward --batch 24 --channels 3 --size 9
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch starts its threads

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from nasbench.spaces.depthwise import DepthwiseConv2d, DepthwiseConv3d, conv3d_plan  # noqa: E402

# (name, kernel, dilation) of the DARTS depthwise convs
CONVS = (("sep 3x3", 3, 1), ("sep 5x5", 5, 1), ("dil 3x3", 3, 2), ("dil 5x5", 5, 2))


def pair(channels: int, kernel: int, dilation: int, stride: int, seed: int = 0, dims: int = 2):
    """``nn.Conv2d`` and ``DepthwiseConv2d`` (or their 3D twins) of the same shape and weights.

    Example:
        >>> torch_conv, ours = pair(4, 3, 2, 1)
        >>> torch.equal(torch_conv.weight, ours.weight)
        True
    """
    padding = dilation * (kernel - 1) // 2
    torch.manual_seed(seed)
    ours = (DepthwiseConv2d if dims == 2 else DepthwiseConv3d)(
        channels, kernel, stride, padding, dilation
    )
    reference = (nn.Conv2d if dims == 2 else nn.Conv3d)(
        channels, channels, kernel, stride, padding, dilation, groups=channels, bias=False
    )
    reference.load_state_dict(ours.state_dict())
    return reference, ours


def step_fn(conv: nn.Module, x: torch.Tensor, grad: torch.Tensor, weight_too: bool) -> Callable:
    """One forward + backward of ``conv`` (to the input, and the weight if asked)."""
    conv.weight.requires_grad_(weight_too)

    def step() -> tuple:
        inputs = (x, conv.weight) if weight_too else (x,)
        return torch.autograd.grad(conv(x), inputs, grad)

    return step


def time_pair(
    fns: Sequence[Callable], repeats: int, clock: Callable[[], float] = time.process_time
) -> list[float]:
    """Median milliseconds (CPU time, or ``clock``'s) of each function, interleaved."""
    times: list[list[float]] = [[] for _ in fns]
    for fn in fns:
        fn()  # warm-up (oneDNN builds its kernels on the first call)
    for _ in range(repeats):
        for fn, out in zip(fns, times, strict=True):
            start = clock()
            fn()
            out.append(clock() - start)
    return [1e3 * statistics.median(t) for t in times]


def run(
    batch: int, channels: int, size: int, repeats: int, channels_last: bool, dims: int = 2
) -> list[dict]:
    """Every conv of :data:`CONVS` at stride 1 and 2, both backward kinds.

    Returns:
        Rows ``{"conv", "stride", "grads", "forward_ms" (PyTorch's forward alone),
        "torch_ms", "ours_ms", "speedup", "max_diff"}``.

    Example:
        >>> rows = run(2, 4, 8, 1, True)
        >>> len(rows), rows[0]["max_diff"] < 1e-4
        (16, True)
    """
    gen = torch.Generator().manual_seed(0)
    last = torch.channels_last if dims == 2 else torch.channels_last_3d
    fmt = last if channels_last else torch.contiguous_format
    rows = []
    for name, kernel, dilation in CONVS:
        for stride in (1, 2):
            reference, ours = pair(channels, kernel, dilation, stride, dims=dims)
            x = torch.randn(batch, channels, *(size,) * dims, generator=gen)
            x = x.contiguous(memory_format=fmt).requires_grad_()
            grad = torch.randn(reference(x).shape, generator=gen)
            grad = grad.contiguous(memory_format=fmt)
            with torch.no_grad():
                (forward_ms,) = time_pair([lambda conv=reference, x=x: conv(x)], repeats)
            for weight_too, label in ((True, "input + weight"), (False, "input")):
                fns = [step_fn(c, x, grad, weight_too) for c in (reference, ours)]
                diff = max(
                    float((a - b).abs().max()) for a, b in zip(fns[0](), fns[1](), strict=True)
                )
                torch_ms, ours_ms = time_pair(fns, repeats)
                rows.append(
                    {
                        "conv": name,
                        "stride": stride,
                        "grads": label,
                        "forward_ms": forward_ms,
                        "torch_ms": torch_ms,
                        "ours_ms": ours_ms,
                        "speedup": torch_ms / ours_ms,
                        "max_diff": diff,
                    }
                )
    return rows


# the 3D forward's kernels: DARTS's, and dilation 3 (as DiNTS/C2FNAS-style 3D spaces)
FORWARD_CONVS = (*CONVS, ("dil3 3x3", 3, 3), ("dil3 5x5", 5, 3))


def run_forward(batch: int, channels: int, size: int, repeats: int, channels_last: bool) -> list:
    """The stride-1 3D forward of every conv of :data:`FORWARD_CONVS`: PyTorch's
    ``F.conv3d`` against ``DepthwiseConv3d``'s, wall milliseconds (it is what the lesson
    waits for), interleaved, median of ``repeats``.

    Returns:
        Rows ``{"conv", "plan", "torch_ms", "ours_ms", "speedup", "max_diff"}``.

    Example:
        >>> rows = run_forward(2, 4, 6, 1, False)
        >>> len(rows), rows[0]["plan"], rows[0]["max_diff"] < 1e-4
        (6, 'channels_last', True)
    """
    gen = torch.Generator().manual_seed(0)
    fmt = torch.channels_last_3d if channels_last else torch.contiguous_format
    rows = []
    for name, kernel, dilation in FORWARD_CONVS:
        _, ours = pair(channels, kernel, dilation, 1, dims=3)
        x = torch.randn(batch, channels, size, size, size, generator=gen)
        x = x.contiguous(memory_format=fmt)
        weight, padding = ours.weight.detach(), ours.padding

        def reference(x=x, weight=weight, padding=padding, dilation=dilation):
            return F.conv3d(x, weight, padding=padding, dilation=dilation, groups=channels)

        def own(x=x, ours=ours):
            return ours(x)

        with torch.no_grad():
            diff = float((reference() - own()).abs().max())
            fns = [reference, own]
            torch_ms, ours_ms = time_pair(fns, repeats, clock=time.perf_counter)
        plan = conv3d_plan(x, weight, padding, ours.dilation)
        rows.append(
            {
                "conv": name,
                "plan": plan,
                "torch_ms": torch_ms,
                "ours_ms": ours_ms,
                "speedup": torch_ms / ours_ms,
                "max_diff": diff,
            }
        )
    return rows


MAX_DIFF = 1e-3  # float32 sums in another order differ by about 1e-5 at these sizes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--size", type=int, default=28)
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--default-format", action="store_true", help="not channels-last")
    parser.add_argument("--dims", type=int, choices=(2, 3), default=2, help="2D or 3D convs")
    parser.add_argument("--forward", action="store_true", help="3D stride-1 forward alone")
    args = parser.parse_args(argv)
    if args.forward:
        return main_forward(args)
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), load average {load}; "
        f"batch {args.batch}, C={args.channels}, {args.dims}D size {args.size}, "
        f"{'default format' if args.default_format else 'channels-last'}; "
        f"CPU ms, median of {args.repeats}"
    )
    rows = run(
        args.batch, args.channels, args.size, args.repeats, not args.default_format, args.dims
    )
    print(
        f"{'conv':<8} {'stride':>6} {'fwd+bwd to':<15} {'fwd ms':>7} {'torch ms':>9} "
        f"{'ours ms':>8} {'speedup':>8}"
    )
    for r in rows:
        print(
            f"{r['conv']:<8} {r['stride']:>6} {r['grads']:<15} {r['forward_ms']:>7.3f} "
            f"{r['torch_ms']:>9.3f} {r['ours_ms']:>8.3f} {r['speedup']:>7.2f}x"
        )
    worst = max(r["max_diff"] for r in rows)
    print(f"largest difference of the two convs' outputs and gradients: {worst:.2e}")
    if worst > MAX_DIFF:  # a fast conv that computes something else is no speed-up
        print(f"depthwise.py: the convs disagree by {worst:.2e} > {MAX_DIFF:g}", file=sys.stderr)
        return 1
    return 0


def main_forward(args: argparse.Namespace) -> int:
    """``--forward``: the 3D forward table, wall ms (both formats unless one is asked)."""
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), load average {load}; "
        f"batch {args.batch}, C={args.channels}, 3D size {args.size}, stride 1 forward; "
        f"wall ms, median of {args.repeats}"
    )
    print(f"{'format':<15} {'conv':<9} {'plan':<14} {'torch ms':>9} {'ours ms':>8} {'speedup':>8}")
    worst = 0.0
    for channels_last in (False, True):
        rows = run_forward(args.batch, args.channels, args.size, args.repeats, channels_last)
        label = "channels-last" if channels_last else "default"
        for r in rows:
            print(
                f"{label:<15} {r['conv']:<9} {r['plan']:<14} {r['torch_ms']:>9.3f} "
                f"{r['ours_ms']:>8.3f} {r['speedup']:>7.2f}x"
            )
        worst = max([worst, *(r["max_diff"] for r in rows)])
    print(f"largest difference of the two convs' outputs: {worst:.2e}")
    if worst > MAX_DIFF:
        print(f"depthwise.py: the convs disagree by {worst:.2e} > {MAX_DIFF:g}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
