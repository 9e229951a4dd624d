"""retrain: searched cell and ResNet-18 side by side, recorded in the run store."""

from __future__ import annotations

import argparse
import math
import re

import numpy as np
import pytest

from nasbench.config import DatasetConfig, SearchConfig
from nasbench.errors import ConfigError, NasbenchError
from nasbench.evaluation.baselines import create_baseline, resnet18
from nasbench.evaluation.final_evaluation import TABLE_COLUMNS, add_cli_arguments, cli_main, retrain
from nasbench.evaluation.train_loop import TrainConfig
from nasbench.models import count_parameters
from nasbench.runs import RunStore, load
from nasbench.spaces import space_from_dict
from nasbench.spaces.zoo import zoo
from tests.conftest import two_class_png_folder

TINY_SPACE = {"name": "darts", "n_nodes": 2, "skeleton": {"n_cells": 3, "channels": 4}}
QUICK = TrainConfig(epochs=1, batch_size=8, limit=16, test_limit=16, device="cpu", seed=0)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    from nasbench.engine.search import search

    folder = tmp_path_factory.mktemp("retrain") / "run"
    config = SearchConfig(
        dataset=DatasetConfig(name="synthetic", limit=64, batch_size=8),
        epochs=1,
        max_steps_per_epoch=2,
        space=TINY_SPACE,
        device="cpu",
    )
    search(config, folder)
    return folder


def test_retrain_reports_both_models_and_records_them(run_dir):
    final = load(run_dir).genotypes["genotype"].iloc[-1]
    report = retrain(run_dir, QUICK)
    table = report.table()
    assert list(table.columns) == list(TABLE_COLUMNS)
    assert list(table["model"]) == ["searched", "resnet18"]
    assert report.genotype == final
    assert (report.skeleton.n_cells, report.skeleton.channels) == (3, 4)
    assert report.skeleton.auxiliary  # DARTS recipe: auxiliary head, weight 0.4
    searched, base = table.iloc[0], table.iloc[1]
    assert 10_000_000 < base["params"] < 12_000_000 and base["params"] > 100 * searched["params"]
    assert base["MACs"] > searched["MACs"] > 0
    for row in (searched, base):
        assert 0.0 <= row["test_acc"] <= 1.0 and math.isfinite(row["test_auc"])
        assert row["wall_s"] > 0

    run = load(run_dir)
    history = run.history
    for phase, row in (("retrain", searched), ("baseline", base)):
        rows = history[history["phase"] == phase].set_index("name")["value"]
        assert rows["test_acc"] == pytest.approx(row["test_acc"])
        assert rows["params"] == row["params"]
        assert {"train_loss", "val_auc", "val_loss"} <= set(rows.index)
    finished = run.events[run.events["kind"] == "retrain_finished"]
    assert len(finished) == 1
    payload = finished["payload"].iloc[0]
    assert set(payload["models"]) == {"searched", "resnet18"}
    assert payload["models"]["searched"]["test"]["acc"] == pytest.approx(searched["test_acc"])


def test_cli_retrains_given_genotype_in_given_width(run_dir, capsys):
    parser = argparse.ArgumentParser()
    add_cli_arguments(parser)
    args = parser.parse_args(
        [str(run_dir), "--epochs", "1", "--limit", "32", "--test-limit", "32", "--batch-size", "16",
         "--device", "cpu",
         "--no-baseline", "--channels", "6", "--genotype", zoo["DARTS_V2"].to_darts_text()]
    )  # fmt: skip
    assert cli_main(args) == 0
    out = capsys.readouterr().out
    assert "searched  epoch 1/1" in out and "resnet18" not in out
    assert "training loss: auto: no weighting for 2D images" in out  # says what auto chose
    assert "test_acc" in out.splitlines()[-2]
    payload = load(run_dir).events.query("kind == 'retrain_finished'")["payload"].iloc[-1]
    assert payload["skeleton"]["channels"] == 6 and payload["skeleton"]["n_cells"] == 3
    assert payload["genotype"] == zoo["DARTS_V2"].to_dict()
    assert payload["genotype_source"] == "given"


