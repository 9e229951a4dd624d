"""SearchConfig: JSON round trip and one-line errors for bad configs."""

from __future__ import annotations

import json
import os
import signal

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


def test_bf16_asked_on_the_cpu_is_said_to_run_in_fp32():
    import warnings

    import torch
    from torch import nn

    from nasbench.data import load
    from nasbench.device import warn_if_bf16_falls_back
    from nasbench.evaluation.train_loop import TrainConfig, train_model

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for precision in ("auto", "fp32"):  # nothing asked that the CPU does not do
            warn_if_bf16_falls_back(torch.device("cpu"), precision)
    with pytest.warns(UserWarning, match="precision bf16 runs in fp32 on the CPU"):
        warn_if_bf16_falls_back(torch.device("cpu"), "bf16")
    ds = load("synthetic", "train", limit=8)
    net = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 2))
    recipe = TrainConfig(epochs=1, batch_size=4, precision="bf16", device="cpu", augment=False)
    with pytest.warns(UserWarning, match="bf16 applies on a CUDA GPU"):
        train_model(net, ds, ds, ds, "binary", recipe)
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
    import mmap

    cpu = torch.device("cpu")
    reset_peak_memory(cpu)
    # 64 MiB mapped and touched by hand, then unmapped: a freed tensor's pages may stay
    # with the allocator (resident), and the window would rightly restart at that level.
    block = mmap.mmap(-1, 64 * 2**20)
    for page in range(0, len(block), mmap.PAGESIZE):
        block[page] = 1
    during = peak_memory_mb(cpu)
    block.close()
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


# ---- settings the chosen kind of search would never read --------------------------------------
@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"epochs": 1}, "epochs 1"),
        ({"w_lr": 0.1, "grad_clip": 1.0}, "w_lr 0.1 and grad_clip 1.0"),
        ({"dataset": DatasetConfig(batch_size=4)}, "dataset.batch_size 4"),
        ({"max_steps_per_epoch": 3}, "max_steps_per_epoch 3"),
    ],
)
def test_a_discrete_search_refuses_supernet_settings_it_would_ignore(changes, named):
    message = _one_line_error(SearchConfig(**{**NB201_SEARCH, **changes}))
    assert message.startswith(named + " would be ignored") and "evaluator_config" in message


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"max_evaluations": 50}, "max_evaluations 50"),
        ({"executor": "proces"}, "executor 'proces'"),
        ({"executor_config": {"workers": 2}}, "executor_config {'workers': 2}"),
    ],
)
def test_a_supernet_search_refuses_discrete_settings_it_would_ignore(changes, named):
    message = _one_line_error(SearchConfig(**changes))
    assert message.startswith(named + " would be ignored") and "'darts'" in message


@pytest.mark.parametrize(
    ("strategy_config", "named"),
    [
        ({"arch_beta1": 1.0}, "arch_beta1 must be < 1.0"),
        ({"arch_lr": 0.0}, "arch_lr must be > 0.0"),
    ],
)
def test_architecture_optimiser_values_that_train_nothing_are_refused(strategy_config, named):
    for strategy in ("darts", "gdas", "pcdarts"):
        assert named in _one_line_error(SearchConfig(strategy=strategy,
                                                     strategy_config=strategy_config))  # fmt: skip


@pytest.mark.parametrize(
    ("config", "named"),
    [
        (SearchConfig(w_lr=0.01, w_lr_min=0.5), "w_lr_min 0.5 exceeds w_lr 0.01"),
        (SearchConfig(strategy="gdas", strategy_config={"tau_max": 1.0, "tau_min": 5.0}),
         "GdasConfig.tau_min 5.0 exceeds tau_max 1.0"),
        (SearchConfig(strategy="nash", space={"name": "chain"},
                      strategy_config={"start_layers": 5, "max_layers": 2}),
         "NashConfig.start_layers 5 exceeds max_layers 2"),
        (SearchConfig(strategy="nash", space={"name": "chain"},
                      strategy_config={"lr": 0.01, "lr_min": 0.1}),
         "NashConfig.lr_min 0.1 exceeds lr 0.01"),
    ],
)  # fmt: skip
def test_a_schedule_end_past_its_start_is_refused(config, named):
    assert named in _one_line_error(config)


