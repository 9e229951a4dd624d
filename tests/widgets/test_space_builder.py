"""The visual search-space builder."""

from __future__ import annotations

from nasbench.spaces import space_from_dict
from widgets.space_builder import SpaceBuilder, estimate_memory, parse_positions


def test_controls_produce_the_space_config():
    builder = SpaceBuilder(live_costs=False)
    with builder.hold_updates():
        builder.set_ops(["skip_connect", "sep_conv_3x3", "max_pool_3x3"])
        builder.n_nodes.value = 3
        builder.inputs_per_node.value = 1
        builder.n_cells.value = 4
        builder.reduction_at.value = "1, 3"
        builder.channels.value = 6
    config = builder.space_config
    assert builder.valid and builder.error == ""
    assert config["ops"] == ["max_pool_3x3", "skip_connect", "sep_conv_3x3"]
    assert (config["n_nodes"], config["inputs_per_node"]) == (3, 1)
    assert config["skeleton"]["reduction_at"] == [1, 3]
    assert config["skeleton"]["channels"] == 6
    space = space_from_dict(config)
    assert f"{space.size():.3e}" in builder.size_label.value
    assert "<svg" in builder.cell_drawing.value and "<svg" in builder.skeleton_drawing.value
    assert "nasbench-space-builder" in builder._dom_classes


def test_named_op_set_is_kept_by_name():
    builder = SpaceBuilder(live_costs=False)
    builder.op_set.value = "nb201"
    assert builder.space_config["ops"] == "nb201"
    builder.op_buttons["sep_conv_3x3"].value = True
    assert builder.op_set.value == "custom"


def test_invalid_choices_show_a_message():
    builder = SpaceBuilder(live_costs=False)
    builder.set_ops([])
    assert not builder.valid and builder.space_config == {}
    assert "at least one op" in builder.message.value
    builder.set_ops(["sep_conv_3x3"])
    assert builder.valid and builder.message.value == ""
    builder.n_nodes.value = 0
    assert not builder.valid and "at least 1 node" in builder.error
    builder.n_nodes.value = 2
    builder.reduction_at.value = "one"
    assert not builder.valid and "'reduction at' 'one': write cell indices like" in builder.error
    builder.reduction_at.value = "9"  # the box's label and the cells there are, in one line
    assert not builder.valid and builder.error == (
        "'reduction at' has 9, outside the cells 0..4; write indices in that range, or 'auto'."
    )
    builder.reduction_at.value = "-1"
    assert not builder.valid and "'reduction at' has -1, outside" in builder.error
    builder.reduction_at.value = "9" * 400  # pasted: echoed by its start only
    assert not builder.valid and f"has {'9' * 20}…, outside" in builder.error
    assert len(builder.error) < 120
    builder.reduction_at.value = "x" * 400
    assert not builder.valid and f"'reduction at' '{'x' * 20}…': write" in builder.error
    builder.reduction_at.value = "1, 3, 1"
    assert not builder.valid and "names a cell twice" in builder.error
    builder.reduction_at.value = "1, 3"
    assert builder.valid
    builder.space_type.value = "chain"  # no reduction cells: the hidden box is not read
    builder.reduction_at.value = "one"
    assert builder.valid


def test_other_space_types():
    builder = SpaceBuilder(live_costs=False)
    builder.space_type.value = "nb201"
    assert builder.space_config["name"] == "nb201"
    assert builder.space_config["ops"] == "nb201"
    builder.space_type.value = "chain"
    builder.layer_types["sep_conv"].value = False
    assert builder.space_config["layer_types"] == ["conv", "max_pool", "avg_pool"]
    for button in builder.layer_types.values():
        button.value = False
    assert not builder.valid and "layer type" in builder.error


def test_costs_and_memory_scale_with_batch():
    builder = SpaceBuilder(live_costs=False)
    with builder.hold_updates():
        builder.n_nodes.value = 2
        builder.n_cells.value = 3
        builder.channels.value = 4
        builder.batch_size.value = 4
    small = builder.update_costs()
    builder.batch_size.value = 16
    large = builder.update_costs()
    assert small["params"] == large["params"] > 0 and small["macs"] > 0
    assert large["memory"]["activations"] > 3 * small["memory"]["activations"] > 0
    assert "est. memory" in builder.cost_label.value


