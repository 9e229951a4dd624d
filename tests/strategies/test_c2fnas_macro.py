"""C2FNAS stage 1: proxy training scores topologies and the ranking orders them by loss."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from nasbench.data import get_info, load
from nasbench.data.batches import EpochBatches
from nasbench.evaluation.tasks import task_of_info
from nasbench.spaces import C2fnasSpace
from nasbench.strategies.topology import c2fnas as macro
from nasbench.viz.report import _topology_ranking

SPACE = {"num_cells": 4, "candidates": 3, "skeleton": {"depth": 1, "channels": 4}}


@pytest.fixture(scope="module")
def tiny():
    info = get_info("synthetic-seg3d")
    common = {"size": 32, "limit": 4, "seed": 0}
    train = EpochBatches(load(info.name, "search_train", **common), 2, 0, stream=0)
    val = EpochBatches(load(info.name, "search_val", **common), 2, 0, stream=1)
    task = task_of_info(info)
    return train, val, task, task.loss()


def _space(**kwargs):
    skeleton = {**SPACE["skeleton"], "num_classes": 3}
    return C2fnasSpace(**{**SPACE, "skeleton": skeleton, **kwargs})


def test_ranking_is_by_validation_loss_and_picks_the_lowest(monkeypatch):
    losses = {(0, 0, 1, 0): 0.7, (0, 1, 0, 0): 0.2, (0, 1, 1, 0): 0.5}

    def fake(space, levels, *args):
        return {"topology": list(levels), "val_loss": losses[levels]}

    monkeypatch.setattr(macro, "score_topology", fake)
    result = macro.macro_search(_space(), None, None, None, None, "cpu", seed=0)
    assert result.topology == (0, 1, 0, 0)
    assert [c["val_loss"] for c in result.candidates] == [0.2, 0.5, 0.7]
    assert [c["rank"] for c in result.candidates] == [0, 1, 2]
    assert result.to_dict()["topology"] == [0, 1, 0, 0]


def test_a_space_with_fewer_topologies_scores_all_and_the_report_says_so(monkeypatch):
    # 3 cells at depth 2 make one U-shaped topology; the run asked for 4 candidates.
    def fake(space, levels, *args):
        return {"topology": list(levels), "val_loss": 0.5}

    monkeypatch.setattr(macro, "score_topology", fake)
    space = _space(num_cells=3, candidates=4, skeleton={"depth": 2, "channels": 4})
    result = macro.macro_search(space, None, None, None, None, "cpu", seed=0)
    payload = result.to_dict()
    assert payload["requested"] == 4 and [c["topology"] for c in payload["candidates"]] == [
        [0, 1, 0]
    ]
    events = pd.DataFrame([{"kind": "c2fnas_topologies", "payload": payload}])
    page = _topology_ranking(SimpleNamespace(events=events))
    assert "only 1 U-shaped topology, so all were scored (4 candidates were asked for)" in page
    # as many as asked: no such sentence
    payload_full = {**payload, "requested": 1}
    events = pd.DataFrame([{"kind": "c2fnas_topologies", "payload": payload_full}])
    assert "were asked for" not in _topology_ranking(SimpleNamespace(events=events))


@pytest.mark.slow
def test_proxy_training_lowers_the_score_and_is_seeded(tiny):
    train, val, task, loss_fn = tiny
    untrained_space = _space(proxy_steps=1)
    untrained_space.proxy_steps = 0  # the untrained score; a user cannot ask for 0 steps
    untrained = macro.score_topology(untrained_space, (0, 1, 1, 0), *tiny, "cpu", 0)
    trained = macro.score_topology(_space(proxy_steps=4), (0, 1, 1, 0), *tiny, "cpu", 0)
    again = macro.score_topology(_space(proxy_steps=4), (0, 1, 1, 0), *tiny, "cpu", 0)
    assert trained["val_loss"] < untrained["val_loss"]
    assert {"val_dice", "val_hd95", "params"} <= set(trained)
    drop = ("seconds",)
    assert {k: v for k, v in trained.items() if k not in drop} == {
        k: v for k, v in again.items() if k not in drop
    }
    # a real tiny ranking: scores differ between topologies and come back sorted
    result = macro.macro_search(_space(proxy_steps=2), train, val, task, loss_fn, "cpu", 0)
    scores = [c["val_loss"] for c in result.candidates]
    assert scores == sorted(scores) and len(set(scores)) == len(scores) == 3
    assert result.topology == tuple(result.candidates[0]["topology"])
