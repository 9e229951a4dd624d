"""The launcher: the config it writes, the command it starts, Run disabled on bad input."""

from __future__ import annotations

import html
import json

from nasbench.config import SearchConfig
from widgets import launcher as launcher_module
from widgets.launcher import CONFIG_NAME, SearchLauncher, available_devices

TINY_SPACE = {"name": "darts", "n_nodes": 2, "skeleton": {"n_cells": 3, "channels": 4}}


def test_run_writes_the_chosen_config(tmp_path, started):
    launcher = SearchLauncher(tmp_path / "runs", dataset={"name": "synthetic", "size": 28},
                              space_config=TINY_SPACE)  # fmt: skip
    launcher.strategy.value = "gdas"
    launcher.form.controls["tau_max"].value = 5.0
    launcher.epochs.value = 3
    launcher.max_steps.value = 2
    launcher.limit.value = 64
    launcher.batch_size.value = 8
    launcher.seed.value = 7
    launcher.device.value = "cpu"
    launcher.run_name.value = "mine"
    launcher.run_button.click()
    ((args, run_dir),) = started
    assert run_dir.parent == tmp_path / "runs" and run_dir.name.startswith("mine-")
    assert args == ["search", "--config", str(run_dir / CONFIG_NAME), "--run-dir", str(run_dir)]
    written = json.loads((run_dir / CONFIG_NAME).read_text())
    config = SearchConfig.from_dict(written).validate()
    assert config.strategy == "gdas" and config.strategy_config["tau_max"] == 5.0
    assert config.space == TINY_SPACE
    assert (config.dataset.name, config.dataset.limit, config.dataset.batch_size) == (
        "synthetic", 64, 8,
    )  # fmt: skip
    assert (config.epochs, config.max_steps_per_epoch, config.seed, config.device) == (
        3, 2, 7, "cpu",
    )  # fmt: skip
    assert launcher.run_dir == str(run_dir) and launcher.launches == 1


def test_a_runs_folder_under_tilde_is_in_the_home_folder(home_and_work, started):
    # Python does not expand "~": the runs landed in a folder named "~" in the current one.
    home, work = home_and_work
    launcher = SearchLauncher("~/runs", space_config=TINY_SPACE)
    launcher.run_button.click()
    ((args, run_dir),) = started
    assert run_dir.parent == home / "runs" and (run_dir / CONFIG_NAME).is_file()
    assert args[-2:] == ["--run-dir", str(run_dir)]
    assert list(work.iterdir()) == []


def test_a_differentiable_search_takes_a_wall_time_budget(tmp_path, started):
    launcher = SearchLauncher(tmp_path / "runs", dataset={"name": "synthetic", "size": 28},
                              space_config=TINY_SPACE)  # fmt: skip
    launcher.strategy.value = "darts"
    assert launcher.max_seconds.layout.display != "none"
    assert launcher.discrete_budget.layout.display == "none"
    launcher.max_seconds.value = 600.0
    launcher.run_button.click()
    ((_, run_dir),) = started
    written = json.loads((run_dir / CONFIG_NAME).read_text())
    assert SearchConfig.from_dict(written).validate().max_seconds == 600.0


def test_invalid_space_disables_run(tmp_path, started):
    launcher = SearchLauncher(tmp_path / "runs")
    launcher.set_space({}, valid=False, error="choose at least one op from the palette.")
    assert launcher.run_button.disabled
    assert "at least one op" in launcher.message.value
    assert launcher.run() is None and started == []
    launcher.set_space({"name": "nb201", "ops": "nb201"})
    assert launcher.run_button.disabled and "has no supernet" in launcher.message.value
    launcher.set_space(TINY_SPACE)
    assert not launcher.run_button.disabled and launcher.message.value == ""


def test_bad_value_shows_the_config_error(tmp_path, started):
    launcher = SearchLauncher(tmp_path / "runs", dataset={"name": "synthetic", "size": 13})
    assert launcher.run() is None and started == []
    assert "sizes" in launcher.message.value


