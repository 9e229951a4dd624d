"""The detection baseline of ``retrain``: the same detector on a fixed ResNet-style backbone.

A searched ALB detector and this one share the neck, the FCOS head, the loss and the
recipe; only the backbone differs (ResNet basic blocks in place of searched cells), and
its width is chosen so that the two have about the same number of parameters, so a
difference in AP50 or FROC is the searched block's and not the size's.

torchvision's stock FCOS and RetinaNet would be the other natural baselines; the PyPI
wheel of torchvision that matches this project's torch links CUDA libraries and its
compiled ops (NMS, RoI ops) do not load on a CPU build, so they are not offered.

Example:
    >>> from nasbench.models.detector import ResNetDetector
    >>> net = matched_resnet_detector(20_000, in_channels=1, num_classes=1)
    >>> isinstance(net, ResNetDetector)
    True
"""

from __future__ import annotations

from nasbench.models.costs import count_parameters
from nasbench.models.detector import ResNetDetector

RESNET_DETECTOR = "resnet-detector"
WIDTHS = range(4, 65, 2)


def matched_resnet_detector(
    target_params: int, in_channels: int = 1, num_classes: int = 1, head_width: int = 32
) -> ResNetDetector:
    """The :class:`ResNetDetector` whose parameter count is closest to ``target_params``.

    Args:
        target_params: the searched detector's parameters.
        in_channels: image channels.
        num_classes: object classes.
        head_width: neck and head channels (the searched detector's).

    Returns:
        The detector (one basic block per stage, the width searched over 4..64).
    """

    def size(width: int) -> int:
        return count_parameters(ResNetDetector(in_channels, num_classes, width, 1, head_width))

    best = min(WIDTHS, key=lambda width: abs(size(width) - target_params))
    return ResNetDetector(in_channels, num_classes, best, 1, head_width)
