"""What a METANAS search is built from: the meta-train and meta-test task samplers, with
disjoint classes, and the supernet every learner starts from.

Meta-test tasks come from ``meta_test_dataset`` (its ``meta_test_split``, ``test`` unless
meta-validating) when one is named, else from the search dataset's last ``n_way`` classes
(same split), which meta-training then never sees. Meta-validation
(``meta_test_split="val"``) may name the search dataset itself: its val split's images.
"""

from __future__ import annotations

from typing import Any

from nasbench.errors import ConfigError
from nasbench.strategies.meta.config import MetaNasConfig

SINGLE_LABEL = ("binary", "multi-class", "ordinal")
# Episode seeds: meta-train tasks draw from (seed, i), meta-test tasks from (seed + 1, i).
TEST_SEED_OFFSET = 1


def check_meta_search(config: Any, meta: MetaNasConfig) -> None:
    """Raise a one-line ConfigError unless a METANAS search of ``config`` can run.

    Args:
        config: the :class:`~nasbench.config.SearchConfig`.
        meta: its validated :class:`MetaNasConfig`.
    """
    from nasbench.data import get_info

    info = get_info(config.dataset.name)
    _check_single_label(info, "dataset")
    _check_prune_below(config, meta)
    if config.eigen_every or config.early_stop:
        raise ConfigError(
            "metanas watches no Hessian eigenvalue; set eigen_every = 0 and early_stop = false."
        )
    if config.max_seconds is not None:
        raise ConfigError(
            "metanas runs a fixed number of meta-steps; set max_seconds = null and size the "
            "run with epochs and strategy_config.meta_steps."
        )
    if not meta.meta_test_dataset:
        if info.num_classes < 2 * meta.n_way:
            raise ConfigError(
                f"{info.name} has {info.num_classes} classes, too few to hold out n_way = "
                f"{meta.n_way} for meta-testing and keep {meta.n_way} for meta-training; "
                "name another set in strategy_config.meta_test_dataset."
            )
        return
    from nasbench.data.registry import dataset_key

    same = str(dataset_key(meta.meta_test_dataset)).lower() == str(dataset_key(info.name)).lower()
    if same and meta.meta_test_split == "val":
        # Meta-validation on the search set's val split: same classes, other images.
        if info.num_classes < meta.n_way:
            raise ConfigError(
                f"{info.name} has {info.num_classes} classes, fewer than n_way = {meta.n_way}."
            )
        return
    if same:
        raise ConfigError(
            "meta_test_dataset is the search dataset, so meta-train and meta-test classes "
            "overlap; leave it empty to hold out the dataset's last n_way classes (or set "
            "meta_test_split = 'val' to meta-validate on its val split)."
        )
    test_info = get_info(meta.meta_test_dataset)
    _check_single_label(test_info, "meta_test_dataset")
    if info.num_classes < meta.n_way:
        raise ConfigError(
            f"{info.name} has {info.num_classes} classes, fewer than n_way = {meta.n_way}."
        )
    if test_info.num_classes < meta.n_way:
        raise ConfigError(
            f"meta_test_dataset {test_info.name} has {test_info.num_classes} classes, fewer "
            f"than n_way = {meta.n_way}."
        )
    if (test_info.in_channels, test_info.spatial_dims) != (info.in_channels, info.spatial_dims):
        raise ConfigError(
            f"meta_test_dataset {test_info.name} has {test_info.in_channels}-channel "
            f"{test_info.spatial_dims}D images but {info.name} {info.in_channels}-channel "
            f"{info.spatial_dims}D; pick sets of one image kind."
        )
    if config.dataset.size not in test_info.sizes:
        raise ConfigError(
            f"meta_test_dataset {test_info.name} has sizes {list(test_info.sizes)}, not "
            f"{config.dataset.size}."
        )


def _check_single_label(info: Any, where: str) -> None:
    if info.task not in SINGLE_LABEL:
        raise ConfigError(
            f"{where} {info.name} is a {info.task} set; few-shot tasks need one class label "
            "per image (a binary or multi-class set)."
        )


