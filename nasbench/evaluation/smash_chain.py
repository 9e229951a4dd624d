"""SMASH on the chain space (NAS-RL, MetaQNN): a hypernetwork generates every layer's kernel
(see :mod:`nasbench.evaluation.smash`).

A chain's layers choose their own kernel shape and width, so, as SMASH does for ops that
read and write a variable number of channels, each layer position's kernel is generated
at the largest shape the space allows (most filters x most input channels x the largest
kernel) and a layer uses the slice it needs: its filters, the channels it reads and the
centre of the kernel. The position's features come from ``[code, position embedding]``,
``code`` being the space's encoding of the whole chain. Pooling layers have no weights;
the classifier is an ordinary learned layer whose input columns are sliced the same way.

The generator's size follows the largest shape: with the default space (64 filters, 7x7
kernels) the conv head has 64 x 64 x 49 outputs, about 13 M parameters at ``hidden=64``
(a 3D kernel multiplies that by 7 again); a narrower space gives a smaller one.

Example:
    >>> space = ChainSpace(kernels=(1, 3), filters=(4, 8), max_depth=3)
    >>> net = SmashChainNetwork(space, space.encoding_length(), Skeleton(), hidden=8)
    >>> g = space.sample(np.random.default_rng(0))
    >>> net(torch.zeros(2, 1, 8, 8), torch.from_numpy(space.encode(g)), net.route(g)).shape
    torch.Size([2, 2])
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from nasbench.device import seeded
from nasbench.evaluation.smash import SlotHypernetwork, batch_norm, split_kernels, weight_head

CONV_LAYERS = ("conv", "sep_conv")
POOL_LAYERS = {"max_pool": "max", "avg_pool": "avg"}


class SmashChainNetwork(SlotHypernetwork):
    """A chain whose layer kernels a hypernetwork generates, sliced from the largest shape.

    Args:
        space: a ``ChainSpace``.
        code_length: length of the architecture code (the space's encoder).
        skeleton: uses ``in_channels``, ``num_classes`` and ``spatial_dims``.
        hidden: width of the hypernetwork's MLP.
        embedding: size of the learned embedding of each layer position.
        seed: seeds the initial weights (global RNG untouched).
    """

    def __init__(
        self,
        space: Any,
        code_length: int,
        skeleton: Any,
        hidden: int = 64,
        embedding: int = 16,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.dims = dims = skeleton.spatial_dims
        self.most_filters = max(space.filters)
        self.most_channels = max(self.most_filters, skeleton.in_channels)
        self.kernel = max(space.kernels)
        k_full = (self.kernel,) * dims
        self.shapes = {
            "conv": [(self.most_filters, self.most_channels, *k_full)],
            "sep_conv": [
                (self.most_channels, 1, *k_full),
                (self.most_filters, self.most_channels, *(1,) * dims),
            ],
        }
        with seeded(seed):
            self.init_generator(code_length, space.max_depth, hidden, embedding)
            for layer_type in space.layer_types:
                if layer_type in CONV_LAYERS:
                    self.heads[layer_type] = weight_head(hidden, self.shapes[layer_type])
            self.classifier = nn.Linear(self.most_channels, skeleton.num_classes)

    @staticmethod
    def route(genotype: Any) -> tuple:
        """What :meth:`forward` runs: the chain's layers."""
        return genotype.layers

    def forward(self, x: torch.Tensor, code: torch.Tensor, layers: tuple) -> torch.Tensor:
        """Logits of the chain ``layers`` with weights generated from ``code``."""
        features = self.generate(code)
        for position, layer in enumerate(layers):
            kernel = (layer.kernel_h,) * (self.dims - 1) + (layer.kernel_w,)
            padding = tuple(k // 2 for k in kernel)
            if layer.layer_type in POOL_LAYERS:
                x = _pool(POOL_LAYERS[layer.layer_type], x, kernel, layer.stride, padding)
                continue
            head = self.heads[layer.layer_type]
            kernels = split_kernels(head(features[position]), self.shapes[layer.layer_type])
            x = self._conv(layer, x, kernels, kernel, padding)
        pooled = x.flatten(2).mean(dim=2)
        weight = self.classifier.weight[:, : pooled.shape[1]]
        return F.linear(pooled, weight, self.classifier.bias)

    def _conv(
        self, layer: Any, x: torch.Tensor, kernels: list, kernel: tuple, padding: tuple
    ) -> torch.Tensor:
        conv = F.conv2d if self.dims == 2 else F.conv3d
        channels, filters = x.shape[1], layer.filters
        if layer.layer_type == "conv":
            (full,) = kernels
            x = conv(x, _centre(full[:filters, :channels], kernel), None, layer.stride, padding)
        else:  # depthwise, then pointwise
            depthwise, pointwise = kernels
            x = conv(x, _centre(depthwise[:channels], kernel), None, layer.stride, padding,
                     groups=channels)  # fmt: skip
            x = conv(x, pointwise[:filters, :channels])
        return F.relu(batch_norm(x))


def _centre(weight: torch.Tensor, kernel: tuple) -> torch.Tensor:
    """The centre ``kernel`` of a larger generated kernel."""
    index = [slice(None), slice(None)]
    for full, k in zip(weight.shape[2:], kernel, strict=True):
        start = (full - k) // 2
        index.append(slice(start, start + k))
    return weight[tuple(index)]


def _pool(kind: str, x: torch.Tensor, kernel: tuple, stride: int, padding: tuple) -> torch.Tensor:
    dims = x.dim() - 2
    if kind == "max":
        return (F.max_pool2d if dims == 2 else F.max_pool3d)(x, kernel, stride, padding)
    pool = F.avg_pool2d if dims == 2 else F.avg_pool3d
    return pool(x, kernel, stride, padding, count_include_pad=False)
