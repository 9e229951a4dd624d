"""One registry for everything the workbench finds by name (timm style).

Datasets, ops, spaces, strategies, evaluators and supernet builders are all entries
of this one table, keyed by ``(registry, name)``. A registry is declared once with
the modules that hold its built-in entries, named as strings: they are imported on
the first look-up, so a low layer (the config's validation, a space) can look a
name up without importing the layer that defines it.

- :func:`register` adds an entry (a decorator, or a call with the object);
- :func:`get` returns one, or raises a one-line error with a did-you-mean;
- :func:`names` lists the names of a registry, optionally of one ``kind``;
- :func:`make_config` builds and validates an entry's config dataclass;
- :func:`create` calls the entry's object with that config.

Example:
    >>> from dataclasses import dataclass
    >>> declare("example", noun="example")
    >>> @dataclass
    ... class HelloConfig:
    ...     greeting: str = "hello"
    >>> @register("example", "hello", config_cls=HelloConfig)
    ... class Hello:
    ...     '''Says hello.'''
    ...     def __init__(self, config):
    ...         self.text = config.greeting
    >>> create("example", "hello", {"greeting": "hi"}).text
    'hi'
    >>> names("example"), get("example", "HELLO").summary
    (('hello',), 'Says hello.')
    >>> get("example", "helo")
    Traceback (most recent call last):
    ...
    nasbench.errors.ConfigError: Unknown example 'helo'; known: hello. Did you mean 'hello'?
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from nasbench.errors import ConfigError, DatasetError, NasbenchError, SpaceError, closest_name


@dataclass(frozen=True)
class Entry:
    """One registered object.

    Attributes:
        registry: which registry holds it (``"strategy"``, ``"dataset"``...).
        name: its name there (lower case unless the registry keeps case).
        obj: the object: a class, a factory function, or a description.
        config_cls: the dataclass of its settings (fields carry ``help``/``min``/``max``
            metadata a widget turns into a form), or None.
        kind: a sub-kind within the registry (a strategy's ``"differentiable"``,
            ``"discrete"``...), or ``""``.
        summary: the first line of the object's docstring, for tooltips.
        extra: whatever else the registry keeps about the entry.
    """

    registry: str
    name: str
    obj: Any
    config_cls: type | None = None
    kind: str = ""
    summary: str = ""
    extra: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def cls(self) -> Any:
        """The registered object (a class for strategies and evaluators)."""
        return self.obj


@dataclass
class _Registry:
    noun: str
    builtins: tuple[str, ...]
    error: type[NasbenchError]
    kinds: tuple[str, ...]
    lower: bool
    hint: str
    list_known: bool
    entries: dict[str, Entry] = field(default_factory=dict)
    loaded: bool = False


_REGISTRIES: dict[str, _Registry] = {}


def declare(
    registry: str,
    *,
    builtins: Sequence[str] = (),
    noun: str | None = None,
    error: type[NasbenchError] = ConfigError,
    kinds: Sequence[str] = (),
    lower: bool = True,
    hint: str = "",
    list_known: bool = True,
) -> None:
    """Declare a registry (once; declaring it again with the same settings is a no-op).

    Args:
        registry: its name, e.g. ``"strategy"``.
        builtins: modules whose import registers the built-in entries, imported on first use.
        noun: the word error messages use (``"strategy"``, ``"op"``); defaults to ``registry``.
        error: the error class raised for an unknown or clashing name.
        kinds: the allowed sub-kinds (empty: any, or none).
        lower: store and look names up lower case.
        hint: a sentence added to the unknown-name error (where to list the names).
        list_known: name every known entry in that error (off for long registries).
    """
    if registry not in _REGISTRIES:
        _REGISTRIES[registry] = _Registry(
            noun or registry, tuple(builtins), error, tuple(kinds), lower, hint, list_known
        )


def _registry(registry: str) -> _Registry:
    if registry not in _REGISTRIES:
        raise ConfigError(
            f"Unknown registry '{registry}'; known: {', '.join(sorted(_REGISTRIES))}."
            f"{closest_name(str(registry), sorted(_REGISTRIES))}"
        )
    return _REGISTRIES[registry]


def _key(reg: _Registry, name: str) -> str:
    return str(name).lower() if reg.lower else str(name)


def kinds(registry: str) -> tuple[str, ...]:
    """The sub-kinds ``registry`` allows (empty: it has none)."""
    return _registry(registry).kinds


def check_kind(registry: str, kind: str) -> None:
    """Raise the registry's error when ``kind`` is not one of its declared kinds."""
    reg = _registry(registry)
    if reg.kinds and kind not in reg.kinds:
        raise reg.error(
            f"Unknown {reg.noun} kind '{kind}'; use one of {', '.join(reg.kinds)}."
            f"{closest_name(str(kind), reg.kinds)}"
        )


