"""Tabular lookup: score a genotype by reading a benchmark table, not by training.

The table (:mod:`nasbench.bench`) holds per-epoch metrics of every architecture,
so a budget of ``b`` epochs reads the epoch-``b`` row. The cost reports the
simulated training time, ``train_seconds_per_epoch * b``, as ``wall_s`` so that
best-so-far-against-wall-time plots and wall-time budgets behave as if the
network had been trained; ``lookup_s`` is the real time of the lookup.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasbench.errors import ConfigError
from nasbench.evaluation.base import Result
from nasbench.evaluation.registry import register_evaluator
from nasbench.options import MethodConfig, option
from nasbench.protocols import Genotype, Space

RESULT_METRICS = ("val_acc", "val_auc", "test_acc", "test_auc", "train_loss")
RESULT_COSTS = ("params", "macs", "latency_ms")


@dataclass
class TableEvalConfig(MethodConfig):
    """Settings of the table-lookup evaluator."""

    path: str = option("", "Parquet benchmark table; empty: the SYNTHETIC NB201 table")
    metric: str = option("val_acc", "table column used as the score (maximised)")
    epochs: int = option(0, "budget None reads this epoch; 0: the last recorded epoch", min=0)
    table_seed: int = option(
        0, "seed of the SYNTHETIC table (not the search seed: every seed meets one table)", min=0
    )
    size: int = option(
        0, "image edge the table must be trained at (a search sets dataset.size); 0: any", min=0
    )

    def validate(self) -> None:
        """Range checks, then refuse a test metric as the score (as the train evaluator)."""
        super().validate()
        # A search that ranks by the test split has selected on it: its test number is no
        # longer an unbiased estimate. The test columns stay in every Result's metrics.
        if str(self.metric).startswith("test"):
            raise ConfigError(
                f"TableEvalConfig.metric {self.metric!r} scores the search on the test split; "
                "use the validation metric (e.g. 'val_acc'): selecting on test is the mistake."
            )


@register_evaluator("table", TableEvalConfig)
class TableEvaluator:
    """Look candidates up in a tabular benchmark (cost = recorded training time).

    Args:
        config: a :class:`TableEvalConfig`.
        space: optional; when given, genotypes are validated against it.
        dataset: unused (the table fixes the data); accepted for the registry call.
        seed: unused: the synthetic table comes from ``config.table_seed``, so searches
            with different seeds compare on the same table.
        table: a :class:`~nasbench.bench.table.BenchmarkTable` to use instead of ``path``.

    Example:
        >>> ev = TableEvaluator(seed=0)  # the synthetic NB201 table
        >>> g = ("|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|"
        ...      "+|skip_connect~0|none~1|nor_conv_1x1~2|")
        >>> r = ev.evaluate(g, budget=4)
        >>> r.cost["epochs"], r.info["epoch"]
        (4.0, 4)
    """

    def __init__(
        self,
        config: TableEvalConfig | None = None,
        *,
        space: Space = None,
        dataset: Any = None,
        seed: int = 0,
        table: Any = None,
    ) -> None:
        from nasbench.bench.table import BenchmarkTable

        self.config = config or TableEvalConfig()
        self.config.validate()
        # Seed of a synthetic table built here: workers rebuild it instead of unpickling 25 MB.
        synthetic = table is None and not self.config.path
        self._synthetic_seed = self.config.table_seed if synthetic else None
        if table is None:
            if self.config.path:
                table = BenchmarkTable.load(self.config.path)
            else:
                from nasbench.bench.synthetic import synthetic_nb201_table

                table = synthetic_nb201_table(seed=self.config.table_seed)
        if not isinstance(table, BenchmarkTable):
            raise ConfigError(f"table must be a BenchmarkTable, got {type(table).__name__}.")
        table.check_score(self.config.metric)
        _refuse_other_size(table, self.config.size, "the table", "TableEvalConfig.size")
        self.table = table
        self.space = space
        self.default_epoch = self.config.epochs or table.max_epoch
        if self.default_epoch > table.max_epoch:
            raise ConfigError(
                f"TableEvalConfig.epochs {self.config.epochs} exceeds the table's last epoch "
                f"{table.max_epoch}; lower it."
            )

    @staticmethod
    def check_search(config: TableEvalConfig, dataset: str, space: Mapping[str, Any]) -> None:
        """Refuse, before a run starts, a table whose scores are not of this search: another
        dataset's results, images of another size than ``config.size`` (the search's
        ``dataset.size``), cells of another space (the synthetic table, without ``path``, is
        a made-up NB201 landscape, so only a synthetic set may claim it), ops or nodes the
        table's cells lack, a table that holds only some of the space's architectures
        (sampled, its generation stopped or still running, or keyed by cells of no recorded
        space), or a score column without a finite value: a search would propose a cell the
        table cannot score, or rank them all alike, after its run folder was made.

        Args:
            config: the evaluator's settings (``path`` names the table; empty: synthetic).
            dataset: the search's dataset name.
            space: the search's space dict (``SearchConfig.space``).

        Raises:
            ConfigError: one line naming the mismatch and the fix.

        Example:
            >>> TableEvaluator.check_search(TableEvalConfig(), "synthetic", {"name": "nb201"})
        """
        table = None
        if config.path:
            from nasbench.bench.table import BenchmarkTable

            table = BenchmarkTable.load(config.path)
            table.check_score(config.metric)
            from nasbench.data.registry import dataset_key

            held, space_name = table.dataset, getattr(table.space, "name", None)
            where = f"the table {config.path}"
            # folder:scans and folder:/home/me/scans are one folder (a search stores paths
            # absolute; a table built before may hold a relative one).
            if held and dataset_key(held) != dataset_key(dataset):
                raise ConfigError(
                    f"{where} holds results on {held}, not on dataset {dataset}; search "
                    f"{held}, or build a table on {dataset} with `nasbench bench generate`."
                )
            _refuse_other_size(table, config.size, where, "dataset.size")
        else:
            from nasbench.data import get_info

            space_name, where = "nb201", "the table evaluator without a path"
            # A made-up landscape of 2D images: a synthetic set of volumes cannot claim it.
            if not dataset.startswith("synthetic") or get_info(dataset).spatial_dims != 2:
                raise ConfigError(
                    f"{where} reads the SYNTHETIC NB201 landscape, whose scores say nothing "
                    f"about dataset {dataset}; give evaluator_config.path a table built on "
                    f"{dataset} (`nasbench bench generate`), or use the 'train' evaluator."
                )
        if space_name is not None and space.get("name") != space_name:
            raise ConfigError(
                f"{where} holds {space_name} cells, not cells of space {space.get('name')!r}; "
                f"search space {space_name!r}, or give a table of that space."
            )
        from nasbench.spaces import NB201Space, space_from_dict

        searched = space_from_dict(space)
        # The synthetic table holds every cell of the full NB201 space.
        held_space = table.space if table is not None else NB201Space()
        if held_space is not None:  # a table that records no space has no ops to compare
            _refuse_cells_the_table_lacks(held_space, searched, where)
        if table is not None:
            _refuse_a_table_short_of_the_space(table, searched, where, config.path)

    @property
    def max_budget(self) -> int:
        """The largest budget :meth:`evaluate` takes: the table's last epoch."""
        return int(self.table.max_epoch)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if self._synthetic_seed is not None:
            state["table"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if self.table is None:
            from nasbench.bench.synthetic import synthetic_nb201_table

            self.table = synthetic_nb201_table(seed=self._synthetic_seed)

    def evaluate(self, genotype: Genotype, budget: float | None = None) -> Result:
        """Read the table at epoch ``budget`` (None: ``config.epochs`` or the last epoch).

        Args:
            genotype: a genotype or its text.
            budget: epochs, 1..the table's last epoch.

        Returns:
            A Result: ``score`` (= ``config.metric``) and the table's metrics; cost
            ``params``, ``macs`` (of this genotype, see :func:`own_costs`), ``latency_ms``,
            ``epochs``, ``wall_s`` (simulated), ``lookup_s``; info ``key``, ``epoch``,
            ``simulated=True``.
        """
        start = time.perf_counter()
        if self.space is not None:
            genotype = self.space.validate(genotype)
        if budget is None:
            epoch = self.default_epoch
        else:
            if isinstance(budget, bool) or budget != int(budget) or budget < 1:
                raise ConfigError(f"budget must be a whole number of epochs >= 1, got {budget!r}.")
            if budget > self.table.max_epoch:
                raise ConfigError(
                    f"budget {budget} exceeds the table's last epoch {self.table.max_epoch}."
                )
            epoch = int(budget)
        row = self.table.query(genotype, epoch=epoch)
        metrics = {m: float(row[m]) for m in RESULT_METRICS if m in row}
        metrics["score"] = float(row[self.config.metric])
        per_epoch = float(row.get("train_seconds_per_epoch", np.nan))
        cost = {c: float(row[c]) for c in RESULT_COSTS if c in row}
        cost.update(own_costs(self.table, genotype, row, cost))
        cost["epochs"] = float(epoch)
        cost["wall_s"] = per_epoch * epoch if np.isfinite(per_epoch) else 0.0
        cost["lookup_s"] = time.perf_counter() - start
        info = {"evaluator": "table", "key": row["key"], "epoch": epoch, "simulated": True}
        return Result(metrics, cost, info)


def _refuse_other_size(table: Any, size: int, where: str, setting: str) -> None:
    """Refuse a table trained at another image edge than ``size`` (0: any): its scores are
    of other images, and a search stating ``size`` would report them as its own. A table
    that records no size (imported or synthetic) is not refused."""
    held = table.recipe.get("size")
    if size and held is not None and int(held) != int(size):
        raise ConfigError(
            f"{where} holds results at image size {held}, not at {setting} {size}; set "
            f"{setting} to {held}, or build the table at {size} (`nasbench bench generate "
            f"--size {size}`)."
        )


def _refuse_cells_the_table_lacks(held: Space, searched: Space, where: str) -> None:
    """Refuse a search space whose cells the table's space cannot hold: an op it lacks
    (the lookup would call it outside "this space's op list", the table's, not the
    search's) or another number of nodes. A narrower op list is accepted: every one of its
    cells is a cell of the table's space."""
    held_ops, searched_ops = getattr(held, "ops", None), getattr(searched, "ops", None)
    if held_ops is not None and searched_ops is not None:
        lacking = [op for op in searched_ops if op not in held_ops]
        if lacking:
            raise ConfigError(
                f"{where} holds cells of ops {', '.join(held_ops)}, but the search's space has "
                f"ops {', '.join(searched_ops)} ({', '.join(lacking)} not in the table); set "
                f"space.ops to {list(held_ops)}, or generate a table for this space "
                f"(`nasbench bench generate --ops {','.join(searched_ops)}`)."
            )
    held_nodes, searched_nodes = getattr(held, "n_nodes", None), getattr(searched, "n_nodes", None)
    if held_nodes is not None and searched_nodes is not None and held_nodes != searched_nodes:
        raise ConfigError(
            f"{where} holds cells of {held_nodes} nodes, not of space.n_nodes "
            f"{searched_nodes}; set space.n_nodes to {held_nodes}, or generate a table for "
            "this space."
        )


# Cells drawn to test a space too large to list: a sampled table misses nearly all of them.
COVERAGE_DRAWS = 200


def _refuse_a_table_short_of_the_space(table: Any, searched: Space, where: str, path: str) -> None:
    """Refuse a table that lacks some architecture (canonical class) of the search's space:
    sampled (``--sample``), stopped before the end or still being generated, it leaves
    cells a search will propose unscored; a table that records no space is keyed by the
    cells' JSON, so it must hold those of the searched space. A table of every class
    (isomorphic cells share one row) is accepted."""
    from nasbench.bench.table import being_generated
    from nasbench.spaces.base import ENUMERATE_LIMIT

    held = table.held_keys()
    if searched.size() <= ENUMERATE_LIMIT:
        wanted = _architectures_of(_space_json(searched), _space_json(table.space))
        count = f"{sum(key in held for key in wanted)} of the {len(wanted):,} architectures"
        short = not wanted <= held
    else:  # too many to list: a random draw of cells finds a sampled table's gaps
        rng = np.random.default_rng(0)
        drawn = (table.key_of(searched.sample(rng)) for _ in range(COVERAGE_DRAWS))
        count = f"{len(table):,} architectures, of the {searched.size():.3e} genotypes"
        short = any(key not in held for key in drawn)
    if not short:
        return
    if being_generated(path):  # the lock a generation holds: "run it again" would be refused
        raise ConfigError(
            f"{where} holds {count} of space {searched.name!r} so far: `nasbench bench "
            "generate` is writing it now; wait for it to end, then search."
        )
    # The way to a whole table depends on why it is not: running a sampled table's
    # command again only re-reads its sample.
    whole = "generate the whole space (`nasbench bench generate` without --sample)"
    if table.space is None:
        how, fix = "it records no space, so cells are looked up by their JSON", whole
    elif not table.complete and not _sampled(table):
        how = "its generation was stopped"
        fix = "finish it (the same `nasbench bench generate` command again)"
    else:
        how, fix = "it was sampled", whole
    raise ConfigError(
        f"{where} holds {count} of space {searched.name!r} ({how}), so the "
        f"search would propose cells it cannot score; {fix}, or narrow space.ops to a space "
        "the table holds whole."
    )


def _sampled(table: Any) -> bool:
    """Whether ``table``'s generation planned fewer architectures than its space has (a
    ``--sample``, stopped or not); False where that cannot be told."""
    from nasbench.spaces.base import ENUMERATE_LIMIT

    if table.planned is None or table.space.size() > ENUMERATE_LIMIT:
        return False
    every = _space_json(table.space)
    return table.planned < len(_architectures_of(every, every))


def _space_json(space: Space) -> str:
    """The space's ``to_dict()`` as text without its skeleton (the network the cells are
    stacked in does not change which cells exist or their keys), for the cache below;
    ``null`` for no space (a table that records none)."""
    if space is None:
        return "null"
    described = {k: v for k, v in space.to_dict().items() if k != "skeleton"}
    return json.dumps(described, sort_keys=True)


@functools.lru_cache(maxsize=8)
def _architectures_of(searched_json: str, held_json: str) -> frozenset[str]:
    """Keys, in the table's space, of every architecture of the searched space: listing
    all 15,625 NB201 cells takes a second, and a search checks its config more than once."""
    from nasbench.bench.table import genotype_key
    from nasbench.spaces import space_from_dict

    searched = space_from_dict(json.loads(searched_json))
    held = None if held_json == "null" else space_from_dict(json.loads(held_json))
    return frozenset(genotype_key(g, held) for g in searched.enumerate())


def own_costs(
    table: Any, genotype: Genotype, row: Mapping[str, Any], cost: Mapping[str, float]
) -> dict[str, float]:
    """Parameters and MACs of ``genotype`` itself, from those the table recorded for its class.

    A table keeps one row per class of isomorphic cells, measured on the class's first
    member; another member can carry convolutions on edges that do not reach the output,
    which the network it builds still holds. On a NAS-Bench-201 table each edge's op adds
    a fixed amount per cell (its stage's channels and resolution), so the difference of
    the two cells' closed-form counts corrects the recorded figures exactly.

    Args:
        table: the :class:`~nasbench.bench.table.BenchmarkTable`.
        genotype: the genotype asked for, or its text.
        row: the table's row for its class (``genotype_json`` is the member measured).
        cost: the recorded costs.

    Returns:
        The corrected ``params`` (and ``macs`` where the table records its image size);
        empty for other spaces or when the recorded cell is the one asked for.

    Example:
        >>> own_costs(table, g, table.query(g), {"params": 1e5})  # doctest: +SKIP
        {'params': 343538.0}
    """
    from nasbench.spaces import NB201Space

    space = table.space
    if not isinstance(space, NB201Space):
        return {}
    if getattr(genotype, "kind", None) != "nb201":
        genotype = space.validate(genotype)  # an evaluator without a space passes the text
    text, measured = genotype.to_json(), str(row.get("genotype_json", ""))
    if measured == text:
        return {}
    recipe = table.recipe
    size = recipe.get("size", 28 if recipe.get("kind") == "synthetic" else None)
    # Lookups are microseconds: the closed forms are cached per cell and network.
    mine, theirs = (
        _closed_form_costs(t, space.skeleton, int(size or 28)) for t in (text, measured)
    )
    out = {}
    for name in ("params", "macs") if size else ("params",):  # MACs depend on the size
        if np.isfinite(cost.get(name, np.nan)):
            out[name] = float(cost[name]) + mine[name] - theirs[name]
    return out


@functools.lru_cache(maxsize=65_536)
def _closed_form_costs(genotype_json: str, skeleton: Any, size: int) -> dict[str, int]:
    """:func:`~nasbench.bench.synthetic.nb201_costs` of an NB201 cell given as its JSON."""
    from collections import Counter

    from nasbench.bench.synthetic import nb201_costs
    from nasbench.spaces.genotype import parse_genotype

    counts = Counter(op for *_, op in parse_genotype(genotype_json).edges())
    return nb201_costs(counts, skeleton, size)
