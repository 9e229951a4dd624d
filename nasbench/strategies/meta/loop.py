"""The METANAS meta-training loop and its two baselines, recorded in a run store.

Three learners start from the same supernet and see the same tasks in the same order:

- ``metanas``: weights and alphas meta-learned (Reptile or first-order MAML), DARTS as
  the task learner; optionally METANAS's softmax temperature annealing and soft pruning
  (``temperature_min``, ``prune_below``), an alpha warm-up (``warmup_fraction``),
  Adam alpha steps in the task learner (``inner_arch_optimizer``) and a smaller alpha
  learning rate, or none, when adapting to the scored meta-test tasks
  (``test_arch_lr_scale``);
- ``reptile``: the same meta-learning with the architecture fixed (alphas held at zero:
  every op of every edge mixed equally);
- ``pooled_darts``: no meta-learning, first-order DARTS on the tasks one after another.

What the run store gets:

- per meta-step, phase ``train``: ``<learner>_query_acc`` / ``_query_loss`` after
  adaptation, averaged over the meta-batch;
- per meta-epoch, phase ``val``: ``<learner>_val_acc`` / ``_val_loss`` on watched
  meta-test episodes, one ``adaptation_curve`` event per learner and episode, the
  meta-alphas (kind ``alpha``) and the alphas adapted to the first watched task (kind
  ``adapted``), and the genotype the meta-alphas derive;
- at the end, at step ``total_steps + 1``: per scored meta-test episode (``epoch`` = its
  index), phase ``test``: ``<learner>_acc`` / ``_loss`` after ``test_inner_steps``, its
  ``adaptation_curve`` events, and a ``fewshot_test`` event with mean accuracy and 95%
  confidence interval (Student's t over the episodes) per learner (also phase
  ``test_summary``).

A checkpoint between meta-steps as ``checkpoint_every`` says (every N, or ``"auto"``:
as time allows, :mod:`nasbench.runs.checkpoint_schedule`) and after every meta-epoch holds the
three networks; tasks are regenerated from their index, so a resumed run ends with the
numbers of an uninterrupted one.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nasbench.data.fewshot import Episode
from nasbench.runs import RunStore, save_checkpoint
from nasbench.runs.checkpoint import load_for_resume, require_keys, restoring
from nasbench.runs.checkpoint_schedule import CheckpointSchedule
from nasbench.runs.faults import fault_point
from nasbench.strategies.meta.adaptation import (
    Curve,
    adapt,
    meta_step,
    pooled_step,
    query_scores,
    trial,
)
from nasbench.strategies.meta.config import MetaNasConfig
from nasbench.strategies.meta.tasks import task_samplers, task_supernet

LEARNERS = ("metanas", "reptile", "pooled_darts")


def mean_ci95(values: Any) -> tuple[float, float]:
    """Mean and half-width of its 95% confidence interval, Student's t with n - 1 degrees
    of freedom: the watched episodes are few (4 per meta-epoch by default), where the
    normal quantile 1.96 would claim an interval about 40% too narrow.

    Args:
        values: one accuracy per episode.

    Returns:
        ``(mean, half_width)``; the half-width is NaN for fewer than two values.

    Example:
        >>> mean_ci95([0.5, 0.7, 0.6, 0.6])
        (0.6, 0.1299...)
    """
    from scipy import stats  # imported here: scipy.stats is slow to import

    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return float(x.mean()) if len(x) else math.nan, math.nan
    t95 = float(stats.t.ppf(0.975, len(x) - 1))
    return float(x.mean()), float(t95 * x.std(ddof=1) / math.sqrt(len(x)))


class MetaParts:
    """The samplers and the learners' networks of one METANAS search (rebuilt on resume)."""

    def __init__(self, config: Any, meta: MetaNasConfig) -> None:
        self.train, self.test = task_samplers(config, meta)
        names = LEARNERS if meta.baselines else LEARNERS[:1]
        if not meta.pooled_baseline:
            names = tuple(n for n in names if n != "pooled_darts")
        self.nets: dict[str, torch.nn.Module] = {}
        for name in names:
            # Same seed: every learner starts alike; only METANAS's edges are pruned.
            net = task_supernet(config, meta, prune=name == "metanas")
            if name == "reptile":
                with torch.no_grad():
                    for alpha in net.arch_parameters():
                        alpha.zero_()
            self.nets[name] = net


