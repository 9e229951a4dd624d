"""What a batch's ACC and AUC cost, next to scikit-learn's one call per class.

A search scores every training batch (the step's ``acc`` and ``auc`` rows) and every
validation split. :func:`nasbench.evaluation.metrics.classification_metrics` ranks all
the classes' scores at once (the Mann-Whitney form of the ROC area); the baseline, timed
in the same process, is how the AUC was computed before: ``sklearn.metrics.roc_auc_score``
once per class that has both cases, then the mean. Both give the same AUC (to 1e-12; the
script checks it on every row).

Rows: a search batch (64 images) and a validation split (``--split`` images) for a binary
set, an 11-class set (as OrganAMNIST) and a 14-label multi-label set (as ChestMNIST).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/metrics.py
    OMP_NUM_THREADS=1 python benchmarks/metrics.py --repeats 20 --split 4000
"""

from __future__ import annotations

import os

# Before torch starts OpenMP: spinning worker threads make every process on a shared
# CPU several times slower.
os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

import argparse  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from nasbench.evaluation.metrics import classification_metrics  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from _script import count, run_main  # noqa: E402
from checkpoint import median_seconds  # noqa: E402

SETS = (("binary", 2), ("multi-class", 11), ("multi-label", 14))
MIN_IMAGES = 2  # the least --batch or --split: an AUC needs both cases


def sklearn_metrics(logits: torch.Tensor, targets: torch.Tensor, task: str) -> dict:
    """ACC and AUC with one ``roc_auc_score`` call per class (the baseline).

    Args:
        logits: ``(N, K)`` network outputs.
        targets: ``(N,)`` class indices, or ``(N, K)`` 0/1 labels for multi-label.
        task: ``binary``, ``multi-class`` or ``multi-label``.

    Returns:
        ``{"acc": float, "auc": float}`` as :func:`classification_metrics` defines them.

    Example:
        >>> sklearn_metrics(torch.tensor([[2., 0.], [0., 2.]]), torch.tensor([0, 1]), "binary")
        {'acc': 1.0, 'auc': 1.0}
    """
    from sklearn.metrics import roc_auc_score

    truth = targets.numpy()
    if task == "multi-label":
        prob = torch.sigmoid(logits.float()).numpy()
        acc = float(((prob > 0.5) == (truth > 0.5)).mean())
        columns = [(truth[:, k], prob[:, k]) for k in range(prob.shape[1])]
    else:
        prob = torch.softmax(logits.float(), dim=1).numpy()
        acc = float((prob.argmax(axis=1) == truth).mean())
        if prob.shape[1] == 2:
            columns = [(truth, prob[:, 1])]
        else:
            columns = [(truth == k, prob[:, k]) for k in range(prob.shape[1])]
    aucs = [roc_auc_score(t, s) for t, s in columns if len(np.unique(t)) == 2]
    return {"acc": acc, "auc": float(np.mean(aucs)) if aucs else math.nan}


def batch(task: str, k: int, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits of a better-than-chance model and their labels.

    Args:
        task: as in :func:`sklearn_metrics`.
        k: classes (labels for multi-label).
        n: images.
        seed: the generator's seed.

    Returns:
        ``(logits, targets)``.

    Example:
        >>> [tuple(t.shape) for t in batch("multi-label", 3, 5, seed=0)]
        [(5, 3), (5, 3)]
    """
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, k, generator=generator)
    if task == "multi-label":
        targets = (torch.rand(n, k, generator=generator) < 0.3).long()
        logits += targets
    else:
        targets = torch.randint(0, k, (n,), generator=generator)
        logits[torch.arange(n), targets] += 1.0
    return logits, targets


def median_ms(action: Callable[[], object], repeats: int) -> float:
    """Median milliseconds of ``repeats`` calls after one untimed call (imports, caches).

    Args:
        action: what to time.
        repeats: timed calls.

    Returns:
        Milliseconds.

    Example:
        >>> median_ms(lambda: None, 3) >= 0
        True
    """
    return median_seconds(action, repeats, warmup=1) * 1e3


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=count(1), default=20, help="timed calls per row")
    # An AUC needs both cases among the images: fewer than MIN_IMAGES rank nothing.
    parser.add_argument(
        "--batch", type=count(MIN_IMAGES), default=64, help="a search batch's images"
    )
    parser.add_argument(
        "--split", type=count(MIN_IMAGES), default=2000, help="a validation split's images"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print(f"load average {os.getloadavg()[0]:.2f}, torch threads {torch.get_num_threads()}")
    print(f"{'set':<12} {'images':>7} {'scikit-learn ms':>16} {'nasbench ms':>12} {'ratio':>7}")
    for task, k in SETS:
        for n in (args.batch, args.split):
            logits, targets = batch(task, k, n, seed=0)
            ours = classification_metrics(logits, targets, task)
            theirs = sklearn_metrics(logits, targets, task)
            if abs(ours["auc"] - theirs["auc"]) > 1e-12 or ours["acc"] != theirs["acc"]:
                raise SystemExit(f"{task} n={n}: nasbench {ours} != scikit-learn {theirs}")
            inputs = (logits, targets, task)
            baseline = median_ms(partial(sklearn_metrics, *inputs), args.repeats)
            fast = median_ms(partial(classification_metrics, *inputs), args.repeats)
            name = f"{task} {k}"
            print(f"{name:<12} {n:>7} {baseline:>16.3f} {fast:>12.3f} {baseline / fast:>6.1f}x")


if __name__ == "__main__":
    raise SystemExit(run_main(main))
