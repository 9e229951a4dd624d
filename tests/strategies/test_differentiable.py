"""The differentiable methods: alphas move, only alphas change in arch_step, the
second-order hypergradient is exact, GDAS/PC-DARTS/ProxylessNAS run what they claim,
derivation gives valid genotypes, and the registry answers by name."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call
from torch.utils._python_dispatch import TorchDispatchMode

from nasbench.errors import ConfigError
from nasbench.models.supernet import build_supernet
from nasbench.spaces.cell import CellSpace
from nasbench.spaces.genotype import Genotype
from nasbench.spaces.skeleton import Skeleton
from nasbench.strategies import create_strategy, get_strategy, make_config, strategy_names
from nasbench.strategies.differentiable import (
    EdgePlan,
    MixedEdge,
    PartialChannelEdge,
    derive_genotype,
    unrolled_hypergradient,
)

OPS = ("none", "skip_connect", "avg_pool_3x3", "sep_conv_3x3")
METHODS = [("darts", None), ("darts", {"order": 2}),
           ("darts", {"order": 2, "unrolled_difference": "forward"}), ("gdas", None),
           ("pcdarts", {"k": 2}), ("proxyless", None)]  # fmt: skip


def tiny_space(channels: int = 4, n_cells: int = 3) -> CellSpace:
    skeleton = Skeleton(n_cells=n_cells, channels=channels, num_classes=2)
    return CellSpace(ops=list(OPS), n_nodes=2, skeleton=skeleton)


def batches(seed: int = 0, n: int = 4, size: int = 8):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(2 * n, 1, size, size, generator=gen)
    y = torch.randint(0, 2, (2 * n,), generator=gen)
    return (x[:n], y[:n]), (x[n:], y[n:])


def run_search(method, config, steps=2, seed=0):
    net = build_supernet(tiny_space(), method, config, seed=seed)
    opt = torch.optim.SGD(net.weight_parameters(), lr=0.1, momentum=0.9, weight_decay=3e-4)
    train, val = batches(seed)
    for step in range(steps):
        net.method.on_epoch_start(step, steps)
        net.method.arch_step(net, train, val, F.cross_entropy, 0.1, opt)
        opt.zero_grad()
        F.cross_entropy(net(train[0]), train[1]).backward()
        opt.step()
    return net


def arch_snapshot(net):
    return [p.detach().clone() for p in net.arch_parameters()]


@pytest.mark.parametrize("method,config", METHODS)
def test_arch_step_moves_alphas_and_only_alphas(method, config):
    net = build_supernet(tiny_space(), method, config, seed=0)
    opt = torch.optim.SGD(net.weight_parameters(), lr=0.1, momentum=0.9, weight_decay=3e-4)
    train, val = batches()
    opt.zero_grad()
    F.cross_entropy(net(train[0]), train[1]).backward()
    opt.step()  # fills the momentum buffers the second-order step reads
    weights = [p.detach().clone() for p in net.weight_parameters()]
    grads = [None if p.grad is None else p.grad.clone() for p in net.weight_parameters()]
    alphas = arch_snapshot(net)
    for _ in range(2):
        metrics = net.method.arch_step(net, train, val, F.cross_entropy, 0.1, opt)
    assert np.isfinite(metrics["arch_loss"]) and metrics["arch_grad_norm"] > 0
    for p, w, g in zip(net.weight_parameters(), weights, grads, strict=True):
        assert torch.equal(p, w)
        assert (p.grad is None and g is None) or torch.equal(p.grad, g)
    moved = [not torch.equal(a, b) for a, b in zip(alphas, arch_snapshot(net), strict=True)]
    assert any(moved)
    assert all(p.grad is None for p in net.arch_parameters())


@pytest.mark.parametrize("method,config", [("darts", None), ("gdas", None), ("proxyless", None)])
def test_same_seed_same_alphas_after_steps(method, config):
    a = arch_snapshot(run_search(method, config, seed=3))
    b = arch_snapshot(run_search(method, config, seed=3))
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    c = arch_snapshot(run_search(method, config, seed=4))
    assert not all(torch.equal(x, y) for x, y in zip(a, c, strict=True))


def _exact_unrolled(train_loss, val_loss, weights, arch, lr, momentum, decay, bufs):
    g = torch.autograd.grad(train_loss(weights), weights, create_graph=True)
    new = [
        w - lr * (gi + decay * w + momentum * b) for w, gi, b in zip(weights, g, bufs, strict=True)
    ]
    return torch.autograd.grad(val_loss(new), arch)


def test_second_order_hypergradient_matches_exact_unrolled_gradient_on_toy_problem():
    train_loss, val_loss, W, alpha, opt, exact, first_order = _toy_unrolled_problem()
    _, (got,) = unrolled_hypergradient(train_loss, val_loss, [W], [alpha], 0.5, opt)
    assert not torch.allclose(first_order, exact, rtol=1e-2)  # the unrolled term matters here
    torch.testing.assert_close(got, exact, rtol=1e-4, atol=1e-8)


def _toy_unrolled_problem():
    gen = torch.Generator().manual_seed(0)

    def randn(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64)

    X, Y, Xv, Yv = randn(20, 5), randn(20, 3), randn(10, 5), randn(10, 3)
    W = torch.randn(5, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    alpha = torch.randn(3, generator=gen, dtype=torch.float64, requires_grad=True)

    def loss(ws, x, y):  # a non-quadratic loss coupling weights and alpha
        return ((torch.tanh(x @ ws[0]) * torch.softmax(alpha, 0) - y) ** 2).mean()

    opt = torch.optim.SGD([W], lr=0.5, momentum=0.9, weight_decay=1e-2)
    buf = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    opt.state[W]["momentum_buffer"] = buf
    (exact,) = _exact_unrolled(
        lambda ws: loss(ws, X, Y), lambda ws: loss(ws, Xv, Yv), [W], [alpha], 0.5, 0.9, 1e-2, [buf]
    )
    first_order = torch.autograd.grad(loss([W], Xv, Yv), alpha)[0]
    return (lambda: loss([W], X, Y)), (lambda: loss([W], Xv, Yv)), W, alpha, opt, exact, first_order


def test_forward_difference_takes_one_training_pass_fewer_at_first_order_accuracy():
    train_loss, val_loss, W, alpha, opt, exact, first_order = _toy_unrolled_problem()
    implicit = (first_order - exact).norm()
    errors, passes = {}, {}
    for difference in ("central", "forward"):
        for r in (1e-2, 1e-4):
            calls = []

            def counted(calls=calls):
                calls.append(1)
                return train_loss()

            loss, (got,) = unrolled_hypergradient(
                counted, val_loss, [W], [alpha], 0.5, opt, r=r, difference=difference
            )
            errors[difference, r] = float((got - exact).norm() / implicit)
            passes[difference] = len(calls)
    assert passes == {"central": 3, "forward": 2}  # w, w+, w- / w, w+ (and w' on val)
    # Within 0.1% of the implicit term at DARTS's r, and the error shrinks with r
    # (linearly: first order), while the central difference's shrinks faster.
    assert errors["forward", 1e-2] < 1e-3
    assert 30 < errors["forward", 1e-2] / errors["forward", 1e-4] < 300
    assert errors["central", 1e-2] < errors["forward", 1e-2] / 10
    with pytest.raises(ValueError, match="difference must be one of"):
        unrolled_hypergradient(train_loss, val_loss, [W], [alpha], 0.5, opt, difference="back")
    assert torch.equal(W, _toy_unrolled_problem()[2])  # weights restored exactly


@pytest.mark.parametrize("difference,rtol", [("central", 1e-6), ("forward", 1e-4)])
def test_second_order_darts_step_matches_exact_unrolled_gradient_on_supernet(difference, rtol):
    # float64 and a small finite-difference step: the check is of the formula, not of
    # DARTS's r=0.01 (whose error depends on the curvature, large on a net this tiny).
    torch.set_default_dtype(torch.float64)
    try:
        config = {"order": 2, "unrolled_r": 1e-6, "unrolled_difference": difference}
        net = build_supernet(tiny_space(n_cells=2), "darts", config)
    finally:
        torch.set_default_dtype(torch.float32)
    train, val = batches(1)
    train = (train[0].double(), train[1])
    val = (val[0].double(), val[1])
    opt = torch.optim.SGD(net.weight_parameters(), lr=0.1, momentum=0.9, weight_decay=3e-4)
    opt.zero_grad()
    F.cross_entropy(net(train[0]), train[1]).backward()
    opt.step()
    buffers = {k: b.clone() for k, b in net.named_buffers()}
    _, got = net.method.hypergradient(net, train, val, F.cross_entropy, 0.1, opt)

    names = [n for n, p in net.named_parameters() if not n.startswith("arch.")]
    weights = [dict(net.named_parameters())[n] for n in names]
    bufs = [opt.state[w]["momentum_buffer"] for w in weights]
    with torch.no_grad():
        for k, b in net.named_buffers():
            b.copy_(buffers[k])

    def loss(ws, batch):
        logits = functional_call(net, dict(zip(names, ws, strict=True)), (batch[0],))
        return F.cross_entropy(logits, batch[1])

    exact = _exact_unrolled(
        lambda ws: loss(ws, train), lambda ws: loss(ws, val), weights, net.arch_parameters(),
        0.1, 0.9, 3e-4, bufs,
    )  # fmt: skip
    first_order = torch.autograd.grad(loss(weights, val), net.arch_parameters())
    for g, e, f in zip(got, exact, first_order, strict=True):
        assert (f - e).norm() > 0.1 * e.norm()  # the implicit term is not negligible here
        torch.testing.assert_close(g, e, rtol=rtol, atol=1e-9)


def _count_op_calls(net, counts):
    for module in net.modules():
        if isinstance(module, MixedEdge):
            for k, op in enumerate(module.ops):
                op.register_forward_hook(_recorder(counts, (id(module), k)))


def _recorder(counts, key):
    def hook(mod, inputs, output):
        counts.append((key, torch.is_grad_enabled(), inputs[0].shape[1]))

    return hook


def test_gdas_runs_one_op_per_edge_and_anneals_tau():
    net = build_supernet(tiny_space(), "gdas", {"tau_max": 10.0, "tau_min": 0.1}, seed=0)
    calls = []
    _count_op_calls(net, calls)
    net(torch.randn(2, 1, 8, 8))
    edges = {key[0] for key, *_ in calls}
    n_edges = len(net.edges) * len(net.cells)
    assert len(edges) == n_edges and len(calls) == n_edges
    method = net.method
    taus = []
    for epoch in range(5):
        method.on_epoch_start(epoch, 5)
        taus.append(method.tau)
    assert taus == pytest.approx([10.0, 7.525, 5.05, 2.575, 0.1])
    tau_record = [r for r in net.alpha_records() if r.kind == "tau"]
    assert tau_record[0].raw.shape == (1, 1) and tau_record[0].raw[0, 0] == pytest.approx(0.1)


def test_gdas_eval_runs_argmax_op():
    net = build_supernet(tiny_space(), "gdas", seed=0)
    with torch.no_grad():
        net.alpha("normal")[:, 3] += 1.0
    calls = []
    _count_op_calls(net, calls)
    net.eval()
    net(torch.randn(2, 1, 8, 8))
    first_cell_edges = net.cells[0].edge_ops
    ids = {id(e) for e in first_cell_edges}
    assert {key[1] for key, *_ in calls if key[0] in ids} == {3}


def test_pcdarts_sends_one_kth_of_channels_through_ops():
    net = build_supernet(tiny_space(channels=8), "pcdarts", {"k": 4}, seed=0)
    calls = []
    _count_op_calls(net, calls)
    assert net(torch.randn(2, 1, 8, 8)).shape == (2, 2)
    edge = net.cells[0].edge_ops[0]
    assert isinstance(edge, PartialChannelEdge)
    channels = {c for *_, c in calls}
    assert channels == {8 // 4, 16 // 4, 32 // 4}  # C=8, then 16 and 32 after each reduction
    kinds = {(r.cell_type, r.kind): r for r in net.alpha_records()}
    beta = kinds[("normal", "beta")]
    assert beta.raw.shape == (len(net.edges), 1)
    assert beta.weights[:2].sum() == pytest.approx(1.0)  # node 0's two incoming edges


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("fmt", [torch.contiguous_format, torch.channels_last])
def test_pcdarts_edge_is_the_shuffle_of_ops_and_bypass(stride, fmt):
    """The paper's edge: ``beta * shuffle(cat([mixed(x[:, :C/k]), bypass(x[:, C/k:])]))``,
    in either memory format, with its gradients."""
    torch.manual_seed(0)
    ops = ("skip_connect", "avg_pool_3x3", "sep_conv_3x3")
    edge = PartialChannelEdge(2, 8, stride, ops, k=4).double()
    x = torch.randn(2, 8, 6, 6, dtype=torch.float64).contiguous(memory_format=fmt)
    x.requires_grad_()
    weights = torch.softmax(torch.randn(3, dtype=torch.float64), 0).requires_grad_()
    scale = torch.tensor(0.6, dtype=torch.float64, requires_grad=True)
    out = edge(x, EdgePlan(weights, (0, 1, 2), scale=scale))
    mixed = sum(weights[k] * edge.ops[k](x[:, :2]) for k in range(3))
    bypass = x[:, 2:] if stride == 1 else torch.nn.functional.max_pool2d(x[:, 2:], 2, 2)
    joined = torch.cat([mixed, bypass], 1)
    expected = scale * joined.view(2, 4, 2, *joined.shape[2:]).transpose(1, 2).flatten(1, 2)
    torch.testing.assert_close(out, expected, rtol=1e-13, atol=1e-13)
    seed = torch.randn_like(out)
    got = torch.autograd.grad(out, (x, weights, scale), seed)
    want = torch.autograd.grad(expected, (x, weights, scale), seed)
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w, rtol=1e-12, atol=1e-12)


def test_pcdarts_edge_choice_uses_beta():
    net = build_supernet(tiny_space(channels=8), "pcdarts", {"k": 4}, seed=0)
    with torch.no_grad():
        for ct in net.cell_types:
            net.alpha(ct).zero_()
            net.alpha(ct)[:, 3] = 1.0
            net.alpha(ct)[2, 3] = 2.0  # edge 0->3 has the strongest op ...
            net.arch_tensor("beta", ct)[2] = -5.0  # ... but a tiny edge weight
    pairs = net.genotype().normal
    assert sorted(inp for _, inp in pairs[2:]) == [1, 2]


def test_proxyless_weight_step_one_path_arch_step_two_paths():
    net = build_supernet(tiny_space(), "proxyless", seed=0)
    n_edges = len(net.edges) * len(net.cells)
    calls = []
    _count_op_calls(net, calls)
    net(torch.randn(2, 1, 8, 8))
    assert len(calls) == n_edges and len({key[0] for key, *_ in calls}) == n_edges
    calls.clear()
    train, val = batches()
    alpha_before = {ct: net.alpha(ct).detach().clone() for ct in net.cell_types}
    opt = torch.optim.SGD(net.weight_parameters(), lr=0.1)
    net.method.arch_step(net, train, val, F.cross_entropy, 0.1, opt)
    assert len(calls) == 2 * n_edges
    with_grad = [g for _, g, _ in calls]
    assert with_grad.count(True) == n_edges and with_grad.count(False) == n_edges
    for ct in net.cell_types:
        after = net.alpha(ct).detach()
        changed = (after != alpha_before[ct]).sum(dim=1)
        assert (changed <= 2).all() and changed.sum() > 0  # only the sampled pair moves
        # The pair's probability mass is kept: the row's logsumexp does not change.
        torch.testing.assert_close(
            torch.logsumexp(after, 1), torch.logsumexp(alpha_before[ct], 1), rtol=0, atol=1e-6
        )
    gates = [r for r in net.alpha_records() if r.kind == "gate"]
    assert len(gates) == len(net.cell_types)
    assert (gates[0].raw.sum(axis=1) == 1).all() and ((gates[0].weights > 0).sum(axis=1) == 2).all()


@pytest.mark.parametrize("method,config", METHODS)
def test_derive_genotype_is_valid(method, config):
    net = run_search(method, config, steps=1)
    g = net.genotype()
    assert isinstance(g, Genotype) and g.inputs_per_node == 2 and g.normal_concat == (2, 3)
    for cell_type in ("normal", "reduce"):
        for node, pairs in enumerate(g.nodes(cell_type)):
            assert len(pairs) == 2
            inputs = [i for _, i in pairs]
            assert len(set(inputs)) == 2 and all(0 <= i < node + 2 for i in inputs)
            assert all(op in OPS and op != "none" for op, _ in pairs)
    records = net.alpha_records()
    alpha = [r for r in records if r.kind == "alpha"]
    assert [r.cell_type for r in alpha] == ["normal", "reduce"]
    np.testing.assert_allclose(alpha[0].weights.sum(axis=1), 1.0, rtol=1e-5)


def test_derive_rule_skips_none_and_keeps_top_edges():
    edges = [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2)]
    ops = ["none", "skip_connect", "sep_conv_3x3"]
    w = np.array(
        [[0.9, 0.04, 0.06], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8], [0.3, 0.4, 0.3], [0.1, 0.6, 0.3]]
    )
    g = derive_genotype({"normal": w}, edges, ops, n_nodes=2)
    assert g.normal == (("skip_connect", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 0),
                        ("skip_connect", 2))  # fmt: skip


def test_registry_lists_creates_and_validates():
    assert strategy_names("differentiable") == ("darts", "gdas", "pcdarts", "proxyless")
    assert get_strategy("PC-DARTS".replace("-", "")).name == "pcdarts"
    method = create_strategy("darts", {"order": 2}, seed=1)
    assert method.config.order == 2 and method.seed == 1
    cfg = make_config("gdas")
    fields = type(cfg).__dataclass_fields__
    assert all("help" in f.metadata for f in fields.values())
    with pytest.raises(ConfigError, match="Did you mean 'gdas'"):
        create_strategy("gdass")
    with pytest.raises(ConfigError, match="order must be <= 2"):
        create_strategy("darts", {"order": 3})
    with pytest.raises(ConfigError, match="must be an integer"):
        create_strategy("pcdarts", {"k": 2.5})
    with pytest.raises(ConfigError, match="Unknown strategy kind"):
        strategy_names("bayesian")


# ---- cost_weight: the parameter-cost term of the architecture loss --------------------------


def test_op_costs_count_each_candidate_ops_parameters_over_its_cells():
    from nasbench.spaces.ops import is_parameter_free

    net = build_supernet(tiny_space(channels=4, n_cells=3), "darts", None, seed=0)
    for ct in net.cell_types:
        costs = net.op_costs(ct)
        assert costs.shape == net.alpha(ct).shape
        expected = torch.zeros_like(costs)
        for cell, kind in zip(net.cells, net.cell_type_of, strict=True):
            if kind == ct:
                for row, edge in enumerate(cell.edge_ops):
                    for col, op in enumerate(edge.ops):
                        expected[row, col] += sum(p.numel() for p in op.parameters())
        assert torch.equal(costs, expected)
        sep = OPS.index("sep_conv_3x3")
        assert (costs[:, sep] > 0).all()
        for col, name in enumerate(OPS):
            if is_parameter_free(name) and name != "skip_connect":
                assert (costs[:, col] == 0).all(), name
    # A reduction cell's skip on its stride-2 rows is a factorized reduce: it has weights.
    reduce_skip = net.op_costs("reduce")[:, OPS.index("skip_connect")]
    strided = [row for row, (_, inp) in enumerate(net.edges) if inp < 2]
    assert (reduce_skip[strided] > 0).all()
    assert (net.op_costs("normal")[:, OPS.index("skip_connect")] == 0).all()


def test_expected_cost_share_is_the_mean_row_share_and_leaves_none_out():
    from nasbench.strategies.differentiable.base import expected_cost_share

    costs = {"a": torch.tensor([[0.0, 0.0, 4.0, 8.0], [0.0, 2.0, 2.0, 2.0]])}
    # 'none' (column 0) is not a candidate: a huge 'none' weight must not lower the share.
    alpha = torch.tensor([[50.0, 0.0, 0.0, 0.0], [50.0, 0.0, 0.0, 0.0]], requires_grad=True)
    share = expected_cost_share({"a": alpha}, costs, {"a": (1, 2, 3)})
    assert float(share.detach()) == pytest.approx((0 + 0.5 + 1) / 3 / 2 + 1 / 2)
    (grad,) = torch.autograd.grad(share, alpha)
    assert torch.all(grad[:, 0] == 0)
    assert grad[0, 1] < 0 < grad[0, 3]  # cheaper ops are pulled up, costlier ones down
    assert torch.allclose(grad[1], torch.zeros(4))  # equal costs: nothing to prefer


HEAVY_COST_METHODS = [("darts", None), ("darts", {"order": 2}), ("gdas", None),
                      ("pcdarts", {"k": 2})]  # fmt: skip


@pytest.fixture(
    scope="module",
    params=HEAVY_COST_METHODS,
    ids=["darts-None", "darts-config1", "gdas-None", "pcdarts-config3"],
)
def cost_collapsed(request):
    """``(method, config, net, shares)``: 30 architecture steps under a heavy cost term.

    Trained once per method for the two tests below: ``min_parametric_ops`` acts at
    derivation only, so the floored and the plain config train the very same alphas
    (the second-order DARTS run alone took ~20 s; each test paid for it)."""
    method, config = request.param
    heavy = {**(config or {}), "cost_weight": 50.0, "arch_lr": 0.05, "min_parametric_ops": 2}
    net = build_supernet(tiny_space(), method, heavy, seed=0)
    opt = torch.optim.SGD(net.weight_parameters(), lr=0.1)
    train, val = batches()
    shares = []
    for step in range(30):
        net.method.on_epoch_start(step, 30)
        metrics = net.method.arch_step(net, train, val, F.cross_entropy, 0.1, opt)
        shares.append(metrics["arch_cost_share"])
    return method, config, net, shares


def _with_alphas_of(trained, method, config):
    """A fresh supernet of ``config`` (no floor) carrying ``trained``'s alphas."""
    heavy = {**(config or {}), "cost_weight": 50.0, "arch_lr": 0.05}
    net = build_supernet(tiny_space(), method, heavy, seed=0)
    with torch.no_grad():
        for mine, theirs in zip(net.arch_parameters(), trained.arch_parameters(), strict=True):
            mine.copy_(theirs)
    net.method.on_epoch_start(29, 30)  # where the training left the method (GDAS: tau)
    return net


