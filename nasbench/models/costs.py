"""What a network costs: parameters, multiply-accumulates and measured latency.

Parameter counts follow the DARTS code, which leaves the auxiliary head out (it
is dropped after training). MACs come from :class:`torch.utils.flop_counter.FlopCounterMode`,
which counts matrix multiplies and convolutions (2 FLOPs per MAC) and ignores the
cheap element-wise work (BN, ReLU, pooling, additions), as papers usually do.
"""

from __future__ import annotations

import copy
import statistics
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from nasbench.errors import ConfigError
from nasbench.models.network import _as_genotype, _as_skeleton, build
from nasbench.protocols import Genotype
from nasbench.runs.environment import device_name


def count_parameters(model: nn.Module, exclude_auxiliary: bool = True) -> int:
    """Number of parameters of a model.

    Args:
        model: any module.
        exclude_auxiliary: leave out parameters whose name contains ``"auxiliary"``
            (the auxiliary head), as DARTS's ``count_parameters_in_MB`` does.

    Returns:
        The parameter count.

    Example:
        >>> count_parameters(nn.Linear(3, 2))
        8
    """
    if not isinstance(model, nn.Module):
        raise ConfigError(
            f"count_parameters needs a torch nn.Module, got {type(model).__name__}; pass e.g. "
            "nasbench.models.build(genotype, skeleton)."
        )
    return sum(
        p.numel()
        for name, p in model.named_parameters()
        if not (exclude_auxiliary and "auxiliary" in name)
    )


def count_macs(model: nn.Module, input_shape: Sequence[int]) -> int:
    """Multiply-accumulates of one forward pass in eval mode.

    Args:
        model: the network; its mode is restored afterwards.
        input_shape: shape of the input batch including the batch dim, e.g.
            ``(1, 1, 28, 28)`` or ``(1, 1, 16, 16, 16)``; MACs are for that whole batch.

    Returns:
        The MAC count (FLOPs / 2 of convolutions and matrix multiplies).

    Example:
        >>> count_macs(nn.Linear(3, 2), (4, 3))
        24
    """
    x = _example_input(model, input_shape)
    # Copying the model costs ~0.1 s; below this many input values computing is cheaper.
    shadow = _on_meta(model) if x.numel() >= _META_FROM_VALUES else None
    if shadow is not None:
        # Shapes alone fix the count: on the meta device nothing is computed or stored, so
        # a 3D network at 96^3 is counted at once instead of in seconds and gigabytes.
        try:
            counter = FlopCounterMode(display=False)
            with torch.no_grad(), counter:
                shadow(x.to("meta"))
            return counter.get_total_flops() // 2
        except Exception:  # noqa: BLE001 - an op without a meta kernel: count for real
            pass
    counter = FlopCounterMode(display=False)
    with _eval_mode(model), _native_convs(model), torch.no_grad(), counter:
        _forward(model, x, input_shape)
    return counter.get_total_flops() // 2


# Input values (batch x channels x voxels) from which MACs are counted on the meta device:
# a 3D input from about 51^3 (at 64^3 0.13 s instead of 1.6 s, 8 cells of C=16).
_META_FROM_VALUES = 2**17


def _on_meta(model: nn.Module) -> nn.Module | None:
    """An eval-mode copy of ``model`` on the meta device (None when it cannot be copied)."""
    import copy

    try:
        shadow = copy.deepcopy(model).to("meta")
    except Exception:  # noqa: BLE001 - e.g. a module holding something deepcopy refuses
        return None
    return shadow.eval()


def measure_latency(
    model: nn.Module,
    input_shape: Sequence[int],
    repeats: int = 20,
    warmup: int = 3,
    device: str | torch.device = "cpu",
) -> dict[str, float]:
    """Wall-clock time of one forward pass in eval mode, without gradients.

    The model is copied when it lives on another device, so the caller's model is
    never moved. The figure depends on the machine and its load (and on the torch
    thread count); compare latencies measured in one session only.

    Args:
        model: the network.
        input_shape: shape of the input batch including the batch dim.
        repeats: timed forward passes.
        warmup: untimed forward passes first (allocator, kernel selection).
        device: ``"cpu"``, ``"cuda"``, a torch device, or ``"auto"`` (CUDA if present).

    Returns:
        ``{"median_ms": ..., "p90_ms": ...}`` over the timed passes.

    Raises:
        ConfigError: ``repeats``/``warmup`` are no counts, ``device`` is no device nasbench
            runs on (``"gpu"``), or the model must move onto a GPU this machine lacks.

    Example:
        >>> measure_latency(nn.Linear(3, 2), (1, 3), repeats=5)["median_ms"] > 0
        True
    """
    if not (_is_int(repeats) and _is_int(warmup)) or repeats < 1 or warmup < 0:
        raise ConfigError(
            f"repeats must be an integer >= 1 and warmup one >= 0, got {repeats!r} and {warmup!r}."
        )
    device = torch.device(device_name(device))
    if _model_device(model) != device:
        device_name(device, visible=True)  # moving a model onto a missing GPU fails in torch
        model = copy.deepcopy(model).to(device)
    x = _example_input(model, input_shape)
    # The timed device's queue: a bare synchronize() waits on the current one (cuda:0).
    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)
    times = []
    with _eval_mode(model), torch.no_grad():
        for k in range(warmup + repeats):
            sync()
            start = time.perf_counter()
            _forward(model, x, input_shape)
            sync()
            if k >= warmup:
                times.append((time.perf_counter() - start) * 1000.0)
    times.sort()
    p90 = times[min(len(times) - 1, round(0.9 * (len(times) - 1)))]
    return {"median_ms": statistics.median(times), "p90_ms": p90}


