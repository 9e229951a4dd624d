"""C2FNAS networks: every topology runs its cells at their levels' scales; the supernet."""

from __future__ import annotations

import pytest
import torch

from nasbench.errors import SpaceError
from nasbench.models.c2fnas import C2fnasNetwork
from nasbench.spaces import C2fnasGenotype, C2fnasSpace, VnasGenotype
from nasbench.spaces.skeleton import UNetSkeleton

SKELETON = UNetSkeleton(depth=2, channels=2, spatial_dims=3, num_classes=3)


def test_every_topology_runs_each_cell_at_its_scale():
    space = C2fnasSpace(num_cells=5, skeleton=SKELETON)
    ops = ("vnas_3d_3x3", "vnas_2d_3x3", "vnas_p3d_3x3", "vnas_3d_3x3", "vnas_2d_3x3")
    x = torch.randn(1, 1, 16, 16, 16)
    for levels in space.topologies():
        net = C2fnasNetwork(C2fnasGenotype(levels, ops), SKELETON, seed=0)
        shapes: list[torch.Size] = []

        def keep(module, inputs, output, shapes=shapes):
            shapes.append(output.shape)

        hooks = [cell.register_forward_hook(keep) for cell in net.net.cells]
        out = net(x)
        for h in hooks:
            h.remove()
        assert out.shape == (1, 3, 16, 16, 16)
        # the stem halves: level l runs at 16 / 2 / 2**l, 2 * 2**l channels wide
        assert [s[1:] for s in shapes] == [(2 * 2**lv, *(3 * (8 // 2**lv,))) for lv in levels], (
            levels
        )


def test_skips_reach_the_up_path():
    # the output depends on the way-down map through the skip: zeroing the skip changes it
    g = C2fnasGenotype((0, 1, 0), ("vnas_3d_3x3",) * 3)
    net = C2fnasNetwork(g, SKELETON, seed=0).eval()
    x = torch.randn(1, 1, 16, 16, 16)
    with torch.no_grad():
        full = net(x)
        net.net.moves[2] = _Zero(net.net.moves[2])
        skip_only = net(x)
    assert not torch.allclose(full, skip_only)
    assert skip_only.abs().sum() > 0  # only the skip (cell 0's map) feeds cell 2 now


class _Zero(torch.nn.Module):
    """The wrapped up-move's output times zero: only the skip is left."""

    def __init__(self, move):
        super().__init__()
        self.move = move

    def forward(self, x):
        return 0.0 * self.move(x)


def test_same_seed_same_weights_and_wrong_inputs():
    g = C2fnasGenotype((0, 1, 2, 1, 0), ("vnas_p3d_3x3",) * 5)
    a, b = (C2fnasNetwork(g, SKELETON, seed=1) for _ in range(2))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    with pytest.raises(SpaceError, match="skeleton's depth is 1"):
        C2fnasNetwork(g, UNetSkeleton(depth=1, channels=2, spatial_dims=3), seed=0)
    with pytest.raises(SpaceError, match="builds c2fnas genotypes"):
        C2fnasNetwork(VnasGenotype(("vnas_3d_3x3",), ("vnas_3d_3x3",)), SKELETON)


@pytest.mark.parametrize("method", ["darts", "gdas"])
def test_supernet_forward_alphas_and_derive(method):
    space = C2fnasSpace(num_cells=5, topology=[0, 1, 2, 1, 0], skeleton=SKELETON)
    net = space.supernet(method=method, seed=0)
    out = net(torch.randn(2, 1, 16, 16, 16))
    assert out.shape == (2, 3, 16, 16, 16)
    group = net.group("cells")
    assert group.edge_names == ("c0@L0", "c1@L1", "c2@L2", "c3@L1", "c4@L0")
    assert group.op_names == space.ops
    scores = {"cells": torch.eye(3)[[1, 0, 2, 1, 0]].numpy()}
    g = net.derive(scores)
    assert g.levels == (0, 1, 2, 1, 0)
    assert g.ops == tuple(space.ops[i] for i in (1, 0, 2, 1, 0))
    assert space.validate(g) == g


def test_supernet_before_stage_one_is_the_largest_topology():
    space = C2fnasSpace(num_cells=5, skeleton=SKELETON)
    largest = space.largest_topology()
    # activations shrink 4x a level down (8x fewer voxels, 2x the channels)
    assert largest.count(0) == 4 == max(t.count(0) for t in space.topologies())
    assert space.supernet(seed=0).levels == largest
