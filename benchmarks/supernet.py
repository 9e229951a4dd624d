"""Supernet speed and memory per differentiable method, next to the textbook DARTS mixed op.

One full search step (the architecture step, then the weight step: forward, backward,
gradient clipping, SGD with momentum, as ``nasbench.engine`` runs it) is timed for
each method and speed/memory option, at the reference configuration (8 cells, C=16,
28x28, batch 64, 1 input channel, 2 classes) and the small one (5 cells, C=8, batch 16).
The baseline, measured in the same run, is the textbook DARTS mixed op: a weighted sum
of every op on every edge, 'none' included (computed as ``x * 0``), as the ``MixedOp``
of the original DARTS code does, with the first-order architecture step. Second-order
variants are also compared with the textbook op under the second-order step.

Every measurement runs in a fresh Python process so that peak memory (CPU: the
growth of the peak resident set size over the steps; CUDA:
``torch.cuda.max_memory_allocated``) is not polluted by earlier measurements.

``--original-darts DIR`` / ``--original-pcdarts DIR`` add rows that time the original
DARTS code (its ``cnn/`` folder) and the original PC-DARTS code (its repository root),
unmodified, with their first-order architect, in the same run; our rows of that method
are then also reported against them (the issue's goal for PC-DARTS is stated so).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/supernet.py --config small --steps 3
    python benchmarks/supernet.py --config reference --steps 2 --warmup 1 --json ref.json
    python benchmarks/supernet.py --methods textbook,pcdarts+cl+ckpt --device cuda
    OMP_NUM_THREADS=1 python benchmarks/supernet.py --config reference-b16 --clock cpu \
        --methods pcdarts+cl --original-pcdarts ~/src/PC-DARTS --rounds 3
"""

from __future__ import annotations

import os

# Before torch starts OpenMP: spinning worker threads make every process on a shared
# CPU several times slower.
os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from dataclasses import asdict, dataclass, field, replace  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import torch  # noqa: E402
from _script import count, output_file, run_main, write_json  # noqa: E402
from torch import nn  # noqa: E402

from nasbench.device import autocast, resolve_precision  # noqa: E402
from nasbench.models.mixed_edge import MixedEdge  # noqa: E402
from nasbench.spaces.depthwise import DepthwiseConv2d  # noqa: E402
from nasbench.strategies.differentiable import Darts, DartsConfig, EdgePlan  # noqa: E402
from nasbench.strategies.differentiable.base import stepped_parameters  # noqa: E402

TARGET_SPEEDUP = 2.0  # at least twice the textbook op's steps per second ...
TARGET_MEMORY = 1.0 / 3.0  # ... in at most a third of its peak memory
W_LR, W_MOMENTUM, W_DECAY, GRAD_CLIP = 0.025, 0.9, 3e-4, 5.0  # DARTS search defaults


@dataclass(frozen=True)
class BenchConfig:
    """A supernet size and batch to measure.

    Attributes:
        name: label in the table.
        n_cells: cells in the supernet.
        channels: initial channels C.
        size: image side (square images).
        batch: images per batch (the train and the validation batch alike).
        in_channels: image channels.
        num_classes: classifier outputs.
    """

    name: str
    n_cells: int
    channels: int
    size: int
    batch: int
    in_channels: int = 1
    num_classes: int = 2


CONFIGS = {
    "reference": BenchConfig("reference", n_cells=8, channels=16, size=28, batch=64),
    "small": BenchConfig("small", n_cells=5, channels=8, size=28, batch=16),
    # The reference network at a batch a shared 2-core machine can hold (textbook ~1.8 GB),
    # and the small one at the reference batch (textbook ~2.4 GB).
    "reference-b16": BenchConfig("reference-b16", n_cells=8, channels=16, size=28, batch=16),
    "small-b64": BenchConfig("small-b64", n_cells=5, channels=8, size=28, batch=64),
}


@dataclass(frozen=True)
class Variant:
    """One row of the table: a method, its config and the supernet's speed/memory options.

    Attributes:
        name: row label.
        method: a registered differentiable method, or ``"textbook"``.
        config: the method config (dict).
        technique: what the row shows, in a few words.
        checkpoint_cells: recompute cells in the backward pass.
        channels_last: channels-last memory format.
        baseline: the row its ratios are taken against (when measured).
        cuda_graph: capture the whole first-order step in one CUDA graph and replay it
            (CUDA only; see :func:`graphed_first_order_step`).
        torch_depthwise_backward: PyTorch's own depthwise conv backward instead of ours.
        source: a folder of the original DARTS or PC-DARTS code: the row times that
            code's search step instead of ours (see :func:`original_search`).
    """

    name: str
    method: str
    config: dict[str, Any] = field(default_factory=dict)
    technique: str = ""
    checkpoint_cells: bool = False
    channels_last: bool = False
    baseline: str = "textbook"
    cuda_graph: bool = False
    torch_depthwise_backward: bool = False
    source: str = ""


