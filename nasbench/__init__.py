"""nasbench: neural architecture search on medical images, in a notebook.

The engine of the workbench. Subpackages:

- ``nasbench.data``: the dataset registry and loaders.
- ``nasbench.spaces``: operations, search spaces, genotypes and the zoo.
- ``nasbench.models``: networks built from genotypes, and their costs.
- ``nasbench.viz``: figures (graphviz drawings, plotly charts).
"""

from __future__ import annotations

from nasbench.errors import NasbenchError

__version__ = "0.1.0"

__all__ = ["NasbenchError", "__version__"]
