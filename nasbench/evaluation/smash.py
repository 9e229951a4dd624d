"""SMASH: one hypernetwork generates the weights of every candidate (Brock et al., 2018,
"SMASH: One-Shot Model Architecture Search through HyperNetworks").

SMASH reads a network as memory banks that ops read from and write to; an encoding
of the whole architecture goes into a hypernetwork, which emits the weights of the
ops. Training samples a random architecture per mini-batch and trains the
hypernetwork through the generated weights; scoring a candidate generates its
weights once and measures its validation loss, so no candidate is ever trained.

This CPU-sized version works on the NAS-Bench-201 cell space (here), the DARTS cell
space (:mod:`nasbench.evaluation.smash_cells`) and the chain space
(:mod:`nasbench.evaluation.smash_chain`). On NB201 the memory banks are the
cell's nodes and each edge reads node ``i``, applies its op and adds into node ``j``:

- the architecture code is the space's own encoder (``space.encode(g)``);
- for each weighted op slot (a cell, an edge) the hypernetwork maps
  ``[code, slot embedding]`` through a shared MLP to the slot's conv kernel (one
  output head per op kind and stage width), so a slot's weights depend on the whole
  architecture, as in SMASH;
- the stem, the reduction blocks and the classifier are ordinary learned weights
  (SMASH's fixed transition layers); every batch norm normalises with the batch's
  own statistics, so generated weights need no per-architecture recalibration.

Other spaces (U-Net, reconstruction, DiNTS) are refused in one line by
:func:`check_smash_space`.

Example:
    >>> ev = create_evaluator("smash", {"epochs": 1, "limit": 64}, space=space)  # doctest: +SKIP
    >>> ev.evaluate(g).metrics["val_loss"]  # doctest: +SKIP
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nasbench.device import seeded
from nasbench.errors import SpaceError
from nasbench.evaluation.base import Result
from nasbench.evaluation.registry import register_evaluator
from nasbench.options import MethodConfig, option

# op name -> (kind, kernel size); conv kinds get generated weights.
SMASH_OPS: dict[str, tuple[str, int]] = {
    "none": ("zero", 0),
    "skip_connect": ("skip", 0),
    "nor_conv_1x1": ("conv", 1),
    "nor_conv_3x3": ("conv", 3),
    "nor_conv_5x5": ("conv", 5),
    "avg_pool_3x3": ("avg", 3),
    "max_pool_3x3": ("max", 3),
}


def check_smash_space(space: Any) -> Any:
    """Raise a one-line SpaceError unless SMASH can generate weights for ``space``.

    Args:
        space: a search space.

    Returns:
        The space, unchanged.

    Example:
        >>> check_smash_space(create_space("chain"))  # doctest: +SKIP
        SpaceError: the 'smash' evaluator supports the 'nb201', 'darts' and 'chain' spaces ...
    """
    from nasbench.evaluation.smash_cells import SMASH_CELL_OPS
    from nasbench.spaces import CellSpace, ChainSpace, NB201Space

    if isinstance(space, ChainSpace):
        return space  # every chain layer type has a generator
    if isinstance(space, NB201Space):
        known, ops = SMASH_OPS, space.ops
    elif isinstance(space, CellSpace):
        known, ops = SMASH_CELL_OPS, space.choices
    else:
        raise SpaceError(
            f"the 'smash' evaluator supports the 'nb201', 'darts' and 'chain' spaces, not "
            f"{space.name!r}; use 'weight_sharing', 'proxy' or 'train' for it."
        )
    unknown = [op for op in ops if op not in known]
    if unknown:
        raise SpaceError(
            f"the 'smash' evaluator cannot generate weights for op(s) {', '.join(unknown)} "
            f"of the {space.name!r} space; it knows {', '.join(known)}, so drop those ops or "
            "use the 'train' evaluator."
        )
    return space


def batch_norm(x: torch.Tensor) -> torch.Tensor:
    """Affine-free batch norm with the batch's own statistics (no running averages)."""
    return F.batch_norm(x, None, None, training=True)


