"""generate_table builds a tiny table on the synthetic default and resumes."""

from __future__ import annotations

import pytest

import nasbench.evaluation.train_loop as train_module
from nasbench.bench import BenchmarkTable, generate_table
from nasbench.errors import ConfigError
from nasbench.evaluation.train_loop import TrainConfig
from nasbench.spaces import NB201Space
from nasbench.spaces.skeleton import Skeleton

RECIPE = TrainConfig(epochs=2, limit=32, batch_size=16, augment=False)


@pytest.fixture
def space() -> NB201Space:
    return NB201Space(ops=["none", "skip_connect", "nor_conv_3x3"], skeleton=Skeleton(5, 4))


@pytest.fixture
def count_trainings(monkeypatch):
    calls = []
    original = train_module.train_model

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(train_module, "train_model", counting)
    return calls


def test_generate_tiny_table_and_resume(space, tmp_path, count_trainings):
    out = tmp_path / "tiny.parquet"
    table = generate_table(
        space, "synthetic", RECIPE, sample=2, out=out, every=1, device="cpu", latency_repeats=1
    )
    assert len(table) == 2 and table.max_epoch == 2 and len(count_trainings) == 2
    frame = table.to_frame()
    assert set(frame["epoch"]) == {1, 2} and (frame["seed"] == 0).all()
    for col in ("val_acc", "test_acc", "train_loss"):
        assert frame[col].between(0, 10).all()
    assert (frame["params"] > 0).all() and (frame["train_seconds_per_epoch"] > 0).all()
    loaded = BenchmarkTable.load(out)
    assert loaded.recipe["epochs"] == 2 and loaded.dataset == "synthetic"
    assert loaded.keys() == table.keys()
    # A larger sample with the same seed is a superset: only the new architecture trains.
    bigger = generate_table(
        space, "synthetic", RECIPE, sample=3, out=out, device="cpu", latency_repeats=0
    )
    assert len(bigger) == 3 and len(count_trainings) == 3
    assert set(table.keys()) < set(bigger.keys())
    with pytest.raises(ConfigError, match="another space, dataset or recipe"):
        generate_table(space, "synthetic", TrainConfig(epochs=3, limit=32), sample=1, out=out)


def test_adding_a_seed_to_a_table_trains_the_same_sample_and_records_the_seed(
    space, tmp_path, count_trainings
):
    out = tmp_path / "seeds.parquet"
    first = generate_table(space, "synthetic", RECIPE, sample=2, out=out, every=2,
                           device="cpu", latency_repeats=0)  # fmt: skip
    both = generate_table(space, "synthetic", RECIPE, sample=2, seeds=[1], out=out, every=2,
                          device="cpu", latency_repeats=0)  # fmt: skip
    assert set(both.keys()) == set(first.keys())  # seed 1 trained the architectures of seed 0
    assert len(count_trainings) == 4 and set(both.to_frame()["seed"]) == {0, 1}
    assert BenchmarkTable.load(out).seeds == [0, 1]


def test_generate_rejects_bad_input(space):
    with pytest.raises(ConfigError, match="sample"):
        generate_table(space, recipe=RECIPE, sample=0)
    with pytest.raises(ConfigError, match="seeds"):
        generate_table(space, recipe=RECIPE, seeds=[])
    with pytest.raises(ConfigError, match=r"repeat a seed"):
        generate_table(space, recipe=RECIPE, seeds=[0, 0])  # would weigh one run twice
    with pytest.raises(ConfigError, match="TrainConfig"):
        generate_table(space, recipe={"epochs": 1})


def test_cli_generates_a_table(tmp_path, capsys):
    from nasbench.cli import main

    out = tmp_path / "cli.parquet"
    argv = ["bench", "generate", "--out", str(out), "--ops", "none,nor_conv_3x3",
            "--n-cells", "5", "--channels", "4", "--epochs", "1", "--limit", "32",
            "--batch-size", "16", "--sample", "1", "--device", "cpu"]  # fmt: skip
    assert main(argv) == 0
    assert "[1/1]" in capsys.readouterr().out
    assert len(BenchmarkTable.load(out)) == 1
    assert main(["bench"]) == 2  # an action is required
    assert "ACTION" in capsys.readouterr().err


