"""Shared fixtures: the real MedMNIST files in ../shared and a private data cache."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_MEDMNIST = REPO_ROOT.parent / "shared" / "data" / "medmnist"


# pytest-xdist's "worksteal" scheduler (see pytest_configure) hands each worker a
# contiguous share of the tests in collection order and, once one runs dry, moves half of
# the other's unstarted share to it. A lesson that runs for minutes, collected late,
# would start last and leave one worker running it alone; so the lessons and the browser
# tests go first, and the short tests behind them are what moves between the workers.
LONG_FOLDERS = ("notebooks", "browser")  # folders under tests/ whose tests take minutes


def runs_for_minutes(item: pytest.Item) -> bool:
    """Whether ``item`` is a lesson or a browser test (collected first)."""
    tests = REPO_ROOT / "tests"
    if not item.path.is_relative_to(tests):  # e.g. doctests collected from nasbench/
        return False
    folder = item.path.relative_to(tests).parts[0]
    return folder in LONG_FOLDERS and ("slow" in item.keywords or "browser" in item.keywords)


def pytest_configure(config: pytest.Config) -> None:
    # `-n 2` alone picks xdist's "load" scheduler, which fixes each worker's share up
    # front; switched here rather than by `--dist worksteal` in pyproject's addopts, so
    # that a run without xdist (`-p no:xdist`) still starts. An explicit --dist is kept.
    given = [*config.invocation_params.args, *os.environ.get("PYTEST_ADDOPTS", "").split()]
    explicit = any(arg.startswith("--dist") for arg in given)
    if getattr(config.option, "dist", "no") == "load" and not explicit:
        config.option.dist = "worksteal"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: not runs_for_minutes(item))  # stable: files keep their order


@pytest.fixture
def shared_medmnist() -> Path:
    """Folder holding the official breastmnist.npz and pneumoniamnist.npz."""
    if not (SHARED_MEDMNIST / "breastmnist.npz").exists():
        pytest.skip(f"real MedMNIST files not found in {SHARED_MEDMNIST}")
    return SHARED_MEDMNIST


@pytest.fixture(autouse=True)
def private_data_cache(tmp_path_factory, monkeypatch) -> Path:
    """Point NASBENCH_DATA at an empty folder so no test touches ~/.cache."""
    cache = tmp_path_factory.mktemp("nasbench-cache")
    monkeypatch.setenv("NASBENCH_DATA", str(cache))
    return cache


@pytest.fixture
def home_and_work(tmp_path, monkeypatch) -> tuple[Path, Path]:
    """``(home, work)``: empty folders; HOME is the first and the current folder the
    second, so a test sees where a path with ``~`` lands."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    return home, work


@pytest.fixture
def autohas_run(tmp_path) -> Path:
    """A finished AutoHAS-like run folder: 4 candidates whose policy moves onto lr=0.1."""
    import numpy as np

    from nasbench.runs import RunStore
    from nasbench.spaces import NB201Space

    run_dir = tmp_path / "runs" / "autohas-1"
    space, rng = NB201Space(), np.random.default_rng(0)
    config = {"strategy": {"name": "autohas"}, "space": {"name": "nb201"}}
    with RunStore.create(run_dir, config, environment={}) as store:
        store.set_status("running")
        for k, p in enumerate((0.5, 0.6, 0.7, 0.8)):
            policy = {"lr": {"0.01": 1 - p, "0.1": p}, "batch_size": {"16": 0.5, "32": 0.5}}
            hps = {"lr": 0.1, "batch_size": 16}
            store.log_candidate(k, space.sample(rng).to_json(), {"score": p}, {"wall_s": 0.1},
                                info={"hp": hps, "hp_probs": policy})  # fmt: skip
        store.set_status("finished")
    return run_dir


@pytest.fixture(scope="session")
def load_benchmark():
    """A function that imports ``benchmarks/<name>.py`` as a module, once per session.

    The module stays in ``sys.modules`` until the session ends: dataclasses defined in
    a script look their module up there.
    """
    loaded: dict[str, object] = {}
    # A script imports its siblings (benchmarks/_script.py) as `python benchmarks/x.py`
    # finds them: its folder first on the path.
    folder = str(REPO_ROOT / "benchmarks")
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)

    def load(name: str):
        if name not in loaded:
            spec = importlib.util.spec_from_file_location(
                f"nasbench_bench_{name}", REPO_ROOT / "benchmarks" / f"{name}.py"
            )
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
            loaded[name] = module
        return loaded[name]

    yield load
    for name in loaded:
        sys.modules.pop(f"nasbench_bench_{name}", None)
    if added:
        sys.path.remove(folder)


@pytest.fixture(scope="session")
def tiny_segmentation_config():
    """A function ``name -> SearchConfig``: the smallest trellis ("trellis", 2D) and C2FNAS
    ("c2fnas", 3D) searches that still record every kind of row (a new config per call)."""
    from nasbench.config import DatasetConfig, SearchConfig

    def make(name: str) -> SearchConfig:
        if name == "trellis":
            return SearchConfig(
                dataset=DatasetConfig(name="synthetic-seg", size=28, limit=4, batch_size=2),
                space={"name": "trellis", "num_layers": 2, "ops": ["skip_connect", "sep_conv_3x3"],
                       "n_nodes": 1, "skeleton": {"depth": 1, "channels": 4}},
                strategy="pcdarts", strategy_config={"k": 2}, epochs=1, max_steps_per_epoch=2,
                seed=0,
            )  # fmt: skip
        return SearchConfig(
            dataset=DatasetConfig(name="synthetic-seg3d", size=32, limit=4, batch_size=2),
            space={"name": "c2fnas", "num_cells": 4, "candidates": 2, "proxy_steps": 1,
                   "skeleton": {"depth": 1, "channels": 2}},
            strategy="darts", epochs=1, max_steps_per_epoch=1, w_lr=0.05, seed=0,
        )  # fmt: skip

    return make


def two_class_png_folder(root: Path, per_class: int) -> Path:
    """Write a ``folder:`` dataset of ``per_class`` random 28x28 grey PNGs in ``benign/`` and
    ``malignant/`` under ``root`` (seeded: the same bytes every time) and return ``root``."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for label in ("benign", "malignant"):
        (root / label).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 255, (28, 28), dtype=np.uint8)
            Image.fromarray(pixels).save(root / label / f"patient{i}.png")
    return root
