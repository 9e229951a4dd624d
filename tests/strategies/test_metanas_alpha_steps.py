"""METANAS's alpha step options: Adam alpha steps in the task learner
(``inner_arch_optimizer``) and the alphas' learning rate at the meta-test
(``test_arch_lr_scale``; 0 keeps the meta-learned alphas fixed)."""

from __future__ import annotations

import pytest
import torch

from nasbench.config import SearchConfig
from nasbench.errors import ConfigError
from nasbench.strategies.meta import task_supernet
from nasbench.strategies.meta.adaptation import adapt, meta_step
from nasbench.strategies.meta.config import MetaNasConfig
from nasbench.strategies.meta.loop import MetaLoop, MetaParts
from tests.strategies.conftest import metanas_config

META = {
    "meta_steps": 1,
    "meta_batch_size": 2,
    "inner_steps": 1,
    "test_inner_steps": 2,
    "test_episodes": 2,
    "curve_episodes": 0,
    "val_episodes": 1,
    "n_query": 3,
    "pooled_baseline": False,
}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def config(**strategy_config) -> SearchConfig:
    return metanas_config(META, epochs=1, **strategy_config)


def alphas_of(net) -> list[torch.Tensor]:
    return [a.detach().clone() for a in net.arch_parameters()]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"inner_arch_optimizer": "rmsprop"}, "inner_arch_optimizer must be one of"),
        ({"test_arch_lr_scale": 1.5}, "test_arch_lr_scale must be <= 1.0"),
        ({"test_arch_lr_scale": -0.1}, "test_arch_lr_scale must be >= 0.0"),
    ],
)
def test_bad_alpha_step_options_fail_with_one_line(change, message):
    with pytest.raises(ConfigError) as err:
        config(**change).validate()
    assert message in str(err.value) and "\n" not in str(err.value)


def test_the_defaults_keep_sgd_alpha_steps_and_the_full_alpha_lr_at_the_meta_test():
    meta = MetaNasConfig()
    assert meta.inner_arch_optimizer == "sgd" and meta.test_arch_lr_scale == 1.0
    assert config(inner_arch_optimizer="adam", test_arch_lr_scale=0).validate()


def image_task(seed: int = 0):
    from nasbench.data.fewshot import Episode

    gen = torch.Generator().manual_seed(seed)
    labels = torch.arange(2).repeat_interleave(3)
    images = (labels.float() * 2 - 1).view(-1, 1, 1, 1) + 0.3 * torch.randn(
        6, 1, 28, 28, generator=gen
    )
    return Episode(images, labels, images.flip(0), labels.flip(0), (), (), ())


def test_a_first_adam_step_moves_every_alpha_by_its_learning_rate():
    net = task_supernet(config(), MetaNasConfig(**META))
    with torch.no_grad():  # break the symmetry so that every alpha gets a gradient
        for i, a in enumerate(net.arch_parameters()):
            a.copy_(0.1 * torch.arange(a.numel(), dtype=a.dtype).view_as(a) + 0.05 * i)
    start = alphas_of(net)
    adapt(net, image_task(), 1, 0.0, 0.005, arch_optimizer="adam")
    moves = torch.cat([(a - b).flatten() for a, b in zip(alphas_of(net), start, strict=True)])
    moved = moves[moves != 0]
    assert len(moved) > len(moves) // 2
    torch.testing.assert_close(moved.abs(), torch.full_like(moved, 0.005), rtol=1e-3, atol=1e-6)


def test_adam_alpha_steps_stay_near_their_learning_rate_where_sgd_ones_follow_the_gradient():
    moves = {}
    for optimizer, lr in (("sgd", 0.01), ("adam", 0.01), ("adam", 0.001)):
        net = task_supernet(config(), MetaNasConfig(**META))
        start = alphas_of(net)
        adapt(net, image_task(1), 3, 0.0, lr, arch_optimizer=optimizer)
        moves[optimizer, lr] = max(
            float((a - b).abs().max()) for a, b in zip(alphas_of(net), start, strict=True)
        )
    # Adam's bias-corrected step is at most about lr (1.06 lr with betas 0.5, 0.999)
    assert 0.01 < moves["adam", 0.01] <= 3 * 0.01 * 1.06
    assert moves["adam", 0.001] == pytest.approx(moves["adam", 0.01] / 10, rel=0.05)
    assert moves["sgd", 0.01] < 0.01  # small gradients: SGD at the same lr barely moves


def test_a_reptile_step_with_adam_alphas_moves_them_at_most_steps_times_lr():
    net = task_supernet(config(), MetaNasConfig(**META))
    start = alphas_of(net)
    meta_step(
        net, [image_task(0), image_task(1)], algorithm="reptile", inner_steps=2, inner_lr=0.05,
        inner_arch_lr=0.005, meta_lr=1.0, meta_arch_lr=1.0, arch_optimizer="adam",
    )  # fmt: skip
    moves = torch.cat([(a - b).flatten() for a, b in zip(alphas_of(net), start, strict=True)])
    assert 0 < float(moves.abs().max()) <= 2 * 0.005 * 1.06


@pytest.mark.parametrize(("scale", "fixed"), [(0.0, True), (1.0, False)])
def test_the_meta_test_alpha_lr_scale_zero_keeps_the_meta_learned_alphas(tmp_path, scale, fixed):
    from nasbench.runs import RunStore

    cfg = config(test_arch_lr_scale=scale, inner_arch_lr=3.0).validate()
    meta = MetaNasConfig(**cfg.strategy_config)
    parts = MetaParts(cfg, meta)
    with RunStore.create(tmp_path / "run", cfg.to_dict(), {}) as store:
        loop = MetaLoop(cfg, meta, store, tmp_path / "run", parts)
        episode = parts.test.episode(0)
        net = parts.nets["metanas"]
        before = [r.raw for r in net.alpha_records()]
        weights = [w.detach().clone() for w in net.weight_parameters()]
        _, tested = loop._adapted("metanas", episode, 2, whole=False, test=True)
        _, watched = loop._adapted("metanas", episode, 2, whole=False)
    same = [
        torch.equal(torch.as_tensor(b), torch.as_tensor(r.raw))
        for b, r in zip(before, tested, strict=True)
    ]
    assert all(same) is fixed
    # the watched (per meta-epoch) episodes keep the task learner's alpha lr
    assert not all(
        torch.equal(torch.as_tensor(b), torch.as_tensor(r.raw))
        for b, r in zip(before, watched, strict=True)
    )
    # trial() gave the meta-parameters back
    assert all(torch.equal(a, b) for a, b in zip(weights, net.weight_parameters(), strict=True))