def task_samplers(config: Any, meta: MetaNasConfig) -> tuple[Any, Any]:
    """The meta-train and meta-test :class:`~nasbench.data.fewshot.EpisodeSampler`.

    Args:
        config: the search config (dataset, seed, epochs).
        meta: the METANAS settings.

    Returns:
        ``(train, test)``; ``test`` holds ``test_episodes`` scored episodes followed by
        ``val_episodes`` watched ones.

    Example:
        >>> train, test = task_samplers(config, meta)  # doctest: +SKIP
        >>> train.episode(0).support_labels.tolist()  # doctest: +SKIP
        [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
    """
    from nasbench.data import get_info, load
    from nasbench.data.fewshot import ClassSubset, EpisodeSampler

    data = config.dataset
    common = dict(root=data.root, size=data.size, download=data.download, seed=config.seed)
    train = load(data.name, "train", limit=data.limit, **common)
    if meta.meta_test_dataset:
        test = load(meta.meta_test_dataset, meta.meta_test_split, **common)
    else:
        classes = list(range(get_info(data.name).num_classes))
        train = ClassSubset(train, classes[: -meta.n_way])
        held_out = load(data.name, meta.meta_test_split, **common)
        test = ClassSubset(held_out, classes[-meta.n_way :])
    shots = (meta.n_way, meta.k_shot, meta.n_query)
    n_train = config.epochs * meta.meta_steps * meta.meta_batch_size
    return (
        EpisodeSampler(train, *shots, seed=config.seed, episodes=n_train),
        EpisodeSampler(
            test,
            *shots,
            seed=config.seed + TEST_SEED_OFFSET,
            episodes=meta.test_episodes + meta.val_episodes,
        ),
    )


def _check_prune_below(config: Any, meta: MetaNasConfig) -> None:
    """A fresh edge weighs its ``n`` ops ``1/n`` each at temperature 1, as every task's
    adaptation starts: a threshold at or above that prunes all but one op at random."""
    from nasbench.spaces import space_from_dict

    n_ops = len(space_from_dict(dict(config.space)).ops)
    if meta.prune_below >= 1.0 / n_ops:
        raise ConfigError(
            f"prune_below {meta.prune_below:g} prunes every op of a fresh edge (its {n_ops} "
            f"ops weigh 1/{n_ops} = {1.0 / n_ops:.3g} each at temperature 1); use less "
            f"than {1.0 / n_ops:.3g} (METANAS: 0.01)."
        )


def task_supernet(config: Any, meta: MetaNasConfig, prune: bool = True) -> Any:
    """The supernet of the config's cell space with an ``n_way`` classifier (DARTS edges).

    Args:
        config: the search config (space, dataset, seed).
        meta: the METANAS settings (``n_way``, ``prune_below``).
        prune: soft-prune the edges at ``prune_below`` (METANAS's learner); False for
            the baselines, whose edges stay plain DARTS mixtures.

    Returns:
        A :class:`~nasbench.models.supernet.Supernet` seeded by ``config.seed``, its edges
        METANAS's tempered, soft-pruned DARTS edges
        (:class:`~nasbench.strategies.meta.relaxation.TemperedDarts`).
    """
    from nasbench.data import get_info
    from nasbench.models.supernet import build_supernet
    from nasbench.spaces import space_from_dict
    from nasbench.spaces.skeleton import skeleton_overrides

    info = get_info(config.dataset.name)
    space_dict = dict(config.space)
    skeleton = {**skeleton_overrides(space_dict), "in_channels": info.in_channels}
    skeleton["num_classes"] = meta.n_way
    space = space_from_dict({**space_dict, "skeleton": skeleton})
    from nasbench.strategies.meta.relaxation import TemperedDarts

    method = TemperedDarts(seed=config.seed, prune_below=meta.prune_below if prune else 0.0)
    return build_supernet(space, method, seed=config.seed)