def test_retrain_trains_the_cell_an_early_stop_returned(run_dir, tmp_path):
    import shutil

    from nasbench.evaluation.final_evaluation import retrained_network

    copy = tmp_path / "stopped"
    shutil.copytree(run_dir, copy)
    searched = load(copy).genotypes["genotype"].iloc[-1]
    with RunStore.open(copy) as store:  # a later, collapsed cell, then RobustDARTS's stop
        store.log_genotype(1, 99, zoo["DARTS_V2"].to_json(), {})
        params = count_parameters(retrained_network(copy, QUICK))
        store.log_event("early_stop", {"epoch": 1, "return_epoch": 0}, step=99, epoch=1)
    returned = count_parameters(retrained_network(copy, QUICK))
    expected = retrained_network(copy, QUICK, genotype=searched)
    assert returned == count_parameters(expected) != params


def test_run_without_genotype_is_one_line_error(tmp_path):
    config = SearchConfig(space=TINY_SPACE).to_dict()
    RunStore.create(tmp_path / "empty", config).close()
    with pytest.raises(ConfigError, match="no derived genotype yet") as err:
        retrain(tmp_path / "empty", QUICK)
    assert "\n" not in str(err.value)


def test_unsupported_task_or_space_is_one_line_error(tmp_path):
    config = SearchConfig(dataset=DatasetConfig(name="synthetic-recon"), space=TINY_SPACE)
    RunStore.create(tmp_path / "recon", config.to_dict()).close()
    # A reconstruction set searched with a classification space.
    with pytest.raises(ConfigError, match='space "unrolled"') as err:
        retrain(tmp_path / "recon", QUICK, genotype=zoo["DARTS_V2"])
    assert "\n" not in str(err.value)
    # A segmentation set searched with a classification space cannot be retrained either.
    config = SearchConfig(dataset=DatasetConfig(name="synthetic-seg"), space=TINY_SPACE)
    RunStore.create(tmp_path / "seg", config.to_dict()).close()
    with pytest.raises(ConfigError, match="builds classifiers") as err:
        retrain(tmp_path / "seg", QUICK, genotype=zoo["DARTS_V2"])
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("dataset", "space", "change", "message"),
    [
        ("synthetic-recon", {"name": "unrolled"}, {"genotype": zoo["DARTS_V2"]},
         "the 'unrolled' space holds recon genotypes, not 'darts' ones"),
        ("synthetic-recon", {"name": "unrolled"}, {"skeleton": {"n_cells": 2}},
         "ReconSkeleton has none; leave it out, or give skeleton=.* cascades, cells"),
        ("synthetic-seg", {"name": "nasunet"}, {"skeleton": {"n_cells": 2}},
         "UNetSkeleton has none; leave it out, or give skeleton=.* depth, channels"),
    ],
)  # fmt: skip
def test_a_genotype_or_cell_count_of_another_kind_of_network_is_one_line(
    tmp_path, dataset, space, change, message
):
    # They escaped as AttributeError / "unknown skeleton key" from deep in the build.
    config = SearchConfig(dataset=DatasetConfig(name=dataset), space=space)
    RunStore.create(tmp_path / "run", config.to_dict()).close()
    if "genotype" not in change:
        with RunStore.open(tmp_path / "run") as store:
            genotype = space_from_dict(space).sample(np.random.default_rng(0))
            store.log_genotype(0, 1, genotype.to_json(), {})
    with pytest.raises(NasbenchError, match=message) as err:
        retrain(tmp_path / "run", QUICK, baseline="none", **change)
    assert "\n" not in str(err.value)
    assert load(tmp_path / "run").events.empty  # refused before anything was recorded


def test_missing_run_folder_is_one_line_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        retrain(tmp_path / "nowhere", QUICK)


def test_resnet18_is_adapted_to_28px():
    import torch

    net = resnet18(2, in_channels=3, num_classes=7)
    assert 11_000_000 < count_parameters(net) < 11_300_000
    assert net.conv1.stride == (1, 1) and net.conv1.kernel_size == (3, 3)
    assert net.eval()(torch.zeros(2, 3, 28, 28)).shape == (2, 7)
    with pytest.raises(ConfigError, match="Did you mean 'resnet18'"):
        create_baseline("resnet-18")


def test_unet_baseline_fits_the_image_size():
    """28 px halves evenly twice only: MONAI's U-Net baseline gets two stride-2 levels, not
    three (which failed with a size mismatch on a 28-px segmentation run)."""
    import torch

    from nasbench.evaluation.final_evaluation import unet_for_size

    for size, levels in ((28, 2), (32, 3), (64, 3), (6, 1)):
        net = unet_for_size(size)(2, 1, 3)
        assert net(torch.zeros(1, 1, size, size)).shape == (1, 3, size, size)
        assert len(net.channels) == levels + 1
    with pytest.raises(ConfigError, match="size 27 is odd"):
        unet_for_size(27)


