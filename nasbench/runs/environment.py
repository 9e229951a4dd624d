"""What a run ran on: Python, packages, device, threads and the git commit.

Stored with every run so that a result can be traced to the software that made it.

Example:
    >>> env = capture_environment("cpu")
    >>> env["device"], env["packages"]["torch"] is not None
    ('cpu', True)
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import re
import subprocess
import sys
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from nasbench.errors import ConfigError

# Distribution names whose versions matter for reproducing a search.
PACKAGES = ("torch", "monai", "numpy", "pandas", "scikit-learn", "nasbench-workbench")


def capture_environment(device: Any = None, deterministic: bool | None = None) -> dict[str, Any]:
    """Describe the software and hardware a run uses.

    Args:
        device: the device the search runs on ("cpu", "cuda", "cuda:1", a
            torch.device, "auto" or None for auto).
        deterministic: whether the run asks torch for deterministic kernels (its
            config's ``deterministic``); None records torch's setting at this moment,
            which a search only switches on once it starts.

    Returns:
        A JSON-serialisable dict: python, platform, packages (name -> version or
        None), nasbench_version, nasbench_source (:func:`source_digest`), device, cuda
        (availability, versions, device name), threads, cpu_count, deterministic, git
        (commit and dirty flag, or None).

    Raises:
        ConfigError: ``device`` is no device nasbench runs on, e.g. ``"gpu"``.

    Example:
        >>> capture_environment("cpu")["device"]
        'cpu'
    """
    import torch

    import nasbench

    resolved = device_name(device)
    cuda_available = torch.cuda.is_available()
    cuda: dict[str, Any] = {
        "available": cuda_available,
        "version": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if cuda_available else None,
        "device_count": torch.cuda.device_count() if cuda_available else 0,
        "device_name": None,
    }
    if resolved.startswith("cuda") and cuda_available:
        cuda["device_name"] = torch.cuda.get_device_name(torch.device(resolved))
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "packages": {name: _version(name) for name in PACKAGES},
        "nasbench_version": nasbench.__version__,
        # The version string stays the same between commits: the source tells them apart.
        "nasbench_source": source_digest(),
        # How user folders were split when the run began (see data.patients); a run
        # without it split them image by image.
        "folder_split": "patient",
        # Which folder reader it began under: a run without it read Mac-named class folders,
        # DICOM studies in subfolders and grey images saved as RGB otherwise; a folder: run
        # also records what the reader made of its folder (data.folder_reading.folder_reading).
        "folder_reader": 2,
        # The splits of one pretext task share its fixed choices (one jigsaw permutation
        # set); a run without it drew a set per search half.
        "pretext_choices": "shared",
        "device": resolved,
        "cuda": cuda,
        "threads": torch.get_num_threads(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "cpu_count": os.cpu_count(),
        "deterministic": (
            torch.are_deterministic_algorithms_enabled()
            if deterministic is None
            else bool(deterministic)
        ),
        "git": git_commit(Path(nasbench.__file__).resolve().parent),
    }


@functools.cache
def source_digest() -> str:
    """A digest of the nasbench package's Python files, taken when a process first starts a
    run (or first calls this): two runs with the same digest ran the same code, whatever
    the version string says. Line endings are read as ``\\n``, so a checkout with CRLF
    endings has the digest of the same files with LF ones.

    Returns:
        16 hex digits of a SHA-256 over each ``.py`` file's path and text (~10 ms, once).

    Example:
        >>> len(source_digest())
        16
    """
    return _python_digest(Path(__file__).resolve().parent.parent)


def _python_digest(root: Path) -> str:
    """:func:`source_digest` of the ``.py`` files under ``root``."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return digest.hexdigest()[:16]


def _code(env: dict[str, Any]) -> str | None:
    """The nasbench code a recorded environment ran: its version and source digest."""
    version = env.get("nasbench_version")
    if version is None:
        return None
    source = env.get("nasbench_source")
    # A run recorded without a digest was started by an earlier version than this one.
    return f"{version} (source {source})" if source else f"{version} (earlier, no source digest)"


def environment_changes(recorded: dict[str, Any], now: dict[str, Any]) -> dict[str, list[Any]]:
    """What differs between the environment a run recorded when it started and the one it
    resumes in, of what changes its numbers: torch, nasbench's code and the device type.

    Args:
        recorded: the run's stored environment (a field it lacks is not compared; one
            with a nasbench version but no source digest was made by an earlier nasbench).
        now: :func:`capture_environment` at the resume.

    Returns:
        ``{"torch" | "nasbench" | "device": [then, now]}`` for each field that differs
        (nasbench as ``"<version> (source <digest>)"``).

    Example:
        >>> then = {"packages": {"torch": "1.13.1"}, "nasbench_version": "0.1",
        ...         "nasbench_source": "ab", "device": "cuda:0"}
        >>> now = {"packages": {"torch": "2.3.0"}, "nasbench_version": "0.1",
        ...        "nasbench_source": "ab", "device": "cpu"}
        >>> environment_changes(then, now)
        {'torch': ['1.13.1', '2.3.0'], 'device': ['cuda', 'cpu']}
        >>> environment_changes({**then, "nasbench_source": "cd"}, then)["nasbench"]
        ['0.1 (source cd)', '0.1 (source ab)']
    """

    def fields(env: dict[str, Any]) -> dict[str, Any]:
        packages = env.get("packages") if isinstance(env.get("packages"), dict) else {}
        device = env.get("device")
        return {
            "torch": packages.get("torch"),
            "nasbench": _code(env),
            # The type only: cuda:0 and cuda:1 compute alike.
            "device": str(device).split(":")[0] if device is not None else None,
        }

    then, current = fields(recorded), fields(now)
    return {
        name: [then[name], current[name]]
        for name in then
        if then[name] is not None and then[name] != current[name]
    }


def git_commit(folder: Path) -> dict[str, Any] | None:
    """Return ``{"commit", "dirty"}`` for the git checkout holding ``folder``, or None.

    Args:
        folder: any folder inside the checkout.

    Returns:
        The HEAD commit and whether tracked files differ from it; None when
        ``folder`` is not in a git checkout or git is not installed.

    Example:
        >>> git_commit(Path("/"))  # doctest: +SKIP
    """
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": bool(changes.strip())}


def device_name(device: Any, what: str = "device", visible: bool = False) -> str:
    """The device ``device`` names, checked: ``"cpu"``, ``"cuda"`` or ``"cuda:<n>"``.

    Torch's own errors for a wrong name list 20 device types, and a missing GPU shows
    as "Torch not compiled with CUDA enabled" or as a damaged checkpoint.

    Args:
        device: ``"auto"`` or None (CUDA when a GPU is visible, else the CPU), ``"cpu"``,
            ``"cuda"``, ``"cuda:<n>"`` or a torch.device of those.
        what: the argument's name, for the message.
        visible: also require the GPU it names to be visible on this machine.

    Returns:
        The name, e.g. ``"cuda:1"``.

    Raises:
        ConfigError: another name or object, or (``visible``) a GPU this machine lacks.

    Example:
        >>> device_name("cpu")
        'cpu'
    """
    import torch

    if device is None or (isinstance(device, str) and device == "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    name = str(device) if isinstance(device, (str, torch.device)) else ""
    if not re.fullmatch(r"(cpu|cuda)(:\d+)?", name):
        raise ConfigError(f'{what} must be "auto", "cpu", "cuda" or "cuda:<n>", got {device!r}.')
    index = int(name.partition(":")[2] or 0)
    if visible and name.startswith("cuda") and index >= torch.cuda.device_count():
        seen = torch.cuda.device_count()
        raise ConfigError(
            f'{what} "{name}" was asked for but this machine has {seen or "no"} visible '
            f'GPU{"" if seen == 1 else "s"}; use "auto" or "cpu".'
        )
    return name


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


# The environment record's key of the code outside nasbench a search runs (its modules).
USER_CODE = "user_code"


def import_options(environment: Mapping[str, Any]) -> list[str]:
    """The ``--import MODULE`` options a process needs to resume or retrain a run: the
    modules its environment record names (none for a run of built-in parts only, or one
    recorded before runs recorded them).

    Args:
        environment: the run's recorded environment.

    Returns:
        ``["--import", "mymod", ...]``.

    Example:
        >>> import_options({"user_code": {"modules": ["myext"]}})
        ['--import', 'myext']
    """
    record = environment.get(USER_CODE) if isinstance(environment, Mapping) else None
    modules = record.get("modules") if isinstance(record, Mapping) else None
    if not isinstance(modules, list):
        return []
    return [word for m in modules if isinstance(m, str) for word in ("--import", m)]
