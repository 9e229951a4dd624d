"""ENAS: an LSTM controller that samples cells, with weights shared by every sample
(Pham et al., 2018, "Efficient Neural Architecture Search via Parameter Sharing").

The shared weights are the differentiable issue's supernet
(:func:`nasbench.models.supernet.build_supernet`) of a DARTS cell space, driven by
:class:`EnasMethod`: each forward runs *one path*, the sampled cell: on every edge the
sampled genotype keeps, only its op runs; edges it does not keep are skipped. The
controller is NAS-RL's (:class:`~nasbench.strategies.discrete.reinforce.Controller`
over :mod:`.decisions`), and :class:`Enas` *is* a
:class:`~nasbench.strategies.discrete.reinforce.Reinforce` strategy whose rewards come
from the shared weights instead of training each child. Training alternates:

1. shared weights: ``shared_steps`` SGD steps on training batches, each with a freshly
   sampled cell;
2. controller: ``controller_steps`` ask/tell rounds; a reward is the accuracy of the
   sampled cell, with the shared weights, on one validation batch; REINFORCE with a
   moving-average baseline updates the controller.

How it fits the ask/tell loop. ``ask()`` returns a genotype of the cell space (the
sampled cell); ``strategy.bind(train_ds, val_ds, task)`` returns an
:class:`EnasEvaluator` that scores it with the shared weights and, whenever a
controller phase begins, first runs the shared-weight phase. Run it as
``run_discrete(enas, enas.bind(...), budget, cache="none")`` with the sequential
executor (the shared weights live in this process, and a cached reward would be one
from older weights).

Once a shared-weight phase leaves the weights NaN or infinite (a ``shared_lr`` far too
high), every later reward would fail on them: the candidate in flight is recorded as
failed with the reason, and the next ``ask()`` ends the search with the same one-line
:class:`~nasbench.errors.DivergenceError`, as a differentiable search ends.

Example:
    >>> enas = Enas(EnasConfig(), CellSpace(n_nodes=2), seed=0)  # doctest: +SKIP
    >>> evaluator = enas.bind(train_ds, val_ds, "binary")  # doctest: +SKIP
    >>> budget = Budget(max_evaluations=50)  # doctest: +SKIP
    >>> out = run_discrete(enas, evaluator, budget, cache="none")  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from nasbench.errors import ConfigError, DivergenceError
from nasbench.evaluation.base import Result
from nasbench.protocols import Genotype, Space
from nasbench.strategies import register_strategy
from nasbench.strategies.differentiable.base import (
    DifferentiableMethod,
    EdgePlan,
    MethodConfig,
    MixedEdge,
    stepped_parameters,
)
from nasbench.strategies.discrete.base import option
from nasbench.strategies.discrete.reinforce import Reinforce, ReinforceConfig

# Keeps ENAS's batch streams apart from the search's (0, 1) and train_model's (2).
TRAIN_STREAM, VAL_STREAM = 3, 4


class SinglePathEdge(MixedEdge):
    """A mixed edge that runs one op, or nothing when its cell does not keep the edge."""

    def forward(self, x: torch.Tensor, plan: EdgePlan | None = None) -> torch.Tensor | float:
        # A skipped edge adds 0 to its node: no op runs, no graph is kept.
        return 0.0 if plan is None else super().forward(x, plan)


@dataclass
class EnasMethodConfig(MethodConfig):
    """ENAS's supernet method has no architecture tensors to step; nothing to set."""


