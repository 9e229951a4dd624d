"""The nasbench command line: subcommand table, `datasets`, errors and exit codes."""

from __future__ import annotations

import json

import pytest

from nasbench import __version__
from nasbench.cli import COMMANDS, main

MEDMNIST = (
    "pathmnist chestmnist dermamnist octmnist pneumoniamnist retinamnist breastmnist bloodmnist "
    "tissuemnist organamnist organcmnist organsmnist organmnist3d nodulemnist3d adrenalmnist3d "
    "fracturemnist3d vesselmnist3d synapsemnist3d"
).split()


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_datasets_lists_all_medmnist_subsets(capsys):
    code, out, err = run(capsys, "datasets")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["name", "task", "dims", "sizes", "licence", "cached"]
    names = {line.split()[0] for line in lines[1:]}
    assert set(MEDMNIST) <= names
    breast = next(line for line in lines if line.startswith("breastmnist "))
    assert breast.split() == [
        "breastmnist",
        "binary",
        "2D",
        "28,64,128,224",
        "CC",
        "BY",
        "4.0",
        "no",
    ]


def test_datasets_shows_what_is_cached(capsys, shared_medmnist):
    _, out, _ = run(capsys, "datasets", "--root", str(shared_medmnist), "--dims", "2")
    cached = {line.split()[0]: line.split()[-1] for line in out.splitlines()[1:]}
    assert cached["breastmnist"] == "yes" and cached["pathmnist"] == "no"


def test_datasets_filters_and_json(capsys):
    code, out, _ = run(capsys, "datasets", "--dims", "3", "--task", "multi-class", "--json")
    rows = json.loads(out)
    assert code == 0
    names = {r["name"] for r in rows}
    assert {"organmnist3d", "fracturemnist3d"} <= names
    assert all(r["spatial_dims"] == 3 and r["task"] == "multi-class" for r in rows)
    assert all(isinstance(r["cached"], bool) for r in rows)


def test_datasets_details_of_one_entry(capsys, tmp_path):
    code, out, _ = run(capsys, "datasets", "retinamnist", "--root", str(tmp_path))
    assert code == 0
    assert "ordinal" in out and "fundus camera" in out
    # Not on disk: the official download's sizes, said to be just that.
    assert (
        "unknown until loaded (the official download holds train 1,080, val 120, test 400)" in out
    )


def test_datasets_details_refuse_a_filter_the_dataset_fails(capsys):
    code, out, err = run(capsys, "datasets", "breastmnist", "--dims", "3")
    assert code == 2 and out == ""
    assert err == (
        "nasbench: error: breastmnist is a 2D binary dataset, so --dims 3 leaves nothing to "
        "show; drop it, or list the datasets that fit (`nasbench datasets --dims 3`).\n"
    )
    code, _, err = run(capsys, "datasets", "breastmnist", "--task", "segmentation", "--dims", "3")
    assert code == 2 and "--task segmentation and --dims 3 leave nothing to show" in err
    code, out, _ = run(capsys, "datasets", "breastmnist", "--task", "binary", "--dims", "2")
    assert code == 0 and "name:      breastmnist" in out  # filters it meets: shown


def test_datasets_details_count_a_persons_own_medmnist_file(capsys, tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in {"train": 20, "val": 4, "test": 6}.items():
        arrays[f"{split}_images"] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        arrays[f"{split}_labels"] = (np.arange(n) % 2).reshape(n, 1)
    np.savez(tmp_path / "breastmnist.npz", **arrays)
    code, out, _ = run(capsys, "datasets", "breastmnist", "--root", str(tmp_path))
    assert code == 0 and "train 20, val 4, test 6 in breastmnist.npz" in out
    assert "546" not in out  # the official count belongs to another file


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["datasets", "breastmnst"], "Did you mean 'breastmnist'?"),
        (["datasets", "--task", "forecasting"], "invalid choice: 'forecasting'"),
        (["datasets", "--dims", "4"], "invalid choice: 4"),
    ],
)
def test_errors_are_one_line_with_exit_code_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("nasbench: error: ") and message in err


