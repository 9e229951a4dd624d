"""Task metrics as MedMNIST defines them, and the matching training losses.

MedMNIST reports ACC and AUC per task: for binary and multi-class tasks ACC is
the accuracy of the arg-max class and AUC the mean one-vs-rest ROC AUC over
classes; for multi-label tasks both are averaged over labels with a 0.5
threshold on the sigmoid for ACC.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from nasbench.errors import ConfigError, DivergenceError

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


CLASS_WEIGHTS = ("none", "balanced")
# TrainConfig.class_weight also takes "auto", resolved by resolve_class_weight.
AUTO = "auto"
# "auto" weighs a split whose largest class holds at least this many times the images of
# its smallest (a 75/25 split is 3.0; the synthetic sets' near-50/50 splits stay unweighted).
SKEW_RATIO = 1.5
SINGLE_LABEL_TASKS = ("binary", "multi-class", "ordinal")


def class_skew(targets: np.ndarray | None, num_classes: int | None = None) -> float:
    """How skewed single-label training labels are: largest class count / smallest.

    Args:
        targets: ``(N,)`` class indices (None: unknown labels).
        num_classes: the number of classes; a class with no image makes the skew infinite.

    Returns:
        The ratio (1.0 for balanced labels), ``inf`` when a class is absent, NaN when
        ``targets`` is None or empty.

    Example:
        >>> class_skew(np.array([0, 0, 0, 1]))
        3.0
    """
    if targets is None or len(targets) == 0:
        return float("nan")
    labels = np.asarray(targets, dtype=np.int64).reshape(-1)
    counts = np.bincount(labels, minlength=int(num_classes or labels.max() + 1))
    return float("inf") if counts.min() == 0 else float(counts.max() / counts.min())


def resolve_class_weight(
    class_weight: str,
    task: str,
    targets: np.ndarray | None,
    spatial_dims: int | None = None,
    num_classes: int | None = None,
) -> tuple[str, str]:
    """Turn ``"auto"`` into ``"none"`` or ``"balanced"``; other choices pass through.

    ``"auto"`` weighs the loss (``"balanced"``) for a single-label volume set (3D) whose
    training labels are skewed (``class_skew >= SKEW_RATIO``): unweighted, a small 3D CNN
    trained 4 epochs on 48 volumes at 75/25 answered the majority class for every test
    case, weighted it answered both; on benchmarks/volumes.py's 28³ set the searched
    cell's test AUC rose from 0.968 to 0.995. 2D sets and multi-label sets stay
    ``"none"`` (the recipe the 2D MedMNIST figures were measured with); ask for
    ``"balanced"`` there.

    Args:
        class_weight: ``"auto"``, ``"none"`` or ``"balanced"``.
        task: a ``DatasetInfo.task``.
        targets: the training labels (None: unknown, then ``"none"``).
        spatial_dims: 2 or 3 (None: unknown, treated as 2D).
        num_classes: the number of classes.

    Returns:
        ``(choice, reason)``: the weighting used and a short sentence saying why.

    Example:
        >>> resolve_class_weight("auto", "binary", np.array([0, 0, 0, 1]), spatial_dims=3)[0]
        'balanced'
        >>> resolve_class_weight("auto", "binary", np.array([0, 0, 0, 1]), spatial_dims=2)[0]
        'none'
    """
    if class_weight != AUTO:
        return class_weight, f"class_weight={class_weight!r} as configured"
    if task not in SINGLE_LABEL_TASKS:
        return "none", f"auto: no weighting for a {task} task"
    if spatial_dims != 3:
        return "none", "auto: no weighting for 2D images"
    skew = class_skew(targets, num_classes)
    if not skew >= SKEW_RATIO:  # NaN (no labels) also lands here
        return "none", f"auto: training labels not skewed (largest/smallest class {skew:.2f})"
    return "balanced", (
        f"auto: balanced weights, the training labels are skewed (largest/smallest class "
        f"{skew:.2f} >= {SKEW_RATIO})"
    )


def training_loss(
    task: str,
    targets: np.ndarray | None = None,
    class_weight: str = "none",
    label_smoothing: float = 0.0,
    num_classes: int | None = None,
) -> nn.Module:
    """The training loss of a classification task, weighted against class imbalance.

    A skewed training split (a 3D set with 73% of one class) otherwise teaches the
    network to answer the majority class; ``"balanced"`` weighs each class by
    ``N / (K * count)`` (scikit-learn's "balanced"), so every class carries the same
    total weight; for multi-label tasks each label's positives get ``pos_weight =
    negatives / positives``.

    Args:
        task: a ``DatasetInfo.task``.
        targets: the training labels, ``(N,)`` class indices or ``(N, K)`` 0/1 labels
            (needed for ``"balanced"``).
        class_weight: ``"none"`` or ``"balanced"``.
        label_smoothing: cross-entropy label smoothing in [0, 1) (not for multi-label).
        num_classes: the number of classes (default: the largest label + 1).

    Returns:
        ``CrossEntropyLoss`` or ``BCEWithLogitsLoss`` with those settings.

    Example:
        >>> loss = training_loss("binary", np.array([0, 0, 0, 1]), "balanced")
        >>> [round(w, 3) for w in loss.weight.tolist()]
        [0.667, 2.0]
    """
    base = loss_for_task(task)
    if class_weight not in CLASS_WEIGHTS:
        raise ConfigError(f"class_weight must be one of {', '.join(CLASS_WEIGHTS)}, got "
                          f"{class_weight!r}.")  # fmt: skip
    if not 0.0 <= label_smoothing < 1.0:
        raise ConfigError(f"label_smoothing must be in [0, 1), got {label_smoothing!r}.")
    if class_weight == "balanced" and targets is None:
        raise ConfigError("class_weight='balanced' needs the training labels; this dataset "
                          "has none (.targets is None): use class_weight='none'.")  # fmt: skip
    if task == "multi-label":
        if label_smoothing:
            raise ConfigError("label_smoothing is for single-label tasks; set it to 0 for "
                              "a multi-label set.")  # fmt: skip
        if class_weight == "none":
            return base
        labels = np.asarray(targets, dtype=np.float64).reshape(len(targets), -1)
        positives = labels.sum(axis=0)
        pos_weight = (len(labels) - positives) / np.maximum(positives, 1.0)
        return nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pos_weight, dtype=torch.float32))
    weight = None
    if class_weight == "balanced":
        labels = np.asarray(targets, dtype=np.int64).reshape(-1)
        k = int(num_classes or labels.max() + 1)
        counts = np.bincount(labels, minlength=k).astype(np.float64)
        # A class absent from the split gets weight 0 rather than an infinite one.
        weight = np.where(counts > 0, len(labels) / (k * np.maximum(counts, 1.0)), 0.0)
        weight = torch.tensor(weight, dtype=torch.float32)
    return nn.CrossEntropyLoss(weight=weight, label_smoothing=float(label_smoothing))


def _one_vs_rest_aucs(positive: np.ndarray, score: np.ndarray) -> np.ndarray:
    """The ROC AUC of each column of ``score`` at ranking that column's positives first.

    The Mann-Whitney form of the area: the chance that a positive scores above a
    negative, a tie counting half, which is the trapezoid area under the ROC curve that
    ``sklearn.metrics.roc_auc_score`` gives. One ranking serves every column: a search
    scores each training batch, and one scikit-learn call per class cost 2-3 ms (24 ms a
    batch of 64 for 11 classes, 5% of a GPU's whole DARTS step at 28x28); the ranking
    costs a quarter of a millisecond (``benchmarks/metrics.py``).

    Args:
        positive: ``(N, K)`` booleans, the positive rows of each column.
        score: ``(N, K)`` scores, higher meaning more likely positive (no NaN).

    Returns:
        ``(K,)`` float64 AUCs; NaN for a column without both a positive and a negative
        (a class absent from a small batch has no AUC: it is skipped rather than fatal).

    Example:
        >>> _one_vs_rest_aucs(np.array([[True], [False], [True]]), np.array([[0.9], [0.5], [0.5]]))
        array([0.75])
    """
    # Imported at first use: scipy.stats takes a few tenths of a second to import, which
    # every figure module and the Monitor's first poll would otherwise pay.
    from scipy.stats import rankdata

    ranks = rankdata(score, axis=0)  # tied scores share their mean rank: a tie counts half
    positives = positive.sum(axis=0).astype(np.float64)
    negatives = len(positive) - positives
    above = (ranks * positive).sum(axis=0) - positives * (positives + 1) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        aucs = above / (positives * negatives)
    return np.where((positives > 0) & (negatives > 0), aucs, np.nan)


def classification_metrics(logits: torch.Tensor, targets: torch.Tensor, task: str) -> dict:
    """Compute MedMNIST's ACC and AUC from logits.

    Args:
        logits: ``(N, K)`` network outputs (a tensor or a numpy array).
        targets: ``(N,)`` class indices in ``0..K-1`` (or MedMNIST's ``(N, 1)``), or
            ``(N, K)`` 0/1 labels for multi-label (a tensor or a numpy array).
        task: a ``DatasetInfo.task``.

    Returns:
        ``{"acc": float, "auc": float}``. AUC is the mean of the one-vs-rest AUCs of the
        classes (multi-label: labels) that have both cases in ``targets``; a class absent
        from them is left out (:func:`classes_without_auc` names them), and AUC is NaN
        when no class has both.

    Raises:
        ConfigError: shapes that do not match, or a target class the logits lack.
        DivergenceError: NaN logits (a diverged model).

    Example:
        >>> m = classification_metrics(torch.tensor([[2., 0.], [0., 2.]]), torch.tensor([0, 1]),
        ...                            "binary")
        >>> m["acc"], m["auc"]
        (1.0, 1.0)
    """
    # numpy arrays are taken as tensors (a notebook often holds its outputs as arrays).
    logits = torch.as_tensor(logits).detach().float().cpu()
    targets = torch.as_tensor(targets)
    truth = targets.detach().cpu().numpy()
    if logits.dim() != 2:
        raise ConfigError(
            f"logits must be (N, K) network outputs, got shape {tuple(logits.shape)}."
        )
    if task == "multi-label":
        if truth.shape != tuple(logits.shape):
            raise ConfigError(
                f"targets must be {tuple(logits.shape)} 0/1 labels for a multi-label task, "
                f"got shape {tuple(targets.shape)}; pass one row of labels per image."
            )
        prob = torch.sigmoid(logits).numpy()
    else:
        if truth.ndim == 2 and truth.shape[1] == 1:
            truth = truth[:, 0]  # MedMNIST keeps labels as (N, 1): compared as is, it broadcasts
        if truth.shape != (len(logits),):
            raise ConfigError(
                f"targets must be {len(logits)} class indices for a {task} task, got shape "
                f"{tuple(targets.shape)}; pass one index per image."
            )
        outside = truth[(truth < 0) | (truth >= logits.shape[1])]
        if outside.size:
            raise ConfigError(
                f"targets hold class {outside[0]}, but the logits have {logits.shape[1]} "
                f"classes (0..{logits.shape[1] - 1}); give the network one output per class."
            )
        prob = torch.softmax(logits, dim=1).numpy()
    if np.isnan(prob).any():
        # -inf logits are fine (probability 0); NaN, or +inf, give no probability at all.
        raise DivergenceError(
            "logits hold NaN (or +inf) values, so ACC and AUC are undefined; the model "
            "diverged: train it again with a lower learning rate."
        )
    if task == "multi-label":
        acc = float(((prob > 0.5) == (truth > 0.5)).mean())
        aucs = _one_vs_rest_aucs(truth > 0.5, prob)
    else:
        acc = float((prob.argmax(axis=1) == truth).mean())
        if prob.shape[1] == 2:  # one AUC: class 1 against class 0
            aucs = _one_vs_rest_aucs((truth == 1)[:, None], prob[:, 1:])
        else:
            aucs = _one_vs_rest_aucs(truth[:, None] == np.arange(prob.shape[1]), prob)
    finite = aucs[~np.isnan(aucs)]
    return {"acc": acc, "auc": float(finite.mean()) if finite.size else float("nan")}


def classes_without_auc(targets: torch.Tensor, num_outputs: int, task: str) -> list[int]:
    """The classes (multi-label: labels) a split gives no AUC for, as
    :func:`classification_metrics` leaves them out of its mean: absent from the split, or
    (multi-label) positive in every image.

    Args:
        targets: the split's targets, as :func:`classification_metrics` takes them.
        num_outputs: the network's outputs ``K``.
        task: a ``DatasetInfo.task``; binary gives ``[]`` (its one AUC is NaN instead).

    Returns:
        Class indices, ascending.

    Example:
        >>> classes_without_auc(torch.tensor([0, 1, 1, 3]), 4, "multi-class")
        [2]
    """
    truth = targets.detach().cpu().numpy()
    if task == "multi-label":
        truth = truth.reshape(len(truth), -1)
        return [k for k in range(truth.shape[1]) if len(np.unique(truth[:, k])) < 2]
    if num_outputs <= 2:
        return []
    present = set(np.unique(truth.reshape(-1)).tolist())
    return [k for k in range(num_outputs) if k not in present]
