"""METANAS: config validation, the Reptile/FOMAML update math, adaptation, the run store
rows, determinism and resume after a kill."""

from __future__ import annotations

import os
import signal
import sqlite3

import numpy as np
import pytest
import torch
from torch import nn

import nasbench
from nasbench.config import SearchConfig
from nasbench.data.fewshot import ClassSubset, Episode
from nasbench.device import resolve_device
from nasbench.engine.search import resume, search
from nasbench.errors import ConfigError
from nasbench.runs.faults import ENV
from nasbench.strategies.meta import (
    adapt,
    adaptation_curves,
    fewshot_summary,
    mean_ci95,
    meta_step,
    query_gradients,
)
from tests.strategies.conftest import TINY_METANAS_SPACE

TINY_META = {
    "meta_steps": 2,
    "meta_batch_size": 2,
    "inner_steps": 1,
    "test_inner_steps": 2,
    "test_episodes": 3,
    "curve_episodes": 2,
    "val_episodes": 1,
    "n_query": 3,
}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny(**overrides) -> SearchConfig:
    strategy_config = {**TINY_META, **overrides.pop("strategy_config", {})}
    settings = {
        "dataset": {"name": "synthetic-multiclass", "limit": 200},
        "space": TINY_METANAS_SPACE,
        "strategy": "metanas",
        "epochs": 2,
        "device": "cpu",
        **overrides,
    }
    return SearchConfig(strategy_config=strategy_config, **settings)


# ---- config --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"strategy_config": {"algorithm": "maml"}}, "algorithm must be one of"),
        ({"strategy_config": {"n_way": 3}}, "too few to hold out n_way = 3"),
        ({"strategy_config": {"meta_tst_dataset": "x"}}, "has no option 'meta_tst_dataset'"),
        (
            {"strategy_config": {"meta_test_dataset": "synthetic-multiclass"}},
            "meta-train and meta-test classes overlap",
        ),
        ({"strategy_config": {"meta_test_dataset": "synthetic-seg"}}, "segmentation set"),
        ({"strategy_config": {"meta_test_dataset": "synthetic3d"}}, "pick sets of one image"),
        ({"strategy_config": {"k_shot": 0}}, "k_shot must be >= 1"),
        ({"strategy_config": {"meta_test_dataset": 3}}, "must be a dataset name"),
        ({"max_seconds": 10.0}, "set max_seconds = null"),
        ({"eigen_every": 1}, "set eigen_every = 0"),
        ({"space": {"name": "nb201"}}, "searches the darts space"),
        ({"device": "cuda"}, "runs on the CPU only"),
    ],
)
def test_bad_configs_fail_with_one_line(change, message):
    with pytest.raises(ConfigError) as err:
        tiny(**change).validate()
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_a_good_config_validates_and_metanas_is_a_meta_strategy():
    assert tiny().validate().strategy == "metanas"
    assert nasbench.strategies.strategy_names("meta") == ("metanas",)


def test_the_launcher_lists_and_builds_metanas():
    pytest.importorskip("ipywidgets")
    from widgets.launcher import SearchLauncher, runnable_strategies

    assert "metanas" in runnable_strategies()
    launcher = SearchLauncher()
    launcher.set_dataset({"name": "synthetic-multiclass"})
    launcher.strategy.value = "metanas"
    config = launcher.build_config()
    assert config.strategy == "metanas"
    assert config.strategy_config["algorithm"] == "reptile"
    assert launcher._blocker() == ""


# ---- the update math -----------------------------------------------------------------------
def easy_episode(seed: int = 0, n: int = 5, shift: float = 3.0) -> Episode:
    """Two Gaussian blobs in 4-D, far apart: an easy 2-way task."""
    gen = torch.Generator().manual_seed(seed)
    centres = torch.stack([torch.full((4,), -shift / 2), torch.full((4,), shift / 2)])
    labels = torch.arange(2).repeat_interleave(n)
    support = centres[labels] + torch.randn(2 * n, 4, generator=gen)
    query = centres[labels] + torch.randn(2 * n, 4, generator=gen)
    return Episode(support, labels, query, labels.clone(), (), (), ())


def tiny_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Linear(4, 2)


def params_of(net: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in net.parameters()]