def test_estimate_memory_is_linear_in_batch():
    import torch

    net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Conv2d(4, 4, 3))
    one = estimate_memory(net, (1, 12, 12), 1)
    ten = estimate_memory(net, (1, 12, 12), 10)
    per_image = ten["activations"] - one["activations"]
    assert per_image > 0 and per_image % 9 == 0
    assert one["weights"] == 3 * 4 * sum(p.numel() for p in net.parameters())


def test_parse_positions():
    assert parse_positions("auto") is None and parse_positions(" ") is None
    assert parse_positions("2; 5") == (2, 5)


def test_unet_spaces_show_their_memory_before_launch():
    from nasbench.data import get_info

    builder = SpaceBuilder(live_costs=False)
    builder.space_type.value = "nasunet"
    with builder.hold_updates():
        builder.n_nodes.value = 1
        builder.depth.value = 1
        builder.channels.value = 2
        builder.batch_size.value = 2
    assert builder.valid and builder.space_config["name"] == "nasunet"
    assert builder.palette_box.layout.display == "none" and "<svg" in builder.cell_drawing.value
    costs = builder.update_costs()
    assert costs["memory"]["total"] > 0 and "check it fits" in builder.cost_label.value
    builder.space_type.value = "vnas"
    assert not builder.valid and "spatial_dims = 3" in builder.error
    builder.set_dataset(get_info("synthetic-seg3d"), 32)
    builder.space_type.value = "dints"
    with builder.hold_updates():
        builder.blocks.value = 1
        builder.depth.value = 1
    assert builder.valid and builder.space_config["num_blocks"] == 1
    assert "monai" in builder.update_costs() and "MONAI DiNTS estimate" in builder.cost_label.value


def _launch(tmp_path, builder, dataset, strategy, **controls):
    """Hand the builder's space to a launcher as the workbench does, press Run, and read
    the config the search subprocess would get."""
    from nasbench.config import SearchConfig
    from widgets.launcher import CONFIG_NAME, SearchLauncher

    launcher = SearchLauncher(tmp_path / "runs", dataset=dataset)
    launcher.set_space(builder.space_config, builder.valid, builder.error)
    launcher.strategy.value = strategy
    for name, value in controls.items():
        getattr(launcher, name).value = value
    run_dir = launcher.run()
    assert run_dir is not None, launcher.message.value
    return SearchConfig.load(run_dir / CONFIG_NAME), launcher


def test_trellis_knobs_make_the_config_the_search_takes(tmp_path, started):
    from nasbench.config import SearchConfig
    from nasbench.data import get_info
    from nasbench.spaces import TrellisSpace

    builder = SpaceBuilder(live_costs=False)
    builder.set_dataset(get_info("synthetic-seg"), 64)
    builder.space_type.value = "trellis"
    assert builder.layers.layout.display is None and builder.palette_box.layout.display is None
    assert builder.n_cells.layout.display == "none" and builder.depth.layout.display is None
    with builder.hold_updates():
        builder.layers.value = 3
        builder.depth.value = 2
        builder.channels.value = 4
        builder.n_nodes.value = 1
        builder.inputs_per_node.value = 1
        builder.set_ops(["skip_connect", "sep_conv_3x3"])
    config = builder.space_config
    assert builder.valid, builder.error
    assert (config["name"], config["num_layers"], config["n_nodes"]) == ("trellis", 3, 1)
    assert config["skeleton"]["depth"] == 2
    assert sorted(config["ops"]) == ["sep_conv_3x3", "skip_connect"]
    space = space_from_dict(config)
    assert isinstance(space, TrellisSpace) and space.num_scales == 3
    assert f"{space.size():.3e}" in builder.size_label.value
    # The drawing is the trellis (nodes L1..L3, a thick path) and the note counts its paths.
    assert "<svg" in builder.cell_drawing.value and "L3" in builder.cell_drawing.value
    assert f"{space.n_paths():,} paths" in builder.skeleton_drawing.value
    assert builder.update_costs()["memory"]["total"] > 0
    searched, launcher = _launch(
        tmp_path, builder, {"name": "synthetic-seg", "size": 64}, "pcdarts"
    )
    assert searched.space == config and searched.strategy == "pcdarts"
    again = SearchConfig.from_json(searched.to_json()).validate()
    assert space_from_dict(again.space) == space
    assert "3 layers" in launcher.summary.value
    builder.set_ops(["none"])
    assert not builder.valid and "other than 'none'" in builder.error
    assert builder.cell_drawing.value == ""  # no drawing of the last valid space


