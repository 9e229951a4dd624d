"""Pick a dataset: registry dropdown, info card, sample images per class, download.

The picker only reads the registry (``nasbench.data``); loading and downloading
go through ``nasbench.data.load``. A MedMNIST download runs in a background
thread and feeds the progress bar through a counting ``opener`` (the hook that
``load`` offers for MedMNIST files), so the kernel stays free while it runs.
"""

from __future__ import annotations

import base64
import html
import io
import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import numpy as np
import traitlets

from nasbench import data
from nasbench.data.folder import GENERIC_INFO
from nasbench.data.medmnist import split_sizes
from nasbench.errors import DatasetError, NasbenchError
from widgets._layout import wrapping_row
from widgets._svg import message_html

ALL = "all"
# Class names the info card lists; every MedMNIST set (ChestMNIST's 14 labels, OrganMNIST's
# 11 organs) fits, and a folder of hundreds of classes says how many it leaves out.
CLASS_NAMES_SHOWN = 20


def dataset_options(task: str = ALL, dims: str | int = ALL) -> list[tuple[str, str]]:
    """Dropdown options ``(label, name)``, grouped by task then dims, optionally filtered.

    Args:
        task: a task name or ``"all"``.
        dims: 2, 3 or ``"all"``.

    Returns:
        Options sorted by (task, dims, name); labels read ``"binary · 2D · breastmnist"``.
        Not the path-less ``folder`` entry: it has no images until a folder is named
        (``folder:<path>``), and the picker has no box to name one.

    Example:
        >>> ("binary · 2D · synthetic", "synthetic") in dataset_options("binary", 2)
        True
        >>> "folder" in [name for _, name in dataset_options()]
        False
    """
    infos = data.list_datasets(
        task=None if task == ALL else task, spatial_dims=None if dims == ALL else int(dims)
    )
    infos = [i for i in infos if i.name != GENERIC_INFO.name]
    order = {t: i for i, t in enumerate(data.TASKS)}
    infos.sort(key=lambda i: (order.get(i.task, 99), i.spatial_dims, i.name))
    return [(f"{i.task} · {i.spatial_dims}D · {i.name}", i.name) for i in infos]


def info_card(
    info: data.DatasetInfo, cached: bool, root: Any = None, size: int | None = None
) -> str:
    """Return an HTML card with what a person needs to know about a dataset.

    Args:
        info: the registry entry.
        cached: whether its files are on disk.
        root: data folder whose file the split sizes are read from
            (:func:`nasbench.data.medmnist.split_sizes`).
        size: image size whose file is meant (default the smallest).

    Returns:
        HTML text (a two-column table).

    Example:
        >>> "<th" in info_card(data.get_info("synthetic"), cached=True)
        True
        >>> "classes</th><td>-</td>" in info_card(data.get_info("synthetic-recon"), cached=True)
        True
    """
    splits = split_sizes(info, cached, root, size)
    names = info.class_names
    left_out = len(names) - CLASS_NAMES_SHOWN
    classes = "; ".join(names[: CLASS_NAMES_SHOWN if left_out > 0 else None]) + (
        f" … and {left_out} more" if left_out > 0 else ""
    )
    # A person's own folder is never downloaded: not on disk, it was moved or deleted.
    missing = "no (the folder is missing)" if info.source == "folder" else "no (download it below)"
    rows = [
        ("task", info.task),
        ("modality", info.modality),
        ("images", f"{info.spatial_dims}D, {info.in_channels} channel(s), sizes "
         + ", ".join(map(str, info.sizes))),
        ("classes", f"{info.num_classes}: {classes}" if info.num_classes else "-"),
        ("splits", splits),
        ("licence", info.licence or "-"),
        ("cached", "yes" if cached else missing),
        ("citation", info.citation or "-"),
        ("about", info.description or "-"),
    ]  # fmt: skip
    body = "".join(
        f"<tr><th style='text-align:left;padding-right:1em;vertical-align:top'>{k}</th>"
        f"<td>{html.escape(str(v))}</td></tr>"
        for k, v in rows
    )
    return f"<table class='nasbench-info-table'>{body}</table>"