_CL, _CK, _RE, _FU = "channels-last", "recompute cells", "recompute edges", "fused convs"
_RECOMPUTE = {"memory": "recompute-edge"}
_RECOMPUTE_CONVS = {"memory": "recompute-convs"}
_RC = "recompute convs (pools and skip stored)"
_FUSED = {"fuse_ops": True}
VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant("textbook", "textbook", {"order": 1}, "baseline: every op, 'none' as x*0"),
        Variant("textbook-2nd", "textbook", {"order": 2}, "baseline, second-order step"),
        Variant("darts-1st", "darts", {"order": 1}, "skip 'none'"),
        Variant("darts-1st+cl", "darts", {"order": 1}, f"skip 'none' + {_CL}", channels_last=True),
        Variant(
            "darts-1st+ckpt", "darts", {"order": 1}, f"skip 'none' + {_CK}", checkpoint_cells=True
        ),
        Variant(
            "darts-1st+cl+ckpt",
            "darts",
            {"order": 1},
            f"skip 'none' + {_CL} + {_CK}",
            checkpoint_cells=True,
            channels_last=True,
        ),
        Variant("darts-1st+recompute", "darts", {"order": 1, **_RECOMPUTE}, f"skip 'none' + {_RE}"),
        Variant(
            "darts-1st+cl+recompute",
            "darts",
            {"order": 1, **_RECOMPUTE},
            f"skip 'none' + {_CL} + {_RE}",
            channels_last=True,
        ),
        Variant(
            "darts-1st+recompute-convs",
            "darts",
            {"order": 1, **_RECOMPUTE_CONVS},
            f"skip 'none' + {_RC}",
        ),
        Variant(
            "darts-1st+cl+recompute-convs",
            "darts",
            {"order": 1, **_RECOMPUTE_CONVS},
            f"skip 'none' + {_CL} + {_RC}",
            channels_last=True,
        ),
        Variant(
            "darts-1st+cl/torch-dw",
            "darts",
            {"order": 1},
            f"skip 'none' + {_CL}, PyTorch's depthwise backward",
            channels_last=True,
            torch_depthwise_backward=True,
        ),
        Variant(
            "darts-1st+cl+recompute/torch-dw",
            "darts",
            {"order": 1, **_RECOMPUTE},
            f"skip 'none' + {_CL} + {_RE}, PyTorch's depthwise backward",
            channels_last=True,
            torch_depthwise_backward=True,
        ),
        Variant("darts-1st+fused", "darts", {"order": 1, **_FUSED}, f"skip 'none' + {_FU}"),
        Variant(
            "darts-1st+cl+fused",
            "darts",
            {"order": 1, **_FUSED},
            f"skip 'none' + {_CL} + {_FU}",
            channels_last=True,
        ),
        Variant(
            "darts-1st+cl+fused+recompute",
            "darts",
            {"order": 1, **_FUSED, **_RECOMPUTE},
            f"skip 'none' + {_CL} + {_FU} + {_RE}",
            channels_last=True,
        ),
        Variant("darts-2nd", "darts", {"order": 2}, "skip 'none'", baseline="textbook-2nd"),
        Variant(
            "darts-2nd+fwd",
            "darts",
            {"order": 2, "unrolled_difference": "forward"},
            "skip 'none' + forward difference (3 passes)",
            baseline="textbook-2nd",
        ),
        Variant(
            "darts-2nd+cl",
            "darts",
            {"order": 2},
            f"skip 'none' + {_CL}",
            channels_last=True,
            baseline="textbook-2nd",
        ),
        Variant(
            "darts-2nd+cl+fwd",
            "darts",
            {"order": 2, "unrolled_difference": "forward"},
            f"skip 'none' + {_CL} + forward difference (3 passes)",
            channels_last=True,
            baseline="textbook-2nd",
        ),
        Variant(
            "darts-2nd+cl+fwd+recompute",
            "darts",
            {"order": 2, "unrolled_difference": "forward", **_RECOMPUTE},
            f"skip 'none' + {_CL} + forward difference + {_RE}",
            channels_last=True,
            baseline="textbook-2nd",
        ),
        Variant(
            "darts-2nd+cl+recompute",
            "darts",
            {"order": 2, **_RECOMPUTE},
            f"skip 'none' + {_CL} + {_RE}",
            channels_last=True,
            baseline="textbook-2nd",
        ),
        Variant(
            "darts-2nd+cl+ckpt",
            "darts",
            {"order": 2},
            f"skip 'none' + {_CL} + {_CK}",
            checkpoint_cells=True,
            channels_last=True,
            baseline="textbook-2nd",
        ),
        # A GPU step at 28x28 is bound by kernel launches (benchmarks/README.md, "GPU"):
        # one graph replay launches the whole step at once.
        Variant(
            "darts-1st+graph",
            "darts",
            {"order": 1},
            "skip 'none' + one CUDA graph per step",
            cuda_graph=True,
        ),
        Variant("gdas", "gdas", {}, "one sampled op per edge"),
        Variant("gdas+cl", "gdas", {}, f"one sampled op per edge + {_CL}", channels_last=True),
        Variant("pcdarts", "pcdarts", {"k": 4}, "partial channels K=4"),
        Variant("pcdarts+cl", "pcdarts", {"k": 4}, f"K=4 + {_CL}", channels_last=True),
        Variant("pcdarts+ckpt", "pcdarts", {"k": 4}, f"K=4 + {_CK}", checkpoint_cells=True),
        Variant(
            "pcdarts+cl+ckpt",
            "pcdarts",
            {"k": 4},
            f"K=4 + {_CL} + {_CK}",
            checkpoint_cells=True,
            channels_last=True,
        ),
        Variant("proxyless", "proxyless", {}, "one path per edge (two in the arch step)"),
        Variant("proxyless+cl", "proxyless", {}, f"one path + {_CL}", channels_last=True),
    )
}


class TextbookDarts(Darts):
    """The textbook DARTS mixed op: ``sum_k softmax(alpha)_k * op_k(x)`` over EVERY op.

    'none' is computed too (the ``Zero`` op returns ``x * 0``), exactly as the
    ``MixedOp`` of the original DARTS code; the benchmark's baseline only.
    """

    name = "textbook"

    def edge_plans(self, supernet: nn.Module, cell_type: str, mode: str) -> list[EdgePlan]:
        weights = torch.softmax(supernet.alpha(cell_type), dim=-1)
        every_op = tuple(range(len(supernet.op_names)))
        return [EdgePlan(w, every_op) for w in weights]


# ---- one measurement (runs in the worker process) --------------------------------------------
def build_variant(config: BenchConfig, variant: Variant, seed: int = 0) -> nn.Module:
    """The supernet of ``variant`` at ``config`` over the DARTS op set.

    Args:
        config: size and batch.
        variant: method, method config and supernet options.
        seed: weights, alphas and sampling.

    Returns:
        A ``Supernet`` (on the CPU).

    Example:
        >>> net = build_variant(BenchConfig("t", 3, 4, 8, 2), VARIANTS["textbook"])
    """
    from nasbench.models.supernet import build_supernet
    from nasbench.spaces import create_space
    from nasbench.spaces.skeleton import Skeleton

    skeleton = Skeleton(
        n_cells=config.n_cells,
        channels=config.channels,
        in_channels=config.in_channels,
        num_classes=config.num_classes,
    )
    space = create_space("darts", skeleton=skeleton)
    options = dict(checkpoint_cells=variant.checkpoint_cells, channels_last=variant.channels_last)
    if variant.method == "textbook":
        method_config = DartsConfig(**variant.config)
        method_config.validate()
        method = TextbookDarts(method_config, seed=seed)
        net = build_supernet(space, method, seed=seed, **options)
    else:
        net = build_supernet(space, variant.method, dict(variant.config), seed=seed, **options)
    if variant.method == "textbook" or variant.torch_depthwise_backward:
        # The baseline is the original DARTS code's op: PyTorch's own conv backward.
        for module in net.modules():
            if isinstance(module, DepthwiseConv2d):
                module.fast_backward = False
    if variant.method == "textbook":
        # ... and each op and cell preprocessor with its own ReLU, as DARTS's MixedOp
        # and Network run them.
        net.share_relu = False
        for module in net.modules():
            if isinstance(module, MixedEdge):
                module.share_relu = False
    return net


