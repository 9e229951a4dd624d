"""Numbers as a numpy grid hands them out, bad numeric arguments and misspelt keywords:
accepted as plain numbers, or refused in one line that names the argument."""

from __future__ import annotations

import dataclasses
import json
import pickle

import numpy as np
import pytest

from nasbench import SearchConfig
from nasbench.bench import generate_table, synthetic_nb201_table
from nasbench.config import DatasetConfig
from nasbench.errors import ConfigError, SpaceError
from nasbench.evaluation import create_evaluator
from nasbench.options import Budget
from nasbench.spaces import C2fnasSpace, NB201Space, create_space, space_from_dict
from nasbench.strategies import create_strategy, make_config

TINY = {"n_cells": 2, "channels": 4}


def test_search_config_takes_numpy_numbers_and_stores_plain_ones():
    cfg = SearchConfig(
        epochs=np.int64(1),
        w_lr=np.float32(0.02),
        dataset={"name": "synthetic", "limit": np.int64(8)},
        strategy_config={"arch_lr": np.float32(3e-4)},
    )
    cfg.seed = np.int32(3)  # set after construction: validate() converts it
    cfg.validate()
    assert (cfg.epochs, cfg.w_lr, cfg.seed, cfg.dataset.limit) == (1, 0.02, 3, 8)
    types = [type(v) for v in (cfg.epochs, cfg.w_lr, cfg.seed, cfg.dataset.limit)]
    assert types == [int, float, int, int]
    assert type(cfg.strategy_config["arch_lr"]) is float
    assert SearchConfig.from_json(cfg.to_json()) == cfg  # the run store's JSON round trip


def test_numpy_numbers_keep_the_int_float_and_finite_checks():
    with pytest.raises(ConfigError, match=r"^epochs must be an integer, got 2\.7"):
        SearchConfig(epochs=np.float64(2.7)).validate()  # never truncated to 2
    with pytest.raises(ConfigError, match=r"^w_lr must be a finite number, got nan"):
        SearchConfig(w_lr=np.float32("nan")).validate()
    with pytest.raises(ConfigError, match="epochs must be an integer"):
        SearchConfig(epochs=np.bool_(True)).validate()


def test_method_configs_and_budgets_take_numpy_numbers():
    config = make_config("darts", {"arch_lr": np.float32(3e-4), "order": np.int64(2)})
    assert (config.arch_lr, config.order) == (3e-4, 2)
    assert (type(config.arch_lr), type(config.order)) == (float, int)
    budget = Budget(max_evaluations=np.int64(5), max_seconds=np.float32(1.5))
    assert (budget.max_evaluations, budget.max_seconds) == (5, 1.5)
    assert type(budget.max_seconds) is float


def test_spaces_take_numpy_integers_and_write_plain_json():
    skeleton = {"n_cells": np.int64(3), "channels": np.int64(4), "reduction_at": [np.int64(1)]}
    space = create_space("darts", n_nodes=np.int64(3), skeleton=skeleton)
    again = space_from_dict(json.loads(json.dumps(space.to_dict())))
    assert again == space and type(space.n_nodes) is int
    assert space.skeleton.reduction_at == (1,)
    assert NB201Space(n_nodes=np.int64(3)).n_nodes == 3
    with pytest.raises(SpaceError, match="n_nodes must be an integer >= 1, got 3.0"):
        create_space("darts", n_nodes=np.float64(3.0))


def test_strategy_seeds_take_numpy_integers_and_refuse_fractions():
    assert type(create_strategy("darts", seed=np.int64(2)).seed) is int
    with pytest.raises(ConfigError, match=r"^seed must be a non-negative integer, got 1\.5"):
        create_strategy("darts", seed=1.5)  # was int(1.5): the run of seed 1


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"proxy_lr": float("nan")}, "proxy_lr must be a number > 0 and finite, got nan"),
        ({"proxy_lr": float("inf")}, "proxy_lr must be a number > 0 and finite, got inf"),
        ({"proxy_steps": 0}, "proxy_steps must be an integer >= 1, got 0"),
    ],
)
def test_c2fnas_refuses_a_proxy_that_trains_nothing(settings, message):
    with pytest.raises(SpaceError, match=message):
        C2fnasSpace(**settings)


