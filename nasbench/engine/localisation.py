"""Glue from a :class:`~nasbench.config.SearchConfig` to the multi-agent localisation search.

``nasbench.search`` dispatches here for strategies of kind ``"multi-agent"``
(``marl-gdas``). One run:

1. loads the train and test volumes of a localisation dataset
   (``synthetic-landmarks3d`` or a registered folder);
2. searches: deep Q-learning of the K agents whose network is a
   :class:`~nasbench.models.marl_network.MarlSupernet`, with a GDAS architecture step
   after each weight step (``epochs`` rounds of episodes, ``max_steps_per_epoch``
   updates each, default 20; the first ``arch_warmup`` fraction of the rounds trains
   the Q-network only, tau anneals over the rest); per round it records the TD loss,
   the reward, how decided the alphas are (``alpha_max_softmax``, ``alpha_entropy``:
   means over every edge), the alphas of the shared cells and of every agent's cells
   (cell types ``shared_normal``, ``agent0_reduce``...), the derived shared cell
   (genotypes) and every part's cell (``agent_genotypes`` events);
3. retrains agents with the derived cells from scratch, with ``random_cell`` agents of
   cells drawn at random from the same space (seeded by the run's seed; arm ``random``,
   trained exactly as the derived ones; the draw is a ``random_genotypes`` event)
   and, with ``baselines``, agents
   of the hand-designed cell (the same layout, 3x3 convs) and a CNN that regresses the
   coordinates directly; all are scored on the test volumes from the same start
   positions: distance error per landmark in voxels and mm (phase ``test``, metric
   names ``<arm>_dist_vox_<landmark>``..., arms ``searched``, ``random``, ``hand``,
   ``regression``, plus ``start`` for the error of not moving at all; the alpha summary
   before and after the search as ``search_alpha_max_softmax_start`` / ``_end`` and
   ``search_alpha_entropy_start`` / ``_end``; with ``select_on_val`` (default)
   each arm of agents keeps the weights of its round that localised the validation
   volumes best (``<arm>_val_dist_vox``, ``<arm>_best_round``; every round's metrics
   go to a ``retrain_history`` event per arm); with 3 or more landmarks also
   ``<arm>_plane_angle_deg`` and ``<arm>_plane_offset_vox``, the errors of the plane
   through the first three estimates, the plane-localisation view); the wall seconds of the search
   and of each arm's training go to a ``localisation_seconds`` event, and every arm's
   estimates on the first ``ESTIMATE_VOLUMES`` test volumes to a ``landmark_estimates``
   event (see :func:`estimate_records`; ``nasbench.viz.landmarks`` draws them in 3D).

Runs on the CPU (the volumes are small); resume is not supported.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nasbench.config import SearchConfig
from nasbench.engine.result import SearchResult
from nasbench.engine.run_setup import recording_status, search_settings
from nasbench.runs import RunStore
from nasbench.runs.environment import capture_environment
from nasbench.runs.store import check_new_run_dir
from nasbench.strategies.differentiable.base import warmup_steps

DEFAULT_UPDATES = 20
ESTIMATE_VOLUMES = 3  # test volumes whose every estimate is recorded (for the 3D view)


def dqn_settings(config: SearchConfig, method_config: Any, rounds: int | None = None) -> Any:
    """The Q-learning settings a config describes (``rounds`` overrides ``epochs``)."""
    from nasbench.evaluation.dqn import DqnSettings

    m = method_config
    return DqnSettings(
        rounds=config.epochs if rounds is None else rounds,
        updates=config.max_steps_per_epoch or DEFAULT_UPDATES,
        envs=m.envs,
        episode_steps=m.episode_steps,
        coarse_step=m.coarse_step,
        patch=m.patch,
        batch_size=m.batch_size,
        buffer_size=m.buffer_size,
        gamma=m.gamma,
        lr=m.lr,
        epsilon_start=m.epsilon_start,
        epsilon_end=m.epsilon_end,
        target_every=m.target_every,
        multiscale=m.multiscale,
        double_dqn=m.double_dqn,
        curriculum=m.start_curriculum,
    )


def _volumes(config: SearchConfig, split: str) -> tuple[torch.Tensor, torch.Tensor, Any]:
    from nasbench.data import load

    ds = load(
        config.dataset.name,
        split,
        root=config.dataset.root,
        size=config.dataset.size,
        download=config.dataset.download,
        transform=None,
    )
    n = len(ds) if config.dataset.limit is None else min(len(ds), config.dataset.limit)
    items = [ds[i] for i in range(n)]
    volumes = torch.stack([v[0] for v, _ in items])
    targets = torch.stack([t for _, t in items])
    return volumes, targets, ds.base  # the LandmarkDataset: names, spacing


def run_localisation_search(
    config: SearchConfig, run_dir: str | Path, progress: bool = False
) -> SearchResult:
    """Run a multi-agent localisation search, recording it in ``run_dir``.

    Args:
        config: a search config whose strategy is of kind ``"multi-agent"``; validated here.
        run_dir: a folder that does not yet hold a run.
        progress: print one line per round on stderr.

    Returns:
        A :class:`SearchResult`: the derived shared cell as ``genotype``, the test metrics
        of every arm as ``metrics``.

    Example:
        >>> cfg = SearchConfig(strategy="marl-gdas", epochs=2,
        ...                    dataset={"name": "synthetic-landmarks3d", "size": 32})
        >>> run_localisation_search(cfg, "runs/marl").metrics["searched_dist_mm"]  # doctest: +SKIP
    """
    config.validate()
    check_new_run_dir(run_dir)
    train = _volumes(config, "train")  # before the store: bad data leaves no folder behind
    test = _volumes(config, "test")
    val = _volumes(config, "val")
    store = RunStore.create(
        run_dir, config.to_dict(), capture_environment("cpu", config.deterministic)
    )
    with store, search_settings(config.deterministic):
        with recording_status(store):
            result = _Search(config, store, Path(run_dir), progress).run(train, test, val)
        store.set_status(result.status)
        return result


class _Search:
    def __init__(self, config: SearchConfig, store: RunStore, run_dir: Path, progress: bool):
        from nasbench.strategies import create_strategy

        self.config, self.store, self.run_dir, self.progress = config, store, run_dir, progress
        self.method = create_strategy(config.strategy, config.strategy_config, seed=config.seed)
        self.m = self.method.config
        self.settings = dqn_settings(config, self.m)
        self.shared = (self.m.shared_normal, self.m.shared_reduce)
        self.own = (self.m.agent_normal, self.m.agent_reduce)
        self.stopped = False

    def run(self, train: tuple, test: tuple, val: tuple | None = None) -> SearchResult:
        from nasbench.evaluation.dqn import train_dqn
        from nasbench.models.marl_network import MarlSupernet

        volumes, targets, ds = train
        n_agents = targets.shape[1]
        supernet = MarlSupernet(
            n_agents,
            self.method,
            channels=self.m.channels,
            n_nodes=self.m.n_nodes,
            shared=self.shared,
            own=self.own,
            patch=self.m.patch,
            seed=self.config.seed,
        )
        rounds, updates = self.settings.rounds, self.settings.updates
        warmup = warmup_steps(self.m.arch_warmup, rounds)
        now = {"round": 0}
        alphas_start = alpha_summary(self.method, supernet)

        def arch_step(batch: dict, loss_fn: Any) -> dict:
            if now["round"] < warmup:  # the Q-network learns first: no arch signal yet
                return {}
            val = (batch["obs"], batch["target"])
            return self.method.arch_step(supernet, val, val, loss_fn, self.m.lr, None)

        def on_round(r: int, last: dict) -> bool:
            if r > 0:
                self._end_round(supernet, r - 1, last)
            if self.store.stop_requested():
                self.stopped = True
                return True
            now["round"] = r
            # tau stays at tau_max through the warm-up, then anneals to tau_min
            self.method.on_epoch_start(max(r - warmup, 0), rounds - warmup)
            return False

        started = time.perf_counter()
        history = train_dqn(
            supernet,
            volumes,
            targets,
            self.settings,
            seed=self.config.seed,
            weight_parameters=supernet.weight_parameters(),
            arch_step=arch_step,
            on_round=on_round,
        )
        if not self.stopped:
            self._end_round(supernet, rounds - 1, history[-1])
        genotypes = self.method.derive_genotype(supernet)
        steps = len(history) * updates
        if self.stopped:
            return SearchResult(self.run_dir, "stopped", genotypes["shared"], {}, steps)
        self.seconds = {"search": time.perf_counter() - started}
        random_cells = (
            supernet.random_genotypes(self.config.seed + 5) if self.m.random_cell else None
        )
        if random_cells is not None:
            self.store.log_event(
                "random_genotypes", {part: g.to_dict() for part, g in random_cells.items()}
            )
        metrics = self._score(genotypes, train, test, ds, val, random_cells)
        end = alpha_summary(self.method, supernet)
        for key in end:
            metrics[f"search_{key}_start"] = alphas_start[key]
            metrics[f"search_{key}_end"] = end[key]
        # Wall seconds are an event, not metrics: metrics stay equal for equal seeds.
        self.store.log_event("localisation_seconds", self.seconds, step=steps)
        self.store.log_metrics(steps, rounds - 1, "test", metrics)
        return SearchResult(self.run_dir, "finished", genotypes["shared"], metrics, steps)

    def _end_round(self, supernet: Any, r: int, metrics: dict) -> None:
        step = (r + 1) * self.settings.updates
        with self.store.batch():
            summary = alpha_summary(self.method, supernet)
            self.store.log_metrics(
                step, r, "search", {**metrics, "tau": self.method.tau, **summary}
            )
            for rec in self.method.alpha_records(supernet):
                self.store.log_alphas(
                    step,
                    r,
                    rec.cell_type,
                    rec.raw,
                    rec.op_names,
                    rec.edge_names,
                    weights=rec.weights,
                    kind=rec.kind,
                )
            genotypes = self.method.derive_genotype(supernet)
            self.store.log_genotype(r, step, genotypes["shared"], {"part": "shared"})
            self.store.log_event(
                "agent_genotypes",
                {part: g.to_dict() for part, g in genotypes.items()},
                step=step,
                epoch=r,
            )
            self.store.set_progress(
                step, self.settings.rounds * self.settings.updates, r, self.settings.rounds
            )
        if self.progress:
            import sys

            line = ", ".join(f"{k} {v:.4g}" for k, v in metrics.items())
            print(f"round {r + 1}/{self.settings.rounds}: {line}", file=sys.stderr)

    def _score(
        self,
        genotypes: dict,
        train: tuple,
        test: tuple,
        ds: Any,
        val: tuple | None = None,
        random_cells: dict | None = None,
    ) -> dict[str, float]:
        """Retrain the derived agents (and the baselines) and score them on the test set.

        ``random_cells`` (cells drawn at random from the same space) are trained and
        scored exactly as the derived ones, as the arm ``random``.

        With ``val`` (and ``select_on_val``) each arm of agents ends with the weights of
        its round that localised the validation volumes best (the same seeded starts for
        every arm and round), not the last round's.
        """
        from nasbench.evaluation.dqn import (
            distance_errors,
            localise,
            plane_errors,
            regress,
            train_dqn,
            train_regressor,
            validation_score,
        )
        from nasbench.evaluation.landmark_env import random_starts
        from nasbench.models.marl_network import LandmarkRegressor, MarlNetwork

        volumes, targets, _ = train
        test_volumes, test_targets, test_ds = test
        seed, m = self.config.seed, self.m
        retrain = dataclasses.replace(
            self.settings, rounds=m.retrain_rounds or self.settings.rounds
        )
        names = tuple(ds.landmark_names)
        # Each test volume's own mm per voxel: from the test split, whose cases these are.
        spacing = test_ds.spacings[: len(test_volumes)]
        starts = random_starts(
            len(test_volumes),
            targets.shape[1],
            test_volumes.shape[1],
            torch.Generator().manual_seed(seed + 1),
        )

        def score(arm: str, found: torch.Tensor) -> dict[str, float]:
            errors = distance_errors(found, test_targets, spacing, names)
            if len(names) >= 3:
                errors.update(plane_errors(found, test_targets, spacing))
            return {f"{arm}_{k}": v for k, v in errors.items()}

        out = score("start", starts.float())
        shown = min(ESTIMATE_VOLUMES, len(test_volumes))
        estimates = {"start": starts[:shown].float()}
        validate = None
        if val is not None and m.select_on_val:
            val_volumes, val_targets, _ = val
            val_starts = random_starts(
                len(val_volumes),
                targets.shape[1],
                val_volumes.shape[1],
                torch.Generator().manual_seed(seed + 4),
            )
            validate = validation_score(val_volumes, val_targets, retrain, val_starts)
        layout = {
            "channels": m.channels,
            "shared": self.shared,
            "own": self.own,
            "patch": m.patch,
            "seed": seed,
            "n_agents": targets.shape[1],  # agents with no cell of their own have no genotype
        }
        arms = {"searched": MarlNetwork(genotypes, **layout)}
        if random_cells is not None:
            arms["random"] = MarlNetwork(random_cells, **layout)
        if m.baselines:
            arms["hand"] = MarlNetwork.hand_designed(n_nodes=m.n_nodes, **layout)
        for arm, net in arms.items():
            started = time.perf_counter()
            history = train_dqn(net, volumes, targets, retrain, seed=seed + 2, validate=validate)
            self.seconds[arm] = time.perf_counter() - started
            self.store.log_event("retrain_history", {"arm": arm, "rounds": history})
            if validate is not None:
                kept = next(r for r, h in enumerate(history) if h["best"])
                out[f"{arm}_val_dist_vox"] = history[kept]["val"]
                out[f"{arm}_best_round"] = float(kept)
            found = localise(net, test_volumes, test_targets, retrain, starts)
            estimates[arm] = found[:shown]
            out.update(score(arm, found))
            out[f"{arm}_params"] = float(sum(p.numel() for p in net.parameters()))
        if m.baselines:
            model = LandmarkRegressor(targets.shape[1], channels=2 * m.channels, seed=seed)
            started = time.perf_counter()
            train_regressor(model, volumes, targets, m.regressor_epochs, seed=seed + 3)
            self.seconds["regression"] = time.perf_counter() - started
            found = regress(model, test_volumes)
            estimates["regression"] = found[:shown]
            out.update(score("regression", found))
            out["regression_params"] = float(sum(p.numel() for p in model.parameters()))
        self.store.log_event(
            "landmark_estimates", estimate_records(estimates, test_targets, spacing, names)
        )
        return out


def alpha_summary(method: Any, supernet: Any) -> dict[str, float]:
    """How decided the architecture is: softmax of the alphas, mean over every edge of
    every cell type.

    Args:
        method: the differentiable method (its ``op_weights``).
        supernet: the supernet whose alphas to read.

    Returns:
        ``alpha_max_softmax`` (mean largest op weight of an edge: 1/n_ops when uniform,
        1 when one op has all of it) and ``alpha_entropy`` (mean entropy of an edge's op
        weights in nats: log(n_ops) when uniform, 0 when decided).

    Example:
        >>> from nasbench.strategies import create_strategy
        >>> from nasbench.models.marl_network import MarlSupernet
        >>> method = create_strategy("marl-gdas")
        >>> net = MarlSupernet(1, method, shared=(1, 0), own=(1, 0))
        >>> round(alpha_summary(method, net)["alpha_max_softmax"], 2)
        0.1
    """
    weights = torch.cat([method.op_weights(supernet, ct) for ct in supernet.cell_types])
    entropy = -(weights * weights.clamp_min(1e-12).log()).sum(dim=-1)
    return {
        "alpha_max_softmax": float(weights.max(dim=-1).values.mean()),
        "alpha_entropy": float(entropy.mean()),
    }


def estimate_records(
    estimates: dict[str, torch.Tensor],
    truth: torch.Tensor,
    spacing: Any,
    names: tuple[str, ...],
) -> dict[str, Any]:
    """Every arm's landmark estimates on a few test volumes, as an event payload.

    Args:
        estimates: arm -> ``(V, K, 3)`` voxel estimates on the first V test volumes.
        truth: ``(N, K, 3)`` true landmarks (N >= V).
        spacing: voxel spacing in mm along (d, h, w): one for every volume, or one row
            per test volume.
        names: the K landmark names.

    Returns:
        ``{"spacing", "names", "records"}`` (``spacing``: one ``[d, h, w]`` row per
        recorded volume); one record per (volume, arm, agent):
        ``volume`` (test index), ``arm``, ``agent``, ``landmark``, ``estimate_vox``,
        ``truth_vox``, ``estimate_mm``, ``truth_mm`` (``[d, h, w]``) and ``dist_vox``,
        ``dist_mm``.

    Example:
        >>> rec = estimate_records({"start": torch.zeros(1, 1, 3)}, torch.ones(1, 1, 3),
        ...                        (2.0, 1.0, 1.0), ("apex",))["records"][0]
        >>> rec["arm"], rec["estimate_mm"], rec["truth_mm"], round(rec["dist_mm"], 3)
        ('start', [0.0, 0.0, 0.0], [2.0, 1.0, 1.0], 2.449)
    """
    shown = max((found.shape[0] for found in estimates.values()), default=0)
    rows = np.asarray(spacing, dtype=np.float64)
    rows = np.broadcast_to(rows, (shown, 3)) if rows.ndim == 1 else rows[:shown]
    records = []
    for arm, found in estimates.items():
        for v in range(found.shape[0]):
            mm = torch.as_tensor(rows[v])
            for k, name in enumerate(names):
                est, true = found[v, k].double(), truth[v, k].double()
                records.append(
                    {
                        "volume": v,
                        "arm": arm,
                        "agent": k,
                        "landmark": name,
                        "estimate_vox": [round(float(x), 3) for x in est],
                        "truth_vox": [round(float(x), 3) for x in true],
                        "estimate_mm": [round(float(x), 3) for x in est * mm],
                        "truth_mm": [round(float(x), 3) for x in true * mm],
                        "dist_vox": float((est - true).norm()),
                        "dist_mm": float(((est - true) * mm).norm()),
                    }
                )
    return {"spacing": rows.tolist(), "names": list(names), "records": records}
