"""ENAS: one path per sample on shared weights, and a controller that learns."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

from nasbench.errors import ConfigError
from nasbench.spaces import CellSpace, NB201Space
from nasbench.spaces.skeleton import Skeleton
from nasbench.strategies.discrete.enas import Enas, EnasConfig
from nasbench.strategies.discrete.loop import Budget, run_discrete

OPS = ["none", "skip_connect", "max_pool_3x3", "sep_conv_3x3"]


def _data(n: int, seed: int) -> TensorDataset:
    gen = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    x = torch.randn(n, 1, 8, 8, generator=gen) * 0.5 + y.view(-1, 1, 1, 1).float()
    return TensorDataset(x, y)


@pytest.fixture
def enas() -> Enas:
    space = CellSpace(OPS, n_nodes=2, skeleton=Skeleton(n_cells=2, channels=4, reduction_at=(1,)))
    config = EnasConfig(
        controller_steps=4, shared_steps=3, data_batch_size=16, lr=0.1, hidden_size=16
    )
    return Enas(config, space, seed=0)


def _log_prob(enas: Enas, genotype) -> float:
    with torch.no_grad():
        choices = enas.decisions.to_decisions(genotype)
        _, log_prob, _ = enas.controller.run(enas.decisions, 1.0, choices=choices)
    return float(log_prob)


def test_runs_and_controller_distribution_changes(enas):
    probe = enas.space.sample(np.random.default_rng(7))
    before = _log_prob(enas, probe)
    weights = [p.detach().clone() for p in enas.supernet.weight_parameters()]
    evaluator = enas.bind(_data(48, 0), _data(32, 1), "binary", device="cpu")
    out = run_discrete(enas, evaluator, Budget(max_evaluations=8), cache="none")
    assert out.evaluations == 8
    assert all(enas.space.contains(t.genotype) for t in out.history)
    assert all(0.0 <= t.result.score <= 1.0 for t in out.history)
    assert evaluator.phases == 2 and evaluator.train_step == 6
    assert abs(_log_prob(enas, probe) - before) > 1e-4  # the controller moved
    changed = [
        not torch.equal(a, b)
        for a, b in zip(weights, enas.supernet.weight_parameters(), strict=True)
    ]
    assert any(changed)  # the shared weights were trained


def test_one_path_per_sample(enas):
    evaluator = enas.bind(_data(32, 0), _data(16, 1), "binary", device="cpu")
    genotype = enas.sample()
    for p in enas.supernet.parameters():
        p.grad = None
    evaluator.shared_step(genotype)
    cell = enas.supernet.cells[0]  # a normal cell
    pairs, _ = genotype.cell("normal")
    kept = {(k // 2, idx): op for k, (op, idx) in enumerate(pairs)}
    for e, (node, inp) in enumerate(enas.supernet.edges):
        edge = cell.edge_ops[e]
        for name, op in zip(edge.op_names, edge.ops, strict=True):
            grads = [p.grad for p in op.parameters()]
            ran = kept.get((node, inp)) == name
            if grads and not ran:
                assert all(g is None for g in grads), (node, inp, name)
            if grads and ran:
                assert any(g is not None for g in grads)


def test_needs_a_cell_space():
    with pytest.raises(ConfigError, match="DARTS cell supernet"):
        Enas(EnasConfig(), NB201Space(), seed=0)
