"""The registries load their built-in modules whole, even after an interrupted first load."""

from __future__ import annotations

import subprocess
import sys
import textwrap


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