def register(
    registry: str,
    name: str,
    obj: Any = None,
    *,
    config_cls: type | None = None,
    kind: str = "",
    summary: str | None = None,
    replace: bool = False,
    **extra: Any,
) -> Any:
    """Register ``obj`` as ``name``; without ``obj``, return a decorator that does.

    Args:
        registry: a declared registry.
        name: the entry's name; registering another object under a taken name is an error,
            unless it is the same definition run again (:func:`redefines`), which replaces it.
        obj: the object; omit it to use ``register`` as a decorator.
        config_cls: the dataclass of the object's settings.
        kind: the entry's sub-kind (checked against the registry's kinds).
        summary: a one-line description; defaults to the first docstring line of ``obj``.
        replace: let the new object take the name over (datasets re-registered in place).
        **extra: stored in :attr:`Entry.extra`.

    Returns:
        ``obj`` (or the decorator, which returns the decorated object unchanged).
    """
    reg = _registry(registry)
    if reg.kinds:
        check_kind(registry, kind)
    if config_cls is not None and not dataclasses.is_dataclass(config_cls):
        raise reg.error(f"{reg.noun.capitalize()} '{name}': config_cls must be a dataclass.")
    key = _key(reg, name)

    def add(target: Any) -> Any:
        old = reg.entries.get(key)
        if old is not None and old.obj is not target and not replace:
            if not redefines(old.obj, target):
                raise reg.error(taken_message(reg.noun, key, old.obj))
        doc = (getattr(target, "__doc__", None) or "").strip().splitlines()
        line = summary if summary is not None else (doc[0] if doc else "")
        reg.entries[key] = Entry(registry, key, target, config_cls, kind, line, dict(extra))
        return target

    return add if obj is None else add(obj)


def _definition(obj: Any) -> tuple[str, str] | None:
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    return (module, qualname) if isinstance(module, str) and isinstance(qualname, str) else None


def is_builtin(obj: Any) -> bool:
    """True when ``obj`` (a class or function) is defined by the workbench itself.

    Example:
        >>> is_builtin(Entry), is_builtin(type("Walk", (), {"__module__": "__main__"}))
        (True, False)
    """
    definition = _definition(obj)
    return definition is not None and definition[0].split(".")[0] == "nasbench"


def redefines(old: Any, new: Any) -> bool:
    """True when ``new`` is ``old``'s definition run again, as re-running a notebook cell
    does: the same module and qualified name. A built-in module run again (its first
    import interrupted after it had registered some names) counts too.

    Args:
        old: the registered class or function.
        new: the one offered under the same name.

    Returns:
        Whether ``new`` may replace ``old``.

    Example:
        >>> first = type("Walk", (), {"__module__": "__main__"})  # a notebook cell's class
        >>> again = type("Walk", (), {"__module__": "__main__"})  # the cell run again
        >>> redefines(first, again), redefines(first, Entry), redefines(Entry, Entry)
        (True, False, True)
    """
    definition = _definition(old)
    return definition is not None and definition == _definition(new)


def taken_message(noun: str, name: str, old: Any) -> str:
    """The one-line refusal for a name that is taken by ``old``.

    Example:
        >>> taken_message("example", "hello", Entry)
        "Example 'hello' is already registered as a built-in example; pick another name."
    """
    label = noun.capitalize()
    if is_builtin(old):
        return f"{label} '{name}' is already registered as a built-in {noun}; pick another name."
    where = ".".join(_definition(old) or ("another definition",))
    return (
        f"{label} '{name}' is already registered by {where}; pick another name "
        "(re-running the cell or module that defined it replaces it)."
    )