# ---- the original code as a row --------------------------------------------------------------
# Our method each original is compared with, and what its row times.
ORIGINAL_CODE = {
    "original-darts": ("darts", "the original DARTS code (cnn/), first-order architect"),
    "original-pcdarts": ("pcdarts", "the original PC-DARTS code (K=4), first-order architect"),
}


def original_variant(name: str, source: str | Path) -> Variant:
    """The row that times the original code of ``name`` in the folder ``source``.

    Args:
        name: ``"original-darts"`` (the ``cnn/`` folder of the DARTS repository) or
            ``"original-pcdarts"`` (the root of the PC-DARTS repository), unmodified: the
            ``.cuda()`` calls are made harmless on a CPU (:func:`original_search`).
        source: the folder holding its ``model_search.py`` and ``architect.py``.

    Returns:
        A :class:`Variant` with ``source`` set, compared with the textbook op like every
        row and with our rows of the same method (:func:`add_ratios`).

    Example:
        >>> original_variant("original-pcdarts", "/nowhere")
        Traceback (most recent call last):
        SystemExit: --original-pcdarts /nowhere: no model_search.py, architect.py there; give \
the folder of the original code (DARTS: its cnn/ folder; PC-DARTS: the repository root).
    """
    if name not in ORIGINAL_CODE:
        raise SystemExit(f"Unknown original {name!r}; choose from {', '.join(ORIGINAL_CODE)}.")
    folder = Path(source).expanduser().resolve()
    missing = [f for f in ("model_search.py", "architect.py") if not (folder / f).is_file()]
    if missing:
        raise SystemExit(
            f"--{name} {source}: no {', '.join(missing)} there; give the folder of the "
            "original code (DARTS: its cnn/ folder; PC-DARTS: the repository root)."
        )
    return Variant(name, name, {}, ORIGINAL_CODE[name][1], source=str(folder))


def original_search(
    config: BenchConfig, variant: Variant, dev: torch.device, seed: int, loss_fn: nn.Module
) -> tuple[nn.Module, Any, Any]:
    """The original code's search network at ``config`` and its first-order architecture
    step, as its ``train_search.py`` runs them (run it in a fresh process: the code is
    imported from ``variant.source`` by its own module names).

    The network is built as the original builds it (its global RNG seeded with ``seed``);
    only its stem convolution is swapped for one that takes ``config.in_channels`` (the
    original reads 3), so that it sees the images our rows see. On a CPU its ``.cuda()``
    calls return the tensor or module unchanged while it is built.

    Returns:
        ``(network, arch_step(train_batch, val_batch, w_optimizer), weights)``: the
        architecture step is the original ``Architect.step(..., unrolled=False)`` (the
        validation loss's backward, which fills the weights' gradients too, then Adam);
        ``weights()`` lists what the weight optimizer steps.
    """
    import importlib

    sys.path.insert(0, variant.source)
    model_search = importlib.import_module("model_search")
    architect = importlib.import_module("architect")
    torch.manual_seed(seed)
    patched = dev.type != "cuda"
    saved = torch.Tensor.cuda, nn.Module.cuda
    if patched:  # only while it is built: the first-order step makes no .cuda() call
        torch.Tensor.cuda = nn.Module.cuda = lambda self, *args, **kwargs: self
    try:
        net = model_search.Network(config.channels, config.num_classes, config.n_cells, loss_fn)
    finally:
        torch.Tensor.cuda, nn.Module.cuda = saved
    stem = net.stem[0]
    net.stem[0] = nn.Conv2d(config.in_channels, stem.out_channels, 3, padding=1, bias=False)
    net = net.to(dev)
    hyper = argparse.Namespace(
        momentum=W_MOMENTUM, weight_decay=W_DECAY, arch_learning_rate=3e-4, arch_weight_decay=1e-3
    )
    arch = architect.Architect(net, hyper)

    def arch_step(train_batch, val_batch, w_optimizer):  # noqa: ANN001, ANN202
        arch.step(*train_batch, *val_batch, W_LR, w_optimizer, unrolled=False)

    return net, arch_step, net.parameters


