"""The ALB space: ElixirNet's Auto-Lesion Block searched as a DARTS cell inside a detector.

A member is a DARTS cell genotype (a normal and a reduction cell) over the ``elixir``
op set: separable (3x3, 5x5, 3x1+1x3), atrous (3x3 rate 3, 5x5 rate 5), average pool,
skip, none and non-local attention. What differs from the ``darts`` space is the network
around the cells: a lesion detector (an FCOS head on a two-level neck,
:mod:`nasbench.models.detector`) instead of a classifier, so the space goes with
detection data (``synthetic-lesions``, a COCO folder) and the search trains it with the
detection losses. Genotypes, alphas and their views are those of the ``darts`` space.

The default skeleton is CPU-sized: 3 cells of 3 nodes, 8 channels, a reduction at
cell 1, on a stride-2 stem (non-local ops then attend over at most ``(size / 2) ** 2``
positions).

Example:
    >>> space = AlbSpace()
    >>> space.task, space.ops[-1], space.skeleton.reductions()
    ('detection', 'non_local', (1,))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nasbench import registry
from nasbench.errors import SpaceError
from nasbench.options import plain_numbers
from nasbench.spaces.base import check_at_most, register_space
from nasbench.spaces.cell import CellSpace
from nasbench.spaces.skeleton import Skeleton

DEFAULT_SKELETON = {
    "n_cells": 3,
    "channels": 8,
    "reduction_at": (1,),
    "stem_multiplier": 2,
    "num_classes": 1,
}
# Neck and head channels: FCOS's head is 256 wide. Its three width x width 3x3 convs hold
# 27 * width**2 weights, ~28 M at 1024 (4x FCOS's), while 10**9 could never be allocated.
MAX_HEAD_WIDTH = 1024


@register_space("alb")
class AlbSpace(CellSpace):
    """DARTS cells over the ``elixir`` ops, stacked in a lesion detector.

    Args:
        ops: an op-set name or op list (default ``"elixir"``).
        n_nodes: intermediate nodes per cell.
        inputs_per_node: inputs per node.
        skeleton: the cell stack (2D); keys left out take the CPU-sized defaults above.
        head_width: channels of the detector's neck and head.
    """

    task = "detection"

    def __init__(
        self,
        ops: str | Sequence[str] = "elixir",
        n_nodes: int = 3,
        inputs_per_node: int = 2,
        skeleton: Skeleton | Mapping[str, Any] | None = None,
        head_width: int = 32,
    ) -> None:
        if skeleton is None or isinstance(skeleton, Mapping):
            # Keys not given (a search fills only in_channels and num_classes) keep the
            # CPU-sized defaults rather than the 8-cell classifier stack's.
            skeleton = {**DEFAULT_SKELETON, **(skeleton or {})}
        super().__init__(ops, n_nodes, inputs_per_node, skeleton)
        if self.skeleton.spatial_dims != 2:
            raise SpaceError("the alb space detects in 2D; set the skeleton's spatial_dims to 2.")
        head_width = plain_numbers(head_width)
        if isinstance(head_width, bool) or not isinstance(head_width, int) or head_width < 4:
            raise SpaceError(f"AlbSpace head_width must be an integer >= 4, got {head_width!r}.")
        check_at_most("AlbSpace", "head_width", head_width, MAX_HEAD_WIDTH,
                      "neck and head hold 27 * head_width**2 weights; FCOS uses 256")  # fmt: skip
        self.head_width = head_width

    def build(self, genotype: Any, skeleton: Any = None) -> Any:
        """The detector of ``genotype`` (:class:`~nasbench.models.detector.AlbDetector`)."""
        genotype = self.validate(genotype)
        network = registry.get("network", "alb").obj
        skeleton = skeleton if skeleton is not None else self.default_skeleton()
        return network(genotype, skeleton, head_width=self.head_width)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict; :func:`space_from_dict` rebuilds an equal space."""
        return {**super().to_dict(), "head_width": self.head_width}
