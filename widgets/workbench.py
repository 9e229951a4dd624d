"""``Workbench()``: every view in one Tab, wired together; the notebook's one-line entry point.

Wiring (views hold view state; every action calls nasbench):

- picking a dataset sets the space builder's dims/channels/classes/image size,
  the launcher's dataset and the genotype viewer's cost settings;
- the space builder feeds its space (and validity: an invalid space disables
  Run) and its batch size to the launcher;
- Run opens the monitor on the new run folder and switches to its tab;
- when the run the monitor watches ends, the run browser refreshes and the genotype
  viewer and the alpha explorer show it (the explorer: its alphas, or the
  hyper-parameter policy of an AutoHAS search); Open in the browser does the same for
  any run, and makes it the run Resume continues;
- while the run shown runs, the genotype viewer and the alpha explorer follow what the
  monitor reads of it (no poll of their own): each time its tab is opened, and as the
  monitor reads new snapshots or genotypes while that tab is the one shown, keeping what
  the person chose there; opening the Runs tab re-reads the runs folder;
- when the launcher's search ends while the monitor shows another run, only the run
  browser refreshes (it lists how that search ended; the other views keep the run
  shown), and a run opened from the Runs tab while that search ran becomes the run
  Resume continues (until then Resume stays with the search running).

Start-up: a view is built (and its module, with torch behind it, imported) when its tab
is first opened, when another view needs it, or when its attribute is first read. In
Jupyter the tabs are on the page before any of that: the selected tab is built on the
kernel's loop just after the cell returns, and the monitor next (its figures load
plotly.js into the page, which a live figure would otherwise wait for after Run).
Without a running loop (plain Python, tests) every view is built at once, as a script
expects.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

import ipywidgets as widgets

from nasbench.errors import ConfigError, NasbenchError
from widgets._svg import message_html
from widgets._tasks import running_loop

TITLES = ("Dataset", "Space", "Search", "Monitor", "Genotypes", "Alphas", "Runs")
# attribute -> (tab title, "module:class"); the order is the tabs' order.
VIEWS = {
    "picker": ("Dataset", "widgets.dataset_picker:DatasetPicker"),
    "builder": ("Space", "widgets.space_builder:SpaceBuilder"),
    "launcher": ("Search", "widgets.launcher:SearchLauncher"),
    "monitor": ("Monitor", "widgets.monitor:RunMonitor"),
    "viewer": ("Genotypes", "widgets.genotype_viewer:GenotypeViewer"),
    "explorer": ("Alphas", "widgets.alpha_explorer:AlphaExplorer"),
    "browser": ("Runs", "widgets.run_browser:RunBrowser"),
}
DEFAULT_DATASET = "synthetic"  # the offline default: always there, nothing to download
LOADING = "<i style='color:var(--jp-ui-font-color2, #666)'>loading {title}…</i>"


def _view_class(path: str) -> type:
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


def _lazy_view(attribute: str) -> property:
    def get(self: Workbench) -> Any:
        return self.view(attribute)

    get.__doc__ = f"The {VIEWS[attribute][0]} tab's view (built on first use)."
    return property(get)


class Workbench(widgets.Tab):
    """All the views in tabs: dataset, space, search, monitor, genotypes, alphas, runs.

    Args:
        runs_folder: where searches write their run folders.
        root: the data folder (default ``$NASBENCH_DATA`` or ~/.cache/nasbench).
        dataset: the dataset picked at start (the offline synthetic default).
        live_costs: let the space builder measure the supernet cost on every change
            (in a worker thread in Jupyter); False: only on ``builder.update_costs()``.

    Raises:
        ConfigError: ``runs_folder`` is a file or not a path.

    Example:
        >>> from widgets import Workbench
        >>> Workbench()  # doctest: +SKIP
    """

    picker = _lazy_view("picker")
    builder = _lazy_view("builder")
    launcher = _lazy_view("launcher")
    monitor = _lazy_view("monitor")
    viewer = _lazy_view("viewer")
    explorer = _lazy_view("explorer")
    browser = _lazy_view("browser")

    def __init__(
        self,
        runs_folder: str | os.PathLike = "runs",
        root: Any = None,
        dataset: str = DEFAULT_DATASET,
        live_costs: bool = True,
    ) -> None:
        # Checked here, where a raise reaches the person: the launcher and the browser
        # take the folder when their tabs are built, on the kernel loop in Jupyter.
        if not isinstance(runs_folder, (str, os.PathLike)):
            raise ConfigError(
                f'runs_folder must be a folder, got {runs_folder!r}; pass e.g. runs_folder="runs".'
            )
        if os.path.isfile(os.path.expanduser(runs_folder)):
            raise ConfigError(
                f"runs_folder '{os.fspath(runs_folder)}' is a file, not a folder; pass a folder "
                "for the run folders (a search creates it)."
            )
        self._runs_folder = runs_folder
        self._root = root
        self._dataset = dataset
        self._live_costs = live_costs
        self._views: dict[str, widgets.Widget] = {}
        self._shown_run: str | None = None  # the last run shown, for views built later
        # The run each of the viewer and the explorer was last handed: a run opened while
        # still starting reaches them once it runs (_follow_shown_run).
        self._handed: dict[str, str] = {}
        # A run opened from the Runs tab while the launcher's search ran: Resume acts on it
        # once that search ends (the launcher keeps its running search until then).
        self._resume_later: str | None = None
        self._later: list[Any] = []  # the start-up builds still due on the loop
        self._closed = False
        # Kept so that close() closes them too, once a view has taken their place.
        self._loading = [widgets.HTML(LOADING.format(title=title)) for title in TITLES]
        # A view wider than a narrow notebook scrolls sideways instead of being cut off.
        self._slots = [
            widgets.VBox([loading], layout=widgets.Layout(overflow="auto"))
            for loading in self._loading
        ]
        super().__init__(children=self._slots, titles=TITLES)
        self.add_class("nasbench-workbench")
        self.observe(self._on_tab, "selected_index")
        loop = running_loop()
        if loop is None:
            for attribute in VIEWS:
                self.view(attribute)
        else:
            # After the cell's output is sent, so the tabs show while torch imports; then the
            # monitor, whose figures bring plotly.js to the page before the first Run needs it.
            self._later = [
                loop.call_later(0.05, self._on_tab),
                loop.call_later(0.5, self.view, "monitor"),
            ]

    # ------------------------------------------------------------------ views
    @property
    def built(self) -> tuple[str, ...]:
        """The views built so far (attribute names, in tab order)."""
        return tuple(a for a in VIEWS if a in self._views)

    def view(self, attribute: str) -> widgets.Widget:
        """Return the view called ``attribute`` (``"picker"``...), building it if needed.

        Args:
            attribute: one of ``VIEWS``.

        Returns:
            The view widget, placed in its tab.

        Example:
            >>> Workbench(live_costs=False).view("picker").dropdown.value  # doctest: +SKIP
            'synthetic'
        """
        if attribute not in self._views:
            self._build(attribute)
        return self._views[attribute]

    def _build(self, attribute: str) -> None:
        title, path = VIEWS[attribute]
        cls = _view_class(path)
        if attribute == "picker":
            view = self._build_picker(cls)
        elif attribute == "builder":
            view = cls(live_costs=self._live_costs)
        elif attribute in ("launcher", "browser"):
            view = cls(self._runs_folder)
        else:
            view = cls()
        self._views[attribute] = view
        getattr(self, f"_wire_{attribute}")(view)
        self._slots[TITLES.index(title)].children = (view,)

    def _build_picker(self, cls: type) -> widgets.Widget:
        try:
            return cls(root=self._root, value=self._dataset)
        except NasbenchError as err:
            # In Jupyter the picker is built on the event loop, where a raise reaches only
            # the kernel's log: say it in the tab, and start from the offline default.
            picker = cls(root=self._root, value=DEFAULT_DATASET)
            picker.message.value = message_html(
                f"{err} Showing {DEFAULT_DATASET!r} instead.", "error"
            )
            return picker

    def _on_tab(self, _: Any = None) -> None:
        if self.selected_index is None or self._closed:
            return
        attribute = list(VIEWS)[self.selected_index]
        if attribute not in self._views:
            self.view(attribute)  # built now: it reads what it shows
        elif attribute == "browser":
            self.browser.refresh()  # runs started elsewhere meanwhile (~0.3 s for 160 runs)
        else:
            self._follow_shown_run(attribute)

    @property
    def _tab_shown(self) -> str | None:
        """The attribute of the view whose tab is selected."""
        return None if self.selected_index is None else list(VIEWS)[self.selected_index]

    def _follow_shown_run(self, attribute: str, live: bool = False) -> None:
        """Bring the viewer or the explorer (``attribute``) up to what the monitor has read
        of the run shown, while that run runs; ``live``: the monitor just read it while the
        tab is open (the explorer keeps the slider a person may be dragging)."""
        if attribute not in ("viewer", "explorer"):
            return
        run = self._running_shown_run()
        if run is None:
            return
        if self._handed.get(attribute) != self._shown_run:
            getattr(self, f"_show_in_{attribute}")(self._shown_run)
        elif attribute == "viewer":
            self.viewer.follow(run)
        else:
            self.explorer.follow(run, keep_slider=live)

    def _running_shown_run(self) -> Any:
        """The monitor's loaded run when it is the run shown and not over (else None)."""
        from widgets.monitor import TERMINAL

        if self._shown_run is None or "monitor" not in self._views:
            return None
        if self.monitor.status in TERMINAL:
            return None  # its end shows it everywhere (_on_status)
        return self._run(self._shown_run)

    def _on_rows_read(self, change: Any = None) -> None:
        tab = self._tab_shown
        if tab not in ("viewer", "explorer") or tab not in self._views:
            return
        if change is not None:
            # (alphas, genotypes, candidates) read: the Alphas tab draws alphas and an
            # AutoHAS run's hyperparameter policy (its candidates), the Genotypes tab
            # genotypes and candidates; a tab none of whose rows changed is not redrawn.
            old, new = change["old"], change["new"]
            if (old[0::2] == new[0::2]) if tab == "explorer" else (old[1:] == new[1:]):
                return
        self._follow_shown_run(tab, live=True)

    # ----------------------------------------------------------------- wiring
    def _wire_picker(self, picker: Any) -> None:
        picker.observe(self._on_dataset, ["dataset", "size"])

    def _wire_builder(self, builder: Any) -> None:
        builder.set_dataset(self.picker.info, self.picker.size)
        builder.observe(self._on_space, ["space_config", "valid"])

    def _wire_launcher(self, launcher: Any) -> None:
        widgets.link((self.builder.batch_size, "value"), (launcher.batch_size, "value"))
        launcher.observe(self._on_launch, "launches")
        launcher.observe(self._on_process_end, "ends")
        self._on_dataset()
        self._on_space()

    def _wire_monitor(self, monitor: Any) -> None:
        monitor.observe(self._on_status, "status")
        monitor.observe(self._on_rows_read, "rows_read")

    def _wire_viewer(self, viewer: Any) -> None:
        viewer.set_dataset(self.picker.info, self.picker.size)
        viewer.set_runs(self.browser.run_dirs())
        if self._shown_run is not None:
            self._show_in_viewer(self._shown_run)

    def _wire_explorer(self, explorer: Any) -> None:
        if self._shown_run is not None:
            self._show_in_explorer(self._shown_run)

    def _wire_browser(self, browser: Any) -> None:
        browser.observe(self._on_open, "opened")
        # Refresh lists runs started elsewhere (the CLI, another notebook) and drops deleted
        # ones: the genotype viewer offers the same runs.
        browser.select.observe(self._on_runs_listed, "options")

    def _on_runs_listed(self, _: Any = None) -> None:
        if "viewer" in self._views:
            self.viewer.set_runs(self.browser.run_dirs())

    def _on_dataset(self, _: Any = None) -> None:
        info, size = self.picker.info, self.picker.size
        if "builder" in self._views:
            self.builder.set_dataset(info, size)
        if "launcher" in self._views:
            # Without a batch size: the launcher keeps its box (linked to the Space tab's),
            # a value typed wrong included, for Run to name.
            self.launcher.set_dataset(self.picker.dataset_config())
        if "viewer" in self._views:
            self.viewer.set_dataset(info, size)

    def _on_space(self, _: Any = None) -> None:
        if "launcher" not in self._views:
            return  # the launcher reads the space when it is built
        self.launcher.set_space(
            self.builder.space_config or self.launcher.space_config,
            valid=self.builder.valid,
            error=self.builder.error,
        )

    def _on_launch(self, _: Any = None) -> None:
        self._resume_later = None  # the monitor now shows the new process's run
        # The run shown now: the Alphas and Genotypes tabs follow it once it runs.
        self._shown_run = str(self.launcher.run_dir)
        self.monitor.watch(self.launcher.run_dir, self.launcher.process)
        self.selected_index = TITLES.index("Monitor")

    def _on_status(self, change: dict) -> None:
        from widgets.monitor import DELETED, TERMINAL  # built already: it sent this change

        if change["new"] not in TERMINAL:
            return
        if "launcher" in self._views and self.monitor.run_dir == self.launcher.run_dir:
            self.launcher.check_process()  # its own watch catches a process still exiting
            if change["new"] == DELETED:
                self.launcher.adopt(self.monitor.run_dir)  # no store left: no Resume
        self.show_run(self.monitor.run_dir, monitor=False)

    def _on_open(self, change: dict) -> None:
        if change["new"]:
            self.show_run(change["new"])
            if not self.monitor.process_alive:
                # The monitor's "Resume continues..." must act on this run, not the last
                # one launched: now, or once the launcher's own search has ended.
                adopted = self.launcher.adopt(change["new"])
                self._resume_later = None if adopted else change["new"]
            self.selected_index = TITLES.index("Monitor")

    def _on_process_end(self, _: Any = None) -> None:
        launched, shown = self.launcher.run_dir, self.monitor.run_dir
        if shown != launched and "browser" in self._views:
            # It listed the search as "starting" or "running"; when the monitor shows that
            # search instead, its end refreshes everything (_on_status).
            self.browser.refresh()
        if shown == self._resume_later and shown != launched and not self.monitor.process_alive:
            self.launcher.adopt(shown)
        self._resume_later = None

    def show_run(self, run_dir: str | os.PathLike, monitor: bool = True) -> None:
        """Show a run everywhere: monitor, genotype viewer, alpha explorer, browser.

        Views not built yet show it when their tab is first opened.

        Args:
            run_dir: the run folder.
            monitor: also open it in the monitor.
        """
        self._shown_run = str(run_dir)
        self.browser.refresh()
        if monitor:
            self.monitor.watch(run_dir)
        if "viewer" in self._views:
            self.viewer.set_runs(self.browser.run_dirs())
            self._show_in_viewer(self._shown_run)
        if "explorer" in self._views:
            self._show_in_explorer(self._shown_run)

    def close(self) -> None:
        """Close the workbench: stop its timers and polls, close the monitor's run store
        and every widget of every view (idempotent).

        A search it started goes on (its process is its own): stop it first with Stop,
        or later with ``nasbench stop RUN``.

        Example:
            >>> bench = Workbench(live_costs=False)  # doctest: +SKIP
            >>> bench.close()  # doctest: +SKIP
        """
        if self.comm is None:
            return  # closed already (ipywidgets' __del__ calls close again)
        try:
            from widgets._figures import close_widgets  # plotly: imported with the first figure
        except ImportError:  # Python exits (this is ipywidgets' __del__): nothing to free
            return

        self._closed = True
        for handle in self._later:  # views not built yet stay unbuilt
            handle.cancel()
        if "monitor" in self._views:
            self.monitor.close()  # its poller and its run's read connection
        for view in self._views.values():
            # The launcher: its process watch; the builder: its cost update still due; the
            # viewer: its debounced redraw; the explorer: its jslink.
            view.close()
        close_widgets(self)

    def _run(self, run_dir: str) -> Any:
        """The monitor's loaded run when it watches ``run_dir`` (else None)."""
        if "monitor" in self._views and self.monitor.run_dir == run_dir:
            return self.monitor.run
        return None

    def _unreadable(self, run_dir: str) -> bool:
        """True when the monitor gave up on ``run_dir`` (missing, damaged or deleted store):
        the other views must then say so too, not keep showing the last run."""
        from widgets.monitor import DELETED

        gave_up = self.monitor.run_dir == run_dir and self.monitor.status in ("failed", DELETED)
        return gave_up and self._run(run_dir) is None

    def _show_in_viewer(self, run_dir: str) -> None:
        # A run without a genotype (failed, or stopped before its first) too: the viewer
        # says so rather than keep showing the last run's cell; an unreadable one, why.
        if self._run(run_dir) is not None or self._unreadable(run_dir):
            self.viewer.show_run(run_dir)
            self._handed["viewer"] = run_dir

    def _show_in_explorer(self, run_dir: str) -> None:
        run = self._run(run_dir)
        if run is not None:  # a run without alphas too: the last run's must not stay shown
            self.explorer.set_run(run)
        elif self._unreadable(run_dir):
            self.explorer.set_run(run_dir)  # shows the one-line reason, and no old figures
        else:
            return  # still starting: it follows once it runs (_follow_shown_run)
        self._handed["explorer"] = run_dir
