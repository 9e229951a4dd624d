"""NASH: hill climbing with network morphisms (Elsken, Metzen & Hutter, 2017).

Each hill-climbing step trains ``n_children`` networks (NASH's ``n_neigh``): the
current best network trained further, and ``n_children - 1`` children of it, each made
by a random sequence of function-preserving morphisms (:mod:`nasbench.models.morphism`:
widen, deepen, add a skip). Each trains briefly from the weights it inherited (SGD with
a cosine-annealed learning rate, as NASH's short SGDR runs), and the best of them is the
next parent, so the parent stays when no child beats it (Elsken et al., Algorithm 1).
Because a child starts where its parent ended, a few epochs per child are enough.

How it fits the ask/tell loop. Unlike the other discrete strategies NASH carries
weights, so it comes with its own evaluator:

- ``ask()`` returns a :class:`~nasbench.models.morphism.MorphGenotype` (layers and
  skips of the morphed network: a genotype-like, JSON-serialisable description the
  run store records) and keeps the child network, holding the inherited weights,
  inside the strategy;
- ``strategy.bind(train_ds, val_ds, task)`` returns a :class:`MorphismEvaluator`
  whose ``evaluate(genotype)`` trains *that* network (``train_model`` from
  :mod:`nasbench.evaluation.train_loop`) and scores it on validation accuracy;
- ``tell()`` records the score; when a generation is complete the best child
  becomes the parent. A child whose training diverged is not scored (another child
  takes its place); when the starting network diverges there is nothing to climb
  from, so the strategy is finished and the search ends with the reason.

So run it as ``run_discrete(nash, nash.bind(...), budget, cache="none")``, with the
sequential executor: a process pool would train copies of the networks in other
processes and the trained weights would not come back. ``cache="none"`` matters
because two children may share an architecture yet hold different weights.

Example:
    >>> nash = NashHillClimbing(NashConfig(n_children=4), ChainSpace(), seed=0)  # doctest: +SKIP
    >>> evaluator = nash.bind(train_ds, val_ds, task="binary")  # doctest: +SKIP
    >>> budget = Budget(max_evaluations=17)  # doctest: +SKIP
    >>> out = run_discrete(nash, evaluator, budget, cache="none")  # doctest: +SKIP
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
from torch.utils.data import Dataset

from nasbench.errors import ConfigError, DivergenceError
from nasbench.evaluation.base import Result
from nasbench.models.morphism import MorphGenotype, MorphNet, random_morphisms
from nasbench.protocols import Genotype, Space
from nasbench.strategies import register_strategy
from nasbench.strategies.discrete.base import DiscreteConfig, DiscreteStrategy, option
from nasbench.strategies.discrete.executors import failure

# Different morph sequences can land on one architecture; redraw a few times first.
MAX_REDRAWS = 10


@dataclass
class NashConfig(DiscreteConfig):
    """NASH settings (NASH: 8 networks per step, up to 5 morphisms, 17 epochs each)."""

    n_children: int = option(
        8, "networks per hill-climbing step: the parent trained further and n - 1 children",
        min=2,
    )  # fmt: skip
    n_morphisms: int = option(5, "most morphisms per child (drawn from 1..this)", min=1)
    epochs: int = option(2, "training epochs per child (from inherited weights)", min=1)
    start_epochs: int = option(4, "training epochs of the starting network", min=1)
    start_channels: int = option(
        16, "filters of every layer of the starting network", min=1, at_most="max_channels"
    )
    start_layers: int = option(
        3, "conv-BN-ReLU layers of the starting network", min=1, at_most="max_layers"
    )
    max_channels: int = option(128, "no layer is widened past this", min=1)
    max_layers: int = option(12, "no network is deepened past this", min=1)
    lr: float = option(0.05, "initial SGD learning rate (cosine-annealed to lr_min)", min=0.0)
    lr_min: float = option(0.0, "final learning rate of each short run", min=0.0, at_most="lr")
    weight_decay: float = option(5e-4, "SGD weight decay", min=0.0)
    batch_size: int = option(64, "images per training step", min=1)

    def check_space(self, space: Any) -> None:
        """NASH grows classifiers (:class:`~nasbench.models.morphism.MorphNet`): a space of
        another task would have them trained on targets they cannot predict."""
        task = getattr(space, "task", "classification")
        if task != "classification":
            raise ConfigError(
                f"NASH grows classifiers by network morphisms and cannot search "
                f"{task}; use a classification dataset, or search this one with 'random' "
                "or 'evolution'."
            )

    def check_budget(self, max_evaluations: int | None) -> None:
        """One evaluation trains the start network; each step then needs ``n_children``."""
        if max_evaluations is not None and max_evaluations < 1 + self.n_children:
            raise ConfigError(
                f"NASH needs at least 1 + n_children = {1 + self.n_children} evaluations for "
                f"one hill-climbing step, got {max_evaluations}; raise the budget or lower "
                "n_children."
            )


@register_strategy("nash", NashConfig, kind="discrete")
class NashHillClimbing(DiscreteStrategy):
    """NASH: hill climbing whose children are network morphisms of the best network.

    Args:
        config: a :class:`NashConfig`.
        space: a space with a ``skeleton`` (``in_channels``, ``num_classes``,
            ``spatial_dims``), e.g. the chain space; NASH's networks are
            :class:`~nasbench.models.morphism.MorphNet` s, not members of that space.
        seed: seeds the starting weights and the morphism draws.

    Attributes:
        parent: ``(genotype, network, score)`` of the current best, or None before the
            starting network is scored.
        generation: hill-climbing steps completed.
        steps_of: the morphisms that made each pending child (text per morphism).
    """

    name = "nash"

    def __init__(self, config: NashConfig, space: Space, seed: int = 0) -> None:
        super().__init__(config, space, seed)
        skeleton = getattr(space, "skeleton", None)
        if skeleton is None:
            raise ConfigError(
                f"NASH needs a space with a skeleton (in/out channels); the {space.name!r} "
                "space has none; use the 'chain' space."
            )
        self.skeleton = skeleton
        self.parent: tuple[MorphGenotype, MorphNet, float] | None = None
        self.pending: dict[MorphGenotype, MorphNet] = {}
        self.steps_of: dict[MorphGenotype, list[str]] = {}
        self.scored: list[tuple[MorphGenotype, float]] = []
        self.generation = 0
        self._start: MorphGenotype | None = None
        self.start_failed: str | None = None  # why the starting network diverged

    @property
    def finished(self) -> bool:
        """True when the starting network diverged: no weights to climb from."""
        return self.start_failed is not None

    def start_network(self) -> MorphNet:
        """The untrained starting network (stride 2 from the second layer on)."""
        cfg, sk = self.config, self.skeleton
        genotype = MorphGenotype.plain(sk.in_channels, (cfg.start_channels,) * cfg.start_layers)
        return MorphNet(genotype, sk.num_classes, sk.spatial_dims, seed=self.seed)

    def network(self, genotype: MorphGenotype) -> MorphNet:
        """The network that :meth:`ask` returned ``genotype`` for (trained in place)."""
        if genotype not in self.pending:
            raise ConfigError(
                "this genotype was not proposed by this NASH strategy (or its generation is "
                "over); evaluate what ask() returns, with cache='none'."
            )
        return self.pending[genotype]

    def epochs_for(self, genotype: MorphGenotype) -> int:
        """Training epochs of a candidate: ``start_epochs`` for the start, else ``epochs``
        (also for the start network trained further as the first parent)."""
        first = genotype == self._start and self.parent is None
        return self.config.start_epochs if first else self.config.epochs

    def _propose(self) -> MorphGenotype:
        if self._start is None:
            net = self.start_network()
            self._start = net.genotype
            self.pending[net.genotype] = net
            return net.genotype
        if self.start_failed is not None:
            raise DivergenceError(self.start_failed)
        if self.parent is None:
            raise ConfigError(
                "NASH was asked for a child before its starting network was scored; tell() "
                "each result before asking again (run it with batch_size=1)."
            )
        cfg = self.config
        parent_g, parent_net, _ = self.parent
        if not self.pending:
            # A step's first network is the parent trained further, on a copy: the
            # children are morphed from the parent's weights as they stand.
            self.pending[parent_g] = copy.deepcopy(parent_net)
            self.steps_of[parent_g] = ["the parent, trained further"]
            return parent_g
        for _ in range(MAX_REDRAWS):
            n = int(self.rng.integers(1, cfg.n_morphisms + 1))
            child, steps = random_morphisms(
                parent_net, n, self.rng, cfg.max_channels, cfg.max_layers
            )
            if child.genotype not in self.pending:
                break
        self.pending[child.genotype] = child
        self.steps_of[child.genotype] = steps
        return child.genotype

    def _observe(self, genotype: Genotype, result: Result) -> None:
        if genotype == self._start and self.parent is None and failure(result) is not None:
            self.start_failed = failure(result)
            return
        if genotype not in self.pending or not result.info.get("trained", False):
            return  # a cache hit or a foreign genotype: no weights to climb from
        if genotype == self._start and self.parent is None:
            self.parent = (genotype, self.pending.pop(genotype), result.score)
            return
        self.scored.append((genotype, result.score))
        if len(self.scored) < self.config.n_children:
            return
        # The best of the step's networks, the parent trained further among them (it was
        # proposed first, so it wins a tie): the climb never steps down.
        best_g, best_score = max(self.scored, key=lambda item: item[1])
        self.parent = (best_g, self.pending[best_g], best_score)
        self.pending = {}
        self.steps_of = {}
        self.scored = []
        self.generation += 1

    def bind(
        self,
        train_ds: Dataset,
        val_ds: Dataset,
        task: str,
        test_ds: Dataset | None = None,
        device: str = "auto",
        augment: bool = False,
    ) -> MorphismEvaluator:
        """The evaluator that trains this strategy's children on the given data.

        Args:
            train_ds: training split.
            val_ds: the split whose accuracy is the score.
            task: the dataset's task ("binary", "multi-class", ...).
            test_ds: scored once per candidate when given (else the val split is reused).
            device: "auto", "cpu" or "cuda".
            augment: train the children with the training loop's augmentation.

        Returns:
            A :class:`MorphismEvaluator`.
        """
        return MorphismEvaluator(self, train_ds, val_ds, task, test_ds, device, augment)

    def state_dict(self) -> dict[str, Any]:
        """Counters, generator state and the climb's genotypes (network weights are not kept)."""
        state = super().state_dict()
        state["generation"] = self.generation
        state["parent"] = None if self.parent is None else self.parent[0].to_json()
        return state


