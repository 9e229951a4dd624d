"""Datasets by name: one :class:`DatasetInfo` and one loader per name.

Sources (MedMNIST, the synthetic default, MONAI sets, user folders) register
their entries in the ``"dataset"`` registry of :mod:`nasbench.registry` when
``nasbench.data`` is imported; ``load`` looks a name up there, so the CLI, the
widgets and the tests all see the same list.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nasbench import registry
from nasbench.errors import DatasetError, closest_name

TASKS = (
    "binary",
    "multi-class",
    "multi-label",
    "ordinal",
    "segmentation",
    "detection",
    "reconstruction",
    "regression",  # pretext tasks that predict pixels (nasbench.data.pretext)
    "localisation",
)
BASE_SPLITS = ("train", "val", "test")
SEARCH_SPLITS = ("search_train", "search_val")
SPLITS = BASE_SPLITS + SEARCH_SPLITS


@dataclass(frozen=True)
class DatasetInfo:
    """What a person needs to know about a dataset before using it.

    Attributes:
        name: registry name, lower case (``"breastmnist"``).
        task: one of ``TASKS``.
        modality: imaging modality in words (``"ultrasound"``, ``"CT"``).
        spatial_dims: 2 or 3.
        in_channels: image channels.
        num_classes: classes (label columns for multi-label; mask classes,
            background included, for segmentation; 0 for reconstruction).
        class_names: one name per class.
        splits: official split sizes, ``{"train": n, "val": n, "test": n}``.
        sizes: available image sizes (edge length in pixels or voxels).
        licence: licence of the data.
        citation: how to cite it.
        source: ``"medmnist"``, ``"synthetic"``, ``"monai"`` or ``"folder"``.
        description: a paragraph on what the images show.
        homepage: where the data comes from.
    """

    name: str
    task: str
    modality: str
    spatial_dims: int
    in_channels: int
    num_classes: int
    class_names: tuple[str, ...]
    splits: dict[str, int] = field(default_factory=dict, hash=False)
    sizes: tuple[int, ...] = (28,)
    licence: str = ""
    citation: str = ""
    source: str = ""
    description: str = ""
    homepage: str = ""

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise DatasetError(f"{self.name}: task {self.task!r} is not one of {', '.join(TASKS)}.")
        if self.spatial_dims not in (2, 3):
            raise DatasetError(
                f"{self.name}: spatial_dims must be 2 or 3, got {self.spatial_dims}."
            )

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict of every field."""
        out = asdict(self)
        out["class_names"] = list(self.class_names)
        out["sizes"] = list(self.sizes)
        return out


# A loader builds the dataset of one base split:
#   loader(info, split, root: Path, size: int, download: bool, **options) -> Dataset
Loader = Callable[..., Any]
# is_cached(info, root: Path, size: int) -> bool
CacheCheck = Callable[[DatasetInfo, Path, int], bool]


@dataclass(frozen=True)
class DatasetEntry:
    """A registered dataset: its info, how to load it, and how to tell it is on disk."""

    info: DatasetInfo
    loader: Loader
    is_cached: CacheCheck


def reject_unknown_options(name: str, options: Mapping[str, Any], known: Iterable[str]) -> None:
    """Refuse, in one line, the first loader option ``name`` does not take: a mistyped
    option is an error, never silently ignored.

    Args:
        name: the dataset's name, for the message.
        options: the ``**options`` the loader was given.
        known: the option names it takes (may be empty).

    Raises:
        DatasetError: naming the option and listing the known ones.

    Example:
        >>> reject_unknown_options("breastmnist", {"verify": True}, ("opener", "verify"))
        >>> reject_unknown_options("breastmnist", {"verfy": True}, ("opener", "verify"))
        Traceback (most recent call last):
        ...
        nasbench.errors.DatasetError: breastmnist has no option 'verfy'; its options: opener, verify. Did you mean 'verify'?
    """  # noqa: E501
    known = tuple(known)
    for key in options:
        if key not in known:
            listing = f"its options: {', '.join(known)}" if known else "it takes none; remove it"
            raise DatasetError(
                f"{name} has no option {key!r}; {listing}.{closest_name(str(key), known)}"
            )


