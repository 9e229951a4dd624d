"""The run browser: table and comparison."""

from __future__ import annotations

from widgets.run_browser import RunBrowser


def test_table_lists_runs_and_compare_overlays_curves(fake_run, tmp_path):
    browser = RunBrowser(fake_run.parent)
    assert "fake-1" in browser.table.value and "finished" in browser.table.value
    assert "val_acc 0.700" in browser.table.value
    # The newest run is selected and drawn from the start: no empty axes.
    assert browser.select.value == (str(fake_run),)
    assert [t.name for t in browser.figure.data] == ["fake-1"]
    browser.compare_button.click()
    assert [t.name for t in browser.figure.data] == ["fake-1"]
    assert list(browser.figure.data[0].y) == [0.6, 0.7]
    browser.metric.value = "val_loss"
    assert len(browser.figure.data) == 0 and "no val_loss" in browser.message.value
    browser.open_button.click()
    assert browser.opened == str(fake_run)


def test_missing_folder_is_an_empty_table(tmp_path):
    browser = RunBrowser(tmp_path / "nothing")
    assert "no runs" in browser.table.value and browser.select.options == ()