def test_version_and_help(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"nasbench {__version__}"
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "datasets" in out


def test_no_subcommand_prints_help_and_fails(capsys):
    code, out, _ = run(capsys)
    assert code == 2 and "usage: nasbench" in out


def test_subcommands_are_registered_in_one_table():
    assert "datasets" in COMMANDS and COMMANDS["datasets"].help


def _tiny_search_config(tmp_path):
    from nasbench.config import DatasetConfig, SearchConfig

    config = SearchConfig(
        dataset=DatasetConfig(name="synthetic", limit=32, batch_size=8),
        space={"name": "darts", "n_nodes": 2, "skeleton": {"n_cells": 3, "channels": 4}},
        epochs=1,
        max_steps_per_epoch=2,
    )
    path = tmp_path / "tiny.json"
    config.save(path)
    return config, path


def test_search_report_and_runs_commands(capsys, tmp_path):
    _, config_path = _tiny_search_config(tmp_path)
    run_dir = tmp_path / "runs" / "tiny"
    code, out, _ = run(capsys, "search", "--config", str(config_path), "--run-dir", str(run_dir),
                       "--strategy", "gdas", "--seed", "4")  # fmt: skip
    assert code == 0 and "finished after 2 steps" in out and "genotype: Genotype(" in out
    from nasbench.runs import load

    stored = load(run_dir).config
    assert stored["strategy"] == "gdas" and stored["seed"] == 4  # the flags override the file

    code, out, _ = run(capsys, "report", str(run_dir), "--out", str(tmp_path / "r.html"))
    assert code == 0 and out.strip() == f"report: {(tmp_path / 'r.html').resolve()}"
    assert "plotly" in (tmp_path / "r.html").read_text()

    code, out, _ = run(capsys, "runs", str(tmp_path / "runs"))
    assert code == 0 and "tiny" in out and "finished" in out and "gdas" in out
    code, _, err = run(capsys, "runs", str(tmp_path / "nowhere"))
    assert code == 2 and "does not exist" in err

    code, _, err = run(capsys, "resume", str(tmp_path / "nowhere"))
    assert code == 2 and err.count("\n") == 1


@pytest.mark.slow
def test_stop_then_resume_commands(capsys, tmp_path):
    import threading
    import time

    from nasbench.runs import load

    config, config_path = _tiny_search_config(tmp_path)
    config.epochs, config.max_steps_per_epoch = 3, 3
    config.save(config_path)
    run_dir = tmp_path / "run"
    codes = []
    searching = threading.Thread(
        target=lambda: codes.append(
            main(["search", "--config", str(config_path), "--run-dir", str(run_dir)])
        )
    )
    searching.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and searching.is_alive():
        if (run_dir / "run.sqlite").exists() and load(run_dir).progress.get("step", 0) >= 1:
            break
        time.sleep(0.05)
    code, out, _ = run(capsys, "stop", str(run_dir))
    searching.join(timeout=120)
    assert code == 0 and "stop requested" in out and codes == [0]
    assert load(run_dir).status == "stopped" and load(run_dir).progress["step"] < 6

    code, out, _ = run(capsys, "resume", str(run_dir), "--report")
    assert code == 0 and "finished after 6 steps" in out
    assert (run_dir / "report.html").exists() and load(run_dir).status == "finished"


def test_quickstart_prints_where_the_report_is(capsys, tmp_path, monkeypatch):
    from nasbench.engine import commands

    tiny, _ = _tiny_search_config(tmp_path)
    full = commands.quickstart_config()
    assert full.validate() and full.strategy == "darts" and full.dataset.name == "synthetic"
    monkeypatch.setattr(commands, "quickstart_config", lambda seed=0: tiny)
    code, out, _ = run(capsys, "quickstart", "--run-dir", str(tmp_path / "qs"))
    assert code == 0 and "quickstart: DARTS on the offline 'synthetic' dataset" in out
    assert f"report: {(tmp_path / 'qs' / 'report.html').resolve()}" in out


def test_search_without_a_config_starts_from_the_documented_defaults(tmp_path):
    from nasbench.cli import build_parser
    from nasbench.config import SearchConfig
    from nasbench.engine.commands import config_from_args

    parse = build_parser(only="search").parse_args
    plain = config_from_args(parse(["search", "--run-dir", str(tmp_path / "r")]))
    assert plain == SearchConfig()  # not the quickstart's 256 images and raised arch_lr
    flags = parse(["search", "--run-dir", "r", "--dataset", "breastmnist", "--no-download",
                   "--max-seconds", "600"])  # fmt: skip
    config = config_from_args(flags)
    assert (config.dataset.name, config.dataset.download, config.max_seconds) == (
        "breastmnist",
        False,
        600.0,
    )
    assert config.dataset.limit is None


def test_no_download_names_the_file_to_place_and_leaves_no_run(capsys, tmp_path):
    run_dir = tmp_path / "run"
    code, _, err = run(capsys, "search", "--run-dir", str(run_dir), "--dataset", "breastmnist",
                       "--root", str(tmp_path / "data"), "--no-download")  # fmt: skip
    assert code == 2 and err.count("\n") == 1
    assert "breastmnist.npz is not in" in err and str(tmp_path / "data") in err
    assert "zenodo.org" in err and not run_dir.exists()


def test_search_estimate_prints_time_and_memory_and_writes_nothing(capsys, tmp_path):
    _, config_path = _tiny_search_config(tmp_path)
    run_dir = tmp_path / "run"
    code, out, _ = run(capsys, "search", "--config", str(config_path), "--run-dir", str(run_dir),
                       "--estimate", "--max-seconds", "0.001")  # fmt: skip
    assert code == 0 and not run_dir.exists()
    assert "s/step" in out and "MiB per step" in out
    assert "with max_seconds 0.001: 1 epoch(s)" in out


def test_a_discrete_search_shows_evaluations_best_and_eta(capsys, tmp_path):
    from nasbench.config import SearchConfig

    path = tmp_path / "evolution.json"
    SearchConfig(
        strategy="evolution", evaluator="table", space={"name": "nb201"}, max_evaluations=10
    ).save(path)
    code, out, err = run(capsys, "search", "--config", str(path), "--run-dir",
                         str(tmp_path / "run"))  # fmt: skip
    assert code == 0 and "finished after 10 steps" in out
    assert "10/10" in err and "best=" in err and "eval" in err
    # The default population of 20 would not fit 10 evaluations: it shrinks, and says so.
    assert "evolution: population_size 2, sample_size 2 to fit max_evaluations 10" in out


def test_a_warning_during_a_command_prints_as_one_line(capsys, monkeypatch):
    import dataclasses
    import warnings

    def warns(args):
        warnings.warn("images of 2 patients,\n  too few to split", UserWarning, stacklevel=1)
        return 0

    monkeypatch.setitem(COMMANDS, "datasets", dataclasses.replace(COMMANDS["datasets"], run=warns))
    before = warnings.showwarning
    assert main(["datasets"]) == 0
    err = capsys.readouterr().err
    assert err == "nasbench: warning: images of 2 patients, too few to split\n"
    assert warnings.showwarning is before


def test_an_interrupt_hints_only_at_what_can_be_done(tmp_path):
    import argparse

    from nasbench.cli import _interrupt_hint

    made = tmp_path / "my run"
    made.mkdir()
    (made / "run.sqlite").write_bytes(b"")

    def hint(command, run_dir):
        return _interrupt_hint(argparse.Namespace(command=command, run_dir=run_dir))

    assert hint("search", str(made)) == f"; continue it with `nasbench resume '{made}'`"
    assert hint("quickstart", str(made)).startswith("; continue it with")
    assert hint("retrain", str(made)) == (
        f"; the search in {made} is unchanged: run `nasbench retrain '{made}'` again"
    )
    # From the command line: the command as typed, its recipe flags kept.
    typed = ["retrain", str(made), "--epochs", "50", "--baselines", "cnn,resnet18"]
    retrain = argparse.Namespace(command="retrain", run_dir=str(made))
    assert _interrupt_hint(retrain, typed) == (
        f"; the search in {made} is unchanged: run `nasbench retrain '{made}' --epochs 50 "
        "--baselines cnn,resnet18` again"
    )
    # Interrupted before the run folder was made: no resume to suggest.
    assert hint("search", str(tmp_path / "not yet")) == ""
    assert hint("search", None) == "" and _interrupt_hint(None) == ""
    assert hint("report", str(made)) == ""


def test_an_interrupt_does_not_point_to_a_resume_its_strategy_cannot_do(tmp_path):
    import argparse

    from nasbench.cli import _interrupt_hint
    from nasbench.engine.run_setup import recording_status, resume_refusal
    from nasbench.runs import RunStore

    run_dir = tmp_path / "enas"
    with RunStore.create(run_dir, {"strategy": "enas"}, {}) as store:
        with recording_status(store):
            pass
    hint = _interrupt_hint(argparse.Namespace(command="search", run_dir=str(run_dir)))
    assert hint == f"; {resume_refusal('enas')}" and "nasbench resume" not in hint


def test_quickstart_names_its_run_folder_only_once_it_can_be_made(tmp_path, capsys):
    made = tmp_path / "taken"
    made.mkdir()
    (made / "run.sqlite").write_bytes(b"x")
    assert main(["quickstart", "--run-dir", str(made)]) == 2
    out, err = capsys.readouterr()
    assert "run store in" not in out and "already holds a run" in err


def test_datasets_refuses_a_data_folder_variable_that_names_a_file(tmp_path, capsys, monkeypatch):
    a_file = tmp_path / "data"
    a_file.write_text("x")
    monkeypatch.setenv("NASBENCH_DATA", str(a_file))
    assert main(["datasets"]) == 2  # not a table reading "cached: no" for every set
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip().endswith(
        f"$NASBENCH_DATA ({a_file}) is a file; give the folder that holds the data."
    )
    assert main(["datasets", "--root", str(tmp_path)]) == 0  # --root wins over the variable
    capsys.readouterr()
    monkeypatch.delenv("NASBENCH_DATA")
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "nasbench").write_text("x")  # the default folder, unset variable
    assert main(["datasets"]) == 2
    default = tmp_path / ".cache" / "nasbench"
    said = capsys.readouterr().err.strip()
    assert said.endswith(f"the default data folder {default} is a file; give the folder that "
                         "holds the data.")  # fmt: skip


