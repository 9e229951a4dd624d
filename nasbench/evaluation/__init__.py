"""Evaluation: task metrics, losses and (later) evaluators and objectives."""

from nasbench.evaluation.metrics import classification_metrics, loss_for_task

__all__ = ["classification_metrics", "loss_for_task"]
