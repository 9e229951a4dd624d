"""The benchmark scripts' shared edges (benchmarks/_script.py): arguments checked at
parse time, one-line errors, whole files."""

from __future__ import annotations

import argparse
import json
import os

import pytest

from nasbench.errors import ConfigError
from tests.benchmarks.conftest import usage_error


@pytest.fixture(scope="module")
def script(load_benchmark):
    return load_benchmark("_script")


def parse(script, argv, **flags):
    parser = argparse.ArgumentParser(prog="demo.py", exit_on_error=False)
    for name, kind in flags.items():
        parser.add_argument(f"--{name}", type=kind)
    return parser.parse_args(argv)


@pytest.mark.parametrize(
    ("given", "said"),
    [("0", "must be at least 1, got 0"), ("-3", "must be at least 1, got -3"),
     ("abc", "expected a whole number, got 'abc'"), ("2.5", "expected a whole number")],
)  # fmt: skip
def test_a_count_below_its_least_or_not_whole_is_refused_at_parse_time(script, given, said):
    with pytest.raises(argparse.ArgumentError, match=said):
        parse(script, ["--steps", given], steps=script.count(1))
    assert parse(script, ["--steps", "1"], steps=script.count(1)).steps == 1
    assert script.count(0)("0") == 0


@pytest.mark.parametrize("given", ["0", "-1", "nan", "inf", "x"])
def test_a_positive_number_is_finite_and_above_zero(script, given):
    with pytest.raises(argparse.ArgumentTypeError):
        script.positive_number(given)
    assert script.positive_number("1e-3") == 0.001


def test_an_output_file_is_refused_where_it_could_not_be_written(script, tmp_path):
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "locked").mkdir(mode=0o500)
    cases = {
        "": "is empty",
        " ": "is empty",
        str(tmp_path): "is a folder; give a file name in it",
        str(tmp_path / "a-file" / "out.json"): "a-file is a file, not a folder",
        "/proc/nasbench-no-such/out.json": "cannot write",
    }
    if os.geteuid() != 0:  # root writes anywhere
        cases[str(tmp_path / "locked" / "out.json")] = "locked is not writable"
    for given, said in cases.items():
        with pytest.raises(argparse.ArgumentTypeError, match=said):
            script.output_file(given)
    deeper = script.output_file(str(tmp_path / "new" / "deeper" / "out.json"))
    assert deeper == tmp_path / "new" / "deeper" / "out.json"
    assert not (tmp_path / "new").exists()  # checked, not made: a refused run leaves nothing


def test_files_are_written_whole_with_strict_json(script, tmp_path):
    path = script.write_json(tmp_path / "made" / "figures.json", {"r": [1.5, float("nan")],
                                                                  "inf": float("inf")})  # fmt: skip
    assert json.loads(path.read_text(), parse_constant=pytest.fail) == {"r": [1.5, None],
                                                                       "inf": None}  # fmt: skip
    assert sorted(p.name for p in path.parent.iterdir()) == ["figures.json"]  # no temporary
    assert oct(path.stat().st_mode & 0o077) != "0o0"  # readable by others under the umask


def test_the_projects_errors_are_one_line_and_status_two(script, capsys, monkeypatch):
    monkeypatch.setattr("sys.argv", ["demo.py"])

    def fails():
        raise ConfigError("Unknown strategy 'bogus';\nknown: darts.")

    def interrupted():
        raise KeyboardInterrupt

    assert script.run_main(fails) == 2
    assert capsys.readouterr().err == "demo.py: error: Unknown strategy 'bogus'; known: darts.\n"
    assert script.run_main(interrupted) == 130
    assert capsys.readouterr().err == "demo.py: interrupted\n"
    assert script.run_main(lambda: None) == 0 and script.run_main(lambda: 1) == 1
    with pytest.raises(ValueError):  # a bug in a script stays a traceback
        script.run_main(lambda: int("x"))


@pytest.mark.parametrize("script", ["detection", "reconstruction", "segmentation"])
def test_an_unwritable_json_is_refused_before_any_search(load_benchmark, capsys, tmp_path, script):
    bench = load_benchmark(script)
    err = usage_error(capsys, lambda: bench.parse_args(["--json", str(tmp_path)]))
    assert err.endswith(f"argument --json: {tmp_path} is a folder; give a file name in it")
    (tmp_path / "file").write_text("")
    err = usage_error(
        capsys, lambda: bench.parse_args(["--json", str(tmp_path / "file" / "t.json")])
    )
    assert "argument --json: cannot write" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # nothing else written
