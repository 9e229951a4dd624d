"""grad_clip = 0 turns clipping off in a search, as it does in TrainConfig and ENAS."""

from __future__ import annotations

import nasbench
from nasbench.config import DatasetConfig, SearchConfig


def _search(tmp_path, name: str, grad_clip: float):
    config = SearchConfig(
        dataset=DatasetConfig(name="synthetic", limit=32, batch_size=8),
        space={"name": "darts", "n_nodes": 2, "skeleton": {"n_cells": 2, "channels": 4}},
        epochs=1,
        max_steps_per_epoch=2,
        grad_clip=grad_clip,
        w_lr=0.5,  # large steps, so clipping at a small norm would change the numbers
    )
    nasbench.search(config, tmp_path / name)
    with nasbench.runs.load(tmp_path / name) as run:
        return run.history.query("phase == 'train'")["value"].tolist()


def test_grad_clip_zero_means_no_clipping(tmp_path):
    off = _search(tmp_path, "off", 0.0)
    assert off == _search(tmp_path, "huge", 1e30)  # a bound never reached: the same numbers
    assert off != _search(tmp_path, "tight", 1e-3)  # clipping does change them
