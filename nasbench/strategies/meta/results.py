"""A METANAS run's few-shot rows as tables: adaptation curves and the meta-test summary."""

from __future__ import annotations

from typing import Any

import pandas as pd


def adaptation_curves(run: Any, phase: str | None = None) -> pd.DataFrame:
    """One row per (learner, episode, inner step) of the recorded adaptation curves.

    Args:
        run: a :class:`nasbench.runs.Run` of a METANAS search.
        phase: ``"meta-epoch"`` (watched tasks after each meta-epoch), ``"meta-test"``
            (the scored tasks), or None for both.

    Returns:
        Columns ``learner, phase, epoch, episode, inner_step, query_acc, query_loss``.

    Example:
        >>> curves = adaptation_curves(nasbench.runs.load("runs/metanas"))  # doctest: +SKIP
        >>> curves.groupby(["learner", "inner_step"]).query_acc.mean()  # doctest: +SKIP
    """
    events = run.events
    rows = []
    for _, event in events[events["kind"] == "adaptation_curve"].iterrows():
        payload = event["payload"]
        if phase is not None and payload["phase"] != phase:
            continue
        for i, (acc, loss) in enumerate(
            zip(payload["query_acc"], payload["query_loss"], strict=True)
        ):
            rows.append(
                (payload["learner"], payload["phase"], event["epoch"], payload["episode"], i,
                 acc, loss)
            )  # fmt: skip
    columns = ["learner", "phase", "epoch", "episode", "inner_step", "query_acc", "query_loss"]
    return pd.DataFrame(rows, columns=columns)


def fewshot_summary(run: Any) -> pd.DataFrame:
    """Mean meta-test accuracy and its 95% confidence interval per learner.

    Args:
        run: a :class:`nasbench.runs.Run` of a finished METANAS search.

    Returns:
        Indexed by learner: ``acc_mean``, ``acc_ci95``, ``episodes`` (empty before the end).
    """
    events = run.events
    found = events[events["kind"] == "fewshot_test"]
    if found.empty:
        return pd.DataFrame(columns=["acc_mean", "acc_ci95", "episodes"])
    learners = found.iloc[-1]["payload"]["learners"]
    return pd.DataFrame.from_dict(learners, orient="index")
