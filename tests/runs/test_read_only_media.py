"""A run on read-only media (an archive mount, a shared course folder) is read, not
called damaged: SQLite cannot make the ``-shm`` file a WAL database needs there."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from nasbench.runs import RunStore

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _mount_read_only_works() -> bool:
    """True where this process may bind-mount a folder read-only in its own namespace
    (root on Linux with ``unshare``), the only way to make a folder unwritable to root."""
    if sys.platform != "linux" or shutil.which("unshare") is None or os.geteuid() != 0:
        return False
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, timeout=30)
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(
    not _mount_read_only_works(), reason="needs root and unshare to mount a folder read-only"
)


def _run_read_only(folder, code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in Python with ``folder`` mounted read-only (in a private namespace)."""
    script = (
        f"mount --bind '{folder}' '{folder}' && mount -o remount,ro,bind '{folder}' '{folder}' "
        f'&& "{sys.executable}" -c "$0"'
    )
    env = {**os.environ, "PYTHONPATH": REPO_ROOT, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", script, textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def _finished_run(folder) -> None:
    config = {"strategy": "darts", "dataset": {"name": "synthetic"}}
    with RunStore.create(folder, config, environment={}) as store:
        store.log_metrics(1, 0, "val", {"val_acc": 0.75})
        store.set_status("finished")


def test_a_run_on_a_read_only_mount_is_loaded_and_listed(tmp_path):
    runs = tmp_path / "runs"
    _finished_run(runs / "archived")
    _finished_run(runs / "other")
    before = sorted(p.name for p in (runs / "archived").iterdir())
    done = _run_read_only(
        runs / "archived",
        f"""
        from nasbench.runs import load, list_runs
        run = load({str(runs / "archived")!r})
        print("loaded", run.status, float(run.metrics_wide("val")["val_acc"].iloc[-1]))
        table = list_runs({str(runs)!r})
        print("listed", sorted(zip(table["name"], table["status"])))
        """,
    )
    assert done.returncode == 0, done.stderr
    assert "loaded finished 0.75" in done.stdout
    assert "listed [('archived', 'finished'), ('other', 'finished')]" in done.stdout
    assert sorted(p.name for p in (runs / "archived").iterdir()) == before


def test_a_damaged_database_on_a_read_only_mount_is_still_called_damaged(tmp_path):
    folder = tmp_path / "broken"
    _finished_run(folder)
    (folder / "run.sqlite").write_bytes(b"not a database" * 100)
    done = _run_read_only(
        folder,
        f"""
        from nasbench.errors import RunStoreError
        from nasbench.runs import load
        try:
            load({str(folder)!r})
        except RunStoreError as err:
            print("refused:", err)
        """,
    )
    assert done.returncode == 0, done.stderr
    assert "refused:" in done.stdout and "is damaged or not a run database" in done.stdout