def test_c2fnas_stage_knobs_make_the_config_the_search_takes(tmp_path, started):
    from nasbench.data import get_info

    builder = SpaceBuilder(live_costs=False)
    builder.space_type.value = "c2fnas"
    assert not builder.valid and "spatial_dims = 3" in builder.error  # a 2D dataset
    builder.set_dataset(get_info("synthetic-seg3d"), 32)
    assert builder.palette_box.layout.display == "none"
    assert builder.c2fnas_box.layout.display is None and builder.n_cells.layout.display is None
    with builder.hold_updates():
        builder.n_cells.value = 4
        builder.depth.value = 1
        builder.channels.value = 2
        builder.candidates.value = 2
        builder.proxy_steps.value = 1
    config = builder.space_config
    assert builder.valid, builder.error
    assert (config["num_cells"], config["candidates"], config["proxy_steps"]) == (4, 2, 1)
    assert config["topology"] is None and config["skeleton"]["spatial_dims"] == 3
    # 4 cells of depth 1 have 3 U-shaped topologies; stage 1 trains 2 of them.
    assert "trains 2 of the 3 U-shaped topologies for 1 step(s)" in builder.skeleton_drawing.value
    assert "<svg" in builder.cell_drawing.value and "L1: vnas_" in builder.cell_drawing.value
    costs = builder.update_costs()  # stage 2's supernet on the largest topology
    assert costs["memory"]["total"] > 0 and "check it fits" in builder.cost_label.value
    searched, _ = _launch(tmp_path, builder, {"name": "synthetic-seg3d", "size": 32}, "darts")
    assert searched.space == config and space_from_dict(searched.space).topologies() == (
        (0, 0, 1, 0), (0, 1, 0, 0), (0, 1, 1, 0),
    )  # fmt: skip
    builder.topology.value = "0, 1, 1, 0"  # skip stage 1
    assert builder.valid and builder.space_config["topology"] == [0, 1, 1, 0]
    assert "fixed: no stage 1" in builder.skeleton_drawing.value
    builder.topology.value = "0, 1, 0, 1"
    assert not builder.valid and "not U-shaped" in builder.error
    builder.topology.value = "deep"
    assert not builder.valid and "a level per cell" in builder.error
    builder.topology.value = "auto"
    builder.n_cells.value = 24  # 1.7 million topologies at depth 5: refused, not listed
    assert not builder.valid and "at most 16" in builder.error


def test_nb101_knobs_make_the_config_the_search_takes(tmp_path, started):
    from nasbench.spaces import NB101Space

    builder = SpaceBuilder(live_costs=False)
    builder.space_type.value = "nb101"
    assert builder.palette_box.layout.display == "none" and builder.nb101_box.layout.display is None
    assert builder.valid and "423,624 unique cells" in builder.skeleton_drawing.value
    with builder.hold_updates():
        builder.vertices.value = 5
        builder.max_edges.value = 6
        builder.n_cells.value = 3
        builder.channels.value = 8
    config = builder.space_config
    assert (config["name"], config["n_vertices"], config["max_edges"]) == ("nb101", 5, 6)
    space = space_from_dict(config)
    assert space == NB101Space(n_vertices=5, max_edges=6, skeleton=config["skeleton"])
    assert "unique cells" not in builder.skeleton_drawing.value  # not the benchmark's space
    assert "<svg" in builder.cell_drawing.value and "output" in builder.cell_drawing.value
    assert builder.update_costs() == {} and "discrete strategies" in builder.cost_label.value
    searched, _ = _launch(tmp_path, builder, {"name": "synthetic"}, "evolution",
                          evaluator="proxy", max_evaluations=40)  # fmt: skip
    assert searched.space == config and searched.strategy == "evolution"
    assert space_from_dict(searched.validate().space) == space


