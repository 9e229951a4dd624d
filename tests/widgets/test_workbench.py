"""The workbench: tabs, wiring between the views, stable CSS classes for browser tests."""

from __future__ import annotations

import html

from widgets import Workbench
from widgets.launcher import CONFIG_NAME

CSS = {
    "nasbench-workbench": lambda w: w,
    "nasbench-run": lambda w: w.launcher.run_button,
    "nasbench-stop": lambda w: w.launcher.stop_button,
    "nasbench-alpha-figure": lambda w: w.monitor.alpha_plot,
    "nasbench-genotype": lambda w: w.monitor.genotype,
    "nasbench-progress": lambda w: w.monitor.progress,
    "nasbench-status": lambda w: w.monitor.status_text,
}


def _workbench(tmp_path) -> Workbench:
    return Workbench(runs_folder=tmp_path / "runs", live_costs=False)


def test_tabs_and_css_classes(tmp_path):
    bench = _workbench(tmp_path)
    assert bench.titles == ("Dataset", "Space", "Search", "Monitor", "Genotypes", "Alphas", "Runs")
    for css, element in CSS.items():
        assert css in element(bench)._dom_classes, css


def test_dataset_and_space_feed_the_launcher(tmp_path):
    bench = _workbench(tmp_path)
    bench.picker.dropdown.value = "synthetic-multiclass"
    assert bench.launcher.dataset.name == "synthetic-multiclass"
    assert bench.builder.num_classes == 4
    with bench.builder.hold_updates():
        bench.builder.n_nodes.value = 2
        bench.builder.n_cells.value = 3
        bench.builder.channels.value = 4
    assert bench.launcher.space_config["n_nodes"] == 2
    assert bench.launcher.space_config["skeleton"]["channels"] == 4
    bench.builder.batch_size.value = 8
    assert bench.launcher.batch_size.value == 8
    bench.builder.set_ops([])
    assert bench.launcher.run_button.disabled
    assert "at least one op" in bench.builder.message.value
    assert "at least one op" in bench.launcher.message.value
    bench.builder.set_ops(["skip_connect", "sep_conv_3x3"])
    assert not bench.launcher.run_button.disabled
    config = bench.launcher.build_config()
    assert config.space["ops"] == ["skip_connect", "sep_conv_3x3"]
    assert config.dataset.name == "synthetic-multiclass" and config.dataset.batch_size == 8


def test_launch_opens_the_monitor_and_a_finished_run_reaches_the_viewers(
    tmp_path, monkeypatch, fake_run, autohas_run
):
    from widgets import launcher as launcher_module

    bench = _workbench(tmp_path)
    started = []

    class _Running:
        pid, returncode = 1, None

        def poll(self):
            return None

    monkeypatch.setattr(launcher_module, "start_process",
                        lambda args, run_dir: started.append(run_dir) or _Running())  # fmt: skip
    bench.launcher.run_button.click()
    (run_dir,) = started
    assert (run_dir / CONFIG_NAME).is_file()
    assert bench.monitor.run_dir == str(run_dir)
    assert bench.selected_index == 3 and bench.monitor.status == "starting"
    # A finished run opened from the browser reaches the monitor, the viewer and the explorer.
    bench.browser.folder = fake_run.parent
    bench.browser.refresh()
    bench.browser.select.value = (str(fake_run),)
    bench.browser.open_button.click()
    assert bench.monitor.status == "finished"
    assert bench.viewer.source_a.kind.value == "run"
    assert "<svg" in bench.viewer.drawing_a.value
    assert list(bench.explorer.steps) == [0, 1, 2]
    # A joint HP search has no alphas: the explorer shows its hyper-parameter policy.
    bench.show_run(autohas_run)
    assert bench.monitor.status == "finished"
    assert "lr=0.1" in [t.name for t in bench.explorer.hp_figure.data]