class MetaLoop:
    """One METANAS search's loop state.

    Args:
        config: the search config.
        meta: its METANAS settings.
        store: the open run store.
        run_dir: the run folder (checkpoints).
        parts: built already (a new run builds them before creating its folder).
        progress: print a line per meta-epoch.
    """

    def __init__(
        self,
        config: Any,
        meta: MetaNasConfig,
        store: RunStore,
        run_dir: Path,
        parts: MetaParts | None = None,
        progress: bool = False,
    ) -> None:
        self.config, self.meta, self.store, self.run_dir = config, meta, store, Path(run_dir)
        self.parts = parts or MetaParts(config, meta)
        self.progress = progress
        self.total_steps = config.epochs * meta.meta_steps
        self.step = self.epoch = self.batch = 0
        self.summary: dict[str, dict[str, float]] = {}
        self.checkpoints = CheckpointSchedule(config.checkpoint_every)

    # ---- checkpoints ------------------------------------------------------------------------
    def _checkpoint(self) -> None:
        state = {
            "nets": {name: net.state_dict() for name, net in self.parts.nets.items()},
            "epoch": self.epoch,
            "batch": self.batch,
        }
        self.store.check_in_place()  # else a moved folder's checkpoint lands in a new run's
        with self.checkpoints.writing():
            save_checkpoint(self.run_dir, state, step=self.step)

    def _restore(self) -> bool:
        state = load_for_resume(self.run_dir, self.store.last_step("train"))
        if state is None:
            self.store.discard_after(-1)
            self.store.set_progress(0, self.total_steps, 0, self.config.epochs)
            return False
        require_keys(state, ("nets", "epoch", "batch"), self.run_dir)
        with restoring(self.run_dir):
            for name, net in self.parts.nets.items():
                net.load_state_dict(state["nets"][name])
        self.step, self.epoch, self.batch = state["step"], state["epoch"], state["batch"]
        self.store.discard_after(self.step)
        # Where the rows now end, as that step recorded it (an epoch's end checkpoints the
        # next epoch's start), as the supernet loop does: a stop before the first step
        # would otherwise leave the killed run's later step in the progress row.
        epoch = self.epoch - 1 if self.batch == 0 and self.step else self.epoch
        self.store.set_progress(self.step, self.total_steps, epoch, self.config.epochs)
        return True

    # ---- the loop ---------------------------------------------------------------------------
    def run(self, resume: bool = False) -> str:
        """Meta-train (or continue), then score the meta-test episodes.

        Returns:
            ``"finished"`` or ``"stopped"``.
        """
        if not (resume and self._restore()):
            self.store.log_event(
                "search_started",
                {"total_steps": self.total_steps, "learners": list(self.parts.nets)},
                step=0,
            )
            self._log_records(self.parts.nets["metanas"].alpha_records(), "alpha")
        while self.epoch < self.config.epochs:
            while self.batch < self.meta.meta_steps:
                if self.store.stop_requested():
                    self._checkpoint()
                    return "stopped"
                self._meta_step()
                if self.batch < self.meta.meta_steps and self.checkpoints.due(self.step):
                    self._checkpoint()
            self._end_epoch()
        self._meta_test()
        return "finished"

    def _temperature_min(self, name: str) -> float | None:
        """The temperature schedule of learner ``name``'s adaptation: METANAS's own
        (annealed within each task to ``temperature_min``), none for the baselines."""
        return self.meta.temperature_min if name == "metanas" else None

    def _warming_up(self) -> bool:
        """True in the first ``warmup_fraction`` of the meta-steps (alphas held)."""
        return self.step < self.meta.warmup_fraction * self.total_steps

    def _episodes(self) -> list[Episode]:
        first = self.step * self.meta.meta_batch_size
        return [self.parts.train.episode(first + j) for j in range(self.meta.meta_batch_size)]

    def _meta_step(self) -> None:
        m, episodes = self.meta, self._episodes()
        learn_alphas = not self._warming_up()
        metrics: dict[str, float] = {}
        for name, net in self.parts.nets.items():
            if name == "pooled_darts":
                scores = [
                    pooled_step(net, e, m.inner_steps, m.inner_lr, m.inner_arch_lr)
                    for e in episodes
                ]
                out = {k: float(np.mean([s[k] for s in scores])) for k in scores[0]}
            else:
                out = meta_step(
                    net,
                    episodes,
                    algorithm=m.algorithm,
                    inner_steps=m.inner_steps,
                    inner_lr=m.inner_lr,
                    inner_arch_lr=m.inner_arch_lr,
                    meta_lr=m.meta_lr,
                    meta_arch_lr=m.meta_arch_lr,
                    learn_alphas=name == "metanas" and learn_alphas,
                    arch_optimizer=m.inner_arch_optimizer,
                    temperature_min=self._temperature_min(name),
                )
            metrics.update({f"{name}_{k}": v for k, v in out.items()})
        self.step += 1
        self.batch += 1
        with self.store.batch():
            self.store.log_metrics(self.step, self.epoch, "train", metrics)
            self.store.set_progress(self.step, self.total_steps, self.epoch, self.config.epochs)
        fault_point("step")

    def _adapted(
        self, name: str, episode: Episode, steps: int, whole: bool = True, test: bool = False
    ) -> tuple[Curve, list]:
        """Adapt a learner to ``episode`` on trial; its curve (``whole``: every step, else
        the final score only) and adapted alpha records. ``test``: a scored meta-test
        episode, whose alphas adapt at ``test_arch_lr_scale`` times ``inner_arch_lr``."""
        net = self.parts.nets[name]
        m = self.meta
        arch_lr = m.inner_arch_lr * (m.test_arch_lr_scale if test else 1.0)
        with trial(net):
            curve = adapt(
                net,
                episode,
                steps,
                m.inner_lr,
                arch_lr,
                learn_alphas=name != "reptile" and arch_lr > 0,
                record=whole,
                arch_optimizer=m.inner_arch_optimizer,
                temperature_min=self._temperature_min(name),
            )
            if not whole:
                acc, loss = query_scores(net, episode)
                curve = Curve((acc,), (loss,))
            records = net.alpha_records() if name == "metanas" else []
        return curve, records

    def _log_curve(
        self, name: str, phase: str, index: int, curve: Curve, step: int, epoch: int | None
    ) -> None:
        """Log one learner's adaptation curve on episode ``index``, at meta-epoch ``epoch``
        (None for the meta-test, which follows every meta-epoch)."""
        self.store.log_event(
            "adaptation_curve",
            {
                "learner": name,
                "phase": phase,
                "episode": index,
                "query_acc": list(curve.query_acc),
                "query_loss": list(curve.query_loss),
            },
            step=step,
            epoch=epoch,
        )

    def _end_epoch(self) -> None:
        m = self.meta
        watched = range(m.test_episodes, m.test_episodes + m.val_episodes)
        metrics: dict[str, float] = {}
        curves: list[tuple[str, int, Curve]] = []
        adapted: list = []
        for name in self.parts.nets:
            finals = []
            for index in watched:
                curve, records = self._adapted(name, self.parts.test.episode(index), m.inner_steps)
                finals.append((curve.query_acc[-1], curve.query_loss[-1]))
                curves.append((name, index, curve))
                if index == watched[0] and records:
                    adapted = records
            metrics[f"{name}_val_acc"] = float(np.mean([a for a, _ in finals]))
            metrics[f"{name}_val_loss"] = float(np.mean([loss for _, loss in finals]))
        genotype = self.parts.nets["metanas"].genotype()
        with self.store.batch():
            self.store.log_metrics(self.step, self.epoch, "val", metrics)
            for name, index, curve in curves:
                self._log_curve(name, "meta-epoch", index, curve, self.step, self.epoch)
            self.store.log_genotype(self.epoch, self.step, genotype.to_json(), metrics)
            self._log_records(self.parts.nets["metanas"].alpha_records(), "alpha")
            self._log_records(adapted, "adapted")
        if self.progress:
            print(
                f"meta-epoch {self.epoch}: "
                + ", ".join(f"{k} {v:.3f}" for k, v in metrics.items() if k.endswith("_acc")),
                flush=True,
            )
        self.epoch += 1
        self.batch = 0
        fault_point("epoch_end")
        self._checkpoint()

    def _log_records(self, records: list, kind: str) -> None:
        for r in records:
            self.store.log_alphas(
                self.step, self.epoch, r.cell_type, r.raw, r.op_names, r.edge_names,
                weights=r.weights, kind=kind,
            )  # fmt: skip

    def _meta_test(self) -> None:
        """Score every learner on the meta-test episodes, after ``test_inner_steps``."""
        m, step = self.meta, self.total_steps + 1
        accs: dict[str, list[float]] = {name: [] for name in self.parts.nets}
        for index in range(m.test_episodes):
            episode = self.parts.test.episode(index)
            row: dict[str, float] = {}
            curves = []
            for name in self.parts.nets:
                whole = index < m.curve_episodes
                curve, _ = self._adapted(name, episode, m.test_inner_steps, whole, test=True)
                row[f"{name}_acc"], row[f"{name}_loss"] = curve.query_acc[-1], curve.query_loss[-1]
                accs[name].append(curve.query_acc[-1])
                if whole:
                    curves.append((name, curve))
            with self.store.batch():
                self.store.log_metrics(step, index, "test", row)
                for name, curve in curves:
                    # The payload names the episode; the event's epoch is the run's, and
                    # the meta-test belongs to none (as its fewshot_test event).
                    self._log_curve(name, "meta-test", index, curve, step, None)
        for name, values in accs.items():
            mean, ci = mean_ci95(values)
            self.summary[name] = {"acc_mean": mean, "acc_ci95": ci, "episodes": len(values)}
        flat = {f"{n}_{k}": float(v) for n, s in self.summary.items() for k, v in s.items()}
        with self.store.batch():
            self.store.log_metrics(step, self.config.epochs, "test_summary", flat)
            self.store.log_event(
                "fewshot_test",
                {
                    "n_way": m.n_way,
                    "k_shot": m.k_shot,
                    "n_query": m.n_query,
                    "learners": self.summary,
                },
                step=step,
            )
