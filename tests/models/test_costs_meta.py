"""MACs counted on the meta device equal the MACs of a real forward pass."""

from __future__ import annotations

import pytest

from nasbench.models import costs
from nasbench.models.costs import count_macs
from nasbench.spaces import Skeleton, zoo


@pytest.mark.parametrize(("dims", "size"), [(2, 32), (3, 16)])
def test_meta_count_equals_the_real_count(monkeypatch, dims, size):
    from nasbench.models.network import build

    skeleton = Skeleton(n_cells=3, channels=4, spatial_dims=dims, in_channels=1, num_classes=2)
    net = build(zoo["DARTS_V2"], skeleton, seed=0)
    shape = (2, 1, *(size,) * dims)
    monkeypatch.setattr(costs, "_META_FROM_VALUES", 10**12)  # never: a real forward pass
    real = count_macs(net, shape)
    monkeypatch.setattr(costs, "_META_FROM_VALUES", 0)  # always: shapes only
    shadowed = []
    original = costs._on_meta
    monkeypatch.setattr(costs, "_on_meta", lambda m: shadowed.append(1) or original(m))
    assert count_macs(net, shape) == real and shadowed
    assert next(net.parameters()).device.type == "cpu"  # the model itself stays put
