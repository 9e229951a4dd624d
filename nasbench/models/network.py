"""Discrete networks built from a genotype: ``build(genotype, skeleton)``.

A DARTS/NASNet genotype is stacked as in DARTS's ``NetworkCIFAR`` (``model.py``):
a 3x3 convolution stem to ``stem_multiplier * C`` channels, ``n_cells`` cells with
the channel count doubled at each reduction cell, an optional auxiliary head, global
average pooling and a linear classifier. NAS-Bench-201 cells go to
:mod:`nasbench.models.nb201_network`, chain genotypes to
:mod:`nasbench.models.chain_network`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from nasbench import registry
from nasbench.device import seeded
from nasbench.errors import ConfigError, SpaceError
from nasbench.models.cells import Cell, SharedInputRelu, check_op_names
from nasbench.protocols import Genotype
from nasbench.spaces.blocks import GlobalAvgPool, bn_cls, conv_cls
from nasbench.spaces.genotype import genotype_from_dict, parse_genotype
from nasbench.spaces.ops import create_op
from nasbench.spaces.skeleton import Skeleton, UNetSkeleton

# Genotype kinds whose networks read a U-Net skeleton, and those that read a cell stack's.
UNET_KINDS = ("nasunet", "vnas", "dints", "c2fnas", "trellis")
SKELETON_KINDS = ("darts", "nb201", "nb101", "chain", "morph", "alb")
AUX_HIDDEN = 128  # DARTS AuxiliaryHeadCIFAR widths
AUX_FEATURES = 768


def build(genotype: Genotype, skeleton: Any, seed: int | None = None) -> nn.Module:
    """Build the network a genotype describes, stacked in a macro skeleton.

    Args:
        genotype: a ``Genotype`` (DARTS/NASNet cell pair), ``NB201Genotype`` or
            ``ChainGenotype``; a dict or text form is parsed first.
        skeleton: a ``nasbench.spaces.skeleton.Skeleton`` (cells, channels, reductions,
            stem, input channels, classes, 2D/3D, auxiliary head, drop-path), or its dict
            (a ``UNetSkeleton``'s for the U-Net kinds, a ``ReconSkeleton``'s for recon).
        seed: seeds the weight initialisation without touching the global RNG (an integer
            from 0 to 2**64 - 1); ``None`` draws from the global torch RNG.

    Returns:
        An ``nn.Module`` whose forward maps ``(N, in_channels, *spatial)`` to logits
        ``(N, num_classes)`` (``(logits, aux_logits)`` in training with an auxiliary head).

    Example:
        >>> from nasbench.spaces.skeleton import Skeleton
        >>> from nasbench.spaces.zoo import zoo
        >>> net = build(zoo["DARTS_V2"], Skeleton(n_cells=5, channels=8), seed=0)
        >>> net.eval()(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 2])
    """
    genotype = _as_genotype(genotype)
    kind = getattr(genotype, "kind", None)
    builders = registry.names("network")
    if kind not in builders:
        raise SpaceError(
            f"Cannot build a network from {type(genotype).__name__} (kind {kind!r}); "
            f"expected a genotype of kind {', '.join(map(repr, builders))}."
        )
    skeleton = _as_skeleton(skeleton, kind)
    if skeleton.spatial_dims not in (2, 3):
        raise SpaceError(f"skeleton.spatial_dims must be 2 or 3, got {skeleton.spatial_dims!r}.")
    # seeded() would take 1.5 as 1 and -1 as 2**64 - 1: another network than the one asked.
    if seed is not None and not (
        isinstance(seed, int | np.integer) and not isinstance(seed, bool) and 0 <= seed < 2**64
    ):
        raise ConfigError(f"seed must be an integer from 0 to 2**64 - 1 or None, got {seed!r}.")
    network = registry.get("network", kind).obj
    if seed is None:
        return network(genotype, skeleton)
    with seeded(seed):
        return network(genotype, skeleton)


def _as_skeleton(skeleton: Any, kind: str) -> Any:
    """A skeleton dict as the skeleton class the genotype's network reads."""
    if isinstance(skeleton, Mapping):
        from nasbench.spaces.recon import ReconSkeleton  # the recon space, on first use

        classes = {
            **dict.fromkeys(SKELETON_KINDS, Skeleton),
            **dict.fromkeys(UNET_KINDS, UNetSkeleton),
            "recon": ReconSkeleton,
        }
        if kind not in classes:  # a user's network kind: its skeleton class is unknown here
            raise SpaceError(
                f"a skeleton dict cannot be read for a {kind!r} network; pass its skeleton object."
            )
        return classes[kind].from_dict(skeleton)
    if not hasattr(skeleton, "spatial_dims"):
        raise SpaceError(
            f"skeleton must be a Skeleton (UNetSkeleton, ReconSkeleton) or its dict, got "
            f"{type(skeleton).__name__}; e.g. Skeleton(n_cells=5, channels=8)."
        )
    return skeleton


def _as_genotype(genotype: Genotype) -> Any:
    if isinstance(genotype, Mapping):
        return genotype_from_dict(genotype)
    if isinstance(genotype, str):
        return parse_genotype(genotype)
    return genotype


