"""The genotype viewer: zoo, pasted text, runs, costs and side-by-side differences."""

from __future__ import annotations

import asyncio

from nasbench.spaces import zoo
from nasbench.viz import diff_edges
from nasbench.viz.palette import HIGHLIGHT_COLOR
from widgets.genotype_viewer import GenotypeViewer


def test_zoo_genotype_is_drawn_with_costs():
    viewer = GenotypeViewer()
    assert viewer.source_a.genotype == zoo["DARTS_V2"]
    assert "<svg" in viewer.drawing_a.value
    assert viewer.costs_a["params"] > 0 and "parameters" in viewer.costs_label_a.value
    viewer.channels.value = 8
    assert 0 < viewer.costs_a["params"]


def test_pasted_darts_text_parses_and_bad_text_shows_one_line():
    viewer = GenotypeViewer()
    source = viewer.source_a
    source.kind.value = "text"
    source.text.value = zoo["DARTS_V1"].to_darts_text()
    assert source.genotype == zoo["DARTS_V1"] and source.error == ""
    source.text.value = "Genotype(normal=[('sep_conv_3x3', 0)"
    assert source.genotype is None and source.error and "\n" not in source.error
    assert "nasbench-message-error" in source.message.value
    assert viewer.drawing_a.value == ""


def test_compare_highlights_the_differing_edges():
    viewer = GenotypeViewer()
    viewer.compare.value = True
    viewer.source_b.zoo.value = "DARTS_V1"
    expected = diff_edges(zoo["DARTS_V2"], zoo["DARTS_V1"])
    assert viewer.highlight_a == expected and len(expected) > 0
    assert viewer.highlight_b == diff_edges(zoo["DARTS_V1"], zoo["DARTS_V2"])
    assert f"<b>{len(expected)}</b>" in viewer.diff_label.value
    assert HIGHLIGHT_COLOR.lower() in viewer.drawing_a.value.lower()
    viewer.source_b.zoo.value = "DARTS_V2"
    assert viewer.highlight_a == set()
    assert HIGHLIGHT_COLOR.lower() not in viewer.drawing_a.value.lower()


def test_run_genotypes_are_a_source(fake_run):
    viewer = GenotypeViewer()
    viewer.show_run(fake_run)
    labels = [label for label, _ in viewer.source_a.epoch.options]
    assert labels[0].startswith("epoch 1 ") and labels[1].startswith("epoch 2 ")  # from 1
    assert viewer.source_a.genotype.kind == "darts"
    assert "<svg" in viewer.drawing_a.value


def test_reading_the_counts_runs_a_redraw_still_waiting_in_jupyter():
    """In a kernel the redraw waits for the cell to return; a read in that cell gets the
    new counts, not the old ones."""

    async def change_then_read():
        viewer = GenotypeViewer()  # built inside a running loop: its redraw is scheduled
        viewer.update()
        viewer.compare.value = True
        viewer.source_b.zoo.value = "DARTS_V1"
        waiting = viewer.update_soon._handle is not None
        return waiting, viewer.highlight_a, viewer.costs_b, viewer.update_soon._handle

    waiting, highlight, costs_b, handle_after = asyncio.run(change_then_read())
    assert waiting and handle_after is None
    assert highlight == diff_edges(zoo["DARTS_V2"], zoo["DARTS_V1"]) and len(highlight) > 0
    assert costs_b["params"] > 0


def test_a_genotype_that_no_longer_parses_is_named_not_taken_for_an_empty_run(tmp_path):
    from nasbench.runs import RunStore
    from nasbench.spaces.zoo import zoo

    run_dir = tmp_path / "run"
    with RunStore.create(run_dir, {"strategy": "darts"}, environment={}) as store:
        store.log_genotype(0, 1, zoo["DARTS_V2"].to_json())
        store.log_genotype(1, 2, '{"kind": "darts", "normal": "damaged"}')
    viewer = GenotypeViewer()
    viewer.show_run(run_dir)
    assert "cannot be read" in viewer.source_a.message.value
    viewer.source_a.epoch.value = 0
    assert "<svg" in viewer.drawing_a.value


def test_a_pasted_genotype_of_every_space_gets_its_costs():
    import numpy as np

    from nasbench.spaces import create_space

    # The built-in spaces (a test elsewhere may register a toy one in this process).
    spaces = ("alb", "c2fnas", "chain", "darts", "dints", "nasunet", "nb101", "nb201",
              "trellis", "unrolled", "vnas")  # fmt: skip

    viewer = GenotypeViewer()
    viewer.image_size.value = 32  # DiNTS's three levels halve the input three times
    source = viewer.source_a
    source.kind.value = "text"
    for name in spaces:
        genotype = create_space(name).sample(np.random.default_rng(0))
        source.text.value = genotype.to_json()
        assert source.error == "", name
        assert viewer.costs_a.get("params", 0) > 0, (name, viewer.costs_label_a.value)
        assert "parameters" in viewer.costs_label_a.value
    source.text.value = create_space("dints").sample(np.random.default_rng(0)).to_json()
    viewer.image_size.value = 28  # where a network cannot take the size: one line
    assert viewer.costs_a == {} and viewer.costs_label_a.value.count("costs: not computed") == 1


