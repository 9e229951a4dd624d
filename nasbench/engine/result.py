"""What a search returns: :class:`SearchResult` (a leaf: both search loops import it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nasbench.protocols import Genotype

__all__ = ["SearchResult"]


@dataclass
class SearchResult:
    """What a finished (or stopped) search returns.

    Attributes:
        run_dir: the run folder.
        status: ``finished`` or ``stopped``.
        genotype: the last derived genotype; after an early stop, the one of the epoch
            the RobustDARTS rule returns to.
        metrics: the validation metrics of that genotype's epoch: ``val_loss`` and, for
            classification, ``val_acc``, ``val_auc``; for segmentation ``val_dice``,
            ``val_dice_<class>`` per foreground class and ``val_hd95``.
        steps: steps done.
    """

    run_dir: Path
    status: str
    genotype: Genotype
    metrics: dict[str, float]
    steps: int