def test_a_null_skeleton_means_the_default_and_a_text_one_is_named():
    from nasbench.engine.bilevel import search_space

    default = SearchConfig(space={"name": "darts", "n_nodes": 2})
    null = SearchConfig(space={"name": "darts", "n_nodes": 2, "skeleton": None}).validate()
    assert search_space(null).skeleton == search_space(default).skeleton
    with pytest.raises(NasbenchError, match="space.skeleton must be a JSON object"):
        search_space(SearchConfig(space={"name": "darts", "skeleton": "big"}))


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"dataset": DatasetConfig(name="breastmnist")},
         "reads the SYNTHETIC NB201 landscape, whose scores say nothing about dataset "
         "breastmnist"),
        ({"space": {"name": "darts", "n_nodes": 2}},
         "holds nb201 cells, not cells of space 'darts'"),
        ({"dataset": DatasetConfig(name="synthetic3d"),  # a synthetic set, but of volumes
          "space": {"name": "nb201", "skeleton": {"spatial_dims": 3}}},
         "whose scores say nothing about dataset synthetic3d"),
    ],
)  # fmt: skip
def test_the_table_evaluator_refuses_data_or_a_space_it_holds_no_results_for(changes, named):
    config = SearchConfig(**{**NB201_SEARCH, "evaluator": "table", **changes})
    assert named in _one_line_error(config)


def test_a_table_file_names_the_dataset_it_was_built_on(tmp_path):
    from nasbench.bench.synthetic import synthetic_nb201_table
    from nasbench.bench.table import BenchmarkTable

    landscape = synthetic_nb201_table(seed=0)
    table = BenchmarkTable(landscape.frame, landscape.space, dataset="breastmnist")
    table.save(tmp_path / "t.parquet")
    path = {"path": str(tmp_path / "t.parquet")}
    on_breast = SearchConfig(**{**NB201_SEARCH, "evaluator": "table", "evaluator_config": path,
                                "dataset": DatasetConfig(name="breastmnist")})  # fmt: skip
    assert on_breast.validate() is on_breast
    other = SearchConfig(**{**NB201_SEARCH, "evaluator": "table", "evaluator_config": path})
    assert "holds results on breastmnist, not on dataset synthetic" in _one_line_error(other)


def test_a_table_file_serves_only_a_search_at_the_image_size_it_was_trained_at(tmp_path):
    from nasbench.bench.synthetic import synthetic_nb201_table
    from nasbench.bench.table import BenchmarkTable
    from nasbench.evaluation.table_lookup import TableEvalConfig, TableEvaluator

    landscape = synthetic_nb201_table(seed=0)
    frame, space = landscape.frame, landscape.space
    BenchmarkTable(frame, space, dataset="breastmnist", recipe={"size": 64}).save(
        tmp_path / "t.parquet"
    )
    table = {"evaluator": "table", "evaluator_config": {"path": str(tmp_path / "t.parquet")}}
    at = {s: SearchConfig(**{**NB201_SEARCH, **table,
                             "dataset": DatasetConfig(name="breastmnist", size=s)})
          for s in (28, 64)}  # fmt: skip
    assert at[64].validate() is at[64]
    said = _one_line_error(at[28])
    assert "holds results at image size 64, not at dataset.size 28; set dataset.size to 64, " \
           "or build the table at 28 (`nasbench bench generate --size 28`)" in said  # fmt: skip
    with pytest.raises(NasbenchError, match="not at TableEvalConfig.size 28; set Table"):
        TableEvaluator(TableEvalConfig(path=str(tmp_path / "t.parquet"), size=28))
    # A table that records no size (imported, synthetic) and size 0 (any) are not refused.
    BenchmarkTable(frame, space, dataset="breastmnist").save(tmp_path / "u.parquet")
    unsized = {**table, "evaluator_config": {"path": str(tmp_path / "u.parquet")}}
    SearchConfig(
        **{**NB201_SEARCH, **unsized, "dataset": DatasetConfig(name="breastmnist")}
    ).validate()
    TableEvaluator(TableEvalConfig(path=str(tmp_path / "t.parquet")))