@pytest.mark.parametrize("eps", [1.0, 0.3])
def test_reptile_moves_the_weights_by_eps_times_adapted_minus_initial(eps):
    episode = easy_episode()
    net = tiny_model()
    initial = params_of(net)
    adapt(net, episode, 3, 0.1)
    adapted = params_of(net)
    net = tiny_model()
    meta_step(
        net, [episode], algorithm="reptile", inner_steps=3, inner_lr=0.1, inner_arch_lr=0.0,
        meta_lr=eps, meta_arch_lr=eps,
    )  # fmt: skip
    for p, p0, pa in zip(net.parameters(), initial, adapted, strict=True):
        torch.testing.assert_close(p.detach(), p0 + eps * (pa - p0))
        assert not torch.equal(pa, p0)


def test_reptile_averages_the_moves_over_the_tasks():
    tasks = [easy_episode(0), easy_episode(1, shift=-3.0)]
    moves = []
    for task in tasks:
        net = tiny_model()
        initial = params_of(net)
        adapt(net, task, 2, 0.1)
        moves.append([pa - p0 for pa, p0 in zip(params_of(net), initial, strict=True)])
    net = tiny_model()
    meta_step(
        net, tasks, algorithm="reptile", inner_steps=2, inner_lr=0.1, inner_arch_lr=0.0,
        meta_lr=0.5, meta_arch_lr=0.5,
    )  # fmt: skip
    for p, p0, m1, m2 in zip(net.parameters(), initial, *moves, strict=True):
        torch.testing.assert_close(p.detach(), p0 + 0.5 * (m1 + m2) / 2)


def test_fomaml_steps_along_the_query_gradient_at_the_adapted_weights():
    episode = easy_episode()
    net = tiny_model()
    initial = params_of(net)
    adapt(net, episode, 2, 0.1)
    grads = query_gradients(net, episode, list(net.parameters()))
    net = tiny_model()
    meta_step(
        net, [episode], algorithm="fomaml", inner_steps=2, inner_lr=0.1, inner_arch_lr=0.0,
        meta_lr=0.2, meta_arch_lr=0.2,
    )  # fmt: skip
    for p, p0, g in zip(net.parameters(), initial, grads, strict=True):
        torch.testing.assert_close(p.detach(), p0 - 0.2 * g)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"algorithm": "Reptile"}, "algorithm 'Reptile' is unknown; pass one of reptile, fomaml"),
        ({"episodes": []}, "at least one episode"),
        ({"inner_steps": -1}, "inner steps must be a whole number >= 0, got -1"),
        ({"inner_lr": float("nan")}, r"lr \(inner_lr\) must be a number in \[0, 1e\+06\), got nan"),
        ({"meta_lr": -1.0}, "meta_lr must be a number in"),
        ({"arch_optimizer": "adamw"}, "arch_optimizer 'adamw' is unknown; pass one of sgd, adam"),
    ],
)
def test_a_meta_step_refuses_what_it_would_run_as_something_else(change, message):
    # "Reptile" ran first-order MAML and "adamw" plain SGD, without a word.
    net = tiny_model()
    initial = params_of(net)
    settings = {"algorithm": "reptile", "inner_steps": 2, "inner_lr": 0.1, "inner_arch_lr": 0.0,
                "meta_lr": 0.5, "meta_arch_lr": 0.5, **change}  # fmt: skip
    episodes = settings.pop("episodes", [easy_episode()])
    with pytest.raises(ConfigError, match=message) as err:
        meta_step(net, episodes, **settings)
    assert "\n" not in str(err.value)
    assert all(torch.equal(p, p0) for p, p0 in zip(params_of(net), initial, strict=True))


def test_a_fixed_architecture_keeps_its_alphas_and_metanas_moves_them():
    from nasbench.strategies.meta import task_supernet
    from nasbench.strategies.meta.config import MetaNasConfig

    config, meta = tiny(), MetaNasConfig(n_query=3)
    episode = easy_image_episode()
    for learn, moved in ((False, False), (True, True)):
        net = task_supernet(config, meta)
        alphas = [a.detach().clone() for a in net.arch_parameters()]
        meta_step(
            net, [episode], algorithm="reptile", inner_steps=2, inner_lr=0.05,
            inner_arch_lr=1.0, meta_lr=1.0, meta_arch_lr=1.0, learn_alphas=learn,
        )  # fmt: skip
        same = all(torch.equal(a, b) for a, b in zip(alphas, net.arch_parameters(), strict=True))
        assert same is not moved


def easy_image_episode() -> Episode:
    """Dark images against bright ones, 28 px."""
    gen = torch.Generator().manual_seed(0)
    labels = torch.arange(2).repeat_interleave(3)
    images = (labels.float() * 2 - 1).view(-1, 1, 1, 1) + 0.3 * torch.randn(
        6, 1, 28, 28, generator=gen
    )
    return Episode(images, labels, images.flip(0), labels.flip(0), (), (), ())


