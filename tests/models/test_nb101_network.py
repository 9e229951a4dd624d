"""The NAS-Bench-101 network and its weight-sharing supernet."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nasbench.errors import SpaceError
from nasbench.models import build, count_parameters
from nasbench.models.nb101_network import NB101Cell, NB101Network, vertex_channels
from nasbench.models.nb101_supernet import NB101SharedCell, NB101Supernet
from nasbench.spaces import NB101Genotype, NB101Space, Skeleton
from nasbench.spaces.nb101 import INCEPTION_LIKE_CELL

C3, C1, MP = "conv3x3_bn_relu", "conv1x1_bn_relu", "maxpool3x3"
TINY = Skeleton(n_cells=3, channels=8)


def test_parameter_count_matches_the_benchmark_for_its_inception_cell():
    """NAS-Bench-101's README lists 2,694,282 trainable parameters for this cell on CIFAR-10
    (stem 128, 3 stacks of 3 cells, 10 classes)."""
    g = NB101Space().validate(INCEPTION_LIKE_CELL)
    skeleton = Skeleton(n_cells=9, channels=128, in_channels=3, num_classes=10)
    assert count_parameters(build(g, skeleton, seed=0)) == 2_694_282


def test_vertex_channels_split_the_output_and_never_grow_along_an_edge():
    space, rng = NB101Space(), np.random.default_rng(0)
    for _ in range(50):
        p = space.sample(rng).pruned()
        n, m = p.n_vertices, p.matrix
        ch = vertex_channels(m, 16, 32)
        feeding = [v for v in range(1, n - 1) if m[v][n - 1]]
        if feeding:
            assert sum(ch[v] for v in feeding) == 32
            assert max(ch[v] for v in feeding) - min(ch[v] for v in feeding) <= 1
        for i in range(1, n - 1):
            for j in range(i + 1, n - 1):
                if m[i][j]:
                    assert ch[i] >= ch[j]
    with pytest.raises(SpaceError, match="needs at least 3 output channels"):
        vertex_channels([[0, 1, 1, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1],
                         [0] * 5], 4, 2)  # fmt: skip


@pytest.mark.parametrize("dims", [2, 3])
def test_networks_of_sampled_cells_run_in_2d_and_3d(dims):
    space, rng = NB101Space(), np.random.default_rng(dims)
    skeleton = Skeleton(n_cells=3, channels=8, spatial_dims=dims, num_classes=3)
    x = torch.randn(2, 1, *([8] * dims))
    for _ in range(4):
        net = build(space.sample(rng), skeleton, seed=0)
        assert net(x).shape == (2, 3)


def test_stacks_downsample_and_double_channels_at_the_reductions():
    g = NB101Space().validate(INCEPTION_LIKE_CELL)
    net = NB101Network(g, Skeleton(n_cells=9, channels=8))
    cells = [m for m in net.cells if isinstance(m, NB101Cell)]
    pools = [m for m in net.cells if isinstance(m, torch.nn.MaxPool2d)]
    assert len(cells) == 9 and len(pools) == 2
    assert [c.channels[-1] for c in cells] == [8] * 3 + [16] * 3 + [32] * 3
    features = net.cells(net.stem(torch.zeros(1, 1, 28, 28)))
    assert features.shape == (1, 32, 7, 7)


def test_a_cell_with_only_an_input_to_output_edge_is_a_projection():
    g = NB101Genotype([[0, 1], [0, 0]], [])
    cell = NB101Cell(g, 2, 4, 6)
    assert cell.output_projection is not None and len(cell.vertex_ops) == 0
    assert cell(torch.randn(1, 4, 5, 5)).shape == (1, 6, 5, 5)


def test_auxiliary_head_is_refused_in_one_line():
    with pytest.raises(SpaceError, match="no auxiliary head"):
        build(NB101Space().validate(INCEPTION_LIKE_CELL), Skeleton(n_cells=3, auxiliary=True))


def test_the_shared_cell_computes_the_discrete_cell_with_the_same_weights():
    # input -> conv3x3 -> output plus input -> maxpool -> output: every vertex takes a share.
    g = NB101Space().validate("nb101|0110,0001,0001,0000|conv3x3_bn_relu,maxpool3x3")
    shared = NB101SharedCell(NB101Space().ops, 7, 2, 4, 6).eval()
    cell = NB101Cell(g, 2, 4, 6).eval()
    with torch.no_grad():
        for v, slot in ((1, 0), (2, 1)):
            c = cell.channels[v]
            proj, sproj = cell.projections[str(v)], shared.projections[slot]
            sproj.conv.weight[:c] = proj[0].weight
            sproj.bn.weight[:c], sproj.bn.bias[:c] = proj[1].weight, proj[1].bias
        conv, sconv = cell.vertex_ops[0], shared.vertex_ops[0][C3]
        sconv.conv.weight[:3, :3] = conv[0].weight
        sconv.bn.weight[:3], sconv.bn.bias[:3] = conv[1].weight, conv[1].bias
    x = torch.randn(2, 4, 6, 6)
    assert torch.allclose(shared(x, g), cell(x), atol=1e-6)


@pytest.mark.parametrize("dims", [2, 3])
def test_supernet_runs_every_cell_on_shared_weights(dims):
    space, rng = NB101Space(), np.random.default_rng(0)
    skeleton = Skeleton(n_cells=3, channels=8, spatial_dims=dims)
    net = NB101Supernet(space.ops, 7, skeleton, seed=0)
    x = torch.randn(2, 1, *([8] * dims))
    stem_grads = []
    for _ in range(3):
        net.zero_grad()
        net(x, space.sample(rng)).sum().backward()
        stem_grads.append(net.stem[0].weight.grad.abs().sum() > 0)
    assert all(stem_grads)
    again = NB101Supernet(space.ops, 7, skeleton, seed=0)
    # Same seed, same initial weights (no step was taken).
    assert all(torch.equal(a, b) for a, b in zip(net.parameters(), again.parameters(), strict=True))
