"""Scoring architectures on pretext tasks, and the rank correlation UnNAS rests on.

UnNAS's central claim (Liu et al., 2020, Sec. 4) is that architectures rank alike on a
pretext task and on the labelled task: train a sample of architectures on each and the
rank correlation between the two accuracies is high. This module holds the pieces that
measure it: wrap the labelled splits as a pretext task (:func:`pretext_splits`), train
one cell briefly on any splits (:func:`score_cell`), and correlate the scores
(:func:`rank_correlation`, :func:`pretext_correlations`). ``benchmarks/unnas.py`` and
lesson 11 use them; :func:`nasbench.viz.plot_pretext_correlation` draws the result.

Example:
    >>> rank_correlation([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])["spearman_rho"]
    0.8
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from nasbench.data.pretext import pretext_dataset
from nasbench.errors import ConfigError
from nasbench.protocols import Genotype, Space

SPLIT_ORDER = ("train", "val", "test")


def pretext_splits(
    splits: Mapping[str, Any], pretext: str, seed: int = 0, **settings: Any
) -> dict[str, Any]:
    """Each labelled split wrapped as the pretext task (labels dropped).

    Args:
        splits: ``{"train": ds, "val": ds, "test": ds}`` of items ``(image, label)``.
        pretext: a :data:`~nasbench.data.pretext.PRETEXT_TASKS` name.
        seed: the wrappers' fixed random choices: each split draws its own items'
            choices from its own stream, and all share the task's (the jigsaw
            permutation set, so that a label means the same order in every split).
        **settings: ``grid``, ``n_permutations``, ``patch``.

    Returns:
        The same keys, pretext datasets as values.

    Example:
        >>> import torch
        >>> out = pretext_splits({"train": [(torch.zeros(1, 4, 4), 0)]}, "rotation")
        >>> len(out["train"])
        4
    """
    settings = {**settings, "task_seed": seed}
    return {
        name: pretext_dataset(ds, pretext, seed=seed + SPLIT_ORDER.index(name), **settings)
        if name in SPLIT_ORDER
        else pretext_dataset(ds, pretext, seed=seed, **settings)
        for name, ds in splits.items()
    }


def task_score(metrics: Mapping[str, float]) -> float:
    """One higher-is-better number of a split's metrics: ``acc`` for a classifier,
    minus ``mse`` for a regression (in-painting, colourisation).

    Example:
        >>> task_score({"acc": 0.75, "auc": 0.8}), task_score({"mse": 0.25, "loss": 0.25})
        (0.75, -0.25)
    """
    if "acc" in metrics:
        return float(metrics["acc"])
    if "mse" in metrics:
        return -float(metrics["mse"])
    raise ConfigError(
        f"cannot rank by metrics {sorted(metrics)}; expected 'acc' (classification) or "
        "'mse' (regression)."
    )


def score_cell(
    genotype: Genotype,
    space: Space,
    splits: Mapping[str, Any],
    train_config: Any = None,
    skeleton: dict[str, Any] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Train one cell from scratch on ``splits`` and score it on their test split.

    Args:
        genotype: the cell.
        space: its space (builds the network; its skeleton unless ``skeleton``).
        splits: ``train``, ``val`` and ``test`` datasets with ``.info`` (labelled or pretext).
        train_config: a :class:`~nasbench.evaluation.train_loop.TrainConfig` (None: its
            defaults, without augmentation on pretext splits). A pretext split refuses
            ``augment``: a flip turns a 90-degree item into the 270-degree one and
            reorders jigsaw tiles, so the labels would lie.
        skeleton: a ``Skeleton.to_dict()`` override (cells, channels).
        seed: the network's initial weights.

    Returns:
        ``score`` (:func:`task_score` of the test metrics), ``test`` (those metrics),
        ``params`` and ``wall_s``.

    Example:
        >>> score_cell(g, space, splits, TrainConfig(epochs=1))["score"]  # doctest: +SKIP
        0.73
    """
    from nasbench.evaluation.train_evaluator import skeleton_for
    from nasbench.evaluation.train_loop import train_model
    from nasbench.models import build

    missing = [name for name in SPLIT_ORDER if name not in splits]
    if missing:
        raise ConfigError(f"score_cell needs the splits train, val and test; missing {missing}.")
    train_config = _without_augmentation(splits["train"], train_config)
    info = splits["train"].info
    model = build(space.validate(genotype), skeleton_for(space, info, skeleton), seed=seed)
    out = train_model(
        model, splits["train"], splits["val"], splits["test"], info.task, train_config
    )
    return {
        "score": task_score(out.test),
        "test": out.test,
        "params": out.params,
        "wall_s": out.wall_s,
    }


