"""V-NAS networks: a searched conv in every block, discrete and mixed."""

from __future__ import annotations

import numpy as np
import torch

from nasbench.models import build
from nasbench.spaces import VnasSpace


def test_network_and_supernet_segment_volumes():
    space = VnasSpace(skeleton={"depth": 2, "channels": 4, "num_classes": 3})
    net = build(space.sample(np.random.default_rng(0)), space.skeleton, seed=0)
    x = torch.zeros(1, 1, 16, 16, 16)
    assert net(x).shape == (1, 3, 16, 16, 16)
    supernet = space.supernet(method="gdas", seed=0)
    assert supernet.cell_types == ("encoder", "decoder")
    assert tuple(supernet.alpha("encoder").shape) == (3, 3)
    assert supernet.group("decoder").edge_names == ("d1", "d0")
    assert supernet(x).shape == (1, 3, 16, 16, 16)
    assert space.validate(supernet.genotype())