def is_registered(registry: str, name: str) -> bool:
    """True when ``name`` is in ``registry`` (built-ins loaded first)."""
    reg = _load(registry)
    return _key(reg, name) in reg.entries


def _load(registry: str) -> _Registry:
    reg = _registry(registry)
    if not reg.loaded:
        reg.loaded = True  # set first: a built-in module may look names up while it loads
        try:
            for module in reg.builtins:
                importlib.import_module(module)
        except BaseException:
            # Ctrl-C in a notebook, or a failed import: load again on the next look-up
            # rather than serve a registry missing the modules not reached.
            reg.loaded = False
            raise
    return reg


def get(registry: str, name: str) -> Entry:
    """Return the entry registered as ``name``.

    Args:
        registry: a declared registry.
        name: the entry's name (case-insensitive where the registry is).

    Returns:
        The :class:`Entry`.

    Raises:
        NasbenchError: the registry's error class, naming the known names and the
            closest one.
    """
    reg = _load(registry)
    key = _key(reg, name)
    if key not in reg.entries:
        known = sorted(reg.entries)
        listed = f"; known: {', '.join(known)}." if reg.list_known else "."
        raise reg.error(f"Unknown {reg.noun} '{name}'{listed}{closest_name(key, known)}{reg.hint}")
    return reg.entries[key]


def names(registry: str, kind: str | None = None) -> tuple[str, ...]:
    """Names in ``registry``, sorted, optionally only those of one sub-kind.

    Example:
        >>> names("strategy", "differentiable")
        ('darts', 'gdas', 'pcdarts', 'proxyless')
    """
    reg = _load(registry)
    if kind is not None:
        check_kind(registry, kind)
    return tuple(sorted(n for n, e in reg.entries.items() if kind is None or e.kind == kind))


def entries(registry: str) -> list[Entry]:
    """Every entry of ``registry``, in the order they were registered."""
    return list(_load(registry).entries.values())


def make_config(registry: str, name: str, config: Any = None) -> Any:
    """Build and validate the config dataclass of entry ``name``.

    Args:
        registry: a declared registry.
        name: a registered name whose entry has a ``config_cls``.
        config: None (defaults), a dict of field values, or an instance of the config class.

    Returns:
        An instance of the entry's config class, validated (its ``validate()`` ran).

    Raises:
        NasbenchError: unknown field, wrong type of config, or a value out of range.

    Example:
        >>> make_config("strategy", "pcdarts", {"k": 2}).k
        2
    """
    entry = get(registry, name)
    reg = _REGISTRIES[registry]
    config_cls = entry.config_cls
    if config_cls is None:
        raise reg.error(f"{reg.noun.capitalize()} '{entry.name}' takes no config.")
    noun = reg.noun.capitalize()
    if config is None:
        config = config_cls()
    elif isinstance(config, dict):
        fields = [f.name for f in dataclasses.fields(config_cls)]
        for key in config:
            if key not in fields:
                raise reg.error(
                    f"{noun} '{entry.name}' has no option '{key}'; options: "
                    f"{', '.join(fields)}.{closest_name(str(key), fields)}"
                )
        config = config_cls(**config)
    elif not isinstance(config, config_cls):
        raise reg.error(
            f"{noun} '{entry.name}' expects a {config_cls.__name__} or a dict, "
            f"got {type(config).__name__}."
        )
    validate: Callable[[], None] | None = getattr(config, "validate", None)
    if callable(validate):
        validate()
    return config


def create(registry: str, name: str, config: Any = None, /, **kwargs: Any) -> Any:
    """Create the object registered as ``name``: ``obj(make_config(...), **kwargs)``.

    Entries without a config class are called with ``kwargs`` only.

    Example:
        >>> method = create("strategy", "gdas", {"tau_max": 5.0}, seed=1)
        >>> method.config.tau_max
        5.0
    """
    entry = get(registry, name)
    reg = _REGISTRIES[registry]
    if entry.config_cls is None:
        check_keywords(entry.obj, kwargs, f"{reg.noun} '{entry.name}'", reg.error)
        return entry.obj(**kwargs)
    # The first argument is the config, given apart from the keywords.
    check_keywords(entry.obj, kwargs, f"{reg.noun} '{entry.name}'", reg.error, skip=1)
    return entry.obj(make_config(registry, name, config), **kwargs)


