"""The task learner and the meta-update: a few DARTS steps on a task's support set, then
Reptile or first-order MAML over a batch of tasks.

Inner loop (one task, METANAS's DARTS task learner)::

    w     <- w     - inner_lr      * dL_support/dw
    alpha <- alpha - inner_arch_lr * dL_support/dalpha      (when alphas are learned)

Meta-update over tasks ``i`` from the meta-parameters ``phi`` (weights and alphas)::

    reptile: phi <- phi + eps * mean_i(phi_i - phi)         phi_i: adapted to task i
    fomaml:  phi <- phi - eps * mean_i(dL_query_i/dphi at phi_i)

with separate ``eps`` for weights and alphas. Both are first-order: no gradient flows
through the inner loop, so a meta-step costs the inner steps and one more backward pass.

The network runs in training mode throughout (batch statistics, as MAML does), and the
buffers (BatchNorm running statistics) are restored after every task, so a task leaves
no trace but the meta-update.
"""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from nasbench.data.fewshot import Episode
from nasbench.errors import ConfigError
from nasbench.strategies.meta.config import ALGORITHMS, ARCH_OPTIMIZERS
from nasbench.strategies.meta.relaxation import set_temperature, task_temperature


@dataclass(frozen=True)
class Curve:
    """Query accuracy and loss after 0, 1, ... adaptation steps of one task."""

    query_acc: tuple[float, ...]
    query_loss: tuple[float, ...]


def parameter_groups(net: nn.Module) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """``(weights, alphas)`` of a supernet (anything with ``weight_parameters`` and
    ``arch_parameters``; a plain module has weights only)."""
    if hasattr(net, "arch_parameters"):
        return list(net.weight_parameters()), list(net.arch_parameters())
    return list(net.parameters()), []


@torch.no_grad()
def query_scores(net: nn.Module, episode: Episode) -> tuple[float, float]:
    """``(accuracy, cross-entropy)`` of ``net`` on the episode's query set."""
    logits = net(episode.query_images)
    loss = F.cross_entropy(logits, episode.query_labels)
    acc = (logits.argmax(dim=1) == episode.query_labels).float().mean()
    return float(acc), float(loss)


def adapt(
    net: nn.Module,
    episode: Episode,
    steps: int,
    lr: float,
    arch_lr: float = 0.0,
    learn_alphas: bool = True,
    record: bool = False,
    arch_optimizer: str = "sgd",
    temperature_min: float | None = None,
) -> Curve | None:
    """Adapt ``net`` in place to one task by ``steps`` SGD steps on its support set.

    Args:
        net: the task learner (a supernet, or any module).
        episode: the task.
        steps: inner steps.
        lr: the weights' learning rate.
        arch_lr: the alphas' learning rate.
        learn_alphas: step the alphas too (METANAS); False keeps the architecture fixed.
        record: score the query set before and after every step.
        arch_optimizer: ``"sgd"``, or ``"adam"`` for the alphas (METANAS's task learner:
            fresh moments per task, betas 0.5 and 0.999, so each step moves an alpha by
            about ``arch_lr`` whatever the gradient's scale).
        temperature_min: anneal a METANAS learner's softmax temperature from 1 to this
            over the steps (restarting at 1 for this task, as METANAS's code) when the
            alphas adapt; at 1 throughout when they do not. None: leave it as it is.

    Returns:
        The :class:`Curve` (``steps + 1`` points) when ``record``, else None.

    Example:
        >>> curve = adapt(net, episode, 5, 0.05, 0.5, record=True)  # doctest: +SKIP
        >>> len(curve.query_acc)  # doctest: +SKIP
        6
    """
    _check_inner(steps, lr, arch_lr, arch_optimizer)
    weights, alphas = parameter_groups(net)
    params = weights + (alphas if learn_alphas else [])
    rates = [lr] * len(weights) + [arch_lr] * (len(params) - len(weights))
    adam = _Adam(params[len(weights) :], arch_lr) if arch_optimizer == "adam" else None
    net.train()
    anneal = temperature_min is not None and learn_alphas and arch_lr > 0
    if temperature_min is not None:
        set_temperature(net, 1.0)  # the task starts mixed, whatever the last one ended at
    points = [query_scores(net, episode)] if record else []
    for step in range(steps):
        if anneal:
            set_temperature(net, task_temperature(step, steps, temperature_min))
        loss = F.cross_entropy(net(episode.support_images), episode.support_labels)
        grads = torch.autograd.grad(loss, params, allow_unused=True)
        with torch.no_grad():
            for i, (p, g, rate) in enumerate(zip(params, grads, rates, strict=True)):
                if g is None:
                    continue
                if adam is not None and i >= len(weights):
                    adam.step(i - len(weights), p, g)
                else:
                    p.sub_(rate * g)
        if record:
            points.append(query_scores(net, episode))
    if not record:
        return None
    return Curve(tuple(a for a, _ in points), tuple(loss for _, loss in points))