def test_small_usage_mistakes_are_named_with_the_subcommands_help(tmp_path, capsys):
    assert main(["runs", str(tmp_path), "extra"]) == 2
    assert "unrecognized arguments: extra (see `nasbench runs --help`)" in capsys.readouterr().err
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    assert main(["datasets", "--root", str(a_file)]) == 2
    assert f"--root {a_file} is a file" in capsys.readouterr().err
    for command in ("runs", "quickstart"):
        code, out, _ = run(capsys, command, "--help")
        assert code == 0 and "(default: " in out


def test_every_command_the_readme_names_is_there(capsys):
    # The README's command-line section is the list users and error messages point to.
    import re
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    command = r"(?m)(?:^|`)\s*(?:\$ )?(?:python -m )?nasbench (?:--import \S+ )?([a-z]+)\b"
    named = set(re.findall(command, readme))
    assert {"search", "resume", "retrain", "bench", "runs"} <= named
    assert main(["--help"]) == 0
    listed = capsys.readouterr().out
    assert sorted(n for n in named if f"    {n} " not in listed) == []
    assert main(["bench", "generate", "--help"]) == 0
    assert "--out" in capsys.readouterr().out


def test_stop_says_when_a_stop_ends_a_run_for_good(capsys, tmp_path):
    """A search whose strategy cannot be resumed is still stopped, but `stop` says the
    stop ends it; one that can be resumed gets the plain line."""
    from nasbench.engine.run_setup import recording_status, resume_refusal
    from nasbench.runs import RunStore

    plain = "; the search stops after its current step.\n"
    for strategy in ("enas", "marl-gdas", "random"):
        run_dir = tmp_path / strategy
        with RunStore.create(run_dir, {"strategy": strategy}, {}) as store:
            with recording_status(store):  # a live search writes the run
                code, out, _ = run(capsys, "stop", str(run_dir))
                assert code == 0 and store.stop_requested()  # sent all the same
            store.set_status("stopped", "stop_requested")
        reason = resume_refusal(strategy)
        if reason is None:
            assert out == f"stop requested for {run_dir}{plain}"
            continue
        assert out.count("\n") == 1 and f"its current step, for good: {reason}." in out
        # Stopped: nothing to stop, and no `resume` command to point to.
        code, _, err = run(capsys, "stop", str(run_dir))
        assert code == 2 and err.count("\n") == 1
        assert reason in err and "nasbench resume" not in err


