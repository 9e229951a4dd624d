"""The supernet: shapes in 2D and 3D, parameter split, seeding, the 'none' skip, errors."""

from __future__ import annotations

import pytest
import torch

from nasbench.errors import ConfigError, SpaceError
from nasbench.models.cells import cell_edges
from nasbench.models.supernet import Supernet, build_supernet
from nasbench.spaces.cell import CellSpace
from nasbench.spaces.skeleton import Skeleton
from nasbench.strategies.differentiable import MixedEdge

OPS = ("none", "skip_connect", "avg_pool_3x3", "sep_conv_3x3")


def tiny_space(spatial_dims: int = 2, n_cells: int = 3, channels: int = 4) -> CellSpace:
    skeleton = Skeleton(
        n_cells=n_cells, channels=channels, spatial_dims=spatial_dims, num_classes=3
    )
    return CellSpace(ops=list(OPS), n_nodes=2, skeleton=skeleton)


@pytest.mark.parametrize("method", ["darts", "gdas", "pcdarts", "proxyless"])
@pytest.mark.parametrize("spatial_dims,shape", [(2, (16, 16)), (3, (12, 12, 12))])
def test_forward_shape_2d_and_3d(method, spatial_dims, shape):
    net = build_supernet(tiny_space(spatial_dims), method, seed=0)
    x = torch.randn(2, 1, *shape)
    assert net(x).shape == (2, 3)
    net.eval()
    assert net(x).shape == (2, 3)


def test_alpha_shapes_and_cell_types():
    net = build_supernet(tiny_space(n_cells=3), "darts", seed=0)
    n_edges = len(cell_edges(2))
    assert net.cell_types == ("normal", "reduce")
    assert net.cell_type_of == ("normal", "reduce", "reduce")  # reductions at 3//3, 2*3//3
    for ct in net.cell_types:
        assert net.alpha(ct).shape == (n_edges, len(OPS))
        # DARTS initialisation: 1e-3 * randn
        assert 0 < net.alpha(ct).abs().max() < 1e-2
    assert net.edge_names == ("0->2", "1->2", "0->3", "1->3", "2->3")
    assert net.non_zero_ops == (1, 2, 3) and net.zero_op == 0


def test_weight_and_arch_parameters_partition_all_parameters():
    net = build_supernet(tiny_space(), "pcdarts", {"k": 2}, seed=0)
    arch = {id(p) for p in net.arch_parameters()}
    weights = {id(p) for p in net.weight_parameters()}
    assert arch and weights and not arch & weights
    assert arch | weights == {id(p) for p in net.parameters()}
    assert len(arch) == 4  # alpha and beta for normal and reduce


def test_weight_parameters_keep_the_order_of_parameters():
    """The optimizer's state and checkpoints pair tensors by this order."""
    from nasbench.models.supernet import parameters_in_order

    net = build_supernet(tiny_space(), "pcdarts", {"k": 2}, seed=0)
    arch = {id(p) for p in net.arch_parameters()}
    expected = [p for p in net.parameters() if id(p) not in arch]
    assert [id(p) for p in net.weight_parameters()] == [id(p) for p in expected]
    shared = torch.nn.Linear(2, 2)
    tree = torch.nn.Sequential(
        shared, torch.nn.ReLU(), torch.nn.Sequential(shared, torch.nn.BatchNorm1d(2))
    )
    tree.register_parameter("extra", torch.nn.Parameter(torch.zeros(1)))
    tree.register_parameter("absent", None)
    assert [id(p) for p in parameters_in_order(tree)] == [id(p) for p in tree.parameters()]