def test_a_nash_run_shows_its_network_and_costs(tmp_path):
    from nasbench.runs import RunStore
    from nasbench.spaces import MorphGenotype

    genotype = MorphGenotype.plain(1, (4, 8))
    run_dir = tmp_path / "nash"
    with RunStore.create(run_dir, {"strategy": "nash"}, environment={}) as store:
        store.log_genotype(0, 1, genotype.to_json())
    viewer = GenotypeViewer()
    viewer.show_run(run_dir)
    assert viewer.source_a.genotype == genotype
    assert "cannot be read" not in viewer.source_a.message.value
    assert "conv 3x3, stride 2, 8 channels" in viewer.drawing_a.value  # drawn as any kind
    assert viewer.costs_a["params"] > 0 and "2 layers as searched" in viewer.costs_label_a.value


def test_malformed_pasted_json_is_a_one_line_error_not_an_exception():
    source = GenotypeViewer().source_a
    source.kind.value = "text"
    for text in (
        '{"kind": "nb201", "arch": 5}',
        '{"kind": "trellis", "path": [1, 0], "cell": [["sep_conv_3x3", 0], '
        '["skip_connect", 1]], "concat": 2, "num_scales": 2}',
        '{"kind": "dints", "node_a": [[1, 1], [1, 0]], "arch_code_a": [[1, 0, 0, 0]], '
        '"arch_code_c": [[1.9, 0, 0, 0]], "op_names": ["skip_connect", "conv_3x3x3"]}',
        '{"kind": "morph", "layers": [[3, 1, "x"]]}',
    ):
        source.text.value = text
        assert source.genotype is None and source.error and "\n" not in source.error, text


def test_a_pasted_nb101_spec_needs_no_kind():
    source = GenotypeViewer().source_a
    source.kind.value = "text"
    source.text.value = (
        '{"matrix": [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], '
        '"ops": ["input", "conv3x3-bn-relu", "maxpool3x3", "output"]}'
    )
    assert source.error == "" and source.genotype.kind == "nb101"


def test_closing_drops_a_redraw_still_waiting_and_every_widget():
    """A closed viewer builds no cost networks for a redraw scheduled before the close."""

    async def build_then_close():
        viewer = GenotypeViewer()  # in a running loop: its first redraw waits 0.05 s
        viewer.close()
        await asyncio.sleep(0.3)
        return viewer

    viewer = asyncio.run(build_then_close())
    assert viewer.drawing_a.value == "" and viewer.costs_label_a.value == ""
    assert viewer.comm is None and viewer.source_a.comm is None and viewer.drawing_a.comm is None


def test_a_network_too_large_to_build_shows_its_counts_instead(monkeypatch):
    from widgets import space_builder

    viewer = GenotypeViewer()
    params = viewer.costs_a["params"]
    # The limit below this network: as 40 cells at 512 channels are past 50 M.
    monkeypatch.setattr(space_builder, "LIVE_MAX_PARAMS", params - 1, raising=False)
    viewer.update()
    assert viewer.costs_a == {}
    text = viewer.costs_label_a.value
    assert f"~{params / 1e6:,.0f} M parameters" in text and "M MACs" in text
    assert "too large to build for a live preview" in text and "lower the" in text
    assert "<svg" in viewer.drawing_a.value  # the cell is drawn all the same


def _run_of(run_dir, dataset, genotypes, early_stop=None):
    from nasbench.runs import RunStore

    config = {"strategy": "darts", "space": {"name": "darts"}, "dataset": {"name": dataset}}
    with RunStore.create(run_dir, config, environment={}) as store:
        for epoch, genotype in enumerate(genotypes):
            store.log_genotype(epoch, (epoch + 1) * 10, genotype.to_json())
        if early_stop is not None:
            store.log_event("early_stop", early_stop, step=10 * len(genotypes))
    return str(run_dir)


def test_picking_another_run_with_the_same_genotype_recosts_it_in_that_run(tmp_path):
    genotype = zoo["DARTS_V2"]
    grey = _run_of(tmp_path / "a", "breastmnist", [genotype])  # 1 channel, 2 classes
    colour = _run_of(tmp_path / "b", "pathmnist", [genotype])  # 3 channels, 9 classes
    viewer = GenotypeViewer([grey, colour])
    viewer.n_cells.value, viewer.channels.value = 2, 4
    viewer.show_run(grey)
    grey_params = viewer.costs_a["params"]
    viewer.source_a.run.value = colour  # same genotype text, other data
    viewer.update_soon.flush()
    colour_params = viewer.costs_a["params"]
    viewer.update()  # what a full redraw gives
    assert colour_params == viewer.costs_a["params"] != grey_params


