"""The AUC of ``classification_metrics`` is scikit-learn's ``roc_auc_score``, one-vs-rest
per class and averaged over the classes a batch can score, ties and all."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from nasbench.evaluation.metrics import classification_metrics


def sklearn_auc(logits: torch.Tensor, truth: np.ndarray, task: str) -> float:
    """MedMNIST's AUC the slow way: one scikit-learn call per class with both cases."""
    if task == "multi-label":
        prob = torch.sigmoid(logits).numpy()
        columns = [(truth[:, k], prob[:, k]) for k in range(prob.shape[1])]
    else:
        prob = torch.softmax(logits, dim=1).numpy()
        if prob.shape[1] == 2:
            columns = [(truth, prob[:, 1])]
        else:
            columns = [(truth == k, prob[:, k]) for k in range(prob.shape[1])]
    aucs = [roc_auc_score(t, s) for t, s in columns if len(np.unique(t)) == 2]
    return float(np.mean(aucs)) if aucs else math.nan


@st.composite
def batches(draw):
    """A batch of logits on a coarse grid (so scores tie often) and its labels."""
    task = draw(st.sampled_from(["binary", "multi-class", "multi-label"]))
    n = draw(st.integers(1, 40))
    k = 2 if task == "binary" else draw(st.integers(3 if task == "multi-class" else 1, 6))
    levels = draw(st.integers(1, 5))  # 1 level: every score ties
    grid = draw(st.lists(st.integers(0, levels - 1), min_size=n * k, max_size=n * k))
    logits = torch.tensor(grid, dtype=torch.float32).view(n, k)
    if task == "multi-label":
        labels = draw(st.lists(st.integers(0, 1), min_size=n * k, max_size=n * k))
        truth = np.array(labels).reshape(n, k)
    else:
        truth = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    return task, logits, truth


@settings(max_examples=300, deadline=None)
@given(batches())
def test_auc_matches_scikit_learn_with_ties_and_absent_classes(batch):
    task, logits, truth = batch
    expected = sklearn_auc(logits, truth, task)
    got = classification_metrics(logits, torch.from_numpy(truth), task)["auc"]
    if math.isnan(expected):
        assert math.isnan(got)
    else:
        assert got == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("task, k", [("binary", 2), ("multi-class", 11), ("multi-label", 14)])
def test_auc_matches_scikit_learn_on_a_large_continuous_batch(task, k):
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(2000, k, generator=generator)
    if task == "multi-label":
        truth = (torch.rand(2000, k, generator=generator) < 0.3).long().numpy()
    else:
        truth = torch.randint(0, k, (2000,), generator=generator).numpy()
    # A better-than-chance model, so the AUCs are not all near 0.5.
    if task == "multi-label":
        logits += torch.from_numpy(truth).float()
    else:
        logits[np.arange(2000), truth] += 1.0
    got = classification_metrics(logits, torch.from_numpy(truth), task)["auc"]
    assert 0.6 < got < 1.0
    assert got == pytest.approx(sklearn_auc(logits, truth, task), abs=1e-12)


def test_a_perfect_and_a_reversed_ranking_give_one_and_zero():
    truth = torch.tensor([0, 0, 1, 1])
    ranked = torch.tensor([[1.0, 0.0], [0.5, 0.0], [0.0, 0.5], [0.0, 1.0]])
    assert classification_metrics(ranked, truth, "binary")["auc"] == 1.0
    assert classification_metrics(ranked, 1 - truth, "binary")["auc"] == 0.0
    # Every score tied: no ranking at all, AUC one half.
    assert classification_metrics(torch.zeros(4, 2), truth, "binary")["auc"] == 0.5
