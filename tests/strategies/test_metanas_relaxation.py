"""METANAS's tempered, soft-pruned task learner: the temperature schedule, the pruned
edges, the alpha warm-up, meta-validation on the search set's val split, and the
Reptile-only baseline option."""

from __future__ import annotations

import pytest
import torch

import nasbench
from nasbench.config import SearchConfig
from nasbench.engine.search import search
from nasbench.errors import ConfigError
from nasbench.strategies.meta import task_samplers, task_supernet
from nasbench.strategies.meta.adaptation import adapt
from nasbench.strategies.meta.config import MetaNasConfig
from nasbench.strategies.meta.loop import MetaLoop, MetaParts
from nasbench.strategies.meta.relaxation import TemperedDarts, task_temperature
from tests.strategies.conftest import metanas_config

META = {
    "meta_steps": 2,
    "meta_batch_size": 2,
    "inner_steps": 1,
    "test_inner_steps": 1,
    "test_episodes": 2,
    "curve_episodes": 0,
    "val_episodes": 1,
    "n_query": 3,
}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def config(**strategy_config) -> SearchConfig:
    return metanas_config(META, epochs=2, **strategy_config)


def test_the_temperature_falls_linearly_from_one_to_its_minimum_within_a_task():
    temps = [task_temperature(s, 5, 0.2) for s in range(6)]
    assert temps == pytest.approx([1.0, 0.8, 0.6, 0.4, 0.2, 0.2])
    assert task_temperature(0, 1, 0.2) == 1.0  # one step: no room to anneal
    assert task_temperature(3, 5, 1.0) == 1.0  # no annealing


def _temperatures_seen(net, run):
    """The temperature of every forward pass of ``net`` while ``run()`` adapts it."""
    seen = []
    plans = net.method.edge_plans

    def spy(*args, **kwargs):
        seen.append(net.method.temperature)
        return plans(*args, **kwargs)

    net.method.edge_plans = spy
    try:
        run()
    finally:
        del net.method.edge_plans
    return seen


def test_each_task_anneals_from_one_and_a_fixed_architecture_adapts_at_one():
    cfg = config(temperature_min=0.1)
    meta = MetaNasConfig(**cfg.strategy_config)
    net = task_supernet(cfg, meta)
    _, test = task_samplers(cfg, meta)
    episode = test.episode(0)
    cells = len(net.cell_types)
    net.method.temperature = 0.05  # what an earlier task ended at
    # 3 steps: forwards at 1, 0.55, 0.1 (one per cell type each), then the query at 0.1.
    seen = _temperatures_seen(net, lambda: adapt(net, episode, 3, 0.05, 0.5, temperature_min=0.1))
    per_forward = seen[::cells]
    assert per_forward == pytest.approx([1.0, 0.55, 0.1])
    assert net.method.temperature == pytest.approx(0.1)
    seen = _temperatures_seen(
        net, lambda: adapt(net, episode, 3, 0.05, 0.0, temperature_min=0.1)
    )  # alphas held (arch_lr 0): no annealing, as METANAS's code
    assert set(seen) == {1.0}


def test_tempered_edges_sharpen_and_drop_the_ops_below_the_threshold():
    cfg = config(prune_below=0.01)
    net = task_supernet(cfg, MetaNasConfig(**{**META, "prune_below": 0.01}))
    assert isinstance(net.method, TemperedDarts)
    with torch.no_grad():
        for alpha in net.arch_parameters():
            alpha.copy_(torch.tensor([0.0, 1.0, 0.5]).expand_as(alpha))
    plans = net.method.edge_plans(net, net.cell_types[0], "train")
    torch.testing.assert_close(plans[0].weights, torch.softmax(torch.tensor([0.0, 1.0, 0.5]), 0))
    assert plans[0].active == (0, 1, 2)
    net.method.temperature = 0.1  # weights e^-10, 1, e^-5 before normalising
    plans = net.method.edge_plans(net, net.cell_types[0], "train")
    assert plans[0].weights[1] > 0.99 and plans[0].active == (1,)
    x = torch.randn(2, 1, 28, 28)
    assert net(x).shape == (2, 2)