def test_adaptation_improves_query_accuracy_on_an_easy_task():
    episode = easy_episode(seed=3, shift=2.5)
    net = tiny_model(seed=1)
    with torch.no_grad():  # start wrong on purpose: positive features vote for class 0
        net.weight.copy_(torch.tensor([[0.1] * 4, [-0.1] * 4]))
        net.bias.zero_()
    curve = adapt(net, episode, 20, 0.2, record=True)
    assert len(curve.query_acc) == 21
    assert curve.query_acc[0] < 0.2 and curve.query_acc[-1] >= 0.9
    assert curve.query_loss[-1] < curve.query_loss[0]


def test_mean_ci95_is_students_t_interval():
    mean, ci = mean_ci95([0.0, 1.0] * 50)
    assert mean == pytest.approx(0.5)
    assert ci == pytest.approx(1.984217 * 0.502519 / 10, rel=1e-5)  # t(0.975, 99)
    # Four watched episodes (a meta-epoch's default): t(0.975, 3) = 3.182, not 1.96.
    values = [0.40, 0.55, 0.60, 0.45]
    _, ci = mean_ci95(values)
    assert ci == pytest.approx(3.182446 * np.std(values, ddof=1) / 2, rel=1e-5)
    assert np.isnan(mean_ci95([0.5])[1])


def test_class_subset_keeps_only_the_named_classes():
    data = nasbench.data.load("synthetic-multiclass", "test", limit=40)
    subset = ClassSubset(data, [2, 3])
    assert set(subset.targets.tolist()) == {2, 3}
    assert len(subset) == int(((data.targets == 2) | (data.targets == 3)).sum())
    assert subset[0][1] in (2, 3)


# ---- the run store -------------------------------------------------------------------------
def rows(run_dir) -> dict[str, list]:
    conn = sqlite3.connect(run_dir / "run.sqlite")
    try:
        return {
            "metrics": list(
                conn.execute("SELECT step, epoch, phase, name, value FROM metrics ORDER BY id")
            ),
            "alphas": list(
                conn.execute(
                    "SELECT step, epoch, cell_type, kind, raw FROM alpha_snapshots ORDER BY id"
                )
            ),
            "events": list(
                conn.execute("SELECT step, epoch, kind, payload FROM events ORDER BY id")
            ),
            "genotypes": list(
                conn.execute("SELECT step, epoch, genotype FROM genotypes ORDER BY id")
            ),
        }
    finally:
        conn.close()


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("metanas") / "run"
    result = search(tiny(), run_dir)
    return run_dir, result, rows(run_dir)


@pytest.mark.slow
def test_a_search_records_meta_epochs_curves_both_alpha_sets_and_the_test(whole):
    run_dir, result, _ = whole
    assert result.status == "finished" and result.steps == 4
    assert {"metanas_acc_mean", "reptile_acc_ci95", "pooled_darts_acc_mean"} <= set(result.metrics)
    with nasbench.runs.load(run_dir) as run:
        train = run.metrics_wide("train")
        assert len(train) == 4 and {"metanas_query_acc", "reptile_query_acc"} <= set(train)
        val = run.metrics_wide("val")
        assert list(val["epoch"]) == [0, 1] and "metanas_val_acc" in val
        assert len(run.genotypes) == 2
        assert set(run.alphas["kind"]) == {"alpha", "adapted"}
        assert set(run.alphas[run.alphas["kind"] == "adapted"]["step"]) == {2, 4}
        assert set(run.alphas[run.alphas["kind"] == "alpha"]["step"]) == {0, 2, 4}
        test = run.metrics_wide("test")
        assert len(test) == 3 and test["metanas_acc"].between(0, 1).all()
        curves = adaptation_curves(run)
        meta_test = curves[curves["phase"] == "meta-test"]
        assert set(meta_test["episode"]) == {0, 1}  # curve_episodes = 2
        assert meta_test.groupby(["learner", "episode"]).size().eq(3).all()  # 2 steps + start
        assert len(curves[curves["phase"] == "meta-epoch"]) == 2 * 3 * 2  # epochs x learners x 2
        summary = fewshot_summary(run)
        assert set(summary.index) == {"metanas", "reptile", "pooled_darts"}
        mean, ci = mean_ci95(test["metanas_acc"])
        assert summary.loc["metanas", "acc_mean"] == pytest.approx(mean)
        assert summary.loc["metanas", "acc_ci95"] == pytest.approx(ci)