def test_stop_and_runs_during_a_resumes_start_up(capsys, tmp_path):
    """A resume that has not reached its first step holds the run while its store still
    says stopped: `stop` asks it to stop there, `runs` lists it as resuming."""
    from nasbench.runs import RunStore

    run_dir = tmp_path / "runs" / "walk"
    with RunStore.create(run_dir, {"strategy": "darts"}, {}) as store:
        store.set_status("stopped", "stop_requested")
    with RunStore.open(run_dir) as resuming:  # the resumed process, building its data
        code, out, err = run(capsys, "stop", str(run_dir))
        assert code == 0 and err == "" and resuming.stop_requested()
        assert out == (
            f"stop requested for {run_dir}; the search is starting (resuming) and stops at "
            "its first step.\n"
        )
        code, out, _ = run(capsys, "runs", str(tmp_path / "runs"))
        assert code == 0 and out.splitlines()[1].split()[:2] == [str(run_dir), "resuming"]
    code, out, _ = run(capsys, "runs", str(tmp_path / "runs"))
    assert out.splitlines()[1].split()[:2] == [str(run_dir), "stopped"]
    code, _, err = run(capsys, "stop", str(run_dir))  # no process: nothing to stop
    assert code == 2 and "is stopped; no search is running there" in err


def test_stop_refuses_and_runs_says_retraining_for_a_run_being_retrained(capsys, tmp_path):
    """A retrain holds a finished search's run as its writer but reads no stop requests:
    `stop` refuses it in one line, `runs` lists it as retraining."""
    from nasbench.runs import RunStore

    run_dir = tmp_path / "runs" / "walk"
    with RunStore.create(run_dir, {"strategy": "darts"}, {}) as store:
        store.set_status("stopped", "stop_requested")
    with RunStore.open(run_dir) as retrain:  # as `nasbench retrain` holds it
        retrain.log_event("retrain_started", {})
        code, out, err = run(capsys, "stop", str(run_dir))
        assert code == 2 and out == "" and not retrain.stop_requested()
        said = (
            f"run '{run_dir}' is being retrained, not searched; `nasbench stop` stops "
            "searches only — stop the retrain with Ctrl-C in its terminal"
        )
        assert err.count("\n") == 1 and said in err
        code, out, _ = run(capsys, "runs", str(tmp_path / "runs"))
        assert code == 0 and out.splitlines()[1].split()[:2] == [str(run_dir), "retraining"]


