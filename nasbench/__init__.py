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
    "search": "nasbench.engine.bilevel",
    "resume": "nasbench.engine.bilevel",
    "memory_estimate": "nasbench.engine.bilevel",
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
