"""SMASH: the hypernetwork generates architecture-dependent weights, trains once, scores
candidates by validation loss, records its curve, and refuses spaces it cannot serve."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nasbench.config import DatasetConfig, SearchConfig
from nasbench.errors import ConfigError, SpaceError
from nasbench.evaluation import create_evaluator
from nasbench.evaluation.smash import SmashNetwork
from nasbench.evaluation.smash_cells import SmashCellNetwork
from nasbench.evaluation.smash_chain import SmashChainNetwork
from nasbench.runs import load
from nasbench.spaces import CellSpace, ChainSpace, NasUnetSpace, NB201Space
from nasbench.spaces.genotype import ChainGenotype, ChainLayer
from nasbench.spaces.skeleton import Skeleton
from nasbench.viz import hypernet_curve, plot_hypernet_curve

TINY = {
    "epochs": 2,
    "batch_size": 8,
    "limit": 32,
    "hidden": 8,
    "skeleton": {"n_cells": 3, "channels": 4},
    "device": "cpu",
}


def _smash(space, seed=0, **changes):
    return create_evaluator("smash", {**TINY, **changes}, space=space, seed=seed)


def test_generated_weights_depend_on_the_whole_architecture_and_train_the_hypernetwork():
    space = NB201Space()
    net = SmashNetwork(space.ops, 4, 30, Skeleton(n_cells=3, channels=4), hidden=8, seed=0)
    a = space.validate("|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|nor_conv_3x3~2|")
    b = space.validate("|nor_conv_3x3~0|+|avg_pool_3x3~0|none~1|+|none~0|none~1|nor_conv_3x3~2|")
    features_a = net.generate(torch.from_numpy(space.encode(a)))
    features_b = net.generate(torch.from_numpy(space.encode(b)))
    head = net.heads["nor_conv_3x3_4"]
    # Edge 0 runs conv3x3 in both; its kernel changes because another edge changed.
    assert not torch.allclose(head(features_a[0]), head(features_b[0]))
    x = torch.randn(4, 1, 8, 8)
    net(x, torch.from_numpy(space.encode(a)), [op for _, _, op in a.edges()]).sum().backward()
    assert net.trunk[0].weight.grad.abs().sum() > 0  # the loss reaches the hypernetwork
    assert net.heads["nor_conv_1x1_4"].weight.grad is None  # an op a never runs


@pytest.mark.slow
def test_smash_trains_once_scores_by_validation_loss_and_is_reproducible():
    space = NB201Space()
    rng = np.random.default_rng(0)
    genotypes = [space.sample(rng) for _ in range(3)]
    ev = _smash(space)
    results = [ev.evaluate(g) for g in genotypes]
    first, later = results[0], results[1:]
    assert first.cost["epochs"] == 2 and first.cost["hypernet_s"] > 0
    assert [row["epoch"] for row in first.info["hypernet_curve"]] == [0.0, 1.0]
    assert all(r.cost["epochs"] == 0 and "hypernet_curve" not in r.info for r in later)
    for r in results:
        assert r.score == pytest.approx(-r.metrics["val_loss"]) and 0 <= r.metrics["val_acc"] <= 1
    assert len({r.score for r in results}) == 3  # generated weights differ per candidate
    again = _smash(space)
    assert [again.evaluate(g).score for g in genotypes] == [r.score for r in results]
    assert _smash(space, metric="val_acc").evaluate(genotypes[0]).score == pytest.approx(
        first.metrics["val_acc"]
    )


def test_a_hypernetwork_too_wide_to_hold_is_refused_with_the_config():
    from nasbench.evaluation.smash import SmashConfig

    # hidden=10**9 asked for 184 GB at the first weight head.
    with pytest.raises(ConfigError, match="SmashConfig.hidden must be <= 1024, got 1000000000"):
        SmashConfig(hidden=10**9).validate()
    SmashConfig(hidden=1024).validate()


def test_smash_refuses_spaces_and_ops_it_cannot_generate_weights_for():
    with pytest.raises(SpaceError, match="supports the 'nb201', 'darts' and 'chain' spaces, not"):
        _smash(NasUnetSpace())
    with pytest.raises(SpaceError, match="cannot generate weights for op.*sep_conv_3x3"):
        _smash(NB201Space(ops=["none", "sep_conv_3x3"]))
    with pytest.raises(SpaceError, match="op.*conv_7x1_1x7 of the 'darts' space"):
        _smash(CellSpace(ops=["none", "sep_conv_3x3", "conv_7x1_1x7"]))
    with pytest.raises(ConfigError, match="needs a search space"):
        create_evaluator("smash")
    with pytest.raises(ConfigError, match="encoding"):
        _smash(NB201Space(), encoding="graph")
    for name in ("darts", "chain"):
        SearchConfig(strategy="random", evaluator="smash", space={"name": name}).validate()


def test_a_search_with_smash_records_the_hypernetwork_curve(tmp_path):
    from nasbench import search

    cfg = SearchConfig(
        dataset=DatasetConfig(name="synthetic", limit=32),
        strategy="evolution",
        strategy_config={"population_size": 3, "sample_size": 2},
        evaluator="smash",
        evaluator_config=TINY,
        space={"name": "nb201"},
        max_evaluations=5,
        device="cpu",
    )
    result = search(cfg, tmp_path / "run")
    run = load(tmp_path / "run")
    assert result.status == "finished" and (run.candidates["status"] == "done").sum() == 5
    curve = hypernet_curve(run)
    assert list(curve["epoch"]) == [0.0, 1.0] and np.isfinite(curve["train_loss"]).all()
    fig = plot_hypernet_curve(run)
    assert [t.name for t in fig.data] == ["train_loss", "train_acc"]
    assert list(fig.data[0].y) == list(curve["train_loss"])
    with pytest.raises(ConfigError, match="no hypernetwork curve"):
        plot_hypernet_curve(run.candidates.assign(info=[{}] * len(run.candidates)))
    assert result.metrics["score"] == max(run.candidates["metrics.score"])


DARTS_A = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('dil_conv_3x3', 1), ('skip_connect', 0), "
    "('max_pool_3x3', 2)], normal_concat=range(2, 4), reduce=[('skip_connect', 0), "
    "('sep_conv_5x5', 1), ('avg_pool_3x3', 0), ('dil_conv_5x5', 2)], reduce_concat=range(2, 4))"
)


def test_darts_cells_get_generated_weights_that_depend_on_both_cells():
    space = CellSpace(n_nodes=2)
    net = SmashCellNetwork(space, space.encoding_length(), Skeleton(n_cells=3, channels=4),
                           hidden=8)  # fmt: skip
    a = space.validate(DARTS_A)
    # b differs from a in the normal cell only.
    b = space.validate(DARTS_A.replace("('max_pool_3x3', 2)", "('avg_pool_3x3', 2)"))
    code_a, code_b = (torch.from_numpy(space.encode(g)) for g in (a, b))
    # The reduction cell (cell 1) is the same in a and b; its skip (a FactorizedReduce,
    # node 0 input 0) still gets other kernels because the normal cell changed.
    slot = len(net.slot_of) + net.slot_of[0, 0]
    head = net.heads["skip_connect_8"]
    assert not torch.allclose(head(net.generate(code_a)[slot]), head(net.generate(code_b)[slot]))
    x = torch.randn(4, 1, 9, 9)  # odd sizes: 9 -> 5 -> 3 through the two reductions
    logits = net(x, code_a, net.route(a))
    assert logits.shape == (4, 2)
    logits.sum().backward()
    assert net.trunk[0].weight.grad.abs().sum() > 0 and net.stem.weight.grad is not None
    assert net.heads["dil_conv_3x3_4"].weight.grad.abs().sum() > 0  # normal cell, width 4
    assert net.heads["sep_conv_3x3_8"].weight.grad is None  # the reduction cell has none


def test_chain_layers_get_slices_of_kernels_generated_from_the_whole_chain():
    space = ChainSpace(kernels=(1, 3), pool_kernels=(3,), filters=(4, 8), max_depth=3)
    net = SmashChainNetwork(space, space.encoding_length(), Skeleton(), hidden=8)
    conv = ChainLayer("conv", 3, 1, 1, 8)
    a = ChainGenotype([conv, ChainLayer("sep_conv", 1, 3, 2, 4)])
    b = ChainGenotype([conv, ChainLayer("max_pool", 3, 3, 1, 0), ChainLayer("conv", 1, 1, 1, 4)])
    head = net.heads["conv"]
    # Layer 0 is the same conv in a and b; its kernel changes with the layers after it.
    kernel_a, kernel_b = (head(net.generate(torch.from_numpy(space.encode(g)))[0]) for g in (a, b))
    assert kernel_a.shape == (8 * 8 * 3 * 3,) and not torch.allclose(kernel_a, kernel_b)
    x = torch.randn(4, 1, 8, 8)
    for g in (a, b):
        logits = net(x, torch.from_numpy(space.encode(g)), net.route(g))
        assert logits.shape == (4, 2)
    logits.sum().backward()  # b: conv, pool, conv (4 filters read from 8 channels)
    assert net.trunk[0].weight.grad.abs().sum() > 0 and net.heads["sep_conv"].weight.grad is None
    assert net.classifier.weight.grad[:, 4:].abs().sum() == 0  # b ends with 4 channels


@pytest.mark.slow
@pytest.mark.parametrize("space", [CellSpace(n_nodes=2), ChainSpace(filters=(4, 8), max_depth=3)])
def test_smash_scores_darts_cells_and_chains_reproducibly_with_one_hypernetwork(space):
    rng = np.random.default_rng(0)
    genotypes = [space.sample(rng) for _ in range(3)]
    tiny = {**TINY, "epochs": 1}
    results = [_smash(space, **tiny).evaluate(genotypes[0])]
    ev = _smash(space, **tiny)
    scores = [ev.evaluate(g).score for g in genotypes]
    assert scores[0] == results[0].score and len(set(scores)) == 3
    assert all(np.isfinite(scores)) and ev.curve[0]["epoch"] == 0.0
