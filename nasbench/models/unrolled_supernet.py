"""The unrolled reconstruction supernet: a mixed edge on every cell edge of every cascade.

The DARTS supernet (:class:`~nasbench.models.supernet.Supernet`) with its stem,
stacked cells and classifier swapped for the cascades of
:class:`~nasbench.models.unrolled.Unrolled`. Every cell of every cascade is a
normal cell, so there is one architecture matrix, ``alpha_normal``, shared by all
of them; DARTS's softmax mixture, GDAS's Gumbel sample and PC-DARTS's partial
channels (with its edge betas) work unchanged, and the DARTS rule derives the cell,
returned as a :class:`~nasbench.spaces.recon.ReconGenotype`.

Example:
    >>> from nasbench.spaces.recon import ReconSpace
    >>> net = ReconSpace(n_nodes=2, skeleton={"cascades": 2, "channels": 4}).supernet(seed=0)
    >>> net(torch.zeros(2, 3, 16, 16)).shape, net.cell_types
    (torch.Size([2, 1, 16, 16]), ('normal',))
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from nasbench import registry
from nasbench.models.supernet import Supernet, make_method
from nasbench.models.unrolled import Unrolled
from nasbench.protocols import Space
from nasbench.spaces.recon import ReconGenotype, ReconSkeleton


class UnrolledSupernet(Supernet):
    """The weight-sharing unrolled network of a differentiable method.

    Args: as :class:`~nasbench.models.supernet.Supernet`; ``skeleton`` is a
    :class:`~nasbench.spaces.recon.ReconSkeleton`.
    """

    def _build_network(self, sk: Any) -> None:
        concat = tuple(range(2, 2 + self.n_nodes))
        self.unrolled = Unrolled(
            sk, self.edges, concat, lambda C: self._edge_factory(2, C), affine=False
        )

    def derive(self, scores: dict[str, Any]) -> ReconGenotype:
        """The DARTS rule on the one cell."""
        return ReconGenotype.from_darts(super().derive(scores))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Magnitudes ``(N, 1, H, W)`` of samples ``(N, 3 or 4C + 1, H, W)``."""
        mode, plans = self._plans()

        def run(cell: nn.Module, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
            return self._run_cell(cell, mode, s0, s1, edge_args=plans["normal"])

        return self.unrolled(x, run)


@registry.register("supernet", "unrolled")
def build_unrolled_supernet(
    space: Space,
    method: Any = "darts",
    method_config: Any = None,
    seed: int = 0,
    skeleton: Any = None,
    checkpoint_cells: bool | None = None,
    channels_last: bool | None = None,
) -> UnrolledSupernet:
    """The unrolled supernet of a ``ReconSpace`` (``space.supernet(...)`` calls this).

    Args:
        space: the reconstruction space.
        method: ``"darts"``, ``"gdas"``, ``"pcdarts"`` or a method instance.
        method_config: its settings.
        seed: seeds weights, alphas and the method's sampling.
        skeleton: overrides the space's skeleton.
        checkpoint_cells: recompute cells in the backward pass.
        channels_last: channels-last memory format.

    Returns:
        An :class:`UnrolledSupernet`; ``supernet.method`` is the method.
    """
    space.check_strategy(method)
    return UnrolledSupernet(
        tuple(space.ops),
        space.n_nodes,
        space.inputs_per_node,
        ReconSkeleton.coerce(skeleton) if skeleton is not None else space.skeleton,
        make_method(method, method_config, seed),
        seed=seed,
        checkpoint_cells=checkpoint_cells,
        channels_last=channels_last,
    )
