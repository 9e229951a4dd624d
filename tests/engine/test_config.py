"""SearchConfig: JSON round trip and one-line errors for bad configs."""

from __future__ import annotations

import pytest

from nasbench.config import DatasetConfig, SearchConfig
from nasbench.errors import ConfigError, NasbenchError


def _one_line_error(config: SearchConfig) -> str:
    with pytest.raises(NasbenchError) as err:
        config.validate()
    message = str(err.value)
    assert "\n" not in message
    return message


def test_json_round_trip_keeps_every_field(tmp_path):
    config = SearchConfig(
        dataset=DatasetConfig(name="breastmnist", limit=500, root="/data"),
        strategy="gdas",
        strategy_config={"tau_max": 5.0},
        epochs=7,
        seed=11,
    )
    assert SearchConfig.from_json(config.to_json()) == config
    config.save(tmp_path / "cfg.json")
    assert SearchConfig.load(tmp_path / "cfg.json") == config


def test_default_config_validates():
    assert SearchConfig().validate().strategy == "darts"


def test_unknown_strategy_suggests_the_closest():
    message = _one_line_error(SearchConfig(strategy="dart"))
    assert "dart" in message and "darts" in message


def test_negative_budget_is_rejected():
    assert "epochs" in _one_line_error(SearchConfig(epochs=-1))
    assert "limit" in _one_line_error(SearchConfig(dataset=DatasetConfig(limit=0)))


def test_3d_dataset_with_2d_space_names_the_fix():
    message = _one_line_error(SearchConfig(dataset=DatasetConfig(name="synthetic3d")))
    assert "3D" in message and "2D" in message and "spatial_dims" in message


def test_unknown_key_is_rejected_with_suggestion():
    with pytest.raises(ConfigError, match="epoch.*Did you mean 'epochs'"):
        SearchConfig.from_dict({"epoch": 3})


def test_bad_strategy_hyperparameter_is_rejected():
    message = _one_line_error(SearchConfig(strategy="gdas", strategy_config={"tau_max": -1.0}))
    assert "tau_max" in message


def test_unknown_dataset_is_rejected():
    assert "breastmnist" in _one_line_error(SearchConfig(dataset=DatasetConfig(name="brestmnist")))


def test_invalid_json_is_one_line():
    with pytest.raises(ConfigError, match="not valid JSON"):
        SearchConfig.from_json("{not json")
