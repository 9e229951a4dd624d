"""A run's genotype in the monitor and the genotype viewer is drawn and costed as the run
searched it: a reconstruction run's own cascades, a 3D run's own data (not the viewer's
dataset picker)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from nasbench.runs import RunStore
from widgets.genotype_viewer import GenotypeViewer
from widgets.monitor import RunMonitor


def _run(run_dir, space: dict, dataset: str):
    """A finished run store with one genotype of ``space`` (sampled) and its config."""
    from nasbench.spaces import create_space

    kwargs = {k: v for k, v in space.items() if k != "name"}
    genotype = create_space(space["name"], **kwargs).sample(np.random.default_rng(0))
    config = {"strategy": "gdas", "space": space, "dataset": {"name": dataset}}
    with RunStore.create(run_dir, config, environment={}) as store:
        store.set_status("running")
        store.log_genotype(0, 1, genotype.to_json(), {})
        store.set_status("finished")
    return run_dir, genotype


def _cascades(text: str) -> list[str]:
    return sorted(set(re.findall(r"DC \d", text)))


def test_a_reconstruction_runs_own_cascades_are_drawn_in_the_monitor_and_viewer(tmp_path):
    space = {"name": "unrolled", "n_nodes": 1, "skeleton": {"cascades": 2, "channels": 4}}
    run_dir, _ = _run(tmp_path / "recon", space, "synthetic-recon")
    monitor = RunMonitor(run_dir)
    monitor.poll_once()
    assert _cascades(monitor.genotype.value) == ["DC 1", "DC 2"]  # not draw_unrolled's 3
    viewer = GenotypeViewer([str(run_dir)])
    viewer.show_run(run_dir)
    viewer.update()
    assert _cascades(viewer.drawing_a.value) == ["DC 1", "DC 2"]


@pytest.mark.parametrize(
    "space",
    [
        {"name": "dints", "num_blocks": 2, "skeleton": {"depth": 2, "channels": 4}},
        {"name": "c2fnas", "num_cells": 4, "skeleton": {"depth": 1, "channels": 2}},
    ],
)
def test_a_3d_runs_genotype_is_costed_in_the_runs_own_data(tmp_path, space):
    from nasbench.data import get_info
    from nasbench.models import build, count_parameters
    from nasbench.spaces import UNetSkeleton

    run_dir, genotype = _run(tmp_path / space["name"], space, "synthetic-seg3d")
    info = get_info("synthetic-seg3d")
    viewer = GenotypeViewer()  # its dataset: the default 2D, 2 classes
    viewer.show_run(run_dir)
    viewer.update()
    skeleton = UNetSkeleton(
        **space["skeleton"], in_channels=info.in_channels, num_classes=info.num_classes,
        spatial_dims=3,
    )  # fmt: skip
    assert "costs:" not in viewer.costs_label_a.value
    assert viewer.costs_a["params"] == count_parameters(build(genotype, skeleton))
    assert "3D" in viewer.costs_label_a.value
    assert viewer.dataset["spatial_dims"] == 2  # the picker's dataset is left as it was


def _costed(space: dict, dataset: dict, tmp_path, evaluator: dict | None = None):
    """A viewer showing a run of ``space`` on ``dataset``, and that run's genotype."""
    from nasbench.spaces import create_space

    kwargs = {k: v for k, v in space.items() if k != "name"}
    genotype = create_space(space["name"], **kwargs).sample(np.random.default_rng(0))
    config = {"strategy": "darts", "space": space, "dataset": dataset}
    if evaluator is not None:  # a discrete search: candidates, built by its evaluator
        config.update(strategy="random", evaluator="train", evaluator_config=evaluator)
    with RunStore.create(tmp_path / space["name"], config, environment={}) as store:
        store.log_genotype(0, 1, genotype.to_json(), {})
        if evaluator is not None:
            store.log_candidate(0, genotype, {"score": 0.5}, {})
    viewer = GenotypeViewer()  # its controls: 8 cells, 16 channels, 28 px
    viewer.show_run(tmp_path / space["name"])
    viewer.update()
    return viewer, genotype


def _costs(viewer) -> dict:
    return {k: viewer.costs_a[k] for k in ("params", "macs")}


