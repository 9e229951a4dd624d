"""Fetch one file over the network: progress bar, MD5 check, atomic write.

A download streams into a temporary file next to the destination and is renamed
into place only after its checksum matched, so an interrupted or corrupted
download never leaves a file that looks complete.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nasbench.errors import DatasetError, DatasetNotFoundError

# opener(url, timeout=seconds) -> a response with .read(n) (and optionally .headers);
# urllib.request.urlopen by default, injectable so tests can serve local files.
Opener = Callable[..., Any]

CHUNK_SIZE = 1 << 20
DEFAULT_TIMEOUT = 30.0


def file_md5(path: str | os.PathLike, chunk_size: int = CHUNK_SIZE) -> str:
    """Return the hex MD5 digest of a file.

    Args:
        path: the file.
        chunk_size: bytes read at a time.

    Returns:
        32 lower-case hex characters.

    Example:
        >>> file_md5("breastmnist.npz")  # doctest: +SKIP
        '750601b1f35ba3300ea97c75c52ff8f6'
    """
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(
    url: str,
    dest: str | os.PathLike,
    md5: str | None = None,
    progress: bool = True,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    opener: Opener | None = None,
    verify: bool = False,
) -> Path:
    """Download ``url`` to ``dest`` unless it is already there.

    Args:
        url: where to fetch the file (``https://``, ``http://`` or ``file://``).
        dest: the final path of the file.
        md5: expected hex MD5 of the file; ``None`` skips the check.
        progress: show a tqdm progress bar on stderr.
        timeout: seconds to wait for the connection and for each read.
        opener: ``opener(url, timeout=...)`` returning a readable response;
            ``urllib.request.urlopen`` by default.
        verify: also check the MD5 of a file that is already on disk (by
            default an existing file is trusted as it is).

    Returns:
        ``dest`` as a Path.

    Raises:
        DatasetNotFoundError: the URL could not be reached (offline, refused,
            HTTP error, timeout).
        DatasetError: the downloaded (or, with ``verify``, the existing) file
            does not match ``md5``.

    Example:
        >>> download(info_url, Path("~/.cache/nasbench/breastmnist.npz"), md5)  # doctest: +SKIP
    """
    dest = Path(dest)
    if dest.exists():
        if verify and md5 is not None:
            _check_existing(dest, md5, url)
        return dest
    folder = dest.parent
    created = _make_folder(folder)
    tmp_name = None
    try:
        with _part_file(dest) as tmp:
            tmp_name = tmp.name
            digest = _fetch(url, tmp, dest, progress, timeout, opener or urllib.request.urlopen)
        if md5 is not None and digest != md5.lower():
            raise DatasetError(
                f"{dest.name} downloaded from {url} has MD5 {digest}, expected {md5}; the file "
                f"was discarded. Try again, or fetch it by hand into {folder}."
            )
        # NamedTemporaryFile creates 0600; a shared data folder needs the file readable by all.
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, dest)
        tmp_name = None
    except BaseException:
        # Also on KeyboardInterrupt: never leave a partial file behind.
        if tmp_name is not None:
            Path(tmp_name).unlink(missing_ok=True)
        _remove_if_empty(created)
        raise
    return dest


def _part_file(dest: Path) -> Any:
    """Open the hidden temporary file a download streams into, beside ``dest``.

    A folder that exists but cannot be written (read-only, another user's) fails here; the
    message names the folder, not the temporary file's random name.
    """
    try:
        return tempfile.NamedTemporaryFile(
            dir=dest.parent, prefix=f".{dest.name}.", suffix=".part", delete=False
        )
    except OSError as exc:
        raise DatasetError(
            f"cannot write {dest.name} into the data folder {dest.parent} "
            f"({exc.strerror or exc}); {_root_advice(dest.parent)}."
        ) from exc


def _fetch(url: str, out: Any, dest: Path, progress: bool, timeout: float, opener: Opener) -> str:
    """Stream ``url`` into ``out``; return the hex MD5 of what was written."""
    from tqdm.auto import tqdm

    try:
        response = opener(url, timeout=timeout)
    except (OSError, ValueError, http.client.HTTPException) as exc:
        # URLError, HTTPError and timeouts are OSErrors; ValueError: malformed URL.
        raise _unreachable(url, dest, exc) from exc
    digest = hashlib.md5()
    with response:
        total = _content_length(response)
        with tqdm(
            total=total, unit="B", unit_scale=True, desc=dest.name, disable=not progress
        ) as bar:
            while True:
                try:
                    chunk = response.read(CHUNK_SIZE)
                except (OSError, http.client.HTTPException) as exc:  # dropped or timed out
                    raise _unreachable(url, dest, exc) from exc
                if not chunk:
                    break
                try:
                    out.write(chunk)
                except OSError as exc:  # a full disk, a quota
                    raise DatasetError(
                        f"cannot write {dest.name} into the data folder {dest.parent} "
                        f"({exc.strerror or exc}); free some space there, or "
                        f"{_root_advice(dest.parent)}."
                    ) from exc
                digest.update(chunk)
                bar.update(len(chunk))
    return digest.hexdigest()


def _unreachable(url: str, dest: Path, exc: BaseException) -> DatasetNotFoundError:
    reason = getattr(exc, "reason", None) or exc
    return DatasetNotFoundError(
        f"{dest.name} is not in {dest.parent} and could not be downloaded ({reason}). "
        f"Fetch it by hand from {url} into {dest.parent}, "
        "or pass root= to the folder that holds it."
    )


def _content_length(response: Any) -> int | None:
    headers = getattr(response, "headers", None)
    value = headers.get("Content-Length") if headers is not None else None
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _check_existing(path: Path, md5: str, url: str) -> None:
    try:
        actual = file_md5(path)
    except OSError as exc:  # permissions, a folder under the name: the file may be whole
        raise DatasetError(
            f"cannot read {path} to check its MD5 ({exc.strerror or exc}); fix its "
            "permissions, or move what has its name, then load again."
        ) from exc
    if actual != md5.lower():
        raise DatasetError(
            f"{path} has MD5 {actual}, expected {md5}; delete it and load again to "
            f"re-download it from {url}."
        )


def _root_advice(folder: Path) -> str:
    """What to change so that data goes to another folder: dataset.root, or the environment
    variable when that is what named ``folder``."""
    advice = "set dataset.root (--root, or root= in Python) to a folder you can write to"
    named = os.environ.get("NASBENCH_DATA")
    if named and (Path(named).expanduser() == folder or Path(named).expanduser() in folder.parents):
        advice += f", or change $NASBENCH_DATA (now {named!r})"
    return advice


def _make_folder(folder: Path) -> list[Path]:
    """Create ``folder`` if needed; return the folders made here, deepest first."""
    if folder.is_dir():
        return []
    made = []
    parent = folder
    while not parent.exists() and parent != parent.parent:
        made.append(parent)
        parent = parent.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        what = "a file has that name" if folder.exists() else (exc.strerror or str(exc))
        raise DatasetError(
            f"cannot create the data folder {folder} ({what}); {_root_advice(folder)}."
        ) from exc
    return made


def _remove_if_empty(folders: list[Path]) -> None:
    """Remove the folders a failed download made, deepest first, while they are empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return  # not empty or already gone: leave it and every folder above