def _measure_in_a_worker_while(edit, measure=None) -> SpaceBuilder:
    """Start a live measurement in a worker thread, ``edit`` the builder while it runs,
    and return the builder once the worker has finished (its result handled)."""
    import asyncio
    import threading

    builder = SpaceBuilder(live_costs=False)
    with builder.hold_updates():
        builder.n_nodes.value, builder.n_cells.value, builder.channels.value = 1, 2, 2
    release = threading.Event()
    real = builder._measure

    def slow(space, batch):
        release.wait(10)
        return (measure or real)(space, batch)

    builder._measure = slow

    async def main() -> None:
        builder.live_costs = True
        builder._live_costs()  # the debounced call, now
        edit(builder)
        release.set()
        # Until the newest measurement is done (up to 30 s on a loaded machine: waiting on
        # the cost line's text broke off at once, as it never reads "computing"), then its
        # result reaches the loop as a callback.
        for _ in range(1500):
            await asyncio.sleep(0.02)
            future = builder._cost_future
            if future is None or future.done():
                break
        await asyncio.sleep(0.1)

    asyncio.run(main())
    return builder


def test_a_measurement_finished_after_the_space_became_invalid_is_not_shown():
    def break_the_space(builder):
        builder.live_costs = False  # no new measurement: only the one in flight could show
        builder.set_ops([])

    builder = _measure_in_a_worker_while(break_the_space)
    assert not builder.valid and builder.costs == {} and builder.cost_label.value == ""


def test_a_measurement_of_an_edited_space_is_not_shown_for_the_new_one():
    def widen(builder):
        builder.live_costs = False
        builder.channels.value = 6

    builder = _measure_in_a_worker_while(widen)
    assert builder.valid and builder.costs == {}
    assert "not computed live" in builder.cost_label.value  # the new space's, not the old's


def test_a_measurement_that_fails_unforeseen_says_so_on_one_line():
    def fail(space, batch):
        raise MemoryError("cannot allocate\n4 GiB")

    builder = _measure_in_a_worker_while(lambda builder: None, measure=fail)
    assert "supernet cost: not measured (MemoryError: cannot allocate 4 GiB)" in (
        builder.cost_label.value
    )


def test_switching_to_2d_data_names_the_ops_the_palette_keeps():
    from nasbench.data import get_info

    builder = SpaceBuilder(live_costs=False)
    builder.set_dataset(get_info("synthetic-seg3d"), 32)
    builder.op_set.value = "vnas"
    assert builder.valid and builder.space_config["ops"] == "vnas"
    builder.set_dataset(get_info("synthetic"), 28)
    # The 3D-only ops left the palette; the space is built from what it still shows.
    assert builder.op_set.value == "custom"
    assert builder.space_config["ops"] == builder.selected_ops() == ["vnas_2d_3x3"]
    assert builder.valid


def test_an_image_size_the_engine_refuses_makes_the_builder_invalid():
    from nasbench.data import get_info

    builder = SpaceBuilder(live_costs=False)
    builder.set_dataset(get_info("synthetic-seg"), 28)
    builder.space_type.value = "trellis"
    builder.depth.value = 3
    assert not builder.valid and builder.space_config == {}
    assert "multiple of" in builder.error
    # The sizes suggested are the dataset's own (28, 64, 128), not 24 or 32.
    assert builder.error.endswith("so use an image size of 64 or 128, or depth 2.")
    builder.depth.value = 2
    assert builder.valid and builder.error == ""


