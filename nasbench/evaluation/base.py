"""The evaluator interface shared by every discrete strategy and the search loop.

An evaluator turns a genotype and a budget into a :class:`Result`. Strategies
never train anything themselves; the loop asks a strategy for a genotype, has an
evaluator score it, and tells the strategy the result (Optuna's ask/tell).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from nasbench.protocols import Genotype


@dataclass(frozen=True)
class Result:
    """What one evaluation produced.

    Attributes:
        metrics: task metrics, higher is better unless named ``*loss`` (``val_acc``,
            ``val_auc``, ``test_acc``...); ``score`` is the value strategies maximise.
        cost: what it cost (``params``, ``macs``, ``latency_ms``, ``wall_s``, ``epochs``).
        info: anything else worth recording (per-epoch curves, the evaluator's name).

    Example:
        >>> Result({"score": 0.9}, {"wall_s": 1.5}).score
        0.9
    """

    metrics: dict[str, float]
    cost: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def score(self) -> float:
        """The value a strategy maximises."""
        return float(self.metrics["score"])


@runtime_checkable
class Evaluator(Protocol):
    """Scores genotypes: ``evaluate(genotype, budget) -> Result``.

    ``budget`` is in the evaluator's own unit (epochs for training, ignored for a
    table lookup or a zero-cost proxy); None means the evaluator's full budget.
    """

    def evaluate(self, genotype: Genotype, budget: float | None = None) -> Result:
        """Score one genotype."""
        ...
