"""Hessian eigenvalue (power iteration vs the exact Hessian) and the RobustDARTS early stop."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from nasbench.models.supernet import build_supernet
from nasbench.spaces.cell import CellSpace
from nasbench.spaces.skeleton import Skeleton
from nasbench.strategies.differentiable import (
    EigenvalueEarlyStop,
    dominant_eigenvalue,
    exact_hessian,
    should_stop_early,
    supernet_hessian_eigenvalue,
)


def _quadratic_with_spectrum(eigenvalues, seed=0):
    gen = torch.Generator().manual_seed(seed)
    n = len(eigenvalues)
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=torch.float64))
    a = q @ torch.diag(torch.tensor(eigenvalues, dtype=torch.float64)) @ q.T
    x = torch.randn(n, generator=gen, dtype=torch.float64, requires_grad=True)
    return a, x


def test_exact_hessian_of_quadratic():
    a, x = _quadratic_with_spectrum([3.0, 1.0, -0.5, 0.2])
    h = exact_hessian(lambda: 0.5 * x @ a @ x, [x])
    torch.testing.assert_close(h, a)


def test_power_iteration_finds_largest_eigenvalue():
    a, x = _quadratic_with_spectrum([5.0, 2.0, 1.0, -1.0, 0.5])
    value = dominant_eigenvalue(lambda: 0.5 * x @ a @ x + torch.sin(x).sum() * 0.1, [x], iters=200)
    exact = torch.linalg.eigvalsh(
        exact_hessian(lambda: 0.5 * x @ a @ x + torch.sin(x).sum() * 0.1, [x])
    )
    assert value == pytest.approx(float(exact.max()), rel=1e-3)


def test_power_iteration_largest_not_largest_magnitude():
    # The eigenvalue of largest magnitude is negative; RobustDARTS tracks the largest.
    a, x = _quadratic_with_spectrum([2.0, 1.0, -6.0, 0.3])
    value = dominant_eigenvalue(lambda: 0.5 * x @ a @ x, [x], iters=500, tol=1e-10)
    assert value == pytest.approx(2.0, rel=1e-3)


def test_supernet_eigenvalue_matches_exact_hessian_and_keeps_buffers():
    skeleton = Skeleton(n_cells=2, channels=4, reduction_at=(1,))
    space = CellSpace(ops=["none", "skip_connect", "avg_pool_3x3", "sep_conv_3x3"], n_nodes=2,
                      skeleton=skeleton)  # fmt: skip
    net = build_supernet(space, "gdas", seed=0)  # a sampling method: measured on the relaxation
    gen = torch.Generator().manual_seed(0)
    batch = (torch.randn(4, 1, 8, 8, generator=gen), torch.randint(0, 2, (4,), generator=gen))
    buffers = {k: b.clone() for k, b in net.named_buffers()}
    value = supernet_hessian_eigenvalue(net, [batch], F.cross_entropy, iters=200, tol=1e-7)
    for k, b in net.named_buffers():
        assert torch.equal(b, buffers[k]), k

    params = [net.alpha(ct) for ct in net.cell_types]
    with net.forward_mode("relaxed"):
        h = exact_hessian(lambda: F.cross_entropy(net(batch[0]), batch[1]), params)
    torch.testing.assert_close(h, h.T, rtol=1e-3, atol=1e-5)
    exact = float(torch.linalg.eigvalsh(0.5 * (h + h.T)).max())
    assert value == pytest.approx(exact, rel=2e-2)


def test_early_stop_fires_on_growth_and_not_when_flat():
    assert not should_stop_early([1.0] * 12)
    assert should_stop_early([1.0] * 5 + [1.5] * 5)
    assert not should_stop_early([1.0] * 5 + [1.2] * 5)  # below the factor 1.3
    assert not should_stop_early([1.0] * 5 + [2.0] * 4)  # too few measurements

    flat = EigenvalueEarlyStop()
    assert not any(flat.update(e, 0.5) for e in range(30))
    assert flat.stop_epoch is None

    growing = EigenvalueEarlyStop()
    fired = [e for e in range(30) if growing.update(e, 0.1 * 1.1**e)]
    assert fired and fired[0] >= 10
    assert growing.stop_epoch == fired[0] - 5

    early = EigenvalueEarlyStop(start_epoch=10)
    fired = [e for e in range(12) if early.update(e, 1.0 if e < 5 else 3.0)]
    assert fired == [10, 11]  # the growth was there at epoch 9, but the rule waits for 10