def pool_op(kind: str, x: torch.Tensor, k: int, stride: int, dims: int) -> torch.Tensor:
    """A ``k``-wide max or average pool ("max" / "avg") that keeps the size at stride 1
    (averages count real pixels only, as the project's pooling ops do)."""
    pool = {
        ("avg", 2): F.avg_pool2d,
        ("avg", 3): F.avg_pool3d,
        ("max", 2): F.max_pool2d,
        ("max", 3): F.max_pool3d,
    }[kind, dims]
    extra = {"count_include_pad": False} if kind == "avg" else {}
    return pool(x, k, stride=stride, padding=k // 2, **extra)


class _Reduction(nn.Module):
    """A fixed (not generated) stride-2 block: ReLU-conv3x3-BN plus a pooled 1x1 shortcut."""

    def __init__(self, dims: int, C_in: int, C_out: int) -> None:
        super().__init__()
        from nasbench.spaces.blocks import conv_cls

        self.conv = conv_cls(dims)(C_in, C_out, 3, stride=2, padding=1, bias=False)
        self.shortcut = conv_cls(dims)(C_in, C_out, 1, bias=False)
        # ceil_mode: an odd edge (7) halves to the stride-2 conv's size (4), not one less.
        pool = nn.AvgPool2d if dims == 2 else nn.AvgPool3d
        self.pool = pool(2, ceil_mode=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return batch_norm(self.conv(F.relu(x))) + self.shortcut(self.pool(x))


class SlotHypernetwork(nn.Module):
    """What every SMASH network shares: a learned embedding per op slot, and the MLP trunk
    that maps ``[architecture code, slot embedding]`` to the slot's features, which the
    ``heads`` (one :func:`weight_head` per op and width) turn into kernels."""

    def init_generator(self, code_length: int, slots: int, hidden: int, embedding: int) -> None:
        """Create the slot embeddings, the trunk and an empty ``heads`` dict (in that order,
        which fixes what a seed gives)."""
        self.slot_embedding = nn.Embedding(slots, embedding)
        self.trunk = nn.Sequential(
            nn.Linear(code_length + embedding, hidden), nn.ReLU(), nn.Linear(hidden, hidden)
        )
        self.heads = nn.ModuleDict()

    def generate(self, code: torch.Tensor) -> torch.Tensor:
        """Trunk features ``(slots, hidden)`` of every op slot for the architecture ``code``."""
        slots = self.slot_embedding.weight
        return self.trunk(torch.cat([code.expand(len(slots), -1), slots], dim=1))


class SmashNetwork(SlotHypernetwork):
    """The NB201 macro network whose cell-op weights a hypernetwork generates.

    Args:
        ops: the space's op names (all in :data:`SMASH_OPS`).
        n_nodes: nodes per cell, input included.
        code_length: length of the architecture code (the space's encoder).
        skeleton: the macro ``Skeleton`` (cells, channels, reductions, classes, dims).
        hidden: width of the hypernetwork's MLP.
        embedding: size of the learned embedding of each op slot (cell, edge).
        seed: seeds the initial weights (global RNG untouched).

    Example:
        >>> net = SmashNetwork(("none", "nor_conv_3x3"), 3, 6, Skeleton(n_cells=5, channels=4))
        >>> code = torch.tensor([0, 1, 1, 0, 0, 1.0])
        >>> net(torch.zeros(2, 1, 8, 8), code, ["nor_conv_3x3", "none", "nor_conv_3x3"]).shape
        torch.Size([2, 2])
    """

    def __init__(
        self,
        ops: tuple[str, ...],
        n_nodes: int,
        code_length: int,
        skeleton: Any,
        hidden: int = 64,
        embedding: int = 16,
        seed: int = 0,
    ) -> None:
        super().__init__()
        from nasbench.spaces.blocks import conv_cls

        self.ops = tuple(ops)
        self.n_nodes = n_nodes
        self.edges = [(i, j) for j in range(1, n_nodes) for i in range(j)]
        self.dims = dims = skeleton.spatial_dims
        C = skeleton.channels
        with seeded(seed):
            self.stem = conv_cls(dims)(skeleton.in_channels, C, 3, padding=1, bias=False)
            self.layout: list[tuple[str, int]] = []  # ("cell", width) or ("reduce", index)
            self.reductions = nn.ModuleList()
            reductions = set(skeleton.reductions())
            n_cells = 0
            for i in range(skeleton.n_cells):
                if i in reductions:
                    self.layout.append(("reduce", len(self.reductions)))
                    self.reductions.append(_Reduction(dims, C, 2 * C))
                    C *= 2
                else:
                    self.layout.append(("cell", C))
                    n_cells += 1
            self.init_generator(code_length, n_cells * len(self.edges), hidden, embedding)
            widths = sorted({width for kind, width in self.layout if kind == "cell"})
            for op in self.ops:
                kind, k = SMASH_OPS[op]
                for width in widths if kind == "conv" else ():
                    shape = (width, width, *(k,) * dims)
                    self.heads[_head_name(op, width)] = weight_head(hidden, [shape])
            self.classifier = nn.Linear(C, skeleton.num_classes)

    @staticmethod
    def route(genotype: Any) -> list[str]:
        """What :meth:`forward` runs: the op of every edge, in the space's edge order."""
        return [op for _, _, op in genotype.edges()]

    def forward(
        self, x: torch.Tensor, code: torch.Tensor, path: list[str] | tuple[str, ...]
    ) -> torch.Tensor:
        """Logits when edge ``e`` runs ``path[e]`` with weights generated from ``code``."""
        features = self.generate(code)
        x = batch_norm(self.stem(x))
        slot = 0
        for kind, value in self.layout:
            if kind == "reduce":
                x = self.reductions[value](x)
                continue
            nodes: list[Any] = [x] + [0] * (self.n_nodes - 1)
            for (i, j), op in zip(self.edges, path, strict=True):
                if torch.is_tensor(nodes[i]) and op != "none":
                    nodes[j] = nodes[j] + self._run_op(op, nodes[i], features[slot], value)
                slot += 1
            out = nodes[-1]
            x = out if torch.is_tensor(out) else torch.zeros_like(x)
        pooled = F.relu(batch_norm(x)).flatten(2).mean(dim=2)
        return self.classifier(pooled)

    def _run_op(self, op: str, x: torch.Tensor, feature: torch.Tensor, width: int) -> torch.Tensor:
        kind, k = SMASH_OPS[op]
        if kind == "skip":
            return x
        if kind in ("avg", "max"):
            return pool_op(kind, x, k, 1, self.dims)
        weight = self.heads[_head_name(op, width)](feature).view(width, width, *(k,) * self.dims)
        conv = F.conv2d if self.dims == 2 else F.conv3d
        return batch_norm(conv(F.relu(x), weight, padding=k // 2))


def _head_name(op: str, width: int) -> str:
    return f"{op}_{width}"


def weight_head(hidden: int, shapes: list[tuple[int, ...]]) -> nn.Linear:
    """A linear map from trunk features to the kernels ``shapes`` (flattened, in order),
    initialised so that freshly generated kernels have He-initialisation scale: the bias
    holds the shared kernels, the weights a small architecture-dependent change to them.

    Example:
        >>> weight_head(8, [(4, 1, 3, 3), (4, 4, 1, 1)]).out_features
        52
    """
    sizes = [math.prod(shape) for shape in shapes]
    head = nn.Linear(hidden, sum(sizes))
    with torch.no_grad():
        for bias, weight, shape in zip(
            head.bias.split(sizes), head.weight.split(sizes), shapes, strict=True
        ):
            scale = math.sqrt(2.0 / math.prod(shape[1:]))  # fan-in of one output channel
            bias.normal_(0.0, scale)
            weight.normal_(0.0, 0.1 * scale / math.sqrt(hidden))
    return head


def split_kernels(flat: torch.Tensor, shapes: list[tuple[int, ...]]) -> list[torch.Tensor]:
    """The kernels of ``shapes`` from one generated vector (the output of a :func:`weight_head`).

    Example:
        >>> [k.shape for k in split_kernels(torch.zeros(52), [(4, 1, 3, 3), (4, 4, 1, 1)])]
        [torch.Size([4, 1, 3, 3]), torch.Size([4, 4, 1, 1])]
    """
    pieces = flat.split([math.prod(shape) for shape in shapes])
    return [piece.view(shape) for piece, shape in zip(pieces, shapes, strict=True)]


def smash_network(space: Any, code_length: int, skeleton: Any, **options: Any) -> nn.Module:
    """The SMASH network of ``space`` (checked by :func:`check_smash_space`).

    Args:
        space: an NB201, DARTS cell or chain space.
        code_length: length of the architecture code.
        skeleton: the macro ``Skeleton``.
        **options: ``hidden``, ``embedding``, ``seed``.

    Returns:
        A :class:`SmashNetwork`, ``SmashCellNetwork`` or ``SmashChainNetwork``; each is
        called as ``net(x, code, net.route(genotype))``.
    """
    from nasbench.evaluation.smash_cells import SmashCellNetwork
    from nasbench.evaluation.smash_chain import SmashChainNetwork
    from nasbench.spaces import ChainSpace, NB201Space

    if isinstance(space, NB201Space):
        return SmashNetwork(tuple(space.ops), space.n_nodes, code_length, skeleton, **options)
    if isinstance(space, ChainSpace):
        return SmashChainNetwork(space, code_length, skeleton, **options)
    return SmashCellNetwork(space, code_length, skeleton, **options)


# ---- the evaluator ---------------------------------------------------------------------------
@dataclass
class SmashConfig(MethodConfig):
    """Settings of the SMASH evaluator."""

    epochs: int = option(5, "hypernetwork epochs (one random architecture per step)", min=1)
    batch_size: int = option(32, "images per hypernetwork step", min=2)
    lr: float = option(1e-3, "Adam learning rate of the hypernetwork", min=0.0)
    weight_decay: float = option(1e-5, "L2 penalty", min=0.0)
    # Each weight head is hidden x (its op's weights): the chain's conv head is 13 M
    # parameters at 64 and 210 M at 1024, which with Adam's moments is GBs already.
    hidden: int = option(64, "width of the hypernetwork's MLP", min=1, max=1024)
    embedding: int = option(16, "size of each op slot's learned embedding", min=1)
    encoding: str = option("onehot", "architecture code from the space", choices=("onehot", "path"))
    size: int = option(28, "image edge length", min=1)
    limit: int | None = option(None, "stratified cap on the images of every split")
    metric: str = option(
        "val_loss", "score (val_loss is negated)", choices=("val_loss", "val_acc", "val_auc")
    )
    skeleton: dict | None = option(None, "macro skeleton override (Skeleton.to_dict())")
    device: str = option(
        "auto", "auto (CUDA when present), cpu or cuda", choices=("auto", "cpu", "cuda")
    )


@register_evaluator("smash", SmashConfig)
class SmashEvaluator:
    """Train a hypernetwork once over random architectures, then score candidates by the
    validation loss of the weights it generates for them (SMASH).

    Args:
        config: a :class:`SmashConfig`.
        space: an NB201 space whose ops are in :data:`SMASH_OPS`, a DARTS cell space
            whose choices are in ``smash_cells.SMASH_CELL_OPS``, or a chain space.
        dataset: a dataset name or DatasetConfig-like object (default ``"synthetic"``).
        seed: seeds the hypernetwork, the architecture sampling and the batches.

    Example:
        >>> ev = SmashEvaluator(SmashConfig(epochs=1, limit=64), space=NB201Space())
        >>> ev.evaluate(a).score, ev.evaluate(b).score  # no retraining  # doctest: +SKIP
    """

    def __init__(
        self,
        config: SmashConfig | None = None,
        *,
        space: Any = None,
        dataset: Any = None,
        seed: int = 0,
    ) -> None:
        from nasbench.evaluation.train_evaluator import data_spec, require_space

        self.config = config or SmashConfig()
        self.config.validate()
        self.space = check_smash_space(require_space(space, "smash"))
        self.data = data_spec(dataset, self.config.size, self.config.limit)
        self.seed = int(seed)
        self.network: nn.Module | None = None
        self.curve: list[dict[str, float]] = []
        self.train_seconds = 0.0
        self._charged = False
        self._splits: tuple | None = None

    check_space = staticmethod(check_smash_space)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_splits": None}

    def _device(self) -> torch.device:
        from nasbench.device import resolve_device

        return resolve_device(self.config.device)

    def splits(self) -> tuple:
        """``(train, val, test, info)``, loaded once."""
        from nasbench.evaluation.train_evaluator import load_evaluation_data

        if self._splits is None:
            self._splits = load_evaluation_data(self.data, self.seed)
        return self._splits

    def code(self, genotype: Any) -> torch.Tensor:
        """The architecture code the hypernetwork reads: the space's encoding of ``genotype``."""
        return torch.from_numpy(self.space.encode(genotype, self.config.encoding))

    def train_hypernetwork(self) -> nn.Module:
        """Train the hypernetwork with one random architecture per step (once; later calls
        return it). The mean training loss and accuracy of each epoch go to :attr:`curve`.

        Returns:
            The trained network (see :func:`smash_network`).
        """
        if self.network is not None:
            return self.network
        from nasbench.data.batches import EpochBatches
        from nasbench.evaluation.metrics import loss_for_task
        from nasbench.evaluation.train_evaluator import skeleton_for

        start = time.perf_counter()
        cfg = self.config
        train, _, _, info = self.splits()
        device = self._device()
        net = smash_network(
            self.space,
            self.space.encoding_length(cfg.encoding),
            skeleton_for(self.space, info, cfg.skeleton),
            hidden=cfg.hidden,
            embedding=cfg.embedding,
            seed=self.seed,
        ).to(device)
        loss_fn = loss_for_task(info.task)
        batches = EpochBatches(train, min(cfg.batch_size, len(train)), self.seed, stream=5)
        opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        rng = np.random.default_rng(self.seed)
        for epoch in range(cfg.epochs):
            losses, correct, seen = [], 0, 0
            for index in range(len(batches)):
                x, y = batches.batch(epoch, index)
                g = self.space.sample(rng)
                target = _target(y, info.task).to(device)
                logits = net(x.to(device), self.code(g).to(device), net.route(g))
                loss = loss_fn(logits, target)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(net.parameters(), 5.0)
                opt.step()
                losses.append(loss.item())
                if info.task != "multi-label":
                    correct += int((logits.argmax(1) == target).sum())
                    seen += len(target)
            self.curve.append(
                {
                    "epoch": float(epoch),
                    "train_loss": float(np.mean(losses)),
                    "train_acc": correct / seen if seen else math.nan,
                }
            )
        self.network = net
        self.train_seconds = time.perf_counter() - start
        return net

    def resume_from(self, recorded: Sequence[Result]) -> None:
        """A resumed search: the hypernetwork's training (cost ``hypernet_s``, info
        ``hypernet_curve``) was charged already when a recorded result carries it, so no
        new result carries it again.

        Args:
            recorded: the results the stopped search recorded, in order.
        """
        self._charged = any("hypernet_s" in result.cost for result in recorded)

    @torch.no_grad()
    def evaluate(self, genotype: Any, budget: float | None = None) -> Result:
        """Score ``genotype`` by the validation loss of the weights the hypernetwork generates.

        The first call trains the hypernetwork; its time and epochs are charged to
        that call's cost (``hypernet_s``) and its training curve goes into that
        call's info (``hypernet_curve``), which the search loop records in the run store.

        Args:
            genotype: a member of the space.
            budget: ignored (the hypernetwork is trained once).

        Returns:
            A Result: ``score`` (``-val_loss`` by default), ``val_loss``, ``val_acc``,
            ``val_auc``; cost ``wall_s``, ``epochs``; info ``generated=True``.
        """
        from nasbench.evaluation.metrics import classification_metrics, loss_for_task

        g = self.space.validate(genotype)
        with torch.enable_grad():
            net = self.train_hypernetwork()
        start = time.perf_counter()
        _, val, _, info = self.splits()
        device = self._device()
        code = self.code(g).to(device)
        logits, targets = [], []
        # Equal chunks: batch-norm statistics of a tiny last batch would be noise.
        for chunk in np.array_split(np.arange(len(val)), math.ceil(len(val) / 256)):
            items = [val[int(i)] for i in chunk]
            x = torch.stack([torch.as_tensor(a) for a, _ in items]).to(device)
            logits.append(net(x, code, net.route(g)).float().cpu())
            targets.append(_target(torch.stack([torch.as_tensor(b) for _, b in items]), info.task))
        logits_all, targets_all = torch.cat(logits), torch.cat(targets)
        m = classification_metrics(logits_all, targets_all, info.task)
        loss = float(loss_for_task(info.task)(logits_all, targets_all))
        metrics = {"val_loss": loss, "val_acc": m["acc"], "val_auc": m["auc"]}
        score = -loss if self.config.metric == "val_loss" else metrics[self.config.metric]
        metrics["score"] = score if math.isfinite(score) else float("-inf")
        cost = {"wall_s": time.perf_counter() - start, "epochs": 0.0}
        result_info: dict[str, Any] = {"evaluator": "smash", "generated": True}
        if not self._charged:
            cost["wall_s"] += self.train_seconds
            cost["epochs"] = float(self.config.epochs)
            cost["hypernet_s"] = self.train_seconds
            result_info["hypernet_curve"] = list(self.curve)
            self._charged = True
        return Result(metrics, cost, result_info)


def _target(y: torch.Tensor, task: str) -> torch.Tensor:
    return y.float() if task == "multi-label" else y.long().view(-1)
