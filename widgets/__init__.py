"""ipywidgets views over nasbench: pick data, build a space, run and watch a search, explore.

Every view holds view state only; actions call the engine (``nasbench``).

- :class:`DatasetPicker`: registry dropdown, info card, sample grid, download.
- :class:`SpaceBuilder`: space type, op palette, cell/skeleton settings, size and cost.
- :class:`SearchLauncher`: strategy form, budget, device, seed; Run / Stop / Resume.
- :class:`RunMonitor`: live progress, alpha and metric curves, genotype, warnings.
- :class:`GenotypeViewer`: zoo / run / pasted genotypes, costs, side-by-side diff.
- :class:`AlphaExplorer`: step slider and play over alpha snapshots, entropy per edge.
- :class:`RunBrowser`: the runs of a folder; compare their validation curves.
- :class:`Workbench`: all of them in tabs.

Example:
    >>> from widgets import Workbench
    >>> Workbench()  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

# Each view's module is imported when the view is first asked for (PEP 562), so
# ``from widgets import Workbench`` costs ipywidgets only and torch loads with the first tab.
_MODULES = {
    "AlphaExplorer": "widgets.alpha_explorer",
    "DatasetPicker": "widgets.dataset_picker",
    "GenotypeViewer": "widgets.genotype_viewer",
    "RunBrowser": "widgets.run_browser",
    "RunMonitor": "widgets.monitor",
    "SearchLauncher": "widgets.launcher",
    "SpaceBuilder": "widgets.space_builder",
    "Workbench": "widgets.workbench",
}
__all__ = sorted(_MODULES)


# What the views import beyond the core install: the project's ``notebooks`` extra.
_NOTEBOOK_PACKAGES = ("ipywidgets", "anywidget", "jupyterlab", "IPython")


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module 'widgets' has no attribute '{name}'")
    try:
        module = importlib.import_module(_MODULES[name])
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] not in _NOTEBOOK_PACKAGES:
            raise
        raise ModuleNotFoundError(
            f"the workbench views need {error.name}, from the project's notebooks extra: "
            f'pip install -e ".[notebooks]"',
            name=error.name,
        ) from None
    return getattr(module, name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_MODULES])