@pytest.mark.slow
def test_the_same_seed_gives_the_same_run(whole, tmp_path):
    _, result, expected = whole
    again = search(tiny(), tmp_path / "again")
    assert again.metrics == result.metrics and again.genotype == result.genotype
    got = rows(tmp_path / "again")
    assert got["metrics"] == expected["metrics"] and got["alphas"] == expected["alphas"]


def killed_at(point: str, count: int, run_dir) -> None:
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.environ[ENV] = f"{point}:{count}"
            search(tiny(), run_dir)
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


@pytest.mark.slow
@pytest.mark.parametrize(("point", "count"), [("step", 1), ("step", 3), ("epoch_end", 2)])
def test_resume_after_a_kill_equals_the_uninterrupted_run(whole, tmp_path, point, count):
    _, result, expected = whole
    run_dir = tmp_path / "run"
    killed_at(point, count, run_dir)
    resumed = resume(run_dir)
    assert resumed.status == "finished" and resumed.steps == result.steps
    assert resumed.metrics == result.metrics and resumed.genotype == result.genotype
    got = rows(run_dir)
    for table in expected:
        assert got[table] == expected[table], f"{table} differs after a kill at {point} #{count}"


@pytest.mark.slow
def test_the_alpha_explorer_offers_the_meta_and_the_adapted_alphas(whole):
    pytest.importorskip("ipywidgets")
    from widgets import AlphaExplorer

    run_dir, _, _ = whole
    with nasbench.runs.load(run_dir) as run:
        explorer = AlphaExplorer(run)
        assert set(explorer.kind.options) == {"alpha", "adapted"}
        explorer.kind.value = "adapted"
        assert explorer.cube.shape[0] == 2  # one adapted snapshot per meta-epoch


def test_on_a_gpu_machine_auto_runs_and_records_the_cpu(tmp_path, monkeypatch):
    """The METANAS loop computes on the CPU, so its run must say so where CUDA is present."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto").type == "cuda"  # what a bilevel search would use here
    config = tiny(epochs=1, device="auto", strategy_config={"baselines": False})
    result = search(config, tmp_path / "run")
    assert result.status == "finished"
    with nasbench.runs.load(tmp_path / "run") as run:
        assert run.environment["device"] == "cpu"


def test_the_overlap_refusal_holds_for_a_folder_named_relative_and_stored_absolute(
    tmp_path, monkeypatch
):
    import numpy as np
    from PIL import Image

    from nasbench.errors import ConfigError

    for label in "abcd":
        (tmp_path / "scans" / label).mkdir(parents=True)
        for i in range(3):
            image = np.full((28, 28), 40 * i + 10 * "abcd".index(label), np.uint8)
            Image.fromarray(image).save(tmp_path / "scans" / label / f"{i}.png")
    monkeypatch.chdir(tmp_path)
    # search() stores folder paths absolute; a meta_test_dataset typed relative is the same set.
    config = tiny(dataset={"name": "folder:scans"},
                  strategy_config={"meta_test_dataset": "folder:scans", "n_way": 2})  # fmt: skip
    stored = config.with_absolute_paths()
    assert stored.strategy_config["meta_test_dataset"] == stored.dataset.name
    assert stored.dataset.name == f"folder:{tmp_path / 'scans'}"
    with pytest.raises(ConfigError, match="meta-train and meta-test classes overlap"):
        stored.validate()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="kills a forked search")
def test_a_resume_stopped_before_its_first_step_shows_where_its_rows_end(tmp_path):
    """A killed meta-search's progress row is past its checkpoint; the resume sets it back
    to the checkpoint's step (and the epoch that step recorded), as the supernet loop does."""
    run_dir = tmp_path / "run"
    killed_at("step", 3, run_dir)  # after step 3; the checkpoint is the first epoch's end
    with nasbench.runs.load(run_dir) as before:
        assert before.progress["step"] == 3
    nasbench.runs.request_stop(run_dir)
    result = resume(run_dir, started=0.0)  # keeps the request written before it
    assert result.status == "stopped"
    with nasbench.runs.load(run_dir) as after:
        train = after.history[after.history["phase"] == "train"]
        last = int(train["step"].max())
        epoch = int(train.loc[train["step"] == last, "epoch"].iloc[0])
        assert (after.progress["step"], after.progress["epoch"]) == (last, epoch) == (2, 0)
