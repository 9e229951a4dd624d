"""Device choice and mixed precision: CUDA when present, the same code on CPU."""

from __future__ import annotations

import contextlib
import resource
import sys
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


def resolve_precision(device: torch.device, precision: str = "auto") -> str:
    """The precision a search runs in: ``"bf16"`` or ``"fp32"``.

    Args:
        device: the device the search runs on.
        precision: ``auto`` takes bf16 autocast on a CUDA GPU that supports it and fp32
            everywhere else; ``bf16`` asks for it (still fp32 on the CPU, where bf16 is
            slower than fp32 for these small convolutions); ``fp32`` never autocasts.

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
    if precision == "auto" and not torch.cuda.is_bf16_supported():
        return "fp32"
    return "bf16"


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """A bf16 autocast context when :func:`resolve_precision` says bf16; else a no-op."""
    if resolve_precision(device, precision) == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def wants_channels_last(device: torch.device, asked: bool) -> bool:
    """Channels-last on CUDA always (tensor-core convolutions), elsewhere when asked."""
    return asked or device.type == "cuda"


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
    resident memory on CPU (the process's peak where the window cannot be reset)."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**10  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is KiB on Linux and bytes on macOS.
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10