def test_zero_alphas_keep_every_op_at_any_temperature():
    net = task_supernet(config(), MetaNasConfig(**{**META, "prune_below": 0.01}))
    with torch.no_grad():
        for alpha in net.arch_parameters():
            alpha.zero_()
    net.method.temperature = 0.05
    plan = net.method.edge_plans(net, net.cell_types[0], "train")[0]
    assert plan.active == (0, 1, 2)
    torch.testing.assert_close(plan.weights, torch.full((3,), 1 / 3))


@pytest.mark.slow
def test_warm_up_holds_the_alphas_then_they_move_and_the_temperature_ends_at_its_minimum(
    tmp_path,
):
    from nasbench.runs import RunStore

    cfg = config(
        warmup_fraction=0.5, temperature_min=0.3, prune_below=0.01, inner_steps=2
    ).validate()
    meta = MetaNasConfig(**cfg.strategy_config)
    parts = MetaParts(cfg, meta)
    net = parts.nets["metanas"]
    start = [a.detach().clone() for a in net.arch_parameters()]
    with RunStore.create(tmp_path / "run", cfg.to_dict(), {}) as store:
        loop = MetaLoop(cfg, meta, store, tmp_path / "run", parts)
        loop._meta_step()
        loop._meta_step()  # steps 0 and 1 of 4: warm-up
        assert all(torch.equal(a, b) for a, b in zip(start, net.arch_parameters(), strict=True))
        loop._meta_step()
        assert not all(torch.equal(a, b) for a, b in zip(start, net.arch_parameters(), strict=True))
        assert net.method.temperature == pytest.approx(0.3)  # the end of the task's steps


def test_meta_validation_may_use_the_search_sets_val_split():
    cfg = config(meta_test_dataset="synthetic-multiclass", meta_test_split="val").validate()
    meta = MetaNasConfig(**cfg.strategy_config)
    train, val = task_samplers(cfg, meta)
    val_split = nasbench.data.load("synthetic-multiclass", "val", seed=0)
    torch.testing.assert_close(
        torch.as_tensor(val.datasets[0][5][0]), torch.as_tensor(val_split[5][0])
    )
    assert len(val) == meta.test_episodes + meta.val_episodes
    with pytest.raises(ConfigError, match="meta_test_split = 'val'"):
        config(meta_test_dataset="synthetic-multiclass").validate()
    with pytest.raises(ConfigError, match="meta_test_split must be one of"):
        config(meta_test_split="train").validate()


@pytest.mark.slow
def test_a_reptile_only_run_scores_two_learners(tmp_path):
    result = search(
        config(pooled_baseline=False, temperature_min=0.1, prune_below=0.01), tmp_path / "r"
    )
    assert result.status == "finished"
    learners = {k.rsplit("_acc_mean", 1)[0] for k in result.metrics if k.endswith("_acc_mean")}
    assert learners == {"metanas", "reptile"}


def test_baselines_are_never_pruned_and_a_threshold_that_prunes_fresh_edges_is_refused():
    cfg = config(prune_below=0.3)
    meta = MetaNasConfig(**cfg.strategy_config)
    parts = MetaParts(cfg, meta)
    assert parts.nets["metanas"].method.prune_below == 0.3
    assert parts.nets["reptile"].method.prune_below == 0.0
    plan = parts.nets["reptile"].method.edge_plans(parts.nets["reptile"], "normal", "train")[0]
    assert plan.active == (0, 1, 2)
    with pytest.raises(ConfigError, match=r"prune_below 0.34 prunes every op .* 3 ops"):
        config(prune_below=0.34).validate()


def test_meta_validation_refuses_more_ways_than_the_search_set_has_classes():
    with pytest.raises(ConfigError, match="fewer than n_way = 9"):
        config(meta_test_dataset="synthetic-multiclass", meta_test_split="val", n_way=9).validate()
