"""Evaluator registry, table lookup, training, successive halving/Hyperband, weight sharing."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch

from nasbench.bench import synthetic_nb201_table
from nasbench.errors import ConfigError, SpaceError
from nasbench.evaluation import Result, create_evaluator, evaluator_names
from nasbench.evaluation.table_lookup import TableEvaluator
from nasbench.evaluation.weight_sharing import WeightSharingConfig, WeightSharingEvaluator
from nasbench.spaces import CellSpace, ChainSpace, NB101Space, NB201Space
from nasbench.spaces.skeleton import Skeleton
from nasbench.strategies.discrete.halving import Hyperband, SuccessiveHalving

TINY = Skeleton(n_cells=5, channels=4)


@pytest.fixture(scope="module")
def small_table():
    return synthetic_nb201_table(
        seed=0, epochs=9, space=NB201Space(ops=["none", "nor_conv_1x1", "nor_conv_3x3"])
    )


class CountingEvaluator:
    """Score = a fixed quality per genotype, blurred at small budgets; counts epochs trained."""

    def __init__(self, space):
        self.space = space
        self.epochs = 0
        self.calls = []

    def quality(self, g) -> float:
        return float(np.random.default_rng(zlib.crc32(g.to_json().encode())).random())

    def evaluate(self, g, budget=None):
        budget = int(budget)
        self.epochs += budget
        self.calls.append((g, budget))
        return Result({"score": self.quality(g) * (1 - 0.1 / budget)}, {"epochs": float(budget)})


def test_registry_names_and_errors():
    assert evaluator_names() == ("proxy", "smash", "table", "train", "weight_sharing")
    with pytest.raises(ConfigError, match="Did you mean 'table'"):
        create_evaluator("tabel")
    with pytest.raises(ConfigError, match="has no option 'metrc'.*Did you mean 'metric'"):
        create_evaluator("table", {"metrc": "val_acc"})
    with pytest.raises(ConfigError, match="needs a search space"):
        create_evaluator("train")
    with pytest.raises(ConfigError, match="seed"):
        create_evaluator("table", seed=-1)


def test_table_evaluator_reads_epochs_and_simulates_time(small_table):
    ev = create_evaluator("table", table=small_table)
    g = NB201Space(ops=["none", "nor_conv_1x1", "nor_conv_3x3"]).sample(np.random.default_rng(0))
    row = small_table.query(g, epoch=3)
    r = ev.evaluate(g, budget=3)
    assert r.score == row["val_acc"] and r.metrics["test_acc"] == row["test_acc"]
    assert r.cost["epochs"] == 3 and r.cost["wall_s"] == pytest.approx(
        3 * row["train_seconds_per_epoch"]
    )
    assert ev.evaluate(g).info["epoch"] == 9
    with pytest.raises(ConfigError, match="exceeds the table's last epoch 9"):
        ev.evaluate(g, budget=10)
    with pytest.raises(ConfigError, match="whole number"):
        ev.evaluate(g, budget=1.5)
    with pytest.raises(ConfigError, match="unknown metric 'acc'"):
        create_evaluator("table", {"metric": "acc"}, table=small_table)


def test_a_table_reports_the_costs_of_the_cell_asked_for_not_of_its_class(small_table):
    from nasbench.models import build, count_macs, count_parameters

    space = small_table.space
    # A convolution fed only by a node that nothing reaches: the class's measured member
    # has 'none' there, but this cell's network still holds the convolution.
    g = space.validate("|none~0|+|none~0|none~1|+|none~0|nor_conv_3x3~1|none~2|")
    row = small_table.query(g)
    assert row["genotype_json"] != g.to_json()
    cost = create_evaluator("table", table=small_table).evaluate(g).cost
    model = build(g, space.skeleton, seed=0)
    assert cost["params"] == count_parameters(model) > row["params"]
    assert cost["macs"] == count_macs(model, (1, 1, 28, 28)) > row["macs"]


def test_successive_halving_spends_exactly_its_claim_and_keeps_the_best():
    space = NB201Space()
    rng = np.random.default_rng(0)
    candidates = [space.sample(rng) for _ in range(20)]
    sh = SuccessiveHalving(min_budget=1, max_budget=9, eta=3)
    assert sh.plan(20) == [(20, 1), (6, 3), (2, 9)]
    ev = CountingEvaluator(space)
    report = sh.run(ev, candidates)
    assert ev.epochs == report.spent_budget == report.planned_budget == sh.planned_budget(20) == 56
    assert report.best == max(candidates, key=ev.quality)
    assert len(report.to_frame()) == 28


def test_hyperband_spends_exactly_its_claim():
    space = NB201Space()
    hb = Hyperband(min_budget=1, max_budget=9, eta=3)
    assert hb.brackets() == [(9, 1), (5, 3), (3, 9)] and hb.n_candidates() == 17
    ev = CountingEvaluator(space)
    report = hb.run(ev, space, seed=0)
    assert ev.epochs == report.spent_budget == report.planned_budget == hb.planned_budget()
    finalists = {g for g, b in ev.calls if b == 9}
    assert report.best == max(finalists, key=ev.quality)
    assert {b for _, b in ev.calls} == {1, 3, 9}


def test_halving_on_a_table_and_bad_input(small_table):
    ev = TableEvaluator(table=small_table)
    space = small_table.space
    report = Hyperband(1, 9, 3).run(ev, space, seed=1)
    assert report.spent_budget == report.planned_budget
    with pytest.raises(ConfigError, match="eta"):
        SuccessiveHalving(1, 9, eta=1)
    with pytest.raises(ConfigError, match="below min_budget"):
        SuccessiveHalving(5, 2)
    with pytest.raises(ConfigError, match="at least one candidate"):
        SuccessiveHalving().run(ev, [])
    with pytest.raises(ConfigError, match="needs 17 candidates, got 2"):
        Hyperband(1, 9, 3).run(ev, [space.sample(np.random.default_rng(0))] * 2)


def test_train_evaluator_partial_training():
    space = NB201Space(ops=["none", "nor_conv_3x3"], skeleton=TINY)
    ev = create_evaluator(
        "train",
        {"epochs": 3, "limit": 32, "batch_size": 16, "device": "cpu"},
        space=space,
        dataset="synthetic",
        seed=0,
    )
    g = space.sample(np.random.default_rng(1))
    r = ev.evaluate(g, budget=1)
    assert r.cost["epochs"] == 1 and len(r.info["history"]) == 1
    assert 0 <= r.score <= 1 and r.cost["params"] > 0 and r.cost["macs"] > 0
    assert r.score == r.metrics["val_auc"]  # ranked by AUC, MedMNIST's main metric
    again = ev.evaluate(g, budget=1)
    assert again.metrics == r.metrics  # same seed, same result on CPU
    with pytest.raises(ConfigError, match="1..3"):
        ev.evaluate(g, budget=4)


@pytest.mark.parametrize("metric, select", [("val_acc", "acc"), ("val_auc", "auc")])
def test_a_train_evaluator_keeps_the_best_epoch_by_its_own_metric(monkeypatch, metric, select):
    from nasbench.evaluation import train_loop

    seen = []
    original = train_loop.train_model

    def recorded(model, train, val, test, task, config, **kwargs):
        seen.append(config.select)
        return original(model, train, val, test, task, config, **kwargs)

    monkeypatch.setattr(train_loop, "train_model", recorded)
    space = NB201Space(ops=["none", "nor_conv_3x3"], skeleton=TINY)
    ev = create_evaluator(
        "train",
        {"epochs": 2, "limit": 32, "batch_size": 16, "device": "cpu", "metric": metric},
        space=space,
        dataset="synthetic",
        seed=0,
    )
    r = ev.evaluate(space.sample(np.random.default_rng(1)))
    assert seen == [select] and r.score == r.metrics[metric]


def _weights(net):
    return {k: v.detach().clone() for k, v in net.named_parameters()}


@pytest.mark.parametrize(
    "space",
    [
        NB201Space(ops=["none", "skip_connect", "nor_conv_3x3"], skeleton=TINY),
        CellSpace(
            n_nodes=2,
            ops=["none", "skip_connect", "sep_conv_3x3"],
            skeleton=Skeleton(n_cells=3, channels=4),
        ),
        NB101Space(n_vertices=5, skeleton=Skeleton(n_cells=3, channels=4)),
    ],
    ids=["nb201", "darts", "nb101"],
)
def test_weight_sharing_scores_with_inherited_weights(space):
    cfg = WeightSharingConfig(epochs=1, batch_size=16, limit=32, device="cpu")
    ev = WeightSharingEvaluator(cfg, space=space, dataset="synthetic", seed=0)
    rng = np.random.default_rng(3)
    a, b = space.sample(rng), space.sample(rng)
    first = ev.evaluate(a)
    net = ev.supernet
    before = _weights(net)
    second = ev.evaluate(b)
    assert ev.supernet is net  # trained once
    after = _weights(net)
    assert all(torch.equal(before[k], after[k]) for k in before)  # no retraining between
    assert first.cost["epochs"] == 1 and second.cost["epochs"] == 0
    assert first.info["inherited"] and 0 <= second.metrics["val_acc"] <= 1
    assert ev.evaluate(a).metrics == first.metrics  # BN recalibration is deterministic


def test_weight_sharing_rejects_chain_space():
    with pytest.raises(SpaceError, match="weight sharing supports"):
        WeightSharingEvaluator(space=ChainSpace())


def test_synthetic_table_evaluator_pickles_small_and_rebuilds():
    import pickle

    ev = create_evaluator("table", seed=0)
    blob = pickle.dumps(ev)
    assert len(blob) < 10_000  # workers rebuild the synthetic table from its seed
    g = NB201Space().sample(np.random.default_rng(0))
    assert pickle.loads(blob).evaluate(g, 5).metrics == ev.evaluate(g, 5).metrics


def test_the_synthetic_table_does_not_change_with_the_search_seed():
    from nasbench.evaluation import create_evaluator
    from nasbench.spaces import NB201Space

    g = NB201Space().sample(np.random.default_rng(3))
    one, other = (create_evaluator("table", {}, seed=s) for s in (0, 7))
    assert one.evaluate(g).score == other.evaluate(g).score
    moved = create_evaluator("table", {"table_seed": 1}, seed=0)
    assert moved.evaluate(g).score != one.evaluate(g).score


@pytest.mark.parametrize("metric", ["test_acc", "test_auc"])
def test_a_table_evaluator_refuses_a_test_metric_as_the_search_score(small_table, metric):
    import nasbench

    with pytest.raises(ConfigError, match=f"'{metric}' scores the search on the test split"):
        create_evaluator("table", {"metric": metric}, table=small_table)
    config = nasbench.SearchConfig(
        strategy="random", evaluator="table", evaluator_config={"metric": metric},
        space={"name": "nb201"}, max_evaluations=2, device="cpu",
    )  # fmt: skip
    with pytest.raises(ConfigError, match="use the validation metric"):
        config.validate()
    assert create_evaluator("table", {"metric": "val_auc"}, table=small_table)


def _saved_table(table, path, keys=None, planned=None):
    """``table`` (or its rows of ``keys``) saved as a Parquet table on the synthetic set."""
    from nasbench.bench import BenchmarkTable

    frame = table.frame if keys is None else table.frame[table.frame["key"].isin(keys)]
    BenchmarkTable(frame, table.space, dataset="synthetic", planned=planned).save(path)
    return str(path)


def _refused_before_its_run_folder(config, run_dir) -> str:
    import nasbench

    with pytest.raises(ConfigError) as err:
        nasbench.search(config, run_dir)
    assert "\n" not in str(err.value) and not run_dir.exists()
    return str(err.value)


def test_a_table_search_refuses_ops_the_table_lacks_before_its_run_folder(small_table, tmp_path):
    import nasbench

    path = _saved_table(small_table, tmp_path / "t.parquet")
    table_ops = list(small_table.space.ops)

    def config(space):
        return nasbench.SearchConfig(
            strategy="random", evaluator="table", evaluator_config={"path": path},
            space=space, max_evaluations=3, device="cpu",
        )  # fmt: skip

    said = _refused_before_its_run_folder(config({"name": "nb201"}), tmp_path / "run")
    assert f"holds cells of ops {', '.join(table_ops)}, but the search's space has ops" in said
    assert "skip_connect, avg_pool_3x3 not in the table); set space.ops to" in said
    assert "or generate a table for this space" in said
    assert "this space's op list" not in said  # the old message blamed the search's space
    # The table's own ops, or fewer of them: every cell the search proposes is in the table.
    for ops in (table_ops, table_ops[:2]):
        assert config({"name": "nb201", "ops": ops}).validate()


@pytest.mark.parametrize(
    ("planned", "how"), [(10, "it was sampled"), (None, "it was sampled"),
                         ("all", "its generation was stopped"),
                         (20, "it was sampled")]  # a sample stopped half-way: still a sample
)  # fmt: skip
def test_a_table_search_refuses_a_table_of_some_of_the_space_before_its_run_folder(
    small_table, tmp_path, planned, how
):
    import nasbench

    whole = len(small_table)  # every canonical class of the space
    planned = whole if planned == "all" else planned
    path = _saved_table(small_table, tmp_path / "t.parquet", small_table.keys()[:10], planned)
    config = nasbench.SearchConfig(
        strategy="evolution", evaluator="table", evaluator_config={"path": path},
        space={"name": "nb201", "ops": list(small_table.space.ops)}, max_evaluations=30,
        device="cpu",
    )  # fmt: skip
    said = _refused_before_its_run_folder(config, tmp_path / "run")
    assert f"holds 10 of the {whole:,} architectures of space 'nb201' ({how})" in said
    assert "narrow space.ops" in said
    if how == "it was sampled":  # the same command again would only re-read its sample
        assert "generate the whole space" in said and "the same" not in said
    else:
        assert "finish it (the same `nasbench bench generate` command again)" in said
    # The whole table (one row per class of isomorphic cells) serves the same search.
    config.evaluator_config = {"path": _saved_table(small_table, tmp_path / "all.parquet")}
    assert config.validate() is config