SHOWN_SPACES = {
    2: [
        {"name": "darts", "ops": "nb201", "n_nodes": 3,
         "skeleton": {"n_cells": 5, "channels": 8, "reduction_at": [1, 3]}},
        {"name": "darts", "ops": ["skip_connect", "sep_conv_3x3"], "n_nodes": 2,
         "inputs_per_node": 1},
        {"name": "nb201", "n_nodes": 4, "skeleton": {"n_cells": 5, "channels": 8}},
        {"name": "chain", "layer_types": ["conv", "max_pool"], "max_depth": 4},
        {"name": "nb101", "n_vertices": 5, "max_edges": 6, "skeleton": {"n_cells": 3}},
    ],
    3: [
        {"name": "c2fnas", "num_cells": 4, "topology": [0, 1, 1, 0], "candidates": 2,
         "proxy_steps": 2, "skeleton": {"depth": 1, "spatial_dims": 3, "channels": 4}},
        {"name": "dints", "num_blocks": 2, "skeleton": {"depth": 2, "channels": 4}},
        {"name": "vnas", "skeleton": {"spatial_dims": 3, "depth": 1}},
    ],
}  # fmt: skip


def test_a_space_dict_is_shown_and_the_builder_makes_it_again():
    from nasbench.data import get_info

    builder = SpaceBuilder(live_costs=False)
    for dims, dataset, size in ((2, "synthetic", 28), (3, "synthetic-seg3d", 32)):
        builder.set_dataset(get_info(dataset), size)
        for given in SHOWN_SPACES[dims]:
            wanted = space_from_dict(given).to_dict()
            builder.set_space(given)
            assert builder.valid, (given, builder.error)
            shown = {**builder.space_config, "skeleton": dict(builder.space_config["skeleton"])}
            for key in ("in_channels", "num_classes"):  # the dataset decides these
                shown["skeleton"][key] = wanted["skeleton"][key]
            assert shown == wanted


def test_a_space_the_builder_cannot_show_is_named_and_the_builder_is_left_as_it_was():
    import pytest

    builder = SpaceBuilder(live_costs=False)
    builder.set_space({"name": "nb201", "n_nodes": 3})
    before = dict(builder.space_config)
    for given, said in (
        (
            {"name": "darts", "n_nodes": 20},
            "cannot show this space: 'nodes' must be a whole number from 0 to 12, not 20",
        ),
        ({"name": "chain", "kernels": [3]}, "cannot show kernels \\[3\\]"),
        ({"name": "darts", "skeleton": {"stem_multiplier": 2}}, "skeleton.stem_multiplier 2"),
        ({"name": "vnas", "skeleton": {"spatial_dims": 3}}, "3D but the dataset is 2D"),
        ({"name": "darts", "ops": "nope"}, "unknown op set 'nope'"),
        # The palette orders ops its own way; another order would change the alpha columns.
        ({"name": "darts", "ops": ["skip_connect", "none"]}, "cannot show ops"),
    ):
        with pytest.raises(ValueError, match=said) as err:
            builder.set_space(given)
        assert "\n" not in str(err.value)
        assert builder.space_config == before and builder.valid


def test_a_cell_waits_for_a_live_measurement_so_its_random_draws_stay_its_own(monkeypatch):
    import asyncio

    import torch

    from widgets import _tasks

    registered = []

    class FakeShell:
        class events:  # noqa: N801 - IPython's attribute name
            @staticmethod
            def register(event, fn):
                registered.append((event, fn))

    monkeypatch.setattr(_tasks, "_hooked", False)
    monkeypatch.setattr("IPython.get_ipython", lambda: FakeShell())
    torch.manual_seed(7)
    expected = torch.randn(2000)

    async def main() -> torch.Tensor:
        builder = SpaceBuilder(live_costs=False)
        builder.live_costs = True
        builder._costs_later.delay = 0.0
        builder.batch_size.value = 4  # a measurement starts in the worker thread
        for _ in range(100):
            await asyncio.sleep(0.01)
            if _tasks._IN_FLIGHT:
                break
        assert _tasks._IN_FLIGHT, "the measurement should be running"
        _tasks.wait_for_workers()  # what IPython runs before the next cell
        assert not _tasks._IN_FLIGHT
        torch.manual_seed(7)  # the next cell's seeded draws
        return torch.randn(2000)

    assert torch.equal(asyncio.run(main()), expected)
    assert registered == [("pre_run_cell", _tasks.wait_for_workers)]