def test_runs_says_why_a_run_failed(capsys, tmp_path):
    """`stop` points a failed run to `runs` for its reason: `runs` prints the line the
    search failed with, and nothing for a finished run."""
    from nasbench.runs import RunStore

    failed, finished = tmp_path / "runs" / "a", tmp_path / "runs" / "b"
    reason = "the ENAS shared weights diverged in shared-weight phase 3; lower shared_lr"
    with RunStore.create(failed, {"strategy": "enas"}, {}) as store:
        store.set_status("failed", reason)
    with RunStore.create(finished, {"strategy": "random"}, {}) as store:
        store.set_status("finished", "budget")
    code, out, _ = run(capsys, "runs", str(tmp_path / "runs"))
    assert code == 0
    assert f"{failed}: failed: {reason}" in out.splitlines()
    assert not [line for line in out.splitlines() if line.startswith(f"{finished}:")]
    code, _, err = run(capsys, "stop", str(failed))
    assert code == 2 and "shows why it failed" in err


def test_stop_and_runs_see_a_resume_or_retrain_from_its_announcement(capsys, tmp_path):
    """A `nasbench resume` or `retrain` announces the run it takes over before it loads
    torch or holds the writer lock: from then `stop` asks a resume to stop and refuses a
    retrain, and `runs` lists them as resuming and retraining; a search writing the run
    keeps its own status, and a withdrawn announcement leaves the run as it was."""
    from nasbench.runs import RunStore
    from nasbench.runs.store import announce_writer, announced_writer, withdraw_writer
    from nasbench.runs.summary import retraining

    runs = tmp_path / "runs"
    stopped, killed, finished = runs / "a", runs / "b", runs / "c"
    for run_dir, status in ((stopped, "stopped"), (killed, "running"), (finished, "finished")):
        with RunStore.create(run_dir, {"strategy": "darts"}, {}) as store:
            store.set_status(status)

    def shown(run_dir):
        code, out, _ = run(capsys, "runs", str(runs))
        assert code == 0
        return next(line.split()[1] for line in out.splitlines() if line.startswith(f"{run_dir} "))

    starting = "the search is starting (resuming) and stops at its first step.\n"
    for run_dir in (stopped, killed):
        try:
            assert announce_writer(run_dir, "resume") is not None
            assert announced_writer(run_dir) == "resume" and shown(run_dir) == "resuming"
            code, out, err = run(capsys, "stop", str(run_dir))
            assert code == 0 and err == "" and out == f"stop requested for {run_dir}; {starting}"
        finally:
            withdraw_writer()
        assert announced_writer(run_dir) is None and list(run_dir.glob("run.*.lock")) == []
    assert shown(stopped) == "stopped" and shown(killed) == "killed"
    code, _, err = run(capsys, "stop", str(stopped))
    assert code == 2 and "is stopped; no search is running there" in err

    try:
        announce_writer(finished, "retrain")
        assert shown(finished) == "retraining" and retraining(finished)
        code, out, err = run(capsys, "stop", str(finished))
        assert code == 2 and out == "" and "is being retrained, not searched" in err
    finally:
        withdraw_writer()
    assert shown(finished) == "finished" and not retraining(finished)

    with RunStore.open(killed) as store:  # a live search: a retrain starting fails on it
        store.set_status("running")
        try:
            announce_writer(killed, "retrain")
            assert shown(killed) == "running" and not retraining(killed)
            code, out, _ = run(capsys, "stop", str(killed))
            assert code == 0 and "stops after its current step" in out
        finally:
            withdraw_writer()
    assert announce_writer(tmp_path / "nowhere", "resume") is None