def network_costs(
    genotype: Genotype,
    skeleton: Any,
    input_size: int | Sequence[int],
    repeats: int = 10,
    device: str = "cpu",
) -> dict[str, float]:
    """Parameters, MACs and latency of the network a genotype builds, for one image.

    Args:
        genotype: any genotype :func:`nasbench.models.build` accepts.
        skeleton: the macro skeleton (gives in_channels and spatial_dims), or its dict.
        input_size: spatial size, one int for every axis (28) or one per axis.
        repeats: timed forward passes for the latency; 0 skips the measurement.
        device: where to time it.

    Returns:
        ``{"params": int, "macs": int, "latency_ms": float}`` for a batch of one
        (``latency_ms`` is NaN when ``repeats`` is 0).

    Raises:
        ConfigError: ``input_size``, ``repeats`` or ``device`` is not one of the above.

    Example:
        >>> from nasbench.spaces.skeleton import Skeleton
        >>> from nasbench.spaces.zoo import zoo
        >>> network_costs(zoo["DARTS_V2"], Skeleton(n_cells=5, channels=8), 28)["params"] > 0
        True
    """
    device_name(device)  # checked even when repeats=0 measures no latency
    if not _is_int(repeats) or repeats < 0:
        raise ConfigError(f"repeats must be an integer >= 0 (0: no latency), got {repeats!r}.")
    genotype = _as_genotype(genotype)
    skeleton = _as_skeleton(skeleton, getattr(genotype, "kind", None))
    dims = skeleton.spatial_dims
    if _is_int(input_size):
        size = (int(input_size),) * dims
    elif isinstance(input_size, Sequence) and all(_is_int(s) for s in input_size):
        size = tuple(int(s) for s in input_size)
    else:
        size = ()  # a float (28.0), text or None: refused below
    if len(size) != dims or any(s < 1 for s in size):
        raise ConfigError(
            f"input_size {input_size!r} must be a positive int or {dims} positive ints "
            f"for a {dims}D skeleton."
        )
    model = build(genotype, skeleton, seed=0)
    shape = (1, skeleton.in_channels, *size)
    latency = (
        measure_latency(model, shape, repeats=repeats, device=device)["median_ms"]
        if repeats > 0
        else float("nan")
    )
    return {
        "params": count_parameters(model),
        "macs": count_macs(model, shape),
        "latency_ms": latency,
    }


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


@contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    """Eval mode inside; afterwards every submodule gets its previous mode back."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for m, mode in modes:
            m.training = mode


@contextmanager
def _native_convs(model: nn.Module) -> Iterator[None]:
    """PyTorch's own conv in every depthwise conv inside (``fast_backward`` off), restored
    afterwards. On the CPU a dilated 3D one otherwise runs as its zero-inserted kernel or
    its sub-grids (nasbench.spaces.depthwise): the same numbers, other MACs. The count is
    the architecture's, as on the meta device, not the CPU path's."""
    modes = [(m, m.fast_backward) for m in model.modules() if hasattr(m, "fast_backward")]
    for m, _ in modes:
        m.fast_backward = False
    try:
        yield
    finally:
        for m, mode in modes:
            m.fast_backward = mode


def _model_device(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def _example_input(model: nn.Module, input_shape: Sequence[int]) -> torch.Tensor:
    shape = tuple(input_shape)
    if not shape or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in shape):
        raise ConfigError(
            f"input_shape must be positive ints including the batch dim, e.g. (1, 1, 28, 28); "
            f"got {input_shape!r}."
        )
    param = next(model.parameters(), None)
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    return torch.zeros(shape, dtype=dtype, device=_model_device(model))


def _forward(model: nn.Module, x: torch.Tensor, input_shape: Sequence[int]) -> Any:
    try:
        return model(x)
    except RuntimeError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ConfigError(
            f"input_shape {tuple(input_shape)} does not fit the model ({first}); give "
            "(batch, channels, *spatial) with the model's input channels."
        ) from None