def test_cost_weight_steers_the_derived_cell_to_parameter_free_ops(cost_collapsed):
    from nasbench.spaces.ops import is_parameter_free

    method, config, trained, shares = cost_collapsed
    assert shares[-1] < 0.25 * shares[0]
    net = _with_alphas_of(trained, method, config)  # the plain config derives, no floor
    genotype = net.method.derive_genotype(net)
    assert all(is_parameter_free(op) for op, _ in genotype.normal)


def test_cost_weight_zero_is_the_plain_architecture_step():
    plain = build_supernet(tiny_space(), "darts", None, seed=0)
    off = build_supernet(tiny_space(), "darts", {"cost_weight": 0.0}, seed=0)
    opt = [torch.optim.SGD(n.weight_parameters(), lr=0.1) for n in (plain, off)]
    train, val = batches()
    for net, o in zip((plain, off), opt, strict=True):
        metrics = net.method.arch_step(net, train, val, F.cross_entropy, 0.1, o)
        assert "arch_cost_share" not in metrics
    for a, b in zip(arch_snapshot(plain), arch_snapshot(off), strict=True):
        assert torch.equal(a, b)


def test_cost_weight_on_a_space_without_op_costs_is_a_one_line_error():
    from nasbench.spaces import NasUnetSpace

    space = NasUnetSpace(n_nodes=1, skeleton={"depth": 1, "channels": 2})
    with pytest.raises(ConfigError, match="cost_weight .* set cost_weight to 0"):
        space.supernet(method="darts", method_config={"cost_weight": 1.0}, seed=0)
    with pytest.raises(ConfigError, match="cost_weight"):
        build_supernet(tiny_space(), "darts", {"cost_weight": -1.0}, seed=0)