def register_dataset(
    info: DatasetInfo, loader: Loader, is_cached: CacheCheck | None = None
) -> None:
    """Add a dataset to the registry.

    Args:
        info: its description; ``info.name`` is the key.
        loader: ``loader(info, split, root, size, download, **options)`` returning a
            torch Dataset for one of ``BASE_SPLITS``.
        is_cached: ``is_cached(info, root, size)``; defaults to "always available"
            (right for generated data).

    Raises:
        DatasetError: ``info`` is no DatasetInfo, ``loader`` or ``is_cached`` is no
            function, or ``info.name`` is a built-in dataset's (registering the same user
            name again replaces it).

    Example:
        >>> register_dataset(info, my_loader)  # doctest: +SKIP
    """
    if not isinstance(info, DatasetInfo):
        raise DatasetError(
            f"register_dataset needs a DatasetInfo as info, got {type(info).__name__}; "
            "build one with DatasetInfo(name=..., task=..., modality=..., ...)."
        )
    for what, fn in (("loader", loader), ("is_cached", is_cached)):
        if not callable(fn) and not (what == "is_cached" and fn is None):
            raise DatasetError(
                f"register_dataset's {what} must be a function, got {type(fn).__name__}; "
                "see help(register_dataset) for its arguments."
            )
    if registry.is_registered("dataset", info.name):
        old = registry.get("dataset", info.name).obj
        # A user's set under a built-in name would be recorded by a search as the built-in
        # one, which a retrain or resume in another process then reads. Re-registering a
        # user's own name (a cell run twice, a folder registered again) replaces it.
        if _is_builtin(old) and not _is_builtin(DatasetEntry(info, loader, is_cached)):
            what = "folder" if info.source == "folder" else "dataset"
            raise DatasetError(
                f"{info.name!r} is the name of a built-in dataset; register your {what} "
                "under another name."
            )
    entry = DatasetEntry(info, loader, is_cached or (lambda info, root, size: True))
    registry.register(
        "dataset", info.name, entry, kind=info.task, summary=info.modality, replace=True
    )


def _is_builtin(entry: DatasetEntry) -> bool:
    """A built-in set: read by the workbench's own loader, and not a user folder (which
    has one too)."""
    loader = getattr(entry.loader, "func", entry.loader)  # a functools.partial's function
    return entry.info.source != "folder" and registry.is_builtin(loader)


def dataset_names() -> list[str]:
    """Return every registered name, sorted."""
    return list(registry.names("dataset"))


# ``folder:<path>`` names a user folder by itself, so a config that carries it works in any
# process (a search subprocess, a resumed run) without registering the folder there first.
FOLDER_PREFIX = "folder:"


def dataset_key(name: Any) -> Any:
    """The form a dataset name is stored and compared in: a ``folder:<path>`` name with
    its path absolute (``~`` expanded, a relative one read against the current folder),
    any other name as given.

    ``folder:scans`` and ``folder:/home/me/scans`` name one folder: a search stores the
    second, while a table or a run made before may hold the first.

    Args:
        name: a dataset name (anything else is returned unchanged).

    Returns:
        The name to store or compare.

    Example:
        >>> import os
        >>> dataset_key("folder:scans") == "folder:" + os.path.abspath("scans")
        True
        >>> dataset_key("breastmnist")
        'breastmnist'
    """
    if not isinstance(name, str) or not name.startswith(FOLDER_PREFIX):
        return name
    path = name[len(FOLDER_PREFIX) :]
    return FOLDER_PREFIX + absolute_path(path) if path else name


def absolute_path(path: str | os.PathLike) -> str:
    """``path`` made absolute against the current folder (``~`` expanded, ``..`` folded).

    Example:
        >>> absolute_path("~") == os.path.expanduser("~")
        True
    """
    return os.path.abspath(Path(path).expanduser())


def get_entry(name: str) -> DatasetEntry:
    """Return the registry entry for ``name`` or raise a one-line error with a suggestion.

    ``folder:<path>`` is registered on first use (:func:`nasbench.data.folder.register_folder`).
    """
    if str(name).startswith(FOLDER_PREFIX):
        return _folder_entry(str(name))
    return registry.get("dataset", name).obj


