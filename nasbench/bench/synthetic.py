"""A SYNTHETIC NAS-Bench-201-shaped benchmark table: made up, not trained.

:func:`synthetic_nb201_table` covers every cell of the NAS-Bench-201 space
(15,625 cells, 6,466 canonical keys) in about a second, so tests and
``benchmarks/strategies.py`` can compare search strategies on a landscape with
known structure without training anything. Its numbers are NOT results of any
network on any data; the table's ``note`` says so and ``dataset`` is
``"synthetic-landscape"``.

The landscape (all random draws from one seeded generator):

- a latent quality ``z`` = additive per-edge op effects (convolutions help, 'none'
  and pooling hurt, each edge weighted by its own importance) + pairwise
  edge-op interactions + a small per-architecture noise;
- a cell whose output is cut off from its input scores chance (0.5);
- final validation accuracy ``0.55 + 0.40 * sigmoid(1.5 * zscore(z) + 0.5)``;
- per-epoch learning curves that rise with a time constant that grows with the
  number of convolutions (so early epochs rank architectures imperfectly, as in
  real partial training), test accuracy = validation curve + a per-architecture
  offset, AUC and training loss derived from the accuracy;
- costs: ``params`` and ``macs`` are the exact counts of the NAS-Bench-201 network
  of the space's skeleton on 28x28 inputs (closed-form, checked against the built
  network in the tests); ``latency_ms`` and ``train_seconds_per_epoch`` are
  affine functions of the MACs (plausible, not measured).
"""

from __future__ import annotations

import functools
import json
import math

import numpy as np
import pandas as pd

from nasbench.bench.table import BenchmarkTable
from nasbench.errors import ConfigError
from nasbench.options import MAX_INT, plain_numbers

# Latent effect of each NB201 op on one edge (unknown ops in a custom op list get 0).
OP_EFFECT = {
    "none": -0.6,
    "skip_connect": 0.0,
    "nor_conv_1x1": 0.5,
    "nor_conv_3x3": 1.0,
    "avg_pool_3x3": -0.2,
}
CONV_KERNEL = {"nor_conv_1x1": 1, "nor_conv_3x3": 3}
NOTE = (
    "SYNTHETIC landscape from nasbench.bench.synthetic: additive op effects + pairwise "
    "interactions + noise; params/MACs exact, latency and train time modelled. Not trained."
)


