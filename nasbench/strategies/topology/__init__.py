"""Topology search strategies: MONAI's DiNTS in our bilevel loop.

A topology strategy searches a whole multi-resolution network (which paths between
resolution levels exist, and the cell op on each) in its own space, instead of the
mixed edges of a cell space. It runs in the same bilevel loop as the differentiable
methods (weight step on the training half, architecture step on the validation half,
alpha snapshots, a genotype per epoch, checkpoints and resume). Importing this package
registers ``"dints"`` (kind ``"topology"``).
"""

from __future__ import annotations

from nasbench.strategies.topology.dints import Dints, DintsConfig

__all__ = ["Dints", "DintsConfig"]
