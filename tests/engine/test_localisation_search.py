"""marl-gdas through nasbench.search: validation, the run store it writes, determinism."""

from __future__ import annotations

import numpy as np
import pytest

import nasbench
from nasbench.config import SearchConfig
from nasbench.errors import ConfigError
from nasbench.runs import load

TINY_AGENTS = {
    "channels": 2,
    "n_nodes": 1,
    "shared_normal": 1,
    "shared_reduce": 1,
    "agent_normal": 1,
    "agent_reduce": 0,
    "patch": 5,
    "episode_steps": 4,
    "coarse_step": 2,
    "envs": 2,
    "batch_size": 4,
    "buffer_size": 64,
    "regressor_epochs": 2,
    "random_cell": True,
}


def tiny_marl(**overrides) -> SearchConfig:
    """Two rounds of two updates; 16^3 volumes, four of them; 5^3 patches."""
    config = SearchConfig(
        strategy="marl-gdas",
        dataset={"name": "synthetic-landmarks3d", "size": 16, "limit": 4},
        strategy_config=dict(TINY_AGENTS),
        epochs=2,
        max_steps_per_epoch=2,
        seed=5,
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("marl") / "run"
    return nasbench.search(tiny_marl(), run_dir), run_dir


def test_search_writes_alphas_of_every_agent_genotypes_and_test_metrics(tiny_run):
    result, run_dir = tiny_run
    run = load(run_dir)
    assert result.status == "finished" and run.status == "finished" and result.steps == 4
    cells = set(run.alphas["cell_type"].astype(str))
    assert {"shared_normal", "shared_reduce", "agent0_normal", "agent2_normal"} <= cells
    assert set(run.alphas["op"].astype(str)) >= {"conv_5x5", "dil_conv_3x3", "skip_connect"}
    assert sorted(set(run.alphas["epoch"])) == [0, 1]
    assert len(run.genotypes) == 2
    seconds = run.events[run.events["kind"] == "localisation_seconds"].iloc[-1]["payload"]
    assert set(seconds) == {"search", "searched", "random", "hand", "regression"}
    agents = run.events[run.events["kind"] == "agent_genotypes"]
    assert len(agents) == 2 and set(agents.iloc[-1]["payload"]) == {
        "shared",
        "agent0",
        "agent1",
        "agent2",
    }
    search = run.metrics_wide(phase="search")
    assert {"td_loss", "reward", "arch_loss", "tau", "epsilon"} <= set(search.columns)
    assert {"alpha_max_softmax", "alpha_entropy"} <= set(search.columns)
    test = run.metrics_wide(phase="test").iloc[-1]
    for arm in ("start", "searched", "random", "hand", "regression"):
        for name in ("dist_vox", "dist_mm", "dist_vox_landmark2", "dist_mm_landmark0"):
            assert test[f"{arm}_{name}"] == pytest.approx(result.metrics[f"{arm}_{name}"])
            assert 0.0 <= result.metrics[f"{arm}_{name}"] < 16 * 3**0.5 * 1.2
        assert 0.0 <= result.metrics[f"{arm}_plane_angle_deg"] <= 90.0
    assert result.metrics["searched_params"] > 0 and result.metrics["hand_params"] > 0


def test_each_arm_of_agents_keeps_its_best_round_on_the_validation_volumes(tiny_run):
    result, run_dir = tiny_run
    events = load(run_dir).events
    histories = {
        e["arm"]: e["rounds"] for e in events[events["kind"] == "retrain_history"]["payload"]
    }
    assert set(histories) == {"searched", "random", "hand"}
    for arm, rounds in histories.items():
        vals = [h["val"] for h in rounds]
        kept = int(result.metrics[f"{arm}_best_round"])
        assert len(rounds) == 2 and [h["best"] for h in rounds].count(1.0) == 1
        assert rounds[kept]["best"] == 1.0 and vals[kept] == min(vals)
        assert result.metrics[f"{arm}_val_dist_vox"] == min(vals)


@pytest.mark.slow
def test_without_selection_the_agents_end_with_their_last_round(tmp_path):
    config = tiny_marl(strategy_config={**TINY_AGENTS, "select_on_val": False})
    result = nasbench.search(config, tmp_path / "run")
    events = load(tmp_path / "run").events
    histories = events[events["kind"] == "retrain_history"]["payload"]
    assert len(histories) == 3 and all("val" not in h["rounds"][0] for h in histories)
    assert not any(k.endswith(("_best_round", "_val_dist_vox")) for k in result.metrics)


def test_the_alpha_view_draws_one_agent(tiny_run):
    from nasbench.viz import plot_alphas

    fig = plot_alphas(load(tiny_run[1]), cell_type="agent1_normal")
    assert len(fig.data) > 0


@pytest.mark.slow
def test_same_seed_same_run(tiny_run, tmp_path):
    result, run_dir = tiny_run
    again = nasbench.search(tiny_marl(), tmp_path / "again")
    assert again.metrics == result.metrics and again.genotype == result.genotype
    a, b = load(run_dir).alphas, load(tmp_path / "again").alphas
    assert a["raw"].tolist() == b["raw"].tolist()


def test_the_random_arm_trains_a_seeded_draw_of_the_same_space(tiny_run):
    from nasbench.models.marl_network import MarlSupernet
    from nasbench.strategies import create_strategy

    result, run_dir = tiny_run
    events = load(run_dir).events
    drawn = events[events["kind"] == "random_genotypes"].iloc[-1]["payload"]
    assert set(drawn) == {"shared", "agent0", "agent1", "agent2"}
    net = MarlSupernet(3, create_strategy("marl-gdas"), channels=2, n_nodes=1,
                       shared=(1, 1), own=(1, 0), patch=5)  # fmt: skip
    again = net.random_genotypes(5 + 5)  # the run's seed + 5
    assert {part: g.to_dict() for part, g in again.items()} == drawn
    assert result.metrics["random_params"] > 0
    draws = [net.random_genotypes(s) for s in range(12)]
    ops = {op for d in draws for g in d.values() for op, _ in g.normal + g.reduce}
    assert "none" not in ops and len(ops) >= 7  # spread over the nine ops, never 'none'
    assert len({str(d) for d in draws}) == 12


def _alpha_moves(tmp_path, name, **arch):
    """Alphas of a 4-round tiny search (round 0 the warm-up): start and end per cell type."""
    agents = {**TINY_AGENTS, "baselines": False, "random_cell": False, "arch_warmup": 0.25}
    config = tiny_marl(strategy_config={**agents, **arch}, epochs=4, max_steps_per_epoch=4)
    result = nasbench.search(config, tmp_path / name)
    alphas = load(tmp_path / name).alphas
    alphas = alphas[alphas["kind"] == "alpha"]
    by_round = {
        e: {
            ct: np.asarray(g.sort_values(["edge", "op"])["raw"]) for ct, g in a.groupby("cell_type")
        }
        for e, a in alphas.groupby("epoch")
    }
    return result.metrics, by_round


@pytest.mark.slow
def test_the_architecture_step_moves_every_cells_alphas_after_the_warm_up(tmp_path):
    from nasbench.strategies import create_strategy

    metrics, rounds = _alpha_moves(tmp_path, "new")
    init = create_strategy("marl-gdas").config
    assert (init.arch_lr, init.arch_beta1, init.arch_weight_decay) == (3e-2, 0.9, 0.0)
    # round 0 is the warm-up: the alphas still hold their init (scale 1e-3)
    assert max(np.abs(a).max() for a in rounds[0].values()) < 0.01
    moved = {ct: np.abs(rounds[3][ct] - rounds[0][ct]).max() for ct in rounds[0]}
    assert set(moved) == {"shared_normal", "shared_reduce", "agent0_normal", "agent1_normal",
                          "agent2_normal"}  # fmt: skip
    # 12 Adam steps at lr 3e-2: every cell type's alphas, shared and each agent's, move
    assert min(moved.values()) > 0.05
    assert metrics["search_alpha_max_softmax_end"] > metrics["search_alpha_max_softmax_start"]
    assert metrics["search_alpha_entropy_end"] < metrics["search_alpha_entropy_start"]
    # the step before this change (lr 3e-3, GDAS's beta1 0.5 and weight decay 1e-3)
    # moved them a tenth as far
    _, old = _alpha_moves(tmp_path, "old", arch_lr=3e-3, arch_beta1=0.5, arch_weight_decay=1e-3)
    old_moved = {ct: np.abs(old[3][ct] - old[0][ct]).max() for ct in old[0]}
    assert max(old_moved.values()) < min(moved.values()) / 3


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"dataset": {"name": "synthetic3d", "size": 32}}, "localises landmarks but dataset"),
        ({"strategy_config": {"patch": 6}}, "patch must be odd"),
        ({"strategy_config": {"patch": 21}}, "patch 21 exceeds the volume size 16"),
        ({"strategy_config": {"gamma": 1.5}}, "gamma"),
        ({"strategy_config": {"multiscale": "yes"}}, "multiscale must be true or false"),
        ({"strategy_config": {"double_dqn": 2}}, "double_dqn must be true or false"),
        ({"strategy_config": {"shared_normal": 0, "shared_reduce": 0}}, "at least one shared"),
        ({"strategy_config": {"lr_typo": 1.0}}, "lr_typo"),
        ({"eigen_every": 1}, "no Hessian watch"),
        ({"strategy_config": {"arch_warmup": 1.0}}, "arch_warmup"),
        ({"strategy_config": {"arch_lr": -1.0}}, "arch_lr"),
        ({"strategy_config": {"random_cell": "yes"}}, "random_cell must be true or false"),
        ({"device": "cuda"}, "runs on the CPU only"),
    ],
)
def test_bad_configs_are_one_line_errors(tmp_path, changes, message):
    config = tiny_marl(**changes)
    with pytest.raises(ConfigError, match=message) as err:
        nasbench.search(config, tmp_path / "run")
    assert "\n" not in str(err.value) and not (tmp_path / "run").exists()