def _png_data_uri(image: np.ndarray) -> str:
    """An image (C,H,W) or (C,D,H,W) in [0, 1] as a PNG data URI (middle slice for 3D).

    Images up to 64 px are drawn at twice their size so that a 28 px one can be read;
    larger ones at their own size (six 224 px images at twice it make a 2,700 px row).
    """
    from PIL import Image

    array = np.asarray(image, dtype=np.float32)
    if array.ndim == 4:  # 3D volume: show the middle axial slice
        array = array[:, array.shape[1] // 2]
    scale = 2 if max(array.shape[1:]) <= 64 else 1
    array = array[:3] if array.shape[0] >= 3 else array[:1]
    lo, hi = float(array.min()), float(array.max())
    array = (array - lo) / (hi - lo) if hi > lo else np.zeros_like(array)
    pixels = (array.transpose(1, 2, 0) * 255).astype(np.uint8)
    mode = "RGB" if pixels.shape[2] == 3 else "L"
    picture = Image.fromarray(pixels[..., 0] if mode == "L" else pixels, mode)
    picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def sample_grid(name: str, size: int, per_class: int = 6, root: Any = None, seed: int = 0) -> str:
    """Return an HTML grid of sample training images, one row per class.

    Args:
        name: a registry name whose files are on disk.
        size: image size to load.
        per_class: images shown per class.
        root: data folder (default ``NASBENCH_DATA``).
        seed: picks the samples.

    Returns:
        HTML text with inline PNG images. A reconstruction set shows its targets (the
        fully sampled magnitude images), not its inputs: their channels (real, imaginary,
        mask or k-space) would read as one false-colour picture.

    Raises:
        NasbenchError: the files are missing (``load(..., download=False)``).
    """
    info = data.get_info(name)
    n_rows = max(1, info.num_classes) if info.task in ("binary", "multi-class", "ordinal") else 1
    ds = data.load(
        name, "train", root=root, size=size, download=False, transform=None,
        limit=min(per_class * n_rows * 4, 256), seed=seed,
    )  # fmt: skip
    # Only a classifier's targets are class indices (a detection set's are box counts).
    targets = ds.targets if info.task in ("binary", "multi-class", "ordinal") else None
    recon = info.task == "reconstruction"
    shown = 1 if recon else 0  # which item of a sample is drawn: (input, target)
    rows: dict[str, list[int]] = {}
    for index in range(len(ds)):
        if targets is not None and np.ndim(targets) == 1:
            target = int(targets[index])
            named = 0 <= target < len(info.class_names)
            label = info.class_names[target] if named else f"class {target}"
        else:
            label = "targets (fully sampled magnitude images)" if recon else "samples"
        slot = rows.setdefault(label, [])
        if len(slot) < per_class:
            slot.append(index)
        if len(rows) >= n_rows and all(len(v) >= per_class for v in rows.values()):
            break
    parts = []
    for label, indices in rows.items():
        images = "".join(
            f"<img src='{_png_data_uri(ds[i][shown].numpy())}' style='margin:1px' "
            f"title='{html.escape(label)} #{i}'/>"
            for i in indices
        )
        parts.append(f"<div><div style='font-size:85%'>{html.escape(label)}</div>{images}</div>")
    return "<div class='nasbench-sample-grid'>" + "".join(parts) + "</div>"


class _CountingResponse:
    """Wraps an HTTP response; reports bytes read so far to a callback."""

    def __init__(self, response: Any, report: Callable[[int, int | None], None]) -> None:
        self._response = response
        self._report = report
        self._done = 0
        self.headers = getattr(response, "headers", None)
        length = self.headers.get("Content-Length") if self.headers is not None else None
        self._total = int(length) if length and str(length).isdigit() else None

    def read(self, n: int = -1) -> bytes:
        chunk = self._response.read(n)
        self._done += len(chunk)
        self._report(self._done, self._total)
        return chunk

    def __enter__(self) -> _CountingResponse:
        return self

    def __exit__(self, *exc: Any) -> None:
        close = getattr(self._response, "close", None)
        if close is not None:
            close()


class DatasetPicker(widgets.VBox):
    """Choose a registered dataset, see what it is, look at samples, download it.

    Args:
        root: data folder (default ``$NASBENCH_DATA`` or ~/.cache/nasbench).
        value: initial dataset name: a registered one, or ``folder:<path>`` for an image
            folder (registered on first use).
        opener: ``opener(url, timeout=...)`` used for downloads (default urllib); tests
            pass one that serves a local file or fails like an offline machine.
        show_samples: draw the sample grid when a dataset is picked.

    Raises:
        DatasetError: ``value`` names no registered dataset (or no readable folder).

    Attributes:
        dataset: the chosen name (a traitlet; observe it to follow the choice).
        size: the chosen image size (a traitlet).

    Example:
        >>> picker = DatasetPicker()
        >>> picker.dropdown.value = "synthetic"
        >>> picker.dataset
        'synthetic'
    """

    dataset = traitlets.Unicode("synthetic")
    size = traitlets.Int(28)

    def __init__(
        self,
        root: Any = None,
        value: str = "synthetic",
        opener: Callable[..., Any] | None = None,
        show_samples: bool = True,
    ) -> None:
        self.root = root
        self.opener = opener
        self.task = widgets.Dropdown(options=[ALL, *data.TASKS], value=ALL, description="task")
        self.dims = widgets.Dropdown(
            options=[(ALL, ALL), ("2D", 2), ("3D", 3)], value=ALL, description="dims"
        )
        self.dropdown = widgets.Dropdown(
            options=dataset_options(),
            description="dataset",
            layout=widgets.Layout(width="460px", max_width="100%"),
        )
        self.dropdown.add_class("nasbench-dataset")
        self.size_picker = widgets.Dropdown(options=[28], value=28, description="size")
        self.filter_note = widgets.HTML()  # says when the filters match no dataset
        self.filter_note.add_class("nasbench-dataset-filter-note")
        self.card = widgets.HTML()
        self.card.add_class("nasbench-dataset-card")
        self.samples_toggle = widgets.Checkbox(value=show_samples, description="show samples")
        self.samples = widgets.HTML()
        self.samples.add_class("nasbench-samples")
        self.download_button = widgets.Button(description="Download", icon="download")
        self.download_button.add_class("nasbench-download")
        self.progress = widgets.IntProgress(value=0, min=0, max=100, description="download")
        self.progress.layout.visibility = "hidden"
        self.message = widgets.HTML()
        self.message.add_class("nasbench-dataset-message")
        self._thread: threading.Thread | None = None
        self._downloading = ""  # the dataset the running download fetches
        self._failed: tuple[str, int] | None = None  # (name, size) whose download failed
        self._closed = False  # a download that ends after close() shows nothing

        self.task.observe(self._filter, "value")
        self.dims.observe(self._filter, "value")
        self.dropdown.observe(self._on_name, "value")
        self.size_picker.observe(self._on_size, "value")
        self.samples_toggle.observe(lambda _: self.refresh(), "value")
        self.download_button.on_click(lambda _: self.download())
        super().__init__(
            children=[
                wrapping_row([self.task, self.dims]),
                wrapping_row([self.dropdown, self.size_picker]),
                self.filter_note,
                self.card,
                wrapping_row([self.download_button, self.progress]),
                self.message,
                self.samples_toggle,
                self.samples,
            ]
        )
        self.add_class("nasbench-dataset-picker")
        if value not in dict((v, k) for k, v in self.dropdown.options):
            # An unknown name raises the registry's one-line error rather than showing
            # another dataset; a new "folder:<path>" is registered here, so list it.
            value = data.get_info(value).name
            if value == GENERIC_INFO.name:  # registered, but not offered: no folder named
                raise DatasetError(
                    f"dataset {value!r} needs the folder of your images; pass "
                    "value='folder:your/folder', or pick a dataset from the list."
                )
            self.dropdown.options = dataset_options()
        self.dropdown.value = value
        self._on_name()

    # ------------------------------------------------------------------ state
    @property
    def info(self) -> data.DatasetInfo:
        """The chosen dataset's :class:`~nasbench.data.DatasetInfo`."""
        return data.get_info(self.dataset)

    def dataset_config(self) -> dict[str, Any]:
        """The ``dataset`` part of a SearchConfig for the current choice."""
        out: dict[str, Any] = {"name": self.dataset, "size": self.size}
        if self.root is not None:
            out["root"] = str(self.root)
        return out

    def is_cached(self) -> bool:
        """Whether the chosen dataset at the chosen size is on disk."""
        return data.is_cached(self.dataset, self.root, self.size)

    # ---------------------------------------------------------------- events
    def _filter(self, _: Any = None) -> None:
        current = self.dataset  # the dropdown is empty while a filter matches nothing
        options = dataset_options(self.task.value, self.dims.value)
        self.dropdown.options = options
        names = [v for _, v in options]
        if current in names:
            self.dropdown.value = current
        elif names:
            self.dropdown.value = names[0]
        if names:
            self.filter_note.value = ""
            return
        self.filter_note.value = message_html(
            f"no dataset matches task {self.task.label} and dims {self.dims.label}; change "
            f"a filter. {current} stays chosen (shown below).",
            "warning",
        )

    def _on_name(self, _: Any = None) -> None:
        if self.dropdown.value is None:
            return
        info = data.get_info(self.dropdown.value)
        sizes = list(info.sizes)
        size = self.size if self.size in sizes else sizes[0]
        self._switching = True  # the size picker's own change must not load the old set
        try:
            with self.hold_trait_notifications():
                self.size_picker.options = sizes
                self.size_picker.value = size
                self.size = size
                self.dataset = info.name
        finally:
            self._switching = False
        self.message.value = ""
        self._failed = None  # its message is gone with it
        self.refresh()

    def _on_size(self, change: dict) -> None:
        if change["new"] is not None and not getattr(self, "_switching", False):
            self.size = int(change["new"])
            self.refresh()

    def refresh(self) -> None:
        """Redraw the info card, the download button and the samples for the current choice."""
        info = self.info
        cached = self.is_cached()
        # A person's own folder is never downloaded: missing, it was moved or deleted.
        gone = not cached and info.source == "folder"
        self.card.value = info_card(info, cached, self.root, self.size)
        self.download_button.disabled = cached or gone
        self.download_button.description = (
            "On disk" if cached else "Missing" if gone else "Download"
        )
        if gone:
            self.samples.value = message_html(
                f"the folder {info.name.removeprefix('folder:')} is gone (moved or deleted): "
                "put it back, or choose another dataset.",
                "warning",
            )
        elif not self.samples_toggle.value:
            self.samples.value = ""
        elif not cached and self._failed == (info.name, self.size):
            self.samples.value = message_html(
                f"{info.name} ({self.size}px) is still not on disk: the download failed. "
                "Fetch the file by hand as the message above says (or fix what it names and "
                "click Download again), then the sample images appear here.",
                "info",
            )
        elif not cached:
            self.samples.value = message_html(
                f"{info.name} ({self.size}px) is not on disk yet: click Download to fetch it, "
                "then the sample images appear here.",
                "info",
            )
        else:
            try:
                self.samples.value = sample_grid(info.name, self.size, root=self.root)
            except NasbenchError as err:
                self.samples.value = message_html(str(err), "error")

    # -------------------------------------------------------------- download
    def _report(self, done: int, total: int | None) -> None:
        if self._closed:
            return
        if total:
            self.progress.value = min(100, int(100 * done / total))
        self.progress.description = f"{done / 1e6:.1f} MB"

    def _opener(self, url: str, timeout: float = 30.0) -> _CountingResponse:
        if self.opener is not None:
            response = self.opener(url, timeout=timeout)
        else:
            import urllib.request

            response = urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 - https URL
        return _CountingResponse(response, self._report)

    def _download(self) -> None:
        info, size = self.info, self.size
        options: dict[str, Any] = {}
        if info.source == "medmnist":
            # MedMNIST's loader takes an opener; ours counts bytes for the progress bar.
            options = {"opener": self._opener, "progress": False}
        done, said = False, ""
        try:
            data.load(info.name, "train", root=self.root, size=size, download=True, **options)
            done = True
        except NasbenchError as err:
            said = message_html(str(err), "error")
        except OSError as err:  # the data folder cannot be made (a file by that name, no rights)
            where = f" ({err.filename})" if err.filename else ""
            said = message_html(
                f"cannot write the data folder{where}: {err.strerror or err}; choose a data "
                "folder you can write to (NASBENCH_DATA or root=).",
                "error",
            )
        except Exception as err:  # noqa: BLE001 - a thread must say why it ended, not die
            said = message_html(f"download failed: {type(err).__name__}: {err}", "error")
        finally:  # a Ctrl-C (download(block=True)) too: it says so, then goes on up
            self._downloading = ""
            if not self._closed:  # closed meanwhile: the files stay, its widgets are gone
                self._show_outcome(info.name, size, done, said)

    def _show_outcome(self, name: str, size: int, done: bool, said: str) -> None:
        # A failure says why; an interrupted download (Ctrl-C) says nothing and is just retried.
        self._failed = (name, size) if said else None
        if done:
            self.progress.value = 100
            said = message_html(f"{name} is on disk.", "info")
        elif not said:
            said = message_html(
                f"the download of {name} was interrupted; download again.", "warning"
            )
        self.message.value = said
        # This download's outcome: the picker may show another dataset by now.
        self.progress.bar_style = "" if done else "danger"
        # A failed download's bar (empty, or stopped part way) says nothing the message does not.
        self.progress.layout.visibility = "visible" if done else "hidden"
        self.refresh()

    def download(self, block: bool = False) -> None:
        """Fetch the chosen dataset's files; errors (offline) show as a one-line message.

        Args:
            block: wait for the download to end (tests); by default it runs in a thread.

        Returns:
            None.
        """
        if self._thread is not None and self._thread.is_alive():
            self.message.value = message_html(
                f"{self._downloading} is still downloading; download {self.dataset} when it "
                "has finished.",
                "warning",
            )
            return
        self._downloading = self.dataset
        if self._failed is not None:  # trying again: the samples line no longer says it failed
            self._failed = None
            self.refresh()
        self.progress.layout.visibility = "visible"
        self.progress.value = 0
        self.message.value = message_html(f"downloading {self.dataset} …", "info")
        if block:
            self._download()
            return
        self._thread = threading.Thread(target=self._download, daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        """Wait for a background download to end."""
        if self._thread is not None:
            self._thread.join(timeout)

    def close(self) -> None:
        """Close every widget of the picker (idempotent). A download still running goes on
        in its thread (the files it fetches are kept) but shows nothing any more.

        Example:
            >>> DatasetPicker(show_samples=False).close()
        """
        if self.comm is None:
            return  # closed already (ipywidgets' __del__ calls close again)
        try:
            from widgets._figures import close_widgets  # plotly: imported with the first figure
        except ImportError:  # Python exits (this is ipywidgets' __del__): nothing to free
            return
        self._closed = True
        close_widgets(self)