class _Adam:
    """Adam on a list of tensors, stepped one tensor at a time (betas 0.5, 0.999, as the
    DARTS and METANAS alpha optimizers)."""

    def __init__(self, params: Sequence[torch.Tensor], lr: float) -> None:
        self.lr, self.beta1, self.beta2, self.eps = lr, 0.5, 0.999, 1e-8
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]
        self.t = [0] * len(self.m)

    def step(self, i: int, p: torch.Tensor, g: torch.Tensor) -> None:
        self.t[i] += 1
        self.m[i].mul_(self.beta1).add_(g, alpha=1 - self.beta1)
        self.v[i].mul_(self.beta2).addcmul_(g, g, value=1 - self.beta2)
        m_hat = self.m[i] / (1 - self.beta1 ** self.t[i])
        v_hat = self.v[i] / (1 - self.beta2 ** self.t[i])
        p.sub_(self.lr * m_hat / (v_hat.sqrt() + self.eps))


def query_gradients(net: nn.Module, episode: Episode, params: Sequence[torch.Tensor]):
    """The query loss's gradient w.r.t. ``params`` (zeros where unused)."""
    loss = F.cross_entropy(net(episode.query_images), episode.query_labels)
    grads = torch.autograd.grad(loss, list(params), allow_unused=True)
    return [
        torch.zeros_like(p) if g is None else g.detach() for p, g in zip(params, grads, strict=True)
    ]


def meta_step(
    net: nn.Module,
    episodes: Sequence[Episode],
    *,
    algorithm: str,
    inner_steps: int,
    inner_lr: float,
    inner_arch_lr: float,
    meta_lr: float,
    meta_arch_lr: float,
    learn_alphas: bool = True,
    arch_optimizer: str = "sgd",
    temperature_min: float | None = None,
) -> dict[str, float]:
    """One meta-update of ``net`` (weights and, with ``learn_alphas``, alphas) over tasks.

    Args:
        net: the meta-learner's network; its parameters are the meta-parameters ``phi``.
        episodes: the tasks of this meta-batch.
        algorithm: ``"reptile"`` or ``"fomaml"``.
        inner_steps, inner_lr, inner_arch_lr: the task learner (:func:`adapt`).
        meta_lr, meta_arch_lr: ``eps`` of the weights and of the alphas.
        learn_alphas: meta-learn the alphas (METANAS) or keep them fixed (the baseline).
        arch_optimizer: the task learner's alpha optimizer (:func:`adapt`).
        temperature_min: the task learner's temperature schedule (:func:`adapt`).

    Returns:
        ``query_acc`` and ``query_loss``: the mean over the tasks after adaptation.

    Example:
        >>> meta_step(net, [episode], algorithm="reptile", inner_steps=5, inner_lr=0.05,
        ...           inner_arch_lr=0.5, meta_lr=1.0, meta_arch_lr=1.0)  # doctest: +SKIP
        {'query_acc': 0.7, 'query_loss': 0.61}
    """
    if algorithm not in ALGORITHMS:
        raise ConfigError(
            f"algorithm {algorithm!r} is unknown; pass one of {', '.join(ALGORITHMS)}."
        )
    episodes = list(episodes)
    if not episodes:
        raise ConfigError("meta_step needs at least one episode (task) in its meta-batch.")
    _check_inner(inner_steps, inner_lr, inner_arch_lr, arch_optimizer)
    for name, value in (("meta_lr", meta_lr), ("meta_arch_lr", meta_arch_lr)):
        _check_rate(name, value)
    weights, alphas = parameter_groups(net)
    params = weights + (alphas if learn_alphas else [])
    rates = [meta_lr] * len(weights) + [meta_arch_lr] * (len(params) - len(weights))
    initial = [p.detach().clone() for p in params]
    buffers = [b.detach().clone() for b in net.buffers()]
    direction = [torch.zeros_like(p) for p in params]
    acc = loss = 0.0
    for episode in episodes:
        adapt(
            net, episode, inner_steps, inner_lr, inner_arch_lr, learn_alphas,
            arch_optimizer=arch_optimizer, temperature_min=temperature_min,
        )  # fmt: skip
        if algorithm == "reptile":
            moved = [p.detach() - p0 for p, p0 in zip(params, initial, strict=True)]
        else:
            moved = [-g for g in query_gradients(net, episode, params)]
        task_acc, task_loss = query_scores(net, episode)
        acc, loss = acc + task_acc, loss + task_loss
        for d, m in zip(direction, moved, strict=True):
            d.add_(m)
        _restore(net, params, initial, buffers)
    with torch.no_grad():
        for p, d, rate in zip(params, direction, rates, strict=True):
            p.add_(d, alpha=rate / len(episodes))
    return {"query_acc": acc / len(episodes), "query_loss": loss / len(episodes)}


