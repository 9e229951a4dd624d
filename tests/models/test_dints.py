"""MONAI's DiNTS behind the supernet interface: groups, memory estimate, decode, rebuild."""

from __future__ import annotations

import torch

from nasbench.models import build
from nasbench.spaces import DintsSpace


def test_wrapper_exposes_monai_tensors_and_builds_the_decoded_network():
    space = DintsSpace(num_blocks=2, skeleton={"depth": 2, "channels": 4})
    net = space.supernet(seed=0)
    assert net.cell_types == ("topology", "cell_ops")
    assert net.alpha("topology") is net.topology.log_alpha_a
    assert tuple(net.alpha("cell_ops").shape) == (2, 4, 5)
    assert net.group("topology").op_names == ("0->0", "1->0", "0->1", "1->1")
    assert len(net.weight_parameters()) + 2 == len(list(net.parameters()))
    estimate = net.memory_estimate((2, 1, 32, 32, 32))
    assert 0 < estimate["monai_mb"] < estimate["monai_full_mb"]
    genotype = net.genotype()
    assert space.validate(genotype) == genotype
    assert build(genotype, space.skeleton, seed=0)(torch.zeros(1, 1, 32, 32, 32)).shape == (
        1, 2, 32, 32, 32,
    )  # fmt: skip
    again = space.supernet(seed=0)
    assert torch.equal(again.topology.log_alpha_c, net.topology.log_alpha_c)
