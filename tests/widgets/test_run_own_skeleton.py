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
