"""EpochBatches: the order is a pure function of (seed, stream, epoch), for every seed a
config accepts."""

from __future__ import annotations

import torch

from nasbench.config import MAX_INT
from nasbench.data.batches import EpochBatches

DATA = [(torch.full((1, 2, 2), float(i)), torch.tensor(i % 2)) for i in range(10)]


def test_the_largest_accepted_seed_orders_batches_without_overflow():
    """Seeds are mixed into a 64-bit generator seed; the largest one validation lets
    through once overflowed it ("Overflow when unpacking long long")."""
    batches = EpochBatches(DATA, batch_size=4, seed=MAX_INT - 1, stream=1)
    order = batches.order(7)
    assert sorted(order.tolist()) == list(range(10))
    assert torch.equal(order, EpochBatches(DATA, 4, seed=MAX_INT - 1, stream=1).order(7))


def test_a_small_seed_keeps_its_order():
    """The wrap-around changes nothing below 2**63: seed 3 reads what it always read."""
    expected = torch.randperm(
        10, generator=torch.Generator().manual_seed((3 * 1_000_003) * 10_007 + 2)
    )
    assert torch.equal(EpochBatches(DATA, 4, seed=3, stream=0).order(2), expected)
