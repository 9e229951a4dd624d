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


def test_datasets_details_of_one_entry(capsys):
    code, out, _ = run(capsys, "datasets", "retinamnist")
    assert code == 0
    assert "ordinal" in out and "fundus camera" in out and "train 1080, val 120, test 400" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["datasets", "breastmnst"], "Did you mean 'breastmnist'?"),
        (["datasets", "--task", "regression"], "invalid choice: 'regression'"),
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
