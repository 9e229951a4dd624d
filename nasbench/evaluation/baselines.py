"""Hand-designed baselines a searched network is compared with.

MedMNIST's benchmark reports ResNet-18 "(28)": the ImageNet ResNet-18 with its
7x7 stride-2 stem and max-pool replaced by a 3x3 stride-1 convolution, so a
28x28 image keeps its resolution into the first stage. MONAI's ResNet takes
``spatial_dims``, so the same function gives the 3D variant for MedMNIST3D.
"""

from __future__ import annotations

from collections.abc import Callable

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


BASELINES: dict[str, Callable[..., nn.Module]] = {"resnet18": resnet18}


def create_baseline(
    name: str, spatial_dims: int = 2, in_channels: int = 1, num_classes: int = 2
) -> nn.Module:
    """Build a registered baseline by name.

    Args:
        name: a key of ``BASELINES`` (``"resnet18"``).
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
