"""Training evaluators: full or partial training, successive halving and Hyperband.

:class:`TrainEvaluator` builds the network of a genotype and trains it with the
shared loop (:func:`nasbench.evaluation.train.train_model`). A ``budget`` below
the configured epochs is *partial training*: the run follows the full recipe's
learning-rate schedule and stops after ``budget`` epochs, which is exactly what a
tabular benchmark's epoch-``budget`` entry records, so the two evaluators agree.

:class:`SuccessiveHalving` (Jamieson & Talwalkar, 2016) and :class:`Hyperband`
(Li et al., 2018) spend a budget of epochs over many candidates: evaluate all at a
small budget, keep the best ``1/eta``, multiply the budget by ``eta``, repeat.
Every evaluation starts from scratch (evaluators do not resume), so the budget
spent is ``sum(n_i * r_i)`` over the rungs, and :meth:`SuccessiveHalving.planned_budget`
states it before anything runs.

Example:
    >>> sh = SuccessiveHalving(min_budget=1, max_budget=9, eta=3)
    >>> sh.plan(9), sh.planned_budget(9)
    ([(9, 1), (3, 3), (1, 9)], 27)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nasbench.errors import ConfigError
from nasbench.evaluation.base import Result
from nasbench.evaluation.registry import register_evaluator
from nasbench.strategies.differentiable.base import MethodConfig, option

SCORE_METRICS = ("val_acc", "val_auc", "val_psnr", "val_ssim")


# ---- data and networks shared by the evaluators ----------------------------------------------
@dataclass(frozen=True)
class DataSpec:
    """Which data an evaluator reads: name, image size, stratified limit, folder."""

    name: str = "synthetic"
    size: int = 28
    limit: int | None = None
    root: str | None = None
    download: bool = True


def data_spec(dataset: Any, size: int = 28, limit: int | None = None) -> DataSpec:
    """Normalise a dataset argument (None, a name, a DataSpec or a DatasetConfig-like object).

    Args:
        dataset: None (the offline ``"synthetic"`` default), a registry name, or an
            object with ``name`` and optionally ``size``/``limit``/``root``/``download``.
        size: image size when ``dataset`` does not give one.
        limit: stratified cap when ``dataset`` does not give one.

    Returns:
        A :class:`DataSpec`.

    Example:
        >>> data_spec("breastmnist", limit=64)
        DataSpec(name='breastmnist', size=28, limit=64, root=None, download=True)
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigError(f"limit must be None or an integer >= 1, got {limit!r}.")
    if dataset is None:
        return DataSpec(size=size, limit=limit)
    if isinstance(dataset, DataSpec):
        return dataset
    if isinstance(dataset, str):
        return DataSpec(name=dataset, size=size, limit=limit)
    if not hasattr(dataset, "name"):
        raise ConfigError(
            f"dataset must be a name like 'synthetic' or a DatasetConfig, got {dataset!r}."
        )
    given_limit = getattr(dataset, "limit", None)
    return DataSpec(
        name=str(dataset.name),
        size=int(getattr(dataset, "size", size) or size),
        limit=limit if given_limit is None else int(given_limit),
        root=getattr(dataset, "root", None),
        download=bool(getattr(dataset, "download", True)),
    )


def load_evaluation_data(spec: DataSpec, seed: int = 0, augment: bool = False):
    """Load the train, val and test splits an evaluator trains and scores on.

    Args:
        spec: the data (a ``limit`` caps every split, stratified).
        seed: seeds the ``limit`` choice.
        augment: light augmentation on the training split.

    Returns:
        ``(train, val, test, info)``.
    """
    from nasbench.data import load

    def one(split: str, transform: str):
        return load(
            spec.name,
            split,
            root=spec.root,
            size=spec.size,
            download=spec.download,
            limit=spec.limit,
            seed=seed,
            transform=transform,
        )

    train = one("train", "augment" if augment else "default")
    return train, one("val", "default"), one("test", "default"), train.info


def skeleton_for(space: Any, info: Any, skeleton: dict | None = None) -> Any:
    """The space's skeleton (or ``skeleton``) with channels, classes and dims of the data.

    Args:
        space: the search space (its ``default_skeleton()``).
        info: the dataset's ``DatasetInfo``.
        skeleton: a ``Skeleton.to_dict()``-style override, or None.

    Returns:
        A ``Skeleton`` whose ``in_channels``, ``num_classes`` and ``spatial_dims`` match the data.
    """
    base = space.default_skeleton()
    if skeleton:
        base = type(base).from_dict(skeleton)  # a Skeleton, or a U-Net or unrolled one
    return dataclasses.replace(
        base,
        in_channels=info.in_channels,
        num_classes=info.num_classes,
        spatial_dims=info.spatial_dims,
    )


