"""Objectives, constraints and Pareto fronts.

An :class:`Objective` names a value of a :class:`~nasbench.evaluation.base.Result`
(a metric such as ``score``/``val_acc``, or a cost such as ``params``, ``macs``,
``latency_ms``) and whether it is maximised or minimised. :class:`Constraints`
(for example ``max_params=1e6``) flag infeasible results; :class:`ConstrainedEvaluator`
wraps any evaluator, fills in missing costs (params and MACs counted, latency
measured) and flags. :func:`pareto_front`, :func:`non_dominated_sort`,
:func:`crowding_distance` and :func:`hypervolume_2d` work on plain arrays, and
:class:`ParetoArchive` tracks the front as results arrive. NSGA-II, the strategy built
on them, is :mod:`nasbench.strategies.discrete.nsga2`.

The sorting and crowding distance are written here (about 40 lines of numpy)
rather than taken from pymoo, whose install pulls matplotlib, autograd, cma and
more; they were checked against pymoo 0.6.2 (the same fronts; crowding distances
equal up to pymoo's division by the number of objectives, which leaves the order alike).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nasbench.errors import ConfigError, closest_name
from nasbench.evaluation.base import Result
from nasbench.protocols import Genotype, Space

SENSES = ("max", "min")
# Default sense of the values results carry; anything else must say ":max" or ":min".
STANDARD_SENSES = {
    "score": "max",
    "val_acc": "max",
    "val_auc": "max",
    "test_acc": "max",
    "test_auc": "max",
    "params": "min",
    "macs": "min",
    "latency_ms": "min",
    "wall_s": "min",
    "train_loss": "min",
    "val_loss": "min",
}


# ---- objectives ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Objective:
    """One value of a result to optimise.

    Args:
        name: a key of ``result.metrics`` or ``result.cost``.
        sense: ``"max"`` or ``"min"``.

    Example:
        >>> Objective.parse("params"), Objective.parse("val_loss:min")
        (Objective(name='params', sense='min'), Objective(name='val_loss', sense='min'))
    """

    name: str
    sense: str = "max"

    def __post_init__(self) -> None:
        if self.sense not in SENSES:
            raise ConfigError(
                f"objective {self.name!r}: sense must be 'max' or 'min', got {self.sense!r}."
            )

    @classmethod
    def parse(cls, spec: str | Objective) -> Objective:
        """Build from ``"name"`` (a standard name) or ``"name:max"`` / ``"name:min"``."""
        if isinstance(spec, Objective):
            return spec
        if not isinstance(spec, str) or not spec:
            raise ConfigError(
                f"an objective is a name like 'params' or 'val_acc:max', got {spec!r}."
            )
        name, _, sense = spec.partition(":")
        if not sense:
            if name not in STANDARD_SENSES:
                names = list(STANDARD_SENSES)
                raise ConfigError(
                    f"unknown objective {name!r}; use one of {', '.join(names)} or write "
                    f"'{name}:max' / '{name}:min'.{closest_name(name, names)}"
                )
            sense = STANDARD_SENSES[name]
        return cls(name, sense)

    def value(self, result: Result) -> float:
        """The objective's value in ``result`` (metrics first, then cost)."""
        for source in (result.metrics, result.cost):
            if self.name in source:
                return float(source[self.name])
        raise ConfigError(
            f"objective {self.name!r} is not in the result (metrics: {', '.join(result.metrics)}; "
            f"cost: {', '.join(result.cost)}); use an evaluator that reports it or "
            "wrap it in ConstrainedEvaluator to measure costs."
        )


def parse_objectives(specs: Iterable[str | Objective]) -> list[Objective]:
    """Parse objective specs; at least one, no name twice.

    Example:
        >>> [o.sense for o in parse_objectives(["score", "params"])]
        ['max', 'min']
    """
    out = [Objective.parse(s) for s in specs]
    if not out:
        raise ConfigError("give at least one objective, e.g. ['score', 'params'].")
    names = [o.name for o in out]
    if len(set(names)) != len(names):
        raise ConfigError(f"objectives must be distinct, got {names}.")
    return out


def objective_matrix(results: Sequence[Result], objectives: Sequence[Objective]) -> np.ndarray:
    """``(n_results, n_objectives)`` values, each column turned into a minimisation."""
    sign = np.array([-1.0 if o.sense == "max" else 1.0 for o in objectives])
    values = np.array([[o.value(r) for o in objectives] for r in results], dtype=float)
    return values.reshape(len(results), len(objectives)) * sign