def measure(
    config: BenchConfig,
    variant: Variant,
    steps: int = 3,
    warmup: int = 1,
    device: str = "auto",
    seed: int = 0,
    precision: str = "fp32",
    clock: str = "wall",
) -> dict[str, Any]:
    """Time ``warmup + steps`` full search steps in this process and take the peak memory.

    Call it in a fresh process (see :func:`measure_isolated`) for a clean CPU peak.

    Args:
        config: size and batch.
        variant: what to measure.
        steps: timed steps (the median is reported).
        warmup: untimed steps first.
        device: ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.
        seed: weights, alphas, data.
        precision: ``"fp32"``, or ``"bf16"`` autocast (CUDA only, as the search loop;
            fp32 on the CPU).
        clock: what ``s_per_step`` counts: ``"wall"`` seconds, or ``"cpu"`` seconds of
            this process (on a shared CPU with one torch thread, what other users' load
            changes least).

    Returns:
        ``{"s_per_step", "arch_s_per_step" (the architecture step alone), "wall_s_per_step",
        "cpu_s_per_step", "clock", "steps_per_s",
        "images_per_s", "peak_mb", "device", "threads", "precision"}`` (the precision
        actually used).

    Example:
        >>> row = measure(BenchConfig("t", 3, 4, 8, 2), VARIANTS["gdas"], steps=1, warmup=0)
        >>> row["steps_per_s"] > 0
        True
    """
    dev = _device(device)
    gen = torch.Generator().manual_seed(seed)
    shape = (config.batch, config.in_channels, config.size, config.size)
    xt, xv = (torch.randn(shape, generator=gen).to(dev) for _ in range(2))
    yt, yv = (
        torch.randint(0, config.num_classes, (config.batch,), generator=gen).to(dev)
        for _ in range(2)
    )
    loss_fn = nn.CrossEntropyLoss()
    if variant.source:
        net, run_arch_step, weights = original_search(config, variant, dev, seed, loss_fn)
    else:
        net = build_variant(config, variant, seed).to(dev)
        if variant.channels_last:
            net = net.to(memory_format=torch.channels_last)
        method = net.method
        method.setup(net)  # the architecture optimizer must hold the moved tensors
        method.on_epoch_start(0, 50)
        weights = net.weight_parameters

        def run_arch_step(train_batch, val_batch, w_optimizer):  # noqa: ANN001, ANN202
            method.arch_step(net, train_batch, val_batch, loss_fn, W_LR, w_optimizer)

    w_optimizer = torch.optim.SGD(weights(), lr=W_LR, momentum=W_MOMENTUM, weight_decay=W_DECAY)
    net.train()

    arch_wall, arch_cpu = [], []

    def search_step() -> None:
        with autocast(dev, precision):  # as nasbench.engine.bilevel's step
            started, started_cpu = time.perf_counter(), time.process_time()
            run_arch_step((xt, yt), (xv, yv), w_optimizer)
            _sync(dev)
            arch_wall.append(time.perf_counter() - started)
            arch_cpu.append(time.process_time() - started_cpu)
            w_optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(net(xt), yt)
        loss.backward()
        # Ours as the engine clips (the optimizer's list); the original as its code does.
        clipped = weights() if variant.source else stepped_parameters(w_optimizer)
        nn.utils.clip_grad_norm_(clipped, GRAD_CLIP)
        w_optimizer.step()

    if variant.cuda_graph:
        if dev.type != "cuda":
            raise SystemExit(f"{variant.name} needs a CUDA GPU; use --device cuda on one.")
        search_step = graphed_first_order_step(
            net, w_optimizer, loss_fn, (xt, yt), (xv, yv), precision
        )

    start_bytes = _memory_now(dev)
    wall, cpu = [], []
    for _ in range(warmup + steps):
        _sync(dev)
        started, started_cpu = time.perf_counter(), time.process_time()
        search_step()
        _sync(dev)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    peak_mb = max(_peak_memory(dev) - start_bytes, 0) / 2**20
    wall_s, cpu_s = statistics.median(wall[warmup:]), statistics.median(cpu[warmup:])
    s_per_step = cpu_s if clock == "cpu" else wall_s
    # The architecture step alone (a graph replay has none to time apart).
    arch_times = arch_cpu if clock == "cpu" else arch_wall
    arch_s = statistics.median(arch_times[warmup:]) if arch_times[warmup:] else math.nan
    return {
        "s_per_step": s_per_step,
        "arch_s_per_step": arch_s,
        "wall_s_per_step": wall_s,
        "cpu_s_per_step": cpu_s,
        "clock": clock,
        "steps_per_s": 1.0 / s_per_step,
        "images_per_s": config.batch / s_per_step,
        "peak_mb": peak_mb,
        "device": str(dev),
        "threads": torch.get_num_threads(),
        "precision": resolve_precision(dev, precision),
    }


def graphed_first_order_step(
    net: nn.Module,
    w_optimizer: torch.optim.Optimizer,
    loss_fn: nn.Module,
    train_batch: tuple[torch.Tensor, torch.Tensor],
    val_batch: tuple[torch.Tensor, torch.Tensor],
    precision: str = "fp32",
) -> Any:
    """A first-order DARTS step (arch step, then weight step) captured in one CUDA graph.

    PyTorch's whole-network capture recipe: a few warm-up steps on a side stream (they
    create the optimizers' state), the gradients set to None so the captured backward
    writes them afresh, then one capture; each call replays it. The arch step is the
    method's (validation loss, gradient w.r.t. the alphas only, Adam), with a capturable
    Adam of the same settings; the weight step as in :func:`measure`. The batches are
    the graph's static inputs (a search loop copies each new batch into them).

    Args:
        net: a DARTS supernet on the GPU whose forward reads no value back to the CPU.
        w_optimizer: the weights' SGD.
        loss_fn: the loss.
        train_batch, val_batch: the static ``(x, y)`` tensors.
        precision: as :func:`measure`.

    Returns:
        A function with no arguments that runs one step.
    """
    alphas = list(net.method.arch_parameters(net))
    group = net.method.arch_optimizer.param_groups[0]
    arch_optimizer = torch.optim.Adam(
        alphas,
        lr=group["lr"],
        betas=group["betas"],
        weight_decay=group["weight_decay"],
        capturable=True,
    )
    weights = list(net.weight_parameters())
    (xt, yt), (xv, yv) = train_batch, val_batch

    def step() -> None:
        with autocast(xt.device, precision):
            val_loss = loss_fn(net(xv), yv)
        for alpha, grad in zip(alphas, torch.autograd.grad(val_loss, alphas), strict=True):
            alpha.grad = grad
        arch_optimizer.step()
        with autocast(xt.device, precision):
            loss = loss_fn(net(xt), yt)
        loss.backward()
        nn.utils.clip_grad_norm_(weights, GRAD_CLIP)
        w_optimizer.step()

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            w_optimizer.zero_grad(set_to_none=True)
            arch_optimizer.zero_grad(set_to_none=True)
            step()
    torch.cuda.current_stream().wait_stream(side)
    w_optimizer.zero_grad(set_to_none=True)
    arch_optimizer.zero_grad(set_to_none=True)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step()
    return graph.replay


def _load_average() -> str:
    """The 1/5/15-minute load average, for the figures' record ("n/a" where unknown)."""
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device here; use --device cpu or auto.")
    return torch.device(name)


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def _memory_now(dev: torch.device) -> int:
    """Bytes in use now: CUDA allocations (peak counter reset), or the resident set size."""
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
        torch.cuda.reset_peak_memory_stats(dev)
        return torch.cuda.memory_allocated(dev)
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # not Linux: the peak so far is the best starting point there is
        return _peak_rss()


