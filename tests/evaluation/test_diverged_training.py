"""A training whose weights diverge ends with one DivergenceError line, never sklearn's."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nasbench.data import load
from nasbench.errors import DivergenceError
from nasbench.evaluation.train_loop import TrainConfig, train_model


class NanWhenScored(nn.Module):
    """Trains with finite losses, but answers NaN once in eval mode: what a last step that
    left the weights NaN or huge does to the validation scores."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(28 * 28, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.linear(x.flatten(1))
        return out if self.training else out * float("nan")


def test_nan_validation_outputs_after_a_finite_step_stop_training_in_one_line():
    ds = load("synthetic", "train", limit=16, seed=0)
    config = TrainConfig(epochs=1, batch_size=8, device="cpu", lr=0.5)
    expected = r"^training diverged at epoch 1: the validation outputs are NaN or inf; lower "
    with pytest.raises(DivergenceError, match=expected + r"the learning rate \(lr 0\.5") as err:
        train_model(NanWhenScored(), ds, ds, ds, "binary", config)
    assert "\n" not in str(err.value)


def _train_search(tmp_path, lr: float):
    import nasbench
    from nasbench import SearchConfig

    config = SearchConfig(
        dataset={"name": "synthetic", "limit": 16},
        space={"name": "nb201", "skeleton": {"n_cells": 1, "channels": 4}},
        strategy="random",
        evaluator="train",
        evaluator_config={"lr": lr, "epochs": 1, "limit": 16},
        max_evaluations=1,
        device="cpu",
    )
    return nasbench.search(config, tmp_path / "run")


def test_a_diverging_candidate_names_itself_and_the_evaluator_lr_in_one_line(tmp_path):
    from nasbench.runs import load as load_run

    # lr 1e15: the one step's loss is finite, the weights after it are not.
    with pytest.raises(DivergenceError) as err:
        _train_search(tmp_path, 1e15)
    message = str(err.value)
    assert message.startswith('training candidate {"kind":"nb201","nodes":')
    assert "diverged at epoch 1" in message
    assert "lower the train evaluator's lr (evaluator_config {'lr': 1e+15})" in message
    assert "\n" not in message
    run = load_run(tmp_path / "run")
    assert (run.status, run.message) == ("failed", message)