def test_an_out_of_date_measurement_waiting_for_the_worker_is_dropped():
    import asyncio
    import threading

    from widgets import _tasks

    async def main() -> tuple[int, dict]:
        builder = SpaceBuilder(live_costs=False)
        started = []
        running, release = threading.Event(), threading.Event()
        measure = builder._measure

        def counted(space, batch):
            started.append(batch)
            running.set()
            release.wait(30)  # the first measurement holds the worker while edits queue
            return measure(space, batch)

        builder._measure = counted
        builder.live_costs = True
        builder._costs_later.delay = 3600.0  # the test starts each measurement itself
        builder.batch_size.value = 2
        builder._live_costs()
        await asyncio.to_thread(running.wait, 30)  # the worker runs the first one
        for batch in (3, 4):  # two quick edits queue behind it: only the last runs
            builder.batch_size.value = batch
            builder._live_costs()
        release.set()
        # Up to a minute: two measurements of a space on a machine busy with other tests.
        for _ in range(3000):
            await asyncio.sleep(0.02)
            if not _tasks._IN_FLIGHT and builder.costs:
                break
        return started, builder.costs

    started, costs = asyncio.run(main())
    assert started == [2, 4]
    assert costs["params"] > 0


def test_a_closed_builder_measures_nothing_more_and_frees_its_widgets():
    import asyncio

    async def session() -> tuple[int, int]:
        builder, measured = SpaceBuilder(live_costs=True), []
        builder._measure = lambda *args: measured.append(args) or {}
        builder.batch_size.value = builder.batch_size.value + 1  # a measurement due in 0.6 s
        at_close = len(measured)
        builder.close()
        builder.close()  # idempotent
        await asyncio.sleep(1.0)  # past the debounce
        return len(measured) - at_close, sum(w.comm is not None for w in builder.children)

    after, open_children = asyncio.run(session())
    assert after == 0 and open_children == 0


def test_costs_read_in_the_genotype_viewers_units_and_the_memory_caveat_is_visible():
    import re

    from widgets.genotype_viewer import GenotypeViewer

    builder = SpaceBuilder(live_costs=False)
    with builder.hold_updates():
        builder.n_nodes.value = 2
        builder.n_cells.value = 3
        builder.channels.value = 4
    costs = builder.update_costs()
    text = re.sub(r"<[^>]+>", "", builder.cost_label.value)
    units = r"(\d+\.\d{3}) M parameters, (\d+\.\d) M MACs per image"
    found = re.search(units, text)
    assert found, text
    assert found.groups() == (f"{costs['params'] / 1e6:.3f}", f"{costs['macs'] / 1e6:.1f}")
    assert re.search(units, re.sub(r"<[^>]+>", "", GenotypeViewer().costs_label_a.value))
    # The caveat is on screen, not in a hover a keyboard cannot reach.
    assert "lower bound of the real peak" in text and "title=" not in builder.cost_label.value


def test_without_live_costs_the_cost_line_says_how_to_measure():
    builder = SpaceBuilder(live_costs=False)
    text = builder.cost_label.value
    assert "computing" not in text and builder.costs == {}
    assert "not computed live" in text and "update_costs()" in text
    assert builder.update_costs()["params"] > 0  # what it says to call measures it
    assert "parameters" in builder.cost_label.value