# Rates beyond this are a typo (or a percent), never a learning rate.
MAX_RATE = 1e6


def _check_rate(name: str, value: float) -> None:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = float(value)  # a 0-d tensor rate is a number too
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < MAX_RATE:
        raise ConfigError(f"{name} must be a number in [0, {MAX_RATE:g}), got {value!r}.")


def _check_inner(steps: int, lr: float, arch_lr: float, arch_optimizer: str) -> None:
    """The task learner's settings, checked before any weight moves (one-line errors)."""
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ConfigError(f"inner steps must be a whole number >= 0, got {steps!r}.")
    _check_rate("lr (inner_lr)", lr)
    _check_rate("arch_lr (inner_arch_lr)", arch_lr)
    if arch_optimizer not in ARCH_OPTIMIZERS:
        raise ConfigError(
            f"arch_optimizer {arch_optimizer!r} is unknown; pass one of "
            f"{', '.join(ARCH_OPTIMIZERS)}."
        )


@contextlib.contextmanager
def trial(net: nn.Module) -> Iterator[nn.Module]:
    """Adapt ``net`` inside the block; its parameters and buffers come back afterwards.

    Example:
        >>> with trial(net):  # doctest: +SKIP
        ...     curve = adapt(net, episode, 10, 0.05, record=True)
    """
    params = list(net.parameters())
    initial = [p.detach().clone() for p in params]
    buffers = [b.detach().clone() for b in net.buffers()]
    try:
        yield net
    finally:
        _restore(net, params, initial, buffers)


def _restore(net: nn.Module, params, initial, buffers) -> None:
    with torch.no_grad():
        for p, p0 in zip(params, initial, strict=True):
            p.copy_(p0)
        for b, b0 in zip(net.buffers(), buffers, strict=True):
            b.copy_(b0)


def pooled_step(
    net: nn.Module,
    episode: Episode,
    steps: int,
    lr: float,
    arch_lr: float,
) -> dict[str, float]:
    """DARTS on the pooled tasks (the no-meta-learning baseline): ``steps`` first-order
    DARTS steps, alphas on the query set and weights on the support set, kept (no reset).

    Returns:
        ``query_acc`` and ``query_loss`` after the steps.
    """
    weights, alphas = parameter_groups(net)
    net.train()
    for _ in range(steps):
        if alphas:
            loss = F.cross_entropy(net(episode.query_images), episode.query_labels)
            grads = torch.autograd.grad(loss, alphas, allow_unused=True)
            with torch.no_grad():
                for a, g in zip(alphas, grads, strict=True):
                    if g is not None:
                        a.sub_(arch_lr * g)
        loss = F.cross_entropy(net(episode.support_images), episode.support_labels)
        grads = torch.autograd.grad(loss, weights, allow_unused=True)
        with torch.no_grad():
            for w, g in zip(weights, grads, strict=True):
                if g is not None:
                    w.sub_(lr * g)
    acc, loss = query_scores(net, episode)
    return {"query_acc": acc, "query_loss": loss}
