"""Weight sharing: train one supernet with uniform single-path sampling, then score
candidates with the weights they inherit from it (Guo et al., 2020, "Single Path
One-Shot"; Bender et al., 2018).

Training: every step samples one architecture uniformly from the space (one op on
each edge, the space's own ``sample``) and trains only that path's weights. Scoring
a candidate: the supernet runs the candidate's path with the trained weights; the
batch-norm statistics are re-estimated on a few training batches for that path
(SPOS's recalibration: it changes running statistics, never a learned weight),
then the validation split gives the score. No candidate is ever trained.

Three supernets:

- NAS-Bench-201 spaces: :class:`NB201Supernet`, the NB201 macro network with every
  op on every cell edge;
- NAS-Bench-101 spaces: :class:`nasbench.models.nb101_supernet.NB101Supernet`, every op
  on every vertex, sliced to the width the sampled cell gives the vertex;
- DARTS cell spaces: :class:`nasbench.models.supernet.Supernet` with the
  :class:`UniformPath` method, whose edge plans run the ops of one set path.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from nasbench.device import seeded
from nasbench.errors import ConfigError, SpaceError
from nasbench.evaluation.base import Result
from nasbench.evaluation.registry import register_evaluator
from nasbench.models.mixed_edge import EdgePlan, MixedEdge
from nasbench.options import MethodConfig, option
from nasbench.protocols import ZERO_OP, Genotype, Space


# ---- NAS-Bench-201 supernet ------------------------------------------------------------------
class NB201Supernet(nn.Module):
    """The NB201 network with all candidate ops on every cell edge; forward runs one path.

    Args:
        ops: candidate op names (the space's ``ops``).
        n_nodes: nodes per cell, input included.
        skeleton: the macro ``Skeleton`` (cells, channels, reductions, classes, dims).
        seed: seeds the weight initialisation (global RNG untouched).

    Example:
        >>> net = NB201Supernet(("none", "nor_conv_3x3"), 3, Skeleton(n_cells=5, channels=4))
        >>> net(torch.zeros(2, 1, 8, 8), ["nor_conv_3x3", "none", "nor_conv_3x3"]).shape
        torch.Size([2, 2])
    """

    def __init__(self, ops: tuple[str, ...], n_nodes: int, skeleton: Any, seed: int = 0) -> None:
        super().__init__()
        from nasbench.models.nb201_network import ResNetBasicBlock
        from nasbench.spaces.blocks import GlobalAvgPool, bn_cls, conv_cls
        from nasbench.spaces.ops import create_op

        self.ops = tuple(ops)
        self.edges = [(i, j) for j in range(1, n_nodes) for i in range(j)]
        self.n_nodes = n_nodes
        dims, C = skeleton.spatial_dims, skeleton.channels
        with seeded(seed):
            self.stem = nn.Sequential(
                conv_cls(dims)(skeleton.in_channels, C, 3, padding=1, bias=False), bn_cls(dims)(C)
            )
            self.layers = nn.ModuleList()
            reductions = set(skeleton.reductions())
            for i in range(skeleton.n_cells):
                if i in reductions:
                    self.layers.append(ResNetBasicBlock(dims, C, 2 * C, 2))
                    C *= 2
                else:
                    self.layers.append(
                        nn.ModuleList(
                            nn.ModuleList(
                                create_op(op, spatial_dims=dims, C_in=C, C_out=C, stride=1)
                                for op in self.ops
                            )
                            for _ in self.edges
                        )
                    )
            self.lastact = nn.Sequential(bn_cls(dims)(C), nn.ReLU())
            self.pool = GlobalAvgPool()
            self.classifier = nn.Linear(C, skeleton.num_classes)

    def forward(self, x: torch.Tensor, path: list[str] | tuple[str, ...]) -> torch.Tensor:
        """Logits of the network whose edge ``e`` runs op ``path[e]``."""
        picks = [self.ops.index(op) for op in path]
        x = self.stem(x)
        for layer in self.layers:
            if not isinstance(layer, nn.ModuleList):
                x = layer(x)
                continue
            nodes: list[Any] = [x] + [0] * (self.n_nodes - 1)
            for (i, j), edge, k in zip(self.edges, layer, picks, strict=True):
                # A zero edge, or an edge out of a node that is still zero, adds nothing.
                if self.ops[k] != ZERO_OP and torch.is_tensor(nodes[i]):
                    nodes[j] = nodes[j] + edge[k](nodes[i])
            out = nodes[-1]
            x = out if torch.is_tensor(out) else torch.zeros_like(x)
        return self.classifier(self.pool(self.lastact(x)).flatten(1))


# ---- DARTS cell spaces: the shared supernet with a fixed-path method -------------------------
@dataclass
class UniformPathConfig(MethodConfig):
    """No settings: the path is set from outside (sampled uniformly, or a candidate)."""


class UniformPath:
    """Edge plans that run exactly the ops of one genotype (single-path supernet).

    Set :attr:`path` to a DARTS ``Genotype`` before a forward; every edge the genotype
    uses runs its op with weight 1, every other edge contributes zero. There are no
    architecture weights to step, so of a differentiable method's interface
    (:class:`nasbench.protocols.DifferentiableMethod`) it has what a supernet calls
    while it is built and run: the edges, their plans and no extra tensors.
    """

    name = "uniform_path"

    def __init__(self, config: UniformPathConfig | None = None, seed: int = 0) -> None:
        self.config = config or UniformPathConfig()
        self.seed = int(seed)
        self.path: Any = None

    def make_edge(self, spatial_dims: int, C: int, stride: int, op_names: Any) -> nn.Module:
        """The ordinary mixed edge; the plans pick its ops."""
        return MixedEdge(spatial_dims, C, stride, op_names)

    def extra_arch_shapes(self, n_edges: int, n_ops: int) -> dict[str, tuple[int, ...]]:
        """No architecture tensors besides the (unused) alphas."""
        return {}

    def setup(self, supernet: nn.Module) -> None:
        """Nothing to optimise: the architecture is sampled, not learned."""

    def edge_plans(self, supernet: nn.Module, cell_type: str, mode: str) -> list[EdgePlan]:
        if self.path is None:
            raise ConfigError("UniformPath: set method.path to a genotype before a forward.")
        pairs, _ = self.path.cell(cell_type)
        ipn = self.path.inputs_per_node
        chosen: dict[tuple[int, int], list[int]] = {}
        for index, (op, inp) in enumerate(pairs):
            chosen.setdefault((index // ipn, inp), []).append(supernet.op_names.index(op))
        device = supernet.alpha(cell_type).device
        plans = []
        for edge in supernet.edges:
            ks = chosen.get(tuple(edge))
            if ks:
                weights = torch.zeros(len(supernet.op_names), device=device)
                weights[ks] = 1.0
                plans.append(EdgePlan(weights, tuple(sorted(set(ks)))))
            else:
                # Unused edge: run the cheapest op with weight 0 ('none' when the space has it).
                zero = supernet.zero_op if supernet.zero_op is not None else 0
                plans.append(EdgePlan(torch.zeros(len(supernet.op_names), device=device), (zero,)))
        return plans


# ---- the evaluator ---------------------------------------------------------------------------
@dataclass
class WeightSharingConfig(MethodConfig):
    """Settings of the weight-sharing evaluator."""

    epochs: int = option(5, "supernet training epochs (uniform single-path sampling)", min=1)
    batch_size: int = option(32, "images per supernet step", min=1)
    lr: float = option(0.05, "initial SGD learning rate (cosine-annealed)", min=0.0)
    weight_decay: float = option(3e-4, "L2 penalty", min=0.0)
    bn_batches: int = option(2, "training batches that re-estimate BN statistics per path", min=0)
    size: int = option(28, "image edge length", min=1)
    limit: int | None = option(None, "stratified cap on the images of every split")
    metric: str = option("val_acc", "score", choices=("val_acc", "val_auc"))
    skeleton: dict | None = option(None, "macro skeleton override (Skeleton.to_dict())")
    device: str = option(
        "auto", "auto (CUDA when present), cpu or cuda", choices=("auto", "cpu", "cuda")
    )


@register_evaluator("weight_sharing", WeightSharingConfig)
class WeightSharingEvaluator:
    """Train a supernet once (uniform single-path), then score candidates with its weights.

    Args:
        config: a :class:`WeightSharingConfig`.
        space: an NB201, NB101 or DARTS cell space.
        dataset: a dataset name or DatasetConfig-like object (default ``"synthetic"``).
        seed: seeds the supernet weights, the path sampling and the batches.

    Example:
        >>> config = WeightSharingConfig(epochs=1)
        >>> ev = WeightSharingEvaluator(config, space=space)  # doctest: +SKIP
        >>> ev.evaluate(a).score, ev.evaluate(b).score  # doctest: +SKIP
    """

    def __init__(
        self,
        config: WeightSharingConfig | None = None,
        *,
        space: Space = None,
        dataset: Any = None,
        seed: int = 0,
    ) -> None:
        from nasbench.evaluation.train_evaluator import data_spec, require_space

        self.config = config or WeightSharingConfig()
        self.config.validate()
        self.space = require_space(space, "weight_sharing")
        self.check_space(self.space)
        self.data = data_spec(dataset, self.config.size, self.config.limit)
        self.seed = int(seed)
        self.supernet: nn.Module | None = None
        self.train_seconds = 0.0
        self._charged = False
        self._splits: tuple | None = None

    @staticmethod
    def check_space(space: Space) -> None:
        """Raise a one-line SpaceError unless the evaluator has a supernet for ``space``
        (``SearchConfig.validate`` calls it before a run folder exists)."""
        from nasbench.spaces import CellSpace, NB101Space, NB201Space

        if not isinstance(space, (NB201Space, NB101Space, CellSpace)):
            raise SpaceError(
                "weight sharing supports the 'nb201', 'nb101' and 'darts' spaces, not "
                f"{space.name!r}; use the 'train' or 'proxy' evaluator."
            )

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_splits": None}

    # ---- supernet -------------------------------------------------------------------------
    def _device(self) -> torch.device:
        from nasbench.device import resolve_device

        return resolve_device(self.config.device)

    def _build(self, info: Any) -> nn.Module:
        from nasbench.evaluation.train_evaluator import skeleton_for
        from nasbench.models.nb101_supernet import NB101Supernet
        from nasbench.models.supernet import Supernet
        from nasbench.spaces import NB101Space, NB201Space

        skeleton = skeleton_for(self.space, info, self.config.skeleton)
        if isinstance(self.space, NB201Space):
            return NB201Supernet(tuple(self.space.ops), self.space.n_nodes, skeleton, self.seed)
        if isinstance(self.space, NB101Space):
            return NB101Supernet(self.space.ops, self.space.n_vertices, skeleton, self.seed)
        return Supernet(
            tuple(self.space.ops),
            self.space.n_nodes,
            self.space.inputs_per_node,
            skeleton,
            UniformPath(seed=self.seed),
            seed=self.seed,
        )

    def _forward(self, x: torch.Tensor, genotype: Genotype) -> torch.Tensor:
        if isinstance(self.supernet, NB201Supernet):
            return self.supernet(x, [op for _, _, op in genotype.edges()])
        if getattr(genotype, "kind", None) == "nb101":
            return self.supernet(x, genotype)
        self.supernet.method.path = genotype
        return self.supernet(x)

    def splits(self) -> tuple:
        """``(train, val, test, info)``, loaded once."""
        from nasbench.evaluation.train_evaluator import load_evaluation_data

        if self._splits is None:
            self._splits = load_evaluation_data(self.data, self.seed)
        return self._splits

    def train_supernet(self) -> nn.Module:
        """Train the supernet with one uniformly sampled path per step (once; later calls
        return it).

        Returns:
            The trained supernet.
        """
        if self.supernet is not None:
            return self.supernet
        from nasbench.data.batches import EpochBatches
        from nasbench.evaluation.metrics import loss_for_task

        start = time.perf_counter()
        cfg = self.config
        train, _, _, info = self.splits()
        device = self._device()
        self.supernet = net = self._build(info).to(device)
        loss_fn = loss_for_task(info.task)
        batches = EpochBatches(train, min(cfg.batch_size, len(train)), self.seed, stream=3)
        params = [p for n, p in net.named_parameters() if not n.startswith("arch.")]
        opt = torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, weight_decay=cfg.weight_decay)
        steps = max(1, cfg.epochs * len(batches))
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
        rng = np.random.default_rng(self.seed)
        net.train()
        for epoch in range(cfg.epochs):
            for index in range(len(batches)):
                x, y = batches.batch(epoch, index)
                path = self.space.sample(rng)
                logits = self._forward(x.to(device), path)
                loss = loss_fn(logits, _target(y, info.task).to(device))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(params, 5.0)
                opt.step()
                sched.step()
        self.train_seconds = time.perf_counter() - start
        return net

    def resume_from(self, recorded: Sequence[Result]) -> None:
        """A resumed search: the supernet's training was charged already when one of the
        results the run recorded carries it (``supernet_s``), so no new result is charged
        again; the run's summed cost stays that of an uninterrupted run.

        Args:
            recorded: the results the stopped search recorded, in order.
        """
        self._charged = any("supernet_s" in result.cost for result in recorded)

    # ---- scoring --------------------------------------------------------------------------
    @torch.no_grad()
    def _recalibrate_bn(self, genotype: Genotype, train: Any, task: str) -> None:
        from nasbench.data.batches import EpochBatches

        bns = [m for m in self.supernet.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        if self.config.bn_batches == 0 or not bns:
            return
        for bn in bns:
            bn.reset_running_stats()
            bn.momentum = None  # a cumulative average over the recalibration batches
        batches = EpochBatches(train, min(self.config.batch_size, len(train)), self.seed, stream=4)
        self.supernet.train()
        device = self._device()
        for index in range(min(self.config.bn_batches, len(batches))):
            x, _ = batches.batch(0, index)
            self._forward(x.to(device), genotype)

    def evaluate(self, genotype: Genotype, budget: float | None = None) -> Result:
        """Score ``genotype`` with the supernet's weights on the validation split.

        The first call trains the supernet; its time and epochs are charged to that
        call's cost (``supernet_s``), so wall-time comparisons stay fair.

        Args:
            genotype: a member of the space.
            budget: ignored (the supernet is trained once).

        Returns:
            A Result: ``score``, ``val_acc``, ``val_auc``, ``val_loss``; cost ``wall_s``,
            ``epochs`` (supernet epochs on the first call, else 0); info ``inherited=True``.
        """
        from nasbench.evaluation.metrics import classification_metrics, loss_for_task

        g = self.space.validate(genotype)
        self.train_supernet()
        start = time.perf_counter()
        train, val, _, info = self.splits()
        self._recalibrate_bn(g, train, info.task)
        self.supernet.eval()
        device = self._device()
        logits, targets = [], []
        with torch.no_grad():
            for s in range(0, len(val), 256):
                items = [val[i] for i in range(s, min(len(val), s + 256))]
                x = torch.stack([torch.as_tensor(a) for a, _ in items]).to(device)
                logits.append(self._forward(x, g).float().cpu())
                targets.append(
                    _target(torch.stack([torch.as_tensor(b) for _, b in items]), info.task)
                )
        logits_all, targets_all = torch.cat(logits), torch.cat(targets)
        m = classification_metrics(logits_all, targets_all, info.task)
        loss = float(loss_for_task(info.task)(logits_all, targets_all))
        metrics = {"val_acc": m["acc"], "val_auc": m["auc"], "val_loss": loss}
        score = metrics[self.config.metric]
        metrics["score"] = score if math.isfinite(score) else float("-inf")
        cost = {"wall_s": time.perf_counter() - start, "epochs": 0.0}
        if not self._charged:
            cost["wall_s"] += self.train_seconds
            cost["epochs"] = float(self.config.epochs)
            cost["supernet_s"] = self.train_seconds
            self._charged = True
        return Result(metrics, cost, {"evaluator": "weight_sharing", "inherited": True})


def _target(y: torch.Tensor, task: str) -> torch.Tensor:
    return y.float() if task == "multi-label" else y.long().view(-1)