def _peak_memory(dev: torch.device) -> int:
    if dev.type == "cuda":
        return torch.cuda.max_memory_allocated(dev)
    return _peak_rss()


def _peak_rss() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # macOS: bytes; Linux: KiB


# ---- the table ---------------------------------------------------------------------------------
def measure_isolated(
    config: BenchConfig,
    variant: Variant,
    steps: int,
    warmup: int,
    device: str,
    seed: int = 0,
    precision: str = "fp32",
    clock: str = "wall",
) -> dict[str, Any]:
    """:func:`measure` in a fresh Python process (this file run with ``--worker``).

    Returns:
        The measurement, or ``{"error": "..."}`` when the worker failed (e.g. out of memory).
    """
    spec = {
        "config": asdict(config),
        "variant": asdict(variant),
        "steps": steps,
        "warmup": warmup,
        "device": device,
        "seed": seed,
        "precision": precision,
        "clock": clock,
    }
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        return {"error": tail}
    return json.loads(lines[-1])


def run_benchmark(
    config: BenchConfig,
    variants: Sequence[str],
    steps: int = 3,
    warmup: int = 1,
    device: str = "auto",
    isolate: bool = True,
    seed: int = 0,
    log: Any = None,
    precision: str = "fp32",
    clock: str = "wall",
    rounds: int = 1,
    originals: Sequence[Variant] = (),
) -> list[dict[str, Any]]:
    """Measure every variant at ``config`` (one after the other) and add the ratios.

    The textbook baseline is always measured, first; ``textbook-2nd`` is added when a
    second-order variant is asked for. With ``rounds > 1`` every row is measured once per
    round, the rows in turn, and each figure is the median over the rounds
    (:func:`combine_rounds`): on a shared CPU whose speed drifts over minutes, each
    round's ratios compare runs a minute apart.

    Args:
        config: size and batch.
        variants: names in :data:`VARIANTS`.
        steps: timed steps per variant.
        warmup: untimed steps per variant.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        isolate: each measurement in a fresh process (needed for a clean CPU peak).
        seed: weights, alphas, data.
        log: optional ``print``-like callable for progress.
        precision: ``"fp32"`` or ``"bf16"`` (autocast, CUDA only).
        clock: ``"wall"`` or ``"cpu"`` seconds (see :func:`measure`).
        rounds: measurements per row, taken in turn; figures are their medians.
        originals: rows of the original code (:func:`original_variant`), measured after
            the baselines; our rows of the same method get ratios against them too.

    Returns:
        One dict per variant: name, technique, baseline, the measurement, and
        ``speedup`` / ``memory_ratio`` (vs its baseline) and ``meets_target``.

    Example:
        >>> rows = run_benchmark(BenchConfig("t", 3, 4, 8, 2), ["gdas"], steps=1, warmup=0,
        ...                      isolate=False)
        >>> [r["variant"] for r in rows]
        ['textbook', 'gdas']
    """
    ours = _with_baselines(variants)
    textbook = [n for n in ours if VARIANTS[n].method == "textbook"]
    names = textbook + [v.name for v in originals] + [n for n in ours if n not in textbook]
    known = {**VARIANTS, **{v.name: v for v in originals}}
    measured = []
    for index in range(rounds):
        if log is not None and rounds > 1:
            log(f"  round {index + 1} of {rounds}")
        rows = _measure_rows(
            config,
            [known[n] for n in names],
            steps,
            warmup,
            device,
            isolate,
            seed,
            log,
            precision,
            clock,
        )
        measured.append(add_ratios(rows))
    return measured[0] if rounds == 1 else combine_rounds(measured)


def _measure_rows(
    config: BenchConfig,
    variants: Sequence[Variant],
    steps: int,
    warmup: int,
    device: str,
    isolate: bool,
    seed: int,
    log: Any,
    precision: str,
    clock: str,
) -> list[dict[str, Any]]:
    rows = []
    for variant in variants:
        name = variant.name
        if log is not None:
            log(f"  measuring {config.name} / {name} ...")
        if isolate:
            result = measure_isolated(
                config, variant, steps, warmup, device, seed, precision, clock
            )
        else:
            try:
                result = measure(config, variant, steps, warmup, device, seed, precision, clock)
            except (RuntimeError, SystemExit) as err:  # e.g. out of memory, a failed capture
                result = {"error": str(err).strip().splitlines()[0][:200]}
                if device != "cpu" and torch.cuda.is_available():
                    torch.cuda.empty_cache()
        if log is not None:
            log(f"    {json.dumps(result)}")
        rows.append(
            {
                "config": config.name,
                "variant": name,
                "technique": variant.technique,
                "baseline": variant.baseline,
                "original": _original_of(variant),
                **result,
            }
        )
    return rows


def _original_of(variant: Variant) -> str:
    """The original code's row a row of ours is compared with ('' for none): the
    originals are timed with their first-order architecture step."""
    if variant.source or variant.config.get("order", 1) != 1 or variant.cuda_graph:
        return ""
    return next((n for n, (method, _) in ORIGINAL_CODE.items() if method == variant.method), "")


