"""The alpha explorer: slider, heatmap, lines, entropy."""

from __future__ import annotations

import numpy as np

from widgets.alpha_explorer import AlphaExplorer, edge_entropy


def test_slider_changes_the_heatmap_and_entropy(fake_run):
    explorer = AlphaExplorer(fake_run)
    assert list(explorer.steps) == [0, 1, 2]
    assert explorer.slider.max == explorer.play.max == 2
    assert explorer.slider.value == 2  # opens on the last snapshot
    last = np.array(explorer.heatmap.data[0].z, dtype=float)
    explorer.slider.value = 0
    first = np.array(explorer.heatmap.data[0].z, dtype=float)
    assert np.allclose(first, 1 / 3)  # uniform at step 0
    assert not np.allclose(first, last)
    assert "step 0" in explorer.heatmap.layout.title.text
    assert np.allclose(explorer.entropy.data[0].y, np.log(3))
    explorer.slider.value = 2
    assert explorer.entropy.data[0].y[0] < np.log(3) - 0.1


def test_lines_mode_and_edge_picker(fake_run):
    explorer = AlphaExplorer(fake_run)
    explorer.mode.value = "lines"
    assert explorer.heatmap_box.layout.display == "none"
    explorer.edge.value = "1->2"
    assert len(explorer.lines.data) == 3
    skip = [t for t in explorer.lines.data if t.name == "skip_connect"][0]
    assert skip.y[-1] > skip.y[0]
    explorer.slider.value = 1
    assert explorer.lines.layout.shapes[0].x0 == 1
    explorer.cell_type.value = "reduce"
    assert "reduce" in explorer.heatmap.layout.title.text


def test_edge_entropy():
    h = edge_entropy(
        np.array([[0.25, 0.25, 0.25, 0.25], [1.0, 0.0, 0.0, 0.0], [0.5, 0.5, np.nan, 0]])
    )
    assert np.allclose(h, [np.log(4), 0.0, np.log(2)])


def test_a_heatmap_whose_browser_view_went_deaf_is_put_back_and_keeps_following(
    fake_run, monkeypatch
):
    from widgets import _figures

    now = [1000.0]
    monkeypatch.setattr(_figures, "clock", lambda: now[0])
    explorer = AlphaExplorer(fake_run)
    heatmap = explorer.heatmap
    heatmap._js2py_traceDeltas = {"trace_deltas": [], "trace_edit_id": heatmap._last_trace_edit_id}
    explorer.slider.value = 0  # an edit the (deaf) view never acknowledges
    assert explorer.heatmap is heatmap  # just sent: not stale
    now[0] += _figures.STALE_VIEW_S + 1
    assert explorer.heatmap_box.renew_if_stale()
    fresh = explorer.heatmap
    assert fresh is not heatmap and heatmap.comm is None
    assert explorer.heatmap_box.children == (fresh,)
    assert np.allclose(np.array(fresh.data[0].z, dtype=float), 1 / 3)  # step 0, as shown
    explorer.slider.value = 2  # later moves edit the fresh figure
    assert "step 2" in fresh.layout.title.text
    assert not np.allclose(np.array(fresh.data[0].z, dtype=float), 1 / 3)