def _wait_for(condition, seconds: float = 60.0) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def _nasbench(*argv: str):
    import os
    import subprocess
    import sys

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "nasbench", *argv], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


@pytest.mark.slow
def test_stop_right_after_a_cli_resume_starts_stops_it_before_it_trains(capsys, tmp_path):
    """`nasbench stop` in the seconds a `nasbench resume` spends loading torch and its data
    (the run still says stopped, and no process holds its writer lock) is honoured: the
    resume stops before its first step, and its store says stopped with nothing added."""
    from nasbench.runs import RunStore, load
    from nasbench.runs.store import announced_writer, writer_alive

    config, _ = _tiny_search_config(tmp_path)
    run_dir = tmp_path / "runs" / "walk"
    with RunStore.create(run_dir, config.to_dict(), {}) as store:  # Ctrl-C before step 1
        store.set_status("running")
        store.set_status("stopped", "interrupted")
    resuming = _nasbench("resume", str(run_dir))
    try:
        assert _wait_for(lambda: announced_writer(run_dir) is not None)
        assert writer_alive(run_dir) is False  # still loading: the store is not open yet
        code, out, _ = run(capsys, "runs", str(tmp_path / "runs"))
        assert out.splitlines()[1].split()[:2] == [str(run_dir), "resuming"]
        code, out, err = run(capsys, "stop", str(run_dir))
        assert code == 0 and err == "" and "is starting (resuming) and stops at its first" in out
        out, err = resuming.communicate(timeout=120)
    finally:
        resuming.kill()
    assert resuming.returncode == 0 and "stopped after 0 steps" in out, err
    with load(run_dir) as run_:
        assert run_.status == "stopped" and run_.progress["step"] == 0
        assert run_.history.empty and not run_.stop_pending
    assert list(run_dir.glob("run.*.lock")) == []
    code, out, _ = run(capsys, "runs", str(tmp_path / "runs"))
    assert out.splitlines()[1].split()[:2] == [str(run_dir), "stopped"]