def rank_correlation(x: Sequence[float], y: Sequence[float]) -> dict[str, float]:
    """Spearman's rho and Kendall's tau (tau-b) of two score lists (scipy).

    Args:
        x: scores of some architectures (e.g. on a pretext task).
        y: scores of the same architectures, same order (e.g. on the labelled task).

    Returns:
        ``spearman_rho``, ``spearman_p``, ``kendall_tau``, ``kendall_p``, ``n``; NaN
        correlations when either list is constant (no ranking).

    Example:
        >>> rank_correlation([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])["kendall_tau"]
        0.6
    """
    from scipy import stats  # imported here: slow to import, needed by few callers

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 2:
        raise ConfigError(
            f"rank correlation needs two score lists of one length >= 2, got {x.shape} and "
            f"{y.shape}."
        )
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        # Every architecture scored alike: no ranking to correlate (scipy would warn).
        nan = float("nan")
        return {
            "spearman_rho": nan,
            "spearman_p": nan,
            "kendall_tau": nan,
            "kendall_p": nan,
            "n": int(len(x)),
        }
    rho = stats.spearmanr(x, y)
    tau = stats.kendalltau(x, y)
    return {
        "spearman_rho": round(float(rho.statistic), 12),
        "spearman_p": float(rho.pvalue),
        "kendall_tau": round(float(tau.statistic), 12),
        "kendall_p": float(tau.pvalue),
        "n": int(len(x)),
    }


def pretext_correlations(frame: Any, pretexts: Sequence[str], target: str = "target") -> Any:
    """The rank correlation of each pretext column with the target column.

    Args:
        frame: a DataFrame, one row per architecture, a score column per pretext task
            and one for the labelled task (all higher-is-better).
        pretexts: the pretext columns.
        target: the labelled task's column.

    Returns:
        A DataFrame, one row per pretext task: ``pretext``, ``spearman_rho``,
        ``spearman_p``, ``kendall_tau``, ``kendall_p``, ``n``.

    Example:
        >>> import pandas as pd
        >>> frame = pd.DataFrame({"rotation": [1, 2, 3], "target": [1, 3, 2]})
        >>> pretext_correlations(frame, ["rotation"]).spearman_rho.tolist()
        [0.5]
    """
    import pandas as pd

    for column in [*pretexts, target]:
        if column not in frame.columns:
            raise ConfigError(
                f"no column {column!r} in the scores; columns: {', '.join(frame.columns)}."
            )
    rows = [
        {"pretext": p, **rank_correlation(frame[p].to_numpy(), frame[target].to_numpy())}
        for p in pretexts
    ]
    return pd.DataFrame(rows)


def sample_cells(space: Space, n: int, seed: int = 0) -> list[Genotype]:
    """``n`` distinct cells (by canonical form where the space has one), drawn uniformly
    from ``space`` with ``seed``.

    Example:
        >>> from nasbench.spaces import create_space
        >>> len(sample_cells(create_space("darts"), 3, seed=0))
        3
    """
    size = space.size()
    if size < n:  # known at once; the draws below would take 1000 * n tries
        raise ConfigError(f"the space has fewer than {n} distinct cells ({size}); sample fewer.")
    rng = np.random.default_rng(seed)
    # Spaces with isomorphic cells (NB-101, NB-201) say which are one; genotypes hash.
    canonical = getattr(space, "canonical", lambda g: g)
    seen: set[Any] = set()
    out: list[Genotype] = []
    for _ in range(1000 * n):
        g = space.sample(rng)
        key = canonical(g)
        if key not in seen:
            seen.add(key)
            out.append(g)
        if len(out) == n:
            return out
    raise ConfigError(f"the space has fewer than {n} distinct cells; sample fewer.")


def _without_augmentation(train: Any, train_config: Any) -> Any:
    """``train_config`` for ``train``: pretext data get no flips or crops (they would
    change what the labels mean), labelled data keep the config as given."""
    from nasbench.data.pretext import is_pretext
    from nasbench.evaluation.train_loop import TrainConfig

    if not is_pretext(train):
        return train_config
    if train_config is None:
        return TrainConfig(augment=False)
    if train_config.augment:
        raise ConfigError(
            "augment flips and crops the pretext images, which changes their labels (a "
            "flipped 90-degree turn is a 270-degree one): pass TrainConfig(augment=False)."
        )
    return train_config