# ---- constraints -----------------------------------------------------------------------------
@dataclass
class Constraints:
    """Upper limits on costs; a result over any limit is infeasible.

    Args:
        max_params: most parameters allowed (e.g. ``1e6``), or None.
        max_macs: most multiply-accumulates per image, or None.
        max_latency_ms: slowest allowed forward pass of one image, or None.

    Example:
        >>> Constraints(max_params=1e6).violation(Result({"score": 1.0}, {"params": 2e6}))
        1.0
    """

    max_params: float | None = None
    max_macs: float | None = None
    max_latency_ms: float | None = None

    def __post_init__(self) -> None:
        for name, limit in self.limits().items():
            if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not limit > 0:
                raise ConfigError(
                    f"Constraints.max_{name} must be a positive number, got {limit!r}."
                )

    def limits(self) -> dict[str, float]:
        """``{cost name: limit}`` of the limits that are set."""
        pairs = {
            "params": self.max_params,
            "macs": self.max_macs,
            "latency_ms": self.max_latency_ms,
        }
        return {k: v for k, v in pairs.items() if v is not None}

    def violations(self, result: Result) -> list[str]:
        """One sentence per broken limit, e.g. ``'params 2,000,000 > 1,000,000'``."""
        out = []
        for name, limit in self.limits().items():
            if name not in result.cost:
                raise ConfigError(
                    f"constraint on {name!r} needs result.cost[{name!r}]; wrap the evaluator "
                    "in ConstrainedEvaluator so that it measures it."
                )
            if result.cost[name] > limit:
                out.append(f"{name} {_number(result.cost[name])} > {_number(limit)}")
        return out

    def violation(self, result: Result) -> float:
        """Total relative excess over the limits (0 when feasible)."""
        total = 0.0
        for name, limit in self.limits().items():
            if name in result.cost:
                total += max(0.0, float(result.cost[name]) / limit - 1.0)
        return total

    def apply(self, result: Result) -> Result:
        """Return ``result`` flagged: ``metrics["feasible"]`` (1.0/0.0), ``info["violations"]``."""
        broken = self.violations(result)
        metrics = {**result.metrics, "feasible": 0.0 if broken else 1.0}
        info = {**result.info, "feasible": not broken, "violations": broken}
        return Result(metrics, dict(result.cost), info)


def _number(value: float) -> str:
    value = float(value)
    return f"{value:,.0f}" if value.is_integer() else f"{value:,.4g}"


def is_feasible(result: Result) -> bool:
    """False only when a result was flagged infeasible."""
    return bool(result.info.get("feasible", True))


class ConstrainedEvaluator:
    """Wrap an evaluator: add missing ``params``/``macs``/``latency_ms`` and flag constraints.

    Args:
        evaluator: any evaluator.
        constraints: the limits (None: only add the costs).
        space: the space whose skeleton builds the networks the costs are counted on.
        input_size: image edge length for MACs and latency.
        latency_repeats: timed forward passes for ``latency_ms`` (0: do not measure).
        device: where latency is measured.

    Example:
        >>> ev = ConstrainedEvaluator(table_ev, Constraints(max_params=1e6))  # doctest: +SKIP
        >>> ev.evaluate(g).info["feasible"]  # doctest: +SKIP
        False
    """

    def __init__(
        self,
        evaluator: Any,
        constraints: Constraints | None = None,
        space: Space = None,
        input_size: int = 28,
        latency_repeats: int = 10,
        device: str = "cpu",
    ) -> None:
        self.evaluator = evaluator
        self.constraints = constraints or Constraints()
        self.space = space if space is not None else getattr(evaluator, "space", None)
        self.input_size = int(input_size)
        self.latency_repeats = int(latency_repeats)
        self.device = device

    def _missing_costs(self, genotype: Genotype, cost: dict[str, float]) -> dict[str, float]:
        from nasbench.models.costs import network_costs

        wanted = {"params", "macs"} | ({"latency_ms"} if self.latency_repeats > 0 else set())
        if wanted <= set(cost):
            return {}
        if self.space is None:
            raise ConfigError("ConstrainedEvaluator needs space= to count costs of the networks.")
        g = self.space.validate(genotype)
        repeats = self.latency_repeats if "latency_ms" not in cost else 0
        measured = network_costs(
            g, self.space.default_skeleton(), self.input_size, repeats=repeats, device=self.device
        )
        return {k: float(v) for k, v in measured.items() if k not in cost and k in wanted}

    def evaluate(self, genotype: Genotype, budget: float | None = None) -> Result:
        """Evaluate, complete the costs, flag infeasibility."""
        result = self.evaluator.evaluate(genotype, budget)
        start = time.perf_counter()
        extra = self._missing_costs(genotype, result.cost)
        cost = {**result.cost, **extra}
        if "latency_ms" in self.constraints.limits() and "latency_ms" not in cost:
            # Constraints would say to wrap the evaluator in this class, which it already is.
            raise ConfigError(
                f"the latency limit needs latency_ms, which {type(self.evaluator).__name__} "
                f"does not report and latency_repeats={self.latency_repeats} does not "
                "measure; set latency_repeats to 1 or more."
            )
        if extra:
            cost["cost_s"] = time.perf_counter() - start
        return self.constraints.apply(Result(dict(result.metrics), cost, dict(result.info)))