def test_c2fnas_takes_numpy_proxy_settings():
    space = C2fnasSpace(proxy_steps=np.int64(2), proxy_lr=np.float32(0.01))
    assert (space.proxy_steps, space.proxy_lr) == (2, 0.01)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"noise": float("nan")}, r"noise must be a finite number >= 0 .*, got nan"),
        ({"noise": -1.0}, r"noise must be a finite number >= 0 .*, got -1\.0"),
        ({"seed": None}, r"seed must be an integer in \[0, 2\*\*31\), got None"),
        ({"seed": -1}, r"seed must be an integer in \[0, 2\*\*31\), got -1"),
    ],
)
def test_synthetic_table_refuses_bad_noise_and_seed(settings, message):
    with pytest.raises(ConfigError, match=message):
        synthetic_nb201_table(**settings)


@pytest.mark.parametrize(
    ("args", "settings", "message"),
    [
        ((None,), {}, "space must be a search space such as NB201Space.., got NoneType"),
        ((NB201Space(),), {"seeds": 0}, r"seeds must be a list .*, got 0\."),
        ((NB201Space(),), {"seeds": [1.5]}, r"seeds must be a list .*, got \[1\.5\]"),
    ],
)
def test_generate_table_refuses_a_missing_space_and_bad_seeds(args, settings, message):
    # every=0 too: were the seeds let through, the call stops there rather than train.
    with pytest.raises(ConfigError, match=message):
        generate_table(*args, **settings, every=0)


def test_factories_name_a_misspelt_keyword():
    with pytest.raises(ConfigError, match="strategy 'random' takes no keyword 'seeed'; .*"
                       "Did you mean 'seed'"):  # fmt: skip
        create_strategy("random", seeed=1)
    with pytest.raises(ConfigError, match="evaluator 'proxy' takes no keyword 'spaec'; .*"
                       "Did you mean 'space'"):  # fmt: skip
        create_evaluator("proxy", spaec=NB201Space(skeleton=TINY), dataset="synthetic")
    with pytest.raises(SpaceError, match="the 'darts' space: it takes no keyword 'n_node'; .*"
                       "Did you mean 'n_nodes'"):  # fmt: skip
        create_space("darts", n_node=3)


def test_config_constructors_name_a_misspelt_keyword():
    with pytest.raises(ConfigError, match="SearchConfig has no setting 'epoch'; .*"
                       "Did you mean 'epochs'"):  # fmt: skip
        SearchConfig(epoch=1)
    with pytest.raises(ConfigError, match="DatasetConfig has no setting 'batchsize'; .*"
                       "Did you mean 'batch_size'"):  # fmt: skip
        DatasetConfig(batchsize=4)
    with pytest.raises(ConfigError, match="has no setting 'epoch'"):
        dataclasses.replace(SearchConfig(), epoch=3)


def test_config_constructors_still_take_positions_defaults_replace_and_pickle():
    dataset = DatasetConfig("synthetic", 32)
    assert (dataset.size, dataset.batch_size) == (32, 16)
    cfg = SearchConfig(dataset, epochs=3)
    assert dataclasses.replace(cfg, epochs=4).epochs == 4
    assert pickle.loads(pickle.dumps(cfg)) == cfg


def test_create_evaluator_takes_a_numpy_seed_as_the_int_it_holds():
    from nasbench.evaluation import create_evaluator

    evaluator = create_evaluator("proxy", {}, space=NB201Space(), seed=np.int64(3))
    assert evaluator.seed == 3 and type(evaluator.seed) is int