# ---- min_parametric_ops: P-DARTS's guard against a collapse to parameter-free ops ----------


def test_min_parametric_swaps_the_kept_edges_closest_to_a_parametric_op():
    from nasbench.models.derive import derive_cell

    ops = ["none", "skip_connect", "max_pool_3x3", "sep_conv_3x3", "dil_conv_3x3"]
    edges = [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2)]
    w = np.array([
        [0.0, 0.50, 0.10, 0.30, 0.10],  # skip; best parametric 0.20 below (sep)
        [0.0, 0.40, 0.10, 0.10, 0.35],  # skip; dil only 0.05 below: first to give way
        [0.0, 0.10, 0.60, 0.10, 0.20],  # pool; 0.40 below
        [0.0, 0.45, 0.10, 0.35, 0.10],  # skip; 0.10 below: second
        [0.0, 0.05, 0.05, 0.05, 0.05],  # weakest input of node 1: never kept
    ])  # fmt: skip
    plain = derive_cell(w, edges, ops)
    assert [op for op, _ in plain] == ["skip_connect", "skip_connect", "max_pool_3x3",
                                       "skip_connect"]  # fmt: skip
    two = derive_cell(w, edges, ops, min_parametric=2)
    assert two == [("skip_connect", 0), ("dil_conv_3x3", 1), ("max_pool_3x3", 0),
                   ("sep_conv_3x3", 1)]  # fmt: skip
    assert [i for _, i in two] == [i for _, i in plain]  # the kept edges do not change
    every = derive_cell(w, edges, ops, min_parametric=99)
    assert [op for op, _ in every] == ["sep_conv_3x3", "dil_conv_3x3", "dil_conv_3x3",
                                       "sep_conv_3x3"]  # fmt: skip
    # Enough parametric ops already, or none among the candidates: the plain rule.
    assert derive_cell(w, edges, ops, min_parametric=0) == plain
    free_only = ["none", "skip_connect", "max_pool_3x3"]
    assert derive_cell(w[:, :3], edges, free_only, min_parametric=2) == derive_cell(
        w[:, :3], edges, free_only
    )


