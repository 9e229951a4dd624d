"""Collapse watch after RobustDARTS (Zela et al., 2020).

The dominant eigenvalue of the validation-loss Hessian with respect to the alphas
grows when DARTS drifts to degenerate cells (all skips / pools). It is computed by
power iteration on Hessian-vector products (double backward; the Hessian itself is
never formed). The early-stop rule (DARTS-ES) stops when the local average of the
eigenvalue over the last ``window`` measurements exceeds ``factor`` times the local
average ``window`` measurements earlier, from ``start_epoch`` on; the paper then
returns the architecture of the earlier epoch (:attr:`EigenvalueEarlyStop.stop_epoch`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from nasbench.protocols import Supernet
from nasbench.runs.alpha_summary import (
    COLLAPSE_FACTOR,
    COLLAPSE_START_EPOCH,
    COLLAPSE_WINDOW,
)

Batch = tuple[torch.Tensor, torch.Tensor]


def _flat(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    return torch.cat([t.reshape(-1) for t in tensors])


def _split(vector: torch.Tensor, like: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    out, start = [], 0
    for t in like:
        out.append(vector[start : start + t.numel()].view_as(t))
        start += t.numel()
    return out


def _grad_fn(
    loss_fn: Callable[[], torch.Tensor], params: Sequence[torch.Tensor]
) -> Callable[[torch.Tensor], torch.Tensor]:
    """A function v -> H v (flat), reusing one graph of the gradient."""
    grads = torch.autograd.grad(loss_fn(), list(params), create_graph=True, allow_unused=True)
    grads = [torch.zeros_like(p) if g is None else g for g, p in zip(grads, params, strict=True)]
    flat_grad = _flat(grads)

    def hvp(v: torch.Tensor) -> torch.Tensor:
        if not flat_grad.requires_grad:  # the loss is linear in params: H = 0
            return torch.zeros_like(v)
        hv = torch.autograd.grad(flat_grad @ v, list(params), retain_graph=True, allow_unused=True)
        return _flat(
            [torch.zeros_like(p) if h is None else h for h, p in zip(hv, params, strict=True)]
        ).detach()

    return hvp


def exact_hessian(
    loss_fn: Callable[[], torch.Tensor], params: Sequence[torch.Tensor]
) -> torch.Tensor:
    """The full Hessian of ``loss_fn()`` w.r.t. ``params`` (one HVP per coordinate).

    Args:
        loss_fn: closure returning a scalar loss that depends on ``params``.
        params: tensors with ``requires_grad``.

    Returns:
        A symmetric ``(n, n)`` tensor, ``n`` = total number of elements of ``params``.

    Example:
        >>> a = torch.tensor([1.0, 2.0], requires_grad=True)
        >>> exact_hessian(lambda: (a ** 2).sum(), [a])
        tensor([[2., 0.],
                [0., 2.]])
    """
    hvp = _grad_fn(loss_fn, params)
    n = sum(p.numel() for p in params)
    eye = torch.eye(n, dtype=params[0].dtype, device=params[0].device)
    return torch.stack([hvp(eye[i]) for i in range(n)])


def _power_iteration(
    hvp: Callable[[torch.Tensor], torch.Tensor],
    v: torch.Tensor,
    iters: int,
    tol: float,
    shift: float = 0.0,
) -> float:
    v = v / v.norm()
    value = 0.0
    for i in range(iters):
        hv = hvp(v) - shift * v
        new = float(v @ hv)
        norm = hv.norm()
        if float(norm) == 0.0:
            return shift
        v = hv / norm
        if i > 0 and abs(new - value) <= tol * max(abs(new), 1e-12):
            value = new
            break
        value = new
    return value + shift


def dominant_eigenvalue(
    loss_fn: Callable[[], torch.Tensor],
    params: Sequence[torch.Tensor],
    iters: int = 50,
    tol: float = 1e-4,
    seed: int = 0,
) -> float:
    """The largest eigenvalue of the Hessian of ``loss_fn()`` w.r.t. ``params``.

    Power iteration on Hessian-vector products finds the eigenvalue of largest
    magnitude; if that one is negative, a second run on ``H - lambda I`` finds the
    largest (the one RobustDARTS tracks).

    Args:
        loss_fn: closure returning a scalar loss.
        params: tensors with ``requires_grad``.
        iters: power-iteration steps per run.
        tol: relative change of the estimate at which to stop.
        seed: seeds the random start vector.

    Returns:
        The estimate of the largest eigenvalue.

    Example:
        >>> a = torch.tensor([1.0, 2.0], requires_grad=True)
        >>> round(dominant_eigenvalue(lambda: 3 * a[0] ** 2 + a[1] ** 2, [a]), 4)
        6.0
    """
    params = list(params)
    hvp = _grad_fn(loss_fn, params)
    gen = torch.Generator().manual_seed(seed)
    n = sum(p.numel() for p in params)
    start = torch.randn(n, generator=gen, dtype=torch.float64).to(params[0])
    value = _power_iteration(hvp, start, iters, tol)
    if value < 0:
        value = _power_iteration(hvp, start, iters, tol, shift=value)
    return value


def supernet_hessian_eigenvalue(
    supernet: Supernet,
    batches: Sequence[Batch],
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    iters: int = 20,
    tol: float = 1e-3,
    seed: int = 0,
) -> float:
    """Dominant eigenvalue of the validation-loss Hessian w.r.t. the supernet's alphas.

    The loss is the mean over ``batches`` in the relaxed forward (the softmax mixture
    of every op, whatever the method samples in training), in training mode as
    RobustDARTS does. BatchNorm running statistics are restored afterwards, so the
    measurement leaves the search exactly where it was.

    Args:
        supernet: a :class:`nasbench.models.supernet.Supernet`.
        batches: validation ``(x, y)`` batches (one is what RobustDARTS uses).
        loss_fn: ``loss_fn(logits, y) -> scalar``.
        iters: power-iteration steps.
        tol: relative tolerance of the estimate.
        seed: seeds the start vector.

    Returns:
        The largest eigenvalue.
    """
    params = [supernet.alpha(ct) for ct in supernet.cell_types]
    buffers = {k: b.detach().clone() for k, b in supernet.named_buffers()}

    def loss() -> torch.Tensor:
        total = sum(loss_fn(supernet(x), y) for x, y in batches)
        return total / len(batches)

    try:
        with supernet.forward_mode("relaxed"):
            return dominant_eigenvalue(loss, params, iters=iters, tol=tol, seed=seed)
    finally:
        with torch.no_grad():
            for k, b in supernet.named_buffers():
                b.copy_(buffers[k])


def should_stop_early(
    values: Sequence[float], window: int = COLLAPSE_WINDOW, factor: float = COLLAPSE_FACTOR
) -> bool:
    """RobustDARTS's rule on a sequence of eigenvalue measurements.

    Args:
        values: eigenvalues in measurement order.
        window: local-average window k.
        factor: stop when ``mean(values[-k:]) > factor * mean(values[-2k:-k])``.

    Returns:
        True when the rule fires (needs at least ``2 * window`` values).

    Example:
        >>> should_stop_early([1.0] * 5 + [2.0] * 5)
        True
        >>> should_stop_early([1.0] * 10)
        False
    """
    if len(values) < 2 * window:
        return False
    now = sum(values[-window:]) / window
    before = sum(values[-2 * window : -window]) / window
    # A growth factor needs a positive baseline (eigenvalues near a minimum are positive).
    return before > 0 and now > factor * before


@dataclass
class EigenvalueEarlyStop:
    """Stateful DARTS-ES watcher: feed it (epoch, eigenvalue); it says when to stop.

    Args:
        window: local-average window (RobustDARTS: 5).
        factor: growth factor that triggers the stop (RobustDARTS: 1.3).
        start_epoch: no stop before this epoch (RobustDARTS: 10).

    Example:
        >>> watch = EigenvalueEarlyStop()
        >>> [watch.update(e, 1.0 if e < 10 else 9.0) for e in range(11)][-2:]
        [False, True]
        >>> watch.stop_epoch
        5
    """

    window: int = COLLAPSE_WINDOW
    factor: float = COLLAPSE_FACTOR
    start_epoch: int = COLLAPSE_START_EPOCH
    epochs: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    stop_epoch: int | None = None

    def update(self, epoch: int, value: float) -> bool:
        """Record one measurement; True when the search should stop now.

        On the first stop, :attr:`stop_epoch` is set to the epoch ``window`` measurements
        back, whose architecture RobustDARTS returns; once stopped it stays stopped.
        """
        self.epochs.append(int(epoch))
        self.values.append(float(value))
        if self.stop_epoch is not None:
            return True
        if epoch < self.start_epoch or not should_stop_early(self.values, self.window, self.factor):
            return False
        self.stop_epoch = self.epochs[-1 - self.window]
        return True
