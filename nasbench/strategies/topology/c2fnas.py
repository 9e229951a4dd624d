"""Stage 1 of C2FNAS (Yu et al., 2020): score sampled U-shaped topologies by a short proxy.

C2FNAS's coarse stage samples U-shaped topologies, trains them briefly with a fixed
cell and keeps the best before its fine stage searches the cells. Here
:func:`macro_search` takes the space's ``candidates`` topologies
(:meth:`~nasbench.spaces.c2fnas.C2fnasSpace.sample_topologies`, drawn by the search's
seed), builds each as a discrete network with ``proxy_op`` in every cell (the same
weight seed for all, so only the topology differs), trains it ``proxy_steps`` Adam
steps on the search's training batches and scores it on the validation half: the
validation loss ranks (lower is better; at a few steps Dice is often 0 for every
candidate, the loss still separates them), the task's scores (Dice) are kept beside it.

(C2FNAS sampled thousands of topologies and clustered them before training cluster
centres; on a CPU-sized benchmark every candidate is trained, so there is nothing to
cluster.) The engine runs this before it builds stage 2's supernet on the winner and
records the ranking as a ``c2fnas_topologies`` event; stage 2 is the usual bilevel
search (DARTS, GDAS, ProxylessNAS) of the cells' convs.

Example:
    >>> result = macro_search(space, train, val, task, loss_fn, "cpu", seed=0)  # doctest: +SKIP
    >>> result.topology in {tuple(c["topology"]) for c in result.candidates}  # doctest: +SKIP
    True
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import torch

from nasbench.models.c2fnas import C2fnasNetwork
from nasbench.spaces.c2fnas import C2fnasGenotype


@dataclass
class MacroResult:
    """Stage 1's outcome.

    Attributes:
        topology: the chosen levels (the best-ranked candidate).
        candidates: per candidate, best first: ``topology``, ``rank`` (0 = best),
            ``val_loss``, the task's ``val_*`` scores, ``params`` and ``seconds``.
        requested: the space's ``candidates``; more than ``len(candidates)`` when the
            space has fewer U-shaped topologies than that (all of them were scored).
    """

    topology: tuple[int, ...]
    candidates: list[dict[str, Any]] = field(default_factory=list)
    requested: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready payload of the ``c2fnas_topologies`` event."""
        return {
            "topology": list(self.topology),
            "candidates": self.candidates,
            "requested": self.requested,
        }


def score_topology(
    space: Any,
    levels: tuple[int, ...],
    train: Any,
    val: Any,
    task: Any,
    loss_fn: Any,
    device: Any,
    seed: int,
) -> dict[str, Any]:
    """Train one topology with ``space.proxy_op`` in every cell briefly and score it.

    Args:
        space: a :class:`~nasbench.spaces.c2fnas.C2fnasSpace`.
        levels: the topology.
        train: the training batches (:class:`~nasbench.data.batches.EpochBatches`).
        val: the validation batches.
        task: the segmentation task (its ``infer`` and ``meter``).
        loss_fn: the training loss.
        device: where to train.
        seed: seeds the weights (the same for every candidate).

    Returns:
        ``topology``, ``val_loss``, the task's ``val_*`` scores, ``params``, ``seconds``.
    """
    started = time.perf_counter()
    genotype = C2fnasGenotype(levels, (space.proxy_op,) * len(levels))
    net = C2fnasNetwork(genotype, space.skeleton, seed=seed).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=space.proxy_lr)
    net.train()
    for step in range(space.proxy_steps):
        x, y = (t.to(device) for t in train.batch(0, step % len(train)))
        optimizer.zero_grad(set_to_none=True)
        loss_fn(net(x), y).backward()
        optimizer.step()
    net.eval()
    meter, total, seen = task.meter(), 0.0, 0
    with torch.no_grad():
        for index in range(len(val)):
            x, y = (t.to(device) for t in val.batch(0, index))
            out = task.infer(net, x)
            total += float(loss_fn(out, y)) * len(y)
            seen += len(y)
            meter.update(out.float(), y)
    scores = {f"val_{k}": float(v) for k, v in meter.result().items()}
    return {
        "topology": list(levels),
        "val_loss": total / max(seen, 1),
        **scores,
        "params": int(sum(p.numel() for p in net.parameters())),
        "seconds": time.perf_counter() - started,
    }


def macro_search(
    space: Any, train: Any, val: Any, task: Any, loss_fn: Any, device: Any, seed: int
) -> MacroResult:
    """Stage 1: score ``space.candidates`` sampled topologies, best (lowest loss) first.

    Args:
        space: a :class:`~nasbench.spaces.c2fnas.C2fnasSpace` without a fixed topology.
        train: the training batches.
        val: the validation batches.
        task: the segmentation task.
        loss_fn: the training loss.
        device: where to train.
        seed: draws the candidates and seeds every proxy network.

    Returns:
        A :class:`MacroResult`; same seed, same candidates, scores and choice on CPU.
    """
    rows = []
    # The caller's torch RNG is left as it was: stage 2 starts from the same state.
    with torch.random.fork_rng(devices=[]):
        for levels in space.sample_topologies(seed):
            rows.append(score_topology(space, levels, train, val, task, loss_fn, device, seed))
    # Ties (equal loss) go to the earlier-drawn candidate: a stable sort.
    rows.sort(key=lambda r: r["val_loss"])
    for rank, row in enumerate(rows):
        row["rank"] = rank
    return MacroResult(tuple(rows[0]["topology"]), rows, requested=space.candidates)
