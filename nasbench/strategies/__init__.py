"""Search strategies, discoverable by name (timm-style registry).

A strategy is a class registered under a name together with its config
dataclass and a kind: ``"differentiable"`` (DARTS and relatives: a mixed edge
on every edge of a cell space's supernet, plus architecture weights),
``"topology"`` (MONAI's DiNTS: a whole multi-resolution topology and its cell ops,
searched in its own space by the same bilevel loop), ``"discrete"`` (ask/tell over
genotypes) or ``"meta"`` (meta-learning NAS). Widgets list names per kind and build a form
from the config dataclass's field metadata (``help``, ``min``, ``max``).

Built-in strategies register themselves when their subpackage is imported;
:func:`create_strategy` and :func:`strategy_names` import the built-in
subpackages on first use, so ``import nasbench.strategies`` stays cheap.

Example:
    >>> from nasbench.strategies import create_strategy, strategy_names
    >>> "darts" in strategy_names("differentiable")
    True
    >>> method = create_strategy("darts", {"order": 2}, seed=0)
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nasbench.errors import ConfigError, closest_name

KINDS = ("differentiable", "topology", "discrete", "meta")

# Subpackages whose import registers built-in strategies; missing ones are skipped
# so that kinds can land independently.
_BUILTIN_MODULES = (
    "nasbench.strategies.differentiable",
    "nasbench.strategies.topology",
    "nasbench.strategies.discrete",
    "nasbench.strategies.discrete.hill_climbing",
    "nasbench.strategies.discrete.halving",
    "nasbench.strategies.discrete.nash",
    "nasbench.strategies.discrete.enas",
    "nasbench.strategies.discrete.autohas",  # joint architecture + HP search (issue 18)
    "nasbench.evaluation.objectives",
    "nasbench.strategies.meta",
)


@dataclass(frozen=True)
class StrategyEntry:
    """What the registry knows about one strategy.

    Attributes:
        name: registry name (lower case), e.g. ``"darts"``.
        cls: the strategy class; called as ``cls(config, **kwargs)``.
        config_cls: the config dataclass (fields carry ``help``/``min``/``max`` metadata).
        kind: ``"differentiable"``, ``"topology"``, ``"discrete"`` or ``"meta"``.
        summary: first line of the class docstring, for dropdown tooltips.
    """

    name: str
    cls: type
    config_cls: type
    kind: str
    summary: str


_REGISTRY: dict[str, StrategyEntry] = {}
_builtins_loaded = False


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
    if kind not in KINDS:
        raise ConfigError(f"Unknown strategy kind '{kind}'; use one of {', '.join(KINDS)}.")
    if not dataclasses.is_dataclass(config_cls):
        raise ConfigError(f"Strategy '{name}': config_cls must be a dataclass.")
    key = name.lower()

    def decorator(cls: type) -> type:
        if key in _REGISTRY and _REGISTRY[key].cls is not cls:
            raise ConfigError(f"Strategy '{key}' is already registered; pick another name.")
        doc = (cls.__doc__ or "").strip().splitlines()
        _REGISTRY[key] = StrategyEntry(key, cls, config_cls, kind, doc[0] if doc else "")
        return cls

    return decorator


def _load_builtins() -> None:
    global _builtins_loaded
    if _builtins_loaded:
        return
    for module in _BUILTIN_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as err:
            # Only tolerate the subpackage itself being absent, not a broken import inside it.
            if err.name != module:
                raise
    _builtins_loaded = True


def get_strategy(name: str) -> StrategyEntry:
    """Return the registry entry for ``name`` (case-insensitive).

    Args:
        name: a registered strategy name.

    Returns:
        The :class:`StrategyEntry`.

    Raises:
        ConfigError: the name is not registered.

    Example:
        >>> get_strategy("gdas").config_cls.__name__
        'GdasConfig'
    """
    _load_builtins()
    key = str(name).lower()
    if key not in _REGISTRY:
        names = sorted(_REGISTRY)
        raise ConfigError(
            f"Unknown strategy '{name}'; known: {', '.join(names)}.{closest_name(key, names)}"
        )
    return _REGISTRY[key]


def strategy_names(kind: str | None = None) -> tuple[str, ...]:
    """Names of the registered strategies, sorted, optionally of one kind.

    Args:
        kind: ``"differentiable"``, ``"topology"``, ``"discrete"``, ``"meta"`` or None for all.

    Returns:
        A tuple of names.

    Example:
        >>> strategy_names("differentiable")
        ('darts', 'gdas', 'pcdarts', 'proxyless')
    """
    _load_builtins()
    if kind is not None and kind not in KINDS:
        raise ConfigError(f"Unknown strategy kind '{kind}'; use one of {', '.join(KINDS)}.")
    return tuple(sorted(n for n, e in _REGISTRY.items() if kind is None or e.kind == kind))


def make_config(name: str, config: Any = None) -> Any:
    """Build and validate the config dataclass of strategy ``name``.

    Args:
        name: a registered strategy name.
        config: None (defaults), a dict of field values, or an instance of the config class.

    Returns:
        An instance of the strategy's config class.

    Raises:
        ConfigError: unknown field, wrong type of config, or a value out of range.

    Example:
        >>> make_config("pcdarts", {"k": 2}).k
        2
    """
    entry = get_strategy(name)
    if config is None:
        config = entry.config_cls()
    elif isinstance(config, dict):
        names = [f.name for f in dataclasses.fields(entry.config_cls)]
        for key in config:
            if key not in names:
                raise ConfigError(
                    f"Strategy '{entry.name}' has no option '{key}'; options: "
                    f"{', '.join(names)}.{closest_name(key, names)}"
                )
        config = entry.config_cls(**config)
    elif not isinstance(config, entry.config_cls):
        raise ConfigError(
            f"Strategy '{entry.name}' expects a {entry.config_cls.__name__} or a dict, "
            f"got {type(config).__name__}."
        )
    validate = getattr(config, "validate", None)
    if callable(validate):
        validate()
    return config


def create_strategy(name: str, config: Any = None, **kwargs: Any) -> Any:
    """Create the strategy registered as ``name``.

    Args:
        name: a registered strategy name, e.g. ``"darts"``.
        config: None, a dict, or an instance of the strategy's config class.
        **kwargs: passed to the class (differentiable methods take ``seed``).

    Returns:
        The strategy instance.

    Example:
        >>> method = create_strategy("gdas", {"tau_max": 5.0}, seed=1)
        >>> method.config.tau_max
        5.0
    """
    entry = get_strategy(name)
    return entry.cls(make_config(name, config), **kwargs)


__all__ = [
    "KINDS",
    "StrategyEntry",
    "create_strategy",
    "get_strategy",
    "make_config",
    "register_strategy",
    "strategy_names",
]