def test_a_space_too_large_to_list_is_sampled_from_and_needs_a_sample(tmp_path, count_trainings):
    from nasbench.spaces import space_from_dict

    big = space_from_dict({"name": "nb101", "skeleton": {"n_cells": 3, "channels": 4}})
    with pytest.raises(ConfigError, match="too many to train every one; give sample=N") as err:
        generate_table(big, "synthetic", RECIPE, device="cpu")
    assert "\n" not in str(err.value)
    out = tmp_path / "nb101.parquet"
    recipe = TrainConfig(epochs=1, limit=16, batch_size=16, augment=False)
    table = generate_table(big, "synthetic", recipe, sample=2, out=out, device="cpu",
                           latency_repeats=0)  # fmt: skip
    assert len(table) == 2 and len(count_trainings) == 2
    again = generate_table(big, "synthetic", recipe, sample=2, out=out, device="cpu",
                           latency_repeats=0)  # fmt: skip
    assert again.keys() == table.keys() and len(count_trainings) == 2  # the same draw


def test_an_out_path_that_is_not_parquet_is_refused_before_training(space, tmp_path):
    with pytest.raises(ConfigError, match=r"x\.csv would hold a Parquet table .*x\.parquet"):
        generate_table(space, "synthetic", RECIPE, sample=1, out=tmp_path / "x.csv")
    assert not list(tmp_path.iterdir())


def test_an_out_folder_that_takes_no_files_is_refused_before_training(space, tmp_path, monkeypatch):
    # Permissions say little to root or on special file systems (/proc): a real write decides.
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    with pytest.raises(ConfigError, match="cannot be written: .* refuses new files"):
        generate_table(space, "synthetic", RECIPE, sample=1, out=tmp_path / "x.parquet")
    assert not list(tmp_path.iterdir())


def test_a_dataset_that_is_not_classification_is_refused_by_its_task(space):
    with pytest.raises(ConfigError, match="classifiers .* synthetic-recon is a reconstruction"):
        generate_table(space, "synthetic-recon", RECIPE, sample=1)


def test_a_recipe_training_would_refuse_is_refused_before_the_first_architecture(space):
    with pytest.raises(ConfigError, match="tta_flip mirrors 2D images, but the data is 3D"):
        generate_table(space, "synthetic3d", TrainConfig(tta_flip=True), sample=1)


def _stop_at(monkeypatch, call: int) -> list:
    """Make the ``call``-th training raise KeyboardInterrupt (a Ctrl-C mid-training)."""
    calls, original = [], train_module.train_model

    def stopping(*args, **kwargs):
        calls.append(1)
        if len(calls) == call:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(train_module, "train_model", stopping)
    return calls


def test_a_ctrl_c_keeps_the_architectures_trained_since_the_last_write(
    space, tmp_path, monkeypatch
):
    out = tmp_path / "stopped.parquet"
    _stop_at(monkeypatch, 3)
    with pytest.raises(KeyboardInterrupt):
        generate_table(space, "synthetic", RECIPE, sample=4, out=out, every=10, device="cpu",
                       latency_repeats=0)  # fmt: skip
    kept = BenchmarkTable.load(out)
    assert len(kept) == 2 and kept.planned == 4 and not kept.complete
    assert "incomplete: 2 of 4" in repr(kept)
    calls = _stop_at(monkeypatch, 0)  # the same call again: it goes on
    done = generate_table(space, "synthetic", RECIPE, sample=4, out=out, every=10,
                          device="cpu", latency_repeats=0)  # fmt: skip
    assert len(calls) == 2 and len(done) == 4 and set(kept.keys()) < set(done.keys())
    assert BenchmarkTable.load(out).complete


def test_the_cli_stopped_by_ctrl_c_says_what_it_kept_and_how_to_go_on(
    tmp_path, monkeypatch, capsys
):
    from nasbench.cli import main

    out = tmp_path / "cli.parquet"
    argv = ["bench", "generate", "--out", str(out), "--ops", "none,nor_conv_3x3",
            "--n-cells", "5", "--channels", "4", "--epochs", "1", "--limit", "32",
            "--batch-size", "16", "--sample", "3", "--device", "cpu"]  # fmt: skip
    _stop_at(monkeypatch, 2)
    assert main(argv) == 130
    err = capsys.readouterr().err
    kept = f"{out} keeps the 1 of 3 architectures trained so far"
    assert f"{kept}; run the same command again to continue." in err
    assert err.strip().splitlines()[-1] == "nasbench: interrupted"
    assert len(BenchmarkTable.load(out)) == 1