# ---- Pareto fronts ---------------------------------------------------------------------------
def _as_min(points: Any, senses: Sequence[str]) -> np.ndarray:
    F = np.asarray(points, dtype=float)
    if F.ndim != 2:
        raise ConfigError(
            f"points must be a 2-D array (n_points, n_objectives), got shape {F.shape}."
        )
    if len(senses) != F.shape[1]:
        raise ConfigError(f"got {len(senses)} senses for {F.shape[1]} objectives; give one each.")
    bad = [s for s in senses if s not in SENSES]
    if bad:
        raise ConfigError(f"senses must be 'max' or 'min', got {bad[0]!r}.")
    if not np.isfinite(F).all():
        raise ConfigError("points contain NaN or infinity; drop those results first.")
    return F * np.array([-1.0 if s == "max" else 1.0 for s in senses])


def _checked(F: np.ndarray, who: str) -> np.ndarray:
    """``F`` when it is a 2-D array without NaN, else a one-line error.

    +inf stays allowed: NSGA-II writes it for a result whose objective is missing (the
    worst value); NaN would make every comparison False and land in the first front.
    """
    if F.ndim != 2:
        raise ConfigError(
            f"{who} takes a 2-D array (n_points, n_objectives), got shape {F.shape}; "
            "one objective is F.reshape(-1, 1)."
        )
    if np.isnan(F).any():
        raise ConfigError("points contain NaN; drop those results first.")
    return F


def non_dominated_sort(F: np.ndarray) -> list[np.ndarray]:
    """Fast non-dominated sort (Deb et al., 2002) of a minimisation problem.

    Args:
        F: ``(n, m)`` objective values, all minimised.

    Returns:
        The fronts, best first, each an ascending array of row indices.

    Raises:
        ConfigError: ``F`` is not 2-D, or holds NaN (+inf counts as the worst value).

    Example:
        >>> [f.tolist() for f in non_dominated_sort(np.array([[1, 2], [2, 1], [2, 2]]))]
        [[0, 1], [2]]
    """
    F = np.asarray(F, dtype=float)
    n = len(F)
    if n == 0:
        return []
    F = _checked(F, "non_dominated_sort")
    le = (F[:, None, :] <= F[None, :, :]).all(axis=2)
    lt = (F[:, None, :] < F[None, :, :]).any(axis=2)
    dominates = le & lt  # dominates[i, j]: i dominates j
    count = dominates.sum(axis=0)
    fronts, current = [], np.flatnonzero(count == 0)
    while len(current):
        fronts.append(np.sort(current))
        count = count - dominates[current].sum(axis=0)
        count[current] = -1
        current = np.flatnonzero(count == 0)
    return fronts


def crowding_distance(F: np.ndarray) -> np.ndarray:
    """Crowding distance of the points of one front (Deb et al., 2002).

    Each objective is normalised by its range on the front; boundary points get
    infinity; a front of at most two points is all infinity.

    Args:
        F: ``(n, m)`` objective values of one front.

    Returns:
        ``(n,)`` distances; larger is lonelier.

    Raises:
        ConfigError: ``F`` is not 2-D, or holds NaN.

    Example:
        >>> crowding_distance(np.array([[0.0, 2.0], [1.0, 1.0], [2.0, 0.0]])).tolist()
        [inf, 2.0, inf]
    """
    F = _checked(np.asarray(F, dtype=float), "crowding_distance")
    n, m = F.shape
    dist = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for k in range(m):
        order = np.argsort(F[:, k], kind="stable")
        values = F[order, k]
        span = values[-1] - values[0]
        dist[order[0]] = dist[order[-1]] = np.inf
        if span > 0:
            dist[order[1:-1]] += (values[2:] - values[:-2]) / span
    return dist


