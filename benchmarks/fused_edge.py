"""One DARTS mixed edge, forward and backward: unfused ops vs fused convolutions.

Times ``sum_k w_k op_k(x)`` and its backward for the seven non-'none' DARTS ops of one
edge, unfused (one call per layer of every op), fused (``fuse_ops``: shared ReLU, one
grouped 1x1 conv and one batch norm per stage, one depthwise call per kernel size and
dilation) and fused with padded kernels (one depthwise call per dilation; the 3x3
kernels zero-padded to 5x5). Also the depthwise convolutions alone, which set the cost.

    OMP_NUM_THREADS=1 python benchmarks/fused_edge.py --batch 16 --channels 8
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

import nasbench.models.fused_edge as fused_edge
from nasbench.models.mixed_edge import EdgePlan, MixedEdge
from nasbench.spaces.ops import op_names

DARTS_OPS = op_names("darts")  # every op, 'none' included, as the textbook op


def cpu_ms(fn: Callable[[], object], repeats: int, warmup: int = 2) -> float:
    """Median CPU milliseconds of ``fn()`` over ``repeats`` calls after ``warmup``.

    Example:
        >>> cpu_ms(lambda: None, repeats=3) >= 0
        True
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return 1e3 * sorted(times)[len(times) // 2]


def edge_times(batch: int, channels: int, size: int, stride: int, repeats: int) -> dict[str, float]:
    """Median forward+backward CPU ms of one channels-last edge, unfused / fused /
    fused+padded, measured in interleaved rounds.

    Example:
        >>> sorted(edge_times(2, 4, 8, 1, repeats=1))
        ['fused', 'fused+padded kernels', 'unfused']
    """
    gen = torch.Generator().manual_seed(0)
    edge = MixedEdge(2, channels, stride, DARTS_OPS).train().to(memory_format=torch.channels_last)
    x = torch.randn(batch, channels, size, size, generator=gen)
    x = x.contiguous(memory_format=torch.channels_last).requires_grad_()
    w = torch.softmax(torch.randn(len(DARTS_OPS), generator=gen), 0).requires_grad_()
    configs = (
        ("unfused", False, False),
        ("fused", True, False),
        ("fused+padded kernels", True, True),
    )

    def step(fused: bool, pad: bool) -> float:
        saved, fused_edge.PAD_KERNELS = fused_edge.PAD_KERNELS, pad
        try:
            start = time.process_time()
            y = edge(x, EdgePlan(w, tuple(range(1, len(DARTS_OPS))), fused=fused))
            y.backward(torch.ones_like(y))
            return time.process_time() - start
        finally:
            fused_edge.PAD_KERNELS = saved

    # Interleaved rounds, so that drifting load and warm caches fall on every config.
    times: dict[str, list[float]] = {name: [] for name, _, _ in configs}
    for round_ in range(2 + repeats):
        for name, fused, pad in configs:
            t = step(fused, pad)
            if round_ >= 2:
                times[name].append(t)
    out = {name: 1e3 * sorted(ts)[len(ts) // 2] for name, ts in times.items()}
    return out


def depthwise_times(batch: int, channels: int, size: int, repeats: int) -> dict[str, float]:
    """Forward+backward CPU ms of one channels-last depthwise conv per kernel/dilation.

    Example:
        >>> len(depthwise_times(2, 4, 8, repeats=1))
        6
    """
    out = {}
    for n_ops in (1, 2):
        C = channels * n_ops
        x = torch.randn(batch, C, size, size).contiguous(memory_format=torch.channels_last)
        x.requires_grad_()
        for k, d in ((3, 1), (5, 1), (5, 2)):
            if n_ops == 2 and k == 3:
                continue
            w = torch.randn(C, 1, k, k, requires_grad=True)

            def step(x=x, w=w, k=k, d=d, C=C) -> None:
                y = F.conv2d(x, w, None, 1, d * (k - 1) // 2, d, C)
                y.backward(torch.ones_like(y))

            out[f"{k}x{k} dil {d}, {C} channels"] = cpu_ms(step, repeats)
        if n_ops == 1:
            w = torch.randn(C, 1, 3, 3, requires_grad=True)

            def step3(x=x, w=w, C=C) -> None:
                y = F.conv2d(x, w, None, 1, 2, 2, C)
                y.backward(torch.ones_like(y))

            out[f"3x3 dil 2, {C} channels"] = cpu_ms(step3, repeats)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--size", type=int, default=28)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args(argv)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), load {os.getloadavg()}")
    for stride in (1, 2):
        times = edge_times(args.batch, args.channels, args.size, stride, args.repeats)
        print(f"edge stride {stride}: " + ", ".join(f"{k} {v:.2f} ms" for k, v in times.items()))
    for name, ms in depthwise_times(args.batch, args.channels, args.size, args.repeats).items():
        print(f"depthwise {name}: {ms:.2f} ms")
    print(f"load {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