@pytest.mark.parametrize("method", ["darts", "gdas", "pcdarts"])
@pytest.mark.parametrize("checkpoint_cells", [False, True])
def test_shared_preprocessing_relu_changes_no_number(method, checkpoint_cells):
    """Each state's ReLU is computed once for the two cells that read it: the same
    logits, gradients and batch-norm statistics, bit for bit."""
    config = {"k": 2} if method == "pcdarts" else {}
    nets = []
    for share in (True, False):
        net = build_supernet(
            tiny_space(n_cells=4), method, config, seed=0, checkpoint_cells=checkpoint_cells
        ).double()
        net.share_relu = share
        nets.append(net)
    x = torch.randn(3, 1, 12, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    results = []
    for net in nets:
        net.method.generator.manual_seed(5)  # the same GDAS sample in both
        out = net(x)
        out.square().sum().backward()
        grads = [p.grad for p in net.parameters()]
        results.append((out, grads, [b.clone() for b in net.buffers()]))
    (out, grads, buffers), (ref_out, ref_grads, ref_buffers) = results
    assert torch.equal(out, ref_out)
    for g, r in zip(grads, ref_grads, strict=True):
        assert (g is None and r is None) or torch.equal(g, r)
    assert all(torch.equal(b, r) for b, r in zip(buffers, ref_buffers, strict=True))


@pytest.mark.parametrize("share,expected", [(True, 4), (False, 8)])
def test_each_state_is_rectified_once_for_its_two_readers(share, expected):
    """4 cells: the stem and the first three cell outputs are each read by two
    preprocessors; with sharing each gets one ReLU (forward and backward)."""
    from tests.models.test_mixed_edge import _OpCounter

    space = CellSpace(
        ops=["none", "skip_connect"], n_nodes=2, skeleton=tiny_space(n_cells=4).skeleton
    )
    net = build_supernet(space, "darts", seed=0)
    net.share_relu = share
    x = torch.randn(2, 1, 12, 12)
    with _OpCounter() as forward:
        out = net(x)
    with _OpCounter() as backward:
        out.sum().backward()
    # skip_connect on a reduction edge is a FactorizedReduce: one ReLU of its own each.
    reduce_edges = 2 * 2 * sum(ct == "reduce" for ct in net.cell_type_of)
    assert forward.counts["relu"] == expected + reduce_edges
    assert backward.counts["threshold_backward"] == expected + reduce_edges


def test_a_hooked_preprocessing_relu_sees_every_call():
    net = build_supernet(tiny_space(n_cells=3), "darts", seed=0)
    calls = []
    net.cells[1].preprocess1.op[0].register_forward_hook(lambda *args: calls.append(1))
    assert not net.cells[1].takes_rectified_inputs
    assert net.cells[0].takes_rectified_inputs
    reference = build_supernet(tiny_space(n_cells=3), "darts", seed=0)
    reference.share_relu = False
    x = torch.randn(2, 1, 12, 12)
    assert torch.equal(net(x), reference(x))
    assert len(calls) == 1


def test_same_seed_same_supernet_and_global_rng_untouched():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = build_supernet(tiny_space(), "darts", seed=7)
    assert torch.equal(torch.get_rng_state(), before)
    b = build_supernet(tiny_space(), "darts", seed=7)
    c = build_supernet(tiny_space(), "darts", seed=8)
    for (ka, pa), (_, pb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(pa, pb), ka
    assert not torch.equal(a.alpha("normal"), c.alpha("normal"))


def test_darts_edge_never_computes_none():
    net = build_supernet(tiny_space(), "darts", seed=0)
    calls = {"none": 0, "other": 0}
    for module in net.modules():
        if isinstance(module, MixedEdge):
            for name, op in zip(module.op_names, module.ops, strict=True):
                key = "none" if name == "none" else "other"
                op.register_forward_hook(lambda *_, k=key: calls.__setitem__(k, calls[k] + 1))
    net(torch.randn(2, 1, 16, 16))
    n_edges = len(cell_edges(2)) * 3
    assert calls == {"none": 0, "other": n_edges * (len(OPS) - 1)}


def test_forward_mode_context_restores_and_rejects_unknown():
    net = build_supernet(tiny_space(), "darts", seed=0)
    assert net.mode == "train"
    with net.forward_mode("relaxed"):
        assert net.mode == "relaxed"
    assert net.mode == "train"
    net.eval()
    assert net.mode == "eval"
    with pytest.raises(ConfigError, match="Unknown forward mode"):
        with net.forward_mode("fast"):
            pass


def test_space_supernet_delegates_and_method_config_dict():
    net = tiny_space().supernet(method="gdas", method_config={"tau_max": 4.0}, seed=1)
    assert isinstance(net, Supernet)
    assert net.method.name == "gdas" and net.method.tau == 4.0


def test_skeleton_override_and_no_reduction_cells():
    space = tiny_space()
    net = build_supernet(space, "darts", skeleton=Skeleton(n_cells=2, channels=4, reduction_at=()))
    assert net.cell_types == ("normal",)
    assert net(torch.randn(2, 1, 8, 8)).shape == (2, 2)
    genotype = net.genotype()
    assert genotype.reduce == genotype.normal


def test_reduction_cells_only():
    # Reductions at every cell (given explicitly): no normal cell is ever built.
    only = Skeleton(n_cells=2, channels=4, reduction_at=(0, 1))
    net = build_supernet(tiny_space(), "darts", skeleton=only)
    assert net.cell_types == ("reduce",)
    assert net(torch.randn(2, 1, 8, 8)).shape == (2, 2)
    genotype = net.genotype()
    assert genotype.normal == genotype.reduce


def test_two_cells_by_default_search_a_normal_and_a_reduction_cell():
    # DARTS's rule (reductions at n // 3 and 2n // 3) would make both cells reductions.
    net = build_supernet(tiny_space(), "darts", skeleton=Skeleton(n_cells=2, channels=4))
    assert net.cell_types == ("normal", "reduce")
    assert net(torch.randn(2, 1, 8, 8)).shape == (2, 2)


def test_bad_inputs_give_one_line_errors():
    with pytest.raises(ConfigError, match="Did you mean 'darts'"):
        build_supernet(tiny_space(), "dartz")
    with pytest.raises(SpaceError, match="CellSpace"):
        build_supernet(object(), "darts")
    with pytest.raises(ConfigError, match="has no option 'kk'"):
        build_supernet(tiny_space(), "pcdarts", {"kk": 2})
    with pytest.raises(ConfigError, match="divisible"):
        build_supernet(tiny_space(channels=6), "pcdarts", {"k": 4})
