"""NASH: children inherit the parent's weights and function, and the climb improves."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import TensorDataset

from nasbench.errors import ConfigError
from nasbench.spaces import ChainSpace
from nasbench.spaces.skeleton import Skeleton
from nasbench.strategies.discrete.loop import Budget, run_discrete
from nasbench.strategies.discrete.nash import NashConfig, NashHillClimbing

CONFIG = dict(
    n_children=3,
    n_morphisms=2,
    epochs=1,
    start_epochs=1,
    start_channels=4,
    start_layers=2,
    max_channels=16,
    max_layers=5,
    lr=0.1,
    batch_size=16,
)


def _bright_square(n: int, seed: int) -> TensorDataset:
    """Class 1 images carry a bright square somewhere; class 0 are noise only."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 12, 12, generator=gen) * 0.5
    y = torch.arange(n) % 2
    for i in range(n):
        if y[i]:
            r, c = torch.randint(0, 8, (2,), generator=gen).tolist()
            x[i, 0, r : r + 4, c : c + 4] += 2.0
    return TensorDataset(x, y)


@pytest.fixture
def nash():
    space = ChainSpace(skeleton=Skeleton(in_channels=1, num_classes=2))
    return NashHillClimbing(NashConfig(**CONFIG), space, seed=0)


def test_children_inherit_weights_and_function(nash):
    evaluator = nash.bind(_bright_square(64, 0), _bright_square(32, 1), "binary", device="cpu")
    start = nash.ask()
    nash.tell(start, evaluator.evaluate(start))
    parent = nash.parent[1].eval()
    x = torch.randn(3, 1, 12, 12, generator=torch.Generator().manual_seed(5))
    # A step's first network is the parent itself, trained further (on a copy).
    again = nash.ask()
    assert again == start and nash.network(again) is not nash.parent[1]
    with torch.no_grad():
        assert torch.equal(nash.network(again).eval()(x), parent(x))
    assert nash.epochs_for(again) == CONFIG["epochs"]
    for _ in range(2):
        child_g = nash.ask()
        child = nash.network(child_g).eval()
        assert child_g != start
        assert nash.steps_of[child_g]
        with torch.no_grad():
            assert torch.allclose(child(x), parent(x), atol=1e-5)
        # The first layer is never widened on its input side: its old filters are the parent's.
        c0 = parent.layers[0][0].weight.shape[0]
        assert torch.equal(child.layers[0][0].weight[:c0], parent.layers[0][0].weight)
        assert torch.equal(child.layers[0][1].running_mean[:c0], parent.layers[0][1].running_mean)


def test_climb_improves_on_start_network(nash):
    train, val = _bright_square(96, 0), _bright_square(48, 1)
    evaluator = nash.bind(train, val, "binary", device="cpu")
    out = run_discrete(nash, evaluator, Budget(max_evaluations=7), cache="none")
    scores = [t.result.score for t in out.history]
    assert out.evaluations == 7 and nash.generation == 2
    assert all(t.result.info["trained"] for t in out.history)
    assert max(scores[1:]) > scores[0]  # the climb improves on the starting network
    steps = [out.history[1:4], out.history[4:7]]  # the parent trained further, 2 children
    assert steps[0][0].genotype == out.history[0].genotype
    # The best of the last step is the parent, the parent trained further among them.
    assert nash.parent[2] == max(t.result.score for t in steps[1])


def test_bad_use_gives_one_line_errors(nash):
    with pytest.raises(ConfigError, match="at least 1 \\+ n_children"):
        nash.check_budget(3)
    nash.ask()
    with pytest.raises(ConfigError, match="before its starting network was scored"):
        nash.ask()
    with pytest.raises(ConfigError, match="not proposed by this NASH"):
        nash.network(nash.start_network().genotype.__class__.plain(1, (5,)))
