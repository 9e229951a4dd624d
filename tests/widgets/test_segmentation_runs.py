"""The monitor and the alpha explorer over real trellis and C2FNAS run stores.

A trellis search records the cell's alphas (cell type ``cell``) and the scale weights
(cell type ``trellis``, kind ``beta``); a C2FNAS search records stage 1 as a
``c2fnas_topologies`` event and stage 2 as the alphas of cell type ``cells``.
"""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.engine.search import search
from widgets.alpha_explorer import AlphaExplorer
from widgets.monitor import RunMonitor

# 2 layers over 2 scales: L1 s0 (same), L1 s1 (down), L2 s0 (same, up), L2 s1 (down, same).
TRELLIS_NODES = ["L1 s0", "L1 s1", "L2 s0", "L2 s1"]


@pytest.fixture(scope="module")
def trellis_run(tmp_path_factory, tiny_segmentation_config):
    run_dir = tmp_path_factory.mktemp("trellis") / "run"
    search(tiny_segmentation_config("trellis"), run_dir, progress=False)
    return run_dir


@pytest.fixture(scope="module")
def c2fnas_run(tmp_path_factory, tiny_segmentation_config):
    run_dir = tmp_path_factory.mktemp("c2fnas") / "run"
    search(tiny_segmentation_config("c2fnas"), run_dir, progress=False)
    return run_dir


@pytest.mark.slow
def test_the_explorer_offers_the_trellis_betas(trellis_run):
    explorer = AlphaExplorer(trellis_run)
    assert explorer.cell_type.options == ("cell", "trellis")
    assert explorer.kind.value == "alpha" and explorer.edges == ["0->2", "1->2"]
    explorer.cell_type.value = "trellis"
    # The trellis records betas only: the kind follows, and no empty alpha view is offered.
    assert explorer.kind.options == ("beta",) and explorer.kind.value == "beta"
    assert explorer.edges == TRELLIS_NODES and explorer.ops == ["same", "down", "up"]
    weights = np.nan_to_num(explorer.cube[-1])
    assert np.allclose(weights.sum(axis=1), 1.0)  # a softmax over each node's transitions
    assert "trellis cell beta" in explorer.heatmap.layout.title.text
    explorer.cell_type.value = "cell"
    # The cell has betas too (PC-DARTS's edge weights): the chosen kind stays.
    assert explorer.kind.options == ("alpha", "beta") and explorer.kind.value == "beta"
    assert explorer.edges == ["0->2", "1->2"] and explorer.ops == ["beta"]


@pytest.mark.slow
def test_the_monitor_draws_the_trellis_betas_and_its_genotype(trellis_run):
    monitor = RunMonitor(trellis_run)
    assert monitor.status == "finished" and monitor.error.value == ""
    assert monitor.cell_type.options == ("cell", "trellis")
    monitor.cell_type.value = "trellis"
    figure = monitor.alpha_figure
    assert "beta" in figure.layout.title.text and "trellis" in figure.layout.title.text
    # One line per incoming transition of each node: 1 + 1 + 2 + 2.
    assert sorted({t.meta for t in figure.data}) == TRELLIS_NODES and len(figure.data) == 6
    assert all(len(t.x) == 2 for t in figure.data)  # both snapshots
    # L1 s0 has one transition: weight 1, so 0 as a change from uniform.
    (only,) = [t for t in figure.data if t.meta == "L1 s0"]
    assert np.allclose(only.y, 0.0)
    assert "<svg" in monitor.genotype.value and monitor.stages.value == ""


@pytest.mark.slow
def test_the_monitor_and_explorer_show_both_c2fnas_stages(c2fnas_run):
    from nasbench.runs import load

    with load(c2fnas_run) as run:
        stage1 = run.events[run.events.kind == "c2fnas_topologies"].iloc[0].payload
    chosen = "-".join(map(str, stage1["topology"]))
    monitor = RunMonitor(c2fnas_run)
    assert monitor.status == "finished" and monitor.error.value == ""
    assert f"chose {chosen}" in monitor.stages.value
    for candidate in stage1["candidates"]:
        assert "-".join(map(str, candidate["topology"])) in monitor.stages.value
    assert monitor.cell_type.options == ("cells",)
    cells = [f"c{k}@L{level}" for k, level in enumerate(stage1["topology"])]
    assert sorted({t.meta for t in monitor.alpha_figure.data}) == sorted(cells)
    assert "<svg" in monitor.genotype.value
    explorer = AlphaExplorer(c2fnas_run)
    assert explorer.cell_type.options == ("cells",) and sorted(explorer.edges) == sorted(cells)
    assert explorer.ops == ["vnas_2d_3x3", "vnas_3d_3x3", "vnas_p3d_3x3"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fixture", "dataset", "size"),
    [("trellis_run", "synthetic-seg", 28), ("c2fnas_run", "synthetic-seg3d", 32)],
)
def test_the_genotype_viewer_costs_a_runs_genotype_in_the_runs_skeleton(
    request, fixture, dataset, size, tiny_segmentation_config
):
    from nasbench.data import get_info
    from nasbench.models import build, count_parameters
    from nasbench.spaces import UNetSkeleton
    from widgets.genotype_viewer import GenotypeViewer

    run_dir = request.getfixturevalue(fixture)
    info = get_info(dataset)
    viewer = GenotypeViewer()
    viewer.set_dataset(info, size)
    viewer.show_run(run_dir)
    genotype = viewer.source_a.genotype
    assert genotype.kind == fixture.split("_")[0] and "<svg" in viewer.drawing_a.value
    config = tiny_segmentation_config(fixture.split("_")[0])
    frame = config.space["skeleton"]
    skeleton = UNetSkeleton(
        **frame, in_channels=info.in_channels, num_classes=info.num_classes,
        spatial_dims=info.spatial_dims,
    )  # fmt: skip
    assert viewer.costs_a["params"] == count_parameters(build(genotype, skeleton))
    assert f"depth {frame['depth']}, C={frame['channels']}" in viewer.costs_label_a.value
    # Pasted, the genotype alone fixes the depth; the viewer's channels give the width.
    viewer.source_a.kind.value = "text"
    viewer.source_a.text.value = genotype.to_json()
    assert viewer.costs_a["params"] > 0 and "costs:" not in viewer.costs_label_a.value
