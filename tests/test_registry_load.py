"""The registries load their built-in modules whole, even after an interrupted first load."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import dataclass

import pytest

from nasbench import registry
from nasbench.errors import ConfigError, SpaceError


def test_an_interrupted_first_load_is_retried_on_the_next_look_up():
    # Ctrl-C in a notebook while the strategies' built-in modules import: the next look-up
    # must load the rest, not serve the few differentiable strategies reached so far. A
    # fresh process, because the registries are loaded once per process.
    script = textwrap.dedent(
        """
        import importlib
        real = importlib.import_module

        def interrupted(name, *args, **kwargs):
            if name == "nasbench.strategies.discrete":
                importlib.import_module = real
                raise KeyboardInterrupt
            return real(name, *args, **kwargs)

        importlib.import_module = interrupted
        from nasbench.strategies import get_strategy, strategy_names
        try:
            strategy_names()
        except KeyboardInterrupt:
            pass
        print(sorted(strategy_names()))
        print(get_strategy("random").kind)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    names, kind = done.stdout.strip().splitlines()[-2:]
    assert "'random'" in names and "'reinforce'" in names and "'darts'" in names
    assert kind == "discrete"


@pytest.fixture
def user_entries():
    """Forget the strategies and spaces a test registers, so no other test sees them."""
    from nasbench import registry

    saved = {name: dict(registry._load(name).entries) for name in ("strategy", "space")}
    yield
    for name, entries in saved.items():
        registry._REGISTRIES[name].entries.clear()
        registry._REGISTRIES[name].entries.update(entries)


def _walk_cell(kind=None, init=None):
    """A notebook cell that defines and registers a discrete strategy; each run makes a
    new class of the same definition."""
    from nasbench.strategies import register_strategy
    from nasbench.strategies.discrete.base import DiscreteConfig, DiscreteStrategy

    @dataclass
    class WalkConfig(DiscreteConfig):
        pass

    class Walk(DiscreteStrategy):
        name = "walk_test"

        def _propose(self):
            return self.space.sample(self.rng)

    if init is not None:
        Walk.__init__ = init
    return register_strategy("walk_test", WalkConfig, **({} if kind is None else {"kind": kind}))(
        Walk
    )


def test_a_strategy_registered_without_kind_takes_the_kind_of_its_base(user_entries):
    from nasbench.spaces import create_space
    from nasbench.strategies import create_strategy, get_strategy, register_strategy
    from nasbench.strategies.selfsupervised.unnas import Unnas, UnnasConfig

    _walk_cell()
    assert get_strategy("walk_test").kind == "discrete"
    walk = create_strategy("walk_test", {}, space=create_space("nb201"), seed=0)
    assert walk.space.contains(walk.ask())
    register_strategy("unnas_test", UnnasConfig)(type("MyUnnas", (Unnas,), {}))
    assert get_strategy("unnas_test").kind == "self-supervised"  # its registered base's kind


def test_a_kind_that_contradicts_the_strategys_base_is_refused_in_one_line(user_entries):
    with pytest.raises(ConfigError) as err:
        _walk_cell(kind="differentiable")
    assert str(err.value) == (
        "Strategy 'walk_test': Walk is a DiscreteStrategy, so its kind is 'discrete', not "
        "'differentiable'; leave kind= out."
    )
    assert not registry.is_registered("strategy", "walk_test")


def test_a_strategy_the_engine_cannot_build_is_refused_when_registered(user_entries):
    def no_seed(self, config, space):
        super(type(self), self).__init__(config, space)

    with pytest.raises(ConfigError) as err:
        _walk_cell(init=no_seed)
    assert str(err.value) == (
        "Strategy 'walk_test': the engine builds a discrete strategy as Walk(config, "
        "space=..., seed=...), but its __init__ takes (config, space); give __init__ "
        "(self, config, space, seed=0) (or **kwargs)."
    )
    _walk_cell(init=lambda self, config, **kwargs: None)  # **kwargs takes anything


def test_re_running_a_strategy_or_space_cell_replaces_it(user_entries):
    from nasbench.spaces import NB201Space, create_space, register_space
    from nasbench.strategies import get_strategy

    first, again = _walk_cell(), _walk_cell()
    assert first is not again and get_strategy("walk_test").cls is again

    def space_cell():
        @register_space("nb201_test")
        class SmallSpace(NB201Space):
            pass

        return SmallSpace

    space_cell()
    again = space_cell()
    assert type(create_space("nb201_test")) is again


def test_another_definition_or_a_built_in_name_is_still_refused(user_entries):
    from nasbench.spaces import NB201Space, register_space
    from nasbench.strategies import register_strategy
    from nasbench.strategies.discrete.base import DiscreteConfig, DiscreteStrategy

    _walk_cell()
    other = type("Other", (DiscreteStrategy,), {})
    with pytest.raises(ConfigError) as err:
        register_strategy("walk_test", DiscreteConfig)(other)
    assert str(err.value) == (
        "Strategy 'walk_test' is already registered by "
        f"{__name__}._walk_cell.<locals>.Walk; pick another name (re-running the cell "
        "or module that defined it replaces it)."
    )
    for make in (
        lambda: register_strategy("random", DiscreteConfig)(other),
        lambda: register_space("nb201")(type("NB201Space", (NB201Space,), {})),
    ):
        with pytest.raises((ConfigError, SpaceError), match="already registered as a built-in"):
            make()


def _run_script(script: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()


def test_a_load_interrupted_inside_a_built_in_module_is_retried_whole():
    # Ctrl-C after halving.py registered successive_halving, before hyperband: the retry
    # runs the module again, and its own names must not count as taken.
    lines = _run_script(
        """
        import nasbench.strategies as strategies
        from nasbench import registry
        real, armed = registry.register, [True]

        def interrupted(which, name, *args, **kwargs):
            if armed and which == "strategy" and name == "hyperband":
                armed.clear()
                raise KeyboardInterrupt
            return real(which, name, *args, **kwargs)

        registry.register = interrupted
        try:
            strategies.strategy_names()
        except KeyboardInterrupt:
            print("interrupted")
        names = strategies.strategy_names()
        print("hyperband" in names, "successive_halving" in names, "random" in names)
        """
    )
    assert lines == ["interrupted", "True True True"]


def test_a_user_op_that_fails_only_on_the_probes_tiny_input_is_not_refused():
    # An op that mixes 7x7 windows works at a 28-px network's sizes (28, 14, 7), not on
    # an 8x8 probe: the probe cannot tell, so the network decides.
    lines = _run_script(
        """
        import numpy as np
        import torch
        from torch import nn
        from nasbench.spaces import create_space, register_op, register_op_set

        class Window7(nn.Module):
            def __init__(self, C_in, C_out, stride):
                super().__init__()
                self.proj = nn.Conv2d(C_in, C_out, 1, stride=stride)

            def forward(self, x):
                x = self.proj(x)
                B, C, H, W = x.shape
                w = x.view(B, C, H // 7, 7, W // 7, 7)
                return (w - w.mean(dim=(3, 5), keepdim=True)).view(B, C, H, W)

        @register_op("window7", "conv", spatial_dims=(2,))
        def window7(spatial_dims, C_in, C_out, stride, affine=True):
            return Window7(C_in, C_out, stride)

        register_op_set("win", ["none", "skip_connect", "window7"])
        space = create_space("nb201", ops="win")
        net = space.build(space.sample(np.random.default_rng(0)))
        print(tuple(net(torch.zeros(2, 1, 28, 28)).shape))
        """
    )
    assert lines[-1].startswith("(2, ")  # the network ran: batch 2, its logits
