"""Shared fixtures: the real MedMNIST files in ../shared and a private data cache."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_MEDMNIST = REPO_ROOT.parent / "shared" / "data" / "medmnist"


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
