"""Fixtures for real-browser tests: a private JupyterLab server and headless Chromium.

The server runs on 127.0.0.1 with a random token, a free port and throw-away Jupyter
config, data, runtime and settings folders, so a test never reads or writes the user's
Jupyter state and the "Jupyter news" toast never covers the page. Chromium is Debian's
``/usr/bin/chromium`` driven by the Playwright Python package (no browser download).
Tests marked ``browser`` skip with the reason when either is missing; ``.ci/install-browser``
installs both.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("NASBENCH_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(os.environ.get("NASBENCH_TEST_ARTIFACTS", REPO_ROOT / "test-artifacts"))
ARTIFACTS = ARTIFACTS / "browser"
# Flags that let Chromium start offline, as root, in a container without a GPU.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
)
# The plugin that asks "get notified about official Jupyter news?" in a toast.
ANNOUNCEMENTS_PLUGIN = "@jupyterlab/apputils-extension:announcements"
SERVER_START_TIMEOUT_S = 90.0
VIEWPORT = {"width": 1600, "height": 1000}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "browser: drives JupyterLab in headless Chromium (needs /usr/bin/chromium "
        "and the playwright package; .ci/install-browser installs both)",
    )


def browser_skip_reason() -> str | None:
    """Say why browser tests cannot run here, or None when they can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found; run .ci/install-browser (Debian's chromium package)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing; run .ci/install-browser (pip install playwright)"
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        return "jupyterlab is missing; install the notebooks extra: pip install -e '.[notebooks]'"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = browser_skip_reason()
    if reason is None:
        return
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    # Keep each phase's report on the item so fixtures can screenshot a failed test.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


# ------------------------------------------------------------------------- server


@dataclass(frozen=True)
class LabServer:
    """A running JupyterLab: where it listens, its token and the folder it serves."""

    url: str
    token: str
    root_dir: Path
    log_path: Path

    def notebook_url(self, name: str) -> str:
        """URL that opens notebook ``name`` (relative to root_dir) and logs in with the token."""
        # ?reset starts from an empty layout, so notebooks of earlier tests do not reopen.
        return f"{self.url}/lab/tree/{name}?reset&token={self.token}"

    def api(self, path: str, method: str = "GET") -> object:
        """Call ``/api/<path>`` and return the decoded JSON (None for an empty answer)."""
        request = urllib.request.Request(
            f"{self.url}/api/{path}",
            headers={"Authorization": f"token {self.token}"},
            method=method,
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Shut every kernel down, so the next test does not share the CPU with idle ones."""
        for kernel in self.api("kernels"):
            try:
                self.api(f"kernels/{kernel['id']}", method="DELETE")
            except urllib.error.HTTPError:
                pass  # already gone

    def log_tail(self, n_chars: int = 4000) -> str:
        """The end of the server's stdout/stderr, for failure messages."""
        try:
            return self.log_path.read_text(errors="replace")[-n_chars:]
        except OSError:
            return ""


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _private_jupyter_dirs(base: Path) -> dict[str, str]:
    """Fresh Jupyter/IPython folders under ``base`` with the news toast turned off.

    Both switches are set because either alone is enough and a future JupyterLab may rename
    one: the announcements plugin is disabled in page_config.json, and the notification
    settings say "never fetch news, never check for updates".
    """
    dirs = {
        name: base / name
        for name in ("config", "data", "runtime", "ipython", "settings", "workspaces", "cache")
    }
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    labconfig = dirs["config"] / "labconfig"
    labconfig.mkdir()
    (labconfig / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {ANNOUNCEMENTS_PLUGIN: True}})
    )
    notification = dirs["settings"] / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    return {
        "JUPYTER_CONFIG_DIR": str(dirs["config"]),
        "JUPYTER_DATA_DIR": str(dirs["data"]),
        "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
        "JUPYTERLAB_SETTINGS_DIR": str(dirs["settings"]),
        "JUPYTERLAB_WORKSPACES_DIR": str(dirs["workspaces"]),
        "IPYTHONDIR": str(dirs["ipython"]),
        "XDG_CACHE_HOME": str(dirs["cache"]),
        "MPLCONFIGDIR": str(dirs["cache"] / "matplotlib"),
    }


def _server_env(base: Path, marker: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(_private_jupyter_dirs(base))
    env.update(
        {
            # Spinning OpenMP threads slow everything else on a small shared CPU several-fold.
            "OMP_NUM_THREADS": "1",
            "OMP_WAIT_POLICY": "PASSIVE",
            "NASBENCH_DATA": str(base / "nasbench-data"),
            # Kernels start in root_dir; make sure they import this checkout's packages.
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
            ),
            "PYTHONUNBUFFERED": "1",
            # Every process started under the server inherits this; teardown finds them by it.
            "NASBENCH_BROWSER_TEST": marker,
        }
    )
    env.pop("JUPYTER_PATH", None)
    env.pop("JUPYTER_CONFIG_PATH", None)
    return env


