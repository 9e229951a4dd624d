"""Item transforms: small callables on ``(image, target)``, the random ones MONAI's.

Base datasets give images in [0, 1]. ``"default"`` normalises them to [-1, 1];
``"augment"`` first applies a seeded random flip and 90-degree rotation (MONAI's, to
the mask too, for segmentation) and then normalises. Reconstruction samples are left
as they are (their input holds k-space). MONAI is imported only when an augmentation
is built: importing it costs a search about 1.4 s of start-up (the wait between Run
and the first figure), and listing datasets or a plain search does not need it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from nasbench.data.registry import DatasetInfo
from nasbench.errors import DatasetError

TRANSFORMS = ("default", "augment")
# Tasks whose target is an image on the same grid, so spatial augmentation must move it too.
SPATIAL_TARGETS = ("segmentation", "reconstruction")

PairTransform = Callable[[Any, Any], tuple[Any, Any]]


def _plain(x: Any) -> Any:
    """Drop MONAI's MetaTensor wrapper so batches collate as plain tensors."""
    return x.as_tensor() if hasattr(x, "as_tensor") else x


class Normalize:
    """Map [0, 1] intensities to [-1, 1] as float32: ``(x - 0.5) / 0.5``.

    The same numbers as MONAI's ``NormalizeIntensity(subtrahend=0.5, divisor=0.5)``,
    bit for bit (tests/data/test_transforms.py), without importing MONAI for one fixed
    affine map on every search's default path.

    Example:
        >>> Normalize()(torch.tensor([[0.0, 0.25, 1.0]]), 1)
        (tensor([[-1.0000, -0.5000,  1.0000]]), 1)
    """

    def __call__(self, image: Any, target: Any) -> tuple[torch.Tensor, Any]:
        image = torch.as_tensor(_plain(image)).to(torch.float32)
        return (image - 0.5) / 0.5, target


class Augment:
    """Seeded light augmentation: random axis flip, random 90-degree turn in the first plane.

    The same draw is applied to a spatial target (segmentation mask, reference
    image). The turn is skipped for non-square planes, which it would reshape.

    Args:
        spatial: whether the target lives on the image grid.
        seed: seeds MONAI's random state.
    """

    def __init__(self, spatial: bool, seed: int = 0) -> None:
        from monai.transforms import RandAxisFlip, RandRotate90

        self.spatial = spatial
        self._flip = RandAxisFlip(prob=0.5).set_random_state(seed)
        self._turn = RandRotate90(prob=0.5, max_k=3, spatial_axes=(0, 1)).set_random_state(seed + 1)

    def __call__(self, image: torch.Tensor, target: Any) -> tuple[torch.Tensor, Any]:
        apply_to_target = self.spatial and isinstance(target, torch.Tensor) and target.ndim > 1
        self._flip.randomize(image)
        image = _plain(self._flip(image, randomize=False))
        if apply_to_target:
            target = _plain(self._flip(target, randomize=False))
        if image.shape[1] == image.shape[2]:
            self._turn.randomize()
            image = _plain(self._turn(image, randomize=False))
            if apply_to_target:
                target = _plain(self._turn(target, randomize=False))
        return image.contiguous(), target.contiguous() if apply_to_target else target


class Compose:
    """Apply pair transforms in order."""

    def __init__(self, *steps: PairTransform) -> None:
        self.steps = steps

    def __call__(self, image: Any, target: Any) -> tuple[Any, Any]:
        for step in self.steps:
            image, target = step(image, target)
        return image, target


class ImageOnly:
    """Wrap an image-only callable (a MONAI or torchvision transform) as a pair transform."""

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn

    def __call__(self, image: Any, target: Any) -> tuple[Any, Any]:
        return _plain(self.fn(image)), target


def make_transform(
    transform: str | Callable[[Any], Any] | None, info: DatasetInfo, seed: int = 0
) -> PairTransform | None:
    """Build the item transform that :func:`nasbench.data.load` applies.

    Args:
        transform: ``"default"`` (normalise), ``"augment"`` (light seeded
            augmentation, then normalise), ``None`` (raw [0, 1] floats), or a
            callable applied to the image alone.
        info: the dataset's info (its task tells whether the target is spatial).
        seed: seeds the augmentation.

    Returns:
        ``f(image, target) -> (image, target)``, or None.

    Example:
        >>> t = make_transform("default", get_info("breastmnist"))  # doctest: +SKIP
        >>> t(torch.ones(1, 28, 28), 0)[0].max()  # doctest: +SKIP
        tensor(1.)
    """
    if transform is None:
        return None
    if callable(transform):
        return ImageOnly(transform)
    if transform in TRANSFORMS and info.task == "reconstruction":
        # The input carries measured k-space and its mask (nasbench.data.kspace): rescaling
        # or flipping it alone would break data consistency; each sample draws its own mask.
        return None
    if transform == "default":
        return Normalize()
    if transform == "augment" and info.task == "detection":
        # A flip or turn must move the boxes too: the training loop augments detection
        # batches box-aware (nasbench.data.box_augment); the item transform only normalises.
        return Normalize()
    if transform == "augment":
        return Compose(Augment(info.task in SPATIAL_TARGETS, seed), Normalize())
    raise DatasetError(
        f"unknown transform {transform!r}; use 'default', 'augment', None or a callable."
    )
