"""``Workbench()``: every view in one Tab, wired together; the notebook's one-line entry point.

Wiring (views hold view state; every action calls nasbench):

- picking a dataset sets the space builder's dims/channels/classes/image size,
  the launcher's dataset and the genotype viewer's cost settings;
- the space builder feeds its space (and validity: an invalid space disables
  Run) and its batch size to the launcher;
- Run opens the monitor on the new run folder and switches to its tab;
- when a run ends, the run browser refreshes and the genotype viewer and the
  alpha explorer show it (the explorer: its alphas, or the hyper-parameter policy of
  an AutoHAS search); Open in the browser does the same for any run.
"""

from __future__ import annotations

import os
from typing import Any

import ipywidgets as widgets

from widgets.alpha_explorer import AlphaExplorer
from widgets.dataset_picker import DatasetPicker
from widgets.genotype_viewer import GenotypeViewer
from widgets.launcher import SearchLauncher
from widgets.monitor import TERMINAL, RunMonitor
from widgets.run_browser import RunBrowser
from widgets.space_builder import SpaceBuilder

TITLES = ("Dataset", "Space", "Search", "Monitor", "Genotypes", "Alphas", "Runs")


class Workbench(widgets.Tab):
    """All the views in tabs: dataset, space, search, monitor, genotypes, alphas, runs.

    Args:
        runs_folder: where searches write their run folders.
        root: the data folder (default ``$NASBENCH_DATA`` or ~/.cache/nasbench).
        dataset: the dataset picked at start (the offline synthetic default).
        live_costs: let the space builder measure the supernet cost on every change
            (in a worker thread in Jupyter); False: only on ``builder.update_costs()``.

    Example:
        >>> from widgets import Workbench
        >>> Workbench()  # doctest: +SKIP
    """

    def __init__(
        self,
        runs_folder: str | os.PathLike = "runs",
        root: Any = None,
        dataset: str = "synthetic",
        live_costs: bool = True,
    ) -> None:
        self.picker = DatasetPicker(root=root, value=dataset)
        self.builder = SpaceBuilder(live_costs=live_costs)
        self.launcher = SearchLauncher(runs_folder)
        self.monitor = RunMonitor()
        self.viewer = GenotypeViewer()
        self.explorer = AlphaExplorer()
        self.browser = RunBrowser(runs_folder)
        super().__init__(
            children=[
                self.picker,
                self.builder,
                self.launcher,
                self.monitor,
                self.viewer,
                self.explorer,
                self.browser,
            ],
            titles=TITLES,
        )
        self.add_class("nasbench-workbench")
        widgets.link((self.builder.batch_size, "value"), (self.launcher.batch_size, "value"))
        self.picker.observe(self._on_dataset, ["dataset", "size"])
        self.builder.observe(self._on_space, ["space_config", "valid"])
        self.launcher.observe(self._on_launch, "launches")
        self.monitor.observe(self._on_status, "status")
        self.browser.observe(self._on_open, "opened")
        self._on_dataset()
        self._on_space()
        self.viewer.set_runs(self.browser.run_dirs())

    # ----------------------------------------------------------------- wiring
    def _on_dataset(self, _: Any = None) -> None:
        info, size = self.picker.info, self.picker.size
        self.builder.set_dataset(info, size)
        self.launcher.set_dataset(
            {**self.picker.dataset_config(), "batch_size": self.builder.batch_size.value}
        )
        self.viewer.set_dataset(info, size)

    def _on_space(self, _: Any = None) -> None:
        self.launcher.set_space(
            self.builder.space_config or self.launcher.space_config,
            valid=self.builder.valid,
            error=self.builder.error,
        )

    def _on_launch(self, _: Any = None) -> None:
        self.monitor.watch(self.launcher.run_dir, self.launcher.process)
        self.selected_index = TITLES.index("Monitor")

    def _on_status(self, change: dict) -> None:
        if change["new"] not in TERMINAL:
            return
        if self.monitor.run_dir == self.launcher.run_dir:
            self.launcher.check_process()  # its own watch catches a process still exiting
        self.show_run(self.monitor.run_dir, monitor=False)

    def _on_open(self, change: dict) -> None:
        if change["new"]:
            self.show_run(change["new"])
            self.selected_index = TITLES.index("Monitor")

    def show_run(self, run_dir: str | os.PathLike, monitor: bool = True) -> None:
        """Show a run everywhere: monitor, genotype viewer, alpha explorer, browser.

        Args:
            run_dir: the run folder.
            monitor: also open it in the monitor.
        """
        self.browser.refresh()
        self.viewer.set_runs(self.browser.run_dirs())
        if monitor:
            self.monitor.watch(run_dir)
        run = self.monitor.run if self.monitor.run_dir == str(run_dir) else None
        if run is not None and len(run.genotypes):
            self.viewer.show_run(run_dir)
        if run is not None and (len(run.alphas) or _has_hp_policy(run)):
            self.explorer.set_run(run)


def _has_hp_policy(run: Any) -> bool:
    """True for a joint architecture + hyper-parameter search (its candidates carry a policy)."""
    from nasbench.viz import hp_distribution

    return not hp_distribution(run).empty
