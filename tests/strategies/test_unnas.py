"""UnNAS: the ``unnas`` strategy is DARTS on a pretext task, through the one search entry."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from nasbench.config import DatasetConfig, SearchConfig
from nasbench.engine.bilevel import search_info
from nasbench.engine.search import resume, search
from nasbench.errors import ConfigError
from nasbench.runs import load
from nasbench.runs.faults import ENV
from nasbench.strategies import create_strategy, get_strategy, strategy_names
from nasbench.strategies.differentiable.darts import Darts


def tiny(pretext="rotation", **overrides) -> SearchConfig:
    """Two cells of two nodes, two channels, 8 images per half (32 rotated), batch 4."""
    config = SearchConfig(
        dataset=DatasetConfig(name="synthetic", limit=16, batch_size=4),
        space={"name": "darts", "n_nodes": 2, "skeleton": {"n_cells": 2, "channels": 2}},
        strategy="unnas",
        strategy_config={"pretext": pretext, "jigsaw_permutations": 6, "inpaint_patch": 4},
        epochs=2,
        max_steps_per_epoch=2,
        checkpoint_every=1,
        alpha_every=1,
        device="cpu",
        seed=1,
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_unnas_is_a_self_supervised_darts():
    assert strategy_names("self-supervised") == ("unnas",)
    assert "unnas" not in strategy_names("differentiable")
    entry = get_strategy("unnas")
    assert entry.kind == "self-supervised" and issubclass(entry.cls, Darts)
    method = create_strategy("unnas", {"pretext": "inpainting", "order": 2}, seed=0)
    assert method.config.pretext == "inpainting" and method.config.order == 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"strategy_config": {"pretext": "jigsw"}}, "unknown pretext task 'jigsw'.*'jigsaw'"),
        (
            {"dataset": DatasetConfig(name="breastmnist")},
            None,  # colourisation of grey images, below
        ),
        (
            {"strategy_config": {"pretext": "jigsaw", "jigsaw_grid": 3}},
            "grid 3 does not divide the image size 28",
        ),
        (
            {"strategy_config": {"pretext": "jigsaw", "jigsaw_permutations": 30}},
            "between 2 and 24",
        ),
        ({"strategy_config": {"pretext": "inpainting", "inpaint_patch": 40}}, "smaller than"),
        ({"strategy_config": {"prtext": "rotation"}}, "has no option 'prtext'"),
        ({"space": {"name": "nb201"}}, "strategy 'unnas' searches the darts space"),
    ],
)
def test_config_errors_are_one_line(changes, message):
    config = tiny(**changes)
    if message is None:  # colourisation on 1-channel MedMNIST
        config.strategy_config = {"pretext": "colourisation"}
        message = "colourisation needs colour \\(3-channel\\) images but breastmnist has 1 channel"
    with pytest.raises(ConfigError, match=message) as err:
        config.validate()
    assert "\n" not in str(err.value)


def test_colourisation_validates_on_colour_images():
    config = tiny(dataset=DatasetConfig(name="dermamnist", download=False))
    config.strategy_config = {"pretext": "colourisation", "colour_grid": 4}
    config.validate()
    info = search_info(config)
    assert (info.in_channels, info.num_classes, info.task) == (1, 48, "regression")


@pytest.mark.parametrize(
    ("pretext", "outputs"), [("rotation", 4), ("jigsaw", 6), ("inpainting", 16)]
)
def test_a_tiny_search_writes_the_store_and_alphas(tmp_path, pretext, outputs):
    config = tiny(pretext)
    result = search(config, tmp_path / "run")
    assert result.status == "finished" and result.steps == 4
    run = load(tmp_path / "run")
    assert run.config["strategy"] == "unnas"
    assert run.config["strategy_config"]["pretext"] == pretext
    assert set(run.alphas.cell_type) == {"normal", "reduce"}  # two cells: one of each
    assert run.alphas.step.max() == 4 and np.isfinite(run.alphas.raw).all()
    assert len(run.genotypes) == 2
    val = run.history[run.history.phase == "val"]
    # The pretext task's metrics, not the labelled task's: accuracy, or the MSE.
    expected = "val_mse" if pretext == "inpainting" else "val_acc"
    assert expected in set(val.name)
    # The supernet's classifier has one output per pretext class / target value.
    assert search_info(config).num_classes == outputs


def test_a_search_never_reads_the_labels(tmp_path, monkeypatch):
    """Shuffling the labelled targets changes nothing: only the pretext targets are read."""
    from nasbench.data import synthetic

    reference = search(tiny(), tmp_path / "reference")
    original = synthetic.SyntheticDataset.__getitem__

    def wrong_labels(self, index):
        image, label = original(self, index)
        return image, 1 - label if isinstance(label, int) else label

    monkeypatch.setattr(synthetic.SyntheticDataset, "__getitem__", wrong_labels)
    relabelled = search(tiny(), tmp_path / "relabelled")
    assert relabelled.genotype == reference.genotype
    assert relabelled.metrics == reference.metrics


def _killed_at_step(config, step, run_dir):
    pid = os.fork()
    if pid == 0:  # the child never returns into pytest
        code = 1
        try:
            os.environ[ENV] = f"step:{step}"
            search(config, run_dir)
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def _history(run_dir):
    history = load(run_dir).history
    history = history[~history.name.isin(["images_per_s", "peak_memory_mb"])]
    return history.sort_values(["step", "phase", "name"])[["step", "phase", "name", "value"]]


@pytest.mark.slow
@pytest.mark.parametrize("pretext", ["jigsaw", "inpainting"])
def test_resume_after_a_kill_equals_the_uninterrupted_search(tmp_path, pretext):
    whole = search(tiny(pretext), tmp_path / "whole")
    _killed_at_step(tiny(pretext), 3, tmp_path / "killed")
    assert load(tmp_path / "killed").status == "running"
    resumed = resume(tmp_path / "killed")
    assert resumed.status == "finished" and resumed.steps == whole.steps
    assert resumed.genotype == whole.genotype and resumed.metrics == whole.metrics
    a, b = load(tmp_path / "killed").alphas, load(tmp_path / "whole").alphas
    np.testing.assert_array_equal(a.raw.to_numpy(), b.raw.to_numpy())
    np.testing.assert_array_equal(
        _history(tmp_path / "killed").to_numpy(), _history(tmp_path / "whole").to_numpy()
    )


def test_the_two_search_halves_share_the_jigsaw_permutation_set():
    from nasbench.data import load
    from nasbench.strategies.selfsupervised.unnas import Unnas, UnnasConfig

    halves = [load("synthetic", s, limit=4, seed=0) for s in ("train", "val")]
    config = UnnasConfig(pretext="jigsaw", jigsaw_permutations=6)
    train, val = Unnas.search_data(config, *halves, seed=2)
    np.testing.assert_array_equal(train.permutations, val.permutations)
    other, _ = Unnas.search_data(config, *halves, seed=3)
    assert not np.array_equal(other.permutations, train.permutations)  # the seed picks it


def test_resuming_a_jigsaw_run_from_before_shared_permutations_warns():
    from nasbench.config import SearchConfig
    from nasbench.runs.environment import capture_environment
    from nasbench.strategies.selfsupervised.unnas import warn_if_jigsaw_labels_changed

    jigsaw = SearchConfig(strategy="unnas", strategy_config={"pretext": "jigsaw"})
    with pytest.warns(UserWarning, match="each search half drew its own jigsaw permutation"):
        warn_if_jigsaw_labels_changed(jigsaw, {}, "runs/old")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_jigsaw_labels_changed(jigsaw, capture_environment("cpu"), "runs/new")
        rotation = SearchConfig(strategy="unnas", strategy_config={"pretext": "rotation"})
        warn_if_jigsaw_labels_changed(rotation, {}, "runs/old")
