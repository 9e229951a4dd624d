"""Which way a logged metric improves, from its name (read without pandas or torch).

Run stores log metrics by name (``val_acc``, ``val_hd95``, ``test_nmse``,
``hessian_eigenvalue``, ``dist_mm_apex``...). A name's words (split at ``_``, digits
dropped, so ``ap50`` reads as ``ap`` and ``hd95`` as ``hd``) say whether larger or smaller
is better; the first word that says so decides. A name no word decides (``epoch``,
``parameter_free_ops``) has no best value.

Example:
    >>> [better("val_auc"), better("val_hd95"), better("parameter_free_ops")]
    ['max', 'min', None]
"""

from __future__ import annotations

HIGHER_IS_BETTER = frozenset({
    "acc", "accuracy", "auc", "dice", "iou", "psnr", "ssim", "ap", "map", "froc", "f",
    "reward", "score", "naswot", "kappa", "sensitivity", "specificity", "recall", "precision",
})  # fmt: skip
LOWER_IS_BETTER = frozenset({
    "loss", "error", "regret", "nmse", "mse", "mae", "hd", "hausdorff", "eigenvalue", "dist",
    "angle", "offset", "memory", "mb", "params", "macs", "wall", "seconds", "latency", "ms",
})  # fmt: skip


def better(name: str) -> str | None:
    """``"max"`` when a larger value of metric ``name`` is better, ``"min"`` when a smaller
    one is, None when its name does not say.

    Args:
        name: a metric name as a run store logs it.

    Returns:
        ``"max"``, ``"min"`` or None.

    Example:
        >>> better("test_nmse"), better("val_ap50"), better("peak_memory_mb")
        ('min', 'max', 'min')
    """
    for word in str(name).lower().split("_"):
        word = word.rstrip("0123456789")
        if word in HIGHER_IS_BETTER:
            return "max"
        if word in LOWER_IS_BETTER:
            return "min"
    return None


def best_of(name: str, values: list[float]) -> float | None:
    """The best of ``values`` of metric ``name`` (None when its direction is unknown).

    Example:
        >>> best_of("val_loss", [0.5, 0.3, 0.4]), best_of("val_acc", [0.5, 0.7])
        (0.3, 0.7)
    """
    direction = better(name)
    if direction is None or not values:
        return None
    return min(values) if direction == "min" else max(values)