class EnasMethod(DifferentiableMethod):
    """Drives a supernet along one sampled cell: one op per kept edge, nothing elsewhere.

    Set :attr:`genotype` (a DARTS-cell ``Genotype``) before a forward pass.

    Example:
        >>> method = EnasMethod(EnasMethodConfig())
        >>> net = build_supernet(space, method, seed=0)  # doctest: +SKIP
        >>> method.genotype = space.sample(rng); logits = net(x)  # doctest: +SKIP
    """

    name = "enas"

    def __init__(self, config: EnasMethodConfig | None = None, seed: int = 0) -> None:
        super().__init__(config or EnasMethodConfig(), seed)
        self.genotype: Genotype = None

    def make_edge(
        self, spatial_dims: int, C: int, stride: int, op_names: Sequence[str]
    ) -> nn.Module:
        """A :class:`SinglePathEdge` holding every candidate op."""
        return SinglePathEdge(spatial_dims, C, stride, op_names)

    def setup(self, supernet: nn.Module) -> None:
        """No architecture optimizer: the controller is trained outside the supernet."""

    def edge_plans(self, supernet: nn.Module, cell_type: str, mode: str) -> list[Any]:
        """Per edge: the sampled op with weight 1, or None for an edge the cell drops."""
        if self.genotype is None:
            raise ConfigError("set EnasMethod.genotype to a sampled cell before a forward pass.")
        pairs, _ = self.genotype.cell(cell_type)
        per_node = self.genotype.inputs_per_node
        chosen = {
            (k // per_node, idx): supernet.op_names.index(op) for k, (op, idx) in enumerate(pairs)
        }
        ones = torch.ones(len(supernet.op_names), device=supernet.classifier.weight.device)
        return [
            EdgePlan(ones, (chosen[edge],)) if edge in chosen else None for edge in supernet.edges
        ]

    def derive_genotype(self, supernet: nn.Module):
        """The cell the supernet runs now."""
        return self.genotype

    def alpha_records(self, supernet: nn.Module) -> list:
        """ENAS keeps its architecture distribution in the controller, not in alphas."""
        return []


@dataclass
class EnasConfig(ReinforceConfig):
    """ENAS settings: the controller's (as REINFORCE) plus the shared weights' training."""

    controller_steps: int = option(10, "ask/tell rounds (controller samples) per phase", min=1)
    shared_steps: int = option(20, "shared-weight SGD steps before each controller phase", min=0)
    shared_lr: float = option(0.05, "SGD learning rate of the shared weights", min=0.0)
    shared_momentum: float = option(0.9, "SGD momentum of the shared weights", 0, below=1)
    shared_weight_decay: float = option(3e-4, "weight decay of the shared weights", min=0.0)
    grad_clip: float = option(5.0, "gradient-norm clip of the shared weights (0: off)", min=0)
    data_batch_size: int = option(64, "images per shared step and per reward batch", min=1)
    n_cells: int = option(0, "cells of the shared network (0: the space's skeleton)", min=0)
    channels: int = option(0, "initial channels of the shared network (0: the skeleton's)", min=0)

    def check_space(self, space: Any) -> None:
        """ENAS shares the weights of a DARTS cell supernet: other spaces have none."""
        from nasbench.spaces import CellSpace

        if not isinstance(space, CellSpace):
            raise ConfigError(
                f"ENAS shares the weights of a DARTS cell supernet; the "
                f"{getattr(space, 'name', type(space).__name__)!r} space has none; use 'darts'."
            )


@register_strategy("enas", EnasConfig, kind="discrete")
class Enas(Reinforce):
    """ENAS: an LSTM controller samples cells; every sample runs on shared supernet weights.

    Args:
        config: an :class:`EnasConfig`.
        space: a DARTS cell space (``CellSpace``), whose op list includes every op the
            shared network holds.
        seed: seeds the controller, the shared weights and the batch order.

    Attributes:
        supernet: the shared weights (a ``Supernet`` driven by :class:`EnasMethod`).
        method: its :class:`EnasMethod`.
        diverged: why the shared weights stopped being finite, or None; set by the
            evaluator, it makes every later :meth:`ask` raise it.
    """

    name = "enas"

    def __init__(self, config: EnasConfig, space: Space, seed: int = 0) -> None:
        from nasbench.models.supernet import build_supernet
        from nasbench.spaces import CellSpace

        if not isinstance(space, CellSpace):
            raise ConfigError(
                f"ENAS shares the weights of a DARTS cell supernet; the "
                f"{getattr(space, 'name', type(space).__name__)!r} space has none; use 'darts'."
            )
        super().__init__(config, space, seed)
        skeleton = space.skeleton
        changes = {
            k: v for k, v in (("n_cells", config.n_cells), ("channels", config.channels)) if v
        }
        if changes:
            skeleton = type(skeleton).from_dict({**skeleton.to_dict(), **changes})
        self.method = EnasMethod(seed=self.seed)
        self.supernet = build_supernet(space, self.method, skeleton=skeleton, seed=self.seed)
        self.shared_optimizer = torch.optim.SGD(
            self.supernet.weight_parameters(),
            lr=config.shared_lr,
            momentum=config.shared_momentum,
            weight_decay=config.shared_weight_decay,
        )
        self.diverged: str | None = None

    def ask(self) -> Any:
        """The next cell from the controller.

        Raises:
            DivergenceError: the shared weights diverged (:attr:`diverged`): every later
                reward would fail on them, so the search ends instead of spending its budget.

        Example:
            >>> genotype = Enas(EnasConfig(), CellSpace(n_nodes=2)).ask()  # doctest: +SKIP
        """
        if self.diverged is not None:
            raise DivergenceError(self.diverged)
        return super().ask()

    def sample(self) -> Any:
        """A cell sampled from the controller, without counting it as an ask."""
        return self._propose()

    def phases_due(self) -> int:
        """Shared-weight phases that must be done before the next reward is measured."""
        return 1 + self.told // self.config.controller_steps

    def bind(
        self,
        train_ds: Dataset,
        val_ds: Dataset,
        task: str,
        device: str = "auto",
        augment: bool = False,
    ) -> EnasEvaluator:
        """The evaluator that trains the shared weights and measures rewards on this data.

        Args:
            train_ds: images for the shared weights.
            val_ds: images the rewards are measured on.
            task: the dataset's task.
            device: "auto", "cpu" or "cuda".
            augment: augment the shared-weight batches (drawn per batch from the seed).

        Returns:
            An :class:`EnasEvaluator`.
        """
        return EnasEvaluator(self, train_ds, val_ds, task, device, augment)

    def state_dict(self) -> dict[str, Any]:
        """The controller's state plus the shared weights and their optimizer."""
        return {
            **super().state_dict(),
            "supernet": self.supernet.state_dict(),
            "shared_optimizer": self.shared_optimizer.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output."""
        super().load_state_dict(state)
        self.supernet.load_state_dict(state["supernet"])
        self.shared_optimizer.load_state_dict(state["shared_optimizer"])


class EnasEvaluator:
    """Scores ENAS samples with the shared weights; trains them between controller phases.

    Args:
        strategy: the :class:`Enas` strategy owning the supernet and controller.
        train_ds: images for the shared-weight steps.
        val_ds: images for the rewards (one batch per reward).
        task: the dataset's task.
        device: "auto", "cpu" or "cuda".
        augment: augment the shared-weight batches (:func:`batch_augment_for`).

    Example:
        >>> r = enas.bind(train_ds, val_ds, "binary").evaluate(enas.ask())  # doctest: +SKIP
    """

    def __init__(
        self,
        strategy: Enas,
        train_ds: Dataset,
        val_ds: Dataset,
        task: str,
        device: str = "auto",
        augment: bool = False,
    ) -> None:
        from nasbench.data.batches import EpochBatches
        from nasbench.data.transforms import batch_augment_for
        from nasbench.device import resolve_device
        from nasbench.evaluation.metrics import loss_for_task

        for label, ds in (("train", train_ds), ("val", val_ds)):
            if len(ds) == 0:
                raise ConfigError(f"the ENAS {label} split is empty; give it at least one image.")
        self.strategy = strategy
        self.task = task
        self.loss_fn = loss_for_task(task)
        self.device = resolve_device(device)
        size = strategy.config.data_batch_size
        self.train_batches = EpochBatches(
            train_ds, size, strategy.seed, stream=TRAIN_STREAM,
            augment=batch_augment_for(task) if augment else None,
        )  # fmt: skip
        self.val_batches = EpochBatches(val_ds, size, strategy.seed, stream=VAL_STREAM)
        self.train_step = 0
        self.val_step = 0
        self.phases = 0
        strategy.supernet.to(self.device)

    def _next(self, batches: Any, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = batches.batch(step // len(batches), step % len(batches))
        y = y.float() if self.task == "multi-label" else y.long().view(-1)
        return x.to(self.device), y.to(self.device)

    def shared_step(self, genotype: Genotype) -> float:
        """One SGD step of the shared weights along ``genotype`` on the next training batch.

        Returns:
            The training loss.
        """
        s = self.strategy
        x, y = self._next(self.train_batches, self.train_step)
        self.train_step += 1
        s.supernet.train()
        s.method.genotype = genotype
        loss = self.loss_fn(s.supernet(x), y)
        s.shared_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if s.config.grad_clip > 0:
            nn.utils.clip_grad_norm_(stepped_parameters(s.shared_optimizer), s.config.grad_clip)
        s.shared_optimizer.step()
        return float(loss.detach())

    def train_shared(self) -> float:
        """One shared-weight phase: ``shared_steps`` steps, each on a fresh controller sample.

        Returns:
            The mean training loss of the phase (NaN when ``shared_steps`` is 0).
        """
        s = self.strategy
        losses = [self.shared_step(s.sample()) for _ in range(s.config.shared_steps)]
        self.phases += 1
        return sum(losses) / len(losses) if losses else float("nan")

    def _require_finite(self, loss: float) -> None:
        """Fail this candidate, and (through :meth:`Enas.ask`) the search, when the phase
        just run left a shared weight NaN or infinite: every later reward would fail too."""
        s = self.strategy
        params = list(s.supernet.weight_parameters())
        # One read (one GPU sync) for every tensor, once a phase.
        if not params or bool(torch.stack([torch.isfinite(p).all() for p in params]).all()):
            return
        cfg = s.config
        clip = "" if cfg.grad_clip else " or turn grad_clip back on (e.g. 5)"
        s.diverged = (
            f"the ENAS shared weights diverged in shared-weight phase {self.phases} (shared "
            f"step {self.train_step}, before candidate {s.told}): they are no longer finite "
            f"(the phase's mean loss is {loss:.4g}), so every later candidate would fail; "
            f"lower strategy_config shared_lr (now {cfg.shared_lr:g}){clip}, and start a "
            "new search."
        )
        raise DivergenceError(s.diverged)

    @torch.no_grad()
    def reward(self, genotype: Genotype) -> dict[str, float]:
        """Accuracy and loss of ``genotype`` with the shared weights on the next val batch."""
        from nasbench.evaluation.metrics import classification_metrics

        s = self.strategy
        x, y = self._next(self.val_batches, self.val_step)
        self.val_step += 1
        # Batch statistics, as during shared training: running BN statistics mix many cells.
        s.supernet.train()
        s.method.genotype = genotype
        logits = s.supernet(x)
        metrics = classification_metrics(logits, y, self.task)
        return {"acc": float(metrics["acc"]), "loss": float(self.loss_fn(logits, y))}

    def evaluate(self, genotype: Genotype, budget: float | None = None) -> Result:
        """Run any due shared-weight phase, then score ``genotype`` on one val batch.

        Args:
            genotype: a cell of the strategy's space.
            budget: ignored (a reward is one batch).

        Returns:
            A Result: ``score`` = ``val_acc`` (one batch), ``val_loss``; cost ``wall_s``;
            info ``shared_phase`` and, after a phase, its ``shared_loss``.

        Raises:
            DivergenceError: the phase left the shared weights NaN or infinite (the loop
                records this candidate as failed; the next ask ends the search).
        """
        start = time.perf_counter()
        genotype = self.strategy.space.validate(genotype)
        info: dict[str, Any] = {"evaluator": "enas_shared_weights"}
        while self.phases < self.strategy.phases_due():
            info["shared_loss"] = self.train_shared()
            self._require_finite(info["shared_loss"])
        info["shared_phase"] = self.phases
        val = self.reward(genotype)
        metrics = {"score": val["acc"], "val_acc": val["acc"], "val_loss": val["loss"]}
        return Result(metrics, {"wall_s": time.perf_counter() - start}, info)
