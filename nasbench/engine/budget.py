"""Fitting a differentiable search into the wall time a user names (``max_seconds``).

The bilevel loop times its first steps and one validation batch, then asks
:func:`fit_budget` for a plan: the configured epochs and steps when they fit, else
fewer epochs (each still a whole pass over the training half), else one epoch of
fewer steps. The plan is a :class:`BudgetPlan`; the loop records it in the run store
and its checkpoints, so a resumed search follows the plan its first process made
instead of measuring again, and ends with the rows an uninterrupted run would have.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

# Steps timed before the plan is made; the median skips the slow first one.
PROBE_STEPS = 3


@dataclass(frozen=True)
class BudgetPlan:
    """How much of the configured search fits in ``max_seconds``.

    Attributes:
        max_seconds: the budget.
        epochs: epochs to run.
        steps_per_epoch: steps in each of them.
        configured_epochs, configured_steps_per_epoch: what the config asked for.
        step_s: measured seconds per training step (median of the probe), plus what the
            checkpoint writes between steps add to each on average.
        eval_s: estimated seconds of one epoch-end validation.
        spent_s: seconds spent when the plan was made (building, probe steps).
        estimate_s: the whole search's estimated wall time under this plan.
        decided_at: the step after which the plan was made.
    """

    max_seconds: float
    epochs: int
    steps_per_epoch: int
    configured_epochs: int
    configured_steps_per_epoch: int
    step_s: float
    eval_s: float
    spent_s: float
    estimate_s: float
    decided_at: int

    @property
    def shrunk(self) -> bool:
        """True when the plan runs fewer steps than the config asked for."""
        return (self.epochs, self.steps_per_epoch) != (
            self.configured_epochs,
            self.configured_steps_per_epoch,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields plus ``shrunk`` (what the ``search_budget`` event holds)."""
        return {**dataclasses.asdict(self), "shrunk": self.shrunk}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BudgetPlan:
        """Rebuild a plan from :meth:`to_dict` output (a checkpoint's copy)."""
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls)})

    def describe(self) -> str:
        """One line for the progress output: what was measured and what it decided."""
        measured = (
            f"budget {self.max_seconds:g} s: measured {self.step_s:.2f} s/step and "
            f"{self.eval_s:.1f} s per validation"
        )
        asked = f"{self.configured_epochs} epochs x {self.configured_steps_per_epoch} steps"
        if self.estimate_s > self.max_seconds:  # even the least a search runs is too long
            shrunk = f"{asked} would not fit, and " if self.shrunk else ""
            return (
                f"{measured}; {shrunk}even {self.epochs} epoch(s) x {self.steps_per_epoch} "
                f"step(s), the least a search runs, take about {self.estimate_s:.0f} s, more "
                "than the budget; it runs those and derives the cell at the end."
            )
        if not self.shrunk:
            return f"{measured}; {asked} fit (about {self.estimate_s:.0f} s)."
        return (
            f"{measured}; {asked} would not fit, so the search runs {self.epochs} epoch(s) x "
            f"{self.steps_per_epoch} steps (about {self.estimate_s:.0f} s) and derives the "
            "cell at the end."
        )


def fit_budget(
    max_seconds: float,
    spent_s: float,
    step_s: float,
    eval_s: float,
    epochs: int,
    steps_per_epoch: int,
    steps_done: int,
) -> BudgetPlan:
    """Plan the epochs and steps that fit in what is left of ``max_seconds``.

    Whole epochs are dropped first (each epoch still sees the whole training half and
    ends with a validation); when not even one epoch fits, the one epoch gets fewer
    steps. Never fewer than ``steps_done`` steps: those are taken already.

    Args:
        max_seconds: the budget.
        spent_s: seconds spent so far (building, the steps already taken).
        step_s: seconds per training step.
        eval_s: seconds per epoch-end validation.
        epochs: configured epochs.
        steps_per_epoch: configured steps per epoch.
        steps_done: steps taken so far, all in the first epoch.

    Returns:
        A :class:`BudgetPlan`.

    Example:
        >>> plan = fit_budget(100, spent_s=5, step_s=1, eval_s=5, epochs=10, steps_per_epoch=20,
        ...                   steps_done=3)
        >>> plan.epochs, plan.steps_per_epoch, plan.shrunk
        (3, 20, True)
    """
    left = max_seconds - spent_s

    def cost(n_epochs: int, n_steps: int) -> float:
        return (n_epochs * n_steps - steps_done) * step_s + n_epochs * eval_s

    fitting = [e for e in range(epochs, 0, -1) if cost(e, steps_per_epoch) <= left]
    if fitting:
        plan_epochs, plan_steps = fitting[0], steps_per_epoch
    else:
        more = math.floor((left - eval_s) / step_s) if step_s > 0 else steps_per_epoch
        plan_epochs, plan_steps = 1, min(steps_per_epoch, max(steps_done, 1, steps_done + more))
    return BudgetPlan(
        max_seconds=float(max_seconds),
        epochs=plan_epochs,
        steps_per_epoch=plan_steps,
        configured_epochs=epochs,
        configured_steps_per_epoch=steps_per_epoch,
        step_s=float(step_s),
        eval_s=float(eval_s),
        spent_s=float(spent_s),
        estimate_s=float(spent_s + cost(plan_epochs, plan_steps)),
        decided_at=steps_done,
    )