def test_a_localisation_set_needs_marl_gdas_and_a_marl_run_cannot_resume(tiny_run):
    config = SearchConfig(dataset={"name": "synthetic-landmarks3d", "size": 16})
    with pytest.raises(ConfigError, match='search it with strategy "marl-gdas"'):
        config.validate()
    with pytest.raises(ConfigError, match="cannot be resumed"):
        nasbench.resume(tiny_run[1])


def test_search_records_per_agent_rewards_and_every_arms_test_estimates(tiny_run):
    result, run_dir = tiny_run
    run = load(run_dir)
    search = run.metrics_wide(phase="search")
    for k in range(3):
        assert search[f"agent{k}_reward"].notna().all()
        assert (search[f"agent{k}_dist_vox"] >= 0).all()
    # the mean of the agents' rewards is the round's reward
    agents = search[[f"agent{k}_reward" for k in range(3)]].mean(axis=1)
    np.testing.assert_allclose(agents.to_numpy(), search["reward"].to_numpy(), rtol=1e-5)
    payload = run.events[run.events["kind"] == "landmark_estimates"].iloc[-1]["payload"]
    records = payload["records"]
    arms = {r["arm"] for r in records}
    assert arms == {"start", "searched", "random", "hand", "regression"}
    assert payload["names"] == ["landmark0", "landmark1", "landmark2"]
    assert {r["volume"] for r in records} == {0, 1, 2}
    assert len(records) == 5 * 3 * 3
    spacing = np.array(payload["spacing"])
    assert spacing.shape == (3, 3)  # one row per recorded volume
    for r in records:
        np.testing.assert_allclose(
            np.array(r["estimate_mm"]),
            np.array(r["estimate_vox"]) * spacing[r["volume"]],
            atol=2e-3,
        )
        assert r["dist_vox"] == pytest.approx(
            np.linalg.norm(np.subtract(r["estimate_vox"], r["truth_vox"])), abs=1e-2
        )
    # the recorded start distances average to the start metric's over these volumes
    start = [r["dist_vox"] for r in records if r["arm"] == "start" and r["volume"] < 3]
    assert all(d >= 0 for d in start) and result.metrics["start_dist_vox"] > 0


