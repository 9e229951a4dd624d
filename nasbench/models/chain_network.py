"""A chain network (NAS-RL, MetaQNN): the genotype's layers one after another.

Each convolution is followed by BatchNorm and ReLU; pooling layers keep the
channel count. After the last layer come global average pooling and a linear
classifier. Padding is ``kernel // 2`` per axis, so stride 1 keeps odd-kernel
layers size-preserving and stride s divides every spatial size by about s.
In 3D a ``kernel_h x kernel_w`` layer becomes ``kernel_h x kernel_h x kernel_w``
(depth takes the height's size).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from nasbench import registry
from nasbench.errors import SpaceError, closest_name
from nasbench.models.cells import refuse_auxiliary
from nasbench.protocols import Genotype
from nasbench.spaces.blocks import GlobalAvgPool, avg_pool_cls, bn_cls, conv_cls, max_pool_cls

LAYER_TYPES = ("conv", "sep_conv", "max_pool", "avg_pool")


def chain_layer(spatial_dims: int, layer: Any, C_in: int) -> tuple[nn.Module, int]:
    """Build one chain layer.

    Args:
        spatial_dims: 2 or 3.
        layer: a ``ChainLayer`` (layer_type, kernel_h, kernel_w, stride, filters).
        C_in: input channels.

    Returns:
        The module and its output channel count.

    Example:
        >>> from nasbench.spaces.genotype import ChainLayer
        >>> chain_layer(2, ChainLayer("conv", 3, 3, 1, 16), 1)[1]
        16
    """
    if layer.layer_type not in LAYER_TYPES:
        raise SpaceError(
            f"Chain layer type {layer.layer_type!r} is unknown; use one of "
            f"{', '.join(LAYER_TYPES)}.{closest_name(layer.layer_type, LAYER_TYPES)}"
        )
    kernel = (layer.kernel_h,) * (spatial_dims - 1) + (layer.kernel_w,)
    padding = tuple(k // 2 for k in kernel)
    if layer.layer_type == "max_pool":
        return max_pool_cls(spatial_dims)(kernel, layer.stride, padding), C_in
    if layer.layer_type == "avg_pool":
        pool = avg_pool_cls(spatial_dims)(kernel, layer.stride, padding, count_include_pad=False)
        return pool, C_in
    if layer.filters < 1:
        raise SpaceError(f"Chain {layer.layer_type} layer needs filters >= 1, got {layer.filters}.")
    conv = conv_cls(spatial_dims)
    if layer.layer_type == "conv":
        convs = [conv(C_in, layer.filters, kernel, layer.stride, padding, bias=False)]
    else:  # depthwise then pointwise
        convs = [
            conv(C_in, C_in, kernel, layer.stride, padding, groups=C_in, bias=False),
            conv(C_in, layer.filters, 1, bias=False),
        ]
    return nn.Sequential(*convs, bn_cls(spatial_dims)(layer.filters), nn.ReLU()), layer.filters


@registry.register("network", "chain")
class ChainNetwork(nn.Module):
    """A ``ChainGenotype`` as a plain sequence of layers, then GAP and a linear classifier.

    Args:
        genotype: a ``ChainGenotype``.
        skeleton: a ``Skeleton``; uses in_channels, num_classes and spatial_dims only.
    """

    def __init__(self, genotype: Genotype, skeleton: Any) -> None:
        super().__init__()
        refuse_auxiliary(skeleton, "A chain network")
        layers, C = [], skeleton.in_channels
        for layer in genotype.layers:
            module, C = chain_layer(skeleton.spatial_dims, layer, C)
            layers.append(module)
        self.layers = nn.Sequential(*layers)
        self.global_pooling = GlobalAvgPool()
        self.classifier = nn.Linear(C, skeleton.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, num_classes)``."""
        return self.classifier(self.global_pooling(self.layers(x)).flatten(1))
