"""The one bilevel training loop behind every differentiable search.

Per step: an architecture step on a validation batch (the method decides how),
then a weight step on a training batch; per epoch: validation metrics, the
derived genotype, optionally the Hessian eigenvalue. Everything goes to the run
store as it happens; a checkpoint at every epoch end (and every
``checkpoint_every`` steps) makes ``resume`` continue bit-for-bit on CPU.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from nasbench.config import SearchConfig
from nasbench.engine.batches import EpochBatches
from nasbench.engine.device import (
    autocast,
    peak_memory_mb,
    reset_peak_memory,
    resolve_device,
    to_channels_last,
    wants_channels_last,
)
from nasbench.errors import ConfigError
from nasbench.evaluation.metrics import classification_metrics, loss_for_task
from nasbench.runs import RunStore, load_checkpoint, save_checkpoint
from nasbench.runs.environment import capture_environment
from nasbench.spaces.ops import is_parameter_free


@dataclass
class SearchResult:
    """What a finished (or stopped) search returns.

    Attributes:
        run_dir: the run folder.
        status: ``finished`` or ``stopped``.
        genotype: the last derived genotype; after an early stop, the one of the epoch
            the RobustDARTS rule returns to.
        metrics: the validation metrics (``val_loss``, ``val_acc``, ``val_auc``) of
            that genotype's epoch.
        steps: steps done.
    """

    run_dir: Path
    status: str
    genotype: Any
    metrics: dict[str, float]
    steps: int


@dataclass
class _Parts:
    """Everything built from a config; rebuilt identically on resume."""

    device: torch.device
    task: str
    train: EpochBatches
    val: EpochBatches
    supernet: nn.Module
    method: Any
    w_optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    loss_fn: nn.Module


def _build(config: SearchConfig) -> _Parts:
    from nasbench.data import get_info, load
    from nasbench.models.supernet import build_supernet
    from nasbench.spaces import space_from_dict

    data = config.dataset
    info = get_info(data.name)
    loss_fn = loss_for_task(info.task)
    half = None if data.limit is None else max(data.batch_size, data.limit // 2)
    common = dict(root=data.root, size=data.size, download=data.download, limit=half)
    common["seed"] = config.seed
    train = load(
        data.name, "search_train", transform="augment" if data.augment else "default", **common
    )
    val = load(data.name, "search_val", **common)
    device = resolve_device(config.device)

    space_dict = dict(config.space)
    # The dataset decides the stem's input channels and the classifier's outputs.
    skeleton = {**space_dict.get("skeleton", {}), "in_channels": info.in_channels}
    skeleton["num_classes"] = info.num_classes
    space = space_from_dict({**space_dict, "skeleton": skeleton})
    supernet = build_supernet(space, config.strategy, config.strategy_config, seed=config.seed).to(
        device
    )
    if wants_channels_last(device, supernet.channels_last):
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
        task=info.task,
        train=EpochBatches(train, data.batch_size, config.seed, stream=0),
        val=EpochBatches(val, data.batch_size, config.seed, stream=1),
        supernet=supernet,
        method=supernet.method,
        w_optimizer=w_optimizer,
        scheduler=scheduler,
        loss_fn=loss_fn,
    )


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
    run_dir = Path(run_dir)
    if resume:
        store = RunStore.open(run_dir)
        config = SearchConfig.from_dict(store.config).validate()
    else:
        config.validate()
        store = RunStore.create(
            run_dir, config.to_dict(), capture_environment(resolve_device(config.device))
        )
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    # CPU kernels sum in an order that depends on the thread count, so a resumed run
    # uses the count the run started with to reach the same numbers bit for bit.
    threads = store.environment.get("threads") if resume else None
    with store, _torch_threads(threads):
        try:
            store.set_status("running")
            # Deterministic kernels for this search only; the caller's setting comes back.
            torch.use_deterministic_algorithms(config.deterministic, warn_only=True)
            result = _Loop(config, store, run_dir, progress).run(resume)
        except KeyboardInterrupt:
            store.set_status("stopped", "interrupted")
            raise
        except Exception as err:
            store.set_status("failed", f"{type(err).__name__}: {err}")
            raise
        finally:
            torch.use_deterministic_algorithms(was_deterministic)
        store.set_status(result.status)
        return result


@contextlib.contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    """Run the block with ``threads`` CPU threads (None: leave them); restore after."""
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(int(threads))
    try:
        yield
    finally:
        torch.set_num_threads(before)


class _Loop:
    """One search's loop state; small methods so each concern reads on its own."""

    def __init__(
        self, config: SearchConfig, store: RunStore, run_dir: Path, progress: bool = False
    ) -> None:
        self.config = config
        self.progress = progress
        self.store = store
        self.run_dir = run_dir
        self.parts = _build(config)
        self.per_epoch = steps_per_epoch(config, len(self.parts.train))
        self.total_steps = self.per_epoch * config.epochs
        self.alpha_every = alpha_interval(config, self.total_steps)
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
        }

    def _checkpoint(self) -> None:
        save_checkpoint(self.run_dir, self._state(), step=self.step)

    def _restore(self) -> None:
        state = load_checkpoint(self.run_dir, map_location=self.parts.device)
        if state is None:
            return  # killed before the first checkpoint: start from the beginning
        p = self.parts
        p.supernet.load_state_dict(state["supernet"])
        p.method.load_state_dict(state["method"])
        p.w_optimizer.load_state_dict(state["w_optimizer"])
        p.scheduler.load_state_dict(state["scheduler"])
        self.step, self.epoch, self.batch = state["step"], state["epoch"], state["batch"]
        self.eigenvalues = [tuple(e) for e in state["eigenvalues"]]
        self.last_val = dict(state["last_val"])
        self.epoch_results = dict(state.get("epoch_results", {}))
        self.store.discard_after(self.step)

    # ---- the loop ---------------------------------------------------------------------------
    def run(self, resume: bool) -> SearchResult:
        if resume:
            self._restore()
        else:
            self.store.log_event(
                "search_started", {"total_steps": self.total_steps, "alpha_every": self.alpha_every}
            )
            self._record_alphas()
        with tqdm(
            total=self.total_steps, initial=self.step, disable=not self.progress, unit="step"
        ) as bar:
            status = self._epochs(bar)
        return self._result(status)

    def _epochs(self, bar: tqdm) -> str:
        p = self.parts
        while self.epoch < self.config.epochs:
            if self.batch == 0:
                p.method.on_epoch_start(self.epoch, self.config.epochs)
            reset_peak_memory(p.device)
            started, images = time.perf_counter(), 0
            while self.batch < self.per_epoch:
                if self.store.stop_requested():
                    self._checkpoint()
                    return "stopped"
                images += self._step()
                bar.update(1)
                bar.set_postfix(epoch=self.epoch, loss=f"{self._last_loss:.3f}")
                if self.config.checkpoint_every and self.step % self.config.checkpoint_every == 0:
                    self._checkpoint()
            self._end_epoch(images / max(time.perf_counter() - started, 1e-9))
            if self._should_stop_early():
                break
        return "finished"

    def _step(self) -> int:
        p, cfg = self.parts, self.config
        x_train, y_train = (t.to(p.device) for t in p.train.batch(self.epoch, self.batch))
        x_val, y_val = (t.to(p.device) for t in p.val.batch(self.epoch, self.batch))
        lr = p.w_optimizer.param_groups[0]["lr"]
        p.supernet.train()
        with autocast(p.device, cfg.precision):
            arch = p.method.arch_step(
                p.supernet, (x_train, y_train), (x_val, y_val), p.loss_fn, lr, p.w_optimizer
            )
            p.w_optimizer.zero_grad(set_to_none=True)
            logits = p.supernet(x_train)
            loss = p.loss_fn(logits, y_train)
        loss.backward()
        nn.utils.clip_grad_norm_(p.supernet.weight_parameters(), cfg.grad_clip)
        p.w_optimizer.step()
        self.step += 1
        self.batch += 1
        self._last_loss = loss.item()
        metrics = {"loss": self._last_loss, "lr": lr, **self._arch_lrs(), **arch}
        metrics.update(classification_metrics(logits, y_train, p.task))
        with self.store.batch():
            self.store.log_metrics(self.step, self.epoch, "train", metrics)
            self.store.set_progress(self.step, self.total_steps, self.epoch, cfg.epochs)
            if self.step % self.alpha_every == 0:
                self._record_alphas()
        return int(x_train.shape[0])

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
        parameter_free = sum(
            is_parameter_free(op)
            for cell in ("normal", "reduce")
            for op, _ in genotype.cell(cell)[0]
        )
        epoch_metrics = {
            **self.last_val,
            "images_per_s": images_per_s,
            "peak_memory_mb": peak_memory_mb(p.device),
            "parameter_free_ops": float(parameter_free),
        }
        eigen_every = self.config.eigen_every
        if eigen_every and (self.epoch + 1) % eigen_every == 0:
            epoch_metrics["hessian_eigenvalue"] = self._eigenvalue()
        p.scheduler.step()
        self.epoch_results[self.epoch] = (genotype.to_json(), dict(self.last_val))
        with self.store.batch():
            self.store.log_metrics(self.step, self.epoch, "val", epoch_metrics)
            self.store.log_genotype(self.epoch, self.step, genotype.to_json(), epoch_metrics)
            self._record_alphas()
        self.epoch += 1
        self.batch = 0
        self._checkpoint()

    def _evaluate(self) -> dict[str, float]:
        p = self.parts
        p.supernet.eval()
        logits, targets, total = [], [], 0.0
        with torch.no_grad(), autocast(p.device, self.config.precision):
            for index in range(len(p.val)):
                x, y = (t.to(p.device) for t in p.val.batch(0, index))
                out = p.supernet(x)
                total += float(p.loss_fn(out, y)) * len(y)
                logits.append(out.float().cpu())
                targets.append(y.cpu())
        p.supernet.train()
        logits_all, targets_all = torch.cat(logits), torch.cat(targets)
        scores = classification_metrics(logits_all, targets_all, p.task)
        return {
            "val_loss": total / len(targets_all),
            "val_acc": scores["acc"],
            "val_auc": scores["auc"],
        }

    def _eigenvalue(self) -> float:
        from nasbench.strategies.differentiable.hessian import supernet_hessian_eigenvalue

        p = self.parts
        batch = tuple(t.to(p.device) for t in p.val.batch(self.epoch, 0))
        value = supernet_hessian_eigenvalue(p.supernet, [batch], p.loss_fn, seed=self.config.seed)
        self.eigenvalues.append((self.epoch, value))
        return value

    def _should_stop_early(self) -> bool:
        from nasbench.strategies.differentiable.hessian import EigenvalueEarlyStop

        if not (self.config.early_stop and self.eigenvalues):
            return False
        cfg = self.config
        watch = EigenvalueEarlyStop(
            window=cfg.early_stop_window,
            factor=cfg.early_stop_factor,
            start_epoch=cfg.early_stop_start,
        )
        fired = [watch.update(epoch, value) for epoch, value in self.eigenvalues][-1]
        if fired:
            self.return_epoch = watch.stop_epoch
            self.store.log_event(
                "early_stop",
                {
                    "epoch": self.eigenvalues[-1][0],
                    "return_epoch": watch.stop_epoch,
                    "rule": f"RobustDARTS: the eigenvalue's mean over {cfg.early_stop_window} "
                    f"measurements grew by more than {cfg.early_stop_factor}x",
                },
            )
        return fired

    def _result(self, status: str) -> SearchResult:
        if self.return_epoch in self.epoch_results:
            # RobustDARTS: return the cell of the epoch before the eigenvalue took off.
            from nasbench.spaces.genotype import parse_genotype

            genotype_json, metrics = self.epoch_results[self.return_epoch]
            genotype = parse_genotype(genotype_json)
            return SearchResult(self.run_dir, status, genotype, metrics, self.step)
        genotype = self.parts.method.derive_genotype(self.parts.supernet)
        return SearchResult(self.run_dir, status, genotype, dict(self.last_val), self.step)


