"""nasbench: neural architecture search on medical images, in a notebook.

The engine of the workbench. Subpackages (imported on first use):

- ``nasbench.data``: the dataset registry and loaders.
- ``nasbench.spaces``: operations, search spaces, genotypes and the zoo.
- ``nasbench.models``: networks built from genotypes or spaces, and their costs.
- ``nasbench.strategies``: search strategies (differentiable and discrete).
- ``nasbench.evaluation``: metrics, training, evaluators and objectives.
- ``nasbench.runs``: the run store and its readers.
- ``nasbench.viz``: figures (graphviz drawings, plotly charts, the HTML report).

Example:
    >>> import nasbench
    >>> result = nasbench.search(nasbench.SearchConfig(epochs=1), "runs/demo")  # doctest: +SKIP
    >>> nasbench.runs.load("runs/demo").alphas  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

from nasbench.errors import NasbenchError

__version__ = "0.1.0"

# The layer order, bottom first. A module imports from its own package and from the
# layers below it, never from a layer above or beside it; lazy imports (inside
# functions) count too, and tests/test_layers.py parses every import to check it.
# Registries name their built-in modules as strings and import them on first use, so
# looking a name up never imports upward. An entry names a package or module below
# ``nasbench`` (the longest entry that prefixes a module is the one it belongs to):
# ``bench.generate`` and ``engine.commands`` drive whole searches, so they sit under the CLI;
# ``__init__`` is this module, which imports only errors and loads its exports by name.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors",),
    ("__init__", "registry", "options", "protocols", "device", "metric_names", "tempfiles"),
    ("data", "spaces"),
    ("runs",),
    ("models", "bench"),
    ("config",),
    ("evaluation",),
    ("strategies",),
    ("engine",),
    ("viz",),
    ("bench.generate", "engine.commands", "course"),
    ("cli",),
    ("__main__",),
)

_SUBPACKAGES = (
    "bench",
    "config",
    "data",
    "engine",
    "evaluation",
    "models",
    "runs",
    "spaces",
    "strategies",
    "viz",
)
# Top-level names and the module that defines them; imported lazily so that
# `import nasbench` stays fast and does not pull torch in.
_EXPORTS = {
    "search": "nasbench.engine.search",
    "resume": "nasbench.engine.search",
    "memory_estimate": "nasbench.engine.bilevel",
    "time_estimate": "nasbench.engine.bilevel",
    "SearchConfig": "nasbench.config",
    "DatasetConfig": "nasbench.config",
}

__all__ = ["NasbenchError", "__version__", *_SUBPACKAGES, *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"nasbench.{name}")
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'nasbench' has no attribute {name!r}")
