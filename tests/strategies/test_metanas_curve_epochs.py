"""METANAS's adaptation-curve events carry the run's meta-epoch, never an episode index."""

from __future__ import annotations

import pandas as pd
import pytest

import nasbench
from nasbench.config import SearchConfig
from nasbench.engine.search import search
from nasbench.strategies.meta import adaptation_curves
from tests.strategies.conftest import TINY_METANAS_SPACE

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# Four scored episodes with curves: more than the run's two epochs.
META = {"meta_steps": 1, "meta_batch_size": 2, "inner_steps": 1, "test_inner_steps": 1,
        "test_episodes": 4, "curve_episodes": 4, "val_episodes": 1, "n_query": 3}  # fmt: skip


@pytest.mark.slow
def test_meta_test_curves_store_no_epoch_and_meta_epoch_curves_their_own(tmp_path):
    epochs = 2
    config = SearchConfig(
        dataset={"name": "synthetic-multiclass", "limit": 200},
        space=TINY_METANAS_SPACE,
        strategy="metanas",
        strategy_config=META,
        epochs=epochs,
        device="cpu",
    )
    search(config, tmp_path / "run")
    with nasbench.runs.load(tmp_path / "run") as run:
        events = run.events
        curves = events[events["kind"] == "adaptation_curve"]
        phases = curves["payload"].map(lambda p: p["phase"])
        meta_test = curves[phases == "meta-test"]
        # Four scored episodes (more than the run has epochs): their index is the payload's.
        assert sorted({p["episode"] for p in meta_test["payload"]}) == [0, 1, 2, 3]
        assert meta_test["epoch"].isna().all()
        assert set(curves.loc[phases == "meta-epoch", "epoch"]) == set(range(epochs))
        table = adaptation_curves(run, phase="meta-test")
        assert pd.isna(table["epoch"]).all() and set(table["episode"]) == {0, 1, 2, 3}
