"""``python -m nasbench`` stopped by Ctrl-C before its command line has loaded."""

from __future__ import annotations

import os
import subprocess
import sys

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


def test_ctrl_c_while_the_cli_loads_prints_one_line_and_exits_130(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(SITECUSTOMIZE)
    paths = [str(tmp_path), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths), OMP_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, "-m", "nasbench", "datasets"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.stderr == "nasbench: interrupted\n"  # no traceback
    assert done.returncode == 130 and done.stdout == ""
