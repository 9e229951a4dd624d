"""User code on the command line: `--import MODULE`, what a run records of the modules it
needs, and the refusals that name them (resume, retrain, a redefined op set, the launcher)."""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

from nasbench import registry
from nasbench.cli import main
from nasbench.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]

# A discrete strategy that proposes one cell again and again: its search ends on its own.
PLUGIN = '''
from dataclasses import dataclass

import numpy as np

from nasbench.strategies import register_strategy
from nasbench.strategies.discrete.base import DiscreteConfig, DiscreteStrategy


@dataclass
class SameConfig(DiscreteConfig):
    pass


@register_strategy("{name}", SameConfig, kind="discrete")
class SameOne(DiscreteStrategy):
    """Proposes one cell again and again."""

    name = "{name}"

    def _propose(self):
        return self.space.sample(np.random.default_rng(0))
'''


def _write_plugin(folder: Path, module: str, strategy: str) -> None:
    (folder / f"{module}.py").write_text(textwrap.dedent(PLUGIN.format(name=strategy)))


@pytest.fixture
def own_strategies(monkeypatch):
    """Strategies registered in the test go into a copy of the registry, dropped after."""
    entries = registry._load("strategy").entries
    monkeypatch.setattr(registry._REGISTRIES["strategy"], "entries", dict(entries))