def test_a_supernet_too_large_for_a_live_preview_is_counted_not_built(monkeypatch):
    from widgets import space_builder

    builder = SpaceBuilder(live_costs=False)
    params = builder.update_costs()["params"]
    # The limit below this supernet: as a 1,008 M-parameter one (512 channels) is past 50 M.
    monkeypatch.setattr(space_builder, "LIVE_MAX_PARAMS", params - 1, raising=False)
    built = []
    monkeypatch.setattr(space_builder, "estimate_memory", lambda *a: built.append(a))
    assert builder.update_costs() == {} and built == []  # never built nor measured
    text = builder.cost_label.value
    assert f"~{params / 1e6:,.0f} M parameters" in text and "M MACs" in text
    assert "too large to build for a live preview" in text
    assert "update_costs(build_large=True)" in text
    monkeypatch.undo()
    assert builder.update_costs(build_large=True)["params"] == params


def _dints_built_only_on_meta(monkeypatch, on_meta=None):
    """Make DiNTS supernets record and refuse a real build (weights off the meta device);
    on the meta device run ``on_meta`` first. Returns the list of real builds tried."""
    import torch

    from nasbench.models.dints import DintsSupernet

    real_init, built = DintsSupernet.__init__, []

    def init(self, *args, **kwargs):
        if torch.empty(0).device.type != "meta":  # what nn layers allocate their weights with
            built.append(args)
            raise AssertionError("the preview built the DiNTS supernet for real")
        if on_meta is not None:
            on_meta()
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(DintsSupernet, "__init__", init)
    return built


def test_a_dints_supernet_too_large_for_a_live_preview_is_counted_not_built(monkeypatch):
    from nasbench.data import get_info

    builder = SpaceBuilder(live_costs=False)
    builder.set_dataset(get_info("synthetic-seg3d"), 32)
    # 201 M parameters: MONAI's TopologySearch cannot be built under torch.device("meta").
    builder.set_space({"name": "dints", "num_blocks": 4, "skeleton": {"depth": 3, "channels": 64}})
    assert builder.valid, builder.error
    built = _dints_built_only_on_meta(monkeypatch)
    assert builder.update_costs() == {} and built == []
    text = builder.cost_label.value
    assert "~201 M parameters" in text and "too large to build for a live preview" in text


def test_the_dints_count_with_weights_on_meta_is_the_real_builds(monkeypatch):
    import torch

    from nasbench.models.costs import count_parameters
    from nasbench.spaces import create_space
    from widgets import space_builder

    monkeypatch.setattr(space_builder, "LIVE_MAX_PARAMS", 1)  # report every count ...
    monkeypatch.setattr(space_builder, "COUNT_MACS_FACTOR", 10**12)  # ... to its end
    for blocks, depth, channels in ((2, 2, 4), (3, 3, 8)):
        space = create_space(
            "dints", num_blocks=blocks, skeleton={"depth": depth, "channels": channels}
        )
        with torch.random.fork_rng(devices=[]):
            real = count_parameters(space.supernet(seed=0))
        counted = space_builder.too_large_to_build(
            lambda space=space: space.supernet(seed=0), (1, 1, 32, 32, 32)
        )
        assert counted["params"] == real


def test_settings_a_build_refuses_are_said_not_called_uncountable():
    # Trellis channels 6 with PC-DARTS's k=4: the build's own one-line refusal, as a
    # real build gives it, not "its size cannot be checked ahead".
    from nasbench.data import get_info

    builder = SpaceBuilder(live_costs=False)
    builder.set_dataset(get_info("synthetic-seg"), 64)
    builder.set_space({"name": "trellis", "skeleton": {"channels": 6}})
    assert builder.update_costs() == {}
    text = builder.cost_label.value
    assert "channels divisible by k" in text and "checked ahead" not in text


