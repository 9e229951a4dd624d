"""Search strategies, discoverable by name (``"strategy"`` in :mod:`nasbench.registry`).

A strategy is a class registered under a name together with its config
dataclass and a kind: ``"differentiable"`` (DARTS and relatives: a mixed edge
on every edge of a cell space's supernet, plus architecture weights),
``"topology"`` (MONAI's DiNTS: a whole multi-resolution topology and its cell ops,
searched in its own space by the same bilevel loop), ``"discrete"`` (ask/tell over
genotypes), ``"self-supervised"`` (UnNAS: DARTS on a pretext task, searched by the
bilevel loop), ``"meta"`` (meta-learning NAS: ``metanas``) or ``"multi-agent"``
(``marl-gdas``: GDAS over the cells of Q-learning agents that localise landmarks, run by
``nasbench.engine.localisation``). Widgets list names per
kind and build a form from the config dataclass's field metadata (``help``, ``min``, ``max``).

Built-in strategies register themselves when their module is imported; the registry
imports those modules on first use, so ``import nasbench.strategies`` stays cheap.
Every algorithm has its own module: ``differentiable/{darts,gdas,pcdarts,proxyless}.py``,
``topology/dints.py``, ``discrete/<name>.py`` and ``meta/`` (METANAS).

Example:
    >>> from nasbench.strategies import create_strategy, strategy_names
    >>> "darts" in strategy_names("differentiable")
    True
    >>> method = create_strategy("darts", {"order": 2}, seed=0)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nasbench import registry
from nasbench.registry import Entry

KINDS = registry.kinds("strategy")
# The registry's entry type; ``entry.kind`` is the strategy's kind.
StrategyEntry = Entry


def register_strategy(
    name: str, config_cls: type, kind: str = "differentiable"
) -> Callable[[type], type]:
    """Class decorator that registers a strategy under ``name``.

    Args:
        name: registry name; stored lower case.
        config_cls: the dataclass holding the strategy's hyperparameters.
        kind: one of :data:`KINDS`.

    Returns:
        The decorator; it returns the class unchanged.

    Example:
        >>> @register_strategy("my_darts", DartsConfig)  # doctest: +SKIP
        ... class MyDarts(Darts): ...
    """
    return registry.register("strategy", name, config_cls=config_cls, kind=kind)


def get_strategy(name: str) -> Entry:
    """Return the registry entry for ``name`` (case-insensitive).

    Raises:
        ConfigError: the name is not registered (the message names the closest one).

    Example:
        >>> get_strategy("gdas").config_cls.__name__
        'GdasConfig'
    """
    return registry.get("strategy", name)


def strategy_names(kind: str | None = None) -> tuple[str, ...]:
    """Names of the registered strategies, sorted, optionally of one kind.

    Example:
        >>> strategy_names("differentiable")
        ('darts', 'gdas', 'pcdarts', 'proxyless')
    """
    return registry.names("strategy", kind)


def make_config(name: str, config: Any = None) -> Any:
    """Build and validate the config dataclass of strategy ``name``.

    Args:
        name: a registered strategy name.
        config: None (defaults), a dict of field values, or an instance of the config class.

    Example:
        >>> make_config("pcdarts", {"k": 2}).k
        2
    """
    return registry.make_config("strategy", name, config)


def create_strategy(name: str, config: Any = None, **kwargs: Any) -> Any:
    """Create the strategy registered as ``name``.

    Args:
        name: a registered strategy name, e.g. ``"darts"``.
        config: None, a dict, or an instance of the strategy's config class.
        **kwargs: passed to the class (differentiable methods take ``seed``).

    Example:
        >>> method = create_strategy("gdas", {"tau_max": 5.0}, seed=1)
        >>> method.config.tau_max
        5.0
    """
    return registry.create("strategy", name, config, **kwargs)


__all__ = [
    "KINDS",
    "StrategyEntry",
    "create_strategy",
    "get_strategy",
    "make_config",
    "register_strategy",
    "strategy_names",
]
