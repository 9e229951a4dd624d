"""Evaluators, discoverable by name (timm-style registry).

An evaluator is a class registered under a name with its config dataclass. The
search loop, the CLI and the widgets build one with :func:`create_evaluator`, so
the evaluation strategy is chosen independently of the search strategy:

- ``"train"``: full training, or partial training with an epoch budget;
- ``"table"``: lookup in a tabular benchmark (:mod:`nasbench.bench`);
- ``"weight_sharing"``: a supernet trained once, candidates scored with its weights;
- ``"proxy"``: a zero-cost proxy at initialisation;
- ``"smash"``: a hypernetwork trained once generates each candidate's weights.

Every evaluator class is called as ``cls(config, space=..., dataset=..., seed=...,
**extra)``. Built-in evaluators register when their module is imported;
:func:`create_evaluator` and :func:`evaluator_names` import them on first use.

Example:
    >>> from nasbench.evaluation import create_evaluator, evaluator_names
    >>> "table" in evaluator_names()
    True
    >>> ev = create_evaluator("table", {"metric": "val_acc"}, seed=0)  # synthetic NB201 table
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nasbench.errors import ConfigError, closest_name

_BUILTIN_MODULES = (
    "nasbench.evaluation.training",
    "nasbench.evaluation.table_lookup",
    "nasbench.evaluation.weight_sharing",
    "nasbench.evaluation.proxies",
    "nasbench.evaluation.smash",  # SMASH hypernetwork (issue 18)
)


@dataclass(frozen=True)
class EvaluatorEntry:
    """What the registry knows about one evaluator.

    Attributes:
        name: registry name (lower case).
        cls: the evaluator class.
        config_cls: its config dataclass (fields carry ``help``/``min``/``max`` metadata).
        summary: first line of the class docstring, for dropdown tooltips.
    """

    name: str
    cls: type
    config_cls: type
    summary: str


_REGISTRY: dict[str, EvaluatorEntry] = {}
_builtins_loaded = False


def register_evaluator(name: str, config_cls: type) -> Callable[[type], type]:
    """Class decorator that registers an evaluator under ``name``.

    Args:
        name: registry name; stored lower case.
        config_cls: the dataclass of the evaluator's settings.

    Returns:
        The decorator; it returns the class unchanged.

    Example:
        >>> @register_evaluator("my_eval", MyConfig)  # doctest: +SKIP
        ... class MyEvaluator: ...
    """
    if not dataclasses.is_dataclass(config_cls):
        raise ConfigError(f"evaluator '{name}': config_cls must be a dataclass.")
    key = str(name).lower()

    def decorator(cls: type) -> type:
        if key in _REGISTRY and _REGISTRY[key].cls is not cls:
            raise ConfigError(f"evaluator '{key}' is already registered; pick another name.")
        doc = (cls.__doc__ or "").strip().splitlines()
        _REGISTRY[key] = EvaluatorEntry(key, cls, config_cls, doc[0] if doc else "")
        return cls

    return decorator


def _load_builtins() -> None:
    global _builtins_loaded
    if _builtins_loaded:
        return
    for module in _BUILTIN_MODULES:
        importlib.import_module(module)
    _builtins_loaded = True


def get_evaluator(name: str) -> EvaluatorEntry:
    """Return the registry entry for ``name`` (case-insensitive).

    Example:
        >>> get_evaluator("proxy").config_cls.__name__
        'ProxyConfig'
    """
    _load_builtins()
    key = str(name).lower()
    if key not in _REGISTRY:
        names = sorted(_REGISTRY)
        raise ConfigError(
            f"unknown evaluator '{name}'; known: {', '.join(names)}.{closest_name(key, names)}"
        )
    return _REGISTRY[key]


def evaluator_names() -> tuple[str, ...]:
    """Names of the registered evaluators, sorted.

    Example:
        >>> evaluator_names()
        ('proxy', 'smash', 'table', 'train', 'weight_sharing')
    """
    _load_builtins()
    return tuple(sorted(_REGISTRY))


def make_evaluator_config(name: str, config: Any = None) -> Any:
    """Build and validate the config dataclass of evaluator ``name``.

    Args:
        name: a registered evaluator name.
        config: None (defaults), a dict of field values, or a config instance.

    Returns:
        The validated config instance.

    Example:
        >>> make_evaluator_config("train", {"epochs": 2}).epochs
        2
    """
    entry = get_evaluator(name)
    if config is None:
        config = entry.config_cls()
    elif isinstance(config, dict):
        names = [f.name for f in dataclasses.fields(entry.config_cls)]
        for key in config:
            if key not in names:
                raise ConfigError(
                    f"evaluator '{entry.name}' has no option '{key}'; options: "
                    f"{', '.join(names)}.{closest_name(str(key), names)}"
                )
        config = entry.config_cls(**config)
    elif not isinstance(config, entry.config_cls):
        raise ConfigError(
            f"evaluator '{entry.name}' expects a {entry.config_cls.__name__} or a dict, "
            f"got {type(config).__name__}."
        )
    validate = getattr(config, "validate", None)
    if callable(validate):
        validate()
    return config


def create_evaluator(
    name: str,
    config: Any = None,
    *,
    space: Any = None,
    dataset: Any = None,
    seed: int = 0,
    **extra: Any,
) -> Any:
    """Create the evaluator registered as ``name``.

    Args:
        name: ``"train"``, ``"table"``, ``"weight_sharing"``, ``"proxy"`` or a custom name.
        config: None, a dict, or an instance of the evaluator's config class.
        space: the search space (spaces build networks and canonical keys).
        dataset: a dataset name (``"synthetic"``, ``"breastmnist"``...) or a
            ``DatasetConfig``-like object with ``name``/``size``/``limit``/``root``.
        seed: seeds weight initialisation, batches and sampling.
        **extra: evaluator-specific objects (``table=`` for ``"table"``).

    Returns:
        The evaluator; it has ``evaluate(genotype, budget=None) -> Result``.

    Example:
        >>> ev = create_evaluator("proxy", {"proxy": "naswot"}, space=space,
        ...                       dataset="synthetic", seed=0)  # doctest: +SKIP
    """
    entry = get_evaluator(name)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}.")
    return entry.cls(
        make_evaluator_config(name, config), space=space, dataset=dataset, seed=seed, **extra
    )
