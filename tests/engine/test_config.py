"""SearchConfig: JSON round trip and one-line errors for bad configs."""

from __future__ import annotations

import json

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


def test_a_config_file_saved_with_a_byte_order_mark_loads(tmp_path):
    """Windows editors (Notepad) start a UTF-8 file with a BOM; it is no reason to refuse it."""
    path = tmp_path / "cfg.json"
    path.write_bytes(b"\xef\xbb\xbf" + SearchConfig(epochs=3).to_json().encode())
    assert SearchConfig.load(path) == SearchConfig(epochs=3)


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


def test_early_stop_needs_the_eigenvalue_and_a_growth_factor():
    with pytest.raises(ConfigError, match="eigen_every = 1"):
        SearchConfig(early_stop=True).validate()
    with pytest.raises(ConfigError, match="early_stop_factor must be > 1"):
        SearchConfig(early_stop=True, eigen_every=1, early_stop_factor=0.9).validate()
    SearchConfig(early_stop=True, eigen_every=1).validate()


def test_precision_auto_is_fp32_on_the_cpu_and_unknown_is_refused():
    import torch

    from nasbench.device import autocast, resolve_precision

    cpu = torch.device("cpu")
    assert [resolve_precision(cpu, p) for p in ("auto", "bf16", "fp32")] == ["fp32"] * 3
    with autocast(cpu, "auto"):
        assert not torch.is_autocast_enabled()
    with pytest.raises(ConfigError, match="precision must be"):
        resolve_precision(cpu, "fp16")
    assert SearchConfig().precision == "auto"
    with pytest.raises(ConfigError, match="precision"):
        SearchConfig(precision="fp16").validate()


@pytest.mark.parametrize("dims", [2, 3])
def test_channels_last_moves_conv_weights_of_either_dims(dims):
    import torch
    from torch import nn

    from nasbench.device import to_channels_last, wants_channels_last

    conv = (nn.Conv2d if dims == 2 else nn.Conv3d)(3, 4, 3)
    net = to_channels_last(nn.Sequential(conv, nn.Linear(4, 2)), dims)
    fmt = torch.channels_last if dims == 2 else torch.channels_last_3d
    assert net[0].weight.is_contiguous(memory_format=fmt)
    assert net[1].weight.is_contiguous()  # 2-D weights are left alone
    assert wants_channels_last(torch.device("cuda"), False)
    assert not wants_channels_last(torch.device("cpu"), False)
    assert wants_channels_last(torch.device("cpu"), True)


def test_small_inputs_keep_fp32_and_the_plain_format_on_a_gpu():
    """At MedMNIST's 28 px a GPU step is launch-bound: casts and format changes only add
    kernels, so "auto" keeps fp32 and channels-first there (a GPU is not needed to ask)."""
    import torch

    from nasbench.device import LAUNCH_BOUND_PIXELS, resolve_precision, wants_channels_last

    cuda = torch.device("cuda")
    assert resolve_precision(cuda, "auto", 28 * 28) == "fp32"
    assert resolve_precision(cuda, "bf16", 28 * 28) == "bf16"  # asked for: given
    assert not wants_channels_last(cuda, False, LAUNCH_BOUND_PIXELS)
    assert wants_channels_last(cuda, False, LAUNCH_BOUND_PIXELS + 1)
    assert wants_channels_last(cuda, True, 28 * 28)


def test_cpu_peak_memory_window_restarts_on_linux():
    from pathlib import Path

    import torch

    from nasbench.device import peak_memory_mb, reset_peak_memory

    if not Path("/proc/self/clear_refs").exists():
        pytest.skip("the peak can only be reset on Linux")
    cpu = torch.device("cpu")
    reset_peak_memory(cpu)
    block = torch.ones(64 * 2**20 // 4)  # 64 MiB, touched
    block.add_(1.0)
    during = peak_memory_mb(cpu)
    del block
    reset_peak_memory(cpu)
    assert peak_memory_mb(cpu) < during - 32  # an epoch reports its own peak


def test_the_readme_search_config_is_complete_and_valid():
    """The README's config example names every key and validates as it stands."""
    import dataclasses
    import re
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("### A search config", 1)[1]
    text = re.search(r"```json\n(.*?)```", section, re.S).group(1)
    config = SearchConfig.from_json(text).validate()
    data = json.loads(text)
    assert set(data) == {f.name for f in dataclasses.fields(SearchConfig)}
    assert set(data["dataset"]) == {f.name for f in dataclasses.fields(DatasetConfig)}
    assert (config.dataset.name, config.max_seconds) == ("breastmnist", 1200)
    table = section.split("```")[2]  # the text after the JSON block
    for key in data:  # the table says what each key does
        assert f"`{key}`" in table, key


# ---- an evaluator in a search: the search's size, limit and device ---------------------------
NB201_SEARCH = {"strategy": "random", "space": {"name": "nb201"}, "max_evaluations": 2}


def test_the_evaluator_of_a_search_gets_the_search_size_limit_and_device():
    config = SearchConfig(
        dataset=DatasetConfig(size=64, limit=40), device="cpu", **NB201_SEARCH
    ).validate()
    settings = config.evaluator_settings()
    assert (settings["size"], settings["limit"], settings["device"]) == (64, 40, "cpu")


def test_the_search_builds_its_evaluator_with_those_settings():
    from nasbench.engine.discrete import _Parts

    config = SearchConfig(dataset=DatasetConfig(size=64), device="cpu", **NB201_SEARCH)
    evaluator = _Parts(config.validate()).evaluator
    assert (evaluator.config.device, evaluator.config.size, evaluator.data.size) == ("cpu", 64, 64)


@pytest.mark.parametrize(
    ("evaluator_config", "named"),
    [
        ({"size": 64}, "evaluator_config size 64 differs from the search's dataset.size 28"),
        ({"device": "cpu"}, "evaluator_config device 'cpu' differs from the search's device"),
        ({"limit": 10}, "evaluator_config limit 10 differs from the search's dataset.limit 40"),
    ],
)
def test_an_evaluator_setting_the_search_would_overrule_is_refused(evaluator_config, named):
    config = SearchConfig(
        dataset=DatasetConfig(limit=40), evaluator_config=evaluator_config, **NB201_SEARCH
    )
    message = _one_line_error(config)
    assert named in message and "instead" in message


def test_an_evaluator_setting_equal_to_the_search_or_without_a_search_value_is_kept():
    config = SearchConfig(evaluator_config={"size": 28, "limit": 30, "device": "auto"},
                          **NB201_SEARCH).validate()  # fmt: skip
    assert config.evaluator_settings()["limit"] == 30  # dataset.limit None: the evaluator's cap
    table = SearchConfig(evaluator="table", **NB201_SEARCH)
    assert "device" not in table.evaluator_settings()  # a field the table has not is not added


def test_a_misspelt_evaluator_device_is_named_as_a_bad_choice_not_as_a_difference():
    config = SearchConfig(evaluator_config={"device": "gpu"}, **NB201_SEARCH)
    message = _one_line_error(config)
    assert "'gpu'" in message and "differs" not in message
