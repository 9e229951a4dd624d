"""Item transforms: small callables on ``(image, target)``, the random ones MONAI's.

Base datasets give images in [0, 1]. ``"default"`` normalises them to [-1, 1];
``"augment"`` first applies a seeded random flip and 90-degree rotation (MONAI's, to
the mask too, for segmentation) and then normalises: an item transform, for a person's
own DataLoader. Searches and training augment per batch instead (:class:`BatchAugment`
in :class:`~nasbench.data.batches.EpochBatches`, the training loop's own for classification
and detection): drawn from (seed, epoch, batch), so every epoch draws anew even when the
images are held in memory, and a resumed run draws what an uninterrupted one would.
Reconstruction samples are left as they are (their input holds k-space). MONAI is
imported only when an item augmentation is built: importing it costs about 1.4 s of
start-up, and listing datasets or a search does not need it.
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
    """Seeded light augmentation: random axis flip, random 90-degree turn in the (H, W) plane.

    The same draw is applied to a spatial target (segmentation mask, reference
    image). The turn is skipped for non-square planes, which it would reshape; a
    volume's slice axis (first) is never turned into the plane.

    Args:
        spatial: whether the target lives on the image grid.
        seed: seeds MONAI's random state.
    """

    def __init__(self, spatial: bool, seed: int = 0) -> None:
        from monai.transforms import RandAxisFlip, RandRotate90

        self.spatial = spatial
        self._flip = RandAxisFlip(prob=0.5).set_random_state(seed)
        self._turn = RandRotate90(prob=0.5, max_k=3, spatial_axes=(0, 1)).set_random_state(seed + 1)
        # Volumes turn in (H, W), the spatial axes 1 and 2; one random state for both.
        self._turn_volume = RandRotate90(prob=0.5, max_k=3, spatial_axes=(1, 2))
        self._turn_volume.R = self._turn.R

    def __call__(self, image: torch.Tensor, target: Any) -> tuple[torch.Tensor, Any]:
        apply_to_target = self.spatial and isinstance(target, torch.Tensor) and target.ndim > 1
        self._flip.randomize(image)
        image = _plain(self._flip(image, randomize=False))
        if apply_to_target:
            target = _plain(self._flip(target, randomize=False))
        turn = self._turn_volume if image.ndim == 4 else self._turn
        if image.shape[-2] == image.shape[-1]:
            turn.randomize()
            image = _plain(turn(image, randomize=False))
            if apply_to_target:
                target = _plain(turn(target, randomize=False))
        return image.contiguous(), target.contiguous() if apply_to_target else target


class BatchAugment:
    """The same light augmentation as :class:`Augment`, drawn per batch from a generator.

    Each image gets, with probability 1/2, a flip along one of its spatial axes (chosen
    uniformly) and, with probability 1/2 when its (H, W) plane is square, a turn by 1-3
    quarters in that plane (a volume's slice axis stays where it is); a spatial target
    (a mask, a reference image) moves with it.
    Drawn from a generator keyed by (seed, epoch, batch), a batch is the same in a
    resumed run as in an uninterrupted one, and differs from epoch to epoch; an item
    transform on a cached dataset would freeze one draw per image for the whole run.

    Args:
        spatial: whether the target lives on the image grid.

    Example:
        >>> images = torch.arange(8.0).view(2, 1, 2, 2)
        >>> out, _ = BatchAugment(False)(images, torch.tensor([0, 1]), torch.Generator())
        >>> out.shape
        torch.Size([2, 1, 2, 2])
    """

    def __init__(self, spatial: bool) -> None:
        self.spatial = spatial

    def __call__(
        self, images: torch.Tensor, targets: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        dims = images.dim() - 2  # (N, C, *spatial)
        if dims < 1:
            return images, targets
        moves_target = self.spatial and targets.dim() >= dims + 1
        n = len(images)
        flip = torch.rand(n, generator=generator) < 0.5
        axis = torch.randint(0, dims, (n,), generator=generator)
        turn = torch.rand(n, generator=generator) < 0.5
        quarters = torch.randint(1, 4, (n,), generator=generator)
        # The turn is in the last two axes (H, W): a volume keeps its slice axis first, as
        # the MONAI sets order it, so in-plane (1x3x3) convolutions stay in-plane.
        square = dims >= 2 and images.shape[-2] == images.shape[-1]
        out_images, out_targets = [], []
        for i in range(n):
            image, target = images[i], targets[i]
            # Negative dims: the spatial axes are the last ``dims`` of image and mask alike.
            if flip[i]:
                axis_dim = int(axis[i]) - dims
                image = image.flip(axis_dim)
                target = target.flip(axis_dim) if moves_target else target
            if square and turn[i]:
                plane = (-2, -1)
                image = torch.rot90(image, int(quarters[i]), plane)
                target = torch.rot90(target, int(quarters[i]), plane) if moves_target else target
            out_images.append(image)
            out_targets.append(target)
        return torch.stack(out_images).contiguous(), torch.stack(out_targets).contiguous()


def batch_augment_for(task: str) -> BatchAugment | None:
    """The per-batch augmentation a search of a dataset's ``task`` uses, or None.

    Reconstruction inputs hold measured k-space (a flip of the input alone would break
    data consistency) and detection boxes must move with the pixels (the training loop's
    box-aware augmentation does that), so neither gets this one.

    Args:
        task: a :class:`DatasetInfo` task ("binary", "segmentation", ...).

    Returns:
        A :class:`BatchAugment`, or None for reconstruction, detection and localisation.

    Example:
        >>> batch_augment_for("segmentation").spatial, batch_augment_for("detection")
        (True, None)
    """
    if task in ("reconstruction", "detection", "localisation"):
        return None
    return BatchAugment(task in SPATIAL_TARGETS)


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
