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

import inspect
import sys
from collections.abc import Callable
from typing import Any

from nasbench import registry
from nasbench.errors import ConfigError
from nasbench.registry import Entry

KINDS = registry.kinds("strategy")
# The registry's entry type; ``entry.kind`` is the strategy's kind.
StrategyEntry = Entry


def register_strategy(
    name: str, config_cls: type, kind: str | None = None
) -> Callable[[type], type]:
    """Class decorator that registers a strategy under ``name``.

    The class is checked when it is registered, not when a search first builds it: its
    kind must fit its base class, and its ``__init__`` must take what the engine passes
    (:data:`CALLS`). Registering the same class definition again (a notebook cell run
    twice) replaces it.

    Args:
        name: registry name; stored lower case.
        config_cls: the dataclass holding the strategy's hyperparameters.
        kind: one of :data:`KINDS`; None reads it from the class's base (a
            ``DiscreteStrategy`` is ``"discrete"``, a subclass of a registered strategy
            has that strategy's kind, anything else ``"differentiable"``).

    Returns:
        The decorator; it returns the class unchanged.

    Raises:
        ConfigError: an unknown kind, a kind its base class contradicts, an ``__init__``
            the engine cannot call, or a name another definition holds.

    Example:
        >>> @register_strategy("my_darts", DartsConfig)  # doctest: +SKIP
        ... class MyDarts(Darts): ...
    """
    if kind is not None:
        registry.check_kind("strategy", kind)

    def decorator(cls: type) -> type:
        chosen = _kind_of(name, cls, kind)
        _check_init(name, cls, chosen)
        return registry.register("strategy", name, cls, config_cls=config_cls, kind=chosen)

    return decorator


# How the engine builds a strategy of each kind, as keyword arguments after its config
# (engine/discrete.py for "discrete"; models/supernet.py's make_method and
# engine/localisation.py for the supernet kinds; a "meta" strategy is built from its config).
CALLS: dict[str, tuple[str, ...]] = {
    **{kind: ("seed",) for kind in KINDS},
    "discrete": ("space", "seed"),
    "meta": (),
}

# Base classes that fix the kinds a strategy may have, by module and class name: looked up
# in sys.modules, so nothing is imported (a class cannot derive from an unimported base).
_BASES = (
    ("nasbench.strategies.discrete.base", "DiscreteStrategy", ("discrete",)),
    ("nasbench.strategies.meta", "MetaNas", ("meta",)),
    (
        "nasbench.strategies.differentiable.base",
        "DifferentiableMethod",
        tuple(k for k in KINDS if k not in ("discrete", "meta")),
    ),
)


def _kind_of(name: str, cls: type, kind: str | None) -> str:
    """``kind``, checked against ``cls``'s base, or, when None, the kind that base gives."""
    for module, base_name, allowed in _BASES:
        base = getattr(sys.modules.get(module), base_name, None)
        if not (isinstance(cls, type) and isinstance(base, type) and issubclass(cls, base)):
            continue
        if kind is not None and kind not in allowed:
            raise ConfigError(
                f"Strategy '{name}': {cls.__name__} is a {base_name}, so its kind is "
                f"{' or '.join(map(repr, allowed))}, not {kind!r}; leave kind= out."
            )
        if kind is None:
            # The nearest registered ancestor's kind (a subclass of UnNAS is self-supervised).
            registered = {id(entry.obj): entry.kind for entry in registry.entries("strategy")}
            ancestors = (registered.get(id(c)) for c in cls.__mro__)
            kind = next((k for k in ancestors if k in allowed), allowed[0])
        return kind
    return "differentiable" if kind is None else kind


def _check_init(name: str, cls: type, kind: str) -> None:
    """Refuse a class the engine could not build: ``cls(config, **{each of CALLS[kind]})``."""
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):  # no signature to read (a C type): nothing to check
        return
    keywords = CALLS[kind]
    try:
        signature.bind(None, **dict.fromkeys(keywords))
    except TypeError:
        wanted = ", ".join(("config", *(f"{k}=..." for k in keywords)))
        raise ConfigError(
            f"Strategy '{name}': the engine builds a {kind} strategy as "
            f"{cls.__name__}({wanted}), but its __init__ takes {signature}; give __init__ "
            f"(self, {', '.join(('config', *keywords))}{'=0' if keywords else ''}) (or **kwargs)"
            + (", or pass the right kind=." if kind == "differentiable" else ".")
        ) from None


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

    Raises:
        ConfigError: an unknown name or config field, or a keyword the strategy does not
            take; one that strategies of another kind take (``space``, which only discrete
            strategies get) names the strategy's kind.

    Example:
        >>> method = create_strategy("gdas", {"tau_max": 5.0}, seed=1)
        >>> method.config.tau_max
        5.0
    """
    entry = get_strategy(name)
    known = _keywords(entry.obj)
    for key in kwargs:
        # A keyword the engine passes to other kinds only: the kinds are mixed up (a
        # differentiable strategy in a list of discrete ones), which registry.create's bare
        # "takes no keyword" would not say.
        elsewhere = [kind for kind, keys in CALLS.items() if key in keys and kind != entry.kind]
        if known is not None and key not in known and elsewhere:
            listing = f"its keywords: {', '.join(known)}" if known else "it takes none"
            kinds = " and ".join(filter(None, (", ".join(elsewhere[:-1]), elsewhere[-1])))
            raise ConfigError(
                f"'{entry.name}' is a {entry.kind} strategy; it takes no {key!r} keyword "
                f"({kinds} strategies do); {listing}."
            )
    return registry.create("strategy", name, config, **kwargs)


def _keywords(cls: Any) -> list[str] | None:
    """The keywords ``cls(config, ...)`` takes after its config; None when it takes any
    (``**kwargs``) or has no signature to read."""
    try:
        params = list(inspect.signature(cls).parameters.values())[1:]
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p.name for p in params if p.kind in named]


__all__ = [
    "CALLS",
    "KINDS",
    "StrategyEntry",
    "create_strategy",
    "get_strategy",
    "make_config",
    "register_strategy",
    "strategy_names",
]
