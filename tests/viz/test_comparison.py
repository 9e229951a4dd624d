"""Comparison figures: best-so-far bands over seeds, the Pareto front, proxy correlations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nasbench.errors import NasbenchError
from nasbench.runs import RunStore, load
from nasbench.spaces import NB201Space
from nasbench.viz import plot_best_so_far, plot_pareto, plot_proxy_vs_true
from nasbench.viz.comparison import _get_best_so_far_info, best_so_far_curves, tidy_runs
from nasbench.viz.pareto import _get_pareto_info, pareto_mask


def _frames() -> dict[str, list[pd.DataFrame]]:
    """Three seeds each; evolution keeps improving, random stalls; one random seed is short."""
    out = {}
    for strategy, slope in (("random", 0.01), ("evolution", 0.03)):
        seeds = []
        for seed in range(3):
            n = 8 if (strategy, seed) == ("random", 2) else 10
            rng = np.random.default_rng(seed)
            score = 0.5 + slope * np.arange(n) + rng.normal(0, 0.02, n)
            elapsed = np.cumsum(rng.uniform(0.5, 1.5, n))
            seeds.append(pd.DataFrame({"metrics.score": score, "elapsed": elapsed}))
        out[strategy] = seeds
    return out


def test_best_so_far_traces_bands_and_baseline():
    frames = _frames()
    fig = plot_best_so_far(frames)
    names = [t.name for t in fig.data]
    assert names == [
        "random ± std",
        "evolution ± std",
        "random (3 seeds)",
        "evolution (3 seeds)",
    ]
    band, line = fig.data[0], fig.data[2]
    assert band.fill == "toself" and line.line.dash == "dash"
    assert fig.data[3].line.dash == "solid"
    # Mean and std by hand: a seed that stopped early keeps its final best.
    best = [np.maximum.accumulate(f["metrics.score"].to_numpy()) for f in frames["random"]]
    best[2] = np.concatenate([best[2], [best[2][-1]] * 2])
    mean, std = np.mean(best, axis=0), np.std(best, axis=0)
    np.testing.assert_allclose(line.y, mean)
    np.testing.assert_allclose(band.y[:10], mean + std)
    np.testing.assert_allclose(band.y[10:], (mean - std)[::-1])
    assert list(line.x) == list(range(1, 11))


def test_best_so_far_info_is_the_mean_and_std_over_seeds():
    seeds = [
        pd.DataFrame({"score": [0.2, 0.5, 0.3], "elapsed": [1.0, 2.0, 3.0]}),
        pd.DataFrame({"score": [0.4, 0.1], "elapsed": [2.0, 4.0]}),
    ]
    curve = _get_best_so_far_info({"random": seeds}, "evaluations", None, True).curves["random"]
    # Best so far [0.2, 0.5, 0.5] and [0.4, 0.4] (kept after its last evaluation).
    assert list(curve.x) == [1, 2, 3] and curve.n_seeds == 2
    np.testing.assert_allclose(curve.mean, [0.3, 0.45, 0.45])
    np.testing.assert_allclose(curve.std, [0.1, 0.05, 0.05])
    lowest = _get_best_so_far_info({"random": seeds}, "evaluations", None, False).curves["random"]
    np.testing.assert_allclose(lowest.mean, [0.3, 0.15, 0.15])
    timed = _get_best_so_far_info({"random": seeds}, "wall_time", None, True).curves["random"]
    assert timed.x.min() >= 1.0 and np.isfinite(timed.mean).all()  # no point before t=1 s
    assert timed.mean[-1] == pytest.approx(0.45)
    with pytest.raises(NasbenchError, match="x must be one of"):
        _get_best_so_far_info({"random": seeds}, "epochs", None, True)


def test_best_so_far_wall_time_and_long_frame_input():
    long = pd.concat(
        [
            f.assign(strategy=s, seed=k)
            for s, seeds in _frames().items()
            for k, f in enumerate(seeds)
        ]
    )
    tidy = tidy_runs(long)
    assert set(tidy["strategy"]) == {"random", "evolution"}
    curves = best_so_far_curves(tidy, "wall_time")
    grid, mean, _, n = curves["evolution"]
    assert n == 3 and np.isnan(mean[0])  # before any seed's first evaluation
    finals = [f["metrics.score"].max() for f in _frames()["evolution"]]
    assert mean[-1] == pytest.approx(np.mean(finals))
    fig = plot_best_so_far(long, x="wall_time")
    assert fig.layout.xaxis.title.text == "wall time (s)"
    with pytest.raises(NasbenchError, match="x must be one of"):
        plot_best_so_far(long, x="epochs")
    with pytest.raises(NasbenchError, match="strategy and seed"):
        plot_best_so_far(pd.DataFrame({"score": [1.0]}))


def test_best_so_far_reads_runs_and_skips_cache_hits(tmp_path):
    runs = []
    for seed in range(2):
        with RunStore.create(tmp_path / f"r{seed}", {"strategy": "random", "seed": seed}) as st:
            g = NB201Space().sample(np.random.default_rng(seed))
            st.log_candidate(0, g, {"score": 0.4}, {"params": 1e5})
            st.log_candidate(1, g, {"score": 0.4}, {}, status="cached")
            st.log_candidate(2, g, {"score": 0.6 + seed / 10}, {"params": 2e5})
        runs.append(load(tmp_path / f"r{seed}"))
    fig = plot_best_so_far(runs)
    line = fig.data[1]
    assert line.name == "random (2 seeds)"
    np.testing.assert_allclose(line.y, [0.4, 0.65])
    # The Pareto front of one run, hover texts are genotypes.
    pareto = plot_pareto(runs[0], x="params", y="score")
    assert [t.name for t in pareto.data] == ["candidates", "Pareto front"]
    assert "|" in pareto.data[0].text[0]  # NB201 string form


def test_pareto_front_is_non_dominated_set():
    frame = pd.DataFrame(
        {
            "params": [1, 2, 3, 4, 2.5],
            "val_acc": [0.5, 0.7, 0.65, 0.9, 0.7],
            "genotype_json": list("abcde"),
        }
    )
    assert pareto_mask(frame["params"], frame["val_acc"], True, True).tolist() == [
        True,
        True,
        False,
        True,
        False,
    ]
    fig = plot_pareto(frame)
    front = fig.data[1]
    assert list(front.x) == [1, 2, 4] and list(front.text) == ["a", "b", "d"]
    assert len(fig.data[0].x) == 5
    with pytest.raises(NasbenchError, match="no column 'macs'"):
        plot_pareto(frame, x="macs")


def test_pareto_info_keeps_finite_points_and_sorts_the_front_by_x():
    frame = pd.DataFrame(
        {
            "params": [4, 1, 5, 2, 3, np.nan],
            "score": [0.8, 0.1, 0.7, 0.5, 0.4, 0.9],
            "genotype_json": list("abcdef"),
        }
    )
    info = _get_pareto_info(frame, "params", "score", None, None)
    assert (info.minimize_x, info.maximize_y) == (True, True)  # params is a cost
    assert list(info.xs) == [4, 1, 5, 2, 3] and info.texts == list("abcde")
    assert list(info.front) == [1, 3, 0]  # x = 1, 2, 4
    both_min = _get_pareto_info(frame, "params", "score", None, False)
    assert list(both_min.front) == [1] and not both_min.maximize_y
    with pytest.raises(NasbenchError, match="no candidate has both"):
        _get_pareto_info(frame.assign(score=np.nan), "params", "score", None, None)


def test_pareto_minimises_losses_and_steps_the_way_x_improves():
    frame = pd.DataFrame(
        {
            "params": [1.0, 2.0, 3.0],
            "train_loss": [0.9, 0.5, 0.2],
            "val_acc": [0.9, 0.7, 0.5],
            "status": ["ok"] * 3,
        }
    )
    info = _get_pareto_info(frame, "params", "train_loss", None, None)
    assert not info.maximize_y and list(info.front) == [0, 1, 2]  # every trade-off, not the worst
    assert plot_pareto(frame, y="train_loss").data[1].line.shape == "hv"
    # Accuracy on x (maximised) against size on y: each step rises before it crosses.
    flipped = plot_pareto(frame, x="val_acc", y="params")
    assert "val_acc (max)" in flipped.layout.title.text and flipped.data[1].line.shape == "vh"
    with pytest.raises(NasbenchError, match="'status' is not a number per candidate"):
        plot_pareto(frame, x="status")


def test_a_nan_score_does_not_hide_the_rest_of_a_best_so_far_curve():
    seeds = {"random": [pd.DataFrame({"score": [0.5, np.nan, 0.7, 0.6]})]}
    curve = _get_best_so_far_info(seeds, "evaluations", None, True).curves["random"]
    np.testing.assert_allclose(curve.mean, [0.5, 0.5, 0.7, 0.7])
    losses = {"random": [pd.DataFrame({"val_loss": [0.5, 0.3, 0.4]})]}
    line = plot_best_so_far(losses, metric="val_loss").data[1]  # a loss: lower is better
    np.testing.assert_allclose(line.y, [0.5, 0.3, 0.3])
    texts = {"random": [pd.DataFrame({"genotype_json": ["a", "b"]})]}
    with pytest.raises(NasbenchError, match="'genotype_json' is not a number per candidate"):
        plot_best_so_far(texts, metric="genotype_json")


def test_proxy_vs_true_correlations_equal_scipy():
    rng = np.random.default_rng(0)
    true = rng.uniform(0.5, 0.9, 40)
    frame = pd.DataFrame({"metrics.synflow": true * 10 + rng.normal(0, 1.0, 40), "val_acc": true})
    frame.loc[3, "val_acc"] = np.nan  # dropped before correlating
    fig = plot_proxy_vs_true(frame, "synflow", "val_acc")
    keep = frame.dropna()
    tau = stats.kendalltau(keep["metrics.synflow"], keep["val_acc"]).statistic
    rho = stats.spearmanr(keep["metrics.synflow"], keep["val_acc"]).statistic
    assert fig.layout.meta["kendall_tau"] == pytest.approx(tau)
    assert fig.layout.meta["spearman_rho"] == pytest.approx(rho)
    assert f"{tau:.3f}" in fig.layout.title.text and f"{rho:.3f}" in fig.layout.title.text
    assert len(fig.data[0].x) == 39
    with pytest.raises(NasbenchError, match="at least 3"):
        plot_proxy_vs_true(frame.head(2), "synflow", "val_acc")


def _stored(tmp_path, name, seed=0, strategy="random", costs=(10.0, 20.0, 30.0), **changes):
    """A table-scored discrete run of three candidates (and a cache hit) with ``changes``."""
    config = {
        "strategy": strategy, "seed": seed, "evaluator": "table",
        "evaluator_config": {"metric": "val_acc"}, "space": {"name": "nb201"},
        "dataset": {"name": "synthetic", "size": 28},
    }  # fmt: skip
    config.update(changes)
    info = {"evaluator": "table", "simulated": True}
    with RunStore.create(tmp_path / name, config) as store:
        g = NB201Space().sample(np.random.default_rng(seed))
        for k, (score, wall) in enumerate(zip((0.5, 0.7, 0.6), costs, strict=True)):
            store.log_candidate(k, g, {"score": score}, {"wall_s": wall}, info=info)
            if k == 0:
                store.log_candidate(9, g, {"score": score}, {}, status="cached", info=info)
    return load(tmp_path / name)


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"evaluator": "proxy", "evaluator_config": {"proxy": "naswot"}}, "evaluator"),
        ({"evaluator_config": {"metric": "val_auc"}}, "score metric"),
        ({"dataset": {"name": "breastmnist", "size": 28}}, "dataset"),
        ({"dataset": {"name": "synthetic", "size": 64}}, "image size"),
    ],
)
def test_runs_scored_differently_are_neither_seeds_nor_rivals(tmp_path, changes, field):
    same = _stored(tmp_path, "a", seed=0, evaluator_config={})  # the default metric: val_acc
    other = _stored(tmp_path, "b", seed=1, **changes)
    with pytest.raises(NasbenchError, match=f"differ in {field} \\(a: .*, b: .*\\)") as err:
        plot_best_so_far([same, other])  # as two seeds of random search
    assert "\n" not in str(err.value)
    with pytest.raises(NasbenchError, match=f"differ in {field}"):
        plot_best_so_far({"random": [same], "evolution": [other]})  # as rivals
    assert plot_best_so_far([same, _stored(tmp_path, "c", seed=1)]).data[1].name == (
        "random (2 seeds)"
    )


def test_the_seed_of_a_run_is_its_config_seed(tmp_path):
    runs = [_stored(tmp_path, "e7", seed=7, strategy="evolution"),
            _stored(tmp_path, "e3", seed=3, strategy="evolution")]  # fmt: skip
    assert tidy_runs({"evolution": runs}).groupby("seed").size().index.tolist() == [3, 7]
    assert list(dict.fromkeys(tidy_runs(runs)["seed"])) == [7, 3]
    twice = [runs[0], _stored(tmp_path, "again", seed=7, strategy="evolution")]
    with pytest.raises(NasbenchError, match="'evolution' has two runs with seed 7"):
        plot_best_so_far(twice)


def test_one_run_is_a_list_of_one_and_a_path_is_told_to_load(tmp_path):
    """The figures of a discrete run send a user here with that run: one Run is a list of
    one; a run's path (not loaded) is named with the call that loads it."""
    run = _stored(tmp_path, "r3", seed=3)
    fig = plot_best_so_far(run)
    assert [t.name for t in fig.data] == ["random ± std", "random (1 seed)"]
    assert list(fig.data[1].y) == list(plot_best_so_far([run]).data[1].y) == [0.5, 0.7, 0.7]
    for given in (str(tmp_path / "r3"), tmp_path / "r3"):
        with pytest.raises(NasbenchError, match=r"got \w+ \('.*r3'\); load the run first"):
            plot_best_so_far([given])


