"""Bad inputs to the metrics, the Pareto helpers and the constrained evaluator: one line."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nasbench.errors import ConfigError, DivergenceError
from nasbench.evaluation import (
    ConstrainedEvaluator,
    Constraints,
    classification_metrics,
    crowding_distance,
    non_dominated_sort,
)
from nasbench.evaluation.base import Result


def test_classification_metrics_takes_numpy_arrays_as_tensors():
    logits = np.array([[2.0, 0.0], [0.0, 2.0], [1.0, 0.0]])
    labels = np.array([0, 1, 1])
    expected = classification_metrics(torch.tensor(logits), torch.tensor(labels), "binary")
    assert classification_metrics(logits, labels, "binary") == expected
    assert expected["acc"] == pytest.approx(2 / 3)


def test_nan_logits_are_a_divergence_not_a_sklearn_error():
    for task, labels in (
        ("binary", torch.tensor([0, 1, 0, 1])),
        ("multi-label", torch.eye(4)[:, :2]),
    ):
        with pytest.raises(DivergenceError, match=r"logits hold NaN .* the model diverged"):
            classification_metrics(torch.full((4, 2), float("nan")), labels, task)
    # -inf is a probability of 0, not a failure.
    logits = torch.tensor([[0.0, -float("inf")], [0.0, 1.0]])
    assert classification_metrics(logits, torch.tensor([0, 1]), "binary")["acc"] == 1.0


def test_a_target_class_the_logits_lack_is_named():
    with pytest.raises(ConfigError, match=r"targets hold class 2, but the logits have 2 classes"):
        classification_metrics(torch.randn(4, 2), torch.tensor([0, 1, 2, 3]), "multi-class")
    with pytest.raises(ConfigError, match=r"targets hold class -1, but the logits have 3"):
        classification_metrics(torch.randn(3, 3), torch.tensor([0, -1, 2]), "multi-class")
    with pytest.raises(ConfigError, match=r"targets must be \(4, 2\) 0/1 labels"):
        classification_metrics(torch.randn(4, 2), torch.zeros(4), "multi-label")


def test_non_dominated_sort_refuses_nan_as_pareto_front_does():
    with pytest.raises(ConfigError, match="points contain NaN; drop those results first"):
        non_dominated_sort(np.array([[np.nan, 1.0], [1.0, 2.0]]))
    # +inf is NSGA-II's worst value for a missing objective: still ranked, last.
    fronts = non_dominated_sort(np.array([[np.inf, 1.0], [1.0, 0.5]]))
    assert [f.tolist() for f in fronts] == [[1], [0]]


def test_pareto_helpers_refuse_a_1d_array_in_one_line():
    with pytest.raises(
        ConfigError, match=r"crowding_distance takes a 2-D array .* got shape \(3,\)"
    ):
        crowding_distance(np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ConfigError, match=r"non_dominated_sort takes a 2-D array"):
        non_dominated_sort(np.array([1.0, 2.0]))
    with pytest.raises(ConfigError, match="points contain NaN"):
        crowding_distance(np.array([[np.nan, 1.0], [1.0, 2.0], [0.0, 3.0]]))


class _NoCosts:
    def evaluate(self, genotype, budget=None):
        return Result({"score": 1.0}, {"params": 10.0, "macs": 10.0})


def test_a_latency_limit_with_latency_repeats_0_says_to_measure_it():
    ev = ConstrainedEvaluator(_NoCosts(), Constraints(max_latency_ms=5.0), latency_repeats=0)
    with pytest.raises(ConfigError, match=r"the latency limit needs latency_ms, which _NoCosts "
                       r"does not report and latency_repeats=0 does not measure; set "
                       r"latency_repeats to 1 or more\.$") as err:  # fmt: skip
        ev.evaluate(None)
    assert "wrap the evaluator" not in str(err.value)
