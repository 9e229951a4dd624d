"""Discrete strategies: they beat random search on a learnable objective, and fail clearly."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nasbench.errors import ConfigError, NasbenchError, SpaceError
from nasbench.evaluation.base import Result
from nasbench.spaces import ChainSpace, NB201Space, create_space
from nasbench.strategies import create_strategy, make_config, strategy_names
from nasbench.strategies.discrete import (
    Budget,
    crossover,
    decisions,
    expected_improvement,
    run_discrete,
)

RANDOM_CAP = 2000  # random search needs ~7,800 queries on average; we stop it at 2,000


class ToyNB201:
    """A deterministic, learnable objective on NB201: an op value per edge + one interaction."""

    def __init__(self, space: NB201Space, seed: int = 123) -> None:
        self.space = space
        self.values = np.random.default_rng(seed).uniform(0, 1, size=(6, len(space.ops)))

    def score_ops(self, idx) -> float:
        s = self.values[np.arange(6), list(idx)].sum()
        if idx[2] == idx[4]:  # edges 1->2 and 1->3 like to agree
            s += 0.5 * idx[2] / 4
        return float(s / 7)

    def evaluate(self, genotype, budget=None) -> Result:
        idx = [self.space.ops.index(genotype.op(j, i)) for i, j in self.space.edges]
        return Result({"score": self.score_ops(idx)}, {"wall_s": 0.0})


@pytest.fixture(scope="module")
def toy():
    space = NB201Space()
    ev = ToyNB201(space)
    scores = sorted(ev.score_ops(idx) for idx in itertools.product(range(5), repeat=6))
    assert len(scores) == space.size() == 15625
    assert scores[-1] > scores[-2]  # a unique optimum
    return space, ev, scores[-1]


def queries_to_optimum(toy, name, config, seed, cap, max_asks=None) -> int:
    space, ev, best = toy
    strategy = create_strategy(name, config, space=space, seed=seed)

    def stop(trial):
        return trial.result.score >= best or (
            max_asks is not None and trial.candidate_id >= max_asks
        )

    out = run_discrete(strategy, ev, Budget(max_evaluations=cap), on_result=stop, cache="genotype")
    q = out.evaluations_to_reach(best)
    return RANDOM_CAP if q is None else q  # not found counts as random's cap: no free pass


@pytest.fixture(scope="module")
def random_mean(toy):
    qs = [queries_to_optimum(toy, "random", {}, seed, RANDOM_CAP) for seed in range(10)]
    return float(np.mean(qs))


def test_registry_lists_discrete_strategies():
    names = strategy_names("discrete")
    for name in ("random", "grid", "evolution", "genetic", "reinforce", "qlearning", "bayesopt"):
        assert name in names


def test_evolution_beats_random(toy, random_mean):
    cfg = {"population_size": 20, "sample_size": 5}
    qs = [queries_to_optimum(toy, "evolution", cfg, seed, RANDOM_CAP) for seed in range(10)]
    assert random_mean > 1500
    assert np.mean(qs) < 0.3 * random_mean, (qs, random_mean)


def test_genetic_algorithm_beats_random(toy, random_mean):
    cfg = {"population_size": 20, "patience": 0}
    qs = [queries_to_optimum(toy, "genetic", cfg, seed, RANDOM_CAP) for seed in range(10)]
    assert np.mean(qs) < 0.3 * random_mean, (qs, random_mean)


@pytest.mark.slow
def test_reinforce_beats_random(toy, random_mean):
    # Cached repeats are free but cost controller updates: cap the asks to bound the time.
    qs = [queries_to_optimum(toy, "reinforce", {}, seed, RANDOM_CAP, 600) for seed in range(5)]
    assert sum(q < RANDOM_CAP for q in qs) >= 3, qs
    assert np.mean(qs) < 0.7 * random_mean, (qs, random_mean)


def test_bayesopt_beats_random(toy, random_mean):
    cfg = {"pool_size": 100, "n_mutations": 60}
    qs = [queries_to_optimum(toy, "bayesopt", cfg, seed, 120) for seed in range(5)]
    assert np.mean(qs) < 0.3 * random_mean, (qs, random_mean)


def test_bayesopt_fits_its_gp_with_one_blas_thread(toy, monkeypatch):
    from sklearn.gaussian_process import GaussianProcessRegressor
    from threadpoolctl import threadpool_info

    space, ev, _ = toy
    seen = []
    fit = GaussianProcessRegressor.fit

    def recording_fit(self, X, y):
        seen.append({p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"})
        return fit(self, X, y)

    monkeypatch.setattr(GaussianProcessRegressor, "fit", recording_fit)
    strategy = create_strategy("bayesopt", {"n_initial": 3, "pool_size": 10}, space=space, seed=0)
    run_discrete(strategy, ev, Budget(max_evaluations=6))
    assert len(seen) == 3 and all(threads <= {1} for threads in seen), seen


def test_same_seed_same_proposals(toy):
    space, ev, _ = toy
    for name in ("random", "evolution", "reinforce", "bayesopt", "genetic"):
        runs = []
        for _ in range(2):
            s = create_strategy(
                name, {"n_initial": 3} if name == "bayesopt" else {}, space=space, seed=7
            )
            out = run_discrete(s, ev, Budget(max_evaluations=25), cache="genotype")
            runs.append([t.genotype for t in out.history])
        assert runs[0] == runs[1], name


def test_grid_enumerates_a_tiny_space_once():
    space = NB201Space(ops=["none", "skip_connect"], n_nodes=3)
    everything = list(space.enumerate())
    for shuffle in (False, True):
        grid = create_strategy("grid", {"shuffle": shuffle}, space=space, seed=0)
        out = run_discrete(grid, lambda_evaluator(), Budget(max_evaluations=100), cache="none")
        seen = [t.genotype for t in out.history]
        assert len(seen) == len(everything) == 8
        assert set(seen) == set(everything)
        assert out.stop_reason == "finished"
        assert (seen == everything) is (not shuffle)
        with pytest.raises(ConfigError, match="all 8 members"):
            grid.ask()


def lambda_evaluator():
    class Count:
        def evaluate(self, g, budget=None):
            return Result({"score": float(len(g.to_json()))})

    return Count()


def test_grid_refuses_a_huge_space():
    with pytest.raises(ConfigError, match="Shrink it or use random search"):
        create_strategy("grid", {}, space=create_space("darts"), seed=0)


class ChainObjective:
    """Rewards 3x3 convolutions with many filters and depth 3; pooling is poor."""

    def evaluate(self, g, budget=None):
        s = 0.0
        for layer in g.layers:
            if layer.layer_type == "conv":
                s += 0.2 * (layer.kernel_h == 3) + 0.1 * (layer.filters == 32)
        return Result({"score": s / 0.9 - 0.2 * abs(g.depth - 3)})


def test_qlearning_improves_over_the_epsilon_schedule():
    space = ChainSpace(
        layer_types=("conv", "max_pool"),
        kernels=(1, 3),
        pool_kernels=(3,),
        strides=(1,),
        filters=(16, 32),
        max_depth=3,
    )
    cfg = {"random_episodes": 40, "episodes_per_epsilon": 10, "epsilon_min": 0.1}
    gains = []
    for seed in range(3):
        q = create_strategy("qlearning", cfg, space=space, seed=seed)
        out = run_discrete(q, ChainObjective(), Budget(max_evaluations=400), cache="none")
        scores = np.array([t.result.score for t in out.history])
        assert q.epsilon() == pytest.approx(0.1)
        gains.append(scores[-40:].mean() - scores[:40].mean())
    assert np.mean(gains) > 0.3, gains


def test_qlearning_needs_the_chain_space():
    with pytest.raises(ConfigError, match="chain"):
        create_strategy("qlearning", {}, space=NB201Space(), seed=0)


@pytest.mark.parametrize("name", ["nb201", "darts", "chain"])
def test_decisions_round_trip(name):
    space = create_space(name, **({"max_depth": 3, "min_depth": 2} if name == "chain" else {}))
    steps = decisions(space)
    rng = np.random.default_rng(0)
    sizes = steps.sizes()
    for _ in range(20):
        g = space.sample(rng)
        choices = steps.to_decisions(g)
        assert steps.from_decisions(choices) == g
        for (key, mask), c in zip(steps.trace(choices), choices, strict=True):
            assert 0 <= c < sizes[key]
            assert mask is None or mask[c]
    if name == "chain":
        assert not steps.next([])[1][-1]  # no stop before min_depth
        assert not steps.next([2, 0, 0])[1][-1]  # one pool layer: still too shallow
        assert steps.next([2, 0, 0, 2, 0, 0])[1][-1]  # two layers: stop is allowed
        assert steps.next([2, 0, 0, 2, 0, 0, 4]) is None  # the stop token ends it


@pytest.mark.parametrize("name", ["nb201", "darts", "chain"])
def test_crossover_stays_in_the_space(name):
    space = create_space(name, **({"max_depth": 4} if name == "chain" else {}))
    rng = np.random.default_rng(1)
    for _ in range(20):
        a, b = space.sample(rng), space.sample(rng)
        child = crossover(space, a, b, rng)
        assert space.contains(child)
        if name == "nb201":
            for (_, _, op), (_, _, oa), (_, _, ob) in zip(
                child.edges(), a.edges(), b.edges(), strict=True
            ):
                assert op in (oa, ob)


def test_expected_improvement_prefers_uncertain_and_better():
    ei = expected_improvement(np.array([0.5, 0.5, 0.9]), np.array([0.0, 0.2, 0.0]), 0.5, 0.0)
    assert ei[0] == pytest.approx(0.0)
    assert ei[1] > 0 and ei[2] == pytest.approx(0.4)


# ---- bad input: one-line errors -----------------------------------------------------------


class EmptySpace:
    name = "empty"

    def size(self):
        return 0

    def sample(self, rng):
        raise AssertionError("never sampled")


def one_line(err: pytest.ExceptionInfo) -> str:
    text = str(err.value)
    assert isinstance(err.value, NasbenchError) and "\n" not in text
    return text


def test_empty_space_is_refused():
    with pytest.raises(ConfigError) as err:
        create_strategy("random", {}, space=EmptySpace(), seed=0)
    assert "empty" in one_line(err)


@pytest.mark.parametrize("kwargs", [{"max_evaluations": 0}, {}, {"max_seconds": 0.0}])
def test_zero_budget_is_refused(kwargs):
    with pytest.raises(ConfigError) as err:
        Budget(**kwargs)
    assert "max_" in one_line(err)


@pytest.mark.parametrize("name", ["evolution", "genetic"])
def test_population_larger_than_budget_is_refused(toy, name):
    space, ev, _ = toy
    s = create_strategy(name, {"population_size": 30}, space=space, seed=0)
    with pytest.raises(ConfigError) as err:
        run_discrete(s, ev, Budget(max_evaluations=10))
    assert "population_size 30 is larger than the budget of 10" in one_line(err)


def test_unknown_encoding_is_refused():
    with pytest.raises(ConfigError) as err:
        make_config("bayesopt", {"encoding": "adjacency"})
    assert "encoding" in one_line(err)
    with pytest.raises(SpaceError):
        NB201Space().encode(NB201Space().sample(np.random.default_rng(0)), "adjacency")


def test_unknown_option_and_crossover_are_refused():
    with pytest.raises(ConfigError) as err:
        make_config("evolution", {"populaton_size": 3})
    assert "population_size" in one_line(err)
    with pytest.raises(ConfigError) as err:
        rng = np.random.default_rng(0)
        crossover(None, NB201Space().sample(rng), object(), rng)
    assert "no crossover" in one_line(err)