def genotype_cell(
    genotype: Genotype, cell_type: str
) -> tuple[list[tuple[int, int]], list[str], tuple]:
    """Edges ``(node, input)``, op names and concat of one cell of a DARTS genotype."""
    pairs, concat = genotype.cell(cell_type)
    per_node = genotype.inputs_per_node
    edges = [(k // per_node, int(inp)) for k, (_, inp) in enumerate(pairs)]
    return edges, [op for op, _ in pairs], tuple(concat)


class AuxiliaryHead(nn.Module):
    """DARTS's ``AuxiliaryHeadCIFAR``, for any input size and 2D or 3D.

    DARTS pools an 8x8 map with a 5x5 window at stride 3 to 2x2; here an adaptive
    average pool gives the 2x2 (2x2x2) map directly, so the head also works on the
    7x7 maps of 28x28 inputs and on 3D volumes. Widths and parameter count are
    those of DARTS.
    """

    def __init__(self, spatial_dims: int, C: int, num_classes: int) -> None:
        super().__init__()
        conv, bn = conv_cls(spatial_dims), bn_cls(spatial_dims)
        pool = nn.AdaptiveAvgPool2d if spatial_dims == 2 else nn.AdaptiveAvgPool3d
        self.features = nn.Sequential(
            nn.ReLU(),
            pool(2),
            conv(C, AUX_HIDDEN, 1, bias=False),
            bn(AUX_HIDDEN),
            nn.ReLU(),
            conv(AUX_HIDDEN, AUX_FEATURES, 2, bias=False),
            bn(AUX_FEATURES),
            nn.ReLU(),
        )
        self.classifier = nn.Linear(AUX_FEATURES, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


@registry.register("network", "darts")
class Network(nn.Module):
    """A DARTS/NASNet genotype stacked as DARTS's ``NetworkCIFAR``, 2D or 3D.

    Attributes:
        drop_path_prob: drop-path probability used in training; set it per epoch
            (DARTS: ``0.2 * epoch / epochs``). Starts at ``skeleton.drop_path_prob``.
        generator: optional ``torch.Generator`` for drop-path; ``None`` uses the
            global torch RNG.
        share_relu: compute each cell output's ReLU once for the two cells that read it
            (:class:`~nasbench.models.cells.SharedInputRelu`; True); False runs it in
            both, as DARTS does.
    """

    def __init__(self, genotype: Genotype, skeleton: Any) -> None:
        super().__init__()
        self.share_relu = True
        dims = skeleton.spatial_dims
        n_cells, C = skeleton.n_cells, skeleton.channels
        reductions = set(skeleton.reductions())
        normal = genotype_cell(genotype, "normal")
        reduce = genotype_cell(genotype, "reduce")
        check_op_names(normal[1] + reduce[1], "The genotype")
        self.drop_path_prob = float(skeleton.drop_path_prob)
        self.generator: torch.Generator | None = None

        C_curr = skeleton.stem_multiplier * C
        self.stem = nn.Sequential(
            conv_cls(dims)(skeleton.in_channels, C_curr, 3, padding=1, bias=False),
            bn_cls(dims)(C_curr),
        )
        C_prev_prev, C_prev, C_curr = C_curr, C_curr, C
        # DARTS attaches the auxiliary head after cell 2n/3, the second reduction.
        self.aux_position = max(reductions) if reductions else 2 * n_cells // 3
        self.cells = nn.ModuleList()
        C_aux, reduction_prev = C_prev, False
        for i in range(n_cells):
            reduction = i in reductions
            if reduction:
                C_curr *= 2
            edges, names, concat = reduce if reduction else normal
            cell = Cell(
                dims,
                C_prev_prev,
                C_prev,
                C_curr,
                reduction=reduction,
                reduction_prev=reduction_prev,
                edges=edges,
                edge_factory=_op_factory(names, dims, C_curr),
                concat=concat,
            )
            self.cells.append(cell)
            reduction_prev = reduction
            C_prev_prev, C_prev = C_prev, cell.multiplier * C_curr
            if i == self.aux_position:
                C_aux = C_prev
        self.auxiliary_head = (
            AuxiliaryHead(dims, C_aux, skeleton.num_classes) if skeleton.auxiliary else None
        )
        self.global_pooling = GlobalAvgPool()
        self.classifier = nn.Linear(C_prev, skeleton.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Logits, or ``(logits, aux_logits)`` in training mode with an auxiliary head."""
        aux_logits = None
        s0 = s1 = self.stem(x)
        relu = SharedInputRelu(self.share_relu)
        for i, cell in enumerate(self.cells):
            *inputs, rectified = relu.inputs(cell, s0, s1)
            out = cell(*inputs, self.drop_path_prob, generator=self.generator, rectified=rectified)
            s0, s1 = s1, out
            if i == self.aux_position and self.auxiliary_head is not None and self.training:
                aux_logits = self.auxiliary_head(s1)
        logits = self.classifier(self.global_pooling(s1).flatten(1))
        return logits if aux_logits is None else (logits, aux_logits)


def _op_factory(names: list[str], dims: int, C: int):
    """Edge factory for :class:`Cell` creating the genotype's ops, one per edge, in edge order."""
    op_of = iter(names)

    def factory(node: int, inp: int, stride: int) -> nn.Module:
        # Cell calls the factory once per edge, in the order of its ``edges`` (documented).
        return create_op(next(op_of), spatial_dims=dims, C_in=C, C_out=C, stride=stride)

    return factory
