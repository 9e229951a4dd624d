"""The mixed edge's shared ReLU: the same outputs and gradients as each op run alone."""

from __future__ import annotations

import collections

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from nasbench.models.mixed_edge import EdgePlan, MixedEdge
from nasbench.spaces.ops import OP_SETS

DARTS_OPS = OP_SETS["darts"]  # pools and skip first, then the four convolutions


class _OpCounter(TorchDispatchMode):
    """Counts the aten ops run inside the block, by name."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: collections.Counter = collections.Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.counts[func.__name__.split(".")[0]] += 1
        return func(*args, **(kwargs or {}))


def _edge(stride: int, dims: int = 2) -> tuple[MixedEdge, torch.Tensor]:
    torch.manual_seed(0)
    edge = MixedEdge(dims, 3, stride, DARTS_OPS).double().train()
    x = torch.randn(2, 3, *[9] * dims, dtype=torch.float64, requires_grad=True)
    return edge, x


@pytest.mark.parametrize("stride,dims", [(1, 2), (2, 2), (1, 3)])
def test_shared_relu_gives_each_ops_own_output_and_gradients(stride, dims):
    edge, x = _edge(stride, dims)
    active = tuple(range(1, len(DARTS_OPS)))
    shared = edge.outputs(x, active)
    alone = [edge.ops[k](x) for k in active]
    for k, a, b in zip(active, shared, alone, strict=True):
        assert torch.equal(a, b), DARTS_OPS[k]  # the same forward, bit for bit
    seeds = [torch.randn_like(y) for y in alone]
    params = list(edge.parameters())
    grads_shared = torch.autograd.grad(shared, [x, *params], seeds, allow_unused=True)
    grads_alone = torch.autograd.grad(alone, [x, *params], seeds, allow_unused=True)
    assert grads_shared[0].abs().max() > 0
    for a, b in zip(grads_shared, grads_alone, strict=True):
        if b is None:
            assert a is None
        else:
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("share_relu,leading", [(True, 1), (False, 4)])
def test_one_relu_serves_the_four_convolutions_forward_and_backward(share_relu, leading):
    edge, x = _edge(1)
    edge.share_relu = share_relu
    active = tuple(range(1, len(DARTS_OPS)))
    with _OpCounter() as forward:
        ys = edge.outputs(x, active)
    with _OpCounter() as backward:
        torch.autograd.grad(ys, x, [torch.ones_like(y) for y in ys])
    # The leading ReLUs, and the second ReLU of each of the two sep convs.
    assert forward.counts["relu"] == leading + 2
    assert backward.counts["threshold_backward"] == leading + 2


def test_a_hooked_relu_is_called_for_its_own_op():
    edge, x = _edge(1)
    calls = []
    sep = DARTS_OPS.index("sep_conv_3x3")
    edge.ops[sep].op[0].register_forward_pre_hook(lambda module, inputs: calls.append(1))
    active = tuple(range(1, len(DARTS_OPS)))
    ys = edge.outputs(x, active)
    assert len(calls) == 1
    assert torch.equal(ys[active.index(sep)], edge.ops[sep](x))


def test_the_plan_sum_is_unchanged_by_the_shared_relu():
    edge, x = _edge(1)
    weights = torch.softmax(torch.randn(len(DARTS_OPS), dtype=torch.float64), 0)
    active = tuple(range(1, len(DARTS_OPS)))
    out = edge(x, EdgePlan(weights, active=active))
    expected = sum(weights[k] * edge.ops[k](x) for k in active)
    torch.testing.assert_close(out, expected, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize(
    "active,kept",
    [
        ((1, 2, 3, 4, 5, 6, 7), (1, 2, 3)),  # DARTS's order: pools and skip lead
        ((4, 1, 5, 2), ()),  # a conv first: everything is recomputed
        ((2, 3), (2, 3)),  # parameter-free only: nothing is recomputed
    ],
)
def test_keep_parameter_free_stores_only_a_leading_run_and_keeps_the_sum(active, kept):
    edge, x = _edge(1)
    weights = torch.softmax(torch.randn(len(DARTS_OPS), dtype=torch.float64), 0)
    weights.requires_grad_()
    plans = [
        EdgePlan(weights, active=active, recompute=True, keep_parameter_free=keep)
        for keep in (False, True)
    ]
    assert edge._split_for_recompute(plans[1])[0] == kept
    stored = edge(x, EdgePlan(weights, active=active))
    outs = [edge(x, plan) for plan in plans]
    for out in outs:
        assert torch.equal(out, stored)  # the stored path's sum, bit for bit
    seed = torch.randn_like(stored)
    expected = torch.autograd.grad(stored, [x, weights], seed)
    for plan in plans:
        got = torch.autograd.grad(edge(x, plan), [x, weights], seed)
        for a, b in zip(got, expected, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("ops", [(1,), (1, 3), (0, 2, 3)])
def test_weights_of_gives_each_ops_weight_with_the_gradient_of_indexing(ops):
    alpha = torch.randn(4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    alpha.requires_grad_()
    weights = torch.softmax(alpha, dim=0)
    picked = EdgePlan(weights, ops).weights_of(ops)
    assert [float(w.detach()) for w in picked] == [float(weights[k].detach()) for k in ops]
    coef = [1.5, -2.0, 0.25]
    (ours,) = torch.autograd.grad(
        sum(c * w for c, w in zip(coef, picked, strict=False)), alpha, retain_graph=True
    )
    (indexed,) = torch.autograd.grad(
        sum(c * weights[k] for c, k in zip(coef, ops, strict=False)), alpha
    )
    assert torch.equal(ours, indexed)


def test_active_weights_serve_a_leading_run_of_the_active_ops_only():
    given = (torch.tensor(5.0), torch.tensor(6.0))
    plan = EdgePlan(torch.tensor([0.1, 0.2, 0.3, 0.4]), (1, 3), active_weights=given)
    assert tuple(plan.weights_of((1, 3))) == given
    assert plan.weights_of((1,))[0] is given[0]
    # not a leading run of ``active``: read from ``weights``
    assert [float(w) for w in plan.weights_of((3,))] == [pytest.approx(0.4)]


def test_an_edge_indexes_its_weights_once_whatever_its_op_count():
    edge, x = _edge(1)
    plan = EdgePlan(torch.softmax(torch.zeros(len(DARTS_OPS)), dim=0), tuple(range(1, 8)))
    with _OpCounter() as counter:
        edge(x, plan)
    assert counter.counts["unbind"] == 1 and counter.counts["select"] == 0
