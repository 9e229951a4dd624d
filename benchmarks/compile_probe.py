"""Probe: does ``torch.compile`` (inductor, CPU) speed up exact first-order DARTS?

Not a table of the package: the measurement behind benchmarks/README.md, "torch.compile
on CPU". ``step`` times search steps (the arch step, then the weight step, as
``benchmarks/supernet.py`` runs them) of ``--variant`` at ``--config``, eager, with every
mixed edge's forward compiled (``edge``) or the whole supernet forward (``whole``); it
prints each step's wall and CPU seconds (the first includes compilation) and the peak
resident-set growth. ``exact`` compares one forward+backward of the compiled-edge network
with the eager one: loss, every gradient (alphas included) and BN buffers.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/compile_probe.py step --mode edge --steps 3
    OMP_NUM_THREADS=1 python benchmarks/compile_probe.py step --mode eager --variant textbook
    OMP_NUM_THREADS=1 python benchmarks/compile_probe.py exact
"""

from __future__ import annotations

import os

os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

import argparse  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402
import torch._dynamo  # noqa: E402
from torch import nn  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
import supernet as sb  # noqa: E402

from nasbench.models.mixed_edge import MixedEdge  # noqa: E402


def build(config: sb.BenchConfig, variant: sb.Variant, mode: str) -> nn.Module:
    """The variant's supernet in train mode, its edges or its forward compiled per ``mode``."""
    net = sb.build_variant(config, variant, 0)
    if variant.channels_last and mode != "plain":  # plain: the eager rounding reference
        net = net.to(memory_format=torch.channels_last)
    net.train()
    if mode == "whole":
        net.forward = torch.compile(net.forward)
    elif mode == "edge":
        # One graph per input shape, stride and requires_grad: 11 at the small config.
        torch._dynamo.config.cache_size_limit = 64
        for module in net.modules():
            if isinstance(module, MixedEdge):
                module.forward = torch.compile(module.forward)
    return net


def time_steps(config: sb.BenchConfig, variant: sb.Variant, mode: str, steps: int) -> None:
    """Print wall/CPU seconds and loss of ``2 + steps`` search steps, then the peak RSS growth."""
    net = build(config, variant, mode)
    method = net.method
    method.setup(net)
    method.on_epoch_start(0, 50)
    w_opt = torch.optim.SGD(
        net.weight_parameters(), lr=sb.W_LR, momentum=sb.W_MOMENTUM, weight_decay=sb.W_DECAY
    )
    gen = torch.Generator().manual_seed(0)
    shape = (config.batch, config.in_channels, config.size, config.size)
    xt, xv = (torch.randn(shape, generator=gen) for _ in range(2))
    yt, yv = (
        torch.randint(0, config.num_classes, (config.batch,), generator=gen) for _ in range(2)
    )
    loss_fn = nn.CrossEntropyLoss()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for i in range(2 + steps):
        wall, cpu = time.perf_counter(), time.process_time()
        method.arch_step(net, (xt, yt), (xv, yv), loss_fn, sb.W_LR, w_opt)
        w_opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(xt), yt)
        loss.backward()
        nn.utils.clip_grad_norm_(net.weight_parameters(), sb.GRAD_CLIP)
        w_opt.step()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"step {i}: wall {wall:.3f} s, cpu {cpu:.3f} s, loss {loss.item():.6f}", flush=True)
    peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
    print(f"peak RSS growth {peak:.1f} MiB (includes compilation in step 0)")


def exactness(config: sb.BenchConfig, variant: sb.Variant, other: str) -> None:
    """Print the largest differences of one forward+backward: eager vs ``other`` mode."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(config.batch, config.in_channels, config.size, config.size, generator=gen)
    y = torch.randint(0, config.num_classes, (config.batch,), generator=gen)
    runs = []
    for mode in ("eager", other):
        net = build(config, variant, mode)
        loss = nn.functional.cross_entropy(net(x), y)
        loss.backward()
        grads = {n: p.grad.clone() for n, p in net.named_parameters() if p.grad is not None}
        runs.append((loss.item(), grads, {n: b.clone() for n, b in net.named_buffers()}))
    (l0, g0, b0), (l1, g1, b1) = runs
    diff = {n: (g0[n] - g1[n]).abs().max().item() for n in g0}
    rel = {n: diff[n] / max(g0[n].abs().max().item(), 1e-30) for n in g0}
    worst = max(rel, key=rel.get)
    print(f"loss {l0:.8f} vs {l1:.8f}, |diff| {abs(l0 - l1):.2e}")
    print(f"gradients {len(g0)} vs {len(g1)}, max |diff| {max(diff.values()):.2e}, worst relative")
    print(f"  to its tensor's max {rel[worst]:.2e} ({worst})")
    print("alpha gradients |diff|", {n: f"{diff[n]:.2e}" for n in g0 if "alpha" in n})
    bufs = max((b0[n].double() - b1[n].double()).abs().max().item() for n in b0)
    print(f"buffers {len(b0)}, max |diff| {bufs:.2e}")


def main() -> int:
    """Command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("step", "exact"))
    parser.add_argument("--mode", choices=("eager", "edge", "whole"), default="edge")
    parser.add_argument("--variant", default="darts-1st+cl", choices=tuple(sb.VARIANTS))
    parser.add_argument("--config", default="small", choices=tuple(sb.CONFIGS))
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--against", choices=("edge", "plain"), default="edge")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, load {os.getloadavg()}")
    config, variant = sb.CONFIGS[args.config], sb.VARIANTS[args.variant]
    if args.what == "step":
        time_steps(config, variant, args.mode, args.steps)
    else:
        exactness(config, variant, args.against)
    print(f"load {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
