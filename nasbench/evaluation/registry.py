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

from collections.abc import Callable
from typing import Any

from nasbench import registry
from nasbench.errors import ConfigError
from nasbench.options import plain_numbers
from nasbench.protocols import Space
from nasbench.registry import Entry

# The registry's entry type for evaluators.
EvaluatorEntry = Entry


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
    return registry.register("evaluator", name, config_cls=config_cls)


def get_evaluator(name: str) -> Entry:
    """Return the registry entry for ``name`` (case-insensitive).

    Example:
        >>> get_evaluator("proxy").config_cls.__name__
        'ProxyConfig'
    """
    return registry.get("evaluator", name)


def evaluator_names() -> tuple[str, ...]:
    """Names of the registered evaluators, sorted.

    Example:
        >>> evaluator_names()
        ('proxy', 'smash', 'table', 'train', 'weight_sharing')
    """
    return registry.names("evaluator")


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
    return registry.make_config("evaluator", name, config)


def create_evaluator(
    name: str,
    config: Any = None,
    *,
    space: Space = None,
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
    get_evaluator(name)
    seed = plain_numbers(seed)  # np.int64 from a grid of seeds is the int it holds
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}.")
    return registry.create(
        "evaluator", name, config, space=space, dataset=dataset, seed=seed, **extra
    )
