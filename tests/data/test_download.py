"""download(): MD5 check, atomic write, clean failure. Only local files and 127.0.0.1."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from nasbench.data.download import download, file_md5
from nasbench.errors import DatasetError, DatasetNotFoundError

PAYLOAD = bytes(range(256)) * 5000  # 1.28 MB: more than one read chunk
PAYLOAD_MD5 = hashlib.md5(PAYLOAD).hexdigest()
# Ignore any proxy settings of the machine: tests talk only to local files and 127.0.0.1.
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({})).open


@pytest.fixture
def served(tmp_path) -> Path:
    folder = tmp_path / "server"
    folder.mkdir()
    (folder / "blob.npz").write_bytes(PAYLOAD)
    return folder


@pytest.fixture
def http_url(served):
    handler = functools.partial(QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_file_url_download_with_matching_md5(tmp_path, served):
    dest = tmp_path / "cache" / "blob.npz"
    out = download((served / "blob.npz").as_uri(), dest, PAYLOAD_MD5, progress=False, opener=LOCAL)
    assert out == dest and dest.read_bytes() == PAYLOAD
    assert leftovers(dest.parent) == ["blob.npz"]
    assert file_md5(dest) == PAYLOAD_MD5
    assert dest.stat().st_mode & 0o777 == 0o644


def test_http_download_with_progress_bar(tmp_path, http_url, capsys):
    dest = tmp_path / "cache" / "blob.npz"
    download(f"{http_url}/blob.npz", dest, PAYLOAD_MD5, progress=True, opener=LOCAL)
    assert dest.read_bytes() == PAYLOAD
    assert "blob.npz" in capsys.readouterr().err  # tqdm writes the bar on stderr


def test_wrong_md5_discards_the_download(tmp_path, http_url):
    dest = tmp_path / "cache" / "blob.npz"
    with pytest.raises(DatasetError, match=f"has MD5 {PAYLOAD_MD5}, expected 0+") as err:
        download(f"{http_url}/blob.npz", dest, "0" * 32, progress=False, opener=LOCAL)
    assert not isinstance(err.value, DatasetNotFoundError)
    assert "\n" not in str(err.value)
    assert leftovers(dest.parent) == []


def test_http_404_is_a_not_found_error_naming_the_url(tmp_path, http_url):
    dest = tmp_path / "cache" / "missing.npz"
    with pytest.raises(DatasetNotFoundError, match="Fetch it by hand from http://127.0.0.1"):
        download(f"{http_url}/missing.npz", dest, None, progress=False, opener=LOCAL)
    assert leftovers(tmp_path / "cache") == []


def test_offline_error_names_file_folder_and_url(tmp_path):
    def offline(url, timeout):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    cache = tmp_path / "cache"
    cache.mkdir()
    url = "https://example.org/files/blob.npz?download=1"
    with pytest.raises(DatasetNotFoundError) as err:
        download(url, cache / "blob.npz", PAYLOAD_MD5, progress=False, opener=offline)
    message = str(err.value)
    assert "\n" not in message
    assert "blob.npz" in message and str(cache) in message and url in message
    assert "name resolution" in message
    assert leftovers(cache) == []


def test_a_folder_created_for_a_failed_download_is_removed(tmp_path):
    def refused(url, timeout):
        raise ConnectionRefusedError("refused")

    with pytest.raises(DatasetNotFoundError):
        download("http://127.0.0.1:9/x.npz", tmp_path / "new" / "x.npz", None, opener=refused)
    assert not (tmp_path / "new").exists()
    # Every folder made for it goes, deepest first; one that was there stays.
    (tmp_path / "kept").mkdir()
    with pytest.raises(DatasetNotFoundError):
        download("http://127.0.0.1:9/x.npz", tmp_path / "kept" / "a" / "b" / "x.npz", None,
                 opener=refused)  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept"]
    assert not any((tmp_path / "kept").iterdir())


def interrupted_response(error: type[BaseException]) -> io.BytesIO:
    """A response that delivers one chunk, then fails with ``error`` (Ctrl-C, timeout)."""

    class Response(io.BytesIO):
        headers = {"Content-Length": str(len(PAYLOAD))}

        def read(self, size=-1):
            if self.tell() > 0:
                raise error("stopped")
            return super().read(size)

    return Response(PAYLOAD)


@pytest.mark.parametrize(
    ("error", "raised"),
    [(KeyboardInterrupt, KeyboardInterrupt), (TimeoutError, DatasetNotFoundError)],
)
def test_interrupted_download_leaves_nothing(tmp_path, error, raised):
    cache = tmp_path / "cache"
    cache.mkdir()
    with pytest.raises(raised):
        download(
            "https://example.org/blob.npz",
            cache / "blob.npz",
            PAYLOAD_MD5,
            progress=False,
            opener=lambda url, timeout: interrupted_response(error),
        )
    assert leftovers(cache) == []


def test_existing_file_is_trusted_unless_verify(tmp_path):
    dest = tmp_path / "blob.npz"
    dest.write_bytes(b"a file the person put here")

    def unreachable(url, timeout):
        raise AssertionError("must not download an existing file")

    assert download("https://example.org/blob.npz", dest, PAYLOAD_MD5, opener=unreachable) == dest
    with pytest.raises(DatasetError, match=r"blob\.npz has MD5 .* delete it"):
        download("https://example.org/blob.npz", dest, PAYLOAD_MD5, opener=unreachable, verify=True)
    assert dest.exists()  # never deletes the person's file


def test_timeout_is_passed_to_the_opener(tmp_path, served):
    seen = {}

    def opener(url, timeout):
        seen["timeout"] = timeout
        return LOCAL(url, timeout=timeout)

    download(
        (served / "blob.npz").as_uri(), tmp_path / "b.npz", None, False, opener=opener, timeout=4.5
    )
    assert seen == {"timeout": 4.5}


@pytest.mark.parametrize("made_here", [False, True])
def test_a_folder_that_cannot_be_written_is_named_not_the_temporary_file(
    tmp_path, monkeypatch, made_here
):
    # Tests may run as root, for whom a read-only folder is writable: the refusal is staged.
    import tempfile

    folder = tmp_path / ("new" if made_here else "ro")
    if not made_here:
        folder.mkdir()

    def read_only(*args, dir=None, prefix="", suffix="", **kwargs):
        raise PermissionError(13, "Permission denied", f"{dir}/{prefix}xgajqvyn{suffix}")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", read_only)

    def no_network(url, timeout):
        raise AssertionError("nothing is fetched before the file can be written")

    with pytest.raises(DatasetError) as err:
        download("https://example.org/blob.npz", folder / "blob.npz", PAYLOAD_MD5,
                 progress=False, opener=no_network)  # fmt: skip
    message = str(err.value)
    assert "\n" not in message and ".part" not in message and "xgajqvyn" not in message
    assert f"data folder {folder} (Permission denied)" in message
    assert "to a folder you can write to" in message
    # A folder made for the download goes again; one that was there stays, empty.
    assert leftovers(tmp_path) == ([] if made_here else ["ro"])
    assert leftovers(folder) == []


def test_a_full_disk_mid_download_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    import tempfile

    real = tempfile.NamedTemporaryFile

    class FullDisk:
        def __init__(self, handle):
            self.handle, self.name = handle, handle.name

        def write(self, chunk):
            raise OSError(28, "No space left on device")

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", lambda **kw: FullDisk(real(**kw)))
    with pytest.raises(DatasetError) as err:
        download("https://example.org/blob.npz", tmp_path / "blob.npz", PAYLOAD_MD5,
                 progress=False, opener=lambda url, timeout: io.BytesIO(PAYLOAD))  # fmt: skip
    assert str(err.value) == (
        f"cannot write blob.npz into the data folder {tmp_path} (No space left on device); "
        "free some space there, or set dataset.root (--root, or root= in Python) to a folder "
        "you can write to."
    )
    assert leftovers(tmp_path) == []


def test_a_data_folder_named_by_the_environment_says_so(tmp_path, monkeypatch):
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    monkeypatch.setenv("NASBENCH_DATA", str(blocker))
    with pytest.raises(DatasetError) as err:
        download("https://example.org/x.npz", blocker / "x.npz", None, progress=False,
                 opener=lambda url, timeout: io.BytesIO(b""))  # fmt: skip
    assert str(err.value).endswith(f", or change $NASBENCH_DATA (now {str(blocker)!r}).")


def test_verifying_a_file_that_cannot_be_read_is_not_called_damaged(tmp_path):
    folder = tmp_path / "blob.npz"
    folder.mkdir()  # a folder under the file's name: reading it fails
    with pytest.raises(DatasetError) as err:
        download("https://example.org/blob.npz", folder, PAYLOAD_MD5, verify=True,
                 opener=lambda url, timeout: io.BytesIO(PAYLOAD))  # fmt: skip
    assert str(err.value).startswith(f"cannot read {folder} to check its MD5 (")
    assert "fix its permissions, or move what has its name" in str(err.value)
