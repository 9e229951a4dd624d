"""The install files agree with each other and with the package."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, from PyPI (the dev extra)
    import tomli as tomllib

REPO_ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())


def _environment() -> dict:
    return yaml.safe_load((REPO_ROOT / "environment.yml").read_text())


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].strip().lower()


def test_environment_installs_the_project_with_extras_that_exist():
    env = _environment()
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    assert len(pip_sections) == 1
    (line,) = pip_sections[0]
    match = re.fullmatch(r"-e \.\[(.*)\]", line)
    assert match, f"pip line must install the project with extras, got {line!r}"
    extras = set(match.group(1).split(","))
    assert extras == {"notebooks", "dev"}
    assert extras <= set(_pyproject()["project"]["optional-dependencies"])


def test_environment_python_matches_requires_python():
    env = _environment()
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    python = next(d for d in conda if d.startswith("python"))
    assert python.removeprefix("python") == _pyproject()["project"]["requires-python"]


def test_environment_lists_only_what_pip_cannot_provide():
    # Every Python package comes from pyproject through pip; conda adds Python, pip and
    # the Graphviz binary only, so the two files cannot disagree on a version.
    conda = {_name(d) for d in _environment()["dependencies"] if isinstance(d, str)}
    assert conda == {"python", "pip", "graphviz"}


def test_pyproject_declares_the_required_dependencies():
    project = _pyproject()["project"]
    names = {_name(r) for r in project["dependencies"]}
    assert {"torch", "monai", "numpy", "pandas", "plotly", "graphviz", "tqdm"} <= names
    extras = project["optional-dependencies"]
    assert {"jupyterlab", "ipywidgets", "anywidget", "nbclient"} <= {
        _name(r) for r in extras["notebooks"]
    }
    assert {"pytest", "pytest-xdist", "nbmake", "ruff", "hypothesis"} <= {
        _name(r) for r in extras["dev"]
    }
    torch = next(r for r in project["dependencies"] if _name(r) == "torch")
    assert "==" not in torch, "keep torch a range so GPU users get CUDA builds"


def test_console_script_and_module_entry_point_agree():
    # The command runs __main__.main, as `python -m nasbench` does (a Ctrl-C while the
    # command line loads is one line either way).
    assert _pyproject()["project"]["scripts"]["nasbench"] == "nasbench.__main__:main"
    out = subprocess.run(
        [sys.executable, "-m", "nasbench", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    import nasbench

    assert nasbench.__version__ in out.stdout


def test_readme_test_command_is_what_ci_runs():
    readme = (REPO_ROOT / "README.md").read_text()
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", readme, flags=re.S)
    setup = [line for block in blocks[:1] for line in block.splitlines() if line.strip()]
    assert len(setup) == 2, "README set-up is exactly two commands"
    install, test = setup[1].split(" && ")
    assert install.replace("pip install", "python3 -m pip install --quiet") in ci
    assert test.replace("python -m", "python3 -m") in ci


def test_the_views_name_the_notebooks_extra_when_ipywidgets_is_missing():
    # A fresh interpreter in which ipywidgets cannot be imported (core install only).
    code = (
        "import sys; sys.modules['ipywidgets'] = None\n"
        "try:\n    from widgets import Workbench\n"
        "except ModuleNotFoundError as e:\n    print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=True
    ).stdout
    assert out.strip() == (
        "the workbench views need ipywidgets, from the project's notebooks extra: "
        'pip install -e ".[notebooks]"'
    )


def test_the_source_archive_leaves_the_tests_to_the_clone():
    assert "prune tests" in (REPO_ROOT / "MANIFEST.in").read_text().splitlines()
    license_files = _pyproject()["project"]["license-files"]
    assert all((REPO_ROOT / name).is_file() for name in license_files)


def test_pytest_options_leave_a_run_without_xdist_possible():
    # `pytest -p no:xdist` must start: an xdist-only option in addopts would stop it.
    addopts = _pyproject()["tool"]["pytest"]["ini_options"]["addopts"]
    assert "--dist" not in addopts and "-n" not in addopts.split()


@pytest.mark.parametrize(
    ("dist", "args", "addopts", "expected"),
    [
        ("load", ("-n", "2"), "", "worksteal"),  # README's command
        ("load", ("-n", "2", "--dist", "load"), "", "load"),  # asked for: kept
        ("load", ("-n", "2", "--dist=load"), "", "load"),
        ("load", ("-n", "2"), "--dist load", "load"),
        ("loadfile", ("-n", "2", "--dist", "loadfile"), "", "loadfile"),
        ("no", (), "", "no"),  # no workers: nothing to schedule
    ],
)
def test_the_suite_runs_under_the_work_stealing_scheduler_unless_told_otherwise(
    monkeypatch, dist, args, addopts, expected
):
    from tests.conftest import pytest_configure

    monkeypatch.setenv("PYTEST_ADDOPTS", addopts)
    config = SimpleNamespace(option=SimpleNamespace(dist=dist),
                             invocation_params=SimpleNamespace(args=args))  # fmt: skip
    pytest_configure(config)
    assert config.option.dist == expected
