"""The run store: the only interface between a running search and its viewers.

A run is a folder with ``run.sqlite`` (SQLite, WAL mode, one writer, many
readers) and ``checkpoints/``. The search writes through :class:`RunStore`;
notebooks, widgets and figures read through :func:`load`, which returns pandas
DataFrames; :func:`request_stop` asks a search to stop from any process.

Example:
    >>> from nasbench.runs import RunStore, load  # doctest: +SKIP
    >>> with RunStore.create("runs/x", config) as store:  # doctest: +SKIP
    ...     store.log_metrics(1, 0, "train", {"loss": 0.69})
    >>> load("runs/x").history  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from nasbench.runs.schema import SCHEMA_VERSION, STATUSES
from nasbench.runs.store import RunStore, request_stop

__all__ = [
    "SCHEMA_VERSION",
    "STATUSES",
    "Run",
    "RunStore",
    "capture_environment",
    "capture_rng",
    "list_runs",
    "load",
    "load_checkpoint",
    "request_stop",
    "restore_rng",
    "save_checkpoint",
]

# The readers need pandas and the checkpoints torch; importing them on first use keeps
# `nasbench stop` and `nasbench runs` quick to answer.
_LAZY = {
    "Run": "nasbench.runs.reader",
    "list_runs": "nasbench.runs.reader",
    "load": "nasbench.runs.reader",
    "capture_rng": "nasbench.runs.checkpoint",
    "restore_rng": "nasbench.runs.checkpoint",
    "save_checkpoint": "nasbench.runs.checkpoint",
    "load_checkpoint": "nasbench.runs.checkpoint",
    "capture_environment": "nasbench.runs.environment",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'nasbench.runs' has no attribute '{name}'")
