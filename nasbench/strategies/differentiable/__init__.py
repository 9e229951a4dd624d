"""Differentiable search methods: DARTS, GDAS, PC-DARTS, ProxylessNAS.

Each method is a small module saying how a mixed edge combines its candidate ops
and how the architecture weights are stepped; the bilevel loop is shared. Importing
this package registers the methods in :mod:`nasbench.strategies`.

Example:
    >>> from nasbench.strategies import create_strategy
    >>> from nasbench.spaces.cell import CellSpace
    >>> from nasbench.models.supernet import build_supernet
    >>> net = build_supernet(CellSpace(), "darts", {"order": 2}, seed=0)
    >>> method = net.method  # arch_step, on_epoch_start, alpha_records, derive_genotype
"""

from __future__ import annotations

from nasbench.models.derive import derive_cell, derive_genotype
from nasbench.strategies.differentiable.base import (
    AlphaRecord,
    ArchGroup,
    DifferentiableMethod,
    EdgePlan,
    MethodConfig,
    MixedEdge,
)
from nasbench.strategies.differentiable.darts import Darts, DartsConfig, unrolled_hypergradient
from nasbench.strategies.differentiable.gdas import Gdas, GdasConfig
from nasbench.strategies.differentiable.hessian import (
    EigenvalueEarlyStop,
    dominant_eigenvalue,
    exact_hessian,
    should_stop_early,
    supernet_hessian_eigenvalue,
)
from nasbench.strategies.differentiable.pcdarts import PartialChannelEdge, PcDarts, PcDartsConfig
from nasbench.strategies.differentiable.proxyless import Proxyless, ProxylessConfig

__all__ = [
    "AlphaRecord",
    "ArchGroup",
    "Darts",
    "DartsConfig",
    "DifferentiableMethod",
    "EdgePlan",
    "EigenvalueEarlyStop",
    "Gdas",
    "GdasConfig",
    "MethodConfig",
    "MixedEdge",
    "PartialChannelEdge",
    "PcDarts",
    "PcDartsConfig",
    "Proxyless",
    "ProxylessConfig",
    "derive_cell",
    "derive_genotype",
    "dominant_eigenvalue",
    "exact_hessian",
    "should_stop_early",
    "supernet_hessian_eigenvalue",
    "unrolled_hypergradient",
]