def require_space(space: Any, who: str) -> Any:
    """Raise a one-line ConfigError when an evaluator that builds networks got no space."""
    if space is None or not hasattr(space, "validate"):
        raise ConfigError(
            f"the {who!r} evaluator builds networks and needs a search space "
            "(nasbench.spaces.create_space), got None."
        )
    return space


# ---- full and partial training ---------------------------------------------------------------
@dataclass
class TrainEvalConfig(MethodConfig):
    """Settings of the training evaluator (a budget below ``epochs`` is partial training)."""

    epochs: int = option(10, "epochs of full training (the budget None means this)", min=1)
    batch_size: int = option(64, "images per training step", min=1)
    lr: float = option(0.025, "initial SGD learning rate (cosine-annealed)", min=0.0)
    weight_decay: float = option(3e-4, "L2 penalty", min=0.0)
    augment: bool = option(False, "random flips and crops on the training split")
    size: int = option(28, "image edge length", min=1)
    limit: int | None = option(None, "stratified cap on the images of every split")
    metric: str = option("val_acc", "validation metric used as the score", choices=SCORE_METRICS)
    skeleton: dict | None = option(None, "macro skeleton override (Skeleton.to_dict())")
    device: str = option("auto", "auto (CUDA when present), cpu or cuda")


@register_evaluator("train", TrainEvalConfig)
class TrainEvaluator:
    """Train each candidate from scratch (full, or partial with an epoch budget).

    Args:
        config: a :class:`TrainEvalConfig`.
        space: the search space (builds the networks).
        dataset: a dataset name or DatasetConfig-like object (default ``"synthetic"``).
        seed: seeds the weights, batches and the ``limit`` choice.

    Example:
        >>> ev = TrainEvaluator(TrainEvalConfig(epochs=2, limit=64), space=space)  # doctest: +SKIP
        >>> ev.evaluate(g, budget=1).cost["epochs"]  # doctest: +SKIP
        1
    """

    def __init__(
        self,
        config: TrainEvalConfig | None = None,
        *,
        space: Any = None,
        dataset: Any = None,
        seed: int = 0,
    ) -> None:
        self.config = config or TrainEvalConfig()
        self.config.validate()
        self.space = require_space(space, "train")
        self.data = data_spec(dataset, self.config.size, self.config.limit)
        self.seed = int(seed)
        self._splits: tuple | None = None

    def __getstate__(self) -> dict[str, Any]:
        # Workers of a process pool reload the data rather than receive pickled tensors.
        return {**self.__dict__, "_splits": None}

    @property
    def max_budget(self) -> int:
        """The largest budget :meth:`evaluate` takes: ``config.epochs``."""
        return int(self.config.epochs)

    def splits(self) -> tuple:
        """``(train, val, test, info)``, loaded once."""
        if self._splits is None:
            self._splits = load_evaluation_data(self.data, self.seed, self.config.augment)
        return self._splits

    def evaluate(self, genotype: Any, budget: float | None = None) -> Result:
        """Train ``genotype`` for ``budget`` epochs (None: ``config.epochs``) and score it.

        Args:
            genotype: a member of the space.
            budget: epochs to train, 1..``config.epochs``.

        Returns:
            A Result: ``score`` (= ``config.metric`` of the kept epoch, or the task's own
            selection metric when the task has no such score), ``val_acc``, ``val_auc``,
            ``test_acc``, ``test_auc`` (reconstruction: ``val_psnr``, ``val_ssim``,
            ``val_nmse`` and their ``test_`` twins); cost ``params``, ``macs``, ``wall_s``,
            ``epochs``; info ``history`` (per-epoch records).
        """
        from nasbench.evaluation.tasks import task_of_info
        from nasbench.evaluation.train import TrainConfig, train_model
        from nasbench.models import build, count_macs

        cfg = self.config
        epochs = check_budget(budget, cfg.epochs)
        g = self.space.validate(genotype)
        train, val, test, info = self.splits()
        skeleton = skeleton_for(self.space, info, cfg.skeleton)
        model = build(g, skeleton, seed=self.seed)
        recipe = TrainConfig(
            epochs=cfg.epochs,
            batch_size=min(cfg.batch_size, len(train)),
            lr=cfg.lr,
            weight_decay=cfg.weight_decay,
            augment=cfg.augment,
            device=cfg.device,
            seed=self.seed,
        )

        def stop_at_budget(record: dict[str, Any]) -> bool:
            return record["epoch"] + 1 < epochs

        out = train_model(model, train, val, test, info.task, recipe, on_epoch=stop_at_budget)
        shape = (1, info.in_channels, *(self.data.size,) * info.spatial_dims)
        # The task's scores (ACC/AUC, Dice, PSNR/SSIM) under val_/test_ names.
        metrics = {f"val_{k}": v for k, v in out.best_val.items() if k != "loss"}
        metrics.update({f"test_{k}": v for k, v in out.test.items() if k != "loss"})
        select = f"val_{task_of_info(info).select}"
        metrics["score"] = metrics.get(cfg.metric, metrics[select])
        cost = {
            "params": float(out.params),
            "macs": float(count_macs(model.cpu(), shape)),
            "wall_s": out.wall_s,
            "epochs": float(out.epochs_run),
        }
        return Result(metrics, cost, {"evaluator": "train", "history": out.history})