@pytest.mark.parametrize(
    ("asked", "task", "expected"),
    [
        (True, "binary", ("resnet18",)),
        ("cnn,resnet18", "multi-class", ("cnn", "resnet18")),
        (["resnet18", "cnn", "resnet18"], "binary", ("resnet18", "cnn")),
        ("none", "binary", ()),
        ("NONE", "binary", ()),
        (" ResNet18,CNN", "binary", ("resnet18", "cnn")),
        (False, "segmentation", ()),
        (True, "segmentation", ("unet", "threshold")),
        ("threshold", "segmentation", ("threshold",)),
    ],
)
def test_baselines_are_chosen_by_name(asked, task, expected):
    from nasbench.evaluation.final_evaluation import _baselines

    assert _baselines(asked, task) == expected


def test_a_baseline_that_does_not_fit_the_task_is_one_line(run_dir):
    before = len(load(run_dir).events)
    with pytest.raises(ConfigError, match="baseline 'unet' does not fit a binary run"):
        retrain(run_dir, QUICK, baseline="cnn,unet")
    assert len(load(run_dir).events) == before  # refused before anything was recorded


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"seg_loss": "dicece_batch"}, "seg_loss='dicece_batch' applies to segmentation runs"),
        ({"label_smoothing": 0.1}, None),
        ({"class_weight": "balanced"}, None),
    ],
)
def test_a_recipe_setting_the_task_would_ignore_is_one_line(run_dir, change, message):
    from nasbench.evaluation.final_evaluation import check_recipe_fits

    recipe = TrainConfig(**{**QUICK.to_dict(), **change})
    if message is None:  # classification settings on a classification run are used
        check_recipe_fits(recipe, "binary", 2)
        with pytest.raises(ConfigError, match="applies to classification runs only") as err:
            check_recipe_fits(recipe, "segmentation", 2)
    else:
        before = len(load(run_dir).events)
        with pytest.raises(ConfigError, match=re.escape(message)) as err:
            retrain(run_dir, recipe, baseline="none")
        assert len(load(run_dir).events) == before  # refused before anything was recorded
        assert "leave --seg-loss at its default" in str(err.value)
        check_recipe_fits(recipe, "segmentation", 2)  # where it applies, it is accepted
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("dataset", "change", "message"),
    [
        (
            "synthetic3d",
            {"tta_flip": True},
            "tta_flip mirrors 2D images, but the data is 3D",
        ),
        (
            "chestmnist",
            {"label_smoothing": 0.1},
            "is for single-label tasks, but the data is multi",
        ),
    ],
)
def test_a_recipe_training_would_refuse_keeps_the_last_retrain(tmp_path, run_dir, dataset, change,
                                                               message):  # fmt: skip
    # Refused before the run's previous retrain rows are replaced, not after.
    run = load(run_dir)
    config = {**run.config, "dataset": {"name": dataset, "limit": 16, "download": False}}
    with RunStore.create(tmp_path / "run", config, environment={}) as store:
        store.log_genotype(0, 1, run.genotypes["genotype"].iloc[-1].to_json(), {})
        store.log_metrics(1, 0, "retrain", {"loss": 0.5})
        store.set_status("finished")
    events = len(load(tmp_path / "run").events)
    with pytest.raises(ConfigError, match=message) as err:
        retrain(tmp_path / "run", TrainConfig(**{**QUICK.to_dict(), **change}), baseline="none")
    assert "\n" not in str(err.value)
    after = load(tmp_path / "run")
    assert list(after.history["phase"]) == ["retrain"] and len(after.events) == events


@pytest.mark.parametrize(
    ("asked", "message"),
    [
        ("resnet1", "Did you mean 'resnet18'?"),
        ("", "no baseline named in ''; name some from cnn, resnet18, or none"),
        (" , ", "no baseline named in ' , '"),
        ("none,cnn", "name none next to others; give none alone"),
    ],
)
def test_a_mistyped_or_empty_baseline_list_is_one_line(run_dir, asked, message):
    from nasbench.evaluation.final_evaluation import _baselines

    with pytest.raises(ConfigError, match=re.escape(message)) as err:
        retrain(run_dir, QUICK, baseline=asked)
    assert "\n" not in str(err.value)
    assert _baselines([], "binary") == ()  # an empty list from Python still means none