class MorphismEvaluator:
    """Trains NASH's pending children briefly from their inherited weights.

    Args:
        strategy: the :class:`NashHillClimbing` whose networks it trains.
        train_ds, val_ds, test_ds: the data; ``test_ds`` None reuses ``val_ds``.
        task: the dataset's task.
        device: "auto", "cpu" or "cuda".
        augment: train with the training loop's per-batch augmentation.

    Example:
        >>> result = nash.bind(train_ds, val_ds, "binary").evaluate(nash.ask())  # doctest: +SKIP
    """

    def __init__(
        self,
        strategy: NashHillClimbing,
        train_ds: Dataset,
        val_ds: Dataset,
        task: str,
        test_ds: Dataset | None = None,
        device: str = "auto",
        augment: bool = False,
    ) -> None:
        self.strategy = strategy
        self.augment = augment
        self.train_ds, self.val_ds = train_ds, val_ds
        self.test_ds = test_ds if test_ds is not None else val_ds
        self.task = task
        self.device = device
        self.calls = 0

    def evaluate(self, genotype: Genotype, budget: float | None = None) -> Result:
        """Train the child of ``genotype`` for its epochs (or ``budget``) and score it.

        Args:
            genotype: a genotype the strategy's ``ask()`` returned.
            budget: epochs; None uses the strategy's ``start_epochs`` / ``epochs``.

        Returns:
            A Result: ``score`` = ``val_acc``, plus ``val_auc``, ``test_acc``; cost
            ``params``, ``epochs``, ``wall_s``; info ``trained=True``, ``genotype``
            text and the morphisms that made it.
        """
        from nasbench.evaluation.train_loop import TrainConfig, train_model

        net = self.strategy.network(genotype)
        cfg = self.strategy.config
        epochs = int(budget) if budget is not None else self.strategy.epochs_for(genotype)
        train_config = TrainConfig(
            epochs=epochs,
            batch_size=cfg.batch_size,
            lr=cfg.lr,
            lr_min=cfg.lr_min,
            weight_decay=cfg.weight_decay,
            auxiliary_weight=0.0,
            drop_path_prob=0.0,
            augment=self.augment,
            select="acc",
            device=self.device,
            seed=int(self.strategy.seed * 100_003 + self.calls),
        )
        self.calls += 1
        out = train_model(net, self.train_ds, self.val_ds, self.test_ds, self.task, train_config)
        metrics = {
            "score": float(out.best_val["acc"]),
            "val_acc": float(out.best_val["acc"]),
            "val_auc": float(out.best_val.get("auc", np.nan)),
            "test_acc": float(out.test["acc"]),
        }
        cost = {"params": float(out.params), "epochs": float(out.epochs_run), "wall_s": out.wall_s}
        info = {
            "evaluator": "morphism",
            "trained": True,
            "genotype": genotype.to_string(),
            "morphisms": list(self.strategy.steps_of.get(genotype, [])),
        }
        return Result(metrics, cost, info)