def test_wall_time_on_a_table_is_the_simulated_training_time(tmp_path):
    runs = [_stored(tmp_path, "r0", seed=0), _stored(tmp_path, "r1", seed=1, costs=(5, 5, 5))]
    tidy = tidy_runs(runs)
    # Cumulative cost.wall_s of the evaluations; the cache hit costs nothing.
    np.testing.assert_allclose(tidy["elapsed"], [10.0, 30.0, 60.0, 5.0, 10.0, 15.0])
    fig = plot_best_so_far(runs, x="wall_time")
    assert fig.layout.xaxis.title.text == "simulated training time (s)"
    assert fig.data[1].x[-1] == pytest.approx(60.0)
    np.testing.assert_allclose(fig.data[1].y[-1], 0.7)
    measured = pd.DataFrame({"score": [0.5], "elapsed": [1.0]})
    with pytest.raises(NasbenchError, match="simulated training time and others' is measured"):
        plot_best_so_far({"random": runs, "evolution": [measured]}, x="wall_time")


def test_a_folder_run_stored_relative_compares_with_one_stored_absolute(tmp_path, monkeypatch):
    # Runs made before searches stored folder paths absolute hold the path as typed.
    monkeypatch.chdir(tmp_path)
    old = _stored(tmp_path, "old", seed=0, dataset={"name": "folder:scans", "size": 28})
    new = _stored(tmp_path, "new", seed=1,
                  dataset={"name": f"folder:{tmp_path / 'scans'}", "size": 28})  # fmt: skip
    assert plot_best_so_far([old, new]).data[1].name == "random (2 seeds)"
    elsewhere = _stored(tmp_path, "x", seed=2, dataset={"name": "folder:other", "size": 28})
    with pytest.raises(NasbenchError, match="differ in dataset"):
        plot_best_so_far([old, elsewhere])


