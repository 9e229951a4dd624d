"""What every differentiable method shares: the base class with DARTS's defaults.

A differentiable method (DARTS, GDAS, PC-DARTS, ProxylessNAS) differs from the
others in two things only, after DARTS's ``model_search.py`` + ``architect.py``:

1. how a mixed edge combines its candidate ops. The supernet asks the method, once
   per forward and cell type, for an ``EdgePlan`` per edge (the op weights, which ops
   to run, an optional edge scale), and every ``MixedEdge`` of that cell type follows
   its plan (both in :mod:`nasbench.models.mixed_edge`, the supernet's side);
2. how the architecture weights are stepped (:meth:`DifferentiableMethod.arch_step`).

The bilevel loop around them is shared (``nasbench.search``); it calls, per step,
``supernet(x)`` for the weight step and ``method.arch_step(...)`` for the
architecture step, and ``method.on_epoch_start(epoch, epochs)`` per epoch.

A method reads a supernet only through its architecture groups: ``supernet.cell_types``
names them, ``supernet.alpha(ct)`` is a group's ``(n_edges, n_ops)`` matrix and
``supernet.group(ct)`` (an ``ArchGroup``, :mod:`nasbench.protocols`) its rows and
columns. A DARTS supernet has the groups "normal" and "reduce" over one op set; a
NAS-Unet supernet has one group per edge role (down, up, normal), each with its own op
set. Turning the scores into a genotype is the supernet's rule (``supernet.derive(scores)``),
so the same methods search every space. Config fields come from :mod:`nasbench.options`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from inspect import signature
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from nasbench.errors import ConfigError
from nasbench.models.mixed_edge import EdgePlan, MixedEdge
from nasbench.models.supernet import parameters_in_order
from nasbench.options import MethodConfig, option, plain_numbers
from nasbench.protocols import MODES, ZERO_OP, ArchGroup, Supernet

__all__ = [
    "MODES",
    "ZERO_OP",
    "AlphaRecord",
    "ArchGroup",
    "Batch",
    "DifferentiableMethod",
    "EdgePlan",
    "LossFn",
    "MethodConfig",
    "MixedEdge",
    "cost_weight_option",
    "min_parametric_option",
    "expected_cost_share",
    "first_order_grads",
    "option",
    "stepped_parameters",
]

Batch = tuple[torch.Tensor, torch.Tensor]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class AlphaRecord:
    """One snapshot matrix of architecture state, as the run store records it.

    Attributes:
        cell_type: "normal", "reduce", or "global" (GDAS's tau).
        kind: "alpha", "beta" (PC-DARTS edge weights), "tau" (GDAS), "gate" (ProxylessNAS).
        raw: the raw values, shape ``(n_edges, n_cols)``.
        weights: the normalised values (softmax, or the per-node beta softmax, ...).
        edge_names: one name per row, e.g. ``"0->2"`` (state 0 into state 2).
        op_names: one name per column.
    """

    cell_type: str
    kind: str
    raw: np.ndarray
    weights: np.ndarray
    edge_names: tuple[str, ...]
    op_names: tuple[str, ...]


class DifferentiableMethod:
    """Base of the differentiable methods; subclasses override the marked hooks.

    The defaults implement DARTS: softmax-weighted sum of every op except 'none',
    first-order architecture step with Adam.

    Args:
        config: the method's config dataclass.
        seed: seeds the method's own ``torch.Generator`` (sampling), so runs are
            reproducible without the global RNG.
    """

    name: ClassVar[str] = "base"
    # The order of a search step's two updates, as each method's reference code has it:
    # DARTS (and PC-DARTS) step the alphas on a validation batch, then the weights;
    # GDAS, ProxylessNAS and DiNTS train the weights first.
    arch_step_first: ClassVar[bool] = True

    def __init__(self, config: MethodConfig, seed: int = 0) -> None:
        seed = plain_numbers(seed)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            # int() would truncate seed 1.5 into the run of seed 1 without a word.
            raise ConfigError(f"seed must be a non-negative integer, got {seed!r}.")
        self.config = config
        self.seed = seed
        self.generator = torch.Generator().manual_seed(self.seed)
        self.arch_optimizer: torch.optim.Optimizer | None = None
        self.epoch = 0
        self.total_epochs = 1
        # Parameters of each candidate op per alpha row, when the config's cost_weight is on.
        self.op_costs: dict[str, torch.Tensor] | None = None

    # ---- building ---------------------------------------------------------------------------
    def make_edge(
        self, spatial_dims: int, C: int, stride: int, op_names: Sequence[str]
    ) -> nn.Module:
        """The mixed edge placed on every supernet edge."""
        return MixedEdge(spatial_dims, C, stride, op_names)

    def extra_arch_shapes(self, n_edges: int, n_ops: int) -> dict[str, tuple[int, ...]]:
        """Shapes of architecture tensors besides ``alpha`` per cell type (PC-DARTS: beta)."""
        return {}

    def setup(self, supernet: Supernet) -> None:
        """Called once by the supernet after its parameters exist: creates the arch optimizer."""
        cfg = self.config
        self.arch_optimizer = torch.optim.Adam(
            self.arch_parameters(supernet),
            lr=cfg.arch_lr,
            betas=(cfg.arch_beta1, 0.999),
            weight_decay=cfg.arch_weight_decay,
        )
        if float(getattr(cfg, "cost_weight", 0.0)) > 0.0:
            self.op_costs = _op_cost_tables(supernet)
        if self._min_parametric() and "min_parametric" not in signature(supernet.derive).parameters:
            raise ConfigError(
                f"min_parametric_ops needs a supernet with the DARTS cell rule; "
                f"{type(supernet).__name__} derives otherwise: set min_parametric_ops to 0."
            )

    def arch_parameters(self, supernet: Supernet) -> list[nn.Parameter]:
        """The tensors the architecture step updates."""
        return supernet.arch_parameters()

    # ---- forward ----------------------------------------------------------------------------
    def edge_plans(self, supernet: Supernet, cell_type: str, mode: str) -> list[EdgePlan]:
        """One plan per edge of ``cell_type`` for a forward pass in ``mode``.

        Default (DARTS): softmax over each alpha row, every op but 'none' runs.
        """
        weights = torch.softmax(supernet.alpha(cell_type), dim=-1)
        active = supernet.group(cell_type).non_zero_ops
        return [EdgePlan(w, active) for w in weights]

    # ---- architecture step ------------------------------------------------------------------
    def arch_step(
        self,
        supernet: Supernet,
        train_batch: Batch,
        val_batch: Batch,
        loss_fn: LossFn,
        w_lr: float,
        w_optimizer: torch.optim.Optimizer,
    ) -> dict[str, float]:
        """One architecture update; changes only the architecture parameters.

        Args:
            supernet: the supernet (in training mode).
            train_batch: ``(x, y)`` from the training half (second-order DARTS uses it).
            val_batch: ``(x, y)`` from the validation half.
            loss_fn: ``loss_fn(logits, y) -> scalar``.
            w_lr: the weight learning rate now (DARTS's eta).
            w_optimizer: the weight optimizer (second-order DARTS reads momentum and
                weight decay from it; it is not stepped).

        Returns:
            Metrics: ``arch_loss`` (validation loss before the update), ``arch_grad_norm``.
        """
        params = self.arch_parameters(supernet)
        loss, grads = first_order_grads(
            supernet, val_batch, loss_fn, params, stepped_parameters(w_optimizer)
        )
        return self._apply(params, grads, loss, supernet)

    def _apply(
        self,
        params: list[torch.Tensor],
        grads: Sequence[torch.Tensor],
        loss: float,
        supernet: Supernet | None = None,
    ) -> dict[str, float]:
        """Step the architecture optimizer on ``grads`` (plus the cost term's gradient
        when ``cost_weight`` is on and ``supernet`` is given)."""
        assert self.arch_optimizer is not None, "call setup(supernet) first"
        extra: dict[str, float] = {}
        if self.op_costs is not None and supernet is not None:
            share, cost_grads = self._cost_gradients(supernet, params)
            grads = [g + c for g, c in zip(grads, cost_grads, strict=True)]
            extra["arch_cost_share"] = share
        self.arch_optimizer.zero_grad(set_to_none=True)
        for p, g in zip(params, grads, strict=True):
            p.grad = g.detach().clone()
        norm = float(torch.sqrt(sum((g.detach() ** 2).sum() for g in grads)))
        self.arch_optimizer.step()
        self.arch_optimizer.zero_grad(set_to_none=True)
        return {"arch_loss": float(loss), "arch_grad_norm": norm, **extra}

    def _cost_gradients(
        self, supernet: Supernet, params: Sequence[torch.Tensor]
    ) -> tuple[float, list[torch.Tensor]]:
        """The cost term ``cost_weight * expected_cost_share`` and its gradient w.r.t.
        ``params`` (the alphas get it; other architecture tensors, e.g. PC-DARTS's beta,
        get zeros)."""
        assert self.op_costs is not None
        with torch.enable_grad():
            share = expected_cost_share(
                {ct: supernet.alpha(ct) for ct in supernet.cell_types},
                self.op_costs,
                {ct: supernet.group(ct).non_zero_ops for ct in supernet.cell_types},
            )
            term = float(self.config.cost_weight) * share
            grads = torch.autograd.grad(term, list(params), allow_unused=True)
        return float(share.detach()), _zeros_for_none(grads, params)

    def on_epoch_start(self, epoch: int, total_epochs: int) -> None:
        """Called by the loop before each epoch (0-based). GDAS anneals tau here."""
        self.epoch, self.total_epochs = int(epoch), int(total_epochs)

    # ---- reading the architecture -----------------------------------------------------------
    def op_weights(self, supernet: Supernet, cell_type: str) -> torch.Tensor:
        """Normalised op weights ``(n_edges, n_ops)`` of one cell type (softmax of alpha)."""
        return torch.softmax(supernet.alpha(cell_type).detach().float().cpu(), dim=-1)

    def edge_scores(self, supernet: Supernet, cell_type: str) -> torch.Tensor:
        """Weights used to pick each node's input edges; PC-DARTS multiplies by beta."""
        return self.op_weights(supernet, cell_type)

    def alpha_records(self, supernet: Supernet) -> list[AlphaRecord]:
        """Snapshot of the architecture state: raw alphas and their softmax per cell type,
        then any matrices the supernet keeps beside its groups (``extra_arch_records``: the
        trellis's scale weights)."""
        extra = getattr(supernet, "extra_arch_records", None)
        return [
            AlphaRecord(
                cell_type=ct,
                kind="alpha",
                raw=supernet.alpha(ct).detach().float().cpu().numpy().copy(),
                weights=self.op_weights(supernet, ct).numpy(),
                edge_names=supernet.group(ct).edge_names,
                op_names=supernet.group(ct).op_names,
            )
            for ct in supernet.cell_types
        ] + [AlphaRecord(*fields) for fields in (extra() if extra is not None else [])]

    def derive_genotype(self, supernet: Supernet):
        """The discrete genotype the scores point to, by the supernet's rule (DARTS:
        ``derive.py``, with the config's ``min_parametric_ops``; NAS-Unet:
        :func:`nasbench.models.unet_supernet.derive_unet`)."""
        scores = {ct: self.edge_scores(supernet, ct).numpy() for ct in supernet.cell_types}
        floor = self._min_parametric()
        return supernet.derive(scores, min_parametric=floor) if floor else supernet.derive(scores)

    def _min_parametric(self) -> int:
        return int(getattr(self.config, "min_parametric_ops", 0))

    # ---- checkpointing ----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Method state for a checkpoint: arch optimizer, generator, epoch counters."""
        return {
            "arch_optimizer": None
            if self.arch_optimizer is None
            else self.arch_optimizer.state_dict(),
            "generator": self.generator.get_state(),
            "epoch": self.epoch,
            "total_epochs": self.total_epochs,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output (call after ``setup``)."""
        if state.get("arch_optimizer") is not None and self.arch_optimizer is not None:
            self.arch_optimizer.load_state_dict(state["arch_optimizer"])
        # A checkpoint loaded onto the GPU brings this CPU generator's state there too.
        self.generator.set_state(state["generator"].cpu())
        self.on_epoch_start(state["epoch"], state["total_epochs"])


def first_order_grads(
    supernet: Supernet,
    batch: Batch,
    loss_fn: LossFn,
    params: Sequence[torch.Tensor],
    weights: Sequence[torch.Tensor] | None = None,
) -> tuple[float, list[torch.Tensor]]:
    """Validation loss and its gradient w.r.t. ``params``, leaving weight ``.grad`` untouched.

    Args:
        supernet: the supernet.
        batch: ``(x, y)``.
        loss_fn: ``loss_fn(logits, y) -> scalar``.
        params: tensors to differentiate with respect to.
        weights: the parameters to hold fixed while it runs, e.g. the weight optimizer's
            (:func:`stepped_parameters`); ``None``: every parameter of ``supernet`` but
            ``params``, found by a walk over its modules (thousands in a DARTS supernet).

    Returns:
        ``(loss value, gradients)``; an unused parameter gets a zero gradient.
    """
    x, y = batch
    with _frozen_except(supernet, params, weights):
        loss = loss_fn(supernet(x), y)
        grads = torch.autograd.grad(loss, list(params), allow_unused=True)
    return float(loss.detach()), _zeros_for_none(grads, params)


def stepped_parameters(optimizer: torch.optim.Optimizer | None) -> list[torch.Tensor] | None:
    """The tensors ``optimizer`` steps, group after group, in its order (``None`` for no
    optimizer).

    The weight optimizer holds ``supernet.weight_parameters()`` in that order, so this
    is the same list without a walk over the supernet's modules, which, twice a step
    (the architecture step's freeze, the gradient clipping), cost about 5% of a GDAS
    step on the DARTS supernet at batch 16 (benchmarks/README.md).

    Example:
        >>> layer = nn.Linear(2, 2)
        >>> opt = torch.optim.SGD(layer.parameters(), lr=0.1)
        >>> [p.shape for p in stepped_parameters(opt)]
        [torch.Size([2, 2]), torch.Size([2])]
    """
    if optimizer is None:
        return None
    return [p for group in optimizer.param_groups for p in group["params"]]


@contextlib.contextmanager
def _frozen_except(
    module: nn.Module,
    params: Sequence[torch.Tensor],
    candidates: Sequence[torch.Tensor] | None = None,
) -> Iterator[None]:
    """Every parameter of ``module`` (or of ``candidates``) but ``params`` without
    ``requires_grad`` in the block.

    Autograd prunes the weight gradients of ``torch.autograd.grad(loss, params)`` by
    itself; a custom backward (the recomputing mixed edge) learns from ``requires_grad``
    that it need not compute them.
    """
    keep = {id(p) for p in params}
    if candidates is None:
        candidates = parameters_in_order(module)
    frozen = [p for p in candidates if p.requires_grad and id(p) not in keep]
    for p in frozen:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in frozen:
            p.requires_grad_(True)


def _zeros_for_none(
    grads: Sequence[torch.Tensor | None], params: Sequence[torch.Tensor]
) -> list[torch.Tensor]:
    return [torch.zeros_like(p) if g is None else g for g, p in zip(grads, params, strict=True)]


def arch_warmup_option() -> Any:
    """The ``arch_warmup`` setting of a differentiable strategy's config (off by default,
    as in the DARTS and GDAS papers; PC-DARTS's paper trained 15 of 50 epochs first)."""
    return option(
        0.0,
        "fraction of the search's steps that train the weights only before the first "
        "architecture step (untrained weights' alpha gradients favour parameter-free ops)",
        min=0.0,
        max=0.9,
    )


def min_parametric_option() -> Any:
    """The ``min_parametric_ops`` setting of a differentiable strategy's config (off by
    default, as in the DARTS, PC-DARTS and GDAS papers)."""
    return option(
        0,
        "parametric ops the derived normal cell keeps at least: parameter-free ops closest "
        "to a parametric one give way (P-DARTS's cap on skip connections, for every "
        "parameter-free op; guards against a collapse to skips, e.g. under cost_weight)",
        min=0,
        max=64,
    )


def cost_weight_option() -> Any:
    """The ``cost_weight`` setting of a differentiable strategy's config (off by default,
    as in the DARTS, PC-DARTS and GDAS papers)."""
    return option(
        0.0,
        "weight of the cell's expected parameter share (0-1) in the architecture loss: the "
        "validation loss a cell of the costliest ops must beat a parameter-free one by (0: "
        "off). Steers the search to cheap ops, whose cells retrain wider under a parameter "
        "budget",
        min=0.0,
        max=100.0,
    )


def expected_cost_share(
    alphas: dict[str, torch.Tensor],
    op_costs: dict[str, torch.Tensor],
    candidates: dict[str, Sequence[int]],
) -> torch.Tensor:
    """The expected parameter share of the ops a derivation would pick, in [0, 1].

    Per alpha row, the softmax over the candidate ops (those a derived cell may keep,
    so 'none' is left out) weighs each op's parameter count, divided by the row's
    costliest op; the share is the mean over every row of every group. Differentiable
    in the alphas: it is the resource term of ProxylessNAS and FBNet with parameters as
    the resource, normalised so that its weight reads in units of validation loss.

    Args:
        alphas: ``(n_edges, n_ops)`` architecture matrix per group.
        op_costs: parameters per row and op, same shapes (summed over a group's cells).
        candidates: column indices a derived op may take, per group.

    Returns:
        A scalar tensor: 0 when every row picks a parameter-free op, 1 when every row
        picks its costliest one.

    Example:
        >>> alpha = torch.tensor([[0.0, 0.0, 0.0]])
        >>> costs = torch.tensor([[0.0, 0.0, 10.0]])
        >>> round(float(expected_cost_share({"n": alpha}, {"n": costs}, {"n": (1, 2)})), 3)
        0.5
    """
    shares = []
    for name, alpha in alphas.items():
        columns = list(candidates[name])
        cost = op_costs[name][:, columns].to(alpha.device, alpha.dtype)
        top = cost.max(dim=1, keepdim=True).values.clamp_min(1.0)
        weights = torch.softmax(alpha[:, columns], dim=-1)
        shares.append((weights * cost / top).sum(dim=1))
    return torch.cat(shares).mean()


def _op_cost_tables(supernet: Supernet) -> dict[str, torch.Tensor]:
    op_costs = getattr(supernet, "op_costs", None)
    if op_costs is None:
        raise ConfigError(
            f"cost_weight needs a supernet that counts its ops' parameters (the DARTS cell "
            f"spaces); {type(supernet).__name__} does not: set cost_weight to 0."
        )
    return {ct: op_costs(ct) for ct in supernet.cell_types}


def arch_every_option() -> Any:
    """The ``arch_every`` setting: weight steps per architecture step (1, every step, by
    default; the ProxylessNAS code steps its alphas after every 5th weight step)."""
    return option(
        1,
        "weight steps per architecture step, counted from the end of the warm-up "
        "(1 steps the alphas after every weight step)",
        min=1,
        max=1000,
    )


def arch_step_due(step: int, warmup: int, every: int) -> bool:
    """Whether search step ``step`` (from 0) also steps the alphas: none in the ``warmup``
    leading steps, then the last of every ``every`` steps after them.

    Args:
        step: the step about to run, counted from 0 over the whole search.
        warmup: leading steps that train the weights only (``warmup_steps``).
        every: weight steps per architecture step (``arch_every``).

    Returns:
        True when this step runs an architecture step.

    Example:
        >>> [s for s in range(8) if arch_step_due(s, warmup=2, every=3)]
        [4, 7]
    """
    if step < warmup:
        return False
    return (step - warmup + 1) % every == 0


def warmup_steps(fraction: float, steps: int) -> int:
    """Steps (or rounds) that train the weights only before the first architecture step:
    ``fraction`` of ``steps``, rounded down, leaving at least one step of search.

    Args:
        fraction: the config's ``arch_warmup``, in [0, 1).
        steps: the search's steps (rounds) in all.

    Returns:
        The number of leading steps without an architecture step.

    Example:
        >>> warmup_steps(0.25, 8), warmup_steps(0.25, 2), warmup_steps(0.9, 2)
        (2, 0, 1)
    """
    return max(0, min(int(fraction * steps), steps - 1))