def test_importing_the_workbench_leaves_torch_for_the_first_tab():
    import subprocess
    import sys

    code = (
        "import sys\nfrom widgets import Workbench\n"
        "print(sorted(m for m in ('torch', 'nasbench.data', 'plotly') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_in_jupyter_the_tabs_come_first_and_each_view_when_its_tab_opens(tmp_path, fake_run):
    import asyncio

    async def session() -> dict:
        bench = Workbench(runs_folder=tmp_path / "runs", live_costs=False)
        seen = {"at construction": bench.built}
        assert all("loading" in slot.children[0].value for slot in bench.children)
        await asyncio.sleep(0.2)  # the cell has returned: the selected tab is built
        seen["after the cell"] = bench.built
        await asyncio.sleep(0.6)  # ...then the monitor, so plotly.js is on the page early
        seen["a moment later"] = bench.built
        bench.show_run(fake_run)  # before the viewers exist: they show it when opened
        bench.selected_index = 2  # Search: needs the space builder (and it, the picker)
        seen["after Search"] = bench.built
        seen["launcher dataset"] = bench.launcher.dataset.name
        seen["search tab holds"] = bench.children[2].children == (bench.launcher,)
        bench.selected_index = 5
        seen["explorer steps"] = list(bench.explorer.steps)
        return seen

    seen = asyncio.run(session())
    assert seen["at construction"] == ()
    assert seen["after the cell"] in (("picker",), ("picker", "monitor"))  # the picker first
    assert seen["a moment later"] == ("picker", "monitor")
    assert seen["after Search"] == ("picker", "builder", "launcher", "monitor", "browser")
    assert seen["launcher dataset"] == "synthetic" and seen["search tab holds"]
    assert seen["explorer steps"] == [0, 1, 2]


def test_op_buttons_wrap_instead_of_shrinking_their_names(tmp_path):
    builder = _workbench(tmp_path).builder
    rows = builder.palette_box.children
    assert rows and all(row.children[1].layout.flex_flow == "row wrap" for row in rows)
    buttons = [*builder.op_buttons.values(), *builder.layer_types.values()]
    assert all(button.layout.flex == "0 0 auto" for button in buttons)


def test_an_unreadable_run_leaves_nothing_of_the_last_one_in_the_other_tabs(tmp_path, fake_run):
    bench = _workbench(tmp_path)
    bench.show_run(fake_run)
    assert list(bench.explorer.steps) == [0, 1, 2] and "<svg" in bench.viewer.drawing_a.value
    missing = tmp_path / "runs" / "gone"
    bench.show_run(missing)
    assert bench.monitor.status == "failed"
    assert str(missing) in bench.explorer.title.value
    assert "is gone (moved or deleted)" in bench.explorer.message.value
    assert bench.explorer.heatmap_plot.layout.display == "none"
    assert bench.viewer.drawing_a.value == ""  # the viewer says why instead of the old cell


def test_close_closes_every_view_widget_and_the_monitors_run(
    tmp_path, fake_run, widget_registry, fds_to
):
    from widgets._figures import PlotlyLibrary

    before = set(widget_registry())
    bench = _workbench(tmp_path)  # no running loop: every view is built
    bench.show_run(fake_run)
    assert len(bench.built) == 7 and bench.monitor.run is not None
    assert fds_to(fake_run) != []  # the monitor reads the store (None: no /proc here)
    bench.close()
    bench.close()  # idempotent
    left = [widget_registry()[key] for key in set(widget_registry()) - before]
    assert all(isinstance(model, PlotlyLibrary) for model in left), left  # shared, stays
    assert bench.monitor.run._conn is None and fds_to(fake_run) in (None, [])


def test_a_closed_workbench_polls_measures_and_builds_nothing_more(tmp_path):
    import asyncio

    from nasbench.runs import RunStore

    async def session(store) -> dict:
        bench = Workbench(runs_folder=tmp_path / "runs", live_costs=True)
        bench.selected_index = 1  # Space: the builder, whose live costs are debounced
        builder, measured = bench.builder, []
        builder._measure = lambda *args: measured.append(args) or {}
        builder.batch_size.value = 4  # a measurement due 0.6 s from now
        bench.show_run(tmp_path / "runs" / "live")
        monitor, polls = bench.monitor, []
        real = monitor.poll_once
        monitor.poll_once = lambda: polls.append(1) or real()
        monitor._poller.interval = 0.01
        for _ in range(200):  # a loaded machine can hold the loop past a fixed 0.1 s
            await asyncio.sleep(0.01)
            if len(polls) >= 2:
                break
        seen = {"polled before close": len(polls)}
        bench.close()
        # Counted from the close: on a loaded machine the wait above can outlast the
        # debounce, and a measurement made before the close is not one after it.
        closed_at, measured_at = len(polls), len(measured)
        await asyncio.sleep(1.0)  # past the debounce and the start-up builds (0.5 s)
        seen["polls after close"] = len(polls) - closed_at
        seen["measured after close"] = len(measured) - measured_at
        seen["built"] = bench.built
        return seen

    with RunStore.create(tmp_path / "runs" / "live", {"strategy": "darts"}, environment={}) as s:
        s.set_status("running")
        seen = asyncio.run(session(s))
    assert seen["polled before close"] >= 2 and seen["polls after close"] == 0
    assert seen["measured after close"] == 0
    assert seen["built"] == ("picker", "builder", "monitor", "browser")  # the monitor: by show_run


def test_an_unknown_dataset_is_said_in_the_dataset_tab_and_the_default_shown(tmp_path):
    # In Jupyter the picker is built on the event loop, where a raise would reach only the
    # kernel's log; the tab says what is wrong and the rest of the workbench still works.
    bench = Workbench(runs_folder=tmp_path / "runs", dataset="breastmnst", live_costs=False)
    assert bench.picker.dropdown.value == "synthetic"
    message = html.unescape(bench.picker.message.value)
    assert "Unknown dataset 'breastmnst'" in message and "breastmnist" in message
    assert "Showing 'synthetic' instead." in message
    assert bench.launcher.dataset.name == "synthetic"


def test_the_launched_search_ending_while_another_run_is_shown_refreshes_the_runs_tab(
    tmp_path, fake_run, monkeypatch
):
    from nasbench.runs import RunStore
    from widgets import launcher as launcher_module

    class Exiting:
        pid, code = 2, None

        def poll(self):
            return self.code

    process = Exiting()
    monkeypatch.setattr(launcher_module, "start_process", lambda args, run_dir: process)
    bench = _workbench(tmp_path)
    bench.launcher.run_button.click()
    launched = bench.launcher.run_dir
    bench.browser.refresh()
    bench.browser.select.value = (str(fake_run),)
    bench.browser.open_button.click()  # the monitor shows another run while the search runs
    assert bench.browser.frame.set_index("run_dir").loc[launched, "status"] == "starting"
    config = {"dataset": {"name": "synthetic"}, "strategy": "darts"}
    with RunStore.create(launched, config, environment={}) as store:
        store.set_status("finished")
    process.code = 0
    bench.launcher.check_process()
    assert bench.monitor.run_dir == str(fake_run)
    assert bench.browser.frame.set_index("run_dir").loc[launched, "status"] == "finished"
    assert (f"{launched.rsplit('/', 1)[1]} · finished", launched) in bench.browser.select.options


def test_a_run_searched_again_or_deleted_in_its_folder_reaches_the_other_tabs(
    tmp_path, fake_run, snapshot_writer
):
    import shutil

    from nasbench.runs import RunStore

    def search_again(step: int) -> None:  # rm -rf, then a new search in the same folder
        shutil.rmtree(fake_run, ignore_errors=True)
        with RunStore.create(fake_run, {"strategy": "gdas"}, environment={}) as store:
            snapshot_writer(store, step, 2.0)
            store.set_status("finished")

    bench = _workbench(tmp_path)
    bench.browser.folder = fake_run.parent
    bench.browser.refresh()
    bench.browser.select.value = (str(fake_run),)
    bench.browser.open_button.click()  # the launcher's Resume now acts on it
    assert list(bench.explorer.steps) == [0, 1, 2] and not bench.launcher.resume_button.disabled
    search_again(step=5)
    assert bench.monitor.poll_once() == "finished"  # as before: the new run is still shown
    assert list(bench.explorer.steps) == [5] and bench.viewer.drawing_a.value == ""
    shutil.rmtree(fake_run)
    assert bench.monitor.poll_once() == "deleted"
    assert str(fake_run) not in bench.browser.run_dirs()
    assert str(fake_run) in bench.explorer.title.value and bench.explorer.message.value
    assert bench.explorer.heatmap_plot.layout.display == "none"
    assert bench.launcher.resume_button.disabled  # nothing left to resume
    search_again(step=7)
    assert bench.monitor.poll_once() == "finished" and list(bench.explorer.steps) == [7]


def test_autohas_runs_on_the_space_tab_s_space_without_the_cells_it_builds_itself(
    tmp_path, started
):
    # The Space tab always sends cells and channels; AutoHAS takes them from its own form.
    bench = _workbench(tmp_path)
    bench.builder.space_type.value = "nb201"
    bench.launcher.strategy.value = "autohas"
    assert not bench.launcher.run_button.disabled, bench.launcher.message.value
    skeleton = bench.launcher.build_config().space.get("skeleton", {})
    assert not {"n_cells", "channels"} & set(skeleton)
    bench.launcher.run_button.click()
    assert len(started) == 1
    bench.launcher.strategy.value = "random"  # a strategy that reads them gets them
    assert (
        bench.launcher.build_config().space["skeleton"]["n_cells"]
        == (bench.builder.space_config["skeleton"]["n_cells"])
    )


def _open_from_the_runs_tab(bench: Workbench, run_dir) -> None:
    bench.browser.folder = run_dir.parent
    bench.browser.refresh()
    bench.browser.select.value = (str(run_dir),)
    bench.browser.open_button.click()


def test_the_alphas_and_genotypes_tabs_follow_a_running_search_keeping_the_choices(
    tmp_path, snapshot_writer
):
    from nasbench.runs import RunStore
    from nasbench.spaces import parse_genotype
    from tests.widgets.conftest import GENOTYPE
    from widgets.workbench import TITLES

    bench = _workbench(tmp_path)
    genotype = parse_genotype(GENOTYPE).to_json()
    run_dir = tmp_path / "runs" / "live"
    config = {"dataset": {"name": "synthetic"}, "strategy": "darts"}
    with RunStore.create(run_dir, config, environment={}) as store:  # open: a live writer
        store.set_status("running")
        for step in range(3):
            snapshot_writer(store, step, float(step))
        store.log_genotype(0, 2, genotype, {"val_acc": 0.6})
        _open_from_the_runs_tab(bench, run_dir)
        assert bench.monitor.status == "running" and list(bench.explorer.steps) == [0, 1, 2]
        bench.selected_index = TITLES.index("Alphas")
        bench.explorer.cell_type.value = "reduce"  # what the person chose stays
        bench.explorer.slider.value = 1
        slider = bench.explorer.slider
        for step in (3, 4):
            snapshot_writer(store, step, float(step))
        store.log_genotype(1, 4, genotype, {"val_acc": 0.7})
        bench.monitor.poll_once()  # the Alphas tab is the one shown: it follows the read
        assert list(bench.explorer.steps) == [0, 1, 2, 3, 4]
        assert bench.explorer.cell_type.value == "reduce"
        assert bench.explorer.slider.value == 1 and bench.explorer.slider.max == 4
        assert bench.explorer.slider is slider  # grown in place: a drag is not cut short
        assert "(2/5)" in bench.explorer.step_label.value
        # The Genotypes tab was not shown: it catches up when opened, at the newest epoch.
        assert len(bench.viewer.source_a.epoch.options) == 1
        bench.selected_index = TITLES.index("Genotypes")
        assert len(bench.viewer.source_a.epoch.options) == 2
        assert bench.viewer.source_a.epoch.value == 1
        bench.viewer.source_a.epoch.value = 0  # an earlier epoch picked stays picked
        store.log_genotype(2, 6, genotype, {"val_acc": 0.8})
        bench.monitor.poll_once()
        assert len(bench.viewer.source_a.epoch.options) == 3
        assert bench.viewer.source_a.epoch.value == 0
        # A slider on the last snapshot follows to the new last.
        bench.selected_index = TITLES.index("Alphas")
        bench.explorer.slider.value = 4
        following = bench.explorer.slider
        snapshot_writer(store, 5, 5.0)
        bench.monitor.poll_once()
        assert bench.explorer.slider.value == 5 and "(6/6)" in bench.explorer.step_label.value
        # A new slider: a grown one's End key would stop where it was first drawn.
        assert bench.explorer.slider is not following and bench.explorer.slider.max == 5


def test_a_launch_that_failed_before_its_store_is_said_so_in_the_alphas_and_genotypes_tabs(
    tmp_path, fake_run
):
    from widgets.launcher import CONFIG_NAME

    bench = _workbench(tmp_path)
    bench.show_run(fake_run)
    failed = fake_run.parent / "failed_launch"  # what the workbench's own failed Run leaves
    failed.mkdir()
    (failed / CONFIG_NAME).write_text('{"strategy": "darts"}')
    reason = 'dataset "breastmnistt" is not in the registry; run nasbench datasets'
    (failed / "stderr.log").write_text(f"nasbench: error: {reason}\n")
    _open_from_the_runs_tab(bench, failed)
    assert bench.monitor.status == "failed"
    said = {
        "Alphas": html.unescape(bench.explorer.message.value),
        "Genotypes": html.unescape(bench.viewer.source_a.message.value),
    }
    for tab, has_none in (("Alphas", "alpha snapshots"), ("Genotypes", "genotype")):
        assert f"failed before it started, so it has no {has_none}: {reason}" in said[tab], tab
        assert "not a run folder" not in said[tab] and "nasbench search" not in said[tab], tab
    assert bench.explorer.heatmap_plot.layout.display == "none"  # nothing of fake-1 stays
    assert bench.viewer.drawing_a.value == ""


def test_opening_the_runs_tab_lists_runs_started_elsewhere(tmp_path, fake_run):
    import shutil

    from widgets.workbench import TITLES

    bench = _workbench(tmp_path)
    bench.browser.folder = fake_run.parent
    bench.browser.refresh()
    bench.selected_index = TITLES.index("Monitor")
    shutil.copytree(fake_run, fake_run.parent / "from-the-cli")  # a search run elsewhere
    assert str(fake_run.parent / "from-the-cli") not in bench.browser.run_dirs()
    bench.selected_index = TITLES.index("Runs")
    assert str(fake_run.parent / "from-the-cli") in bench.browser.run_dirs()


def test_the_alphas_tab_follows_a_search_started_with_run(tmp_path, monkeypatch, snapshot_writer):
    # Run, then watch the alphas: the launched run is the one shown, not the run opened
    # before it.
    import shutil

    from nasbench.runs import RunStore
    from widgets import launcher as launcher_module
    from widgets.workbench import TITLES

    class _Running:
        pid, returncode = 1, None

        def poll(self):
            return None

    started = []
    monkeypatch.setattr(
        launcher_module,
        "start_process",
        lambda args, run_dir: started.append(run_dir) or _Running(),
    )
    bench = _workbench(tmp_path)
    bench.launcher.run_button.click()
    (run_dir,) = started
    shutil.rmtree(run_dir)  # the search process makes its store
    config = {"dataset": {"name": "synthetic"}, "strategy": "darts"}
    with RunStore.create(run_dir, config, environment={}) as store:
        store.set_status("running")
        for step in range(3):
            snapshot_writer(store, step, float(step))
        bench.monitor.poll_once()
        bench.selected_index = TITLES.index("Alphas")
        assert str(run_dir) in bench.explorer.title.value
        assert list(bench.explorer.steps) == [0, 1, 2]
        snapshot_writer(store, 3, 3.0)
        bench.monitor.poll_once()
        assert list(bench.explorer.steps) == [0, 1, 2, 3]


def test_a_shown_tab_is_redrawn_only_when_its_own_rows_arrive(tmp_path, snapshot_writer):
    from nasbench.runs import RunStore
    from nasbench.spaces import parse_genotype
    from tests.widgets.conftest import GENOTYPE
    from widgets.workbench import TITLES

    bench = _workbench(tmp_path)
    genotype = parse_genotype(GENOTYPE).to_json()
    run_dir = tmp_path / "runs" / "live"
    config = {"dataset": {"name": "synthetic"}, "strategy": "darts"}
    with RunStore.create(run_dir, config, environment={}) as store:
        store.set_status("running")
        snapshot_writer(store, 0, 0.0)
        store.log_genotype(0, 0, genotype, {"val_acc": 0.6})
        _open_from_the_runs_tab(bench, run_dir)
        followed = []
        bench.explorer.follow = lambda run, **_: followed.append("alphas")
        bench.viewer.follow = lambda run: followed.append("genotypes")
        bench.selected_index = TITLES.index("Alphas")  # opening a tab follows the run once
        followed.clear()
        store.log_genotype(1, 1, genotype, {"val_acc": 0.7})  # no new snapshot
        bench.monitor.poll_once()
        assert followed == []
        snapshot_writer(store, 1, 1.0)
        bench.monitor.poll_once()
        assert followed == ["alphas"]
        # A candidate: the Alphas tab draws an AutoHAS run's hyperparameter policy from them.
        store.log_candidate(0, genotype, {"val_acc": 0.5}, {"params": 1})
        bench.monitor.poll_once()
        assert followed == ["alphas", "alphas"]
        bench.selected_index = TITLES.index("Genotypes")
        followed.clear()
        snapshot_writer(store, 2, 2.0)  # no new genotype
        bench.monitor.poll_once()
        assert followed == []
        store.log_genotype(2, 2, genotype, {"val_acc": 0.8})
        bench.monitor.poll_once()
        assert followed == ["genotypes"]