def test_a_network_that_cannot_be_counted_ahead_is_not_built(monkeypatch):
    import torch

    from nasbench.data import get_info
    from widgets.space_builder import too_large_to_build

    def no_meta_kernel():
        raise NotImplementedError("an op without a meta kernel")

    def build():
        if torch.empty(0).device.type == "meta":
            no_meta_kernel()
        return torch.nn.Linear(2, 2)

    counted = too_large_to_build(build, (1, 2))
    assert counted["params"] is None and "without a meta kernel" in counted["reason"]

    builder = SpaceBuilder(live_costs=False)
    builder.set_dataset(get_info("synthetic-seg3d"), 32)
    builder.set_space({"name": "dints", "num_blocks": 2, "skeleton": {"depth": 2, "channels": 4}})
    built = _dints_built_only_on_meta(monkeypatch, on_meta=no_meta_kernel)
    assert builder.update_costs() == {} and built == []  # its size unknown: not built
    text = builder.cost_label.value
    assert "size cannot be checked ahead" in text and "without a meta kernel" in text
    assert "update_costs(build_large=True)" in text
    monkeypatch.undo()
    assert builder.update_costs(build_large=True)["params"] > 0  # what it says measures it


def test_set_space_of_something_not_a_dict_is_a_one_line_value_error():
    import pytest

    builder = SpaceBuilder(live_costs=False)
    before = builder.space_config
    for wrong in (None, "darts", 3):
        with pytest.raises(ValueError) as err:
            builder.set_space(wrong)
        assert "\n" not in str(err.value) and "takes a space dict" in str(err.value)
    assert builder.space_config == before


def test_a_space_far_past_the_live_limit_is_not_counted_for_macs(monkeypatch):
    # Counting MACs on the meta device took 90 s for a 43,000 M-parameter supernet, and the
    # next notebook cell waits for it: past 10x the limit the parameter count is said alone.
    from nasbench.models import costs
    from widgets import space_builder

    counted = []
    real_count = costs.count_macs
    monkeypatch.setattr(
        costs, "count_macs", lambda *a, **k: counted.append(1) or real_count(*a, **k)
    )
    builder = SpaceBuilder(live_costs=False)
    assert builder.update_costs()["params"] > 0 and counted  # a normal space: its estimate
    params = builder.costs["params"]

    counted.clear()
    monkeypatch.setattr(space_builder, "LIVE_MAX_PARAMS", params // 20)  # 20x past it
    assert builder.update_costs() == {} and counted == []
    bound = space_builder.COUNT_MACS_FACTOR * (params // 20)
    said = f"over {bound / 1e6:,.0f} M parameters: too large to build for a live preview"
    assert said in builder.cost_label.value
    assert "MACs" not in builder.cost_label.value

    monkeypatch.setattr(space_builder, "LIVE_MAX_PARAMS", params // 2)  # a little past it
    assert builder.update_costs() == {} and counted == [1]
    assert "M MACs" in builder.cost_label.value


def test_counting_stops_the_build_once_past_the_bound_and_only_in_its_own_thread(monkeypatch):
    # A 40-cell, 512-channel DARTS supernet took 30 s to build on the meta device only to
    # be called too large; the build now stops once its parameters pass the bound.
    import threading

    import torch

    from widgets import space_builder

    monkeypatch.setattr(space_builder, "LIVE_MAX_PARAMS", 1_000)  # bound: 10,000
    built = []

    def build():
        layers = []
        for _ in range(100):  # 110 parameters each: 11,000 in all
            layers.append(torch.nn.Linear(10, 10))
            built.append(1)
        return torch.nn.Sequential(*layers)

    counted = space_builder.too_large_to_build(build, (1, 10))
    assert counted == {"params": 10_000, "macs": None, "past": True}
    assert len(built) == 90  # the 91st layer's bias passed 10,000: stopped inside it

    # Another thread's modules, made while a count runs, are neither counted nor stopped.
    made_beside = []
    started, go_on = threading.Event(), threading.Event()

    def slow_build():
        started.set()
        go_on.wait(10)
        return torch.nn.Linear(10, 10)

    def beside():
        started.wait(10)
        made_beside.append(torch.nn.Sequential(*(torch.nn.Linear(10, 10) for _ in range(200))))
        go_on.set()

    thread = threading.Thread(target=beside)
    thread.start()
    assert space_builder.too_large_to_build(slow_build, (1, 10)) is None  # 110: small
    thread.join()
    assert len(made_beside[0]) == 200
    assert torch.nn.Linear(10, 10).weight.shape == (10, 10)  # the hook is gone afterwards
