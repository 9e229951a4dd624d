"""MONAI's DiNTS (He et al., 2021) behind the supernet interface of the bilevel loop.

:class:`DintsSupernet` wraps ``monai.networks.nets.TopologySearch`` (the multi-path
topology and cell-op search space) inside ``monai.networks.nets.DiNTS`` (its stems and
head). Its architecture tensors are MONAI's own: ``log_alpha_a`` (one logit per block
and path: is the path active?) and ``log_alpha_c`` (per block, path and cell op),
exposed as the groups ``"topology"`` and ``"cell_ops"`` so the run store and the alpha
figures read them as any other alpha matrix. :class:`DintsNetwork` builds the searched
architecture (``TopologyInstance``) for retraining.

Paths are named ``"i->o"`` by the resolution levels they join (0 the finest inside the
search space); a block's paths are MONAI's ``arch_code2in``/``arch_code2out`` order.

Example:
    >>> from nasbench.spaces import create_space
    >>> net = create_space("dints", num_blocks=2, skeleton={"depth": 2, "channels": 4}
    ...                    ).supernet(seed=0)  # doctest: +SKIP
    >>> net(torch.zeros(1, 1, 32, 32, 32)).shape  # doctest: +SKIP
    torch.Size([1, 2, 32, 32, 32])
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from nasbench import registry
from nasbench.device import seeded
from nasbench.errors import SpaceError
from nasbench.models.supernet import SupernetBase, make_method
from nasbench.protocols import ArchGroup, DifferentiableMethod, Genotype, Space
from nasbench.spaces.dints import cell_op_names, path_names
from nasbench.spaces.skeleton import UNetSkeleton

GROUPS = ("topology", "cell_ops")
# MONAI's TopologySearch filters are 32 * 2**level * channel_mul.
MONAI_BASE_CHANNELS = 32


@contextlib.contextmanager
def _quiet_and_seeded(seed: int | None):
    # MONAI prints a line per TopologySearch and draws its alphas from the global RNG.
    with contextlib.redirect_stdout(io.StringIO()):
        with seeded(seed):
            yield


class DintsSupernet(SupernetBase):
    """MONAI's ``DiNTS`` over a ``TopologySearch`` space, for the bilevel loop.

    Args:
        skeleton: a :class:`~nasbench.spaces.skeleton.UNetSkeleton`: ``depth`` is MONAI's
            ``num_depths``, ``channels`` its top filter count (``32 * channel_mul``).
        num_blocks: blocks of the topology.
        use_downsample: MONAI's stem down-sampling (the space runs at 1/2 .. 1/2**depth).
        method: the DiNTS method (:mod:`nasbench.strategies.topology.dints`).
        seed: seeds MONAI's weights and architecture logits.
        checkpoint_cells: unused; kept for the common signature.
        channels_last: channels-last memory format (None: from the method).
    """

    def __init__(
        self,
        skeleton: Any,
        num_blocks: int,
        use_downsample: bool,
        method: DifferentiableMethod,
        seed: int = 0,
        checkpoint_cells: bool | None = None,
        channels_last: bool | None = None,
    ) -> None:
        super().__init__(method, False, channels_last)
        from monai.networks.nets import DiNTS, TopologySearch

        self.skeleton, self.num_blocks = skeleton, int(num_blocks)
        self.use_downsample = bool(use_downsample)
        dims = skeleton.spatial_dims
        self.op_names = cell_op_names(dims)
        self.paths = path_names(skeleton.depth)
        with _quiet_and_seeded(seed):
            space = TopologySearch(
                channel_mul=skeleton.channels / MONAI_BASE_CHANNELS,
                num_blocks=self.num_blocks,
                num_depths=skeleton.depth,
                use_downsample=self.use_downsample,
                spatial_dims=dims,
            )
            self.net = DiNTS(
                dints_space=space,
                in_channels=skeleton.in_channels,
                num_classes=skeleton.num_classes,
                use_downsample=self.use_downsample,
                spatial_dims=dims,
            )
        blocks = tuple(f"block {b}" for b in range(self.num_blocks))
        self._groups = {
            "topology": ArchGroup(
                tuple((b, 0) for b in range(self.num_blocks)), blocks, self.paths
            ),
            "cell_ops": ArchGroup(
                tuple((b, p) for b in range(self.num_blocks) for p in range(len(self.paths))),
                tuple(f"b{b} {path}" for b in range(self.num_blocks) for path in self.paths),
                self.op_names,
            ),
        }
        self.cell_types = GROUPS
        method.setup(self)

    @property
    def topology(self) -> Any:
        """MONAI's ``TopologySearch`` (inside the ``DiNTS`` network)."""
        return self.net.dints_space

    def _apply(self, fn, recurse: bool = True):
        # TopologySearch keeps its path codes as plain tensors and a device string; move them.
        out = super()._apply(fn, recurse)
        space = self.topology
        space.arch_code_a, space.arch_code_c = fn(space.arch_code_a), fn(space.arch_code_c)
        space.device = space.log_alpha_a.device
        return out

    def group(self, cell_type: str) -> ArchGroup:
        """``topology``: a row per block, a column per path; ``cell_ops``: a row per
        (block, path), a column per cell op."""
        if cell_type not in self._groups:
            raise SpaceError(f"DiNTS has groups {', '.join(GROUPS)}, not {cell_type!r}.")
        return self._groups[cell_type]

    def alpha(self, cell_type: str) -> nn.Parameter:
        """MONAI's ``log_alpha_a`` (topology) or ``log_alpha_c`` (cell ops)."""
        self.group(cell_type)
        return self.topology.log_alpha_a if cell_type == "topology" else self.topology.log_alpha_c

    def arch_parameters(self) -> list[nn.Parameter]:
        """``log_alpha_a`` and ``log_alpha_c``."""
        return [self.topology.log_alpha_a, self.topology.log_alpha_c]

    def weight_parameters(self) -> list[nn.Parameter]:
        """Every parameter but the two architecture tensors."""
        arch = {id(p) for p in self.arch_parameters()}
        return [p for p in self.parameters() if id(p) not in arch]

    def path_probabilities(self) -> torch.Tensor:
        """MONAI's path activation probabilities ``(num_blocks, paths)`` (``get_prob_a``)."""
        return self.topology.get_prob_a(child=False)[1]

    def memory_estimate(self, input_shape: Sequence[int]) -> dict[str, float]:
        """MONAI's RAM estimate (MiB) of a batch of ``input_shape`` (``(N, C, *spatial)``).

        Returns:
            ``monai_mb`` at the current path and op probabilities, ``monai_full_mb`` with
            every path active (``get_ram_cost_usage(full=True)``).
        """
        with torch.no_grad():
            space = self.topology
            return {
                "monai_mb": float(space.get_ram_cost_usage(tuple(input_shape))),
                "monai_full_mb": float(space.get_ram_cost_usage(tuple(input_shape), full=True)),
            }

    def decode(self):
        """The architecture MONAI's ``decode`` (Dijkstra over path probabilities) returns."""
        from nasbench.spaces.seg_genotypes import DintsGenotype

        node_a, code_a, code_c, _ = self.topology.decode()
        code_a = np.asarray(code_a, dtype=int)
        # Ops of inactive paths do not exist in the network; zero them so equal nets compare equal.
        code_c = np.where(code_a > 0, np.asarray(code_c, dtype=int), 0)
        return DintsGenotype(
            node_a.tolist(), code_a.tolist(), code_c.tolist(), self.op_names, self.use_downsample
        )

    def derive(self, scores: dict[str, Any]):
        """The decoded architecture (the scores are MONAI's own logits)."""
        return self.decode()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, num_classes, *spatial)``."""
        return self.net(self._memory_format(x))


@registry.register("network", "dints")
class DintsNetwork(nn.Module):
    """The searched DiNTS architecture: MONAI's ``TopologyInstance`` inside ``DiNTS``.

    Args:
        genotype: a :class:`~nasbench.spaces.seg_genotypes.DintsGenotype`.
        skeleton: the ``UNetSkeleton`` it was searched in.
        seed: seeds the weights (None: the global RNG).
    """

    def __init__(self, genotype: Genotype, skeleton: Any, seed: int | None = None) -> None:
        super().__init__()
        from monai.networks.nets import DiNTS, TopologyInstance

        from nasbench.spaces.skeleton import UNetSkeleton

        skeleton = UNetSkeleton.coerce(skeleton)
        if getattr(genotype, "kind", None) != "dints":
            raise SpaceError(f"DintsNetwork builds dints genotypes, not {genotype!r}.")
        if genotype.num_depths != skeleton.depth:
            raise SpaceError(
                f"the genotype has {genotype.num_depths} depths; the skeleton {skeleton.depth}."
            )
        self.genotype, self.skeleton = genotype, skeleton
        use_downsample = genotype.use_downsample
        arch_code = [np.asarray(genotype.arch_code_a), np.asarray(genotype.arch_code_c)]
        with _quiet_and_seeded(seed):
            instance = TopologyInstance(
                arch_code=arch_code,
                channel_mul=skeleton.channels / MONAI_BASE_CHANNELS,
                num_blocks=genotype.num_blocks,
                num_depths=skeleton.depth,
                use_downsample=use_downsample,
                spatial_dims=skeleton.spatial_dims,
            )
            self.net = DiNTS(
                dints_space=instance,
                in_channels=skeleton.in_channels,
                num_classes=skeleton.num_classes,
                use_downsample=use_downsample,
                spatial_dims=skeleton.spatial_dims,
                node_a=torch.as_tensor(np.asarray(genotype.node_a)),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, num_classes, *spatial)``."""
        return self.net(x)


@registry.register("supernet", "dints")
def build_dints_supernet(
    space: Space,
    method: str | DifferentiableMethod = "dints",
    method_config: Any = None,
    seed: int = 0,
    skeleton: Any = None,
    checkpoint_cells: bool | None = None,
    channels_last: bool | None = None,
) -> DintsSupernet:
    """MONAI's DiNTS search network for a ``DintsSpace`` (``space.supernet(...)`` calls this).

    Args:
        space: the DiNTS space.
        method: ``"dints"`` or a topology method instance.
        method_config: its settings.
        seed: seeds weights, alphas and the method's sampling.
        skeleton: overrides the space's skeleton.
        checkpoint_cells: accepted for a uniform call; DiNTS does not recompute cells.
        channels_last: channels-last memory format.
    """
    space.check_strategy(method)
    return DintsSupernet(
        UNetSkeleton.coerce(skeleton) if skeleton is not None else space.skeleton,
        space.num_blocks,
        space.use_downsample,
        make_method(method, method_config, seed, kinds=("topology",)),
        seed=seed,
        channels_last=channels_last,
    )
