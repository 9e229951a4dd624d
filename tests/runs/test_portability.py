"""Windows and macOS on Linux CI: no ``resource``, ``msvcrt`` locks, share URIs, ``~``."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest

from nasbench.errors import ConfigError
from nasbench.runs import RunStore, load, request_stop
from nasbench.runs import store as store_module
from nasbench.runs.checkpoint import _run_created
from nasbench.runs.store import run_folder, run_status, sqlite_uri, writer_alive

REPO_ROOT = Path(__file__).resolve().parents[2]

# A stand-in for Windows' msvcrt.locking, backed by flock on the same descriptor: like a
# Windows byte-range lock, it refuses another open handle in this process or any other.
# It records where each call locks, since msvcrt locks from the file position.
FAKE_MSVCRT = """
import fcntl, os

class FakeMsvcrt:
    LK_UNLCK, LK_NBLCK = 0, 2  # Windows' values

    def __init__(self):
        self.calls = []

    def locking(self, fd, mode, nbytes):
        self.calls.append((os.lseek(fd, 0, os.SEEK_CUR), mode, nbytes))
        if mode == self.LK_NBLCK:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        elif mode == self.LK_UNLCK:
            fcntl.flock(fd, fcntl.LOCK_UN)
        else:
            raise ValueError(mode)
"""
_namespace: dict = {}
exec(FAKE_MSVCRT, _namespace)
FakeMsvcrt = _namespace["FakeMsvcrt"]


def python_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE", **extra)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")])
    return env


def new_run(run_dir: Path) -> None:
    with RunStore.create(run_dir, {"strategy": "darts"}, environment={}) as store:
        store.log_metrics(step=1, epoch=0, phase="train", metrics={"loss": 0.5})
        store.set_status("stopped")


# ---------------------------------------------------------------- no resource module
def test_the_engine_imports_without_resource_and_its_peak_memory_is_nan():
    # Windows has neither the Unix-only resource module nor /proc (nor fcntl).
    script = textwrap.dedent(
        """
        import sys
        sys.modules["resource"] = None
        sys.modules["fcntl"] = None
        from pathlib import Path
        import torch
        import nasbench.cli, nasbench.engine.search
        from nasbench import device
        device._STATUS = Path("/no/proc/self/status")
        print("peak", device.peak_memory_mb(torch.device("cpu")))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=python_env(), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["peak", "nan"]


# ---------------------------------------------------------------- Windows writer lock
@pytest.fixture
def windows_lock(monkeypatch):
    """The store as on Windows: no fcntl, msvcrt's locking (a stand-in)."""
    fake = FakeMsvcrt()
    monkeypatch.setattr(store_module, "fcntl", None)
    monkeypatch.setattr(store_module, "msvcrt", fake)
    monkeypatch.setattr(store_module, "_LOCK_WAIT_S", 0.2)
    return fake


def test_windows_lock_refuses_a_second_writer_and_tells_liveness(tmp_path, windows_lock):
    run_dir = tmp_path / "run"
    new_run(run_dir)
    assert writer_alive(run_dir) is False
    writer = RunStore.open(run_dir)
    try:
        assert writer_alive(run_dir) is True
        with pytest.raises(ConfigError, match="being written by another live process"):
            RunStore.open(run_dir)
        assert writer_alive(run_dir) is True  # neither the probe nor the refusal freed it
    finally:
        writer.close()
    assert writer_alive(run_dir) is False
    RunStore.open(run_dir).close()
    # Every call names the same first byte of the lock file (msvcrt locks from the position).
    assert windows_lock.calls and {(at, n) for at, _, n in windows_lock.calls} == {(0, 1)}


