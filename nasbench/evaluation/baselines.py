"""Hand-designed baselines a searched network is compared with.

MedMNIST's benchmark reports ResNet-18 "(28)": the ImageNet ResNet-18 with its
7x7 stride-2 stem and max-pool replaced by a 3x3 stride-1 convolution, so a
28x28 image keeps its resolution into the first stage. MONAI's ResNet takes
``spatial_dims``, so the same function gives the 3D variant for MedMNIST3D.

The honest floor for a searched cell is a small fixed network trained with the same
recipe: :func:`small_cnn`, three conv blocks, about 94K parameters in 2D.

For segmentation: MONAI's residual ``UNet`` (the hand-designed network NAS-Unet
set out to beat), and :class:`IntensityThresholds`, the classical floor: a pixel
gets the class whose intensity band it falls in, bands fitted on the training masks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from nasbench.errors import ConfigError, closest_name


def resnet18(spatial_dims: int = 2, in_channels: int = 1, num_classes: int = 2) -> nn.Module:
    """ResNet-18 adapted to 28x28 inputs (MedMNIST's "ResNet-18 (28)"), 2D or 3D.

    Args:
        spatial_dims: 2 for images, 3 for volumes.
        in_channels: image channels.
        num_classes: classifier outputs.

    Returns:
        MONAI's ``ResNet`` with basic blocks [2, 2, 2, 2], a 3x3 stride-1 stem and no
        max-pool; about 11.2M parameters in 2D.

    Example:
        >>> import torch
        >>> net = resnet18(2, in_channels=1, num_classes=2)
        >>> net.eval()(torch.zeros(1, 1, 28, 28)).shape
        torch.Size([1, 2])
    """
    from monai.networks.nets import resnet18 as monai_resnet18

    if spatial_dims not in (2, 3) or isinstance(spatial_dims, bool):
        raise ConfigError(f"resnet18 spatial_dims must be 2 or 3, got {spatial_dims!r}.")
    for name, value in (("in_channels", in_channels), ("num_classes", num_classes)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"resnet18 {name} must be an integer >= 1, got {value!r}.")
    return monai_resnet18(
        spatial_dims=spatial_dims,
        n_input_channels=in_channels,
        num_classes=num_classes,
        conv1_t_size=3,
        conv1_t_stride=1,
        no_max_pool=True,
    )


def small_cnn(
    spatial_dims: int = 2,
    in_channels: int = 1,
    num_classes: int = 2,
    widths: Sequence[int] = (32, 64, 128),
) -> nn.Module:
    """A small hand-made CNN: per width a 3x3 conv, BatchNorm, ReLU and a 2x max-pool,
    then global average pooling and a linear classifier; 2D or 3D.

    Args:
        spatial_dims: 2 for images, 3 for volumes.
        in_channels: image channels.
        num_classes: classifier outputs.
        widths: channels of the conv blocks.

    Returns:
        The network; about 94K parameters in 2D with the default widths.

    Example:
        >>> net = small_cnn(2, in_channels=3, num_classes=5)
        >>> net.eval()(torch.zeros(2, 3, 28, 28)).shape
        torch.Size([2, 5])
    """
    from nasbench.spaces.blocks import GlobalAvgPool, bn_cls, conv_cls

    if spatial_dims not in (2, 3) or isinstance(spatial_dims, bool):
        raise ConfigError(f"small_cnn spatial_dims must be 2 or 3, got {spatial_dims!r}.")
    pool = nn.MaxPool2d if spatial_dims == 2 else nn.MaxPool3d
    layers: list[nn.Module] = []
    channels = in_channels
    for width in widths:
        layers += [
            conv_cls(spatial_dims)(channels, width, 3, padding=1, bias=False),
            bn_cls(spatial_dims)(width),
            nn.ReLU(inplace=True),
            pool(2, ceil_mode=True),
        ]
        channels = width
    layers += [GlobalAvgPool(), nn.Flatten(), nn.Linear(channels, num_classes)]
    return nn.Sequential(*layers)


def unet(
    spatial_dims: int = 2,
    in_channels: int = 1,
    num_classes: int = 2,
    channels: Sequence[int] = (16, 32, 64, 128),
) -> nn.Module:
    """MONAI's residual U-Net: ``len(channels) - 1`` stride-2 levels, two residual units each.

    Args:
        spatial_dims: 2 or 3.
        in_channels: image channels.
        num_classes: segmentation classes (the background included).
        channels: widths per level, top first.

    Returns:
        ``monai.networks.nets.UNet`` mapping ``(N, C, *S)`` to logits ``(N, K, *S)``.

    Example:
        >>> unet(2, 1, 3, channels=(4, 8))(torch.zeros(1, 1, 16, 16)).shape
        torch.Size([1, 3, 16, 16])
    """
    from monai.networks.nets import UNet

    channels = tuple(int(c) for c in channels)
    if len(channels) < 2:
        raise ConfigError(f"unet needs at least two levels of channels, got {channels}.")
    return UNet(
        spatial_dims=spatial_dims,
        in_channels=in_channels,
        out_channels=num_classes,
        channels=channels,
        strides=(2,) * (len(channels) - 1),
        num_res_units=2,
    )


class IntensityThresholds(nn.Module):
    """The thresholding baseline: one intensity band per class, fitted on training masks.

    :meth:`fit` takes each class's mean intensity (over the image channels), sorts the
    classes by it and cuts halfway between neighbours; a pixel gets the class whose band
    holds it. Its "logits" are the one-hot prediction, so it is scored like a network.

    Args:
        num_classes: classes, the background included.

    Example:
        >>> x = torch.tensor([[[[0.0, 1.0]]]]); y = torch.tensor([[[[0, 1]]]])
        >>> IntensityThresholds(2).fit(x, y)(x).argmax(1).tolist()
        [[[0, 1]]]
    """

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.num_classes = int(num_classes)
        self.register_buffer("cuts", torch.zeros(0))
        self.register_buffer("order", torch.zeros(1, dtype=torch.long))

    def fit(self, images: torch.Tensor, masks: torch.Tensor) -> IntensityThresholds:
        """Fit the bands on images ``(N, C, *S)`` and index masks ``(N, 1, *S)``."""
        intensity = images.float().mean(dim=1).flatten()
        labels = masks.long().flatten()
        if intensity.shape != labels.shape:
            raise ConfigError(
                f"images {tuple(images.shape)} and masks {tuple(masks.shape)} differ in size."
            )
        present = [k for k in range(self.num_classes) if bool((labels == k).any())]
        if not present:
            raise ConfigError("no labelled pixel to fit the thresholds on.")
        means = torch.stack([intensity[labels == k].mean() for k in present])
        sort = torch.argsort(means)
        self.order = torch.tensor(present)[sort]
        ordered = means[sort]
        self.cuts = (ordered[1:] + ordered[:-1]) / 2
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """One-hot ``(N, num_classes, *S)`` of the band each pixel falls in."""
        band = torch.bucketize(x.float().mean(dim=1), self.cuts.to(x.device))
        labels = self.order.to(x.device)[band]
        out = torch.nn.functional.one_hot(labels, self.num_classes).movedim(-1, 1)
        return out.float()


BASELINES: dict[str, Callable[..., nn.Module]] = {
    "resnet18": resnet18,
    "cnn": small_cnn,
    "unet": unet,
}


def create_baseline(
    name: str, spatial_dims: int = 2, in_channels: int = 1, num_classes: int = 2
) -> nn.Module:
    """Build a registered baseline by name.

    Args:
        name: a key of ``BASELINES`` (``"resnet18"``, ``"cnn"``, ``"unet"``).
        spatial_dims: 2 or 3.
        in_channels: image channels.
        num_classes: classifier outputs.

    Returns:
        The untrained network.

    Example:
        >>> create_baseline("resnet18").__class__.__name__
        'ResNet'
    """
    if name not in BASELINES:
        raise ConfigError(
            f"unknown baseline {name!r}; choose one of {', '.join(BASELINES)}."
            f"{closest_name(str(name), list(BASELINES))}"
        )
    return BASELINES[name](spatial_dims, in_channels, num_classes)