def test_a_table_built_on_a_relative_folder_serves_the_search_that_stores_it_absolute(
    tmp_path, monkeypatch
):
    from nasbench.bench.synthetic import synthetic_nb201_table
    from nasbench.bench.table import BenchmarkTable

    monkeypatch.chdir(tmp_path)
    landscape = synthetic_nb201_table(seed=0)
    held = BenchmarkTable(landscape.frame, landscape.space, dataset="folder:scans")
    held.save(tmp_path / "t.parquet")
    config = SearchConfig(**{**NB201_SEARCH, "evaluator": "table",
                             "evaluator_config": {"path": "t.parquet"},
                             "dataset": DatasetConfig(name="folder:scans")})  # fmt: skip
    stored = config.with_absolute_paths()  # what search() runs and stores
    assert stored.dataset.name == f"folder:{tmp_path / 'scans'}"
    assert stored.evaluator_config == {"path": str(tmp_path / "t.parquet")}
    from nasbench.evaluation.table_lookup import TableEvalConfig, TableEvaluator

    TableEvaluator.check_search(  # folder:scans and folder:/abs/scans: one folder
        TableEvalConfig(path=stored.evaluator_config["path"]), stored.dataset.name,
        {"name": "nb201"},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("strategy", "named"),
    [
        ("smash", "'smash' is an evaluator, not a strategy"),
        ("c2fnas", "'c2fnas' is a search space, not a strategy"),
        ("nb201", 'a strategy that searches it, e.g. "random"'),
    ],
)
def test_a_strategy_named_like_an_evaluator_or_space_says_where_that_name_goes(strategy, named):
    message = _one_line_error(SearchConfig(strategy=strategy))
    assert named in message and "Did you mean" not in message


def test_a_volume_only_space_on_2d_data_asks_for_3d_data_not_2d_convs():
    message = _one_line_error(SearchConfig(dataset="synthetic-seg", space={"name": "vnas"}))
    assert "searches 3D data only; pick a 3D dataset" in message
    assert "spatial_dims" not in message


@pytest.mark.parametrize("run_dir", ["", "  ", None])
def test_search_refuses_a_run_dir_that_names_no_new_folder(run_dir, tmp_path, monkeypatch):
    from nasbench.engine.search import search

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="run_dir must name a new folder") as err:
        search(SearchConfig(**NB201_SEARCH), run_dir)
    assert "\n" not in str(err.value) and list(tmp_path.iterdir()) == []


def test_the_environment_records_the_run_deterministic_setting():
    from nasbench.runs.environment import capture_environment

    assert capture_environment("cpu", True)["deterministic"] is True
    assert capture_environment("cpu", False)["deterministic"] is False


def test_autohas_refuses_a_space_skeleton_it_would_not_build():
    space = {"name": "nb201", "skeleton": {"n_cells": 11, "channels": 32}}
    config = SearchConfig(strategy="autohas", max_evaluations=2, space=space)
    message = _one_line_error(config)
    assert "builds its network from strategy_config n_cells and channels" in message
    assert "move n_cells, channels to strategy_config" in message


LANDMARKS = {"name": "synthetic-landmarks3d", "size": 16}


@pytest.mark.parametrize(
    ("config", "named"),
    [
        (SearchConfig(strategy="metanas", dataset="synthetic-multiclass", w_lr=0.1),
         "w_lr 0.1 would be ignored: strategy 'metanas' takes its training settings"),
        (SearchConfig(strategy="marl-gdas", dataset=DatasetConfig(**LANDMARKS, batch_size=4)),
         "dataset.batch_size 4 would be ignored: strategy 'marl-gdas'"),
        (SearchConfig(strategy="marl-gdas", dataset=DatasetConfig(**LANDMARKS),
                      checkpoint_every=1),
         "checkpoint_every 1 would be ignored"),
    ],
)  # fmt: skip
def test_fixed_length_searches_refuse_keys_their_loops_never_read(config, named):
    assert named in _one_line_error(config)


def test_a_discrete_search_passes_augment_to_its_evaluator_or_refuses_it():
    augmented = SearchConfig(**NB201_SEARCH, dataset=DatasetConfig(augment=True)).validate()
    assert augmented.evaluator_settings()["augment"] is True
    message = _one_line_error(
        SearchConfig(**{**NB201_SEARCH, "evaluator": "proxy"}, dataset=DatasetConfig(augment=True))
    )
    assert "dataset.augment would be ignored: the 'proxy' evaluator" in message
    clash = SearchConfig(**NB201_SEARCH, dataset=DatasetConfig(augment=True),
                         evaluator_config={"augment": False})  # fmt: skip
    assert "evaluator_config augment False differs" in _one_line_error(clash)


CELLS = {"name": "darts", "skeleton": {"n_cells": 3, "channels": 8}}