def test_min_parametric_holds_the_normal_cell_against_a_collapse(cost_collapsed):
    from nasbench.spaces.ops import is_parameter_free

    _, _, net, _ = cost_collapsed  # trained with min_parametric_ops = 2
    floored = net.method.derive_genotype(net)
    scores = {ct: net.method.edge_scores(net, ct).numpy() for ct in net.cell_types}
    plain = net.derive(scores)
    assert all(is_parameter_free(op) for op, _ in plain.normal)  # the term collapsed it
    assert sum(not is_parameter_free(op) for op, _ in floored.normal) == 2
    assert [i for _, i in floored.normal] == [i for _, i in plain.normal]
    assert floored.reduce == plain.reduce  # reductions stay free to pool


def test_min_parametric_on_a_space_with_another_rule_is_a_one_line_error():
    from nasbench.spaces import NasUnetSpace

    space = NasUnetSpace(n_nodes=1, skeleton={"depth": 1, "channels": 2})
    with pytest.raises(ConfigError, match="min_parametric_ops .* set min_parametric_ops to 0"):
        space.supernet(method="darts", method_config={"min_parametric_ops": 2}, seed=0)
    with pytest.raises(ConfigError, match="min_parametric_ops"):
        build_supernet(tiny_space(), "darts", {"min_parametric_ops": -1}, seed=0)