def test_the_retrain_command_refuses_contradicting_baseline_flags(run_dir, capsys):
    from nasbench.cli import main

    assert main(["retrain", str(run_dir), "--no-baseline", "--baselines", "cnnn"]) == 2
    err = capsys.readouterr().err
    assert "--no-baseline and --baselines cnnn contradict each other" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("flags", "said"),
    [(["--limit", "0"], "--limit must be >= 1 (or left out), got 0."),
     (["--batch-size", "0"], "--batch-size must be an integer >= 1, got 0."),
     (["--label-smoothing", "2"], "--label-smoothing must be a number in [0, 1), got 2.0.")],
)  # fmt: skip
def test_the_retrain_command_names_a_bad_value_by_its_flag(run_dir, capsys, flags, said):
    from nasbench.cli import main

    before = len(load(run_dir).events)
    assert main(["retrain", str(run_dir), *flags]) == 2
    assert capsys.readouterr().err == f"nasbench: error: {said}\n"
    assert len(load(run_dir).events) == before


def test_retraining_a_run_that_did_not_finish_says_so(tmp_path, capsys):
    from nasbench.evaluation.final_evaluation import _note_unfinished
    from nasbench.runs import RunStore

    cell = zoo["DARTS_V2"].to_json()  # each derived one: without, the refusal says it all
    for status in ("stopped", "failed", "finished"):
        with RunStore.create(tmp_path / status, {"strategy": "darts"}, environment={}) as s:
            s.set_status("running")
            s.log_genotype(0, 1, cell, {})
            s.set_status(status)
        _note_unfinished(str(tmp_path / status))
    killed = RunStore.create(tmp_path / "killed", {"strategy": "darts"}, environment={})
    killed.set_status("running")
    killed.log_genotype(0, 1, cell, {})
    killed.close()
    _note_unfinished(str(tmp_path / "killed"))
    notes = capsys.readouterr().out.splitlines()
    assert [line.split("' is ")[1].split(",")[0] for line in notes] == [
        "stopped", "failed", "killed",
    ]  # fmt: skip
    assert all("retraining the last cell its search derived" in line for line in notes)


def test_a_quick_retrain_is_scored_on_the_whole_test_split(run_dir):
    recipe = TrainConfig(epochs=1, batch_size=8, limit=16, device="cpu", seed=0)
    report = retrain(run_dir, recipe, baseline="cnn")
    assert list(report.table()["model"]) == ["searched", "cnn"]
    assert 50_000 < report.results["cnn"].params < 150_000
    started = load(run_dir).events.query("kind == 'retrain_started'")["payload"].iloc[-1]
    assert started["baseline"] == ["cnn"]
    assert started["splits"]["train"] == 16 and started["splits"]["test"] == 400  # all of it
    assert "cnn" in set(load(run_dir).history["phase"])


