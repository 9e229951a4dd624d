"""``MetaNasConfig``: the settings of a METANAS search (and of its two baselines).

A METANAS search reads the rest of its settings from the :class:`~nasbench.config.SearchConfig`:
``epochs`` are meta-epochs, ``dataset`` is the meta-training set, ``seed`` seeds the
supernet and every episode, ``checkpoint_every`` counts meta-steps (or is ``"auto"``).
"""

from __future__ import annotations

from dataclasses import dataclass

from nasbench.errors import ConfigError
from nasbench.options import MethodConfig, option

ALGORITHMS = ("reptile", "fomaml")
TEST_SPLITS = ("test", "val")
ARCH_OPTIMIZERS = ("sgd", "adam")


@dataclass
class MetaNasConfig(MethodConfig):
    """METANAS hyperparameters (a CPU-sized default: 2-way 5-shot, 5 inner steps)."""

    algorithm: str = option(
        "reptile",
        "meta-update: reptile (move towards the adapted parameters) or fomaml (first-order "
        "MAML: step along the query-loss gradient at the adapted parameters)",
        choices=ALGORITHMS,
    )
    n_way: int = option(2, "classes per task", min=2, max=20)
    k_shot: int = option(5, "labelled support images per class", min=1, max=100)
    n_query: int = option(10, "query images per class (scored after adaptation)", min=1, max=100)
    meta_test_dataset: str = option(
        "",
        "dataset whose tasks test the meta-learner; empty: the search dataset's last n_way "
        "classes (meta-training then uses the others, so the classes are disjoint)",
    )
    meta_test_split: str = option(
        "test",
        "split the meta-test tasks come from; val: the meta-validation tasks settings are "
        "picked on (then meta_test_dataset may be the search dataset: its val split's "
        "images, never seen in meta-training)",
        choices=TEST_SPLITS,
    )
    meta_batch_size: int = option(4, "tasks per meta-step", min=1, max=64)
    meta_steps: int = option(10, "meta-steps per meta-epoch", min=1, max=100000)
    inner_steps: int = option(5, "adaptation steps per task during meta-training", min=1, max=100)
    inner_lr: float = option(0.05, "SGD learning rate of the weights in a task", min=0.0)
    inner_arch_lr: float = option(
        0.5, "SGD learning rate of the alphas in a task (DARTS step on the support set)", min=0.0
    )
    inner_arch_optimizer: str = option(
        "sgd",
        "optimizer of the alphas in a task: sgd, or adam (fresh per task, betas 0.5 and "
        "0.999 as METANAS: each step moves an alpha by about inner_arch_lr)",
        choices=ARCH_OPTIMIZERS,
    )
    meta_lr: float = option(
        1.0,
        "meta step size epsilon of the weights (reptile: 1 moves to the task's weights)",
        min=0.0,
    )
    meta_arch_lr: float = option(1.0, "meta step size epsilon of the alphas", min=0.0)
    temperature_min: float = option(
        1.0,
        "softmax temperature of the alphas at the end of each task's adaptation, "
        "annealed linearly from 1 over its alpha-adapting steps, meta-training and "
        "meta-test alike (METANAS: 0.05; 1: no annealing)",
        min=1e-3,
        max=1.0,
    )
    prune_below: float = option(
        0.0,
        "soft pruning: ops whose tempered softmax weight is below this are not run "
        "(METANAS: 0.01; 0: every op always runs)",
        min=0.0,
        max=1.0,
    )
    warmup_fraction: float = option(
        0.0,
        "fraction of the meta-steps, at the start, in which the alphas stay fixed and only "
        "the weights are meta-learned (METANAS: 0.5)",
        min=0.0,
        max=1.0,
    )
    test_arch_lr_scale: float = option(
        1.0,
        "the alphas' learning rate when adapting to a meta-test task, as a fraction of "
        "inner_arch_lr (0: the meta-learned alphas stay fixed, only the weights adapt)",
        min=0.0,
        max=1.0,
    )
    test_episodes: int = option(200, "meta-test episodes scored at the end", min=1, max=100000)
    test_inner_steps: int = option(10, "adaptation steps on a meta-test task", min=0, max=1000)
    curve_episodes: int = option(
        20,
        "scored meta-test episodes whose whole adaptation curve is recorded (the "
        "others: the final query score only, which is cheaper)",
        min=0,
        max=100000,
    )
    val_episodes: int = option(
        4,
        "meta-test episodes (not among the scored ones) watched after each meta-epoch",
        min=1,
        max=1000,
    )
    baselines: bool = option(
        True, "also train fixed-architecture Reptile and DARTS on the pooled tasks, same budget"
    )
    pooled_baseline: bool = option(
        True, "with baselines: include DARTS on the pooled tasks (False: Reptile only, cheaper)"
    )

    def validate(self) -> None:
        """The dataset name's type (before the base's generic "must be text", which would
        not say what the text names), then the range checks."""
        if not isinstance(self.meta_test_dataset, str):
            raise ConfigError(
                f"MetaNasConfig.meta_test_dataset must be a dataset name or empty, got "
                f"{self.meta_test_dataset!r}."
            )
        super().validate()