def nb201_costs(op_counts: dict[str, int], skeleton, input_size: int = 28) -> dict[str, float]:
    """Closed-form parameters and MACs of an NB201 network.

    Args:
        op_counts: how many edges of the cell carry each op.
        skeleton: the space's ``Skeleton`` (2D; channels, n_cells, reductions, classes).
        input_size: image edge length.

    Returns:
        ``{"params": int, "macs": int}`` as :mod:`nasbench.models.costs` counts them.

    Example:
        >>> from nasbench.spaces.skeleton import Skeleton
        >>> nb201_costs({"none": 6}, Skeleton(n_cells=17, channels=16))["params"] > 0
        True
    """
    C, size, in_ch = skeleton.channels, input_size, skeleton.in_channels
    params = 9 * in_ch * C + 2 * C
    macs = 9 * in_ch * C * size * size
    reductions = set(skeleton.reductions())
    for i in range(skeleton.n_cells):
        if i in reductions:
            size = -(-size // 2)
            # ResNet basic block: 3x3 (stride 2), 3x3, and a 1x1 on the pooled shortcut.
            params += 9 * C * 2 * C + 2 * 2 * C + 9 * 4 * C * C + 2 * 2 * C + C * 2 * C
            macs += (9 * C * 2 * C + 9 * 4 * C * C + C * 2 * C) * size * size
            C *= 2
            continue
        for op, n in op_counts.items():
            k = CONV_KERNEL.get(op)
            if k is not None:
                params += n * (k * k * C * C + 2 * C)
                macs += n * k * k * C * C * size * size
    params += 2 * C + C * skeleton.num_classes + skeleton.num_classes
    macs += C * skeleton.num_classes
    return {"params": int(params), "macs": int(macs)}


def synthetic_nb201_table(
    seed: int = 0, epochs: int = 12, space=None, noise: float = 0.004
) -> BenchmarkTable:
    """Build the SYNTHETIC benchmark table over a whole NB201-style space.

    Args:
        seed: seeds every random draw (same seed, same table).
        epochs: per-epoch rows per architecture (1..epochs).
        space: an ``NB201Space`` (default: the benchmark's 5 ops, 4 nodes, 17 cells).
        noise: standard deviation of the per-architecture and per-epoch noise.

    Returns:
        A :class:`~nasbench.bench.table.BenchmarkTable` with one key per canonical
        cell, ``dataset="synthetic-landscape"`` and a ``note`` saying it is synthetic.

    Example:
        >>> table = synthetic_nb201_table(seed=0)
        >>> len(table), table.max_epoch
        (6466, 12)
    """
    from nasbench.spaces import NB201Space

    seed, epochs, noise = plain_numbers(seed), plain_numbers(epochs), plain_numbers(noise)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < MAX_INT:
        raise ConfigError(f"seed must be an integer in [0, 2**31), got {seed!r}.")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ConfigError(f"epochs must be a positive integer, got {epochs!r}.")
    # NaN noise would make every cell NaN; it is a standard deviation, so >= 0.
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not 0 <= noise < math.inf:
        raise ConfigError(
            f"noise must be a finite number >= 0 (a standard deviation), got {noise!r}."
        )
    space = space if space is not None else NB201Space()
    if not isinstance(space, NB201Space):
        raise ConfigError("synthetic_nb201_table needs an NB201Space.")
    frame = _synthetic_frame(seed, epochs, noise, json.dumps(space.to_dict(), sort_keys=True))
    recipe = {"kind": "synthetic", "seed": int(seed), "epochs": epochs, "noise": noise}
    return BenchmarkTable(
        frame, space, dataset="synthetic-landscape", recipe=recipe, seeds=(seed,), note=NOTE
    )


# The same table is asked for again and again (each table evaluator, each resume, each
# lesson cell); building one walks all 15,625 cells (~2 s), while BenchmarkTable copies a
# built frame in ~0.1 s, so every caller still gets a table of its own.
@functools.lru_cache(maxsize=4)
def _synthetic_frame(seed: int, epochs: int, noise: float, space_json: str) -> pd.DataFrame:
    """The frame of :func:`synthetic_nb201_table` (arguments checked), for one space."""
    from nasbench.spaces import space_from_dict

    space = space_from_dict(json.loads(space_json))
    rng = np.random.default_rng(seed)
    ops, n_edges = list(space.ops), len(space.edges)
    importance = rng.uniform(0.6, 1.4, size=n_edges)
    main = importance[:, None] * np.array([OP_EFFECT.get(op, 0.0) for op in ops])[None, :]
    main = main + rng.normal(0.0, 0.15, size=main.shape)
    inter = np.triu(rng.normal(0.0, 0.12, size=(n_edges, n_edges)), k=1)
    inter_ops = rng.normal(0.0, 1.0, size=(len(ops), len(ops)))

    # One representative cell per canonical key: the first in enumeration order.
    reps, keys = {}, []
    for g in space.enumerate():
        key = space.canonical(g)
        if key not in reps:
            reps[key] = g
            keys.append(key)
    codes = np.array([[ops.index(op) for _, _, op in reps[k].edges()] for k in keys])
    edge_ix = np.arange(n_edges)
    z = main[edge_ix, codes].sum(axis=1)
    for a in range(n_edges):
        for b in range(a + 1, n_edges):
            z += inter[a, b] * inter_ops[codes[:, a], codes[:, b]]
    z += rng.normal(0.0, 0.1, size=len(keys))
    connected = np.array(["0" in k for k in keys])
    zs = (z - z[connected].mean()) / z[connected].std()
    final = 0.55 + 0.40 / (1.0 + np.exp(-(1.5 * zs + 0.5)))
    final = np.where(connected, final, 0.5) + rng.normal(0.0, noise, size=len(keys))
    n_conv = np.isin(codes, [ops.index(o) for o in CONV_KERNEL if o in ops]).sum(axis=1)
    tau = 1.0 + 0.4 * n_conv
    test_offset = rng.normal(0.0, 1.5 * noise, size=len(keys))

    e = np.arange(1, epochs + 1)[None, :]
    shape = (1.0 - np.exp(-e / tau[:, None])) / (1.0 - np.exp(-epochs / tau[:, None]))
    val = 0.5 + (final[:, None] - 0.5) * shape + rng.normal(0.0, noise, size=shape.shape)
    val = np.clip(val, 0.0, 1.0)
    test = np.clip(val + test_offset[:, None] + rng.normal(0.0, noise, size=shape.shape), 0, 1)
    gain = np.clip((val - 0.5) / 0.5, 0.0, 1.0)
    train_loss = np.log(2.0) * (1.0 - 0.9 * gain) + rng.uniform(0, 0.01, size=shape.shape)

    costs = [
        nb201_costs({op: int((codes[r] == i).sum()) for i, op in enumerate(ops)}, space.skeleton)
        for r in range(len(keys))
    ]
    macs = np.array([c["macs"] for c in costs], dtype=float)
    params = np.array([c["params"] for c in costs], dtype=float)
    n = len(keys)
    frame = pd.DataFrame(
        {
            "key": np.repeat(keys, epochs),
            "genotype_json": np.repeat([reps[k].to_json() for k in keys], epochs),
            "seed": 0,
            "epoch": np.tile(np.arange(1, epochs + 1), n),
            "train_loss": train_loss.ravel(),
            "val_acc": val.ravel(),
            "val_auc": np.clip(0.5 + 1.05 * (val - 0.5) + 0.01, 0.0, 0.999).ravel(),
            "test_acc": test.ravel(),
            "test_auc": np.clip(0.5 + 1.05 * (test - 0.5) + 0.01, 0.0, 0.999).ravel(),
            "params": np.repeat(params, epochs),
            "macs": np.repeat(macs, epochs),
            "latency_ms": np.repeat(0.4 + macs / 2e7, epochs),
            "train_seconds_per_epoch": np.repeat(1.0 + macs / 1e7, epochs),
        }
    )
    return frame  # shared by the callers: BenchmarkTable copies it