def test_show_run_preselects_the_genotype_an_early_stopped_search_returned(tmp_path):
    returned, collapsing = zoo["DARTS_V1"], zoo["DARTS_V2"]
    run_dir = _run_of(
        tmp_path / "rd", "breastmnist", [returned, collapsing, collapsing],
        early_stop={"rule": "eigenvalue", "epoch": 2, "return_epoch": 0},
    )  # fmt: skip
    viewer = GenotypeViewer()
    viewer.show_run(run_dir)
    assert viewer.source_a.epoch.value == 0
    assert viewer.source_a.genotype == returned
    plain = _run_of(tmp_path / "plain", "breastmnist", [returned, collapsing])
    viewer.show_run(plain)
    assert viewer.source_a.epoch.value == 1  # no early stop: the last one


def test_a_network_that_cannot_be_counted_ahead_is_not_built_for_its_costs(monkeypatch):
    import torch

    import nasbench.models
    from widgets import genotype_viewer

    real_build, built = nasbench.models.build, []

    def build(*args, **kwargs):
        if torch.empty(0).device.type == "meta":  # both ways of counting it ahead fail
            raise NotImplementedError("an op without a meta kernel")
        return real_build(*args, **kwargs)

    monkeypatch.setattr(nasbench.models, "build", build)
    monkeypatch.setattr(genotype_viewer, "genotype_costs", lambda *a: built.append(a) or {})
    viewer = GenotypeViewer()
    assert viewer.costs_a == {} and built == []  # its size unknown: not built
    text = viewer.costs_label_a.value
    assert "size cannot be checked ahead" in text and "without a meta kernel" in text
    assert "network_costs(" in text
    assert "<svg" in viewer.drawing_a.value  # the cell is drawn all the same


def _costs_held_until(monkeypatch, gates):
    """Make the viewer's costs wait, in its worker, for ``gates[name]`` of the genotype's
    zoo name (a threading.Event) before they are computed."""
    from widgets import genotype_viewer

    real = genotype_viewer.costs_line
    names = {zoo[name]: name for name in gates}

    def held(genotype, *args):
        gates[names[genotype]].wait(10)
        return real(genotype, *args)

    monkeypatch.setattr(genotype_viewer, "costs_line", held)


def test_costs_are_computed_in_a_worker_so_the_kernel_stays_free(monkeypatch):
    """In Jupyter a large network's costs do not freeze the kernel: the cell is drawn at
    once, the costs line says it is computing, and the counts follow."""
    import threading

    gate = threading.Event()
    _costs_held_until(monkeypatch, {"DARTS_V2": gate})

    async def session():
        viewer = GenotypeViewer()
        await asyncio.sleep(0.3)  # past the debounce: drawn, its costs held in the worker
        drawn, meanwhile = "<svg" in viewer.drawing_a.value, viewer.costs_label_a.value
        gate.set()
        for _ in range(250):  # the worker's result reaches the loop as a callback
            await asyncio.sleep(0.02)
            if "parameters" in viewer.costs_label_a.value:
                break
        return drawn, meanwhile, viewer.costs_label_a.value, viewer._costs_a

    drawn, meanwhile, line, costs = asyncio.run(session())
    assert drawn and "computing" in meanwhile
    expected = GenotypeViewer().costs_a  # no loop: computed at once
    assert (costs["params"], costs["macs"]) == (expected["params"], expected["macs"])
    assert f"{expected['params'] / 1e6:.3f} M</b> parameters" in line


def test_costs_of_a_genotype_no_longer_shown_are_dropped(monkeypatch):
    import threading

    first, second = threading.Event(), threading.Event()
    _costs_held_until(monkeypatch, {"DARTS_V2": first, "DARTS_V1": second})

    async def session():
        viewer = GenotypeViewer()
        await asyncio.sleep(0.3)  # DARTS_V2's costs held in the worker
        viewer.source_a.zoo.value = "DARTS_V1"
        await asyncio.sleep(0.3)  # redrawn: DARTS_V1's costs queued behind
        first.set()
        await asyncio.sleep(0.5)  # DARTS_V2's arrive, for a genotype no longer shown
        stale = viewer.costs_label_a.value, dict(viewer._costs_a)
        second.set()
        return stale, viewer.costs_a  # the read waits for the worker

    (stale_line, stale_costs), costs = asyncio.run(session())
    assert "computing" in stale_line and stale_costs == {}
    viewer = GenotypeViewer()
    viewer.source_a.zoo.value = "DARTS_V1"
    assert costs["params"] == viewer.costs_a["params"] != GenotypeViewer().costs_a["params"]
