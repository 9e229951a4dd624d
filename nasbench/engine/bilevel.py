"""The one bilevel training loop behind every differentiable search.

Per step: an architecture step on a validation batch (the method decides how),
then a weight step on a training batch; per epoch: validation metrics, the
derived genotype, optionally the Hessian eigenvalue. Everything goes to the run
store as it happens; a checkpoint at every epoch end (and between steps, as
``checkpoint_every`` says) makes ``resume`` continue bit-for-bit on CPU.

With ``max_seconds`` the loop times its first steps and a validation batch and
fits the epochs and steps into the budget (:mod:`nasbench.engine.budget`); the
plan goes into the run store (a ``search_budget`` event) and every checkpoint.

What depends on the dataset's task (classification or segmentation) is a task
object (:mod:`nasbench.evaluation.tasks`): its loss (cross-entropy, or MONAI's
DiceCE), its step metrics (ACC/AUC, or Dice) and its validation scores (``val_acc``
and ``val_auc``, or ``val_dice``, ``val_dice_<class>`` and ``val_hd95``, volumes
predicted by sliding windows). What depends on the space (a DARTS cell, NAS-Unet,
V-NAS, DiNTS) is its supernet. The loop itself is the same for all of them.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from nasbench.config import SearchConfig
from nasbench.data.batches import EpochBatches
from nasbench.data.transforms import batch_augment_for
from nasbench.device import (
    autocast,
    peak_memory_mb,
    reset_peak_memory,
    resolve_device,
    resolve_precision,
    to_channels_last,
    wants_channels_last,
    warn_if_bf16_falls_back,
)
from nasbench.engine.budget import PROBE_STEPS, BudgetPlan, fit_budget
from nasbench.engine.progress import transient_bar
from nasbench.engine.result import SearchResult
from nasbench.engine.run_setup import open_or_create_run, recording_status, search_settings
from nasbench.errors import ConfigError, DivergenceError, NasbenchError
from nasbench.evaluation.tasks import Task, task_of_info
from nasbench.protocols import Genotype
from nasbench.runs import RunStore, save_checkpoint
from nasbench.runs.checkpoint import load_for_resume, require_keys, restoring
from nasbench.runs.checkpoint_schedule import CheckpointSchedule
from nasbench.runs.faults import fault_point
from nasbench.spaces.ops import is_parameter_free, op_names
from nasbench.strategies.differentiable.base import (
    arch_step_due,
    stepped_parameters,
    warmup_steps,
)

# What a resume reads from a checkpoint (see _state).
RESTORED_KEYS = ("supernet", "method", "w_optimizer", "scheduler", "epoch", "batch",
                 "eigenvalues", "last_val")  # fmt: skip
# Architecture weights beyond this magnitude count as diverged: exp(-1e4) is 0 in float32.
ALPHA_LIMIT = 1e4


@dataclass
class _Parts:
    """Everything built from a config; rebuilt identically on resume."""

    device: torch.device
    task: Task
    train: EpochBatches
    val: EpochBatches
    supernet: nn.Module
    method: Any
    w_optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    loss_fn: nn.Module
    precision: str = "fp32"  # resolved: "bf16" or "fp32"
    macro: Any = None  # a two-stage space's first stage (C2FNAS: the topology ranking)


def search_half_limit(data: Any) -> int | None:
    """Images in each search half (train, val) for a dataset config: half its ``limit``,
    at least one batch; None (all) when it has no limit.

    Example:
        >>> from nasbench.config import DatasetConfig
        >>> search_half_limit(DatasetConfig(limit=64, batch_size=8))
        32
        >>> search_half_limit(DatasetConfig()) is None
        True
    """
    return None if data.limit is None else max(data.batch_size, data.limit // 2)


def _build(config: SearchConfig) -> _Parts:
    from nasbench.data import load

    data = config.dataset
    info = search_info(config)
    task = task_of_info(info, roi_size=config.roi_size)
    loss_fn = task.loss()
    half = search_half_limit(data)
    common = dict(root=data.root, size=data.size, download=data.download, limit=half)
    common["seed"] = config.seed
    # Augmented per batch (below), not per item: a cached item transform would freeze one
    # draw per image, and a stateful one would draw differently after a resume.
    train = load(data.name, "search_train", **common)
    val = load(data.name, "search_val", **common)
    hooks = _strategy_hooks(config)
    if hooks is not None:  # UnNAS: the search halves become a pretext task
        train, val = hooks[0].search_data(hooks[1], train, val, config.seed)
    device = resolve_device(config.device)
    space = search_space(config, info)
    augment = batch_augment_for(info.task) if data.augment else None
    train_batches = EpochBatches(train, data.batch_size, config.seed, stream=0, augment=augment)
    val_batches = EpochBatches(val, data.batch_size, config.seed, stream=1)
    macro = None
    if getattr(space, "name", None) == "c2fnas" and space.topology is None:
        # C2FNAS's coarse stage picks the topology the supernet (its fine stage) is built on;
        # deterministic, so a resume that rebuilds the parts chooses the same one.
        from nasbench.strategies.topology.c2fnas import macro_search

        macro = macro_search(space, train_batches, val_batches, task, loss_fn, device, config.seed)
        space = space.with_topology(macro.topology)
    supernet = space.supernet(
        method=config.strategy, method_config=config.strategy_config, seed=config.seed
    ).to(device)
    input_pixels = math.prod(train_batches.batch(0, 0)[0].shape[2:])
    precision = resolve_precision(device, config.precision, input_pixels)
    warn_if_bf16_falls_back(device, config.precision)
    if wants_channels_last(device, supernet.channels_last, input_pixels):
        # Inputs (Supernet.forward) and weights both, or the convs convert every call.
        supernet.channels_last = True
        to_channels_last(supernet, space.skeleton.spatial_dims)
    supernet.method.setup(supernet)  # the arch optimizer must see the moved tensors
    w_optimizer = torch.optim.SGD(
        supernet.weight_parameters(),
        lr=config.w_lr,
        momentum=config.w_momentum,
        weight_decay=config.w_weight_decay,
    )
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
        w_optimizer, T_max=config.epochs, eta_min=config.w_lr_min
    )
    return _Parts(
        device=device,
        task=task,
        train=train_batches,
        val=val_batches,
        supernet=supernet,
        method=supernet.method,
        w_optimizer=w_optimizer,
        scheduler=scheduler,
        precision=precision,
        loss_fn=loss_fn,
        macro=macro,
    )


def _strategy_hooks(config: SearchConfig) -> tuple[Any, Any] | None:
    """``(strategy class, its config)`` when the strategy changes the data it searches on
    (a ``search_data`` hook, as UnNAS's pretext tasks), else None."""
    from nasbench.strategies import get_strategy, make_config

    cls = get_strategy(config.strategy).cls
    if not callable(getattr(cls, "search_data", None)):
        return None
    return cls, make_config(config.strategy, config.strategy_config)


def search_info(config: SearchConfig) -> Any:
    """The info of the data a search trains its supernet on: the dataset's, or the pretext
    task's a self-supervised strategy makes of it (its outputs, task and channels)."""
    from nasbench.data import get_info

    info = get_info(config.dataset.name)
    hooks = _strategy_hooks(config)
    return info if hooks is None else hooks[0].search_info(hooks[1], info)


def search_space(config: SearchConfig, info: Any = None) -> Any:
    """The space a search builds its supernet from: the config's, fitted to the dataset.

    Args:
        config: the search.
        info: the dataset's info (default: looked up from ``config.dataset.name``).

    Returns:
        The space, its skeleton's ``in_channels`` and ``num_classes`` set by the dataset.
    """
    from nasbench.spaces import space_from_dict
    from nasbench.spaces.skeleton import skeleton_overrides

    info = info or search_info(config)
    space_dict = dict(config.space)
    # The dataset decides the stem's input channels and the classifier's outputs.
    skeleton = {**skeleton_overrides(space_dict), "in_channels": info.in_channels}
    skeleton["num_classes"] = info.num_classes
    return space_from_dict({**space_dict, "skeleton": skeleton})


def _search_config(config: Any, who: str) -> SearchConfig:
    """``config`` as a validated SearchConfig, taking its dict form as :func:`nasbench.search`
    does."""
    if isinstance(config, dict):
        config = SearchConfig.from_dict(config)
    if not isinstance(config, SearchConfig):
        raise ConfigError(f"{who} needs a SearchConfig or a dict, got {type(config).__name__}.")
    return config.validate()


def memory_estimate(config: SearchConfig | dict) -> dict[str, float]:
    """The memory a search step will need, estimated before launch (MiB).

    Args:
        config: the search, or its dict form; validated here (a bad one stops with a
            one-line error).

    Returns:
        The space's own estimate (DiNTS: MONAI's ``get_ram_cost_usage``) when it has one,
        plus ``activations_mb``, ``weights_mb`` and ``total_mb``, the training memory of one
        step at the configured batch size measured on the CPU
        (:func:`nasbench.models.memory.estimate_memory`). C2FNAS, whose topology stage 1
        chooses only after launch, is measured on its largest topology.

    Example:
        >>> memory_estimate(SearchConfig())["total_mb"] > 0  # doctest: +SKIP
        True
    """
    from nasbench.models.memory import supernet_memory

    config = _search_config(config, "memory_estimate")
    info = search_info(config)
    space = search_space(config, info)
    sample = (info.in_channels, *([config.dataset.size] * info.spatial_dims))
    return supernet_memory(
        space, sample, config.dataset.batch_size, config.strategy, config.strategy_config
    )


def time_estimate(config: SearchConfig | dict, probe_steps: int = 2) -> dict[str, Any]:
    """How long a search will take, estimated before launch from a short probe.

    Builds the data and the supernet as the search would, times ``probe_steps`` real
    training steps (architecture and weight step; with ``arch_every`` or a warm-up, the
    architecture step counted in the share of the steps that run one) and one validation
    batch, and
    records nothing anywhere. Costs the build plus those steps: a few seconds for a
    small 2D cell, minutes for a large 3D DARTS supernet on a CPU (a reason to run it).

    Args:
        config: the search, or its dict form; validated here.
        probe_steps: training steps timed (the slowest, usually the first, is dropped
            when there are more than one).

    Returns:
        ``build_s`` (data and supernet), ``step_s`` (seconds per step), ``eval_s``
        (one epoch-end validation), ``epochs``, ``steps_per_epoch``, ``total_s`` (the
        whole search as configured), and with ``max_seconds`` the ``plan`` the search
        would make (:meth:`~nasbench.engine.budget.BudgetPlan.to_dict`). A two-stage
        space (C2FNAS) runs its first stage inside the build, as the search does:
        ``stage1_s`` (part of ``build_s``) and ``stage1_candidates`` say what it took.

    Example:
        >>> estimate = time_estimate(SearchConfig(max_steps_per_epoch=4))  # doctest: +SKIP
        >>> estimate["total_s"] > estimate["build_s"]  # doctest: +SKIP
        True
    """
    config = _search_config(config, "time_estimate")
    if not isinstance(probe_steps, int) or isinstance(probe_steps, bool) or probe_steps < 1:
        raise NasbenchError(f"probe_steps must be a positive integer, got {probe_steps!r}.")
    started = time.perf_counter()
    loop = _Loop(config, store=None, run_dir=None, parts=_build(config), started=started)
    build_s = time.perf_counter() - started
    loop.parts.method.on_epoch_start(0, loop.epochs)
    seconds, arch_parts = [], []
    for _ in range(min(probe_steps, loop.per_epoch)):
        step_started = time.perf_counter()
        loop._step()
        seconds.append(time.perf_counter() - step_started)
        arch_parts.append(loop._arch_s)
    eval_s = loop._validation_seconds()
    step_s = step_seconds_ahead(seconds, arch_parts, loop._arch_share(), _mean_without_max)
    epochs, per_epoch = loop.epochs, loop.per_epoch
    estimate: dict[str, Any] = {
        "build_s": build_s,
        "step_s": step_s,
        "eval_s": eval_s,
        "epochs": epochs,
        "steps_per_epoch": per_epoch,
        "total_s": build_s + epochs * (per_epoch * step_s + eval_s),
    }
    macro = loop.parts.macro
    if macro is not None:  # C2FNAS: stage 1 ran inside the build, as it will in the search
        estimate["stage1_s"] = sum(c["seconds"] for c in macro.candidates)
        estimate["stage1_candidates"] = len(macro.candidates)
    if config.max_seconds is not None:
        plan = fit_budget(config.max_seconds, build_s, step_s, eval_s, epochs, per_epoch, 0)
        estimate["plan"] = plan.to_dict()
    return estimate


def _mean_without_max(values: list[float]) -> float:
    """The mean after dropping the largest value (a first step's warm-up); one value as is."""
    kept = sorted(values)[:-1] or values
    return sum(kept) / len(kept)


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def step_seconds_ahead(
    totals: list[float],
    arch_parts: list[float],
    arch_share: float,
    summary: Callable[[list[float]], float],
) -> float:
    """Seconds per step of the steps ahead, from the timed ones.

    A timed step is its weight step plus, when it ran one, its architecture step. When
    every step ahead runs an architecture step and every timed one did, the timed steps
    say it (``summary`` of them). Otherwise (``arch_every``, a warm-up) a step ahead is a
    weight step plus ``arch_share`` of an architecture step, timed as the timed ones
    took or, when none ran (a probe inside the warm-up), as long as a weight step.

    Args:
        totals: seconds of the timed steps.
        arch_parts: the architecture step's seconds within each (0: it ran none).
        arch_share: the share of the steps ahead that run an architecture step.
        summary: how the timings are summarised (median, mean without the slowest).

    Returns:
        Seconds per step.

    Example:
        >>> step_seconds_ahead([3.0, 1.0, 1.0], [2.0, 0.0, 0.0], 0.2, _median)
        1.4
    """
    if arch_share >= 1.0 and all(a > 0 for a in arch_parts):
        return summary(totals)
    weights = summary([t - a for t, a in zip(totals, arch_parts, strict=True)])
    timed = [a for a in arch_parts if a > 0]
    arch = summary(timed) if timed else weights
    return weights + arch_share * arch


def steps_per_epoch(config: SearchConfig, n_batches: int) -> int:
    """Steps in one epoch: the training half's batches, capped by the config."""
    cap = config.max_steps_per_epoch
    return n_batches if cap is None else min(cap, n_batches)


def alpha_interval(config: SearchConfig, total_steps: int) -> int:
    """Steps between alpha snapshots: as configured, or so a run keeps about
    ``max_alpha_snapshots`` of them."""
    if config.alpha_every:
        return config.alpha_every
    return max(1, math.ceil(total_steps / max(1, config.max_alpha_snapshots)))


def run_search(
    config: SearchConfig, run_dir: str | Path, resume: bool = False, progress: bool = False
) -> SearchResult:
    """Run (or resume) a differentiable search, recording everything in ``run_dir``.

    Args:
        config: the search; validated here.
        run_dir: the run folder (created; must not hold a run unless ``resume``).
        resume: continue the run in ``run_dir`` from its last checkpoint.
        progress: show a progress bar on stderr (the CLI does).

    Returns:
        A :class:`SearchResult`.
    """
    started = time.perf_counter()  # a budget counts building the data and supernet too
    run_dir = Path(run_dir)
    # Data and supernet first: a file that does not load leaves no run folder behind.
    config, store, parts = open_or_create_run(config, run_dir, resume, _build)
    threads = store.environment.get("threads") if resume else None  # resume: same sums
    with store, search_settings(config.deterministic, threads):
        with recording_status(store):
            result = _Loop(config, store, run_dir, progress, parts, started).run(resume)
        store.set_status(result.status)
        return result


class _Loop:
    """One search's loop state; small methods so each concern reads on its own."""

    def __init__(
        self,
        config: SearchConfig,
        store: RunStore | None,
        run_dir: Path | None,
        progress: bool = False,
        parts: _Parts | None = None,
        started: float | None = None,
    ) -> None:
        self.config = config
        self.progress = progress
        self.store = store  # None: a probe (time_estimate) that records nothing
        self.run_dir = run_dir
        self.started = time.perf_counter() if started is None else started
        self.parts = parts or _build(config)
        self.epochs = config.epochs  # a budget plan may lower these two
        self.per_epoch = steps_per_epoch(config, len(self.parts.train))
        self.total_steps = self.per_epoch * config.epochs
        # From the configured steps, so snapshots before and after a budget plan agree.
        self.alpha_every = alpha_interval(config, self.total_steps)
        self.plan: BudgetPlan | None = None
        self.step_seconds: list[float] = []
        self.arch_seconds: list[float] = []  # the architecture step's part of each (0: none)
        self._arch_s = 0.0
        self._warned_alphas_stay = False
        self.step = 0
        self.epoch = 0
        self.batch = 0
        self.eigenvalues: list[tuple[int, float]] = []
        self.last_val: dict[str, float] = {}
        # Epoch -> (genotype JSON, validation metrics): an early stop returns an earlier one.
        self.epoch_results: dict[int, tuple[str, dict[str, float]]] = {}
        self.return_epoch: int | None = None
        self._alphas_recorded_at: int | None = None
        self._last_loss = float("nan")
        self._checkpoint_step: int | None = None
        self.checkpoints = CheckpointSchedule(config.checkpoint_every)

    # ---- checkpoints ------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        p = self.parts
        return {
            "supernet": p.supernet.state_dict(),
            "method": p.method.state_dict(),
            "w_optimizer": p.w_optimizer.state_dict(),
            "scheduler": p.scheduler.state_dict(),
            "epoch": self.epoch,
            "batch": self.batch,
            "eigenvalues": self.eigenvalues,
            "last_val": self.last_val,
            "epoch_results": self.epoch_results,
            "budget_plan": None if self.plan is None else self.plan.to_dict(),
            "return_epoch": self.return_epoch,
        }

    def _checkpoint(self) -> None:
        self.store.check_in_place()  # else a moved folder's checkpoint lands in a new run's
        with self.checkpoints.writing():
            save_checkpoint(self.run_dir, self._state(), step=self.step)
        self._checkpoint_step = self.step

    def _restore(self) -> bool:
        """Continue from the last checkpoint; False when there is none to continue from."""
        # Train rows are logged every step before its checkpoint, so the store holds the
        # checkpoint's step; when it does not (a copy without run.sqlite-wal, a power cut
        # that lost the last writes), an earlier checkpoint is taken so no step lacks rows.
        logged = self.store.last_step("train")
        state = load_for_resume(self.run_dir, logged, map_location=self.parts.device)
        if state is None:
            # Killed before the first checkpoint: start again, without the rows logged so far
            # (and where they got to: a stop before the first step leaves it at 0).
            self.store.discard_after(-1)
            self.store.set_progress(0, self.total_steps, 0, self.epochs)
            return False
        require_keys(state, RESTORED_KEYS, self.run_dir)
        p = self.parts
        with restoring(self.run_dir):
            p.supernet.load_state_dict(state["supernet"])
            p.method.load_state_dict(state["method"])
            p.w_optimizer.load_state_dict(state["w_optimizer"])
            p.scheduler.load_state_dict(state["scheduler"])
        self.step, self.epoch, self.batch = state["step"], state["epoch"], state["batch"]
        self._checkpoint_step = self.step
        self.eigenvalues = [tuple(e) for e in state["eigenvalues"]]
        self.last_val = dict(state["last_val"])
        self.epoch_results = dict(state.get("epoch_results", {}))
        # Set once RobustDARTS's rule stopped the search: a resume then trains no further.
        self.return_epoch = state.get("return_epoch")
        if state.get("budget_plan") is not None:
            # The plan the first process made, not a new measurement: the same rows follow.
            self._apply_plan(BudgetPlan.from_dict(state["budget_plan"]))
        self.store.discard_after(self.step)
        # Where the rows now end, as that step recorded it (an epoch's end checkpoints the
        # next epoch's start): a stop before the first step would otherwise leave the
        # killed search's later step in the progress row that the Monitor and report show.
        epoch = self.epoch - 1 if self.batch == 0 and self.step else self.epoch
        self.store.set_progress(self.step, self.total_steps, epoch, self.epochs)
        return True

    def _launch_estimate(self) -> dict[str, Any]:
        """The supernet's own memory estimate of a training batch (DiNTS: MONAI's), shown
        on the progress line and kept in the ``search_started`` event."""
        estimate = getattr(self.parts.supernet, "memory_estimate", None)
        if estimate is None:
            return {}
        shape = tuple(self.parts.train.batch(0, 0)[0].shape)
        mb = estimate(shape)
        if self.progress:
            tqdm.write(
                f"memory estimate (MONAI) for a batch of {shape}: {mb['monai_mb']:.1f} MiB "
                f"(every path on: {mb['monai_full_mb']:.1f} MiB)"
            )
        return {"memory_estimate_mb": mb}

    # ---- the loop ---------------------------------------------------------------------------
    def run(self, resume: bool) -> SearchResult:
        if not (resume and self._restore()):
            payload = {"total_steps": self.total_steps, "alpha_every": self.alpha_every}
            payload.update(self._launch_estimate())
            # At step 0, so a resume without a checkpoint discards it with the rest.
            self.store.log_event("search_started", payload, step=0)
            if self.parts.macro is not None:
                self.store.log_event("c2fnas_topologies", self.parts.macro.to_dict(), step=0)
            self._record_alphas()
            self._warn_if_alphas_stay()
        with tqdm(
            total=self.total_steps, initial=self.step, disable=not self.progress, unit="step"
        ) as bar:
            status = self._epochs(bar)
        return self._result(status)

    def _epochs(self, bar: tqdm) -> str:
        p = self.parts
        while self.epoch < self.epochs and self.return_epoch is None:
            if self.batch == 0:
                p.method.on_epoch_start(self.epoch, self.epochs)
            reset_peak_memory(p.device)
            started, images = time.perf_counter(), 0
            while self.batch < self.per_epoch:
                if self.store.stop_requested():
                    self._checkpoint()
                    return "stopped"
                step_started = time.perf_counter()
                images += self._step()
                self.step_seconds.append(time.perf_counter() - step_started)
                self.arch_seconds.append(self._arch_s)
                if self._plan_due():
                    self._plan_budget(bar)
                # refresh=False: the update draws the postfix within tqdm's rate limit; a
                # forced redraw per step costs more than a fast GPU step and fills the log.
                bar.set_postfix(epoch=self.epoch, loss=f"{self._last_loss:.3f}", refresh=False)
                bar.update(1)
                # The epoch's last step is checkpointed with the epoch end, after its rows.
                if self.batch < self.per_epoch and self.checkpoints.due(self.step):
                    self._checkpoint()
            self._end_epoch(images / max(time.perf_counter() - started, 1e-9))
        return "finished"

    def _step(self) -> int:
        p, cfg = self.parts, self.config
        x_train, y_train = (t.to(p.device) for t in p.train.batch(self.epoch, self.batch))
        x_val, y_val = (t.to(p.device) for t in p.val.batch(self.epoch, self.batch))
        lr = p.w_optimizer.param_groups[0]["lr"]
        if not p.supernet.training:  # train() walks every module: ~5,000 in DARTS's supernet
            p.supernet.train()
        arch: dict[str, float] = {}
        moves = arch_step_due(self.step, self._warmup_steps(), self._arch_every())

        self._arch_s = 0.0

        def arch_step() -> dict[str, float]:
            started = time.perf_counter()
            with autocast(p.device, p.precision):
                out = p.method.arch_step(
                    p.supernet, (x_train, y_train), (x_val, y_val), p.loss_fn, lr, p.w_optimizer
                )
            self._arch_s = time.perf_counter() - started
            return out

        # DARTS and PC-DARTS step the alphas first; GDAS, ProxylessNAS and DiNTS train
        # the weights first, as their reference code does (arch_step_first).
        arch_first = getattr(p.method, "arch_step_first", True)
        if moves and arch_first:
            arch = arch_step()
        with autocast(p.device, p.precision):
            p.w_optimizer.zero_grad(set_to_none=True)
            logits = p.supernet(x_train)
            loss = p.loss_fn(logits, y_train)
        arch_lr = self._arch_lrs().get("arch_lr")
        arch_advice = "arch_lr" + ("" if arch_lr is None else f" (now {arch_lr:g})")
        loss_advice = f"lower w_lr (now {cfg.w_lr:g})"
        # Each read waits for a GPU to catch up: the loss and the alphas once a step.
        loss_value, largest_alpha = loss.item(), self._largest_alpha()
        if not abs(largest_alpha) <= ALPHA_LIMIT:  # NaN alphas make a NaN loss too
            loss_advice += f" or {arch_advice}"
        self._require_finite("training loss", loss_value, loss_advice)
        # Past ALPHA_LIMIT a softmax over the alphas is one-hot in float32: the search stalls.
        self._require_finite(
            "largest architecture weight", largest_alpha, f"lower {arch_advice}", ALPHA_LIMIT
        )
        loss.backward()
        # The optimizer's list: the supernet's weights, without a walk over its modules.
        # grad_clip 0 turns clipping off (as in TrainConfig); the norm is still measured.
        clip = cfg.grad_clip or math.inf
        norm = nn.utils.clip_grad_norm_(stepped_parameters(p.w_optimizer), clip)
        self._require_finite("weight gradient norm", float(norm), "lower w_lr or grad_clip")
        p.w_optimizer.step()
        if moves and not arch_first:
            arch = arch_step()
        self.step += 1
        self.batch += 1
        self._last_loss = loss_value
        metrics = {"loss": self._last_loss, "lr": lr, **self._arch_lrs(), **arch}
        metrics.update(p.task.batch_metrics(logits, y_train))
        if self.store is None:
            return int(x_train.shape[0])
        with self.store.batch():
            self.store.log_metrics(self.step, self.epoch, "train", metrics)
            self.store.set_progress(self.step, self.total_steps, self.epoch, self.epochs)
            if self.step % self.alpha_every == 0:
                self._record_alphas()
        fault_point("step")
        return int(x_train.shape[0])

    def _warn_if_alphas_stay(self) -> None:
        """Say so when ``arch_every`` exceeds the steps after the warm-up: the search
        would return the genotype of its initial alphas."""
        every = self._arch_every()
        searching = self.total_steps - self._warmup_steps()
        if every > searching and not self._warned_alphas_stay:
            self._warned_alphas_stay = True
            warnings.warn(
                f"arch_every {every} exceeds the {searching} steps after the warm-up: the "
                f"alphas will not move; lower arch_every or search longer.",
                UserWarning,
                stacklevel=2,
            )

    def _arch_share(self) -> float:
        """The share of the search's steps that also run an architecture step."""
        searching = self.total_steps - self._warmup_steps()
        return (searching // self._arch_every()) / max(self.total_steps, 1)

    def _arch_every(self) -> int:
        """Weight steps per architecture step (the strategy's ``arch_every``; 1 without)."""
        return int(getattr(self.parts.method.config, "arch_every", 1))

    def _warmup_steps(self) -> int:
        """Leading steps that move the weights only (the strategy's ``arch_warmup``); a
        fraction of the steps now planned, so a budget that shortens the search shortens
        the warm-up with it."""
        fraction = float(getattr(self.parts.method.config, "arch_warmup", 0.0))
        return warmup_steps(fraction, self.total_steps) if fraction else 0

    # ---- the budget -------------------------------------------------------------------------
    def _plan_due(self) -> bool:
        """A plan is made once, in the first epoch, after the same step in every process
        that runs this search (the probe's last, or the epoch's last when that comes
        sooner), so a resumed search that lost the first plan decides where it was made."""
        if self.config.max_seconds is None or self.plan is not None:
            return False
        return self.step >= min(PROBE_STEPS, self.per_epoch)

    def _plan_budget(self, bar: tqdm) -> None:
        """Measure, fit the epochs and steps to ``max_seconds``, apply, record, say so."""
        step_s = step_seconds_ahead(
            self.step_seconds, self.arch_seconds, self._arch_share(), _median
        )
        step_s += self.checkpoints.seconds_per_step(step_s)  # the writes between steps
        plan = fit_budget(
            self.config.max_seconds,
            spent_s=time.perf_counter() - self.started,
            step_s=step_s,
            eval_s=self._validation_seconds(),
            epochs=self.epochs,
            steps_per_epoch=self.per_epoch,
            steps_done=self.step,
        )
        self._apply_plan(plan)
        self._warn_if_alphas_stay()  # the plan may leave too few steps for arch_every
        bar.total = self.total_steps
        bar.refresh()
        if self.progress:
            tqdm.write(plan.describe())
        with self.store.batch():
            self.store.log_event("search_budget", plan.to_dict(), step=self.step)
            self.store.set_progress(self.step, self.total_steps, self.epoch, self.epochs)

    def _apply_plan(self, plan: BudgetPlan) -> None:
        self.plan = plan
        self.epochs, self.per_epoch = plan.epochs, plan.steps_per_epoch
        self.total_steps = plan.epochs * plan.steps_per_epoch
        # Still in the first epoch: as if the config had named these epochs (cosine
        # schedule length, GDAS's temperature).
        self.parts.scheduler.T_max = plan.epochs
        self.parts.method.on_epoch_start(self.epoch, self.epochs)

    def _validation_seconds(self) -> float:
        """One epoch-end validation, estimated from one timed batch; the search's random
        state is left as it was, so a budget changes how long a run is, not its numbers."""
        p = self.parts
        generator = getattr(p.method, "generator", None)
        saved = None if generator is None else generator.get_state()
        p.supernet.eval()
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            x, _ = (t.to(p.device) for t in p.val.batch(0, 0))
            started = time.perf_counter()
            with autocast(p.device, p.precision):
                float(p.task.infer(p.supernet, x).float().sum())  # waits for a GPU too
            seconds = time.perf_counter() - started
        p.supernet.train()
        if saved is not None:
            generator.set_state(saved)
        return seconds * len(p.val)

    def _largest_alpha(self) -> float:
        """The largest architecture weight in magnitude (NaN when any is NaN)."""
        params = self.parts.method.arch_parameters(self.parts.supernet)
        if not params:
            return 0.0
        # One read for all of them: NaN propagates through max, as through each.
        return float(torch.stack([a.detach().abs().max().float() for a in params]).max())

    def _require_finite(
        self, quantity: str, value: float, advice: str, limit: float = math.inf, where: str = ""
    ) -> None:
        """Stop the search (status ``failed``) when ``value`` is not a finite number within
        ``limit``; the step in flight is neither logged nor checkpointed, so the last good
        checkpoint stays."""
        if abs(value) <= limit:  # False for NaN too
            return
        where = where or f"step {self.step + 1} (epoch {self.epoch})"
        found = f"is {value}" if not math.isfinite(value) else f"reached {value:.3g} (> {limit:g})"
        kept = (
            "no checkpoint was written yet"
            if self._checkpoint_step is None
            else f"the checkpoint of step {self._checkpoint_step} is kept"
        )
        raise DivergenceError(
            f"the search diverged at {where}: the {quantity} {found}; {advice} and start a "
            f"new run ({kept})."
        )

    def _arch_lrs(self) -> dict[str, float]:
        arch_optimizer = getattr(self.parts.method, "arch_optimizer", None)
        if arch_optimizer is None:
            return {}
        return {"arch_lr": float(arch_optimizer.param_groups[0]["lr"])}

    def _record_alphas(self) -> None:
        if self._alphas_recorded_at == self.step:
            return  # an epoch end can coincide with a periodic snapshot
        self._alphas_recorded_at = self.step
        for record in self.parts.method.alpha_records(self.parts.supernet):
            self.store.log_alphas(
                self.step,
                self.epoch,
                record.cell_type,
                record.raw,
                record.op_names,
                record.edge_names,
                weights=record.weights,
                kind=record.kind,
            )

    def _end_epoch(self, images_per_s: float) -> None:
        p = self.parts
        self.last_val = self._evaluate()
        genotype = p.method.derive_genotype(p.supernet)
        epoch_metrics = {
            **self.last_val,
            "images_per_s": images_per_s,
            "peak_memory_mb": peak_memory_mb(p.device),
            "parameter_free_ops": float(parameter_free_ops(genotype)),
        }
        eigen_every = self.config.eigen_every
        if eigen_every and (self.epoch + 1) % eigen_every == 0:
            epoch_metrics["hessian_eigenvalue"] = self._eigenvalue()
        p.scheduler.step()
        self.epoch_results[self.epoch] = (genotype.to_json(), dict(self.last_val))
        # Decided before the checkpoint and kept in it, so a resume of a run that stopped
        # early (finished, or killed before it recorded so) does not train past the stop.
        stop = self._early_stop()
        with self.store.batch():
            self.store.log_metrics(self.step, self.epoch, "val", epoch_metrics)
            self.store.log_genotype(self.epoch, self.step, genotype.to_json(), epoch_metrics)
            self._record_alphas()
            if stop is not None:
                self.return_epoch = stop["return_epoch"]
                # At this step, so a resume from an earlier checkpoint discards it too.
                self.store.log_event("early_stop", stop, step=self.step, epoch=self.epoch)
        self.epoch += 1
        self.batch = 0
        fault_point("epoch_end")
        self._checkpoint()

    def _evaluate(self) -> dict[str, float]:
        p = self.parts
        p.supernet.eval()
        meter, total, seen = p.task.meter(), 0.0, 0
        # Its own bar: a long validation would otherwise sit silent under a full step bar.
        bar = transient_bar(
            range(len(p.val)),
            desc=f"validation, epoch {self.epoch}",
            unit="batch",
            disable=not self.progress,
        )
        with bar as batches, torch.no_grad(), autocast(p.device, p.precision):
            for index in batches:
                x, y = (t.to(p.device) for t in p.val.batch(0, index))
                out = p.task.infer(p.supernet, x)
                total += float(p.loss_fn(out, y)) * len(y)
                seen += len(y)
                meter.update(out.float(), y)
        p.supernet.train()
        self._require_finite(
            "validation loss",
            total / seen,
            "lower w_lr or arch_lr",
            where=f"the end of epoch {self.epoch} (step {self.step})",
        )
        scores = meter.result()
        return {"val_loss": total / seen, **{f"val_{k}": v for k, v in scores.items()}}

    def _eigenvalue(self) -> float:
        from nasbench.strategies.differentiable.hessian import supernet_hessian_eigenvalue

        p = self.parts
        batch = tuple(t.to(p.device) for t in p.val.batch(self.epoch, 0))
        value = supernet_hessian_eigenvalue(p.supernet, [batch], p.loss_fn, seed=self.config.seed)
        self.eigenvalues.append((self.epoch, value))
        return value

    def _early_stop(self) -> dict[str, Any] | None:
        """The ``early_stop`` event's payload when RobustDARTS's rule fires on the
        eigenvalues measured so far, else None."""
        from nasbench.strategies.differentiable.hessian import EigenvalueEarlyStop

        if not (self.config.early_stop and self.eigenvalues):
            return None
        cfg = self.config
        watch = EigenvalueEarlyStop(
            window=cfg.early_stop_window,
            factor=cfg.early_stop_factor,
            start_epoch=cfg.early_stop_start,
        )
        if not [watch.update(epoch, value) for epoch, value in self.eigenvalues][-1]:
            return None
        return {
            "epoch": self.eigenvalues[-1][0],
            "return_epoch": watch.stop_epoch,
            "rule": f"RobustDARTS: the eigenvalue's mean over {cfg.early_stop_window} "
            f"measurements grew by more than {cfg.early_stop_factor}x",
        }

    def _result(self, status: str) -> SearchResult:
        if self.return_epoch in self.epoch_results:
            # RobustDARTS: return the cell of the epoch before the eigenvalue took off.
            from nasbench.spaces.genotype import parse_genotype

            genotype_json, metrics = self.epoch_results[self.return_epoch]
            genotype = parse_genotype(genotype_json)
            return SearchResult(self.run_dir, status, genotype, metrics, self.step)
        genotype = self.parts.method.derive_genotype(self.parts.supernet)
        return SearchResult(self.run_dir, status, genotype, dict(self.last_val), self.step)


def parameter_free_ops(genotype: Genotype) -> int:
    """How many edges of a genotype carry a parameter-free op (skip, pool); DARTS collapse
    shows as this count growing. Ops outside the op registry (DiNTS's cells) count as not."""
    known = set(op_names())
    return sum(is_parameter_free(op) for op in genotype.edge_ops() if op in known)