def pareto_front(points: Any, senses: Sequence[str]) -> np.ndarray:
    """Indices of the non-dominated points.

    Args:
        points: ``(n, m)`` objective values.
        senses: ``"max"`` or ``"min"`` per column.

    Returns:
        Ascending indices of the points no other point dominates (equal points all stay).

    Example:
        >>> pareto_front([[0.9, 5e5], [0.8, 2e5], [0.7, 3e5]], ["max", "min"]).tolist()
        [0, 1]
    """
    F = _as_min(points, senses)
    fronts = non_dominated_sort(F)
    return fronts[0] if fronts else np.zeros(0, dtype=int)


def hypervolume_2d(points: Any, senses: Sequence[str], reference: Sequence[float]) -> float:
    """Area dominated by two-objective points, bounded by a reference point.

    Args:
        points: ``(n, 2)`` objective values.
        senses: the sense of each column.
        reference: a point worse than every point of interest in both objectives
            (points not better than it in both add nothing).

    Returns:
        The hypervolume (0 for no point).

    Example:
        >>> hypervolume_2d([[1.0, 1.0]], ["max", "min"], reference=[0.0, 2.0])
        1.0
    """
    if len(senses) != 2:
        raise ConfigError("hypervolume_2d takes exactly two objectives.")
    if len(points) == 0:
        return 0.0
    F = _as_min(points, senses)
    ref = _as_min([reference], senses)[0]
    F = F[(F < ref).all(axis=1)]
    if not len(F):
        return 0.0
    F = F[non_dominated_sort(F)[0]]
    F = F[np.argsort(F[:, 0], kind="stable")]
    volume, y_prev = 0.0, ref[1]
    for x, y in F:
        if y < y_prev:
            volume += (ref[0] - x) * (y_prev - y)
            y_prev = y
    return float(volume)


@dataclass
class ParetoArchive:
    """The Pareto front of everything seen so far (results arrive one at a time).

    Args:
        objectives: objective specs (``"score"``, ``"params"``, ``"latency_ms:min"``...).
        feasible_only: leave infeasible results out of the front.

    Example:
        >>> archive = ParetoArchive(["score", "params"])
        >>> archive.add("a", Result({"score": 0.9}, {"params": 5e5}))
        True
    """

    objectives: Sequence[str | Objective] = ("score", "params")
    feasible_only: bool = True
    items: list[Any] = field(default_factory=list, init=False)
    values: list[np.ndarray] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.objectives = parse_objectives(self.objectives)

    def add(self, item: Any, result: Result) -> bool:
        """Offer a result; return True when it joins the front (dominated members leave).

        A result missing an objective (NaN, e.g. an AUC undefined on a one-class split)
        cannot be ranked, so it never joins: it would otherwise stay on the front forever,
        since nothing compares as better than NaN.
        """
        if self.feasible_only and not is_feasible(result):
            return False
        v = objective_matrix([result], self.objectives)[0]
        if not np.isfinite(v).all():
            return False
        for other in self.values:
            if (other <= v).all() and (other < v).any():
                return False
        keep = [
            i
            for i, other in enumerate(self.values)
            if not ((v <= other).all() and (v < other).any())
        ]
        self.items = [self.items[i] for i in keep] + [item]
        self.values = [self.values[i] for i in keep] + [v]
        return True

    def front(self) -> list[tuple[Any, dict[str, float]]]:
        """``(item, {objective: value})`` per member, in insertion order, senses restored."""
        out = []
        for item, v in zip(self.items, self.values, strict=True):
            vals = {
                o.name: (-x if o.sense == "max" else x)
                for o, x in zip(self.objectives, v, strict=True)
            }
            out.append((item, vals))
        return out


__all__ = [
    "SENSES",
    "ConstrainedEvaluator",
    "Constraints",
    "Objective",
    "ParetoArchive",
    "crowding_distance",
    "hypervolume_2d",
    "is_feasible",
    "non_dominated_sort",
    "objective_matrix",
    "parse_objectives",
    "pareto_front",
]
