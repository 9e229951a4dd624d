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


# A thread the interpreter waits for at exit sends a Ctrl-C: at once, or once the main
# thread has ended (the command returned, the interpreter tears down); then it hangs on.
LATE_CTRL_C = """
import os, signal, threading, time

def late():
    if os.environ["CTRL_C_AT"] == "exit":
        while threading.main_thread().is_alive():
            time.sleep(0.05)
        print("printed in the teardown")  # buffered: stdout is a pipe
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(float(os.environ["HANG_S"]))

threading.Thread(target=late).start()
"""


@pytest.mark.parametrize("how", ["module", "command"])
def test_ctrl_c_after_the_command_has_ended_keeps_its_status_and_still_ends_it(tmp_path, how):
    # A search that had printed its result exited 130 when Ctrl-C came in the teardown; and
    # a Ctrl-C must still end a teardown stuck on a thread.
    import time

    (tmp_path / "late_ctrl_c.py").write_text(LATE_CTRL_C)
    paths = [str(tmp_path), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths), OMP_NUM_THREADS="1")
    env.pop("PYTHONUNBUFFERED", None)  # output a process still holds is kept when it ends
    start = ["-m", "nasbench"] if how == "module" else ["-c", CONSOLE_SCRIPT]
    command = [sys.executable, *start, "--import", "late_ctrl_c", "datasets", "--dims", "3"]
    for at, hang, code in (("start", 0.5, 130), ("exit", 0.5, 0), ("exit", 60, 0)):
        began = time.monotonic()
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env={**env, "CTRL_C_AT": at, "HANG_S": str(hang)},
            timeout=120,
        )
        assert done.returncode == code  # while it runs, it still stops it
        if at == "exit":
            assert done.stderr == "" and "adrenalmnist3d" in done.stdout  # all its output
            assert done.stdout.endswith("printed in the teardown\n")
    assert time.monotonic() - began < 45  # not the thread's 60 s: the Ctrl-C ended it
