"""The launcher over a sequence of edits: Run follows the form and the budget, a config the
search would refuse is refused before its folder exists, and messages that no longer hold
are cleared."""

from __future__ import annotations

import pytest

from nasbench.config import SearchConfig
from nasbench.errors import ConfigError
from widgets.launcher import CONFIG_NAME, STDERR_NAME, SearchLauncher
from widgets.run_browser import RunBrowser

NB201 = {"name": "nb201"}
CELL = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|"


def test_run_follows_an_edit_of_the_strategy_form(tmp_path, started):
    launcher = SearchLauncher(tmp_path / "runs")
    launcher.strategy.value = "metanas"
    assert launcher.run_button.disabled and "meta_test_dataset" in launcher.message.value
    # What the message asks for, done in the form: Run comes back and the error goes.
    launcher.form.controls["meta_test_dataset"].value = "synthetic-multiclass"
    assert not launcher.run_button.disabled and launcher.message.value == ""
    launcher.form.controls["meta_test_dataset"].value = "synthetic"  # the search's own set
    assert launcher.run_button.disabled and "overlap" in launcher.message.value
    assert launcher.run() is None and started == []


def test_run_follows_an_edit_of_the_budget_and_keeps_other_messages(tmp_path, started):
    launcher = SearchLauncher(tmp_path / "runs", space_config=NB201)
    launcher.strategy.value = "evolution"
    launcher.evaluator.value = "table"
    launcher.form.controls["population_size"].value = 50
    launcher.max_evaluations.value = 10
    assert launcher.run_button.disabled and "population_size 50" in launcher.message.value
    launcher.max_evaluations.value = 200
    assert not launcher.run_button.disabled and launcher.message.value == ""
    assert launcher.run() is not None
    shown = launcher.message.value
    assert "started" in shown
    launcher.seed.value = 3  # an edit that leaves the config valid keeps what was said
    assert launcher.message.value == shown


def test_an_autohas_architecture_that_is_no_cell_is_refused_before_a_folder(tmp_path, started):
    runs = tmp_path / "runs"
    launcher = SearchLauncher(runs, space_config=NB201)
    launcher.strategy.value = "autohas"
    launcher.max_evaluations.value = 2
    for text, said in (("garbage", "cannot read 'garbage'"), ("-1", "got -1")):
        launcher.form.controls["architecture"].value = text
        assert launcher.run_button.disabled
        assert "&#x27;architecture&#x27;" in launcher.message.value  # the form's label
        assert said in launcher.message.value.replace("&#x27;", "'")
        assert launcher.run() is None
    assert started == [] and not runs.exists()
    launcher.form.controls["architecture"].value = CELL
    assert not launcher.run_button.disabled
    # The search's own check, before it builds its data: the CLI refuses it as early.
    config = SearchConfig(strategy="autohas", space=NB201, max_evaluations=2,
                          strategy_config={"architecture": "garbage"})  # fmt: skip
    with pytest.raises(ConfigError, match="architecture: cannot read 'garbage'"):
        config.validate()


def test_a_search_that_failed_before_its_store_is_listed_failed_and_not_resumable(
    tmp_path, fake_run
):
    runs = fake_run.parent
    failed = runs / "autohas-1"
    failed.mkdir()
    SearchConfig(strategy="autohas", space=NB201, max_evaluations=2).save(failed / CONFIG_NAME)
    (failed / STDERR_NAME).write_text("loading\nnasbench: error: cannot read 'x' as a genotype.\n")
    browser = RunBrowser(runs)
    row = browser.frame.set_index("name").loc["autohas-1"]
    assert (row["status"], row["strategy"]) == ("failed", "autohas")
    assert row["message"] == "cannot read 'x' as a genotype."
    assert "failed: cannot read" in browser.table.value.replace("&#x27;", "'")
    assert set(browser.frame["name"]) == {"autohas-1", "fake-1"}
    launcher = SearchLauncher(tmp_path / "other")
    assert launcher.adopt(failed) and launcher.resume_button.disabled
    assert launcher.adopt(fake_run) and not launcher.resume_button.disabled


def test_a_resume_refusal_is_cleared_when_the_writer_s_run_ends(tmp_path, started):
    from nasbench.runs import RunStore

    run_dir = tmp_path / "runs" / "live-1"
    store = RunStore.create(run_dir, {"strategy": "darts"}, environment={})
    store.set_status("running")
    launcher = SearchLauncher(tmp_path / "runs")
    launcher.adopt(run_dir)
    assert launcher.resume() is False
    assert "another live process" in launcher.message.value and started == []
    store.set_status("finished")
    store.close()
    launcher.check_process()  # the workbench's call when the run it shows ends
    assert launcher.message.value == "" and not launcher.run_button.disabled
