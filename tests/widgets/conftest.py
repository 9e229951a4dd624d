"""Fixtures for the widget tests: a small hand-written run store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

OPS = ["none", "skip_connect", "sep_conv_3x3"]
EDGES = ["0->2", "1->2"]
# Normal cell of 2 nodes x 2 inputs; three of four edges are parameter-free (collapse pattern).
GENOTYPE = (
    "Genotype(normal=[('skip_connect', 0), ('skip_connect', 1), ('max_pool_3x3', 0), "
    "('sep_conv_3x3', 2)], normal_concat=range(2, 4), reduce=[('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 1), ('skip_connect', 2), ('sep_conv_3x3', 0)], reduce_concat=range(2, 4))"
)


def write_snapshot(store, step: int, sharpness: float) -> None:
    """One alpha snapshot per cell; ``sharpness`` pushes weight onto sep_conv_3x3."""
    raw = np.array([[0.0, 0.0, sharpness], [0.0, sharpness / 2, 0.0]])
    for cell in ("normal", "reduce"):
        store.log_alphas(step, step // 2, cell, raw, OPS, EDGES)


@pytest.fixture
def fake_run(tmp_path) -> Path:
    """A finished run folder: 3 alpha snapshots, train/val metrics, 2 genotypes, events."""
    from nasbench.runs import RunStore
    from nasbench.spaces import parse_genotype

    run_dir = tmp_path / "runs" / "fake-1"
    config = {"dataset": {"name": "synthetic"}, "strategy": "darts"}
    with RunStore.create(run_dir, config, environment={}) as store:
        store.set_status("running")
        for step, sharpness in ((0, 0.0), (1, 1.0), (2, 3.0)):
            write_snapshot(store, step, sharpness)
            store.log_metrics(step, step // 2, "train", {"loss": 1.0 / (step + 1), "acc": 0.5})
            store.set_progress(step, 2, step // 2, 2)
        genotype = parse_genotype(GENOTYPE).to_json()
        for epoch, eigen in ((0, 0.1), (1, 0.5)):
            store.log_metrics(
                2, epoch, "val", {"val_acc": 0.6 + epoch / 10, "hessian_eigenvalue": eigen}
            )
            store.log_genotype(epoch, 2, genotype, {"val_acc": 0.6})
        store.log_event("early_stop", {"epoch": 1, "return_epoch": 0, "rule": "RobustDARTS"})
        store.set_status("finished")
    return run_dir


@pytest.fixture
def snapshot_writer():
    """The function that writes one alpha snapshot per cell into a store."""
    return write_snapshot


@pytest.fixture
def started(monkeypatch):
    """Record the launcher's start_process calls instead of starting a search."""
    from widgets import launcher as launcher_module

    calls = []

    class _Done:
        pid = 1234

        def poll(self):
            return 0

    def fake_start(args, run_dir):
        calls.append((args, run_dir))
        return _Done()

    monkeypatch.setattr(launcher_module, "start_process", fake_start)
    return calls


def _registry() -> dict:
    """The kernel's widget registry (``_instances`` since ipywidgets 8.1)."""
    from ipywidgets import Widget
    from ipywidgets.widgets import widget

    return widget._instances if hasattr(widget, "_instances") else Widget.widgets


def _fds_to(path) -> list[str] | None:
    """The open file descriptors pointing into ``path`` (None where /proc is absent)."""
    import os

    fd_dir = Path("/proc/self/fd")
    if not fd_dir.is_dir():
        return None
    links = []
    for fd in os.listdir(fd_dir):
        try:
            links.append(os.readlink(fd_dir / fd))
        except OSError:
            pass  # closed since listdir
    return [link for link in links if link.startswith(str(path))]


@pytest.fixture
def widget_registry():
    """A function giving the kernel's widget registry, to count what a view leaves open."""
    return _registry


@pytest.fixture
def fds_to():
    """A function ``path -> [open descriptors into it]`` (None where /proc is absent)."""
    return _fds_to


def unnamed_controls(root) -> list[str]:
    """Controls under ``root`` that a screen reader could not name: no description and no
    Label just before them in their row."""
    import ipywidgets as widgets

    shown = (widgets.HTML, widgets.HTMLMath, widgets.Label)  # text, not controls
    unnamed, stack = [], [(root, None)]
    while stack:
        widget, before = stack.pop()
        control = isinstance(widget, (widgets.ValueWidget, widgets.Button))
        if control and not isinstance(widget, shown):
            label = isinstance(before, widgets.Label) and before.value.strip()
            if not (getattr(widget, "description", "") or "").strip() and not label:
                unnamed.append(type(widget).__name__)
        children = list(getattr(widget, "children", ()) or ())
        stack.extend(zip(children, [None, *children], strict=False))  # each, the one before
    return unnamed