def check_keywords(
    obj: Any,
    kwargs: dict[str, Any],
    what: str,
    error: type[NasbenchError] = ConfigError,
    skip: int = 0,
) -> None:
    """Refuse, in one line, a keyword ``obj`` does not take, naming those it does and the
    closest one; the call would otherwise fail with a TypeError naming an internal class.

    Args:
        obj: the class or function about to be called.
        kwargs: the keywords it will get.
        what: how the message names it (``"strategy 'random'"``).
        error: the error class to raise.
        skip: leading parameters passed positionally, not named to the person (a config).

    Example:
        >>> check_keywords(Entry, {"nam": "x"}, "an entry")
        Traceback (most recent call last):
        ...
        nasbench.errors.ConfigError: an entry takes no keyword 'nam'; its keywords: registry, name, obj, config_cls, kind, summary, extra. Did you mean 'name'?
    """  # noqa: E501
    try:
        params = list(inspect.signature(obj).parameters.values())
    except (TypeError, ValueError):  # a builtin without a signature: let the call decide
        return
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    known = [p.name for p in params[skip:] if p.kind in named]
    for key in kwargs:
        if key not in known:
            listing = f"its keywords: {', '.join(known)}" if known else "it takes none"
            raise error(
                f"{what} takes no keyword {key!r}; {listing}.{closest_name(str(key), known)}"
            )


# The built-in registries and the modules that fill them: the five the workbench lists
# (datasets, ops, spaces, strategies, evaluators), and the builders a space hands its
# genotypes (networks, by genotype kind) and itself (supernets, by space name) to. Their
# own packages add the per-registry helpers (``nasbench.strategies.create_strategy``...).
declare(
    "strategy",
    builtins=(
        "nasbench.strategies.differentiable",
        "nasbench.strategies.topology",
        "nasbench.strategies.discrete",
        "nasbench.strategies.discrete.hill_climbing",
        "nasbench.strategies.discrete.halving",
        "nasbench.strategies.discrete.nash",
        "nasbench.strategies.discrete.autohas",
        "nasbench.strategies.discrete.enas",
        "nasbench.strategies.discrete.nsga2",
        "nasbench.strategies.selfsupervised",
        "nasbench.strategies.meta",
        "nasbench.strategies.differentiable.marl_gdas",
    ),
    kinds=("differentiable", "topology", "discrete", "meta", "self-supervised", "multi-agent"),
)
declare(
    "evaluator",
    builtins=(
        "nasbench.evaluation.train_evaluator",
        "nasbench.evaluation.table_lookup",
        "nasbench.evaluation.weight_sharing",
        "nasbench.evaluation.proxies",
        "nasbench.evaluation.smash",
    ),
)
declare(
    "dataset",
    builtins=("nasbench.data",),
    noun="dataset",
    error=DatasetError,
    hint=" Run `nasbench datasets` to list the registry, and pick a name it shows.",
    list_known=False,
)
declare("op", builtins=("nasbench.spaces.ops",), error=SpaceError, lower=False)
declare(
    "space",
    builtins=tuple(
        f"nasbench.spaces.{m}"
        for m in (
            "alb",
            "cell",
            "chain",
            "dints",
            "nasunet",
            "nb101",
            "nb201",
            "recon",
            "trellis",
            "vnas",
            "c2fnas",
        )
    ),
    error=SpaceError,
    lower=False,
)
declare(
    "network",
    builtins=tuple(
        f"nasbench.models.{m}"
        for m in (
            "network",
            "nb101_network",
            "nb201_network",
            "chain_network",
            "unet",
            "unrolled",
            "vnas",
            "dints",
            "trellis",
            "c2fnas",
            "detector",
            "morphism",
        )
    ),
    error=SpaceError,
    lower=False,
)
declare(
    "supernet",
    builtins=tuple(
        f"nasbench.models.{m}"
        for m in (
            "supernet",
            "unet_supernet",
            "unrolled_supernet",
            "vnas",
            "dints",
            "trellis",
            "c2fnas",
            "detector",
            "morphism",
        )
    ),
    error=SpaceError,
    lower=False,
)
declare("executor", builtins=("nasbench.strategies.discrete.executors",))