def test_search_with_import_records_the_module_and_resume_names_it(tmp_path, capsys):
    from nasbench.cli import _interrupt_hint
    from nasbench.config import SearchConfig
    from nasbench.engine.commands import recorded_environment, run_command

    _write_plugin(tmp_path, "tinyplug", "same_cell")
    config = tmp_path / "c.json"
    SearchConfig(strategy="same_cell", evaluator="table", space={"name": "nb201"},
                 max_evaluations=5).save(config)  # fmt: skip
    run_dir = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE",
           "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "nasbench", "--import", "tinyplug", "search", "--config",
         str(config), "--run-dir", str(run_dir)],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-500:]
    # The end line says why a search ended before its budget.
    assert "finished after 1 steps (ended early: the strategy kept proposing" in done.stdout
    record = recorded_environment(run_dir)
    assert record["user_code"]["modules"] == ["tinyplug"]
    assert {"kind": "strategy", "name": "same_cell", "module": "tinyplug"} in (
        record["user_code"]["names"]
    )
    assert record["space_ops"][:2] == ["none", "skip_connect"]

    # This process never imported tinyplug: resume and retrain name it and the command.
    for command in ("resume", "retrain"):
        assert main([command, str(run_dir)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "which module tinyplug registers" in err
        assert f"`nasbench --import tinyplug {command} {run_dir}`" in err
    assert run_command("resume", run_dir) == f"nasbench --import tinyplug resume {run_dir}"
    hint = _interrupt_hint(argparse.Namespace(command="search", run_dir=str(run_dir)))
    assert hint == f"; continue it with `nasbench --import tinyplug resume {run_dir}`"


def test_import_names_what_is_wrong_in_one_line(tmp_path, capsys, monkeypatch, own_strategies):
    from nasbench.engine import run_setup

    monkeypatch.setattr(run_setup, "IMPORTED_MODULES", [])  # this process's --import list
    (tmp_path / "broken_plug.py").write_text("raise RuntimeError('boom')\n")
    (tmp_path / "needs_other.py").write_text("import no_such_dependency_xyz\n")
    (tmp_path / "exits_plug.py").write_text("import sys\nsys.exit(3)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for argv, said in (
        (["--import", "no_such_plug_xyz", "runs"], "no module named 'no_such_plug_xyz' on the "
         "Python path; check PYTHONPATH"),
        (["--import", "broken_plug", "runs"], "importing broken_plug failed: RuntimeError: boom"),
        (["--import=needs_other", "runs"], "importing needs_other failed: No module named "
         "'no_such_dependency_xyz'"),
        (["runs", str(tmp_path), "--import", "x"], "--import goes before the command"),
        # A file name where the module name goes: Python would import then fail on ".py".
        (["--import", "broken_plug.py", "runs"], "--import broken_plug.py: give a module name, "
         "not a file: --import broken_plug, with the folder that holds it on the Python path "
         "(e.g. PYTHONPATH=.)"),
        (["--import", "../plugs/my_ops", "runs"], "--import my_ops, with the folder that holds "
         "it on the Python path (e.g. PYTHONPATH=../plugs)"),
        (["--import", "exits_plug", "runs"], "importing exits_plug failed: it called "
         "sys.exit(3); keep script code under `if __name__ == \"__main__\":`"),
    ):  # fmt: skip
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and said in err, err

    # Imported before the names are looked up: the module's strategy is known.
    _write_plugin(tmp_path, "goodplug", "same_cell_2")
    assert main(["--import", "goodplug", "search", "--run-dir", str(tmp_path / "r"),
                 "--strategy", "same_cell_2", "--estimate"]) == 2  # fmt: skip
    assert "'same_cell_2' is discrete" in capsys.readouterr().err


def test_a_redefined_op_set_is_refused_naming_both_lists(monkeypatch):
    from nasbench.engine.run_setup import check_user_code, space_ops
    from nasbench.spaces import ops

    monkeypatch.setitem(ops._SETS, "test_swapped", ("none", "avg_pool_3x3", "max_pool_3x3"))
    space = {"name": "darts", "ops": "test_swapped"}
    before = ["none", "max_pool_3x3", "avg_pool_3x3"]
    with pytest.raises(ConfigError) as err:
        check_user_code({"space": space}, {"space_ops": before}, "runs/x", "resume")
    said = str(err.value)
    assert f"searched the ops {before}" in said and "op set 'test_swapped'" in said
    assert "now resolves to ['none', 'avg_pool_3x3', 'max_pool_3x3']" in said
    # The same ops pass, and so does a run recorded before runs recorded them.
    check_user_code({"space": space}, {"space_ops": space_ops(space)}, "runs/x", "resume")
    check_user_code({"space": space}, {}, "runs/x", "resume")


def test_an_op_set_without_a_module_names_the_import_options_of_the_run():
    from nasbench.engine.run_setup import check_user_code

    environment = {"user_code": {"modules": ["myset_a"], "names": [
        {"kind": "op set", "name": "not_defined_here", "module": None}]}}  # fmt: skip
    with pytest.raises(ConfigError, match="`nasbench --import myset_a resume runs/x`"):
        check_user_code({}, environment, "runs/x", "resume")


def test_the_launcher_imports_user_modules_and_refuses_notebook_code(
    tmp_path, monkeypatch, own_strategies
):
    from nasbench.config import SearchConfig
    from nasbench.strategies import register_strategy
    from nasbench.strategies.discrete.random_search import RandomConfig, RandomSearch
    from widgets.launcher import runnable_strategies, start_process, subprocess_imports

    _write_plugin(tmp_path, "launchplug", "same_cell_3")
    monkeypatch.syspath_prepend(str(tmp_path))
    # setitem: the module leaves sys.modules after the test
    monkeypatch.setitem(sys.modules, "launchplug", importlib.import_module("launchplug"))
    config = SearchConfig(strategy="same_cell_3", evaluator="table", space={"name": "nb201"})
    assert subprocess_imports(config.validate())[1] == ["--import", "launchplug"]
    assert "same_cell_3" in runnable_strategies()

    # A strategy a notebook cell registers lives in __main__: not offered, refused at Run.
    cell = type("CellWalk", (RandomSearch,), {"__module__": "__main__", "name": "cell_walk"})
    register_strategy("cell_walk", RandomConfig, kind="discrete")(cell)
    assert "cell_walk" not in runnable_strategies()
    config.strategy = "cell_walk"
    with pytest.raises(ConfigError, match="registered in this notebook.*move the registration"):
        subprocess_imports(config.validate())

    # The subprocess finds the module where this kernel found it.
    seen = {}

    def popen(argv, **kw):  # records how the search would start, and stands for it
        seen.update(kw, argv=argv)
        return types.SimpleNamespace(pid=os.getpid())

    monkeypatch.setattr("subprocess.Popen", popen)
    start_process(["--import", "launchplug", "runs"], tmp_path / "logs")
    assert seen["argv"][3:5] == ["--import", "launchplug"]
    assert seen["env"]["PYTHONPATH"].split(os.pathsep)[1] == str(tmp_path.resolve())
