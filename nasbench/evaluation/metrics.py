"""Task metrics as MedMNIST defines them, and the matching training losses.

MedMNIST reports ACC and AUC per task: for binary and multi-class tasks ACC is
the accuracy of the arg-max class and AUC the mean one-vs-rest ROC AUC over
classes; for multi-label tasks both are averaged over labels with a 0.5
threshold on the sigmoid for ACC.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from nasbench.errors import ConfigError

CLASSIFICATION_TASKS = ("binary", "multi-class", "ordinal", "multi-label")


def loss_for_task(task: str) -> nn.Module:
    """Return the training loss for a classification task.

    Args:
        task: a ``DatasetInfo.task``.

    Returns:
        ``BCEWithLogitsLoss`` for multi-label, ``CrossEntropyLoss`` otherwise.

    Example:
        >>> loss_for_task("binary")
        CrossEntropyLoss()
    """
    if task not in CLASSIFICATION_TASKS:
        raise ConfigError(
            f"task {task!r} is not a classification task; the cell search supports "
            f"{', '.join(CLASSIFICATION_TASKS)}."
        )
    return nn.BCEWithLogitsLoss() if task == "multi-label" else nn.CrossEntropyLoss()


def _safe_auc(truth: np.ndarray, score: np.ndarray) -> float:
    # A class absent from a small evaluation batch has no AUC; skip it rather than fail.
    if len(np.unique(truth)) < 2:
        return float("nan")
    return float(roc_auc_score(truth, score))


def classification_metrics(logits: torch.Tensor, targets: torch.Tensor, task: str) -> dict:
    """Compute MedMNIST's ACC and AUC from logits.

    Args:
        logits: ``(N, K)`` network outputs.
        targets: ``(N,)`` class indices, or ``(N, K)`` 0/1 labels for multi-label.
        task: a ``DatasetInfo.task``.

    Returns:
        ``{"acc": float, "auc": float}``; AUC is NaN when only one class is present.

    Example:
        >>> m = classification_metrics(torch.tensor([[2., 0.], [0., 2.]]), torch.tensor([0, 1]),
        ...                            "binary")
        >>> m["acc"], m["auc"]
        (1.0, 1.0)
    """
    logits = logits.detach().float().cpu()
    truth = targets.detach().cpu().numpy()
    if task == "multi-label":
        prob = torch.sigmoid(logits).numpy()
        acc = float(((prob > 0.5) == (truth > 0.5)).mean())
        aucs = [_safe_auc(truth[:, k], prob[:, k]) for k in range(prob.shape[1])]
    else:
        prob = torch.softmax(logits, dim=1).numpy()
        acc = float((prob.argmax(axis=1) == truth).mean())
        if prob.shape[1] == 2:
            aucs = [_safe_auc(truth, prob[:, 1])]
        else:
            aucs = [_safe_auc(truth == k, prob[:, k]) for k in range(prob.shape[1])]
    finite = [a for a in aucs if not np.isnan(a)]
    return {"acc": acc, "auc": float(np.mean(finite)) if finite else float("nan")}
