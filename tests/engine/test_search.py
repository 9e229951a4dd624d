"""The bilevel loop: every method runs, alphas move, everything lands in the run store."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.config import SearchConfig
from nasbench.engine.search import resume, search
from nasbench.runs import load
from nasbench.spaces import Genotype

METHODS = ("darts", "gdas", "pcdarts", "proxyless")


@pytest.mark.parametrize("strategy", METHODS)
def test_every_method_runs_and_its_alphas_move(tiny, tmp_path, strategy):
    result = search(tiny(strategy), tmp_path / "run")
    assert result.status == "finished"
    assert result.steps == 4
    assert isinstance(result.genotype, Genotype)

    run = load(tmp_path / "run")
    assert run.status == "finished"
    alphas = run.alphas[run.alphas.kind == "alpha"]
    first, last = alphas.step.min(), alphas.step.max()
    assert (first, last) == (0, 4)
    before = alphas[alphas.step == first].sort_values(["cell_type", "edge", "op"]).raw.to_numpy()
    after = alphas[alphas.step == last].sort_values(["cell_type", "edge", "op"]).raw.to_numpy()
    assert before.shape == after.shape
    assert not np.allclose(before, after), "the architecture step must move the alphas"
    # One derived genotype per epoch, the last one being the result.
    assert list(run.genotypes.epoch) == [0, 1]
    assert run.genotypes.genotype.iloc[-1] == result.genotype


@pytest.mark.parametrize("strategy", ("darts", "pcdarts", "gdas"))
def test_arch_warmup_trains_weights_only_for_its_fraction_of_the_steps(tiny, tmp_path, strategy):
    config = tiny(strategy, alpha_every=1)
    config.strategy_config = {"arch_warmup": 0.5}
    search(config, tmp_path / "run")
    run = load(tmp_path / "run")
    alphas = run.alphas[run.alphas.kind == "alpha"].sort_values(["cell_type", "edge", "op"])
    raw = {step: group.raw.to_numpy() for step, group in alphas.groupby("step")}
    assert sorted(raw) == [0, 1, 2, 3, 4]
    # Half of the 4 steps move the weights only; the alphas move from step 3 on.
    assert np.array_equal(raw[0], raw[1]) and np.array_equal(raw[1], raw[2])
    assert not np.allclose(raw[2], raw[3])
    arch_steps = run.history[run.history.name == "arch_loss"].step
    assert list(arch_steps) == [3, 4]
    # The weights trained from the first step on (the loss is logged at every step).
    assert list(run.history[run.history.name == "loss"].step) == [1, 2, 3, 4]


def test_proxyless_arch_every_steps_the_alphas_on_every_nth_step_after_the_warmup(tiny, tmp_path):
    config = tiny("proxyless", alpha_every=1, epochs=4)
    # 8 steps: 2 warm up, then the alphas move on the 3rd step after (steps 5 and 8).
    config.strategy_config = {"arch_warmup": 0.25, "arch_every": 3}
    search(config, tmp_path / "run")
    run = load(tmp_path / "run")
    assert list(run.history[run.history.name == "arch_loss"].step) == [5, 8]
    alphas = run.alphas[run.alphas.kind == "alpha"].sort_values(["cell_type", "edge", "op"])
    raw = {step: group.raw.to_numpy() for step, group in alphas.groupby("step")}
    moved = [s for s in range(1, 9) if not np.array_equal(raw[s - 1], raw[s])]
    assert moved == [5, 8]
    assert list(run.history[run.history.name == "loss"].step) == list(range(1, 9))


def test_arch_every_beyond_the_search_warns_that_the_alphas_stay(tiny, tmp_path):
    config = tiny("proxyless")
    config.strategy_config = {"arch_every": 5}  # 4 steps in all
    with pytest.warns(UserWarning, match="arch_every 5 exceeds the 4 steps"):
        search(config, tmp_path / "run")
    run = load(tmp_path / "run")
    assert run.history[run.history.name == "arch_loss"].empty


def test_arch_warmup_keeps_one_search_step_and_is_validated(tiny, tmp_path):
    from nasbench.errors import NasbenchError
    from nasbench.strategies.differentiable.base import warmup_steps

    assert [warmup_steps(0.9, n) for n in (1, 2, 10)] == [0, 1, 9]
    config = tiny("darts")
    config.strategy_config = {"arch_warmup": 0.95}
    with pytest.raises(NasbenchError, match="arch_warmup"):
        search(config, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def _four_ops(config: SearchConfig) -> SearchConfig:
    """``config`` on four DARTS ops (none, skip, pooling, a separable conv) instead of
    eight: every metric is still recorded, and the supernet is half as costly (the
    Hessian eigenvalue's 20+ Hessian-vector products took ~25 s on the eight)."""
    config.space = {**config.space, "ops": ["none", "skip_connect", "avg_pool_3x3",
                                            "sep_conv_3x3"]}  # fmt: skip
    return config


def test_records_metrics_the_issue_asks_for(tiny, tmp_path):
    config = _four_ops(tiny("darts", eigen_every=1))
    config.dataset.batch_size = 4  # the eigenvalue's batch: half the images, half the cost
    search(config, tmp_path / "run")
    run = load(tmp_path / "run")
    train = set(run.history[run.history.phase == "train"].name)
    assert {"loss", "acc", "auc", "lr", "arch_lr", "arch_loss"} <= train
    arch_lr = run.history[run.history.name == "arch_lr"].value
    assert np.allclose(arch_lr, 3e-4)  # DARTS's Adam learning rate for alpha
    val = run.history[run.history.phase == "val"]
    assert {
        "val_loss",
        "val_acc",
        "val_auc",
        "images_per_s",
        "peak_memory_mb",
        "parameter_free_ops",
        "hessian_eigenvalue",
    } <= set(val.name)
    eigen = val[val.name == "hessian_eigenvalue"].value
    assert len(eigen) == 2 and np.isfinite(eigen).all()
    assert run.environment["packages"]["torch"]
    assert run.config["strategy"] == "darts"


def test_alpha_snapshot_interval_is_configurable(tiny, tmp_path):
    search(_four_ops(tiny("darts", alpha_every=2)), tmp_path / "run")
    steps = sorted(set(load(tmp_path / "run").alphas.step))
    # step 0, every second step, and each epoch end (steps 2 and 4).
    assert steps == [0, 2, 4]


def test_same_seed_same_result_on_cpu(tiny, tmp_path):
    first = search(tiny("gdas"), tmp_path / "a")
    second = search(tiny("gdas"), tmp_path / "b")
    assert first.genotype == second.genotype
    assert first.metrics == second.metrics
    a = load(tmp_path / "a").alphas
    b = load(tmp_path / "b").alphas
    np.testing.assert_array_equal(a.raw.to_numpy(), b.raw.to_numpy())


def test_a_run_folder_is_never_overwritten(tiny, tmp_path):
    search(tiny("gdas", epochs=1), tmp_path / "run")
    with pytest.raises(Exception, match="already"):
        search(tiny("gdas", epochs=1), tmp_path / "run")


def test_a_run_folder_under_tilde_is_in_the_home_folder(tiny, home_and_work):
    # Python does not expand "~", nor a shell in --run-dir=~/x: it made a folder "./~".
    home, work = home_and_work
    run_dir = home / "runs" / "t1"
    assert search(tiny("gdas", epochs=1), "~/runs/t1").run_dir == run_dir
    assert (run_dir / "run.sqlite").is_file() and any((run_dir / "checkpoints").iterdir())
    resumed = resume("~/runs/t1")  # finished: it reads its checkpoint back from ~ too
    assert resumed.run_dir == run_dir and resumed.status == "finished"
    assert list(work.iterdir()) == []


@pytest.mark.parametrize("strategy", METHODS)
def test_search_on_real_breastmnist(tiny, tmp_path, shared_medmnist, strategy):
    config = tiny(strategy)
    config.dataset.name = "breastmnist"
    config.dataset.root = str(shared_medmnist)
    result = search(config, tmp_path / "run")
    assert result.status == "finished"
    assert 0.0 <= result.metrics["val_acc"] <= 1.0
    alphas = load(tmp_path / "run").alphas
    alphas = alphas[alphas.kind == "alpha"].sort_values(["step", "cell_type", "edge", "op"])
    first = alphas[alphas.step == alphas.step.min()].raw.to_numpy()
    last = alphas[alphas.step == alphas.step.max()].raw.to_numpy()
    assert not np.allclose(first, last), "the alphas must move on real images too"


@pytest.mark.slow
def test_early_stop_returns_the_cell_of_the_epoch_before_the_rise(tiny, tmp_path, monkeypatch):
    from nasbench.strategies.differentiable import hessian

    # A sharp curvature rise from the fourth measurement on, as in a collapsing search.
    measured = iter([1.0, 1.0, 1.0, 5.0, 5.0, 5.0, 5.0, 5.0])
    monkeypatch.setattr(hessian, "supernet_hessian_eigenvalue", lambda *a, **k: next(measured))
    config = tiny(
        "darts",
        epochs=8,
        max_steps_per_epoch=1,
        eigen_every=1,
        early_stop=True,
        early_stop_window=2,
        early_stop_start=3,
    )
    result = search(config, tmp_path / "run")
    run = load(tmp_path / "run")
    # Means over 2: epochs 2-3 give 3.0 against 1.0 before: the rule fires at epoch 3 ...
    assert result.steps == 4 and list(run.genotypes.epoch) == [0, 1, 2, 3]
    stop = run.events[run.events.kind == "early_stop"]
    assert len(stop) == 1
    # ... and returns the cell of epoch 1, two measurements back, with that epoch's metrics.
    returned = run.genotypes[run.genotypes.epoch == 1].iloc[0]
    assert result.genotype == returned.genotype
    val = run.history[(run.history.phase == "val") & (run.history.name == "val_loss")]
    assert result.metrics["val_loss"] == pytest.approx(val.value.iloc[1])
    assert result.status == "finished" and run.status == "finished"
    # Resuming the finished run trains no further and changes none of its rows.
    again = resume(tmp_path / "run")
    after = load(tmp_path / "run")
    assert again.steps == 4 and again.genotype == result.genotype
    assert list(after.genotypes.epoch) == [0, 1, 2, 3] and len(after.history) == len(run.history)
    assert (after.events.kind == "early_stop").sum() == 1


def test_a_two_cell_skeleton_searches_a_normal_and_a_reduction_cell(tiny, tmp_path):
    config = tiny("darts", epochs=1)
    config.space = {**config.space, "skeleton": {"n_cells": 2, "channels": 4}}
    result = search(config, tmp_path / "run")
    assert result.status == "finished"
    assert set(load(tmp_path / "run").alphas.cell_type) == {"normal", "reduce"}
    assert result.genotype.normal != result.genotype.reduce  # each searched, not copied


def test_a_skeleton_of_reductions_only_searches(tiny, tmp_path):
    config = tiny("darts", epochs=1)
    config.space = {**config.space, "skeleton": {"n_cells": 2, "channels": 4,
                                                 "reduction_at": [0, 1]}}  # fmt: skip
    result = search(config, tmp_path / "run")
    assert result.status == "finished"
    assert set(load(tmp_path / "run").alphas.cell_type) == {"reduce"}


def test_nsga2_latency_objective_is_measured_when_the_evaluator_lacks_it(tmp_path, tiny):
    """Only the table evaluator reports latency_ms; for the others the engine measures it,
    so NSGA-II no longer fails after its first evaluation."""
    config = tiny(
        strategy="nsga2",
        strategy_config={"population_size": 2, "objectives": ["score", "latency_ms:min"]},
        evaluator="proxy",
        max_evaluations=3,
        device="cpu",
    )
    result = search(config, tmp_path / "run")
    assert result.status == "finished"
    candidates = load(tmp_path / "run").candidates
    assert len(candidates) == 3 and (candidates["cost.latency_ms"] > 0).all()


def test_search_settings_give_the_callers_deterministic_mode_back_whole():
    import torch

    from nasbench.engine.run_setup import search_settings

    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        with search_settings(False):
            assert not torch.are_deterministic_algorithms_enabled()
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.is_deterministic_algorithms_warn_only_enabled()  # not made strict
    finally:
        torch.use_deterministic_algorithms(False)


@pytest.mark.parametrize("strategy", ["darts", "reinforce"])
def test_a_search_leaves_the_callers_random_stream_where_it_was(tiny, tmp_path, strategy):
    import torch

    from nasbench import search

    config = tiny(strategy, max_evaluations=2) if strategy == "reinforce" else tiny(strategy)
    torch.manual_seed(123)
    state = torch.get_rng_state()
    search(config, tmp_path / "run")
    assert torch.equal(torch.get_rng_state(), state)


def test_step_time_ahead_counts_only_the_share_of_steps_with_an_architecture_step():
    from nasbench.engine.bilevel import _median, step_seconds_ahead

    # Every step ahead and every timed step ran an architecture step: the timings as they are.
    assert step_seconds_ahead([2.0, 3.0, 2.5], [1.0, 1.0, 1.0], 1.0, _median) == 2.5
    # arch_every 4: weight steps of 1 s, an architecture step of 2 s in a quarter of them.
    assert step_seconds_ahead([3.0, 1.0, 1.0], [2.0, 0.0, 0.0], 0.25, _median) == 1.5
    # A probe inside the warm-up saw no architecture step: it is timed as a weight step.
    assert step_seconds_ahead([1.0, 1.0, 1.0], [0.0, 0.0, 0.0], 0.5, _median) == 1.5


def test_a_relative_data_path_is_stored_absolute_and_read_from_any_folder(
    tiny, tmp_path, monkeypatch
):
    from nasbench.config import DatasetConfig
    from nasbench.evaluation.final_evaluation import retrain
    from nasbench.evaluation.train_loop import TrainConfig
    from nasbench.runs import load

    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    (work / "data").mkdir(parents=True)
    elsewhere.mkdir()
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", 40), ("val", 12), ("test", 12)):
        arrays[f"{split}_images"] = rng.integers(0, 255, (n, 28, 28)).astype(np.uint8)
        arrays[f"{split}_labels"] = (np.arange(n) % 2).astype(np.uint8).reshape(n, 1)
    np.savez_compressed(work / "data" / "breastmnist.npz", **arrays)
    monkeypatch.chdir(work)
    config = tiny("darts", epochs=1)
    config.dataset = DatasetConfig(name="breastmnist", root="data", download=False, limit=32,
                                   batch_size=8)  # fmt: skip
    search(config, work / "run")
    assert config.dataset.root == "data"  # the caller's config is left as it was
    assert load(work / "run").config["dataset"]["root"] == str(work / "data")
    monkeypatch.chdir(elsewhere)  # a notebook in another folder retrains the same files
    recipe = TrainConfig(epochs=1, batch_size=8, limit=16, test_limit=8, device="cpu")
    report = retrain(work / "run", recipe, baseline="none")
    assert report.results["searched"].test["acc"] >= 0


def _given_other_set(config):
    """``config`` with a skeleton naming another set's channels and classes, as a config
    saved on an RGB set of 7 classes does (the synthetic set is grey, of 2 classes)."""
    config.space = {**config.space, "skeleton": {**config.space.get("skeleton", {}),
                                                 "in_channels": 3, "num_classes": 7}}  # fmt: skip
    return config


def _table_search(**overrides):
    from nasbench.config import SearchConfig

    return SearchConfig(strategy="random", evaluator="table", space={"name": "nb201"},
                        max_evaluations=12, seed=5, **overrides)  # fmt: skip


@pytest.mark.parametrize("kind", ("differentiable", "discrete"))
def test_a_run_stores_the_channels_and_classes_its_network_was_built_with(tiny, tmp_path, kind):
    given = tiny("darts", epochs=1, max_steps_per_epoch=1) if kind == "differentiable" else (
        _table_search())  # fmt: skip
    given = _given_other_set(given)
    search(given, tmp_path / "run")
    stored = load(tmp_path / "run").config["space"]["skeleton"]
    assert (stored["in_channels"], stored["num_classes"]) == (1, 2)
    assert given.space["skeleton"]["in_channels"] == 3  # the caller's config is left as it was
    # A skeleton that names neither keeps them unnamed: nothing the user did not write.
    plain = tiny("darts", epochs=1, max_steps_per_epoch=1) if kind == "differentiable" else (
        _table_search())  # fmt: skip
    search(plain, tmp_path / "plain")
    assert load(tmp_path / "plain").config["space"] == plain.space


def test_an_evaluator_skeleton_is_stated_too_and_an_unreadable_config_left_to_validate():
    from nasbench.config import DatasetConfig
    from nasbench.engine.run_setup import with_dataset_skeleton

    config = _table_search(evaluator_config={"skeleton": {"num_classes": 7, "channels": 4}})
    config.evaluator = "train"
    stated = with_dataset_skeleton(config)
    assert stated.evaluator_config == {"skeleton": {"num_classes": 2, "channels": 4}}
    assert stated.space == {"name": "nb201"}
    unknown = _given_other_set(_table_search(dataset=DatasetConfig(name="no-such-set")))
    assert with_dataset_skeleton(unknown) is unknown  # validate() names the unknown set


def test_a_self_supervised_search_states_its_pretext_tasks_outputs_not_the_datasets():
    # UnNAS's supernet answers the rotation task (4 outputs) whatever the data's classes.
    from nasbench.engine.bilevel import search_space
    from nasbench.engine.run_setup import with_dataset_skeleton

    for given in (2, 4):
        config = SearchConfig(
            strategy="unnas", space={"name": "darts", "skeleton": {"num_classes": given}}
        )
        stated = with_dataset_skeleton(config).space["skeleton"]["num_classes"]
        assert stated == search_space(config).skeleton.num_classes == 4


def test_a_run_stored_before_with_the_given_skeleton_resumes_to_the_same_result(
    tmp_path, monkeypatch
):
    from nasbench.engine import search as search_module
    from nasbench.runs import RunStore

    reference = search(_given_other_set(_table_search()), tmp_path / "reference")
    log_candidate = RunStore.log_candidate

    def log_then_stop(self, candidate_id, *args, **kwargs):
        log_candidate(self, candidate_id, *args, **kwargs)
        if candidate_id == 4:
            self.request_stop()

    with monkeypatch.context() as patch:  # a run of the version that stored it as given
        patch.setattr(search_module, "with_dataset_skeleton", lambda config: config)
        patch.setattr(RunStore, "log_candidate", log_then_stop)
        stopped = search(_given_other_set(_table_search()), tmp_path / "old")
    assert stopped.status == "stopped"
    assert load(tmp_path / "old").config["space"]["skeleton"]["in_channels"] == 3
    resumed = resume(tmp_path / "old")
    assert resumed.status == "finished" and resumed.steps == reference.steps == 12
    assert resumed.genotype == reference.genotype and resumed.metrics == reference.metrics


def test_the_step_bar_is_drawn_within_its_rate_limit_not_once_per_step(tiny, tmp_path, capsys):
    # With a rate limit that lets no update through, the bar is drawn when it opens and
    # when it closes only; a postfix that forces its own redraw drew it once per step,
    # which costs more than a fast GPU step and writes a line per step to the log.
    import tqdm as tqdm_module

    import nasbench.engine.bilevel as bilevel

    class RateLimited(tqdm_module.tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **{**kwargs, "mininterval": 1e9, "miniters": 10**9})

    config = tiny(epochs=2, max_steps_per_epoch=3)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bilevel, "tqdm", RateLimited)
        assert search(config, tmp_path / "run", progress=True).steps == 6
    draws = [part for part in capsys.readouterr().err.split("\r") if "epoch=" in part]
    assert len(draws) <= 2, draws
