"""``python -m nasbench`` and the ``nasbench`` command stopped by Ctrl-C before the command
line has loaded."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# Sends this process a SIGINT (a Ctrl-C) while nasbench.cli is being imported.
SITECUSTOMIZE = """
import os, signal, sys

class CtrlC:
    def find_spec(self, name, path=None, target=None):
        if name == "nasbench.cli":
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, CtrlC())
"""


# The `nasbench` command as pip's console script runs it (pyproject's [project.scripts]).
CONSOLE_SCRIPT = (
    "import sys; from nasbench.__main__ import main; sys.argv[0] = 'nasbench'; sys.exit(main())"
)


@pytest.mark.parametrize("how", ["module", "command"])
def test_ctrl_c_while_the_cli_loads_prints_one_line_and_exits_130(tmp_path, how):
    from pathlib import Path

    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text()
    assert 'nasbench = "nasbench.__main__:main"' in pyproject  # the command runs main() too
    (tmp_path / "sitecustomize.py").write_text(SITECUSTOMIZE)
    paths = [str(tmp_path), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths), OMP_NUM_THREADS="1")
    start = ["-m", "nasbench"] if how == "module" else ["-c", CONSOLE_SCRIPT]
    done = subprocess.run(
        [sys.executable, *start, "datasets"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.stderr == "nasbench: interrupted\n"  # no traceback
    assert done.returncode == 130 and done.stdout == ""