def search(
    config: SearchConfig | dict, run_dir: str | Path, progress: bool = False
) -> SearchResult:
    """Run a search described by ``config``, writing its run store into ``run_dir``.

    The CLI (``nasbench search``), the widgets (through the CLI in a subprocess) and
    the tests all come through here.

    Args:
        config: a :class:`SearchConfig` or its dict form.
        run_dir: a folder that does not yet hold a run.
        progress: show a progress bar.

    Returns:
        A :class:`SearchResult`.

    Example:
        >>> cfg = SearchConfig(epochs=1, max_steps_per_epoch=2)  # doctest: +SKIP
        >>> search(cfg, "runs/demo").genotype  # doctest: +SKIP
    """
    if isinstance(config, dict):
        config = SearchConfig.from_dict(config)
    if not isinstance(config, SearchConfig):
        raise ConfigError(f"search needs a SearchConfig or a dict, got {type(config).__name__}.")
    from nasbench.strategies import get_strategy

    if get_strategy(config.strategy).kind == "discrete":
        # Discrete strategies share one ask/tell loop of their own (no bilevel training).
        from nasbench.engine.discrete import run_discrete_search

        return run_discrete_search(dataclasses.replace(config), run_dir)
    return run_search(dataclasses.replace(config), run_dir, progress=progress)


def resume(run_dir: str | Path, progress: bool = False) -> SearchResult:
    """Continue the search in ``run_dir`` from its last checkpoint.

    On CPU with ``deterministic=True`` it ends with the same genotype and metrics as
    an uninterrupted run. Discrete searches resume by replaying their recorded
    candidates (:func:`nasbench.engine.discrete.resume_discrete_search`).
    """
    from nasbench.runs import RunStore
    from nasbench.strategies import get_strategy

    store = RunStore.open(run_dir)  # checks it is a run, and that no writer holds it
    strategy = store.config.get("strategy", "darts")
    store.close()
    if get_strategy(strategy).kind == "discrete":
        from nasbench.engine.discrete import resume_discrete_search

        return resume_discrete_search(run_dir)
    return run_search(SearchConfig(), run_dir, resume=True, progress=progress)