def test_config_errors_name_the_forms_labels_not_config_keys(tmp_path, started):
    launcher = SearchLauncher(tmp_path / "runs", space_config={"name": "nb201"})
    launcher.strategy.value = "random"
    launcher.max_evaluations.value = 0  # and max seconds 0: no budget at all
    assert launcher.run() is None and started == []
    text = html.unescape(launcher.message.value)
    assert "needs 'max evaluations' or 'max seconds'" in text and "max_seconds" not in text
    launcher.max_evaluations.value = 5
    launcher.max_seconds.value = float("nan")  # a script can set it; the box shows it
    assert launcher.run() is None
    text = html.unescape(launcher.message.value)
    assert "'max seconds' must be a number from 0 to 1,000,000,000, not nan." in text
    assert "config" not in text and "null" not in text
    launcher.max_seconds.value = 0.0
    launcher.set_space(TINY_SPACE)
    launcher.strategy.value = "darts"
    launcher.form.controls["arch_lr"].value = 0.0
    assert launcher.run() is None and started == []
    text = html.unescape(launcher.message.value)
    assert "'arch_lr' must be > 0.0, got 0.0." in text and "DartsConfig" not in text


def test_config_words_inside_a_path_or_a_quoted_name_are_left_as_they_are(tmp_path, started):
    launcher = SearchLauncher(tmp_path / "runs")
    names = ("data/max_seconds/epochs", "a dataset.limit b", "my max_seconds", "my max_seconds run")
    for name in names:
        launcher.set_dataset(str(tmp_path / name))
        assert launcher.run() is None
        assert f"Unknown dataset '{tmp_path / name}'" in html.unescape(launcher.message.value)
    launcher.set_dataset("synthetic")
    launcher.strategy.value = "metanas"
    launcher.form.controls["n_way"].value = 5  # past the synthetic set's 2 classes
    text = html.unescape(launcher.message.value)
    assert "strategy_config" not in text and "'meta_test_dataset'" in text


def test_why_run_is_disabled_shows_beside_the_strategy_in_the_forms_words(tmp_path, started):
    # A long strategy form pushes the message under Run below the fold: the reason is
    # shown under the strategy dropdown too, with the fix as the form offers it.
    launcher = SearchLauncher(tmp_path / "runs", space_config=TINY_SPACE)
    children = list(launcher.children)
    assert children.index(launcher.blocker_note) == children.index(launcher.strategy) + 1
    assert launcher.blocker_note.value == ""
    launcher.strategy.value = "dints"
    note = html.unescape(launcher.blocker_note.value)
    assert launcher.run_button.disabled and "Run is disabled: strategy 'dints'" in note
    assert note.endswith("searches the dints space, not 'darts'; pick the 'dints' space.</div>")
    assert 'space["name"]' not in html.unescape(launcher.message.value)
    launcher.strategy.value = "metanas"  # the synthetic set has too few classes
    note = html.unescape(launcher.blocker_note.value)
    assert "name another set in 'meta_test_dataset'." in note and "strategy_config" not in note
    launcher.strategy.value = "darts"
    assert launcher.blocker_note.value == "" and not launcher.run_button.disabled


def test_devices_and_strategies():
    import torch

    assert available_devices()[:2] == ["auto", "cpu"]
    assert ("cuda" in available_devices()) == torch.cuda.is_available()
    launcher = SearchLauncher()
    assert {"darts", "gdas", "pcdarts", "proxyless"} <= set(launcher.strategy.options)
    launcher.strategy.value = "pcdarts"
    assert "k" in launcher.form.controls