def test_gdas_gathers_the_sampled_weights_once_with_the_same_step_as_indexing():
    """The plans carry each edge's sampled weight (one gather for all edges): the same
    logits and alpha gradients, bit for bit, as indexing ``weights[e][k]`` per edge."""
    (x, y), _ = batches()
    results = []
    for gathered in (True, False):
        net = build_supernet(tiny_space(), "gdas", seed=0).double()
        method = net.method
        if not gathered:
            method.edge_plans = _without_active_weights(method.edge_plans)
        with _SelectCounter() as counter:
            logits = net(x.double())
        loss = F.cross_entropy(logits, y)
        grads = torch.autograd.grad(loss, [net.alpha("normal"), net.alpha("reduce")])
        results.append((logits.detach(), grads, counter.selects))
    (logits_a, grads_a, selects_a), (logits_b, grads_b, selects_b) = results
    assert torch.equal(logits_a, logits_b)
    assert all(torch.equal(a, b) for a, b in zip(grads_a, grads_b, strict=True))
    assert any(g.abs().sum() > 0 for g in grads_a)
    n_edges = len(net.edges) * len(net.cells)
    assert selects_b - selects_a == n_edges  # one weights[k] per edge before


def _without_active_weights(edge_plans):
    from dataclasses import replace

    return lambda *args: [replace(p, active_weights=None) for p in edge_plans(*args)]


