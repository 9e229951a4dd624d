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

from widgets.alpha_explorer import AlphaExplorer
from widgets.dataset_picker import DatasetPicker
from widgets.genotype_viewer import GenotypeViewer
from widgets.launcher import SearchLauncher
from widgets.monitor import RunMonitor
from widgets.run_browser import RunBrowser
from widgets.space_builder import SpaceBuilder
from widgets.workbench import Workbench

__all__ = [
    "AlphaExplorer",
    "DatasetPicker",
    "GenotypeViewer",
    "RunBrowser",
    "RunMonitor",
    "SearchLauncher",
    "SpaceBuilder",
    "Workbench",
]