def _folder_entry(name: str) -> DatasetEntry:
    if not registry.is_registered("dataset", name):
        from nasbench.data.folder import register_folder

        path = name[len(FOLDER_PREFIX) :]
        if not path:
            raise DatasetError("a folder dataset is named folder:<path>; give the folder's path.")
        register_folder(path, name=name)
    return registry.get("dataset", name).obj


def get_info(name: str) -> DatasetInfo:
    """Return the :class:`DatasetInfo` registered as ``name``.

    Example:
        >>> get_info("breastmnist").splits["test"]
        156
    """
    return get_entry(name).info


def list_datasets(task: str | None = None, spatial_dims: int | None = None) -> list[DatasetInfo]:
    """Return the registered datasets, optionally filtered by task and dims.

    Args:
        task: keep only this task (one of ``TASKS``; any case, as dataset names are).
        spatial_dims: keep only 2D or 3D entries (2 or 3).

    Returns:
        ``DatasetInfo`` objects sorted by name.

    Raises:
        DatasetError: an unknown task or a ``spatial_dims`` other than 2 or 3 (either
            would silently list nothing).

    Example:
        >>> "synthetic-seg" in [i.name for i in list_datasets(task="Segmentation", spatial_dims=2)]
        True
    """
    if task is not None:
        if not isinstance(task, str) or task.lower() not in TASKS:
            hint = closest_name(str(task), (*TASKS, "classification"))
            if "'classification'" in hint:  # the word people reach for is no task here
                hint = " Classification is binary, multi-class, multi-label or ordinal."
            raise DatasetError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}.{hint}")
        task = task.lower()
    if spatial_dims is not None and (isinstance(spatial_dims, bool) or spatial_dims not in (2, 3)):
        raise DatasetError(f"spatial_dims must be 2 or 3, got {spatial_dims!r}.")
    infos = [get_entry(n).info for n in dataset_names()]
    if task is not None:
        infos = [i for i in infos if i.task == task]
    if spatial_dims is not None:
        infos = [i for i in infos if i.spatial_dims == spatial_dims]
    return infos


def data_root(root: str | os.PathLike | None = None) -> Path:
    """Return the folder datasets are cached in.

    ``root`` wins, then the ``NASBENCH_DATA`` environment variable, then
    ``~/.cache/nasbench``.
    """
    if root is not None:
        if not isinstance(root, (str, os.PathLike)):
            raise DatasetError(
                f"root must be a folder path (a str or a Path), got {type(root).__name__} {root!r}."
            )
        return Path(root).expanduser()
    env = os.environ.get("NASBENCH_DATA")
    if env:
        return Path(env).expanduser()
    return Path("~/.cache/nasbench").expanduser()


def is_cached(name: str, root: str | os.PathLike | None = None, size: int | None = None) -> bool:
    """Tell whether ``name`` at ``size`` can be loaded without a download.

    Args:
        name: a registered dataset name.
        root: the data folder; default ``$NASBENCH_DATA`` or ``~/.cache/nasbench``.
        size: an image size the dataset comes in (``get_info(name).sizes``); None: its
            smallest (28 for MedMNIST), so a loop over every dataset needs no size.

    Returns:
        True when the files are on disk (generated sets always are).

    Raises:
        DatasetError: an unknown name, or a size the dataset does not come in (its
            files could never be cached, so False would mislead).

    Example:
        >>> is_cached("synthetic")
        True
    """
    entry = get_entry(name)
    size = min(entry.info.sizes) if size is None else size
    check_size(entry.info, size)
    return bool(entry.is_cached(entry.info, data_root(root), size))


def check_size(info: DatasetInfo, size: Any) -> None:
    """Refuse, in one line, an image size ``info`` does not come in.

    Example:
        >>> check_size(get_info("synthetic"), 28)
    """
    if isinstance(size, bool) or size not in info.sizes:
        raise DatasetError(
            f"{info.name} has no size {size!r}; choose one of {', '.join(map(str, info.sizes))}."
        )