@pytest.mark.slow
def test_a_cli_retrain_reads_as_retraining_from_its_start(capsys, tmp_path):
    """`nasbench retrain` of a finished search reads as retraining (and `stop` refuses it)
    from its first moment, before it holds the run or logs retrain_started; never as
    resuming or as its search left it. Afterwards the run reads finished again."""
    import numpy as np

    from nasbench.runs import RunStore
    from nasbench.runs.store import writer_alive
    from nasbench.runs.summary import run_summaries
    from nasbench.spaces import space_from_dict

    config, _ = _tiny_search_config(tmp_path)
    run_dir = tmp_path / "runs" / "walk"
    with RunStore.create(run_dir, config.to_dict(), {}) as store:  # as a search ends
        store.set_status("running")
        genotype = space_from_dict(config.space).sample(np.random.default_rng(0))
        store.log_genotype(0, 2, genotype.to_json())
        store.set_status("finished")
    retrain = _nasbench("retrain", str(run_dir), "--epochs", "1", "--limit", "16",
                        "--test-limit", "16", "--batch-size", "8", "--no-baseline")  # fmt: skip
    seen: list[tuple[str, bool]] = []  # each new status, and whether the retrain held the run

    def status() -> str:
        alive = bool(writer_alive(run_dir))
        shown = run_summaries(tmp_path / "runs")[0]["status"]
        if not seen or seen[-1][0] != shown:
            seen.append((shown, alive))
        return shown

    try:
        assert _wait_for(lambda: status() == "retraining")
        code, _, err = run(capsys, "stop", str(run_dir))
        assert code == 2 and "is being retrained, not searched" in err
        _wait_for(lambda: status() != "retraining" and retrain.poll() is not None, 120)
        out, err = retrain.communicate(timeout=60)
    finally:
        retrain.kill()
    assert retrain.returncode == 0 and "searched" in out, err
    assert [s for s, _ in seen] == ["finished", "retraining", "finished"][-len(seen) :]
    assert dict(seen)["retraining"] is False  # retraining before it opened the store
    assert list(run_dir.glob("run.*.lock")) == []


def test_an_announcement_names_the_writer_whatever_the_log_says(capsys, tmp_path):
    """The command announced is the process that holds (or is about to hold) the run: a
    resume after a killed retrain (its retrain_started has no end) reads as resuming and
    `stop` asks it to stop; a retrain of a killed search (its status still says running)
    reads as retraining and `stop` refuses it, before and after it holds the writer lock.
    A command started while a search writes the run announces nothing."""
    from nasbench.runs import RunStore
    from nasbench.runs.store import announce_writer, withdraw_writer
    from nasbench.runs.summary import retraining

    runs = tmp_path / "runs"
    stopped, killed = runs / "a", runs / "b"
    with RunStore.create(stopped, {"strategy": "darts"}, {}) as store:
        store.set_status("stopped", "stop_requested")
        store.log_event("retrain_started", {})  # a retrain, SIGKILLed: no retrain_finished
    with RunStore.create(killed, {"strategy": "darts"}, {}) as store:
        store.set_status("running")  # a search, SIGKILLed

    def shown(run_dir):
        code, out, _ = run(capsys, "runs", str(runs))
        assert code == 0
        return next(line.split()[1] for line in out.splitlines() if line.startswith(f"{run_dir} "))

    try:
        assert announce_writer(stopped, "resume") is not None
        with RunStore.open(stopped):  # the resume holds the run, before its first status
            assert shown(stopped) == "resuming" and not retraining(stopped)
            code, out, err = run(capsys, "stop", str(run_dir := stopped))
            assert code == 0 and err == "" and "is starting (resuming)" in out, err
    finally:
        withdraw_writer()
    assert shown(run_dir) == "stopped"

    try:
        assert announce_writer(killed, "retrain") is not None
        assert shown(killed) == "retraining" and retraining(killed)  # loading torch
        with RunStore.open(killed):  # it holds the run, before it logs retrain_started
            assert shown(killed) == "retraining" and retraining(killed)
            code, out, err = run(capsys, "stop", str(killed))
            assert code == 2 and out == "" and "is being retrained, not searched" in err
    finally:
        withdraw_writer()
    assert shown(killed) == "killed"

    with RunStore.open(killed) as search:  # a live search: a retrain would fail at its lock
        search.set_status("running")
        assert announce_writer(killed, "retrain") is None
        assert announce_writer(killed, "resume") is None
        assert shown(killed) == "running"
        code, out, _ = run(capsys, "stop", str(killed))
        assert code == 0 and "stops after its current step" in out
    assert list(runs.glob("*/run.*.lock")) == []


