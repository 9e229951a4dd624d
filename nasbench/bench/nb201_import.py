"""Import results a user already has into a :class:`~nasbench.bench.table.BenchmarkTable`.

1. :func:`import_nb201` reads a NAS-Bench-201 results file (``NAS-Bench-201-v1_0-e61699.pth``
   or ``NAS-Bench-201-v1_1-096897.pth``; Dong & Yang, 2020). Its layout, as the
   ``nas_201_api`` saves it: ``{"meta_archs": [arch string per index],
   "arch2infos": {index: {"less": ArchResults, "full": ArchResults}}, ...}`` where an
   ArchResults dict holds ``"all_results": {(dataset, seed): ResultsCount}`` and a
   ResultsCount dict holds ``train_losses`` / ``train_times`` (``{epoch: value}``),
   ``eval_acc1es`` (``{"x-valid@epoch": acc, "ori-test@epoch": acc, ...}``, percent),
   ``params`` (millions), ``flop`` (millions) and ``latency`` (seconds per batch).
   Validation is ``x-valid``; test is ``x-test`` when the dataset has it (CIFAR-100,
   ImageNet16-120), else ``ori-test``, as the NB201 API reports them.
   The file is read with ``torch.load(weights_only=True)``: plain dicts, lists and
   numbers load; a file that would run code while loading is refused.
2. :func:`import_records` reads a simple CSV or JSON list of records with columns
   ``arch`` (any genotype text), ``epoch`` and ``accuracy`` (or any of the table's
   metric/cost columns), optionally ``dataset`` and ``seed``.

Cells that are isomorphic (same canonical key) share one entry: the first index in
the file wins, as NAS-Bench-201 itself trained them separately.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nasbench.bench.table import COLUMNS, COST_COLUMNS, METRIC_COLUMNS, BenchmarkTable
from nasbench.errors import ConfigError, closest_name
from nasbench.options import MAX_INT, plain_numbers
from nasbench.protocols import Space

SETTINGS = ("full", "less")
EVAL_KEY = re.compile(r"^(?P<name>.+)@(?P<epoch>\d+)$")


def _load_pth(path: Path) -> Mapping[str, Any]:
    import torch

    if path.is_dir():
        raise ConfigError(
            f"NAS-Bench-201 file {str(path)!r} is a folder, not a file; pass the .pth file "
            "in it (e.g. NAS-Bench-201-v1_1-096897.pth), not the folder."
        )
    if not path.is_file():
        raise ConfigError(
            f"NAS-Bench-201 file {str(path)!r} does not exist; download "
            "NAS-Bench-201-v1_1-096897.pth from the NAS-Bench-201 page and pass its path."
        )
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for a damaged or foreign file
        reason = " ".join(str(err).split())[:200]
        raise ConfigError(
            f"{str(path)!r} is not a readable NAS-Bench-201 .pth file of plain data ({reason}); "
            "pass the official NAS-Bench-201 v1_0/v1_1 download."
        ) from None
    if not isinstance(data, Mapping) or "meta_archs" not in data or "arch2infos" not in data:
        raise ConfigError(
            f"{str(path)!r} has no 'meta_archs'/'arch2infos'; it is not a NAS-Bench-201 "
            "v1_0/v1_1 results file."
        )
    _refuse_other_layout(data, path)
    return data


def _refuse_other_layout(data: Mapping[str, Any], path: Path) -> None:
    """Refuse a file whose ``meta_archs`` is no list of arch strings or whose
    ``arch2infos`` is no dict of sortable indices: the import would stop on a bare
    TypeError, where an entry of the wrong shape is named (see :func:`import_nb201`)."""
    archs, infos = data["meta_archs"], data["arch2infos"]
    if isinstance(archs, (str, bytes)) or not isinstance(archs, (list, tuple)):
        wrong = f"'meta_archs' is of type {type(archs).__name__}, not a list of arch strings"
    elif not isinstance(infos, Mapping):
        wrong = f"'arch2infos' is of type {type(infos).__name__}, not a dict of arch indices"
    elif not _sortable(infos):
        wrong = "'arch2infos' has keys of several types, not arch indices"
    else:
        return
    raise ConfigError(
        f"{str(path)!r} is not in the NAS-Bench-201 layout ({wrong}); pass the official "
        "v1_0/v1_1 file."
    )


def _sortable(keys: Any) -> bool:
    try:
        sorted(keys)
    except TypeError:  # e.g. 0 and "1" side by side: the import reads indices in order
        return False
    return True


def _state(obj: Any) -> Mapping[str, Any]:
    # The file holds plain dicts; an API object (if someone pickled those) exposes __dict__.
    return obj if isinstance(obj, Mapping) else vars(obj)


def _eval_by_epoch(acc: Mapping[str, float], name: str) -> dict[int, float]:
    out = {}
    for key, value in acc.items():
        m = EVAL_KEY.match(str(key))
        if m and m.group("name") == name:
            out[int(m.group("epoch"))] = float(value) / 100.0
    return out


def _run_rows(run: Mapping[str, Any], key: str, genotype_json: str) -> list[dict[str, Any]]:
    acc = run.get("eval_acc1es") or {}
    names = {EVAL_KEY.match(str(k)).group("name") for k in acc if EVAL_KEY.match(str(k))}
    val = _eval_by_epoch(acc, "x-valid") if "x-valid" in names else {}
    test_name = "x-test" if "x-test" in names else "ori-test"
    test = _eval_by_epoch(acc, test_name) if test_name in names else {}
    losses = {int(e): float(v) for e, v in (run.get("train_losses") or {}).items()}
    times = [float(t) for t in (run.get("train_times") or {}).values() if t is not None]
    latency = run.get("latency") or []
    latency = [float(x) for x in latency if x is not None and float(x) >= 0]
    epochs = sorted(set(val) | set(test) | set(losses))
    costs = {
        "params": float(run.get("params", np.nan)) * 1e6,
        "macs": float(run.get("flop", np.nan)) * 1e6,
        "latency_ms": 1000.0 * float(np.mean(latency)) if latency else np.nan,
        "train_seconds_per_epoch": float(np.mean(times)) if times else np.nan,
    }
    return [
        {
            "key": key,
            "genotype_json": genotype_json,
            "seed": int(run.get("seed", 0) or 0),
            "epoch": e + 1,  # NB201 counts epochs from 0; the table counts epochs trained
            "train_loss": losses.get(e, np.nan),
            "val_acc": val.get(e, np.nan),
            "test_acc": test.get(e, np.nan),
            **costs,
        }
        for e in epochs
    ]


def import_nb201(
    path: str | os.PathLike,
    dataset: str = "cifar10-valid",
    setting: str = "full",
    limit: int | None = None,
) -> BenchmarkTable:
    """Read a NAS-Bench-201 v1_0 / v1_1 ``.pth`` results file into a table.

    Args:
        path: the ``.pth`` file.
        dataset: ``"cifar10-valid"``, ``"cifar10"``, ``"cifar100"`` or ``"ImageNet16-120"``.
        setting: ``"full"`` (200 epochs) or ``"less"`` (12 epochs, v1_0: cifar10-valid only).
        limit: import only the first ``limit`` architecture indices (quick looks).

    Returns:
        A :class:`BenchmarkTable` over ``NB201Space()`` with every epoch recorded,
        accuracies as fractions, ``params``/``macs`` as counts.

    Example:
        >>> table = import_nb201("NAS-Bench-201-v1_1-096897.pth", "cifar10-valid")  # doctest: +SKIP
        >>> table.best("val_acc")["test_acc"]  # doctest: +SKIP
    """
    from nasbench.spaces import NB201Space

    if setting not in SETTINGS:
        raise ConfigError(f"setting must be 'full' or 'less', got {setting!r}.")
    limit = _checked_limit(limit)
    data = _load_pth(Path(path))
    space = NB201Space()
    archs = list(data["meta_archs"])
    infos = data["arch2infos"]
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    datasets_found: set[str] = set()
    seeds: set[int] = set()
    for index in sorted(infos)[: limit if limit is not None else None]:
        try:
            g = space.validate(archs[int(index)])
            key = space.canonical(g)
            if key in seen:
                continue
            entry = _state(infos[index])
            if setting not in entry:
                continue
            results = _state(entry[setting]).get("all_results") or {}
            for (ds, seed), run in results.items():
                datasets_found.add(str(ds))
                if ds == dataset:
                    rows += _run_rows(_state(run), key, g.to_json())
                    seeds.add(int(seed))
                    seen.add(key)
        except (KeyError, IndexError, ValueError, TypeError, AttributeError) as err:
            # A file of another layout (or edited by hand): say where, not a traceback.
            reason = " ".join(str(err).split())[:160] or type(err).__name__
            raise ConfigError(
                f"arch2infos entry {index!r} of {str(path)!r} is not in the NAS-Bench-201 "
                f"layout ({type(err).__name__}: {reason}); pass the official v1_0/v1_1 file."
            ) from None
    if not rows:
        found = sorted(datasets_found)
        raise ConfigError(
            f"no {setting!r} results for dataset {dataset!r} in {str(path)!r}; it has "
            f"{', '.join(found) or 'none'}.{closest_name(dataset, found)}"
        )
    recipe = {"source": Path(path).name, "setting": setting}
    return BenchmarkTable(
        pd.DataFrame(rows),
        space,
        dataset=dataset,
        recipe=recipe,
        seeds=sorted(seeds),
        note=f"imported from NAS-Bench-201 ({Path(path).name}, {setting})",
    )


def _checked_limit(limit: Any) -> int | None:
    """``limit`` as None or a whole number >= 1: 0 or -1 would import nothing (or all but
    the last index) and end in a misleading "no results for dataset" line."""
    limit = plain_numbers(limit)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigError(
            f"limit must be None (every architecture) or a whole number >= 1 of "
            f"architectures to import, got {limit!r}."
        )
    return limit


def import_records(
    source: str | os.PathLike | pd.DataFrame,
    dataset: str | None = None,
    space: Space = None,
) -> BenchmarkTable:
    """Read a CSV/JSON of per-epoch records (``arch``, ``epoch``, ``accuracy``...) into a table.

    Args:
        source: a ``.csv`` file, a ``.json`` file (a list of records), or a DataFrame.
        dataset: keep only rows with this ``dataset`` value (when the column exists).
        space: the space of the archs; default ``NB201Space()``.

    Returns:
        A :class:`BenchmarkTable`. ``accuracy`` becomes ``val_acc``. An accuracy column
        with any value above 1 is read as percent, every value of it (NAS-Bench-201's
        worst cells score below 1 %); values must lie in [0, 100].

    Raises:
        ConfigError: a file that does not parse, a missing column, a value that is not a
            number (or an epoch below 1), or the same arch, epoch and seed twice.

    Example:
        >>> cell = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|avg_pool_3x3~2|"
        >>> import_records(pd.DataFrame({"arch": [cell], "epoch": [1], "accuracy": [91.2]}))
        BenchmarkTable(1 architectures, 1 rows, dataset='', epochs<=1)
    """
    from nasbench.spaces import NB201Space

    frame = _read_records(source)
    space = space if space is not None else NB201Space()
    if "accuracy" in frame.columns and "val_acc" not in frame.columns:
        frame = frame.rename(columns={"accuracy": "val_acc"})
    for col in ("arch", "epoch"):
        if col not in frame.columns:
            raise ConfigError(
                f"records need columns 'arch' and 'epoch' (plus 'accuracy' or metric columns); "
                f"got {', '.join(map(str, frame.columns))}."
            )
    if dataset is not None and "dataset" in frame.columns:
        names = sorted(map(str, frame["dataset"].unique()))
        frame = frame[frame["dataset"] == dataset]
        if frame.empty:
            raise ConfigError(
                f"no records for dataset {dataset!r}; the file has {', '.join(names)}."
                f"{closest_name(dataset, names)}"
            )
    elif "dataset" in frame.columns and frame["dataset"].nunique() > 1:
        names = ", ".join(sorted(map(str, frame["dataset"].unique())))
        raise ConfigError(
            f"the records hold several datasets ({names}); a table is of one, so pass "
            "dataset=... (--dataset) to pick it."
        )
    frame = _checked_records(frame, source)
    genotypes = {a: space.validate(a) for a in frame["arch"].unique()}
    frame = frame.assign(
        key=[
            space.canonical(genotypes[a]) if hasattr(space, "canonical") else genotypes[a].to_json()
            for a in frame["arch"]
        ],
        genotype_json=[genotypes[a].to_json() for a in frame["arch"]],
    )
    keep = [c for c in frame.columns if c in COLUMNS]
    frame = frame[keep]
    seeds = sorted(int(s) for s in frame["seed"].unique()) if "seed" in frame.columns else [0]
    name = dataset or ""
    return BenchmarkTable(frame, space, dataset=name, recipe={"source": "records"}, seeds=seeds)


def _read_records(source: str | os.PathLike | pd.DataFrame) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source.copy()
    path = Path(source)
    if not path.is_file():
        problem = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise ConfigError(f"records file {str(path)!r} {problem}; pass a .csv or .json file.")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise ConfigError(f"records must be a .csv or .json file, got {path.name!r}.")
    try:
        if suffix == ".csv":
            return pd.read_csv(path)
        data = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as err:  # pandas' and json's parse errors
        reason = " ".join(str(err).split())[:160]
        raise ConfigError(
            f"records file {str(path)!r} does not parse as {suffix[1:].upper()} ({reason}); "
            "fix the file."
        ) from None
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise ConfigError(f"{str(path)!r} must hold a JSON list of records (objects).")
    return pd.DataFrame(data)


ACCURACY_COLUMNS = ("val_acc", "test_acc", "train_acc")


def _checked_records(frame: pd.DataFrame, source: Any) -> pd.DataFrame:
    """Records with numeric epochs (>= 1), seeds and metrics, accuracies as fractions, and
    no (arch, epoch, seed) twice; a one-line error names the first offending row."""
    where = "the records" if isinstance(source, pd.DataFrame) else repr(str(source))
    frame = frame.reset_index(drop=True)
    numeric = ["epoch", "seed", *dict.fromkeys([*METRIC_COLUMNS, *ACCURACY_COLUMNS, *COST_COLUMNS])]
    for col in (c for c in numeric if c in frame.columns):
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna() & frame[col].notna()
        if col in ("epoch", "seed"):
            bad |= values.isna() | (values != values.round())
        if bad.any():
            row = int(bad.idxmax())
            raise ConfigError(
                f"{where}: column {col!r} of row {row} is {frame.at[row, col]!r}, not a "
                f"{'whole ' if col in ('epoch', 'seed') else ''}number; fix that row."
            )
        frame[col] = values
    low = frame["epoch"] < 1
    if low.any():
        row = int(low.idxmax())
        raise ConfigError(
            f"{where}: row {row} has epoch {frame.at[row, 'epoch']:g}; epochs count the "
            "epochs trained, from 1."
        )
    # Seeds are in [0, 2**31), as a generated table's are (a search could not train one).
    negative = frame["seed"] < 0 if "seed" in frame.columns else pd.Series(False, frame.index)
    if negative.any():
        row = int(negative.idxmax())
        raise ConfigError(
            f"{where}: row {row} has seed {frame.at[row, 'seed']:g}; seeds are whole numbers "
            "from 0; fix that row."
        )
    # The table stores epochs and seeds as 64-bit integers: 1e30 would wrap to a negative.
    for col in (c for c in ("epoch", "seed") if c in frame.columns):
        high = frame[col] >= MAX_INT
        if high.any():
            row = int(high.idxmax())
            raise ConfigError(
                f"{where}: row {row} has {col} {frame.at[row, col]:g}, above the largest "
                f"{col} a table holds ({MAX_INT - 1}); fix that row."
            )
    for col in (c for c in ACCURACY_COLUMNS if c in frame.columns):
        values = frame[col]
        out = (values < 0) | (values > 100)
        if out.any():
            row = int(out.idxmax())
            raise ConfigError(
                f"{where}: {col} of row {row} is {values[row]:g}; accuracies are fractions "
                "in [0, 1] or percent in [0, 100]."
            )
        if values.max() > 1.0:
            frame[col] = values / 100.0
    keys = ["arch", "epoch"] + (["seed"] if "seed" in frame.columns else [])
    repeated = frame.duplicated(keys, keep=False)
    if repeated.any():
        row = int(repeated.idxmax())
        seed = f", seed {int(frame.at[row, 'seed'])}" if "seed" in frame.columns else ""
        raise ConfigError(
            f"{where}: arch {frame.at[row, 'arch']!r} at epoch {int(frame.at[row, 'epoch'])}"
            f"{seed} appears more than once (row {row}); give repeated trainings a 'seed' "
            "column, or drop the repeats."
        )
    return frame