def test_a_failed_candidate_keeps_its_evaluation_number_and_the_best_carries_across():
    # A failed (diverged) candidate counts against the budget: later candidates keep their
    # real numbers, and the curve reaches the last evaluation.
    frame = pd.DataFrame({
        "score": [np.nan, 0.5, np.nan, np.nan, 0.9, np.nan],
        "status": ["failed", "done", "failed", "failed", "done", "failed"],
        "elapsed": [1.0, 2.0, np.nan, 4.0, 5.0, 6.0],
    })  # fmt: skip
    tidy = tidy_runs({"random": [frame]})
    assert tidy["evaluation"].tolist() == [1, 2, 3, 4, 5, 6]
    line = next(t for t in plot_best_so_far({"random": [frame]}).data if t.mode == "lines")
    assert list(line.x) == [2, 3, 4, 5, 6] and list(line.y) == [0.5, 0.5, 0.5, 0.9, 0.9]
    # On the time axis too: the curve runs to the last candidate's time; a failed one's
    # missing time moves nothing.
    line = next(
        t for t in plot_best_so_far({"random": [frame]}, x="wall_time").data if t.mode == "lines"
    )
    assert line.x[-1] == 6.0 and line.y[-1] == 0.9 and line.x[0] == pytest.approx(2.0, abs=0.04)