class _SelectCounter(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.selects = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.selects += func.__name__.startswith("select.")
        return func(*args, **(kwargs or {}))


def test_the_arch_step_freezes_the_optimizers_weights_as_the_walk_would():
    """``first_order_grads`` with the weight optimizer's list: the same alpha gradients as
    with the walk over the supernet, no weight ``.grad`` written, every weight thawed."""
    from nasbench.strategies.differentiable.base import first_order_grads, stepped_parameters

    net = build_supernet(tiny_space(), "darts", seed=0)
    opt = torch.optim.SGD(net.weight_parameters(), lr=0.1, momentum=0.9)
    assert stepped_parameters(opt) == net.weight_parameters()
    assert stepped_parameters(None) is None
    _, val = batches()
    alphas = net.arch_parameters()
    frozen_seen = []
    net.cells[0].register_forward_hook(
        lambda *_: frozen_seen.append(any(p.requires_grad for p in net.weight_parameters()))
    )
    loss_a, walked = first_order_grads(net, val, F.cross_entropy, alphas)
    loss_b, listed = first_order_grads(net, val, F.cross_entropy, alphas, stepped_parameters(opt))
    assert loss_a == loss_b and frozen_seen == [False, False]
    assert all(torch.equal(a, b) for a, b in zip(walked, listed, strict=True))
    assert all(p.requires_grad and p.grad is None for p in net.weight_parameters())
    assert all(p.requires_grad for p in alphas)
