"""Zero-cost proxies: score an untrained network from one mini-batch.

Each proxy follows its paper; higher is better for all of them.

- ``grad_norm`` (Abdelfattah et al., 2021): sum over conv/linear layers of the
  L2 norm of the loss gradient of the weight.
- ``snip`` (Lee et al., 2019, as a proxy in Abdelfattah et al.): sum over conv/linear
  weights of ``|w * dL/dw|``.
- ``synflow`` (Tanaka et al., 2020, as in Abdelfattah et al.): the network without
  batch norm, every parameter replaced by its absolute value, in float64; the
  loss is the sum of the output for an all-ones input of one image; the score is
  the sum over conv/linear weights of ``w * dR/dw``. Labels are not used.
- ``jacob_cov`` (Mellor et al., 2020 v1, as in Abdelfattah et al.): the input
  Jacobian of the summed logits per image, its correlation matrix ``C`` over the
  batch, and ``-sum(log(v + k) + 1 / (v + k))`` over the eigenvalues ``v`` of ``C``,
  ``k = 1e-5``.
- ``naswot`` (Mellor et al., 2021): binary ReLU activation codes ``c`` of each image
  at every ReLU, ``K = c c^T + (1 - c)(1 - c)^T`` summed over ReLUs, score
  ``log|det K|``.

Every proxy runs on a copy of the network in training mode (batch statistics, as
the reference code does), so the caller's model is untouched.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from nasbench.device import seeded
from nasbench.errors import ConfigError, closest_name
from nasbench.evaluation.base import Result
from nasbench.evaluation.registry import register_evaluator
from nasbench.options import MethodConfig, option
from nasbench.protocols import Genotype, Space

Batch = tuple[torch.Tensor, torch.Tensor]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
JACOB_K = 1e-5


def _weighted_layers(model: nn.Module) -> list[nn.Module]:
    conv_linear = (
        nn.Conv1d,
        nn.Conv2d,
        nn.Conv3d,
        nn.Linear,
        nn.ConvTranspose2d,
        nn.ConvTranspose3d,
    )
    return [m for m in model.modules() if isinstance(m, conv_linear)]


def _logits(out: Any) -> torch.Tensor:
    return out[0] if isinstance(out, tuple) else out


def _loss_grads(model: nn.Module, batch: Batch, loss_fn: LossFn) -> list[nn.Module]:
    x, y = batch
    model.zero_grad(set_to_none=True)
    loss_fn(_logits(model(x)), y).backward()
    return [m for m in _weighted_layers(model) if m.weight.grad is not None]


def grad_norm(model: nn.Module, batch: Batch, loss_fn: LossFn) -> float:
    """Sum of per-layer gradient L2 norms (Abdelfattah et al., 2021).

    Example:
        >>> grad_norm(net, (x, y), nn.CrossEntropyLoss())  # doctest: +SKIP
        12.3
    """
    layers = _loss_grads(model, batch, loss_fn)
    return float(sum(m.weight.grad.norm() for m in layers))


def snip(model: nn.Module, batch: Batch, loss_fn: LossFn) -> float:
    """Sum of ``|w * dL/dw|`` over conv/linear weights (SNIP saliency)."""
    layers = _loss_grads(model, batch, loss_fn)
    return float(sum((m.weight.detach() * m.weight.grad).abs().sum() for m in layers))


def synflow(model: nn.Module, batch: Batch, loss_fn: LossFn) -> float:
    """Synaptic flow of the BN-free, all-positive network on an all-ones input."""
    x, _ = batch
    net = copy.deepcopy(model).double()
    for name, module in list(net.named_modules()):
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            _replace(net, name, nn.Identity())
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    net.zero_grad(set_to_none=True)
    ones = torch.ones((1, *x.shape[1:]), dtype=torch.float64, device=x.device)
    _logits(net(ones)).sum().backward()
    layers = [m for m in _weighted_layers(net) if m.weight.grad is not None]
    return float(sum((m.weight.detach() * m.weight.grad).sum() for m in layers))


def _replace(root: nn.Module, dotted: str, new: nn.Module) -> None:
    parent_name, _, child = dotted.rpartition(".")
    parent = root.get_submodule(parent_name) if parent_name else root
    setattr(parent, child, new)


def jacob_cov(model: nn.Module, batch: Batch, loss_fn: LossFn) -> float:
    """Correlation of input Jacobians over the batch (Mellor et al., v1).

    Where the reference gives NaN (a Jacobian that is the same for every image, e.g. a
    network that ignores its input: ``np.corrcoef`` divides by a zero spread), the
    undefined correlations count as 0 here, so such a network scores lowest rather than
    dropping out of a ranking.
    """
    x, _ = batch
    x = x.clone().requires_grad_(True)
    model.zero_grad(set_to_none=True)
    out = _logits(model(x))
    out.backward(torch.ones_like(out))
    jac = x.grad.detach().reshape(len(x), -1).double().cpu().numpy()
    corr = np.corrcoef(jac)
    corr = np.nan_to_num(corr, nan=0.0)
    v = np.linalg.eigvalsh((corr + corr.T) / 2)
    v = np.clip(v, 0.0, None)
    return float(-np.sum(np.log(v + JACOB_K) + 1.0 / (v + JACOB_K)))


def naswot(model: nn.Module, batch: Batch, loss_fn: LossFn) -> float:
    """``log|det K|`` of the ReLU-code kernel (Mellor et al., 2021)."""
    x, _ = batch
    n = len(x)
    kernel = torch.zeros((n, n), dtype=torch.float64)

    def hook(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
        codes = (inputs[0].detach().reshape(n, -1) > 0).double().cpu()
        kernel.add_(codes @ codes.T + (1.0 - codes) @ (1.0 - codes).T)

    handles = [m.register_forward_pre_hook(hook) for m in model.modules() if isinstance(m, nn.ReLU)]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    if not handles:
        raise ConfigError("naswot needs a network with nn.ReLU modules; this one has none.")
    return float(torch.linalg.slogdet(kernel)[1])


PROXIES: dict[str, Callable[[nn.Module, Batch, LossFn], float]] = {
    "grad_norm": grad_norm,
    "snip": snip,
    "synflow": synflow,
    "jacob_cov": jacob_cov,
    "naswot": naswot,
}


def compute_proxy(name: str, model: nn.Module, batch: Batch, loss_fn: LossFn) -> float:
    """Score an untrained network with a zero-cost proxy (on a copy; ``model`` is untouched).

    Args:
        name: one of :data:`PROXIES`.
        model: the network at initialisation.
        batch: ``(images, targets)``, one mini-batch.
        loss_fn: the task loss (grad_norm and snip use it).

    Returns:
        The proxy score (higher is better).

    Example:
        >>> compute_proxy("naswot", net, (x, y), nn.CrossEntropyLoss())  # doctest: +SKIP
    """
    if name not in PROXIES:
        names = list(PROXIES)
        raise ConfigError(
            f"unknown proxy {name!r}; choose one of {', '.join(names)}.{closest_name(name, names)}"
        )
    net = copy.deepcopy(model)
    net.train()
    with seeded(0):
        # Drop-path or dropout inside a network must not make a proxy depend on the global RNG.
        return PROXIES[name](net, batch, loss_fn)


def seeded_batch(dataset: Any, batch_size: int, seed: int) -> Batch:
    """One mini-batch drawn without replacement by a seeded generator.

    Example:
        >>> x, y = seeded_batch(ds, 16, seed=0)  # doctest: +SKIP
    """
    gen = torch.Generator().manual_seed(int(seed))
    n = min(int(batch_size), len(dataset))
    picks = torch.randperm(len(dataset), generator=gen)[:n].tolist()
    items = [dataset[i] for i in picks]
    x = torch.stack([torch.as_tensor(a) for a, _ in items])
    y = torch.stack([torch.as_tensor(b) for _, b in items])
    return x, y


@dataclass
class ProxyConfig(MethodConfig):
    """Settings of the zero-cost proxy evaluator."""

    proxy: str = option("naswot", "which proxy", choices=tuple(PROXIES))
    batch_size: int = option(32, "images in the one mini-batch", min=2)
    size: int = option(28, "image edge length", min=1)
    limit: int | None = option(256, "stratified cap on the training images read")
    skeleton: dict | None = option(None, "macro skeleton override (Skeleton.to_dict())")


@register_evaluator("proxy", ProxyConfig)
class ProxyEvaluator:
    """Score candidates at initialisation with a zero-cost proxy (no training).

    Args:
        config: a :class:`ProxyConfig`.
        space: the search space (builds the networks).
        dataset: a dataset name or DatasetConfig-like object (default ``"synthetic"``).
        seed: seeds the weights and the mini-batch; same seed, same score.

    Example:
        >>> ev = ProxyEvaluator(ProxyConfig(proxy="synflow"), space=space)  # doctest: +SKIP
        >>> ev.evaluate(g).metrics["synflow"]  # doctest: +SKIP
    """

    def __init__(
        self,
        config: ProxyConfig | None = None,
        *,
        space: Space = None,
        dataset: Any = None,
        seed: int = 0,
    ) -> None:
        from nasbench.evaluation.train_evaluator import data_spec, require_space

        self.config = config or ProxyConfig()
        self.config.validate()
        self.space = require_space(space, "proxy")
        self.data = data_spec(dataset, self.config.size, self.config.limit)
        self.seed = int(seed)
        self._batch: tuple | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_batch": None}

    @staticmethod
    def check_data(info: Any) -> None:
        """Raise a one-line ConfigError unless ``info`` is a classification set: the proxies
        score a classifier's loss at initialisation."""
        from nasbench.evaluation.metrics import CLASSIFICATION_TASKS

        if info.task not in CLASSIFICATION_TASKS:
            raise ConfigError(
                f"the 'proxy' evaluator scores classifiers; dataset {info.name} is a "
                f"{info.task} set, so use the 'train' evaluator."
            )

    def batch(self) -> tuple[Batch, Any]:
        """The seeded mini-batch and the dataset info, loaded once."""
        if self._batch is None:
            from nasbench.data import load

            d = self.data
            ds = load(
                d.name,
                "train",
                root=d.root,
                size=d.size,
                download=d.download,
                limit=d.limit,
                seed=self.seed,
            )
            self._batch = (seeded_batch(ds, self.config.batch_size, self.seed), ds.info)
        return self._batch

    def evaluate(self, genotype: Genotype, budget: float | None = None) -> Result:
        """Build ``genotype`` at initialisation (seeded) and score it; ``budget`` is ignored.

        Returns:
            A Result: ``score`` and ``<proxy name>``; cost ``params``, ``wall_s``, ``epochs=0``.
        """
        from nasbench.evaluation.metrics import loss_for_task
        from nasbench.evaluation.train_evaluator import skeleton_for
        from nasbench.models import build, count_parameters

        start = time.perf_counter()
        g = self.space.validate(genotype)
        (x, y), info = self.batch()
        model = build(g, skeleton_for(self.space, info, self.config.skeleton), seed=self.seed)
        target = y.float() if info.task == "multi-label" else y.long().view(-1)
        value = compute_proxy(self.config.proxy, model, (x, target), loss_for_task(info.task))
        metrics = {"score": value, self.config.proxy: value}
        cost = {
            "params": float(count_parameters(model)),
            "wall_s": time.perf_counter() - start,
            "epochs": 0.0,
        }
        return Result(metrics, cost, {"evaluator": "proxy", "proxy": self.config.proxy})
