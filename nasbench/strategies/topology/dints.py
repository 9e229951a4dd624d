"""DiNTS (He et al., CVPR 2021) as MONAI's search tutorial steps it.

The weight step is the loop's (SGD on the network weights with the segmentation loss).
The architecture step (Adam on MONAI's ``log_alpha_a`` and ``log_alpha_c``) minimises
the validation segmentation loss plus, weighted by a factor rising linearly from 0 at
``warmup_epochs`` (MONAI's formula: ``(epoch - warmup) / (epochs - warmup)``, so
``(E - 1 - w) / (E - w)`` at the last of ``E`` epochs), the DiNTS regularisers:

- the entropies of the path probabilities (``get_prob_a``) and of the cell-op softmax,
  which push both towards a discrete choice;
- ``|ram_cost_factor - usage / full|``: MONAI's RAM estimate (``get_ram_cost_usage``)
  of the current probabilities against the all-paths network, which holds the searched
  network near a memory budget;
- ``topology_weight`` times the topology entropy (``get_topology_entropy``), which
  favours topologies whose blocks connect.

The genotype of an epoch is MONAI's ``decode()`` (the most probable feasible topology,
by Dijkstra, with the arg-max cell op on every path).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F

from nasbench.protocols import Supernet
from nasbench.strategies import register_strategy
from nasbench.strategies.differentiable.base import (
    AlphaRecord,
    Batch,
    DifferentiableMethod,
    LossFn,
    MethodConfig,
    option,
)


@dataclass
class DintsConfig(MethodConfig):
    """DiNTS hyperparameters: MONAI's search tutorial's architecture optimiser and
    regularisers. The tutorial trains the weights alone for half its epochs (715 of 1430);
    ``warmup_epochs`` is 0 here so that a short search moves its alphas at all; set it to
    about half the epochs to follow the tutorial."""

    arch_lr: float = option(1e-3, "Adam learning rate of log_alpha_a and log_alpha_c", above=0.0)
    arch_beta1: float = option(0.5, "Adam beta1 of the architecture optimizer", min=0.0, below=1.0)
    arch_weight_decay: float = option(
        0.0, "weight decay of the architecture weights", min=0.0, max=1.0
    )
    ram_cost_factor: float = option(
        0.8, "target memory, as a fraction of the all-paths network", min=0.0, max=1.0
    )
    topology_weight: float = option(1e-3, "weight of the topology entropy loss", min=0.0)
    warmup_epochs: int = option(0, "epochs of weight training before the alphas move", min=0)


@register_strategy("dints", DintsConfig, kind="topology")
class Dints(DifferentiableMethod):
    """DiNTS: differentiable topology and cell-op search with a memory budget (MONAI).

    Example:
        >>> from nasbench.strategies import create_strategy
        >>> method = create_strategy("dints", {"ram_cost_factor": 0.5})
    """

    name = "dints"
    arch_step_first = False  # weights, then alphas, as MONAI's DiNTS tutorial steps
    spaces: ClassVar[tuple[str, ...]] = ("dints",)

    def regulariser_weight(self) -> float:
        """MONAI's ``combination_weights``: 0 until the warm-up ends, then rising to 1."""
        warmup = self.config.warmup_epochs
        if self.epoch < warmup:
            return 0.0
        return (self.epoch - warmup) / max(self.total_epochs - warmup, 1)

    def arch_step(
        self,
        supernet: Supernet,
        train_batch: Batch,
        val_batch: Batch,
        loss_fn: LossFn,
        w_lr: float,
        w_optimizer: torch.optim.Optimizer,
    ) -> dict[str, float]:
        """One Adam step on ``log_alpha_a`` and ``log_alpha_c`` (module docstring)."""
        if self.epoch < self.config.warmup_epochs:
            return {}
        x, y = val_batch
        space = supernet.topology
        probs_a, _ = space.get_prob_a(child=True)
        entropy_a = -(probs_a * torch.log(probs_a + 1e-5)).mean()
        log_c = space.log_alpha_c
        entropy_c = -(F.softmax(log_c, dim=-1) * F.log_softmax(log_c, dim=-1)).mean()
        topology = space.get_topology_entropy(probs_a)
        full = space.get_ram_cost_usage(tuple(x.shape), full=True)
        usage = space.get_ram_cost_usage(tuple(x.shape))
        ram_loss = torch.abs(self.config.ram_cost_factor - usage / full)
        segmentation = loss_fn(supernet(x), y)
        regularisers = entropy_a + entropy_c + ram_loss + self.config.topology_weight * topology
        loss = segmentation + self.regulariser_weight() * regularisers
        params = self.arch_parameters(supernet)
        grads = torch.autograd.grad(loss, params, allow_unused=True)
        grads = [
            torch.zeros_like(p) if g is None else g for g, p in zip(grads, params, strict=True)
        ]
        metrics = self._apply(params, grads, float(segmentation.detach()))
        metrics.update(
            {
                "ram_cost_mb": float(usage.detach()),
                "ram_fraction": float((usage / full).detach()),
                "path_entropy": float(entropy_a.detach()),
                "op_entropy": float(entropy_c.detach()),
                "topology_entropy": float(topology.detach()),
            }
        )
        return metrics

    def alpha_records(self, supernet: Supernet) -> list[AlphaRecord]:
        """``topology``: path logits and MONAI's path probabilities per block;
        ``cell_ops``: op logits and their softmax per (block, path)."""
        space = supernet.topology
        topology, ops = supernet.group("topology"), supernet.group("cell_ops")
        raw_a = space.log_alpha_a.detach().float().cpu()
        prob_a = supernet.path_probabilities().detach().float().cpu()
        raw_c = space.log_alpha_c.detach().float().cpu().reshape(len(ops.edges), -1)
        return [
            AlphaRecord(
                "topology", "alpha", raw_a.numpy().copy(), prob_a.numpy(),
                topology.edge_names, topology.op_names,
            ),
            AlphaRecord(
                "cell_ops", "alpha", raw_c.numpy().copy(), F.softmax(raw_c, dim=-1).numpy(),
                ops.edge_names, ops.op_names,
            ),
        ]  # fmt: skip

    def op_weights(self, supernet: Supernet, cell_type: str) -> torch.Tensor:
        """Path probabilities (``topology``) or the op softmax (``cell_ops``)."""
        if cell_type == "topology":
            return supernet.path_probabilities().detach().float().cpu()
        raw = supernet.alpha("cell_ops").detach().float().cpu()
        return F.softmax(raw.reshape(-1, raw.shape[-1]), dim=-1)

    def derive_genotype(self, supernet: Supernet):
        """MONAI's ``decode()``."""
        return supernet.decode()