def check_budget(budget: float | None, full: int) -> int:
    """Turn a budget into whole epochs in ``1..full`` (None means ``full``).

    Example:
        >>> check_budget(None, 10), check_budget(3, 10)
        (10, 3)
    """
    if budget is None:
        return int(full)
    if isinstance(budget, bool) or not isinstance(budget, (int, float, np.number)):
        raise ConfigError(f"budget must be a whole number of epochs, got {budget!r}.")
    if budget != int(budget) or not 1 <= budget <= full:
        raise ConfigError(f"budget must be a whole number of epochs in 1..{full}, got {budget!r}.")
    return int(budget)


# ---- successive halving and Hyperband --------------------------------------------------------
@dataclass
class Evaluation:
    """One evaluation made by successive halving or Hyperband."""

    bracket: int
    rung: int
    budget: int
    genotype: Any
    result: Result


@dataclass
class HalvingReport:
    """What a successive-halving or Hyperband run did.

    Attributes:
        best: the genotype with the best score at the largest budget.
        best_result: its result.
        evaluations: every evaluation, in order.
        planned_budget: epochs the schedule claims before running.
        spent_budget: epochs the evaluators report (``cost["epochs"]``, else the budget asked).
    """

    best: Any
    best_result: Result
    evaluations: list[Evaluation] = field(default_factory=list)
    planned_budget: int = 0
    spent_budget: float = 0.0

    def to_frame(self):
        """One row per evaluation: bracket, rung, budget, genotype (JSON), score."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "bracket": e.bracket,
                    "rung": e.rung,
                    "budget": e.budget,
                    "genotype": e.genotype.to_json(),
                    "score": e.result.score,
                }
                for e in self.evaluations
            ]
        )


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


class SuccessiveHalving:
    """Successive halving over a list of candidates, in whole epochs.

    Rung ``i`` evaluates ``n_i`` candidates at ``min_budget * eta**i`` epochs (the last
    rung at exactly ``max_budget``); the best ``n_i // eta`` (at least one) go on.

    Args:
        min_budget: epochs of the first rung.
        max_budget: epochs of the last rung.
        eta: the keep-one-in-``eta`` factor (>= 2).

    Example:
        >>> report = SuccessiveHalving(1, 9, 3).run(evaluator, candidates)  # doctest: +SKIP
        >>> report.spent_budget == report.planned_budget  # doctest: +SKIP
        True
    """

    def __init__(self, min_budget: int = 1, max_budget: int = 9, eta: int = 3) -> None:
        self.min_budget = _check_int("min_budget", min_budget, 1)
        self.max_budget = _check_int("max_budget", max_budget, 1)
        self.eta = _check_int("eta", eta, 2)
        if self.max_budget < self.min_budget:
            raise ConfigError(
                f"max_budget {max_budget} is below min_budget {min_budget}; swap or raise it."
            )

    def budgets(self) -> list[int]:
        """Epochs of each rung, smallest first, ending at ``max_budget``."""
        out, r = [], self.min_budget
        while r * self.eta <= self.max_budget:
            out.append(r)
            r *= self.eta
        if not out or out[-1] != self.max_budget:
            out.append(self.max_budget)
        return out

    def plan(self, n_candidates: int) -> list[tuple[int, int]]:
        """``(candidates, epochs)`` per rung for ``n_candidates`` starting candidates."""
        n = _check_int("the number of candidates", n_candidates, 1)
        plan = []
        for r in self.budgets():
            plan.append((n, r))
            n = max(1, n // self.eta)
        return plan

    def planned_budget(self, n_candidates: int) -> int:
        """Epochs the run will spend: ``sum(n_i * r_i)``."""
        return sum(n * r for n, r in self.plan(n_candidates))

    def run(self, evaluator: Any, candidates: Sequence[Any], bracket: int = 0) -> HalvingReport:
        """Run successive halving.

        Args:
            evaluator: anything with ``evaluate(genotype, budget) -> Result``.
            candidates: the genotypes to race (at least one).
            bracket: a label stored with every evaluation (Hyperband's bracket index).

        Returns:
            A :class:`HalvingReport`; its ``best`` survived every rung.
        """
        alive = list(candidates)
        if not alive:
            raise ConfigError("successive halving needs at least one candidate; got none.")
        plan = self.plan(len(alive))
        evaluations: list[Evaluation] = []
        spent = 0.0
        scored: list[tuple[float, int, Any, Result]] = []
        for rung, (n, budget) in enumerate(plan):
            alive = alive[:n]
            scored = []
            for order, g in enumerate(alive):
                result = evaluator.evaluate(g, budget)
                spent += float(result.cost.get("epochs", budget))
                evaluations.append(Evaluation(bracket, rung, budget, g, result))
                scored.append((_score(result), order, g, result))
            # Best first; ties keep the earlier candidate so runs are deterministic.
            scored.sort(key=lambda s: (-s[0], s[1]))
            alive = [s[2] for s in scored]
        best = scored[0]
        return HalvingReport(
            best[2], best[3], evaluations, self.planned_budget(len(candidates)), spent
        )


def _score(result: Result) -> float:
    value = result.score
    return value if math.isfinite(value) else -math.inf


class Hyperband:
    """Hyperband: successive-halving brackets from aggressive to conservative.

    With ``s_max = floor(log_eta(max_budget / min_budget))``, bracket ``s`` (``s_max``
    down to 0) starts ``ceil((s_max + 1) / (s + 1) * eta**s)`` candidates at
    ``max_budget / eta**s`` epochs (rounded, at least ``min_budget``).

    Args:
        min_budget: the smallest budget of any rung.
        max_budget: the budget of every bracket's last rung.
        eta: the keep-one-in-``eta`` factor.

    Example:
        >>> Hyperband(1, 9, 3).brackets()
        [(9, 1), (5, 3), (3, 9)]
    """

    def __init__(self, min_budget: int = 1, max_budget: int = 27, eta: int = 3) -> None:
        SuccessiveHalving(min_budget, max_budget, eta)  # the same argument checks
        self.min_budget, self.max_budget, self.eta = int(min_budget), int(max_budget), int(eta)
        s = 0
        while self.min_budget * self.eta ** (s + 1) <= self.max_budget:
            s += 1
        self.s_max = s

    def brackets(self) -> list[tuple[int, int]]:
        """``(candidates, first-rung epochs)`` per bracket, most aggressive first."""
        out = []
        for s in range(self.s_max, -1, -1):
            n = math.ceil((self.s_max + 1) / (s + 1) * self.eta**s)
            r = max(self.min_budget, round(self.max_budget / self.eta**s))
            out.append((n, r))
        return out

    def _halving(self, r: int) -> SuccessiveHalving:
        return SuccessiveHalving(r, self.max_budget, self.eta)

    def n_candidates(self) -> int:
        """Candidates the run consumes over all brackets."""
        return sum(n for n, _ in self.brackets())

    def planned_budget(self) -> int:
        """Epochs the whole run will spend."""
        return sum(self._halving(r).planned_budget(n) for n, r in self.brackets())

    def run(self, evaluator: Any, candidates: Any, seed: int = 0) -> HalvingReport:
        """Run every bracket.

        Args:
            evaluator: anything with ``evaluate(genotype, budget) -> Result``.
            candidates: a sequence of at least :meth:`n_candidates` genotypes (used in
                order), or a space to sample them from with ``seed``.
            seed: seeds the sampling when ``candidates`` is a space.

        Returns:
            A :class:`HalvingReport`; ``best`` is the best final-rung candidate of all brackets.
        """
        need = self.n_candidates()
        if hasattr(candidates, "sample"):
            rng = np.random.default_rng(seed)
            pool = [candidates.sample(rng) for _ in range(need)]
        else:
            pool = list(candidates)
            if len(pool) < need:
                raise ConfigError(
                    f"Hyperband({self.min_budget}, {self.max_budget}, eta={self.eta}) needs "
                    f"{need} candidates, got {len(pool)}; pass more or a space to sample from."
                )
        evaluations: list[Evaluation] = []
        spent, best = 0.0, None
        start = 0
        for index, (n, r) in enumerate(self.brackets()):
            report = self._halving(r).run(evaluator, pool[start : start + n], bracket=index)
            start += n
            evaluations += report.evaluations
            spent += report.spent_budget
            if best is None or _score(report.best_result) > _score(best.best_result):
                best = report
        assert best is not None
        return HalvingReport(best.best, best.best_result, evaluations, self.planned_budget(), spent)
