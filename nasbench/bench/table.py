"""A tabular benchmark: precomputed per-epoch results of every architecture of a space.

A :class:`BenchmarkTable` is one pandas frame, one row per (architecture, seed,
epoch), stored as a Parquet file. Rows are keyed by the *canonical* genotype
string, so two cells that compute the same function (NAS-Bench-201's isomorphic
cells) share one key and :meth:`BenchmarkTable.query` answers both the same.

Columns:

- ``key`` (canonical string), ``genotype_json`` (a representative genotype),
  ``seed``, ``epoch`` (1-based: epochs trained so far);
- metrics: ``train_loss``, ``val_acc``, ``val_auc``, ``test_acc``, ``test_auc``
  (accuracies are fractions in [0, 1]; a metric that was not recorded is NaN);
- costs: ``params``, ``macs``, ``latency_ms``, ``train_seconds_per_epoch``.

The space (``space.to_dict()``), dataset name, training recipe, seeds, a free
``note`` and the number of architectures its generation intends (``planned``; absent
from tables of earlier versions) travel in the Parquet schema metadata under the key
``nasbench``, so a table whose generation was stopped says so
(:attr:`BenchmarkTable.complete`).
"""

from __future__ import annotations

import errno
import json
import os
import warnings
from collections.abc import Iterable, KeysView, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nasbench.errors import ConfigError, SpaceError, closest_name
from nasbench.protocols import Genotype, Space
from nasbench.tempfiles import write_atomically

ID_COLUMNS = ("key", "genotype_json", "seed", "epoch")
METRIC_COLUMNS = ("train_loss", "val_acc", "val_auc", "test_acc", "test_auc")
COST_COLUMNS = ("params", "macs", "latency_ms", "train_seconds_per_epoch")
COLUMNS = ID_COLUMNS + METRIC_COLUMNS + COST_COLUMNS
METADATA_KEY = b"nasbench"
FORMAT_VERSION = 1
# Metrics where lower is better; every other metric is maximised.
LOWER_IS_BETTER = frozenset(
    {"train_loss", "params", "macs", "latency_ms", "train_seconds_per_epoch"}
)


def genotype_key(genotype: Genotype, space: Space = None) -> str:
    """Return the canonical key of a genotype: the space's ``canonical`` form, else its JSON.

    Args:
        genotype: a genotype object or its text (NB201 string, DARTS notation, JSON).
        space: the space it belongs to (validated against); None parses the text only.

    Returns:
        The key string rows are stored under.

    Example:
        >>> from nasbench.spaces import NB201Space
        >>> genotype_key("|skip_connect~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|",
        ...              NB201Space())
        '#+#+0'
    """
    from nasbench.spaces.genotype import parse_genotype

    if space is not None:
        g = space.validate(genotype)
        canonical = getattr(space, "canonical", None)
        return canonical(g) if callable(canonical) else g.to_json()
    return parse_genotype(genotype).to_json()


def generation_lock(path: str | os.PathLike) -> Path:
    """The lock file ``nasbench bench generate`` holds while it writes the table at ``path``:
    beside the file the path resolves to, so a link to a table and the table share one.

    Args:
        path: the table's file, or a link to it.

    Returns:
        The lock file's path (it may not exist).

    Example:
        >>> generation_lock("/tables/nb201.parquet").name
        '.nb201.parquet.lock'
    """
    target = Path(path).resolve()
    return target.with_name(f".{target.name}.lock")


def being_generated(path: str | os.PathLike) -> bool:
    """Whether a live ``nasbench bench generate`` is writing the table at ``path`` now.

    Probed without waiting: the lock is tried shared and let go at once.

    Args:
        path: the table's file, or a link to it.

    Returns:
        True while a generation holds the table's lock.

    Example:
        >>> being_generated("/tables/nb201.parquet")
        False
    """
    # The run store's probe of its writer lock, which the generation lock is taken like.
    from nasbench.runs.store import lock_held

    return lock_held(generation_lock(path))