def combine_rounds(rounds: Sequence[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One row per variant from several rounds of :func:`run_benchmark`'s rows: every
    number the median over the rounds that measured it (the ratios being each round's
    own), ``speedup_rounds`` the speedup of each round, ``rounds`` their count, and
    ``meets_target`` from the median ratios. A row that failed in every round keeps the
    first round's error.

    Example:
        >>> rows = combine_rounds([[{"variant": "a", "speedup": s, "memory_ratio": 0.2}]
        ...                        for s in (1.9, 2.1, 2.0)])
        >>> rows[0]["speedup"], rows[0]["meets_target"], rows[0]["speedup_rounds"]
        (2.0, True, [1.9, 2.1, 2.0])
    """
    combined = []
    for measured in zip(*rounds, strict=True):
        good = [row for row in measured if "error" not in row]
        if not good:
            combined.append(dict(measured[0]))
            continue
        row = dict(good[0])
        for key, value in row.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                row[key] = statistics.median(r[key] for r in good)
        row["speedup_rounds"] = [r.get("speedup", math.nan) for r in good]
        if any(math.isfinite(r.get("speedup_vs_original", math.nan)) for r in good):
            row["speedup_vs_original_rounds"] = [
                r.get("speedup_vs_original", math.nan) for r in good
            ]
        row["rounds"] = len(good)
        row["meets_target"] = bool(
            row.get("speedup", math.nan) >= TARGET_SPEEDUP
            and row.get("memory_ratio", math.nan) <= TARGET_MEMORY
        )
        combined.append(row)
    return combined


def _with_baselines(variants: Sequence[str]) -> list[str]:
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise SystemExit(f"Unknown variant(s) {unknown}; choose from {', '.join(VARIANTS)}.")
    needed = ["textbook"] + sorted({VARIANTS[v].baseline for v in variants} - {"textbook"})
    return needed + [v for v in variants if v not in needed]


def add_ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add ``speedup`` (steps/s over the baseline's), ``memory_ratio`` (peak over the
    baseline's), ``meets_target`` (speedup >= 2 and memory ratio <= 1/3) and
    ``textbook_step_per_arch_step`` (the textbook op's whole first-order step time over
    this row's architecture step time) to each row.

    A row whose baseline is missing or failed gets NaN ratios.
    """
    by_name = {r["variant"]: r for r in rows}
    for row in rows:
        base = by_name.get(row["baseline"]) or by_name.get("textbook")
        ok = base is not None and "error" not in base and "error" not in row
        row["speedup"] = row["steps_per_s"] / base["steps_per_s"] if ok else math.nan
        row["memory_ratio"] = (
            row["peak_mb"] / base["peak_mb"] if ok and base["peak_mb"] > 0 else math.nan
        )
        row["meets_target"] = bool(
            row["speedup"] >= TARGET_SPEEDUP and row["memory_ratio"] <= TARGET_MEMORY
        )
        # Issue 19's goal for second order: its architecture step no slower than the
        # textbook op's whole first-order step (>= 1 here).
        textbook = by_name.get("textbook")
        fine = textbook is not None and "error" not in textbook and "error" not in row
        arch_s = row.get("arch_s_per_step", math.nan) if fine else math.nan
        row["textbook_step_per_arch_step"] = (
            textbook["s_per_step"] / arch_s if fine and arch_s > 0 else math.nan
        )
        # Against the original code of the same method, where it was measured.
        original = by_name.get(row.get("original") or "")
        fair = original is not None and "error" not in original and "error" not in row
        row["speedup_vs_original"] = (
            row["steps_per_s"] / original["steps_per_s"] if fair else math.nan
        )
        row["memory_vs_original"] = (
            row["peak_mb"] / original["peak_mb"] if fair and original["peak_mb"] > 0 else math.nan
        )
    return rows


COLUMNS = (
    ("variant", "{:<22}"),
    ("s_per_step", "{:>8.3f}"),
    ("arch_s_per_step", "{:>8.3f}"),
    ("textbook_step_per_arch_step", "{:>6.2f}x"),
    ("steps_per_s", "{:>8.3f}"),
    ("peak_mb", "{:>9.1f}"),
    ("speedup", "{:>7.2f}x"),
    ("memory_ratio", "{:>7.3f}"),
    ("meets_target", "{!s:>6}"),
    ("baseline", "{:<12}"),
    ("technique", "{}"),
)
HEADERS = (
    "variant",
    "s/step",
    "arch s",
    "tb/arch",
    "steps/s",
    "peak MiB",
    "speedup",
    "memory",
    "target",
    "vs",
    "",
)


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as a fixed-width text table (failed rows show their error).

    Example:
        >>> print(format_table([]).splitlines()[0].split()[:3])
        ['variant', 's/step', 'arch']
    """
    widths = (22, 8, 8, 7, 8, 9, 8, 7, 6, 12, 0)
    header = " ".join(
        h.ljust(w) if i in (0, 9) else h.rjust(w)
        for i, (h, w) in enumerate(zip(HEADERS, widths, strict=True))
    )
    lines = [header.rstrip()]
    for row in rows:
        if "error" in row:
            lines.append(f"{row['variant']:<22} failed: {row['error']}")
            continue
        lines.append(" ".join(_cell(row, key, fmt) for key, fmt in COLUMNS).rstrip())
    return "\n".join(lines)


def format_against_originals(rows: Sequence[dict[str, Any]]) -> str:
    """Our rows next to the original code of their method, measured in the same run:
    steps/s and peak memory over the original's (and each round's speedup).

    Example:
        >>> print(format_against_originals([{"variant": "pcdarts+cl", "original":
        ...     "original-pcdarts", "speedup_vs_original": 1.62, "memory_vs_original": 0.98,
        ...     "speedup_vs_original_rounds": [1.6, 1.62, 1.7]}]))
        against the original code     vs                 speedup  memory  rounds
          pcdarts+cl                  original-pcdarts     1.62x   0.980  1.60x 1.62x 1.70x
    """
    shown = [row for row in rows if math.isfinite(row.get("speedup_vs_original", math.nan))]
    width = max([len(row["variant"]) + 4 for row in shown] + [30])
    lines = [f"{'against the original code':<{width}}{'vs':<19}speedup  memory  rounds"]
    for row in shown:
        spread = " ".join(f"{s:.2f}x" for s in row.get("speedup_vs_original_rounds", []))
        speedup, memory = row["speedup_vs_original"], row["memory_vs_original"]
        line = f"  {row['variant']:<{width - 2}}{row['original']:<19}{speedup:>6.2f}x"
        lines.append(f"{line}{memory:>8.3f}  {spread}".rstrip())
    return "\n".join(lines)


def _cell(row: dict[str, Any], key: str, fmt: str) -> str:
    # A figure a row lacks (e.g. an older JSON without the arch-step time) prints blank.
    if key not in row:
        return " " * len(fmt.format(math.nan)) if fmt.endswith(("f}", "f}x")) else ""
    return fmt.format(row[key])


# ---- cost growth ---------------------------------------------------------------------------------
# One axis at a time around the base config; CPU-sized defaults (the GPU ranges are
# batch 8-128, channels 8-36, cells 5-20, image 28-64: pass them with --sweep-range).
SWEEP_RANGES: dict[str, tuple[int, ...]] = {
    "batch": (8, 16, 32),
    "channels": (4, 8, 16),
    "n_cells": (5, 8),
    "size": (28, 40),
}
# How the work of a step should grow with each axis (the convolutions' FLOPs): linear in
# the batch and the cells, with the pixel count (size squared), and between linear
# (depthwise convs) and quadratic (pointwise convs) in the channels.
EXPECTED_EXPONENT = {"batch": 1.0, "n_cells": 1.0, "size": 2.0, "channels": 1.0}


def sweep_configs(
    base: BenchConfig, ranges: dict[str, Sequence[int]]
) -> list[tuple[str, int, BenchConfig]]:
    """The configs of a cost-growth sweep: ``base`` with one axis changed at a time.

    Args:
        base: the config every point starts from.
        ranges: axis (a :class:`BenchConfig` field: ``batch``, ``channels``, ``n_cells``,
            ``size``) to the values it takes.

    Returns:
        ``(axis, value, config)`` per point, axes in the order given.

    Example:
        >>> points = sweep_configs(CONFIGS["small"], {"batch": (8, 32)})
        >>> [(axis, v, c.batch, c.channels) for axis, v, c in points]
        [('batch', 8, 8, 8), ('batch', 32, 32, 8)]
    """
    fields = set(BenchConfig.__dataclass_fields__) - {"name"}
    points = []
    for axis, values in ranges.items():
        if axis not in fields:
            raise SystemExit(
                f"Unknown sweep axis '{axis}'; use one of {', '.join(sorted(fields))}."
            )
        for value in values:
            config = replace(base, name=f"{axis}={value}", **{axis: int(value)})
            points.append((axis, int(value), config))
    return points


def run_sweep(
    base: BenchConfig,
    ranges: dict[str, Sequence[int]],
    variants: Sequence[str],
    steps: int = 1,
    warmup: int = 1,
    device: str = "auto",
    isolate: bool = True,
    precision: str = "fp32",
    log: Any = None,
    clock: str = "wall",
) -> list[dict[str, Any]]:
    """Step time and peak memory of each variant at every sweep point.

    Each row gets ``time_growth`` and ``memory_growth``: its figure over the same
    variant's at the axis's smallest value, and ``expected_growth``, the growth of the
    convolutions' work (:data:`EXPECTED_EXPONENT`) over the same span.

    Returns:
        One dict per (point, variant): ``axis``, ``value``, ``variant`` and the measurement.

    Example:
        >>> rows = run_sweep(BenchConfig("t", 3, 4, 8, 2), {"batch": (2, 4)}, ["gdas"],
        ...                  isolate=False, warmup=0)
        >>> [(r["value"], r["expected_growth"]) for r in rows]
        [(2, 1.0), (4, 2.0)]
    """
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise SystemExit(f"Unknown variant(s) {unknown}; choose from {', '.join(VARIANTS)}.")
    rows = []
    for axis, value, config in sweep_configs(base, ranges):
        for name in variants:
            if log is not None:
                log(f"  measuring {config.name} / {name} ...")
            measure_fn = measure_isolated if isolate else measure
            result = measure_fn(config, VARIANTS[name], steps, warmup, device, 0, precision, clock)
            rows.append({"axis": axis, "value": value, "variant": name, **result})
    for row in rows:
        first = next(r for r in rows if r["axis"] == row["axis"] and r["variant"] == row["variant"])
        ok = "error" not in row and "error" not in first
        row["time_growth"] = row["s_per_step"] / first["s_per_step"] if ok else math.nan
        row["memory_growth"] = (
            row["peak_mb"] / first["peak_mb"] if ok and first["peak_mb"] > 0 else math.nan
        )
        row["expected_growth"] = (row["value"] / first["value"]) ** EXPECTED_EXPONENT[row["axis"]]
    return rows


def format_sweep(rows: Sequence[dict[str, Any]]) -> str:
    """The sweep rows as a fixed-width table.

    Example:
        >>> format_sweep([]).split()[:4]
        ['axis', 'value', 'variant', 's/step']
    """
    lines = [
        f"{'axis':<9}{'value':>6}  {'variant':<24}{'s/step':>8}{'peak MiB':>10}"
        f"{'time x':>8}{'memory x':>10}{'work x':>8}"
    ]
    for r in rows:
        head = f"{r['axis']:<9}{r['value']:>6}  {r['variant']:<24}"
        if "error" in r:
            lines.append(f"{head}failed: {r['error']}")
            continue
        lines.append(
            f"{head}{r['s_per_step']:>8.3f}{r['peak_mb']:>10.1f}{r['time_growth']:>8.2f}"
            f"{r['memory_growth']:>10.2f}{r['expected_growth']:>8.2f}"
        )
    return "\n".join(lines)


def _parse_ranges(specs: Sequence[str]) -> dict[str, tuple[int, ...]]:
    """The axes given (``AXIS=N,N,...`` each), or every default range when none is;
    every value a whole number >= 1, every axis a :class:`BenchConfig` size."""
    ranges: dict[str, tuple[int, ...]] = {} if specs else dict(SWEEP_RANGES)
    for spec in specs:
        axis, _, values = spec.partition("=")
        try:
            ranges[axis.strip()] = tuple(int(v) for v in values.split(",") if v.strip())
        except ValueError:
            raise SystemExit(f"--sweep-range {spec!r}: write AXIS=N,N,... (integers).") from None
        if not ranges[axis.strip()]:
            raise SystemExit(f"--sweep-range {spec!r}: no values; write AXIS=N,N,... (integers).")
        if min(ranges[axis.strip()]) < 1:
            raise SystemExit(f"--sweep-range {spec!r}: every value must be at least 1.")
    sweep_configs(CONFIGS["small"], ranges)  # an unknown axis, before anything is measured
    return ranges


# ---- command line -------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark from the command line; print the tables; optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", choices=(*CONFIGS, "both"), default="small")
    parser.add_argument("--steps", type=count(1), default=3, help="timed steps per variant")
    parser.add_argument("--warmup", type=count(0), default=1, help="untimed steps per variant")
    parser.add_argument(
        "--rounds",
        type=count(1),
        default=1,
        help="measure every row this many times, the rows in turn; report medians (each "
        "round's ratios against that round's baseline)",
    )
    parser.add_argument(
        "--methods",
        default=",".join(VARIANTS),
        help=f"comma-separated variants (default: all): {', '.join(VARIANTS)}",
    )
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--precision", choices=("fp32", "bf16"), default="fp32", help="bf16: autocast (CUDA only)"
    )
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="s/step in wall seconds, or in the process's CPU seconds (a shared CPU, 1 thread)",
    )
    parser.add_argument("--json", type=output_file, default=None, help="also write the rows here")
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="cost growth: time and memory of --methods (default darts-1st+cl+recompute) "
        "with batch, channels, cells and image size changed one at a time around --config",
    )
    parser.add_argument(
        "--sweep-range",
        action="append",
        default=[],
        metavar="AXIS=N,N,...",
        help=f"sweep only these axes, with these values (default: {SWEEP_RANGES})",
    )
    for name, (_, what) in ORIGINAL_CODE.items():
        parser.add_argument(
            f"--{name}",
            type=Path,
            default=None,
            metavar="DIR",
            help=f"also time {what} from DIR, in the same run, and compare our "
            f"{name.removeprefix('original-')} rows with it",
        )
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker is not None:  # one isolated measurement for measure_isolated
        spec = json.loads(args.worker)
        result = measure(
            BenchConfig(**spec["config"]),
            Variant(**spec["variant"]),
            spec["steps"],
            spec["warmup"],
            spec["device"],
            spec["seed"],
            spec["precision"],
            spec["clock"],
        )
        print(json.dumps(result), flush=True)
        return 0

    variants = [v.strip() for v in args.methods.split(",") if v.strip()]
    if not variants:
        parser.error(f"--methods is empty; give comma-separated variants: {', '.join(VARIANTS)}")
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        parser.error(
            f"unknown variant(s) {unknown} in --methods; choose from {', '.join(VARIANTS)}"
        )
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device here; use --device cpu or auto.")
    if args.precision == "bf16" and _device(args.device).type != "cuda":
        parser.error(
            "--precision bf16 is CUDA only and this run is on the CPU; use --precision fp32"
            + (" or --device cuda" if torch.cuda.is_available() else "")
            + "."
        )
    if args.sweep:
        try:
            args.sweep_range = _parse_ranges(args.sweep_range)
        except SystemExit as err:  # a bad AXIS=N,N,...: a usage error, before any measurement
            parser.error(str(err.code))
        return _main_sweep(args, variants)
    if args.sweep_range:
        parser.error("--sweep-range is for --sweep; add --sweep or drop it.")
    originals = [
        original_variant(name, folder)
        for name in ORIGINAL_CODE
        if (folder := getattr(args, name.replace("-", "_"))) is not None
    ]
    configs = ["reference", "small"] if args.config == "both" else [args.config]
    dev = _device(args.device)
    print(
        f"torch {torch.__version__}, device {dev}, torch threads {torch.get_num_threads()}, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
        f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}, "
        f"precision {resolve_precision(dev, args.precision)}, load average {_load_average()}"
    )
    print(
        f"one step = arch step + weight step, {args.clock} seconds; median of {args.steps} after "
        f"{args.warmup} "
        "warm-up; peak = CUDA max allocated, or CPU peak RSS growth, in a fresh process"
        + (f"; every figure the median of {args.rounds} rounds" if args.rounds > 1 else "")
    )
    out: dict[str, Any] = {
        "torch": torch.__version__,
        "device": str(dev),
        "threads": torch.get_num_threads(),
        "steps": args.steps,
        "warmup": args.warmup,
        "rounds": args.rounds,
        "precision": args.precision,
        "clock": args.clock,
        "configs": {},
    }
    for name in configs:
        config = CONFIGS[name]
        print(f"\n== {name}: {asdict(config)}", flush=True)
        rows = run_benchmark(
            config,
            variants,
            args.steps,
            args.warmup,
            args.device,
            seed=args.seed,
            precision=args.precision,
            clock=args.clock,
            rounds=args.rounds,
            originals=originals,
            # CUDA's peak counter is reset per measurement, so only a CPU peak (the
            # process's resident set) needs a fresh process; on a GPU that would cost a
            # torch import and a CUDA start per variant.
            isolate=dev.type != "cuda",
            log=lambda msg: print(msg, file=sys.stderr, flush=True),
        )
        print(format_table(rows), flush=True)
        if args.rounds > 1:
            print("speedup in each round:")
            for row in rows:
                spread = " ".join(f"{s:.2f}x" for s in row.get("speedup_rounds", []))
                print(f"  {row['variant']:<30} {spread}")
        if originals:
            print(format_against_originals(rows))
        out["configs"][name] = {"config": asdict(config), "rows": rows}
    print(
        f"\nspeedup = steps/s over the baseline's; memory = peak over the baseline's; "
        f"target = speedup >= {TARGET_SPEEDUP:g} and memory <= 1/3."
    )
    _write_json(args.json, out)
    return 0


def _write_json(path: Path | None, out: dict[str, Any]) -> None:
    if path is not None:
        write_json(path, out)  # whole or not at all; NaN as null (strict JSON)


def _main_sweep(args: argparse.Namespace, variants: list[str]) -> int:
    if args.methods == ",".join(VARIANTS):  # not given: the exact low-memory DARTS
        variants = ["darts-1st+cl+recompute"]
    base = CONFIGS["small" if args.config == "both" else args.config]
    ranges = args.sweep_range  # parsed and checked by main
    print(
        f"torch {torch.__version__}, device {_device(args.device)}, torch threads "
        f"{torch.get_num_threads()}, load average {_load_average()}; base {asdict(base)}; "
        f"median of {args.steps} steps after {args.warmup} warm-up, each point in a fresh process"
    )
    rows = run_sweep(
        base,
        ranges,
        variants,
        args.steps,
        args.warmup,
        args.device,
        precision=args.precision,
        log=lambda msg: print(msg, file=sys.stderr, flush=True),
        clock=args.clock,
    )
    print(format_sweep(rows))
    print(
        "time x / memory x: over the same variant at the axis's first value; work x: the "
        f"convolutions' work over that span (exponents {EXPECTED_EXPONENT}); "
        f"load average now {_load_average()}"
    )
    _write_json(args.json, {"base": asdict(base), "ranges": ranges, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
