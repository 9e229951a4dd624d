"""Networks built from genotypes, and what they cost.

- :func:`build` turns a genotype plus a :class:`~nasbench.spaces.skeleton.Skeleton`
  into an ``nn.Module`` (DARTS/NASNet cells, NAS-Bench-201 cells or a chain).
- :mod:`nasbench.models.cells` holds the cell wiring shared with supernets:
  :func:`cell_edges` and :class:`Cell`.
- :mod:`nasbench.models.costs`: parameters, MACs and latency.
"""

from __future__ import annotations

from nasbench.models.cells import Cell, cell_edges, drop_path
from nasbench.models.costs import count_macs, count_parameters, measure_latency, network_costs
from nasbench.models.network import Network, build

__all__ = [
    "Cell",
    "Network",
    "build",
    "cell_edges",
    "count_macs",
    "count_parameters",
    "drop_path",
    "measure_latency",
    "network_costs",
]
