"""Deterministic mini-batches addressed by (epoch, index).

A batch is a pure function of the seed, the epoch and its index, so a resumed
search reads exactly the batches an uninterrupted one would have read, without
saving sampler state.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.utils.data import Dataset

from nasbench.errors import DatasetError

# Beyond this many bytes the images are read from the dataset per batch instead of
# being held in memory; small search subsets (the common case) fit easily.
_CACHE_LIMIT_BYTES = 1 << 30


class EpochBatches:
    """Shuffled mini-batches of a dataset, reproducible per epoch.

    Args:
        dataset: items ``(image, target)``.
        batch_size: images per batch; the last incomplete batch is dropped so that
            every step sees the same batch size (BatchNorm statistics stay stable).
        seed: the search seed.
        stream: separates the training and validation streams of one seed.
        augment: ``f(images, targets, generator) -> (images, targets)`` applied to each
            batch with a generator keyed by (seed, stream, epoch, index), e.g.
            :class:`~nasbench.data.transforms.BatchAugment`; None for none.

    Example:
        >>> ds = [(torch.zeros(1, 4, 4), torch.tensor(0))] * 10
        >>> batches = EpochBatches(ds, batch_size=4, seed=0, stream=0)
        >>> len(batches), batches.batch(0, 1)[0].shape
        (2, torch.Size([4, 1, 4, 4]))
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int,
        seed: int,
        stream: int,
        augment: Callable[..., tuple[torch.Tensor, torch.Tensor]] | None = None,
    ) -> None:
        if len(dataset) == 0:
            raise DatasetError(
                "a split to draw batches from holds no images; give each split at least one."
            )
        self.dataset = dataset
        self.augment = augment
        self.batch_size = min(int(batch_size), len(dataset))
        self.seed = int(seed)
        self.stream = int(stream)
        self._cache: tuple[torch.Tensor, torch.Tensor] | None = None
        self._order: tuple[int, torch.Tensor] | None = None
        first_image = dataset[0][0]
        if first_image.numel() * first_image.element_size() * len(dataset) <= _CACHE_LIMIT_BYTES:
            self._cache = self._stack(range(len(dataset)))

    def __len__(self) -> int:
        return len(self.dataset) // self.batch_size

    def order(self, epoch: int) -> torch.Tensor:
        """The permutation of sample indices used in ``epoch``."""
        if self._order is None or self._order[0] != epoch:
            generator = torch.Generator().manual_seed(
                ((self.seed * 1_000_003 + self.stream) * 10_007 + int(epoch)) % 2**63
            )  # unchanged below 2**63: a large seed wraps instead of overflowing
            self._order = (epoch, torch.randperm(len(self.dataset), generator=generator))
        return self._order[1]

    def batch(self, epoch: int, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Images and targets of batch ``index`` of ``epoch`` (index wraps around)."""
        index %= len(self)
        picks = self.order(epoch)[index * self.batch_size : (index + 1) * self.batch_size]
        if self._cache is not None:
            images, targets = self._cache[0][picks], self._cache[1][picks]
        else:
            images, targets = self._stack(picks.tolist())
        if self.augment is None:
            return images, targets
        # Its own key (the order's, offset): a pure function of (seed, stream, epoch, index).
        key = ((self.seed * 1_000_003 + self.stream) * 10_007 + int(epoch)) * 100_003 + index
        generator = torch.Generator().manual_seed((key + 7_919) % 2**63)
        return self.augment(images, targets, generator)

    def all(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Every image and target, when held in memory."""
        return self._cache

    def _stack(self, indices) -> tuple[torch.Tensor, torch.Tensor]:
        items = [self.dataset[int(i)] for i in indices]
        images = torch.stack([torch.as_tensor(x) for x, _ in items])
        targets = torch.stack([torch.as_tensor(y) for _, y in items])
        return images, targets
