"""Tabular benchmarks: precomputed per-epoch results of every architecture of a space.

- :class:`BenchmarkTable` (:mod:`~nasbench.bench.table`): the Parquet table, keyed by
  canonical genotype; ``query``, ``best``, ``regret``, ``final``, ``to_frame``.
- :func:`synthetic_nb201_table`: a SYNTHETIC landscape over the whole NAS-Bench-201
  space, for tests and strategy comparisons (not trained; see its module).
- :func:`import_nb201` / :func:`import_records`: read a NAS-Bench-201 ``.pth`` file
  or a simple CSV/JSON of (arch, epoch, accuracy) records a user already has.
- :func:`generate_table`: train every (or a sample of) architecture(s) of a small
  cell space and record per-epoch metrics and costs (resumable; CLI
  ``nasbench bench generate``).

Example:
    >>> from nasbench.bench import synthetic_nb201_table
    >>> table = synthetic_nb201_table(seed=0)
    >>> table.best("val_acc")["val_acc"] > 0.9
    True
"""

from __future__ import annotations

import importlib
from typing import Any

from nasbench.bench.nb201_import import import_nb201, import_records
from nasbench.bench.synthetic import synthetic_nb201_table
from nasbench.bench.table import (
    COLUMNS,
    COST_COLUMNS,
    METRIC_COLUMNS,
    BenchmarkTable,
    genotype_key,
)


def __getattr__(name: str) -> Any:
    # generate_table trains networks with the evaluation layer, which sits above the
    # tables (the table evaluator reads them), so it loads by name on first use.
    if name == "generate_table":
        return importlib.import_module("nasbench.bench.generate").generate_table
    raise AttributeError(f"module 'nasbench.bench' has no attribute {name!r}")


__all__ = [
    "COLUMNS",
    "COST_COLUMNS",
    "METRIC_COLUMNS",
    "BenchmarkTable",
    "generate_table",
    "genotype_key",
    "import_nb201",
    "import_records",
    "synthetic_nb201_table",
]