class _DamagedFrame(ConfigError):
    """A frame no table can be built from; ``problem`` says what is wrong with it, for
    :meth:`BenchmarkTable.load` to name together with the file."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"benchmark frame {problem}; correct those rows.")
        self.problem = problem


def _one_row_per_run(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` checked to hold whole ``epoch`` and ``seed`` numbers and one row per run
    (key, seed, epoch). A row repeating another exactly is dropped (it would count as a
    second seed in ``n_seeds``); of isomorphic cells trained apart (a records file lists
    each under its own arch), the first listed stands for the key, as
    :func:`~nasbench.bench.nb201_import.import_nb201` keeps the first; rows giving one
    cell's run different values are refused, since averaging them as seeds would make up
    a result no training gave."""
    for column in ("epoch", "seed"):
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values) | (values != np.round(values))
        if bad.any():
            raise _DamagedFrame(
                f"column {column!r} holds {int(bad.sum())} missing or non-whole value(s), "
                f"e.g. {frame[column].to_numpy()[bad][0]}"
            )
    # The cell listed first for a key stands for it at every seed and epoch, duplicates or
    # not (else isomorphic cells trained at other seeds would be averaged as seeds, or a
    # curve stitched from two trainings). A row missing its cell names no other training:
    # it stays (NaN equals nothing, so it would be dropped unsaid).
    cells = frame["genotype_json"]
    first_cell = cells.groupby(frame["key"], sort=False).transform("first")
    frame = frame[cells.isna() | (cells == first_cell)]
    run = ["key", "seed", "epoch"]
    if not frame.duplicated(run).any():  # the usual case, without comparing every column
        return frame
    # Every column but the representative cell, which may be missing in some rows.
    frame = frame.drop_duplicates([c for c in COLUMNS if c != "genotype_json"])
    clashing = frame[frame.duplicated(run, keep=False)]
    if clashing.empty:
        return frame
    key, seed, epoch = clashing.iloc[0][run]
    same = clashing[run].eq([key, seed, epoch]).all(axis=1)
    raise _DamagedFrame(
        f"holds {int(same.sum())} rows with different values for key {key!r}, seed "
        f"{int(seed)}, epoch {int(epoch)} ({len(clashing)} such rows in all; a table holds one "
        "row per architecture, seed and epoch)"
    )