def test_a_discrete_strategy_shows_and_writes_its_evaluator_and_budget(tmp_path, started):
    launcher = SearchLauncher(tmp_path / "runs", space_config={"name": "nb201"})
    assert launcher.discrete_budget.layout.display == "none"  # darts: epochs and steps
    launcher.strategy.value = "evolution"
    assert launcher.bilevel_budget.layout.display == "none"
    assert launcher.discrete_budget.layout.display is None
    assert {"nsga2", "hill_climbing", "random", "bayesopt"} <= set(launcher.strategy.options)
    launcher.form.controls["population_size"].value = 8
    launcher.evaluator.value = "table"
    assert "metric" in launcher.evaluator_form.controls  # the form follows the evaluator
    launcher.max_evaluations.value = 40
    launcher.max_seconds.value = 90.0
    assert launcher.workers.layout.display == "none"
    launcher.executor.value = "process"
    assert launcher.workers.layout.display is None
    launcher.workers.value = 3
    launcher.run_button.click()
    ((_, run_dir),) = started
    config = SearchConfig.load(run_dir / CONFIG_NAME).validate()
    assert (config.strategy, config.evaluator) == ("evolution", "table")
    assert config.strategy_config["population_size"] == 8
    assert (config.max_evaluations, config.max_seconds) == (40, 90.0)
    assert (config.executor, config.executor_config) == ("process", {"workers": 3})


def test_a_budget_too_small_for_the_strategy_is_an_inline_error(tmp_path, started):
    launcher = SearchLauncher(tmp_path / "runs", space_config={"name": "nb201"})
    launcher.strategy.value = "evolution"
    launcher.evaluator.value = "table"
    launcher.form.controls["population_size"].value = 50
    launcher.max_evaluations.value = 10
    assert launcher.run() is None and started == []
    assert "population_size" in launcher.message.value


def test_segmentation_spaces_run_from_the_launcher(tmp_path, started):
    launcher = SearchLauncher(tmp_path / "runs", dataset={"name": "synthetic-seg", "size": 64},
                              space_config={"name": "nasunet"})  # fmt: skip
    assert "dints" in launcher.strategy.options
    assert not launcher.run_button.disabled, launcher.message.value
    launcher.strategy.value = "pcdarts"  # partial channels cannot up-sample
    assert launcher.run_button.disabled and "is searched by darts" in launcher.message.value
    launcher.strategy.value = "darts"
    launcher.run_button.click()
    ((_, run_dir),) = started
    config = SearchConfig.load(run_dir / CONFIG_NAME)
    assert (config.space["name"], config.dataset.name) == ("nasunet", "synthetic-seg")


def test_run_comes_back_however_the_process_ends(tmp_path, monkeypatch):
    import subprocess
    import sys

    from nasbench.runs import RunStore

    def start_exiting(code, with_store):
        def start(args, run_dir):
            if with_store:  # the search got as far as its run store
                RunStore.create(run_dir, {"strategy": "random"}, environment={}).close()
            return subprocess.Popen([sys.executable, "-c", f"import sys; sys.exit({code})"])

        return start

    launcher = SearchLauncher(tmp_path / "runs")
    launcher.set_space(TINY_SPACE)
    # Finished, failed (killed from outside reads the same), and failed before its store.
    for code, with_store in ((0, True), (3, True), (2, False)):
        monkeypatch.setattr(launcher_module, "start_process", start_exiting(code, with_store))
        assert launcher.run() is not None
        assert launcher.run_button.disabled and not launcher.stop_button.disabled
        launcher.process.wait(timeout=30)
        assert launcher.check_process() is False
        assert not launcher.run_button.disabled and launcher.stop_button.disabled
        # Resume is offered only where there is a store to continue from.
        assert launcher.resume_button.disabled is not with_store
        assert (f"code {code}" in launcher.message.value) == (code != 0)


def test_stop_pressed_while_the_search_loads_is_written_once_its_store_opens(tmp_path, monkeypatch):
    from nasbench.runs import RunStore

    class Loading:  # a search process still importing torch: no run store yet
        pid, returncode = 4321, None

        def poll(self):
            return self.returncode

    process = Loading()
    monkeypatch.setattr(launcher_module, "start_process", lambda args, run_dir: process)
    launcher = SearchLauncher(tmp_path / "runs")
    launcher.set_space(TINY_SPACE)
    run_dir = launcher.run()
    assert launcher.stop() is False  # nothing to write the request to yet
    assert "stops at its first step" in launcher.message.value
    assert launcher.check_process() is True  # still loading: still remembered
    store = RunStore.create(run_dir, {"strategy": "darts"}, environment={})
    assert not store.stop_requested()
    assert launcher.check_process() is True
    assert store.stop_requested() and "stop requested for" in launcher.message.value
    store.close()
    process.returncode = 0
    assert launcher.check_process() is False and launcher._stop_pending is False