@pytest.mark.parametrize(
    ("config", "named"),
    [
        (SearchConfig(strategy="darts", space={**CELLS, "skeleton": {"auxiliary": True}}),
         "space.skeleton.auxiliary True would be ignored"),
        (SearchConfig(strategy="random", space={**CELLS, "skeleton": {"drop_path_prob": 0.3}}),
         "space.skeleton.drop_path_prob 0.3 would be ignored"),
        (SearchConfig(strategy="random", space=CELLS,
                      evaluator_config={"skeleton": {"drop_path_prob": 0.1}}),
         "evaluator_config.skeleton.drop_path_prob 0.1 would be ignored"),
    ],
)  # fmt: skip
def test_a_search_refuses_the_skeleton_settings_only_a_retrain_reads(config, named):
    message = _one_line_error(config)
    assert named in message and "retrain recipe (TrainConfig)" in message


def test_a_discrete_search_keeps_the_auxiliary_head_its_candidates_train_with():
    config = SearchConfig(strategy="random", space={**CELLS, "skeleton": {"auxiliary": True}})
    assert config.validate().space["skeleton"]["auxiliary"] is True


def test_augment_is_drawn_per_batch_in_a_search_and_refused_where_it_is_searched():
    from nasbench.engine.bilevel import _build

    config = SearchConfig(
        dataset=DatasetConfig(name="synthetic", limit=16, batch_size=4, augment=True),
        space={"name": "darts", "n_nodes": 2, "skeleton": {"n_cells": 3, "channels": 4}},
        epochs=1, max_steps_per_epoch=1, device="cpu",
    )  # fmt: skip
    parts = _build(config.validate())
    assert parts.train.augment is not None and parts.val.augment is None
    autohas = {**NB201_SEARCH, "strategy": "autohas"}
    message = _one_line_error(SearchConfig(**autohas, dataset=DatasetConfig(augment=True)))
    assert "searches the augmentation strength as a hyper-parameter" in message


def test_a_strategy_for_one_space_is_refused_on_another_before_the_run():
    message = _one_line_error(SearchConfig(**{**NB201_SEARCH, "strategy": "qlearning"}))
    assert "strategy 'qlearning' searches the chain space, not 'nb201'" in message


def test_a_pretext_search_refuses_augmentation_that_would_change_its_labels():
    config = SearchConfig(strategy="unnas", strategy_config={"pretext": "rotation"},
                          dataset=DatasetConfig(augment=True))  # fmt: skip
    assert "its pretext task transforms the images itself" in _one_line_error(config)


def test_a_run_stacks_benchmark_cells_as_the_darts_search_network_unless_told():
    """README's `space` row: no skeleton gives 8 cells at C=16 on the run path, while the
    spaces built alone keep their benchmark's network."""
    from nasbench.engine.bilevel import search_space
    from nasbench.spaces import NB101Space, NB201Space

    for name, alone in (("nb201", NB201Space()), ("nb101", NB101Space())):
        config = SearchConfig(space={"name": name}, strategy="random", evaluator="train")
        ran = search_space(config).skeleton
        assert (ran.n_cells, ran.channels) == (8, 16)
        assert (alone.skeleton.n_cells, alone.skeleton.channels) != (8, 16)
        told = {"name": name, "skeleton": {"n_cells": 17, "channels": 16}}
        ran = search_space(SearchConfig(space=told, strategy="random", evaluator="train"))
        assert (ran.skeleton.n_cells, ran.skeleton.channels) == (17, 16)


# A save that runs out of room mid-write (as on a full disk): files may not grow past 64
# bytes, and a write past that fails with EFBIG.
CUT_SHORT_SAVE = """
import resource, signal, sys
from nasbench.config import SearchConfig

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64))
SearchConfig(epochs=9).save(sys.argv[1])
"""


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="file size limits are POSIX")
def test_a_save_cut_short_mid_write_leaves_the_previous_config_whole(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "cfg.json"
    SearchConfig(epochs=3).save(path)
    umask = os.umask(0o022)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # shareable, as a plain file
    done = subprocess.run([sys.executable, "-c", CUT_SHORT_SAVE, str(path)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 1 and "File too large" in done.stderr
    assert SearchConfig.load(path) == SearchConfig(epochs=3)
    assert [p.name for p in tmp_path.iterdir()] == ["cfg.json"]  # no temp file left
