"""Networks from genotypes: cell wiring, paper parameter counts, shapes, drop-path, errors."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from nasbench.errors import SpaceError
from nasbench.models import Cell, build, cell_edges, count_parameters, drop_path
from nasbench.spaces.genotype import ChainGenotype, ChainLayer, Genotype, NB201Genotype
from nasbench.spaces.skeleton import Skeleton
from nasbench.spaces.zoo import zoo

# The DARTS paper's CIFAR-10 evaluation network: 20 cells, C=36, auxiliary head.
DARTS_EVAL = Skeleton(n_cells=20, channels=36, in_channels=3, num_classes=10, auxiliary=True)
SMALL_2D = Skeleton(n_cells=5, channels=8, in_channels=1, num_classes=3)
SMALL_3D = dataclasses.replace(SMALL_2D, spatial_dims=3)
NB201_BEST = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|"
    "nor_conv_3x3~2|"
)
NB201_ALL_CONV = (
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|"
    "nor_conv_3x3~2|"
)


def params_m(genotype: Genotype, skeleton: Skeleton = DARTS_EVAL) -> float:
    return count_parameters(build(genotype, skeleton, seed=0)) / 1e6


def nasnet_a_paper_form(g: Genotype) -> Genotype:
    """NASNet-A as the TF-slim code wires it: the normal cell also concatenates its
    c_{k-2} input (a node skip_connect(0) + none(0) carries it, with no parameters),
    and the reduction cell concatenates nodes 3..6 (used_hiddenstates = [1,1,1,0,0,0,0])."""
    return dataclasses.replace(
        g,
        normal=g.normal + (("skip_connect", 0), ("none", 0)),
        normal_concat=(*g.normal_concat, g.n_nodes + 2),
        reduce_concat=(3, 4, 5, 6),
    )


# ----------------------------------------------------------------------------- cell wiring


def test_cell_edges_darts_order_and_count():
    assert cell_edges(2) == [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2)]
    edges = cell_edges(4)
    assert len(edges) == 14  # the 14 rows of DARTS's alpha matrix
    assert [inp for node, inp in edges if node == 3] == [0, 1, 2, 3, 4]
    assert len(cell_edges(5, n_inputs=3)) == 5 * 3 + 10


def test_cell_edges_rejects_empty_cell():
    with pytest.raises(SpaceError, match="n_nodes=0"):
        cell_edges(0)


class Scale(nn.Module):
    """A stand-in mixed op: multiplies its input by a per-edge weight."""

    def __init__(self, stride: int) -> None:
        super().__init__()
        self.pool = nn.AvgPool2d(2) if stride == 2 else nn.Identity()

    def forward(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        return self.pool(x) * weight


def test_cell_takes_a_supernet_edge_factory_and_per_edge_args():
    edges = cell_edges(3)
    strides = []

    def factory(node: int, inp: int, stride: int) -> nn.Module:
        strides.append((node, inp, stride))
        return Scale(stride)

    cell = Cell(
        2,
        6,
        6,
        4,
        reduction=True,
        reduction_prev=False,
        edges=edges,
        edge_factory=factory,
        concat=(2, 3, 4),
    )
    # Edges from the two cell inputs are strided in a reduction cell, the others not.
    assert strides == [(n, i, 2 if i < 2 else 1) for n, i in edges]
    s = torch.randn(2, 6, 8, 8)
    out = cell.eval()(s, s, edge_args=[torch.tensor(1.0)] * len(edges))
    assert out.shape == (2, 3 * 4, 4, 4)
    # All-zero weights zero every node, so the whole output is zero.
    zero = cell(s, s, edge_args=[torch.tensor(0.0)] * len(edges))
    assert torch.count_nonzero(zero) == 0


def test_cell_rejects_edges_that_read_a_later_node():
    with pytest.raises(SpaceError, match=r"node=0, input=2"):
        Cell(
            2,
            4,
            4,
            4,
            reduction=False,
            reduction_prev=False,
            edges=[(0, 2)],
            edge_factory=lambda n, i, s: nn.Identity(),
            concat=(2,),
        )


def test_drop_path_drops_whole_samples_and_keeps_the_mean():
    x = torch.ones(1000, 2, 3, 3)
    y = drop_path(x, 0.25, torch.Generator().manual_seed(0))
    per_sample = y.flatten(1)
    # Each sample is either dropped (0) or scaled by 1 / keep.
    assert per_sample.unique().tolist() == pytest.approx([0.0, 1 / 0.75])
    assert torch.all(per_sample.min(1).values == per_sample.max(1).values)
    assert abs(y.mean().item() - 1.0) < 0.1
    assert torch.equal(drop_path(x, 0.0), x)


# ----------------------------------------------------------------------------- paper figures


def test_darts_v2_has_the_darts_code_parameter_count():
    # DARTS's train.py prints "param size = 3.349342MB" for DARTS_V2 (aux head excluded);
    # the paper rounds it to 3.3M.
    assert count_parameters(build(zoo["DARTS_V2"], DARTS_EVAL, seed=0)) == 3_349_342


@pytest.mark.parametrize(("name", "paper_m"), [("GDAS", 3.4), ("PC-DARTS", 3.6)])
def test_zoo_cells_match_their_paper_counts_in_the_darts_skeleton(name, paper_m):
    assert params_m(zoo[name]) == pytest.approx(paper_m, rel=0.05)


def test_nasnet_a_matches_its_paper_only_in_its_own_configuration():
    g = zoo["NASNet-A"]
    # In the DARTS skeleton (C=36, DARTS-style concat of the intermediate nodes only)
    # NASNet-A is 3.83M, well above the 3.3M of the NASNet paper ...
    assert params_m(g) == pytest.approx(3.83, abs=0.01)
    # ... which is "NASNet-A (6 @ 768)": N=6 normal cells per stage, C=32, and cells
    # that concatenate 6 states (c_{k-2} included), so the last stage has 6*128=768
    # channels; reduction cells concatenate nodes 3..6.
    paper = Skeleton(n_cells=20, channels=32, in_channels=3, num_classes=10, auxiliary=True)
    assert paper.reductions() == (6, 13)  # 6 normal cells, reduce, 6, reduce, 6
    net = build(nasnet_a_paper_form(g), paper, seed=0)
    assert net.classifier.in_features == 768
    assert count_parameters(net) / 1e6 == pytest.approx(3.3, rel=0.05)


def test_nb201_network_has_the_benchmark_parameter_count():
    # NAS-Bench-201 lists 1.531546 MB of parameters for the all-nor_conv_3x3 cell on
    # CIFAR-10 (N=5 cells per stage, C=16): 17 positions, ResNet blocks at 5 and 11.
    skeleton = Skeleton(n_cells=17, channels=16, in_channels=3, num_classes=10)
    net = build(NB201Genotype.from_string(NB201_ALL_CONV), skeleton, seed=0)
    assert count_parameters(net) == 1_531_546


# ----------------------------------------------------------------------------- forward


@pytest.mark.parametrize(
    ("skeleton", "shape"), [(SMALL_2D, (2, 1, 28, 28)), (SMALL_3D, (2, 1, 16, 16, 16))]
)
@pytest.mark.parametrize("auxiliary", [False, True])
def test_darts_network_forward_2d_and_3d(skeleton, shape, auxiliary):
    skeleton = dataclasses.replace(skeleton, auxiliary=auxiliary, drop_path_prob=0.2)
    net = build(zoo["DARTS_V2"], skeleton, seed=0)
    x = torch.randn(shape)
    out = net.train()(x)
    if auxiliary:
        logits, aux_logits = out
        assert aux_logits.shape == (2, 3)
    else:
        logits = out
    assert logits.shape == (2, 3)
    logits.sum().backward()
    assert net.eval()(x).shape == (2, 3)  # eval: logits only, aux head or not


@pytest.mark.parametrize("dims", [2, 3])
def test_shared_input_relu_changes_no_number_in_a_trained_network(dims):
    """Same logits (auxiliary too), gradients and batch-norm statistics, bit for bit,
    with drop-path on; one ReLU per cell input fewer in the forward pass."""
    from tests.models.test_mixed_edge import _OpCounter

    skeleton = SMALL_2D if dims == 2 else SMALL_3D
    skeleton = dataclasses.replace(skeleton, auxiliary=True, drop_path_prob=0.3)
    shape = (3, 1, 28, 28) if dims == 2 else (3, 1, 16, 16, 16)
    x = torch.randn(shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    results, relus = [], []
    for share in (True, False):
        net = build(zoo["DARTS_V2"], skeleton, seed=0).double().train()
        net.share_relu = share
        net.generator = torch.Generator().manual_seed(4)
        with _OpCounter() as counter:
            logits, aux = net(x)
        (logits.square().sum() + aux.sum()).backward()
        relus.append(counter.counts["relu"])
        results.append(([logits, aux], [p.grad for p in net.parameters()], list(net.buffers())))
    for ours, reference in zip(*results, strict=True):
        assert all(torch.equal(a, b) for a, b in zip(ours, reference, strict=True))
    assert relus[1] - relus[0] == skeleton.n_cells  # 2 per cell, against 1 + (n - 1)


def test_build_is_seeded_and_leaves_the_global_rng_alone():
    state = torch.random.get_rng_state()
    a = build(zoo["DARTS_V2"], SMALL_2D, seed=3).state_dict()
    b = build(zoo["DARTS_V2"], SMALL_2D, seed=3).state_dict()
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_drop_path_is_off_in_eval_and_seeded_in_training():
    net = build(zoo["DARTS_V2"], SMALL_2D, seed=0)
    x = torch.randn(4, 1, 28, 28)
    net.eval()
    reference = net(x)
    net.drop_path_prob = 0.5
    assert torch.equal(net(x), reference)

    def train_output(prob: float) -> torch.Tensor:
        net.train()
        net.drop_path_prob = prob
        net.generator = torch.Generator().manual_seed(7)
        with torch.no_grad():
            return net(x)

    assert torch.equal(train_output(0.5), train_output(0.5))
    assert not torch.equal(train_output(0.5), train_output(0.0))


def test_nb201_network_forward_2d_and_3d():
    g = NB201Genotype.from_string(NB201_BEST)
    assert build(g, SMALL_2D, seed=0)(torch.randn(2, 1, 28, 28)).shape == (2, 3)
    assert build(g, SMALL_3D, seed=0)(torch.randn(2, 1, 16, 16, 16)).shape == (2, 3)


def test_chain_network_forward_2d_and_3d():
    g = ChainGenotype(
        [
            ChainLayer("conv", 3, 3, 1, 8),
            ChainLayer("sep_conv", 5, 3, 2, 16),
            ChainLayer("max_pool", 3, 3, 2, 0),
            ChainLayer("avg_pool", 2, 2, 1, 0),
        ]
    )
    net2 = build(g, SMALL_2D, seed=0)
    assert net2(torch.randn(2, 1, 28, 28)).shape == (2, 3)
    assert net2.classifier.in_features == 16  # pools keep the channel count
    assert build(g, SMALL_3D, seed=0)(torch.randn(2, 1, 16, 16, 16)).shape == (2, 3)


def test_build_accepts_the_text_and_dict_forms():
    a = build(zoo["DARTS_V2"].to_darts_text(), SMALL_2D, seed=0)
    b = build(zoo["DARTS_V2"].to_dict(), SMALL_2D, seed=0)
    assert count_parameters(a) == count_parameters(b) > 0


# ----------------------------------------------------------------------------- errors


def one_line(err: pytest.ExceptionInfo) -> str:
    message = str(err.value)
    assert "\n" not in message
    return message


def test_unknown_genotype_kind_is_a_one_line_error():
    with pytest.raises(SpaceError) as err:
        build(object(), SMALL_2D)
    assert "object" in one_line(err)


def test_op_outside_the_registry_is_a_one_line_error():
    g = dataclasses.replace(
        zoo["DARTS_V2"], normal=(("sep_conv_3x5", 0),) + zoo["DARTS_V2"].normal[1:]
    )
    with pytest.raises(SpaceError) as err:
        build(g, SMALL_2D)
    assert "'sep_conv_3x5'" in one_line(err) and "Did you mean" in one_line(err)
    # The text form refuses the op when parsed; a genotype built in code, when built.
    with pytest.raises(SpaceError, match="conv_9x9"):
        NB201Genotype.from_string("|conv_9x9~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    bad_nb201 = NB201Genotype(((("conv_9x9", 0),), (("none", 0), ("none", 1))))
    with pytest.raises(SpaceError, match="conv_9x9"):
        build(bad_nb201, SMALL_2D)


def test_chain_layer_type_and_auxiliary_misuse_are_one_line_errors():
    with pytest.raises(SpaceError) as err:
        build(ChainGenotype([ChainLayer("convv", 3, 3, 1, 8)]), SMALL_2D)
    assert "Did you mean 'conv'" in one_line(err)
    with pytest.raises(SpaceError) as err:
        build(NB201Genotype.from_string(NB201_BEST), DARTS_EVAL)
    assert "auxiliary" in one_line(err)
