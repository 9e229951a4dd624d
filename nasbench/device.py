"""Device choice and mixed precision: CUDA when present, the same code on CPU."""

from __future__ import annotations

import contextlib
import math
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import torch

from nasbench.errors import ConfigError


def resolve_device(name: str = "auto") -> torch.device:
    """Turn ``"auto" | "cpu" | "cuda"`` into a torch device.

    Args:
        name: ``auto`` picks CUDA when a GPU is visible, else the CPU.

    Returns:
        The device.

    Example:
        >>> resolve_device("cpu")
        device(type='cpu')
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError('device "cuda" was asked for but no GPU is visible; use "auto" or "cpu".')
    if name not in ("cpu", "cuda"):
        raise ConfigError(f'device must be "auto", "cpu" or "cuda", got {name!r}.')
    return torch.device(name)


# Inputs of at most this many pixels (or voxels) per image keep a search step on a GPU
# bound by kernel launches, not arithmetic: on an H200, the DARTS search step at 28x28
# (C=16, 8 cells, batch 64) took 0.52 s in fp32 and 0.70 s under bf16 autocast (the casts
# are extra kernels), 0.64 s in fp32 with channels-last (benchmarks/README.md, "GPU").
# There "auto" keeps fp32 and the default memory format.
LAUNCH_BOUND_PIXELS = 32 * 32


def resolve_precision(
    device: torch.device, precision: str = "auto", input_pixels: int | None = None
) -> str:
    """The precision a search runs in: ``"bf16"`` or ``"fp32"``.

    Args:
        device: the device the search runs on.
        precision: ``auto`` takes bf16 autocast on a CUDA GPU with native bf16 (compute
            capability 8+; a V100 or T4 only emulates it) and fp32 everywhere else, and
            for inputs of at most :data:`LAUNCH_BOUND_PIXELS`;
            ``bf16`` asks for it (still fp32 on the CPU, where bf16 is slower than fp32
            for these small convolutions); ``fp32`` never autocasts.
        input_pixels: pixels (or voxels) of one input image, when known.

    Returns:
        ``"bf16"`` or ``"fp32"``.

    Example:
        >>> resolve_precision(torch.device("cpu"), "auto")
        'fp32'
    """
    if precision not in ("auto", "bf16", "fp32"):
        raise ConfigError(f'precision must be "auto", "bf16" or "fp32", got {precision!r}.')
    if device.type != "cuda" or precision == "fp32":
        return "fp32"
    if precision == "auto" and (_launch_bound(input_pixels) or not _native_bf16()):
        return "fp32"
    return "bf16"


def warn_if_bf16_falls_back(device: torch.device, precision: str) -> None:
    """Warn, once per caller, that ``precision="bf16"`` runs in fp32 on this device: the
    run records bf16 as asked, and its speed and numbers would otherwise read as bf16's.

    Example:
        >>> warn_if_bf16_falls_back(torch.device("cpu"), "fp32")  # nothing to say
    """
    if precision == "bf16" and device.type != "cuda":
        warnings.warn(
            f"precision bf16 runs in fp32 on the {device.type.upper()} (bf16 is slower than "
            "fp32 there for these small convolutions); bf16 applies on a CUDA GPU.",
            UserWarning,
            stacklevel=3,
        )


@contextlib.contextmanager
def seeded(seed: int | None) -> Iterator[None]:
    """Run a block with torch's global RNG seeded, leaving the caller's streams as they were.

    ``torch.random.fork_rng(devices=[])`` plus ``torch.manual_seed`` does not do that on a
    GPU machine: ``manual_seed`` also seeds every CUDA generator (or, before CUDA starts,
    queues that seeding for when it does), and ``devices=[]`` saves none of them. Here,
    once CUDA is initialised, the CPU generator and every CUDA device's generator are
    forked and all are seeded (device-side dropout and drop-path stay reproducible);
    before that, only the CPU generator is forked and seeded, so no CUDA seeding is left
    queued behind the block.

    Args:
        seed: the seed; None runs the block unseeded, on the caller's streams.

    Returns:
        A context manager.

    Example:
        >>> with seeded(0):
        ...     first = torch.rand(2)
        >>> with seeded(0):
        ...     again = torch.rand(2)
        >>> bool((first == again).all())
        True
    """
    if seed is None:
        yield
    elif torch.cuda.is_initialized():
        devices = range(torch.cuda.device_count())
        with torch.random.fork_rng(devices=devices, device_type="cuda"):
            torch.manual_seed(seed)
            yield
    else:
        with torch.random.fork_rng(devices=[]):
            torch.default_generator.manual_seed(int(seed))  # as torch.manual_seed does
            yield


def _native_bf16() -> bool:
    # Compute capability 8+ only: a V100 or T4 emulates bf16, slower than fp32, yet
    # is_bf16_supported() says True there unless emulation is left out.
    try:
        return torch.cuda.is_bf16_supported(including_emulation=False)
    except TypeError:  # torch < 2.4 (pyproject allows 2.2) has no such argument
        return torch.cuda.get_device_properties(torch.cuda.current_device()).major >= 8


def _launch_bound(input_pixels: int | None) -> bool:
    return input_pixels is not None and input_pixels <= LAUNCH_BOUND_PIXELS


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """A bf16 autocast context when :func:`resolve_precision` says bf16; else a no-op."""
    if resolve_precision(device, precision) == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def wants_channels_last(device: torch.device, asked: bool, input_pixels: int | None = None) -> bool:
    """Channels-last when asked, and on CUDA (tensor-core convolutions) unless the inputs
    are small enough (:data:`LAUNCH_BOUND_PIXELS`) that the format changes cost more.

    Example:
        >>> wants_channels_last(torch.device("cpu"), False)
        False
    """
    return asked or (device.type == "cuda" and not _launch_bound(input_pixels))


def memory_format_of(x: torch.Tensor) -> torch.memory_format:
    """The memory format ``x`` is laid out in: channels-last(-3d) or contiguous.

    A gradient made in a custom backward should be laid out as its input was; this is
    the format to give ``Tensor.contiguous`` (PyTorch's own ``suggest_memory_format``).

    Args:
        x: any tensor.

    Returns:
        ``torch.channels_last`` (4-dim) or ``torch.channels_last_3d`` (5-dim) where ``x``
        is dense in that format, else ``torch.contiguous_format``.

    Example:
        >>> memory_format_of(torch.zeros(1, 2, 3, 3).contiguous(memory_format=torch.channels_last))
        torch.channels_last
    """
    if x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last):
        return torch.channels_last
    if x.dim() == 5 and x.is_contiguous(memory_format=torch.channels_last_3d):
        return torch.channels_last_3d
    return torch.contiguous_format


def to_channels_last(module: torch.nn.Module, spatial_dims: int) -> torch.nn.Module:
    """Move a network's conv weights to the channels-last format of its dims (in place)."""
    fmt = torch.channels_last if spatial_dims == 2 else torch.channels_last_3d
    for param in module.parameters():
        if param.dim() == spatial_dims + 2:
            param.data = param.data.contiguous(memory_format=fmt)
    return module


# Linux resets a process's peak resident set size (VmHWM) when "5" is written here.
_CLEAR_REFS = Path("/proc/self/clear_refs")
_STATUS = Path("/proc/self/status")


def reset_peak_memory(device: torch.device) -> None:
    """Start a new peak-memory window.

    CUDA: the allocator's peak. CPU on Linux: the process's peak resident set size,
    so each epoch reports its own peak, not the largest since the process started
    (elsewhere the CPU figure stays the process peak).
    """
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        return
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        pass  # not Linux, or not allowed: the figure stays the process peak


def peak_memory_mb(device: torch.device) -> float:
    """Peak memory in MiB since :func:`reset_peak_memory`: allocated tensors on CUDA,
    resident memory on CPU (the process's peak where the window cannot be reset).

    Args:
        device: the device the search computes on.

    Returns:
        The peak in MiB; NaN on a CPU where no figure can be read: Windows, whose Python
        has neither ``/proc`` nor the Unix-only ``resource`` module (a run stores NaN as
        missing, so its memory column stays empty there).

    Example:
        >>> peak_memory_mb(torch.device("cpu")) > 0  # doctest: +SKIP
        True
    """
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**10  # kB
    except OSError:
        pass
    try:  # imported here: a module-level import would stop the engine loading on Windows
        import resource
    except ImportError:
        return math.nan
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is KiB on Linux and bytes on macOS.
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10