class BenchmarkTable:
    """Precomputed results of a space's architectures, queried by genotype.

    Args:
        frame: long frame with (at least) ``key``, ``genotype_json`` and ``epoch``;
            missing metric/cost columns are added as NaN, a missing ``seed`` as 0.
        space: the space (object or ``to_dict()`` dict); it gives the canonical keys.
        dataset: the dataset the results are on.
        recipe: the training recipe (JSON-ready dict).
        seeds: training seeds.
        note: free text, e.g. "SYNTHETIC: not trained".
        planned: architectures its latest generation intends (None: unknown); a table with
            fewer trained under each of ``planned_seeds`` says it is incomplete.
        planned_seeds: the seeds that generation trains each architecture with (None:
            ``seeds``).

    Example:
        >>> from nasbench.bench import synthetic_nb201_table
        >>> table = synthetic_nb201_table(seed=0)
        >>> row = table.query("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|"
        ...                   "+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|")
        >>> 0.0 < row["val_acc"] <= 1.0
        True
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        space: Space = None,
        dataset: str = "",
        recipe: Mapping[str, Any] | None = None,
        seeds: Sequence[int] = (0,),
        note: str = "",
        planned: int | None = None,
        planned_seeds: Sequence[int] | None = None,
    ) -> None:
        from nasbench.spaces import space_from_dict

        if not isinstance(frame, pd.DataFrame):
            raise ConfigError(
                f"a BenchmarkTable needs a pandas DataFrame, got {type(frame).__name__}."
            )
        missing = [c for c in ("key", "genotype_json", "epoch") if c not in frame.columns]
        if missing:
            raise ConfigError(
                f"benchmark frame lacks column(s) {', '.join(missing)}; see {COLUMNS}."
            )
        frame = frame.copy()
        if "seed" not in frame.columns:
            frame["seed"] = 0
        for col in METRIC_COLUMNS + COST_COLUMNS:
            if col not in frame.columns:
                frame[col] = np.nan
        extra = [c for c in frame.columns if c not in COLUMNS]
        frame = _one_row_per_run(frame[list(COLUMNS) + extra])
        frame["epoch"] = frame["epoch"].astype("int64")
        frame["seed"] = frame["seed"].astype("int64")
        if isinstance(space, Mapping):
            space = space_from_dict(space)
        self.frame = frame.sort_values(["key", "epoch", "seed"], kind="stable").reset_index(
            drop=True
        )
        self.space = space
        self.dataset = str(dataset)
        self.recipe = dict(recipe or {})
        self.seeds = [int(s) for s in seeds]
        self.note = str(note)
        self.planned = None if planned is None else int(planned)
        self.planned_seeds = None if planned_seeds is None else [int(s) for s in planned_seeds]
        self._warned_incomplete = False
        self._index: dict[str, tuple[int, int]] | None = None
        self._mean_frame: pd.DataFrame | None = None

    # ---- metadata -------------------------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        """Return the JSON-ready metadata stored with the table."""
        return {
            "format_version": FORMAT_VERSION,
            "space": None if self.space is None else self.space.to_dict(),
            "dataset": self.dataset,
            "recipe": self.recipe,
            "seeds": self.seeds,
            "note": self.note,
            "planned": self.planned,
            "planned_seeds": self.planned_seeds,
        }

    def __len__(self) -> int:
        """Number of architectures (distinct keys)."""
        return int(self.frame["key"].nunique())

    def __repr__(self) -> str:
        stopped = "" if self.complete else f", incomplete: {self.covered} of {self.planned}"
        return (
            f"BenchmarkTable({len(self)} architectures, {len(self.frame)} rows, "
            f"dataset={self.dataset!r}, epochs<={self.max_epoch}{stopped})"
        )

    @property
    def covered(self) -> int:
        """Architectures trained with every seed the latest generation trains with
        (``planned_seeds``; the table's seeds where unknown): an earlier generation's extra
        seeds do not leave a finished table short."""
        seeds = set(self.seeds if self.planned_seeds is None else self.planned_seeds)
        pairs = self.frame[["key", "seed"]].drop_duplicates()
        per_key = pairs[pairs["seed"].isin(seeds)].groupby("key").size()
        return int((per_key >= len(seeds)).sum())

    @property
    def complete(self) -> bool:
        """False when the generation that wrote the table stopped before the
        ``planned`` architectures were trained (True where ``planned`` is unknown)."""
        return self.planned is None or self.covered >= self.planned

    def _warn_incomplete(self) -> None:
        if self.complete or self._warned_incomplete:
            return
        self._warned_incomplete = True
        warnings.warn(
            f"this benchmark table holds {self.covered} of the {self.planned} architectures its "
            "generation intends (it was stopped before the end); the best and the regret rank "
            "the ones it holds. Run the same `nasbench bench generate` command again to finish "
            "it.",
            UserWarning,
            stacklevel=3,
        )

    @property
    def max_epoch(self) -> int:
        """The largest epoch recorded (0 for an empty table)."""
        return int(self.frame["epoch"].max()) if len(self.frame) else 0

    @property
    def metric_names(self) -> tuple[str, ...]:
        """Numeric columns that can be queried, ranked or used for regret."""
        skip = {"seed", "epoch"}
        return tuple(
            c
            for c in self.frame.columns
            if c not in skip and pd.api.types.is_numeric_dtype(self.frame[c])
        )

    def keys(self) -> list[str]:
        """Return every key, sorted."""
        return sorted(self.frame["key"].unique())

    def held_keys(self) -> KeysView[str]:
        """The keys the table holds, as a set: the index its queries use, so a membership
        test costs no scan (:meth:`keys` sorts a list).

        Example:
            >>> table.key_of(g) in table.held_keys()  # doctest: +SKIP
            True
        """
        return self._positions().keys()

    def __contains__(self, genotype: Genotype) -> bool:
        try:
            return self.key_of(genotype) in self.held_keys()
        except SpaceError:
            return False

    def key_of(self, genotype: Genotype) -> str:
        """Return the canonical key of ``genotype`` in this table's space."""
        return genotype_key(genotype, self.space)

    def genotypes(self) -> list[Any]:
        """Return one representative genotype per key, in key order."""
        from nasbench.spaces.genotype import parse_genotype

        firsts = self.frame.drop_duplicates("key")
        return [parse_genotype(text) for text in firsts["genotype_json"]]

    def to_frame(self) -> pd.DataFrame:
        """Return a copy of the long frame (one row per key, seed and epoch)."""
        return self.frame.copy()

    # ---- queries --------------------------------------------------------------------------
    def _means(self) -> pd.DataFrame:
        # Seed-averaged rows, sorted by (key, epoch): computed once, then sliced by position.
        if self._mean_frame is None:
            numeric = list(self.metric_names)
            grouped = self.frame.groupby(["key", "epoch"], sort=True)
            means = grouped[numeric].mean()
            means["n_seeds"] = grouped.size()
            means = means.reset_index()
            means["genotype_json"] = grouped["genotype_json"].first().to_numpy()
            self._mean_frame = means
        return self._mean_frame

    def _positions(self) -> dict[str, tuple[int, int]]:
        if self._index is None:
            keys = self._means()["key"].to_numpy()
            if not len(keys):  # an empty table holds no key
                self._index = {}
                return self._index
            starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
            stops = list(starts[1:]) + [len(keys)]
            self._index = {keys[a]: (int(a), int(b)) for a, b in zip(starts, stops, strict=True)}
        return self._index

    def query(self, genotype: Genotype, epoch: int | None = None, seed: int | None = None) -> dict:
        """Return the recorded results of a genotype (or any genotype isomorphic to it).

        Args:
            genotype: a genotype or its text; validated against the table's space.
            epoch: epochs trained (1-based); None gives the last recorded epoch.
            seed: one training seed; None averages over the seeds.

        Returns:
            ``{"key", "genotype_json", "epoch", "n_seeds", <metrics>, <costs>}``.

        Example:
            >>> table.query(g, epoch=1)["epoch"]  # doctest: +SKIP
            1
        """
        key = self.key_of(genotype)
        span = self._positions().get(key)
        if span is None:
            raise SpaceError(
                f"genotype {key!r} is not in this benchmark table ({len(self)} architectures); "
                "query a member of the table's space that was trained."
            )
        if seed is not None:
            rows = self.frame[(self.frame["key"] == key) & (self.frame["seed"] == int(seed))]
            if rows.empty:
                raise ConfigError(f"seed {seed} is not recorded for {key!r}; seeds: {self.seeds}.")
            rows = rows.assign(n_seeds=1)
        else:
            rows = self._means().iloc[span[0] : span[1]]
        epochs = rows["epoch"].to_numpy()
        if epoch is None:
            pick = int(np.argmax(epochs))
        else:
            hits = np.flatnonzero(epochs == int(epoch))
            if not len(hits):
                raise ConfigError(
                    f"epoch {epoch} is not recorded for {key!r}; recorded epochs: "
                    f"{int(epochs.min())}..{int(epochs.max())}."
                )
            pick = int(hits[0])
        row = rows.iloc[pick].to_dict()
        row.pop("seed", None)
        row["epoch"] = int(row["epoch"])
        row["n_seeds"] = int(row["n_seeds"])
        return row

    def final(self, epoch: int | None = None) -> pd.DataFrame:
        """Return one seed-averaged row per key at ``epoch`` (None: each key's last epoch).

        Example:
            >>> table.final()["val_acc"].max()  # doctest: +SKIP
            0.93
        """
        means = self._means()
        if epoch is None:
            last = means.groupby("key", sort=True)["epoch"].transform("max")
            out = means[means["epoch"] == last]
        else:
            out = means[means["epoch"] == int(epoch)]
        return out.reset_index(drop=True)

    def _check_metric(self, metric: str) -> None:
        names = list(self.metric_names)
        # An id column ("key", "seed") is no metric, numeric or not: its name is the mistake.
        column = None if metric in ID_COLUMNS else self.frame.get(metric)
        if column is not None and not pd.api.types.is_numeric_dtype(column):
            # Text where numbers belong (a column written as strings): not a typo of a name.
            shown = column.dropna()
            example = f" such as {shown.iloc[0]!r}" if len(shown) else ""
            raise ConfigError(
                f"column {metric!r} of this table is not numeric (it holds {column.dtype} "
                f"values{example}); rebuild the table, or use a numeric column: "
                f"{', '.join(names)}."
            )
        if metric not in names:
            raise ConfigError(
                f"unknown metric {metric!r}; the table has {', '.join(names)}."
                f"{closest_name(str(metric), names)}"
            )

    def _check_recorded(self, metric: str, values: np.ndarray) -> None:
        if np.isfinite(values).any():
            return
        recorded = [
            m for m in self.metric_names if np.isfinite(self.frame[m].to_numpy(float)).any()
        ]
        others = f" (it records {', '.join(recorded)})" if recorded else ""
        raise ConfigError(
            f"metric {metric!r} has no recorded value in this table (the column is missing, "
            f"or NaN or infinite in every row); use a metric the table records{others}, or "
            "rebuild the table with `nasbench bench generate`."
        )

    def check_score(self, metric: str) -> None:
        """Refuse ``metric`` as the score a search is ranked by: not a numeric column of the
        table, or one without a single finite value (absent from the file, so filled with
        NaN, or NaN or infinite in every row), which would rank every candidate alike.

        Args:
            metric: a metric column, e.g. ``"val_acc"``.

        Raises:
            ConfigError: one line naming the column and what to do.

        Example:
            >>> table.check_score("val_acc")  # doctest: +SKIP
        """
        self._check_metric(metric)
        self._check_recorded(metric, self.frame[metric].to_numpy(dtype=float))

    def best(self, metric: str = "val_acc", epoch: int | None = None) -> dict:
        """Return the row of the best architecture by ``metric`` (seed-averaged).

        Args:
            metric: a metric or cost column; costs and losses are minimised.
            epoch: which epoch to rank at; None uses each architecture's last epoch.

        Returns:
            The row as a dict (same fields as :meth:`query`).

        Example:
            >>> table.best("val_acc")["val_acc"] >= table.query(g)["val_acc"]  # doctest: +SKIP
            True
        """
        self._check_metric(metric)
        self._warn_incomplete()
        rows = self.final(epoch)
        values = rows[metric].to_numpy(dtype=float)
        self._check_recorded(metric, values)
        # An infinite value is no measurement: it is skipped like a missing one, as a
        # search never keeps a candidate without a finite score as its best.
        values = np.where(np.isfinite(values), values, np.nan)
        pick = np.nanargmin(values) if metric in LOWER_IS_BETTER else np.nanargmax(values)
        row = rows.iloc[int(pick)].to_dict()
        row["epoch"], row["n_seeds"] = int(row["epoch"]), int(row["n_seeds"])
        return row

    def regret(
        self,
        chosen: Any,
        metric: str = "test_acc",
        epoch: int | None = None,
    ) -> float:
        """Return how far a choice is from the table's best: ``best - value`` (>= 0).

        Args:
            chosen: a genotype (looked up at ``epoch``) or a metric value.
            metric: the metric the regret is measured in (losses/costs: ``value - best``).
            epoch: epoch of the lookup and of the best; None uses the last epochs.

        Returns:
            The regret; 0 for the table's best architecture.

        Example:
            >>> table.regret(table.best("test_acc")["genotype_json"])  # doctest: +SKIP
            0.0
        """
        best = float(self.best(metric, epoch)[metric])
        if isinstance(chosen, (int, float, np.number)) and not isinstance(chosen, bool):
            value = float(chosen)
        else:
            value = float(self.query(chosen, epoch)[metric])
        return value - best if metric in LOWER_IS_BETTER else best - value

    # ---- combining ------------------------------------------------------------------------
    def with_rows(self, rows: Iterable[Mapping[str, Any]] | pd.DataFrame) -> BenchmarkTable:
        """Return a new table with ``rows`` appended (same metadata; ``seeds`` also lists
        the seeds of the new rows).

        Args:
            rows: dicts or a frame with at least ``key``, ``genotype_json`` and ``epoch``.

        Returns:
            A new :class:`BenchmarkTable`.
        """
        extra = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
        frame = pd.concat([self.frame, extra], ignore_index=True) if len(self.frame) else extra
        added = extra["seed"].dropna().astype(int).tolist() if "seed" in extra.columns else []
        seeds = list(dict.fromkeys([*self.seeds, *added]))
        return BenchmarkTable(
            frame,
            self.space,
            self.dataset,
            self.recipe,
            seeds,
            self.note,
            self.planned,
            self.planned_seeds,
        )

    # ---- files ----------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write the table as Parquet, atomically (temp file, then ``os.replace``).

        Temp files that killed saves of the same path left behind are removed first.

        Args:
            path: the ``.parquet`` file to write; its folder is created.

        Returns:
            The path written.

        Example:
            >>> table.save(tmp_path / "bench.parquet")  # doctest: +SKIP
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrow = pa.Table.from_pandas(self.frame, preserve_index=False)
        meta = dict(arrow.schema.metadata or {})
        meta[METADATA_KEY] = json.dumps(self.metadata(), sort_keys=True).encode()
        arrow = arrow.replace_schema_metadata(meta)
        return write_atomically(path, lambda handle: pq.write_table(arrow, handle))

    @classmethod
    def load(cls, path: str | os.PathLike) -> BenchmarkTable:
        """Read a table written by :meth:`save`.

        Args:
            path: the Parquet file.

        Returns:
            The table, with its space, dataset, recipe, seeds and note.

        Example:
            >>> BenchmarkTable.load(tmp_path / "bench.parquet")  # doctest: +SKIP
        """
        import pyarrow.parquet as pq

        path = Path(path)
        if not path.is_file():
            raise ConfigError(
                f"benchmark table {str(path)!r} {_why_no_file(path)}; name a table's .parquet "
                "file, build one with `nasbench bench generate`, or import one with "
                "nasbench.bench.import_nb201."
            )
        try:
            arrow = pq.read_table(path)
        except Exception as err:  # pyarrow raises several types for a damaged file
            raise ConfigError(
                f"{str(path)!r} is not a readable Parquet file ({err}); rebuild it with "
                "`nasbench bench generate`, or name another file."
            ) from None
        raw = (arrow.schema.metadata or {}).get(METADATA_KEY)
        if raw is None:
            raise ConfigError(
                f"{str(path)!r} is Parquet but not a nasbench benchmark table (no metadata); "
                "name a table `nasbench bench generate` wrote."
            )
        meta, problem = _read_metadata(raw)
        _refuse_a_newer_format(meta, path)
        if problem is None and arrow.num_rows == 0:
            problem = "it holds no rows"
        if problem is not None:
            raise ConfigError(_unreadable(path, problem))
        try:
            return cls(
                arrow.to_pandas(),
                space=meta.get("space"),
                dataset=meta.get("dataset", ""),
                recipe=meta.get("recipe"),
                seeds=meta.get("seeds", (0,)),
                note=meta.get("note", ""),
                planned=meta.get("planned"),
                planned_seeds=meta.get("planned_seeds"),
            )
        except _DamagedFrame as err:
            raise ConfigError(_unreadable(path, err.problem)) from None


def _unreadable(path: Path, problem: str) -> str:
    """The one line :meth:`BenchmarkTable.load` refuses a damaged table file with."""
    return (
        f"{str(path)!r} is not a readable nasbench benchmark table: {problem}; rebuild it with "
        "`nasbench bench generate`, or name another file."
    )


def _why_no_file(path: Path) -> str:
    """Why ``path`` is no file to read: a folder, a link that loops or names nothing, or
    nothing at all."""
    if path.is_dir():
        return "is a folder, not a table file"
    if path.is_symlink():
        try:
            os.stat(path)  # follows the link: ELOOP for a loop, not found for a dangling one
        except OSError as err:
            if err.errno == errno.ELOOP:
                return "is a symbolic link that loops (it leads back to itself)"
        return f"is a link to {os.readlink(path)}, which does not exist"
    return "does not exist"


def _read_metadata(raw: bytes) -> tuple[dict[str, Any], str | None]:
    """The table's metadata, and what is wrong with it (None when nothing is): a hand-edited
    file can hold text that is not JSON, or values :class:`BenchmarkTable` cannot take."""
    try:
        meta = json.loads(raw)
    except ValueError as err:  # JSONDecodeError, or bytes that are not UTF-8
        return {}, f"its nasbench metadata is not JSON ({err})"
    if not isinstance(meta, dict):
        return {}, f"its nasbench metadata is a JSON {type(meta).__name__}, not an object"
    seeds, planned_seeds = meta.get("seeds", [0]), meta.get("planned_seeds")
    for name, value in (("seeds", seeds), ("planned_seeds", planned_seeds)):
        listed = isinstance(value, list) and all(map(_whole, value))
        if not listed and not (name == "planned_seeds" and value is None):
            return meta, f"metadata {name!r} is {value!r}, not a list of whole numbers"
    planned = meta.get("planned")
    if planned is not None and not _whole(planned):
        return meta, f"metadata 'planned' is {planned!r}, not a whole number"
    return meta, None


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _refuse_a_newer_format(meta: Mapping[str, Any], path: Path) -> None:
    """Refuse a table a newer nasbench wrote, as the run store refuses a newer schema:
    its columns or metadata may mean what this version would misread."""
    version = meta.get("format_version", FORMAT_VERSION)
    if _whole(version) and version > FORMAT_VERSION:
        raise ConfigError(
            f"{str(path)!r} is a benchmark table of format version {version}, newer than "
            f"this nasbench reads ({FORMAT_VERSION}); upgrade nasbench to read it."
        )
