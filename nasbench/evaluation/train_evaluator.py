"""The training evaluator: full or partial training of a genotype's network.

:class:`TrainEvaluator` builds the network of a genotype and trains it with the
shared loop (:func:`nasbench.evaluation.train_loop.train_model`). A ``budget`` below
the configured epochs is *partial training*: the run follows the full recipe's
learning-rate schedule and stops after ``budget`` epochs, which is exactly what a
tabular benchmark's epoch-``budget`` entry records, so the two evaluators agree.
Successive halving and Hyperband, which spend epoch budgets over many candidates,
are strategies: :mod:`nasbench.strategies.discrete.halving`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench.errors import ConfigError, DivergenceError
from nasbench.evaluation.base import Result
from nasbench.evaluation.metrics import CLASSIFICATION_TASKS
from nasbench.evaluation.registry import register_evaluator
from nasbench.options import MethodConfig, option
from nasbench.protocols import Genotype, Space

SCORE_METRICS = ("val_acc", "val_auc", "val_psnr", "val_ssim")
# The scores each task's training reports; the default (val_auc) falls back to the task's
# own selection metric where it has no AUC, but a metric asked for by name must exist.
TASK_SCORE_METRICS = {
    **dict.fromkeys(CLASSIFICATION_TASKS, ("val_acc", "val_auc")),
    "reconstruction": ("val_psnr", "val_ssim"),
}


def check_score_metric(metric: str, info: Any) -> None:
    """Refuse, in one line, a score metric the dataset's task does not report.

    Args:
        metric: ``evaluator_config["metric"]`` as given.
        info: the dataset's :class:`~nasbench.data.DatasetInfo`.

    Raises:
        ConfigError: the task reports no such metric (the candidates would be scored by
            another one without a word).

    Example:
        >>> from nasbench.data import get_info
        >>> check_score_metric("val_psnr", get_info("synthetic"))
        Traceback (most recent call last):
        ...
        nasbench.errors.ConfigError: evaluator_config metric 'val_psnr' is not reported for binary data (dataset synthetic); use one of val_acc, val_auc.
    """  # noqa: E501
    known = TASK_SCORE_METRICS.get(info.task)
    if known is not None and metric not in known:
        raise ConfigError(
            f"evaluator_config metric {metric!r} is not reported for {info.task} data "
            f"(dataset {info.name}); use one of {', '.join(known)}."
        )


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


def load_evaluation_data(spec: DataSpec, seed: int = 0):
    """Load the train, val and test splits an evaluator trains and scores on.

    Args:
        spec: the data (a ``limit`` caps every split, stratified).
        seed: seeds the ``limit`` choice.

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

    # ``augment`` is applied per batch by the training loop (TrainConfig.augment), drawn
    # anew each epoch; an item transform here would freeze one draw per cached image.
    train = one("train", "default")
    return train, one("val", "default"), one("test", "default"), train.info


def skeleton_for(space: Space, info: Any, skeleton: dict | None = None) -> Any:
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


def require_space(space: Space, who: str) -> Any:
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
    metric: str = option(
        "val_auc",
        "validation metric used as the score (MedMNIST ranks by AUC; ACC when AUC is undefined)",
        choices=SCORE_METRICS,
    )
    skeleton: dict | None = option(None, "macro skeleton override (Skeleton.to_dict())")
    device: str = option(
        "auto", "auto (CUDA when present), cpu or cuda", choices=("auto", "cpu", "cuda")
    )


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

    @staticmethod
    def check_given(config: TrainEvalConfig, given: Mapping[str, Any], info: Any) -> None:
        """Refuse, before a search starts, a ``metric`` named in ``evaluator_config`` that
        the dataset's task does not report (see :func:`check_score_metric`). The default,
        ``val_auc``, stands for the task's own score where it has no AUC, even when named
        (the launcher's form names every setting).

        Args:
            config: the evaluator's settings.
            given: ``evaluator_config`` as written (which settings were named).
            info: the dataset's :class:`~nasbench.data.DatasetInfo`.

        Example:
            >>> TrainEvaluator.check_given(TrainEvalConfig(), {}, None)  # nothing named
        """
        if "metric" in given and config.metric != TrainEvalConfig().metric:
            check_score_metric(config.metric, info)

    def __init__(
        self,
        config: TrainEvalConfig | None = None,
        *,
        space: Space = None,
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
            self._splits = load_evaluation_data(self.data, self.seed)
        return self._splits

    def evaluate(self, genotype: Genotype, budget: float | None = None) -> Result:
        """Train ``genotype`` for ``budget`` epochs (None: ``config.epochs``) and score it.

        Args:
            genotype: a member of the space.
            budget: epochs to train, 1..``config.epochs``.

        Returns:
            A Result: ``score`` (= ``config.metric`` of the kept epoch, ``val_auc`` by
            default as MedMNIST ranks; ``val_acc`` when the AUC is undefined, a validation
            split with one class; the task's own selection metric when the task has no
            such score), ``val_acc``,
            ``val_auc``, ``test_acc``, ``test_auc`` (reconstruction: ``val_psnr``, ``val_ssim``,
            ``val_nmse`` and their ``test_`` twins); cost ``params``, ``macs``, ``wall_s``,
            ``epochs``; info ``history`` (per-epoch records).
        """
        from nasbench.evaluation.tasks import task_of_info
        from nasbench.evaluation.train_loop import SELECT_METRICS, TrainConfig, train_model
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
        # The kept epoch is the best by the score's own metric ("val_acc" keeps the most
        # accurate epoch, not the one of best AUC).
        chosen = cfg.metric.removeprefix("val_")
        if cfg.metric.startswith("val_") and chosen in SELECT_METRICS:
            recipe.select = chosen

        def stop_at_budget(record: dict[str, Any]) -> bool:
            return record["epoch"] + 1 < epochs

        try:
            out = train_model(model, train, val, test, info.task, recipe, on_epoch=stop_at_budget)
        except DivergenceError as err:
            # The discrete loop records this candidate as failed and goes on (and ends the
            # search with this line if every candidate diverges): say which candidate and
            # which setting (not train's --lr) to lower.
            where = getattr(err, "where", None) or f"({err})"
            raise DivergenceError(
                f"training candidate {g.to_json()} diverged {where}; "
                f"lower the train evaluator's lr (evaluator_config {{'lr': {cfg.lr:g}}}) "
                "and search again."
            ) from None
        shape = (1, info.in_channels, *(self.data.size,) * info.spatial_dims)
        # The task's scores (ACC/AUC, Dice, PSNR/SSIM) under val_/test_ names.
        metrics = {f"val_{k}": v for k, v in out.best_val.items() if k != "loss"}
        metrics.update({f"test_{k}": v for k, v in out.test.items() if k != "loss"})
        select = f"val_{task_of_info(info).select}"
        score = metrics.get(cfg.metric, metrics[select])
        if not math.isfinite(score) and "val_acc" in metrics:
            score = metrics["val_acc"]  # an AUC needs both classes in the validation split
        metrics["score"] = score
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
