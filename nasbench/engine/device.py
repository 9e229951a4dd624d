"""Device choice and mixed precision: CUDA when present, the same code on CPU."""

from __future__ import annotations

import contextlib
import resource
import sys

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


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """A bf16 autocast context on CUDA when asked for; a no-op otherwise.

    bf16 on CPU is slower than fp32 for these small convolutions, so it is used on
    CUDA only; the config records what was asked, the environment what ran.
    """
    if precision == "bf16" and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def reset_peak_memory(device: torch.device) -> None:
    """Start a new peak-memory window (CUDA only; the CPU figure is the process peak)."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory_mb(device: torch.device) -> float:
    """Peak memory in MiB: allocated tensors on CUDA, the process's peak RSS on CPU."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ru_maxrss is KiB on Linux and bytes on macOS.
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10
