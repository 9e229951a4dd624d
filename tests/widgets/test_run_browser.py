"""The run browser: table and comparison."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

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
    assert "does not exist (a search creates it)" in browser.table.value
    (tmp_path / "a-file").write_text("x")
    assert "is a file, not a folder of runs" in RunBrowser(tmp_path / "a-file").table.value


def test_a_run_folder_opened_as_the_runs_folder_points_to_its_parent(fake_run):
    browser = RunBrowser(fake_run)
    assert "is one run, not a folder of runs" in browser.table.value
    assert f"open the folder that holds it ({fake_run.parent})" in browser.table.value
    assert browser.select.options == ()


def test_a_discrete_run_is_compared_by_its_candidates(autohas_run, fake_run):
    from nasbench.runs import RunStore

    with RunStore.open(autohas_run) as store:  # a candidate scored with val_acc too
        store.log_candidate(9, "{}", {"score": 0.9, "val_acc": 0.8}, {"wall_s": 0.1})
    browser = RunBrowser(autohas_run.parent)
    browser.select.value = (str(autohas_run),)
    browser.metric.value = "val_auc"
    browser.metric.value = "val_acc"
    (trace,) = browser.figure.data
    assert trace.name == "autohas-1 (per candidate)" and list(trace.y)[-1] == 0.8
    assert browser.figure.layout.xaxis.title.text == "evaluation"


def test_the_selection_follows_the_newest_run_until_a_person_picks(fake_run):
    import shutil
    import time

    from nasbench.runs import RunStore

    browser = RunBrowser(fake_run.parent)
    assert browser.select.value == (str(fake_run),)
    time.sleep(1.1)  # a later creation time: the new run is listed first
    newer = fake_run.parent / "newer"
    with RunStore.create(newer, {"strategy": "gdas"}, environment={}) as store:
        store.set_status("finished")
    browser.refresh()
    assert browser.select.value == (str(newer),)  # refresh's own pick follows the newest
    browser.select.value = (str(fake_run),)  # a person's pick is kept
    newest = fake_run.parent / "newest"
    time.sleep(1.1)
    with RunStore.create(newest, {"strategy": "gdas"}, environment={}) as store:
        store.set_status("finished")
    browser.refresh()
    assert browser.select.value == (str(fake_run),)
    shutil.rmtree(fake_run)  # the person's pick is gone: back to following the newest
    browser.refresh()
    assert browser.select.value == (str(newest),)


def test_an_unreadable_run_shows_dashes_and_its_reason(fake_run):
    bad = fake_run.parent / "bad"
    bad.mkdir()
    (bad / "run.sqlite").write_bytes(b"not a database at all" * 10)
    browser = RunBrowser(fake_run.parent)
    row = next(r for r in browser.table.value.split("<tr>") if r.startswith("<td") and "bad" in r)
    assert "nan" not in row and "unreadable: " in row


def make_runs(folder, count: int, steps: int = 3) -> None:
    from nasbench.runs import RunStore

    for k in range(count):
        with RunStore.create(folder / f"run-{k}", {"strategy": "darts"}, environment={}) as store:
            with store.batch():
                for step in range(steps):
                    store.log_metrics(step, 0, "val", {"val_acc": step / steps, "val_loss": 1.0})
            store.set_status("finished")


def test_picking_runs_one_at_a_time_loads_each_run_once(tmp_path, monkeypatch):
    import nasbench.runs
    from nasbench.runs import RunStore

    make_runs(tmp_path, 3)
    loads = []
    real = nasbench.runs.load
    monkeypatch.setattr(nasbench.runs, "load", lambda d: loads.append(str(d)) or real(d))
    browser = RunBrowser(tmp_path)
    dirs = browser.run_dirs()
    browser.select.value = ()
    loads.clear()
    for k in range(1, 4):  # as ctrl-clicks pick them
        browser.select.value = tuple(dirs[:k])
    browser.metric.value = "val_loss"
    # One load per run picked, not one per selected run on every change (1+2+3+3).
    assert sorted(loads) == sorted(dirs)
    assert [t.name for t in browser.figure.data] == [Path(d).name for d in dirs]
    # A running search wrote a row: that run alone is read again, and drawn with it.
    with RunStore.open(dirs[1]) as store:
        store.log_metrics(9, 1, "val", {"val_loss": 0.5})
    loads.clear()
    browser.compare()
    assert loads == [dirs[1]]
    assert list(browser.figure.data[1].y) == [1.0, 1.0, 1.0, 0.5]


def test_a_long_curve_is_sent_thinned_with_its_first_and_last_point(tmp_path):
    from widgets.monitor import MAX_LIVE_POINTS

    make_runs(tmp_path, 1, steps=20_000)
    (trace,) = RunBrowser(tmp_path).figure.data
    assert len(trace.x) <= MAX_LIVE_POINTS + 1
    assert (trace.x[0], trace.y[0]) == (0, 0.0)
    assert (trace.x[-1], trace.y[-1]) == (19_999, 19_999 / 20_000)  # not a 32nd step
    assert list(np.diff(trace.x[:-1])) == [32] * (len(trace.x) - 2)  # every 32nd step


def test_a_discrete_run_keeps_each_candidates_evaluation_number(tmp_path):
    # As the monitor and plot_best_so_far count: a failed candidate spent an evaluation
    # (its number stays, with no point), a cache hit did not.
    from nasbench.runs import RunStore

    run_dir = tmp_path / "runs" / "random-1"
    rows = [("done", 0.5), ("failed", None), ("cached", 0.5), ("done", 0.7), ("failed", None),
            ("done", 0.6)]  # fmt: skip
    with RunStore.create(run_dir, {"strategy": "random"}, {}) as store:
        for cid, (status, score) in enumerate(rows):
            metrics = {} if score is None else {"score": score, "val_acc": score}
            store.log_candidate(cid, "{}", metrics, {"wall_s": 1.0}, status)
        store.set_status("finished")
    browser = RunBrowser(run_dir.parent)
    browser.select.value = (str(run_dir),)
    browser.metric.value = "val_auc"
    browser.metric.value = "val_acc"
    (trace,) = browser.figure.data
    assert list(trace.x) == [1, 3, 5] and list(trace.y) == [0.5, 0.7, 0.6]


def test_close_closes_every_widget_of_the_browser(fake_run, widget_registry):
    from widgets._figures import PlotlyLibrary

    before = set(widget_registry())
    browser = RunBrowser(fake_run.parent)
    assert browser.figure.data  # the comparison figure (and its channel) is drawn
    browser.close()
    browser.close()  # idempotent
    left = [widget_registry()[key] for key in set(widget_registry()) - before]
    assert all(isinstance(model, PlotlyLibrary) for model in left), left  # shared, stays
    assert browser.plot.channel.comm is None and browser._curves == {}


def test_runs_that_cannot_be_compared_are_listed_in_one_sentence(fake_run):
    for name in ("broken-a", "broken-b"):
        (fake_run.parent / name).mkdir()
        (fake_run.parent / name / "run.sqlite").write_bytes(b"garbage" * 100)
    browser = RunBrowser(fake_run.parent)
    browser.select.value = tuple(str(fake_run.parent / n) for n in ("broken-a", "broken-b"))
    browser.compare()
    said = browser.message.value
    assert "broken-a: " in said and "; broken-b: " in said
    assert ".;" not in said  # each reason's full stop would end the sentence mid-way


def test_a_long_table_scrolls_on_its_own_below_the_picker_and_its_buttons(fake_run):
    browser = RunBrowser(fake_run.parent)
    assert browser.table.layout.max_height and browser.table.layout.overflow == "auto"
    order = list(browser.children)
    buttons = next(row for row in order if browser.open_button in getattr(row, "children", ()))
    assert order.index(browser.select) < order.index(browser.table)
    assert order.index(buttons) < order.index(browser.table)
    # The tab says what Refresh is for.
    assert "Refresh re-reads the folder" in browser.children[0].children[1].value


def test_comparing_a_run_deleted_since_the_list_was_read_says_so_in_the_tab_s_words(fake_run):
    import shutil

    browser = RunBrowser(fake_run.parent)
    browser.select.value = ()
    shutil.rmtree(fake_run)
    browser.select.value = (str(fake_run),)  # listed before it was deleted
    message = html.unescape(browser.message.value)
    assert "fake-1: run folder" in message and "is gone (moved or deleted)" in message
    assert "Refresh" in message and "pass the folder" not in message