def test_retrain_help_shows_every_default_and_the_baselines(capsys):
    from nasbench.cli import main

    assert main(["retrain", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for default in ("(default: 10)", "(default: 64)", "(default: 0.025)", "(default: sgd)"):
        assert default in text
    assert "--baselines" in text and "cnn" in text and "resnet18" in text
    assert "the test split stays whole" in text and "weight decay 0.0003" in text


def test_widest_channels_is_the_widest_network_within_the_budget(run_dir):
    from nasbench.evaluation.final_evaluation import retrained_network, widest_channels

    def params(channels: int, n_cells: int = 5) -> int:
        skeleton = {"n_cells": n_cells, "channels": channels}
        return count_parameters(retrained_network(run_dir, QUICK, skeleton=skeleton))

    for budget in (params(9) - 1, params(9), (params(13) + params(14)) // 2, params(40)):
        channels = widest_channels(run_dir, QUICK, budget, n_cells=5)
        assert params(channels) <= budget < params(channels + 1)
    # A bigger cell (DARTS_V2: separable convolutions everywhere) fits a narrower width.
    budget = params(16)
    heavy = widest_channels(run_dir, QUICK, budget, n_cells=5, genotype=zoo["DARTS_V2"])
    assert heavy < widest_channels(run_dir, QUICK, budget, n_cells=5)
    # Over budget at the narrowest width: that width, not a zero-width network.
    assert widest_channels(run_dir, QUICK, 10, n_cells=5, start=3) == 3


def test_cli_max_params_retrains_at_the_widest_width_within_it(run_dir, capsys):
    from nasbench.evaluation.final_evaluation import retrained_network

    parser = argparse.ArgumentParser()
    add_cli_arguments(parser)
    common = [str(run_dir), "--epochs", "1", "--limit", "16", "--test-limit", "16",
              "--batch-size", "8", "--device", "cpu", "--no-baseline"]  # fmt: skip
    grown = retrained_network(run_dir, QUICK, skeleton={"channels": 8})
    assert cli_main(parser.parse_args([*common, "--max-params", str(count_parameters(grown))])) == 0
    assert "retraining at C=8: the widest within" in capsys.readouterr().out
    payload = load(run_dir).events.query("kind == 'retrain_finished'")["payload"].iloc[-1]
    assert payload["skeleton"]["channels"] == 8
    with pytest.raises(ConfigError, match="--channels or --max-params, not both"):
        cli_main(parser.parse_args([*common, "--max-params", "9000", "--channels", "4"]))
    with pytest.raises(ConfigError, match="No width fits --max-params 10: at C=1"):
        cli_main(parser.parse_args([*common, "--max-params", "10"]))


def test_a_second_retrain_replaces_the_first_ones_curves(run_dir, tmp_path):
    import dataclasses
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    retrain(copy, dataclasses.replace(QUICK, epochs=2), baseline=False)
    retrain(copy, dataclasses.replace(QUICK, epochs=1), baseline=False)
    run = load(copy)
    rows = run.history[run.history["phase"] == "retrain"]
    assert not rows.duplicated(["step", "name"]).any()
    assert sorted(set(rows["step"])) == [1]  # the second retrain's one epoch, nothing older
    started = run.events[run.events["kind"] == "retrain_started"]["payload"].tolist()
    assert started[-1]["replaced_rows"] > 0


def test_every_retrain_phase_is_one_the_search_views_leave_out():
    from nasbench.evaluation.final_evaluation import PHASES
    from nasbench.runs.schema import RETRAIN_PHASES

    assert set(PHASES.values()) <= set(RETRAIN_PHASES)


def test_the_limit_subsets_are_one_draw_for_every_training_seed():
    import dataclasses

    import torch

    from nasbench.evaluation.final_evaluation import _load_splits

    data = {"name": "synthetic", "size": 28}
    config = dataclasses.replace(QUICK, limit=20, test_limit=12)
    a = _load_splits(data, dataclasses.replace(config, seed=0))
    b = _load_splits(data, dataclasses.replace(config, seed=7))
    for split in ("train", "val", "test"):
        assert len(a[split]) == len(b[split])
        assert [int(t) for t in a[split].targets] == [int(t) for t in b[split].targets]
        assert all(torch.equal(a[split][i][0], b[split][i][0]) for i in range(len(a[split])))


def _two_class_folder(root):
    return two_class_png_folder(root, 10)


def test_a_retrain_on_changed_data_warns_records_it_and_the_report_says_so(tmp_path):
    import warnings

    from nasbench.data.fingerprint import data_fingerprint
    from nasbench.engine.search import search
    from nasbench.viz.report import write_report

    root = _two_class_folder(tmp_path / "xr")
    data = DatasetConfig(name=f"folder:{root}", limit=16, batch_size=8)
    config = SearchConfig(
        dataset=data, epochs=1, max_steps_per_epoch=1, space=TINY_SPACE, device="cpu"
    )
    search(config, tmp_path / "run")
    searched = load(tmp_path / "run").environment["data_fingerprint"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the search's own files: not a word
        same = retrain(tmp_path / "run", QUICK, baseline=False)
    assert same.summary()["data_fingerprint"] == searched
    report = (tmp_path / "run" / "report.html").as_posix()
    assert "read other data" not in write_report(tmp_path / "run", report).read_text()

    # Every label flipped: the same files under the other class's folder.
    (root / "benign").rename(root / "swap")
    (root / "malignant").rename(root / "benign")
    (root / "swap").rename(root / "malignant")
    told = r"changed \(files replaced, .*\) since its search ran \(it has 2 classes now: 'benign'"
    with pytest.warns(UserWarning, match=told):
        retrain(tmp_path / "run", QUICK, baseline=False)
    now = data_fingerprint(f"folder:{root}")
    run = load(tmp_path / "run")
    for kind in ("retrain_started", "retrain_finished"):
        payload = run.events[run.events["kind"] == kind]["payload"].iloc[-1]
        assert payload["data_fingerprint"] == now != searched
    text = write_report(tmp_path / "run", report).read_text()
    section = text[text.index("<h2>Retrained from scratch") :]
    assert "This retrain read other data than the search" in section


def test_an_interrupted_retrain_leaves_the_earlier_retrains_curves(run_dir, tmp_path):
    import dataclasses
    import shutil

    from nasbench.viz.report import write_report

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    retrain(copy, QUICK, baseline=False)

    def rows():
        history = load(copy).history
        kept = history[history["phase"].isin(["retrain", "baseline"])]
        return sorted(
            zip(kept["step"], kept["phase"], kept["name"], kept["value"].fillna(-1), strict=True)
        )

    before = rows()
    assert before

    def interrupt(record):
        raise KeyboardInterrupt  # Ctrl-C after the first epoch was logged

    with pytest.raises(KeyboardInterrupt):
        retrain(copy, dataclasses.replace(QUICK, epochs=2, seed=1), on_epoch=interrupt)
    assert rows() == before
    # The log says the latest retrain did not finish, and why; so does the report.
    events = load(copy).events
    assert list(events["kind"].iloc[-3:]) == [
        "retrain_finished", "retrain_started", "retrain_failed",
    ]  # fmt: skip
    assert events["payload"].iloc[-1] == {"error": "interrupted (Ctrl-C)"}

    def broken(record):
        raise RuntimeError("the disk\nis gone")

    with pytest.raises(RuntimeError):
        retrain(copy, dataclasses.replace(QUICK, epochs=2, seed=1), on_epoch=broken)
    assert load(copy).events["payload"].iloc[-1] == {"error": "RuntimeError: the disk is gone"}
    text = write_report(copy, tmp_path / "report.html").read_text(encoding="utf-8")
    assert (
        "The latest retrain did not finish (RuntimeError: the disk is gone); the tables "
        "below are of the last one that did." in text
    )


def _retrain_rows(run_dir):
    history = load(run_dir).history
    kept = history[history["phase"].isin(["retrain", "baseline", "cnn"])]
    values = kept["value"].fillna(-1)
    return sorted(zip(kept["step"], kept["phase"], kept["name"], values, strict=True))


def test_a_retrain_killed_outright_leaves_the_earlier_finished_retrains_curves(run_dir, tmp_path):
    import dataclasses
    import os
    import shutil
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    from nasbench.viz.history import plot_history
    from nasbench.viz.report import write_report

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    retrain(copy, QUICK, baseline=False)
    before = _retrain_rows(copy)
    # SIGKILL (the out-of-memory killer) after two epochs were recorded: no handler runs.
    script = textwrap.dedent(f"""
        import os
        from nasbench.evaluation.final_evaluation import retrain
        from nasbench.evaluation.train_loop import TrainConfig

        def killed(record):
            if record["epoch"] == 1:
                os._exit(9)

        config = TrainConfig(epochs=3, batch_size=8, limit=16, test_limit=16, device="cpu")
        retrain({str(copy)!r}, config, baseline="cnn", on_epoch=killed)
    """)
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, OMP_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE", PYTHONPATH=root)
    done = subprocess.run([sys.executable, "-c", script], env=env, timeout=300)
    assert done.returncode == 9
    run = load(copy)
    kinds = run.events["kind"].tolist()
    assert kinds[-2:] == ["retrain_finished", "retrain_started"]  # it did start
    assert _retrain_rows(copy) == before  # the finished retrain's curves, and only those
    figure = plot_history(run, metrics=("val_loss",), phases=("retrain",))
    assert [list(trace.x) for trace in figure.data] == [[1]]  # the finished retrain's epoch
    text = write_report(copy, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<td>cnn</td>" not in text

    retrain(copy, dataclasses.replace(QUICK, epochs=2), baseline=False)  # the next one
    rows = _retrain_rows(copy)
    assert sorted({step for step, phase, *_ in rows if phase == "retrain"}) == [1, 2]
    assert not [row for row in rows if row[1] == "cnn"]  # the killed one's rows are gone
    assert len({row[:3] for row in rows}) == len(rows)  # one row per step and metric


def test_a_retrain_from_python_reads_as_retraining_from_its_first_moment(
    run_dir, tmp_path, monkeypatch
):
    import shutil

    from nasbench.evaluation import final_evaluation
    from nasbench.runs.store import announce_writer, announced_writer, withdraw_writer
    from nasbench.runs.summary import retraining, run_summaries

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    seen = []
    real = final_evaluation._load_splits

    def loading(*args, **kwargs):  # the store is open; retrain_started is not logged yet
        seen.append((retraining(copy), run_summaries(tmp_path)[0]["status"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(final_evaluation, "_load_splits", loading)
    retrain(copy, QUICK, baseline=False)
    assert seen == [(True, "retraining")]
    assert announced_writer(copy) is None  # withdrawn once it returned
    assert run_summaries(tmp_path)[0]["status"] == "finished"

    # The CLI announces before it calls retrain: its announcement outlives the call.
    announce_writer(copy, "retrain")
    try:
        retrain(copy, QUICK, baseline=False)
        assert announced_writer(copy) == "retrain"
    finally:
        withdraw_writer()
    assert announced_writer(copy) is None


def test_a_run_open_across_a_retrain_reads_its_curves_as_one_opened_after(run_dir, tmp_path):
    import dataclasses
    import shutil

    import pandas as pd

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    retrain(copy, dataclasses.replace(QUICK, epochs=2), baseline=False)
    live = load(copy)  # a notebook's Run, refreshed as a monitor does
    retrain(copy, QUICK, baseline=False)  # one epoch: it replaces the two above
    live.refresh()
    columns = ["step", "epoch", "phase", "name", "value"]

    def retrained(history):
        rows = history[history["phase"] == "retrain"][columns]
        return rows.sort_values(columns).reset_index(drop=True)

    fresh = retrained(load(copy).history)
    assert sorted(set(fresh["step"])) == [1]
    pd.testing.assert_frame_equal(retrained(live.history), fresh)


def _ended_run(folder, status, strategy="darts", genotype=None):
    config = {"strategy": strategy, "dataset": {"name": "synthetic"}, "space": TINY_SPACE}
    with RunStore.create(folder, config, environment={}) as store:
        if genotype is not None:
            store.log_genotype(0, 1, genotype.to_json(), {})
        store.set_status(status, "stopped on request" if status == "stopped" else "")
    return str(folder)


@pytest.mark.parametrize(
    "status, strategy, said",
    [
        ("stopped", "darts", "is stopped and has no derived genotype yet; resume it (nasbench "
                             "resume {run}) to let it finish an epoch, or give one"),
        ("failed", "darts", "is failed and has no derived genotype yet; its search ended "
                            "before it could finish an epoch; start a new search, or give one"),
        ("failed", "random", "before it could evaluate a candidate; start a new search"),
    ],
)  # fmt: skip
def test_a_run_without_a_cell_is_refused_in_one_line_that_fits_its_state(
    tmp_path, capsys, status, strategy, said
):
    from nasbench.cli import main

    run = _ended_run(tmp_path / "run", status, strategy)
    assert main(["retrain", run, "--epochs", "1", "--baselines", "none"]) == 2
    out, err = capsys.readouterr()
    assert "note:" not in out  # no "retraining the last cell" before the refusal
    assert said.format(run=run) in err and len(err.strip().splitlines()) == 1


def test_the_note_on_an_unfinished_run_names_what_is_retrained(tmp_path, capsys):
    from nasbench.evaluation.final_evaluation import _note_unfinished

    _note_unfinished(_ended_run(tmp_path / "a", "stopped", genotype=zoo["DARTS_V2"]))
    assert "is stopped, not finished; retraining the last cell its search derived" in (
        capsys.readouterr().out
    )
    space = space_from_dict({"name": "nb201"})
    cell = space.sample(np.random.default_rng(0))
    _note_unfinished(_ended_run(tmp_path / "b", "failed", "random", genotype=cell))
    assert "is failed, not finished; retraining the best candidate its search evaluated" in (
        capsys.readouterr().out
    )
    _note_unfinished(_ended_run(tmp_path / "c", "failed"))  # no cell: the refusal says it all
    assert capsys.readouterr().out == ""
