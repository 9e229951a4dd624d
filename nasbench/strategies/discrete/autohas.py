"""AutoHAS: architecture and hyper-parameters searched together on shared weights
(Dong et al., 2020, "AutoHAS: Efficient Hyperparameter and Architecture Search").

A factorised categorical policy picks one op per cell edge *and* one value per
hyper-parameter (learning rate, weight decay, augmentation strength, batch size).
One search step, as in AutoHAS:

1. sample ``(cell, hps)`` from the policy (``ask``);
2. take ``steps_per_candidate`` SGD steps of the shared single-path supernet along
   the cell, *with the sampled hyper-parameters* (a batch of the sampled size,
   augmented at the sampled strength, stepped with the sampled learning rate and
   weight decay); the shared weights keep the update;
3. the reward is the accuracy (or negated loss) of the cell with the updated
   weights on one validation batch: a hyper-parameter is rewarded for the weights
   its update produced;
4. REINFORCE with a moving-average baseline updates the policy (``tell``). A failed
   sample (its evaluation diverged: score ``-inf``) is rewarded as the lowest finite
   reward so far, and teaches nothing before there is one.

Differentiably where possible (``relax=["lr", "weight_decay"]``): the learning rate and
the weight decay enter the SGD update linearly, so, as in AutoHAS, each can be relaxed
into the softmax mixture of its choices. A relaxed HP is not sampled: the step uses its
expected value under the policy, and its logits follow the hypergradient of the
validation loss through that one step. With ``W' = W - lr (g + wd W)``,
``dL_val(W')/dlr = -<v, g + wd W>`` and ``dL_val(W')/dwd = -lr <v, W>`` (``v`` the
validation gradient at ``W'``), which the chain rule carries through the mixture to the
logits. Augmentation strength, batch size and the cell change which loss is computed,
not how much a step moves, so they stay with REINFORCE.

The policy over hyper-parameters is a distribution a person can watch: every
candidate the run store records carries it (``info["hp_probs"]``), and
:func:`nasbench.viz.plot_hp_distribution` draws it over the search. Fixing the
architecture (``architecture=``) or giving a hyper-parameter a single choice turns
the same strategy into a pure HP search or a pure architecture search, which is how
``benchmarks/joint_search.py`` builds the two-stage baseline.

It fits the ask/tell loop as ENAS does: ``strategy.bind(train, val, task)`` returns
the evaluator that owns the training steps; it runs with the sequential executor and
no cache (a reward depends on the weights at that moment). Once a candidate's steps leave
the shared weights NaN or infinite (a learning-rate choice far too high), every later
reward would fail on them: that candidate is recorded as failed with the reason, and the
next ``ask()`` ends the search with the same one-line
:class:`~nasbench.errors.DivergenceError`.

Example:
    >>> strategy = create_strategy("autohas", {}, space=NB201Space(), seed=0)  # doctest: +SKIP
    >>> evaluator = strategy.bind(train_ds, val_ds, "binary")  # doctest: +SKIP
    >>> run_discrete(strategy, evaluator, Budget(100), cache="none")  # doctest: +SKIP
    >>> strategy.best_hps()  # doctest: +SKIP
    {'lr': 0.05, 'weight_decay': 0.0003, 'augment': 0.5, 'batch_size': 32}
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import torch

from nasbench.errors import ConfigError, DivergenceError, NasbenchError, SpaceError
from nasbench.evaluation.base import Result
from nasbench.strategies import register_strategy
from nasbench.strategies.discrete.base import DiscreteConfig, DiscreteStrategy, option

HP_NAMES = ("lr", "weight_decay", "augment", "batch_size")
# The hyper-parameters that enter the SGD update linearly: they can be relaxed.
RELAXABLE = ("lr", "weight_decay")


@dataclass
class AutoHasConfig(DiscreteConfig):
    """AutoHAS settings: the hyper-parameter choices, the policy and the shared weights."""

    # The shared network's frame comes from these fields, not from space.skeleton
    # (SearchConfig refuses a space.skeleton that gives them).
    OWN_SKELETON_FIELDS = ("n_cells", "channels")

    lr: tuple = option((0.01, 0.05, 0.1), "learning-rate choices of the shared SGD step")
    weight_decay: tuple = option((0.0, 3e-4, 3e-3), "weight-decay choices")
    augment: tuple = option(
        (0.0, 0.5, 1.0), "augmentation-strength choices in [0, 1] (flip probability / 2, shift)"
    )
    batch_size: tuple = option((16, 32, 64), "batch-size choices of the shared step")
    relax: tuple = option(
        (), "HPs stepped with their policy's mean and tuned by hypergradient (lr, weight_decay)"
    )
    architecture: str | None = option(None, "fix the cell (NB201 string): search HPs only")
    steps_per_candidate: int = option(1, "shared SGD steps per candidate before its reward", min=1)
    policy_lr: float = option(0.05, "Adam learning rate of the policy logits", min=0.0)
    baseline_decay: float = option(0.9, "moving-average decay of the reward baseline", 0, 1)
    reward: str = option("val_acc", "reward of a candidate", choices=("val_acc", "val_loss"))
    val_batch_size: int = option(64, "validation images per reward", min=1)
    n_cells: int = option(5, "cells of the shared network", min=1)
    channels: int = option(8, "initial channels of the shared network", min=1)

    def validate(self) -> None:
        """Range checks, plus: every HP has at least one valid choice."""
        for name in (*HP_NAMES, "relax"):
            value = getattr(self, name)
            if isinstance(value, list):
                setattr(self, name, tuple(value))
        super().validate()
        relax = self.relax if isinstance(self.relax, tuple) else ()
        wrong = [name for name in relax if name not in RELAXABLE]
        if not isinstance(self.relax, tuple) or wrong or len(set(relax)) != len(relax):
            raise ConfigError(
                f"AutoHasConfig.relax can name {' and '.join(RELAXABLE)} (once each), "
                f"got {list(self.relax) if isinstance(self.relax, tuple) else self.relax!r}."
            )
        for name in HP_NAMES:
            values = getattr(self, name)
            bad = not isinstance(values, tuple) or not values
            bad = bad or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in values)
            if bad:
                raise ConfigError(
                    f"AutoHasConfig.{name} must be a non-empty list of numbers, such as "
                    f"[0.1, 0.2]; got {values!r}."
                )
            if len(set(values)) != len(values):
                raise ConfigError(
                    f"AutoHasConfig.{name} lists a value twice: {list(values)}; drop the repeat."
                )
            if min(values) < 0 or (name == "augment" and max(values) > 1):
                raise ConfigError(f"AutoHasConfig.{name} choices must be in range, got {values}.")
        if any(int(v) != v or v < 1 for v in self.batch_size):
            raise ConfigError("AutoHasConfig.batch_size choices must be integers >= 1.")
        if min(self.lr) <= 0:  # a step of size 0 trains nothing: its reward is the start's
            raise ConfigError(
                f"AutoHasConfig.lr choices must be above 0, got {list(self.lr)}; drop the 0."
            )

    def check_space(self, space: Any) -> None:
        """A fixed ``architecture`` must be a cell of ``space``: checked with the config,
        before a run folder exists, not when the strategy is built after the data."""
        from nasbench.spaces import NB201Space

        if self.architecture is None or not isinstance(space, NB201Space):
            return  # another space: the strategy refuses it, naming 'nb201'
        if not isinstance(self.architecture, str):
            raise ConfigError(
                "AutoHasConfig.architecture must be an NB201 cell string such as "
                f"'|nor_conv_3x3~0|+|...|', or null to search the cell; got {self.architecture!r}."
            )
        try:
            space.validate(self.architecture)
        except NasbenchError as err:
            raise ConfigError(
                f"AutoHasConfig.architecture: {err} Give a cell of this space, or null to "
                "search the cell."
            ) from None


@register_strategy("autohas", AutoHasConfig, kind="discrete")
class AutoHas(DiscreteStrategy):
    """AutoHAS: one policy samples a cell and its hyper-parameters; shared weights train
    along each sample with its hyper-parameters; REINFORCE rewards both (relaxed HPs, see
    ``AutoHasConfig.relax``, follow their hypergradient instead).

    Args:
        config: an :class:`AutoHasConfig`.
        space: the NB201 space (the shared weights are its single-path supernet).
        seed: seeds the policy samples, the shared weights and the batches.

    Attributes:
        arch_logits: ``(edges, ops)`` logits of the cell policy.
        hp_logits: one logits vector per hyper-parameter.
        relaxed: the hyper-parameters stepped with their mixture (``config.relax``).
        diverged: why the shared weights stopped being finite, or None; set by the
            evaluator, it makes every later :meth:`ask` raise it.
    """

    # Its policy picks the augmentation strength per sample: dataset.augment has no say.
    searches_augment = True

    name = "autohas"

    def __init__(self, config: AutoHasConfig, space: Any, seed: int = 0) -> None:
        from nasbench.spaces import NB201Space

        if not isinstance(space, NB201Space):
            raise SpaceError(
                f"AutoHAS shares the weights of an NB201 supernet; the "
                f"{getattr(space, 'name', type(space).__name__)!r} space has none; use 'nb201'."
            )
        super().__init__(config, space, seed)
        config.validate()
        self.fixed = None if config.architecture is None else space.validate(config.architecture)
        self.generator = torch.Generator().manual_seed(self.seed)
        self.arch_logits = torch.zeros(len(space.edges), len(space.ops), requires_grad=True)
        self.hp_logits = {
            name: torch.zeros(len(getattr(config, name)), requires_grad=True) for name in HP_NAMES
        }
        self.relaxed = tuple(config.relax)
        sampled = [logits for name, logits in self.hp_logits.items() if name not in self.relaxed]
        self.optimizer = torch.optim.Adam([self.arch_logits, *sampled], lr=config.policy_lr)
        # Relaxed HPs follow a hypergradient, not REINFORCE: their own optimizer state.
        self.relaxed_optimizer = (
            torch.optim.Adam([self.hp_logits[name] for name in self.relaxed], lr=config.policy_lr)
            if self.relaxed
            else None
        )
        self.baseline: float | None = None
        self.lowest: float | None = None  # the worst finite reward: a failed one's stand-in
        self.pending: list[tuple[str, list[int], dict[str, int]]] = []
        self.diverged: str | None = None

    # ---- the policy -------------------------------------------------------------------------
    def hp_probabilities(self) -> dict[str, dict[str, float]]:
        """The policy's probability of each choice (keyed by its value as text) of each HP.

        Example:
            >>> AutoHas(AutoHasConfig(lr=(0.1, 0.01)), NB201Space()).hp_probabilities()["lr"]
            {'0.1': 0.5, '0.01': 0.5}
        """
        return {
            name: {
                f"{value:g}": p
                for value, p in zip(
                    getattr(self.config, name),
                    torch.softmax(logits.detach(), 0).tolist(),
                    strict=True,
                )
            }
            for name, logits in self.hp_logits.items()
        }

    def mixture(self, name: str) -> torch.Tensor:
        """The expected value of hyper-parameter ``name`` under the policy (differentiable in
        its logits): the value a relaxed HP's step uses.

        Example:
            >>> AutoHas(AutoHasConfig(lr=(0.1, 0.3)), NB201Space()).mixture("lr").item()
            0.20000000298023224
        """
        values = torch.tensor(getattr(self.config, name), dtype=torch.float32)
        return torch.softmax(self.hp_logits[name], 0) @ values

    def step_relaxed(self, sensitivities: dict[str, float]) -> None:
        """One policy step on the relaxed HPs along the hypergradient of the validation loss.

        Args:
            sensitivities: ``dL_val / d value`` of each relaxed HP (what a small increase
                of its value does to the validation loss after the shared step).
        """
        if self.relaxed_optimizer is None:
            return
        surrogate = sum(self.mixture(name) * float(sensitivities[name]) for name in self.relaxed)
        self.relaxed_optimizer.zero_grad(set_to_none=True)
        surrogate.backward()  # d surrogate / d logits = dL_val / d logits (chain rule)
        self.relaxed_optimizer.step()

    def best_hps(self) -> dict[str, float]:
        """The most probable value of each hyper-parameter."""
        return {
            name: getattr(self.config, name)[int(logits.argmax())]
            for name, logits in self.hp_logits.items()
        }

    def best_genotype(self) -> Any:
        """The most probable cell (the fixed one when the architecture is not searched)."""
        if self.fixed is not None:
            return self.fixed
        return self._cell(self.arch_logits.argmax(1).tolist())

    def _cell(self, picks: list[int]) -> Any:
        from nasbench.spaces.genotype import NB201Genotype

        ops = [self.space.ops[k] for k in picks]
        edges = iter(zip(self.space.edges, ops, strict=True))
        nodes = [[] for _ in range(self.space.n_nodes - 1)]
        for (i, j), op in edges:
            nodes[j - 1].append((op, i))
        return NB201Genotype(tuple(tuple(n) for n in nodes))

    def ask(self) -> Any:
        """Sample a cell and its hyper-parameters; the hyper-parameters wait for :meth:`tell`.

        Raises:
            DivergenceError: the shared weights diverged (:attr:`diverged`): every later
                reward would fail on them, so the search ends instead of spending its budget.

        Example:
            >>> AutoHas(AutoHasConfig(), NB201Space()).ask()  # doctest: +SKIP
        """
        if self.diverged is not None:
            raise DivergenceError(self.diverged)
        with torch.no_grad():
            picks = torch.multinomial(
                torch.softmax(self.arch_logits, 1), 1, generator=self.generator
            ).view(-1)
            hps = {
                name: int(torch.multinomial(torch.softmax(logits, 0), 1, generator=self.generator))
                for name, logits in self.hp_logits.items()
                if name not in self.relaxed
            }
        genotype = self.fixed if self.fixed is not None else self._cell(picks.tolist())
        self.pending.append((genotype.to_json(), picks.tolist(), hps))
        return genotype

    def pending_hps(self, genotype: Any) -> dict[str, float]:
        """The hyper-parameter values sampled with ``genotype`` (the oldest such ask); a
        relaxed HP has its expected value under the current policy."""
        for key, _, hps in self.pending:
            if key == genotype.to_json():
                relaxed = {name: float(self.mixture(name).detach()) for name in self.relaxed}
                return {
                    **{name: getattr(self.config, name)[k] for name, k in hps.items()},
                    **relaxed,
                }
        raise ConfigError("AutoHAS: this genotype was not asked; evaluate what ask() returns.")

    def tell(self, genotype: Any, result: Result) -> None:
        """REINFORCE on the cell and hyper-parameter choices of ``genotype``'s ask."""
        super().tell(genotype, result)
        key = genotype.to_json()
        index = next((n for n, p in enumerate(self.pending) if p[0] == key), None)
        if index is None:
            return  # a replayed or foreign result: nothing was sampled for it
        _, picks, hps = self.pending.pop(index)
        reward = result.score
        if math.isfinite(reward):
            self.lowest = reward if self.lowest is None else min(self.lowest, reward)
        elif self.lowest is None:
            return  # failed before any reward: nothing to compare it with
        else:
            reward = self.lowest
        if self.baseline is None:
            self.baseline = reward
        advantage = reward - self.baseline
        self.baseline = (
            self.config.baseline_decay * self.baseline + (1 - self.config.baseline_decay) * reward
        )
        log_p = sum(torch.log_softmax(self.hp_logits[name], 0)[k] for name, k in hps.items())
        if self.fixed is None:
            rows = torch.log_softmax(self.arch_logits, 1)
            log_p = log_p + rows[torch.arange(len(picks)), torch.tensor(picks)].sum()
        self.optimizer.zero_grad(set_to_none=True)
        (-advantage * log_p).backward()
        self.optimizer.step()

    def bind(self, train_ds: Any, val_ds: Any, task: str, device: str = "auto") -> AutoHasEvaluator:
        """The evaluator that trains the shared weights with each candidate's hyper-parameters.

        Args:
            train_ds: images for the shared steps.
            val_ds: images the rewards are measured on.
            task: the dataset's task.
            device: "auto", "cpu" or "cuda".

        Returns:
            An :class:`AutoHasEvaluator`.
        """
        return AutoHasEvaluator(self, train_ds, val_ds, task, device)