def test_a_space_that_does_not_classify_is_refused_before_training(tmp_path):
    from nasbench.spaces import create_space

    out, recipe = tmp_path / "t.parquet", TrainConfig(epochs=1, limit=8)
    with pytest.raises(ConfigError, match=r"space nasunet: a benchmark table trains classifiers, "
                                          r"and nasunet is a segmentation space; use a "
                                          r"classification space: .*darts"):  # fmt: skip
        generate_table(create_space("nasunet"), "synthetic", recipe, out=out)
    assert not out.exists()


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--ops", ""), ("--out", ""), ("--out", " "), ("--dataset", " "), ("--seeds", "")],
)
def test_an_empty_generate_argument_is_refused_not_defaulted(
    tmp_path, capsys, monkeypatch, count_trainings, flag, value
):
    # `--ops "$OPS"` with OPS unset trained every NB201 op: the nested `generate` parser's
    # options went unchecked.
    from nasbench.cli import main

    monkeypatch.chdir(tmp_path)
    given = {"--out": "t.parquet", "--ops": "none,skip_connect", "--dataset": "synthetic",
             "--seeds": "0", flag: value}  # fmt: skip
    argv = ["bench", "generate", "--epochs", "1", "--limit", "32", "--n-cells", "2",
            "--channels", "4", "--sample", "1", "--device", "cpu"]  # fmt: skip
    capsys.readouterr()
    code = main([*argv, *(word for pair in given.items() for word in pair)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err and "Traceback" not in err
    assert err == f"nasbench: error: {flag} is empty; give it a value (is a shell variable unset?)."
    assert not count_trainings and list(tmp_path.iterdir()) == []  # nothing trained or written


def test_a_bad_generate_recipe_value_is_named_by_its_flag(tmp_path, capsys, count_trainings):
    from nasbench.cli import main

    out = tmp_path / "t.parquet"
    code = main(["bench", "generate", "--out", str(out), "--epochs", "0", "--device", "cpu"])
    assert code == 2 and not count_trainings and not out.exists()
    assert capsys.readouterr().err == "nasbench: error: --epochs must be an integer >= 1, got 0.\n"


@pytest.mark.parametrize("out", ["", "  "])
def test_generate_table_refuses_an_empty_out_as_unset_not_as_a_folder(space, tmp_path, out):
    with pytest.raises(ConfigError, match="--out is empty; give it a value") as err:
        generate_table(space, "synthetic", RECIPE, sample=1, out=out)
    assert "folder" not in str(err.value) and "bare name" not in str(err.value)


def test_a_second_generation_into_a_table_being_written_is_refused(
    space, tmp_path, count_trainings
):
    from nasbench.runs.store import exclusive_lock

    out = tmp_path / "tiny.parquet"
    # Each process saves the table it loaded plus its own rows: two at once lost one's rows.
    with exclusive_lock(tmp_path / ".tiny.parquet.lock", "held by the test"):
        with pytest.raises(ConfigError) as err:
            generate_table(space, "synthetic", RECIPE, sample=1, out=out, device="cpu")
    assert str(err.value) == (
        f"{out} is being written by another live process (a bench generate into the same "
        "file); wait for it to end, or give another --out."
    )
    assert count_trainings == [] and not out.exists()
    table = generate_table(space, "synthetic", RECIPE, sample=1, out=out, device="cpu",
                           latency_repeats=0)  # fmt: skip
    assert len(table) == 1 and out.exists()  # the lock went with the block


def test_a_table_in_a_folder_not_made_yet_is_written_there(space, tmp_path):
    out = tmp_path / "results" / "new" / "tiny.parquet"
    table = generate_table(space, "synthetic", RECIPE, sample=1, out=out, device="cpu",
                           latency_repeats=0)  # fmt: skip
    assert len(table) == 1 and BenchmarkTable.load(out).keys() == table.keys()