def test_the_evaluator_form_leaves_size_limit_and_device_to_the_launcher(tmp_path, started):
    launcher = SearchLauncher(tmp_path / "runs", dataset={"name": "synthetic", "size": 64},
                              space_config={"name": "nb201"})  # fmt: skip
    launcher.strategy.value = "random"
    for evaluator in ("train", "weight_sharing"):
        launcher.evaluator.value = evaluator
        assert not {"size", "limit", "device"} & set(launcher.evaluator_form.controls)
    launcher.evaluator.value = "train"
    launcher.limit.value = 48
    launcher.device.value = "cpu"
    settings = launcher.build_config().evaluator_settings()
    assert (settings["size"], settings["limit"], settings["device"]) == (64, 48, "cpu")


def test_a_search_of_fixed_length_hides_the_time_budget_and_keeps_none(tmp_path, started):
    launcher = SearchLauncher(tmp_path / "runs", dataset="synthetic-multiclass",
                              space_config=TINY_SPACE)  # fmt: skip
    launcher.max_seconds.value = 60.0
    launcher.strategy.value = "metanas"
    assert launcher.max_seconds.layout.display == "none"
    assert launcher.build_config().max_seconds is None
    launcher.strategy.value = "darts"
    # The budget typed before is still there (0 would mean no limit).
    assert launcher.max_seconds.layout.display is None and launcher.max_seconds.value == 60.0
    assert launcher.build_config().max_seconds == 60.0


def test_switching_strategy_keeps_the_settings_the_forms_share(tmp_path, started):
    launcher = SearchLauncher(tmp_path / "runs", space_config=TINY_SPACE)
    launcher.form.controls["arch_lr"].value = 0.001
    launcher.strategy.value = "metanas"  # no arch_lr of its own
    launcher.strategy.value = "darts"
    assert launcher.form.controls["arch_lr"].value == 0.001
    launcher.strategy.value = "gdas"
    assert launcher.form.controls["arch_lr"].value == 0.001
    assert launcher.build_config().strategy_config["arch_lr"] == 0.001
    # Defaults are not carried: each strategy keeps its own.
    from nasbench.strategies import get_strategy

    launcher.form.controls["arch_lr"].value = get_strategy("gdas").config_cls().arch_lr
    launcher.strategy.value = "darts"
    assert launcher.form.controls["arch_lr"].value == get_strategy("darts").config_cls().arch_lr


def test_a_typed_setting_survives_a_strategy_whose_untouched_defaults_are_lists(tmp_path, started):
    launcher = SearchLauncher(tmp_path / "runs", space_config={"name": "nb201"})
    launcher.strategy.value = "reinforce"
    launcher.form.controls["lr"].value = 0.1
    launcher.strategy.value = "autohas"  # its own lr is a list of choices, left untouched
    launcher.strategy.value = "reinforce"
    assert launcher.form.controls["lr"].value == 0.1