def _counts(network, in_channels: int, size: int) -> dict:
    from nasbench.models import count_macs, count_parameters

    return {"params": count_parameters(network),
            "macs": count_macs(network, (1, in_channels, size, size))}  # fmt: skip


def test_a_cell_stack_runs_genotype_is_costed_in_its_skeleton_at_its_image_size(tmp_path):
    from nasbench.models import build
    from nasbench.spaces import Skeleton

    space = {"name": "darts", "n_nodes": 2, "skeleton": {"n_cells": 2, "channels": 4}}
    viewer, genotype = _costed(space, {"name": "synthetic", "size": 32}, tmp_path)
    expected = _counts(build(genotype, Skeleton(n_cells=2, channels=4)), 1, 32)
    assert _costs(viewer) == expected
    text = viewer.costs_label_a.value
    assert "(2 cells, C=4, 32px, as the run searched)" in text
    viewer.n_cells.value, viewer.image_size.value = 5, 28  # the controls frame other sources
    assert _costs(viewer) == expected
    viewer.source_a.kind.value = "text"
    viewer.source_a.text.value = genotype.to_json()
    assert "(5 cells, C=16, 28px)" in viewer.costs_label_a.value
    assert viewer.costs_a["params"] != expected["params"]


def test_an_alb_runs_genotype_is_costed_as_its_detector(tmp_path):
    from nasbench.spaces import create_space

    space = {"name": "alb", "n_nodes": 2, "head_width": 8, "skeleton": {"channels": 4}}
    viewer, genotype = _costed(space, {"name": "synthetic-lesions", "size": 32}, tmp_path)
    alb = create_space("alb", n_nodes=2, head_width=8, skeleton={"channels": 4})
    assert _costs(viewer) == _counts(alb.build(genotype), 1, 32)
    assert "(3 cells, C=4, 32px, as the run searched)" in viewer.costs_label_a.value


def test_a_discrete_runs_genotype_is_costed_in_its_evaluators_skeleton(tmp_path):
    from nasbench.models import build
    from nasbench.spaces import Skeleton

    evaluator = {"skeleton": {"n_cells": 2, "channels": 4}}
    viewer, genotype = _costed({"name": "nb201"}, {"name": "synthetic"}, tmp_path, evaluator)
    assert _costs(viewer) == _counts(build(genotype, Skeleton(n_cells=2, channels=4)), 1, 28)
    assert "(2 cells, C=4, 28px, as the run searched)" in viewer.costs_label_a.value


def test_a_genotype_its_runs_space_cannot_build_says_the_controls_frame_it(tmp_path):
    from nasbench.spaces import create_space

    space = {"name": "darts", "n_nodes": 2, "skeleton": {"n_cells": 2, "channels": 4}}
    viewer, _ = _costed(space, {"name": "synthetic", "size": 32}, tmp_path)
    # As a localisation search logs its shared cell: fewer nodes than the config's space.
    other = create_space("darts", n_nodes=1).sample(np.random.default_rng(0))
    with RunStore.open(tmp_path / "darts") as store:
        store.log_genotype(1, 2, other.to_json(), {})
    viewer.show_run(tmp_path / "darts")
    viewer.update()
    assert viewer.costs_a["params"] > 0
    text = viewer.costs_label_a.value
    assert "(8 cells, C=16, 28px; the controls' frame: the run's space does not build it)" in text


def test_a_run_whose_frame_cannot_be_rebuilt_is_costed_in_its_recorded_skeleton(tmp_path):
    from nasbench.models import build, count_parameters
    from nasbench.spaces.recon import ReconSkeleton

    space = {"name": "unrolled", "n_nodes": 1, "skeleton": {"cascades": 2, "channels": 4}}
    # Its folder has moved since: the run's data, so its frame, cannot be rebuilt.
    run_dir, genotype = _run(tmp_path / "recon", space, "folder:/moved/away")
    viewer = GenotypeViewer([str(run_dir)])
    viewer.show_run(run_dir)
    viewer.update()
    assert _cascades(viewer.drawing_a.value) == ["DC 1", "DC 2"]
    recorded = build(genotype, ReconSkeleton(cascades=2, channels=4), seed=0)
    assert viewer.costs_a["params"] == count_parameters(recorded)  # as drawn, not 3 cascades
    assert "cannot be rebuilt: the recorded skeleton" in viewer.costs_label_a.value