def _start_server(
    base: Path, root_dir: Path, env: dict[str, str], token: str
) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [
        sys.executable, "-m", "jupyter", "lab",
        "--no-browser", "--allow-root",
        "--ip=127.0.0.1", f"--port={port}",
        # Fail instead of silently moving to another port (the URL would then be wrong).
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root_dir}",
        "--ServerApp.terminals_enabled=False",
    ]  # fmt: skip
    log = open(base / "jupyterlab.log", "ab")  # noqa: SIM115 - closed when the server dies
    process = subprocess.Popen(
        command, cwd=root_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    log.close()
    return process, f"http://127.0.0.1:{port}"


def _wait_until_answers(process: subprocess.Popen, url: str, token: str, timeout: float) -> bool:
    """Poll ``/api/status`` until it answers 200; False when the process exits first."""
    deadline = time.monotonic() + timeout
    headers = {"Authorization": f"token {token}"}
    request = urllib.request.Request(f"{url}/api/status", headers=headers)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    raise TimeoutError(f"JupyterLab did not answer at {url} within {timeout:.0f} s")


def _marked_processes(marker: str) -> list[int]:
    """Pids of live processes whose environment carries our marker (Linux /proc only)."""
    pids = []
    needle = f"NASBENCH_BROWSER_TEST={marker}".encode()
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                pids.append(int(entry.name))
        except (OSError, ValueError):
            continue  # gone already, or not ours to read
    return [pid for pid in pids if pid != os.getpid()]


def _kill_all(process: subprocess.Popen, marker: str) -> None:
    """Stop the server, then any kernel or search it started that is still alive.

    SIGTERM first so the server shuts its kernels down cleanly; kernels and searches run in
    sessions of their own, so they are found by the marker in their environment.
    """
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        leftovers = _marked_processes(marker)
        for pid in leftovers:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        if leftovers:
            time.sleep(2)


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """A JupyterLab serving an empty temporary folder; killed (with its kernels) at teardown."""
    reason = browser_skip_reason()
    if reason is not None:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("jupyterlab")
    root_dir = base / "root"
    root_dir.mkdir()
    token = secrets.token_hex(16)
    marker = secrets.token_hex(8)
    env = _server_env(base, marker)
    process = url = None
    try:
        for _attempt in range(3):  # a port picked free can be taken before the server binds it
            process, url = _start_server(base, root_dir, env, token)
            if _wait_until_answers(process, url, token, SERVER_START_TIMEOUT_S):
                break
        else:
            raise RuntimeError(
                "JupyterLab exited before answering:\n"
                + (base / "jupyterlab.log").read_text(errors="replace")[-4000:]
            )
        yield LabServer(url=url, token=token, root_dir=root_dir, log_path=base / "jupyterlab.log")
    finally:
        if process is not None:
            _kill_all(process, marker)


# ------------------------------------------------------------------------ browser


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A headless Chromium with a fresh profile (Playwright BrowserContext).

    Module-scoped: Playwright's sync API keeps an asyncio loop running in this thread
    while it lives, and later tests in the same worker call ``asyncio.run()``.
    """
    reason = browser_skip_reason()
    if reason is not None:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        # Playwright refuses --user-data-dir in args; a persistent context is how it takes one.
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=list(CHROMIUM_ARGS),
            viewport=VIEWPORT,
            ignore_default_args=["--enable-automation"],
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser_context, request: pytest.FixtureRequest) -> Iterator[object]:
    """A new browser tab; screenshotted into the artifacts folder if the test fails."""
    for stale in ARTIFACTS.glob(f"FAILED-{request.node.name}.*"):
        stale.unlink()  # a pass must not leave an older failure's picture behind
    tab = browser_context.new_page()
    tab.set_default_timeout(30_000)
    messages: list[str] = []
    tab.on("console", lambda msg: messages.append(f"{msg.type}: {msg.text}"))
    tab.on("pageerror", lambda exc: messages.append(f"pageerror: {exc}\n{exc.stack or ''}"))
    tab.console_messages = messages  # type: ignore[attr-defined]
    yield tab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        stem = ARTIFACTS / f"FAILED-{request.node.name}"
        try:
            tab.screenshot(path=f"{stem}.png", full_page=True)
        except Exception as exc:  # a dead page must not hide the test's own failure
            messages.append(f"screenshot failed: {exc}")
    else:
        stem = ARTIFACTS / request.node.name
    # Kept for passes too: a console error in a passing run is worth reading.
    Path(f"{stem}.console.txt").write_text("\n".join(messages))
    tab.close()
    if "lab_server" in request.fixturenames:
        request.getfixturevalue("lab_server").shutdown_kernels()


@pytest.fixture
def artifacts() -> Path:
    """The folder browser tests save their screenshots in (created on demand)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
