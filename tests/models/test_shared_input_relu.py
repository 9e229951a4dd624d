"""Every stack of DARTS cells computes a cell input's ReLU once for the preprocessors that
read it (``SharedInputRelu``): the same outputs and batch-norm statistics, bit for bit, as
one ReLU per reader, and the same gradients (the detectors' necks read the first cell's
output a third time, so its gradient is summed in another order: equal to rounding)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nasbench.models.trellis import TrellisNetwork
from nasbench.spaces import TrellisGenotype, create_space, space_from_dict
from nasbench.spaces.skeleton import UNetSkeleton
from tests.models.test_mixed_edge import _OpCounter

TRELLIS = {"num_layers": 3, "n_nodes": 2, "skeleton": {"depth": 2, "channels": 4}}


def _trellis_supernet():
    return create_space("trellis", **TRELLIS).supernet(method="darts", seed=0)


def _trellis_network():
    g = TrellisGenotype(
        (1, 2, 1), [("sep_conv_3x3", 0), ("skip_connect", 1), ("max_pool_3x3", 2),
                    ("sep_conv_3x3", 0)], [2, 3], 3)  # fmt: skip
    return TrellisNetwork(g, UNetSkeleton(depth=2, channels=4, num_classes=3), seed=0)


def _alb_space():
    return space_from_dict({"name": "alb", "skeleton": {"channels": 4, "num_classes": 1}})


def _detector_supernet():
    return _alb_space().supernet(method="darts", seed=0)


def _alb_detector():
    space = _alb_space()
    return space.build(space.sample(np.random.default_rng(0)))


@pytest.mark.parametrize(
    "build", [_trellis_supernet, _trellis_network, _detector_supernet, _alb_detector]
)
def test_one_relu_per_cell_input_changes_no_number(build):
    x = torch.randn(2, 1, 32, 32, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    results, relus = [], []
    for share in (True, False):
        torch.manual_seed(0)  # the retrained detector draws its weights from the global RNG
        net = build().double().train()
        net.share_relu = share
        with _OpCounter() as counter:
            out = net(x)
        out.square().sum().backward()
        relus.append(counter.counts["relu"])
        grads = [p.grad for p in net.parameters()]
        results.append((out, grads, [b.clone() for b in net.buffers()]))
    (out, grads, buffers), (ref_out, ref_grads, ref_buffers) = results
    assert torch.equal(out, ref_out)
    for g, r in zip(grads, ref_grads, strict=True):
        assert (g is None) == (r is None)
        if g is not None:
            torch.testing.assert_close(g, r, rtol=1e-12, atol=1e-14)
    assert all(torch.equal(b, r) for b, r in zip(buffers, ref_buffers, strict=True))
    assert relus[0] < relus[1]
