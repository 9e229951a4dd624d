"""The trellis space searched by PC-DARTS through ``nasbench.search``: store, drawings, seeds."""

from __future__ import annotations

import numpy as np
import pytest

from nasbench.config import DatasetConfig, SearchConfig
from nasbench.engine.bilevel import memory_estimate
from nasbench.engine.search import search
from nasbench.errors import ConfigError
from nasbench.runs import load
from nasbench.spaces import TrellisGenotype, space_from_dict
from nasbench.spaces.trellis import normalise_betas, trellis_mask, viterbi_path
from nasbench.viz import draw_trellis, plot_trellis_betas, render, trellis_weights

SPACE = {
    "name": "trellis",
    "num_layers": 2,
    "ops": ["skip_connect", "sep_conv_3x3"],
    "n_nodes": 1,
    "skeleton": {"depth": 1, "channels": 4},
}


def trellis_config(**overrides) -> SearchConfig:
    config = SearchConfig(
        dataset=DatasetConfig(name="synthetic-seg", size=28, limit=4, batch_size=2),
        space=SPACE,
        strategy="pcdarts",
        strategy_config={"k": 2},
        epochs=1,
        max_steps_per_epoch=2,
        seed=0,
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("trellis") / "run"
    result = search(trellis_config(), run_dir, progress=False)
    return result, load(run_dir)


def test_search_records_alphas_and_betas(searched):
    result, run = searched
    assert result.status == "finished" and result.steps == 1
    assert isinstance(result.genotype, TrellisGenotype)
    assert space_from_dict(SPACE).validate(result.genotype) == result.genotype
    kinds = set(zip(run.alphas.cell_type, run.alphas.kind, strict=True))
    assert kinds == {("cell", "alpha"), ("cell", "beta"), ("trellis", "beta")}
    betas = run.alphas[(run.alphas.cell_type == "trellis") & (run.alphas.kind == "beta")]
    # 2 layers over 2 scales: L1 s0 (same), L1 s1 (down), L2 s0 (same, up), L2 s1 (down, same).
    assert len(betas[betas.step == 0]) == 6
    first, last = (
        betas[betas.step == s].sort_values(["edge", "op"]).raw.to_numpy()
        for s in (0, betas.step.max())
    )
    assert not np.allclose(first, last), "the architecture step moves the scale weights"
    # The stored weights are per-node softmaxes, and their Viterbi path is the genotype's.
    weights = trellis_weights(run)
    mask = trellis_mask(2, 2)
    assert np.allclose(weights.sum(-1)[mask.any(-1)], 1.0)
    assert viterbi_path(weights, mask) == result.genotype.path
    assert len(plot_trellis_betas(run).data) == 6
    assert b"<svg" in render(draw_trellis(result.genotype, weights), "svg")


def test_same_seed_same_search(searched, tmp_path):
    result, run = searched
    again = search(trellis_config(), tmp_path / "again", progress=False)
    rerun = load(tmp_path / "again")
    assert again.genotype == result.genotype
    cols = ["step", "cell_type", "kind", "edge", "op"]
    a = run.alphas.sort_values(cols).raw.to_numpy()
    b = rerun.alphas.sort_values(cols).raw.to_numpy()
    assert np.array_equal(a, b)


def test_memory_estimate_before_launch():
    small = memory_estimate(trellis_config())
    wider = memory_estimate(trellis_config(space={**SPACE, "num_layers": 3}))
    assert 0 < small["weights_mb"] and 0 < small["activations_mb"] < wider["activations_mb"]


def test_config_errors_are_one_line():
    with pytest.raises(ConfigError, match="searched by pcdarts, darts, not 'gdas'") as err:
        trellis_config(strategy="gdas", strategy_config={}).validate()
    assert "\n" not in str(err.value)
    deeper = {**SPACE, "skeleton": {"depth": 3, "channels": 4}}
    with pytest.raises(ConfigError, match="multiple of 8; 28 is not") as err:
        trellis_config(space=deeper).validate()
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="builds segmentation networks"):
        trellis_config(dataset=DatasetConfig(name="synthetic", size=28)).validate()


def test_normalised_betas_are_what_the_viterbi_reads():
    w = normalise_betas(__import__("torch").zeros(2, 2, 3), trellis_mask(2, 2))
    # Uniform betas: every path ties; ties go to the finer scale.
    assert viterbi_path(w) == (0, 0)


def test_retrain_trains_the_decoded_network(searched):
    from nasbench.evaluation.final_evaluation import retrain
    from nasbench.evaluation.train_loop import TrainConfig
    from nasbench.models.trellis import TrellisNetwork

    result, _ = searched
    recipe = TrainConfig(epochs=1, batch_size=2, limit=4, test_limit=4, augment=False, seed=0)
    report = retrain(result.run_dir, recipe, baseline=False)
    searched_result = report.results["searched"]
    assert report.genotype == result.genotype
    skeleton = {"depth": 1, "channels": 4, "num_classes": 3}
    expected = TrellisNetwork(result.genotype, skeleton, seed=0)
    assert searched_result.params == sum(p.numel() for p in expected.parameters())
    assert 0.0 <= searched_result.test["dice"] <= 1.0


@pytest.fixture
def one_torch_thread():
    """A forked child must not enter an OpenMP region of the parent's thread team
    (see tests/engine/test_kill_anywhere.py)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.slow
def test_killed_search_resumes_to_the_uninterrupted_betas(one_torch_thread, tmp_path):
    import os
    import signal

    from nasbench.engine.search import resume
    from nasbench.runs.faults import ENV

    config = trellis_config(epochs=2, max_steps_per_epoch=1)
    whole = search(config, tmp_path / "whole")
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.environ[ENV] = "step:2"
            search(config, tmp_path / "killed")
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    result = resume(tmp_path / "killed")
    assert (result.steps, result.genotype) == (whole.steps, whole.genotype)
    cols = ["step", "cell_type", "kind", "edge", "op"]
    a = load(tmp_path / "whole").alphas.sort_values(cols)
    b = load(tmp_path / "killed").alphas.sort_values(cols)
    assert np.array_equal(a[cols].to_numpy(), b[cols].to_numpy())
    assert np.array_equal(a.raw.to_numpy(), b.raw.to_numpy())