def test_meta_and_multi_agent_searches_hide_the_batch_size_and_steps_they_never_read(
    tmp_path, started
):
    launcher = SearchLauncher(tmp_path / "runs", dataset="synthetic-multiclass",
                              space_config=TINY_SPACE)  # fmt: skip
    launcher.batch_size.value, launcher.max_steps.value = 8, 5
    launcher.strategy.value = "metanas"
    assert launcher.batch_size.layout.display == "none"
    assert launcher.max_steps.layout.display == "none"
    assert launcher.epochs.layout.display is None
    assert not launcher.run_button.disabled, launcher.message.value
    config = launcher.build_config()
    assert (config.dataset.batch_size, config.max_steps_per_epoch) == (16, None)
    launcher.strategy.value = "darts"  # the values typed come back with the controls
    assert launcher.batch_size.layout.display is None and launcher.batch_size.value == 8
    assert launcher.build_config().dataset.batch_size == 8

    launcher.set_dataset({"name": "synthetic-landmarks3d", "size": 16})
    launcher.strategy.value = "marl-gdas"
    assert launcher.batch_size.layout.display == "none"
    assert launcher.build_config().dataset.batch_size == 16


def test_a_run_name_past_the_length_limit_is_refused_naming_the_limit(tmp_path, started):
    launcher = SearchLauncher(tmp_path / "runs", space_config=TINY_SPACE)
    launcher.run_name.value = "x" * 101
    assert launcher.run() is None and started == []
    assert "101 characters long; shorten it to at most 100" in launcher.message.value
    assert "ASCII" not in launcher.message.value
    launcher.run_name.value = "x" * 100
    assert launcher.run() is not None


def test_run_pressed_while_the_search_stops_says_it_is_stopping(tmp_path, monkeypatch):
    class Stopping:  # a search that has not exited yet
        pid, returncode = 4321, None

        def poll(self):
            return self.returncode

    monkeypatch.setattr(launcher_module, "start_process", lambda args, run_dir: Stopping())
    launcher = SearchLauncher(tmp_path / "runs", space_config=TINY_SPACE)
    launcher.run()
    assert launcher.run() is None and "already running; stop it first" in launcher.message.value
    launcher.stop()
    assert launcher.run() is None
    assert "still stopping" in launcher.message.value
    assert "stop it first" not in launcher.message.value