def test_pareto_of_a_halving_race_is_one_point_per_architecture_at_its_largest_budget(tmp_path):
    """A race logs each rung's survivors again at a larger budget (same id, info budget);
    a cache hit and a failed evaluation are no points."""
    cells = [NB201Space().sample(np.random.default_rng(seed)) for seed in range(5)]
    race = [  # (id, budget, score, status)
        (0, 1, 0.50, "done"), (1, 1, 0.55, "done"), (2, 1, 0.60, "done"), (3, 1, 0.40, "done"),
        (1, 3, 0.70, "done"), (2, 3, 0.75, "done"),
        (2, 9, 0.90, "done"),
        (0, 1, 0.50, "cached"),
        (4, 1, 0.99, "failed"),
    ]  # fmt: skip
    with RunStore.create(tmp_path / "race", {"strategy": "successive_halving"}) as store:
        for cid, budget, score, status in race:
            store.log_candidate(
                cid, cells[cid], {"score": score}, {"params": 1e5 * (cid + 1), "epochs": budget},
                status=status, info={"bracket": 0, "rung": [1, 3, 9].index(budget),
                                     "budget": budget},
            )  # fmt: skip
    run = load(tmp_path / "race")
    info = _get_pareto_info(run, "params", "score", None, None)
    # Architectures 0..3 (the failed 4 left out), each scored at its largest budget.
    points = dict(zip(info.xs, info.ys, strict=True))
    assert points == {1e5: 0.50, 2e5: 0.70, 3e5: 0.90, 4e5: 0.40}
    assert info.texts[list(info.xs).index(3e5)].endswith("<br>budget 9 epochs")
    assert sorted(info.xs[info.front]) == [1e5, 2e5, 3e5]
    fig = plot_pareto(run, x="params", y="score")
    assert fig.layout.title.text.endswith("3 of 4 architectures")
    # Without recorded budgets, the costs' epochs tell the rungs apart.
    frame = run.candidates.drop(columns=["info"])
    by_epochs = _get_pareto_info(frame, "params", "score", None, None)
    assert dict(zip(by_epochs.xs, by_epochs.ys, strict=True)) == points
