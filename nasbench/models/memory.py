"""Training memory of one step, estimated before launch.

The network is run forward at batch 1 and batch 2 with
``torch.autograd.graph.saved_tensors_hooks`` counting the bytes autograd keeps for
the backward pass (the activations, each storage counted once); the per-image cost
is the difference, so activations at batch B are ``a1 + (B - 1) * (a2 - a1)``. The
weights count three times (weights, gradients, SGD momentum). It is a lower bound of
the peak of one DARTS step: allocator slack, cuDNN workspaces and the second-order
step's weight copy are not counted. A supernet that has its own estimate (DiNTS:
MONAI's ``TopologySearch.get_ram_cost_usage``) reports it next to this one.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from nasbench.errors import ConfigError
from nasbench.protocols import Space

MIB = 2**20


def _storage_key(tensor: torch.Tensor) -> tuple[int, int]:
    try:
        storage = tensor.untyped_storage()
        return storage.data_ptr(), storage.nbytes()
    except (RuntimeError, NotImplementedError):  # e.g. sparse or meta tensors
        return id(tensor), tensor.numel() * tensor.element_size()


def saved_activation_bytes(model: nn.Module, x: torch.Tensor) -> int:
    """Bytes autograd saves for the backward pass of ``model(x)`` (each storage once).

    Args:
        model: a torch module in training mode.
        x: its input batch.

    Returns:
        The bytes of the distinct storages saved for backward.

    Example:
        >>> saved_activation_bytes(torch.nn.Conv2d(1, 2, 3), torch.zeros(1, 1, 8, 8)) > 0
        True
    """
    seen: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        key, size = _storage_key(tensor)
        seen[key] = size
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(x)
    return int(sum(seen.values()))


def estimate_memory(
    model: nn.Module, sample_shape: tuple[int, ...], batch_size: int
) -> dict[str, int]:
    """Estimate the training memory of one step at ``batch_size`` (module docstring: method).

    Args:
        model: the supernet (or any module).
        sample_shape: one input without the batch dim, e.g. ``(1, 28, 28)``.
        batch_size: the batch to estimate for.

    Returns:
        ``{"weights": bytes, "activations": bytes, "total": bytes}``; weights counts
        weights, gradients and momentum.

    Example:
        >>> estimate_memory(torch.nn.Conv2d(1, 4, 3), (1, 8, 8), 16)["total"] > 0
        True
    """
    model.train()
    a1 = saved_activation_bytes(model, torch.zeros(1, *sample_shape))
    a2 = saved_activation_bytes(model, torch.zeros(2, *sample_shape))
    activations = a1 + (batch_size - 1) * max(a2 - a1, 0)
    weights = 3 * sum(p.numel() * p.element_size() for p in model.parameters())
    return {"weights": weights, "activations": activations, "total": weights + activations}


def supernet_memory(
    space: Space,
    sample_shape: tuple[int, ...],
    batch_size: int,
    method: str = "darts",
    method_config: Any = None,
) -> dict[str, float]:
    """The memory one search step of ``space`` needs, in MiB, measured on the CPU.

    Args:
        space: a space with a supernet (DARTS cells, NAS-Unet, V-NAS, DiNTS).
        sample_shape: one input without the batch dim.
        batch_size: images per step.
        method: the search strategy (its mixed edge decides what is kept).
        method_config: the strategy's settings.

    Returns:
        ``weights_mb``, ``activations_mb``, ``total_mb``; for DiNTS also ``monai_mb`` and
        ``monai_full_mb`` (MONAI's estimate at the current and at all-ones path
        probabilities).

    Example:
        >>> from nasbench.spaces import create_space
        >>> supernet_memory(create_space("nasunet"), (1, 32, 32), 4)["total_mb"] > 0
        True
    """
    with torch.random.fork_rng(devices=[]):
        net = space.supernet(method=method, method_config=method_config, seed=0)
        measured = estimate_memory(net, sample_shape, batch_size)
    out = {f"{k}_mb": v / MIB for k, v in measured.items()}
    monai = getattr(net, "memory_estimate", None)
    if monai is not None:
        out.update(monai((batch_size, *sample_shape)))
    return out


# torch's words (nn.functional._verify_batch_size) for a training BatchNorm whose batch
# holds one value per channel: one image whose feature map has shrunk to a single pixel.
ONE_VALUE_PER_CHANNEL = "Expected more than 1 value per channel when training"


def one_value_per_channel(err: BaseException, batch_size: int) -> ConfigError | None:
    """The one-line error for torch's "one value per channel" BatchNorm failure, or None
    when ``err`` is another error.

    Args:
        err: an error a network's training forward raised.
        batch_size: the images per batch the search was given.

    Returns:
        A :class:`ConfigError` saying what to raise or lower, or None.

    Example:
        >>> err = ValueError(ONE_VALUE_PER_CHANNEL + ", got input size torch.Size([1, 32, 1, 1])")
        >>> one_value_per_channel(err, 1) is not None
        True
    """
    if not isinstance(err, ValueError) or ONE_VALUE_PER_CHANNEL not in str(err):
        return None
    return ConfigError(
        f"batch norm sees one value per channel: the network's deepest feature map is one "
        f"pixel and dataset.batch_size is {batch_size}; set dataset.batch_size to 2 or more, "
        "a larger dataset.size, or fewer downsampling levels (space.skeleton depth or cells)."
    )


@contextlib.contextmanager
def must_fit_in_memory(what: str, advice: str) -> Iterator[None]:
    """Turn an allocation failure inside the block into a one-line error that says how
    much was asked for and what to lower, not an allocator traceback: validation cannot
    know how much memory the machine (or the GPU) has.

    Args:
        what: the thing being built, e.g. ``"the search's network"``.
        advice: what to lower, e.g. ``"lower --channels 100000 or --batch-size 64"``.

    Raises:
        ConfigError: when the block raised ``MemoryError`` or torch's out-of-memory error
            (CPU allocator or CUDA); other errors pass through unchanged.

    Example:
        >>> with must_fit_in_memory("the network", "lower its width"):
        ...     raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried "
        ...                        "to allocate 240000000000 bytes.")
        Traceback (most recent call last):
        ...
        nasbench.errors.ConfigError: the network does not fit in memory (it asked for 223.5 GiB at once); lower its width.
    """  # noqa: E501
    try:
        yield
    except (MemoryError, RuntimeError) as err:  # torch.OutOfMemoryError is a RuntimeError
        text = str(err)
        if not isinstance(err, MemoryError) and not any(
            words in text.lower() for words in ("can't allocate memory", "out of memory")
        ):
            raise
        asked = re.search(r"allocate (\d+) bytes", text)
        asked_for = f" (it asked for {int(asked[1]) / 2**30:.1f} GiB at once)" if asked else ""
        raise ConfigError(f"{what} does not fit in memory{asked_for}; {advice}.") from None