def augment_batch(x: torch.Tensor, strength: float, generator: torch.Generator) -> torch.Tensor:
    """Random horizontal flips (probability ``strength / 2``) and a random shift of up to
    ``round(2 * strength)`` pixels per axis (circular, one shift per batch), drawn from
    ``generator``.

    Example:
        >>> augment_batch(torch.zeros(2, 1, 4, 4), 0.0, torch.Generator()).shape
        torch.Size([2, 1, 4, 4])
    """
    if strength <= 0:
        return x
    flip = torch.rand(len(x), generator=generator) < strength / 2
    x = torch.where(flip.view(-1, *[1] * (x.dim() - 1)).to(x.device), x.flip(-1), x)
    reach = round(2 * strength)
    if reach:
        shifts = torch.randint(-reach, reach + 1, (x.dim() - 2,), generator=generator)
        x = torch.roll(x, tuple(shifts.tolist()), tuple(range(2, x.dim())))
    return x


class AutoHasEvaluator:
    """Trains the shared NB201 supernet with each candidate's hyper-parameters and
    rewards the candidate with the updated weights on one validation batch.

    Args:
        strategy: the :class:`AutoHas` strategy (its policy holds the pending HPs).
        train_ds: training images.
        val_ds: validation images.
        task: the dataset's task.
        device: "auto", "cpu" or "cuda".
    """

    def __init__(
        self, strategy: AutoHas, train_ds: Any, val_ds: Any, task: str, device: str = "auto"
    ) -> None:
        from nasbench.data.batches import EpochBatches
        from nasbench.device import resolve_device
        from nasbench.evaluation.metrics import loss_for_task
        from nasbench.evaluation.weight_sharing import NB201Supernet
        from nasbench.spaces.skeleton import Skeleton

        for label, ds in (("train", train_ds), ("val", val_ds)):
            if len(ds) == 0:
                raise ConfigError(
                    f"the AutoHAS {label} split is empty; give it at least one image."
                )
        cfg, info = strategy.config, train_ds.info
        self.strategy, self.task = strategy, task
        self.loss_fn = loss_for_task(task)
        self.device = resolve_device(device)
        skeleton = Skeleton(
            n_cells=cfg.n_cells,
            channels=cfg.channels,
            in_channels=info.in_channels,
            num_classes=info.num_classes,
            spatial_dims=info.spatial_dims,
        )
        space = strategy.space
        self.supernet = NB201Supernet(tuple(space.ops), space.n_nodes, skeleton, strategy.seed)
        self.supernet.to(self.device)
        self.images = torch.stack([torch.as_tensor(train_ds[i][0]) for i in range(len(train_ds))])
        self.targets = torch.stack([torch.as_tensor(train_ds[i][1]) for i in range(len(train_ds))])
        self.val_batches = EpochBatches(val_ds, cfg.val_batch_size, strategy.seed, stream=6)
        self.generator = torch.Generator().manual_seed(strategy.seed + 1)
        self.val_step = 0
        self.train_step = 0
        # The last shared step, for relaxed HPs: (parameter, W before, g + wd W) each.
        self.last_update: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []

    def _target(self, y: torch.Tensor) -> torch.Tensor:
        y = y.float() if self.task == "multi-label" else y.long().view(-1)
        return y.to(self.device)

    def shared_step(self, path: list[str], hps: dict[str, float]) -> float:
        """One SGD step of the shared weights along ``path`` with the hyper-parameters ``hps``.

        Returns:
            The training loss.
        """
        self.train_step += 1
        size = min(int(hps["batch_size"]), len(self.images))
        index = torch.randperm(len(self.images), generator=self.generator)[:size]
        x = augment_batch(self.images[index], float(hps["augment"]), self.generator)
        self.supernet.train()
        loss = self.loss_fn(
            self.supernet(x.to(self.device), path), self._target(self.targets[index])
        )
        params = [p for p in self.supernet.parameters() if p.requires_grad]
        grads = torch.autograd.grad(loss, params, allow_unused=True)
        self.last_update = []
        with torch.no_grad():
            for p, g in zip(params, grads, strict=True):
                if g is None:  # ops off the path get no update, not even weight decay
                    continue
                direction = g.clamp(-5.0, 5.0) + hps["weight_decay"] * p
                if self.strategy.relaxed:  # what the hypergradient needs: W and g + wd W
                    self.last_update.append((p, p.clone(), direction))
                p.sub_(hps["lr"] * direction)
        return float(loss.detach())

    def _require_finite(self, hps: dict[str, float], loss: float) -> None:
        """Fail this candidate, and (through :meth:`AutoHas.ask`) the search, when its steps
        left a shared weight NaN or infinite: every later reward would fail too."""
        s = self.strategy
        params = list(self.supernet.parameters())
        # One read (one GPU sync) for every tensor, once a candidate.
        if not params or bool(torch.stack([torch.isfinite(p).all() for p in params]).all()):
            return
        choices = ", ".join(f"{v:g}" for v in s.config.lr)
        s.diverged = (
            f"the AutoHAS shared weights diverged at candidate {s.told} (shared step "
            f"{self.train_step}, lr {hps['lr']:g}): they are no longer finite (its training "
            f"loss is {loss:.4g}), so every later candidate would fail; lower the "
            f"learning-rate choices (strategy_config lr, now [{choices}]) and start a new "
            "search."
        )
        raise DivergenceError(s.diverged)

    def sensitivities(self, val_loss: torch.Tensor, lr: float) -> dict[str, float]:
        """``dL_val / d lr`` and ``dL_val / d wd`` through the last shared step (with
        ``steps_per_candidate > 1``, the last one: AutoHAS's one-step approximation).

        With ``W' = W - lr (g + wd W)`` and ``v = dL_val / dW'``:
        ``dL_val / d lr = -<v, g + wd W>`` and ``dL_val / d wd = -lr <v, W>``.

        Args:
            val_loss: the validation loss at the updated weights (with its graph).
            lr: the learning rate the step used.

        Returns:
            ``{"lr": ..., "weight_decay": ...}``.
        """
        params = [p for p, _, _ in self.last_update]
        grads = torch.autograd.grad(val_loss, params, allow_unused=True)
        d_lr = d_wd = 0.0
        for v, (_, before, direction) in zip(grads, self.last_update, strict=True):
            if v is not None:
                d_lr -= float((v * direction).sum())
                d_wd -= lr * float((v * before).sum())
        return {"lr": d_lr, "weight_decay": d_wd}

    def reward(self, path: list[str], lr: float | None = None) -> dict[str, float]:
        """Accuracy and loss of ``path`` with the current shared weights on the next val batch.

        With relaxed HPs (and ``lr``, the last step's learning rate) the same loss also
        steps their logits along its hypergradient (:meth:`AutoHas.step_relaxed`).
        """
        from nasbench.evaluation.metrics import classification_metrics

        x, y = self.val_batches.batch(
            self.val_step // len(self.val_batches), self.val_step % len(self.val_batches)
        )
        self.val_step += 1
        relaxed = bool(self.strategy.relaxed and self.last_update and lr is not None)
        with torch.set_grad_enabled(relaxed):
            logits = self.supernet(x.to(self.device), path)  # batch statistics, as in training
            target = self._target(y)
            loss = self.loss_fn(logits, target)
        if relaxed:
            self.strategy.step_relaxed(self.sensitivities(loss, lr))
        metrics = classification_metrics(logits.detach(), target, self.task)
        return {"acc": float(metrics["acc"]), "loss": float(loss.detach())}

    def evaluate(self, genotype: Any, budget: float | None = None) -> Result:
        """Train the shared weights along ``genotype`` with its sampled HPs, then reward it.

        Args:
            genotype: a cell the strategy asked for.
            budget: ignored (a candidate is ``steps_per_candidate`` steps).

        Returns:
            A Result: ``score`` (val_acc, or -val_loss), ``val_acc``, ``val_loss``,
            ``train_loss``; cost ``wall_s``, ``steps``, ``images``; info ``hp`` (the
            values; a relaxed HP's is its mixture) and ``hp_probs`` (the policy before this
            candidate's REINFORCE update, after its hypergradient step).

        Raises:
            DivergenceError: its steps left the shared weights NaN or infinite (the loop
                records this candidate as failed; the next ask ends the search).
        """
        start = time.perf_counter()
        s = self.strategy
        genotype = s.space.validate(genotype)
        hps = s.pending_hps(genotype)
        path = [op for _, _, op in genotype.edges()]
        steps = s.config.steps_per_candidate
        with torch.enable_grad():
            losses = [self.shared_step(path, hps) for _ in range(steps)]
        self._require_finite(hps, losses[-1])
        val = self.reward(path, hps["lr"])
        score = val["acc"] if s.config.reward == "val_acc" else -val["loss"]
        metrics = {
            "score": score,
            "val_acc": val["acc"],
            "val_loss": val["loss"],
            "train_loss": sum(losses) / len(losses),
        }
        cost = {
            "wall_s": time.perf_counter() - start,
            "steps": float(steps),
            "images": float(steps * min(int(hps["batch_size"]), len(self.images))),
        }
        info = {"evaluator": "autohas_shared_weights", "hp": hps, "hp_probs": s.hp_probabilities()}
        return Result(metrics, cost, info)