def test_test_volumes_are_measured_in_their_own_millimetres(tmp_path):
    import json

    import nibabel

    from nasbench.data.landmarks import register_landmark_folder

    folder = tmp_path / "cases"
    folder.mkdir()
    marks = {"landmarks": {"a": [5, 5, 5], "b": [10, 12, 8], "c": [15, 4, 9]}}
    for i in range(5):  # train 3, val 1, test 1: each case scanned at its own voxel size
        image = nibabel.Nifti1Image(np.random.default_rng(i).random((20, 20, 20), np.float32),
                                    np.diag([1.0 + i, 1.0 + i, 1.0 + i, 1.0]))  # fmt: skip
        nibabel.save(image, str(folder / f"case{i}.nii.gz"))
        (folder / f"case{i}.json").write_text(json.dumps(marks))
    info = register_landmark_folder(folder, "mixed-spacing", size=16)
    config = tiny_marl(dataset={"name": info.name, "size": 16})
    nasbench.search(config, tmp_path / "run")
    events = load(tmp_path / "run").events
    payload = events[events.kind == "landmark_estimates"].iloc[-1].payload
    test_case = nasbench.data.load(info.name, "test", size=16).base
    np.testing.assert_allclose(payload["spacing"], test_case.spacings)
    assert not np.allclose(payload["spacing"][0], [1.0 * 20 / 16] * 3)  # not the first train case


def test_agents_that_share_every_cell_search_and_retrain(tmp_path):
    # agent_normal = agent_reduce = 0 passes validation (min 0): the agents differ by their
    # heads only, so the derived genotypes have no agent part and the retrain arms are
    # built for the set's three agents all the same.
    config = tiny_marl(epochs=1)
    config.strategy_config = {**TINY_AGENTS, "agent_normal": 0, "regressor_epochs": 1}
    result = nasbench.search(config, tmp_path / "run")
    run = load(tmp_path / "run")
    assert result.status == run.status == "finished"
    assert not any(str(c).startswith("agent") for c in set(run.alphas["cell_type"]))
    agents = run.events[run.events["kind"] == "agent_genotypes"]
    assert set(agents.iloc[-1]["payload"]) == {"shared"}
    for arm in ("searched", "random", "hand"):
        assert 0.0 <= result.metrics[f"{arm}_dist_vox_landmark2"] < 16 * 3**0.5 * 1.2