def test_a_run_that_cannot_start_leaves_no_folder_and_gives_advice_that_fits(tmp_path, monkeypatch):
    import errno

    from nasbench.config import SearchConfig

    runs = tmp_path / "runs"
    runs.mkdir()
    launcher = SearchLauncher(runs, space_config=TINY_SPACE)

    def out_of_memory(*args, **kwargs):
        raise OSError(errno.ENOMEM, "Cannot allocate memory")

    monkeypatch.setattr(launcher_module.subprocess, "Popen", out_of_memory)
    assert launcher.run() is None
    assert "Cannot allocate memory" in launcher.message.value
    assert "runs_folder=" not in launcher.message.value
    assert list(runs.iterdir()) == []  # no folder listed as "starting" forever

    def disk_full(self, path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(SearchConfig, "save", disk_full)
    for _ in range(2):
        assert launcher.run() is None
    assert "No space left on device" in launcher.message.value
    assert list(runs.iterdir()) == []

    def no_rights(self, path):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(SearchConfig, "save", no_rights)
    assert launcher.run() is None
    assert "pass runs_folder= a folder you can write to" in launcher.message.value
    assert list(runs.iterdir()) == []


def test_a_dataset_without_classes_disables_run(tmp_path, started):
    launcher = SearchLauncher(tmp_path / "runs", dataset="folder", space_config=TINY_SPACE)
    assert launcher.run_button.disabled
    assert "has no classes" in launcher.message.value and "folder:&lt;path&gt;" in (
        launcher.message.value
    )
    launcher.run_button.click()
    assert started == [] and not (tmp_path / "runs").exists()
    launcher.set_dataset("synthetic-recon")  # none by design: not refused for that
    assert "has no classes" not in launcher.message.value


def test_a_discrete_search_hides_the_batch_size_and_writes_no_supernet_settings(tmp_path, started):
    launcher = SearchLauncher(tmp_path / "runs", space_config={"name": "nb201"})
    launcher.batch_size.value, launcher.epochs.value = 8, 5
    launcher.strategy.value = "random"
    assert launcher.batch_size.layout.display == "none"
    config = launcher.build_config()
    assert (config.dataset.batch_size, config.epochs) == (16, SearchConfig().epochs)


def test_a_closed_launcher_stops_watching_and_frees_its_widgets(tmp_path):
    launcher = SearchLauncher(runs_folder=tmp_path)
    launcher._process_watch.start = lambda: True  # as if a search process were watched
    stopped = []
    launcher._process_watch.stop = lambda: stopped.append(1)
    launcher.close()
    launcher.close()  # idempotent
    assert stopped == [1] and launcher.comm is None
    assert all(w.comm is None for w in launcher.children)


def test_the_summary_shows_user_named_datasets_and_spaces_as_text(tmp_path):
    import numpy as np
    from PIL import Image

    from nasbench.data.folder import register_folder

    folder = tmp_path / "<img src=x onerror=alert(1)>"
    for label in ("a", "b"):
        (folder / label).mkdir(parents=True)
        for k in range(3):
            Image.fromarray(np.full((16, 16), 60 * k, np.uint8)).save(folder / label / f"{k}.png")
    info = register_folder(folder)
    space = {**TINY_SPACE, "name": "<b>mine</b>", "ops": ["<i>op</i>"]}
    launcher = SearchLauncher(tmp_path / "runs", dataset={"name": info.name, "size": 28},
                              space_config=space)  # fmt: skip
    summary = launcher.summary.value
    assert "<img" not in summary and "&lt;img src=x onerror=alert(1)&gt; (28px)" in summary
    assert "&lt;b&gt;mine&lt;/b&gt;" in summary and "&lt;i&gt;op&lt;/i&gt;" in summary
    assert summary.startswith("<b>dataset</b>: ")  # the labels stay markup
    launcher.close()


def test_a_failed_search_names_its_own_folder_whatever_run_is_opened_since(tmp_path, monkeypatch):
    import subprocess
    import sys

    def start_failing(args, run_dir):
        return subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(2)"])

    monkeypatch.setattr(launcher_module, "start_process", start_failing)
    launcher = SearchLauncher(tmp_path / "runs", space_config=TINY_SPACE)
    launched = launcher.run()
    launcher.process.wait(timeout=30)
    # The workbench's Runs tab opened another run meanwhile: it is adopted for Resume.
    assert launcher.adopt(tmp_path / "runs" / "other")
    assert launcher.check_process() is False
    said = launcher.message.value
    assert "Monitor" not in said  # which may show the other run
    assert (
        f"the search process of {launched} exited with code 2; read why in "
        f"{launched / 'stderr.log'}, or open the run from the Runs tab."
    ) in said


def test_start_process_records_which_process_runs_the_search(tmp_path):
    from widgets.launcher import PROCESS_NAME, dead_search_process

    process = launcher_module.start_process(["--help"], tmp_path)
    try:
        record = json.loads((tmp_path / PROCESS_NAME).read_text())
        assert record["pid"] == process.pid and record["started"]
        assert dead_search_process(tmp_path) is None  # it runs
    finally:
        process.kill()
        process.wait()
    assert dead_search_process(tmp_path) == process.pid


def test_resume_of_a_run_a_cli_resume_or_retrain_announced_starts_nothing(
    tmp_path, fake_run, started
):
    """A `nasbench resume` or `retrain` loading torch has announced the run but holds no
    writer lock yet: Resume refuses in one line, naming it, instead of a second process."""
    from nasbench.runs import RunStore
    from nasbench.runs.store import announce_writer, withdraw_writer

    with RunStore.open(fake_run) as store:
        store.set_status("stopped")
    launcher = SearchLauncher(tmp_path / "runs", space_config=TINY_SPACE)
    for command in ("resume", "retrain"):
        try:
            assert announce_writer(fake_run, command) is not None
            assert not launcher.resume(fake_run)
            said = launcher.message.value
            assert f"cannot resume: a `nasbench {command}` is starting on {fake_run}" in said
            assert "wait for it" in said and started == []
        finally:
            withdraw_writer()
    assert launcher.resume(fake_run) and len(started) == 1  # once it is gone


def test_a_strategy_that_scores_its_own_candidates_hides_the_evaluator_and_writes_none(
    tmp_path, started
):
    launcher = SearchLauncher(tmp_path / "runs", space_config={"name": "nb201"})
    launcher.strategy.value = "random"
    launcher.evaluator.value = "proxy"
    assert launcher.evaluator.layout.display is None
    launcher.strategy.value = "autohas"  # trains its supernet's candidates itself
    assert launcher.discrete_budget.layout.display is None  # its budget stays
    assert launcher.evaluator.layout.display == "none"
    assert launcher.evaluator_form_box.layout.display == "none"
    launcher.max_evaluations.value = 4
    config = launcher.build_config()  # validated: an evaluator would be refused
    assert (config.evaluator, config.evaluator_config) == ("train", {})
    launcher.strategy.value = "random"
    assert launcher.evaluator.layout.display is None
    assert launcher.build_config().evaluator == "proxy"


def test_a_discrete_search_of_reconstruction_data_launches_with_the_evaluator_form_as_is(
    tmp_path, started
):
    launcher = SearchLauncher(tmp_path / "runs", dataset={"name": "synthetic-recon", "size": 28},
                              space_config={"name": "unrolled"})  # fmt: skip
    launcher.strategy.value = "random"
    launcher.max_evaluations.value = 2
    config = launcher.build_config()  # the form's default metric is the task's own score
    assert config.evaluator == "train" and config.evaluator_config["metric"] == "val_auc"
    launcher.evaluator_form.controls["metric"].value = "val_acc"
    assert launcher.run() is None and started == []
    assert "is not reported for reconstruction data" in launcher.message.value


def test_a_search_that_ends_with_the_clis_one_line_error_shows_it_in_the_form(
    tmp_path, monkeypatch
):
    import subprocess
    import sys

    reason = "chestmnist.npz is not in /data and download=False (--no-download)."

    def start_refused(args, run_dir):
        (run_dir / "stderr.log").write_text(f"loading...\nnasbench: error: {reason}\n")
        return subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(2)"])

    monkeypatch.setattr(launcher_module, "start_process", start_refused)
    launcher = SearchLauncher(tmp_path / "runs", space_config=TINY_SPACE)
    launched = launcher.run()
    launcher.process.wait(timeout=30)
    assert launcher.check_process() is False
    # Not only "read why in stderr.log": the reason a person acts on, in the form.
    assert f"the search process of {launched} exited with code 2: {reason}" in (
        html.unescape(launcher.message.value)
    )
    launcher.close()


def test_a_picked_folder_deleted_since_blocks_run_without_making_a_run_folder(tmp_path, started):
    import shutil

    from tests.conftest import two_class_png_folder

    folder = two_class_png_folder(tmp_path / "scans", per_class=6)
    launcher = SearchLauncher(tmp_path / "runs", dataset=f"folder:{folder}",
                              space_config=TINY_SPACE)  # fmt: skip
    assert not launcher.run_button.disabled, launcher.message.value
    shutil.rmtree(folder)  # moved or deleted after it was picked: no edit in the form
    assert launcher.run() is None and started == []
    said = f"folder {folder} does not exist; give the path of your image folder."
    assert said in html.unescape(launcher.message.value)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
    launcher.seed.value = 1  # the next edit disables Run, naming the folder
    launcher._recheck.flush()
    assert launcher.run_button.disabled and said in html.unescape(launcher.message.value)


def test_a_run_name_typed_wrong_disables_run_as_it_is_typed(tmp_path, started):
    launcher = SearchLauncher(tmp_path / "runs", space_config=TINY_SPACE)
    launcher.run_name.value = "breast tiny run"
    launcher._recheck.flush()
    assert launcher.run_button.disabled
    assert "run name 'breast tiny run' may hold only ASCII letters" in html.unescape(
        launcher.message.value
    )
    launcher.run_name.value = "breast-tiny-run"
    launcher._recheck.flush()
    assert not launcher.run_button.disabled and launcher.message.value == ""