def test_an_announcement_outlasts_a_probe_of_it(tmp_path):
    """A reader probing the announcement (`nasbench runs`, a Monitor) holds its lock for a
    moment; a resume announcing then still announces, while a second announcer of the
    same run is refused."""
    import threading
    import time

    pytest.importorskip("fcntl")
    from nasbench.runs import RunStore
    from nasbench.runs.store import announce_writer, announced_writer, withdraw_writer

    run_dir = tmp_path / "run"
    with RunStore.create(run_dir, {"strategy": "darts"}, {}) as store:
        store.set_status("stopped")
    lock = run_dir / "run.resume.lock"
    lock.touch()
    probing, done = threading.Event(), threading.Event()

    def probe() -> None:  # as store.lock_held does, held a little longer
        import fcntl

        with open(lock) as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            probing.set()
            time.sleep(0.05)
        done.set()

    prober = threading.Thread(target=probe)
    prober.start()
    assert probing.wait(5)
    try:
        assert announce_writer(run_dir, "resume") is not None and done.is_set()
        assert announced_writer(run_dir) == "resume"
    finally:
        prober.join()
        withdraw_writer()
    assert announced_writer(run_dir) is None


def test_a_resume_stopped_before_its_first_step_shows_where_its_rows_end(
    capsys, tmp_path, monkeypatch
):
    """A killed search's progress row may be past its checkpoint; a resume discards the
    rows after the checkpoint and sets the progress row back to that step (and the epoch
    that step recorded), so a stop before its first step leaves rows, checkpoint and
    progress agreeing. Without a checkpoint it starts again from step 0."""
    import contextlib
    import shutil
    import sqlite3

    from nasbench.engine import commands
    from nasbench.runs import RunStore, load, request_stop

    config, config_path = _tiny_search_config(tmp_path)
    config.epochs = 2  # two steps an epoch
    # Epoch ends only: "auto" also writes after a mid-epoch step once steps outlast 20
    # writes (a loaded machine), and the second-last checkpoint would not be step 2.
    config.checkpoint_every = 0
    config.save(config_path)
    run_dir = tmp_path / "run"
    code, out, _ = run(capsys, "search", "--config", str(config_path), "--run-dir", str(run_dir))
    assert code == 0 and "finished after 4 steps" in out
    checkpoints = run_dir / "checkpoints"
    # As if killed in its second epoch: the checkpoint is the first epoch's end (step 2),
    # and the run never finished (a resume never restarts a finished run over its results).
    (checkpoints / "prev.pt").replace(checkpoints / "last.pt")
    with contextlib.closing(sqlite3.connect(run_dir / "run.sqlite")) as db, db:
        db.execute("DELETE FROM status WHERE status = 'finished'")
    with RunStore.open(run_dir) as store:
        store.set_status("running")
    with load(run_dir) as before:
        assert (before.progress["step"], before.progress["epoch"]) == (4, 1)
    monkeypatch.setattr(commands, "process_started", lambda: 0.0)  # keep the stop below
    request_stop(run_dir)
    code, out, _ = run(capsys, "resume", str(run_dir))
    assert code == 0 and "stopped after 2 steps" in out
    with load(run_dir) as after:
        assert after.status == "stopped" and int(after.history["step"].max()) == 2
        train = after.history[after.history["phase"] == "train"]
        last_epoch = int(train.loc[train["step"] == 2, "epoch"].iloc[0])
        assert (after.progress["step"], after.progress["epoch"]) == (2, last_epoch) == (2, 0)
        assert after.progress["total_steps"] == 4

    shutil.rmtree(checkpoints)  # killed before its first checkpoint: it starts again
    with RunStore.open(run_dir) as store:
        store.set_status("running")
    request_stop(run_dir)
    code, out, _ = run(capsys, "resume", str(run_dir))
    assert code == 0 and "stopped after 0 steps" in out
    with load(run_dir) as after:
        assert after.progress["step"] == 0 and after.history.empty