def test_windows_lock_holds_against_another_process_until_it_dies(tmp_path, windows_lock):
    run_dir = tmp_path / "run"
    new_run(run_dir)
    stale = run_dir / "checkpoints" / ".last.pt.tmp-1"
    child = textwrap.dedent(
        f"""
        import sys
        from nasbench.runs import RunStore
        from nasbench.runs import store
        {textwrap.indent(FAKE_MSVCRT, "        ").strip()}
        store.fcntl, store.msvcrt = None, FakeMsvcrt()
        writer = RunStore.open({str(run_dir)!r})
        open({str(stale)!r}, "w").close()  # a checkpoint being written
        print("held", flush=True)
        sys.stdin.read()
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", child],
        env=python_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "held", process.stderr.read()
        assert writer_alive(run_dir) is True
        with pytest.raises(ConfigError, match="being written by another live process"):
            RunStore.open(run_dir)  # a resume beside it
        assert stale.exists()  # the refused writer left the live one's file alone
    finally:
        process.kill()
        process.wait(timeout=30)
    assert writer_alive(run_dir) is False  # killed: the run can be resumed
    RunStore.open(run_dir).close()
    assert not stale.exists()


# ---------------------------------------------------------------- SQLite URIs
@pytest.mark.parametrize(
    ("path", "uri"),
    [
        (r"\\server\share\runs\r1\run.sqlite", "file:////server/share/runs/r1/run.sqlite"),
        (r"Z:\runs\r1\run.sqlite", "file:///Z:/runs/r1/run.sqlite"),
        (r"C:\My Runs\r 1\run.sqlite", "file:///C:/My%20Runs/r%201/run.sqlite"),
        (r"C:\Users\Jürgen\run.sqlite", "file:///C:/Users/J%C3%BCrgen/run.sqlite"),
        (r"\\srv\médical\#1\run.sqlite", "file:////srv/m%C3%A9dical/%231/run.sqlite"),
        (r"C:\runs\50%\a?b\run.sqlite", "file:///C:/runs/50%25/a%3Fb/run.sqlite"),
    ],
)
def test_sqlite_uri_of_windows_paths(path, uri):
    assert sqlite_uri(PureWindowsPath(path), "ro") == f"{uri}?mode=ro"


def test_sqlite_opens_the_four_slash_form_of_a_share(tmp_path):
    # "file:////x" has an empty authority and the path "//x", which SQLite accepts on every
    # platform; on POSIX "//tmp/..." is "/tmp/...", so the form opens a real file here.
    db = tmp_path / "share.sqlite"
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.execute("INSERT INTO t VALUES (7)")
        conn.commit()
    uri = sqlite_uri(PurePosixPath(f"/{db}"), "ro")
    assert uri.startswith("file:////")
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
        assert conn.execute("SELECT x FROM t").fetchone() == (7,)


def test_a_run_in_a_folder_named_with_uri_characters_round_trips(tmp_path):
    run_dir = tmp_path / "a b#c%d?e é" / "r#1?x%20"
    new_run(run_dir)
    assert run_status(run_dir) == "stopped"
    request_stop(run_dir)
    run = load(run_dir)
    assert run.status == "stopped"
    assert run.history.value.tolist() == [0.5]
    assert _run_created(run_dir) is not None
    with RunStore.open(run_dir) as store:
        assert store.status == "stopped"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a b#c%d?e é"]


# ---------------------------------------------------------------- "~"
def test_a_run_folder_under_tilde_is_in_the_home_folder(home_and_work):
    home, work = home_and_work
    assert run_folder("~/runs/t1") == home / "runs" / "t1"
    with RunStore.create("~/runs/t1", {"strategy": "darts"}, environment={}) as store:
        assert store.run_dir == home / "runs" / "t1"
    with RunStore.open("~/runs/t1") as store:
        assert store.status == "created"
        assert writer_alive("~/runs/t1") is True  # stop and retrain ask it of a live run
    assert (home / "runs" / "t1" / "run.sqlite").is_file()
    assert list(work.iterdir()) == []
    # The readers too: load, the report, retrain, runs and stop all pass through them.
    with load("~/runs/t1") as run:
        assert run.run_dir == home / "runs" / "t1" and run.status == "created"
    request_stop("~/runs/t1")


def test_a_tilde_naming_no_user_is_a_one_line_error():
    with pytest.raises(ConfigError, match="cannot expand '~' in run folder") as err:
        run_folder("~no-such-user-nasbench/runs/t1")
    assert "\n" not in str(err.value)
