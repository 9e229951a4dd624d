"""Each differentiable method orders a step's weight and architecture updates as its
reference code does."""

from __future__ import annotations

import pytest
import torch

from nasbench.engine.search import search
from nasbench.strategies import get_strategy

from .conftest import tiny_config


@pytest.mark.parametrize(
    "strategy, first",
    [("darts", "arch"), ("pcdarts", "arch"), ("gdas", "weight"), ("proxyless", "weight")],
)
def test_a_step_updates_in_the_reference_order(tmp_path, monkeypatch, strategy, first):
    calls: list[str] = []
    method = get_strategy(strategy).cls
    arch_step, sgd_step = method.arch_step, torch.optim.SGD.step

    def recorded_arch_step(self, *args, **kwargs):
        calls.append("arch")
        return arch_step(self, *args, **kwargs)

    def recorded_sgd_step(self, *args, **kwargs):
        calls.append("weight")
        return sgd_step(self, *args, **kwargs)

    monkeypatch.setattr(method, "arch_step", recorded_arch_step)
    monkeypatch.setattr(torch.optim.SGD, "step", recorded_sgd_step)
    config = tiny_config(strategy, epochs=1, max_steps_per_epoch=2, device="cpu")
    if strategy == "pcdarts":
        config.strategy_config = {"k": 2}
    search(config, tmp_path / "run")
    second = "weight" if first == "arch" else "arch"
    assert calls == [first, second, first, second]


def test_dints_trains_its_weights_first_as_monais_tutorial_does():
    assert get_strategy("dints").cls.arch_step_first is False
