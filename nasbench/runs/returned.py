"""Which of a run's derived genotypes its search returned.

A search logs the genotype it derives after each epoch (or its best candidate after
each evaluation) and returns the last one, except when RobustDARTS's early stop fired:
it then returns the cell of the epoch before the Hessian's dominant eigenvalue took off
(the ``early_stop`` event's ``return_epoch``), and the rows after it are the collapsing
cells it stopped on. Retraining, the report and the benchmarks read the returned one
through :func:`returned_genotype_row`.
"""

from __future__ import annotations

import pandas as pd


def returned_genotype_row(genotypes: pd.DataFrame, events: pd.DataFrame) -> pd.Series | None:
    """The row of a run's ``genotypes`` frame that its search returned.

    Args:
        genotypes: ``run.genotypes`` (columns ``epoch``, ``step``, ``genotype``, ...).
        events: ``run.events`` (columns ``kind``, ``payload``, ...).

    Returns:
        The last row, or the ``early_stop`` event's ``return_epoch`` row when the search
        stopped early and that row is recorded; None when there is no genotype yet.

    Example:
        >>> rows = pd.DataFrame({"epoch": [0, 1, 2], "step": [5, 10, 15], "genotype": "abc"})
        >>> stop = pd.DataFrame({"kind": ["early_stop"], "payload": [{"return_epoch": 1}]})
        >>> int(returned_genotype_row(rows, stop)["epoch"])
        1
    """
    if genotypes.empty:
        return None
    if not events.empty:
        stops = events[events["kind"] == "early_stop"]
        if len(stops):
            epoch = (stops.iloc[-1]["payload"] or {}).get("return_epoch")
            kept = genotypes[genotypes["epoch"] == epoch]
            if epoch is not None and len(kept):
                return kept.iloc[-1]
    return genotypes.iloc[-1]
