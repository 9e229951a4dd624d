"""Number boxes keep what a person typed and name what is wrong with it.

ipywidgets' int boxes strip 'e', '.' and spaces as they are typed (1e9 -> 19, 3.7 -> 37)
and bounded boxes clamp a value past their range to its end, both without a word. The
workbench's boxes hold the value as typed; the view that reads one says what is wrong.
"""

from __future__ import annotations

import html
import json

import pytest

from nasbench.config import SearchConfig
from nasbench.errors import ConfigError
from widgets._number_box import NumberBox
from widgets.genotype_viewer import GenotypeViewer
from widgets.launcher import CONFIG_NAME, SearchLauncher
from widgets.space_builder import SpaceBuilder

TINY_SPACE = {"name": "darts", "n_nodes": 2, "skeleton": {"n_cells": 3, "channels": 4}}


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (3.7, "'epochs' must be a whole number from 1 to 10,000, not 3.7."),
        (20_000, "'epochs' must be a whole number from 1 to 10,000, not 20,000."),
        (0, "'epochs' must be a whole number from 1 to 10,000, not 0."),
        (float("inf"), "'epochs' must be a whole number from 1 to 10,000, not inf."),
    ],
)
def test_a_box_keeps_the_value_and_names_the_range(value, said):
    box = NumberBox(2, min=1, max=10_000, whole=True, description="epochs")
    box.value = value
    assert box.value == value  # not clamped, not cut
    assert box.problem() == said
    with pytest.raises(ConfigError) as err:
        box.read()
    assert str(err.value) == said


def test_a_whole_number_reads_back_as_an_int_and_one_sided_ranges_read_well():
    box = NumberBox(0, min=0, whole=True, description="image limit")
    box.value = 1e9  # what the page sends for '1e9'
    assert box.read() == 1_000_000_000 and isinstance(box.read(), int)
    box.value = -1
    assert box.problem() == "'image limit' must be a whole number of at least 0, not -1."
    rate = NumberBox(0.5, max=1.0, description="rate")
    rate.value = 0.25
    assert rate.read() == 0.25 and isinstance(rate.read(), float)
    rate.value = 2.5
    assert rate.problem() == "'rate' must be a number of at most 1, not 2.5."


def test_the_launcher_refuses_a_fraction_or_a_value_past_the_range_instead_of_changing_it(
    tmp_path, started
):
    launcher = SearchLauncher(tmp_path / "runs", space_config=TINY_SPACE)
    launcher.epochs.value = 3.7
    assert launcher.run() is None and started == []
    assert launcher.run_button.disabled
    said = "'epochs' must be a whole number from 1 to 10,000, not 3.7."
    assert said in html.unescape(launcher.message.value)
    assert f"Run is disabled: {said}" in html.unescape(launcher.blocker_note.value)
    launcher.epochs.value = 20_000
    assert "not 20,000." in html.unescape(launcher.message.value)
    launcher.epochs.value = 3
    launcher.limit.value = 1e3
    launcher.seed.value = 1e3
    assert not launcher.run_button.disabled
    launcher.run_button.click()
    ((_, run_dir),) = started
    config = SearchConfig.from_dict(json.loads((run_dir / CONFIG_NAME).read_text()))
    assert (config.epochs, config.dataset.limit, config.seed) == (3, 1000, 1000)
    assert all(isinstance(v, int) for v in (config.epochs, config.dataset.limit, config.seed))


def test_a_box_the_search_does_not_read_does_not_block_it(tmp_path, started):
    launcher = SearchLauncher(tmp_path / "runs", space_config={"name": "nb201"})
    launcher.epochs.value = 3.7  # a bilevel setting; random search hides and ignores it
    launcher.strategy.value = "random"
    assert not launcher.run_button.disabled, launcher.message.value
    launcher.max_evaluations.value = 2.5
    assert launcher.run_button.disabled
    assert "'max evaluations' must be a whole number" in html.unescape(launcher.message.value)


def test_the_space_builder_names_a_shown_box_and_skips_a_hidden_one():
    builder = SpaceBuilder(live_costs=False)
    builder.n_nodes.value = 3.5
    assert not builder.valid
    assert builder.error == "'nodes' must be a whole number from 0 to 12, not 3.5."
    builder.n_cells.value = 100
    builder.space_type.value = "chain"  # a chain has neither nodes nor cells
    assert builder.valid and builder.space_config["name"] == "chain"
    builder.space_type.value = "darts"
    assert builder.error == "'nodes' must be a whole number from 0 to 12, not 3.5."
    builder.n_nodes.value = 2
    assert builder.error == "'cells' must be a whole number from 1 to 40, not 100."
    builder.n_cells.value = 3
    assert builder.valid and builder.space_config["n_nodes"] == 2
    assert isinstance(builder.space_config["skeleton"]["n_cells"], int)


def test_a_batch_size_typed_wrong_is_the_space_tabs_message():
    builder = SpaceBuilder(live_costs=False)
    builder.n_nodes.value, builder.n_cells.value, builder.channels.value = 1, 2, 2
    builder.batch_size.value = 0
    assert not builder.valid and builder.update_costs() == {}
    assert builder.error == "'batch size' must be a whole number from 1 to 4,096, not 0."
    builder.batch_size.value = 2
    assert builder.valid and builder.error == ""
    assert builder.update_costs()["params"] > 0


def test_a_new_dataset_keeps_a_batch_size_typed_wrong_for_run_to_name(tmp_path):
    from widgets import Workbench

    bench = Workbench(runs_folder=tmp_path / "runs", live_costs=False)
    bench.builder.batch_size.value = 3.7
    assert bench.launcher.batch_size.value == 3.7  # the two tabs' boxes are linked
    bench.picker.dropdown.value = "synthetic-multiclass"
    assert bench.launcher.dataset.name == "synthetic-multiclass"
    assert bench.builder.batch_size.value == bench.launcher.batch_size.value == 3.7
    bench.launcher._recheck.flush()
    assert bench.launcher.run_button.disabled
    assert "'batch size' must be a whole number" in html.unescape(bench.launcher.message.value)


def test_a_box_a_genotype_is_not_framed_by_does_not_stop_its_costs():
    import numpy as np

    from nasbench.spaces import create_space

    viewer = GenotypeViewer()
    source = viewer.source_a
    source.kind.value = "text"
    source.text.value = create_space("nasunet").sample(np.random.default_rng(0)).to_json()
    viewer.n_cells.value = 2.5  # a U-Net has no cell count
    assert viewer.costs_a["params"] > 0, viewer.costs_label_a.value
    viewer.channels.value = 2.5  # its channels do frame it
    assert "'channels' must be a whole number" in html.unescape(viewer.costs_label_a.value)


def test_the_genotype_viewer_names_a_box_typed_wrong_in_its_costs_line():
    viewer = GenotypeViewer()
    viewer.n_cells.value = 2.5
    line = html.unescape(viewer.costs_label_a.value)
    assert "costs: not computed" in line
    assert "'cells' must be a whole number from 1 to 40, not 2.5" in line
    assert "<svg" in viewer.drawing_a.value  # the drawing does not depend on the boxes
    viewer.n_cells.value = 3
    assert viewer.costs_a["params"] > 0
